//===- MaskTiles.h - A mask operand cut into query and key tiles *- C++ -*-===//
//
// What the block-sparse kernels of every target read of a mask operand: the
// mask padded with false to whole (block_q x block_k) tiles, and how many
// keys each tile allows, so that a kernel skips the tiles that allow none:
// counted at run time (one pass over the mask per call), or at compile time
// when the mask is a constant.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MASKTILES_H
#define ATTN_STRATEGIES_COMMON_MASKTILES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::attn {

struct MaskTiles {
  /// tensor<Bm x Hm x ? x ? x i1>: the mask, padded to numBlocks * blockQ
  /// rows and numTiles * blockK keys (the mask itself, cast, when its static
  /// lengths are whole tiles already).
  Value padded;
  /// tensor<Bm x Hm x numBlocks x numTiles x i32>: the allowed keys of each
  /// tile, or null when not asked for.
  Value counts;
};

/// `mask` ([Bm, Hm, Lq, Lk] i1) in tiles of `blockQ` x `blockK`;
/// `numBlocks` and `numTiles` are index values (ceil(Lq / blockQ),
/// ceil(Lk / blockK)). With `withCounts`, also the counts per tile: an
/// arith.constant when `mask` is a constant of static shape.
MaskTiles buildMaskTiles(OpBuilder &b, Location loc, Value mask,
                         int64_t blockQ, int64_t blockK, Value numBlocks,
                         Value numTiles, bool withCounts);

/// The allowed keys of each (blockQ x blockK) tile of a constant mask of
/// static `shape` [Bm, Hm, Lq, Lk], row-major over [Bm, Hm, ceil(Lq /
/// blockQ), ceil(Lk / blockK)].
SmallVector<int32_t> countConstantMaskTiles(DenseElementsAttr mask,
                                            ArrayRef<int64_t> shape,
                                            int64_t blockQ, int64_t blockK);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MASKTILES_H
