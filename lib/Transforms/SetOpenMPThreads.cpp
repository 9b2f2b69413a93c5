//===- SetOpenMPThreads.cpp - attn-set-openmp-threads ---------------------===//
//
// Gives each omp.parallel without num_threads the threads of the nearest
// #attn.target around it, when that is a CPU target: the module's thread
// count is then both what the cost model assumed and what the parallel
// regions run with.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSETOPENMPTHREADS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct SetOpenMPThreadsPass
    : mlir::attn::impl::AttnSetOpenMPThreadsBase<SetOpenMPThreadsPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([](omp::ParallelOp parallel) {
      if (parallel.getNumThreads())
        return;
      TargetAttr target = lookupTargetAttr(parallel);
      // A GPU target's threads are the device's, not the host's.
      if (!target || target.getKind() != "cpu" || !target.getThreads())
        return;
      OpBuilder b(parallel);
      Value threads = arith::ConstantOp::create(
          b, parallel.getLoc(),
          b.getI32IntegerAttr(static_cast<int32_t>(*target.getThreads())));
      parallel.getNumThreadsMutable().assign(threads);
    });
  }
};
} // namespace
