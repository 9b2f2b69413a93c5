//===- WholeProblemTile.cpp - attn.attention as one tile op ---------------===//
//
// See WholeProblemTile.h.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/WholeProblemTile.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;

/// The state's acc is the result itself when both are f32.
static bool accIsResult(const AttentionProblem &p) {
  return p.elementType.isF32();
}

OnlineAttentionOp mlir::attn::createWholeProblemTile(RewriterBase &rewriter,
                                                     const AttentionProblem &p) {
  auto attention = cast<AttentionOp>(p.op);
  Location loc = p.op->getLoc();
  AttentionAlgebra algebra(rewriter, loc, p);
  OpFoldResult batch = tensor::getMixedSize(rewriter, loc, p.query, 0);
  OpFoldResult heads = rewriter.getIndexAttr(p.headsQ);
  OpFoldResult lq = tensor::getMixedSize(rewriter, loc, p.query, 2);
  auto filled = [&](Value tensor, double v) -> Value {
    Value c =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(v));
    return linalg::FillOp::create(rewriter, loc, c, tensor).getResult(0);
  };
  auto empty = [&](SmallVector<OpFoldResult> shape) -> Value {
    return tensor::EmptyOp::create(rewriter, loc, shape, rewriter.getF32Type());
  };
  Value acc0 = filled(
      accIsResult(p)
          ? p.init
          : empty({batch, heads, lq, rewriter.getIndexAttr(p.valueDim)}),
      0.0);
  Value max0 = filled(empty({batch, heads, lq}), algebra.initialMax());
  Value sum0 = filled(empty({batch, heads, lq}), 0.0);
  // The entropy part of the state when the op returns the entropy.
  Value entropy0 =
      p.returnEntropy ? filled(empty({batch, heads, lq}), 0.0) : Value();
  SmallVector<Type> stateTypes = {acc0.getType(), max0.getType(),
                                  sum0.getType()};
  if (entropy0)
    stateTypes.push_back(entropy0.getType());
  // Row 0's aligned position is Lk - Lq; key 0 is at 0.
  Value lqValue = getValueOrCreateConstantIndexOp(rewriter, loc, lq);
  Value lkValue = tensor::DimOp::create(rewriter, loc, p.key, 2);
  Value queryPosition = arith::SubIOp::create(rewriter, loc, lkValue, lqValue);
  Value keyPosition = arith::ConstantIndexOp::create(rewriter, loc, 0);
  auto tile = OnlineAttentionOp::create(
      rewriter, loc, stateTypes, p.query, p.key, p.value, p.mask, p.bias,
      p.keyScale, p.valueScale,
      queryPosition, keyPosition, acc0, max0, sum0, entropy0,
      rewriter.getF32FloatAttr(p.scale), attention.getCausalAttr(),
      attention.getWindowAttr(), attention.getSinksAttr(),
      attention.getSoftcapAttr(), attention.getScoreAttr());
  // The whole problem's tile indices are the op's: the mods as written.
  IRMapping mapping;
  attention.getScoreMod().cloneInto(&tile.getScoreMod(), mapping);
  attention.getMaskMod().cloneInto(&tile.getMaskMod(), mapping);
  return tile;
}

ValueRange mlir::attn::createFinalize(RewriterBase &rewriter,
                                      const AttentionProblem &p, Value acc,
                                      Value sum, Value max, Value entropy) {
  Location loc = p.op->getLoc();
  // The statistics' destinations: [B, Hq, Lq] like sum.
  auto rows = [&]() -> Value {
    return tensor::EmptyOp::create(rewriter, loc,
                                   tensor::getMixedSizes(rewriter, loc, sum),
                                   rewriter.getF32Type());
  };
  Value lseInit = p.returnLse ? rows() : Value();
  Value entropyInit = p.returnEntropy ? rows() : Value();
  SmallVector<Type> statistics;
  for (Value init : {lseInit, entropyInit})
    if (init)
      statistics.push_back(init.getType());
  auto finalize = FinalizeOp::create(
      rewriter, loc, p.init.getType(), statistics, acc, sum,
      p.sinkLogits || lseInit || entropyInit ? max : Value(), p.sinkLogits,
      entropyInit ? entropy : Value(), p.init, lseInit, entropyInit,
      cast<AttentionOp>(p.op).getScoreAttr());
  return finalize.getResults();
}

/// The destination of `state` when it is a linalg.fill of `value`, else
/// null.
static Value filledWith(Value state, double value) {
  auto fill = state.getDefiningOp<linalg::FillOp>();
  FloatAttr constant;
  if (!fill || !matchPattern(fill.getInputs()[0], m_Constant(&constant)) ||
      constant.getValueAsDouble() != value)
    return {};
  return fill.getOutputs()[0];
}

FailureOr<TileOpForm> mlir::attn::getTileOpForm(RewriterBase &rewriter,
                                                OnlineAttentionOp tile,
                                                StringRef kernel) {
  TileOpForm form;
  form.problem = AttentionProblem::get(tile);
  AttentionProblem &p = form.problem;
  if (p.hasWindow && p.sinks > 0) {
    std::optional<int64_t> first = getConstantIntValue(tile.getKeyPosition());
    if (!first)
      return tile.emitOpError()
             << kernel
             << ": key_position must be a constant when the op has sink keys";
    p.sinks = std::max<int64_t>(0, p.sinks - *first);
  }
  rewriter.setInsertionPoint(tile);
  Location loc = tile.getLoc();
  form.queryShift = arith::SubIOp::create(
      rewriter, loc, tile.getQueryPosition(), tile.getKeyPosition());
  AttentionAlgebra algebra(rewriter, loc, p);
  TileState empty;
  empty.acc = filledWith(tile.getAcc(), 0.0);
  empty.max = filledWith(tile.getMax(), algebra.initialMax());
  empty.sum = filledWith(tile.getSum(), 0.0);
  empty.empty = empty.acc && empty.max && empty.sum;

  Value acc = tile.getAccResult(), sum = tile.getSumResult();
  auto finalize = acc.hasOneUse() ? dyn_cast<FinalizeOp>(*acc.user_begin())
                                  : FinalizeOp();
  Value max = tile.getMaxResult(), entropy = tile.getEntropyResult();
  if (entropy)
    empty.empty &= static_cast<bool>(filledWith(tile.getEntropy(), 0.0));
  if (empty.empty && finalize && sum.hasOneUse() &&
      (max.use_empty() || (max.hasOneUse() && finalize.getMax() == max)) &&
      (!entropy ||
       (entropy.hasOneUse() && finalize.getEntropySum() == entropy)) &&
      finalize.getAcc() == acc && finalize.getSum() == sum &&
      finalize.getEffectiveScore() == tile.getEffectiveScore()) {
    form.finalize = finalize;
    p.init = finalize.getInit();
    p.sinkLogits = finalize.getSinkLogits();
    p.lseInit = finalize.getLseInit();
    p.returnLse = p.lseInit != nullptr;
    p.entropyInit = finalize.getEntropyInit();
    p.returnEntropy = p.entropyInit != nullptr;
    rewriter.setInsertionPoint(finalize);
  } else if (entropy) {
    // The kernels keep the entropy part only while it lives in them.
    return tile.emitOpError()
           << kernel
           << ": the 'entropy' state is computed only from the empty state "
              "with the attn.finalize that reads it right after";
  } else if (empty.empty) {
    form.state = empty;
  } else {
    form.state = TileState{tile.getAcc(), tile.getMax(), tile.getSum()};
  }
  return form;
}

void TileOpForm::replace(RewriterBase &rewriter, OnlineAttentionOp tile,
                         ValueRange results) const {
  if (finalize) {
    rewriter.replaceOp(finalize, results);
    rewriter.eraseOp(tile);
  } else {
    rewriter.replaceOp(tile, results);
  }
}

MergeStatesOp mlir::attn::mergeSplitStates(OpBuilder &b, Location loc,
                                           Value outputs, Value lses,
                                           Value entropies,
                                           SplitStateInits inits) {
  // Slice s of `tensor` without its split dimension, and an f32 init of
  // that shape.
  auto split = [&](Value tensor, int64_t s) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    offsets[0] = b.getIndexAttr(s);
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, tensor);
    sizes[0] = b.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                           type.getElementType());
    return tensor::ExtractSliceOp::create(b, loc, sliceType, tensor, offsets,
                                          sizes, strides);
  };
  auto init = [&](Value tensor, Value given) -> Value {
    if (given)
      return given;
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, tensor);
    return tensor::EmptyOp::create(b, loc, ArrayRef(sizes).drop_front(),
                                   b.getF32Type());
  };
  int64_t splits = cast<RankedTensorType>(outputs.getType()).getDimSize(0);
  assert(!ShapedType::isDynamic(splits) && "a static number of splits");
  SmallVector<Value> states, stateEntropies;
  for (int64_t s = 0; s < splits; ++s) {
    states.push_back(split(outputs, s));
    states.push_back(split(lses, s));
    if (entropies)
      stateEntropies.push_back(split(entropies, s));
  }
  Value outInit = init(outputs, inits.output);
  Value lseInit = init(lses, inits.lse);
  Value entropyInit = entropies ? init(entropies, inits.entropy) : Value();
  return MergeStatesOp::create(
      b, loc, outInit.getType(), lseInit.getType(),
      entropyInit ? entropyInit.getType() : Type(), states, stateEntropies,
      outInit, lseInit, entropyInit);
}
