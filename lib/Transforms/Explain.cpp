//===- Explain.cpp - attn-explain -----------------------------------------===//
//
// Emits one remark per attn op listing every registered strategy with its
// estimated cost, or why it cannot compute the op, and which one wins; and
// one per place where attention is written as math: what attn-raise raises
// it to, or why it leaves it (a near-miss).
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcher.h"
#include "attn/Transforms/Passes.h"

#include "llvm/Support/Format.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEXPLAIN
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
std::string formatBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.1f ", bytes) << units[unit];
  return s;
}

struct ExplainPass : mlir::attn::impl::AttnExplainBase<ExplainPass> {
  using Base::Base;

  void runOnOperation() override {
    bool selectionFailed = false;
    getOperation()->walk([&](Operation *op) {
      if (!isAttnOp(op))
        return;
      TargetDescription target = getTargetDescription(op);
      SmallVector<StrategyCandidate> ranked = rankStrategies(op, target);
      // What compilation would do: the same selection, forced strategy
      // included.
      StrategyRequest request;
      request.forced = getCommandLineForcedStrategy().str();
      StrategyOrigin origin;
      FailureOr<StrategyAttr> selected =
          selectStrategy(op, target, request, &origin);
      if (failed(selected)) {
        selectionFailed = true;
        return;
      }
      std::string chosen = selected->getName().str();
      bool cheapest = origin == StrategyOrigin::Cheapest;
      InFlightDiagnostic remark = op->emitRemark();
      remark << "strategy '" << chosen << "' ("
             << stringifyStrategyOrigin(origin) << ")"
             << " on " << (target.kind == TargetDescription::Kind::GPU ? "gpu" : "cpu")
             << " with " << target.threads << " threads, "
             << target.vectorBits << "-bit vectors; candidates:";
      for (const StrategyCandidate &c : ranked) {
        remark << "\n  " << c.strategy->getName() << ": ";
        if (!c.applicable) {
          remark << "rejected: " << c.reason;
          continue;
        }
        std::string line;
        llvm::raw_string_ostream os(line);
        os << llvm::format("%.4g ms, %.3g GFLOP, %s moved, parallelism %.0f, "
                           "scratch %s",
                           c.seconds * 1e3, c.cost.flops * 1e-9,
                           formatBytes(c.cost.bytes).c_str(),
                           c.cost.parallelism,
                           formatBytes(c.cost.extraBytes).c_str());
        remark << line << " " << c.parameters;
        if (c.strategy->getName() == chosen)
          remark << (cheapest ? " <- cheapest, selected"
                              : origin == StrategyOrigin::Written
                                    ? " <- written"
                                    : " <- selected");
        else if (cheapest && ranked.front().applicable) {
          std::string ratio;
          llvm::raw_string_ostream ros(ratio);
          ros << llvm::format(" (%.1fx the selected estimate)",
                              c.seconds /
                                  std::max(1e-12, ranked.front().seconds));
          remark << ratio;
        }
      }
      remark << "\n  selected: " << *selected;
      const Strategy *strategy =
          StrategyRegistry::global().lookup(selected->getName());
      bool reads = strategy && strategy->readsPagedKV(target);
      if (isa<PagedAttentionOp>(op))
        remark << "\n  paged K/V: "
               << (reads ? "read through the page table by the kernel"
                         : "read from contiguous copies gathered before the "
                           "op (O(B·T·page_size·D); this strategy reads "
                           "contiguous K/V)");
      Value kScale, vScale;
      if (auto attention = dyn_cast<AttentionOp>(op)) {
        kScale = attention.getKScale();
        vScale = attention.getVScale();
      } else if (auto paged = dyn_cast<PagedAttentionOp>(op)) {
        kScale = paged.getKScale();
        vScale = paged.getVScale();
      }
      if (kScale || vScale) {
        remark << "\n  quantized K/V: "
               << (strategy && strategy->dequantizesKV(target)
                       ? "dequantized as the kernel reads them"
                       : "read from dequantized copies written before the "
                         "op (O(L·D); this strategy reads float K/V)");
      }
    });
    if (selectionFailed)
      return signalPassFailure();
    for (const AttentionSite &site : findAttentionSites(getOperation())) {
      if (site.raisable())
        site.anchor->emitRemark()
            << "attention written as math: attn-raise raises it to "
            << site.summary;
      else
        site.anchor->emitRemark()
            << "attention-like math not raised: " << site.reason;
    }
  }
};
} // namespace
