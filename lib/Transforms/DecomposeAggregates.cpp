//===- DecomposeAggregates.cpp - attn-decompose-aggregates ----------------===//
//
// Rewrites ops with linalg's AggregatedOpInterface (linalg.softmax) into the
// linalg ops of their upstream decomposition, so that attention written as
// math that attn-raise left (or that was not raised) still lowers through the
// CPU pipeline's linalg-to-loops conversion.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDECOMPOSEAGGREGATES
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct DecomposeAggregatesPass
    : mlir::attn::impl::AttnDecomposeAggregatesBase<DecomposeAggregatesPass> {
  void runOnOperation() override {
    SmallVector<linalg::AggregatedOpInterface> ops;
    getOperation()->walk(
        [&](linalg::AggregatedOpInterface op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::AggregatedOpInterface op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> decomposed =
          op.decomposeOperation(rewriter);
      if (failed(decomposed)) {
        op->emitOpError() << "cannot be decomposed";
        return signalPassFailure();
      }
      rewriter.replaceOp(op, *decomposed);
    }
  }
};
} // namespace
