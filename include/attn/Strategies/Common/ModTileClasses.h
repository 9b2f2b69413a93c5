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

#include <optional>

namespace mlir::attn {

/// The class of a (query block, key tile) under a mask_mod.
enum class TileClass : int8_t { Empty = 0, Partial = 1, Full = 2 };

/// The classes of `problem`'s mask_mod (an attn.attention or its tile op)
/// as an i8 tensor [Bm, Hm, ceil(Lq / blockQ), ceil(Lk / blockK)] of
/// TileClass, where Bm is the batch when the mod reads `b` (else 1) and Hm
/// the query heads when it reads `h` (else 1). `lq` and `lk` are the
/// lengths (index values). A constant when `classesAtCompileTime` gives
/// them.
Value buildModTileClasses(OpBuilder &b, Location loc,
                          const AttentionProblem &problem, int64_t blockQ,
                          int64_t blockK, Value lq, Value lk);

/// The classes in the layout above, computed here, when the mod reads only
/// constants and the sizes it needs are static; std::nullopt otherwise.
std::optional<SmallVector<int8_t>>
classesAtCompileTime(const AttentionProblem &problem, int64_t blockQ,
                     int64_t blockK);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MODTILECLASSES_H
