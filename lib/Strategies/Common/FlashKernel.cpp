//===- FlashKernel.cpp - FlashAttention-2 on the CPU as vector IR ---------===//
//
// See FlashKernel.h. The emitted structure, for each (batch, KV head):
//   Kt[T, D, BK] = K^T packed in key tiles (f32, zero padded; phi(k) for
//                  feature-map scores)
//   forall query blocks (heaviest first):
//     O[R, Dv], m[R], l[R], P[micro_q, BK] on the stack (R = G * block_q)
//     for each KV tile the block's rows can see (band + sink tiles):
//       for each micro-tile of micro_q rows that sees the tile:
//         S = Q K^T   micro_q x BK/lanes vector accumulators, D loop unrolled
//         partial tiles only: mask by causal/window/sinks/mask/length
//         softmax: m' = max(m, rowmax S); p = exp2(S - m'); l = l 2^(m-m') + sum p
//         softplus: m' = min(max(m, rowmax S log2 e), 0); p = softplus(S) 2^-m'
//         O = O 2^(m-m') + P V   micro_q x blockDv/lanes accumulators
//     out = O / l (0 where l == 0), written into the result tile
// The scale is folded into S with log2(e) so the softmax uses exp2. Rows of
// all G query heads of a KV head share one task, so each K/V tile loaded
// serves the whole group; a micro-tile may span heads (decode: one row per
// head). With `splits` > 1 each block's keys are split among tasks whose
// partial (O, m, l) are merged through their log-sum-exp (split-KV). Without
// packing, scores are dot products over D read straight from K.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/FlashKernel.h"
#include "attn/Strategies/Common/ScoreFunctions.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
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
using namespace mlir::attn;

double mlir::attn::flashKernelSerialSeconds(const AttentionProblem &p,
                                            const FlashKernelConfig &config,
                                            double batch, double lq, double lk,
                                            double ghz) {
  if (!p.score.isFeatureProduct())
    return 0;
  double elements = batch * p.headDim *
                    (p.headsQ * lq + (config.packKeys ? p.headsKV * lk : 0));
  return 8.0 / (ghz * 1e9) * elements;
}

namespace {

/// Index bounds of the keys that rows [iA, iB] may see.
struct KeyBounds {
  Value lo;     ///< First band key of the last row's band (rows' max lo).
  Value hi;     ///< Last band key of the last row (rows' max hi).
  Value sinkHi; ///< Last sink key the rows may see, or -1.
};

/// The rows of one micro-tile: for each, its query head, its head within
/// the group, its (clamped) query index; and the range of query indices.
struct MicroRows {
  SmallVector<Value> head, group, row;
  Value iMin, iMax;
  /// attn.neighborhood (flattened): per row and axis, the row's dilation
  /// group and window in group coordinates.
  SmallVector<SmallVector<Value>> axisGroup;
  SmallVector<SmallVector<AxisWindow>> axisWindow;
};

class FlashEmitter : KernelBuilder {
public:
  FlashEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
               const FlashKernelConfig &config)
      : KernelBuilder(rewriter, problem.op->getLoc(), config.lanes),
        p(problem), cfg(config) {
    i32 = b.getI32Type();
    maskVecType = VectorType::get({cfg.lanes}, b.getI1Type());
    idxVecType = VectorType::get({cfg.lanes}, i32);
    group = p.groupSize();
    rows = group * cfg.blockQ;
    paddedRows = (rows + cfg.microQ - 1) / cfg.microQ * cfg.microQ;
    keyVecs = cfg.blockK / cfg.lanes;
    valueVecs = (p.valueDim + cfg.lanes - 1) / cfg.lanes;
    paddedDv = valueVecs * cfg.lanes;
    tracksMax = p.score.tracksRowMax();
    featureProduct = p.score.isFeatureProduct();
  }

  Value build();

private:
  // Scalar arithmetic beyond KernelBuilder's.
  Value cmpI(arith::CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value ceilDiv(Value x, int64_t d) {
    return arith::CeilDivUIOp::create(b, loc, x, idx(d));
  }
  Value floorDiv(Value x, int64_t d) {
    return arith::FloorDivSIOp::create(b, loc, x, idx(d));
  }
  /// phi of feature-map scores on a scalar.
  Value featureMap(Value x);

  KeyBounds keyBounds(Value iA, Value iB);
  Value bandAllowed(Value i, Value jv);

  Value packKeys(Value batch, Value kvHead);
  Value featureQueries(Value batch, Value kvHead);
  SmallVector<Value> scoresPacked(Value batch, const MicroRows &rows,
                                  Value tile, Value packedKeys, Value queries);
  SmallVector<Value> scoresUnpacked(Value batch, Value kvHead,
                                    const MicroRows &rows, Value kvStart,
                                    Value queries, Value partBuf);
  void emitMicroTile(Value batch, Value kvHead, const MicroRows &rows,
                     Value rowBase, Value tile, Value packedKeys,
                     Value queries, Value oAcc, Value mRow, Value lRow,
                     Value pBuf, Value partBuf, Value blockFull);
  /// Lane k of the result = sum of the lanes of vectors[k].
  Value transposeReduce(SmallVector<Value> vectors);
  /// Reads query element d (scalar) or vector dv of one row.
  Value queryScalar(Value queries, Value batch, const MicroRows &rows,
                    int64_t r, Value d);

  const AttentionProblem &p;
  FlashKernelConfig cfg;
  Type i32;
  VectorType maskVecType, idxVecType;
  int64_t group, rows, paddedRows, keyVecs, valueVecs, paddedDv;
  bool tracksMax, featureProduct;
  // Sizes.
  Value lq, lk, shift, numTiles;
  Value mask8; // i8 copy of the mask, keys padded to whole tiles, or null
  Value maskCounts; // allowed keys per (Bm, Hm, row, key tile), or null
  // Block-sparse: the mask padded to whole blocks (i1) and either allowed
  // keys per (Bm, Hm, query block, key tile) or, for a constant mask,
  // compressed lists per (Bm, KV head, query block): offsets into the tile
  // indices and their full flags.
  Value paddedMask, blockCounts, listOffsets, listTiles, listFull;
  void prepareBlockSparse();
  int64_t listGroups = 1, listBlocks = 1, listBatches = 1;
  /// Index of the compressed list of (batch, KV head, query block).
  Value blockListKey(Value batch, Value kvHead, Value block) {
    Value mb = listBatches == 1 ? idx(0) : batch;
    Value hg = listGroups == 1 ? idx(0) : kvHead;
    return add(mul(add(mul(mb, idx(listGroups)), hg), idx(listBlocks)), block);
  }
  /// Block-sparse state of `tile` for the query block: {visit, full}.
  std::pair<Value, Value> blockState(Value batch, Value kvHead, Value block,
                                     Value tile);
public:
  /// attn.neighborhood flattened to one sequence: the spatial extents.
  SmallVector<Value> spatialExtents;
private:
  /// Fills the neighborhood fields of `rows` and returns the flattened key
  /// range [lo, hi] that the rows' windows span.
  std::pair<Value, Value> neighborhoodRows(MicroRows &rows);
  Value neighborhoodAllowed(const MicroRows &rows, int64_t r, Value jv);
  /// Allowed keys of row r of the micro-tile in key tile `tile` (i32).
  Value maskCount(Value batch, const MicroRows &rows, int64_t r, Value tile) {
    auto type = cast<RankedTensorType>(maskCounts.getType());
    Value mb = type.getDimSize(0) == 1 ? idx(0) : batch;
    Value mh = type.getDimSize(1) == 1 ? idx(0) : rows.head[r];
    return tensor::ExtractOp::create(b, loc, maskCounts,
                                     ValueRange{mb, mh, rows.row[r], tile});
  }
};

Value FlashEmitter::featureMap(Value x) {
  return buildFeatureMap(b, loc, p.score.getFeatureMap(), x);
}

KeyBounds FlashEmitter::keyBounds(Value iA, Value iB) {
  KeyBounds bounds;
  Value last = sub(lk, idx(1));
  Value hi = last;
  if (p.causal)
    hi = minI(hi, add(iB, shift));
  if (p.hasWindow && p.windowRight)
    hi = minI(hi, add(add(iB, shift), idx(*p.windowRight)));
  Value lo = idx(0);
  if (p.hasWindow && p.windowLeft)
    lo = maxI(lo, sub(add(iA, shift), idx(*p.windowLeft)));
  bounds.lo = lo;
  bounds.hi = hi;
  if (p.hasWindow && p.sinks > 0) {
    Value sinkHi = minI(idx(p.sinks - 1), last);
    if (p.causal)
      sinkHi = minI(sinkHi, add(iB, shift));
    bounds.sinkHi = sinkHi;
  } else {
    bounds.sinkHi = idx(-1);
  }
  return bounds;
}

Value FlashEmitter::bandAllowed(Value i, Value jv) {
  auto splat = [&](Value index) -> Value {
    Value v = arith::IndexCastOp::create(b, loc, i32, index);
    return vector::BroadcastOp::create(b, loc, idxVecType, v);
  };
  auto cmp = [&](arith::CmpIPredicate pred, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  };
  Value allowed = cmp(arith::CmpIPredicate::slt, jv, splat(lk));
  Value shifted = add(i, shift);
  if (p.causal)
    allowed = andI(allowed, cmp(arith::CmpIPredicate::sle, jv, splat(shifted)));
  if (p.hasWindow) {
    Value inWindow;
    if (p.windowLeft)
      inWindow = cmp(arith::CmpIPredicate::sge, jv,
                     splat(sub(shifted, idx(*p.windowLeft))));
    if (p.windowRight) {
      Value right = cmp(arith::CmpIPredicate::sle, jv,
                        splat(add(shifted, idx(*p.windowRight))));
      inWindow = inWindow ? andI(inWindow, right) : right;
    }
    if (p.sinks > 0)
      inWindow =
          orI(inWindow, cmp(arith::CmpIPredicate::slt, jv, splat(idx(p.sinks))));
    allowed = andI(allowed, inWindow);
  }
  return allowed;
}

std::pair<Value, Value> FlashEmitter::neighborhoodRows(MicroRows &rows) {
  size_t rank = spatialExtents.size();
  Value lo, hi;
  for (Value row : rows.row) {
    // Coordinates of the flattened row, row-major over the extents.
    SmallVector<Value> coord(rank);
    Value rest = row;
    for (size_t a = rank; a-- > 0;) {
      if (a == 0) {
        coord[a] = rest;
      } else {
        coord[a] = arith::RemUIOp::create(b, loc, rest, spatialExtents[a]);
        rest = arith::DivUIOp::create(b, loc, rest, spatialExtents[a]);
      }
    }
    SmallVector<Value> groups;
    SmallVector<AxisWindow> windows;
    Value rowLo = idx(0), rowHi = idx(0);
    for (size_t a = 0; a < rank; ++a) {
      Value d = idx(p.dilation[a]);
      Value g = arith::RemUIOp::create(b, loc, coord[a], d);
      Value qi = arith::DivUIOp::create(b, loc, coord[a], d);
      Value positions =
          buildGroupPositions(b, loc, spatialExtents[a], g, p.dilation[a]);
      AxisWindow w = buildNeighborhoodWindow(b, loc, qi, positions,
                                             p.kernel[a], p.stride[a],
                                             p.causalAxes[a]);
      groups.push_back(g);
      windows.push_back(w);
      rowLo = add(mul(rowLo, spatialExtents[a]), add(g, mul(d, w.lo)));
      rowHi = add(mul(rowHi, spatialExtents[a]), add(g, mul(d, w.hi)));
    }
    rows.axisGroup.push_back(groups);
    rows.axisWindow.push_back(windows);
    lo = lo ? minI(lo, rowLo) : rowLo;
    hi = hi ? maxI(hi, rowHi) : rowHi;
  }
  return {lo, hi};
}

Value FlashEmitter::neighborhoodAllowed(const MicroRows &rows, int64_t r,
                                        Value jv) {
  auto splat = [&](Value index) -> Value {
    return vector::BroadcastOp::create(
        b, loc, idxVecType, arith::IndexCastOp::create(b, loc, i32, index));
  };
  size_t rank = spatialExtents.size();
  Value allowed =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, jv, splat(lk));
  Value rest = jv;
  for (size_t a = rank; a-- > 0;) {
    Value coord = rest;
    if (a > 0) {
      Value extent = splat(spatialExtents[a]);
      coord = arith::RemUIOp::create(b, loc, rest, extent);
      rest = arith::DivUIOp::create(b, loc, rest, extent);
    }
    Value d = splat(idx(p.dilation[a]));
    Value kj = p.dilation[a] == 1 ? coord
                                  : arith::DivUIOp::create(b, loc, coord, d)
                                        .getResult();
    if (p.dilation[a] > 1)
      allowed = andI(allowed,
                     arith::CmpIOp::create(
                         b, loc, arith::CmpIPredicate::eq,
                         arith::RemUIOp::create(b, loc, coord, d),
                         splat(rows.axisGroup[r][a])));
    const AxisWindow &w = rows.axisWindow[r][a];
    allowed = andI(allowed, arith::CmpIOp::create(
                                b, loc, arith::CmpIPredicate::sge, kj,
                                splat(w.lo)));
    allowed = andI(allowed, arith::CmpIOp::create(
                                b, loc, arith::CmpIPredicate::sle, kj,
                                splat(w.hi)));
  }
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
    SmallVector<bool> bits = llvm::to_vector(constant.getValues<bool>());
    int64_t groups = hm == 1 ? 1 : p.headsKV;
    SmallVector<int32_t> offsets = {0}, tiles, fulls;
    for (int64_t mb = 0; mb < bm; ++mb)
      for (int64_t hg = 0; hg < groups; ++hg)
        for (int64_t qb = 0; qb < nqb; ++qb) {
          for (int64_t t = 0; t < nt; ++t) {
            bool any = false, all = true;
            for (int64_t g = 0; g < (hm == 1 ? 1 : group); ++g) {
              int64_t h = hm == 1 ? 0 : hg * group + g;
              for (int64_t i = qb * bq; i < std::min(lqs, (qb + 1) * bq); ++i)
                for (int64_t j = t * bk; j < std::min(lks, (t + 1) * bk); ++j) {
                  bool bit = bits[((mb * hm + h) * lqs + i) * lks + j];
                  any |= bit;
                  all &= bit;
                }
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
  // blocks), and at run time the allowed keys per block. Where the blocks
  // divide the mask's static lengths it is used as it is: a pad would copy
  // it element by element on every call (64 MiB for L = 8192).
  SmallVector<int64_t> paddedShape = {maskType.getDimSize(0),
                                      maskType.getDimSize(1),
                                      ShapedType::kDynamic,
                                      ShapedType::kDynamic};
  auto paddedType = RankedTensorType::get(paddedShape, b.getI1Type());
  int64_t maskRows = maskType.getDimSize(2), maskKeys = maskType.getDimSize(3);
  if (!ShapedType::isDynamic(maskRows) && !ShapedType::isDynamic(maskKeys) &&
      maskRows % bq == 0 && maskKeys % bk == 0) {
    paddedMask = tensor::CastOp::create(b, loc, paddedType, p.mask);
  } else {
    SmallVector<OpFoldResult> low(4, b.getIndexAttr(0));
    SmallVector<OpFoldResult> high(4, b.getIndexAttr(0));
    high[2] = sub(mul(numBlocks, idx(bq)), dimOf(p.mask, 2));
    high[3] = sub(mul(numTiles, idx(bk)), dimOf(p.mask, 3));
    Value falseValue = arith::ConstantIntOp::create(b, loc, 0, 1);
    paddedMask = tensor::PadOp::create(
        b, loc, paddedType, p.mask, ArrayRef<OpFoldResult>(low),
        ArrayRef<OpFoldResult>(high), falseValue);
  }
  if (listOffsets)
    return;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, paddedMask);
  SmallVector<OpFoldResult> tiledSizes = {sizes[0], sizes[1], numBlocks,
                                          b.getIndexAttr(bq), numTiles,
                                          b.getIndexAttr(bk)};
  Value tiled = tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get({paddedShape[0], paddedShape[1],
                             ShapedType::kDynamic, bq, ShapedType::kDynamic,
                             bk},
                            b.getI1Type()),
      paddedMask,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}},
      tiledSizes);
  SmallVector<OpFoldResult> countSizes = {sizes[0], sizes[1], numBlocks,
                                          numTiles};
  Value counts0 =
      linalg::FillOp::create(
          b, loc, ValueRange{arith::ConstantIntOp::create(b, loc, 0, 32)},
          ValueRange{tensor::EmptyOp::create(b, loc, countSizes, i32)})
          .getResult(0);
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3, d4, d5;
  bindDims(ctx, d0, d1, d2, d3, d4, d5);
  blockCounts =
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
}

std::pair<Value, Value> FlashEmitter::blockState(Value batch, Value kvHead,
                                                 Value block, Value tile) {
  auto type = cast<RankedTensorType>(blockCounts.getType());
  Value mb = type.getDimSize(0) == 1 ? idx(0) : batch;
  Value rowsInBlock =
      sub(minI(add(mul(block, idx(cfg.blockQ)), idx(cfg.blockQ)), lq),
          mul(block, idx(cfg.blockQ)));
  Value keysInTile = minI(idx(cfg.blockK), sub(lk, mul(tile, idx(cfg.blockK))));
  Value fullCount =
      arith::IndexCastOp::create(b, loc, i32, mul(rowsInBlock, keysInTile));
  Value zero = arith::ConstantIntOp::create(b, loc, 0, 32);
  Value any = arith::ConstantIntOp::create(b, loc, 0, 1);
  Value all = arith::ConstantIntOp::create(b, loc, 1, 1);
  int64_t heads = type.getDimSize(1) == 1 ? 1 : group;
  for (int64_t g = 0; g < heads; ++g) {
    Value mh = type.getDimSize(1) == 1 ? idx(0)
                                       : add(mul(kvHead, idx(group)), idx(g));
    Value count = tensor::ExtractOp::create(b, loc, blockCounts,
                                            ValueRange{mb, mh, block, tile});
    any = orI(any, cmpI(arith::CmpIPredicate::ne, count, zero));
    all = andI(all, cmpI(arith::CmpIPredicate::eq, count, fullCount));
  }
  return {any, all};
}

Value FlashEmitter::packKeys(Value batch, Value kvHead) {
  int64_t d = p.headDim, bk = cfg.blockK;
  auto type = RankedTensorType::get({ShapedType::kDynamic, d, bk}, f32);
  Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange{numTiles});
  AffineMap id = b.getMultiDimIdentityMap(3);
  Value key = p.key;
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{}, ValueRange{empty},
             ArrayRef<AffineMap>{id},
             SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPoint(nb.getInsertionBlock(),
                                   nb.getInsertionPoint());
               Value t = linalg::IndexOp::create(b, l, 0);
               Value dd = linalg::IndexOp::create(b, l, 1);
               Value c = linalg::IndexOp::create(b, l, 2);
               Value j = add(mul(t, idx(bk)), c);
               Value inside = cmpI(arith::CmpIPredicate::slt, j, lk);
               Value jc = minI(j, sub(lk, idx(1)));
               Value v = toF32(tensor::ExtractOp::create(
                   b, l, key, ValueRange{batch, kvHead, jc, dd}));
               if (featureProduct)
                 v = featureMap(v);
               linalg::YieldOp::create(b, l,
                                       ValueRange{select(inside, v, fconst(0))});
             })
      .getResult(0);
}

Value FlashEmitter::featureQueries(Value batch, Value kvHead) {
  int64_t d = p.headDim;
  auto type = RankedTensorType::get({group, ShapedType::kDynamic, d}, f32);
  Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange{lq});
  AffineMap id = b.getMultiDimIdentityMap(3);
  Value query = p.query;
  float scale = p.scale;
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{}, ValueRange{empty},
             ArrayRef<AffineMap>{id},
             SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPoint(nb.getInsertionBlock(),
                                   nb.getInsertionPoint());
               Value g = linalg::IndexOp::create(b, l, 0);
               Value i = linalg::IndexOp::create(b, l, 1);
               Value dd = linalg::IndexOp::create(b, l, 2);
               Value head = add(mul(kvHead, idx(group)), g);
               Value v = toF32(tensor::ExtractOp::create(
                   b, l, query, ValueRange{batch, head, i, dd}));
               v = arith::MulFOp::create(b, l, v, fconst(scale));
               linalg::YieldOp::create(b, l, ValueRange{featureMap(v)});
             })
      .getResult(0);
}

Value FlashEmitter::queryScalar(Value queries, Value batch,
                                const MicroRows &rows, int64_t r, Value d) {
  if (featureProduct)
    return tensor::ExtractOp::create(b, loc, queries,
                                     ValueRange{rows.group[r], rows.row[r], d});
  return toF32(tensor::ExtractOp::create(
      b, loc, queries, ValueRange{batch, rows.head[r], rows.row[r], d}));
}

SmallVector<Value> FlashEmitter::scoresPacked(Value batch,
                                              const MicroRows &rows,
                                              Value tile, Value packedKeys,
                                              Value queries) {
  return emitPackedScores(
      b, loc, cfg, p.headDim,
      [&](int64_t r, Value d) { return queryScalar(queries, batch, rows, r, d); },
      [&](Value d, int64_t c) -> Value {
        return vector::TransferReadOp::create(
            b, loc, vecType, packedKeys,
            ValueRange{tile, d, idx(c * cfg.lanes)}, fconst(0),
            ArrayRef<bool>{true});
      });
}

SmallVector<Value> FlashEmitter::scoresUnpacked(Value batch, Value kvHead,
                                                const MicroRows &rows,
                                                Value kvStart, Value queries,
                                                Value partBuf) {
  // s[r][j] = sum over D of q[r] * k[j]: vectors along D, one key per loop
  // iteration (so that few values are live), partial sums of `lanes` keys
  // parked in a small stack buffer and folded into one vector per row by a
  // transposing reduction. K is read once, in its own layout.
  int64_t mr = cfg.microQ, lanes = cfg.lanes;
  int64_t dVecs = (p.headDim + lanes - 1) / lanes;
  bool dInBounds = p.headDim % lanes == 0;
  auto keyType = cast<RankedTensorType>(p.key.getType());
  VectorType rawKey = VectorType::get({lanes}, keyType.getElementType());
  auto queryType = cast<RankedTensorType>(queries.getType());
  VectorType rawQuery = VectorType::get({lanes}, queryType.getElementType());
  Value lastKey = sub(lk, idx(1));
  SmallVector<Value> s(mr * keyVecs);
  for (int64_t c = 0; c < keyVecs; ++c) {
    scf::ForOp::create(
        b, loc, idx(0), idx(lanes), idx(1), ValueRange{},
        [&](OpBuilder &nb, Location, Value kk, ValueRange) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value key =
              minI(add(add(kvStart, idx(c * lanes)), kk), lastKey);
          Value keyZero = arith::ConstantOp::create(
              b, loc, b.getZeroAttr(keyType.getElementType()));
          Value queryZero = arith::ConstantOp::create(
              b, loc, b.getZeroAttr(queryType.getElementType()));
          SmallVector<Value> kv(dVecs);
          for (int64_t dv = 0; dv < dVecs; ++dv) {
            kv[dv] = toF32(vector::TransferReadOp::create(
                b, loc, rawKey, p.key,
                ValueRange{batch, kvHead, key, idx(dv * lanes)}, keyZero,
                ArrayRef<bool>{dInBounds}));
            if (featureProduct)
              kv[dv] = featureMap(kv[dv]);
          }
          for (int64_t r = 0; r < mr; ++r) {
            Value acc;
            for (int64_t dv = 0; dv < dVecs; ++dv) {
              SmallVector<Value> at =
                  featureProduct
                      ? SmallVector<Value>{rows.group[r], rows.row[r],
                                           idx(dv * lanes)}
                      : SmallVector<Value>{batch, rows.head[r], rows.row[r],
                                           idx(dv * lanes)};
              Value q = toF32(vector::TransferReadOp::create(
                  b, loc, rawQuery, queries, at, queryZero,
                  ArrayRef<bool>{dInBounds}));
              acc = acc ? vector::FMAOp::create(b, loc, q, kv[dv], acc)
                              .getResult()
                        : arith::MulFOp::create(b, loc, q, kv[dv]).getResult();
            }
            vector::StoreOp::create(b, loc, acc, partBuf,
                                    ValueRange{idx(r), kk, idx(0)});
          }
          scf::YieldOp::create(b, loc);
        });
    for (int64_t r = 0; r < mr; ++r) {
      SmallVector<Value> partials;
      for (int64_t kk = 0; kk < lanes; ++kk)
        partials.push_back(vector::LoadOp::create(
            b, loc, vecType, partBuf, ValueRange{idx(r), idx(kk), idx(0)}));
      s[r * keyVecs + c] = transposeReduce(partials);
    }
  }
  return s;
}

Value FlashEmitter::transposeReduce(SmallVector<Value> vectors) {
  // vectors[k] holds `lanes` partial sums of key k. Pair vectors and fold
  // each key's partials in half, log2(lanes) times: lane k of the result is
  // the sum of vectors[k]. Keys stay in order (x's keys, then y's).
  int64_t lanes = cfg.lanes;
  int64_t partialsPerKey = lanes;
  while (vectors.size() > 1) {
    int64_t keysPerVector = lanes / partialsPerKey;
    int64_t half = partialsPerKey / 2;
    SmallVector<int64_t> first, second;
    for (int64_t lane = 0; lane < lanes; ++lane) {
      int64_t key = lane / half, part = lane % half;
      int64_t source = key < keysPerVector ? 0 : lanes;
      int64_t localKey = key % keysPerVector;
      first.push_back(source + localKey * partialsPerKey + part);
      second.push_back(source + localKey * partialsPerKey + half + part);
    }
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < vectors.size(); i += 2) {
      Value lo = vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1],
                                           first);
      Value hi = vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1],
                                           second);
      next.push_back(arith::AddFOp::create(b, loc, lo, hi));
    }
    vectors = std::move(next);
    partialsPerKey = half;
  }
  return vectors.front();
}

void FlashEmitter::emitMicroTile(Value batch, Value kvHead,
                                 const MicroRows &rows, Value rowBase,
                                 Value tile, Value packedKeys, Value queries,
                                 Value oAcc, Value mRow, Value lRow,
                                 Value pBuf, Value partBuf, Value blockFull) {
  int64_t mr = cfg.microQ, lanes = cfg.lanes;
  Value kvStart = mul(tile, idx(cfg.blockK));
  Value kvValid = minI(idx(cfg.blockK), sub(lk, kvStart));
  const SmallVector<Value> &rowIndex = rows.row;

  // Whether every (row, key) of this micro-tile is allowed: then no masking.
  Value full;
  {
    Value tileEnd = add(kvStart, idx(cfg.blockK - 1));
    full = cmpI(arith::CmpIPredicate::slt, tileEnd, lk);
    if (p.isNeighborhood) {
      full = arith::ConstantIntOp::create(b, loc, 0, 1);
    } else if (p.mask) {
      // Full when every row allows all of the tile's keys (and the band,
      // if any, does too).
      if (blockFull)
        full = andI(full, blockFull);
      for (int64_t r = 0; r < mr && !blockFull; ++r)
        full = andI(full, cmpI(arith::CmpIPredicate::eq,
                               maskCount(batch, rows, r, tile),
                               arith::IndexCastOp::create(b, loc, i32,
                                                          kvValid)));
      if (p.causal || p.hasWindow) {
        KeyBounds first = keyBounds(rows.iMin, rows.iMin);
        KeyBounds last = keyBounds(rows.iMax, rows.iMax);
        full = andI(full, cmpI(arith::CmpIPredicate::sge, kvStart, last.lo));
        full = andI(full, cmpI(arith::CmpIPredicate::sle, tileEnd, first.hi));
      }
    } else if (p.causal || p.hasWindow) {
      KeyBounds first = keyBounds(rows.iMin, rows.iMin);
      KeyBounds last = keyBounds(rows.iMax, rows.iMax);
      full = andI(full, cmpI(arith::CmpIPredicate::sge, kvStart, last.lo));
      full = andI(full, cmpI(arith::CmpIPredicate::sle, tileEnd, first.hi));
    }
  }

  SmallVector<Value> s =
      cfg.packKeys
          ? scoresPacked(batch, rows, tile, packedKeys, queries)
          : scoresUnpacked(batch, kvHead, rows, kvStart, queries, partBuf);

  MicroTileAccess access;
  access.full = full;
  access.keyCount = kvValid;
  auto biasType =
      p.bias ? cast<RankedTensorType>(p.bias.getType()) : RankedTensorType();
  auto bias = [&](int64_t r, int64_t c) -> Value {
    Value bb = biasType.getDimSize(0) == 1 ? idx(0) : batch;
    Value bh = biasType.getDimSize(1) == 1 ? idx(0) : rows.head[r];
    Value zero = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(biasType.getElementType()));
    return toF32(vector::TransferReadOp::create(
        b, loc, VectorType::get({lanes}, biasType.getElementType()), p.bias,
        ValueRange{bb, bh, rowIndex[r], add(kvStart, idx(c * lanes))}, zero,
        ArrayRef<bool>{false}));
  };
  access.bias = bias;
  Value iota;
  auto allowed = [&](int64_t r, int64_t c) -> Value {
    if (!iota)
      iota = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              idxVecType,
              llvm::to_vector(llvm::map_range(
                  llvm::seq<int64_t>(0, lanes), [&](int64_t x) -> Attribute {
                    return b.getI32IntegerAttr(x);
                  }))));
    Value base =
        arith::IndexCastOp::create(b, loc, i32, add(kvStart, idx(c * lanes)));
    Value jv = arith::AddIOp::create(
        b, loc, vector::BroadcastOp::create(b, loc, idxVecType, base), iota);
    Value ok = p.isNeighborhood ? neighborhoodAllowed(rows, r, jv)
                                : bandAllowed(rowIndex[r], jv);
    if (paddedMask) {
      auto maskType = cast<RankedTensorType>(paddedMask.getType());
      Value mb = maskType.getDimSize(0) == 1 ? idx(0) : batch;
      Value mh = maskType.getDimSize(1) == 1 ? idx(0) : rows.head[r];
      SmallVector<Value> bits;
      for (int64_t x = 0; x < lanes; ++x)
        bits.push_back(tensor::ExtractOp::create(
            b, loc, paddedMask,
            ValueRange{mb, mh, rowIndex[r], add(kvStart, idx(c * lanes + x))}));
      return andI(ok, vector::FromElementsOp::create(b, loc, maskVecType, bits));
    }
    if (!mask8)
      return ok;
    auto maskType = cast<RankedTensorType>(mask8.getType());
    Value mb = maskType.getDimSize(0) == 1 ? idx(0) : batch;
    Value mh = maskType.getDimSize(1) == 1 ? idx(0) : rows.head[r];
    VectorType byteVec = VectorType::get({lanes}, b.getI8Type());
    Value raw = vector::TransferReadOp::create(
        b, loc, byteVec, mask8,
        ValueRange{mb, mh, rowIndex[r], add(kvStart, idx(c * lanes))},
        arith::ConstantIntOp::create(b, loc, 0, 8), ArrayRef<bool>{true});
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(byteVec, b.getI8IntegerAttr(0)));
    return andI(ok, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                          raw, zero));
  };
  access.allowed = allowed;
  auto valueType = cast<RankedTensorType>(p.value.getType());
  VectorType rawValue = VectorType::get({lanes}, valueType.getElementType());
  bool valueInBounds = p.valueDim % lanes == 0;
  auto value = [&](Value j, int64_t e) -> Value {
    Value zero = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(valueType.getElementType()));
    return toF32(vector::TransferReadOp::create(
        b, loc, rawValue, p.value,
        ValueRange{batch, kvHead, add(kvStart, j), idx(e * lanes)}, zero,
        ArrayRef<bool>{valueInBounds}));
  };
  access.value = value;
  emitOnlineSoftmaxStep(b, loc, p, cfg, s, access,
                        MicroTileState{oAcc, mRow, lRow, pBuf, rowBase});
}

Value FlashEmitter::build() {
  auto qType = cast<RankedTensorType>(p.query.getType());
  Type outElem = qType.getElementType();
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  shift = sub(lk, lq);
  numTiles = ceilDiv(lk, cfg.blockK);
  Value batches = dimOf(p.query, 0);
  Value numBlocks = ceilDiv(lq, cfg.blockQ);
  int64_t mr = cfg.microQ, lanes = cfg.lanes, splits = cfg.splits;
  bool banded = cfg.skipByBand && (p.causal || p.hasWindow);
  double negInf = -std::numeric_limits<double>::infinity();

  if (p.mask && cfg.blockSparse) {
    prepareBlockSparse();
  } else if (p.mask) {
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

  // Per-head partial results of split-KV tasks.
  auto partialTypes = [&]() -> SmallVector<RankedTensorType> {
    return {RankedTensorType::get(
                {splits, ShapedType::kDynamic, paddedRows, paddedDv}, f32),
            RankedTensorType::get({splits, ShapedType::kDynamic, paddedRows},
                                  f32),
            RankedTensorType::get({splits, ShapedType::kDynamic, paddedRows},
                                  f32)};
  };

  // Writes rows [g, i] of the result block `block` from per-row values:
  // out = rowValue(r, e) * rowScale(r).
  auto writeBlock = [&](Value batch, Value kvHead, Value outTensor,
                        Value block, scf::ForallOp forall,
                        // (l to divide row r by, or null; whether l is 0)
                        function_ref<std::pair<Value, Value>(Value r)> rowScale,
                        function_ref<Value(Value r, int64_t e)> rowVector) {
    Value q0 = mul(block, idx(cfg.blockQ));
    Value rowsValid = sub(minI(add(q0, idx(cfg.blockQ)), lq), q0);
    // Full rank: a rank-reducing slice is ambiguous when sizes fold to 1.
    auto sliceType = RankedTensorType::get(
        {1, group, ShapedType::kDynamic, p.valueDim}, outElem);
    SmallVector<OpFoldResult> offsets = {batch, mul(kvHead, idx(group)), q0,
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                       b.getIndexAttr(group), rowsValid,
                                       b.getIndexAttr(p.valueDim)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, outTensor,
                                                 offsets, sizes, strides);
    VectorType outVec = VectorType::get({lanes}, outElem);
    bool outInBounds = p.valueDim % lanes == 0;
    auto gLoop = scf::ForOp::create(
        b, loc, idx(0), idx(group), idx(1), ValueRange{slice},
        [&](OpBuilder &gb, Location, Value g, ValueRange gAcc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(gb.getInsertionBlock(), gb.getInsertionPoint());
          auto iLoop = scf::ForOp::create(
              b, loc, idx(0), rowsValid, idx(1), gAcc,
              [&](OpBuilder &ib, Location, Value i, ValueRange iAcc) {
                OpBuilder::InsertionGuard guard2(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                Value r = add(mul(g, idx(cfg.blockQ)), i);
                // O / l, by division: 1 / l overflows when kernel weights
                // are tiny (l below 2^-126). A row whose weights sum to 0 is
                // 0, whatever O holds (0 * NaN from a value read with
                // weight 0).
                auto [divisor, emptyRow] = rowScale(r);
                Value l = divisor ? vector::BroadcastOp::create(b, loc, vecType,
                                                                divisor)
                                        .getResult()
                                  : Value();
                Value zeros = emptyRow ? vconst(0.0) : Value();
                Value t = iAcc[0];
                for (int64_t e = 0; e < valueVecs; ++e) {
                  Value o = rowVector(r, e);
                  if (l)
                    o = arith::DivFOp::create(b, loc, o, l);
                  if (emptyRow)
                    o = select(emptyRow, zeros, o);
                  if (!outElem.isF32())
                    o = arith::TruncFOp::create(b, loc, outVec, o);
                  t = vector::TransferWriteOp::create(
                          b, loc, o, t,
                          ValueRange{idx(0), g, i, idx(e * lanes)},
                          ArrayRef<bool>{outInBounds})
                          .getResult();
                }
                scf::YieldOp::create(b, loc, t);
              });
          scf::YieldOp::create(b, loc, iLoop.getResults());
        });
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, loc, gLoop.getResult(0),
                                          outTensor, offsets, sizes, strides);
  };

  Value heads = idx(p.headsKV);
  auto headLoop = scf::ForOp::create(
      b, loc, idx(0), mul(batches, heads), idx(1), ValueRange{p.init},
      [&](OpBuilder &nb, Location, Value bh, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value batch = arith::DivUIOp::create(b, loc, bh, heads);
        Value kvHead = arith::RemUIOp::create(b, loc, bh, heads);
        Value packedKeys = cfg.packKeys ? packKeys(batch, kvHead) : Value();
        Value queries =
            featureProduct ? featureQueries(batch, kvHead) : p.query;

        SmallVector<Value> sharedOuts;
        if (splits == 1) {
          sharedOuts.push_back(acc[0]);
        } else {
          for (RankedTensorType type : partialTypes())
            sharedOuts.push_back(
                tensor::EmptyOp::create(b, loc, type, ValueRange{numBlocks}));
        }
        auto forall = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{mul(numBlocks, idx(splits))},
            sharedOuts, std::nullopt);
        {
          OpBuilder::InsertionGuard guard2(b);
          b.setInsertionPoint(forall.getTerminator());
          Value iter = forall.getInductionVar(0);
          Value split = arith::RemUIOp::create(b, loc, iter, idx(splits));
          Value blockIter = arith::DivUIOp::create(b, loc, iter, idx(splits));
          // Heaviest blocks first, interleaved with the lightest so that
          // contiguous chunks of iterations cost about the same.
          Value half = arith::DivUIOp::create(b, loc, blockIter, idx(2));
          Value odd = cmpI(arith::CmpIPredicate::eq,
                           arith::RemUIOp::create(b, loc, blockIter, idx(2)),
                           idx(1));
          Value block = select(odd, half, sub(sub(numBlocks, idx(1)), half));
          Value q0 = mul(block, idx(cfg.blockQ));
          Value qEnd = minI(add(q0, idx(cfg.blockQ)), lq);
          Value qLast = sub(qEnd, idx(1));
          Value rowsValid = sub(qEnd, q0);

          auto memType = [&](ArrayRef<int64_t> shape) {
            return MemRefType::get(shape, f32);
          };
          Value oAcc = memref::AllocaOp::create(
              b, loc, memType({paddedRows, paddedDv}), b.getI64IntegerAttr(64));
          Value mRow = memref::AllocaOp::create(b, loc, memType({paddedRows}));
          Value lRow = memref::AllocaOp::create(b, loc, memType({paddedRows}));
          Value pBuf = memref::AllocaOp::create(
              b, loc, memType({mr, cfg.blockK}), b.getI64IntegerAttr(64));
          Value partBuf =
              cfg.packKeys ? Value()
                           : memref::AllocaOp::create(
                                 b, loc, memType({mr, lanes, lanes}),
                                 b.getI64IntegerAttr(64))
                                 .getResult();
          scf::ForOp::create(
              b, loc, idx(0), idx(paddedRows), idx(1), ValueRange{},
              [&](OpBuilder &ib, Location, Value r, ValueRange) {
                OpBuilder::InsertionGuard guard3(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                memref::StoreOp::create(b, loc,
                                        fconst(tracksMax ? negInf : 0.0), mRow,
                                        ValueRange{r});
                memref::StoreOp::create(b, loc, fconst(0.0), lRow,
                                        ValueRange{r});
                for (int64_t e = 0; e < valueVecs; ++e)
                  vector::StoreOp::create(b, loc, vconst(0.0), oAcc,
                                          ValueRange{r, idx(e * lanes)});
                scf::YieldOp::create(b, loc);
              });

          // KV tiles the block's rows can see: sink tiles, then the band,
          // each cut to this task's split of the tiles.
          Value tLo = idx(0), numBand = numTiles, numSink = idx(0);
          if (banded) {
            KeyBounds bounds = keyBounds(q0, qLast);
            tLo = arith::DivUIOp::create(b, loc, bounds.lo, idx(cfg.blockK));
            Value tHi = floorDiv(bounds.hi, cfg.blockK);
            Value nonEmpty =
                cmpI(arith::CmpIPredicate::sle, bounds.lo, bounds.hi);
            numBand = select(nonEmpty, maxI(idx(0), add(sub(tHi, tLo), idx(1))),
                             idx(0));
            Value sinkTiles =
                select(cmpI(arith::CmpIPredicate::sge, bounds.sinkHi, idx(0)),
                       add(floorDiv(bounds.sinkHi, cfg.blockK), idx(1)),
                       idx(0));
            numSink = minI(sinkTiles, select(nonEmpty, tLo, sinkTiles));
            // Sink tiles past the band's last tile (a band that ends before
            // the sinks do): the band runs on to the last sink tile, so that
            // the visits cover [0, sinkTiles) and [tLo, tHi] both.
            Value bandEnd = add(tLo, numBand);
            numBand = select(
                andI(nonEmpty, cmpI(arith::CmpIPredicate::sgt, sinkTiles, tLo)),
                sub(maxI(bandEnd, sinkTiles), tLo), numBand);
          }
          Value sinkStart = idx(0);
          if (splits > 1) {
            Value perSplit = ceilDiv(numTiles, splits);
            Value sLo = mul(split, perSplit);
            Value sHi = minI(add(sLo, perSplit), numTiles);
            Value bandLo = maxI(tLo, sLo);
            Value bandHi = minI(add(tLo, numBand), sHi);
            numBand = maxI(idx(0), sub(bandHi, bandLo));
            tLo = bandLo;
            numSink = maxI(idx(0), sub(minI(numSink, sHi), sLo));
            sinkStart = sLo;
          }
          Value visits = add(numSink, numBand);
          if (listOffsets) {
            // Constant mask: only the listed (non-empty) blocks.
            Value key = blockListKey(batch, kvHead, block);
            Value first = tensor::ExtractOp::create(b, loc, listOffsets,
                                                    ValueRange{key});
            Value last = tensor::ExtractOp::create(b, loc, listOffsets,
                                                   ValueRange{add(key, idx(1))});
            numSink = idx(0);
            sinkStart = idx(0);
            tLo = first;
            visits = sub(last, first);
          }
          int64_t microTiles = paddedRows / mr;
          scf::ForOp::create(
              b, loc, idx(0), visits, idx(1), ValueRange{},
              [&](OpBuilder &tb, Location, Value v, ValueRange) {
                OpBuilder::InsertionGuard guard3(b);
                b.setInsertionPoint(tb.getInsertionBlock(),
                                    tb.getInsertionPoint());
                Value inSinks = cmpI(arith::CmpIPredicate::slt, v, numSink);
                Value tile = select(inSinks, add(sinkStart, v),
                                    add(tLo, sub(v, numSink)));
                Value blockVisit, blockFull;
                if (listOffsets) {
                  Value entry = tile;
                  tile = tensor::ExtractOp::create(b, loc, listTiles,
                                                   ValueRange{entry});
                  blockFull = tensor::ExtractOp::create(b, loc, listFull,
                                                        ValueRange{entry});
                } else if (blockCounts) {
                  std::tie(blockVisit, blockFull) =
                      blockState(batch, kvHead, block, tile);
                }
                Value kvStart = mul(tile, idx(cfg.blockK));
                Value kvEnd = add(kvStart, idx(cfg.blockK - 1));
                auto microLoop = [&]() {
                scf::ForOp::create(
                    b, loc, idx(0), idx(microTiles), idx(1), ValueRange{},
                    [&](OpBuilder &mb, Location, Value mt, ValueRange) {
                      OpBuilder::InsertionGuard guard4(b);
                      b.setInsertionPoint(mb.getInsertionBlock(),
                                          mb.getInsertionPoint());
                      Value rowBase = mul(mt, idx(mr));
                      // Rows r of the block: head g = r / block_q, query
                      // q0 + r % block_q; rows past the block or past Lq are
                      // computed on a clamped row and never written.
                      MicroRows micro;
                      for (int64_t r = 0; r < mr; ++r) {
                        Value row = add(rowBase, idx(r));
                        Value g = minI(arith::DivUIOp::create(
                                           b, loc, row, idx(cfg.blockQ)),
                                       idx(group - 1));
                        Value i = add(q0, arith::RemUIOp::create(
                                              b, loc, row, idx(cfg.blockQ)));
                        micro.group.push_back(g);
                        micro.head.push_back(add(mul(kvHead, idx(group)), g));
                        micro.row.push_back(minI(i, qLast));
                      }
                      Value firstOffset = arith::RemUIOp::create(
                          b, loc, rowBase, idx(cfg.blockQ));
                      Value wraps =
                          cmpI(arith::CmpIPredicate::sgt,
                               add(firstOffset, idx(mr)), idx(cfg.blockQ));
                      micro.iMin = select(wraps, q0, micro.row[0]);
                      micro.iMax = select(
                          wraps, qLast,
                          minI(add(add(q0, firstOffset), idx(mr - 1)), qLast));
                      Value visit = andI(
                          cmpI(arith::CmpIPredicate::slt, rowBase, idx(rows)),
                          orI(wraps, cmpI(arith::CmpIPredicate::slt,
                                          firstOffset, rowsValid)));
                      if (banded) {
                        KeyBounds bounds = keyBounds(micro.iMin, micro.iMax);
                        KeyBounds firstRow = keyBounds(micro.iMin, micro.iMin);
                        Value band = andI(
                            cmpI(arith::CmpIPredicate::sle, firstRow.lo, kvEnd),
                            cmpI(arith::CmpIPredicate::sle, kvStart,
                                 bounds.hi));
                        band = andI(band, cmpI(arith::CmpIPredicate::sle,
                                               firstRow.lo, bounds.hi));
                        Value sink = cmpI(arith::CmpIPredicate::sle, kvStart,
                                          bounds.sinkHi);
                        visit = andI(visit, orI(band, sink));
                      }
                      if (maskCounts) {
                        // Skip tiles that the mask leaves empty for all
                        // rows of the micro-tile.
                        Value any = arith::ConstantIntOp::create(b, loc, 0, 1);
                        for (int64_t r = 0; r < mr; ++r)
                          any = orI(any, cmpI(arith::CmpIPredicate::ne,
                                              maskCount(batch, micro, r, tile),
                                              arith::ConstantIntOp::create(
                                                  b, loc, 0, 32)));
                        visit = andI(visit, any);
                      }
                      if (p.isNeighborhood) {
                        auto [lo, hi] = neighborhoodRows(micro);
                        visit = andI(visit,
                                     andI(cmpI(arith::CmpIPredicate::sle, lo,
                                               kvEnd),
                                          cmpI(arith::CmpIPredicate::sle,
                                               kvStart, hi)));
                      }
                      scf::IfOp::create(
                          b, loc, visit, [&](OpBuilder &xb, Location) {
                            OpBuilder::InsertionGuard guard5(b);
                            b.setInsertionPoint(xb.getInsertionBlock(),
                                                xb.getInsertionPoint());
                            emitMicroTile(batch, kvHead, micro, rowBase, tile,
                                          packedKeys, queries, oAcc, mRow,
                                          lRow, pBuf, partBuf, blockFull);
                            scf::YieldOp::create(b, loc);
                          });
                      scf::YieldOp::create(b, loc);
                    });
                };
                if (blockVisit) {
                  scf::IfOp::create(b, loc, blockVisit,
                                    [&](OpBuilder &ib, Location) {
                                      OpBuilder::InsertionGuard g(b);
                                      b.setInsertionPoint(
                                          ib.getInsertionBlock(),
                                          ib.getInsertionPoint());
                                      microLoop();
                                      scf::YieldOp::create(b, loc);
                                    });
                } else {
                  microLoop();
                }
                scf::YieldOp::create(b, loc);
              });

          if (splits == 1) {
            bool normalize = p.score.getNormalize();
            writeBlock(
                batch, kvHead, forall.getRegionIterArgs()[0], block, forall,
                [&](Value r) -> std::pair<Value, Value> {
                  if (!normalize)
                    return {Value(), Value()};
                  Value l = memref::LoadOp::create(b, loc, lRow, ValueRange{r});
                  Value empty = arith::CmpFOp::create(
                      b, loc, arith::CmpFPredicate::OEQ, l, fconst(0.0));
                  return {l, empty};
                },
                [&](Value r, int64_t e) -> Value {
                  return vector::LoadOp::create(b, loc, vecType, oAcc,
                                                ValueRange{r, idx(e * lanes)});
                });
          } else {
            // Partial (O, m, l) of this split, unnormalized.
            ValueRange outs = forall.getRegionIterArgs();
            SmallVector<OpFoldResult> oOff = {split, block, b.getIndexAttr(0),
                                              b.getIndexAttr(0)};
            SmallVector<OpFoldResult> oSize = {
                b.getIndexAttr(1), b.getIndexAttr(1),
                b.getIndexAttr(paddedRows), b.getIndexAttr(paddedDv)};
            SmallVector<OpFoldResult> rOff = {split, block, b.getIndexAttr(0)};
            SmallVector<OpFoldResult> rSize = {b.getIndexAttr(1),
                                               b.getIndexAttr(1),
                                               b.getIndexAttr(paddedRows)};
            auto oType =
                RankedTensorType::get({1, 1, paddedRows, paddedDv}, f32);
            auto rType = RankedTensorType::get({1, 1, paddedRows}, f32);
            SmallVector<OpFoldResult> one4(4, b.getIndexAttr(1)),
                one3(3, b.getIndexAttr(1));
            Value oSlice = tensor::ExtractSliceOp::create(
                b, loc, oType, outs[0], oOff, oSize, one4);
            Value mSlice = tensor::ExtractSliceOp::create(b, loc, rType,
                                                          outs[1], rOff, rSize,
                                                          one3);
            Value lSlice = tensor::ExtractSliceOp::create(b, loc, rType,
                                                          outs[2], rOff, rSize,
                                                          one3);
            auto rLoop = scf::ForOp::create(
                b, loc, idx(0), idx(paddedRows), idx(1),
                ValueRange{oSlice, mSlice, lSlice},
                [&](OpBuilder &rb, Location, Value r, ValueRange t) {
                  OpBuilder::InsertionGuard guard3(b);
                  b.setInsertionPoint(rb.getInsertionBlock(),
                                      rb.getInsertionPoint());
                  Value o = t[0];
                  for (int64_t e = 0; e < valueVecs; ++e)
                    o = vector::TransferWriteOp::create(
                            b, loc,
                            vector::LoadOp::create(b, loc, vecType, oAcc,
                                                   ValueRange{r, idx(e * lanes)}),
                            o, ValueRange{idx(0), idx(0), r, idx(e * lanes)},
                            ArrayRef<bool>{true})
                            .getResult();
                  Value m = tensor::InsertOp::create(
                      b, loc,
                      memref::LoadOp::create(b, loc, mRow, ValueRange{r}),
                      t[1], ValueRange{idx(0), idx(0), r});
                  Value l = tensor::InsertOp::create(
                      b, loc,
                      memref::LoadOp::create(b, loc, lRow, ValueRange{r}),
                      t[2], ValueRange{idx(0), idx(0), r});
                  scf::YieldOp::create(b, loc, ValueRange{o, m, l});
                });
            OpBuilder::InsertionGuard guard3(b);
            b.setInsertionPointToStart(forall.getTerminator().getBody());
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(0),
                                                  outs[0], oOff, oSize, one4);
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(1),
                                                  outs[1], rOff, rSize, one3);
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(2),
                                                  outs[2], rOff, rSize, one3);
          }
        }
        if (splits == 1) {
          scf::YieldOp::create(b, loc, forall.getResults());
          return;
        }

        // Merge the splits: m = max m_s, w_s = 2^(m_s - m),
        // out = sum w_s O_s / sum w_s l_s.
        Value oPart = forall.getResult(0), mPart = forall.getResult(1),
              lPart = forall.getResult(2);
        auto merge = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{numBlocks}, ValueRange{acc[0]},
            std::nullopt);
        {
          OpBuilder::InsertionGuard guard2(b);
          b.setInsertionPoint(merge.getTerminator());
          Value block = merge.getInductionVar(0);
          Value oRow = memref::AllocaOp::create(
              b, loc, MemRefType::get({paddedDv}, f32), b.getI64IntegerAttr(64));
          bool normalize = p.score.getNormalize();
          writeBlock(
              batch, kvHead, merge.getRegionIterArgs()[0], block, merge,
              [&](Value r) -> std::pair<Value, Value> {
                // Computes the merged row into oRow; returns l and whether
                // it is 0.
                Value mMax = fconst(tracksMax ? negInf : 0.0);
                if (tracksMax)
                  for (int64_t sp = 0; sp < splits; ++sp)
                    mMax = arith::MaximumFOp::create(
                        b, loc, mMax,
                        tensor::ExtractOp::create(
                            b, loc, mPart, ValueRange{idx(sp), block, r}));
                Value mSafe = select(
                    arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mMax, fconst(negInf)),
                    fconst(0.0), mMax);
                Value l = fconst(0.0);
                SmallVector<Value> o(valueVecs, vconst(0.0));
                for (int64_t sp = 0; sp < splits; ++sp) {
                  Value w = fconst(1.0);
                  if (tracksMax)
                    w = math::Exp2Op::create(
                        b, loc,
                        arith::SubFOp::create(
                            b, loc,
                            tensor::ExtractOp::create(
                                b, loc, mPart, ValueRange{idx(sp), block, r}),
                            mSafe));
                  Value ls = tensor::ExtractOp::create(
                      b, loc, lPart, ValueRange{idx(sp), block, r});
                  l = arith::AddFOp::create(
                      b, loc, l, arith::MulFOp::create(b, loc, w, ls));
                  Value wv = vector::BroadcastOp::create(b, loc, vecType, w);
                  for (int64_t e = 0; e < valueVecs; ++e) {
                    Value os = vector::TransferReadOp::create(
                        b, loc, vecType, oPart,
                        ValueRange{idx(sp), block, r, idx(e * lanes)},
                        fconst(0.0), ArrayRef<bool>{true});
                    o[e] = vector::FMAOp::create(b, loc, wv, os, o[e]);
                  }
                }
                for (int64_t e = 0; e < valueVecs; ++e)
                  vector::StoreOp::create(b, loc, o[e], oRow,
                                          ValueRange{idx(e * lanes)});
                if (!normalize)
                  return {Value(), Value()};
                Value empty = arith::CmpFOp::create(
                    b, loc, arith::CmpFPredicate::OEQ, l, fconst(0.0));
                return {l, empty};
              },
              [&](Value, int64_t e) -> Value {
                return vector::LoadOp::create(b, loc, vecType, oRow,
                                              ValueRange{idx(e * lanes)});
              });
        }
        scf::YieldOp::create(b, loc, merge.getResults());
      });
  return headLoop.getResult(0);
}

} // namespace

/// Vectors of one micro-tile of scores (micro_q x block_k / lanes), all
/// unrolled in the IR: 128 compile in about a second, 2048 in minutes.
static constexpr int64_t kMaxMicroTileVectors = 128;

int64_t mlir::attn::flashKernelStackBytes(const AttentionProblem &p,
                                          const FlashKernelConfig &c) {
  int64_t rows = p.groupSize() * c.blockQ;
  int64_t paddedRows = (rows + c.microQ - 1) / c.microQ * c.microQ;
  int64_t paddedDv = (p.valueDim + c.lanes - 1) / c.lanes * c.lanes;
  double floats = double(paddedRows) * (paddedDv + 2) + c.microQ * c.blockK +
                  (c.packKeys ? 0 : c.microQ * c.lanes * c.lanes) +
                  (c.splits > 1 ? paddedDv : 0);
  return saturatingBytes(4 * floats);
}

void mlir::attn::fitFlashBlockQToStack(const AttentionProblem &p,
                                       FlashKernelConfig &c) {
  // Down to one row per head where a task must be that small (many query
  // heads per KV head): micro-tiles then span heads.
  while (c.blockQ > 1 && flashKernelStackBytes(p, c) > kTaskScratchLimitBytes)
    c.blockQ = std::max<int64_t>(1, c.blockQ / 2);
}

bool mlir::attn::flashKernelCanCompute(const AttentionProblem &p,
                                       FlashKernelConfig config,
                                       std::string &reason) {
  if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim) {
    reason = "head dimensions D = " + std::to_string(p.headDim) +
             ", Dv = " + std::to_string(p.valueDim) + " exceed the kernel's " +
             std::to_string(kMaxFlashHeadDim);
    return false;
  }
  config.blockQ = 1;
  if (int64_t bytes = flashKernelStackBytes(p, config);
      bytes > kTaskScratchLimitBytes) {
    reason = "a task of one query row per head takes " +
             std::to_string(bytes >> 10) + " KiB of stack scratch, more than " +
             "the " + std::to_string(kTaskScratchLimitBytes >> 10) +
             " KiB limit";
    return false;
  }
  return true;
}

LogicalResult mlir::attn::verifyFlashKernelConfig(Operation *op,
                                                  StringRef strategy,
                                                  const AttentionProblem &p,
                                                  const FlashKernelConfig &c) {
  auto bad = [&](StringRef name, int64_t value) {
    return op->emitOpError()
           << strategy << " strategy parameter " << name << " = " << value
           << " is out of range: ";
  };
  int64_t maxBlockK = 16 * c.lanes;
  if (c.blockK < c.lanes || c.blockK > maxBlockK || c.blockK % c.lanes != 0)
    return bad("block_k", c.blockK)
           << "it must be a multiple of " << c.lanes << " (the vector lanes) "
           << "from " << c.lanes << " to " << maxBlockK;
  if (c.microQ < 1 || c.microQ > 32)
    return bad("micro_q", c.microQ) << "it must be from 1 to 32";
  int64_t registers = c.microQ * (c.blockK / c.lanes);
  if (registers > kMaxMicroTileVectors)
    return bad("micro_q", c.microQ)
           << "micro_q x block_k / " << c.lanes << " = " << registers
           << " vectors, more than the " << kMaxMicroTileVectors
           << " that one micro-tile may hold";
  if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim)
    return op->emitOpError()
           << strategy << " strategy: head dimensions D = " << p.headDim
           << ", Dv = " << p.valueDim << " exceed the CPU kernel's "
           << kMaxFlashHeadDim << " (it unrolls them in vectors)";
  if (c.blockQ < 1 || c.blockQ > (int64_t(1) << 20))
    return bad("block_q", c.blockQ) << "it must be from 1 to 1048576";
  if (int64_t bytes = flashKernelStackBytes(p, c);
      bytes > kTaskScratchLimitBytes)
    return bad("block_q", c.blockQ)
           << "a task's scratch (O, m, l of " << p.groupSize()
           << " heads x block_q rows, Dv = " << p.valueDim << ") takes "
           << (bytes >> 10) << " KiB of stack, more than the "
           << (kTaskScratchLimitBytes >> 10) << " KiB limit";
  if (c.splits < 1 || c.splits > 4096)
    return bad("splits", c.splits) << "it must be from 1 to 4096";
  return success();
}

Value mlir::attn::buildFlashAttention(RewriterBase &rewriter,
                                      const AttentionProblem &problem,
                                      const FlashKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  if (!problem.isNeighborhood) {
    FlashEmitter emitter(rewriter, problem, config);
    return emitter.build();
  }
  // A neighborhood is attention over the flattened positions whose allowed
  // keys follow NATTEN's rule, computed per element.
  return buildOnFlattenedPositions(
      rewriter, problem,
      [&](const AttentionProblem &flat, ArrayRef<Value> extents) {
        FlashEmitter emitter(rewriter, flat, config);
        emitter.spatialExtents.assign(extents.begin(), extents.end());
        return emitter.build();
      });
}
