//===- TiledStrategy.cpp - FlashAttention-2 tiling on the CPU -------------===//
//
// The `tiled` strategy: query tiles x KV tiles with an online softmax in
// f32 (FlashAttention-2), skipping KV tiles that causal, window or sinks rule
// out, masking only partial tiles, and sharing each K/V tile among the query
// heads of a GQA group. Parameters: block_q (query rows per head per task;
// GPU: per thread block), block_k (keys per tile), micro_q (CPU: rows held
// in registers), tensor_cores (GPU).
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/FlashStrategy.h"

#include "mlir/IR/Builders.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;

namespace {

class TiledStrategy final : public FlashStrategy {
public:
  StringRef getName() const override { return "tiled"; }
  StringRef getDescription() const override {
    return "FlashAttention-2: online softmax over KV tiles, register-blocked";
  }

  CostEstimate
  estimateKernelCost(const AttentionProblem &p, const TargetDescription &target,
                     const FlashKernelConfig &config) const override {
    int64_t lq = knownOr(p.queryLength(), 1024);
    int64_t lk = knownOr(p.keyLength(), 1024);
    double batch = knownOr(p.batch, 1);
    double full = static_cast<double>(lq) * lk;
    double rowTile = config.microQ, keyTile = config.blockK;
    double pairs;
    if (p.isNeighborhood) {
      // The rule is computed per element over the flattened positions; a
      // micro-tile visits the key tiles between its rows' first and last
      // window corners: about (kernel - 1) * dilation rows of the leading
      // axis times the rest of the grid.
      double span = 1, inner = 1;
      for (size_t a = p.queryShape.size(); a-- > 0;) {
        double extent = knownOr(p.queryShape[a], 64);
        if (a == 0)
          span = std::min<double>(
              lk, (double(p.kernel[a]) * p.dilation[a] + rowTile) * inner +
                      keyTile);
        inner *= extent;
      }
      pairs = batch * p.headsQ * lq * std::min<double>(lk, span);
    } else {
      // Allowed pairs rounded out to whole tiles.
      double allowed = static_cast<double>(p.countAllowedPairs({lq}, {lk}));
      double waste = p.hasStructuralMask()
                         ? std::min(full - allowed,
                                    (lq / rowTile + lk / keyTile) * rowTile *
                                        keyTile)
                         : 0.0;
      pairs = batch * p.headsQ * (allowed + waste);
    }
    CostEstimate cost;
    cost.flops = pairs * (2.0 * p.headDim + 2.0 * p.valueDim + 6.0);
    // The backward: q.k and dO.v again, then dV, dK and dQ.
    if (p.isBackward)
      cost.flops = pairs * (6.0 * p.headDim + 4.0 * p.valueDim + 10.0);
    // Scores without an LSE (softplus; kernel scores on a GPU) form each
    // row's normalizer in a first sweep (launch): q.k once more.
    if (p.isBackward && !p.score.getFunction()->scoresInLog2Domain())
      cost.flops += pairs * (2.0 * p.headDim + 10.0);
    double elem = 4.0;
    // In doubles: each size may be up to 2^31 - 1.
    double dims = double(p.headDim) + double(p.valueDim);
    cost.bytes = batch * (double(p.headsQ) * lq * dims +
                          2.0 * p.headsKV * lk * dims) *
                 elem;
    // On the CPU: the packed K tiles and each thread's accumulators. The GPU
    // kernel stages its tiles in shared memory and keeps its accumulators
    // in registers: no scratch in device memory.
    cost.extraBytes =
        target.kind == TargetDescription::Kind::GPU
            ? 0.0
            : double(p.headsKV) * batch * lk * p.headDim * 4.0 +
                  double(target.threads) * p.groupSize() * config.blockQ *
                      (double(p.valueDim) + 2) * 4.0;
    // Tasks are (batch, KV head, query block) triples; in the CPU backward
    // (batch, KV head) pairs, whose GQA group may be split among tasks,
    // and in the GPU backward thread blocks of block_q query rows of each
    // query head (launch 3; launch 2 has one per block_q keys of each KV
    // head).
    int64_t blocks = (lq + config.blockQ - 1) / config.blockQ;
    if (!p.isBackward)
      cost.parallelism = batch * p.headsKV * static_cast<double>(blocks);
    else if (target.kind == TargetDescription::Kind::GPU)
      cost.parallelism = batch * p.headsQ * static_cast<double>(blocks);
    else
      cost.parallelism = batch * p.headsKV * p.groupSize();
    // Register-blocked FMA loops reach about 60% of peak; tiny problems and
    // heavy masking less.
    cost.efficiency = 0.6 * std::min(1.0, lk / 256.0 + 0.25);
    if (p.mask || p.isNeighborhood)
      cost.efficiency *= 0.8;
    // elu1/relu: phi of q and K in scalar code; it dominates short
    // sequences.
    cost.serialSeconds =
        flashKernelSerialSeconds(p, config, batch, lq, lk, target.ghz);
    return cost;
  }

protected:
  bool acceptsOp(Operation *op, std::string &reason) const override {
    if (isa<AttentionOp, NeighborhoodOp, AttentionBackwardOp,
            NeighborhoodBackwardOp, PagedAttentionOp>(op))
      return true;
    reason = "computes attn.attention, attn.neighborhood, their backward "
             "ops and attn.paged_attention";
    return false;
  }

  /// One query row per thread, 128 threads; 32 keys per shared tile.
  GpuKernelConfig gpuConfigFor(const AttentionProblem &p,
                               const TargetDescription &target,
                               StrategyAttr written) const override {
    GpuKernelConfig preset;
    preset.blockQ = 128;
    preset.blockK = 32;
    return chooseGpuKernelConfig(p, target, written, preset);
  }

  FlashKernelConfig configFor(const AttentionProblem &p,
                              const TargetDescription &target,
                              StrategyAttr written) const override {
    FlashKernelConfig config = cpuDefaults(target);
    if (p.isBackward) {
      // A micro-tile holds S and dP, micro_q x block_k each, in registers:
      // two key vectors and as many rows as fill the register file (16
      // vector registers before AVX-512, 32 with it). On AVX2, causal
      // B=1 H=8 L=4096 D=64, 2 threads: 397-415 ms with block_k 16 and
      // micro_q 4, 500-505 ms with the forward's 32 and 6.
      config.blockK = 2 * config.lanes;
      config.microQ = (target.vectorBits >= 512 ? 32 : 16) / (2 * 2);
      return withWritten(p, config, written);
    }
    int64_t lq = knownOr(p.queryLength(), 4096);
    int64_t batch = knownOr(p.batch, 1);
    // About 256 rows per task across the GQA group (K/V reuse), fewer when
    // that leaves fewer than four tasks per thread: on short sequences the
    // smaller blocks' O accumulators stay in L1 and the threads share the
    // work more evenly (B=1 H=4 L=256 D=64 on 2 threads: 0.42 ms with 128
    // rows, 0.78 ms with 256; at L=4096 the two are within 4%).
    auto roundUp = [&](int64_t rows) {
      return std::max<int64_t>(config.microQ,
                               (rows + config.microQ - 1) / config.microQ *
                                   config.microQ);
    };
    int64_t blockQ = roundUp(std::min<int64_t>(256 / p.groupSize(), lq));
    while (blockQ > config.microQ &&
           double(batch) * p.headsKV * ((lq + blockQ - 1) / blockQ) <
               4 * target.threads)
      blockQ = roundUp(blockQ / 2);
    // Whole micro-tiles, but no more rows than there are queries.
    config.blockQ = std::min(blockQ, lq);
    // Few queries (decode): one block per head group, micro-tiles across
    // the group's heads.
    if (lq < config.microQ) {
      config.blockQ = lq;
      config.microQ = std::min<int64_t>(6, p.groupSize() * lq);
    }
    fitFlashBlockQToStack(p, config);
    return withWritten(p, config, written);
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createTiledStrategy() {
  return std::make_unique<TiledStrategy>();
}
