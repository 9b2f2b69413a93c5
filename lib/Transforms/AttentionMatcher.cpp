//===- AttentionMatcher.cpp - Attention written as math -------------------===//
//
// Recognizes out = softmax(scale * q k^T + masks) v written by a front end in
// TOSA or linalg, and rewrites it into attn.attention.
//
// Every tensor on the way is described by a *layout*: for each dimension,
// the attention axes that index it, outermost first. The axes (batch, query,
// key, head dimension, value dimension) are created at the product with V and
// split into parts when a reshape needs it; a layout naming a whole axis then
// means its parts, so splitting never invalidates one. Layout ops (transpose,
// reshape, broadcast, tile) only move axes, so the matcher walks back through
// them; elementwise ops (TOSA ops, linalg named ops and generics, arith on
// tensors) become small expression trees over the same axes; reductions and
// contractions say which axis they sum over. A softmax is
// exp(s - max_key s) / sum_key exp(s - max_key s) where both reductions run
// over the key axis of the same expression, so a reduction over another axis,
// a missing max or a mask added after the exp fails one of these checks and
// the failure is the explanation. The rewrite then moves each operand into
// attn's [B, H, L, D] layout with reshapes and one transpose; heads that K
// and V lack (a repeat or a broadcast across query heads) become GQA.
//
// Only exact rewrites are made: masks of 0 and -inf only (a finite "large
// negative" mask stays an additive bias), a -inf mask only when every row
// keeps a key (otherwise the written softmax gives NaN where attn gives
// zeros), f32 only, static shapes only.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcherInternals.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"

#define DEBUG_TYPE "attn-raise"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::raise;

namespace {

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

SmallVector<int> flatLeaves(const AxisTable &axes, const Layout &layout) {
  SmallVector<int> out;
  for (const Dim &dim : layout)
    for (int a : dim)
      axes.leaves(a, out);
  return out;
}

int64_t sizeOf(const AxisTable &axes, const Dim &dim) {
  int64_t size = 1;
  for (int a : dim)
    size *= axes.size(a);
  return size;
}

/// `src` reshaped to `shape` (same number of elements) with at most one
/// collapse and one expand: both shapes are cut into the shortest runs of
/// dimensions with equal products; the collapse merges each run of `src`,
/// the expand splits it into the run of `shape`.
Value reshapeTo(OpBuilder &b, Location loc, Value src, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(src.getType());
  ArrayRef<int64_t> from = type.getShape();
  if (from == shape)
    return src;
  auto target = RankedTensorType::get(shape, type.getElementType());
  if (from.empty())
    return tensor::ExpandShapeOp::create(b, loc, target, src,
                                         ArrayRef<ReassociationIndices>{});
  if (shape.empty())
    return tensor::CollapseShapeOp::create(b, loc, target, src,
                                           ArrayRef<ReassociationIndices>{});
  SmallVector<ReassociationIndices> srcRuns, dstRuns;
  size_t i = 0, j = 0;
  while (i < from.size() || j < shape.size()) {
    ReassociationIndices srcRun, dstRun;
    int64_t ps = 1, pd = 1;
    if (i < from.size())
      ps *= from[i], srcRun.push_back(i++);
    if (j < shape.size())
      pd *= shape[j], dstRun.push_back(j++);
    while (ps != pd) {
      if (ps < pd)
        ps *= from[i], srcRun.push_back(i++);
      else
        pd *= shape[j], dstRun.push_back(j++);
    }
    // Trailing unit dimensions join the run before them.
    if ((srcRun.empty() || dstRun.empty()) && !srcRuns.empty()) {
      srcRuns.back().append(srcRun.begin(), srcRun.end());
      dstRuns.back().append(dstRun.begin(), dstRun.end());
      continue;
    }
    srcRuns.push_back(srcRun);
    dstRuns.push_back(dstRun);
  }
  SmallVector<int64_t> middle;
  for (const ReassociationIndices &run : srcRuns) {
    int64_t size = 1;
    for (int64_t d : run)
      size *= from[d];
    middle.push_back(size);
  }
  Value x = src;
  if (middle.size() != from.size())
    x = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(middle, type.getElementType()), x,
        srcRuns);
  if (middle.size() != shape.size())
    x = tensor::ExpandShapeOp::create(b, loc, target, x, dstRuns);
  return x;
}

/// Moves `src` (laid out as `from`) into the layout `to`: reshape to one
/// dimension per leaf, transpose, broadcast the leaves it lacks, reshape.
Value relayout(OpBuilder &b, Location loc, const AxisTable &axes, Value src,
               const Layout &from, const Layout &to) {
  SmallVector<int> s = flatLeaves(axes, from), d = flatLeaves(axes, to);
  auto elementType = cast<RankedTensorType>(src.getType()).getElementType();
  SmallVector<int64_t> shape;
  for (const Dim &dim : to)
    shape.push_back(sizeOf(axes, dim));
  if (s == d) // Same order: one reshape.
    return reshapeTo(b, loc, src, shape);
  SmallVector<int64_t> leafShape;
  for (int leaf : s)
    leafShape.push_back(axes.size(leaf));
  Value x = reshapeTo(b, loc, src, leafShape);
  SmallVector<int> present;
  for (int leaf : d)
    if (llvm::is_contained(s, leaf))
      present.push_back(leaf);
  assert(present.size() == s.size() && "relayout drops an axis");
  SmallVector<int64_t> perm;
  SmallVector<int64_t> permutedShape;
  for (int leaf : present) {
    perm.push_back(llvm::find(s, leaf) - s.begin());
    permutedShape.push_back(axes.size(leaf));
  }
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()))) {
    Value init = tensor::EmptyOp::create(b, loc, permutedShape, elementType);
    x = linalg::TransposeOp::create(b, loc, x, init, perm)->getResult(0);
  }
  if (present.size() != d.size()) {
    SmallVector<int64_t> added, fullShape;
    for (size_t k = 0; k < d.size(); ++k) {
      fullShape.push_back(axes.size(d[k]));
      if (!llvm::is_contained(s, d[k]))
        added.push_back(k);
    }
    Value init = tensor::EmptyOp::create(b, loc, fullShape, elementType);
    x = linalg::BroadcastOp::create(b, loc, x, init, added)->getResult(0);
  }
  return reshapeTo(b, loc, x, shape);
}

/// An elementwise linalg.generic applying `fn` to `input`.
Value mapElements(OpBuilder &b, Location loc, Value input,
                  function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto type = cast<RankedTensorType>(input.getType());
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{input}, ValueRange{init},
      ArrayRef<AffineMap>{id, id}, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, fn(nb, nl, args[0]));
      });
  return generic->getResult(0);
}

/// The f32 tensor `x` times `scale` (x itself when the scale is 1).
Value scaled(OpBuilder &b, Location loc, Value x, double scale) {
  if (scale == 1)
    return x;
  return mapElements(b, loc, x, [&](OpBuilder &nb, Location l, Value e) {
    Value c = arith::ConstantOp::create(
        nb, l, nb.getF32FloatAttr(static_cast<float>(scale)));
    return Value(arith::MulFOp::create(nb, l, e, c));
  });
}

/// [Bm, Hm, Lq, Lk] for a mask or bias laid out as `layout`: B and H only
/// where it varies along them.
Layout maskLayout(const AttentionPlan &p, const Layout &layout) {
  SmallVector<int> leaves = flatLeaves(p.axes, layout);
  auto covers = [&](const Dim &group) {
    return llvm::any_of(group,
                        [&](int l) { return llvm::is_contained(leaves, l); });
  };
  return {covers(p.b) ? p.b : Dim(), covers(p.h) ? p.h : Dim(), p.i, p.j};
}

std::string describe(const AttentionPlan &p) {
  auto size = [&](const Dim &d) { return sizeOf(p.axes, d); };
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "attn.attention with B=" << size(p.b) << " Hq=" << size(p.h)
     << " Hkv=" << size(p.hkv) << " Lq=" << size(p.i) << " Lk=" << size(p.j)
     << " D=" << size(p.d) << " Dv=" << size(p.e) << ", scale "
     << llvm::format("%g", static_cast<double>(static_cast<float>(p.scale)));
  if (p.causal)
    os << ", causal";
  if (p.hasWindow) {
    os << ", window";
    if (p.windowLeft)
      os << " left " << *p.windowLeft;
    if (p.windowRight)
      os << " right " << *p.windowRight;
  }
  if (p.mask || p.maskConst)
    os << ", mask";
  if (p.bias)
    os << ", bias";
  if (p.sink)
    os << ", sink_logits";
  if (!p.scoreTerms.empty())
    os << ", score_mod";
  if (!p.maskMods.empty())
    os << ", mask_mod";
  for (const std::string &note : p.notes)
    os << "; " << note;
  return s;
}

/// Whether some op in the few ops that make `v` is an exp or a softmax.
bool reachesSoftmax(Value v) {
  SmallVector<std::pair<Value, int>> worklist{{v, 0}};
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!worklist.empty()) {
    auto [value, depth] = worklist.pop_back_val();
    Operation *op = value.getDefiningOp();
    if (!op || !seen.insert(op).second)
      continue;
    if (isa<linalg::SoftmaxOp, tosa::ExpOp, math::ExpOp>(op))
      return true;
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      if (isContraction(op))
        continue;
      bool exp = false;
      linalgOp.getBlock()->walk([&](math::ExpOp) { exp = true; });
      if (exp)
        return true;
    }
    if (isa<tosa::MatMulOp>(op) || depth >= 10)
      continue;
    for (Value operand : op->getOperands())
      worklist.push_back({operand, depth + 1});
  }
  return false;
}

} // namespace

SmallVector<AttentionSite> mlir::attn::findAttentionSites(Operation *root) {
  SmallVector<AttentionSite> sites;
  root->walk([&](Operation *op) {
    if (!isContraction(op))
      return;
    AttentionSite site;
    site.anchor = op;
    bool candidate = false;
    for (unsigned weights = 0; weights < 2; ++weights) {
      if (!reachesSoftmax(op->getOperand(weights)))
        continue;
      auto plan = std::make_shared<AttentionPlan>();
      Matcher matcher(*plan);
      if (succeeded(matcher.match(op, weights))) {
        site.plan = plan;
        site.reason.clear();
        site.summary = describe(*plan);
        ATTN_DEBUG(ATTN_DBGS() << "'" << op->getName() << "' at "
                               << op->getLoc() << " matches "
                               << site.summary << "\n");
        break;
      }
      ATTN_DEBUG(ATTN_DBGS() << "'" << op->getName() << "' at "
                             << op->getLoc() << " is no attention: "
                             << matcher.why << "\n");
      if (!candidate)
        site.reason = matcher.why;
      candidate = true;
    }
    if (candidate || site.plan)
      sites.push_back(std::move(site));
  });
  return sites;
}

FailureOr<Operation *>
mlir::attn::raiseAttentionSite(RewriterBase &rewriter,
                               const AttentionSite &site) {
  if (!site.plan)
    return failure();
  const AttentionPlan &p = *site.plan;
  const AxisTable &axes = p.axes;
  Operation *anchor = p.anchor;
  Location loc = anchor->getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(anchor);
  MLIRContext *ctx = rewriter.getContext();

  Value q = relayout(rewriter, loc, axes, p.query.value, p.query.layout,
                     {p.b, p.h, p.i, p.d});
  Value k = relayout(rewriter, loc, axes, p.key.value, p.key.layout,
                     {p.b, p.hkv, p.j, p.d});
  Value v = relayout(rewriter, loc, axes, p.value.value, p.value.layout,
                     {p.b, p.hkv, p.j, p.e});
  auto shapeOfLayout = [&](const Layout &layout) {
    SmallVector<int64_t> shape;
    for (const Dim &dim : layout)
      shape.push_back(sizeOf(axes, dim));
    return shape;
  };

  Value mask, bias;
  if (p.mask) {
    mask = relayout(rewriter, loc, axes, p.mask->value, p.mask->layout,
                    maskLayout(p, p.mask->layout));
    if (p.maskNegated)
      mask = mapElements(rewriter, loc, mask,
                         [](OpBuilder &b, Location l, Value x) -> Value {
                           Value one = arith::ConstantOp::create(
                               b, l, b.getBoolAttr(true));
                           return arith::XOrIOp::create(b, l, x, one);
                         });
  }
  if (p.maskConst) {
    DenseElementsAttr attr;
    matchPattern(p.maskConst->value, m_Constant(&attr));
    Layout to = maskLayout(p, p.maskConst->layout);
    SmallVector<double> values =
        gatherConstant(axes, attr, flatLeaves(axes, p.maskConst->layout),
                       flatLeaves(axes, to));
    SmallVector<bool> allowed;
    for (double x : values)
      allowed.push_back(x == 0);
    auto type = RankedTensorType::get(shapeOfLayout(to), rewriter.getI1Type());
    mask = arith::ConstantOp::create(rewriter, loc,
                                     DenseElementsAttr::get(type, allowed));
  }
  if (p.bias) {
    Layout to = maskLayout(p, p.bias->layout);
    DenseElementsAttr attr;
    if (matchPattern(p.bias->value, m_Constant(&attr))) {
      SmallVector<double> values = gatherConstant(
          axes, attr, flatLeaves(axes, p.bias->layout), flatLeaves(axes, to));
      SmallVector<float> scaled;
      for (double x : values)
        scaled.push_back(static_cast<float>(x * p.biasScale));
      auto type =
          RankedTensorType::get(shapeOfLayout(to), rewriter.getF32Type());
      bias = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(type, ArrayRef<float>(scaled)));
    } else {
      bias = scaled(
          rewriter, loc,
          relayout(rewriter, loc, axes, p.bias->value, p.bias->layout, to),
          p.biasScale);
    }
  }
  Value sinkLogits;
  if (p.sink)
    sinkLogits = scaled(
        rewriter, loc,
        relayout(rewriter, loc, axes, p.sink->value, p.sink->layout, {p.h}),
        p.sinkScale);
  // Constant tables that a mod reads, as arith constants above the op.
  DenseMap<Value, Value> tables;
  Operation *tablesBefore = anchor;
  auto table = [&](Value t) -> Value {
    DenseElementsAttr attr;
    if (!matchPattern(t, m_Constant(&attr)))
      return t;
    Value &c = tables[t];
    if (!c) {
      OpBuilder::InsertionGuard g(rewriter);
      rewriter.setInsertionPoint(tablesBefore);
      c = arith::ConstantOp::create(rewriter, loc, attr);
    }
    return c;
  };

  Layout resultLayout = {p.b, p.h, p.i, p.e};
  Value init = tensor::EmptyOp::create(rewriter, loc,
                                       shapeOfLayout(resultLayout),
                                       rewriter.getF32Type());
  WindowAttr window;
  if (p.hasWindow)
    window = WindowAttr::get(ctx, p.windowLeft, p.windowRight);
  auto attention = AttentionOp::create(
      rewriter, loc, init.getType(), /*statistics=*/TypeRange(), q, k, v, mask,
      bias, sinkLogits, /*k_scale=*/Value(), /*v_scale=*/Value(), init,
      rewriter.getF32FloatAttr(static_cast<float>(p.scale)),
      p.causal ? rewriter.getUnitAttr() : UnitAttr(), window,
      /*sinks=*/IntegerAttr(), /*softcap=*/FloatAttr(), /*score=*/ScoreAttr(),
      /*strategy=*/StrategyAttr(), /*return_lse=*/UnitAttr(),
      /*return_entropy=*/UnitAttr());
  tablesBefore = attention;
  Type f32 = rewriter.getF32Type(), index = rewriter.getIndexType();
  if (!p.scoreTerms.empty()) {
    OpBuilder::InsertionGuard g(rewriter);
    Block *block = rewriter.createBlock(&attention.getScoreMod(), {},
                                        {f32, index, index, index, index},
                                        SmallVector<Location>(5, loc));
    DenseMap<ModNode *, Value> values;
    Value score = block->getArgument(0);
    for (auto [term, scale] : p.scoreTerms) {
      Value t = emitModNode(rewriter, loc, p, term,
                            block->getArguments().drop_front(), values, table);
      if (scale != 1)
        t = arith::MulFOp::create(
            rewriter, loc, t,
            arith::ConstantOp::create(
                rewriter, loc,
                rewriter.getF32FloatAttr(static_cast<float>(scale))));
      score = arith::AddFOp::create(rewriter, loc, score, t);
    }
    YieldOp::create(rewriter, loc, score);
  }
  if (!p.maskMods.empty()) {
    OpBuilder::InsertionGuard g(rewriter);
    Block *block = rewriter.createBlock(&attention.getMaskMod(), {},
                                        {index, index, index, index},
                                        SmallVector<Location>(4, loc));
    DenseMap<ModNode *, Value> values;
    Value allowed;
    for (ModNode *n : p.maskMods) {
      Value v = emitModNode(rewriter, loc, p, n, block->getArguments(), values,
                            table);
      allowed = allowed ? arith::AndIOp::create(rewriter, loc, allowed, v) : v;
    }
    YieldOp::create(rewriter, loc, allowed);
  }
  Value result = relayout(rewriter, loc, axes, attention.getResult(),
                          resultLayout, p.output);

  SmallVector<Operation *> worklist;
  for (Value operand : anchor->getOperands())
    if (Operation *def = operand.getDefiningOp())
      worklist.push_back(def);
  rewriter.replaceOp(anchor, result);
  // Erase what only the written attention used.
  llvm::DenseSet<Operation *> erased;
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (erased.contains(op) || !isOpTriviallyDead(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        worklist.push_back(def);
    erased.insert(op);
    rewriter.eraseOp(op);
  }
  return attention.getOperation();
}

