//===- SplitKVStrategy.cpp - Split-KV decode ------------------------------===//
//
// The `split_kv` strategy for decode shapes (few queries, long keys): the
// keys of each query block are split among parallel tasks; each computes a
// partial state with the online softmax, normalized to (O, LSE), and
// attn.merge_states combines them (softmax and softplus scores only).
// Scores are dot products over the head dimension read straight from K, so
// K and V stream from memory once. Parameters: splits, block_k, micro_q.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/FlashStrategy.h"

#include "mlir/IR/Builders.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {

class SplitKVStrategy final : public FlashStrategy {
public:
  StringRef getName() const override { return "split_kv"; }

  /// Bytes of one split's partial state: O, max and sum (f32) per query
  /// row.
  static double partialStateBytes(const AttentionProblem &p) {
    return knownOr(p.batch, 1) * p.headsKV * p.groupSize() *
           knownOr(p.queryLength(), 1) * (p.valueDim + 2) * 4.0;
  }
  StringRef getDescription() const override {
    return "decode: keys split across threads, merged by log-sum-exp";
  }

  CostEstimate
  estimateKernelCost(const AttentionProblem &p, const TargetDescription &target,
                     const FlashKernelConfig &config) const override {
    double lq = knownOr(p.queryLength(), 1), lk = knownOr(p.keyLength(), 4096);
    double batch = knownOr(p.batch, 1);
    double allowed =
        static_cast<double>(p.countAllowedPairs({int64_t(lq)}, {int64_t(lk)}));
    CostEstimate cost;
    // Every query row of a block is computed (rows padded to micro_q).
    double rowsPerBlock =
        std::ceil(p.groupSize() * lq / double(config.microQ)) * config.microQ;
    double pairs = batch * p.headsKV * rowsPerBlock * allowed / lq;
    cost.flops = pairs * (2.0 * p.headDim + 2.0 * p.valueDim + 8.0);
    double elem = p.elementType.getIntOrFloatBitWidth() / 8.0;
    cost.bytes = batch * p.headsKV * lk * (p.headDim + p.valueDim) * elem +
                 batch * p.headsQ * lq * (p.headDim + p.valueDim) * elem;
    cost.parallelism = batch * p.headsKV * config.splits;
    cost.extraBytes = config.splits * partialStateBytes(p);
    // Horizontal sums per key cost about as much as the FMAs: ~35% of peak
    // when compute-bound; long prefill is far better served by `tiled`.
    cost.efficiency = 0.35;
    cost.serialSeconds =
        flashKernelSerialSeconds(p, config, batch, lq, lk, target.ghz);
    return cost;
  }

protected:
  bool acceptsOp(Operation *op, std::string &reason) const override {
    if (!isa<AttentionOp, PagedAttentionOp>(op)) {
      reason = "computes attn.attention and attn.paged_attention only "
               "(decode shapes)";
      return false;
    }
    // The splits' states merge by their log-sum-exp (attn.merge_states);
    // kernel weights may be negative and have none.
    if (!AttentionProblem::get(op).score.tracksRowMax()) {
      reason = "kernel scores have no log-sum-exp by which attn.merge_states "
               "could merge the splits (linear or tiled computes them)";
      return false;
    }
    return true;
  }
  bool hasSplits() const override { return true; }

  /// One block of 32 to 128 threads per head's queries; the CPU's splits.
  GpuKernelConfig gpuConfigFor(const AttentionProblem &p,
                               const TargetDescription &target,
                               StrategyAttr written) const override {
    FlashKernelConfig cpu = configFor(p, target, StrategyAttr());
    GpuKernelConfig preset;
    preset.blockQ = std::max<int64_t>(32, std::min<int64_t>(128, cpu.blockQ));
    preset.blockK = 32;
    preset.splits = cpu.splits;
    return chooseGpuKernelConfig(p, target, written, preset);
  }

  FlashKernelConfig configFor(const AttentionProblem &p,
                              const TargetDescription &target,
                              StrategyAttr written) const override {
    FlashKernelConfig config = cpuDefaults(target);
    config.packKeys = false;
    int64_t lq = knownOr(p.queryLength(), 1);
    // One block holds every query of a head group.
    config.blockQ = std::max<int64_t>(1, std::min<int64_t>(lq, 64));
    config.microQ =
        std::max<int64_t>(1, std::min<int64_t>(6, p.groupSize() * config.blockQ));
    // A paged cache: tiles of one page (whole vectors of keys, at most the
    // default 4 vectors), so that the kernel's pass over the KV heads in
    // each tile reads the page's [Hkv, page_size, D] block in order (pages
    // of 16 keys: 5-7% faster than 4 pages a tile in one interleaved run,
    // equal in another).
    if (p.isPaged())
      config.blockK =
          std::min<int64_t>(config.blockK, (p.pageSize + config.lanes - 1) /
                                               config.lanes * config.lanes);
    // Enough splits to give every thread several tasks, each at least a few
    // tiles long.
    int64_t lk = knownOr(p.keyLength(), 4096);
    int64_t tiles = std::max<int64_t>(1, (lk + config.blockK - 1) / config.blockK);
    // Heads run one after another; the tasks of one head are its query
    // blocks times the splits.
    int64_t blocks = (lq + config.blockQ - 1) / config.blockQ;
    int64_t splits =
        std::max<int64_t>(1, (4 * target.threads + blocks - 1) / blocks);
    // The splits' partial states (O, max and sum per query row and split,
    // in f32) take at most the larger of K and V's bytes and 16 MiB: decode
    // (a few rows per head) and short prefills split freely, a long prefill
    // hardly at all (a GPU target, which counts its threads in the hundreds
    // of thousands, would otherwise split an L = 8192 prefill 128 ways into
    // GiBs of partials).
    double batch = knownOr(p.batch, 1);
    double kvBytes = batch * p.headsKV * double(lk) * (p.headDim + p.valueDim) *
                     (p.elementType.getIntOrFloatBitWidth() / 8.0);
    double budget = std::max(kvBytes, 16.0 * (1 << 20));
    int64_t bySize = static_cast<int64_t>(
        std::min(4096.0, std::floor(budget / partialStateBytes(p))));
    // At most the 4096 splits the kernels accept.
    config.splits = std::max<int64_t>(
        1, std::min<int64_t>({splits, tiles / 4, bySize, int64_t(4096)}));
    fitFlashBlockQToStack(p, config);
    return withWritten(p, config, written);
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createSplitKVStrategy() {
  return std::make_unique<SplitKVStrategy>();
}
