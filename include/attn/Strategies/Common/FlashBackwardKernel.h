//===- FlashBackwardKernel.h - FlashAttention-2's backward, CPU -*- C++ -*-===//
//
// Emits attn.attention_backward as scf loops of vector ops for the CPU, the
// way FlashAttention-2 computes it: P is recomputed from the saved LSE, and
// no L x L matrix is ever stored.
//   forall (batch, KV head, head split):  one task owns the dQ rows of its
//                                         query heads and the dK, dV rows
//                                         of its KV head (or of its split's
//                                         partial, summed after the tasks in
//                                         split order): no atomics, and the
//                                         same sums in the same order on
//                                         every run
//     for each key tile of block_k keys:  K^T and V^T packed on the stack,
//                                         dK, dV accumulated on the stack
//       for each head of the GQA group, each micro-tile of micro_q query
//       rows that may see the tile (and that a mask_mod's tile classes do
//       not leave empty):
//         S = Q K^T, dP = dO V^T          register-blocked (emitPackedScores)
//         P = exp(score - LSE), dS = P (dP - rowsum(dO O)) dscore/d(q.k)
//         dV += P^T dO, dK += dS^T Q, dQ += dS K
// Softplus has no LSE: each task first sweeps the key tiles for its rows'
// reference and normalizer (the forward's online update), then P = w / Z
// and dS = (dP - rowsum(dO O)) w' / Z dscore/d(q.k).
// Extra memory is the stack scratch of each task, O(block_k (D + Dv)); and
// f32 copies of the gradients for f16/bf16 operands, the head split's dK/dV
// partials, and f32 [B, Hq, Lq, Lk] sums for a bias that broadcasts or is
// not f32.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_FLASHBACKWARDKERNEL_H
#define ATTN_STRATEGIES_COMMON_FLASHBACKWARDKERNEL_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/FlashKernel.h"
#include "mlir/IR/PatternMatch.h"

#include <string>

namespace mlir::attn {

/// Whether the CPU backward kernel computes `p` (an attn.attention_backward,
/// or an attn.neighborhood_backward over its flattened positions): f32, f16
/// or bf16 operands (math in f32, the gradients rounded once); causal,
/// window, sinks, GQA, scale, softcap, a mask, a bias, score_mod, mask_mod
/// and sink logits; a neighborhood and its mods; softmax and softplus
/// scores. Otherwise (kernel scores, head dimensions the kernel does not
/// unroll) sets `reason`.
bool flashBackwardCanCompute(const AttentionProblem &p, std::string &reason);

/// Bytes of stack scratch of one backward task: K^T, V^T, dK and dV of a
/// key tile, P and dS of a micro-tile.
int64_t flashBackwardStackBytes(const AttentionProblem &p,
                                const FlashKernelConfig &config);

/// How many tasks share the query heads of a GQA group, so that there are
/// two tasks per thread where the group allows: a divisor of the group
/// size (1 without GQA).
int64_t flashBackwardHeadSplits(const AttentionProblem &p, int64_t threads);

/// Emits the kernel before `problem.op` and returns dQ, dK, dV and, with a
/// bias and sink logits, dBias and dSink (uses
/// `config`'s block_k, micro_q, lanes, block_dv and unroll_d). `headSplits`
/// divides the group size; each split's dK and dV partials take
/// B Hkv Lk (D + Dv) floats.
SmallVector<Value> buildFlashBackward(RewriterBase &rewriter,
                                      const AttentionProblem &problem,
                                      const FlashKernelConfig &config,
                                      int64_t headSplits);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_FLASHBACKWARDKERNEL_H
