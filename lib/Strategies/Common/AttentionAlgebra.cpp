//===- AttentionAlgebra.cpp - The tile-level math of attention ------------===//
//
// See AttentionAlgebra.h: scores, the online update, the merge of states and
// the epilogue, on f32 scalars and vectors alike.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/AttentionAlgebra.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {
constexpr double kLog2E = 1.4426950408889634;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
} // namespace

Value AttentionAlgebra::constant(Value like, double v) {
  return constantLike(b, loc, like, v);
}

bool AttentionAlgebra::tracksMax() const { return p.score.tracksRowMax(); }

/// Whether something comes between the scale and the weight: then the
/// log2(e) of softmax cannot be folded into the scale.
static bool hasScoreOps(const AttentionProblem &p) {
  return !p.score.isFeatureProduct() && (p.bias || p.softcap || p.scoreMod);
}

double AttentionAlgebra::scoreScale() const {
  if (p.score.isFeatureProduct())
    return 1.0;
  if (p.score.getFunction()->scoresInLog2Domain() && !hasScoreOps(p))
    return p.scale * kLog2E;
  return p.scale;
}

Value AttentionAlgebra::finishScore(Value s, Value bias,
                                    function_ref<Value(Value)> scoreMod) {
  if (bias)
    s = arith::AddFOp::create(b, loc, s, bias);
  s = softcap(s).first;
  if (scoreMod)
    s = scoreMod(s);
  const ScoreFunction &fn = *p.score.getFunction();
  if (fn.scoresInLog2Domain() && hasScoreOps(p))
    s = arith::MulFOp::create(b, loc, s, constant(s, kLog2E));
  // Without a running maximum the weight is a function of the score alone:
  // the finished score is the weight.
  if (!tracksMax())
    s = fn.weight(b, loc, s, Value());
  return s;
}

std::pair<Value, Value> AttentionAlgebra::softcap(Value x, bool derivative) {
  if (!p.softcap)
    return {x, Value()};
  // cap tanh(x / cap), with the division as a multiplication.
  Value t = math::TanhOp::create(
      b, loc, arith::MulFOp::create(b, loc, x, constant(x, 1.0 / *p.softcap)));
  Value capped = arith::MulFOp::create(b, loc, constant(x, *p.softcap), t);
  if (!derivative)
    return {capped, Value()};
  return {capped, arith::SubFOp::create(b, loc, constant(x, 1.0),
                                        arith::MulFOp::create(b, loc, t, t))};
}

std::pair<Value, Value> AttentionAlgebra::scoreAndDerivative(
    Value x, function_ref<std::pair<Value, Value>(Value)> scoreMod) {
  auto [score, derivative] = softcap(x, /*derivative=*/true);
  if (scoreMod) {
    auto [modded, modDerivative] = scoreMod(score);
    score = modded;
    derivative = derivative
                     ? arith::MulFOp::create(b, loc, derivative, modDerivative)
                           .getResult()
                     : modDerivative;
  }
  return {score, derivative ? derivative : constant(x, 1.0)};
}

double AttentionAlgebra::initialMax() const {
  return tracksMax() ? kNegInf : 0.0;
}

AttentionAlgebra::MaxUpdate AttentionAlgebra::updateMax(Value m,
                                                        Value tileMax) {
  // The running maximum is the largest reference point of the row's weights
  // (softmax: the max of its log2-domain scores; softplus: min(max s
  // log2(e), 0)).
  Value reference = p.score.getFunction()->rowReference(b, loc, tileMax);
  MaxUpdate u;
  u.mNew = arith::MaximumFOp::create(b, loc, m, reference);
  u.mSafe = safeReference(u.mNew);
  return u;
}

Value AttentionAlgebra::safeReference(Value m) {
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m,
                                      constant(m, kNegInf));
  return arith::SelectOp::create(b, loc, empty, constant(m, 0.0), m);
}

Value AttentionAlgebra::rescaleFactor(Value m, Value mSafe) {
  return math::Exp2Op::create(b, loc, arith::SubFOp::create(b, loc, m, mSafe));
}

/// `scalar` broadcast to the type of `like` when that is a vector.
static Value broadcastLike(OpBuilder &b, Location loc, Value scalar,
                           Value like) {
  auto vector = dyn_cast<VectorType>(like.getType());
  if (!vector || isa<VectorType>(scalar.getType()))
    return scalar;
  return vector::BroadcastOp::create(b, loc, vector, scalar);
}

Value AttentionAlgebra::weight(Value s, Value mSafe) {
  if (!tracksMax())
    return s;
  mSafe = broadcastLike(b, loc, mSafe, s);
  return p.score.getFunction()->weight(b, loc, s, mSafe);
}

Value AttentionAlgebra::mergedMax(ArrayRef<Value> ms) {
  assert(!ms.empty() && "merging no states");
  Value mMax = ms.front();
  if (tracksMax())
    for (Value m : ms.drop_front())
      mMax = arith::MaximumFOp::create(b, loc, mMax, m);
  return mMax;
}

SmallVector<Value> AttentionAlgebra::mergeFactors(ArrayRef<Value> ms) {
  Value mMax = mergedMax(ms);
  SmallVector<Value> factors;
  for (Value m : ms)
    factors.push_back(mergeFactor(m, mMax));
  return factors;
}

Value AttentionAlgebra::mergeFactor(Value m, Value mMax) {
  if (!tracksMax())
    return constant(m, 1.0);
  return rescaleFactor(m, safeReference(mMax));
}

Value AttentionAlgebra::weightedSum(ArrayRef<Value> w, ArrayRef<Value> x) {
  assert(w.size() == x.size() && !x.empty() && "one factor per term");
  Value sum;
  for (auto [wk, xk] : llvm::zip_equal(w, x)) {
    Value term =
        arith::MulFOp::create(b, loc, broadcastLike(b, loc, wk, xk), xk);
    sum = sum ? arith::AddFOp::create(b, loc, sum, term).getResult() : term;
  }
  return sum;
}

Value AttentionAlgebra::sinkWeight(Value sinkLogit, Value m) {
  const ScoreFunction &fn = *p.score.getFunction();
  Value sink = sinkLogit;
  if (fn.scoresInLog2Domain())
    sink = arith::MulFOp::create(b, loc, sink, constant(sink, kLog2E));
  return fn.weight(b, loc, sink, m);
}

Value AttentionAlgebra::lseInLog2(Value lse) {
  Value noKey = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OEQ, lse,
      constant(lse, -std::numeric_limits<double>::infinity()));
  return arith::SelectOp::create(
      b, loc, noKey, constant(lse, std::numeric_limits<double>::infinity()),
      arith::MulFOp::create(b, loc, lse, constant(lse, kLog2E)));
}

Value AttentionAlgebra::weightFromLse(Value score, Value lseLog2) {
  return math::Exp2Op::create(
      b, loc,
      arith::SubFOp::create(
          b, loc, arith::MulFOp::create(b, loc, score, constant(score, kLog2E)),
          broadcastLike(b, loc, lseLog2, score)));
}

Value AttentionAlgebra::divideByNormalizer(Value x, Value z) {
  if (!p.score.getNormalize())
    return x;
  Value zero = constant(z, 0.0);
  Value empty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, z, zero);
  Value divided = arith::DivFOp::create(b, loc, x, broadcastLike(b, loc, z, x));
  return arith::SelectOp::create(b, loc, empty, constant(x, 0.0), divided);
}

Value AttentionAlgebra::sinkGradientStep(Value acc, Value lse, Value rowDot,
                                         Value sinkLogit) {
  Value noKey = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OEQ, lse,
      constant(lse, -std::numeric_limits<double>::infinity()));
  Value weight = math::ExpOp::create(
      b, loc, arith::SubFOp::create(b, loc, sinkLogit, lse));
  Value next = arith::SubFOp::create(
      b, loc, acc, arith::MulFOp::create(b, loc, weight, rowDot));
  return arith::SelectOp::create(b, loc, noKey, acc, next);
}

Value AttentionAlgebra::entropyLog2Weight(Value s, Value w, Value mSafe) {
  if (p.score.getFunction()->scoresInLog2Domain() && tracksMax()) {
    // log2 w = s - mSafe (the difference weight() takes the exp2 of); a key
    // of weight 0 has s = -inf: clamped, so that 0 times it is 0.
    Value log2w =
        arith::SubFOp::create(b, loc, s, broadcastLike(b, loc, mSafe, s));
    return arith::MaximumFOp::create(
        b, loc, log2w, constant(log2w, -std::numeric_limits<float>::max()));
  }
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, w,
                                         constant(w, 0.0));
  return arith::SelectOp::create(b, loc, positive,
                                 math::Log2Op::create(b, loc, w),
                                 constant(w, 0.0));
}

Value AttentionAlgebra::entropyTerm(Value s, Value w, Value mSafe) {
  return arith::MulFOp::create(b, loc, w, entropyLog2Weight(s, w, mSafe));
}

/// m, or 0 while it is -inf.
static Value safeMax(OpBuilder &b, Location loc, Value m) {
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m,
                                      constantLike(b, loc, m, kNegInf));
  return arith::SelectOp::create(b, loc, empty, constantLike(b, loc, m, 0.0),
                                 m);
}

Value AttentionAlgebra::entropyRelativeTo(Value t, Value l, Value m,
                                          Value mMax) {
  if (!tracksMax())
    return t;
  Value shift =
      arith::SubFOp::create(b, loc, safeMax(b, loc, m), safeMax(b, loc, mMax));
  return arith::AddFOp::create(b, loc, t,
                               arith::MulFOp::create(b, loc, shift, l));
}

Value AttentionAlgebra::rescaleEntropy(Value t, Value l, Value m, Value mSafe,
                                       Value alpha) {
  if (!tracksMax())
    return t;
  return arith::MulFOp::create(b, loc, alpha,
                               entropyRelativeTo(t, l, m, mSafe));
}

Value AttentionAlgebra::mergedEntropy(ArrayRef<Value> ts, ArrayRef<Value> ls,
                                      ArrayRef<Value> ms,
                                      ArrayRef<Value> factors) {
  Value mMax = mergedMax(ms);
  SmallVector<Value> moved;
  for (auto [t, l, m] : llvm::zip_equal(ts, ls, ms))
    moved.push_back(entropyRelativeTo(t, l, m, mMax));
  return weightedSum(factors, moved);
}

/// Whether a row whose weights sum to `l` has no weight (no allowed key),
/// and its normalizer: l plus the sink's weight when there is one.
static std::pair<Value, Value> rowNormalizer(OpBuilder &b, Location loc,
                                             Value l, Value sinkWeight) {
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l,
                                      constantLike(b, loc, l, 0.0));
  Value total =
      sinkWeight ? arith::AddFOp::create(b, loc, l, sinkWeight).getResult() : l;
  return {empty, total};
}

Value AttentionAlgebra::entropy(Value t, Value l, Value sinkWeight) {
  auto [empty, total] = rowNormalizer(b, loc, l, sinkWeight);
  Value numerator = arith::SubFOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, l, math::Log2Op::create(b, loc, total)), t);
  Value h = arith::MulFOp::create(
      b, loc, arith::DivFOp::create(b, loc, numerator, total),
      constant(numerator, 1.0 / kLog2E));
  return arith::SelectOp::create(b, loc, empty, constant(h, 0.0), h);
}

Value AttentionAlgebra::logSumExp(Value m, Value l, Value sinkWeight) {
  auto [empty, total] = rowNormalizer(b, loc, l, sinkWeight);
  Value log2Sum =
      arith::AddFOp::create(b, loc, m, math::Log2Op::create(b, loc, total));
  Value lse =
      arith::MulFOp::create(b, loc, log2Sum, constant(log2Sum, 1.0 / kLog2E));
  return arith::SelectOp::create(b, loc, empty, constant(lse, kNegInf), lse);
}

Value AttentionAlgebra::epilogue(Value o, Value l, Type outElem,
                                 Value sinkWeight) {
  if (p.score.getNormalize()) {
    auto [empty, divisor] = rowNormalizer(b, loc, l, sinkWeight);
    Value quotient =
        arith::DivFOp::create(b, loc, o, broadcastLike(b, loc, divisor, o));
    o = arith::SelectOp::create(b, loc, empty, constant(o, 0.0), quotient);
  }
  if (getElementTypeOrSelf(o.getType()) == outElem)
    return o;
  Type type = outElem;
  if (auto vector = dyn_cast<VectorType>(o.getType()))
    type = VectorType::get(vector.getShape(), outElem);
  return arith::TruncFOp::create(b, loc, type, o);
}

AttentionAlgebra::NormalizedRowState
AttentionAlgebra::stateOfNormalized(Value lse, Value entropy) {
  NormalizedRowState row;
  row.m = arith::MulFOp::create(b, loc, lse, constant(lse, kLog2E));
  Value noKey = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, lse,
                                      constant(lse, kNegInf));
  row.l = arith::SelectOp::create(b, loc, noKey, constant(lse, 0.0),
                                  constant(lse, 1.0));
  if (entropy)
    row.t = arith::MulFOp::create(b, loc, entropy, constant(entropy, -kLog2E));
  return row;
}

AttentionAlgebra::MergedRow
AttentionAlgebra::mergeNormalized(ArrayRef<Value> lses,
                                  ArrayRef<Value> entropies) {
  assert((entropies.empty() || entropies.size() == lses.size()) &&
         "one entropy per state, or none");
  SmallVector<Value> ms, ls, ts;
  for (auto [k, lse] : llvm::enumerate(lses)) {
    NormalizedRowState state =
        stateOfNormalized(lse, entropies.empty() ? Value() : entropies[k]);
    ms.push_back(state.m);
    ls.push_back(state.l);
    ts.push_back(state.t);
  }
  MergedRow row;
  row.factors = mergeFactors(ms);
  row.l = weightedSum(row.factors, ls);
  row.lse = logSumExp(mergedMax(ms), row.l);
  if (!entropies.empty())
    row.entropy = entropy(mergedEntropy(ts, ls, ms, row.factors), row.l);
  return row;
}
