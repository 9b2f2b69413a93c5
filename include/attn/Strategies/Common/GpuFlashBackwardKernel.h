//===- GpuFlashBackwardKernel.h - FlashAttention-2's backward, GPU -*- C++ -*-//
//
// Emits attn.attention_backward as gpu.launch ops, one thread per row (SIMT,
// f32 math for f32/f16/bf16 operands), recomputing P from the saved LSE so
// that no L x L matrix is stored:
//   1. D = rowsum(dO O), one thread per query row (kernel scores, which have
//      no LSE: also the row's normalizer Z, and D / Z);
//   2. dK and dV: one thread per key; for each query head of its group, the
//      query rows that may see the block's keys (causal, window, sinks) in
//      tiles of block_k rows of Q and dO staged in shared memory;
//   3. dQ: one thread per query row, over the key tiles its block may see,
//      K and V staged in shared memory;
//   4. dBias (a bias that broadcasts or is not f32): the f32 dS of launch 3
//      summed over the bias's broadcast dimensions;
//   5. dSink: one thread per query head.
// Each gradient is a sum in a fixed order: no atomics, the same bits on
// every run. The GPU kernel configuration is the forward's: block_q threads
// per block (keys in launch 2, query rows in 3), block_k rows per shared
// tile (the same shared memory as the forward's K and V tiles).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_GPUFLASHBACKWARDKERNEL_H
#define ATTN_STRATEGIES_COMMON_GPUFLASHBACKWARDKERNEL_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// Emits the launches before `problem.op` (an attn.attention_backward) and
/// returns dQ, dK, dV and, with a bias and sink logits, dBias and dSink.
/// Uses `config`'s block_q and block_k (no splits, no tensor cores).
SmallVector<Value> buildGpuFlashBackward(RewriterBase &rewriter,
                                         const AttentionProblem &problem,
                                         const GpuKernelConfig &config);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_GPUFLASHBACKWARDKERNEL_H
