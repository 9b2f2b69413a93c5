//===- VulkanKernelABI.cpp - gpu.func kernels to attn's Vulkan ABI --------===//
//
// See VulkanKernelABI.h. Vulkan shaders take storage buffers, not scalars,
// and upstream's SPIR-V type conversion handles only memrefs whose
// dimensions after the first are static. So each memref argument becomes a
// flat `memref<?xT>` indexed at offset + row-major linear index, with its
// offset and sizes read from the params buffer (the runtime fills them from
// the memref descriptor the host passes), and each scalar argument becomes
// a params word. Workgroup attributions become `memref.alloc` in workgroup
// memory and private ones `memref.alloca`, which upstream's memref-to-SPIR-V
// patterns turn into Workgroup and Function variables.
//
//===----------------------------------------------------------------------===//

#include "VulkanKernelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// What a memref argument became: the flat buffer, the element offset of its
/// first element, and its sizes.
struct FlatBuffer {
  unsigned argument = 0;
  UnrealizedConversionCastOp placeholder;
  Value flat, offset;
  SmallVector<Value> sizes;
};

bool isDeviceMemory(Attribute space) {
  if (!space)
    return true;
  if (auto integer = dyn_cast<IntegerAttr>(space))
    return integer.getInt() == 0;
  if (auto gpuSpace = dyn_cast<gpu::AddressSpaceAttr>(space))
    return gpuSpace.getValue() == gpu::AddressSpace::Global;
  return false;
}

/// Bytes per element in the host's memory (i1 takes a byte).
uint32_t elementBytes(Type type) {
  return (type.getIntOrFloatBitWidth() + 7) / 8;
}

/// The element type a storage buffer holds: bf16 as its i16 bits (SPIR-V for
/// Vulkan has no bf16; the kernel's bf16 conversions are expanded to integer
/// operations on those bits), anything else as is.
Type storageType(Type element) {
  if (element.isBF16())
    return IntegerType::get(element.getContext(), 16);
  return element;
}

class KernelRewriter {
public:
  KernelRewriter(gpu::GPUFuncOp func, const VulkanKernelLimits &limits)
      : func(func), limits(limits), loc(func.getLoc()) {
    kernel.name = func.getName().str();
  }

  FailureOr<vulkan::Kernel> run();

private:
  InFlightDiagnostic error() {
    return func.emitError() << "vulkan target: kernel @" << kernel.name << " ";
  }
  LogicalResult checkWorkgroup();
  LogicalResult describeArguments(SmallVectorImpl<Type> &newInputs);
  Value word(OpBuilder &b, uint32_t index);
  Value wordAsIndex(OpBuilder &b, uint32_t index) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                      word(b, index));
  }
  Value linearIndex(OpBuilder &b, const FlatBuffer &buffer,
                    ValueRange indices);
  LogicalResult flattenUses(FlatBuffer &buffer);
  /// Sets the status word when a loop ran fewer iterations than its bounds
  /// ask for (see VulkanKernelBinary.h).
  void checkLoopsComplete();

  gpu::GPUFuncOp func;
  VulkanKernelLimits limits;
  Location loc;
  vulkan::Kernel kernel;
  Value params;
};

LogicalResult KernelRewriter::checkWorkgroup() {
  DenseI32ArrayAttr block = func.getKnownBlockSizeAttr();
  if (!block || block.size() != 3)
    return error() << "has no static block size (known_block_size): Vulkan "
                      "fixes a shader's workgroup size when it is compiled";
  int64_t invocations = 1;
  for (int i = 0; i < 3; ++i) {
    if (block[i] < 1)
      return error() << "has block size " << block[i] << " in dimension "
                     << i;
    kernel.workgroupSize[i] = block[i];
    invocations *= block[i];
  }
  if (invocations > limits.maxWorkgroupInvocations)
    return error() << "has " << invocations
                   << " invocations per workgroup, more than the target's "
                   << limits.maxWorkgroupInvocations
                   << " (maxComputeWorkGroupInvocations)";
  int64_t shared = 0;
  for (BlockArgument attribution : func.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(attribution.getType());
    if (!type.hasStaticShape())
      return error() << "has a workgroup buffer of dynamic shape " << type;
    shared += type.getNumElements() * elementBytes(type.getElementType());
  }
  if (shared > limits.sharedMemoryBytes)
    return error() << "uses " << shared
                   << " bytes of workgroup memory, more than the target's "
                   << limits.sharedMemoryBytes
                   << " (maxComputeSharedMemorySize)";
  kernel.sharedBytes = static_cast<uint32_t>(shared);
  return success();
}

LogicalResult
KernelRewriter::describeArguments(SmallVectorImpl<Type> &newInputs) {
  uint32_t nextWord = 0, nextBinding = 0;
  for (auto [index, type] : llvm::enumerate(func.getArgumentTypes())) {
    vulkan::KernelArg arg;
    arg.word = nextWord;
    if (auto memref = dyn_cast<MemRefType>(type)) {
      if (!memref.getLayout().isIdentity())
        return error() << "argument #" << index << " has type " << memref
                       << ": only identity layouts can be flattened";
      if (!isDeviceMemory(memref.getMemorySpace()))
        return error() << "argument #" << index << " has type " << memref
                       << ", which is not in device memory";
      Type element = memref.getElementType();
      if (!element.isIntOrFloat())
        return error() << "argument #" << index << " has elements of type "
                       << element << ", which a storage buffer cannot hold";
      arg.kind = vulkan::ArgKind::Buffer;
      arg.rank = memref.getRank();
      arg.elementBytes = elementBytes(element);
      arg.binding = nextBinding++;
      nextWord += 1 + arg.rank;
      newInputs.push_back(
          MemRefType::get({ShapedType::kDynamic}, storageType(element)));
    } else if (type.isIndex()) {
      arg.kind = vulkan::ArgKind::Index;
      ++nextWord;
    } else if (type.isInteger(32)) {
      arg.kind = vulkan::ArgKind::I32;
      ++nextWord;
    } else if (type.isF32()) {
      arg.kind = vulkan::ArgKind::F32;
      ++nextWord;
    } else if (type.isInteger(1)) {
      arg.kind = vulkan::ArgKind::I1;
      ++nextWord;
    } else {
      return error() << "argument #" << index << " has type " << type
                     << ", which the Vulkan kernel ABI cannot pass (index, "
                        "i32, f32, i1 and memrefs)";
    }
    kernel.args.push_back(arg);
  }
  kernel.paramsBinding = nextBinding;
  kernel.paramsWords = nextWord + 1; // and the status word
  return success();
}

Value KernelRewriter::word(OpBuilder &b, uint32_t index) {
  Value position = arith::ConstantIndexOp::create(b, loc, index);
  return memref::LoadOp::create(b, loc, params, ValueRange{position});
}

Value KernelRewriter::linearIndex(OpBuilder &b, const FlatBuffer &buffer,
                                  ValueRange indices) {
  Value linear = arith::ConstantIndexOp::create(b, loc, 0);
  for (auto [d, index] : llvm::enumerate(indices)) {
    if (d > 0)
      linear = arith::MulIOp::create(b, loc, linear, buffer.sizes[d]);
    linear = arith::AddIOp::create(b, loc, linear, index);
  }
  return arith::AddIOp::create(b, loc, buffer.offset, linear);
}

LogicalResult KernelRewriter::flattenUses(FlatBuffer &buffer) {
  Value placeholder = buffer.placeholder.getResult(0);
  for (OpOperand &use : llvm::make_early_inc_range(placeholder.getUses())) {
    Operation *user = use.getOwner();
    OpBuilder b(user);
    if (auto load = dyn_cast<memref::LoadOp>(user)) {
      Value index = linearIndex(b, buffer, load.getIndices());
      Value value =
          memref::LoadOp::create(b, loc, buffer.flat, ValueRange{index});
      if (value.getType() != load.getType())
        value = arith::BitcastOp::create(b, loc, load.getType(), value);
      load.replaceAllUsesWith(value);
      load.erase();
      continue;
    }
    auto store = dyn_cast<memref::StoreOp>(user);
    if (store && store.getMemRef() == placeholder) {
      Value index = linearIndex(b, buffer, store.getIndices());
      Value value = store.getValueToStore();
      Type stored = cast<MemRefType>(buffer.flat.getType()).getElementType();
      if (value.getType() != stored)
        value = arith::BitcastOp::create(b, loc, stored, value);
      memref::StoreOp::create(b, loc, value, buffer.flat, ValueRange{index});
      store.erase();
      continue;
    }
    if (auto dim = dyn_cast<memref::DimOp>(user)) {
      std::optional<int64_t> d = dim.getConstantIndex();
      if (d && *d >= 0 && *d < static_cast<int64_t>(buffer.sizes.size())) {
        dim.replaceAllUsesWith(buffer.sizes[*d]);
        dim.erase();
        continue;
      }
    }
    return error() << "argument #" << buffer.argument << " is used by '"
                   << user->getName()
                   << "': only memref.load, memref.store and memref.dim of a "
                      "constant dimension can be flattened";
  }
  buffer.placeholder.erase();
  return success();
}

void KernelRewriter::checkLoopsComplete() {
  MLIRContext *context = func.getContext();
  auto counterType = MemRefType::get(
      {1}, IntegerType::get(context, 32), AffineMap(),
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Private));
  SmallVector<scf::ForOp> loops;
  func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  OpBuilder entry = OpBuilder::atBlockBegin(&func.front());
  Value zeroIndex = arith::ConstantIndexOp::create(entry, loc, 0);
  for (scf::ForOp loop : loops) {
    // An iteration counter of this loop, reset before it and read after.
    Value counter = memref::AllocaOp::create(entry, loc, counterType);
    OpBuilder before(loop);
    memref::StoreOp::create(before, loc,
                            arith::ConstantIntOp::create(before, loc, 0, 32),
                            counter, ValueRange{zeroIndex});
    OpBuilder body = OpBuilder::atBlockBegin(loop.getBody());
    Value count =
        memref::LoadOp::create(body, loc, counter, ValueRange{zeroIndex});
    memref::StoreOp::create(
        body, loc,
        arith::AddIOp::create(body, loc, count,
                              arith::ConstantIntOp::create(body, loc, 1, 32)),
        counter, ValueRange{zeroIndex});
    OpBuilder after(loop->getBlock(), std::next(loop->getIterator()));
    Value lb = loop.getLowerBound(), ub = loop.getUpperBound();
    Value trips = arith::CeilDivUIOp::create(
        after, loc, arith::SubIOp::create(after, loc, ub, lb),
        loop.getStep());
    Value runs = arith::CmpIOp::create(
        after, loc,
        loop.getUnsignedCmp() ? arith::CmpIPredicate::ult
                              : arith::CmpIPredicate::slt,
        lb, ub);
    trips = arith::SelectOp::create(
        after, loc, runs, trips, arith::ConstantIndexOp::create(after, loc, 0));
    Value done = arith::IndexCastOp::create(
        after, loc, after.getIndexType(),
        memref::LoadOp::create(after, loc, counter, ValueRange{zeroIndex}));
    auto cut = scf::IfOp::create(
        after, loc,
        arith::CmpIOp::create(after, loc, arith::CmpIPredicate::ne, done,
                              trips),
        /*withElseRegion=*/false);
    OpBuilder then = cut.getThenBodyBuilder();
    memref::StoreOp::create(
        then, loc, arith::ConstantIntOp::create(then, loc, 1, 32), params,
        ValueRange{
            arith::ConstantIndexOp::create(then, loc, kernel.statusWord())});
  }
}

FailureOr<vulkan::Kernel> KernelRewriter::run() {
  MLIRContext *context = func.getContext();
  SmallVector<Type> newInputs;
  if (failed(checkWorkgroup()) || failed(describeArguments(newInputs)))
    return failure();
  Type paramsType = MemRefType::get(
      {static_cast<int64_t>(kernel.paramsWords)}, IntegerType::get(context, 32));
  newInputs.push_back(paramsType);

  // New block arguments after the old ones, whose values are rebuilt at the
  // start of the body. (The attributions are read first: gpu.func counts
  // every argument after the workgroup ones as private.)
  SmallVector<BlockArgument> workgroup(func.getWorkgroupAttributions());
  SmallVector<BlockArgument> privates(func.getPrivateAttributions());
  Block &entry = func.front();
  unsigned numOld = entry.getNumArguments();
  SmallVector<Value> buffersIn;
  for (Type type : ArrayRef<Type>(newInputs).drop_back())
    buffersIn.push_back(entry.addArgument(type, loc));
  params = entry.addArgument(paramsType, loc);

  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  SmallVector<FlatBuffer> buffers;
  SmallVector<Value> replacements;
  for (auto [index, arg] : llvm::enumerate(kernel.args)) {
    Type oldType = entry.getArgument(index).getType();
    switch (arg.kind) {
    case vulkan::ArgKind::Buffer: {
      auto memref = cast<MemRefType>(oldType);
      FlatBuffer buffer;
      buffer.argument = index;
      buffer.flat = buffersIn[arg.binding];
      buffer.offset = wordAsIndex(b, arg.word);
      for (int64_t d = 0; d < memref.getRank(); ++d)
        buffer.sizes.push_back(
            memref.isDynamicDim(d)
                ? wordAsIndex(b, arg.word + 1 + d)
                : arith::ConstantIndexOp::create(b, loc, memref.getDimSize(d))
                      .getResult());
      buffer.placeholder =
          UnrealizedConversionCastOp::create(b, loc, oldType, buffer.flat);
      replacements.push_back(buffer.placeholder.getResult(0));
      buffers.push_back(std::move(buffer));
      break;
    }
    case vulkan::ArgKind::Index:
      replacements.push_back(wordAsIndex(b, arg.word));
      break;
    case vulkan::ArgKind::I32:
      replacements.push_back(word(b, arg.word));
      break;
    case vulkan::ArgKind::F32:
      replacements.push_back(
          arith::BitcastOp::create(b, loc, b.getF32Type(), word(b, arg.word)));
      break;
    case vulkan::ArgKind::I1:
      replacements.push_back(arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ne, word(b, arg.word),
          arith::ConstantIntOp::create(b, loc, 0, 32)));
      break;
    }
  }
  for (BlockArgument attribution : workgroup)
    replacements.push_back(memref::AllocOp::create(
        b, loc, cast<MemRefType>(attribution.getType())));
  for (BlockArgument attribution : privates)
    replacements.push_back(memref::AllocaOp::create(
        b, loc, cast<MemRefType>(attribution.getType())));
  for (unsigned i = 0; i < numOld; ++i)
    entry.getArgument(i).replaceAllUsesWith(replacements[i]);
  entry.eraseArguments(0, numOld);

  func.setFunctionTypeAttr(
      TypeAttr::get(FunctionType::get(context, newInputs, {})));
  func->removeAttr(func.getArgAttrsAttrName());
  func->removeAttr(func.getWorkgroupAttribAttrsAttrName());
  func->removeAttr(func.getPrivateAttribAttrsAttrName());
  func->removeAttr(func.getNumWorkgroupAttributionsAttrName());
  for (unsigned i = 0; i < newInputs.size(); ++i)
    func.setArgAttr(i, spirv::getInterfaceVarABIAttrName(),
                    spirv::getInterfaceVarABIAttr(0, i, std::nullopt,
                                                  context));
  func->setAttr(spirv::getEntryPointABIAttrName(),
                spirv::getEntryPointABIAttr(
                    context, {static_cast<int32_t>(kernel.workgroupSize[0]),
                              static_cast<int32_t>(kernel.workgroupSize[1]),
                              static_cast<int32_t>(kernel.workgroupSize[2])}));

  for (FlatBuffer &buffer : buffers)
    if (failed(flattenUses(buffer)))
      return failure();
  checkLoopsComplete();
  return kernel;
}

} // namespace

FailureOr<vulkan::Kernel>
mlir::attn::rewriteKernelToVulkanABI(gpu::GPUFuncOp kernel,
                                     const VulkanKernelLimits &limits) {
  return KernelRewriter(kernel, limits).run();
}

Attribute mlir::attn::vulkanKernelsToAttr(MLIRContext *context,
                                          ArrayRef<vulkan::Kernel> kernels) {
  Builder b(context);
  SmallVector<Attribute> entries;
  for (const vulkan::Kernel &kernel : kernels) {
    SmallVector<int32_t> args;
    for (const vulkan::KernelArg &arg : kernel.args)
      args.append({static_cast<int32_t>(arg.kind),
                   static_cast<int32_t>(arg.rank),
                   static_cast<int32_t>(arg.elementBytes),
                   static_cast<int32_t>(arg.binding),
                   static_cast<int32_t>(arg.word)});
    entries.push_back(b.getDictionaryAttr({
        b.getNamedAttr("name", b.getStringAttr(kernel.name)),
        b.getNamedAttr("workgroup_size",
                       b.getDenseI32ArrayAttr(
                           {static_cast<int32_t>(kernel.workgroupSize[0]),
                            static_cast<int32_t>(kernel.workgroupSize[1]),
                            static_cast<int32_t>(kernel.workgroupSize[2])})),
        b.getNamedAttr("shared_bytes", b.getI32IntegerAttr(kernel.sharedBytes)),
        b.getNamedAttr("params_binding",
                       b.getI32IntegerAttr(kernel.paramsBinding)),
        b.getNamedAttr("params_words", b.getI32IntegerAttr(kernel.paramsWords)),
        // Five numbers per argument: kind, rank, element bytes, binding,
        // first params word.
        b.getNamedAttr("args", b.getDenseI32ArrayAttr(args)),
    }));
  }
  return b.getArrayAttr(entries);
}

FailureOr<SmallVector<vulkan::Kernel>>
mlir::attn::vulkanKernelsFromAttr(Attribute attr) {
  auto array = dyn_cast_or_null<ArrayAttr>(attr);
  if (!array)
    return failure();
  SmallVector<vulkan::Kernel> kernels;
  for (Attribute entry : array) {
    auto dict = dyn_cast<DictionaryAttr>(entry);
    if (!dict)
      return failure();
    auto name = dict.getAs<StringAttr>("name");
    auto workgroup = dict.getAs<DenseI32ArrayAttr>("workgroup_size");
    auto shared = dict.getAs<IntegerAttr>("shared_bytes");
    auto paramsBinding = dict.getAs<IntegerAttr>("params_binding");
    auto paramsWords = dict.getAs<IntegerAttr>("params_words");
    auto args = dict.getAs<DenseI32ArrayAttr>("args");
    if (!name || !workgroup || workgroup.size() != 3 || !shared ||
        !paramsBinding || !paramsWords || !args || args.size() % 5 != 0)
      return failure();
    vulkan::Kernel kernel;
    kernel.name = name.str();
    for (int i = 0; i < 3; ++i)
      kernel.workgroupSize[i] = workgroup[i];
    kernel.sharedBytes = shared.getInt();
    kernel.paramsBinding = paramsBinding.getInt();
    kernel.paramsWords = paramsWords.getInt();
    for (int64_t i = 0; i < args.size(); i += 5) {
      vulkan::KernelArg arg;
      arg.kind = static_cast<vulkan::ArgKind>(args[i]);
      arg.rank = args[i + 1];
      arg.elementBytes = args[i + 2];
      arg.binding = args[i + 3];
      arg.word = args[i + 4];
      kernel.args.push_back(arg);
    }
    kernels.push_back(std::move(kernel));
  }
  return kernels;
}
