//===- FlashMicroKernel.cpp - The CPU flash micro-kernel ------------------===//
//
// Packed K tiles, register-blocked Q K^T (micro_q x block_k), and one
// micro-tile of the online softmax and P V.
//
//===----------------------------------------------------------------------===//

#include "FlashEmitter.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Strategies/Common/OnlineSoftmax.h"
#include "attn/Strategies/Common/PagedKV.h"
#include "attn/Strategies/Common/QuantizedKV.h"

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
using namespace mlir::attn::flash;

Value FlashEmitter::featureMap(Value x) {
  return p.score.getFunction()->featureMap(b, loc, x);
}

Value FlashEmitter::keyValueToF32(Value operand, Value scales, Value raw,
                                  ArrayRef<Value> row) {
  if (!scales)
    return toF32(raw);
  Type element = cast<RankedTensorType>(operand.getType()).getElementType();
  return dequantize(
      b, loc, raw,
      quantizationScale(b, loc, scales, element, row[0], row[1], row[2]));
}

bool FlashEmitter::decodesInPairs(Value operand, int64_t dim) const {
  auto type = cast<RankedTensorType>(operand.getType());
  return isa<Float8E4M3FNType>(type.getElementType()) &&
         dim % (2 * cfg.lanes) == 0;
}

std::pair<Value, Value>
FlashEmitter::decodedPair(Value operand, ArrayRef<Value> row, int64_t first) {
  int64_t lanes = cfg.lanes;
  Type element = cast<RankedTensorType>(operand.getType()).getElementType();
  Value raw = vector::TransferReadOp::create(
      b, loc, VectorType::get({2 * lanes}, element), operand,
      ValueRange{row[0], row[1], row[2], idx(first * lanes)},
      arith::ConstantOp::create(b, loc, b.getZeroAttr(element)),
      ArrayRef<bool>{true});
  Value decoded = decodeQuantizedOverFactor(b, loc, raw);
  auto half = [&](int64_t offset) -> Value {
    return vector::ExtractStridedSliceOp::create(b, loc, decoded, {offset},
                                                 {lanes}, {1});
  };
  return {half(0), half(lanes)};
}

void FlashEmitter::prefetchRows(ArrayRef<Value> row) {
  for (Value buffer : {keyCacheBuffer, valueCacheBuffer}) {
    auto type = cast<MemRefType>(buffer.getType());
    // Elements of one 64-byte cache line.
    int64_t perLine = std::max<int64_t>(
        1, 64 * 8 / type.getElementType().getIntOrFloatBitWidth());
    for (int64_t d = 0; d < type.getShape().back(); d += perLine)
      memref::PrefetchOp::create(b, loc, buffer,
                                 ValueRange{row[0], row[1], row[2], idx(d)},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
  }
}

SmallVector<Value> FlashEmitter::tileKeyRow(Value batch, Value kvHead,
                                            Value kvStart, Value j) {
  Value key = add(kvStart, j);
  if (!tilePages)
    return keyRow(batch, kvHead, key);
  return {memref::LoadOp::create(b, loc, tilePages, ValueRange{j}), kvHead,
          arith::RemUIOp::create(b, loc, key, idx(p.pageSize))};
}

void FlashEmitter::fillTilePages(Value batch, Value kvStart) {
  // The last key's page past Lk; a page does not depend on the head.
  Value lastKey = sub(lk, idx(1));
  forLoop(idx(0), idx(cfg.blockK), idx(1), [&](Value j) {
    Value key = minI(add(kvStart, j), lastKey);
    memref::StoreOp::create(b, loc, keyRow(batch, idx(0), key)[0], tilePages,
                            ValueRange{j});
  });
}

SmallVector<Value> FlashEmitter::prefetchedRow(Value batch, Value kvHead,
                                               Value key) {
  Value lastKey = sub(lk, idx(1));
  if (taskHeads == 1)
    return keyRow(batch, kvHead, minI(add(key, idx(kPrefetchKeys)), lastKey));
  // About kPrefetchKeys keys' rows ahead: the same key of a later head,
  // or of the first heads a tile on.
  int64_t ahead = std::max<int64_t>(1, kPrefetchKeys / cfg.blockK);
  Value next = add(kvHead, idx(ahead));
  Value tiles = div(next, idx(taskHeads));
  return keyRow(batch, rem(next, idx(taskHeads)),
                minI(add(key, mul(tiles, idx(cfg.blockK))), lastKey));
}

SmallVector<Value> FlashEmitter::keyRow(Value batch, Value kvHead, Value key) {
  if (!p.isPaged())
    return {batch, kvHead, key};
  return pagedKeyRow(b, loc, p.pageTable, p.key, p.pageSize, batch, kvHead,
                     key);
}

/// The transpose of the square matrix whose rows are `rows` (n vectors of
/// n lanes, n a power of 2): log2(n) rounds of two-source shuffles, each
/// swapping the off-diagonal s x s blocks of every 2s x 2s block (s = n/2,
/// n/4, ..., 1), n shuffles a round.
static SmallVector<Value> transposeSquare(OpBuilder &b, Location loc,
                                          SmallVector<Value> rows) {
  int64_t n = rows.size();
  for (int64_t s = n / 2; s >= 1; s /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t l = 0; l < n; ++l) {
      low.push_back((l & s) == 0 ? l : n + l - s);
      high.push_back((l & s) == 0 ? l + s : n + l);
    }
    for (int64_t i = 0; i < n; ++i) {
      if (i & s)
        continue;
      Value x = rows[i], y = rows[i + s];
      rows[i] = vector::ShuffleOp::create(b, loc, x, y, low);
      rows[i + s] = vector::ShuffleOp::create(b, loc, x, y, high);
    }
  }
  return rows;
}

Value FlashEmitter::packedTiles(
    RankedTensorType tileType,
    function_ref<Value(Value tile, Value tileTensor)> fill) {
  SmallVector<int64_t> shape(tileType.getShape());
  shape[0] = ShapedType::kDynamic;
  Value packed = tensor::EmptyOp::create(
      b, loc, RankedTensorType::get(shape, tileType.getElementType()),
      ValueRange{numTiles});
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{numTiles},
                                      ValueRange{packed}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value tile = forall.getInductionVar(0);
  // Each tile is filled in place in the shared tensor (its slice, written
  // back where it came from), so that nothing is allocated in the parallel
  // region.
  SmallVector<OpFoldResult> offsets(tileType.getRank(), b.getIndexAttr(0));
  offsets[0] = tile;
  SmallVector<OpFoldResult> sizes,
      strides(tileType.getRank(), b.getIndexAttr(1));
  for (int64_t size : tileType.getShape())
    sizes.push_back(b.getIndexAttr(size));
  Value shared = forall.getRegionIterArgs()[0];
  Value filled =
      fill(tile, tensor::ExtractSliceOp::create(b, loc, tileType, shared,
                                                offsets, sizes, strides));
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, filled, shared, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

Value FlashEmitter::keyRowVector(
    Value operand, Value batch, Value kvHead, Value key, int64_t first,
    VectorType type,
    function_ref<Value(Value raw, ArrayRef<Value> row)> convert) {
  // Keys past the last read the last one's row (in bounds) and become 0.
  SmallVector<Value> row = keyRow(batch, kvHead, minI(key, sub(lk, idx(1))));
  SmallVector<Value> at(row);
  at.push_back(idx(first));
  Type element = type.getElementType();
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
  Value vec = vector::TransferReadOp::create(b, loc, type, operand, at, zero,
                                             ArrayRef<bool>{false});
  if (convert)
    vec = convert(vec, row);
  auto resultType = cast<VectorType>(vec.getType());
  return select(
      cmpI(arith::CmpIPredicate::slt, key, lk), vec,
      arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(resultType,
                                 b.getZeroAttr(resultType.getElementType()))));
}

Value FlashEmitter::packTransposedKeys(
    RankedTensorType tileType, int64_t columns,
    function_ref<Value(Value key, int64_t group)> keyColumns,
    function_ref<Value(Value column)> stored) {
  // lanes keys x lanes columns at a time, transposed in registers: row x of
  // the transpose is column x of the lanes keys.
  int64_t bk = cfg.blockK, lanes = cfg.lanes;
  int64_t groups = (columns + lanes - 1) / lanes;
  int64_t perKey = tileType.getDimSize(2) / bk;
  return packedTiles(tileType, [&](Value tile, Value tileTensor) -> Value {
    auto loop = scf::ForOp::create(
        b, loc, idx(0), idx(bk / lanes), idx(1), ValueRange{tileTensor},
        [&](OpBuilder &nb, Location, Value c, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value out = acc[0];
          Value firstKey = add(mul(tile, idx(bk)), mul(c, idx(lanes)));
          for (int64_t g = 0; g < groups; ++g) {
            SmallVector<Value> rows;
            for (int64_t i = 0; i < lanes; ++i)
              rows.push_back(keyColumns(add(firstKey, idx(i)), g));
            rows = transposeSquare(b, loc, rows);
            for (int64_t i = 0; i < lanes && g * lanes + i < columns; ++i)
              out = vector::TransferWriteOp::create(
                        b, loc, stored(rows[i]), out,
                        ValueRange{idx(0), idx(g * lanes + i),
                                   mul(c, idx(perKey * lanes))},
                        ArrayRef<bool>{true})
                        .getResult();
          }
          scf::YieldOp::create(b, loc, out);
        });
    return loop.getResult(0);
  });
}

Value FlashEmitter::packKeyPairs(Value batch, Value kvHead) {
  // Each key row as i32 words, one bf16 pair of D each.
  int64_t lanes = cfg.lanes;
  Type bf16 = b.getBF16Type();
  VectorType halves = VectorType::get({2 * lanes}, bf16);
  VectorType wordVec = VectorType::get({lanes}, i32);
  return packTransposedKeys(
      RankedTensorType::get({1, p.headDim / 2, 2 * cfg.blockK}, bf16),
      p.headDim / 2,
      [&](Value key, int64_t group) -> Value {
        return vector::BitCastOp::create(
            b, loc, wordVec,
            keyRowVector(p.key, batch, kvHead, key, 2 * lanes * group, halves));
      },
      [&](Value words) -> Value {
        return vector::BitCastOp::create(b, loc, halves, words);
      });
}

Value FlashEmitter::packValuePairs(Value batch, Value kvHead) {
  // Two value rows, lanes columns at a time, interleaved by one shuffle.
  int64_t bk = cfg.blockK, lanes = cfg.lanes;
  Type bf16 = b.getBF16Type();
  VectorType columns = VectorType::get({lanes}, bf16);
  SmallVector<int64_t> interleave;
  for (int64_t x = 0; x < lanes; ++x) {
    interleave.push_back(x);
    interleave.push_back(lanes + x);
  }
  auto tileType = RankedTensorType::get({1, bk / 2, 2 * paddedDv}, bf16);
  return packedTiles(tileType, [&](Value tile, Value tileTensor) -> Value {
    auto loop = scf::ForOp::create(
        b, loc, idx(0), idx(bk / 2), idx(1), ValueRange{tileTensor},
        [&](OpBuilder &nb, Location, Value pair, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value out = acc[0];
          Value key = add(mul(tile, idx(bk)), mul(pair, idx(2)));
          for (int64_t e = 0; e < valueVecs; ++e) {
            Value first =
                keyRowVector(p.value, batch, kvHead, key, e * lanes, columns);
            Value second = keyRowVector(p.value, batch, kvHead,
                                        add(key, idx(1)), e * lanes, columns);
            out = vector::TransferWriteOp::create(
                      b, loc,
                      vector::ShuffleOp::create(b, loc, first, second,
                                                interleave),
                      out, ValueRange{idx(0), pair, idx(2 * lanes * e)},
                      ArrayRef<bool>{true})
                      .getResult();
          }
          scf::YieldOp::create(b, loc, out);
        });
    return loop.getResult(0);
  });
}

Value FlashEmitter::packKeys(Value batch, Value kvHead) {
  if (cfg.bf16Dot)
    return packKeyPairs(batch, kvHead);
  // In f32: dequantized, and through the feature map.
  int64_t lanes = cfg.lanes;
  VectorType raw = VectorType::get(
      {lanes}, cast<RankedTensorType>(p.key.getType()).getElementType());
  auto toPacked = [&](Value vec, ArrayRef<Value> row) -> Value {
    Value v = keyValueToF32(p.key, p.keyScale, vec, row);
    return featureProduct ? featureMap(v) : v;
  };
  return packTransposedKeys(
      RankedTensorType::get({1, p.headDim, cfg.blockK}, f32), p.headDim,
      [&](Value key, int64_t group) -> Value {
        return keyRowVector(p.key, batch, kvHead, key, group * lanes, raw,
                            toPacked);
      },
      [](Value column) { return column; });
}

Value FlashEmitter::featureQueries(Value batch, Value kvHead) {
  auto type = RankedTensorType::get({group, ShapedType::kDynamic, p.headDim},
                                    f32);
  return generateTensor(
      b, loc, type, lq, [&](OpBuilder &, Location l, ValueRange at) {
        Value g = at[0], i = at[1], dd = at[2];
        Value head = add(mul(kvHead, idx(group)), g);
        Value v = toF32(tensor::ExtractOp::create(
            b, l, p.query, ValueRange{batch, head, i, dd}));
        v = arith::MulFOp::create(b, l, v, fconst(p.scale));
        return featureMap(v);
      });
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
  if (cfg.bf16Dot) {
    VectorType pairType = VectorType::get({2}, b.getBF16Type());
    VectorType keysType = VectorType::get({2 * cfg.lanes}, b.getBF16Type());
    return emitPackedScoresBf16(
        b, loc, cfg, p.headDim,
        [&](int64_t r, Value d2) {
          Value pair = vector::TransferReadOp::create(
              b, loc, pairType, p.query,
              ValueRange{batch, rows.head[r], rows.row[r], mul(d2, idx(2))},
              arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type())),
              ArrayRef<bool>{true});
          return splatBf16Pair(b, loc, pair, cfg.lanes);
        },
        [&](Value d2, int64_t c) -> Value {
          return vector::TransferReadOp::create(
              b, loc, keysType, packedKeys,
              ValueRange{tile, d2, idx(c * 2 * cfg.lanes)},
              arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type())),
              ArrayRef<bool>{true});
        });
  }
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
  // iteration (so that few values are live). Each key's partial sums (one
  // vector per row) are parked in a stack buffer that holds the whole tile,
  // so that none stays live across the loop, and are then folded into one
  // vector per row and `lanes` keys by a transposing reduction. K is read
  // once, in its own layout, one vector at a time: each goes into every
  // row's sum before the next is read, so that only the rows' sums stay
  // live. Quantized K is decoded as it is read and its scale multiplies each
  // row's sum once per key (for feature maps, which are not linear, each
  // element is dequantized whole).
  int64_t mr = cfg.microQ, lanes = cfg.lanes;
  int64_t dVecs = (p.headDim + lanes - 1) / lanes;
  bool dInBounds = p.headDim % lanes == 0;
  auto keyType = cast<RankedTensorType>(p.key.getType());
  VectorType rawKey = VectorType::get({lanes}, keyType.getElementType());
  auto queryType = cast<RankedTensorType>(queries.getType());
  VectorType rawQuery = VectorType::get({lanes}, queryType.getElementType());
  Value lastKey = sub(lk, idx(1));
  // Each row's sum in two chains (vectors of D taken in turn) while the
  // sums, the key vector and a query vector fit in 16 registers: one chain
  // of dVecs dependent FMAs per row would bound the loop by the FMA latency
  // rather than its throughput.
  int64_t chains = mr <= 4 && dVecs >= 2 ? 2 : 1;
  bool foldScale = p.keyScale && !featureProduct;
  bool pairKeys = foldScale && decodesInPairs(p.key, p.headDim);
  // Quantized K: two keys per iteration, sharing each query vector read,
  // where the target has 32 vector registers (AVX-512) for both keys' sums.
  // Decoding makes that loop bound by loads and vector operations rather
  // than memory, and the query reads halve (i8 decode, Hq 32, Hkv 8, D 128:
  // median 2.85 -> 2.51 ms). f32 K, which streams from memory, measured
  // slower so (6.9 -> 7.8 ms); with 16 registers the second key's sums
  // would spill.
  int64_t keysPerStep = foldScale && lanes >= 16 && cfg.blockK % 2 == 0 &&
                                2 * mr * chains + 6 <= 32
                            ? 2
                            : 1;
  scf::ForOp::create(
      b, loc, idx(0), idx(cfg.blockK), idx(keysPerStep), ValueRange{},
      [&](OpBuilder &nb, Location, Value k0, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value keyZero = arith::ConstantOp::create(
            b, loc, b.getZeroAttr(keyType.getElementType()));
        Value queryZero = arith::ConstantOp::create(
            b, loc, b.getZeroAttr(queryType.getElementType()));
        // Per key u of the step: its index in the tile, its row, its sums
        // (acc[u][r * chains + chain]) and the second vector of a decoded
        // pair.
        SmallVector<Value> kk(keysPerStep);
        SmallVector<SmallVector<Value>> row(keysPerStep);
        SmallVector<SmallVector<Value>> acc(keysPerStep,
                                            SmallVector<Value>(mr * chains));
        SmallVector<Value> pairedKey(keysPerStep);
        for (int64_t u = 0; u < keysPerStep; ++u) {
          kk[u] = add(k0, idx(u));
          Value key = minI(add(kvStart, kk[u]), lastKey);
          if (keyCacheBuffer)
            prefetchRows(prefetchedRow(batch, kvHead, key));
          row[u] = tileKeyRow(batch, kvHead, kvStart, sub(key, kvStart));
        }
        for (int64_t dv = 0; dv < dVecs; ++dv) {
          SmallVector<Value> kv(keysPerStep);
          for (int64_t u = 0; u < keysPerStep; ++u) {
            if (pairKeys && dv % 2 == 1) {
              kv[u] = pairedKey[u];
            } else if (pairKeys) {
              std::tie(kv[u], pairedKey[u]) = decodedPair(p.key, row[u], dv);
            } else {
              Value raw = vector::TransferReadOp::create(
                  b, loc, rawKey, p.key,
                  ValueRange{row[u][0], row[u][1], row[u][2], idx(dv * lanes)},
                  keyZero, ArrayRef<bool>{dInBounds});
              kv[u] = foldScale ? decodeQuantizedOverFactor(b, loc, raw)
                                : keyValueToF32(p.key, p.keyScale, raw, row[u]);
            }
            if (featureProduct)
              kv[u] = featureMap(kv[u]);
          }
          for (int64_t r = 0; r < mr; ++r) {
            SmallVector<Value> at =
                featureProduct
                    ? SmallVector<Value>{rows.group[r], rows.row[r],
                                         idx(dv * lanes)}
                    : SmallVector<Value>{batch, rows.head[r], rows.row[r],
                                         idx(dv * lanes)};
            Value q = toF32(vector::TransferReadOp::create(
                b, loc, rawQuery, queries, at, queryZero,
                ArrayRef<bool>{dInBounds}));
            for (int64_t u = 0; u < keysPerStep; ++u) {
              Value &sum = acc[u][r * chains + dv % chains];
              sum =
                  sum ? vector::FMAOp::create(b, loc, q, kv[u], sum).getResult()
                      : arith::MulFOp::create(b, loc, q, kv[u]).getResult();
            }
          }
        }
        for (int64_t u = 0; u < keysPerStep; ++u) {
          // The key's scale (times the decode factor), once per key.
          Value keyScale;
          if (foldScale) {
            Type element = keyType.getElementType();
            Value scale = quantizationScale(b, loc, p.keyScale, element,
                                            row[u][0], row[u][1], row[u][2]);
            double factor = quantizedDecodeFactor(element);
            if (factor != 1.0)
              scale = arith::MulFOp::create(b, loc, scale, fconst(factor));
            keyScale = vector::BroadcastOp::create(b, loc, vecType, scale);
          }
          for (int64_t r = 0; r < mr; ++r) {
            Value sum = acc[u][r * chains];
            for (int64_t chain = 1; chain < chains; ++chain)
              sum = arith::AddFOp::create(b, loc, sum,
                                          acc[u][r * chains + chain]);
            if (keyScale)
              sum = arith::MulFOp::create(b, loc, sum, keyScale);
            vector::StoreOp::create(b, loc, sum, partBuf,
                                    ValueRange{idx(r), kk[u], idx(0)});
          }
        }
        scf::YieldOp::create(b, loc);
      });
  SmallVector<Value> s(mr * keyVecs);
  for (int64_t c = 0; c < keyVecs; ++c) {
    for (int64_t r = 0; r < mr; ++r) {
      SmallVector<Value> partials;
      for (int64_t kk = 0; kk < lanes; ++kk)
        partials.push_back(vector::LoadOp::create(
            b, loc, vecType, partBuf,
            ValueRange{idx(r), idx(c * lanes + kk), idx(0)}));
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
                                 Value oAcc, Value mRow, Value lRow, Value tRow,
                                 Value pBuf, Value partBuf, Value blockFull,
                                 Value modFull) {
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
      // Every element tested.
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
    // And the mask_mod allows the whole tile (its classes).
    if (p.maskMod && !p.isNeighborhood)
      full = modFull ? andI(full, modFull)
                     : arith::ConstantIntOp::create(b, loc, 0, 1);
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
  // The positions (i32) of key vector c of the tile.
  auto keyPositions = [&](int64_t c) -> Value {
    return lanePositions(add(kvStart, idx(c * lanes)));
  };
  auto ruleAllowed = [&](int64_t r, int64_t c) -> Value {
    Value jv = keyPositions(c);
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
  // The keys of vector c as the mods see them: lanes past the last key
  // (masked out) read the last key, so that the mods index their tables in
  // bounds.
  // Built once per key vector: every row of the micro-tile reads them.
  SmallVector<Value> modKeyCache(cfg.blockK / lanes);
  auto modKeys = [&](int64_t c) -> Value {
    if (modKeyCache[c])
      return modKeyCache[c];
    return modKeyCache[c] = clampPositions(keyPositions(c), sub(lk, idx(1)));
  };
  // The positions the mods see: (i, j), or a neighborhood's coordinates
  // with the lanes outside the window at the query's own position.
  auto modAt = [&](int64_t r, int64_t c) -> SmallVector<Value> {
    if (!p.isNeighborhood)
      return {rowIndex[r], modKeys(c)};
    return modPositionsInWindow(b, loc, p, spatialExtents, rowIndex[r],
                                modKeys(c),
                                neighborhoodAllowed(rows, r, modKeys(c)));
  };
  // The rules, the mask and the op's mask_mod at (b, h, i, j).
  auto allowed = [&](int64_t r, int64_t c) -> Value {
    Value ok = ruleAllowed(r, c);
    if (!p.maskMod)
      return ok;
    return applyMaskMod(b, loc, p, ok, batch, rows.head[r], modAt(r, c));
  };
  access.allowed = allowed;
  auto scoreMod = [&](int64_t r, int64_t c, Value s) -> Value {
    return applyScoreMod(b, loc, p, s, batch, rows.head[r], modAt(r, c));
  };
  if (p.scoreMod)
    access.scoreMod = scoreMod;
  auto valueType = cast<RankedTensorType>(p.value.getType());
  VectorType rawValue = VectorType::get({lanes}, valueType.getElementType());
  bool valueInBounds = p.valueDim % lanes == 0;
  // Key j's row, computed once per key where its first use puts it: every
  // other use (the value's vectors, its scale) follows in the same loop
  // body.
  DenseMap<Value, SmallVector<Value>> valueRows;
  auto valueRow = [&](Value j) -> ArrayRef<Value> {
    auto [it, inserted] = valueRows.try_emplace(j);
    if (inserted)
      it->second = tileKeyRow(batch, kvHead, kvStart, j);
    return it->second;
  };
  // Quantized V decoded two vectors at a time: the second vector of a pair
  // kept for its own request, which follows in the same loop body.
  bool pairValues = p.valueScale && decodesInPairs(p.value, p.valueDim);
  DenseMap<std::pair<Value, int64_t>, Value> pairedValues;
  auto value = [&](Value j, int64_t e) -> Value {
    if (pairValues) {
      if (Value kept = pairedValues.lookup({j, e}))
        return kept;
      int64_t first = e - e % 2;
      auto [v0, v1] = decodedPair(p.value, valueRow(j), first);
      pairedValues[{j, first + 1}] = v1;
      return e == first ? v0 : v1;
    }
    Value zero = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(valueType.getElementType()));
    ArrayRef<Value> row = valueRow(j);
    Value raw = vector::TransferReadOp::create(
        b, loc, rawValue, p.value,
        ValueRange{row[0], row[1], row[2], idx(e * lanes)}, zero,
        ArrayRef<bool>{valueInBounds});
    // Quantized V: decoded here, its scale applied to the weights.
    return p.valueScale ? decodeQuantizedOverFactor(b, loc, raw) : toF32(raw);
  };
  access.value = value;
  auto scaleWeight = [&](Value j, Value weight) -> Value {
    Type element = valueType.getElementType();
    double factor = quantizedDecodeFactor(element);
    if (factor != 1.0)
      weight = arith::MulFOp::create(b, loc, weight, fconst(factor));
    ArrayRef<Value> row = valueRow(j);
    return arith::MulFOp::create(b, loc, weight,
                                 quantizationScale(b, loc, p.valueScale,
                                                   element, row[0], row[1],
                                                   row[2]));
  };
  if (p.valueScale)
    access.scaleWeight = scaleWeight;
  auto valuePairs = [&](Value pair, int64_t e) -> Value {
    return vector::TransferReadOp::create(
        b, loc, VectorType::get({2 * lanes}, b.getBF16Type()), packedValues,
        ValueRange{tile, pair, idx(e * 2 * lanes)},
        arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type())),
        ArrayRef<bool>{true});
  };
  if (cfg.bf16Dot)
    access.valuePairs = valuePairs;
  emitOnlineSoftmaxStep(
      b, loc, p, cfg, s, access,
      MicroTileState{oAcc, mRow, lRow, pBuf, rowBase, tRow, pairBuf});
}
