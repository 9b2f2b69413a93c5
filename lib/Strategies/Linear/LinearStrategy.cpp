//===- LinearStrategy.cpp - Linearized kernel attention -------------------===//
//
// The `linear` strategy: attn.attention with a kernel score (elu1, relu,
// taylor2, identity; normalized or not) and no mask, bias, window or
// softcap, computed in O(L F Dv) through the state S = sum phi(k) v^T and
// z = sum phi(k), with causal attention in chunks of `chunk` queries (a
// masked quadratic step inside a chunk, the running state across chunks, as
// Lightning Attention). One task per (batch, KV head), in parallel unless
// the whole op is a few microseconds of work; the query heads of a GQA
// group share the state. Parameters: chunk (queries per chunk) and
// tile_rows (rows of the output register tiles; chosen when absent). On a
// GPU target: LinearGpuKernel.cpp, a thread block per (batch, query head)
// (the parameters do not apply). attn.attention_backward with the same
// restrictions, on the CPU: LinearBackwardKernel.cpp, a forward and a
// reverse pass over the same chunks.
//
// Numerics: f32 accumulation throughout (low-precision inputs are extended
// on load); the result differs from `reference` only by summation order.
// The tolerance that holds, against float64: |err| <= 1e-6 cond per output
// element, cond = (sum_j |w_ij| |v_j| + |o_i| sum_j |w_ij|) / |sum_j w_ij|
// (sum_j |w_ij| |v_j| without normalization; check_case.py --kappa).
// Measured: at most 4.3e-7 cond with q, k of magnitude 30 sigma (elu1,
// unnormalized taylor2 sums near 1e7, identity weights of both signs with
// cond up to 7e4: test/Integration/linear-adversarial.mlir, `reference` and
// `tiled` alike), and 1.8e-7 cond for causal elu1 at L = 64k (N(0,1)
// inputs: |err| <= 2.2e-7). Normalized weights are positive for elu1, relu
// and taylor2, so cond <= 2 max |v| there; identity weights can cancel,
// and rows whose sum cancels lose digits in every strategy alike.
//
//===----------------------------------------------------------------------===//

#include "LinearGpuKernel.h"
#include "LinearKernel.h"

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Support/Debug.h"

#include "mlir/IR/Builders.h"

#include <algorithm>
#include <cmath>

#define DEBUG_TYPE "attn-strategy-linear"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Fraction of the FMA peak the kernel reaches on what countFlops counts
/// (register tiles of rank-1 updates with broadcast operands; calibrated
/// with bench/run_bench.py --suites linear).
constexpr double kEfficiency = 0.45;
/// Work below which the tasks run on one thread: a parallel region costs a
/// few microseconds, and far more when the other cores are busy.
constexpr double kSerialSeconds = 20e-6;
/// GPU kernel limits: threads per block and static shared memory.
constexpr int64_t kGpuMaxThreads = 1024;
/// Fraction of the GPU's FMA peak the kernel is assumed to reach: each FMA
/// reads and writes the state in global memory (not yet measured: no GPU).
constexpr double kGpuEfficiency = 0.02;

/// FLOPs of the FMA loops, plus 32 per other vector instruction (one issue
/// slot of an FMA): phi of elu1 is a polynomial exp of ~27 instructions per
/// vector, taylor2's quadratic features ~3 per vector.
double countFlops(const AttentionProblem &p, const LinearLayout &l) {
  double lq = knownOr(p.queryLength(), 1024);
  double lk = knownOr(p.keyLength(), 1024);
  double tasks = knownOr(p.batch, 1) * p.headsKV;
  double chunks = std::ceil(lq / l.chunk);
  double slot = 32.0 / l.lanes; // per element of a vector instruction
  double phi = p.score.getFunction()->getFeatureMapCost() * slot;
  double features = l.d * phi;
  if (l.taylor)
    features += 3.0 * slot * (l.features - l.d);
  // Per task: every key joins the state once (rank-1 updates of S and z);
  // every chunk's rows read the state (phi(Q) S, phi(Q) . z) and are
  // written out; causal chunks add the masked quadratic step (kT by
  // shuffles, scores over the chunk's keys, then P V over the keys each
  // register tile may see).
  double absorb = lk * (2.0 * l.stateRows * l.paddedDv +
                        l.featureWidth * slot + features);
  double perChunk = l.rows * (2.0 * l.features * l.paddedDv +
                              l.featureWidth * (2.0 + slot) + features) +
                    l.group * l.chunk * 3.0 * l.paddedDv * slot;
  if (p.causal)
    perChunk += l.d * l.paddedChunk * 6.0 * slot +
                l.rows * (2.0 * l.d * l.paddedChunk +
                          l.paddedChunk * (l.taylor ? 6.0 : 3.0) * slot +
                          2.0 * l.paddedDv *
                              (l.chunk / 2.0 + l.rowTile / (2.0 * l.group)));
  return tasks * (absorb + chunks * perChunk);
}

class LinearStrategy final : public Strategy {
public:
  StringRef getName() const override { return "linear"; }
  StringRef getDescription() const override {
    return "kernel scores in O(L F Dv): running state phi(K)^T V, causal in "
           "chunks";
  }

  ArrayRef<StrategyParameter> getParameters() const override {
    static const StrategyParameter parameters[] = {
        {"chunk", StrategyParameter::Type::Integer, 1, (1ll << 31) - 1,
         StrategyParameter::Both,
         "queries per chunk (CPU; causal chunks weigh their own keys "
         "directly), or recent keys each causal query weighs directly (GPU); "
         "32 causal, 64 across the GQA group otherwise"},
        {"tile_rows", StrategyParameter::Type::Integer, 1, 32,
         StrategyParameter::CPU,
         "rows of the CPU kernel's output register tiles; chosen from the "
         "head dimensions"}};
    return parameters;
  }

  /// The LSE is softmax's (never linear's); isApplicable declines the
  /// entropy.
  bool knowsRowStatistics() const override { return true; }
  bool isApplicable(Operation *op, const TargetDescription &target,
                    std::string &reason) const override {
    if (!isa<AttentionOp, AttentionBackwardOp>(op)) {
      reason = "computes attn.attention and its backward only";
      return false;
    }
    AttentionProblem p = AttentionProblem::get(op);
    if (!p.score.isKernel()) {
      reason = "needs a kernel score (#attn.score<kernel<...>>)";
      return false;
    }
    if (p.scoreMod || p.maskMod) {
      reason = std::string(p.scoreMod ? "score_mod" : "mask_mod") +
               " changes the weight of each (query, key) pair, which the "
               "factorization phi(q) . phi(k) cannot hold";
      return false;
    }
    if (p.returnEntropy) {
      reason = "return_entropy sums w ln w over each (query, key) pair, "
               "which the factorization phi(q) . phi(k) never forms";
      return false;
    }
    if (p.score.getFunction()->getLinearForm() ==
        ScoreFunction::LinearForm::None) {
      reason = "kernel<" + p.score.getName().str() +
               "> names no feature form the linear kernels compute";
      return false;
    }
    if (p.mask || p.bias || p.hasWindow || p.softcap) {
      reason = std::string(p.mask ? "mask" : p.bias ? "bias"
                                         : p.hasWindow ? "window"
                                                       : "softcap") +
               " is not supported";
      return false;
    }
    if (target.kind == TargetDescription::Kind::GPU) {
      // One thread per value column and one for the normalizer; the
      // features of one key in static shared memory.
      if (linearGpuThreads(p) > kGpuMaxThreads) {
        reason = "the GPU kernel needs Dv + 1 <= " +
                 std::to_string(kGpuMaxThreads) + " threads per block";
        return false;
      }
      int64_t shared = p.isBackward ? linearGpuBackwardSharedBytes(p)
                                    : linearGpuSharedBytes(p);
      if (shared > target.gpuSharedBytes) {
        reason =
            std::string("the GPU ") + (p.isBackward ? "backward" : "kernel") +
            "'s " + std::to_string(linearGpuFeatures(p)) +
            " features per key exceed the target's " +
            std::to_string(target.gpuSharedBytes) + " bytes of shared memory";
        return false;
      }
      return true;
    }
    LinearKernelConfig config = configFor(p, target, StrategyAttr());
    int64_t scratch = scratchBytes(p, config);
    if (scratch > kTaskScratchLimitBytes) {
      reason = "a state of " + std::to_string(scratch >> 10) +
               " KiB per head exceeds the " +
               std::to_string(kTaskScratchLimitBytes >> 10) + " KiB scratch limit";
      return false;
    }
    return true;
  }

  StrategyAttr chooseParameters(Operation *op, const TargetDescription &target,
                                StrategyAttr requested) const override {
    LinearKernelConfig config =
        configFor(AttentionProblem::get(op), target, requested);
    Builder b(op->getContext());
    // A written tile_rows is kept (used by the forward, refused by the
    // backward in apply), never dropped.
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("chunk", b.getI64IntegerAttr(config.chunk))};
    if (config.tileRows > 0)
      params.push_back(
          b.getNamedAttr("tile_rows", b.getI64IntegerAttr(config.tileRows)));
    return StrategyAttr::get(op->getContext(), getName(),
                             b.getDictionaryAttr(params));
  }

  CostEstimate estimateCost(Operation *op, const TargetDescription &target,
                            StrategyAttr strategy) const override {
    AttentionProblem p = AttentionProblem::get(op);
    LinearKernelConfig config = configFor(p, target, strategy);
    LinearLayout l = LinearLayout::get(p, config);
    double lq = knownOr(p.queryLength(), 1024);
    double lk = knownOr(p.keyLength(), 1024);
    double tasks = knownOr(p.batch, 1) * p.headsKV;
    CostEstimate cost;
    if (target.kind == TargetDescription::Kind::GPU) {
      // Counted per thread, times the blocks' threads. The forward: every
      // key and query costs F FMAs, on a state column in global memory (a
      // load and a store per FMA); causal queries weigh their `chunk` most
      // recent keys directly (D FMAs per key). The backward: launch 1
      // absorbs the keys and launch 2 the rows (2F each); per row or key a
      // state product (2F), a gradient product over the thread's share of
      // the features (2F Dv / threads) and D' (2 Dv); causal rows and keys
      // weigh their `chunk` direct partners, each with a weight, its
      // gradient and dV (about 4 (D + Dv)) and a share of dphi or dx.
      double blocks = knownOr(p.batch, 1) * p.headsQ;
      double threads = linearGpuThreads(p);
      double f = linearGpuFeatures(p), d = p.headDim, dv = p.valueDim;
      double direct = p.causal ? std::min<double>(config.chunk, lk) : 0.0;
      double perThread =
          p.isBackward
              ? (lk + lq) * (4.0 * f + 2.0 * f * dv / threads) + lq * 2.0 * dv +
                    (lq + lk) * direct *
                        (4.0 * (d + dv) + 2.0 * std::max(f, d) / threads)
              : (lk + lq) * 2.0 * f + lq * direct * 2.0 * d;
      cost.flops = blocks * threads * perThread;
      cost.bytes = 4.0 * cost.flops;
      cost.parallelism = blocks * threads;
      cost.extraBytes = blocks * threads * linearGpuFeatures(p) * 4.0;
      cost.efficiency = kGpuEfficiency;
      return cost;
    }
    // The backward: two passes, each forming the chunk's features and
    // weights again, with about three products where the forward has one.
    cost.flops = countFlops(p, l) * (p.isBackward ? 5.0 : 1.0);
    double elem = p.elementType.getIntOrFloatBitWidth() / 8.0;
    cost.bytes = knownOr(p.batch, 1) *
                 (p.headsQ * lq * (p.headDim + p.valueDim) +
                  p.headsKV * lk * (p.headDim + p.valueDim)) *
                 elem;
    cost.parallelism = config.serial ? 1 : tasks;
    cost.extraBytes =
        std::min<double>(cost.parallelism, target.threads) *
        (scratchBytes(p, config) +
         (p.isBackward ? LinearLayout::get(p, config).backwardStateBytes()
                       : 0));
    cost.efficiency = kEfficiency;
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
    // The backward's register tiles are sized per product: a written
    // tile_rows would go unused.
    if (p.isBackward && config.tileRows > 0)
      return op->emitOpError()
             << "linear strategy parameter tile_rows does not apply to "
                "attn.attention_backward: its register tiles are chosen per "
                "product";
    if (config.chunk < 1)
      return op->emitOpError() << "linear strategy needs chunk >= 1";
    if (target.kind == TargetDescription::Kind::GPU) {
      ATTN_DEBUG(ATTN_DBGS() << "GPU kernel, chunk = " << config.chunk
                             << "\n");
      if (p.isBackward)
        rewriter.replaceOp(
            op, buildLinearGpuAttentionBackward(rewriter, p, config.chunk));
      else
        rewriter.replaceOp(op,
                           buildLinearGpuAttention(rewriter, p, config.chunk));
      return success();
    }
    if (scratchBytes(p, config) > kTaskScratchLimitBytes)
      return op->emitOpError()
             << "linear strategy: chunk = " << config.chunk
             << " needs more than " << (kTaskScratchLimitBytes >> 10)
             << " KiB of scratch per head";
    ATTN_DEBUG(ATTN_DBGS() << "CPU kernel, chunk = " << config.chunk
                           << ", lanes = " << config.lanes << "\n");
    if (p.isBackward) {
      rewriter.replaceOp(op, buildLinearAttentionBackward(rewriter, p, config));
      return success();
    }
    Value result = buildLinearAttention(rewriter, p, config);
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  /// Stack scratch of one task of the forward or backward kernel (the
  /// backward's states may go to the heap instead: not counted).
  static int64_t scratchBytes(const AttentionProblem &p,
                              const LinearKernelConfig &config) {
    LinearLayout l = LinearLayout::get(p, config);
    return p.isBackward ? l.backwardScratchBytes(p.causal)
                        : l.scratchBytes(p.causal);
  }

  LinearKernelConfig configFor(const AttentionProblem &p,
                               const TargetDescription &target,
                               StrategyAttr requested) const {
    LinearKernelConfig config;
    config.lanes = std::max<int64_t>(4, target.vectorBits / 32);
    // 32 vector registers with AVX-512, 16 below.
    config.accumulators = target.vectorBits >= 512 ? 24 : 12;
    // Causal: chunks of 32 queries (16 with GQA groups over 2), which keeps
    // the masked quadratic step within a chunk small next to the state's
    // work (measured: 24-48 are within noise, 64 is 5-10% slower). Without
    // causal the chunk only blocks the state updates and reads: 64 rows
    // across the group. Short sequences use one chunk of exactly Lq.
    int64_t g = p.groupSize();
    int64_t chunk = p.causal ? (g <= 2 ? 32 : 16)
                             : std::max<int64_t>(16, 64 / g);
    config.chunk = std::min(chunk, knownOr(p.queryLength(), chunk));
    if (requested) {
      config.chunk = requested.getIntParam("chunk", config.chunk);
      config.tileRows = requested.getIntParam("tile_rows", 0);
    }
    double oneThread =
        target.peakFlops() / std::max<int64_t>(1, target.threads) * kEfficiency;
    config.serial =
        countFlops(p, LinearLayout::get(p, config)) / oneThread < kSerialSeconds;
    return config;
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createLinearStrategy() {
  return std::make_unique<LinearStrategy>();
}
