//===- MaskTiles.cpp - A mask operand cut into query and key tiles --------===//
//
// See MaskTiles.h: the padded mask, and the allowed keys per tile, counted by
// one parallel pass over it, or at compile time for a constant mask.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskTiles.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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
  // Counted in one pass over the mask: a task per (Bm, Hm, query block)
  // sums each row's keys tile by tile in a register and adds each sum to its
  // tile's count, so the mask is read once, in order, and the block's counts
  // stay in the cache. (A linalg reduction over the tiles, lowered to loops,
  // loads and stores a count for every mask element.)
  Type i32 = b.getI32Type();
  Value zero = arith::ConstantIntOp::create(b, loc, 0, 32);
  Value one = k.idx(1), start = k.idx(0);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{sizes[0], sizes[1], numBlocks},
      ValueRange{tensor::EmptyOp::create(
                     b, loc,
                     SmallVector<OpFoldResult>{sizes[0], sizes[1], numBlocks,
                                               numTiles},
                     i32)
                     .getResult()},
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value mb = forall.getInductionVar(0), mh = forall.getInductionVar(1),
        block = forall.getInductionVar(2);
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets = {mb, mh, block, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> rowSizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                        b.getIndexAttr(1), numTiles};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  auto rowType = RankedTensorType::get({1, 1, 1, ShapedType::kDynamic}, i32);
  Value blockCounts = linalg::FillOp::create(
                          b, loc, zero,
                          tensor::ExtractSliceOp::create(b, loc, rowType,
                                                         shared, offsets,
                                                         rowSizes, strides)
                              .getResult())
                          .getResult(0);
  // scf.for [0, hi) carrying `init`; `body(iv, carried)` gives the next.
  auto carryLoop = [&](Value hi, Value init,
                       function_ref<Value(Value, Value)> body) -> Value {
    return scf::ForOp::create(
               b, loc, start, hi, one, ValueRange{init},
               [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
                 OpBuilder::InsertionGuard inner(b);
                 b.setInsertionPoint(nested.getInsertionBlock(),
                                     nested.getInsertionPoint());
                 scf::YieldOp::create(b, loc, body(iv, carried[0]));
               })
        .getResult(0);
  };
  Value firstRow = k.mul(block, k.idx(blockQ));
  blockCounts = carryLoop(k.idx(blockQ), blockCounts, [&](Value r, Value acc) {
    Value row = k.add(firstRow, r);
    return carryLoop(numTiles, acc, [&](Value tile, Value counts) {
      Value firstKey = k.mul(tile, k.idx(blockK));
      Value sum = carryLoop(k.idx(blockK), zero, [&](Value j, Value partial) {
        Value allowed = tensor::ExtractOp::create(
            b, loc, tiles.padded, ValueRange{mb, mh, row, k.add(firstKey, j)});
        return arith::AddIOp::create(
            b, loc, partial, arith::ExtUIOp::create(b, loc, i32, allowed));
      });
      SmallVector<Value> at = {start, start, start, tile};
      Value count = tensor::ExtractOp::create(b, loc, counts, at);
      return tensor::InsertOp::create(
                 b, loc, arith::AddIOp::create(b, loc, count, sum), counts, at)
          .getResult();
    });
  });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, blockCounts, shared, offsets,
                                        rowSizes, strides);
  tiles.counts = forall.getResult(0);
  return tiles;
}
