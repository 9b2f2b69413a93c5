//===- LinearStrategy.cpp - Linearized kernel attention -------------------===//
//
// The `linear` strategy: attn.attention with a kernel score (elu1, relu,
// taylor2, identity; normalized or not) and no mask, bias, window or
// softcap, computed in O(L F Dv) through the state S = sum phi(k) v^T and
// z = sum phi(k), with causal attention in chunks of `chunk` queries (a
// masked quadratic step inside a chunk, the running state across chunks, as
// Lightning Attention). One task per (batch, KV head); the query heads of a
// GQA group share the state. Parameter: chunk.
//
// Numerics: f32 accumulation throughout; the result differs from
// `reference` only by summation order. Against float64, with inputs of
// magnitude up to 30 sigma, the integration tests hold |err| <= 2e-5 +
// 2e-4 |ref| for elu1, relu and taylor2 (all weights positive), and for
// identity |err| <= 2e-5 + 2e-4 |ref| + 1e-6 (sum_j |w_ij| |v_j|) / |sum_j
// w_ij|: normalized identity weights can cancel, and the error grows with
// that condition number as it does for `reference` itself.
//
//===----------------------------------------------------------------------===//

#include "LinearKernel.h"

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/AttentionProblem.h"

#include "mlir/IR/Builders.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Scratch of one task that a thread's stack holds comfortably.
constexpr int64_t kScratchLimit = 2 << 20;

class LinearStrategy final : public Strategy {
public:
  StringRef getName() const override { return "linear"; }
  StringRef getDescription() const override {
    return "kernel scores in O(L F Dv): running state phi(K)^T V, causal in "
           "chunks";
  }

  bool isApplicable(Operation *op, const TargetDescription &target,
                    std::string &reason) const override {
    if (!isa<AttentionOp>(op)) {
      reason = "computes attn.attention only";
      return false;
    }
    AttentionProblem p = AttentionProblem::get(op);
    if (!p.score.isKernel()) {
      reason = "needs a kernel score (#attn.score<kernel<...>>)";
      return false;
    }
    if (p.mask || p.bias || p.hasWindow || p.softcap) {
      reason = std::string(p.mask ? "mask" : p.bias ? "bias"
                                         : p.hasWindow ? "window"
                                                       : "softcap") +
               " is not supported";
      return false;
    }
    LinearKernelConfig config = configFor(p, target, StrategyAttr());
    int64_t scratch = LinearLayout::get(p, config).scratchBytes(p.causal);
    if (scratch > kScratchLimit) {
      reason = "a state of " + std::to_string(scratch >> 10) +
               " KiB per head exceeds the " +
               std::to_string(kScratchLimit >> 10) + " KiB scratch limit";
      return false;
    }
    return true;
  }

  StrategyAttr chooseParameters(Operation *op, const TargetDescription &target,
                                StrategyAttr requested) const override {
    LinearKernelConfig config =
        configFor(AttentionProblem::get(op), target, requested);
    Builder b(op->getContext());
    return StrategyAttr::get(
        op->getContext(), getName(),
        b.getDictionaryAttr(
            {b.getNamedAttr("chunk", b.getI64IntegerAttr(config.chunk))}));
  }

  CostEstimate estimateCost(Operation *op, const TargetDescription &target,
                            StrategyAttr strategy) const override {
    AttentionProblem p = AttentionProblem::get(op);
    LinearKernelConfig config = configFor(p, target, strategy);
    LinearLayout l = LinearLayout::get(p, config);
    double lq = knownOr(p.queryLength(), 1024);
    double lk = knownOr(p.keyLength(), 1024);
    double tasks = knownOr(p.batch, 1) * p.headsKV;
    double chunks = std::ceil(lq / l.chunk);
    // Per task: every key joins the state once (rank-1 updates of S and z);
    // every chunk's rows read the state (phi(Q) S, phi(Q) . z); causal
    // chunks add the masked quadratic step (scores over the chunk's keys,
    // then P V over the keys each register tile may see).
    double absorb = lk * (2.0 * l.stateRows * l.paddedDv + l.featureWidth);
    double perChunk = l.rows * (2.0 * l.features * l.paddedDv +
                                3.0 * l.featureWidth);
    if (p.causal)
      perChunk += l.rows * (2.0 * l.d * l.paddedChunk + l.paddedChunk +
                            2.0 * l.paddedDv *
                                (l.chunk / 2.0 + l.rowTile / (2.0 * l.group)));
    CostEstimate cost;
    cost.flops = tasks * (absorb + chunks * perChunk);
    double elem = p.elementType.getIntOrFloatBitWidth() / 8.0;
    cost.bytes = knownOr(p.batch, 1) *
                 (p.headsQ * lq * (p.headDim + p.valueDim) +
                  p.headsKV * lk * (p.headDim + p.valueDim)) *
                 elem;
    cost.parallelism = tasks;
    cost.extraBytes = std::min<double>(tasks, target.threads) *
                      l.scratchBytes(p.causal);
    // Register tiles of rank-1 updates with broadcast operands: about 45%
    // of the FMA peak, measured (bench/run_bench.py --suites linear).
    cost.efficiency = 0.45;
    return cost;
  }

  LogicalResult apply(RewriterBase &rewriter, Operation *op,
                      StrategyAttr strategy,
                      const TargetDescription &target) const override {
    std::string reason;
    if (!isApplicable(op, target, reason))
      return op->emitOpError() << "linear strategy cannot compute this op: "
                               << reason;
    AttentionProblem p = AttentionProblem::get(op);
    LinearKernelConfig config = configFor(p, target, strategy);
    if (config.chunk < 1)
      return op->emitOpError() << "linear strategy needs chunk >= 1";
    if (LinearLayout::get(p, config).scratchBytes(p.causal) > kScratchLimit)
      return op->emitOpError()
             << "linear strategy: chunk = " << config.chunk
             << " needs more than " << (kScratchLimit >> 10)
             << " KiB of scratch per head";
    Value result = buildLinearAttention(rewriter, p, config);
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  LinearKernelConfig configFor(const AttentionProblem &p,
                               const TargetDescription &target,
                               StrategyAttr requested) const {
    LinearKernelConfig config;
    config.lanes = std::max<int64_t>(4, target.vectorBits / 32);
    // 32 vector registers with AVX-512, 16 below.
    config.accumulators = target.vectorBits >= 512 ? 24 : 12;
    // Chunks of 64 queries; the rows of a chunk (G heads x chunk) stay near
    // 64 with GQA; short sequences use one chunk.
    int64_t chunk = std::max<int64_t>(config.lanes, 64 / p.groupSize());
    int64_t lq = knownOr(p.queryLength(), 1 << 20);
    config.chunk = std::min(chunk, (lq + config.lanes - 1) / config.lanes *
                                       config.lanes);
    if (requested)
      config.chunk = requested.getIntParam("chunk", config.chunk);
    return config;
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createLinearStrategy() {
  return std::make_unique<LinearStrategy>();
}
