//===- MarkResultsOwned.cpp - attn-mark-results-owned ---------------------===//
//
// Sets attn.results_owned (kResultsOwnedAttrName in Passes.h) on the
// module: the CPU and GPU pipelines end with it, so that a runner of a
// module that arrives already lowered knows it may free the results.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNMARKRESULTSOWNED
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct MarkResultsOwnedPass
    : mlir::attn::impl::AttnMarkResultsOwnedBase<MarkResultsOwnedPass> {
  void runOnOperation() override {
    getOperation()->setAttr(mlir::attn::kResultsOwnedAttrName,
                            UnitAttr::get(&getContext()));
  }
};
} // namespace
