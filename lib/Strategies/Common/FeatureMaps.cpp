//===- FeatureMaps.cpp - Kernel-score math shared by strategies -----------===//

#include "attn/Strategies/Common/FeatureMaps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;

static Value constantLike(OpBuilder &b, Location loc, Value x, double v) {
  Type type = x.getType();
  Attribute scalar = b.getFloatAttr(getElementTypeOrSelf(type), v);
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vector, scalar));
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(scalar));
}

Value mlir::attn::buildFeatureMap(OpBuilder &b, Location loc, FeatureMap map,
                                  Value x) {
  Value zero = constantLike(b, loc, x, 0.0);
  if (map == FeatureMap::Relu)
    return arith::MaximumFOp::create(b, loc, x, zero);
  Value one = constantLike(b, loc, x, 1.0);
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
  Value exp = math::ExpOp::create(b, loc, x);
  Value plusOne = arith::AddFOp::create(b, loc, x, one);
  return arith::SelectOp::create(b, loc, positive, plusOne, exp);
}

Value mlir::attn::buildTaylor2Weight(OpBuilder &b, Location loc, Value s) {
  Value square = arith::MulFOp::create(b, loc, s, s);
  Value half = arith::MulFOp::create(b, loc, constantLike(b, loc, s, 0.5),
                                     square);
  Value linear =
      arith::AddFOp::create(b, loc, constantLike(b, loc, s, 1.0), s);
  return arith::AddFOp::create(b, loc, linear, half);
}
