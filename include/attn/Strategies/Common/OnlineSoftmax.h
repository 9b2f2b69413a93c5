//===- OnlineSoftmax.h - One micro-tile of the online softmax ---*- C++ -*-===//
//
// Shared by the strategies that tile keys: register-blocked scores from
// packed keys, and one online-softmax step of micro_q rows against a tile
// of block_k keys. The strategy says how to read bias, values and which keys
// are allowed; the step updates O, m and l in stack scratch.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_ONLINESOFTMAX_H
#define ATTN_STRATEGIES_COMMON_ONLINESOFTMAX_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/FlashKernel.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// How one micro-tile reads what it needs.
struct MicroTileAccess {
  /// i1: every (row, key) of the tile is allowed, so nothing is masked.
  Value full;
  /// Valid keys of the tile (<= block_k): the P V loop bound.
  Value keyCount;
  /// f32 vector of bias for row r, key vector c (only when the op has one).
  function_ref<Value(int64_t r, int64_t c)> bias;
  /// vector<lanes x i1>: allowed keys of row r, key vector c. Asked only in
  /// partial tiles; must also reject keys past keyCount.
  function_ref<Value(int64_t r, int64_t c)> allowed;
  /// f32 vector of value row `key` (tile-local), columns [e*lanes, +lanes).
  function_ref<Value(Value key, int64_t e)> value;
  /// bf16 dot products (FlashKernelConfig::bf16Dot): value rows 2 pair and
  /// 2 pair + 1 (tile-local), columns [e*lanes, +lanes), interleaved
  /// (vector<2 lanes x bf16>: row 2 pair's element x in lane 2x, the other
  /// row's in lane 2x + 1). Read in full tiles; else null.
  function_ref<Value(Value pair, int64_t e)> valuePairs;
  /// Quantized V: `weight` (f32) of value row `key` times that row's
  /// dequantization scale (`value` then gives the row without it); else
  /// null.
  function_ref<Value(Value key, Value weight)> scaleWeight;
  /// The op's score_mod on the score vector `s` of row r, key vector c
  /// (only when the op has one).
  function_ref<Value(int64_t r, int64_t c, Value s)> scoreMod;
};

/// Scratch of a task: O [rows, Dv padded], running max m and sum l [rows],
/// P [micro_q, block_k]; the micro-tile's first row; the entropy part t
/// [rows] when the op returns the entropy (else null); and with bf16 dot
/// products P again in bf16 [micro_q, block_k] (else null).
struct MicroTileState {
  Value oAcc, mRow, lRow, pBuf, rowBase;
  Value tRow = Value();
  Value pairBuf = Value();
};

/// s[r * (block_k / lanes) + c] = sum_d query(r, d) * key(d, c): micro_q x
/// block_k scores in vector registers, the D loop unrolled by cfg.unrollD.
SmallVector<Value> emitPackedScores(OpBuilder &b, Location loc,
                                    const FlashKernelConfig &cfg,
                                    int64_t headDim,
                                    function_ref<Value(int64_t r, Value d)> query,
                                    function_ref<Value(Value d, int64_t c)> key);

/// The same scores from bf16 pairs of the head dimension, as AVX512-BF16
/// dot products into f32 (x86vector.avx512.dot): queryPair(r, d2) is row
/// r's elements 2 d2 and 2 d2 + 1 in every pair of lanes and keyPair(d2, c)
/// those elements of key vector c's keys, interleaved (both vector<2 lanes
/// x bf16>). `headDim` is even; the loop over its pairs is unrolled by
/// cfg.unrollD.
SmallVector<Value>
emitPackedScoresBf16(OpBuilder &b, Location loc, const FlashKernelConfig &cfg,
                     int64_t headDim,
                     function_ref<Value(int64_t r, Value d2)> queryPair,
                     function_ref<Value(Value d2, int64_t c)> keyPair);

/// A vector<2 x bf16> repeated over vector<2 lanes x bf16>: one bf16 pair
/// for every f32 lane of a dot product.
Value splatBf16Pair(OpBuilder &b, Location loc, Value pair, int64_t lanes);

/// From raw scores `s` (q.k, or phi(q).phi(k) for feature maps): scale,
/// bias, softcap, score function, masking of partial tiles, the online
/// softmax update (or plain sums), and O = O alpha + P V.
void emitOnlineSoftmaxStep(OpBuilder &b, Location loc,
                           const AttentionProblem &p,
                           const FlashKernelConfig &cfg, SmallVector<Value> s,
                           const MicroTileAccess &access,
                           const MicroTileState &state);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_ONLINESOFTMAX_H
