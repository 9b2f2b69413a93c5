//===- ConvertGpuToVulkanSPIRV.cpp - gpu.module kernels to Vulkan SPIR-V --===//
//
// attn-convert-gpu-to-vulkan-spirv: each gpu.module gets a sibling
// spirv.module with its kernels as Vulkan compute shaders. A copy of the
// gpu.module is rewritten to attn's Vulkan kernel ABI (VulkanKernelABI.cpp),
// its bf16 arithmetic expanded to integer operations (SPIR-V for Vulkan has
// no bf16 type; bf16 buffers hold i16), its memory spaces mapped to storage
// classes, and then converted by upstream's SPIR-V patterns; ABI attributes
// are lowered and the (version, capabilities, extensions) triple reduced to
// what the shaders use. The original gpu.module stays, so that the host's
// gpu.launch_func ops keep verifying until attn-serialize-vulkan-kernels
// replaces both by a gpu.binary.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"

#include "VulkanKernelABI.h"

#include "mlir/Conversion/ArithToSPIRV/ArithToSPIRV.h"
#include "mlir/Conversion/FuncToSPIRV/FuncToSPIRV.h"
#include "mlir/Conversion/GPUToSPIRV/GPUToSPIRV.h"
#include "mlir/Conversion/IndexToSPIRV/IndexToSPIRV.h"
#include "mlir/Conversion/MathToSPIRV/MathToSPIRV.h"
#include "mlir/Conversion/MemRefToSPIRV/MemRefToSPIRV.h"
#include "mlir/Conversion/SCFToSPIRV/SCFToSPIRV.h"
#include "mlir/Conversion/UBToSPIRV/UBToSPIRV.h"
#include "mlir/Conversion/VectorToSPIRV/VectorToSPIRV.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/Transforms/SPIRVConversion.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTGPUTOVULKANSPIRV
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Storage classes of the kernels' memrefs: device buffers, gpu workgroup
/// and private memory, and upstream's numbering for Vulkan.
std::optional<spirv::StorageClass> storageClassOf(Attribute space) {
  if (!space)
    return spirv::StorageClass::StorageBuffer;
  if (auto gpuSpace = dyn_cast<gpu::AddressSpaceAttr>(space)) {
    switch (gpuSpace.getValue()) {
    case gpu::AddressSpace::Global:
      return spirv::StorageClass::StorageBuffer;
    case gpu::AddressSpace::Workgroup:
      return spirv::StorageClass::Workgroup;
    case gpu::AddressSpace::Private:
      return spirv::StorageClass::Function;
    }
  }
  return spirv::mapMemorySpaceToVulkanStorageClass(space);
}

/// Vulkan 1.3 compute with the 8/16/64-bit types that attn's kernels use;
/// spirv-update-vce keeps only what a module needs, and the runtime checks
/// that the device has it.
spirv::TargetEnvAttr vulkanTargetEnv(MLIRContext *context,
                                     int64_t sharedMemoryBytes,
                                     int64_t maxInvocations) {
  using spirv::Capability;
  using spirv::Extension;
  auto triple = spirv::VerCapExtAttr::get(
      spirv::Version::V_1_3,
      {Capability::Shader, Capability::Float16, Capability::Int8,
       Capability::Int16, Capability::Int64,
       Capability::StorageBuffer16BitAccess,
       Capability::StorageBuffer8BitAccess,
       Capability::SignedZeroInfNanPreserve},
      {Extension::SPV_KHR_storage_buffer_storage_class,
       Extension::SPV_KHR_16bit_storage, Extension::SPV_KHR_8bit_storage,
       Extension::SPV_KHR_float_controls},
      context);
  Builder b(context);
  auto limits = spirv::ResourceLimitsAttr::get(
      context, sharedMemoryBytes, maxInvocations,
      b.getI32ArrayAttr({1024, 1024, 64}), /*subgroup_size=*/32,
      std::nullopt, std::nullopt, ArrayAttr(), ArrayAttr());
  return spirv::TargetEnvAttr::get(triple, limits, spirv::ClientAPI::Vulkan);
}

/// Upstream's scf.for to SPIR-V (MLIR 22) returns a loop's results from a
/// function variable that only the loop body stores to, so a loop that runs
/// no iteration returns garbage instead of its initial values (lavapipe
/// gives 0: an empty key split of split_kv came back with m = 0, not -inf).
/// Every loop with results therefore runs under an scf.if that yields the
/// initial values when it would not iterate.
void guardLoopsThatMayNotRun(Operation *root) {
  SmallVector<scf::ForOp> loops;
  root->walk([&](scf::ForOp loop) {
    if (loop.getNumResults())
      loops.push_back(loop);
  });
  for (scf::ForOp loop : loops) {
    OpBuilder b(loop);
    Location loc = loop.getLoc();
    Value runs = arith::CmpIOp::create(
        b, loc,
        loop.getUnsignedCmp() ? arith::CmpIPredicate::ult
                              : arith::CmpIPredicate::slt,
        loop.getLowerBound(), loop.getUpperBound());
    auto guard = scf::IfOp::create(b, loc, loop.getResultTypes(), runs,
                                   /*withElseRegion=*/true);
    loop->replaceAllUsesWith(guard.getResults());
    Block *then = guard.thenBlock();
    loop->moveBefore(then, then->end());
    b.setInsertionPointToEnd(then);
    scf::YieldOp::create(b, loc, loop.getResults());
    b.setInsertionPointToEnd(guard.elseBlock());
    scf::YieldOp::create(b, loc, loop.getInitArgs());
  }
}

/// Unrolls the innermost loops of the kernels: fully when at most
/// kFullUnroll iterations are known, else by kUnrollFactor. Vulkan drivers
/// get straight-line code for the dot products over the head dimension,
/// and lavapipe, which cuts every loop of an invocation short after 65,535
/// iterations in all, gets through far longer sequences.
void unrollInnermostLoops(Operation *root) {
  constexpr int64_t kFullUnroll = 64, kUnrollFactor = 8;
  SmallVector<scf::ForOp> innermost;
  root->walk([&](scf::ForOp loop) {
    bool hasInner = false;
    loop.getBody()->walk([&](scf::ForOp) { hasInner = true; });
    if (!hasInner)
      innermost.push_back(loop);
  });
  for (scf::ForOp loop : innermost) {
    std::optional<APInt> trips = loop.getStaticTripCount();
    if (trips && trips->getSExtValue() <= kFullUnroll)
      (void)loopUnrollFull(loop);
    else
      (void)loopUnrollByFactor(loop, kUnrollFactor);
  }
}

/// math.exp2 on scalars and vectors to GLSL's Exp2 (upstream's math
/// patterns have no exp2 for Vulkan in MLIR 22).
struct Exp2ToGL final : OpConversionPattern<math::Exp2Op> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(math::Exp2Op op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    if (!type)
      return failure();
    rewriter.replaceOpWithNewOp<spirv::GLExp2Op>(op, type,
                                                 adaptor.getOperand());
    return success();
  }
};

struct ConvertGpuToVulkanSPIRVPass
    : mlir::attn::impl::AttnConvertGpuToVulkanSPIRVBase<
          ConvertGpuToVulkanSPIRVPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules)
      if (failed(convert(gpuModule)))
        return signalPassFailure();
  }

  LogicalResult convert(gpu::GPUModuleOp original);

  /// The workgroup memory kernels of `gpuModule` may use: what the
  /// strategies planned for (the #attn.target around it) or the option,
  /// which must agree when both are written; else Vulkan's guaranteed
  /// minimum. Fails, naming both, when they disagree.
  FailureOr<int64_t> sharedMemoryFor(gpu::GPUModuleOp gpuModule) const {
    constexpr int64_t kVulkanMinimumSharedBytes = 32 << 10;
    std::optional<int64_t> written;
    if (TargetAttr target = lookupTargetAttr(gpuModule))
      written = target.getSharedMemory();
    if (written && sharedMemoryBytes != 0 && *written != sharedMemoryBytes)
      return gpuModule.emitError()
             << "vulkan target: shared-memory = "
             << static_cast<int64_t>(sharedMemoryBytes)
             << " disagrees with the #attn.target shared_memory = " << *written
             << " that the kernels were planned for";
    if (sharedMemoryBytes != 0)
      return static_cast<int64_t>(sharedMemoryBytes);
    return written ? *written : kVulkanMinimumSharedBytes;
  }
};

LogicalResult
ConvertGpuToVulkanSPIRVPass::convert(gpu::GPUModuleOp original) {
  MLIRContext *context = &getContext();
  FailureOr<int64_t> planned = sharedMemoryFor(original);
  if (failed(planned))
    return failure();
  int64_t sharedMemoryBytes = *planned;
  if (sharedMemoryBytes < 1 || maxWorkgroupInvocations < 1)
    return original.emitError()
           << "vulkan target: shared-memory (" << sharedMemoryBytes
           << ") and max-workgroup-invocations (" << maxWorkgroupInvocations
           << ") must be positive";
  spirv::TargetEnvAttr env =
      vulkanTargetEnv(context, sharedMemoryBytes, maxWorkgroupInvocations);
  OpBuilder b(original);
  b.setInsertionPointAfter(original);
  auto copy = cast<gpu::GPUModuleOp>(b.clone(*original.getOperation()));
  copy->setAttr(spirv::getTargetEnvAttrName(), env);
  copy.removeTargetsAttr();

  VulkanKernelLimits limits;
  limits.sharedMemoryBytes = sharedMemoryBytes;
  limits.maxWorkgroupInvocations = maxWorkgroupInvocations;
  unrollInnermostLoops(copy);
  SmallVector<vulkan::Kernel> kernels;
  for (auto func : llvm::make_early_inc_range(copy.getOps<gpu::GPUFuncOp>())) {
    if (!func.isKernel())
      return func.emitError() << "vulkan target: gpu.func @" << func.getName()
                              << " is not a kernel; device functions have no "
                                 "Vulkan form here";
    FailureOr<vulkan::Kernel> kernel = rewriteKernelToVulkanABI(func, limits);
    if (failed(kernel))
      return failure();
    kernels.push_back(std::move(*kernel));
  }

  // Arithmetic without a SPIR-V op: bf16 conversions as integer bit
  // operations (the bitcasts of bf16 buffer elements then cancel),
  // ceil/floor divisions as plain ones.
  RewritePatternSet expand(context);
  arith::populateExpandBFloat16Patterns(expand);
  arith::BitcastOp::getCanonicalizationPatterns(expand, context);
  arith::populateCeilFloorDivExpandOpsPatterns(expand);
  if (failed(applyPatternsGreedily(copy, std::move(expand))))
    return copy.emitError() << "vulkan target: expanding bf16 and division "
                               "arithmetic did not converge";

  guardLoopsThatMayNotRun(copy);

  spirv::MemorySpaceToStorageClassConverter memorySpaces(storageClassOf);
  spirv::convertMemRefTypesAndAttrs(copy, memorySpaces);

  std::unique_ptr<ConversionTarget> target = SPIRVConversionTarget::get(env);
  SPIRVConversionOptions options;
  SPIRVTypeConverter typeConverter(env, options);
  RewritePatternSet patterns(context);
  populateGPUToSPIRVPatterns(typeConverter, patterns);
  ScfToSPIRVContext scfContext;
  populateSCFToSPIRVPatterns(typeConverter, scfContext, patterns);
  arith::populateArithToSPIRVPatterns(typeConverter, patterns);
  populateMathToSPIRVPatterns(typeConverter, patterns);
  patterns.add<Exp2ToGL>(typeConverter, context);
  populateMemRefToSPIRVPatterns(typeConverter, patterns);
  populateFuncToSPIRVPatterns(typeConverter, patterns);
  populateVectorToSPIRVPatterns(typeConverter, patterns);
  index::populateIndexToSPIRVPatterns(typeConverter, patterns);
  ub::populateUBToSPIRVConversionPatterns(typeConverter, patterns);
  StringRef name = original.getName();
  if (failed(applyFullConversion(copy.getOperation(), *target,
                                 std::move(patterns))))
    return original.emitError()
           << "vulkan target: the kernels of gpu.module @" << name
           << " have no SPIR-V form (see the errors above)";

  auto spirvModule =
      dyn_cast_or_null<spirv::ModuleOp>(original->getNextNode());
  if (!spirvModule)
    return original.emitError() << "vulkan target: converting gpu.module @"
                                << name << " left no spirv.module";
  spirvModule->setAttr(kVulkanKernelsAttrName,
                       vulkanKernelsToAttr(context, kernels));
  // NaN and infinities propagate as on the CPU: without this mode Vulkan
  // lets an implementation assume there are none (lavapipe's exp of a NaN
  // is finite), and a NaN in K or V would not reach the rows that read it.
  OpBuilder modes = OpBuilder::atBlockEnd(spirvModule.getBody());
  for (auto func : spirvModule.getOps<spirv::FuncOp>())
    if (func->hasAttr(spirv::getEntryPointABIAttrName()))
      spirv::ExecutionModeOp::create(modes, func.getLoc(), func,
                                     spirv::ExecutionMode::SignedZeroInfNanPreserve,
                                     {32});
  OpPassManager finish(spirv::ModuleOp::getOperationName());
  finish.addPass(spirv::createSPIRVLowerABIAttributesPass());
  finish.addPass(spirv::createSPIRVUpdateVCEPass());
  return runPipeline(finish, spirvModule);
}

} // namespace
