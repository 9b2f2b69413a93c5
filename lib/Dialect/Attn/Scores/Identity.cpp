//===- Identity.cpp - #attn.score<kernel<identity>> -----------------------===//
//
// w = s: plain linear attention, (q.k) weights without a feature map; usually
// written with `normalize = false`, since the weights may be negative.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Identity final : public ScoreFunction {
public:
  StringRef getName() const override { return "identity"; }
  StringRef getFormula() const override { return "w = s"; }
  Family getFamily() const override { return Family::Kernel; }
  LinearForm getLinearForm() const override { return LinearForm::Identity; }

  Value weight(OpBuilder &, Location, Value s, Value) const override {
    return s;
  }

  bool hasWeightDerivative() const override { return true; }
  Value weightDerivative(OpBuilder &b, Location loc, Value s,
                         Value) const override {
    return constantLike(b, loc, s, 1.0);
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createIdentityScore() {
  return std::make_unique<Identity>();
}
