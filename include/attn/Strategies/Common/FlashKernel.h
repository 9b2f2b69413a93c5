//===- FlashKernel.h - FlashAttention-2 on the CPU as vector IR -*- C++ -*-===//
//
// Emits the online-softmax attention algorithm (FlashAttention-2) for
// attn.attention as scf loops of vector ops, register-blocked for the CPU:
//   for each (batch, KV head):            scf.for, K packed once as [T, D, BK]
//     for each query block (forall):      G heads x block_q rows per task
//       for each visited KV tile:         band / sink / mask-summary skipping
//         for each micro-tile of rows:    S = Q K^T in micro_q x BK registers,
//                                         online softmax in exp2, P V into O
// Strategies that share this kernel choose which KV tiles a task visits
// (all of them, a band, a list of blocks) and how many splits of the keys
// run in parallel.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_FLASHKERNEL_H
#define ATTN_STRATEGIES_COMMON_FLASHKERNEL_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Strategy.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

struct FlashKernelConfig {
  int64_t blockQ = 96;     ///< Query rows per head in one task.
  int64_t blockK = 64;     ///< Keys per KV tile.
  int64_t microQ = 6;      ///< Query rows held in registers at once.
  int64_t lanes = 16;      ///< f32 lanes of one vector register.
  int64_t blockDv = 64;    ///< Value columns accumulated in registers.
  int64_t unrollD = 8;     ///< Unrolling of the head-dimension loop.
  bool skipByBand = true;  ///< Visit only tiles the band/sinks allow.
  /// Pack K^T into tiles once per head (prefill). When false, scores are
  /// dot products over the head dimension read straight from K (decode:
  /// K is read once, from memory).
  bool packKeys = true;
  /// Independent splits of the keys per query block, merged through their
  /// log-sum-exp (split-KV decode). 1 = no split.
  int64_t splits = 1;
  /// Block-sparse iteration over the mask operand: a (block_q x block_k)
  /// block summary (at compile time for a constant mask, in compressed
  /// lists; else once per call), empty blocks never visited, full blocks
  /// computed without the element-wise mask.
  bool blockSparse = false;
  /// bf16 Q, K and V: Q K^T and P V as AVX512-BF16 dot products of bf16
  /// pairs into f32 (K packed in pairs of its head dimension, V in pairs of
  /// keys, P rounded to bf16); else they are widened to f32 for FMAs.
  bool bf16Dot = false;
};

/// Prints every field of `config`, for debug output.
llvm::raw_ostream &operator<<(llvm::raw_ostream &os,
                              const FlashKernelConfig &config);

/// The schema entries of the flash kernels' block_k and micro_q.
inline constexpr StrategyParameter kFlashBlockKParameter = {
    "block_k", StrategyParameter::Type::Integer, 1, 4096,
    StrategyParameter::Both,
    "keys per tile: on the CPU a multiple of the vector lanes, at most 16 "
    "vectors; on the GPU at most 1024, K and V staged in shared memory; "
    "chosen per target (4 vectors; 32 keys fitted to shared memory)"};
inline constexpr StrategyParameter kFlashMicroQParameter = {
    "micro_q", StrategyParameter::Type::Integer, 1, 32,
    StrategyParameter::CPU,
    "query rows held in registers at once by the CPU micro-kernel; 6"};

inline constexpr StrategyParameter kFlashBf16DotParameter = {
    "bf16_dot",
    StrategyParameter::Type::Integer,
    0,
    1,
    StrategyParameter::CPU,
    "1: bf16 Q K^T and P V as AVX512-BF16 dot products into f32 (P rounded "
    "to bf16), 0: widened to f32; 1 where the target has them and Q, K and "
    "V are bf16"};

/// Why the CPU flash kernel cannot use bf16 dot products for `p` with
/// `config` (FlashKernelConfig::bf16Dot), or "" when it can: Q, K and V
/// bf16, an even head dimension, the forward kernel over packed keys,
/// scores formed from Q K^T (not a feature map), not a neighborhood.
std::string flashBf16DotRefusal(const AttentionProblem &p,
                                const FlashKernelConfig &config);

/// Seconds the kernel spends in scalar code before its parallel loops, for
/// `batch` x `lq` queries and `lk` keys on a `ghz` clock: phi of elu1/relu
/// on every element of q (and of K when it is packed), about 8 cycles each
/// (measured: 2.5 ns).
double flashKernelSerialSeconds(const AttentionProblem &p,
                                const FlashKernelConfig &config, double batch,
                                double lq, double lk, double ghz);

/// Bytes of stack scratch of one task: O [G block_q, Dv], m and l (of
/// every KV head where flashVisitsHeadsPerTile), P and the unpacked partial
/// sums, for `config.blockQ` in [1, 2^20].
int64_t flashKernelStackBytes(const AttentionProblem &p,
                              const FlashKernelConfig &config);

/// Whether the CPU kernel's tasks visit every KV head in each key tile, the
/// heads' rows of state side by side on the task's stack (256 KiB at
/// most), rather than one head's tiles: paged decode (keys not packed; no
/// feature map, mask, mask_mod or block-sparse iteration; Hkv > 1). A
/// paged cache holds a page's heads next to each other ([pages, Hkv,
/// page_size, D]), so that a task then reads Hkv x page_size rows in one
/// place where one head reads page_size; memory here serves scattered
/// 8 KiB pieces at about half the rate of one stream.
bool flashVisitsHeadsPerTile(const AttentionProblem &p,
                             const FlashKernelConfig &config);

/// Halves `config.blockQ` (down to 1) while a task's scratch exceeds
/// kTaskScratchLimitBytes: for the block_q a cost model picks.
void fitFlashBlockQToStack(const AttentionProblem &p, FlashKernelConfig &config);
/// Lowers block_dv until O's micro_q x block_dv accumulators, a vector of
/// V per column vector and the broadcast weight fit the vector registers:
/// spilled accumulators cost a load and a store per FMA (AVX2, 16
/// registers: 3 vectors of V for 4 rows, 2 for 6).
void fitFlashBlockDvToRegisters(FlashKernelConfig &config);

/// Largest head dimension D and value dimension Dv of the CPU flash kernels
/// (and the neighborhood kernel): they unroll D and Dv in vectors per
/// micro-tile, so larger sizes would build enormous IR.
constexpr int64_t kMaxFlashHeadDim = 1024;

/// Whether the CPU flash kernels can compute `p` at all with `config`'s
/// tile shape: D and Dv at most kMaxFlashHeadDim, and a task of the smallest
/// block_q within kTaskScratchLimitBytes. Otherwise sets `reason`.
bool flashKernelCanCompute(const AttentionProblem &p,
                           FlashKernelConfig config, std::string &reason);

/// Checks the parameters a strategy chose or was given: block_k a multiple
/// of the vector lanes, at most 16 vectors; micro_q in [1, 32], with
/// micro_q x block_k / lanes at most 128; block_q in [1, 2^20], with a
/// task's stack scratch (flashKernelStackBytes) at most
/// kTaskScratchLimitBytes; splits in [1, 4096]; block_sparse only with a
/// mask operand; bf16_dot only where `op`'s target has the dot products
/// and flashBf16DotRefusal allows them; and D, Dv at most
/// kMaxFlashHeadDim. The kernel unrolls micro_q x
/// block_k / lanes vectors, so larger values only build enormous IR (or
/// overflow a SmallVector). On failure emits one error on `op` that names
/// `strategy`, the parameter and its range.
LogicalResult verifyFlashKernelConfig(Operation *op, StringRef strategy,
                                      const AttentionProblem &p,
                                      const FlashKernelConfig &config);

/// Name of the discardable attribute that carries a FlashKernelConfig on an
/// attn.online_attention for its CPU lowering
/// (attn-convert-online-attention-to-cpu-vector).
inline constexpr llvm::StringLiteral kCpuKernelAttrName = "attn.cpu_kernel";

/// `config` as the dictionary of kCpuKernelAttrName, with the name of the
/// strategy that chose it (for messages): {strategy, block_q, block_k,
/// micro_q, lanes, block_dv, unroll_d, splits : i64, skip_by_band,
/// pack_keys, block_sparse, bf16_dot : bool}.
DictionaryAttr getCpuKernelAttr(MLIRContext *ctx, StringRef strategy,
                                const FlashKernelConfig &config);

/// The configuration in `op`'s kCpuKernelAttrName dictionary
/// (KernelConfigAttr.h): every key present with its type, no other key,
/// lanes a power of two from 4 to 64, block_dv a multiple of lanes,
/// unroll_d from 1 to 64. On failure emits one error on `op` naming the
/// key. `strategy` is set to the dictionary's.
FailureOr<FlashKernelConfig> parseCpuKernelAttr(Operation *op,
                                                std::string &strategy);

/// Emits the kernel before `problem.op` and returns the results (the output,
/// then its LSE where the op returns it). A neighborhood is computed as
/// attention over its flattened positions with NATTEN's rule evaluated per
/// (query, key) in partial tiles.
SmallVector<Value> buildFlashAttention(RewriterBase &rewriter,
                                       const AttentionProblem &problem,
                                       const FlashKernelConfig &config);

/// The CPU lowering of one attn.online_attention: the flash kernel on its
/// tile, reading the op's state (unless its outs are the empty state's
/// fills) and replacing the op by the updated (acc, max, sum). From the
/// empty state, when an attn.finalize is the only user of acc and sum and
/// max has none, the kernel replaces that finalize too and writes the
/// output, its epilogue applied to each block's rows. Rows are aligned at
/// query_position + i, keys at key_position + j; with sink keys the key
/// position must be a constant, else the error is emitted on `tile`.
LogicalResult lowerTileToFlashKernel(RewriterBase &rewriter,
                                     OnlineAttentionOp tile,
                                     const FlashKernelConfig &config);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_FLASHKERNEL_H
