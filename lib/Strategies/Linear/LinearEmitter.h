//===- LinearEmitter.h - Pieces of the CPU linear kernels -------*- C++ -*-===//
//
// The emitter of the chunked linear-attention kernel (LinearKernel.cpp): its
// loops, register tiles of rank-1 updates, scratch buffers, feature maps and
// intra-chunk scores. The backward kernel (LinearBackwardKernel.cpp) derives
// from it and reuses those pieces. Private to lib/Strategies/Linear.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_STRATEGIES_LINEAR_LINEAREMITTER_H
#define ATTN_LIB_STRATEGIES_LINEAR_LINEAREMITTER_H

#include "LinearKernel.h"

#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {

class LinearEmitter : protected KernelBuilder {
public:
  LinearEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
                const LinearKernelConfig &config)
      : KernelBuilder(rewriter, problem.op->getLoc(), config.lanes), p(problem),
        l(LinearLayout::get(problem, config)), unroll(config.unroll),
        accumulators(config.accumulators), maxRows(config.maxRows),
        serial(config.serial) {
    idxVecType = VectorType::get({l.lanes}, b.getI32Type());
    function = p.score.getFunction();
    normalize = p.score.getNormalize();
  }

  Value build();

protected:
  using Body = function_ref<SmallVector<Value>(Value, ValueRange)>;

  // Index arithmetic beyond KernelBuilder's.
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, idx(y));
  }
  Value clamp(Value x, Value lo, Value hi) { return minI(maxI(x, lo), hi); }
  Value iota() {
    SmallVector<Attribute> lanes;
    for (int64_t i = 0; i < l.lanes; ++i)
      lanes.push_back(b.getI32IntegerAttr(i));
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(idxVecType, lanes));
  }
  /// Lanes [first, first + lanes) of an index range that are below `bound`.
  Value lanesBelow(Value first, Value bound) {
    Value n =
        arith::IndexCastOp::create(b, loc, b.getI32Type(), sub(bound, first));
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::slt, iota(),
        vector::BroadcastOp::create(b, loc, idxVecType, n));
  }

  // Loops.
  SmallVector<Value> loop(Value lo, Value hi, int64_t step, ValueRange init,
                          Body body);
  void loop(Value lo, Value hi, int64_t step, function_ref<void(Value)> body) {
    loop(lo, hi, step, ValueRange{}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>();
    });
  }
  /// acc[r * vecs + c] += sum over t in [lo, hi) of a(r, t) * row(t)[c],
  /// the t loop unrolled: a register tile of rank-1 updates. With `allowed`,
  /// only the terms where allowed(r, t) holds are added (a term of weight 0
  /// is skipped rather than multiplied, so a NaN or infinity in row(t)
  /// reaches only the rows allowed to read it).
  SmallVector<Value>
  rankUpdates(Value lo, Value hi, int64_t rows, ValueRange acc,
              function_ref<Value(int64_t, Value)> a,
              function_ref<SmallVector<Value>(Value)> row,
              function_ref<Value(int64_t, Value)> allowed = nullptr);

  // Memory.
  Value scratch(ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32),
                                    b.getI64IntegerAttr(64));
  }
  void zeroFill(Value buffer);
  Value loadVec(Value buffer, ValueRange at) {
    return vector::LoadOp::create(b, loc, vecType, buffer, at);
  }
  void storeVec(Value v, Value buffer, ValueRange at) {
    vector::StoreOp::create(b, loc, v, buffer, at);
  }
  Value load(Value buffer, ValueRange at) {
    return memref::LoadOp::create(b, loc, buffer, at);
  }
  /// One row of q, k or v (the last dimension, `width` wide) as f32
  /// vectors, zero past the end.
  SmallVector<Value> readRow(Value tensor, ValueRange at, int64_t width);
  SmallVector<Value> readValues(Value key) {
    return readRow(p.value, ValueRange{batch, kvHead, key}, l.dv);
  }
  /// Stores a register tile of `vecs` vectors per row at rows r0.. .
  void storeTile(ArrayRef<Value> tile, Value buffer, Value r0, int64_t vecs) {
    for (int64_t i = 0; i < static_cast<int64_t>(tile.size()); ++i)
      storeVec(tile[i], buffer,
               ValueRange{add(r0, idx(i / vecs)), idx(i % vecs * l.lanes)});
  }
  SmallVector<Value> loadRow(Value buffer, Value row, int64_t vecs) {
    SmallVector<Value> vectors;
    for (int64_t c = 0; c < vecs; ++c)
      vectors.push_back(loadVec(buffer, ValueRange{row, idx(c * l.lanes)}));
    return vectors;
  }

  // Steps of the algorithm.
  void writeFeatures(Value buffer, Value row, SmallVector<Value> x);
  /// x[pos : pos + lanes] of the D values in vectors `x` (zeros past D), by
  /// one shuffle.
  Value windowAt(ArrayRef<Value> x, int64_t pos);
  void buildKeyFeatures(Value j0, Value n, bool transposed);
  /// The transpose of `lanes` vectors of `lanes` lanes.
  SmallVector<Value> transpose(SmallVector<Value> rows);
  void buildQueryFeatures(Value i0, Value nQ);
  void absorbKeys(Value j0, Value n);
  /// z += the features of keys [0, n) of kF.
  void absorbKeyNormalizer(Value n);
  /// Causal: how many keys of the chunk's band [lo, lo + nK) query
  /// i0 + il may see (the rule's last key for it, AllowedKeyRule.h).
  Value keysSeen(Value i0, Value il, Value lo, Value nK);
  void intraScores(Value i0, Value lo, Value nK);
  void outputRows(Value i0, Value lo, Value nK, Value nQ);
  /// Each row's normalizer from the state: den = phi(Q) . z, plus the
  /// intra-chunk sum intraScores left in den (causal).
  void addStateNormalizer();
  Value writeRows(Value i0, Value nQ, Value slice);
  void allocateScratch();
  /// The rows of one (batch, KV head) task, [G, Lq, Dv], computed from the
  /// task index; `offsets` and `sizes` say where they go in `out`.
  Value emitTask(Value task, Value out, SmallVectorImpl<OpFoldResult> &offsets,
                 SmallVectorImpl<OpFoldResult> &sizes);

  const AttentionProblem &p;
  LinearLayout l;
  int64_t unroll;
  int64_t accumulators, maxRows; ///< The register budget of one tile.
  bool serial;
  VectorType idxVecType;
  const ScoreFunction *function;
  bool normalize;
  // Per task.
  Value batch, kvHead, lq, lk, shift;
  Value state, norm, qF, kF, kT, scores, den, oBuf;
};

} // namespace mlir::attn

#endif // ATTN_LIB_STRATEGIES_LINEAR_LINEAREMITTER_H
