//===- ConvertBf16MmaSyncToNVVM.cpp - bf16 nvgpu.mma.sync to NVVM ---------===//
//
// attn-convert-bf16-mma-sync-to-nvvm: nvgpu.mma.sync m16n8k16 on bf16 A and
// B fragments with an f32 accumulator becomes nvvm.mma.sync, which upstream's
// convert-nvgpu-to-nvvm cannot produce (it deduces no PTX type for bf16).
// Each register holds two bf16 packed into an i32: four for A, two for B.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

#include <array>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTBF16MMASYNCTONVVM
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Whether `op` is the form this pass lowers: m16n8k16, A vector<4x2xbf16>,
/// B vector<2x2xbf16>, C and D vector<2x2xf32>.
bool isBf16M16N8K16(nvgpu::MmaSyncOp op) {
  Type bf16 = BFloat16Type::get(op.getContext());
  Type f32 = Float32Type::get(op.getContext());
  Type a = op.getMatrixA().getType(), b = op.getMatrixB().getType(),
       c = op.getMatrixC().getType();
  return op.getMmaShapeAsArray() == std::array<int64_t, 3>{16, 8, 16} &&
         a == VectorType::get({4, 2}, bf16) &&
         b == VectorType::get({2, 2}, bf16) &&
         c == VectorType::get({2, 2}, f32);
}

void lowerMma(RewriterBase &rewriter, nvgpu::MmaSyncOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Type f32 = rewriter.getF32Type();
  // Row i of a fragment: its two bf16 as one i32 register.
  auto registers = [&](Value fragment, int64_t rows) {
    SmallVector<Value> out;
    for (int64_t i = 0; i < rows; ++i) {
      Value pair = vector::ExtractOp::create(rewriter, loc, fragment,
                                             ArrayRef<int64_t>{i});
      Value word = vector::BitCastOp::create(
          rewriter, loc, VectorType::get({1}, rewriter.getI32Type()), pair);
      out.push_back(
          vector::ExtractOp::create(rewriter, loc, word, ArrayRef<int64_t>{0}));
    }
    return out;
  };
  SmallVector<Value> a = registers(op.getMatrixA(), 4);
  SmallVector<Value> b = registers(op.getMatrixB(), 2);
  SmallVector<Value> accumulators;
  for (int64_t i = 0; i < 4; ++i)
    accumulators.push_back(vector::ExtractOp::create(
        rewriter, loc, op.getMatrixC(), ArrayRef<int64_t>{i / 2, i % 2}));
  auto resultType = LLVM::LLVMStructType::getLiteral(
      rewriter.getContext(), SmallVector<Type>(4, f32));
  Value d = NVVM::MmaOp::create(
      rewriter, loc, resultType, a, b, accumulators,
      ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> elements;
  for (int64_t i = 0; i < 4; ++i)
    elements.push_back(LLVM::ExtractValueOp::create(rewriter, loc, d, i));
  rewriter.replaceOpWithNewOp<vector::FromElementsOp>(
      op, op.getMatrixC().getType(), elements);
}

struct ConvertBf16MmaSyncToNVVMPass
    : mlir::attn::impl::AttnConvertBf16MmaSyncToNVVMBase<
          ConvertBf16MmaSyncToNVVMPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<nvgpu::MmaSyncOp> ops;
    getOperation()->walk([&](nvgpu::MmaSyncOp op) {
      if (getElementTypeOrSelf(op.getMatrixA().getType()).isBF16())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (nvgpu::MmaSyncOp op : ops) {
      if (!isBf16M16N8K16(op)) {
        op.emitOpError()
            << "with bf16 operands: only m16n8k16 with vector<4x2xbf16> A, "
               "vector<2x2xbf16> B and vector<2x2xf32> C is lowered";
        return signalPassFailure();
      }
      lowerMma(rewriter, op);
    }
  }
};

} // namespace
