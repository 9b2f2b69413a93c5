//===- Taylor2.cpp - #attn.score<kernel<taylor2>> -------------------------===//
//
// w = 1 + s + s^2 / 2, the second-order Taylor expansion of exp(s) (as in
// Based, Arora et al.): positive for every s, and linear attention factors it
// into the features [1, x, x_a x_b / sqrt(2) ...].
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Taylor2 final : public ScoreFunction {
public:
  StringRef getName() const override { return "taylor2"; }
  StringRef getFormula() const override { return "w = 1 + s + s^2 / 2"; }
  Family getFamily() const override { return Family::Kernel; }
  LinearForm getLinearForm() const override {
    return LinearForm::SecondOrderTaylor;
  }

  Value weight(OpBuilder &b, Location loc, Value s, Value) const override {
    Value square = arith::MulFOp::create(b, loc, s, s);
    Value half =
        arith::MulFOp::create(b, loc, constantLike(b, loc, s, 0.5), square);
    Value linear =
        arith::AddFOp::create(b, loc, constantLike(b, loc, s, 1.0), s);
    return arith::AddFOp::create(b, loc, linear, half);
  }

  bool hasWeightDerivative() const override { return true; }
  /// 1 + s.
  Value weightDerivative(OpBuilder &b, Location loc, Value s,
                         Value) const override {
    return arith::AddFOp::create(b, loc, constantLike(b, loc, s, 1.0), s);
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createTaylor2Score() {
  return std::make_unique<Taylor2>();
}
