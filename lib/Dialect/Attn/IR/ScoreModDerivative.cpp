//===- ScoreModDerivative.cpp - d score_mod / d s, op by op ---------------===//
//
// The derivative rules of the ops a score_mod may apply to its score, in
// forward mode: each op's result tangent from its operands' tangents.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/ScoreModDerivative.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Ops with a rule in buildScoreTangent. cmpf reads the score but yields an
/// i1 (a select's condition: the select carries the tangent).
bool hasTangentRule(Operation *op) {
  return isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
             arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::MaxNumFOp, arith::MinNumFOp, arith::SelectOp, arith::ExtFOp,
             arith::TruncFOp, arith::CmpFOp, math::FmaOp, math::ExpOp,
             math::Exp2Op, math::ExpM1Op, math::LogOp, math::Log2Op,
             math::Log1pOp, math::TanhOp, math::SqrtOp, math::RsqrtOp,
             math::AbsFOp, math::SinOp, math::CosOp, math::ErfOp, math::PowFOp>(
      op);
}

/// Arithmetic on tangents, where null is 0.
struct TangentMath {
  OpBuilder &b;
  Location loc;

  Value constant(Value like, double value) {
    Type type = like.getType();
    if (auto shaped = dyn_cast<ShapedType>(type))
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              shaped, b.getFloatAttr(shaped.getElementType(), value)));
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  }
  Value add(Value x, Value y) {
    if (!x)
      return y;
    if (!y)
      return x;
    return arith::AddFOp::create(b, loc, x, y);
  }
  Value sub(Value x, Value y) {
    if (!y)
      return x;
    if (!x)
      return arith::NegFOp::create(b, loc, y);
    return arith::SubFOp::create(b, loc, x, y);
  }
  Value mul(Value x, Value y) {
    if (!x || !y)
      return Value();
    return arith::MulFOp::create(b, loc, x, y);
  }
  Value div(Value x, Value y) {
    if (!x)
      return Value();
    return arith::DivFOp::create(b, loc, x, y);
  }
  Value select(Value cond, Value x, Value y, Value like) {
    if (!x && !y)
      return Value();
    return arith::SelectOp::create(b, loc, cond, x ? x : constant(like, 0.0),
                                   y ? y : constant(like, 0.0));
  }
};

} // namespace

Operation *mlir::attn::findNonDifferentiableScoreOp(Region &region) {
  if (region.empty() || region.front().getNumArguments() == 0)
    return nullptr;
  Block &block = region.front();
  llvm::DenseSet<Value> dependent = {block.getArgument(0)};
  for (Operation &op : block.without_terminator()) {
    bool reads = llvm::any_of(op.getOperands(), [&](Value operand) {
      return dependent.contains(operand);
    });
    if (!reads)
      continue;
    if (!hasTangentRule(&op))
      return &op;
    for (Value result : op.getResults())
      if (isa<FloatType>(getElementTypeOrSelf(result.getType())))
        dependent.insert(result);
  }
  return nullptr;
}

Value mlir::attn::buildScoreTangent(OpBuilder &b, Location loc, Operation *op,
                                    ArrayRef<Value> t) {
  if (llvm::all_of(t, [](Value v) { return !v; }) || op->getNumResults() != 1 ||
      !isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
    return Value();
  TangentMath m{b, loc};
  Value r = op->getResult(0);
  auto x = [&](unsigned k) { return op->getOperand(k); };
  // d(x) for a unary op f: f'(x) x'.
  auto chain = [&](Value derivative) { return m.mul(derivative, t[0]); };
  auto ln2 = [&]() { return m.constant(r, std::log(2.0)); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](arith::AddFOp) { return m.add(t[0], t[1]); })
      .Case([&](arith::SubFOp) { return m.sub(t[0], t[1]); })
      .Case([&](arith::NegFOp) { return m.sub(Value(), t[0]); })
      .Case([&](arith::MulFOp) {
        return m.add(m.mul(t[0], x(1)), m.mul(x(0), t[1]));
      })
      .Case([&](arith::DivFOp) {
        // (x' - r y') / y
        return m.div(m.sub(t[0], m.mul(r, t[1])), x(1));
      })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](Operation *) {
        Value first = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE,
                                            x(0), x(1));
        return m.select(first, t[0], t[1], r);
      })
      .Case<arith::MinimumFOp, arith::MinNumFOp>([&](Operation *) {
        Value first = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                            x(0), x(1));
        return m.select(first, t[0], t[1], r);
      })
      .Case([&](arith::SelectOp) { return m.select(x(0), t[1], t[2], r); })
      .Case([&](arith::ExtFOp) {
        return arith::ExtFOp::create(b, loc, r.getType(), t[0]).getResult();
      })
      .Case([&](arith::TruncFOp) {
        return arith::TruncFOp::create(b, loc, r.getType(), t[0]).getResult();
      })
      .Case([&](math::FmaOp) {
        return m.add(m.add(m.mul(t[0], x(1)), m.mul(x(0), t[1])), t[2]);
      })
      .Case([&](math::ExpOp) { return chain(r); })
      .Case([&](math::Exp2Op) { return chain(m.mul(r, ln2())); })
      .Case([&](math::ExpM1Op) { return chain(m.add(r, m.constant(r, 1.0))); })
      .Case([&](math::LogOp) { return m.div(t[0], x(0)); })
      .Case([&](math::Log2Op) { return m.div(t[0], m.mul(x(0), ln2())); })
      .Case([&](math::Log1pOp) {
        return m.div(t[0], m.add(x(0), m.constant(r, 1.0)));
      })
      .Case([&](math::TanhOp) {
        return chain(m.sub(m.constant(r, 1.0), m.mul(r, r)));
      })
      .Case([&](math::SqrtOp) {
        return m.div(t[0], m.mul(m.constant(r, 2.0), r));
      })
      .Case([&](math::RsqrtOp) {
        // d x^(-1/2) = -1/2 r^3 x'
        return chain(m.mul(m.constant(r, -0.5), m.mul(r, m.mul(r, r))));
      })
      .Case([&](math::AbsFOp) {
        Value negative = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::OLT, x(0), m.constant(r, 0.0));
        return m.select(negative, m.sub(Value(), t[0]), t[0], r);
      })
      .Case(
          [&](math::SinOp) { return chain(math::CosOp::create(b, loc, x(0))); })
      .Case([&](math::CosOp) {
        return chain(m.sub(Value(), math::SinOp::create(b, loc, x(0))));
      })
      .Case([&](math::ErfOp) {
        // 2/sqrt(pi) exp(-x^2)
        Value square = m.mul(x(0), x(0));
        return chain(
            m.mul(m.constant(r, 2.0 / std::sqrt(M_PI)),
                  math::ExpOp::create(b, loc, m.sub(Value(), square))));
      })
      .Case([&](math::PowFOp) {
        // d x^y = y x^(y-1) x' + r ln(x) y'
        Value base =
            t[0] ? m.mul(m.mul(x(1), math::PowFOp::create(
                                         b, loc, x(0),
                                         m.sub(x(1), m.constant(r, 1.0)))),
                         t[0])
                 : Value();
        Value exponent =
            t[1] ? m.mul(m.mul(r, math::LogOp::create(b, loc, x(0))), t[1])
                 : Value();
        return m.add(base, exponent);
      })
      .Default([](Operation *) { return Value(); });
}
