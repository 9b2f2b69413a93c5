//===- FlashEmitter.h - The CPU flash kernel's IR emitter -------*- C++ -*-===//
//
// The emitter behind buildFlashAttention (FlashKernel.h), shared by the
// files that write its parts:
//   FlashKernel.cpp      the schedule: tasks, query blocks, KV tiles, the
//                        epilogue and the split-KV merge;
//   FlashMicroKernel.cpp K packing, register-blocked scores, one micro-tile;
//   FlashKeyRanges.cpp   which keys and tiles a block visits: the band and
//                        neighborhood rules, block-sparse tile lists, the
//                        mask_mod's tile classes;
//   FlashKernelLimits.cpp what a configuration costs and may use.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_STRATEGIES_COMMON_FLASHEMITTER_H
#define ATTN_LIB_STRATEGIES_COMMON_FLASHEMITTER_H

#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/FlashKernel.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModTileClasses.h"
#include "attn/Strategies/Common/WholeProblemTile.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn::flash {

/// How far ahead of the key it reads the unpacked kernel prefetches K and V
/// rows, in keys (measured on decode: 32 to 64 keys ahead, 16 to 64 KiB of
/// f32 rows, all do about as well).
constexpr int64_t kPrefetchKeys = 64;

/// Index bounds of the keys that rows [iA, iB] may see (rule::rowsKeys).
using KeyBounds = rule::RowsKeys<RuleArith>;

/// The rows of one micro-tile: for each, its query head, its head within
/// the group, its (clamped) query index; and the range of query indices.
struct MicroRows {
  SmallVector<Value> head, group, row;
  Value iMin, iMax;
  /// attn.neighborhood (flattened): per row and axis, the row's dilation
  /// group and window in group coordinates.
  SmallVector<SmallVector<rule::AxisWindow<RuleArith>>> axisWindows;
};

class FlashEmitter : KernelBuilder {
public:
  /// Without `state`, the kernel computes attention into `problem.init`
  /// through the epilogue; with it, it updates that state.
  FlashEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
               const FlashKernelConfig &config,
               std::optional<TileState> state = std::nullopt)
      : KernelBuilder(rewriter, problem.op->getLoc(), config.lanes),
        p(problem), cfg(config), state(state) {
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
    // A tile op's state is laid out per head: one head per task there.
    taskHeads = !state && flashVisitsHeadsPerTile(p, cfg) ? p.headsKV : 1;
    taskRows = taskHeads * paddedRows;
  }

  /// The result (output mode) or the state's acc, max and sum.
  SmallVector<Value> build();

private:
  // Scalar arithmetic beyond KernelBuilder's.
  Value ceilDiv(Value x, int64_t d) {
    return arith::CeilDivUIOp::create(b, loc, x, idx(d));
  }
  Value floorDiv(Value x, int64_t d) {
    return arith::FloorDivSIOp::create(b, loc, x, idx(d));
  }
  /// phi of feature-map scores on a scalar.
  Value featureMap(Value x);

  /// Where key `key` of (batch, kvHead) is stored: {batch, kvHead, key} in
  /// the key and value operands (and i8 scales), or for a paged cache
  /// {page, kvHead, slot} through the page table (the page clamped into
  /// the cache).
  SmallVector<Value> keyRow(Value batch, Value kvHead, Value key);

  /// Prefetches the K and V rows at `row` (keyRow's indices), every 64-byte
  /// line, into the cache. Hardware prefetchers lose a stream at every
  /// 4 KiB page, and a paged cache's next page is anywhere; decode reads
  /// each row once, so it waits on memory wherever they stop.
  void prefetchRows(ArrayRef<Value> row);
  /// Read-only buffers of K and V that prefetchRows reads (null when the
  /// kernel packs K: prefill, which is compute-bound).
  Value keyCacheBuffer, valueCacheBuffer;
  /// The K and V row to prefetch while the scores read the row of `key` of
  /// (batch, kvHead): kPrefetchKeys keys ahead; with heads visited per
  /// tile, the next head's row of the same key (the first head's, a tile
  /// on, after the last head).
  SmallVector<Value> prefetchedRow(Value batch, Value kvHead, Value key);
  /// KV heads per task (Hkv where flashVisitsHeadsPerTile, else 1), and the
  /// rows of state the task keeps (taskHeads x paddedRows; head h's rows from
  /// h x paddedRows).
  int64_t taskHeads = 1, taskRows = 0;
  /// Paged: the page of each key of the current tile (block_k indices on
  /// the task's stack), read from the table once per tile (fillTilePages,
  /// before the tile's heads and micro-tiles), so that the K rows and each
  /// of the P V passes over the tile's values find their rows without the
  /// table.
  Value tilePages;
  void fillTilePages(Value batch, Value kvStart);
  /// Where key kvStart + j of the current tile is stored (keyRow through
  /// tilePages).
  SmallVector<Value> tileKeyRow(Value batch, Value kvHead, Value kvStart,
                                Value j);

  KeyBounds keyBounds(Value iA, Value iB);
  Value bandAllowed(Value i, Value jv);

  /// An element (scalar or vector) `raw` read from `operand` (the key or
  /// the value) at `row` (keyRow's indices), in f32: extended, or
  /// dequantized with `scales` when they are not null.
  Value keyValueToF32(Value operand, Value scales, Value raw,
                      ArrayRef<Value> row);
  /// Whether vectors of a quantized `operand` (the key or the value) whose
  /// rows have `dim` elements are decoded two at a time (decodedPair):
  /// f8E4M3FN, whose decode works in 16-bit lanes, so that one decode of
  /// 2 * lanes elements fills whole registers and costs half the integer
  /// operations per element.
  bool decodesInPairs(Value operand, int64_t dim) const;
  /// Vectors `first` and `first + 1` of row `row` of a quantized `operand`,
  /// read as one vector and decoded over the factor
  /// (decodeQuantizedOverFactor).
  std::pair<Value, Value> decodedPair(Value operand, ArrayRef<Value> row,
                                      int64_t first);
  /// K^T of (batch, kvHead) in tiles, [tiles, D, block_k] f32; with bf16
  /// dot products packKeyPairs' layout instead.
  Value packKeys(Value batch, Value kvHead);
  /// K in bf16 pairs of its head dimension, [tiles, D / 2, 2 block_k]:
  /// element (t, d2, 2c + h) is element 2 d2 + h of key t block_k + c (0
  /// past the last key), so that one vector holds a pair of D for 2 lanes
  /// keys.
  Value packKeyPairs(Value batch, Value kvHead);
  /// V in bf16 pairs of keys, [tiles, block_k / 2, 2 Dv padded]: element
  /// (t, jp, 2x + h) is element x of value row t block_k + 2 jp + h (0 past
  /// the last key or column), as MicroTileAccess::valuePairs reads it.
  Value packValuePairs(Value batch, Value kvHead);
  /// Tiles of `tileType` [1, columns, block_k x perKey] with K transposed:
  /// keyColumns(key, g) gives columns [g lanes, +lanes) of a key's row as
  /// one vector of lanes elements (0 past the row and for keys past the
  /// last), and stored(column) what row x of the tile holds for lanes keys.
  Value
  packTransposedKeys(RankedTensorType tileType, int64_t columns,
                     function_ref<Value(Value key, int64_t group)> keyColumns,
                     function_ref<Value(Value column)> stored);
  /// A tensor of numTiles tiles of `tileType` (its first dimension 1), each
  /// filled in parallel (scf.forall) by `fill(tile, slice)`, which returns
  /// the tile's slice of the shared tensor written in place.
  Value packedTiles(RankedTensorType tileType,
                    function_ref<Value(Value tile, Value tileTensor)> fill);
  /// `type` elements of the row of `key` in `operand` (the key or the
  /// value) of (batch, kvHead) from element `first` (0 past the row's end),
  /// through `convert(vector, keyRow)` when it is given; a vector of 0 for
  /// keys past the last.
  Value keyRowVector(
      Value operand, Value batch, Value kvHead, Value key, int64_t first,
      VectorType type,
      function_ref<Value(Value raw, ArrayRef<Value> row)> convert = nullptr);
  /// packValuePairs' tensor of the current (batch, KV head), and P in bf16
  /// on the task's stack [micro_q, block_k]; null without bf16 dot
  /// products.
  Value packedValues, pairBuf;
  Value featureQueries(Value batch, Value kvHead);
  SmallVector<Value> scoresPacked(Value batch, const MicroRows &rows,
                                  Value tile, Value packedKeys, Value queries);
  SmallVector<Value> scoresUnpacked(Value batch, Value kvHead,
                                    const MicroRows &rows, Value kvStart,
                                    Value queries, Value partBuf);
  void emitMicroTile(Value batch, Value kvHead, const MicroRows &rows,
                     Value rowBase, Value tile, Value packedKeys, Value queries,
                     Value oAcc, Value mRow, Value lRow, Value tRow, Value pBuf,
                     Value partBuf, Value blockFull, Value modFull);
  /// Lane k of the result = sum of the lanes of vectors[k].
  Value transposeReduce(SmallVector<Value> vectors);
  /// Reads query element d (scalar) or vector dv of one row.
  Value queryScalar(Value queries, Value batch, const MicroRows &rows,
                    int64_t r, Value d);

  const AttentionProblem &p;
  FlashKernelConfig cfg;
  std::optional<TileState> state;
  Type i32;
  VectorType maskVecType, idxVecType;
  int64_t group, rows, paddedRows, keyVecs, valueVecs, paddedDv;
  bool tracksMax, featureProduct;
  // Sizes: rows, keys, key tiles; and the query length that the rules
  // take, so that row i is aligned at i + lk - ruleLq (lq, or lk minus the
  // tile's query shift).
  Value lq, lk, numTiles, ruleLq;
  Value mask8; // i8 copy of the mask, keys padded to whole tiles, or null
  Value maskCounts; // allowed keys per (Bm, Hm, row, key tile), or null
  // Block-sparse: the mask padded to whole blocks (i1) and either allowed
  // keys per (Bm, Hm, query block, key tile) or, for a constant mask,
  // compressed lists per (Bm, KV head, query block): offsets into the tile
  // indices and their full flags.
  Value paddedMask, blockCounts, listOffsets, listTiles, listFull;
  void prepareBlockSparse();
  /// Sets mask8 and maskCounts from the mask operand.
  void prepareMaskCounts();
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
  /// The mask_mod evaluated on tiles, and the classes of the (query
  /// block, key tile) pairs (ModTileClasses.h); null without a mask_mod.
  std::optional<ModTileClassifier> modClassifier;
  Value modTiles;
  /// The mask_mod's state of `tile` for the query block: {visit, full}.
  std::pair<Value, Value> modState(Value batch, Value kvHead, Value block,
                                   Value tile);
  /// {visit, full} of `tile` for the query block from `perHead`, a
  /// [Bm, Hm, blocks, tiles] tensor whose heads are the query heads (or
  /// one), of which `entry` gives {some key allowed, all allowed}: visit
  /// when some head of the KV head's group may see a key, full when all see
  /// every key.
  std::pair<Value, Value>
  groupState(Value perHead, Value batch, Value kvHead, Value block,
             Value tile,
             function_ref<std::pair<Value, Value>(Value)> entry);
public:
  /// attn.neighborhood flattened to one sequence: the spatial extents.
  SmallVector<Value> spatialExtents;
  /// A tile op's query_position - key_position: row i sees the keys of the
  /// row at aligned position i + queryShift. Null: Lk - Lq.
  Value queryShift;
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

} // namespace mlir::attn::flash

#endif // ATTN_LIB_STRATEGIES_COMMON_FLASHEMITTER_H
