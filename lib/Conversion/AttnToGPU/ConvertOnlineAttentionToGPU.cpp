//===- ConvertOnlineAttentionToGPU.cpp - The tile op on a GPU -------------===//
//
// attn-convert-online-attention-to-gpu: each attn.online_attention that
// carries an attn.gpu_kernel configuration, with the attn.finalize after
// it, becomes the GPU flash kernel (GpuFlashKernel.h: lowerTileToGpuKernel):
// gpu.launch ops over host buffers (attn-gpu-device-buffers moves them to
// the device after bufferization). Then every attn.merge_states (split-KV's
// merge of its splits' states, and the user's) becomes a launch of its own
// (MergeStatesToGPU.h). The math is AttentionAlgebra's and the allowed-key
// rule AllowedKeyRule.h's, as in the CPU and portable lowerings.
//
//===----------------------------------------------------------------------===//

#include "MergeStatesToGPU.h"
#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/WholeProblemTile.h"

#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "attn-convert-online-attention-to-gpu"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTONLINEATTENTIONTOGPU
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

struct ConvertOnlineAttentionToGPUPass
    : mlir::attn::impl::AttnConvertOnlineAttentionToGPUBase<
          ConvertOnlineAttentionToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(lowerConfiguredTileOps<GpuKernelConfig>(
            getOperation(), kGpuKernelAttrName, parseGpuKernelAttr,
            verifyGpuKernelConfig, lowerTileToGpuKernel, DEBUG_TYPE)))
      return signalPassFailure();
    SmallVector<MergeStatesOp> merges;
    getOperation()->walk([&](MergeStatesOp op) { merges.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (MergeStatesOp op : merges)
      lowerMergeStatesToGpu(rewriter, op);
  }
};

} // namespace
