//===- Softmax.cpp - #attn.score<softmax> ---------------------------------===//
//
// w = exp(s - max s) / sum exp(...): the scores are taken in the log2 domain
// (s log2(e)), the row's running maximum is the reference, and the weight is
// exp2 of the difference.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Softmax final : public ScoreFunction {
public:
  StringRef getName() const override { return "softmax"; }
  StringRef getFormula() const override {
    return "w = exp(s - max s) / sum exp(s - max s)";
  }
  Family getFamily() const override { return Family::RowMax; }
  bool scoresInLog2Domain() const override { return true; }

  Value rowReference(OpBuilder &, Location, Value rowMax) const override {
    return rowMax;
  }

  Value weight(OpBuilder &b, Location loc, Value s,
               Value reference) const override {
    return math::Exp2Op::create(b, loc,
                                arith::SubFOp::create(b, loc, s, reference));
  }
};
} // namespace

std::unique_ptr<ScoreFunction> mlir::attn::createSoftmaxScore() {
  return std::make_unique<Softmax>();
}
