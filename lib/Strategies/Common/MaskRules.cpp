//===- MaskRules.cpp - Allowed-key rules as IR ----------------------------===//
//
// The rules of AllowedKeyRule.h as arith ops: RuleArith, the rules' domain
// of IR values, and the rules of one op.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

ProblemSizes mlir::attn::getProblemSizes(OpBuilder &b, Location loc,
                                         const AttentionProblem &problem) {
  ProblemSizes sizes;
  auto dims = [&](Value tensor, ArrayRef<int64_t> shape,
                  SmallVectorImpl<Value> &out) {
    for (auto [index, size] : llvm::enumerate(shape)) {
      if (ShapedType::isDynamic(size))
        out.push_back(tensor::DimOp::create(b, loc, tensor, 2 + index));
      else
        out.push_back(arith::ConstantIndexOp::create(b, loc, size));
    }
  };
  dims(problem.query, problem.queryShape, sizes.queryShape);
  dims(problem.key, problem.keyShape, sizes.keyShape);
  return sizes;
}

std::pair<Value, Value> RuleArith::promote(Value x, Value y) {
  auto broadcast = [&](Value scalar, Type to) -> Value {
    auto vector = cast<VectorType>(to);
    Type element = vector.getElementType();
    if (scalar.getType().isIndex() && !element.isIndex())
      scalar = arith::IndexCastOp::create(b, loc, element, scalar);
    return vector::BroadcastOp::create(b, loc, vector, scalar);
  };
  if (x.getType() == y.getType())
    return {x, y};
  if (isa<VectorType>(y.getType()) && !isa<VectorType>(x.getType()))
    return {broadcast(x, y.getType()), y};
  if (isa<VectorType>(x.getType()) && !isa<VectorType>(y.getType()))
    return {x, broadcast(y, x.getType())};
  return {x, y}; // mismatched: the op's verifier reports it
}

Value RuleArith::c(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

#define ATTN_RULE_BINARY(name, Op)                                             \
  Value RuleArith::name(Value x, Value y) {                                    \
    auto [px, py] = promote(x, y);                                             \
    return arith::Op::create(b, loc, px, py);                                  \
  }
ATTN_RULE_BINARY(add, AddIOp)
ATTN_RULE_BINARY(sub, SubIOp)
ATTN_RULE_BINARY(mul, MulIOp)
ATTN_RULE_BINARY(divU, DivUIOp)
ATTN_RULE_BINARY(remU, RemUIOp)
ATTN_RULE_BINARY(min, MinSIOp)
ATTN_RULE_BINARY(max, MaxSIOp)
#undef ATTN_RULE_BINARY

Value RuleArith::cmp(unsigned predicate, Value x, Value y) {
  auto [px, py] = promote(x, y);
  return arith::CmpIOp::create(
      b, loc, static_cast<arith::CmpIPredicate>(predicate), px, py);
}
Value RuleArith::sle(Value x, Value y) {
  return cmp(static_cast<unsigned>(arith::CmpIPredicate::sle), x, y);
}
Value RuleArith::slt(Value x, Value y) {
  return cmp(static_cast<unsigned>(arith::CmpIPredicate::slt), x, y);
}
Value RuleArith::eq(Value x, Value y) {
  return cmp(static_cast<unsigned>(arith::CmpIPredicate::eq), x, y);
}

Value RuleArith::both(Value x, Value y) {
  if (!x)
    return y;
  if (!y)
    return x;
  auto [px, py] = promote(x, y);
  return arith::AndIOp::create(b, loc, px, py);
}

Value RuleArith::either(Value x, Value y) {
  if (!x || !y)
    return Value();
  auto [px, py] = promote(x, y);
  return arith::OrIOp::create(b, loc, px, py);
}

std::pair<Value, Value> mlir::attn::neighborhoodReach(
    OpBuilder &b, Location loc, const AttentionProblem &p,
    ArrayRef<Value> extents, Value first, Value last, bool fromKeys) {
  KernelBuilder k(b, loc, /*lanes=*/1);
  Value inner = k.idx(1);
  for (Value extent : extents.drop_front())
    inner = k.mul(inner, extent);
  int64_t reach = (p.kernel[0] - 1 + p.stride[0] - 1) * p.dilation[0];
  Value lo = k.div(first, inner), hi = k.div(last, inner);
  // Keys of a causal axis come at or before their query.
  bool causal = p.causalAxes[0];
  Value below = fromKeys && causal ? k.idx(0) : k.idx(reach);
  Value above = !fromKeys && causal ? k.idx(0) : k.idx(reach);
  lo = k.maxI(k.sub(lo, below), k.idx(0));
  hi = k.minI(k.add(k.add(hi, above), k.idx(1)), extents.front());
  return {k.mul(lo, inner), k.mul(hi, inner)};
}

std::pair<Value, Value> mlir::attn::rowsSeeingKeys(OpBuilder &b, Location loc,
                                                   const AttentionProblem &p,
                                                   Value k0, Value k1, Value lq,
                                                   Value lk,
                                                   ArrayRef<Value> extents) {
  if (p.isNeighborhood)
    return neighborhoodReach(b, loc, p, extents, k0, k1, /*fromKeys=*/true);
  KernelBuilder k(b, loc, /*lanes=*/1);
  // Row i's keys are aligned at i + (Lk - Lq): causal allows keys <= that,
  // a right window keys <= that + right, a left window keys >= that - left.
  Value shift = k.sub(lk, lq);
  Value lo = k.idx(0), hi = lq;
  std::optional<int64_t> right;
  if (p.causal)
    right = 0;
  if (p.hasWindow && p.windowRight)
    right = right ? std::min(*right, *p.windowRight) : *p.windowRight;
  bool sinks = p.hasWindow && p.sinks > 0;
  Value inSinks =
      sinks ? k.cmpI(arith::CmpIPredicate::slt, k0, k.idx(p.sinks)) : Value();
  if (right) {
    Value bandLo = k.maxI(k.idx(0), k.sub(k.sub(k0, shift), k.idx(*right)));
    // Sink keys are seen whatever the window says; causal still applies.
    Value sinkLo = p.causal ? k.maxI(k.idx(0), k.sub(k0, shift)) : k.idx(0);
    lo = sinks ? k.select(inSinks, sinkLo, bandLo) : bandLo;
  }
  if (p.hasWindow && p.windowLeft) {
    Value bandHi = k.minI(
        lq, k.add(k.sub(k.add(k1, k.idx(*p.windowLeft)), shift), k.idx(1)));
    hi = sinks ? k.select(inSinks, lq, bandHi) : bandHi;
  }
  return {k.minI(lo, lq), k.maxI(lo, hi)};
}

rule::AxisRule mlir::attn::getAxisRule(const AttentionProblem &p,
                                       unsigned axis) {
  return {p.kernel[axis], p.dilation[axis], p.stride[axis],
          static_cast<bool>(p.causalAxes[axis])};
}

Value mlir::attn::buildAllowedPredicate(OpBuilder &b, Location loc,
                                        const AttentionProblem &p,
                                        const ProblemSizes &sizes, Value i,
                                        Value j) {
  RuleArith d(b, loc);
  if (!p.isNeighborhood)
    return rule::bandAllowed(d, p, i, j, sizes.queryLength(),
                             sizes.keyLength());
  // The product of the per-axis rules over the unflattened positions.
  SmallVector<Value> qc, kc;
  rule::unflatten(d, i, sizes.queryShape, qc);
  rule::unflatten(d, j, sizes.queryShape, kc);
  Value allowed = d.all();
  for (unsigned a = 0; a < qc.size(); ++a) {
    rule::AxisRule axis = getAxisRule(p, a);
    allowed = d.both(
        allowed,
        rule::axisAllowed(d, axis,
                          rule::axisWindow(d, axis, qc[a], sizes.queryShape[a]),
                          kc[a]));
  }
  return allowed;
}
