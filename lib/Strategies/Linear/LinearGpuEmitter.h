//===- LinearGpuEmitter.h - Pieces of the GPU linear kernels ----*- C++ -*-===//
//
// What the GPU linear kernels share (LinearGpuKernel.cpp, the forward, and
// LinearGpuBackwardKernel.cpp): a thread block's strided copy of one row
// into shared memory and the features of a staged row, for elu1 and relu
// phi(x), for identity x, and for taylor2 [1, x, x_a x_b / sqrt(2)].
// Private to lib/Strategies/Linear.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_STRATEGIES_LINEAR_LINEARGPUEMITTER_H
#define ATTN_LIB_STRATEGIES_LINEAR_LINEARGPUEMITTER_H

#include "LinearGpuKernel.h"

#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {

class LinearGpuEmitter : protected KernelBuilder {
protected:
  LinearGpuEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
                   int64_t chunk)
      : KernelBuilder(rewriter, problem.op->getLoc(), /*lanes=*/1), p(problem),
        features(linearGpuFeatures(problem)),
        threads(linearGpuThreads(problem)), chunk(chunk) {}

  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, loc, value, memref, indices);
  }
  void barrier() { gpu::BarrierOp::create(b, loc); }
  /// Copies row `row` of `source` [B, H, L, D] (times `scale`) to the
  /// shared `into` [D], strided over the block's threads.
  void stageRow(Value source, Value batch, Value head, Value row, double scale,
                Value into);
  /// phi of the staged row `from` into the shared `into` [F], strided over
  /// the block's threads.
  void emitFeatures(Value from, Value into);
  /// stageRow into `raw`, then its features into `feat`, each followed by
  /// a barrier.
  void stageWithFeatures(Value source, Value batch, Value head, Value row,
                         double scale, Value raw, Value feat) {
    stageRow(source, batch, head, row, scale, raw);
    barrier();
    emitFeatures(raw, feat);
    barrier();
  }
  /// Causal: query `row`'s keys {[stateEnd, end)} that it weighs directly,
  /// its `chunk` most recent (AllowedKeyRule.h); the keys before stateEnd
  /// are in the state.
  std::pair<Value, Value> directKeys(Value row, Value lq, Value lk);

  const AttentionProblem &p;
  int64_t features, threads, chunk;
  /// The thread's index in its block (set while a kernel body is built).
  Value tid;
};

} // namespace mlir::attn

#endif // ATTN_LIB_STRATEGIES_LINEAR_LINEARGPUEMITTER_H
