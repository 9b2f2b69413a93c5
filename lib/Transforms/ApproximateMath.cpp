//===- ApproximateMath.cpp - attn-approximate-math ------------------------===//
//
// Rewrites f32 vector math (exp, exp2, tanh, log1p, ...) with upstream
// polynomial approximations so that LLVM does not scalarize it into libm
// calls. Scalar math is untouched.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPROXIMATEMATH
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct ApproximateMathPass
    : mlir::attn::impl::AttnApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    auto all = [](StringRef) { return true; };
    // exp2(x) -> exp(x ln 2), which has a polynomial approximation.
    math::populateExpansionPatterns(patterns, {"exp2"});
    populateMathF32ExpansionPatterns(patterns, all);
    populateMathPolynomialApproximationPatterns(patterns, all);
    FrozenRewritePatternSet frozen(std::move(patterns));
    // Only math on vectors, and whatever the rewrites of it produce.
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()) &&
          llvm::any_of(op->getResultTypes(),
                       [](Type t) { return isa<VectorType>(t); }))
        ops.push_back(op);
    });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(ops, frozen, config)))
      return signalPassFailure();
  }
};
} // namespace
