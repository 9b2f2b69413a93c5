//===- QuantizedKV.h - Dequantizing i8 and f8E4M3FN keys and values -*- C++ -*-===//
//
// Quantized K/V (attn.attention's k_scale / v_scale): an i8 element is
// scale[b, h, j] * int, an f8E4M3FN element scale[h] * its float value. The
// flash kernels (CPU and GPU) dequantize each element as they read it; every
// other strategy computes the op with f32 copies of K and V that
// materializeDequantizedKV writes first.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_QUANTIZEDKV_H
#define ATTN_STRATEGIES_COMMON_QUANTIZEDKV_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// The f32 values of `raw` (a scalar or a vector of i8 or f8E4M3FN), not
/// scaled. f8E4M3FN is decoded from its bits: normal and subnormal numbers
/// exactly, its NaN as NaN.
Value decodeQuantized(OpBuilder &b, Location loc, Value raw);

/// What decodeQuantizedOverFactor leaves out: 1 for i8, 256 for f8E4M3FN.
double quantizedDecodeFactor(Type element);

/// decodeQuantized(raw) / quantizedDecodeFactor, exactly: the cheapest
/// decoding, for kernels that fold the factor into the scale they apply
/// to a sum.
Value decodeQuantizedOverFactor(OpBuilder &b, Location loc, Value raw);

/// decodeQuantized(raw) times `scale` (an f32 scalar, broadcast over a
/// vector).
Value dequantize(OpBuilder &b, Location loc, Value raw, Value scale);

/// The f32 scale of key (or value) `key` of (batch, kvHead): `scales` (a
/// tensor, or a memref in a GPU kernel) is [B, Hkv, Lk] for i8 and [Hkv]
/// for f8E4M3FN, as `elementType` says.
Value quantizationScale(OpBuilder &b, Location loc, Value scales,
                        Type elementType, Value batch, Value kvHead,
                        Value key);

/// `operand` ([B, Hkv, Lk, D], i8 or f8E4M3FN) times its `scales`, as a
/// new tensor of `element` written by a linalg.generic.
Value dequantizeToTensor(OpBuilder &b, Location loc, Value operand,
                         Value scales, Type element);

/// Replaces `op` by the same attn.attention over K and V dequantized into
/// `query`'s element type (O(L·D) copies, written by linalg.generic ops
/// before it) and returns the new op; `op` itself when it has no scales.
AttentionOp materializeDequantizedKV(RewriterBase &rewriter, AttentionOp op);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_QUANTIZEDKV_H
