//===- ConvertOnlineAttentionToCPUVector.cpp - The tile op on the CPU -----===//
//
// attn-convert-online-attention-to-cpu-vector: each attn.online_attention
// that carries an attn.cpu_kernel configuration becomes the register-blocked
// flash kernel (FlashKernel.h: lowerTileToFlashKernel), which also takes
// the place of the attn.finalize after it when the tile starts from the
// empty state. The math is
// AttentionAlgebra's and the allowed-key rule AllowedKeyRule.h's, as in the
// portable lowering; this lowering decides where the values live (vector
// registers, stack tiles, packed keys) and which key tiles a block visits.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Strategies/Common/FlashKernel.h"
#include "attn/Strategies/Common/WholeProblemTile.h"

#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "attn-convert-online-attention-to-cpu-vector"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTONLINEATTENTIONTOCPUVECTOR
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

struct ConvertOnlineAttentionToCPUVectorPass
    : mlir::attn::impl::AttnConvertOnlineAttentionToCPUVectorBase<
          ConvertOnlineAttentionToCPUVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(lowerConfiguredTileOps<FlashKernelConfig>(
            getOperation(), kCpuKernelAttrName, parseCpuKernelAttr,
            verifyFlashKernelConfig, lowerTileToFlashKernel, DEBUG_TYPE)))
      signalPassFailure();
  }
};

} // namespace
