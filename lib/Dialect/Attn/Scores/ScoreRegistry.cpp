//===- ScoreRegistry.cpp - The registry of score functions ----------------===//
//
// The registered score functions (BuiltinScores.def), looked up by the name
// #attn.score writes, and what ScoreFunction gives every function unless it
// says otherwise.
//
//===----------------------------------------------------------------------===//

#include "BuiltinScores.h"
#include "attn/Support/ListText.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/ErrorHandling.h"

#include <memory>
#include <vector>

using namespace mlir;
using namespace mlir::attn;

ScoreFunction::~ScoreFunction() = default;

Value ScoreFunction::featureMap(OpBuilder &, Location, Value) const {
  llvm_unreachable("featureMap of a score function that is no feature "
                   "product");
}

Value ScoreFunction::weightDerivative(OpBuilder &b, Location loc, Value s,
                                      Value) const {
  if (!isFeatureProduct())
    llvm_unreachable("weightDerivative of a score function without one");
  return constantLike(b, loc, s, 1.0);
}

Value mlir::attn::oneAbovePositive(OpBuilder &b, Location loc, Value x,
                                   Value otherwise) {
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                         constantLike(b, loc, x, 0.0));
  return arith::SelectOp::create(b, loc, positive, constantLike(b, loc, x, 1.0),
                                 otherwise);
}

Value ScoreFunction::featureMapDerivative(OpBuilder &, Location, Value) const {
  llvm_unreachable("featureMapDerivative of a score function that is no "
                   "feature product");
}

Value ScoreFunction::rowReference(OpBuilder &, Location, Value) const {
  llvm_unreachable("rowReference of a score function without a running "
                   "maximum");
}

Value mlir::attn::constantLike(OpBuilder &b, Location loc, Value like,
                               double v) {
  Type type = like.getType();
  Attribute scalar = b.getFloatAttr(getElementTypeOrSelf(type), v);
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(vector, scalar));
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(scalar));
}

namespace {
/// The functions, created once on first use (thread-safe) and never freed:
/// attributes of every context point at them.
struct Registry {
  std::vector<std::unique_ptr<ScoreFunction>> owned;
  std::vector<const ScoreFunction *> functions;

  Registry() {
#define ATTN_SCORE(Name) owned.push_back(create##Name##Score());
#include "BuiltinScores.def"
    for (const auto &function : owned)
      functions.push_back(function.get());
  }
};

const Registry &getRegistry() {
  static const Registry *registry = new Registry();
  return *registry;
}
} // namespace

const ScoreFunction *mlir::attn::lookupScoreFunction(StringRef name) {
  for (const ScoreFunction *function : getRegistry().functions)
    if (function->getName() == name)
      return function;
  return nullptr;
}

ArrayRef<const ScoreFunction *> mlir::attn::getScoreFunctions() {
  return getRegistry().functions;
}

std::string mlir::attn::listScoreFunctions(ScoreFunction::Family family,
                                           StringRef also) {
  SmallVector<StringRef> names;
  for (const ScoreFunction *function : getScoreFunctions())
    if (function->getFamily() == family)
      names.push_back(function->getName());
  if (!also.empty())
    names.push_back(also);
  return joinAsList(names);
}
