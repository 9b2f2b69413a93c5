//===- Softplus.cpp - #attn.score<softplus> -------------------------------===//
//
// w = softplus(s) / sum softplus(s), softplus(s) = log(1 + e^s). The weights
// are scaled by 2^-ref with ref = min(m log2(e), 0) for the row's (running)
// maximum score m: a constant factor of a row cancels in the normalization,
// and with it a row whose scores are all far below 0 keeps its weights'
// ratios (about e^(s - m)) instead of underflowing to 0 together. The
// backward forms the row's reference and normalizer again and takes
// d softplus(s) / d s = sigmoid(s), scaled by the same 2^-ref.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
constexpr double kLog2E = 1.4426950408889634;

class Softplus final : public ScoreFunction {
public:
  StringRef getName() const override { return "softplus"; }
  StringRef getFormula() const override {
    return "w = softplus(s) / sum softplus(s)";
  }
  Family getFamily() const override { return Family::RowMax; }

  /// min(m log2(e), 0).
  Value rowReference(OpBuilder &b, Location loc, Value rowMax) const override {
    Value m2 = arith::MulFOp::create(b, loc, rowMax,
                                     constantLike(b, loc, rowMax, kLog2E));
    return arith::MinimumFOp::create(b, loc, m2, constantLike(b, loc, m2, 0.0));
  }

  /// softplus(s) 2^-ref; ref is 0 whenever s > 0. For s <= 0 it is
  /// 2^(s log2(e) - ref) g(e^s) with g(t) = log1p(t) / t (1 - t/2 for small
  /// t).
  Value weight(OpBuilder &b, Location loc, Value s,
               Value reference) const override {
    auto cst = [&](double v) { return constantLike(b, loc, s, v); };
    // t = e^-|s|; log1p(t) is the tail of softplus on both sides of 0.
    Value t = math::ExpOp::create(
        b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, s)));
    Value tail = math::Log1pOp::create(b, loc, t);
    // s > 0 (then ref = 0): softplus(s) = s + log1p(e^-s).
    Value positive = arith::AddFOp::create(b, loc, s, tail);
    // s <= 0: 2^(s log2(e) - ref) log1p(t) / t, with t = e^s; for t < 1e-4,
    // log1p(t) / t = 1 - t/2 to within t^2/3 (and t may be 0).
    Value small =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, t, cst(1e-4));
    Value ratio = arith::SelectOp::create(
        b, loc, small,
        arith::SubFOp::create(b, loc, cst(1.0),
                              arith::MulFOp::create(b, loc, cst(0.5), t)),
        arith::DivFOp::create(b, loc, tail, t));
    Value shifted = math::Exp2Op::create(
        b, loc,
        arith::SubFOp::create(
            b, loc, arith::MulFOp::create(b, loc, s, cst(kLog2E)), reference));
    Value negative = arith::MulFOp::create(b, loc, shifted, ratio);
    Value isPositive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, s, cst(0.0));
    return arith::SelectOp::create(b, loc, isPositive, positive, negative);
  }

  bool hasWeightDerivative() const override { return true; }
  /// sigmoid(s) 2^-ref = 2^(min(s, 0) log2(e) - ref) / (1 + e^-|s|): for
  /// s > 0 (ref = 0) 1 / (1 + e^-s), for s <= 0 e^s 2^-ref / (1 + e^s).
  Value weightDerivative(OpBuilder &b, Location loc, Value s,
                         Value reference) const override {
    auto cst = [&](double v) { return constantLike(b, loc, s, v); };
    Value t = math::ExpOp::create(
        b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, s)));
    Value below = arith::MinimumFOp::create(b, loc, s, cst(0.0));
    Value numerator = math::Exp2Op::create(
        b, loc,
        arith::SubFOp::create(b, loc,
                              arith::MulFOp::create(b, loc, below, cst(kLog2E)),
                              reference));
    return arith::DivFOp::create(b, loc, numerator,
                                 arith::AddFOp::create(b, loc, cst(1.0), t));
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createSoftplusScore() {
  return std::make_unique<Softplus>();
}
