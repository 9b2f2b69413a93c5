//===- OnlineAttentionTiling.cpp - Tiling of attn.online_attention --------===//
//
// TilingInterface and PartialReductionOpInterface of attn.online_attention
// (see OnlineAttentionTiling.h). A tile slices q, the rows' state and the
// keys, and moves the op's positions by the tile's offsets; a split of the
// keys starts from the empty state; the merge is AttentionAlgebra's.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/OnlineAttentionTiling.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/AttentionProblem.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Iteration dimensions.
enum : unsigned { kBatchDim = 0, kHeadDim = 1, kRowDim = 2, kKeyDim = 3 };

OpFoldResult addIndex(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx + *cy);
  if (cy && *cy == 0)
    return x;
  return arith::AddIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, x),
                               getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}

Value slice(OpBuilder &b, Location loc, Value source,
            ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes,
                                        strides);
}

/// A slice of a partial state whose first dimension (the split, size 1) is
/// dropped from the result type.
Value sliceDroppingSplit(OpBuilder &b, Location loc, Value source,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes.drop_front())
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return tensor::ExtractSliceOp::create(b, loc, type, source, offsets, sizes,
                                        strides);
}

/// The state's slices for a tile: acc [b, h, m, Dv], max and sum (and
/// entropy) [b, h, m].
SmallVector<Value> stateSlices(OpBuilder &b, OnlineAttentionOp op,
                               ArrayRef<OpFoldResult> offsets,
                               ArrayRef<OpFoldResult> sizes) {
  Location loc = op.getLoc();
  int64_t dv = op.getValueType().getDimSize(3);
  SmallVector<OpFoldResult> rowOffsets(offsets.take_front(3));
  SmallVector<OpFoldResult> rowSizes(sizes.take_front(3));
  SmallVector<OpFoldResult> accOffsets(rowOffsets), accSizes(rowSizes);
  accOffsets.push_back(b.getIndexAttr(0));
  accSizes.push_back(b.getIndexAttr(dv));
  SmallVector<Value> slices = {
      slice(b, loc, op.getAcc(), accOffsets, accSizes),
      slice(b, loc, op.getMax(), rowOffsets, rowSizes),
      slice(b, loc, op.getSum(), rowOffsets, rowSizes)};
  if (Value entropy = op.getEntropy())
    slices.push_back(slice(b, loc, entropy, rowOffsets, rowSizes));
  return slices;
}

/// The mods of a tile at `offsets` of the op it was cloned from: their b,
/// h, i and j are the tile's own indices, so each gains its offset.
void shiftModIndices(OpBuilder &b, OnlineAttentionOp tile,
                     ArrayRef<OpFoldResult> offsets) {
  for (Region *region : {&tile.getScoreMod(), &tile.getMaskMod()}) {
    if (region->empty())
      continue;
    Block &body = region->front();
    unsigned first = body.getNumArguments() - 4; // b, h, i, j
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&body);
    for (unsigned dim : {kBatchDim, kHeadDim, kRowDim, kKeyDim}) {
      if (isConstantIntValue(offsets[dim], 0))
        continue;
      BlockArgument index = body.getArgument(first + dim);
      Value shifted = arith::AddIOp::create(
          b, tile.getLoc(), index,
          getValueOrCreateConstantIndexOp(b, tile.getLoc(), offsets[dim]));
      index.replaceAllUsesExcept(shifted, shifted.getDefiningOp());
    }
  }
}

/// The tile (offsets, sizes) of `op` with the state `state` (slices of
/// the state operands, or of partial states).
FailureOr<TilingResult> buildTile(OpBuilder &b, OnlineAttentionOp op,
                                  ArrayRef<OpFoldResult> offsets,
                                  ArrayRef<OpFoldResult> sizes,
                                  ValueRange state) {
  Location loc = op.getLoc();
  int64_t group = op.getGroupSize();
  // KV heads of the tile's query heads: head h reads KV head h / group. A
  // tile of one head reads one KV head; a tile of whole groups (a static
  // size that group divides, at offsets that upstream's tiling makes
  // multiples of that size) reads size / group KV heads.
  OpFoldResult kvOffset = offsets[kHeadDim], kvSize = sizes[kHeadDim];
  if (group > 1) {
    std::optional<int64_t> size = getConstantIntValue(sizes[kHeadDim]);
    if (!size || (*size != 1 && *size % group != 0))
      return op.emitOpError()
             << "a grouped-query tile (" << group
             << " query heads per KV head) tiles its heads by 1 or by a "
                "multiple of "
             << group;
    kvOffset = arith::DivUIOp::create(
                   b, loc,
                   getValueOrCreateConstantIndexOp(b, loc, offsets[kHeadDim]),
                   arith::ConstantIndexOp::create(b, loc, group))
                   .getResult();
    if (*size != 1)
      kvSize = b.getIndexAttr(*size / group);
  }
  auto full = [&](Value v, int64_t dim) {
    return tensor::getMixedSize(b, loc, v, dim);
  };
  SmallVector<Operation *> slices;
  auto record = [&](Value v) {
    if (Operation *def = v.getDefiningOp())
      slices.push_back(def);
    return v;
  };

  SmallVector<Value> operands;
  operands.push_back(record(slice(
      b, loc, op.getQuery(),
      {offsets[kBatchDim], offsets[kHeadDim], offsets[kRowDim],
       b.getIndexAttr(0)},
      {sizes[kBatchDim], sizes[kHeadDim], sizes[kRowDim],
       full(op.getQuery(), 3)})));
  for (Value kv : {op.getKey(), op.getValue()})
    operands.push_back(record(slice(
        b, loc, kv,
        {offsets[kBatchDim], kvOffset, offsets[kKeyDim], b.getIndexAttr(0)},
        {sizes[kBatchDim], kvSize, sizes[kKeyDim], full(kv, 3)})));
  // Mask and bias: a broadcast dimension (size 1) stays whole.
  for (Value pairwise : {op.getMask(), op.getBias()}) {
    if (!pairwise)
      continue;
    auto type = cast<RankedTensorType>(pairwise.getType());
    SmallVector<OpFoldResult> o = {offsets[kBatchDim], offsets[kHeadDim],
                                   offsets[kRowDim], offsets[kKeyDim]};
    SmallVector<OpFoldResult> s = {sizes[kBatchDim], sizes[kHeadDim],
                                   sizes[kRowDim], sizes[kKeyDim]};
    for (unsigned d : {kBatchDim, kHeadDim})
      if (type.getDimSize(d) == 1) {
        o[d] = b.getIndexAttr(0);
        s[d] = b.getIndexAttr(1);
      }
    operands.push_back(record(slice(b, loc, pairwise, o, s)));
  }
  // Quantized K/V scales follow their keys: i8's [B, Hkv, N] like k, and
  // f8E4M3FN's [Hkv] by KV head.
  for (auto [kv, scales] : {std::pair<Value, Value>{op.getKey(), op.getKScale()},
                            {op.getValue(), op.getVScale()}}) {
    if (!scales)
      continue;
    if (cast<RankedTensorType>(kv.getType()).getElementType().isInteger(8))
      operands.push_back(record(slice(
          b, loc, scales, {offsets[kBatchDim], kvOffset, offsets[kKeyDim]},
          {sizes[kBatchDim], kvSize, sizes[kKeyDim]})));
    else
      operands.push_back(record(slice(b, loc, scales, {kvOffset}, {kvSize})));
  }
  operands.push_back(getValueOrCreateConstantIndexOp(
      b, loc, addIndex(b, loc, op.getQueryPosition(), offsets[kRowDim])));
  operands.push_back(getValueOrCreateConstantIndexOp(
      b, loc, addIndex(b, loc, op.getKeyPosition(), offsets[kKeyDim])));
  for (Value s : state)
    operands.push_back(record(s));

  // The op with the tile's operands and its mods (mlir::clone does not
  // clone regions into an op that is not built yet).
  OperationState tileState(loc, op->getName(), operands,
                           ValueRange(state).getTypes(), op->getAttrs());
  for (unsigned r = 0; r < op->getNumRegions(); ++r)
    tileState.addRegion();
  Operation *tiled = b.create(tileState);
  IRMapping mapping;
  for (unsigned r = 0; r < op->getNumRegions(); ++r)
    op->getRegion(r).cloneInto(&tiled->getRegion(r), mapping);
  shiftModIndices(b, cast<OnlineAttentionOp>(tiled), offsets);
  return TilingResult{{tiled}, SmallVector<Value>(tiled->getResults()), slices};
}

struct OnlineAttentionTilingModel
    : public TilingInterface::ExternalModel<OnlineAttentionTilingModel,
                                            OnlineAttentionOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    return {utils::IteratorType::parallel, utils::IteratorType::parallel,
            utils::IteratorType::parallel, utils::IteratorType::reduction};
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto tile = cast<OnlineAttentionOp>(op);
    Location loc = op->getLoc();
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    SmallVector<OpFoldResult> q = tensor::getMixedSizes(b, loc, tile.getQuery());
    return {{zero, q[0], one},
            {zero, q[1], one},
            {zero, q[2], one},
            {zero, tensor::getMixedSize(b, loc, tile.getKey(), 2), one}};
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto tile = cast<OnlineAttentionOp>(op);
    return buildTile(b, tile, offsets, sizes,
                     stateSlices(b, tile, offsets, sizes));
  }

  LogicalResult
  getResultTilePosition(Operation *op, OpBuilder &b, unsigned resultNumber,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes,
                        SmallVector<OpFoldResult> &resultOffsets,
                        SmallVector<OpFoldResult> &resultSizes) const {
    resultOffsets.assign(offsets.begin(), offsets.begin() + 3);
    resultSizes.assign(sizes.begin(), sizes.begin() + 3);
    if (resultNumber == 0) {
      resultOffsets.push_back(b.getIndexAttr(0));
      resultSizes.push_back(b.getIndexAttr(
          cast<OnlineAttentionOp>(op).getValueType().getDimSize(3)));
    }
    return success();
  }
};

/// Partial states carry the split as their first dimension: acc
/// [S, B, Hq, M, Dv], max and sum [S, B, Hq, M]. First, not last: a
/// rank-reducing slice drops the first unit dimensions it can, and MLIR 22's
/// slice folders rebuild the sizes that way, so a trailing split dimension
/// next to unit rows was misplaced once sizes folded to 1.
struct OnlineAttentionPartialReductionModel
    : public PartialReductionOpInterface::ExternalModel<
          OnlineAttentionPartialReductionModel, OnlineAttentionOp> {
  static LogicalResult checkSplit(OnlineAttentionOp op,
                                  const SetVector<unsigned> &reductionDims) {
    if (reductionDims.size() != 1 || reductionDims.front() != kKeyDim)
      return op.emitOpError() << "splits only its keys (iteration dimension "
                              << kKeyDim << ")";
    return success();
  }

  FailureOr<SmallVector<Value>> generateInitialTensorForPartialReduction(
      Operation *op, OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
      const SetVector<unsigned> &reductionDims) const {
    auto tile = cast<OnlineAttentionOp>(op);
    if (failed(checkSplit(tile, reductionDims)))
      return failure();
    AttentionProblem problem = AttentionProblem::get(op);
    AttentionAlgebra algebra(b, loc, problem);
    SmallVector<OpFoldResult> rows = {sizes[kKeyDim]};
    rows.append(sizes.begin(), sizes.begin() + 3);
    SmallVector<OpFoldResult> accShape(rows);
    accShape.push_back(b.getIndexAttr(tile.getValueType().getDimSize(3)));
    auto filled = [&](ArrayRef<OpFoldResult> shape, double v) -> Value {
      Value empty = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
      Value c = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
      return linalg::FillOp::create(b, loc, c, empty).getResult(0);
    };
    SmallVector<Value> partial = {filled(accShape, 0.0),
                                  filled(rows, algebra.initialMax()),
                                  filled(rows, 0.0)};
    if (tile.getEntropy())
      partial.push_back(filled(rows, 0.0));
    return partial;
  }

  FailureOr<TilingResult>
  tileToPartialReduction(Operation *op, OpBuilder &b, Location loc,
                         ReductionTilingStrategy strategy, ValueRange init,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes,
                         const SetVector<unsigned> &reductionDims,
                         ArrayRef<OpFoldResult> splitIvs) const {
    auto tile = cast<OnlineAttentionOp>(op);
    if (failed(checkSplit(tile, reductionDims)))
      return failure();
    if (strategy != ReductionTilingStrategy::PartialReductionOuterParallel)
      return tile.emitOpError()
             << "splits its keys only as outer-parallel partial reductions "
                "(each split's keys are one state's)";
    SmallVector<Value> state;
    for (unsigned r = 0; r < init.size(); ++r) {
      SmallVector<OpFoldResult> o, s;
      partialPosition(b, tile, r, offsets, sizes, splitIvs, o, s);
      state.push_back(sliceDroppingSplit(b, loc, init[r], o, s));
    }
    return buildTile(b, tile, offsets, sizes, state);
  }

  FailureOr<MergeResult>
  mergeReductions(Operation *op, OpBuilder &b, Location loc,
                  ValueRange partial,
                  const SetVector<unsigned> &reductionDims) const {
    auto tile = cast<OnlineAttentionOp>(op);
    if (failed(checkSplit(tile, reductionDims)))
      return failure();
    AttentionProblem problem = AttentionProblem::get(op);
    auto par = utils::IteratorType::parallel;
    auto red = utils::IteratorType::reduction;
    MLIRContext *ctx = b.getContext();
    // Maps over (b, h, m, [e,] s).
    auto map = [&](unsigned dims, ArrayRef<unsigned> results) {
      SmallVector<AffineExpr> exprs;
      for (unsigned d : results)
        exprs.push_back(getAffineDimExpr(d, ctx));
      return AffineMap::get(dims, 0, exprs, ctx);
    };
    SmallVector<Operation *> mergeOps;
    auto generic = [&](ValueRange ins, Value out, ArrayRef<AffineMap> maps,
                       ArrayRef<utils::IteratorType> iters,
                       function_ref<Value(OpBuilder &, Location, ValueRange)>
                           body) {
      auto g = linalg::GenericOp::create(
          b, loc, TypeRange{out.getType()}, ins, ValueRange{out}, maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            linalg::YieldOp::create(nb, nl, body(nb, nl, args));
          });
      mergeOps.push_back(g);
      return g.getResult(0);
    };

    // The merged maximum over the initial state (the running value) and the
    // splits.
    bool tracksMax = problem.score.tracksRowMax();
    Value mMax = generic(
        partial[1], tile.getMax(), {map(4, {3, 0, 1, 2}), map(4, {0, 1, 2})},
        {par, par, par, red},
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return AttentionAlgebra(nb, nl, problem)
              .mergedMax({args[1], args[0]});
        });
    // acc and sum: the initial state's, then each split's, each times its
    // factor.
    auto merge = [&](Value initial, Value parts, bool hasValueDim) {
      unsigned rank = hasValueDim ? 4 : 3;
      SmallVector<unsigned> all = {0, 1, 2};
      if (hasValueDim)
        all.push_back(3);
      SmallVector<utils::IteratorType> iters(rank, par);
      // Kernel scores weigh every state by 1: the initial state as it is.
      Value scaled = !tracksMax ? initial : generic(
          {tile.getMax(), mMax}, initial,
          {map(rank, {0, 1, 2}), map(rank, {0, 1, 2}), map(rank, all)}, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            AttentionAlgebra algebra(nb, nl, problem);
            return arith::MulFOp::create(
                nb, nl, args[2], algebra.mergeFactor(args[0], args[1]));
          });
      SmallVector<unsigned> withSplit = {rank};
      withSplit.append(all.begin(), all.end());
      iters.push_back(red);
      return generic(
          {parts, partial[1], mMax}, scaled,
          {map(rank + 1, withSplit), map(rank + 1, {rank, 0, 1, 2}),
           map(rank + 1, {0, 1, 2}), map(rank + 1, all)},
          iters, [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            AttentionAlgebra algebra(nb, nl, problem);
            Value term = arith::MulFOp::create(
                nb, nl, args[0], algebra.mergeFactor(args[1], args[2]));
            return arith::AddFOp::create(nb, nl, args[3], term);
          });
    };
    Value acc = merge(tile.getAcc(), partial[0], /*hasValueDim=*/true);
    Value sum = merge(tile.getSum(), partial[2], /*hasValueDim=*/false);
    if (!tile.getEntropy())
      return MergeResult{mergeOps, {acc, mMax, sum}};
    // The entropy part: each state's relative to the merged maximum, times
    // its factor (AttentionAlgebra::mergedEntropy, one state at a time).
    SmallVector<unsigned> rows = {0, 1, 2};
    Value initial = generic(
        {tile.getMax(), tile.getSum(), mMax}, tile.getEntropy(),
        {map(3, rows), map(3, rows), map(3, rows), map(3, rows)},
        {par, par, par},
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          AttentionAlgebra algebra(nb, nl, problem);
          return arith::MulFOp::create(
              nb, nl, algebra.mergeFactor(args[0], args[2]),
              algebra.entropyRelativeTo(args[3], args[1], args[0], args[2]));
        });
    Value entropy = generic(
        {partial[3], partial[1], partial[2], mMax}, initial,
        {map(4, {3, 0, 1, 2}), map(4, {3, 0, 1, 2}), map(4, {3, 0, 1, 2}),
         map(4, rows), map(4, rows)},
        {par, par, par, red},
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          AttentionAlgebra algebra(nb, nl, problem);
          Value term = arith::MulFOp::create(
              nb, nl, algebra.mergeFactor(args[1], args[3]),
              algebra.entropyRelativeTo(args[0], args[2], args[1], args[3]));
          return arith::AddFOp::create(nb, nl, args[4], term);
        });
    return MergeResult{mergeOps, {acc, mMax, sum, entropy}};
  }

  static void partialPosition(OpBuilder &b, OnlineAttentionOp op,
                              unsigned resultNumber,
                              ArrayRef<OpFoldResult> offsets,
                              ArrayRef<OpFoldResult> sizes,
                              ArrayRef<OpFoldResult> splitIvs,
                              SmallVector<OpFoldResult> &resultOffsets,
                              SmallVector<OpFoldResult> &resultSizes) {
    resultOffsets = {splitIvs.front()};
    resultSizes = {b.getIndexAttr(1)};
    resultOffsets.append(offsets.begin(), offsets.begin() + 3);
    resultSizes.append(sizes.begin(), sizes.begin() + 3);
    if (resultNumber == 0) {
      resultOffsets.push_back(b.getIndexAttr(0));
      resultSizes.push_back(
          b.getIndexAttr(op.getValueType().getDimSize(3)));
    }
  }

  LogicalResult getPartialResultTilePosition(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ReductionTilingStrategy strategy, ArrayRef<OpFoldResult> offsets,
      ArrayRef<OpFoldResult> sizes, const SetVector<unsigned> &reductionDims,
      ArrayRef<OpFoldResult> splitIvs,
      SmallVector<OpFoldResult> &resultOffsets,
      SmallVector<OpFoldResult> &resultSizes) const {
    auto tile = cast<OnlineAttentionOp>(op);
    if (failed(checkSplit(tile, reductionDims)) ||
        strategy != ReductionTilingStrategy::PartialReductionOuterParallel)
      return failure();
    partialPosition(b, tile, resultNumber, offsets, sizes, splitIvs,
                    resultOffsets, resultSizes);
    return success();
  }
};

} // namespace

void mlir::attn::registerOnlineAttentionTilingInterface(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    OnlineAttentionOp::attachInterface<OnlineAttentionTilingModel,
                                       OnlineAttentionPartialReductionModel>(
        *ctx);
  });
}
