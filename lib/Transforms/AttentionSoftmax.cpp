//===- AttentionSoftmax.cpp - attn-raise's softmax and scores -------------===//
//
// From the product with V back to the weights: the softmax's two
// reductions over the key axis, the scores as a scaled Q K^T plus terms, and
// the checks that end a match (Matcher::match, Matcher::finish).
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcherInternals.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"

#include "llvm/Support/FormatVariadic.h"

#include <cfloat>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::raise;

namespace mlir::attn::raise {

/// True when `a` and `b` compute the same tensor: the same leaves (value and
/// layout) combined by the same operations.
bool Matcher::same(Expr *a, Expr *b, unsigned depth) {
  if (a == b)
    return true;
  if (depth > 32)
    return false;
  a = open(a);
  b = open(b);
  if (a->kind != b->kind)
    return false;
  switch (a->kind) {
  case Expr::Leaf:
    return a->leaf.value == b->leaf.value &&
           sameLayout(a->leaf.layout, b->leaf.layout);
  case Expr::Const:
    return a->constant == b->constant;
  case Expr::Computed:
    return sameModNode(a->mod, b->mod);
  case Expr::Acc:
  case Expr::Opaque:
    return false;
  default:
    break;
  }
  if (a->args.size() != b->args.size())
    return false;
  auto all = [&](bool swapped) {
    for (size_t i = 0; i < a->args.size(); ++i)
      if (!same(a->args[i], b->args[swapped ? a->args.size() - 1 - i : i],
                depth + 1))
        return false;
    return true;
  };
  if (all(false))
    return true;
  bool commutative = a->kind == Expr::Add || a->kind == Expr::Mul ||
                     a->kind == Expr::Max;
  return commutative && a->args.size() == 2 && all(true);
}

/// `x` is a sum (or max) over the key axis: returns the reduced expression,
/// over the axes of `x` plus the key axis. Null with `why` set otherwise.
Expr *Matcher::matchReduction(const Traced &x, Reduction kind) {
  StringRef what = kind == Reduction::Sum ? "sum" : "max";
  std::string wrongAxis =
      llvm::formatv("softmax over the wrong axis: the {0} does not run over "
                    "the keys that the product with V sums over",
                    what)
          .str();
  Operation *def = x.value.getDefiningOp();
  if (isa_and_nonnull<tosa::ReduceSumOp, tosa::ReduceMaxOp>(def)) {
    if (isa<tosa::ReduceSumOp>(def) != (kind == Reduction::Sum)) {
      why = llvm::formatv("the {0} of the softmax is a {1}", what,
                          kind == Reduction::Sum ? "max" : "sum")
                .str();
      return nullptr;
    }
    int64_t axis = def->getAttrOfType<IntegerAttr>("axis").getInt();
    Value input = def->getOperand(0);
    if (!isF32Tensor(input) ||
        shapeOf(input)[axis] != axes.size(plan.keyAxis)) {
      why = wrongAxis;
      return nullptr;
    }
    Layout layout = x.layout;
    layout[axis] = {plan.keyAxis};
    if (!distinct(layout)) {
      why = wrongAxis;
      return nullptr;
    }
    return leaf({input, layout});
  }
  auto op = dyn_cast_or_null<linalg::LinalgOp>(def);
  if (!op || op.getNumDpsInits() != 1 || def->getNumResults() != 1 ||
      op.getNumReductionLoops() != 1) {
    why = llvm::formatv("the {0} of the softmax is not a reduction", what).str();
    return nullptr;
  }
  std::optional<double> init = splatValue(op.getDpsInitOperand(0)->get());
  bool identity = init && (kind == Reduction::Sum
                               ? *init == 0
                               : (*init == -INFINITY || *init == -FLT_MAX));
  if (!identity) {
    why = llvm::formatv("the {0} does not start from {1}", what,
                        kind == Reduction::Sum ? "0" : "-inf")
              .str();
    return nullptr;
  }
  Loops loops(op.getNumLoops());
  if (!assignLoops(op.getMatchingIndexingMap(op.getDpsInitOperand(0)),
                   x.layout, loops)) {
    why = wrongAxis;
    return nullptr;
  }
  SmallVector<unsigned> reductionDims;
  op.getReductionDims(reductionDims);
  unsigned reduced = reductionDims.front();
  if (loops[reduced] ||
      op.getStaticLoopRanges()[reduced] != axes.size(plan.keyAxis)) {
    why = wrongAxis;
    return nullptr;
  }
  loops[reduced] = Dim{plan.keyAxis};
  SmallVector<Expr *> inputs;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (!isStaticTensor(input->get())) {
      std::optional<double> c = splatValue(input->get());
      inputs.push_back(c ? constant(*c) : make(Expr::Opaque));
      continue;
    }
    FailureOr<Layout> layout =
        layoutThrough(op.getMatchingIndexingMap(input), loops);
    if (failed(layout) || !distinct(*layout)) {
      why = wrongAxis;
      return nullptr;
    }
    inputs.push_back(leaf({input->get(), *layout}));
  }
  Expr *acc = make(Expr::Acc);
  Expr *body = linalgBody(op, inputs, acc);
  Expr::Kind combiner = kind == Reduction::Sum ? Expr::Add : Expr::Max;
  if (body->kind == combiner && body->args.size() == 2) {
    for (int side = 0; side < 2; ++side)
      if (body->args[side] == acc && body->args[1 - side] != acc)
        return body->args[1 - side];
  }
  why = llvm::formatv("the {0} reduction's body is not a {0}", what).str();
  return nullptr;
}

/// `weights` is a softmax over the key axis: returns its scores.
Expr *Matcher::matchWeights(Expr *weights, unsigned depth) {
  Expr *w = open(weights);
  if (w->kind == Expr::Leaf) {
    if (auto softmax = w->leaf.value.getDefiningOp<linalg::SoftmaxOp>()) {
      int64_t dim = softmax.getDimension();
      Dim keys;
      axes.leaves(plan.keyAxis, keys);
      if (leavesOf(w->leaf.layout[dim]) != keys) {
        why = "softmax over the wrong axis: linalg.softmax normalizes "
              "dimension " +
              std::to_string(dim) +
              ", not the keys that the product with V sums over";
        return nullptr;
      }
      if (!isF32Tensor(softmax.getInput())) {
        why = "the softmax is not on static f32 tensors";
        return nullptr;
      }
      return leaf({softmax.getInput(), w->leaf.layout});
    }
    why = "the weights are not a softmax (exp divided by its sum)";
    return nullptr;
  }
  // A scale after the softmax.
  if ((w->kind == Expr::Mul || w->kind == Expr::Div) && depth == 0) {
    for (int side = 0; side < 2; ++side) {
      if (w->kind == Expr::Div && side == 0)
        continue;
      if (open(w->args[side])->kind != Expr::Const)
        continue;
      std::string saved = why;
      if (matchWeights(w->args[1 - side], depth + 1)) {
        why = "a scale is applied after the softmax";
        return nullptr;
      }
      why = saved;
    }
  }
  // exp / sum, or exp * (1 / sum).
  Expr *numerator = nullptr, *denominator = nullptr;
  if (w->kind == Expr::Div) {
    numerator = w->args[0];
    denominator = w->args[1];
  } else if (w->kind == Expr::Mul) {
    for (int side = 0; side < 2 && !numerator; ++side) {
      Expr *r = open(w->args[side]);
      if (r->kind == Expr::Div && isConst(r->args[0], 1.0)) {
        numerator = w->args[1 - side];
        denominator = r->args[1];
      }
    }
  }
  if (!numerator) {
    why = "the weights are not a softmax (exp divided by its sum)";
    return nullptr;
  }
  Expr *sum = open(denominator);
  if (sum->kind != Expr::Leaf) {
    why = "the softmax divides by something other than a sum over the keys";
    return nullptr;
  }
  Expr *summed = matchReduction(sum->leaf, Reduction::Sum);
  if (!summed)
    return nullptr;
  if (!same(summed, numerator)) {
    why = "the softmax divides by the sum of something other than its "
          "numerator";
    return nullptr;
  }
  Expr *exp = open(numerator);
  if (exp->kind != Expr::Exp) {
    bool maskAfterExp = false;
    if (exp->kind == Expr::Add || exp->kind == Expr::Sub ||
        exp->kind == Expr::Mul || exp->kind == Expr::Select)
      for (Expr *arg : exp->args)
        maskAfterExp |= open(arg)->kind == Expr::Exp;
    why = maskAfterExp ? "a mask is added after the exp (it must be added to "
                         "the scores before the softmax)"
                       : "the softmax numerator is not an exp";
    return nullptr;
  }
  Expr *shifted = open(exp->args[0]);
  if (shifted->kind != Expr::Sub) {
    why = "the max is not subtracted before the exp (the written softmax "
          "overflows where attn.attention does not)";
    return nullptr;
  }
  Expr *max = open(shifted->args[1]);
  Expr *maxed = max->kind == Expr::Leaf
                    ? matchReduction(max->leaf, Reduction::Max)
                    : nullptr;
  if (!maxed) {
    if (max->kind != Expr::Leaf || why.empty())
      why = "the value subtracted before the exp is not a max over the keys";
    return nullptr;
  }
  if (!same(maxed, shifted->args[0])) {
    why = "the max subtracted before the exp is not the max of the same "
          "scores";
    return nullptr;
  }
  return shifted->args[0];
}

/// Splits a sum of terms (through scales by constants) into its terms.
void Matcher::collectTerms(Expr *e, double scale, SmallVectorImpl<Term> &terms,
                           unsigned depth) {
  Expr *n = open(e);
  if (depth < 16) {
    if (n->kind == Expr::Add) {
      collectTerms(n->args[0], scale, terms, depth + 1);
      collectTerms(n->args[1], scale, terms, depth + 1);
      return;
    }
    if (n->kind == Expr::Mul)
      for (int side = 0; side < 2; ++side) {
        Expr *c = open(n->args[side]);
        if (c->kind == Expr::Const) {
          collectTerms(n->args[1 - side], scale * c->constant, terms,
                       depth + 1);
          return;
        }
      }
    if (n->kind == Expr::Div) {
      Expr *c = open(n->args[1]);
      if (c->kind == Expr::Const && c->constant != 0) {
        collectTerms(n->args[0], scale / c->constant, terms, depth + 1);
        return;
      }
    }
    // select(m, x, -inf) is x + select(m, 0, -inf) (masked_fill).
    if (n->kind == Expr::Select)
      for (int side = 1; side < 3; ++side) {
        Expr *c = open(n->args[side]);
        if (c->kind != Expr::Const || c->constant != -INFINITY ||
            open(n->args[3 - side])->kind == Expr::Const)
          continue;
        Expr *zero = constant(0);
        Expr *mask = make(Expr::Select, {n->args[0], side == 2 ? zero : c,
                                         side == 2 ? c : zero});
        terms.push_back({mask, scale});
        collectTerms(n->args[3 - side], scale, terms, depth + 1);
        return;
      }
  }
  terms.push_back({e, scale});
}

LogicalResult Matcher::matchScores(Expr *scores) {
  SmallVector<Term> terms;
  collectTerms(scores, 1.0, terms);
  int product = -1;
  for (size_t t = 0; t < terms.size() && product < 0; ++t) {
    Expr *n = open(terms[t].expr);
    if (n->kind == Expr::Leaf &&
        succeeded(asContraction(n->leaf.value.getDefiningOp())) &&
        succeeded(matchProduct(n->leaf, terms[t].scale)))
      product = t;
  }
  if (product < 0) {
    if (why.empty())
      why = "the scores are not a product of queries and keys (plus masks)";
    return failure();
  }
  why.clear();
  for (size_t t = 0; t < terms.size(); ++t)
    if (static_cast<int>(t) != product)
      maskTerms.push_back(terms[t]);
  return success();
}

/// Follows `x` back through layout ops and scales by constants (which
/// multiply `scale`).
Traced Matcher::peelScales(Traced x, bool throughBroadcast, double &scale) {
  for (int n = 0; n < 16; ++n) {
    traceBack(x, throughBroadcast);
    Expr *e = openProducer(x);
    Expr *inner = nullptr;
    double factor = 1;
    if (e->kind == Expr::Mul || e->kind == Expr::Div)
      for (int side = 0; side < 2 && !inner; ++side) {
        if (e->kind == Expr::Div && side == 0)
          continue;
        Expr *c = open(e->args[side]);
        Expr *other = e->args[1 - side];
        if (c->kind != Expr::Const || other->kind != Expr::Leaf ||
            c->constant == 0)
          continue;
        if (!throughBroadcast &&
            flat(other->leaf.layout).size() != flat(x.layout).size())
          continue;
        inner = other;
        factor = e->kind == Expr::Div ? 1.0 / c->constant : c->constant;
      }
    if (!inner)
      return x;
    scale *= factor;
    x = inner->leaf;
  }
  return x;
}

/// `scores` (a leaf over batch, query and key axes) is q . k: records q, k
/// and the scale.
LogicalResult Matcher::matchProduct(const Traced &scores, double scale) {
  FailureOr<Contraction> c = asContraction(scores.value.getDefiningOp());
  FailureOr<ContractionLoops> roles =
      succeeded(c) ? classify(*c) : FailureOr<ContractionLoops>(failure());
  if (failed(roles)) {
    why = "the scores are not a batched matrix product";
    return failure();
  }
  Loops loops(c->loopSizes.size());
  if (!assignLoops(c->outMap, scores.layout, loops)) {
    why = "the scores are not a batched matrix product";
    return failure();
  }
  plan.dimAxis = axes.add(c->loopSizes[roles->reduced], Axis::Dim);
  loops[roles->reduced] = Dim{plan.dimAxis};
  FailureOr<Layout> lhs = layoutThrough(c->lhsMap, loops);
  FailureOr<Layout> rhs = layoutThrough(c->rhsMap, loops);
  if (failed(lhs) || failed(rhs))
    return failure();
  Dim queries, keys;
  axes.leaves(plan.queryAxis, queries);
  axes.leaves(plan.keyAxis, keys);
  Dim lhsOnly = leavesOf(*loops[roles->lhsOnly]);
  Dim rhsOnly = leavesOf(*loops[roles->rhsOnly]);
  bool lhsIsQuery;
  if (lhsOnly == queries && rhsOnly == keys)
    lhsIsQuery = true;
  else if (lhsOnly == keys && rhsOnly == queries)
    lhsIsQuery = false;
  else {
    why = "the scores are not indexed by the queries and keys of the product "
          "with V";
    return failure();
  }
  plan.scale = scale;
  plan.query = peelScales({lhsIsQuery ? c->lhs : c->rhs,
                           lhsIsQuery ? *lhs : *rhs},
                          /*throughBroadcast=*/false, plan.scale);
  plan.key = peelScales({lhsIsQuery ? c->rhs : c->lhs,
                         lhsIsQuery ? *rhs : *lhs},
                        /*throughBroadcast=*/true, plan.scale);
  return success();
}


/// Checks what each operand covers and groups the batch axes into attn's
/// B and H (heads that K and V lack go last in H: GQA).
LogicalResult Matcher::finish() {
  Dim batch;
  for (int leaf : flat(plan.output))
    if (axes.axis(leaf) == Axis::Batch)
      batch.push_back(leaf);
  plan.i.clear();
  plan.j.clear();
  plan.d.clear();
  plan.e.clear();
  axes.leaves(plan.queryAxis, plan.i);
  axes.leaves(plan.keyAxis, plan.j);
  axes.leaves(plan.dimAxis, plan.d);
  axes.leaves(plan.valueDimAxis, plan.e);
  auto sorted = [](ArrayRef<int> leaves) {
    SmallVector<int> s(leaves.begin(), leaves.end());
    llvm::sort(s);
    return s;
  };
  auto unite = [](std::initializer_list<ArrayRef<int>> parts) {
    SmallVector<int> all;
    for (ArrayRef<int> p : parts)
      all.append(p.begin(), p.end());
    llvm::sort(all);
    return all;
  };
  auto batchOf = [&](const Layout &layout) {
    Dim out;
    SmallVector<int> leaves = flat(layout);
    for (int leaf : batch)
      if (llvm::is_contained(leaves, leaf))
        out.push_back(leaf);
    return out;
  };
  if (!distinct(plan.query.layout) ||
      sorted(flat(plan.query.layout)) != unite({batch, plan.i, plan.d})) {
    why = "the queries are not indexed by every batch axis, the queries and "
          "the head dimension";
    return failure();
  }
  Dim keyBatch = batchOf(plan.key.layout);
  Dim valueBatch = batchOf(plan.value.layout);
  if (!distinct(plan.key.layout) ||
      sorted(flat(plan.key.layout)) != unite({keyBatch, plan.j, plan.d}) ||
      !distinct(plan.value.layout) ||
      sorted(flat(plan.value.layout)) != unite({valueBatch, plan.j, plan.e})) {
    why = "the keys or values are not indexed by batch axes, keys and a head "
          "dimension";
    return failure();
  }
  if (keyBatch != valueBatch) {
    why = "the keys and the values are repeated across heads differently";
    return failure();
  }
  Dim group;
  for (int leaf : batch)
    if (!llvm::is_contained(keyBatch, leaf))
      group.push_back(leaf);
  plan.b.clear();
  plan.hkv = keyBatch;
  if (keyBatch.size() >= 2) {
    plan.b = {keyBatch.front()};
    plan.hkv.erase(plan.hkv.begin());
  }
  plan.h = plan.hkv;
  plan.h.append(group.begin(), group.end());
  return success();
}

LogicalResult Matcher::match(Operation *anchor, unsigned weights) {
  plan.anchor = anchor;
  FailureOr<Contraction> c = asContraction(anchor);
  if (failed(c)) {
    why = "the product with V is not a batched matrix product of static f32 "
          "tensors into zeros";
    return failure();
  }
  FailureOr<ContractionLoops> roles = classify(*c);
  if (failed(roles)) {
    why = "the product with V is not a batched matrix product";
    return failure();
  }
  unsigned queryLoop = weights == 0 ? roles->lhsOnly : roles->rhsOnly;
  unsigned valueLoop = weights == 0 ? roles->rhsOnly : roles->lhsOnly;
  Loops loops(c->loopSizes.size());
  for (unsigned l : roles->batch) {
    int axis = axes.add(c->loopSizes[l], Axis::Batch);
    plan.batchAxes.push_back(axis);
    loops[l] = Dim{axis};
  }
  plan.queryAxis = axes.add(c->loopSizes[queryLoop], Axis::Query);
  plan.valueDimAxis = axes.add(c->loopSizes[valueLoop], Axis::ValueDim);
  plan.keyAxis = axes.add(c->loopSizes[roles->reduced], Axis::Key);
  loops[queryLoop] = Dim{plan.queryAxis};
  loops[valueLoop] = Dim{plan.valueDimAxis};
  loops[roles->reduced] = Dim{plan.keyAxis};
  FailureOr<Layout> out = layoutThrough(c->outMap, loops);
  FailureOr<Layout> lhs = layoutThrough(c->lhsMap, loops);
  FailureOr<Layout> rhs = layoutThrough(c->rhsMap, loops);
  if (failed(out) || failed(lhs) || failed(rhs)) {
    why = "the product with V is not a batched matrix product";
    return failure();
  }
  plan.output = *out;
  Traced w = weights == 0 ? Traced{c->lhs, *lhs} : Traced{c->rhs, *rhs};
  Traced v = weights == 0 ? Traced{c->rhs, *rhs} : Traced{c->lhs, *lhs};
  Expr *scores = nullptr;
  if (failed(matchSinkColumn(w, scores)))
    return failure();
  if (!scores)
    scores = matchWeights(leaf(w));
  if (!scores || failed(matchScores(scores)))
    return failure();
  traceBack(v, /*throughBroadcast=*/true);
  plan.value = v;
  for (const Term &term : maskTerms)
    if (failed(classifyMask(term)))
      return failure();
  if (failed(finish()))
    return failure();
  return finishMods();
}

/// Learnable sinks as exporters write them: a column (one logit per head)
/// concatenated to the scores along the keys, the softmax over both, and
/// the column sliced off before the product with V. Sets `scores` to the
/// scores without the column; leaves it null when `weights` is no such
/// slice.
LogicalResult Matcher::matchSinkColumn(Traced &weights, Expr *&scores) {
  traceBack(weights, /*throughBroadcast=*/false);
  Operation *def = weights.value.getDefiningOp();
  if (!def || !isa<tosa::SliceOp, tensor::ExtractSliceOp>(def))
    return success();
  Value source = def->getOperand(0);
  if (!isF32Tensor(source))
    return success();
  SmallVector<int64_t> offsets, strides;
  if (auto tosaSlice = dyn_cast<tosa::SliceOp>(def)) {
    if (!tosa::getConstShapeValues(tosaSlice.getStart().getDefiningOp(),
                                   offsets))
      return success();
    strides.assign(offsets.size(), 1);
  } else {
    auto slice = cast<tensor::ExtractSliceOp>(def);
    if (slice.getSourceType().getRank() != slice.getResultType().getRank())
      return success();
    offsets.assign(slice.getStaticOffsets().begin(),
                   slice.getStaticOffsets().end());
    strides.assign(slice.getStaticStrides().begin(),
                   slice.getStaticStrides().end());
  }
  Dim keys;
  axes.leaves(plan.keyAxis, keys);
  int64_t lk = axes.size(plan.keyAxis);
  ArrayRef<int64_t> from = shapeOf(source), to = shapeOf(weights.value);
  int keyDim = -1;
  for (size_t d = 0; d < from.size(); ++d) {
    if (offsets[d] != 0 || strides[d] != 1)
      return success();
    if (from[d] == to[d])
      continue;
    if (keyDim >= 0 || leavesOf(weights.layout[d]) != keys || from[d] != lk + 1)
      return success();
    keyDim = d;
  }
  if (keyDim < 0)
    return success();
  // The softmax runs over the keys and the column: an axis of Lk + 1.
  int extended = axes.add(lk + 1, Axis::Key);
  Layout layout = weights.layout;
  layout[keyDim] = {extended};
  int keyAxis = plan.keyAxis;
  plan.keyAxis = extended;
  Expr *all = matchWeights(leaf({source, layout}));
  plan.keyAxis = keyAxis;
  if (!all)
    return failure();
  SmallVector<Term> terms;
  collectTerms(all, 1.0, terms);
  Expr *concat = terms.size() == 1 ? open(terms[0].expr) : nullptr;
  Operation *cat = concat && concat->kind == Expr::Leaf
                       ? concat->leaf.value.getDefiningOp()
                       : nullptr;
  int catDim = -1;
  if (cat && isa<tosa::ConcatOp, tensor::ConcatOp>(cat) &&
      cat->getNumOperands() == 2) {
    int64_t axis = isa<tosa::ConcatOp>(cat)
                       ? cast<tosa::ConcatOp>(cat).getAxis()
                       : cast<tensor::ConcatOp>(cat).getDim();
    if (leavesOf(concat->leaf.layout[axis]) == Dim{extended} &&
        shapeOf(cat->getOperand(0))[axis] == lk)
      catDim = axis;
  }
  if (catDim < 0) {
    why = "the softmax runs over one more key than the product with V, but "
          "not over a column concatenated to the scores";
    return failure();
  }
  double scale = terms[0].scale;
  Layout scoresLayout = concat->leaf.layout, sinkLayout = scoresLayout;
  scoresLayout[catDim] = {plan.keyAxis};
  sinkLayout[catDim] = {};
  Traced sink{cat->getOperand(1), sinkLayout};
  traceBack(sink, /*throughBroadcast=*/true);
  // (finishMods checks that it varies along query heads only.)
  if (!isF32Tensor(sink.value)) {
    why = "the column concatenated to the scores is not a static f32 tensor";
    return failure();
  }
  plan.sink = sink;
  plan.sinkScale = scale;
  plan.notes.push_back(
      "the column concatenated to the scores became sink_logits");
  scores = leaf({cat->getOperand(0), scoresLayout});
  if (scale != 1)
    scores = make(Expr::Mul, {scores, constant(scale)});
  return success();
}

} // namespace mlir::attn::raise
