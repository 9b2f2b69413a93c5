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

#include "AttentionMatcher.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cfloat>
#include <cmath>
#include <deque>
#include <functional>

#define DEBUG_TYPE "attn-raise"

using namespace mlir;
using namespace mlir::attn;

namespace {

//===----------------------------------------------------------------------===//
// Axes and layouts
//===----------------------------------------------------------------------===//

enum class Axis { Batch, Query, Key, Dim, ValueDim };

/// The attention's axes. A leaf axis may be split into an outer and an inner
/// part when a reshape needs it.
class AxisTable {
public:
  int add(int64_t size, Axis axis) {
    atoms.push_back({size, axis, {}});
    return static_cast<int>(atoms.size()) - 1;
  }
  int64_t size(int a) const { return atoms[a].size; }
  Axis axis(int a) const { return atoms[a].axis; }
  /// The leaves of `a`, outermost first, without size-1 ones.
  void leaves(int a, SmallVectorImpl<int> &out) const {
    if (atoms[a].parts.empty()) {
      if (atoms[a].size != 1)
        out.push_back(a);
      return;
    }
    for (int p : atoms[a].parts)
      leaves(p, out);
  }
  /// Splits leaf `a` into parts of sizes `outer` and size(a) / outer.
  std::pair<int, int> split(int a, int64_t outer) {
    int64_t inner = atoms[a].size / outer;
    Axis axis = atoms[a].axis;
    int o = add(outer, axis);
    int i = add(inner, axis);
    atoms[a].parts = {o, i};
    return {o, i};
  }

private:
  struct Atom {
    int64_t size;
    Axis axis;
    SmallVector<int, 2> parts;
  };
  SmallVector<Atom> atoms;
};

/// The axes of one dimension, outermost first (empty: a unit dimension).
using Dim = SmallVector<int, 2>;
/// The axes of each dimension of a tensor.
using Layout = SmallVector<Dim, 4>;

/// A tensor and its layout.
struct Traced {
  Value value;
  Layout layout;
};

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

bool isStaticTensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape();
}

bool isF32Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

double toDouble(APFloat value) {
  bool lost = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return value.convertToDouble();
}

/// The value of a float scalar constant, a splat tensor constant or a fill
/// with a constant.
std::optional<double> splatValue(Value v) {
  FloatAttr scalar;
  if (matchPattern(v, m_Constant(&scalar)))
    return scalar.getValueAsDouble();
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense)) && dense.isSplat() &&
      isa<FloatType>(dense.getElementType()))
    return toDouble(dense.getSplatValue<APFloat>());
  if (auto fill = v.getDefiningOp<linalg::FillOp>())
    if (matchPattern(fill.getInputs()[0], m_Constant(&scalar)))
      return scalar.getValueAsDouble();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Expressions: elementwise math over the axes
//===----------------------------------------------------------------------===//

struct Expr {
  enum Kind { Leaf, Const, Add, Sub, Mul, Div, Neg, Exp, Max, Select, Acc, Opaque };
  Kind kind = Opaque;
  double constant = 0;   ///< Const
  Traced leaf;           ///< Leaf: a tensor over the axes
  SmallVector<Expr *, 3> args;
};

/// The kind of an elementwise op that the matcher reads (TOSA ops on tensors,
/// arith and math ops on tensors or in linalg bodies).
std::optional<Expr::Kind> elementwiseKind(Operation *op) {
  if (isa<tosa::AddOp, arith::AddFOp>(op))
    return Expr::Add;
  if (isa<tosa::SubOp, arith::SubFOp>(op))
    return Expr::Sub;
  if (isa<tosa::MulOp, arith::MulFOp>(op))
    return Expr::Mul;
  if (isa<arith::DivFOp>(op))
    return Expr::Div;
  if (isa<tosa::MaximumOp, arith::MaximumFOp, arith::MaxNumFOp>(op))
    return Expr::Max;
  if (isa<tosa::ExpOp, math::ExpOp>(op))
    return Expr::Exp;
  if (isa<tosa::NegateOp, arith::NegFOp>(op))
    return Expr::Neg;
  if (isa<tosa::SelectOp, arith::SelectOp>(op))
    return Expr::Select;
  return std::nullopt;
}

/// Operands that an expression kind reads (tosa.mul's shift and
/// tosa.negate's zero points are not read).
unsigned arity(Expr::Kind kind) {
  switch (kind) {
  case Expr::Exp:
  case Expr::Neg:
    return 1;
  case Expr::Select:
    return 3;
  default:
    return 2;
  }
}

/// A batched matrix product out = sum_k lhs * rhs, with its indexing maps
/// over the loops.
struct Contraction {
  Value lhs, rhs;
  AffineMap lhsMap, rhsMap, outMap;
  SmallVector<int64_t> loopSizes;
};

/// tosa.matmul, or a linalg op whose body multiplies and adds (batch_matmul
/// with or without indexing maps, matmul, contract, generic), on static f32
/// tensors into a zero init.
FailureOr<Contraction> asContraction(Operation *op) {
  if (!op)
    return failure();
  Contraction c;
  if (auto mm = dyn_cast<tosa::MatMulOp>(op)) {
    std::optional<double> azp = splatValue(mm.getAZp());
    std::optional<double> bzp = splatValue(mm.getBZp());
    if (!azp || !bzp || *azp != 0 || *bzp != 0)
      return failure();
    c.lhs = mm.getA();
    c.rhs = mm.getB();
    if (!isF32Tensor(c.lhs) || !isF32Tensor(c.rhs) ||
        !isF32Tensor(mm.getResult()))
      return failure();
    MLIRContext *ctx = op->getContext();
    AffineExpr b, m, n, k;
    bindDims(ctx, b, m, n, k);
    c.lhsMap = AffineMap::get(4, 0, {b, m, k}, ctx);
    c.rhsMap = AffineMap::get(4, 0, {b, k, n}, ctx);
    c.outMap = AffineMap::get(4, 0, {b, m, n}, ctx);
    ArrayRef<int64_t> a = shapeOf(c.lhs), bs = shapeOf(c.rhs);
    c.loopSizes = {a[0], a[1], bs[2], a[2]};
    return c;
  }
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
      linalgOp.getNumReductionLoops() != 1 ||
      !linalg::isaContractionOpInterface(linalgOp))
    return failure();
  c.lhs = linalgOp.getDpsInputOperand(0)->get();
  c.rhs = linalgOp.getDpsInputOperand(1)->get();
  Value init = linalgOp.getDpsInitOperand(0)->get();
  if (!isF32Tensor(c.lhs) || !isF32Tensor(c.rhs) || !isF32Tensor(init))
    return failure();
  std::optional<double> zero = splatValue(init);
  if (!zero || *zero != 0)
    return failure();
  SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
  if (!llvm::all_of(maps, [](AffineMap m) { return m.isProjectedPermutation(); }))
    return failure();
  c.lhsMap = maps[0];
  c.rhsMap = maps[1];
  c.outMap = maps[2];
  c.loopSizes = linalgOp.getStaticLoopRanges();
  if (llvm::any_of(c.loopSizes, ShapedType::isDynamic))
    return failure();
  return c;
}

bool isContraction(Operation *op) {
  if (isa<tosa::MatMulOp>(op))
    return true;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumDpsInputs() == 2 &&
         linalg::isaContractionOpInterface(linalgOp);
}

/// Roles of the loops of a contraction.
struct ContractionLoops {
  SmallVector<unsigned> batch;
  unsigned lhsOnly = 0, rhsOnly = 0, reduced = 0;
};

FailureOr<ContractionLoops> classify(const Contraction &c) {
  ContractionLoops loops;
  int lhsOnly = 0, rhsOnly = 0, reduced = 0;
  for (unsigned l = 0; l < c.loopSizes.size(); ++l) {
    bool inL = c.lhsMap.isFunctionOfDim(l), inR = c.rhsMap.isFunctionOfDim(l),
         inO = c.outMap.isFunctionOfDim(l);
    if (inL && inR && inO)
      loops.batch.push_back(l);
    else if (inL && inR) {
      loops.reduced = l;
      ++reduced;
    } else if (inL && inO) {
      loops.lhsOnly = l;
      ++lhsOnly;
    } else if (inR && inO) {
      loops.rhsOnly = l;
      ++rhsOnly;
    } else {
      return failure();
    }
  }
  if (lhsOnly != 1 || rhsOnly != 1 || reduced != 1)
    return failure();
  return loops;
}

//===----------------------------------------------------------------------===//
// The matcher
//===----------------------------------------------------------------------===//

/// A term added to the scores, times `scale`.
struct Term {
  Expr *expr;
  double scale;
};

/// The window a constant 0/-inf mask describes.
struct Band {
  bool causal = false;
  std::optional<int64_t> left, right;
  bool window() const { return left || right; }
};

} // namespace

/// What raising one site needs; built by the matcher, read by the rewrite.
struct mlir::attn::AttentionPlan {
  AxisTable axes;
  Operation *anchor = nullptr;
  int queryAxis = -1, keyAxis = -1, dimAxis = -1, valueDimAxis = -1;
  SmallVector<int> batchAxes;
  Traced query, key, value;
  Layout output;
  double scale = 1;
  bool causal = false;
  std::optional<int64_t> windowLeft, windowRight;
  bool hasWindow = false;
  std::optional<Traced> mask;      ///< A runtime i1 tensor.
  bool maskNegated = false;        ///< The mask allows where it is false.
  std::optional<Traced> maskConst; ///< A constant 0/-inf tensor.
  std::optional<Traced> bias;      ///< An additive tensor (times biasScale).
  double biasScale = 1;
  // Set when matching ends: leaves of attn's [B, H, L, D] groups.
  Dim b, h, hkv, i, j, d, e;
};

namespace {

class Matcher {
public:
  explicit Matcher(AttentionPlan &plan) : plan(plan), axes(plan.axes) {}

  /// Matches the site whose weights are operand `weights` (0 or 1) of
  /// `anchor`; on failure `why` says why.
  LogicalResult match(Operation *anchor, unsigned weights);

  std::string why;

private:
  // Layouts.
  Dim leavesOf(const Dim &dim) const {
    Dim out;
    for (int a : dim)
      axes.leaves(a, out);
    return out;
  }
  SmallVector<int> flat(const Layout &layout) const {
    SmallVector<int> out;
    for (const Dim &dim : layout)
      for (int a : dim)
        axes.leaves(a, out);
    return out;
  }
  bool sameLayout(const Layout &a, const Layout &b) const {
    if (a.size() != b.size())
      return false;
    for (size_t d = 0; d < a.size(); ++d)
      if (leavesOf(a[d]) != leavesOf(b[d]))
        return false;
    return true;
  }
  bool distinct(const Layout &layout) const {
    llvm::SmallDenseSet<int> seen;
    for (int leaf : flat(layout))
      if (!seen.insert(leaf).second)
        return false;
    return true;
  }
  FailureOr<Layout> regroup(ArrayRef<int> leaves, ArrayRef<int64_t> shape);
  using Loops = SmallVector<std::optional<Dim>>;
  bool assignLoops(AffineMap map, const Layout &layout, Loops &loops) const;
  FailureOr<Layout> layoutThrough(AffineMap map, const Loops &loops) const;
  bool stepBack(Traced &x, bool throughBroadcast);
  void traceBack(Traced &x, bool throughBroadcast) {
    for (int n = 0; n < 64 && stepBack(x, throughBroadcast); ++n) {
    }
  }

  // Expressions.
  Expr *make(Expr::Kind kind, ArrayRef<Expr *> args = {}) {
    arena.emplace_back();
    Expr *e = &arena.back();
    e->kind = kind;
    e->args.assign(args.begin(), args.end());
    return e;
  }
  Expr *leaf(Traced x) {
    Expr *e = make(Expr::Leaf);
    e->leaf = std::move(x);
    return e;
  }
  Expr *constant(double c) {
    Expr *e = make(Expr::Const);
    e->constant = c;
    return e;
  }
  Expr *openProducer(const Traced &x);
  Expr *linalgBody(linalg::LinalgOp op, ArrayRef<Expr *> inputs, Expr *acc);
  Expr *open(Expr *e) {
    if (e->kind != Expr::Leaf)
      return e;
    Traced x = e->leaf;
    traceBack(x, /*throughBroadcast=*/true);
    return openProducer(x);
  }
  bool same(Expr *a, Expr *b, unsigned depth = 0);
  bool isConst(Expr *e, double value) {
    e = open(e);
    return e->kind == Expr::Const && e->constant == value;
  }

  // Attention.
  enum class Reduction { Sum, Max };
  Expr *matchReduction(const Traced &x, Reduction kind);
  Expr *matchWeights(Expr *weights, unsigned depth = 0);
  LogicalResult matchScores(Expr *scores);
  void collectTerms(Expr *e, double scale, SmallVectorImpl<Term> &terms,
                    unsigned depth = 0);
  LogicalResult matchProduct(const Traced &scores, double scale);
  Traced peelScales(Traced x, bool throughBroadcast, double &scale);
  LogicalResult classifyMask(const Term &term);
  LogicalResult classifyConstant(const Traced &x, DenseElementsAttr attr,
                                 double scale);
  LogicalResult finish();

  AttentionPlan &plan;
  AxisTable &axes;
  std::deque<Expr> arena;
  SmallVector<Term> maskTerms;
};

/// Splits `leaves` (row-major) into consecutive groups whose sizes are
/// `shape`, splitting a leaf where a group ends inside it.
FailureOr<Layout> Matcher::regroup(ArrayRef<int> leaves,
                                   ArrayRef<int64_t> shape) {
  SmallVector<int> queue(leaves.begin(), leaves.end());
  size_t pos = 0;
  Layout out;
  for (int64_t s : shape) {
    if (ShapedType::isDynamic(s))
      return failure();
    Dim dim;
    int64_t product = 1;
    while (product < s) {
      if (pos == queue.size())
        return failure();
      int a = queue[pos];
      int64_t size = axes.size(a);
      if (product * size <= s) {
        dim.push_back(a);
        product *= size;
        ++pos;
        continue;
      }
      if (s % product != 0 || size % (s / product) != 0)
        return failure();
      auto [outer, inner] = axes.split(a, s / product);
      dim.push_back(outer);
      product = s;
      queue[pos] = inner;
    }
    if (product != s)
      return failure();
    out.push_back(dim);
  }
  if (pos != queue.size())
    return failure();
  return out;
}

/// Gives each loop that `map` reads the layout of the dimension it indexes.
bool Matcher::assignLoops(AffineMap map, const Layout &layout,
                          Loops &loops) const {
  if (map.getNumResults() != layout.size())
    return false;
  for (unsigned r = 0; r < map.getNumResults(); ++r) {
    AffineExpr expr = map.getResult(r);
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      std::optional<Dim> &loop = loops[dim.getPosition()];
      if (loop && leavesOf(*loop) != leavesOf(layout[r]))
        return false;
      loop = layout[r];
      continue;
    }
    auto cst = dyn_cast<AffineConstantExpr>(expr);
    if (!cst || cst.getValue() != 0 || !leavesOf(layout[r]).empty())
      return false;
  }
  return true;
}

/// The layout of an operand read through `map`.
FailureOr<Layout> Matcher::layoutThrough(AffineMap map,
                                         const Loops &loops) const {
  Layout out;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (!loops[dim.getPosition()])
        return failure();
      out.push_back(*loops[dim.getPosition()]);
      continue;
    }
    auto cst = dyn_cast<AffineConstantExpr>(expr);
    if (!cst || cst.getValue() != 0)
      return failure();
    out.push_back({});
  }
  return out;
}

/// One step back through a transpose, reshape or (with `throughBroadcast`)
/// a broadcast or tile; false when `x` is not made by one.
bool Matcher::stepBack(Traced &x, bool throughBroadcast) {
  Operation *def = x.value.getDefiningOp();
  if (!def || !isStaticTensor(x.value))
    return false;
  auto permuted = [&](Value src, ArrayRef<int64_t> perm) {
    if (perm.size() != x.layout.size())
      return false;
    Layout layout(perm.size());
    for (size_t d = 0; d < perm.size(); ++d)
      layout[perm[d]] = x.layout[d];
    x = {src, layout};
    return true;
  };
  if (auto op = dyn_cast<tosa::TransposeOp>(def)) {
    SmallVector<int64_t> perm(op.getPerms().begin(), op.getPerms().end());
    return permuted(op.getInput1(), perm);
  }
  if (auto op = dyn_cast<linalg::TransposeOp>(def))
    return permuted(op.getInput(), op.getPermutation());
  if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tosa::ReshapeOp>(
          def)) {
    Value src = def->getOperand(0);
    if (!isStaticTensor(src))
      return false;
    FailureOr<Layout> layout = regroup(flat(x.layout), shapeOf(src));
    if (failed(layout))
      return false;
    x = {src, *layout};
    return true;
  }
  if (auto op = dyn_cast<linalg::BroadcastOp>(def)) {
    if (!throughBroadcast)
      return false;
    Layout layout;
    for (int64_t d = 0; d < static_cast<int64_t>(x.layout.size()); ++d)
      if (!llvm::is_contained(op.getDimensions(), d))
        layout.push_back(x.layout[d]);
    x = {op.getInput(), layout};
    return true;
  }
  if (auto op = dyn_cast<tosa::TileOp>(def)) {
    SmallVector<int64_t> multiples;
    Value src = op.getInput1();
    if (!throughBroadcast || failed(op.getConstantMultiples(multiples)) ||
        !isStaticTensor(src))
      return false;
    Layout layout;
    for (size_t d = 0; d < x.layout.size(); ++d) {
      FailureOr<Layout> parts =
          regroup(leavesOf(x.layout[d]), {multiples[d], shapeOf(src)[d]});
      if (failed(parts))
        return false;
      layout.push_back((*parts)[1]);
    }
    x = {src, layout};
    return true;
  }
  // A generic (or linalg.copy) that yields its only input: a transpose, a
  // broadcast or a copy written with indexing maps.
  auto op = dyn_cast<linalg::LinalgOp>(def);
  if (!op || !isa<linalg::GenericOp, linalg::CopyOp>(def) ||
      op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0)
    return false;
  auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  if (yield->getNumOperands() != 1 ||
      yield->getOperand(0) != op.getBlock()->getArgument(0))
    return false;
  OpOperand *input = op.getDpsInputOperand(0);
  if (!isStaticTensor(input->get()))
    return false;
  Loops loops(op.getNumLoops());
  if (!assignLoops(op.getMatchingIndexingMap(op.getDpsInitOperand(0)),
                   x.layout, loops))
    return false;
  FailureOr<Layout> layout =
      layoutThrough(op.getMatchingIndexingMap(input), loops);
  if (failed(layout) ||
      (!throughBroadcast && flat(*layout).size() != flat(x.layout).size()))
    return false;
  x = {input->get(), *layout};
  return true;
}

/// The expression that makes `x`: one elementwise op (or a linalg body), or
/// `x` itself as a leaf.
Expr *Matcher::openProducer(const Traced &x) {
  if (std::optional<double> c = splatValue(x.value))
    return constant(*c);
  Operation *def = x.value.getDefiningOp();
  if (!def || !isStaticTensor(x.value))
    return leaf(x);
  // TOSA broadcasting: operands of equal rank, size-1 dimensions repeat.
  auto operand = [&](Value v) -> Expr * {
    if (!isStaticTensor(v) || shapeOf(v).size() != x.layout.size())
      return make(Expr::Opaque);
    Layout layout;
    ArrayRef<int64_t> shape = shapeOf(v), result = shapeOf(x.value);
    for (size_t d = 0; d < shape.size(); ++d)
      layout.push_back(shape[d] == 1 && result[d] != 1 ? Dim() : x.layout[d]);
    return leaf({v, layout});
  };
  if (isa<tosa::ReciprocalOp>(def))
    return make(Expr::Div, {constant(1), operand(def->getOperand(0))});
  if (std::optional<Expr::Kind> kind = elementwiseKind(def)) {
    if (*kind == Expr::Select && !isa<ShapedType>(def->getOperand(0).getType()))
      return leaf(x);
    SmallVector<Expr *, 3> args;
    for (Value v : def->getOperands().take_front(arity(*kind)))
      args.push_back(operand(v));
    return make(*kind, args);
  }
  auto op = dyn_cast<linalg::LinalgOp>(def);
  if (!op || op.getNumDpsInits() != 1 || def->getNumResults() != 1 ||
      op.getNumReductionLoops() != 0 || isContraction(def))
    return leaf(x);
  Loops loops(op.getNumLoops());
  if (!assignLoops(op.getMatchingIndexingMap(op.getDpsInitOperand(0)),
                   x.layout, loops))
    return leaf(x);
  SmallVector<Expr *> inputs;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (!isa<ShapedType>(input->get().getType())) {
      std::optional<double> c = splatValue(input->get());
      inputs.push_back(c ? constant(*c) : make(Expr::Opaque));
      continue;
    }
    FailureOr<Layout> layout =
        layoutThrough(op.getMatchingIndexingMap(input), loops);
    inputs.push_back(failed(layout) || !isStaticTensor(input->get())
                         ? make(Expr::Opaque)
                         : leaf({input->get(), *layout}));
  }
  return linalgBody(op, inputs, /*acc=*/nullptr);
}

/// The tree of the value a linalg body yields; its block arguments are the
/// `inputs` (and `acc` for the init of a reduction).
Expr *Matcher::linalgBody(linalg::LinalgOp op, ArrayRef<Expr *> inputs,
                          Expr *acc) {
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield->getNumOperands() != 1)
    return make(Expr::Opaque);
  DenseMap<Value, Expr *> memo;
  std::function<Expr *(Value, unsigned)> visit = [&](Value v,
                                                     unsigned depth) -> Expr * {
    auto it = memo.find(v);
    if (it != memo.end())
      return it->second;
    if (depth > 64)
      return make(Expr::Opaque);
    Expr *result = nullptr;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() == body && arg.getArgNumber() < inputs.size())
        result = inputs[arg.getArgNumber()];
      else if (arg.getOwner() == body && acc)
        result = acc;
      else
        result = make(Expr::Opaque);
    } else if (std::optional<double> c = splatValue(v)) {
      result = constant(*c);
    } else {
      Operation *def = v.getDefiningOp();
      std::optional<Expr::Kind> kind = elementwiseKind(def);
      if (def->getBlock() != body || !kind) {
        result = make(Expr::Opaque);
      } else {
        SmallVector<Expr *, 3> args;
        for (Value operand : def->getOperands().take_front(arity(*kind)))
          args.push_back(visit(operand, depth + 1));
        result = make(*kind, args);
      }
    }
    memo[v] = result;
    return result;
  };
  return visit(yield->getOperand(0), 0);
}

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

/// Describes the constant 0/-inf mask `allowed` ([Lq, Lk], true = 0) as a
/// causal rule and/or window, if it is exactly one.
std::optional<Band> bandOf(ArrayRef<bool> allowed, int64_t lq, int64_t lk) {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t i = 0; i < lq; ++i)
    for (int64_t j = 0; j < lk; ++j)
      if (allowed[i * lk + j]) {
        int64_t offset = j - (i + lk - lq);
        lo = std::min(lo, offset);
        hi = std::max(hi, offset);
      }
  if (lo > hi)
    return std::nullopt;
  for (int64_t i = 0; i < lq; ++i)
    for (int64_t j = 0; j < lk; ++j) {
      int64_t offset = j - (i + lk - lq);
      if (allowed[i * lk + j] != (lo <= offset && offset <= hi))
        return std::nullopt;
    }
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

LogicalResult Matcher::classifyMask(const Term &term) {
  Expr *n = open(term.expr);
  if (n->kind == Expr::Const) {
    if (n->constant == 0)
      return success();
    why = "a constant is added to every score";
    return failure();
  }
  // select(m, 0, -inf): the i1 tensor m is the mask.
  if (n->kind == Expr::Select) {
    Expr *cond = open(n->args[0]);
    Expr *onTrue = open(n->args[1]), *onFalse = open(n->args[2]);
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
    return failure();
  }
  Traced x = n->kind == Expr::Leaf ? n->leaf : term.expr->leaf;
  traceBack(x, /*throughBroadcast=*/true);
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
  Expr *scores = matchWeights(leaf(w));
  if (!scores || failed(matchScores(scores)))
    return failure();
  traceBack(v, /*throughBroadcast=*/true);
  plan.value = v;
  for (const Term &term : maskTerms)
    if (failed(classifyMask(term)))
      return failure();
  return finish();
}

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
        break;
      }
      LLVM_DEBUG(llvm::dbgs() << "attn-raise: " << *op << ": " << matcher.why
                              << "\n");
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
      bias = relayout(rewriter, loc, axes, p.bias->value, p.bias->layout, to);
      if (p.biasScale != 1) {
        float scale = static_cast<float>(p.biasScale);
        bias = mapElements(rewriter, loc, bias,
                           [&](OpBuilder &b, Location l, Value x) -> Value {
                             Value c = arith::ConstantOp::create(
                                 b, l, b.getF32FloatAttr(scale));
                             return arith::MulFOp::create(b, l, x, c);
                           });
      }
    }
  }

  Layout resultLayout = {p.b, p.h, p.i, p.e};
  Value init = tensor::EmptyOp::create(rewriter, loc,
                                       shapeOfLayout(resultLayout),
                                       rewriter.getF32Type());
  WindowAttr window;
  if (p.hasWindow)
    window = WindowAttr::get(ctx, p.windowLeft, p.windowRight);
  auto attention = AttentionOp::create(
      rewriter, loc, init.getType(), q, k, v, mask, bias, init,
      rewriter.getF32FloatAttr(static_cast<float>(p.scale)),
      p.causal ? rewriter.getUnitAttr() : UnitAttr(), window,
      /*sinks=*/IntegerAttr(), /*softcap=*/FloatAttr(), /*score=*/ScoreAttr(),
      /*strategy=*/StrategyAttr());
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
