//===- ConvertOnlineAttentionToLinalg.cpp - The tile op as linalg ---------===//
//
// attn-convert-online-attention-to-linalg: each attn.online_attention
// becomes linalg.generic ops on tensors, and each attn.finalize and
// attn.merge_states one or two more. The math is AttentionAlgebra's and the
// allowed-key rule AllowedKeyRule.h's, as in every other kernel; what this
// lowering adds is only where the values live (tensors of the tile's
// scores, weights and rows).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/FlashKernel.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Strategies/Common/QuantizedKV.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

#define DEBUG_TYPE "attn-convert-online-attention-to-linalg"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTONLINEATTENTIONTOLINALG
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// Builds the linalg form of one tile op.
class TileLowering {
public:
  TileLowering(RewriterBase &rewriter, OnlineAttentionOp op)
      : b(rewriter), loc(op.getLoc()), op(op),
        p(AttentionProblem::get(op)) {}

  SmallVector<Value> build();

private:
  AffineMap map(unsigned dims, ArrayRef<AffineExpr> results) {
    return AffineMap::get(dims, 0, results, b.getContext());
  }
  AffineExpr dim(unsigned d) { return b.getAffineDimExpr(d); }
  /// A tensor of the rows' shape [B, Hq, M] plus `extra` sizes, f32 unless
  /// `elementType` says otherwise.
  Value empty(ArrayRef<OpFoldResult> extra, Type elementType = {}) {
    SmallVector<OpFoldResult> shape = {sizeOf(op.getQuery(), 0),
                                       sizeOf(op.getQuery(), 1),
                                       sizeOf(op.getQuery(), 2)};
    shape.append(extra.begin(), extra.end());
    return tensor::EmptyOp::create(b, loc, shape,
                                   elementType ? elementType : b.getF32Type());
  }
  Value filled(Value tensor, double v) {
    Value c = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
    return linalg::FillOp::create(b, loc, c, tensor).getResult(0);
  }
  OpFoldResult sizeOf(Value v, int64_t d) {
    return tensor::getMixedSize(b, loc, v, d);
  }
  Value toF32(OpBuilder &nb, Location nl, Value x) {
    return x.getType().isF32() ? x
                               : arith::ExtFOp::create(nb, nl,
                                                       nb.getF32Type(), x)
                                     .getResult();
  }
  /// The map of a [Bx, Hx, M, N] operand (mask, bias) in loops
  /// (b, h, m, n): broadcast dimensions read index 0.
  AffineMap pairwiseMap(Value operand) {
    auto type = cast<RankedTensorType>(operand.getType());
    AffineExpr zero = b.getAffineConstantExpr(0);
    return map(4, {type.getDimSize(0) == 1 ? zero : dim(0),
                   type.getDimSize(1) == 1 ? zero : dim(1), dim(2), dim(3)});
  }
  Value generic(TypeRange results, ValueRange ins, ValueRange outs,
                ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators,
                function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                ValueRange)>
                    body,
                SmallVector<Value> *all = nullptr) {
    auto g = linalg::GenericOp::create(
        b, loc, results, ins, outs, maps, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, body(nb, nl, args));
        });
    if (all)
      all->assign(g.getResults().begin(), g.getResults().end());
    return g.getResult(0);
  }

  RewriterBase &b;
  Location loc;
  OnlineAttentionOp op;
  AttentionProblem p;
};

SmallVector<Value> TileLowering::build() {
  auto par = utils::IteratorType::parallel;
  auto red = utils::IteratorType::reduction;
  int64_t group = p.groupSize();
  bool tracksMax = p.score.tracksRowMax();
  OpFoldResult keys = sizeOf(op.getKey(), 2);
  // Quantized K/V: f32 copies of the tile's keys and values.
  Value key = p.keyScale ? dequantizeToTensor(b, loc, op.getKey(), p.keyScale,
                                              b.getF32Type())
                         : op.getKey();
  Value value = p.valueScale
                    ? dequantizeToTensor(b, loc, op.getValue(), p.valueScale,
                                         b.getF32Type())
                    : op.getValue();
  AttentionAlgebra algebra0(b, loc, p);
  double scoreScale = algebra0.scoreScale();

  // q.k over (b, h, m, n, d), in f32; phi(scale q) . phi(k) for the scores
  // that are feature products (scoreScale is 1 then).
  const ScoreFunction *featureProduct =
      p.score.isFeatureProduct() ? p.score.getFunction() : nullptr;
  float featureScale = p.scale;
  Value dotsInit = filled(empty({keys}), 0.0);
  Value dots = generic(
      dotsInit.getType(), ValueRange{op.getQuery(), key},
      ValueRange{dotsInit},
      {map(5, {dim(0), dim(1), dim(2), dim(4)}),
       map(5, {dim(0), dim(1).floorDiv(group), dim(3), dim(4)}),
       map(5, {dim(0), dim(1), dim(2), dim(3)})},
      {par, par, par, par, red},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        Value q = toF32(nb, nl, a[0]), k = toF32(nb, nl, a[1]);
        if (featureProduct) {
          q = featureProduct->featureMap(
              nb, nl,
              arith::MulFOp::create(
                  nb, nl, q,
                  arith::ConstantOp::create(nb, nl,
                                            nb.getF32FloatAttr(featureScale))));
          k = featureProduct->featureMap(nb, nl, k);
        }
        Value prod = arith::MulFOp::create(nb, nl, q, k);
        return {arith::AddFOp::create(nb, nl, a[2], prod)};
      });

  // Finished scores, and the rules: a key that is not allowed scores -inf
  // (weight 0 for kernel scores, whose finished score is the weight). Where
  // a rule applies, which keys are allowed is kept as an i1 tensor beside
  // the scores: P V skips the others, so that a value a row may not see
  // never reaches it (0 * NaN), while an allowed key of weight 0 is read.
  Value scores, allowedKeys;
  bool hasRules = p.mask || p.causal || p.hasWindow || p.maskMod;
  {
    SmallVector<Value> ins = {dots};
    AffineMap id4 = b.getMultiDimIdentityMap(4);
    SmallVector<AffineMap> maps = {id4};
    if (p.mask) {
      ins.push_back(p.mask);
      maps.push_back(pairwiseMap(p.mask));
    }
    if (p.bias) {
      ins.push_back(p.bias);
      maps.push_back(pairwiseMap(p.bias));
    }
    maps.push_back(id4);
    SmallVector<Value> outs = {empty({keys})};
    if (hasRules) {
      outs.push_back(empty({keys}, b.getI1Type()));
      maps.push_back(id4);
    }
    Value queryPosition = op.getQueryPosition();
    Value keyPosition = op.getKeyPosition();
    SmallVector<Value> results;
    scores = generic(
        ValueRange(outs).getTypes(), ins, outs, maps, {par, par, par, par},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          AttentionAlgebra algebra(nb, nl, p);
          Value s = arith::MulFOp::create(
              nb, nl, a[0],
              arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(scoreScale)));
          unsigned next = 1;
          Value allowed = p.mask ? a[next++] : Value();
          Value bias = p.bias ? toF32(nb, nl, a[next++]) : Value();
          // The tile's indices (b and h only for its mods, which apply
          // there).
          SmallVector<Value> tileIndex(4);
          for (unsigned dim = 0; dim < 4; ++dim)
            if (dim >= 2 || p.scoreMod || p.maskMod)
              tileIndex[dim] = linalg::IndexOp::create(nb, nl, dim);
          auto scoreMod = [&](Value x) {
            return applyScoreMod(nb, nl, p, x, tileIndex[0], tileIndex[1],
                                 {tileIndex[2], tileIndex[3]});
          };
          s = algebra.finishScore(
              s, bias,
              p.scoreMod ? function_ref<Value(Value)>(scoreMod) : nullptr);
          RuleArith d(nb, nl);
          Value i = d.add(tileIndex[2], queryPosition);
          Value j = d.add(tileIndex[3], keyPosition);
          // Positions are aligned already: the rule's Lk - Lq is 0 here.
          Value band = rule::bandAllowed(d, p, i, j, d.c(0), d.c(0));
          allowed = band ? (allowed ? d.both(allowed, band) : band) : allowed;
          allowed = applyMaskMod(nb, nl, p, allowed, tileIndex[0], tileIndex[1],
                                 {tileIndex[2], tileIndex[3]});
          if (!hasRules)
            return {s};
          if (!allowed)
            allowed = arith::ConstantIntOp::create(nb, nl, 1, 1);
          Value masked = arith::ConstantOp::create(
              nb, nl, nb.getF32FloatAttr(tracksMax ? kNegInf : 0.0));
          return {arith::SelectOp::create(nb, nl, allowed, s, masked), allowed};
        },
        &results);
    if (hasRules)
      allowedKeys = results[1];
  }

  // The state's new maximum and the factor of the old acc and sum.
  Value mNew = op.getMax(), mSafe, alpha;
  if (tracksMax) {
    Value maxInit = filled(empty({}), kNegInf);
    Value tileMax = generic(
        maxInit.getType(), ValueRange{scores}, ValueRange{maxInit},
        {b.getMultiDimIdentityMap(4), map(4, {dim(0), dim(1), dim(2)})},
        {par, par, par, red},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          return {arith::MaximumFOp::create(nb, nl, a[0], a[1])};
        });
    // The new maximum goes where the old one was (outs, read through its
    // block argument), so that a loop carrying the state updates it in
    // place.
    AffineMap id3 = b.getMultiDimIdentityMap(3);
    SmallVector<Value> updated;
    Value e = empty({});
    generic(
        TypeRange{op.getMax().getType(), e.getType(), e.getType()},
        ValueRange{tileMax}, ValueRange{op.getMax(), e, e},
        {id3, id3, id3, id3}, {par, par, par},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          AttentionAlgebra algebra(nb, nl, p);
          AttentionAlgebra::MaxUpdate u = algebra.updateMax(a[1], a[0]);
          return {u.mNew, u.mSafe, algebra.rescaleFactor(a[1], u.mSafe)};
        },
        &updated);
    mNew = updated[0];
    mSafe = updated[1];
    alpha = updated[2];
  }

  // Weights.
  Value weights = scores;
  if (tracksMax) {
    Value out = empty({keys});
    weights = generic(
        out.getType(), ValueRange{scores, mSafe}, ValueRange{out},
        {b.getMultiDimIdentityMap(4), map(4, {dim(0), dim(1), dim(2)}),
         b.getMultiDimIdentityMap(4)},
        {par, par, par, par},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          AttentionAlgebra algebra(nb, nl, p);
          Value w = algebra.weight(a[0], a[1]);
          // A key that is not allowed weighs 0 whatever the score function
          // makes of -inf.
          Value none = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OEQ, a[0],
              arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(kNegInf)));
          return {arith::SelectOp::create(
              nb, nl, none,
              arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0)), w)};
        });
  }

  // The old sum and acc times alpha, plus this tile's weights and rows.
  auto rescaled = [&](Value old, unsigned rank) -> Value {
    if (!alpha)
      return old;
    SmallVector<AffineExpr> rows = {dim(0), dim(1), dim(2)};
    return generic(
        old.getType(), ValueRange{alpha}, ValueRange{old},
        {map(rank, rows), b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, par),
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          return {arith::MulFOp::create(nb, nl, a[1], a[0])};
        });
  };
  Value sum = generic(
      op.getSum().getType(), ValueRange{weights},
      ValueRange{rescaled(op.getSum(), 3)},
      {b.getMultiDimIdentityMap(4), map(4, {dim(0), dim(1), dim(2)})},
      {par, par, par, red},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        return {arith::AddFOp::create(nb, nl, a[1], a[0])};
      });
  // acc over (b, h, m, e, n), over the allowed keys.
  SmallVector<Value> accIns = {weights, value};
  SmallVector<AffineMap> accMaps = {
      map(5, {dim(0), dim(1), dim(2), dim(4)}),
      map(5, {dim(0), dim(1).floorDiv(group), dim(4), dim(3)})};
  if (allowedKeys) {
    accIns.push_back(allowedKeys);
    accMaps.push_back(map(5, {dim(0), dim(1), dim(2), dim(4)}));
  }
  accMaps.push_back(map(5, {dim(0), dim(1), dim(2), dim(3)}));
  Value acc = generic(
      op.getAcc().getType(), accIns, ValueRange{rescaled(op.getAcc(), 4)},
      accMaps, {par, par, par, par, red},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        Value prod =
            arith::MulFOp::create(nb, nl, a[0], toF32(nb, nl, a[1]));
        Value sum = arith::AddFOp::create(nb, nl, a.back(), prod);
        if (!allowedKeys)
          return {sum};
        return {arith::SelectOp::create(nb, nl, a[2], sum, a.back())};
      });
  if (!op.getEntropy())
    return {acc, mNew, sum};
  // The entropy part: the old t moved to the new maximum (from the old sum
  // and max), plus this tile's terms.
  Value t = op.getEntropy();
  AffineMap id3 = b.getMultiDimIdentityMap(3);
  if (tracksMax)
    t = generic(
        t.getType(), ValueRange{op.getSum(), op.getMax(), mSafe, alpha},
        ValueRange{t}, {id3, id3, id3, id3, id3}, {par, par, par},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          AttentionAlgebra algebra(nb, nl, p);
          return {algebra.rescaleEntropy(a[4], a[0], a[1], a[2], a[3])};
        });
  SmallVector<Value> termIns = {scores, weights};
  SmallVector<AffineMap> termMaps = {b.getMultiDimIdentityMap(4),
                                     b.getMultiDimIdentityMap(4)};
  if (mSafe) {
    termIns.push_back(mSafe);
    termMaps.push_back(map(4, {dim(0), dim(1), dim(2)}));
  }
  termMaps.push_back(map(4, {dim(0), dim(1), dim(2)}));
  Value entropy = generic(
      t.getType(), termIns, ValueRange{t}, termMaps, {par, par, par, red},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        AttentionAlgebra algebra(nb, nl, p);
        Value reference =
            mSafe ? a[2]
                  : arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0))
                        .getResult();
        return {arith::AddFOp::create(
            nb, nl, a.back(), algebra.entropyTerm(a[0], a[1], reference))};
      });
  return {acc, mNew, sum, entropy};
}

/// A statistic of a finalize's rows into `init`, one linalg.generic over
/// [B, Hq, M]: the LSE (AttentionAlgebra::logSumExp) or, with `entropySum`,
/// the entropy (AttentionAlgebra::entropy).
Value lowerFinalizeRows(RewriterBase &b, FinalizeOp op,
                        const AttentionProblem &p, Value init,
                        Value entropySum = Value()) {
  Location loc = op.getLoc();
  AffineMap id3 = b.getMultiDimIdentityMap(3);
  SmallVector<Value> ins = {op.getSum(), op.getMax()};
  if (entropySum)
    ins.push_back(entropySum);
  SmallVector<AffineMap> maps(ins.size(), id3);
  if (p.sinkLogits) {
    ins.push_back(p.sinkLogits);
    maps.push_back(
        AffineMap::get(3, 0, {b.getAffineDimExpr(1)}, b.getContext()));
  }
  maps.push_back(id3);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        AttentionAlgebra algebra(nb, nl, p);
        Value l = a[0], m = a[1];
        Value sinkWeight = p.sinkLogits
                               ? algebra.sinkWeight(a[entropySum ? 3 : 2], m)
                               : Value();
        linalg::YieldOp::create(nb, nl,
                                entropySum
                                    ? algebra.entropy(a[2], l, sinkWeight)
                                    : algebra.logSumExp(m, l, sinkWeight));
      });
  return generic.getResult(0);
}

/// attn.finalize as one linalg.generic (AttentionAlgebra::epilogue): in
/// place into acc when the result is f32, else into init; and its LSE and
/// entropy.
SmallVector<Value> lowerFinalize(RewriterBase &b, FinalizeOp op) {
  AttentionProblem p = AttentionProblem::get(op);
  Location loc = op.getLoc();
  AffineMap id4 = b.getMultiDimIdentityMap(4);
  AffineMap rows = AffineMap::get(
      4, 0, {b.getAffineDimExpr(0), b.getAffineDimExpr(1), b.getAffineDimExpr(2)},
      b.getContext());
  Type outElem = p.elementType;
  bool inPlace = op.getAcc().getType() == op.getInit().getType();
  // Inputs: (acc unless in place), sum, (max, sink logit); output acc in
  // place or init.
  SmallVector<Value> ins = {op.getSum()};
  SmallVector<AffineMap> maps = {rows};
  if (!inPlace) {
    ins.insert(ins.begin(), op.getAcc());
    maps.insert(maps.begin(), id4);
  }
  if (p.sinkLogits) {
    ins.append({op.getMax(), p.sinkLogits});
    maps.append(
        {rows, AffineMap::get(4, 0, {b.getAffineDimExpr(1)}, b.getContext())});
  }
  maps.push_back(id4);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{op.getResult().getType()}, ins,
      ValueRange{inPlace ? op.getAcc() : op.getInit()}, maps,
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        AttentionAlgebra algebra(nb, nl, p);
        unsigned next = 0;
        Value o = inPlace ? Value() : a[next++];
        Value l = a[next++];
        Value sinkWeight;
        if (p.sinkLogits) {
          Value m = a[next++];
          sinkWeight = algebra.sinkWeight(a[next++], m);
        }
        if (inPlace)
          o = a.back();
        linalg::YieldOp::create(nb, nl,
                                algebra.epilogue(o, l, outElem, sinkWeight));
      });
  SmallVector<Value> results = {generic.getResult(0)};
  if (op.getLseInit())
    results.push_back(lowerFinalizeRows(b, op, p, op.getLseInit()));
  if (op.getEntropyInit())
    results.push_back(
        lowerFinalizeRows(b, op, p, op.getEntropyInit(), op.getEntropySum()));
  return results;
}

/// attn.merge_states as two linalg.generic ops. The first, over the rows,
/// yields the merged LSE, the merged entropy, l and each state's factor
/// (AttentionAlgebra::mergeNormalized); the second weighs the O_k by them
/// and divides by l (epilogue), so each row's exponentials are taken once,
/// not once per element of Dv.
SmallVector<Value> lowerMergeStates(RewriterBase &b, MergeStatesOp op) {
  AttentionProblem p = AttentionProblem::get(op);
  Location loc = op.getLoc();
  auto outType = cast<RankedTensorType>(op.getOutInit().getType());
  int64_t rank = outType.getRank();
  unsigned states = op.getNumStates();
  bool withEntropy = bool(op.getEntropyInit());
  AffineMap all = b.getMultiDimIdentityMap(rank);
  // (Not getMajorSubMap: it gives a null map for rank 1, whose rows are 0-d.)
  AffineMap rowsOfAll = AffineMap::get(rank, 0, all.getResults().drop_back(),
                                       b.getContext());
  AffineMap rows = b.getMultiDimIdentityMap(rank - 1);

  // Rows: LSE, the entropy, l and the states' factors.
  SmallVector<Value> rowIns, rowOuts = {op.getLseInit()};
  for (unsigned k = 0; k < states; ++k)
    rowIns.push_back(op.getStateLse(k));
  for (unsigned k = 0; withEntropy && k < states; ++k)
    rowIns.push_back(op.getStateEntropy(k));
  if (withEntropy)
    rowOuts.push_back(op.getEntropyInit());
  unsigned firstScratch = rowOuts.size();
  SmallVector<OpFoldResult> rowSizes =
      tensor::getMixedSizes(b, loc, op.getLseInit());
  for (unsigned k = 0; k <= states; ++k)
    rowOuts.push_back(
        tensor::EmptyOp::create(b, loc, rowSizes, b.getF32Type()));
  auto merged = linalg::GenericOp::create(
      b, loc, ValueRange(rowOuts).getTypes(), rowIns, rowOuts,
      SmallVector<AffineMap>(rowIns.size() + rowOuts.size(), rows),
      SmallVector<utils::IteratorType>(rank - 1, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        AttentionAlgebra algebra(nb, nl, p);
        SmallVector<Value> lses(a.take_front(states)), entropies;
        if (withEntropy)
          entropies.assign(a.begin() + states, a.begin() + 2 * states);
        AttentionAlgebra::MergedRow row =
            algebra.mergeNormalized(lses, entropies);
        SmallVector<Value> yields = {row.lse};
        if (withEntropy)
          yields.push_back(row.entropy);
        yields.push_back(row.l);
        llvm::append_range(yields, row.factors);
        linalg::YieldOp::create(nb, nl, yields);
      });

  // Elements: sum_k f_k O_k / l.
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  for (unsigned k = 0; k < states; ++k) {
    ins.push_back(op.getStateOutput(k));
    maps.push_back(all);
  }
  for (unsigned k = firstScratch; k <= firstScratch + states; ++k) {
    ins.push_back(merged.getResult(k));
    maps.push_back(rowsOfAll);
  }
  maps.push_back(all);
  Type outElem = outType.getElementType();
  auto output = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ins, ValueRange{op.getOutInit()}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        AttentionAlgebra algebra(nb, nl, p);
        SmallVector<Value> os;
        for (Value o : a.take_front(states))
          os.push_back(getElementTypeOrSelf(o.getType()).isF32()
                           ? o
                           : arith::ExtFOp::create(nb, nl, nb.getF32Type(), o)
                                 .getResult());
        Value l = a[states];
        SmallVector<Value> factors(a.slice(states + 1, states));
        linalg::YieldOp::create(
            nb, nl,
            algebra.epilogue(algebra.weightedSum(factors, os), l, outElem));
      });
  SmallVector<Value> results = {output.getResult(0), merged.getResult(0)};
  if (withEntropy)
    results.push_back(merged.getResult(1));
  return results;
}

struct ConvertOnlineAttentionToLinalgPass
    : mlir::attn::impl::AttnConvertOnlineAttentionToLinalgBase<
          ConvertOnlineAttentionToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<OnlineAttentionOp> tiles;
    getOperation()->walk([&](OnlineAttentionOp op) { tiles.push_back(op); });
    // A target's configuration on a tile op is for that target's lowering:
    // lowering the op here would drop it unseen.
    for (OnlineAttentionOp op : tiles)
      for (StringRef name : {kCpuKernelAttrName, kGpuKernelAttrName})
        if (op->hasAttr(name)) {
          op.emitOpError()
              << "carries " << name << ", a configuration for "
              << (name == kCpuKernelAttrName
                      ? "attn-convert-online-attention-to-cpu-vector"
                      : "attn-convert-online-attention-to-gpu")
              << ", which did not run before the portable lowering";
          return signalPassFailure();
        }
    IRRewriter rewriter(&getContext());
    for (OnlineAttentionOp op : tiles) {
      rewriter.setInsertionPoint(op);
      ATTN_DEBUG(ATTN_DBGS() << "lowering " << op.getQueryType() << " x "
                             << op.getKeyType() << " tile to linalg\n");
      SmallVector<Value> state = TileLowering(rewriter, op).build();
      rewriter.replaceOp(op, state);
    }
    SmallVector<FinalizeOp> finals;
    getOperation()->walk([&](FinalizeOp op) { finals.push_back(op); });
    for (FinalizeOp op : finals) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, lowerFinalize(rewriter, op));
    }
    SmallVector<MergeStatesOp> merges;
    getOperation()->walk([&](MergeStatesOp op) { merges.push_back(op); });
    for (MergeStatesOp op : merges) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, lowerMergeStates(rewriter, op));
    }
  }
};

} // namespace
