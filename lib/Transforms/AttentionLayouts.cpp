//===- AttentionLayouts.cpp - attn-raise's axis algebra -------------------===//
//
// Layouts through layout ops: regrouping axes for reshapes, the loops of a
// linalg op over the axes, and stepping back from a tensor to its producer
// (transpose, reshape, broadcast, tile), or opening it as an expression.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcherInternals.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <functional>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::raise;

namespace mlir::attn::raise {

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

Traced broadcastOperand(Value v, const Traced &x) {
  if (!isStaticTensor(v) || shapeOf(v).size() != x.layout.size())
    return {};
  Layout layout;
  ArrayRef<int64_t> shape = shapeOf(v), result = shapeOf(x.value);
  for (size_t d = 0; d < shape.size(); ++d)
    layout.push_back(shape[d] == 1 && result[d] != 1 ? Dim() : x.layout[d]);
  return {v, layout};
}

/// The expression that makes `x`: one elementwise op (or a linalg body), or
/// `x` itself as a leaf.
Expr *Matcher::openProducer(const Traced &x) {
  if (std::optional<double> c = splatValue(x.value))
    return constant(*c);
  Operation *def = x.value.getDefiningOp();
  if (!def || !isStaticTensor(x.value))
    return leaf(x);
  auto operand = [&](Value v) -> Expr * {
    Traced t = broadcastOperand(v, x);
    return t.value ? leaf(t) : make(Expr::Opaque);
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
  return linalgBody(op, inputs, /*acc=*/nullptr, &loops);
}

/// The tree of the value a linalg body yields; its block arguments are the
/// `inputs` (and `acc` for the init of a reduction).
Expr *Matcher::linalgBody(linalg::LinalgOp op, ArrayRef<Expr *> inputs,
                          Expr *acc, const Loops *loops) {
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield->getNumOperands() != 1)
    return make(Expr::Opaque);
  // Whether `v` is computed in the body from linalg.index or
  // tensor.extract: math of positions and tables, which lifts into scalar
  // code when it reads nothing else (a bias computed where it is added).
  llvm::SmallDenseMap<Value, bool> positional;
  std::function<bool(Value)> readsPositions = [&](Value v) -> bool {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != body)
      return false;
    if (auto it = positional.find(v); it != positional.end())
      return it->second;
    bool reads = isa<linalg::IndexOp, tensor::ExtractOp>(def);
    for (Value operand : def->getOperands())
      reads = reads || readsPositions(operand);
    return positional[v] = reads;
  };
  auto computed = [&](Value v) -> Expr * {
    if (!loops || !readsPositions(v))
      return nullptr;
    std::string saved = why;
    size_t nodes = plan.modNodes.size();
    DenseMap<Value, ModNode *> lifted;
    ModNode *mod = liftBodyValue(op, *loops, v, /*depth=*/0, lifted);
    if (!mod)
      unliftedWhy = why;
    why = saved;
    if (!mod) {
      plan.modNodes.resize(nodes);
      return nullptr;
    }
    Expr *e = make(Expr::Computed);
    e->mod = mod;
    return e;
  };
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
    } else if (Expr *e = computed(v)) {
      result = e;
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

} // namespace mlir::attn::raise
