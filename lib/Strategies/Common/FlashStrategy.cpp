//===- FlashStrategy.cpp - The strategies over the flash kernels ----------===//
//
// See FlashStrategy.h.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/FlashStrategy.h"
#include "attn/Strategies/Common/FlashBackwardKernel.h"
#include "attn/Strategies/Common/GpuFlashBackwardKernel.h"
#include "attn/Strategies/Common/WholeProblemTile.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <string>

using namespace mlir;
using namespace mlir::attn;

ArrayRef<StrategyParameter> FlashStrategy::getParameters() const {
  static const StrategyParameter withSplits[] = {
      kGpuSplitsParameter,   kGpuBlockQParameter,    kFlashBlockKParameter,
      kFlashMicroQParameter, kFlashBf16DotParameter, kGpuTensorCoresParameter};
  return hasSplits() ? ArrayRef<StrategyParameter>(withSplits)
                     : ArrayRef<StrategyParameter>(withSplits).drop_front();
}

CostEstimate FlashStrategy::estimateCost(Operation *op,
                                         const TargetDescription &target,
                                         StrategyAttr strategy) const {
  AttentionProblem p = AttentionProblem::get(op);
  return estimateKernelCost(p, target, configFor(p, target, strategy));
}

bool FlashStrategy::isApplicable(Operation *op, const TargetDescription &target,
                                 std::string &reason) const {
  if (!acceptsOp(op, reason))
    return false;
  AttentionProblem p = AttentionProblem::get(op);
  if (p.isBackward)
    return target.kind == TargetDescription::Kind::GPU
               ? gpuFlashKernelCanCompute(p, target.gpuSharedBytes, reason)
               : flashBackwardCanCompute(p, reason);
  // The flash kernels compute the custom variants of attn.attention (the
  // tile op carries them) and a neighborhood's mods (on its coordinates),
  // its LSE (from the state, in the finalize they fuse) and its entropy (a
  // fourth part of the state).
  AttentionProblem::Computed computed;
  computed.scoreMod = computed.maskMod = true;
  computed.sinkLogits = !p.isNeighborhood;
  computed.lse = computed.entropy = true;
  if (std::string missing = p.unsupportedVariants(getName(), computed);
      !missing.empty()) {
    reason = missing;
    return false;
  }
  if (target.kind == TargetDescription::Kind::GPU)
    return gpuFlashKernelCanCompute(p, target.gpuSharedBytes, reason);
  return flashKernelCanCompute(p, configFor(p, target, StrategyAttr()), reason);
}

StrategyAttr FlashStrategy::chooseParameters(Operation *op,
                                             const TargetDescription &target,
                                             StrategyAttr requested) const {
  AttentionProblem p = AttentionProblem::get(op);
  MLIRContext *ctx = op->getContext();
  if (target.kind == TargetDescription::Kind::GPU)
    return getGpuStrategyAttr(ctx, getName(),
                              gpuConfigFor(p, target, requested), hasSplits());
  FlashKernelConfig config = configFor(p, target, requested);
  Builder b(ctx);
  SmallVector<NamedAttribute> params = {
      b.getNamedAttr("block_q", b.getI64IntegerAttr(config.blockQ)),
      b.getNamedAttr("block_k", b.getI64IntegerAttr(config.blockK)),
      b.getNamedAttr("micro_q", b.getI64IntegerAttr(config.microQ))};
  // The backward has no query blocks: block_q stays only where it was
  // written, for apply to refuse.
  if (p.isBackward && !(requested && requested.getParams() &&
                        requested.getParams().get("block_q")))
    params.erase(params.begin());
  if (hasSplits())
    params.push_back(
        b.getNamedAttr("splits", b.getI64IntegerAttr(config.splits)));
  // bf16_dot follows the target's features: written only where it was.
  if (requested && requested.getParams() &&
      requested.getParams().get("bf16_dot"))
    params.push_back(
        b.getNamedAttr("bf16_dot", b.getI64IntegerAttr(config.bf16Dot)));
  return StrategyAttr::get(ctx, getName(), b.getDictionaryAttr(params));
}

LogicalResult FlashStrategy::apply(RewriterBase &rewriter, Operation *op,
                                   StrategyAttr strategy,
                                   const TargetDescription &target) const {
  AttentionProblem p = AttentionProblem::get(op);
  // -debug-only=attn-strategy-NAME prints the configuration.
  std::string debugType = ("attn-strategy-" + getName()).str();
  auto debug = [&](StringRef kind, const auto &config) {
    ATTN_DEBUG_WITH_TYPE(debugType.c_str(),
                         llvm::dbgs() << "[" << debugType << "] " << kind
                                      << " kernel " << config << "\n");
  };
  // Neighborhoods and paged caches are not tile ops: the kernels build
  // them from the problem. Everything else becomes the tile op over the whole
  // problem, carrying the target's kernel configuration to that target's
  // lowering of it (lib/Conversion/AttnTo<Target>), and attn.finalize, which
  // the lowering fuses into the kernel.
  bool direct = p.isNeighborhood || p.isPaged();
  // A paged op's log-sum-exp goes into an init of its own, [B, Hq, Lq] like
  // the result's rows.
  if (p.isPaged() && p.returnLse) {
    rewriter.setInsertionPoint(op);
    SmallVector<OpFoldResult> rows =
        tensor::getMixedSizes(rewriter, op->getLoc(), p.init);
    rows.pop_back();
    p.lseInit = tensor::EmptyOp::create(rewriter, op->getLoc(), rows,
                                        rewriter.getF32Type());
  }
  auto viaTileOp = [&](StringRef attrName, DictionaryAttr config) {
    rewriter.setInsertionPoint(op);
    OnlineAttentionOp tile = createWholeProblemTile(rewriter, p);
    tile->setAttr(attrName, config);
    rewriter.replaceOp(op,
                       createFinalize(rewriter, p, tile.getAccResult(),
                                      tile.getSumResult(), tile.getMaxResult(),
                                      tile.getEntropyResult()));
  };
  MLIRContext *ctx = op->getContext();
  if (target.kind == TargetDescription::Kind::GPU) {
    GpuKernelConfig gpu = gpuConfigFor(p, target, strategy);
    if (failed(verifyGpuKernelConfig(op, getName(), p, gpu)))
      return failure();
    debug("GPU", gpu);
    if (p.isBackward)
      rewriter.replaceOp(op, buildGpuFlashBackward(rewriter, p, gpu));
    else if (direct)
      rewriter.replaceOp(op, buildGpuFlashAttention(rewriter, p, gpu));
    else
      viaTileOp(kGpuKernelAttrName, getGpuKernelAttr(ctx, getName(), gpu));
    return success();
  }
  if (p.isBackward && strategy && strategy.getParams() &&
      strategy.getParams().get("block_q"))
    return op->emitOpError()
           << getName()
           << " strategy parameter block_q does not apply to "
              "attn.attention_backward on the CPU: its tasks walk the keys in "
              "tiles of "
              "block_k, with micro-tiles of micro_q query rows";
  FlashKernelConfig config = configFor(p, target, strategy);
  if (failed(verifyFlashKernelConfig(op, getName(), p, config)))
    return failure();
  debug("CPU", config);
  if (p.isBackward) {
    rewriter.replaceOp(
        op, buildFlashBackward(rewriter, p, config,
                               flashBackwardHeadSplits(p, target.threads)));
    return success();
  }
  if (direct)
    rewriter.replaceOp(op, buildFlashAttention(rewriter, p, config));
  else
    viaTileOp(kCpuKernelAttrName, getCpuKernelAttr(ctx, getName(), config));
  return success();
}

FlashKernelConfig FlashStrategy::cpuDefaults(const TargetDescription &target) {
  FlashKernelConfig config;
  config.lanes = std::max<int64_t>(4, target.vectorBits / 32);
  config.blockK = 4 * config.lanes;
  // Where the problem allows it (withWritten).
  config.bf16Dot = target.bf16Dot;
  return config;
}

FlashKernelConfig FlashStrategy::withWritten(const AttentionProblem &p,
                                             FlashKernelConfig config,
                                             StrategyAttr written) {
  if (written) {
    config.blockQ = written.getIntParam("block_q", config.blockQ);
    config.blockK = written.getIntParam("block_k", config.blockK);
    config.microQ = written.getIntParam("micro_q", config.microQ);
    config.splits = written.getIntParam("splits", config.splits);
  }
  if (written && written.getParams() && written.getParams().get("bf16_dot"))
    config.bf16Dot = written.getIntParam("bf16_dot", 0) != 0;
  else
    config.bf16Dot = config.bf16Dot && flashBf16DotRefusal(p, config).empty();
  if (!p.isBackward)
    fitFlashBlockDvToRegisters(config);
  return config;
}
