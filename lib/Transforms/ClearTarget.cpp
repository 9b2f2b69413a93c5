//===- ClearTarget.cpp - attn-clear-target --------------------------------===//
//
// Removes every #attn.target once the strategies are applied: nothing reads
// it after attn-apply-strategies, and a lowered module that names no attn
// attribute can be read by tools that do not load the attn dialect
// (mlir-runner, mlir-translate).
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCLEARTARGET
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct ClearTargetPass
    : mlir::attn::impl::AttnClearTargetBase<ClearTargetPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      op->removeAttr(TargetAttr::kAttrName);
    });
  }
};
} // namespace
