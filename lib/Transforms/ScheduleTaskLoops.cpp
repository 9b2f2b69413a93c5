//===- ScheduleTaskLoops.cpp - attn-schedule-task-loops -------------------===//
//
// Gives schedule(dynamic) to the OpenMP loops whose iterations are kernel
// tasks: those that allocate scratch on the stack (the flash kernels' query
// blocks), whose costs differ (a causal band, a mask_mod's skipped tiles),
// so that threads take tasks on demand instead of fixed shares.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSCHEDULETASKLOOPS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct ScheduleTaskLoopsPass
    : mlir::attn::impl::AttnScheduleTaskLoopsBase<ScheduleTaskLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([](omp::WsloopOp loop) {
      if (loop.getScheduleKind())
        return;
      WalkResult scratch = loop->walk([](memref::AllocaOp) {
        return WalkResult::interrupt();
      });
      if (scratch.wasInterrupted())
        loop.setScheduleKind(omp::ClauseScheduleKind::Dynamic);
    });
  }
};
} // namespace
