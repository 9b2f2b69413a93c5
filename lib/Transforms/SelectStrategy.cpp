//===- SelectStrategy.cpp - attn-select-strategy --------------------------===//
//
// Writes on each attn op the strategy that selection picks: the user's own
// (completed with parameters), a forced one, or the cheapest applicable one
// by the cost model.
//
//===----------------------------------------------------------------------===//

#include "attn/Support/Debug.h"
#include "attn/Transforms/Passes.h"

#define DEBUG_TYPE "attn-select-strategy"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSELECTSTRATEGY
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct SelectStrategyPass
    : mlir::attn::impl::AttnSelectStrategyBase<SelectStrategyPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string forced = forcedStrategy.empty()
                             ? getCommandLineForcedStrategy().str()
                             : forcedStrategy.getValue();
    bool failed = false;
    getOperation()->walk([&](Operation *op) {
      if (!isAttnOp(op))
        return;
      StrategyRequest request;
      request.override = overrideStrategy;
      request.forced = forced;
      FailureOr<StrategyAttr> chosen =
          selectStrategy(op, getTargetDescription(op), request);
      if (mlir::failed(chosen)) {
        failed = true;
        return;
      }
      ATTN_DEBUG(ATTN_DBGS() << "'" << op->getName() << "' at "
                             << op->getLoc() << " gets " << *chosen << "\n");
      setStrategyAttr(op, *chosen);
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
