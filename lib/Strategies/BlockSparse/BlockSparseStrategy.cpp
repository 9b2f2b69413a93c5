//===- BlockSparseStrategy.cpp - Block-sparse attention over a mask -------===//
//
// The `block_sparse` strategy, for attn.attention with a mask operand: the
// mask is summarized per (block_q x block_k) block; empty blocks are never
// visited and full blocks are computed without the element-wise mask
// (FlexAttention's BlockMask). For a constant mask the layout is computed at
// compile time into compressed lists (CSR: per query block, its non-empty
// key tiles and whether each is full); for a runtime mask the block summary
// is computed once per call and shared by every head the mask broadcasts
// over. The tiles themselves run the shared FlashAttention-2 kernel. On
// the GPU the host counts the allowed keys of each block (MaskTiles.h) and
// the kernel skips the empty ones; full blocks still read the mask.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/FlashStrategy.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;

namespace {

class BlockSparseStrategy final : public FlashStrategy {
public:
  StringRef getName() const override { return "block_sparse"; }
  StringRef getDescription() const override {
    return "skips the mask's empty blocks, unmasked full blocks";
  }

  CostEstimate
  estimateKernelCost(const AttentionProblem &p, const TargetDescription &target,
                     const FlashKernelConfig &config) const override {
    double lq = knownOr(p.queryLength(), 1024), lk = knownOr(p.keyLength(), 1024);
    double batch = knownOr(p.batch, 1);
    // The fraction of blocks visited: known for a constant mask; a runtime
    // mask is assumed dense (selection cannot see its values), so `tiled`
    // is preferred then unless this strategy is asked for. The GPU kernel
    // skips the same empty tiles (it counts them at run time).
    double density = 1.0, overhead = 1.05;
    DenseElementsAttr constant;
    if (matchPattern(p.mask, m_Constant(&constant)) &&
        cast<RankedTensorType>(p.mask.getType()).hasStaticShape()) {
      density = blockDensity(constant, config);
      overhead = 1.0;
    }
    CostEstimate cost;
    double pairs = batch * p.headsQ * lq * lk * density;
    cost.flops = pairs * (2.0 * p.headDim + 2.0 * p.valueDim + 6.0) * overhead;
    cost.bytes = batch * (p.headsQ * lq * (p.headDim + p.valueDim) +
                          2.0 * p.headsKV * lk * (p.headDim + p.valueDim)) *
                     4.0 +
                 lq * lk; // one pass over the mask
    // Tasks are (batch, KV head, query block) triples.
    cost.parallelism = batch * p.headsKV * std::ceil(lq / config.blockQ);
    cost.extraBytes = batch * p.headsKV * lk * p.headDim * 4.0 + lq * lk;
    cost.efficiency = 0.5;
    return cost;
  }

protected:
  bool acceptsOp(Operation *op, std::string &reason) const override {
    auto attention = dyn_cast<AttentionOp>(op);
    if (!attention) {
      reason = "computes attn.attention only";
      return false;
    }
    if (!attention.getMask()) {
      reason = "needs a mask operand";
      return false;
    }
    return true;
  }

  GpuKernelConfig gpuConfigFor(const AttentionProblem &p,
                               const TargetDescription &target,
                               StrategyAttr written) const override {
    GpuKernelConfig preset;
    preset.skipEmptyTiles = true;
    return chooseGpuKernelConfig(p, target, written, preset);
  }

  static double blockDensity(DenseElementsAttr mask,
                             const FlashKernelConfig &config) {
    ArrayRef<int64_t> shape = cast<ShapedType>(mask.getType()).getShape();
    int64_t lq = shape[2], lk = shape[3];
    int64_t nqb = (lq + config.blockQ - 1) / config.blockQ;
    int64_t nt = (lk + config.blockK - 1) / config.blockK;
    SmallVector<bool> bits = llvm::to_vector(mask.getValues<bool>());
    int64_t planes = shape[0] * shape[1], visited = 0;
    for (int64_t plane = 0; plane < planes; ++plane)
      for (int64_t qb = 0; qb < nqb; ++qb)
        for (int64_t t = 0; t < nt; ++t) {
          bool any = false;
          for (int64_t i = qb * config.blockQ;
               !any && i < std::min(lq, (qb + 1) * config.blockQ); ++i)
            for (int64_t j = t * config.blockK;
                 !any && j < std::min(lk, (t + 1) * config.blockK); ++j)
              any = bits[(plane * lq + i) * lk + j];
          visited += any;
        }
    return planes * nqb * nt > 0 ? double(visited) / (planes * nqb * nt) : 0.0;
  }

  FlashKernelConfig configFor(const AttentionProblem &p,
                              const TargetDescription &target,
                              StrategyAttr written) const override {
    FlashKernelConfig config = cpuDefaults(target);
    // Query blocks of 128 rows line up with the usual block-mask layouts
    // (multiples of 64 or 128), so that their blocks are full or empty.
    config.blockQ = 128;
    config.blockSparse = true;
    int64_t lq = knownOr(p.queryLength(), 4096);
    if (lq < config.blockQ)
      config.blockQ = std::max<int64_t>(1, lq);
    config.microQ = std::min<int64_t>(config.microQ,
                                      p.groupSize() * config.blockQ);
    fitFlashBlockQToStack(p, config);
    return withWritten(p, config, written);
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createBlockSparseStrategy() {
  return std::make_unique<BlockSparseStrategy>();
}
