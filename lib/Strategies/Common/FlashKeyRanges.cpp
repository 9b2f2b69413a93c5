//===- FlashKeyRanges.cpp - Which keys a flash block visits ---------------===//
//
// The CPU flash kernel's key ranges: the band of causal/window/sinks rows,
// neighborhood windows (the rules of AllowedKeyRule.h), the allowed keys of
// a mask per (row, key tile), the tile lists of block-sparse masks, and the
// state of a tile under the mask_mod's classes (ModTileClasses.h).
//
//===----------------------------------------------------------------------===//

#include "FlashEmitter.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/MaskTiles.h"
#include "attn/Strategies/Common/ModTileClasses.h"
#include "attn/Strategies/Common/OnlineSoftmax.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::flash;

KeyBounds FlashEmitter::keyBounds(Value iA, Value iB) {
  RuleArith d(b, loc);
  return rule::rowsKeys(d, p, iA, iB, ruleLq, lk);
}

Value FlashEmitter::bandAllowed(Value i, Value jv) {
  // Keys past Lk pad the last tile.
  RuleArith d(b, loc);
  return d.both(d.slt(jv, lk), rule::bandAllowed(d, p, i, jv, ruleLq, lk));
}

std::pair<Value, Value> FlashEmitter::neighborhoodRows(MicroRows &rows) {
  RuleArith d(b, loc);
  Value lo, hi;
  for (Value row : rows.row) {
    SmallVector<Value> coord;
    rule::unflatten(d, row, spatialExtents, coord);
    SmallVector<rule::AxisWindow<RuleArith>> windows;
    Value rowLo = idx(0), rowHi = idx(0);
    for (auto [a, extent] : llvm::enumerate(spatialExtents)) {
      rule::AxisWindow<RuleArith> w =
          rule::axisWindow(d, getAxisRule(p, a), coord[a], extent);
      // Flattened first and last keys of the window.
      Value dilation = idx(p.dilation[a]);
      rowLo = add(mul(rowLo, extent), add(w.group, mul(dilation, w.range.lo)));
      rowHi = add(mul(rowHi, extent), add(w.group, mul(dilation, w.range.hi)));
      windows.push_back(w);
    }
    rows.axisWindows.push_back(windows);
    lo = lo ? minI(lo, rowLo) : rowLo;
    hi = hi ? maxI(hi, rowHi) : rowHi;
  }
  return {lo, hi};
}

Value FlashEmitter::neighborhoodAllowed(const MicroRows &rows, int64_t r,
                                        Value jv) {
  RuleArith d(b, loc);
  SmallVector<Value> coord;
  rule::unflatten(d, jv, spatialExtents, coord);
  Value allowed = d.slt(jv, lk);
  for (size_t a = 0; a < coord.size(); ++a)
    allowed = d.both(allowed, rule::axisAllowed(d, getAxisRule(p, a),
                                                rows.axisWindows[r][a],
                                                coord[a]));
  return allowed;
}

void FlashEmitter::prepareBlockSparse() {
  auto maskType = cast<RankedTensorType>(p.mask.getType());
  int64_t bq = cfg.blockQ, bk = cfg.blockK;
  Value numBlocks = ceilDiv(lq, bq);
  DenseElementsAttr constant;
  if (matchPattern(p.mask, m_Constant(&constant)) &&
      maskType.hasStaticShape()) {
    // Compile time: the block layout of the constant mask, as compressed
    // lists of non-empty key tiles per (mask batch, KV head, query block),
    // a tile full when every query head of the group allows all its keys.
    ArrayRef<int64_t> shape = maskType.getShape();
    int64_t bm = shape[0], hm = shape[1], lqs = shape[2], lks = shape[3];
    int64_t nqb = (lqs + bq - 1) / bq, nt = (lks + bk - 1) / bk;
    SmallVector<int32_t> counts =
        countConstantMaskTiles(constant, shape, bq, bk);
    int64_t groups = hm == 1 ? 1 : p.headsKV;
    SmallVector<int32_t> offsets = {0}, tiles, fulls;
    for (int64_t mb = 0; mb < bm; ++mb)
      for (int64_t hg = 0; hg < groups; ++hg)
        for (int64_t qb = 0; qb < nqb; ++qb) {
          for (int64_t t = 0; t < nt; ++t) {
            int64_t size = (std::min(lqs, (qb + 1) * bq) - qb * bq) *
                           (std::min(lks, (t + 1) * bk) - t * bk);
            bool any = false, all = true;
            for (int64_t g = 0; g < (hm == 1 ? 1 : group); ++g) {
              int64_t h = hm == 1 ? 0 : hg * group + g;
              int32_t count = counts[((mb * hm + h) * nqb + qb) * nt + t];
              any |= count > 0;
              all &= count == size;
            }
            if (any) {
              tiles.push_back(t);
              fulls.push_back(all);
            }
          }
          offsets.push_back(tiles.size());
        }
    auto i32Tensor = [&](ArrayRef<int32_t> values) -> Value {
      auto type = RankedTensorType::get({int64_t(values.size())}, i32);
      Value c = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(type, values));
      return arith::IndexCastOp::create(
          b, loc, RankedTensorType::get({int64_t(values.size())},
                                        b.getIndexType()),
          c);
    };
    listOffsets = i32Tensor(offsets);
    listTiles = i32Tensor(tiles.empty() ? ArrayRef<int32_t>{0} : tiles);
    SmallVector<bool> fullBits(fulls.begin(), fulls.end());
    if (fullBits.empty())
      fullBits.push_back(false);
    listFull = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({int64_t(fullBits.size())}, b.getI1Type()),
            ArrayRef<bool>(fullBits)));
    listGroups = groups;
    listBlocks = nqb;
    listBatches = bm;
  }
  // The mask padded to whole blocks with false (element reads of partial
  // blocks), and at run time the allowed keys per block.
  MaskTiles tiles = buildMaskTiles(b, loc, p.mask, bq, bk, numBlocks,
                                   numTiles, /*withCounts=*/!listOffsets);
  paddedMask = tiles.padded;
  blockCounts = tiles.counts;
}

std::pair<Value, Value> FlashEmitter::groupState(
    Value perHead, Value batch, Value kvHead, Value block, Value tile,
    function_ref<std::pair<Value, Value>(Value)> entry) {
  auto type = cast<RankedTensorType>(perHead.getType());
  Value mb = type.getDimSize(0) == 1 ? idx(0) : batch;
  Value any = arith::ConstantIntOp::create(b, loc, 0, 1);
  Value all = arith::ConstantIntOp::create(b, loc, 1, 1);
  int64_t heads = type.getDimSize(1) == 1 ? 1 : group;
  for (int64_t g = 0; g < heads; ++g) {
    Value mh = type.getDimSize(1) == 1 ? idx(0)
                                       : add(mul(kvHead, idx(group)), idx(g));
    auto [some, every] = entry(tensor::ExtractOp::create(
        b, loc, perHead, ValueRange{mb, mh, block, tile}));
    any = orI(any, some);
    all = andI(all, every);
  }
  return {any, all};
}

std::pair<Value, Value> FlashEmitter::blockState(Value batch, Value kvHead,
                                                 Value block, Value tile) {
  Value rowsInBlock =
      sub(minI(add(mul(block, idx(cfg.blockQ)), idx(cfg.blockQ)), lq),
          mul(block, idx(cfg.blockQ)));
  Value keysInTile = minI(idx(cfg.blockK), sub(lk, mul(tile, idx(cfg.blockK))));
  Value fullCount =
      arith::IndexCastOp::create(b, loc, i32, mul(rowsInBlock, keysInTile));
  Value zero = arith::ConstantIntOp::create(b, loc, 0, 32);
  return groupState(blockCounts, batch, kvHead, block, tile,
                    [&](Value count) -> std::pair<Value, Value> {
                      return {cmpI(arith::CmpIPredicate::ne, count, zero),
                              cmpI(arith::CmpIPredicate::eq, count, fullCount)};
                    });
}

std::pair<Value, Value> FlashEmitter::modState(Value batch, Value kvHead,
                                               Value block, Value tile) {
  auto classConstant = [&](TileClass c) {
    return arith::ConstantIntOp::create(b, loc, int64_t(c), 8);
  };
  Value empty = classConstant(TileClass::Empty);
  Value full = classConstant(TileClass::Full);
  return groupState(modTiles, batch, kvHead, block, tile,
                    [&](Value c) -> std::pair<Value, Value> {
                      return {cmpI(arith::CmpIPredicate::ne, c, empty),
                              cmpI(arith::CmpIPredicate::eq, c, full)};
                    });
}

void FlashEmitter::prepareMaskCounts() {
  // The mask as bytes, keys padded to whole tiles with false, and the
  // number of allowed keys of each (row, key tile), computed once per call
  // and shared by every head that the mask broadcasts over.
  auto maskType = cast<RankedTensorType>(p.mask.getType());
  Value paddedKeys = mul(numTiles, idx(cfg.blockK));
  SmallVector<OpFoldResult> low(4, b.getIndexAttr(0));
  SmallVector<OpFoldResult> high(4, b.getIndexAttr(0));
  high[3] = sub(paddedKeys, dimOf(p.mask, 3));
  SmallVector<int64_t> paddedShape(maskType.getShape());
  paddedShape[3] = ShapedType::kDynamic;
  Value falseValue = arith::ConstantIntOp::create(b, loc, 0, 1);
  Value padded = tensor::PadOp::create(
      b, loc, RankedTensorType::get(paddedShape, maskType.getElementType()),
      p.mask, ArrayRef<OpFoldResult>(low), ArrayRef<OpFoldResult>(high),
      falseValue);
  auto type = RankedTensorType::get(paddedShape, b.getI8Type());
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < 4; ++d)
    if (ShapedType::isDynamic(paddedShape[d]))
      dyn.push_back(d == 3 ? paddedKeys : dimOf(p.mask, d));
  Value empty = tensor::EmptyOp::create(b, loc, type, dyn);
  AffineMap id = b.getMultiDimIdentityMap(4);
  auto parallel = utils::IteratorType::parallel;
  mask8 = linalg::GenericOp::create(
              b, loc, TypeRange{type}, ValueRange{padded}, ValueRange{empty},
              ArrayRef<AffineMap>{id, id},
              SmallVector<utils::IteratorType>(4, parallel),
              [&](OpBuilder &nb, Location l, ValueRange args) {
                linalg::YieldOp::create(
                    nb, l,
                    ValueRange{arith::ExtUIOp::create(nb, l, nb.getI8Type(),
                                                      args[0])});
              })
              .getResult(0);
  SmallVector<int64_t> tiledShape = {paddedShape[0], paddedShape[1],
                                     paddedShape[2], ShapedType::kDynamic,
                                     cfg.blockK};
  SmallVector<OpFoldResult> tiledSizes =
      tensor::getMixedSizes(b, loc, mask8);
  tiledSizes[3] = numTiles;
  tiledSizes.push_back(b.getIndexAttr(cfg.blockK));
  Value tiled = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(tiledShape, b.getI8Type()), mask8,
      SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}}, tiledSizes);
  SmallVector<OpFoldResult> countSizes(tiledSizes.begin(),
                                       tiledSizes.begin() + 4);
  Value counts0 = linalg::FillOp::create(
                      b, loc,
                      ValueRange{arith::ConstantIntOp::create(b, loc, 0, 32)},
                      ValueRange{tensor::EmptyOp::create(b, loc, countSizes,
                                                         i32)})
                      .getResult(0);
  AffineMap in5 = b.getMultiDimIdentityMap(5);
  AffineMap out4 = AffineMap::get(
      5, 0,
      {b.getAffineDimExpr(0), b.getAffineDimExpr(1), b.getAffineDimExpr(2),
       b.getAffineDimExpr(3)},
      b.getContext());
  maskCounts =
      linalg::GenericOp::create(
          b, loc, TypeRange{counts0.getType()}, ValueRange{tiled},
          ValueRange{counts0}, ArrayRef<AffineMap>{in5, out4},
          ArrayRef<utils::IteratorType>{parallel, parallel, parallel,
                                        parallel,
                                        utils::IteratorType::reduction},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value one = arith::ExtUIOp::create(nb, l, nb.getI32Type(), args[0]);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::AddIOp::create(nb, l, args[1], one)});
          })
          .getResult(0);
}
