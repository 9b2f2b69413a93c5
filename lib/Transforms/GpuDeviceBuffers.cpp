//===- GpuDeviceBuffers.cpp - attn-gpu-device-buffers ---------------------===//
//
// Decides where the memory of GPU kernels lives. The strategies write each
// gpu.launch over host buffers (to_buffer of the inputs, memref.alloc of
// results and scratch); this pass gives each launch a device buffer in their
// place, copied in when the host's contents matter, copied back when the
// host reads what a launch wrote, and freed after the buffer's last launch.
// See Passes.td for the rules.
//
//===----------------------------------------------------------------------===//

#include "attn/Support/Debug.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/MapVector.h"

#define DEBUG_TYPE "attn-gpu-device-buffers"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGPUDEVICEBUFFERS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

bool insideLaunch(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() != nullptr;
}

/// Calls `visit` on every operation that uses `buffer`, directly or through
/// views of it (the views themselves are followed, not visited).
void forEachUser(Value buffer, function_ref<void(Operation *, Value)> visit) {
  SmallVector<Value> work = {buffer};
  while (!work.empty()) {
    Value value = work.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      auto view = dyn_cast<ViewLikeOpInterface>(user);
      if (view && view.getViewSource() == value) {
        for (Value result : user->getResults())
          work.push_back(result);
        continue;
      }
      visit(user, value);
    }
  }
}

/// Whether an operation inside the launches of `run` may write `buffer`: a
/// write effect on it, or an operation whose effects are unknown.
bool launchesMayWrite(Value buffer, ArrayRef<gpu::LaunchOp> run) {
  bool writes = false;
  forEachUser(buffer, [&](Operation *user, Value value) {
    auto launch = user->getParentOfType<gpu::LaunchOp>();
    if (writes || !launch || !llvm::is_contained(run, launch))
      return;
    auto effects = dyn_cast<MemoryEffectOpInterface>(user);
    if (!effects) {
      writes = true;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffectsOnValue(value, list);
    writes = llvm::any_of(list, [](const MemoryEffects::EffectInstance &e) {
      return isa<MemoryEffects::Write>(e.getEffect());
    });
  });
  return writes;
}

struct GpuDeviceBuffersPass
    : mlir::attn::impl::AttnGpuDeviceBuffersBase<GpuDeviceBuffersPass> {
  void runOnOperation() override {
    // Each host memref that launch bodies use, with its launches in order.
    llvm::MapVector<Value, SmallVector<gpu::LaunchOp>> launchesOf;
    getOperation()->walk([&](gpu::LaunchOp launch) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(launch.getBody(), captured);
      for (Value value : captured) {
        auto type = dyn_cast<MemRefType>(value.getType());
        // Device memory already, or workgroup/private memory.
        if (!type || type.getMemorySpace() ||
            value.getDefiningOp<gpu::AllocOp>())
          continue;
        launchesOf[value].push_back(launch);
      }
    });
    for (auto &[buffer, launches] : launchesOf)
      if (failed(place(buffer, launches)))
        return signalPassFailure();
  }

  LogicalResult place(Value buffer, ArrayRef<gpu::LaunchOp> launches) {
    auto type = cast<MemRefType>(buffer.getType());
    // A strided buffer (a slice) goes through a contiguous staging copy;
    // the kernels then index the contiguous device copy, which loads and
    // stores may, whatever the layout they were written for.
    if (!type.getLayout().isIdentity()) {
      Operation *other = nullptr;
      for (Operation *user : buffer.getUsers())
        if (insideLaunch(user) && !isa<memref::LoadOp, memref::StoreOp>(user))
          other = user;
      if (other)
        return other->emitOpError()
               << "uses the host buffer of type " << type
               << " inside a gpu.launch; its layout is not the identity, so "
                  "its device copy is contiguous, and only memref.load and "
                  "memref.store may index that in its place";
    }

    SmallVector<Operation *> hostUsers, deallocs;
    forEachUser(buffer, [&](Operation *user, Value value) {
      if (insideLaunch(user)) {
        // A launch that uses a host view of the buffer gets a device copy of
        // that view, filled from (and written back to) the host's memory:
        // the view's host operation reads and writes the buffer there.
        if (value != buffer && !insideLaunch(value.getDefiningOp()))
          hostUsers.push_back(value.getDefiningOp());
        return;
      }
      if (isa<memref::DeallocOp>(user))
        deallocs.push_back(user);
      else
        hostUsers.push_back(user);
    });
    // The caller reads a function argument's memory.
    auto argument = dyn_cast<BlockArgument>(buffer);
    bool callerReads =
        argument &&
        isa<FunctionOpInterface>(argument.getOwner()->getParentOp());
    auto alloc = buffer.getDefiningOp<memref::AllocOp>();

    // Runs in a block nested below the buffer's own (a loop body, a branch)
    // may repeat or not run at all: they keep the host's copy current.
    Block *home = buffer.getParentBlock();
    llvm::MapVector<Block *, SmallVector<gpu::LaunchOp>> byBlock;
    for (gpu::LaunchOp launch : launches)
      byBlock[launch->getBlock()].push_back(launch);
    int64_t runs = 0;
    for (auto &[block, blockLaunches] : byBlock) {
      llvm::sort(blockLaunches, [](gpu::LaunchOp x, gpu::LaunchOp y) {
        return x->isBeforeInBlock(y);
      });
      // What else touches the buffer, as operations of this block: host
      // users and the launches of other blocks (null: outside the block,
      // before and after it alike, as is everything for a nested block).
      SmallVector<Operation *> others;
      for (Operation *user : hostUsers)
        others.push_back(block->findAncestorOpInBlock(*user));
      for (auto &[otherBlock, otherLaunches] : byBlock)
        if (otherBlock != block)
          for (gpu::LaunchOp launch : otherLaunches)
            others.push_back(block->findAncestorOpInBlock(*launch));
      auto touchedBetween = [&](Operation *from, Operation *to) {
        return llvm::any_of(others, [&](Operation *other) {
          return other && (!from || from->isBeforeInBlock(other)) &&
                 (!to || other->isBeforeInBlock(to));
        });
      };
      bool outside = block != home || llvm::is_contained(others, nullptr);
      // Runs of launches that nothing else touches the buffer between share
      // one device copy.
      size_t start = 0;
      for (size_t i = 0; i < blockLaunches.size(); ++i) {
        if (i + 1 < blockLaunches.size() &&
            !touchedBetween(blockLaunches[i], blockLaunches[i + 1]))
          continue;
        ArrayRef<gpu::LaunchOp> run =
            ArrayRef(blockLaunches).slice(start, i + 1 - start);
        bool before = outside || touchedBetween(nullptr, run.front());
        bool after = outside || callerReads ||
                     touchedBetween(run.back(), nullptr);
        placeRun(buffer, alloc, run, /*copyIn=*/!alloc || before,
                 /*copyOut=*/after && launchesMayWrite(buffer, run));
        ++runs;
        start = i + 1;
      }
    }
    // A buffer that only launches use, in one run of its own block, lives
    // on the device only.
    if (alloc && hostUsers.empty() && runs == 1 &&
        byBlock.front().first == home) {
      ATTN_DEBUG(ATTN_DBGS() << type << ": device only\n");
      for (Operation *dealloc : deallocs)
        dealloc->erase();
      if (alloc->use_empty())
        alloc->erase();
    }
    return success();
  }

  /// Gives the launches of `run` (in order, in one block) one device copy of
  /// `buffer`.
  void placeRun(Value buffer, memref::AllocOp alloc,
                ArrayRef<gpu::LaunchOp> run, bool copyIn, bool copyOut) {
    auto type = cast<MemRefType>(buffer.getType());
    ATTN_DEBUG(ATTN_DBGS() << type << " in " << run.size() << " launch(es): "
                           << (copyIn ? "copied in" : "not copied in") << ", "
                           << (copyOut ? "copied out" : "not copied out")
                           << "\n");
    Location loc = run.front()->getLoc();
    OpBuilder b(run.front());
    SmallVector<Value> sizes;
    if (alloc) {
      sizes.assign(alloc.getDynamicSizes().begin(),
                   alloc.getDynamicSizes().end());
    } else {
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          sizes.push_back(memref::DimOp::create(b, loc, buffer, d));
    }
    // gpu.memcpy copies contiguous buffers: a strided one goes through a
    // contiguous host staging buffer (memref.copy on the host).
    auto contiguous = MemRefType::get(type.getShape(), type.getElementType());
    Value staging;
    if (contiguous != type)
      staging = memref::AllocOp::create(b, loc, contiguous, sizes);
    Value device = gpu::AllocOp::create(b, loc, TypeRange{contiguous},
                                        ValueRange{}, sizes, ValueRange{},
                                        /*hostShared=*/false)
                       ->getResult(0);
    if (copyIn) {
      if (staging)
        memref::CopyOp::create(b, loc, buffer, staging);
      gpu::MemcpyOp::create(b, loc, TypeRange{}, ValueRange{}, device,
                            staging ? staging : buffer);
    }
    buffer.replaceUsesWithIf(device, [&](OpOperand &use) {
      auto launch = use.getOwner()->getParentOfType<gpu::LaunchOp>();
      return launch && llvm::is_contained(run, launch);
    });

    b.setInsertionPointAfter(run.back());
    if (copyOut) {
      gpu::MemcpyOp::create(b, loc, TypeRange{}, ValueRange{},
                            staging ? staging : buffer, device);
      if (staging)
        memref::CopyOp::create(b, loc, staging, buffer);
    }
    gpu::DeallocOp::create(b, loc, TypeRange{}, ValueRange{}, device);
    if (staging)
      memref::DeallocOp::create(b, loc, staging);
  }
};

} // namespace
