//===- AttentionMasks.cpp - What a mask term of the scores means ----------===//
//
// A term added to the scores is a runtime i1 mask (through select), a
// constant 0/-inf mask that is exactly a causal rule or window (checked
// against attn's own rule) or a general constant mask, or an additive bias.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcherInternals.h"

#include "attn/Strategies/Common/MaskSemantics.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::raise;

namespace mlir::attn::raise {

/// Describes the constant 0/-inf mask `allowed` ([Lq, Lk], true = 0) as a
/// causal rule and/or window, if it is exactly one: the band of key offsets
/// j - (i + Lk - Lq) that the allowed entries span, checked row by row
/// against attn's own rule for that band (MaskSemantics.h).
std::optional<Band> bandOf(ArrayRef<bool> allowed, int64_t lq, int64_t lk) {
  SmallVector<std::pair<int64_t, int64_t>> rows;
  for (int64_t i = 0; i < lq; ++i) {
    ArrayRef<bool> row = allowed.slice(i * lk, lk);
    const bool *first = llvm::find(row, true);
    int64_t lo = first - row.begin(), hi = lo - 1;
    while (hi + 1 < lk && row[hi + 1])
      ++hi;
    // The allowed keys of a band are one interval.
    if (llvm::is_contained(row.drop_front(std::min(hi + 1, lk)), true))
      return std::nullopt;
    rows.push_back({lo, hi});
  }
  return bandOfRows(rows, lq, lk);
}

/// Describes the mask whose query i allows keys [lo, hi] (`rows`) as a
/// causal rule and/or window, if it is exactly one: the band of key offsets
/// j - (i + Lk - Lq) that the allowed keys span, checked row by row against
/// attn's own rule for that band (MaskSemantics.h).
std::optional<Band> bandOfRows(ArrayRef<std::pair<int64_t, int64_t>> rows,
                               int64_t lq, int64_t lk) {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t i = 0; i < lq; ++i)
    if (rows[i].first <= rows[i].second) {
      lo = std::min(lo, rows[i].first - (i + lk - lq));
      hi = std::max(hi, rows[i].second - (i + lk - lq));
    }
  if (lo > hi)
    return std::nullopt;
  Band band;
  // Offsets j - i' range over [-(lk - 1), lq - 1].
  if (lo > -(lk - 1)) {
    if (lo > 0)
      return std::nullopt;
    band.left = -lo;
  }
  if (hi < lq - 1) {
    if (hi < 0)
      return std::nullopt;
    if (hi == 0)
      band.causal = true;
    else
      band.right = hi;
  }
  semantics::BandRule rule;
  rule.queryLength = lq;
  rule.keyLength = lk;
  rule.causal = band.causal;
  rule.hasWindow = band.window();
  rule.windowLeft = band.left;
  rule.windowRight = band.right;
  for (int64_t i = 0; i < lq; ++i) {
    int64_t first, last;
    rule.band(i, first, last);
    bool none = first > last, rowNone = rows[i].first > rows[i].second;
    if (none != rowNone ||
        (!none && (first != rows[i].first || last != rows[i].second)))
      return std::nullopt;
  }
  return band;
}

/// Values of the constant `attr` (laid out as `from`) at each index of the
/// layout `to` (row-major); leaves that `from` lacks repeat.
SmallVector<double> gatherConstant(const AxisTable &axes, DenseElementsAttr attr,
                                   ArrayRef<int> from, ArrayRef<int> to) {
  SmallVector<double> values;
  for (APFloat v : attr.getValues<APFloat>())
    values.push_back(toDouble(v));
  DenseMap<int, int64_t> stride;
  int64_t s = 1;
  for (int k = static_cast<int>(from.size()) - 1; k >= 0; --k) {
    stride[from[k]] = s;
    s *= axes.size(from[k]);
  }
  int64_t total = 1;
  for (int leaf : to)
    total *= axes.size(leaf);
  SmallVector<double> out(total);
  SmallVector<int64_t> coord(to.size(), 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t offset = 0;
    for (size_t k = 0; k < to.size(); ++k)
      offset += coord[k] * stride.lookup(to[k]);
    out[n] = values[attr.isSplat() ? 0 : offset];
    for (int k = static_cast<int>(to.size()) - 1; k >= 0; --k) {
      if (++coord[k] < axes.size(to[k]))
        break;
      coord[k] = 0;
    }
  }
  return out;
}

LogicalResult Matcher::classifyConstant(const Traced &x, DenseElementsAttr attr,
                                        double scale) {
  if (!attr.getElementType().isF32()) {
    why = "an additive mask is not f32";
    return failure();
  }
  bool binary = llvm::all_of(attr.getValues<APFloat>(), [](APFloat v) {
    return v.isZero() || (v.isInfinity() && v.isNegative());
  });
  if (!binary) {
    if (plan.bias) {
      why = "more than one additive bias is added to the scores";
      return failure();
    }
    plan.bias = x;
    plan.biasScale = scale;
    return success();
  }
  if (scale <= 0) {
    why = "a -inf mask is multiplied by a scale that is not positive";
    return failure();
  }
  SmallVector<int> batch;
  for (int leaf : flat(x.layout))
    if (axes.axis(leaf) == Axis::Batch)
      batch.push_back(leaf);
  SmallVector<int> rows(batch);
  axes.leaves(plan.queryAxis, rows);
  SmallVector<int> grid(rows);
  axes.leaves(plan.keyAxis, grid);
  SmallVector<double> values = gatherConstant(axes, attr, flat(x.layout), grid);
  int64_t lk = axes.size(plan.keyAxis), lq = axes.size(plan.queryAxis);
  int64_t numRows = static_cast<int64_t>(values.size()) / lk;
  SmallVector<bool> allowed;
  bool all = true;
  for (int64_t r = 0; r < numRows; ++r) {
    bool any = false;
    for (int64_t j = 0; j < lk; ++j) {
      bool a = values[r * lk + j] == 0;
      allowed.push_back(a);
      any |= a;
      all &= a;
    }
    if (!any) {
      why = "a row of the constant -inf mask allows no key (the written "
            "softmax gives NaN there, attn.attention gives zeros)";
      return failure();
    }
  }
  if (all)
    return success();
  // A pattern repeated for every batch index is one [Lq, Lk] pattern.
  bool repeated = true;
  for (size_t n = lq * lk; n < allowed.size() && repeated; ++n)
    repeated = allowed[n] == allowed[n % (lq * lk)];
  if (repeated)
    if (std::optional<Band> band =
            bandOf(ArrayRef<bool>(allowed).take_front(lq * lk), lq, lk)) {
      if (band->window() && plan.hasWindow) {
        why = "two constant masks describe windows";
        return failure();
      }
      plan.causal |= band->causal;
      if (band->window()) {
        plan.hasWindow = true;
        plan.windowLeft = band->left;
        plan.windowRight = band->right;
      }
      return success();
    }
  if (plan.mask || plan.maskConst) {
    why = "more than one mask tensor is added to the scores";
    return failure();
  }
  plan.maskConst = x;
  return success();
}

/// `x` as scalar code when it is computed from positions and tensors that
/// do not span both queries and keys; null (and `why` unchanged) when it is
/// a tensor as it stands or cannot be lifted.
ModNode *Matcher::liftComputed(const Traced &term) {
  std::string saved = why;
  size_t nodes = plan.modNodes.size();
  Traced x = term;
  traceBack(x, /*throughBroadcast=*/true);
  ModNode *n = lift(x);
  why = saved;
  if (n && n->kind == ModNode::Read && n->table == x.value)
    n = nullptr;
  if (!n)
    plan.modNodes.resize(nodes);
  return n;
}

/// Adds the lifted i1 mask `allowed` (which allows where it is false when
/// `negated`) to the mask_mod's conjunction.
void Matcher::addMaskMod(ModNode *allowed, bool negated) {
  if (negated)
    allowed = compute("arith.xori", allowed->type,
                      {allowed, constantOf(allowed->type, 1)});
  plan.maskMods.push_back(allowed);
  plan.notes.push_back("the computed mask became the mask_mod");
}

/// A lifted term added to the scores times `scale`: select(m, 0, -inf)
/// computed in one op is the mask m, an f32 value a bias.
LogicalResult Matcher::classifyLifted(ModNode *mod, double scale) {
  auto isConst = [](ModNode *n, double value) {
    auto f = n->kind == ModNode::Constant ? dyn_cast<FloatAttr>(n->value)
                                          : FloatAttr();
    return f && f.getValueAsDouble() == value;
  };
  if (mod->kind == ModNode::Compute &&
      mod->name->getStringRef() == "arith.select" && scale > 0) {
    bool zeroInf = isConst(mod->args[1], 0) && isConst(mod->args[2], -INFINITY);
    bool infZero = isConst(mod->args[1], -INFINITY) && isConst(mod->args[2], 0);
    if (zeroInf || infZero) {
      addMaskMod(mod->args[0], /*negated=*/infZero);
      return success();
    }
  }
  if (!mod->type.isF32()) {
    why = "an additive bias is not f32";
    return failure();
  }
  plan.scoreTerms.push_back({mod, scale});
  plan.notes.push_back("the computed bias became the score_mod");
  return success();
}

LogicalResult Matcher::classifyMask(const Term &term) {
  Expr *n = open(term.expr);
  if (n->kind == Expr::Const) {
    if (n->constant == 0)
      return success();
    why = "a constant is added to every score";
    return failure();
  }
  // Math of positions and tables computed in the op that adds it.
  if (n->kind == Expr::Computed)
    return classifyLifted(n->mod, term.scale);
  // select(m, 0, -inf): the i1 tensor m is the mask.
  if (n->kind == Expr::Select) {
    // The tensor m as the select reads it, and opened (a computed m opens
    // into its producer's math).
    Expr *read = n->args[0];
    Expr *cond = open(read);
    if (cond->kind != Expr::Leaf && read->kind == Expr::Leaf)
      cond = read;
    Expr *onTrue = open(n->args[1]), *onFalse = open(n->args[2]);
    // An i1 computed in the op that selects with it (masked_fill in a
    // fused body).
    if (cond->kind == Expr::Computed && cond->mod->type.isInteger(1) &&
        onTrue->kind == Expr::Const && onFalse->kind == Expr::Const) {
      bool zeroInf = onTrue->constant == 0 && onFalse->constant == -INFINITY;
      bool infZero = onTrue->constant == -INFINITY && onFalse->constant == 0;
      if ((zeroInf || infZero) && term.scale > 0) {
        addMaskMod(cond->mod, /*negated=*/infZero);
        return success();
      }
    }
    if (cond->kind == Expr::Leaf && onTrue->kind == Expr::Const &&
        onFalse->kind == Expr::Const &&
        cast<ShapedType>(cond->leaf.value.getType())
            .getElementType()
            .isInteger(1)) {
      bool zeroInf = onTrue->constant == 0 && onFalse->constant == -INFINITY;
      bool infZero = onTrue->constant == -INFINITY && onFalse->constant == 0;
      if (zeroInf || infZero) {
        if (term.scale <= 0) {
          why = "a -inf mask is multiplied by a scale that is not positive";
          return failure();
        }
        if (ModNode *mod = liftComputed(cond->leaf)) {
          addMaskMod(mod, /*negated=*/infZero);
          return success();
        }
        if (plan.mask || plan.maskConst) {
          why = "more than one mask tensor is added to the scores";
          return failure();
        }
        plan.mask = cond->leaf;
        plan.maskNegated = infZero;
        return success();
      }
    }
  }
  if (n->kind == Expr::Leaf) {
    DenseElementsAttr attr;
    if (matchPattern(n->leaf.value, m_Constant(&attr)))
      return classifyConstant(n->leaf, attr, term.scale);
  }
  if (n->kind != Expr::Leaf && term.expr->kind != Expr::Leaf) {
    why = "an additive mask is computed inside a fused op";
    if (!unliftedWhy.empty())
      why += " (" + unliftedWhy + ")";
    return failure();
  }
  Traced x = n->kind == Expr::Leaf ? n->leaf : term.expr->leaf;
  traceBack(x, /*throughBroadcast=*/true);
  if (ModNode *mod = liftComputed(x))
    return classifyLifted(mod, term.scale);
  if (!isF32Tensor(x.value)) {
    why = "an additive mask is not a static f32 tensor";
    return failure();
  }
  if (plan.bias) {
    why = "more than one additive bias is added to the scores";
    return failure();
  }
  plan.bias = x;
  plan.biasScale = term.scale;
  return success();
}

} // namespace mlir::attn::raise
