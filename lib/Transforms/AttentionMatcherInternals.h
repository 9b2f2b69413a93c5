//===- AttentionMatcherInternals.h - The matcher's shared parts -*- C++ -*-===//
//
// What the files of attn-raise's matcher share (AttentionMatcher.cpp says
// what the matcher does): axes and layouts, expression trees over them,
// contractions, and the Matcher, whose parts live in
//   AttentionExpressions.cpp  tensors, constants, elementwise ops, contractions;
//   AttentionLayouts.cpp      walking back through layout ops (axis algebra);
//   AttentionSoftmax.cpp      the product with V, the softmax, the scores;
//   AttentionMasks.cpp        what a constant or runtime mask term means.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_TRANSFORMS_ATTENTIONMATCHERINTERNALS_H
#define ATTN_LIB_TRANSFORMS_ATTENTIONMATCHERINTERNALS_H

#include "AttentionMatcher.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <deque>
#include <optional>

namespace mlir::attn {
namespace raise {

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
  /// The outer and inner part of `a` once it is split; empty before.
  ArrayRef<int> parts(int a) const { return atoms[a].parts; }
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

ArrayRef<int64_t> shapeOf(Value v);

bool isStaticTensor(Value v);

bool isF32Tensor(Value v);

double toDouble(APFloat value);

/// The value of a float scalar constant, a splat tensor constant or a fill
/// with a constant.
std::optional<double> splatValue(Value v);

//===----------------------------------------------------------------------===//
// Expressions: elementwise math over the axes
//===----------------------------------------------------------------------===//

struct ModNode;

struct Expr {
  enum Kind {
    Leaf,
    Const,
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Exp,
    Max,
    Select,
    Acc,
    Computed,
    Opaque
  };
  Kind kind = Opaque;
  double constant = 0;   ///< Const
  Traced leaf;           ///< Leaf: a tensor over the axes
  /// Computed: math of positions and small tables inside a linalg body (a
  /// bias or mask computed in the op that adds it), as scalar code.
  ModNode *mod = nullptr;
  SmallVector<Expr *, 3> args;
};

/// The kind of an elementwise op that the matcher reads (TOSA ops on tensors,
/// arith and math ops on tensors or in linalg bodies).
std::optional<Expr::Kind> elementwiseKind(Operation *op);

/// Operands that an expression kind reads (tosa.mul's shift and
/// tosa.negate's zero points are not read).
unsigned arity(Expr::Kind kind);

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
FailureOr<Contraction> asContraction(Operation *op);

bool isContraction(Operation *op);

/// Roles of the loops of a contraction.
struct ContractionLoops {
  SmallVector<unsigned> batch;
  unsigned lhsOnly = 0, rhsOnly = 0, reduced = 0;
};

FailureOr<ContractionLoops> classify(const Contraction &c);

//===----------------------------------------------------------------------===//
// The matcher
//===----------------------------------------------------------------------===//

/// A term added to the scores, times `scale`.
struct Term {
  Expr *expr;
  double scale;
};

/// Scalar code for one element of a mask or bias term as a function of the
/// attention's positions: what attn-raise writes into a mask_mod or
/// score_mod region instead of the tensor (AttentionMods.cpp).
struct ModNode {
  enum Kind {
    Position, ///< The position along `position` (index).
    Constant, ///< `value`.
    Read,     ///< tensor.extract of `table` at `args` (index values).
    Compute   ///< One arith or math op `name` with `attrs` on `args`.
  };
  Kind kind = Constant;
  Type type;
  Dim position;
  TypedAttr value;
  Value table;
  std::optional<OperationName> name;
  DictionaryAttr attrs;
  SmallVector<ModNode *, 3> args;
};

/// The window a constant 0/-inf mask describes.
struct Band {
  bool causal = false;
  std::optional<int64_t> left, right;
  bool window() const { return left || right; }
};

} // namespace raise

/// What raising one site needs; built by the matcher, read by the rewrite.
struct AttentionPlan {
  raise::AxisTable axes;
  Operation *anchor = nullptr;
  int queryAxis = -1, keyAxis = -1, dimAxis = -1, valueDimAxis = -1;
  SmallVector<int> batchAxes;
  raise::Traced query, key, value;
  raise::Layout output;
  double scale = 1;
  bool causal = false;
  std::optional<int64_t> windowLeft, windowRight;
  bool hasWindow = false;
  std::optional<raise::Traced> mask;      ///< A runtime i1 tensor.
  bool maskNegated = false;        ///< The mask allows where it is false.
  std::optional<raise::Traced> maskConst; ///< A constant 0/-inf tensor.
  std::optional<raise::Traced> bias;      ///< An additive tensor (times biasScale).
  double biasScale = 1;
  /// Masks computed from positions and small tables (a mask_mod: their
  /// conjunction) and biases computed so (a score_mod adds each, times its
  /// scale).
  SmallVector<raise::ModNode *> maskMods;
  SmallVector<std::pair<raise::ModNode *, double>> scoreTerms;
  std::deque<raise::ModNode> modNodes;
  /// A column concatenated to the scores before the softmax and sliced off
  /// after it (per query head), times sinkScale: sink_logits.
  std::optional<raise::Traced> sink;
  double sinkScale = 1;
  /// What each mask or bias term became, for the summary.
  SmallVector<std::string> notes;
  // Set when matching ends: leaves of attn's [B, H, L, D] groups.
  raise::Dim b, h, hkv, i, j, d, e;
};

namespace raise {

class Matcher {
public:
  explicit Matcher(AttentionPlan &plan) : plan(plan), axes(plan.axes) {}

  /// Matches the site whose weights are operand `weights` (0 or 1) of
  /// `anchor`; on failure `why` says why.
  LogicalResult match(Operation *anchor, unsigned weights);

  std::string why;

private:
  /// Why the last value computed from positions in a linalg body could not
  /// be lifted (for the message when such a term stays unmatched).
  std::string unliftedWhy;

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
  /// `loops` (the axes of the op's loops), when given, lets a value of the
  /// body that is computed from positions and small tables become a
  /// Computed leaf.
  Expr *linalgBody(linalg::LinalgOp op, ArrayRef<Expr *> inputs, Expr *acc,
                   const Loops *loops = nullptr);
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
  LogicalResult classifyLifted(ModNode *mod, double scale);
  LogicalResult classifyConstant(const Traced &x, DenseElementsAttr attr,
                                 double scale);
  LogicalResult finish();
  LogicalResult matchSinkColumn(Traced &weights, Expr *&scores);
  LogicalResult finishMods();

  // Masks and biases as scalar code (AttentionMods.cpp).
  ModNode *lift(Traced x, unsigned depth = 0);
  ModNode *liftLinalg(linalg::LinalgOp op, const Traced &x, unsigned depth,
                      bool &recognized);
  ModNode *liftTosa(Operation *op, const Traced &x, unsigned depth,
                    bool &recognized);
  ModNode *liftGather(Operation *gather, const Traced &x, unsigned depth);
  bool isTableLayout(ArrayRef<int> leaves, StringRef reads);
  ModNode *liftBodyValue(linalg::LinalgOp op, const Loops &loops, Value v,
                         unsigned depth, DenseMap<Value, ModNode *> &memo);
  ModNode *node(ModNode::Kind kind, Type type) {
    plan.modNodes.emplace_back();
    ModNode *n = &plan.modNodes.back();
    n->kind = kind;
    n->type = type;
    return n;
  }
  ModNode *compute(StringRef name, Type type, ArrayRef<ModNode *> args,
                   ArrayRef<NamedAttribute> attrs = {});
  ModNode *positionOf(const Dim &dim);
  ModNode *constantOf(Type type, int64_t value);
  ModNode *liftComputed(const Traced &x);
  void addMaskMod(ModNode *allowed, bool negated);

  AttentionPlan &plan;
  AxisTable &axes;
  std::deque<Expr> arena;
  SmallVector<Term> maskTerms;
};

/// Describes the constant 0/-inf mask `allowed` ([Lq, Lk], true = 0) as a
/// causal rule and/or window, if it is exactly one: the band of key offsets
/// j - (i + Lk - Lq) that the allowed entries span, checked row by row
/// against attn's own rule for that band (MaskSemantics.h).
std::optional<Band> bandOf(ArrayRef<bool> allowed, int64_t lq, int64_t lk);

/// The same for a mask given as the interval [lo, hi] of keys each query
/// allows (lo > hi: none).
std::optional<Band> bandOfRows(ArrayRef<std::pair<int64_t, int64_t>> rows,
                               int64_t lq, int64_t lk);

/// The operand `v` of a TOSA elementwise op whose result is `x`: operands
/// have the result's rank, and their size-1 dimensions repeat. Null value
/// when `v` is not such an operand.
Traced broadcastOperand(Value v, const Traced &x);

/// Emits the scalar code of `node` at `b` (memoized in `values`); `args`
/// are the b, h, i, j positions, `table` gives the value a Read reads.
Value emitModNode(OpBuilder &b, Location loc, const AttentionPlan &plan,
                  ModNode *node, ValueRange args,
                  DenseMap<ModNode *, Value> &values,
                  function_ref<Value(Value)> table);

/// Whether two lifted values are the same code.
bool sameModNode(const ModNode *a, const ModNode *b);

/// Values of the constant `attr` (laid out as `from`) at each index of the
/// layout `to` (row-major); leaves that `from` lacks repeat.
SmallVector<double> gatherConstant(const AxisTable &axes, DenseElementsAttr attr,
                                   ArrayRef<int> from, ArrayRef<int> to);

} // namespace raise
} // namespace mlir::attn

#endif // ATTN_LIB_TRANSFORMS_ATTENTIONMATCHERINTERNALS_H
