//===- MaskTiles.cpp - A mask operand cut into query and key tiles --------===//
//
// See MaskTiles.h: the padded mask, and the allowed keys per tile as one
// linalg reduction over it, or counted at compile time for a constant mask.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskTiles.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;

SmallVector<int32_t>
mlir::attn::countConstantMaskTiles(DenseElementsAttr mask,
                                   ArrayRef<int64_t> shape, int64_t blockQ,
                                   int64_t blockK) {
  int64_t bm = shape[0], hm = shape[1], lq = shape[2], lk = shape[3];
  int64_t blocks = (lq + blockQ - 1) / blockQ;
  int64_t keyTiles = (lk + blockK - 1) / blockK;
  SmallVector<int32_t> counts(bm * hm * blocks * keyTiles, 0);
  if (mask.isSplat()) {
    if (!mask.getSplatValue<bool>())
      return counts;
    // Every key of a tile's valid part.
    for (int64_t i = 0; i < bm * hm; ++i)
      for (int64_t qb = 0; qb < blocks; ++qb)
        for (int64_t t = 0; t < keyTiles; ++t)
          counts[(i * blocks + qb) * keyTiles + t] =
              std::min(blockQ, lq - qb * blockQ) *
              std::min(blockK, lk - t * blockK);
    return counts;
  }
  auto values = mask.getValues<bool>();
  auto it = values.begin();
  for (int64_t i = 0; i < bm * hm; ++i)
    for (int64_t q = 0; q < lq; ++q)
      for (int64_t j = 0; j < lk; ++j, ++it)
        if (*it)
          ++counts[(i * blocks + q / blockQ) * keyTiles + j / blockK];
  return counts;
}

MaskTiles mlir::attn::buildMaskTiles(OpBuilder &b, Location loc, Value mask,
                                     int64_t blockQ, int64_t blockK,
                                     Value numBlocks, Value numTiles,
                                     bool withCounts) {
  KernelBuilder k(b, loc, 1);
  auto maskType = cast<RankedTensorType>(mask.getType());
  MaskTiles tiles;
  // Padded with false to whole tiles; where the tiles divide the mask's
  // static lengths it is used as it is: a pad would copy it element by
  // element on every call (64 MiB for L = 8192).
  SmallVector<int64_t> paddedShape = {maskType.getDimSize(0),
                                      maskType.getDimSize(1),
                                      ShapedType::kDynamic,
                                      ShapedType::kDynamic};
  auto paddedType = RankedTensorType::get(paddedShape, b.getI1Type());
  int64_t maskRows = maskType.getDimSize(2), maskKeys = maskType.getDimSize(3);
  if (!ShapedType::isDynamic(maskRows) && !ShapedType::isDynamic(maskKeys) &&
      maskRows % blockQ == 0 && maskKeys % blockK == 0) {
    tiles.padded = tensor::CastOp::create(b, loc, paddedType, mask);
  } else {
    SmallVector<OpFoldResult> low(4, b.getIndexAttr(0));
    SmallVector<OpFoldResult> high(4, b.getIndexAttr(0));
    high[2] = k.sub(k.mul(numBlocks, k.idx(blockQ)), k.dimOf(mask, 2));
    high[3] = k.sub(k.mul(numTiles, k.idx(blockK)), k.dimOf(mask, 3));
    Value falseValue = arith::ConstantIntOp::create(b, loc, 0, 1);
    tiles.padded = tensor::PadOp::create(
        b, loc, paddedType, mask, ArrayRef<OpFoldResult>(low),
        ArrayRef<OpFoldResult>(high), falseValue);
  }
  if (!withCounts)
    return tiles;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, tiles.padded);
  auto countsType = RankedTensorType::get(
      {paddedShape[0], paddedShape[1], ShapedType::kDynamic,
       ShapedType::kDynamic},
      b.getI32Type());
  // A constant mask is counted now, once, instead of on every call.
  DenseElementsAttr constantMask;
  if (maskType.hasStaticShape() &&
      matchPattern(mask, m_Constant(&constantMask))) {
    SmallVector<int32_t> counts = countConstantMaskTiles(
        constantMask, maskType.getShape(), blockQ, blockK);
    int64_t blocks = (maskRows + blockQ - 1) / blockQ;
    int64_t keyTiles = (maskKeys + blockK - 1) / blockK;
    auto staticType = RankedTensorType::get(
        {maskType.getDimSize(0), maskType.getDimSize(1), blocks, keyTiles},
        b.getI32Type());
    Value folded = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(staticType, ArrayRef<int32_t>(counts)));
    tiles.counts = tensor::CastOp::create(b, loc, countsType, folded);
    return tiles;
  }
  SmallVector<OpFoldResult> tiledSizes = {sizes[0], sizes[1], numBlocks,
                                          b.getIndexAttr(blockQ), numTiles,
                                          b.getIndexAttr(blockK)};
  Value tiled = tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get({paddedShape[0], paddedShape[1],
                             ShapedType::kDynamic, blockQ,
                             ShapedType::kDynamic, blockK},
                            b.getI1Type()),
      tiles.padded,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}},
      tiledSizes);
  SmallVector<OpFoldResult> countSizes = {sizes[0], sizes[1], numBlocks,
                                          numTiles};
  Value counts0 =
      linalg::FillOp::create(
          b, loc, ValueRange{arith::ConstantIntOp::create(b, loc, 0, 32)},
          ValueRange{tensor::EmptyOp::create(b, loc, countSizes, b.getI32Type())})
          .getResult(0);
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3, d4, d5;
  bindDims(ctx, d0, d1, d2, d3, d4, d5);
  tiles.counts =
      linalg::GenericOp::create(
          b, loc, TypeRange{counts0.getType()}, ValueRange{tiled},
          ValueRange{counts0},
          ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(6, ctx),
                              AffineMap::get(6, 0, {d0, d1, d2, d4}, ctx)},
          ArrayRef<utils::IteratorType>{par, par, par, red, par, red},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value one = arith::ExtUIOp::create(nb, l, nb.getI32Type(), args[0]);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::AddIOp::create(nb, l, args[1], one)});
          })
          .getResult(0);
  return tiles;
}
