//===- FlashStrategy.h - The strategies over the flash kernels --*- C++ -*-===//
//
// tiled, split_kv and block_sparse are presets of the same FlashAttention-2
// kernels (FlashKernel.h on the CPU, GpuFlashKernel.h on a GPU). This base
// does what they share: the kernels' applicability checks, the parameters
// written back on the op, the written parameters taking precedence over
// the preset, and apply. A derived strategy gives its name, its schema, its
// cost model, which ops it accepts, and its presets (configFor,
// gpuConfigFor).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_FLASHSTRATEGY_H
#define ATTN_STRATEGIES_COMMON_FLASHSTRATEGY_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/FlashKernel.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Strategy.h"

namespace mlir::attn {

class FlashStrategy : public Strategy {
public:
  /// block_q, block_k, micro_q, tensor_cores (and first splits, when the
  /// strategy has them).
  ArrayRef<StrategyParameter> getParameters() const final;
  /// The derived strategy's cost model for the CPU configuration (configFor)
  /// of `strategy`.
  CostEstimate estimateCost(Operation *op, const TargetDescription &target,
                            StrategyAttr strategy) const final;
  /// acceptsOp, then whether the target's kernel can compute the op.
  /// The flash kernels compute the LSE and the entropy (isApplicable
  /// declines them where they do not).
  bool knowsRowStatistics() const override { return true; }
  /// The CPU and GPU kernels dequantize K/V as they read them.
  bool dequantizesKV(const TargetDescription &) const override {
    return true;
  }
  /// The CPU and GPU kernels read a paged cache through its page table.
  bool readsPagedKV(const TargetDescription &) const override { return true; }
  bool isApplicable(Operation *op, const TargetDescription &target,
                    std::string &reason) const final;
  /// The preset completed by what `requested` writes: block_q, block_k,
  /// micro_q (and splits when the strategy has them) on a CPU; the GPU
  /// kernel's parameters on a GPU.
  StrategyAttr chooseParameters(Operation *op, const TargetDescription &target,
                                StrategyAttr requested) const final;
  /// Checks the configuration's limits (an error names the limit) and
  /// replaces the op by the target's kernel. `-debug-only=attn-strategy-NAME`
  /// prints the configuration.
  LogicalResult apply(RewriterBase &rewriter, Operation *op,
                      StrategyAttr strategy,
                      const TargetDescription &target) const final;

protected:
  /// Whether the strategy computes this kind of op at all; else sets
  /// `reason`.
  virtual bool acceptsOp(Operation *op, std::string &reason) const = 0;
  /// The CPU configuration: the preset, then what `written` writes
  /// (withWritten).
  virtual FlashKernelConfig configFor(const AttentionProblem &p,
                                      const TargetDescription &target,
                                      StrategyAttr written) const = 0;
  /// The GPU configuration (through chooseGpuKernelConfig).
  virtual GpuKernelConfig gpuConfigFor(const AttentionProblem &p,
                                       const TargetDescription &target,
                                       StrategyAttr written) const = 0;
  /// The cost of computing `p` with `config` on `target`.
  virtual CostEstimate
  estimateKernelCost(const AttentionProblem &p, const TargetDescription &target,
                     const FlashKernelConfig &config) const = 0;
  /// Whether `splits` is one of the strategy's parameters.
  virtual bool hasSplits() const { return false; }

  /// The CPU kernel's starting point on `target`: its vector lanes (at
  /// least 4), block_k of four vectors, the other fields as
  /// FlashKernelConfig declares them.
  static FlashKernelConfig cpuDefaults(const TargetDescription &target);
  /// `preset` with block_q, block_k, micro_q and splits replaced where
  /// `written` (checked against the schema) writes them; then, for the
  /// forward kernel, block_dv fitted to the vector registers
  /// (fitFlashBlockDvToRegisters).
  static FlashKernelConfig withWritten(const AttentionProblem &p,
                                       FlashKernelConfig preset,
                                       StrategyAttr written);
};

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_FLASHSTRATEGY_H
