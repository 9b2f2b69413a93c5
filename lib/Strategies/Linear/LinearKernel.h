//===- LinearKernel.h - Chunked linear attention as vector IR ---*- C++ -*-===//
//
// Emits kernel-score attention (elu1, relu, taylor2, identity) in O(L F Dv)
// for the CPU: a running state S = sum phi(k) v^T, z = sum phi(k) per
// (batch, KV head), carried across chunks of queries; inside a chunk a masked
// quadratic step (causal). See LinearKernel.cpp for the loop structure.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_STRATEGIES_LINEAR_LINEARKERNEL_H
#define ATTN_LIB_STRATEGIES_LINEAR_LINEARKERNEL_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

struct LinearKernelConfig {
  int64_t chunk = 64;        ///< Queries per chunk (and keys per state update).
  int64_t lanes = 16;        ///< f32 lanes of one vector register.
  int64_t accumulators = 24; ///< Vector accumulators of one register tile.
  int64_t maxRows = 12;      ///< Rows of one register tile at most.
  int64_t unroll = 4;        ///< Unrolling of the rank-1 update loops.
  int64_t tileRows = 0;      ///< Rows of the output tiles (0: chosen).
  bool serial = false;       ///< Tasks in a loop on one thread.
};

/// Static sizes of the emitted kernel: feature dimension, paddings, register
/// tiles and scratch buffers. The cost model reads the same numbers.
struct LinearLayout {
  int64_t d = 0, dv = 0, group = 1;
  bool taylor = false;
  int64_t features = 0;  ///< F: D, or 1 + D + D(D+1)/2 for taylor2.
  int64_t offset = 0;    ///< Where the D linear features start (1 for taylor2).
  int64_t chunk = 0, lanes = 0;
  int64_t dVecs = 0;                  ///< D in vectors.
  int64_t vVecs = 0, paddedDv = 0;    ///< Dv in vectors.
  int64_t cVecs = 0, paddedChunk = 0; ///< Chunk keys in vectors.
  int64_t rowTile = 0;   ///< Rows of the output / state register tiles.
  int64_t scoreTile = 0; ///< Rows of the intra-chunk score register tile.
  int64_t stateTile = 0; ///< Rows (features) of the state-update tiles.
  int64_t rows = 0;      ///< Query rows of a chunk (G x chunk), padded.
  int64_t stateRows = 0; ///< F padded to the state tile.
  int64_t featureWidth = 0; ///< Row width of the feature buffers.

  static LinearLayout get(const AttentionProblem &p,
                          const LinearKernelConfig &cfg);
  /// Stack scratch of one (batch, KV head) task.
  int64_t scratchBytes(bool causal) const;
  /// The backward kernel's (LinearBackwardKernel.cpp) stack scratch, and
  /// its three F x Dv states, which go to the heap when the two together
  /// exceed kTaskScratchLimitBytes.
  int64_t backwardScratchBytes(bool causal) const;
  int64_t backwardStateBytes() const;
};

/// Emits the kernel before `problem.op` and returns the result tensor.
Value buildLinearAttention(RewriterBase &rewriter,
                           const AttentionProblem &problem,
                           const LinearKernelConfig &config);

/// Emits attn.attention_backward with a kernel score (LinearBackwardKernel.cpp)
/// before `problem.op` and returns dQ, dK and dV.
SmallVector<Value>
buildLinearAttentionBackward(RewriterBase &rewriter,
                             const AttentionProblem &problem,
                             const LinearKernelConfig &config);

} // namespace mlir::attn

#endif // ATTN_LIB_STRATEGIES_LINEAR_LINEARKERNEL_H
