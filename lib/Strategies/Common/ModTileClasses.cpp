//===- ModTileClasses.cpp - Tiles classified from a mask_mod --------------===//
//
// See ModTileClasses.h. One interval evaluator of mask_mod bodies, written
// once over a domain of numbers: int64_t at compile time (ConstDomain), IR
// values at run time (IRDomain, the body of a tensor.generate over the
// tiles). The evaluator knows, for each integer, an interval [lo, hi] and
// static facts (a single value, non-negative, a bound on its magnitude,
// which mod argument it is); for each i1, whether it may and whether it
// must be true.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/ModTileClasses.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

#define DEBUG_TYPE "attn-mod-tiles"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The mod's arguments.
enum ModArg { kArgB = 0, kArgH = 1, kArgI = 2, kArgJ = 3 };

/// Positions of a dynamic length are taken to stay below this.
constexpr double kDynamicBound = 1099511627776.0; // 2^40

/// Largest magnitude a value of `type` holds (2^(w-1) - 1; index: 64 bits).
double typeBound(Type type) {
  unsigned width = type.isIndex() ? 64 : type.getIntOrFloatBitWidth();
  return std::ldexp(1.0, int(width) - 1) - 1.0;
}

/// What the evaluation knows of an integer or index value.
template <typename I>
struct AbsInt {
  bool known = false; ///< false: any value of its type.
  I lo{}, hi{};
  double magnitude = 0;  ///< |value| <= magnitude (static).
  bool point = false;    ///< A single value: lo (== hi).
  bool nonNegative = false;
  std::optional<int64_t> constant;
  int arg = -1; ///< The ModArg it equals, or -1.
};

/// What the evaluation knows of an i1: whether it may and must be true.
template <typename B>
struct AbsBool {
  B may, must;
};

//===----------------------------------------------------------------------===//
// Domains
//===----------------------------------------------------------------------===//

/// Numbers at compile time. Only constants reach it from outside the body.
struct ConstDomain {
  using Int = int64_t;
  using Bool = bool;
  Int c(int64_t v) { return v; }
  Int add(Int x, Int y) { return x + y; }
  Int sub(Int x, Int y) { return x - y; }
  Int mul(Int x, Int y) { return x * y; }
  Int min(Int x, Int y) { return std::min(x, y); }
  Int max(Int x, Int y) { return std::max(x, y); }
  Int sel(Bool c, Int x, Int y) { return c ? x : y; }
  Int floorDiv(Int x, int64_t d) {
    Int q = x / d;
    return (x % d != 0 && x < 0) ? q - 1 : q;
  }
  Int ceilDiv(Int x, int64_t d) { return -floorDiv(-x, d); }
  Int truncDiv(Int x, int64_t d) { return x / d; }
  Int truncRem(Int x, int64_t d) { return x % d; }
  Bool t(bool v) { return v; }
  Bool lt(Int x, Int y) { return x < y; }
  Bool le(Int x, Int y) { return x <= y; }
  Bool eq(Int x, Int y) { return x == y; }
  Bool both(Bool x, Bool y) { return x && y; }
  Bool either(Bool x, Bool y) { return x || y; }
  Bool no(Bool x) { return !x; }

  /// A scalar from above the body: a constant (checked before evaluating).
  Int outside(Value v) {
    APInt value;
    (void)matchPattern(v, m_ConstantInt(&value));
    return value.getSExtValue();
  }
  /// Element `indices` of a constant table, or nullopt out of its bounds.
  std::optional<Int> read(Value table, ArrayRef<Int> indices) {
    DenseElementsAttr values;
    if (!matchPattern(table, m_Constant(&values)))
      return std::nullopt;
    ArrayRef<int64_t> shape = values.getType().getShape();
    int64_t flat = 0;
    for (auto [index, size] : llvm::zip_equal(indices, shape)) {
      if (index < 0 || index >= size)
        return std::nullopt;
      flat = flat * size + index;
    }
    APInt element = values.isSplat() ? values.getSplatValue<APInt>()
                                     : values.getValues<APInt>()[flat];
    return element.getBitWidth() == 1 ? int64_t(element.getBoolValue())
                                      : element.getSExtValue();
  }
  /// No block summaries at compile time.
  std::optional<Int> summary(Value, unsigned, int, bool, ArrayRef<Int>) {
    return std::nullopt;
  }
};

/// Numbers as IR values (i64 and i1) in the body of the run-time
/// classification, with the tables' block summaries.
class IRDomain {
public:
  using Int = Value;
  using Bool = Value;
  using Summary = ModTileClassifier::Summary;

  IRDomain(OpBuilder &b, Location loc, ArrayRef<Summary> summaries)
      : b(b), loc(loc), summaries(summaries) {}
  /// For i (0) and j (1): the summary blocks that the argument's range
  /// covers (index values) and their size.
  SmallVector<Value> blocksOf[2];
  int64_t sizeOf[2] = {0, 0};

  Int c(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 64); }
  Int add(Int x, Int y) { return fold<arith::AddIOp>(x, y); }
  Int sub(Int x, Int y) { return fold<arith::SubIOp>(x, y); }
  Int mul(Int x, Int y) { return fold<arith::MulIOp>(x, y); }
  Int min(Int x, Int y) { return fold<arith::MinSIOp>(x, y); }
  Int max(Int x, Int y) { return fold<arith::MaxSIOp>(x, y); }
  Int sel(Bool c, Int x, Int y) {
    return b.createOrFold<arith::SelectOp>(loc, c, x, y);
  }
  Int floorDiv(Int x, int64_t d) { return fold<arith::FloorDivSIOp>(x, c(d)); }
  Int ceilDiv(Int x, int64_t d) { return fold<arith::CeilDivSIOp>(x, c(d)); }
  Int truncDiv(Int x, int64_t d) { return fold<arith::DivSIOp>(x, c(d)); }
  Int truncRem(Int x, int64_t d) { return fold<arith::RemSIOp>(x, c(d)); }
  Bool t(bool v) { return arith::ConstantIntOp::create(b, loc, v, 1); }
  Bool lt(Int x, Int y) { return cmp(arith::CmpIPredicate::slt, x, y); }
  Bool le(Int x, Int y) { return cmp(arith::CmpIPredicate::sle, x, y); }
  Bool eq(Int x, Int y) { return cmp(arith::CmpIPredicate::eq, x, y); }
  Bool both(Bool x, Bool y) { return fold<arith::AndIOp>(x, y); }
  Bool either(Bool x, Bool y) { return fold<arith::OrIOp>(x, y); }
  Bool no(Bool x) { return fold<arith::XOrIOp>(x, t(true)); }

  /// An i64 of an integer or index value (an i1 or `isUnsigned`: zero
  /// extended).
  Int widen(Value v, bool isUnsigned = false) {
    Type type = v.getType();
    if (type.isIndex())
      return b.createOrFold<arith::IndexCastOp>(loc, b.getI64Type(), v);
    unsigned width = type.getIntOrFloatBitWidth();
    if (width == 64)
      return v;
    if (width == 1 || isUnsigned)
      return b.createOrFold<arith::ExtUIOp>(loc, b.getI64Type(), v);
    return b.createOrFold<arith::ExtSIOp>(loc, b.getI64Type(), v);
  }
  Int outside(Value v) { return widen(v); }
  std::optional<Int> read(Value table, ArrayRef<Int> indices) {
    return widen(tensor::ExtractOp::create(b, loc, table, asIndex(indices)));
  }
  std::optional<Int> summary(Value table, unsigned dim, int arg, bool max,
                             ArrayRef<Int> indices) {
    int side = arg == kArgI ? 0 : 1;
    for (const Summary &s : summaries) {
      if (s.table != table || s.dim != dim || s.arg != arg ||
          s.size != sizeOf[side])
        continue;
      SmallVector<Value> at = asIndex(indices);
      Value last = b.createOrFold<arith::SubIOp>(
          loc, s.blocks, arith::ConstantIndexOp::create(b, loc, 1));
      std::optional<Int> result;
      for (Value block : blocksOf[side]) {
        // A table shorter than the positions is read out of bounds by the
        // kernel too; the summary stays in bounds.
        at[dim] = b.createOrFold<arith::MinSIOp>(loc, block, last);
        Int x = tensor::ExtractOp::create(b, loc, max ? s.max : s.min, at);
        result = !result ? x : max ? this->max(*result, x) : this->min(*result, x);
      }
      return result;
    }
    return std::nullopt;
  }

private:
  template <typename Op>
  Value fold(Value x, Value y) {
    return b.createOrFold<Op>(loc, x, y);
  }
  Value cmp(arith::CmpIPredicate predicate, Value x, Value y) {
    return b.createOrFold<arith::CmpIOp>(loc, predicate, x, y);
  }
  SmallVector<Value> asIndex(ArrayRef<Int> indices) {
    SmallVector<Value> at;
    for (Value index : indices)
      at.push_back(
          b.createOrFold<arith::IndexCastOp>(loc, b.getIndexType(), index));
    return at;
  }

  OpBuilder &b;
  Location loc;
  ArrayRef<Summary> summaries;
};

//===----------------------------------------------------------------------===//
// The evaluator
//===----------------------------------------------------------------------===//

template <typename D>
class ModEvaluator {
  using I = typename D::Int;
  using B = typename D::Bool;
  using Int = AbsInt<I>;
  using Bool = AbsBool<B>;

public:
  ModEvaluator(D &d, Block &body) : d(d), body(body) {}

  /// The mod's result for the arguments `args` (b, h, i, j).
  Bool run(ArrayRef<Int> args) {
    ints.clear();
    bools.clear();
    for (auto [arg, value] : llvm::zip_equal(body.getArguments(), args))
      ints[arg] = value;
    for (Operation &op : body.without_terminator())
      evaluate(op);
    return getBool(body.getTerminator()->getOperand(0));
  }

  /// A single known value.
  Int point(I value, double magnitude, bool nonNegative, int arg = -1) {
    Int v;
    v.known = v.point = true;
    v.lo = v.hi = value;
    v.magnitude = magnitude;
    v.nonNegative = nonNegative;
    v.arg = arg;
    return v;
  }
  /// Non-negative values [lo, hi] below `bound`.
  Int range(I lo, I hi, double bound, int arg) {
    Int v;
    v.known = true;
    v.lo = lo;
    v.hi = hi;
    v.magnitude = bound;
    v.nonNegative = true;
    v.arg = arg;
    return v;
  }

private:
  Bool anyBool() { return {d.t(true), d.t(false)}; }
  Bool exactly(B value) { return {value, value}; }

  Int getInt(Value v) {
    if (auto it = ints.find(v); it != ints.end())
      return it->second;
    if (v.getParentRegion() != body.getParent() && isIntegerLike(v)) {
      // From above the op (a tile's offsets): one value.
      Int outside = point(d.outside(v), typeBound(v.getType()), false);
      if (APInt c; matchPattern(v, m_ConstantInt(&c))) {
        outside.constant = c.getSExtValue();
        outside.nonNegative = *outside.constant >= 0;
        outside.magnitude = std::fabs(double(*outside.constant));
      }
      return ints[v] = outside;
    }
    return Int();
  }
  Bool getBool(Value v) {
    if (auto it = bools.find(v); it != bools.end())
      return it->second;
    // A constant from above the body (canonicalization hoists them).
    if (APInt c; v.getParentRegion() != body.getParent() && isBool(v) &&
                 matchPattern(v, m_ConstantInt(&c)))
      return bools[v] = exactly(d.t(!c.isZero()));
    return anyBool();
  }
  static bool isIntegerLike(Value v) {
    Type type = v.getType();
    return type.isIndex() ||
           (type.isInteger() && type.getIntOrFloatBitWidth() > 1);
  }
  static bool isBool(Value v) { return v.getType().isInteger(1); }

  /// `v` for a result of `type`, or any value when it could leave the
  /// type's range (arith wraps; intervals do not).
  void setInt(Value result, Int v) {
    if (!v.known || v.magnitude > typeBound(result.getType()))
      v = Int();
    ints[result] = v;
  }
  /// Interval of the values of [lo, hi] under an increasing function.
  template <typename F>
  Int monotone(const Int &x, double magnitude, F f) {
    Int v;
    v.known = true;
    v.lo = f(x.lo);
    v.hi = f(x.hi);
    v.point = x.point;
    v.magnitude = magnitude;
    v.nonNegative = x.nonNegative; // constants are not tracked through it
    return v;
  }

  void evaluate(Operation &op) {
    llvm::TypeSwitch<Operation *>(&op)
        .Case([&](arith::ConstantOp c) {
          auto attr = dyn_cast<IntegerAttr>(c.getValue());
          if (!attr)
            return;
          if (isBool(c)) {
            bools[c] = exactly(d.t(!attr.getValue().isZero()));
            return;
          }
          int64_t value = attr.getValue().getSExtValue();
          Int v = point(d.c(value), std::fabs(double(value)), value >= 0);
          v.constant = value;
          ints[c] = v;
        })
        .Case([&](arith::AddIOp o) { binary(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::SubIOp o) { binary(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::MulIOp o) { binary(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::MinSIOp o) { binary(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::MaxSIOp o) { binary(o, o.getLhs(), o.getRhs()); })
        .Case([&](math::AbsIOp o) { absolute(o, o.getOperand()); })
        .Case([&](arith::DivSIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::DivUIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case(
            [&](arith::FloorDivSIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case(
            [&](arith::CeilDivSIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::RemSIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::RemUIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::IndexCastOp o) { cast(o, o.getIn(), false); })
        .Case([&](arith::IndexCastUIOp o) { cast(o, o.getIn(), true); })
        .Case([&](arith::ExtSIOp o) { cast(o, o.getIn(), false); })
        .Case([&](arith::ExtUIOp o) { cast(o, o.getIn(), true); })
        .Case([&](arith::TruncIOp o) { cast(o, o.getIn(), false); })
        .Case([&](arith::CmpIOp o) { compare(o); })
        .Case([&](arith::AndIOp o) { logic(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::OrIOp o) { logic(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::XOrIOp o) { logic(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::SelectOp o) { select(o); })
        .Case([&](tensor::ExtractOp o) { extract(o); });
    // Anything else: its results are any value (not recorded).
  }

  void binary(Operation *op, Value lhs, Value rhs) {
    Int x = getInt(lhs), y = getInt(rhs);
    Value result = op->getResult(0);
    if (!x.known || !y.known)
      return setInt(result, Int());
    Int v;
    v.known = true;
    v.point = x.point && y.point;
    if (isa<arith::AddIOp>(op)) {
      v.lo = d.add(x.lo, y.lo);
      v.hi = d.add(x.hi, y.hi);
      v.magnitude = x.magnitude + y.magnitude;
      v.nonNegative = x.nonNegative && y.nonNegative;
      if (x.constant && y.constant)
        v.constant = *x.constant + *y.constant;
    } else if (isa<arith::SubIOp>(op)) {
      v.lo = d.sub(x.lo, y.hi);
      v.hi = d.sub(x.hi, y.lo);
      v.magnitude = x.magnitude + y.magnitude;
      if (x.constant && y.constant)
        v.constant = *x.constant - *y.constant;
      v.nonNegative = v.constant && *v.constant >= 0;
    } else if (isa<arith::MulIOp>(op)) {
      v.magnitude = x.magnitude * y.magnitude;
      v.nonNegative = x.nonNegative && y.nonNegative;
      if (!x.constant)
        std::swap(x, y);
      if (x.constant) {
        // By a constant: the interval scaled, flipped when negative.
        I c = d.c(*x.constant);
        v.lo = *x.constant >= 0 ? d.mul(y.lo, c) : d.mul(y.hi, c);
        v.hi = *x.constant >= 0 ? d.mul(y.hi, c) : d.mul(y.lo, c);
        if (y.constant)
          v.constant = *x.constant * *y.constant;
      } else {
        I p1 = d.mul(x.lo, y.lo), p2 = d.mul(x.lo, y.hi);
        I p3 = d.mul(x.hi, y.lo), p4 = d.mul(x.hi, y.hi);
        v.lo = d.min(d.min(p1, p2), d.min(p3, p4));
        v.hi = d.max(d.max(p1, p2), d.max(p3, p4));
      }
    } else {
      bool isMin = isa<arith::MinSIOp>(op);
      v.lo = isMin ? d.min(x.lo, y.lo) : d.max(x.lo, y.lo);
      v.hi = isMin ? d.min(x.hi, y.hi) : d.max(x.hi, y.hi);
      v.magnitude = std::max(x.magnitude, y.magnitude);
      v.nonNegative = isMin ? x.nonNegative && y.nonNegative
                            : x.nonNegative || y.nonNegative;
    }
    setInt(result, v);
  }

  /// |x|: [lo, hi] when lo >= 0, [-hi, -lo] when hi <= 0, else [0,
  /// max(-lo, hi)].
  void absolute(Operation *op, Value in) {
    Int x = getInt(in);
    Value result = op->getResult(0);
    if (!x.known)
      return setInt(result, Int());
    Int v;
    v.known = true;
    v.point = x.point;
    v.magnitude = x.magnitude;
    v.nonNegative = true;
    I zero = d.c(0);
    I negLo = d.sub(zero, x.lo), negHi = d.sub(zero, x.hi);
    B above = d.le(zero, x.lo), below = d.le(x.hi, zero);
    v.lo = d.sel(above, x.lo, d.sel(below, negHi, zero));
    v.hi = d.sel(above, x.hi, d.sel(below, negLo, d.max(negLo, x.hi)));
    if (x.constant)
      v.constant = *x.constant < 0 ? -*x.constant : *x.constant;
    setInt(result, v);
  }

  /// Quotients and remainders by a positive constant.
  void division(Operation *op, Value lhs, Value rhs) {
    Int x = getInt(lhs), y = getInt(rhs);
    Value result = op->getResult(0);
    bool isUnsigned = isa<arith::DivUIOp, arith::RemUIOp>(op);
    if (!x.known || !y.constant || *y.constant <= 0 ||
        (isUnsigned && !x.nonNegative))
      return setInt(result, Int());
    int64_t c = *y.constant;
    if (isa<arith::RemSIOp, arith::RemUIOp>(op)) {
      // Within one period of a non-negative range, or of a non-positive one
      // (where the truncated remainder rises with x too): [lo % c, hi % c];
      // otherwise [0, c - 1], or [-(c - 1), c - 1] when the range may be
      // negative.
      B inOnePeriod =
          d.either(d.both(d.le(d.c(0), x.lo),
                          d.eq(d.floorDiv(x.lo, c), d.floorDiv(x.hi, c))),
                   d.both(d.le(x.hi, d.c(0)),
                          d.eq(d.truncDiv(x.lo, c), d.truncDiv(x.hi, c))));
      Int v;
      v.known = true;
      v.point = x.point;
      v.magnitude = double(c - 1);
      v.nonNegative = x.nonNegative;
      I low = x.nonNegative ? d.c(0) : d.sel(d.le(d.c(0), x.lo), d.c(0),
                                              d.c(-(c - 1)));
      v.lo = d.sel(inOnePeriod, d.truncRem(x.lo, c), low);
      v.hi = d.sel(inOnePeriod, d.truncRem(x.hi, c), d.c(c - 1));
      return setInt(result, v);
    }
    double magnitude = x.magnitude / double(c) + 1.0;
    if (isa<arith::FloorDivSIOp>(op))
      return setInt(result, monotone(x, magnitude, [&](I v) {
                      return d.floorDiv(v, c);
                    }));
    if (isa<arith::CeilDivSIOp>(op))
      return setInt(result, monotone(x, magnitude, [&](I v) {
                      return d.ceilDiv(v, c);
                    }));
    setInt(result,
           monotone(x, magnitude, [&](I v) { return d.truncDiv(v, c); }));
  }

  /// Casts between integer types and index keep the value when it fits;
  /// an unsigned reading needs a non-negative value; an i1 widens to 0/1.
  void cast(Operation *op, Value in, bool isUnsigned) {
    Value result = op->getResult(0);
    if (isBool(in)) {
      if (!isUnsigned)
        return setInt(result, Int());
      Bool flag = getBool(in);
      Int v;
      v.known = true;
      v.lo = d.sel(flag.must, d.c(1), d.c(0));
      v.hi = d.sel(flag.may, d.c(1), d.c(0));
      v.magnitude = 1;
      v.nonNegative = true;
      return setInt(result, v);
    }
    if (isBool(result))
      return; // a truncation to i1: any value
    Int x = getInt(in);
    if (isUnsigned && !x.nonNegative)
      return setInt(result, Int());
    setInt(result, x);
  }

  void compare(arith::CmpIOp op) {
    using P = arith::CmpIPredicate;
    P predicate = op.getPredicate();
    if (isBool(op.getLhs())) {
      // i1 == i1 and i1 != i1 as logic.
      if (predicate != P::eq && predicate != P::ne)
        return;
      Bool x = getBool(op.getLhs()), y = getBool(op.getRhs());
      Bool differ = exclusiveOr(x, y);
      bools[op] = predicate == P::ne ? differ : negate(differ);
      return;
    }
    Int x = getInt(op.getLhs()), y = getInt(op.getRhs());
    if (!x.known || !y.known)
      return;
    switch (predicate) {
    case P::ult:
    case P::ule:
    case P::ugt:
    case P::uge:
      // Unsigned order is the signed one on non-negative values.
      if (!x.nonNegative || !y.nonNegative)
        return;
      break;
    default:
      break;
    }
    switch (predicate) {
    case P::sgt:
    case P::ugt:
      std::swap(x, y);
      [[fallthrough]];
    case P::slt:
    case P::ult:
      bools[op] = {d.lt(x.lo, y.hi), d.lt(x.hi, y.lo)};
      return;
    case P::sge:
    case P::uge:
      std::swap(x, y);
      [[fallthrough]];
    case P::sle:
    case P::ule:
      bools[op] = {d.le(x.lo, y.hi), d.le(x.hi, y.lo)};
      return;
    case P::eq:
    case P::ne: {
      Bool equal = equality(x, y);
      bools[op] = predicate == P::eq ? equal : negate(equal);
      return;
    }
    }
  }

  Bool equality(const Int &x, const Int &y) {
    B may = d.both(d.le(x.lo, y.hi), d.le(y.lo, x.hi));
    if (x.point && y.point)
      return {may, d.eq(x.lo, y.lo)};
    B must = d.both(d.both(d.eq(x.lo, x.hi), d.eq(y.lo, y.hi)),
                    d.eq(x.lo, y.lo));
    return {may, must};
  }
  Bool negate(const Bool &x) { return {d.no(x.must), d.no(x.may)}; }
  Bool exclusiveOr(const Bool &x, const Bool &y) {
    return {d.either(d.both(x.may, d.no(y.must)), d.both(d.no(x.must), y.may)),
            d.either(d.both(x.must, d.no(y.may)), d.both(d.no(x.may), y.must))};
  }

  void logic(Operation *op, Value lhs, Value rhs) {
    if (!isBool(op->getResult(0)))
      return setInt(op->getResult(0), Int());
    Bool x = getBool(lhs), y = getBool(rhs);
    if (isa<arith::AndIOp>(op))
      bools[op->getResult(0)] = {d.both(x.may, y.may), d.both(x.must, y.must)};
    else if (isa<arith::OrIOp>(op))
      bools[op->getResult(0)] = {d.either(x.may, y.may),
                                 d.either(x.must, y.must)};
    else
      bools[op->getResult(0)] = exclusiveOr(x, y);
  }

  void select(arith::SelectOp op) {
    if (isa<ShapedType>(op.getCondition().getType()))
      return;
    Bool c = getBool(op.getCondition());
    if (isBool(op)) {
      Bool x = getBool(op.getTrueValue()), y = getBool(op.getFalseValue());
      bools[op] = {d.either(d.both(c.may, x.may), d.both(d.no(c.must), y.may)),
                   d.either(d.either(d.both(c.must, x.must),
                                     d.both(d.no(c.may), y.must)),
                            d.both(x.must, y.must))};
      return;
    }
    Int x = getInt(op.getTrueValue()), y = getInt(op.getFalseValue());
    if (!x.known || !y.known)
      return setInt(op, Int());
    // The chosen side when the condition is known, else both.
    Int v;
    v.known = true;
    v.lo = d.sel(c.must, x.lo, d.sel(c.may, d.min(x.lo, y.lo), y.lo));
    v.hi = d.sel(c.must, x.hi, d.sel(c.may, d.max(x.hi, y.hi), y.hi));
    v.magnitude = std::max(x.magnitude, y.magnitude);
    v.nonNegative = x.nonNegative && y.nonNegative;
    setInt(op, v);
  }

  /// A table read: at single values, the element; along the block of the
  /// i or j argument (other indices single values), the block's summary.
  void extract(tensor::ExtractOp op) {
    Type element = op.getType();
    if (!element.isIndex() && !element.isInteger())
      return;
    SmallVector<I> at;
    int ranged = -1;
    for (auto [k, index] : llvm::enumerate(op.getIndices())) {
      Int v = getInt(index);
      if (!v.known)
        return;
      if (!v.point) {
        if (ranged >= 0 || (v.arg != kArgI && v.arg != kArgJ))
          return;
        ranged = int(k);
      }
      at.push_back(v.lo);
    }
    std::optional<I> lo, hi;
    if (ranged < 0) {
      lo = hi = d.read(op.getTensor(), at);
    } else {
      int arg = getInt(op.getIndices()[ranged]).arg;
      lo = d.summary(op.getTensor(), ranged, arg, false, at);
      hi = d.summary(op.getTensor(), ranged, arg, true, at);
    }
    if (!lo || !hi)
      return;
    if (isBool(op)) {
      bools[op] = {d.lt(d.c(0), *hi), d.lt(d.c(0), *lo)};
      return;
    }
    Int v;
    v.known = true;
    v.point = ranged < 0;
    v.lo = *lo;
    v.hi = *hi;
    v.magnitude = typeBound(element);
    setInt(op, v);
  }

  D &d;
  Block &body;
  DenseMap<Value, Int> ints;
  DenseMap<Value, Bool> bools;
};

/// Whether `problem`'s mask_mod reads its `b` (kArgB) or `h` argument.
bool readsArg(const AttentionProblem &problem, unsigned arg) {
  return !problem.maskMod->front().getArgument(arg).use_empty();
}

/// The dimensions of the classes: {Bm, Hm, blocks, tiles}, kDynamic where
/// not static.
SmallVector<int64_t> classShape(const AttentionProblem &p, int64_t blockQ,
                                int64_t blockK) {
  auto ceilDiv = [](int64_t x, int64_t d) {
    return ShapedType::isDynamic(x) ? ShapedType::kDynamic : (x + d - 1) / d;
  };
  int64_t batch = cast<RankedTensorType>(p.query.getType()).getDimSize(0);
  return {readsArg(p, kArgB) ? batch : 1, readsArg(p, kArgH) ? p.headsQ : 1,
          ceilDiv(p.queryLength(), blockQ), ceilDiv(p.keyLength(), blockK)};
}

/// A bound on positions below `length` (kDynamic: kDynamicBound).
double positionBound(int64_t length) {
  return ShapedType::isDynamic(length) ? kDynamicBound : double(length);
}

/// Whether the mod's body reads nothing from above it but constants.
bool readsOnlyConstants(Block &body) {
  return !body.walk([&](Operation *op) {
                for (Value operand : op->getOperands())
                  if (operand.getParentRegion() != body.getParent() &&
                      !matchPattern(operand, m_Constant()))
                    return WalkResult::interrupt();
                return WalkResult::advance();
              })
              .wasInterrupted();
}

/// The class of a tile from the mod's result on it.
template <typename D>
typename D::Int classOf(D &d, const AbsBool<typename D::Bool> &result) {
  return d.sel(result.must, d.c(int64_t(TileClass::Full)),
               d.sel(result.may, d.c(int64_t(TileClass::Partial)),
                     d.c(int64_t(TileClass::Empty))));
}

/// The tables whose reads along i or j take block summaries: (table,
/// dimension, argument) for each read whose index there is that argument.
SmallVector<std::tuple<Value, unsigned, int>>
summarizedReads(const AttentionProblem &p) {
  SmallVector<std::tuple<Value, unsigned, int>> reads;
  Block &body = p.maskMod->front();
  body.walk([&](tensor::ExtractOp extract) {
    Type element = extract.getType();
    if (!element.isIndex() && !element.isInteger())
      return;
    for (auto [k, index] : llvm::enumerate(extract.getIndices())) {
      for (int arg : {kArgI, kArgJ}) {
        if (index != body.getArgument(arg))
          continue;
        auto key = std::make_tuple(extract.getTensor(), unsigned(k), arg);
        if (!llvm::is_contained(reads, key))
          reads.push_back(key);
      }
    }
  });
  return reads;
}

/// An i64 of a table element inside a summary's body (i1 as 0/1).
Value widenElement(OpBuilder &b, Location loc, Value element) {
  Type type = element.getType();
  if (type.isIndex())
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), element);
  if (type.getIntOrFloatBitWidth() == 64)
    return element;
  if (type.isInteger(1))
    return arith::ExtUIOp::create(b, loc, b.getI64Type(), element);
  return arith::ExtSIOp::create(b, loc, b.getI64Type(), element);
}

/// The element of `type` that a minimum (or with `forMax` a maximum) of
/// widened elements never picks.
TypedAttr neutralElement(OpBuilder &b, Type type, bool forMax) {
  if (type.isInteger(1))
    return b.getBoolAttr(!forMax);
  unsigned width = type.isIndex() ? 64 : type.getIntOrFloatBitWidth();
  APInt value = forMax ? APInt::getSignedMinValue(width)
                       : APInt::getSignedMaxValue(width);
  return b.getIntegerAttr(type, value);
}

/// The minimum and the maximum (i64) of `table` over blocks of `size`
/// along `dim`, as one linalg reduction of the table cut into blocks
/// (padded with neutral elements where the blocks overhang it); `blocks`
/// is set to their number.
std::pair<Value, Value> blockSummary(OpBuilder &b, Location loc, Value table,
                                     unsigned dim, int64_t size,
                                     Value &blocks) {
  auto type = cast<RankedTensorType>(table.getType());
  int64_t rank = type.getRank();
  Type element = type.getElementType();
  Value length = tensor::DimOp::create(b, loc, table, dim);
  Value sizeValue = arith::ConstantIndexOp::create(b, loc, size);
  blocks = arith::CeilDivUIOp::create(b, loc, length, sizeValue);
  bool divides =
      !type.isDynamicDim(dim) && type.getDimSize(dim) % size == 0;
  int64_t staticBlocks = type.isDynamicDim(dim)
                             ? ShapedType::kDynamic
                             : (type.getDimSize(dim) + size - 1) / size;
  SmallVector<int64_t> paddedShape(type.getShape());
  paddedShape[dim] = staticBlocks == ShapedType::kDynamic
                         ? ShapedType::kDynamic
                         : staticBlocks * size;
  auto pad = [&](bool forMax) -> Value {
    if (divides)
      return table;
    SmallVector<OpFoldResult> low(rank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> high(rank, b.getIndexAttr(0));
    high[dim] = arith::SubIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, blocks, sizeValue),
                    length)
                    .getResult();
    Value neutral = arith::ConstantOp::create(
        b, loc, neutralElement(b, element, forMax));
    return tensor::PadOp::create(
        b, loc, RankedTensorType::get(paddedShape, element), table, low, high,
        neutral);
  };
  // [..., blocks, size, ...]
  SmallVector<int64_t> cutShape(paddedShape);
  cutShape[dim] = staticBlocks;
  cutShape.insert(cutShape.begin() + dim + 1, size);
  SmallVector<ReassociationIndices> groups;
  for (int64_t k = 0; k < rank; ++k) {
    if (k < int64_t(dim))
      groups.push_back({k});
    else if (k == int64_t(dim))
      groups.push_back({k, k + 1});
    else
      groups.push_back({k + 1});
  }
  SmallVector<OpFoldResult> cutSizes;
  for (int64_t k = 0; k < rank; ++k) {
    if (k == int64_t(dim)) {
      cutSizes.push_back(staticBlocks == ShapedType::kDynamic
                             ? OpFoldResult(blocks)
                             : OpFoldResult(b.getIndexAttr(staticBlocks)));
      cutSizes.push_back(b.getIndexAttr(size));
    } else {
      cutSizes.push_back(
          type.isDynamicDim(k)
              ? OpFoldResult(tensor::DimOp::create(b, loc, table, k).getResult())
              : OpFoldResult(b.getIndexAttr(type.getDimSize(k))));
    }
  }
  auto cut = [&](Value padded) -> Value {
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(cutShape, element), padded, groups,
        cutSizes);
  };
  // Results [..., blocks, ...], starting from the i64 extremes.
  SmallVector<int64_t> summaryShape(type.getShape());
  summaryShape[dim] = staticBlocks;
  SmallVector<OpFoldResult> summarySizes(cutSizes);
  summarySizes.erase(summarySizes.begin() + dim + 1);
  auto summaryType = RankedTensorType::get(summaryShape, b.getI64Type());
  auto init = [&](int64_t value) -> Value {
    Value empty =
        tensor::EmptyOp::create(b, loc, summarySizes, b.getI64Type());
    return linalg::FillOp::create(
               b, loc,
               ValueRange{arith::ConstantIntOp::create(b, loc, value, 64)},
               ValueRange{empty})
        .getResult(0);
  };
  AffineMap in = b.getMultiDimIdentityMap(rank + 1);
  AffineMap out = in.dropResult(dim + 1);
  SmallVector<utils::IteratorType> iterators(rank + 1,
                                             utils::IteratorType::parallel);
  iterators[dim + 1] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc,
      TypeRange{summaryType, summaryType},
      ValueRange{cut(pad(false)), cut(pad(true))},
      ValueRange{init(std::numeric_limits<int64_t>::max()),
                 init(std::numeric_limits<int64_t>::min())},
      ArrayRef<AffineMap>{in, in, out, out}, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value lo = arith::MinSIOp::create(nb, l, widenElement(nb, l, args[0]),
                                          args[2]);
        Value hi = arith::MaxSIOp::create(nb, l, widenElement(nb, l, args[1]),
                                          args[3]);
        linalg::YieldOp::create(nb, l, ValueRange{lo, hi});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

} // namespace

std::optional<SmallVector<int8_t>>
mlir::attn::classesAtCompileTime(const AttentionProblem &p, int64_t blockQ,
                                 int64_t blockK) {
  SmallVector<int64_t> shape = classShape(p, blockQ, blockK);
  if (llvm::any_of(shape, ShapedType::isDynamic))
    return std::nullopt;
  Block &body = p.maskMod->front();
  if (!readsOnlyConstants(body))
    return std::nullopt;
  int64_t lq = p.queryLength(), lk = p.keyLength();
  int64_t batch = cast<RankedTensorType>(p.query.getType()).getDimSize(0);
  ConstDomain d;
  ModEvaluator<ConstDomain> evaluator(d, body);
  SmallVector<int8_t> classes;
  classes.reserve(shape[0] * shape[1] * shape[2] * shape[3]);
  for (int64_t bm = 0; bm < shape[0]; ++bm)
    for (int64_t hm = 0; hm < shape[1]; ++hm)
      for (int64_t qb = 0; qb < shape[2]; ++qb)
        for (int64_t t = 0; t < shape[3]; ++t) {
          AbsInt<int64_t> args[] = {
              evaluator.point(bm, positionBound(batch), true, kArgB),
              evaluator.point(hm, double(p.headsQ), true, kArgH),
              evaluator.range(qb * blockQ,
                              std::min(qb * blockQ + blockQ, lq) - 1,
                              double(lq), kArgI),
              evaluator.range(t * blockK,
                              std::min(t * blockK + blockK, lk) - 1,
                              double(lk), kArgJ)};
          classes.push_back(int8_t(classOf(d, evaluator.run(args))));
        }
  return classes;
}

/// Bisects query i's keys [0, lk), leftmost first, until the mod must or
/// must not allow each range (b = `batch` and h = `head`, points below
/// `batches` and `heads`), skipping the ranges `skip` names: calls `allowed`
/// with each range it must allow. False when `allowed` refuses a range, a
/// single key cannot be decided, or `evaluations` passes `budget`.
static bool bisectRowKeys(ModEvaluator<ConstDomain> &evaluator, int64_t batch,
                          double batches, int64_t head, double heads, int64_t i,
                          int64_t lq, int64_t lk, int64_t budget,
                          int64_t &evaluations,
                          function_ref<bool(int64_t, int64_t)> skip,
                          function_ref<bool(int64_t, int64_t)> allowed) {
  // Key ranges still to decide, the leftmost last.
  SmallVector<std::pair<int64_t, int64_t>> pending{{0, lk - 1}};
  while (!pending.empty()) {
    auto [first, last] = pending.pop_back_val();
    if (skip(first, last))
      continue;
    if (++evaluations > budget)
      return false;
    AbsInt<int64_t> args[] = {evaluator.point(batch, batches, true, kArgB),
                              evaluator.point(head, heads, true, kArgH),
                              evaluator.point(i, double(lq), true, kArgI),
                              evaluator.range(first, last, double(lk), kArgJ)};
    AbsBool<bool> result = evaluator.run(args);
    if (result.must) {
      if (!allowed(first, last))
        return false;
    } else if (result.may) {
      if (first == last)
        return false;
      int64_t mid = first + (last - first) / 2;
      pending.push_back({mid + 1, last});
      pending.push_back({first, mid});
    }
  }
  return true;
}

std::optional<SmallVector<std::pair<int64_t, int64_t>>>
mlir::attn::maskRowIntervals(Block &body, int64_t lq, int64_t lk,
                             int64_t budget) {
  if (!body.getArgument(kArgB).use_empty() ||
      !body.getArgument(kArgH).use_empty())
    return std::nullopt;
  if (!readsOnlyConstants(body))
    return std::nullopt;
  ConstDomain d;
  ModEvaluator<ConstDomain> evaluator(d, body);
  SmallVector<std::pair<int64_t, int64_t>> rows;
  int64_t evaluations = 0;
  for (int64_t i = 0; i < lq; ++i) {
    int64_t lo = 1, hi = 0;
    // The allowed ranges come in order; they must join into one.
    auto join = [&](int64_t first, int64_t last) {
      if (lo > hi)
        lo = first;
      else if (first != hi + 1)
        return false;
      hi = last;
      return true;
    };
    if (!bisectRowKeys(
            evaluator, 0, 1, 0, 1, i, lq, lk, budget, evaluations,
            [](int64_t, int64_t) { return false; }, join))
      return std::nullopt;
    rows.push_back({lo, hi});
  }
  return rows;
}

std::optional<int64_t>
mlir::attn::allowedPairsAtCompileTime(const AttentionProblem &p,
                                      int64_t budget) {
  SmallVector<int64_t> shape = classShape(p, /*blockQ=*/1, /*blockK=*/1);
  int64_t batch = cast<RankedTensorType>(p.query.getType()).getDimSize(0);
  if (p.isNeighborhood || llvm::any_of(shape, ShapedType::isDynamic) ||
      ShapedType::isDynamic(batch))
    return std::nullopt;
  Block &body = p.maskMod->front();
  if (!readsOnlyConstants(body))
    return std::nullopt;
  int64_t lq = p.queryLength(), lk = p.keyLength();
  semantics::BandRule rule = p.bandRule(lq, lk);
  ConstDomain d;
  ModEvaluator<ConstDomain> evaluator(d, body);
  int64_t evaluations = 0, pairs = 0;
  // A mod that does not read b (h) counts once for every batch (head).
  int64_t repeats =
      (shape[0] == 1 ? batch : 1) * (shape[1] == 1 ? p.headsQ : 1);
  // Beyond kExactRows rows, evenly spaced rows stand for the others.
  constexpr int64_t kExactRows = 8192;
  int64_t rows = std::min(lq, kExactRows);
  for (int64_t bm = 0; bm < shape[0]; ++bm)
    for (int64_t hm = 0; hm < shape[1]; ++hm)
      for (int64_t row = 0; row < rows; ++row) {
        int64_t i = rows == lq ? row : row * (lq - 1) / (rows - 1);
        // Ranges the rules allow no key of are not evaluated.
        auto ruledOut = [&](int64_t first, int64_t last) {
          return rule.countAllowedIn(i, first, last) == 0;
        };
        auto count = [&](int64_t first, int64_t last) {
          pairs += rule.countAllowedIn(i, first, last);
          return true;
        };
        if (!bisectRowKeys(evaluator, bm, positionBound(batch), hm,
                           double(p.headsQ), i, lq, lk, budget, evaluations,
                           ruledOut, count))
          return std::nullopt;
      }
  return static_cast<int64_t>(static_cast<double>(pairs) *
                              static_cast<double>(lq) /
                              static_cast<double>(rows)) *
         repeats;
}

ModTileClassifier::ModTileClassifier(OpBuilder &b, Location loc,
                                     const AttentionProblem &problem,
                                     int64_t blockQ, int64_t blockK,
                                     int64_t rowGroup, Value lq, Value lk)
    : b(b), loc(loc), problem(problem), blockQ(blockQ), blockK(blockK),
      rowGroup(rowGroup), lq(lq), lk(lk) {
  for (auto [table, dim, arg] : summarizedReads(problem)) {
    SmallVector<int64_t> sizes = {arg == kArgI ? blockQ : blockK};
    if (arg == kArgI && rowGroup > 0 && rowGroup != blockQ)
      sizes.push_back(rowGroup);
    for (int64_t size : sizes) {
      Summary s{table, dim, arg, size, Value(), Value(), Value()};
      std::tie(s.min, s.max) =
          blockSummary(b, loc, table, dim, size, s.blocks);
      summaries.push_back(s);
    }
  }
}

/// The arguments of the evaluation of a tile: b and h single values, the
/// rows [iLo, iHi] and the keys of tile `tile` (all index values).
static SmallVector<AbsInt<Value>>
tileArguments(IRDomain &d, ModEvaluator<IRDomain> &evaluator,
              const AttentionProblem &p, Value batch, Value head, Value iLo,
              Value iHi, Value tile, int64_t blockK, Value lk) {
  Value j0 = d.mul(d.widen(tile), d.c(blockK));
  Value j1 = d.sub(d.min(d.add(j0, d.c(blockK)), d.widen(lk)), d.c(1));
  return {evaluator.point(d.widen(batch),
                          positionBound(cast<RankedTensorType>(
                                            p.query.getType())
                                            .getDimSize(0)),
                          true, kArgB),
          evaluator.point(d.widen(head), double(p.headsQ), true, kArgH),
          evaluator.range(d.widen(iLo), d.widen(iHi),
                          positionBound(p.queryLength()), kArgI),
          evaluator.range(j0, j1, positionBound(p.keyLength()), kArgJ)};
}

Value ModTileClassifier::classes(IntegerType elementType) {
  SmallVector<int64_t> shape = classShape(problem, blockQ, blockK);
  auto type = RankedTensorType::get(shape, elementType);
  auto where = [&](llvm::raw_ostream &os) -> llvm::raw_ostream & {
    return os << "[" DEBUG_TYPE "] mask_mod of '"
              << problem.op->getName() << "' at " << problem.op->getLoc()
              << ", blocks of " << blockQ << " rows, tiles of " << blockK
              << " keys: ";
  };
  if (std::optional<SmallVector<int8_t>> classes =
          classesAtCompileTime(problem, blockQ, blockK)) {
    ATTN_DEBUG({
      int64_t count[3] = {0, 0, 0};
      for (int8_t c : *classes)
        ++count[c];
      where(llvm::dbgs()) << "classified at compile time: " << count[0]
                          << " empty, " << count[1] << " partial, "
                          << count[2] << " full\n";
    });
    SmallVector<APInt> values;
    for (int8_t c : *classes)
      values.push_back(APInt(elementType.getWidth(), c));
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  }
  ATTN_DEBUG({
    where(llvm::dbgs()) << "classified at run time";
    for (const Summary &s : summaries)
      llvm::dbgs() << "; table " << s.table.getType() << " dim " << s.dim
                   << " summarized by " << (s.arg == kArgI ? "i" : "j")
                   << " in blocks of " << s.size;
    llvm::dbgs() << "\n";
  });

  // At run time: one generated tensor that evaluates the mod on every tile.
  auto ceilDiv = [&](Value x, int64_t d) -> Value {
    return arith::CeilDivUIOp::create(
        b, loc, x, arith::ConstantIndexOp::create(b, loc, d));
  };
  SmallVector<Value> dynamic;
  Value sizes[] = {tensor::DimOp::create(b, loc, problem.query, 0), Value(),
                   ceilDiv(lq, blockQ), ceilDiv(lk, blockK)};
  for (int64_t k = 0; k < 4; ++k)
    if (ShapedType::isDynamic(shape[k]))
      dynamic.push_back(sizes[k]);
  return generateTensor(
      b, loc, type, dynamic,
      [&](OpBuilder &nb, Location l, ValueRange indices) {
        SmallVector<Value> tile(indices);
        IRDomain d(nb, l, summaries);
        d.blocksOf[0] = {tile[2]};
        d.sizeOf[0] = blockQ;
        d.blocksOf[1] = {tile[3]};
        d.sizeOf[1] = blockK;
        ModEvaluator<IRDomain> evaluator(d, problem.maskMod->front());
        Value q = arith::ConstantIndexOp::create(nb, l, blockQ);
        Value iLo = arith::MulIOp::create(nb, l, tile[2], q);
        Value iHi = arith::SubIOp::create(
            nb, l,
            arith::MinUIOp::create(nb, l, arith::AddIOp::create(nb, l, iLo, q),
                                   lq),
            arith::ConstantIndexOp::create(nb, l, 1));
        SmallVector<AbsInt<Value>> args =
            tileArguments(d, evaluator, problem, tile[0], tile[1], iLo, iHi,
                          tile[3], blockK, lk);
        Value cls = classOf(d, evaluator.run(args));
        return arith::TruncIOp::create(nb, l, elementType, cls);
      });
}

std::pair<Value, Value> ModTileClassifier::rowsInTile(Value batch, Value head,
                                                      Value iLo, Value iHi,
                                                      Value tile) {
  assert(rowGroup > 0 && "rowsInTile needs summaries of row groups");
  IRDomain d(b, loc, summaries);
  // The rows lie in at most two groups of rowGroup rows.
  Value size = arith::ConstantIndexOp::create(b, loc, rowGroup);
  d.blocksOf[0] = {arith::DivUIOp::create(b, loc, iLo, size),
                   arith::DivUIOp::create(b, loc, iHi, size)};
  d.sizeOf[0] = rowGroup;
  d.blocksOf[1] = {tile};
  d.sizeOf[1] = blockK;
  ModEvaluator<IRDomain> evaluator(d, problem.maskMod->front());
  SmallVector<AbsInt<Value>> args = tileArguments(
      d, evaluator, problem, batch, head, iLo, iHi, tile, blockK, lk);
  AbsBool<Value> result = evaluator.run(args);
  return {result.may, result.must};
}
