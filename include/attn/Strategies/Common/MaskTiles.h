//===- MaskTiles.h - A mask operand cut into query and key tiles *- C++ -*-===//
//
// What the block-sparse kernels of every target read of a mask operand: the
// mask padded with false to whole (block_q x block_k) tiles, and how many
// keys each tile allows, counted at run time (one pass over the mask), so
// that a kernel skips the tiles that allow none.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MASKTILES_H
#define ATTN_STRATEGIES_COMMON_MASKTILES_H

#include "mlir/IR/Builders.h"

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
/// ceil(Lk / blockK)). With `withCounts`, also the counts per tile.
MaskTiles buildMaskTiles(OpBuilder &b, Location loc, Value mask,
                         int64_t blockQ, int64_t blockK, Value numBlocks,
                         Value numTiles, bool withCounts);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MASKTILES_H
