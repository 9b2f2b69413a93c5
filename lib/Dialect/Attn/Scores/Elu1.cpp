//===- Elu1.cpp - #attn.score<kernel<elu1>> -------------------------------===//
//
// w = phi(scale q) . phi(k) with phi(x) = elu(x) + 1 (x + 1 for x > 0, e^x
// otherwise): the feature map of "Transformers are RNNs" (Katharopoulos et
// al.). The score q.k is never formed.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Elu1 final : public ScoreFunction {
public:
  StringRef getName() const override { return "elu1"; }
  StringRef getFormula() const override {
    return "w = phi(scale q) . phi(k), phi(x) = elu(x) + 1";
  }
  Family getFamily() const override { return Family::Kernel; }
  bool isFeatureProduct() const override { return true; }
  bool featureMapKeepsZero() const override { return false; }
  LinearForm getLinearForm() const override {
    return LinearForm::ElementwiseFeatures;
  }
  // A polynomial exp (ApproximateMath) of about 27 instructions.
  double getFeatureMapCost() const override { return 27.0; }

  Value featureMap(OpBuilder &b, Location loc, Value x) const override {
    Value zero = constantLike(b, loc, x, 0.0);
    Value one = constantLike(b, loc, x, 1.0);
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
    Value exp = math::ExpOp::create(b, loc, x);
    Value plusOne = arith::AddFOp::create(b, loc, x, one);
    return arith::SelectOp::create(b, loc, positive, plusOne, exp);
  }

  Value weight(OpBuilder &, Location, Value s, Value) const override {
    return s;
  }

  bool hasWeightDerivative() const override { return true; }
  /// 1 for x > 0, e^x otherwise.
  Value featureMapDerivative(OpBuilder &b, Location loc,
                             Value x) const override {
    return oneAbovePositive(b, loc, x, math::ExpOp::create(b, loc, x));
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createElu1Score() {
  return std::make_unique<Elu1>();
}
