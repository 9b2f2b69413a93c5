//===- AttentionMods.cpp - Masks and biases as scalar code ----------------===//
//
// A mask or bias term that a front end computes from positions (iota
// constants or linalg.index), small tables (slopes, segment ids) and
// elementwise math becomes scalar code of (b, h, i, j): attn-raise writes it
// into a mask_mod or score_mod region, so no Lq x Lk tensor is built. The
// code is lifted op by op: TOSA elementwise ops become their arith or math
// forms, linalg bodies are copied, and a tensor that is no such math is read
// with tensor.extract at the positions of its layout (only when it does not
// span both the queries and the keys: such a tensor stays a mask or bias
// operand). A position-only mask that is exactly attn's causal rule or a
// window becomes that attribute.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcherInternals.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Strategies/Common/ModTileClasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::raise;

namespace mlir::attn::raise {

ModNode *Matcher::compute(StringRef name, Type type, ArrayRef<ModNode *> args,
                          ArrayRef<NamedAttribute> attrs) {
  for (ModNode *arg : args)
    if (!arg)
      return nullptr;
  ModNode *n = node(ModNode::Compute, type);
  n->name = OperationName(name, type.getContext());
  n->attrs = DictionaryAttr::get(type.getContext(), attrs);
  n->args.assign(args.begin(), args.end());
  return n;
}

ModNode *Matcher::positionOf(const Dim &dim) {
  ModNode *n =
      node(ModNode::Position, IndexType::get(plan.anchor->getContext()));
  n->position = dim;
  return n;
}

ModNode *Matcher::constantOf(Type type, int64_t value) {
  ModNode *n = node(ModNode::Constant, type);
  Builder b(type.getContext());
  n->value = isa<FloatType>(type)
                 ? TypedAttr(b.getFloatAttr(type, static_cast<double>(value)))
                 : TypedAttr(b.getIntegerAttr(type, value));
  return n;
}

namespace {

/// arith's comparison predicate for a TOSA comparison.
std::optional<std::pair<arith::CmpIPredicate, arith::CmpFPredicate>>
comparison(Operation *op) {
  using IP = arith::CmpIPredicate;
  using FP = arith::CmpFPredicate;
  if (isa<tosa::EqualOp>(op))
    return std::make_pair(IP::eq, FP::OEQ);
  if (isa<tosa::GreaterOp>(op))
    return std::make_pair(IP::sgt, FP::OGT);
  if (isa<tosa::GreaterEqualOp>(op))
    return std::make_pair(IP::sge, FP::OGE);
  return std::nullopt;
}

/// Whether the integer constant tensor `v` is zero everywhere.
bool isZeroTensor(Value v) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  if (isa<FloatType>(attr.getElementType()))
    return llvm::all_of(attr.getValues<APFloat>(),
                        [](const APFloat &x) { return x.isZero(); });
  return llvm::all_of(attr.getValues<APInt>(),
                      [](const APInt &x) { return x.isZero(); });
}

} // namespace

/// A TOSA elementwise op as arith or math on its lifted operands; null
/// with `recognized` false for an op that is not such math.
ModNode *Matcher::liftTosa(Operation *op, const Traced &x, unsigned depth,
                           bool &recognized) {
  recognized = true;
  Type type = getElementTypeOrSelf(x.value.getType());
  auto arg = [&](unsigned k) -> ModNode * {
    Traced t = broadcastOperand(op->getOperand(k), x);
    if (!t.value) {
      why = "an operand of '" + op->getName().getStringRef().str() +
            "' in a mask or bias does not broadcast to it";
      return nullptr;
    }
    return lift(t, depth + 1);
  };
  bool isFloat = isa<FloatType>(type);
  auto pick = [&](StringRef i, StringRef f) { return isFloat ? f : i; };
  auto binary = [&](StringRef name) {
    return compute(name, type, {arg(0), arg(1)});
  };
  MLIRContext *ctx = op->getContext();
  Builder b(ctx);
  if (isa<tosa::AddOp>(op))
    return binary(pick("arith.addi", "arith.addf"));
  if (isa<tosa::SubOp>(op))
    return binary(pick("arith.subi", "arith.subf"));
  if (auto mul = dyn_cast<tosa::MulOp>(op)) {
    if (!isFloat && !isZeroTensor(mul.getShift())) {
      why = "a mask or bias multiplies with a shift";
      return nullptr;
    }
    return binary(pick("arith.muli", "arith.mulf"));
  }
  if (isa<tosa::IntDivOp>(op)) {
    // Only by a constant other than 0 and -1: the regions hold ops that
    // cannot trap.
    ModNode *lhs = arg(0), *rhs = arg(1);
    auto divisor = rhs && rhs->kind == ModNode::Constant
                       ? dyn_cast<IntegerAttr>(rhs->value)
                       : IntegerAttr();
    if (!divisor || divisor.getValue().isZero() ||
        divisor.getValue().isAllOnes()) {
      why = "a mask or bias divides by a value that is not a constant other "
            "than 0 and -1";
      return nullptr;
    }
    return compute("arith.divsi", type, {lhs, rhs});
  }
  if (isa<tosa::MaximumOp>(op))
    return binary(pick("arith.maxsi", "arith.maximumf"));
  if (isa<tosa::MinimumOp>(op))
    return binary(pick("arith.minsi", "arith.minimumf"));
  if (isa<tosa::LogicalAndOp, tosa::BitwiseAndOp>(op))
    return binary("arith.andi");
  if (isa<tosa::LogicalOrOp, tosa::BitwiseOrOp>(op))
    return binary("arith.ori");
  if (isa<tosa::LogicalXorOp, tosa::BitwiseXorOp>(op))
    return binary("arith.xori");
  if (isa<tosa::LogicalNotOp>(op))
    return compute("arith.xori", type, {arg(0), constantOf(type, 1)});
  if (isa<tosa::SelectOp>(op))
    return compute("arith.select", type, {arg(0), arg(1), arg(2)});
  if (std::optional<std::pair<arith::CmpIPredicate, arith::CmpFPredicate>>
          predicate = comparison(op)) {
    Type in = getElementTypeOrSelf(op->getOperand(0).getType());
    NamedAttribute attr =
        isa<FloatType>(in)
            ? b.getNamedAttr("predicate", arith::CmpFPredicateAttr::get(
                                              ctx, predicate->second))
            : b.getNamedAttr("predicate", arith::CmpIPredicateAttr::get(
                                              ctx, predicate->first));
    return compute(isa<FloatType>(in) ? "arith.cmpf" : "arith.cmpi", type,
                   {arg(0), arg(1)}, {attr});
  }
  if (isa<tosa::AbsOp>(op))
    return compute(pick("math.absi", "math.absf"), type, {arg(0)});
  if (auto negate = dyn_cast<tosa::NegateOp>(op)) {
    if (!isZeroTensor(negate.getInput1Zp()) ||
        !isZeroTensor(negate.getOutputZp())) {
      why = "a mask or bias negates with zero points";
      return nullptr;
    }
    if (isFloat)
      return compute("arith.negf", type, {arg(0)});
    return compute("arith.subi", type, {constantOf(type, 0), arg(0)});
  }
  if (isFloat && isa<tosa::ExpOp, tosa::LogOp, tosa::TanhOp>(op))
    return compute(isa<tosa::ExpOp>(op)   ? "math.exp"
                   : isa<tosa::LogOp>(op) ? "math.log"
                                          : "math.tanh",
                   type, {arg(0)});
  if (isFloat && isa<tosa::ReciprocalOp>(op))
    return compute("arith.divf", type, {constantOf(type, 1), arg(0)});
  if (auto clamp = dyn_cast<tosa::ClampOp>(op)) {
    auto bound = [&](Attribute a) -> ModNode * {
      ModNode *n = node(ModNode::Constant, type);
      n->value = dyn_cast<TypedAttr>(a);
      return n->value ? n : nullptr;
    };
    ModNode *lo = bound(clamp.getMinValAttr()),
            *hi = bound(clamp.getMaxValAttr());
    if (!lo || !hi) {
      why = "a clamp in a mask or bias has no typed bounds";
      return nullptr;
    }
    ModNode *low =
        compute(pick("arith.maxsi", "arith.maximumf"), type, {arg(0), lo});
    return compute(pick("arith.minsi", "arith.minimumf"), type, {low, hi});
  }
  if (isa<tosa::CastOp>(op)) {
    Type in = getElementTypeOrSelf(op->getOperand(0).getType());
    ModNode *v = arg(0);
    if (in == type)
      return v;
    if (isa<FloatType>(in) && isFloat)
      return compute(in.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth()
                         ? "arith.extf"
                         : "arith.truncf",
                     type, {v});
    if (isa<FloatType>(in)) {
      if (type.isInteger(1)) {
        why = "a mask casts a float to i1";
        return nullptr;
      }
      // TOSA rounds to the nearest integer, ties to even (values out of the
      // integer's range saturate there, which the copy does not model).
      return compute("arith.fptosi", type,
                     {compute("math.roundeven", in, {v})});
    }
    bool fromBool = in.isInteger(1);
    if (isFloat)
      return compute(fromBool ? "arith.uitofp" : "arith.sitofp", type, {v});
    if (type.isInteger(1))
      return compute(
          "arith.cmpi", type, {v, constantOf(in, 0)},
          {b.getNamedAttr("predicate", arith::CmpIPredicateAttr::get(
                                           ctx, arith::CmpIPredicate::ne))});
    if (in.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
      return compute(fromBool ? "arith.extui" : "arith.extsi", type, {v});
    return compute("arith.trunci", type, {v});
  }
  if (isa<tosa::GatherOp>(op))
    return liftGather(op, x, depth);
  recognized = false;
  return nullptr;
}

/// Whether a tensor over the axes `leaves` may be read as a table: it
/// spans not both the queries and the keys, nor a head dimension. Else
/// `why` says what the mask or bias `reads` ("reads", "gathers from").
bool Matcher::isTableLayout(ArrayRef<int> leaves, StringRef reads) {
  bool query = false, key = false;
  for (int leaf : leaves) {
    Axis axis = axes.axis(leaf);
    query |= axis == Axis::Query;
    key |= axis == Axis::Key;
    if (axis == Axis::Dim || axis == Axis::ValueDim) {
      why = "a mask or bias varies along the head dimension";
      return false;
    }
  }
  if (query && key) {
    why = ("a mask or bias " + reads +
           " a tensor over both the queries and the keys")
              .str();
    return false;
  }
  return true;
}

/// tosa.gather: element (n, w, c) is values[n, indices[n, w], c], as
/// exporters write `ids[positions]` (torch's aten.index): a read of the
/// values at the lifted index. An index that is a position below K (an iota
/// gather) is used as it is, so a table read at i or j keeps its per-tile
/// summary; any other is clamped into [0, K), since TOSA leaves an index out
/// of range undefined and the read must stay in bounds. Values reshaped from
/// a tensor of K elements (the usual [K] -> [1, K, 1]) are read at that
/// tensor.
ModNode *Matcher::liftGather(Operation *gather, const Traced &x,
                             unsigned depth) {
  auto op = cast<tosa::GatherOp>(gather);
  Value values = op.getValues(), indices = op.getIndices();
  if (!isStaticTensor(values) || !isStaticTensor(indices)) {
    why = "a mask or bias gathers from or at a tensor that is not static";
    return nullptr;
  }
  Dim outer = leavesOf(x.layout[0]);
  outer.append(leavesOf(x.layout[2]));
  if (!isTableLayout(outer, "gathers from"))
    return nullptr;
  ModNode *lifted = lift({indices, {x.layout[0], x.layout[1]}}, depth + 1);
  if (!lifted)
    return nullptr;
  int64_t k = shapeOf(values)[1];
  Type index = IndexType::get(op->getContext());
  ModNode *at = nullptr;
  if (lifted->kind == ModNode::Compute &&
      lifted->name->getStringRef() == "arith.index_cast" &&
      lifted->args[0]->kind == ModNode::Position) {
    ModNode *position = lifted->args[0];
    int64_t range = 1;
    for (int atom : position->position)
      range *= axes.size(atom);
    if (range <= k)
      at = position;
  }
  if (!at) {
    ModNode *cast = compute("arith.index_cast", index, {lifted});
    at = compute("arith.minsi", index,
                 {compute("arith.maxsi", index, {cast, constantOf(index, 0)}),
                  constantOf(index, k - 1)});
  }
  ModNode *read = node(ModNode::Read, getElementTypeOrSelf(values.getType()));
  read->table = values;
  read->args = {positionOf(x.layout[0]), at, positionOf(x.layout[2])};
  ArrayRef<int64_t> shape = shapeOf(values);
  if (shape[0] != 1 || shape[2] != 1)
    return read;
  Value source = values;
  while (Operation *def = source.getDefiningOp()) {
    if (!isa<tosa::ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
            def) ||
        !isStaticTensor(def->getOperand(0)))
      break;
    source = def->getOperand(0);
  }
  // (Its K elements lie along one dimension, the others being 1.)
  ArrayRef<int64_t> sourceShape = shapeOf(source);
  const int64_t *along = llvm::find(sourceShape, k);
  if (source == values || along == sourceShape.end())
    return read;
  read->table = source;
  read->args.clear();
  for (const int64_t *it = sourceShape.begin(); it != sourceShape.end(); ++it)
    read->args.push_back(it == along ? at : constantOf(index, 0));
  return read;
}

/// An elementwise linalg op's body as scalar code: its inputs lifted at the
/// positions their maps read, linalg.index as positions, tensor.extract of
/// a tensor from above as a read.
ModNode *Matcher::liftLinalg(linalg::LinalgOp op, const Traced &x,
                             unsigned depth, bool &recognized) {
  recognized = true;
  Loops loops(op.getNumLoops());
  if (!assignLoops(op.getMatchingIndexingMap(op.getDpsInitOperand(0)), x.layout,
                   loops)) {
    why = "a mask or bias is written by a linalg op whose output map is not "
          "a permutation";
    return nullptr;
  }
  auto yield = dyn_cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  if (!yield || yield->getNumOperands() != 1) {
    recognized = false;
    return nullptr;
  }
  DenseMap<Value, ModNode *> memo;
  return liftBodyValue(op, loops, yield->getOperand(0), depth, memo);
}

/// The value `v` of `op`'s body as scalar code, with `loops` giving the
/// axes of the op's loops; `memo` holds the values lifted so far.
ModNode *Matcher::liftBodyValue(linalg::LinalgOp op, const Loops &loops,
                                Value v, unsigned depth,
                                DenseMap<Value, ModNode *> &memo) {
  Block *body = op.getBlock();
  auto outside = [&](Value v) -> ModNode * {
    TypedAttr value;
    if (!matchPattern(v, m_Constant(&value))) {
      why = "a mask or bias reads a scalar from outside its linalg op";
      return nullptr;
    }
    ModNode *n = node(ModNode::Constant, v.getType());
    n->value = value;
    return n;
  };
  std::function<ModNode *(Value)> visit = [&](Value v) -> ModNode * {
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    ModNode *result = nullptr;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      unsigned k = arg.getArgNumber();
      if (arg.getOwner() != body || k >= op.getNumDpsInputs()) {
        why = "a mask or bias is computed from its own output";
        return nullptr;
      }
      OpOperand *input = op.getDpsInputOperand(k);
      if (!isa<ShapedType>(input->get().getType())) {
        result = outside(input->get());
      } else {
        FailureOr<Layout> layout =
            layoutThrough(op.getMatchingIndexingMap(input), loops);
        if (failed(layout) || !isStaticTensor(input->get())) {
          why = "a linalg op of a mask or bias reads an input through a map "
                "that is not a projection";
          return nullptr;
        }
        result = lift({input->get(), *layout}, depth + 1);
      }
    } else if (v.getParentBlock() != body) {
      result = outside(v);
    } else {
      Operation *def = v.getDefiningOp();
      TypedAttr value;
      if (matchPattern(v, m_Constant(&value))) {
        result = node(ModNode::Constant, v.getType());
        result->value = value;
      } else if (auto index = dyn_cast<linalg::IndexOp>(def)) {
        if (!loops[index.getDim()]) {
          why = "a mask or bias reads the index of a loop that it does not "
                "write";
          return nullptr;
        }
        result = positionOf(*loops[index.getDim()]);
      } else if (auto extract = dyn_cast<tensor::ExtractOp>(def)) {
        Value table = extract.getTensor();
        if (table.getParentBlock() == body || !isStaticTensor(table)) {
          why = "a mask or bias reads a tensor that is not static";
          return nullptr;
        }
        result = node(ModNode::Read, v.getType());
        result->table = table;
        for (Value index : extract.getIndices()) {
          ModNode *n = visit(index);
          if (!n)
            return nullptr;
          result->args.push_back(n);
        }
      } else if (def->getNumResults() == 1 && def->getNumRegions() == 0 &&
                 isa<arith::ArithDialect, math::MathDialect>(
                     def->getDialect()) &&
                 isPure(def)) {
        // (Pure: what a mod region may hold. Its constant operands stay
        // constants, so the copy is pure too.)
        SmallVector<ModNode *> args;
        for (Value operand : def->getOperands()) {
          ModNode *n = visit(operand);
          if (!n)
            return nullptr;
          args.push_back(n);
        }
        result = compute(def->getName().getStringRef(), v.getType(), args,
                         def->getAttrs());
      } else {
        why = "a mask or bias is computed with '" +
              def->getName().getStringRef().str() + "'";
        return nullptr;
      }
    }
    return memo[v] = result;
  };
  return visit(v);
}

/// Whether two lifted values are the same code.
bool sameModNode(const ModNode *a, const ModNode *b) {
  if (a == b)
    return true;
  if (a->kind != b->kind || a->type != b->type || a->position != b->position ||
      a->value != b->value || a->table != b->table || a->name != b->name ||
      a->attrs != b->attrs || a->args.size() != b->args.size())
    return false;
  for (size_t k = 0; k < a->args.size(); ++k)
    if (!sameModNode(a->args[k], b->args[k]))
      return false;
  return true;
}

/// Element (b, h, i, j) of the term `x` as scalar code; null with `why` set
/// when it cannot be written so.
ModNode *Matcher::lift(Traced x, unsigned depth) {
  if (depth > 48) {
    why = "a mask or bias is computed by too many ops";
    return nullptr;
  }
  traceBack(x, /*throughBroadcast=*/true);
  Type type = getElementTypeOrSelf(x.value.getType());
  if (!isStaticTensor(x.value) || !type.isIntOrIndexOrFloat()) {
    why = "a mask or bias is not a static tensor of numbers";
    return nullptr;
  }
  DenseElementsAttr attr;
  bool isConstant = matchPattern(x.value, m_Constant(&attr));
  if (isConstant && attr.isSplat()) {
    ModNode *n = node(ModNode::Constant, type);
    n->value = cast<TypedAttr>(attr.getSplatValue<Attribute>());
    return n;
  }
  SmallVector<int> leaves = flat(x.layout);
  // An iota: start + step * position along one axis.
  if (isConstant && leaves.size() == 1 && !type.isInteger(1)) {
    SmallVector<int64_t> values;
    bool integral = true;
    if (isa<FloatType>(type)) {
      for (APFloat v : attr.getValues<APFloat>()) {
        double d = toDouble(v);
        integral &= d == std::trunc(d) && std::fabs(d) < (1 << 24);
        values.push_back(integral ? static_cast<int64_t>(d) : 0);
      }
    } else {
      for (APInt v : attr.getValues<APInt>())
        values.push_back(v.getSExtValue());
    }
    int64_t step = values.size() > 1 ? values[1] - values[0] : 0;
    bool progression = integral;
    for (size_t k = 0; k < values.size() && progression; ++k)
      progression = values[k] == values[0] + static_cast<int64_t>(k) * step;
    if (progression) {
      Type intType =
          isa<FloatType>(type) ? IntegerType::get(type.getContext(), 64) : type;
      ModNode *v = compute("arith.index_cast", intType,
                           {positionOf(Dim{leaves.front()})});
      if (step != 1)
        v = compute("arith.muli", intType, {v, constantOf(intType, step)});
      if (values[0] != 0)
        v = compute("arith.addi", intType, {v, constantOf(intType, values[0])});
      return isa<FloatType>(type) ? compute("arith.sitofp", type, {v}) : v;
    }
  }
  if (!isConstant) {
    Operation *def = x.value.getDefiningOp();
    ModNode *n = nullptr;
    bool recognized = false;
    if (def && isa<tosa::TosaDialect>(def->getDialect()))
      n = liftTosa(def, x, depth, recognized);
    else if (auto op = dyn_cast_or_null<linalg::LinalgOp>(def))
      if (op.getNumDpsInits() == 1 && def->getNumResults() == 1 &&
          op.getNumReductionLoops() == 0 && !isContraction(def) &&
          !isa<linalg::SoftmaxOp>(def))
        n = liftLinalg(op, x, depth, recognized);
    if (recognized) {
      if (!n && why.empty())
        why = "a mask or bias is computed in a way attn-raise cannot copy";
      return n;
    }
  }
  // A tensor read at the positions of its layout.
  if (!isTableLayout(leaves, "reads"))
    return nullptr;
  ModNode *n = node(ModNode::Read, type);
  n->table = x.value;
  for (const Dim &dim : x.layout)
    n->args.push_back(positionOf(dim));
  return n;
}

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

namespace {

/// The position along the axis `atom` from the b, h, i, j positions `args`.
Value atomPosition(OpBuilder &b, Location loc, const AttentionPlan &p, int atom,
                   ValueRange args) {
  const AxisTable &axes = p.axes;
  if (ArrayRef<int> parts = axes.parts(atom); !parts.empty()) {
    Value outer = atomPosition(b, loc, p, parts[0], args);
    Value inner = atomPosition(b, loc, p, parts[1], args);
    Value size = arith::ConstantIndexOp::create(b, loc, axes.size(parts[1]));
    return arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, outer, size), inner);
  }
  const Dim *groups[] = {&p.b, &p.h, &p.i, &p.j};
  for (unsigned g = 0; g < 4; ++g) {
    const Dim &group = *groups[g];
    auto it = llvm::find(group, atom);
    if (it == group.end())
      continue;
    int64_t stride = 1;
    for (auto after = std::next(it); after != group.end(); ++after)
      stride *= axes.size(*after);
    Value v = args[g];
    if (stride != 1)
      v = arith::DivSIOp::create(
          b, loc, v, arith::ConstantIndexOp::create(b, loc, stride));
    if (it != group.begin())
      v = arith::RemSIOp::create(
          b, loc, v, arith::ConstantIndexOp::create(b, loc, axes.size(atom)));
    return v;
  }
  // A unit axis (or one that no operand of attn keeps): position 0.
  return arith::ConstantIndexOp::create(b, loc, 0);
}

} // namespace

Value emitModNode(OpBuilder &b, Location loc, const AttentionPlan &plan,
                  ModNode *n, ValueRange args,
                  DenseMap<ModNode *, Value> &values,
                  function_ref<Value(Value)> table) {
  if (auto it = values.find(n); it != values.end())
    return it->second;
  SmallVector<Value> operands;
  for (ModNode *arg : n->args)
    operands.push_back(emitModNode(b, loc, plan, arg, args, values, table));
  Value v;
  switch (n->kind) {
  case ModNode::Constant:
    v = arith::ConstantOp::create(b, loc, n->value);
    break;
  case ModNode::Position: {
    // Mixed radix over the axes, outermost first.
    for (int atom : n->position) {
      Value position = atomPosition(b, loc, plan, atom, args);
      if (!v) {
        v = position;
        continue;
      }
      Value size = arith::ConstantIndexOp::create(b, loc, plan.axes.size(atom));
      v = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, v, size),
                                position);
    }
    if (!v)
      v = arith::ConstantIndexOp::create(b, loc, 0);
    break;
  }
  case ModNode::Read:
    v = tensor::ExtractOp::create(b, loc, table(n->table), operands);
    break;
  case ModNode::Compute: {
    OperationState state(loc, *n->name);
    state.addOperands(operands);
    state.addTypes(n->type);
    state.addAttributes(n->attrs.getValue());
    v = b.create(state)->getResult(0);
    break;
  }
  }
  return values[n] = v;
}

//===----------------------------------------------------------------------===//
// The checks after a match
//===----------------------------------------------------------------------===//

LogicalResult Matcher::finishMods() {
  if (plan.sink)
    for (int leaf : flat(plan.sink->layout))
      if (!llvm::is_contained(plan.h, leaf)) {
        why = "the column concatenated to the scores is not one logit per "
              "query head";
        return failure();
      }
  if (plan.maskMods.empty() || plan.causal || plan.hasWindow || plan.mask ||
      plan.maskConst)
    return success();
  // The masks' conjuncts that read positions only (no table, no batch)
  // are evaluated row by row: a band becomes the causal rule or a window,
  // and a row that allows nothing is refused (the written softmax gives
  // NaN there). The other conjuncts (documents from a table, say) stay the
  // mask_mod.
  SmallVector<ModNode *> conjuncts, positional, others;
  for (ModNode *n : plan.maskMods)
    conjuncts.push_back(n);
  for (size_t k = 0; k < conjuncts.size(); ++k) {
    ModNode *n = conjuncts[k];
    if (n->kind == ModNode::Compute &&
        n->name->getStringRef() == "arith.andi") {
      conjuncts.append(n->args.begin(), n->args.end());
      continue;
    }
    bool onlyPositions = true;
    SmallVector<ModNode *> worklist = {n};
    llvm::SmallPtrSet<ModNode *, 16> seen;
    while (!worklist.empty() && onlyPositions) {
      ModNode *m = worklist.pop_back_val();
      if (!seen.insert(m).second)
        continue;
      onlyPositions = m->kind != ModNode::Read;
      for (int leaf : leavesOf(m->position))
        onlyPositions &= axes.axis(leaf) != Axis::Batch;
      worklist.append(m->args.begin(), m->args.end());
    }
    (onlyPositions ? positional : others).push_back(n);
  }
  if (positional.empty())
    return success();
  MLIRContext *ctx = plan.anchor->getContext();
  Location loc = plan.anchor->getLoc();
  Region region;
  Block *block = new Block();
  region.push_back(block);
  Type index = IndexType::get(ctx);
  for (int k = 0; k < 4; ++k)
    block->addArgument(index, loc);
  OpBuilder b(ctx);
  b.setInsertionPointToStart(block);
  DenseMap<ModNode *, Value> values;
  Value allowed;
  for (ModNode *n : positional) {
    Value v = emitModNode(b, loc, plan, n, block->getArguments(), values,
                          [](Value t) { return t; });
    allowed = allowed ? arith::AndIOp::create(b, loc, allowed, v) : v;
  }
  YieldOp::create(b, loc, allowed);
  int64_t lq = 1, lk = 1;
  for (int leaf : plan.i)
    lq *= axes.size(leaf);
  for (int leaf : plan.j)
    lk *= axes.size(leaf);
  std::optional<SmallVector<std::pair<int64_t, int64_t>>> rows =
      maskRowIntervals(*block, lq, lk, /*budget=*/1 << 18);
  if (!rows)
    return success();
  if (llvm::any_of(*rows, [](auto r) { return r.first > r.second; })) {
    why = "a row of the computed mask allows no key (the written softmax "
          "gives NaN there, attn.attention gives zeros)";
    return failure();
  }
  std::optional<Band> band = bandOfRows(*rows, lq, lk);
  bool all = llvm::all_of(
      *rows, [&](auto r) { return r.first == 0 && r.second == lk - 1; });
  if (!all && !band)
    return success();
  if (others.empty())
    llvm::erase_if(plan.notes, [](const std::string &note) {
      return note == "the computed mask became the mask_mod";
    });
  plan.maskMods = others;
  if (all) {
    plan.notes.push_back(others.empty()
                             ? "the computed mask allows every key"
                             : "the computed mask's positions allow every key");
    return success();
  }
  plan.causal = band->causal;
  plan.hasWindow = band->window();
  plan.windowLeft = band->left;
  plan.windowRight = band->right;
  plan.notes.push_back(std::string(others.empty()
                                       ? "the computed mask is "
                                       : "the computed mask's positions are ") +
                       (band->causal && !band->window() ? "the causal rule"
                        : band->causal ? "the causal rule and a window"
                                       : "a window"));
  return success();
}

} // namespace mlir::attn::raise
