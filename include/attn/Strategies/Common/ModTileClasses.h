//===- ModTileClasses.h - Tiles classified from a mask_mod ------*- C++ -*-===//
//
// Which (query block, key tile) pairs an attn.attention's mask_mod leaves
// empty, allows completely, or allows in part. The mod's body is evaluated
// on intervals: b and h are single values, i ranges over the block's rows
// and j over the tile's keys, and each i1 value becomes a pair (may be
// true, must be true). A table read at an index that is the i or j argument
// itself takes the table's minimum and maximum over that block or tile (a
// summary built once per call, shared by every head). Anything the
// evaluation does not model, and any integer that could leave its type's
// range, is "any value", so a class is never wrong, at worst partial.
//
// A mod that reads only constants, on static shapes, is classified at
// compile time into a constant; any other is classified at run time, once
// per call, before the kernel.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MODTILECLASSES_H
#define ATTN_STRATEGIES_COMMON_MODTILECLASSES_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir::attn {

/// The class of a (query block, key tile) under a mask_mod.
enum class TileClass : int8_t { Empty = 0, Partial = 1, Full = 2 };

/// The mask_mod of an attn.attention (or of its tile op) evaluated on
/// tiles. Construction builds, at the builder's insertion point, the
/// summaries of the tables it reads along i (blocks of `blockQ` rows, and
/// groups of `rowGroup` rows when rowGroup > 0) and along j (tiles of
/// `blockK` keys); `lq` and `lk` are the lengths (index values).
class ModTileClassifier {
public:
  ModTileClassifier(OpBuilder &b, Location loc, const AttentionProblem &problem,
                    int64_t blockQ, int64_t blockK, int64_t rowGroup,
                    Value lq, Value lk);

  /// The classes as a tensor [Bm, Hm, ceil(Lq / blockQ), ceil(Lk / blockK)]
  /// of TileClass values of integer type `type` (i8 on the CPU; i32 for a
  /// Vulkan kernel, whose ABI passes no i8), where Bm is the batch when the
  /// mod reads `b` (else 1) and Hm the query heads when it reads `h` (else
  /// 1): a constant when classesAtCompileTime gives them, else computed here.
  Value classes(IntegerType type);

  /// {may, must} (i1): whether the mod may be, and must be, true for batch
  /// `batch`, query head `head`, every row in [iLo, iHi] (fewer than
  /// rowGroup rows) and every key of tile `tile`.
  std::pair<Value, Value> rowsInTile(Value batch, Value head, Value iLo,
                                     Value iHi, Value tile);

  /// A table's minimum and maximum (i64) over blocks of `size` along
  /// `dim`, read where that index is the mod's argument `arg` (2: i, 3: j);
  /// `blocks` is their number.
  struct Summary {
    Value table;
    unsigned dim;
    int arg;
    int64_t size;
    Value min, max, blocks;
  };

private:
  OpBuilder &b;
  Location loc;
  const AttentionProblem &problem;
  int64_t blockQ, blockK, rowGroup;
  Value lq, lk;
  SmallVector<Summary> summaries;
};

/// The classes in the layout above, computed here, when the mod reads only
/// constants and the sizes it needs are static; std::nullopt otherwise.
std::optional<SmallVector<int8_t>>
classesAtCompileTime(const AttentionProblem &problem, int64_t blockQ,
                     int64_t blockK);

/// For a mask_mod body that reads only constants and neither b nor h: the
/// keys each of the `lq` queries allows as one interval [lo, hi] of [0, lk)
/// (lo > hi: none), found by bisecting each row's keys. std::nullopt when a
/// row's keys are not one interval, when a single key cannot be decided, or
/// after `budget` evaluations.
std::optional<SmallVector<std::pair<int64_t, int64_t>>>
maskRowIntervals(Block &body, int64_t lq, int64_t lk, int64_t budget);

/// The (query, key) pairs that the mask_mod and the op's causal, window and
/// sink rules allow together, summed over every batch and query head, when
/// the mod reads only constants and the shapes are static: each row's keys
/// are bisected until every range is allowed or not (beyond 8192 queries,
/// 8192 evenly spaced rows stand for the rest). std::nullopt when a single
/// key cannot be decided or after `budget` evaluations.
std::optional<int64_t>
allowedPairsAtCompileTime(const AttentionProblem &problem, int64_t budget);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MODTILECLASSES_H
