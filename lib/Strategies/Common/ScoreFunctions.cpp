//===- ScoreFunctions.cpp - Score math shared by strategies ---------------===//

#include "attn/Strategies/Common/ScoreFunctions.h"

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

Value mlir::attn::buildSoftplusReference(OpBuilder &b, Location loc,
                                         Value m2) {
  return arith::MinimumFOp::create(b, loc, m2, constantLike(b, loc, m2, 0.0));
}

Value mlir::attn::buildSoftplusWeight(OpBuilder &b, Location loc, Value s,
                                      Value ref) {
  auto cst = [&](double v) { return constantLike(b, loc, s, v); };
  // t = e^-|s|; log1p(t) is the tail of softplus on both sides of 0.
  Value t = math::ExpOp::create(
      b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, s)));
  Value tail = math::Log1pOp::create(b, loc, t);
  // s > 0 (then ref = 0): softplus(s) = s + log1p(e^-s).
  Value positive = arith::AddFOp::create(b, loc, s, tail);
  // s <= 0: 2^(s log2(e) - ref) log1p(t) / t, with t = e^s; for t < 1e-4,
  // log1p(t) / t = 1 - t/2 to within t^2/3 (and t may be 0).
  Value small = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, t,
                                      cst(1e-4));
  Value ratio = arith::SelectOp::create(
      b, loc, small,
      arith::SubFOp::create(b, loc, cst(1.0),
                            arith::MulFOp::create(b, loc, cst(0.5), t)),
      arith::DivFOp::create(b, loc, tail, t));
  Value shifted = math::Exp2Op::create(
      b, loc,
      arith::SubFOp::create(
          b, loc, arith::MulFOp::create(b, loc, s, cst(1.4426950408889634)),
          ref));
  Value negative = arith::MulFOp::create(b, loc, shifted, ratio);
  Value isPositive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           s, cst(0.0));
  return arith::SelectOp::create(b, loc, isPositive, positive, negative);
}
