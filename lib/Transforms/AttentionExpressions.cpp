//===- AttentionExpressions.cpp - What attn-raise reads of ops ------------===//
//
// The matcher's view of single ops and values: static f32 tensors, splat
// constants, the kind of an elementwise op, and contractions (tosa.matmul,
// linalg products) with the roles of their loops.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcherInternals.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::raise;

namespace mlir::attn::raise {

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

} // namespace mlir::attn::raise
