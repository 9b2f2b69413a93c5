//===- ResultBuffers.cpp - attn-result-buffers ----------------------------===//
//
// Lets the caller of an entry provide the memory of its results: the
// allocation of each returned buffer calls the runtime's attnAllocateResult,
// which hands out the buffer the caller offered for that result (or
// allocates one when there is none). See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNRESULTBUFFERS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kAllocateResult = "attnAllocateResult";
/// Results are cache-line aligned at least (the kernels' vector stores).
constexpr int64_t kMinAlignment = 64;

/// The byte size of one element of `type`, or 0 when results of it are
/// left alone.
int64_t elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  if (type.isIntOrFloat())
    return (type.getIntOrFloatBitWidth() + 7) / 8;
  return 0;
}

/// The allocation `value` is, when it may live in a caller's buffer: made
/// in `body` itself, identity layout, plain element type, never freed.
memref::AllocOp resultAllocation(Value value, Block &body) {
  auto alloc = value.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != &body)
    return {};
  MemRefType type = alloc.getType();
  if (!type.getLayout().isIdentity() ||
      elementBytes(type.getElementType()) == 0)
    return {};
  for (Operation *user : alloc->getUsers())
    if (isa<memref::DeallocOp>(user))
      return {};
  return alloc;
}

/// Declares `ptr attnAllocateResult(i64 index, i64 bytes, i64 alignment)`.
LLVM::LLVMFuncOp declareAllocateResult(ModuleOp module) {
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(kAllocateResult))
    return existing;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  MLIRContext *context = module.getContext();
  Type i64 = IntegerType::get(context, 64);
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMPointerType::get(context),
                                          {i64, i64, i64});
  return LLVM::LLVMFuncOp::create(builder, module.getLoc(), kAllocateResult,
                                  type);
}

/// Replaces `alloc` by a call of attnAllocateResult for result `index` and
/// a descriptor over the memory it returns.
void allocateThroughRuntime(memref::AllocOp alloc, int64_t index,
                            LLVM::LLVMFuncOp callee,
                            const LLVMTypeConverter &converter) {
  OpBuilder builder(alloc);
  Location loc = alloc.getLoc();
  MemRefType type = alloc.getType();
  Type i64 = builder.getI64Type();
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(builder, loc, i64, v);
  };
  // Sizes (static or the alloc's operands) and row-major strides, in i64.
  SmallVector<Value> sizes;
  unsigned dynamic = 0;
  for (int64_t size : type.getShape())
    sizes.push_back(
        ShapedType::isDynamic(size)
            ? arith::IndexCastOp::create(builder, loc, i64,
                                         alloc.getDynamicSizes()[dynamic++])
                  .getResult()
            : constant(size));
  SmallVector<Value> strides(sizes.size());
  Value elements = constant(1);
  for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
    strides[d] = elements;
    elements = arith::MulIOp::create(builder, loc, elements, sizes[d]);
  }
  Value bytes = arith::MulIOp::create(
      builder, loc, elements, constant(elementBytes(type.getElementType())));
  int64_t alignment =
      std::max<int64_t>(kMinAlignment, alloc.getAlignment().value_or(0));
  Value pointer = LLVM::CallOp::create(
                      builder, loc, callee,
                      ValueRange{constant(index), bytes, constant(alignment)})
                      .getResult();

  Type descriptorType = converter.convertType(type);
  MemRefDescriptor descriptor =
      MemRefDescriptor::poison(builder, loc, descriptorType);
  descriptor.setAllocatedPtr(builder, loc, pointer);
  descriptor.setAlignedPtr(builder, loc, pointer);
  descriptor.setConstantOffset(builder, loc, 0);
  for (unsigned d = 0; d < sizes.size(); ++d) {
    descriptor.setSize(builder, loc, d, sizes[d]);
    descriptor.setStride(builder, loc, d, strides[d]);
  }
  Value memref = UnrealizedConversionCastOp::create(
                     builder, loc, type, static_cast<Value>(descriptor))
                     .getResult(0);
  alloc.replaceAllUsesWith(memref);
  alloc.erase();
}

struct ResultBuffersPass
    : mlir::attn::impl::AttnResultBuffersBase<ResultBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic() && !func.isDeclaration() &&
          func.getNumResults() > 0 && func.getBody().hasOneBlock())
        entries.push_back(func);
    // Calls from inside the module must not see the offered buffers:
    // they take a private clone of the entry.
    for (func::FuncOp func : entries) {
      if (SymbolTable::symbolKnownUseEmpty(func, module))
        continue;
      func::FuncOp internal = func.clone();
      internal.setPrivate();
      internal.setSymName((func.getSymName() + ".attn_internal").str());
      symbols.insert(internal, std::next(func->getIterator()));
      if (failed(SymbolTable::replaceAllSymbolUses(
              func, internal.getSymNameAttr(), module))) {
        func.emitError("cannot redirect the module's calls of this entry");
        return signalPassFailure();
      }
    }

    LLVMTypeConverter converter(&getContext());
    LLVM::LLVMFuncOp callee;
    for (func::FuncOp func : entries) {
      Block &body = func.getBody().front();
      auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
      if (!ret)
        continue;
      // A buffer returned twice is no allocation any more at its second
      // result.
      for (auto [index, value] : llvm::enumerate(ret.getOperands())) {
        memref::AllocOp alloc = resultAllocation(value, body);
        if (!alloc)
          continue;
        if (!callee)
          callee = declareAllocateResult(module);
        allocateThroughRuntime(alloc, index, callee, converter);
      }
    }
  }
};

} // namespace
