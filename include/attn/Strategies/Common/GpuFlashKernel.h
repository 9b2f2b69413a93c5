//===- GpuFlashKernel.h - FlashAttention-2 as a GPU kernel ------*- C++ -*-===//
//
// Emits an attn op as one gpu.launch: a grid over (query blocks, batch x
// query heads, key splits), K/V tiles staged in shared memory, and the
// online softmax in registers, one query row per thread (SIMT, f32 math for
// f32/f16/bf16 inputs). Causal, window and sink rules skip whole key tiles;
// masks, biases, softcap, every score kind and NATTEN's rule (for
// neighborhoods, over flattened positions) apply per element. Inputs are
// copied to device memory and the result back; with splits > 1 a second
// kernel merges the splits' partial results through their log-sum-exp.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_GPUFLASHKERNEL_H
#define ATTN_STRATEGIES_COMMON_GPUFLASHKERNEL_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Strategy.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// The head dimension padded to the tensor-core (mma.sync) k step of 16.
inline int64_t mmaPaddedHeadDim(const AttentionProblem &p) {
  return (p.headDim + 15) / 16 * 16;
}

struct GpuKernelConfig {
  int64_t blockQ = 128; ///< Query rows (threads) per thread block.
  int64_t blockK = 32;  ///< Keys per shared-memory tile.
  int64_t splits = 1;   ///< Key splits (split-KV decode).
  /// f16/bf16 inputs: compute Q K^T of a tile with tensor-core mma.sync
  /// (m16n8k16, f32 accumulation) instead of per-thread dot products.
  bool tensorCores = false;
  /// block_sparse: the host counts the keys each (block_q x block_k) tile
  /// of the mask allows (MaskTiles.h) and the kernel skips the tiles that
  /// allow none.
  bool skipEmptyTiles = false;
  /// Shared memory a thread block may use (TargetDescription::gpuSharedBytes).
  int64_t sharedBytes = 48 << 10;
};

/// Prints every field of `config`, for debug output.
llvm::raw_ostream &operator<<(llvm::raw_ostream &os,
                              const GpuKernelConfig &config);

/// The buffers a GPU kernel's launches use, as host memory: inputs as
/// buffers of their tensors, results and scratch allocated. Where they live
/// is not the kernel's business: attn-gpu-device-buffers gives the launches
/// device copies (scratch that only launches use lives on the device only).
class KernelBuffers {
public:
  KernelBuffers(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  /// A tensor that the launches read, as a buffer with identity layout.
  Value input(Value tensor);
  /// An uninitialized buffer shaped as the tensor `like`.
  Value allocLike(Value like);
  /// An uninitialized f32 buffer of `shape` (kDynamic sizes from
  /// `dynamicSizes`).
  Value allocF32(ArrayRef<int64_t> shape, ValueRange dynamicSizes);
  /// `buffer` (from allocLike(like)), written by the launches, as a tensor
  /// of like's type.
  Value result(Value buffer, Value like);

private:
  OpBuilder &b;
  Location loc;
};

/// The largest block_k, `preferred` or a power-of-two fraction of it, whose
/// K and V tiles (f32) fit in `sharedBytes` of shared memory.
int64_t fitGpuBlockK(const AttentionProblem &problem, int64_t preferred,
                     int64_t sharedBytes);

/// Whether the GPU flash kernel can compute `problem` at all: K and V tiles
/// of one key (block_k = 1) fit in `sharedBytes` of shared memory. Otherwise
/// sets `reason`.
bool gpuFlashKernelCanCompute(const AttentionProblem &problem,
                              int64_t sharedBytes, std::string &reason);

/// The GPU kernel of a strategy written as `written`: every parameter it
/// writes (block_q, block_k, splits, tensor_cores) as written, the others
/// chosen from `preset` and the target: block_k fitted to shared memory,
/// tensor cores where the target has them and the op can use them, and
/// then fewer rows per block while their tiles do not fit.
GpuKernelConfig chooseGpuKernelConfig(const AttentionProblem &problem,
                                      const TargetDescription &target,
                                      StrategyAttr written,
                                      GpuKernelConfig preset);
/// #attn.strategy<"strategy", {...}> with the parameters of `config`
/// (splits only when `withSplits`).
StrategyAttr getGpuStrategyAttr(MLIRContext *context, StringRef strategy,
                                const GpuKernelConfig &config,
                                bool withSplits);

/// The schema entries of the GPU kernel's parameters.
inline constexpr StrategyParameter kGpuBlockQParameter = {
    "block_q", StrategyParameter::Type::Integer, 1, 1 << 20,
    StrategyParameter::Both,
    "query rows of a CPU task or of a GPU thread block (one thread each, "
    "at most 1024); chosen for K/V reuse and parallelism"};
inline constexpr StrategyParameter kGpuTensorCoresParameter = {
    "tensor_cores", StrategyParameter::Type::Integer, 0, 1,
    StrategyParameter::GPU,
    "1: f16/bf16 Q K^T on mma.sync (sm_80+); chosen from the target's "
    "tensor-cores option where the op's types allow it"};
inline constexpr StrategyParameter kGpuSplitsParameter = {
    "splits", StrategyParameter::Type::Integer, 1, 4096,
    StrategyParameter::Both,
    "key splits, merged by log-sum-exp; chosen to give every thread work"};

/// Checks a configuration on `op` before a kernel is built: block_q (threads
/// per block) from 1 to 1024, block_k from 1 to 1024 with its K and V tiles
/// within the configuration's shared memory, splits from 1 to 4096, and
/// tensor cores only for f16/bf16 q.k scores whose Q, K, V and score tiles
/// fit, and skipping empty tiles only with a mask operand. On failure emits
/// one error that names `strategy`, the parameter and the rule.
LogicalResult verifyGpuKernelConfig(Operation *op, StringRef strategy,
                                    const AttentionProblem &problem,
                                    const GpuKernelConfig &config);

/// Emits the kernel and its host-side copies before `problem.op`; returns
/// the results (the output, then its LSE where the op returns it).
SmallVector<Value> buildGpuFlashAttention(RewriterBase &rewriter,
                                          const AttentionProblem &problem,
                                          const GpuKernelConfig &config);

/// Name of the discardable attribute that carries a GpuKernelConfig on an
/// attn.online_attention for its GPU lowering
/// (attn-convert-online-attention-to-gpu).
inline constexpr llvm::StringLiteral kGpuKernelAttrName = "attn.gpu_kernel";

/// `config` as the dictionary of kGpuKernelAttrName (KernelConfigAttr.h):
/// {strategy, block_q, block_k, splits, shared_bytes : i64, tensor_cores,
/// skip_empty_tiles : bool}.
DictionaryAttr getGpuKernelAttr(MLIRContext *ctx, StringRef strategy,
                                const GpuKernelConfig &config);

/// The configuration in `op`'s kGpuKernelAttrName dictionary: every key
/// with its type and no other (the values are checked by
/// verifyGpuKernelConfig). On failure emits one error on `op` naming the
/// key. `strategy` is set to the dictionary's.
FailureOr<GpuKernelConfig> parseGpuKernelAttr(Operation *op,
                                              std::string &strategy);

/// The GPU lowering of one attn.online_attention: the flash kernel's
/// launches over the tile. Each row's thread reads its state from the op's
/// outs (unless they are the empty state's fills) and the op is replaced
/// by the updated (acc, max, sum); with splits, split 0 starts from the
/// state and the merge launch adds the others. From the empty state, when
/// an attn.finalize is the only user of acc and sum and max has none, the
/// kernel replaces that finalize too and writes the output. A
/// non-constant key position with sink keys is an error on `tile`.
LogicalResult lowerTileToGpuKernel(RewriterBase &rewriter,
                                   OnlineAttentionOp tile,
                                   const GpuKernelConfig &config);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_GPUFLASHKERNEL_H
