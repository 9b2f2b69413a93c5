//===- DeallocateHostBuffers.cpp - attn-deallocate-host-buffers -----------===//
//
// Frees the host buffers of every func.func: upstream's buffer deallocation
// pipeline on the functions that hold no gpu operation, and on the others
// (which upstream's deallocation rejects, see Passes.td) a memref.dealloc
// after the last use of each memref.alloc that never leaves the function.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDEALLOCATEHOSTBUFFERS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// Whether `user` only reads or writes the buffer `v` it takes (or asks its
/// shape): an op after which the buffer may be freed.
bool onlyAccesses(Operation *user, Value v) {
  if (auto store = dyn_cast<memref::StoreOp>(user))
    return store.getValueToStore() != v;
  if (auto store = dyn_cast<affine::AffineStoreOp>(user))
    return store.getValueToStore() != v;
  if (auto write = dyn_cast<vector::TransferWriteOp>(user))
    return write.getVector() != v;
  return isa<memref::LoadOp, memref::CopyOp, memref::DimOp,
             memref::ExtractStridedMetadataOp, affine::AffineLoadOp,
             vector::TransferReadOp, vector::LoadOp, vector::StoreOp,
             linalg::LinalgOp, gpu::MemcpyOp, gpu::MemsetOp,
             gpu::LaunchFuncOp>(user);
}

/// The op of `alloc`'s block after which nothing uses the buffer or an
/// alias of it (upstream's BufferViewFlowAnalysis: views, and values that
/// region branches pass it on as); null when the buffer leaves the function
/// (returned, passed to a call, yielded, stored as a value, taken by an op
/// not known to only access it) or is freed already.
Operation *lastUseInBlock(memref::AllocOp alloc,
                          const BufferViewFlowAnalysis &flow) {
  Block *block = alloc->getBlock();
  Operation *last = alloc;
  for (Value v : flow.resolve(alloc.getResult())) {
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user))
        return nullptr;
      auto view = dyn_cast<ViewLikeOpInterface>(user);
      bool isView = view && view.getViewSource() == v;
      if (!isView && !onlyAccesses(user, v))
        return nullptr;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor)
        return nullptr;
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
  }
  return last;
}

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
      if (!usesGpu) {
        if (failed(runPipeline(dealloc, func)))
          return signalPassFailure();
        continue;
      }
      SmallVector<memref::AllocOp> allocs;
      func.walk([&](memref::AllocOp alloc) { allocs.push_back(alloc); });
      BufferViewFlowAnalysis flow(func);
      OpBuilder b(&getContext());
      for (memref::AllocOp alloc : allocs) {
        Operation *last = lastUseInBlock(alloc, flow);
        if (!last)
          continue;
        b.setInsertionPointAfter(last);
        memref::DeallocOp::create(b, alloc.getLoc(), alloc);
      }
    }
  }
};

} // namespace
