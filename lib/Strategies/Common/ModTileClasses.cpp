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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

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
  /// Minimum and maximum of a table over blocks along one dimension, read
  /// by the evaluation of an index that is the mod argument `arg` (i: query
  /// blocks, j: key tiles).
  struct Summary {
    Value table;
    unsigned dim;
    int arg;
    Value min, max, blocks;
  };

  IRDomain(OpBuilder &b, Location loc, ArrayRef<Summary> summaries)
      : b(b), loc(loc), summaries(summaries) {}
  /// The query block and key tile being classified (index values).
  Value queryBlock, keyTile;

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

  /// An i64 of an integer or index value.
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
    Value element = tensor::ExtractOp::create(b, loc, table, asIndex(indices));
    return widen(element);
  }
  std::optional<Int> summary(Value table, unsigned dim, int arg, bool max,
                             ArrayRef<Int> indices) {
    for (const Summary &s : summaries) {
      if (s.table != table || s.dim != dim || s.arg != arg)
        continue;
      SmallVector<Value> at = asIndex(indices);
      Value block = arg == kArgI ? queryBlock : keyTile;
      // A table shorter than the positions is read out of bounds by the
      // kernel too; the summary stays in bounds.
      at[dim] = b.createOrFold<arith::MinSIOp>(
          loc, block,
          b.createOrFold<arith::SubIOp>(
              loc, s.blocks, arith::ConstantIndexOp::create(b, loc, 1)));
      return Int(tensor::ExtractOp::create(b, loc, max ? s.max : s.min, at));
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
    v.nonNegative = x.nonNegative;
    if (x.constant)
      v.constant = std::nullopt; // not tracked through divisions
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
        .Case([&](arith::DivSIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::DivUIOp o) { division(o, o.getLhs(), o.getRhs()); })
        .Case([&](arith::FloorDivSIOp o) {
          division(o, o.getLhs(), o.getRhs());
        })
        .Case([&](arith::CeilDivSIOp o) {
          division(o, o.getLhs(), o.getRhs());
        })
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
      // Within one period of a non-negative range: [lo % c, hi % c];
      // otherwise [0, c - 1], or [-(c - 1), c - 1] when the range may be
      // negative.
      B inOnePeriod = d.both(d.le(d.c(0), x.lo),
                             d.eq(d.floorDiv(x.lo, c), d.floorDiv(x.hi, c)));
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

/// The minimum or maximum (i64) of `table` over blocks of `size` along
/// `dim`.
Value blockSummary(OpBuilder &b, Location loc, Value table, unsigned dim,
                   int64_t size, bool max, Value &blocks) {
  auto type = cast<RankedTensorType>(table.getType());
  Value length = tensor::DimOp::create(b, loc, table, dim);
  Value sizeValue = arith::ConstantIndexOp::create(b, loc, size);
  blocks = arith::CeilDivUIOp::create(b, loc, length, sizeValue);
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = ShapedType::kDynamic;
  SmallVector<Value> dynamic;
  for (int64_t k = 0; k < type.getRank(); ++k)
    if (ShapedType::isDynamic(shape[k]))
      dynamic.push_back(k == dim
                            ? blocks
                            : tensor::DimOp::create(b, loc, table, k).getResult());
  auto resultType = RankedTensorType::get(shape, b.getI64Type());
  return tensor::GenerateOp::create(
      b, loc, resultType, dynamic,
      [&](OpBuilder &nb, Location l, ValueRange indices) {
        IRDomain nd(nb, l, {});
        SmallVector<Value> at(indices);
        Value first = arith::MulIOp::create(nb, l, indices[dim], sizeValue);
        Value end = arith::MinUIOp::create(
            nb, l, arith::AddIOp::create(nb, l, first, sizeValue), length);
        at[dim] = first;
        Value init =
            nd.widen(tensor::ExtractOp::create(nb, l, table, at),
                     type.getElementType().isInteger(1));
        Value one = arith::ConstantIndexOp::create(nb, l, 1);
        auto loop = scf::ForOp::create(
            nb, l, arith::AddIOp::create(nb, l, first, one), end, one,
            ValueRange{init},
            [&](OpBuilder &lb, Location ll, Value k, ValueRange acc) {
              IRDomain ld(lb, ll, {});
              SmallVector<Value> atK(indices);
              atK[dim] = k;
              Value x = ld.widen(tensor::ExtractOp::create(lb, ll, table, atK),
                                 type.getElementType().isInteger(1));
              scf::YieldOp::create(
                  lb, ll, max ? ld.max(acc[0], x) : ld.min(acc[0], x));
            });
        tensor::YieldOp::create(nb, l, loop.getResult(0));
      });
}

} // namespace

std::optional<SmallVector<int8_t>>
mlir::attn::classesAtCompileTime(const AttentionProblem &p, int64_t blockQ,
                                 int64_t blockK) {
  SmallVector<int64_t> shape = classShape(p, blockQ, blockK);
  if (llvm::any_of(shape, ShapedType::isDynamic))
    return std::nullopt;
  Block &body = p.maskMod->front();
  // Only constants from above the body.
  WalkResult reads = body.walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (operand.getParentRegion() != p.maskMod &&
          !matchPattern(operand, m_Constant()))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (reads.wasInterrupted())
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

Value mlir::attn::buildModTileClasses(OpBuilder &b, Location loc,
                                      const AttentionProblem &p,
                                      int64_t blockQ, int64_t blockK,
                                      Value lq, Value lk) {
  SmallVector<int64_t> shape = classShape(p, blockQ, blockK);
  auto type = RankedTensorType::get(shape, b.getI8Type());
  if (std::optional<SmallVector<int8_t>> classes =
          classesAtCompileTime(p, blockQ, blockK))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(*classes)));

  // At run time: the tables' block summaries, then one tensor.generate
  // that evaluates the mod on every tile.
  SmallVector<IRDomain::Summary> summaries;
  for (auto [table, dim, arg] : summarizedReads(p)) {
    IRDomain::Summary s{table, dim, arg, Value(), Value(), Value()};
    int64_t size = arg == kArgI ? blockQ : blockK;
    s.min = blockSummary(b, loc, table, dim, size, false, s.blocks);
    s.max = blockSummary(b, loc, table, dim, size, true, s.blocks);
    summaries.push_back(s);
  }
  auto ceilDiv = [&](Value x, int64_t d) -> Value {
    return arith::CeilDivUIOp::create(
        b, loc, x, arith::ConstantIndexOp::create(b, loc, d));
  };
  SmallVector<Value> dynamic;
  Value sizes[] = {tensor::DimOp::create(b, loc, p.query, 0), Value(),
                   ceilDiv(lq, blockQ), ceilDiv(lk, blockK)};
  for (int64_t k = 0; k < 4; ++k)
    if (ShapedType::isDynamic(shape[k]))
      dynamic.push_back(sizes[k]);
  double batchBound = positionBound(
      cast<RankedTensorType>(p.query.getType()).getDimSize(0));
  double lqBound = positionBound(p.queryLength());
  double lkBound = positionBound(p.keyLength());
  return tensor::GenerateOp::create(
      b, loc, type, dynamic,
      [&](OpBuilder &nb, Location l, ValueRange tile) {
        IRDomain d(nb, l, summaries);
        d.queryBlock = tile[2];
        d.keyTile = tile[3];
        ModEvaluator<IRDomain> evaluator(d, p.maskMod->front());
        Value lq64 = d.widen(lq), lk64 = d.widen(lk);
        Value i0 = d.mul(d.widen(tile[2]), d.c(blockQ));
        Value j0 = d.mul(d.widen(tile[3]), d.c(blockK));
        AbsInt<Value> args[] = {
            evaluator.point(d.widen(tile[0]), batchBound, true, kArgB),
            evaluator.point(d.widen(tile[1]), double(p.headsQ), true, kArgH),
            evaluator.range(i0, d.sub(d.min(d.add(i0, d.c(blockQ)), lq64),
                                      d.c(1)),
                            lqBound, kArgI),
            evaluator.range(j0, d.sub(d.min(d.add(j0, d.c(blockK)), lk64),
                                      d.c(1)),
                            lkBound, kArgJ)};
        Value cls = classOf(d, evaluator.run(args));
        tensor::YieldOp::create(
            nb, l, arith::TruncIOp::create(nb, l, nb.getI8Type(), cls));
      });
}
