//===- PortableStrategy.cpp - attention as tiled attn.online_attention ----===//
//
// The `portable` strategy: attn.attention as one attn.online_attention over
// the whole problem, tiled by upstream's TilingInterface (an scf.forall
// over batch, KV-head groups and query blocks; the keys in blocks carried by
// an scf.for, or first cut into `splits` partial reductions, split-KV, that
// merge at the end), then the epilogue. The tiles are lowered by
// attn-convert-online-attention-to-linalg and upstream's passes, so this is
// the path that needs nothing hand-written per target: slower than `tiled`
// on the CPU (the tile's scores are materialized, in scalar loops), ranked
// below every kernel by the cost model, and the baseline that a
// target-specific lowering of the tile op is measured against.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/WholeProblemTile.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <algorithm>
#include <cmath>

#define DEBUG_TYPE "attn-strategy-portable"

using namespace mlir;
using namespace mlir::attn;

namespace {

struct PortableConfig {
  int64_t blockQ = 64, blockK = 128, splits = 1;
};

/// The tile op's iteration dimensions (OnlineAttentionTiling.h).
constexpr unsigned kKeyDim = 3;

class PortableStrategy final : public Strategy {
public:
  StringRef getName() const override { return "portable"; }
  StringRef getDescription() const override {
    return "the attention tile op tiled by upstream TilingInterface (split-KV "
           "as a partial reduction) and lowered through linalg; no "
           "target-specific kernel";
  }

  ArrayRef<StrategyParameter> getParameters() const override {
    static const StrategyParameter parameters[] = {
        {"block_q", StrategyParameter::Type::Integer, 1, 4096,
         StrategyParameter::CPU,
         "query rows per task (one forall iteration per batch, KV-head "
         "group and block); 64 unless written"},
        {"block_k", StrategyParameter::Type::Integer, 1, 4096,
         StrategyParameter::CPU,
         "keys per tile op (the scores of block_q x block_k are "
         "materialized); 128 unless written"},
        {"splits", StrategyParameter::Type::Integer, 1, 1024,
         StrategyParameter::CPU,
         "partial reductions over the keys, merged at the end (split-KV); 1 "
         "unless written"}};
    return parameters;
  }

  bool knowsRowStatistics() const override { return true; }
  bool isApplicable(Operation *op, const TargetDescription &target,
                    std::string &reason) const override {
    if (!isa<AttentionOp>(op)) {
      reason = "computes attn.attention only";
      return false;
    }
    if (target.kind != TargetDescription::Kind::CPU) {
      reason = "lowers through linalg on the host; CPU targets only";
      return false;
    }
    // The tile op carries the mods, the sinks and the entropy part of the
    // state; the finalize computes the LSE and the entropy.
    AttentionProblem::Computed computed;
    computed.scoreMod = computed.maskMod = computed.sinkLogits = true;
    computed.lse = computed.entropy = true;
    reason = AttentionProblem::get(op).unsupportedVariants(getName(), computed);
    return reason.empty();
  }

  static PortableConfig configFor(StrategyAttr strategy) {
    PortableConfig config;
    if (!strategy)
      return config;
    config.blockQ = strategy.getIntParam("block_q", config.blockQ);
    config.blockK = strategy.getIntParam("block_k", config.blockK);
    config.splits = strategy.getIntParam("splits", config.splits);
    return config;
  }

  StrategyAttr chooseParameters(Operation *op, const TargetDescription &,
                                StrategyAttr requested) const override {
    PortableConfig config = configFor(requested);
    Builder b(op->getContext());
    return StrategyAttr::get(
        op->getContext(), getName(),
        b.getDictionaryAttr(
            {b.getNamedAttr("block_q", b.getI64IntegerAttr(config.blockQ)),
             b.getNamedAttr("block_k", b.getI64IntegerAttr(config.blockK)),
             b.getNamedAttr("splits", b.getI64IntegerAttr(config.splits))}));
  }

  CostEstimate estimateCost(Operation *op, const TargetDescription &target,
                            StrategyAttr strategy) const override {
    AttentionProblem p = AttentionProblem::get(op);
    PortableConfig config = configFor(strategy);
    double batch = knownOr(p.batch, 1);
    double lq = knownOr(p.queryLength(), 1024);
    double lk = knownOr(p.keyLength(), 1024);
    // The key blocks of each row block's band (causal, window): about the
    // allowed pairs, plus the blocks on the band's edges.
    double allowed = static_cast<double>(
        p.countAllowedPairs({int64_t(lq)}, {int64_t(lk)}));
    double edges = p.hasStructuralMask() ? lq * config.blockK : 0.0;
    double pairs = batch * p.headsQ * std::min(lq * lk, allowed + edges);
    CostEstimate cost;
    // Both contractions over every visited pair, plus the elementwise
    // passes over the materialized tile scores.
    cost.flops = pairs * (2.0 * p.headDim + 2.0 * p.valueDim + 10.0);
    cost.bytes = pairs * 4.0 * 4.0;
    cost.extraBytes = target.threads * config.blockQ * config.blockK * 4.0 * 3;
    // With splits, the threads share the splits only (the rows' forall runs
    // inside each split); without, the (batch, KV-head group, block) tasks.
    cost.parallelism = config.splits > 1
                           ? config.splits
                           : batch * p.headsKV * std::ceil(lq / config.blockQ);
    // Scalar loops (linalg lowered to loops, no vectors).
    cost.efficiency = 1.0 / (target.vectorBits / 32.0 * 2.0);
    return cost;
  }

  LogicalResult apply(RewriterBase &rewriter, Operation *op,
                      StrategyAttr strategy,
                      const TargetDescription &) const override {
    PortableConfig config = configFor(strategy);
    ATTN_DEBUG(ATTN_DBGS() << "block_q " << config.blockQ << ", block_k "
                           << config.blockK << ", splits " << config.splits
                           << "\n");
    AttentionProblem p = AttentionProblem::get(op);
    Location loc = op->getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    // Keys per split (at least 1), before the tile op that the splits'
    // loop goes around.
    Value perSplit;
    if (config.splits > 1)
      perSplit = arith::MaxUIOp::create(
          rewriter, loc,
          arith::CeilDivUIOp::create(
              rewriter, loc, tensor::DimOp::create(rewriter, loc, p.key, 2),
              arith::ConstantIndexOp::create(rewriter, loc, config.splits)),
          arith::ConstantIndexOp::create(rewriter, loc, 1));
    // The empty state and the tile op over the whole problem.
    OnlineAttentionOp tile = createWholeProblemTile(rewriter, p);

    // Splits of the keys as partial reductions, each split's state merged
    // into the empty one at the end. Outermost: with the splits inside the
    // rows' forall, MLIR 22's canonicalizer crashed (TensorType::hasRank of
    // a null type) when that forall had a single iteration over rows. So
    // with splits the threads share the splits (the rows' forall inside runs
    // on each split's thread), as split-KV's decode shapes want.
    SmallVector<Value> finalState;
    Operation *inner = tile;
    if (config.splits > 1) {
      SmallVector<OpFoldResult> sizes = indexAttrs(rewriter, {0, 0, 0, 0});
      sizes[kKeyDim] = perSplit;
      FailureOr<Tiled> split = tileWith(
          rewriter, inner,
          scf::SCFTilingOptions()
              .setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
              .setReductionTilingStrategy(
                  ReductionTilingStrategy::PartialReductionOuterParallel)
              .setReductionDims({kKeyDim})
              .setTileSizes(sizes));
      if (failed(split))
        return failure();
      finalState = split->replacements;
      inner = split->tile;
    }
    // Batch, KV-head groups and query blocks in parallel: a tile holds the
    // query heads of one KV head, which read its keys once.
    FailureOr<Tiled> rowsTiled = tileWith(
        rewriter, inner,
        scf::SCFTilingOptions()
            .setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
            .setTileSizes(
                indexAttrs(rewriter, {1, p.groupSize(), config.blockQ, 0})));
    if (failed(rowsTiled))
      return failure();
    if (finalState.empty())
      finalState = rowsTiled->replacements;
    inner = rowsTiled->tile;
    // The keys the block's rows may see under causal, window and sinks.
    std::optional<std::pair<Value, Value>> band;
    if (p.causal || p.hasWindow) {
      rewriter.setInsertionPoint(inner);
      band = bandKeys(rewriter, p, cast<OnlineAttentionOp>(inner));
    }
    // Key blocks, each folded into the state in turn, over the band only:
    // blocks wholly outside it are skipped, not computed and masked.
    FailureOr<Tiled> keysTiled =
        tileWith(rewriter, inner,
                 scf::SCFTilingOptions().setTileSizes(
                     indexAttrs(rewriter, {0, 0, 0, config.blockK})));
    if (failed(keysTiled))
      return failure();
    if (band) {
      // The band's first key rounded down to a multiple of block_k: the
      // tiling laid the blocks out from 0 and sized each one for that start
      // (a block is cut at the keys' end only where it can reach it; with
      // block_k dividing the keys, never). A block from the band's own start
      // would read past the keys.
      auto keyLoop = cast<scf::ForOp>(keysTiled->loops.front().getOperation());
      rewriter.setInsertionPoint(keyLoop);
      Location loopLoc = keyLoop.getLoc();
      Value step = keyLoop.getStep();
      Value firstBlock = arith::MulIOp::create(
          rewriter, loopLoc,
          arith::DivUIOp::create(rewriter, loopLoc, band->first, step), step);
      keyLoop.setLowerBound(firstBlock);
      keyLoop.setUpperBound(band->second);
    }

    // acc / sum into the op's result.
    rewriter.setInsertionPoint(op);
    rewriter.replaceOp(
        op,
        createFinalize(rewriter, p, finalState[0], finalState[2], finalState[1],
                       finalState.size() > 3 ? finalState[3] : Value()));
    return success();
  }

private:
  struct Tiled {
    Operation *tile;                  ///< The tile op inside the loops.
    SmallVector<Value> replacements; ///< What replaced the tiled op.
    SmallVector<LoopLikeOpInterface> loops;
  };

  /// The keys [lo, hi) of `tile` (local indices) that its rows may see
  /// under causal, window and sinks: the band of its first row to its last
  /// (rule::rowsKeys), from 0 to at least the last row's sink keys with
  /// sinks, and an empty range (lo = hi) when no row sees any.
  static std::pair<Value, Value> bandKeys(OpBuilder &b,
                                          const AttentionProblem &p,
                                          OnlineAttentionOp tile) {
    Location loc = tile.getLoc();
    RuleArith d(b, loc);
    Value rows = tensor::DimOp::create(b, loc, tile.getQuery(), 2);
    Value keys = tensor::DimOp::create(b, loc, tile.getKey(), 2);
    Value first = tile.getQueryPosition(), kpos = tile.getKeyPosition();
    Value last = d.sub(d.add(first, rows), d.c(1));
    // Positions are aligned already (the rule's Lk - Lq is 0), and the
    // tile's keys end at kpos + keys.
    Value end = d.add(kpos, keys);
    rule::RowsKeys<RuleArith> allowed =
        rule::rowsKeys(d, p, first, last, end, end);
    Value lo = allowed.lo, hi = allowed.hi;
    if (p.hasWindow && p.sinks > 0) {
      // Sink keys [0, sinks) as far as the last row may see them.
      lo = d.c(0);
      hi = d.max(hi, allowed.sinkHi);
    }
    Value localLo = d.min(d.max(d.sub(lo, kpos), d.c(0)), keys);
    Value localHi = d.max(localLo, d.min(keys, d.add(d.sub(hi, kpos), d.c(1))));
    return {localLo, localHi};
  }
  /// Tiles `op` by `options`, replaces it, and returns the new tile op.
  static FailureOr<Tiled> tileWith(RewriterBase &rewriter, Operation *op,
                                   const scf::SCFTilingOptions &options) {
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> result =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
    if (failed(result))
      return op->emitOpError() << "portable strategy: tiling failed";
    rewriter.replaceOp(op, result->replacements);
    return Tiled{result->tiledOps.back(), result->replacements,
                 result->loops};
  }

  static SmallVector<OpFoldResult> indexAttrs(OpBuilder &b,
                                              ArrayRef<int64_t> values) {
    SmallVector<OpFoldResult> result;
    for (int64_t v : values)
      result.push_back(b.getIndexAttr(v));
    return result;
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createPortableStrategy() {
  return std::make_unique<PortableStrategy>();
}
