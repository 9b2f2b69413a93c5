//===- ModRegions.h - score_mod and mask_mod bodies inlined -----*- C++ -*-===//
//
// Every kernel applies an op's `score_mod` and `mask_mod` regions by
// inlining their bodies where the score or the allowed predicate is formed:
// on scalars (one GPU thread's key, a linalg.generic body) or on vectors of
// keys (the CPU kernel's registers), where the ops that depend on a vector
// argument are applied lane-wise and the others stay scalar.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MODREGIONS_H
#define ATTN_STRATEGIES_COMMON_MODREGIONS_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// The value the body of `region` (a score_mod or mask_mod) yields for the
/// block arguments `args`, its ops cloned at the builder's insertion point.
/// An argument may be a vector (all vectors of one shape; index arguments
/// then vectors of index): ops that read a vector become vector ops of the
/// same shape (elementwise arith and math ops) or one op per lane
/// (tensor.extract, index ops), and the result is a vector too.
/// A tensor.extract from a tensor that `buffers` maps to a memref (a
/// kernel on buffers, such as a GPU launch) becomes a memref.load from it.
/// `afterOp(op, inlined)`, when given, is called after each op of the body
/// that became one op (scalar or elementwise on vectors), with that op.
Value inlineModRegion(
    OpBuilder &b, Location loc, Region &region, ValueRange args,
    const DenseMap<Value, Value> *buffers = nullptr,
    function_ref<void(Operation *, Operation *)> afterOp = nullptr);

/// The tensors defined above `problem`'s op that its mods read (the tables
/// a kernel on buffers needs as memrefs).
SmallVector<Value> modTables(const AttentionProblem &problem);

/// The position arguments of the mods of `problem` for flattened query
/// position `i` and key position `j` (scalars, or `j` a vector of index):
/// {i, j} for attention; for a neighborhood the query's coordinates then the
/// key's, unflattened by the spatial extents `spatialShape`.
SmallVector<Value> modPositions(OpBuilder &b, Location loc,
                                const AttentionProblem &problem,
                                ArrayRef<Value> spatialShape, Value i, Value j);

/// modPositions for the CPU kernels' key vectors: query row `i` (index) and
/// key lanes `keys` (i32, in bounds). For a neighborhood the lanes that its
/// window rules out (`rule`: i1 lanes, null when it allows all) take the
/// query's own position, which every window holds, so that a table of the
/// window's offsets (a relative positional bias) is read in bounds; the
/// kernels mask those lanes anyway.
SmallVector<Value> modPositionsInWindow(OpBuilder &b, Location loc,
                                        const AttentionProblem &problem,
                                        ArrayRef<Value> spatialShape, Value i,
                                        Value keys, Value rule);

/// score_mod(s, b, h, positions...) of `problem`, or `s` without one.
Value applyScoreMod(OpBuilder &b, Location loc, const AttentionProblem &problem,
                    Value s, Value batch, Value head, ArrayRef<Value> positions,
                    const DenseMap<Value, Value> *buffers = nullptr);

/// score_mod(s, ...) of `problem` and its derivative with respect to s, on
/// scalars or, as applyScoreMod, on a vector of scores (the body inlined,
/// and each op that reads the score followed by its tangent,
/// ScoreModDerivative.h); (s, 1) without a score_mod. `buffers` as for
/// inlineModRegion.
std::pair<Value, Value>
applyScoreModWithDerivative(OpBuilder &b, Location loc,
                            const AttentionProblem &problem, Value s,
                            Value batch, Value head, ArrayRef<Value> positions,
                            const DenseMap<Value, Value> *buffers = nullptr);

/// `allowed` and mask_mod(b, h, positions...) of `problem` (`allowed` may be
/// null: every key); `allowed` without one.
Value applyMaskMod(OpBuilder &b, Location loc, const AttentionProblem &problem,
                   Value allowed, Value batch, Value head,
                   ArrayRef<Value> positions,
                   const DenseMap<Value, Value> *buffers = nullptr);

/// applyMaskMod on scalars, except where the i1 `modFull` says that the
/// mod allows every pair of the tile (ModTileClasses.h): there `allowed`
/// alone (true when null), under an scf.if, so the mod is not evaluated.
Value applyMaskModUnlessFull(OpBuilder &b, Location loc,
                             const AttentionProblem &problem, Value allowed,
                             Value modFull, Value batch, Value head,
                             ArrayRef<Value> positions,
                             const DenseMap<Value, Value> *buffers = nullptr);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MODREGIONS_H
