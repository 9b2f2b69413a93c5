//===- MergeStatesToGPU.cpp - attn.merge_states as a GPU launch -----------===//
//
// See MergeStatesToGPU.h. Thread t of block x merges row x * 128 + t of the
// states, its multi-index taken apart from the flat row; inputs are buffers
// of their tensors and results new buffers (attn-gpu-device-buffers gives
// the launch device copies). States that are whole slices s of one stacked
// tensor [S, ...] (split-KV's) are read from that tensor's buffer at s, so
// that the kernel which wrote it and the merge share its device copy.
//
//===----------------------------------------------------------------------===//

#include "MergeStatesToGPU.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

constexpr int64_t kThreads = 128;

/// An operand of the merge as the kernel reads it: a buffer, and the index
/// of its first dimension when the operand is a slice of a stacked tensor.
struct StateBuffer {
  Value buffer;
  std::optional<int64_t> slice;
};

/// `part` as slice s of a tensor [S, ...shape of part]: the tensor and s.
std::optional<std::pair<Value, int64_t>> stackedSlice(Value part) {
  auto slice = part.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice)
    return std::nullopt;
  Value source = slice.getSource();
  auto sourceType = cast<RankedTensorType>(source.getType());
  int64_t rank = sourceType.getRank();
  if (slice.getResultType().getRank() != rank - 1 ||
      !slice.hasUnitStride())
    return std::nullopt;
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
  std::optional<int64_t> s = getConstantIntValue(offsets[0]);
  if (!s || getConstantIntValue(sizes[0]) != 1)
    return std::nullopt;
  for (int64_t d = 1; d < rank; ++d) {
    if (getConstantIntValue(offsets[d]) != 0)
      return std::nullopt;
    // The whole of dimension d: its static size, or tensor.dim of it.
    if (!sourceType.isDynamicDim(d)) {
      if (getConstantIntValue(sizes[d]) != sourceType.getDimSize(d))
        return std::nullopt;
      continue;
    }
    auto dim = dyn_cast_if_present<Value>(sizes[d])
                   ? cast<Value>(sizes[d]).getDefiningOp<tensor::DimOp>()
                   : tensor::DimOp();
    if (!dim || dim.getSource() != source ||
        dim.getConstantIndex() != std::optional<int64_t>(d))
      return std::nullopt;
  }
  return std::make_pair(source, *s);
}

class MergeStatesEmitter : KernelBuilder {
public:
  MergeStatesEmitter(RewriterBase &rewriter, MergeStatesOp op)
      : KernelBuilder(rewriter, op.getLoc(), /*lanes=*/1), op(op),
        problem(AttentionProblem::get(op)) {}

  SmallVector<Value> build() {
    KernelBuffers buffers(b, loc);
    Value outInit = op.getOutInit();
    int64_t rank = cast<RankedTensorType>(outInit.getType()).getRank();
    // The row dimensions (all but Dv) and their product.
    SmallVector<Value> rowDims;
    Value rows = idx(1);
    for (int64_t d = 0; d + 1 < rank; ++d) {
      rowDims.push_back(dimOf(outInit, d));
      rows = mul(rows, rowDims.back());
    }
    Value dv = dimOf(outInit, rank - 1);

    // Each operand's buffer: a stacked tensor's (one to_buffer for all its
    // slices), or its own.
    DenseMap<Value, Value> stackedBuffers;
    auto input = [&](Value part) -> StateBuffer {
      if (auto stacked = stackedSlice(part)) {
        Value &buffer = stackedBuffers[stacked->first];
        if (!buffer)
          buffer = buffers.input(stacked->first);
        return {buffer, stacked->second};
      }
      return {buffers.input(part), std::nullopt};
    };
    SmallVector<StateBuffer> outputs, lses, entropies;
    for (unsigned k = 0; k < op.getNumStates(); ++k) {
      outputs.push_back(input(op.getStateOutput(k)));
      lses.push_back(input(op.getStateLse(k)));
      if (Value h = op.getStateEntropy(k))
        entropies.push_back(input(h));
    }
    Value out = buffers.allocLike(outInit);
    // An LSE that nothing reads (split-KV without return_lse) is not kept.
    Value lseOut = op.getLse().use_empty()
                       ? Value()
                       : buffers.allocLike(op.getLseInit());
    Value entropyOut =
        op.getEntropyInit() ? buffers.allocLike(op.getEntropyInit()) : Value();

    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, rows, idx(kThreads)), one,
        one, idx(kThreads), one, one);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      Value row = add(mul(launch.getBlockIds().x, idx(kThreads)),
                      launch.getThreadIds().x);
      scf::IfOp::create(
          b, loc, cmpI(arith::CmpIPredicate::slt, row, rows),
          [&](OpBuilder &ib, Location) {
            OpBuilder::InsertionGuard guard2(b);
            b.setInsertionPoint(ib.getInsertionBlock(), ib.getInsertionPoint());
            // The row's multi-index, last dimension fastest.
            SmallVector<Value> at(rowDims.size());
            Value rest = row;
            for (int64_t d = rowDims.size() - 1; d >= 0; --d) {
              at[d] = rem(rest, rowDims[d]);
              rest = div(rest, rowDims[d]);
            }
            auto load = [&](const StateBuffer &state,
                            ValueRange indices) -> Value {
              SmallVector<Value> at;
              if (state.slice)
                at.push_back(idx(*state.slice));
              llvm::append_range(at, indices);
              return toF32(memref::LoadOp::create(b, loc, state.buffer, at));
            };
            SmallVector<Value> lseValues, entropyValues;
            for (const StateBuffer &lse : lses)
              lseValues.push_back(load(lse, at));
            for (const StateBuffer &h : entropies)
              entropyValues.push_back(load(h, at));
            AttentionAlgebra algebra(b, loc, problem);
            AttentionAlgebra::MergedRow merged =
                algebra.mergeNormalized(lseValues, entropyValues);
            if (lseOut)
              memref::StoreOp::create(b, loc, merged.lse, lseOut, at);
            if (entropyOut)
              memref::StoreOp::create(b, loc, merged.entropy, entropyOut, at);
            Type outElem = cast<MemRefType>(out.getType()).getElementType();
            forLoop(idx(0), dv, one, [&](Value e) {
              SmallVector<Value> element(at);
              element.push_back(e);
              SmallVector<Value> os;
              for (const StateBuffer &o : outputs)
                os.push_back(load(o, element));
              memref::StoreOp::create(
                  b, loc,
                  algebra.epilogue(algebra.weightedSum(merged.factors, os),
                                   merged.l, outElem),
                  out, element);
            });
            scf::YieldOp::create(b, loc);
          });
      gpu::TerminatorOp::create(b, loc);
    }
    SmallVector<Value> results = {
        buffers.result(out, outInit),
        lseOut ? buffers.result(lseOut, op.getLseInit()) : op.getLseInit()};
    if (entropyOut)
      results.push_back(buffers.result(entropyOut, op.getEntropyInit()));
    return results;
  }

private:
  MergeStatesOp op;
  AttentionProblem problem;
};

} // namespace

void mlir::attn::lowerMergeStatesToGpu(RewriterBase &rewriter,
                                       MergeStatesOp op) {
  rewriter.setInsertionPoint(op);
  rewriter.replaceOp(op, MergeStatesEmitter(rewriter, op).build());
}
