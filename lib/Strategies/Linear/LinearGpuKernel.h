//===- LinearGpuKernel.h - Linear attention as a GPU kernel -----*- C++ -*-===//
//
// The GPU form of the `linear` strategy: kernel-score attention in
// O((Lq + Lk) F Dv) per (batch, query head) through the running state
// S = sum phi(k) v^T and z = sum phi(k), one thread block per (batch, query
// head). See LinearGpuKernel.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_STRATEGIES_LINEAR_LINEARGPUKERNEL_H
#define ATTN_LIB_STRATEGIES_LINEAR_LINEARGPUKERNEL_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// Features per key of the GPU kernel: D, or 1 + D + D^2 for taylor2.
int64_t linearGpuFeatures(const AttentionProblem &problem);
/// Threads per block (Dv value columns and the normalizer column).
inline int64_t linearGpuThreads(const AttentionProblem &problem) {
  return problem.valueDim + 1;
}
/// Static shared memory of the kernel: the raw vector, its features and the
/// normalizer (saturated: taylor2's D^2 features overflow for D near 2^31).
inline int64_t linearGpuSharedBytes(const AttentionProblem &problem) {
  return saturatingBytes(
      4 * (double(problem.headDim) + double(linearGpuFeatures(problem)) + 1));
}

/// Emits the kernel and its host-side copies before `problem.op`; returns
/// the result tensor. Causal: each query weighs its `chunk` most recent
/// keys directly, the earlier ones through the state.
Value buildLinearGpuAttention(RewriterBase &rewriter,
                              const AttentionProblem &problem, int64_t chunk);

/// Static shared memory of the backward kernels: the raw row and dx, the
/// features and their gradient, and dO'.
inline int64_t linearGpuBackwardSharedBytes(const AttentionProblem &problem) {
  return saturatingBytes(4 * (2.0 * double(problem.headDim) +
                              2.0 * double(linearGpuFeatures(problem)) +
                              double(problem.valueDim)));
}

/// The backward (attn.attention_backward with a kernel score) as GPU
/// kernels before `problem.op` (LinearGpuBackwardKernel.cpp); returns dQ,
/// dK and dV. Causal: the same `chunk` of recent keys weighed directly as
/// the forward.
SmallVector<Value>
buildLinearGpuAttentionBackward(RewriterBase &rewriter,
                                const AttentionProblem &problem, int64_t chunk);

} // namespace mlir::attn

#endif // ATTN_LIB_STRATEGIES_LINEAR_LINEARGPUKERNEL_H
