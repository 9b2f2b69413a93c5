//===- Sigmoid.cpp - #attn.score<kernel<sigmoid>> -------------------------===//
//
// w = sigmoid(s) = 1 / (1 + e^-s): sigmoid attention (Ramapuram et al., 2024,
// "Theory, Analysis, and Best Practices for Sigmoid Self-Attention"), usually
// written with `normalize = false` and a bias of -log(Lk). Each weight is
// taken from t = e^-|s| (1 / (1 + t) for s >= 0, t / (1 + t) below), so that
// no exp overflows; like every f32 weight it underflows to 0 for s below
// about -103, where a normalized row of only such scores produces zeros.
// Linear attention has no factorization of it.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Sigmoid final : public ScoreFunction {
public:
  StringRef getName() const override { return "sigmoid"; }
  StringRef getFormula() const override { return "w = 1 / (1 + exp(-s))"; }
  Family getFamily() const override { return Family::Kernel; }

  Value weight(OpBuilder &b, Location loc, Value s, Value) const override {
    Value t = math::ExpOp::create(
        b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, s)));
    Value onePlusT =
        arith::AddFOp::create(b, loc, constantLike(b, loc, s, 1.0), t);
    Value nonNegative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE,
                                              s, constantLike(b, loc, s, 0.0));
    // NaN compares false and takes t / (1 + t), NaN as well.
    Value numerator = arith::SelectOp::create(b, loc, nonNegative,
                                              constantLike(b, loc, s, 1.0), t);
    return arith::DivFOp::create(b, loc, numerator, onePlusT);
  }

  bool hasWeightDerivative() const override { return true; }
  /// w (1 - w).
  Value weightDerivative(OpBuilder &b, Location loc, Value s,
                         Value) const override {
    Value w = weight(b, loc, s, Value());
    Value rest = arith::SubFOp::create(b, loc, constantLike(b, loc, s, 1.0), w);
    return arith::MulFOp::create(b, loc, w, rest);
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createSigmoidScore() {
  return std::make_unique<Sigmoid>();
}
