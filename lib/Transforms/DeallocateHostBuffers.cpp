//===- DeallocateHostBuffers.cpp - attn-deallocate-host-buffers -----------===//
//
// Runs upstream's buffer deallocation pipeline on the host functions that
// hold no gpu operation (see Passes.td for why the others are skipped).
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDEALLOCATEHOSTBUFFERS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct DeallocateHostBuffersPass
    : mlir::attn::impl::AttnDeallocateHostBuffersBase<
          DeallocateHostBuffersPass> {
  void runOnOperation() override {
    OpPassManager dealloc(func::FuncOp::getOperationName());
    bufferization::BufferDeallocationPipelineOptions options;
    bufferization::buildBufferDeallocationPipeline(dealloc, options);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      bool usesGpu = false;
      func.walk([&](Operation *op) {
        if (isa<gpu::GPUDialect>(op->getDialect()))
          usesGpu = true;
      });
      if (!usesGpu && failed(runPipeline(dealloc, func)))
        return signalPassFailure();
    }
  }
};
} // namespace
