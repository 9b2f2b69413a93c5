//===- ApplyStrategies.cpp - attn-apply-strategies ------------------------===//
//
// Replaces each attn op by the ops its strategy produces. Ops without a
// strategy get the one selection picks first.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/OnlineAttentionTiling.h"
#include "attn/Strategies/Common/PagedKV.h"
#include "attn/Strategies/Common/QuantizedKV.h"
#include "attn/Support/Debug.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPLYSTRATEGIES
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

#define DEBUG_TYPE "attn-apply-strategies"

using namespace mlir;
using namespace mlir::attn;

namespace {
struct ApplyStrategiesPass
    : mlir::attn::impl::AttnApplyStrategiesBase<ApplyStrategiesPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    // Strategies tile attn.online_attention with upstream's tiling.
    registerOnlineAttentionTilingInterface(registry);
  }

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isAttnOp(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      TargetDescription target = getTargetDescription(op);
      FailureOr<StrategyAttr> chosen =
          selectStrategy(op, target, getCommandLineForcedStrategy());
      if (failed(chosen))
        return signalPassFailure();
      const Strategy *strategy =
          StrategyRegistry::global().lookup(chosen->getName());
      ATTN_DEBUG(ATTN_DBGS() << "'" << op->getName() << "' at "
                             << op->getLoc() << ": applying " << *chosen
                             << "\n");
      if (auto paged = dyn_cast<PagedAttentionOp>(op);
          paged && !strategy->readsPagedKV(target))
        op = materializeContiguousKV(rewriter, paged);
      if (auto attention = dyn_cast<AttentionOp>(op);
          attention && !strategy->dequantizesKV(target))
        op = materializeDequantizedKV(rewriter, attention);
      if (failed(strategy->apply(rewriter, op, *chosen, target)))
        return signalPassFailure();
    }
  }
};
} // namespace
