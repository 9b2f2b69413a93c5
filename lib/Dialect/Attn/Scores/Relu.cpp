//===- Relu.cpp - #attn.score<kernel<relu>> -------------------------------===//
//
// w = phi(scale q) . phi(k) with phi(x) = max(x, 0). The score q.k is never
// formed.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Relu final : public ScoreFunction {
public:
  StringRef getName() const override { return "relu"; }
  StringRef getFormula() const override {
    return "w = phi(scale q) . phi(k), phi(x) = max(x, 0)";
  }
  Family getFamily() const override { return Family::Kernel; }
  bool isFeatureProduct() const override { return true; }
  LinearForm getLinearForm() const override {
    return LinearForm::ElementwiseFeatures;
  }
  double getFeatureMapCost() const override { return 2.0; }

  Value featureMap(OpBuilder &b, Location loc, Value x) const override {
    return arith::MaximumFOp::create(b, loc, x, constantLike(b, loc, x, 0.0));
  }

  Value weight(OpBuilder &, Location, Value s, Value) const override {
    return s;
  }

  bool hasWeightDerivative() const override { return true; }
  /// 1 for x > 0, else 0 (the subgradient 0 at x = 0, as autograd takes).
  Value featureMapDerivative(OpBuilder &b, Location loc,
                             Value x) const override {
    return oneAbovePositive(b, loc, x, constantLike(b, loc, x, 0.0));
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createReluScore() {
  return std::make_unique<Relu>();
}
