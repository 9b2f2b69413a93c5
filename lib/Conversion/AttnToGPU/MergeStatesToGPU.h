//===- MergeStatesToGPU.h - attn.merge_states as a GPU launch ---*- C++ -*-===//
//
// The GPU lowering of attn.merge_states, which
// attn-convert-online-attention-to-gpu applies to every merge: split-KV's
// and the user's.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_MERGESTATESTOGPU_H
#define ATTN_CONVERSION_ATTNTOGPU_MERGESTATESTOGPU_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// Replaces `op` by one gpu.launch over host buffers (one thread per row:
/// the states' factors, LSE and entropy once, then O over Dv), with the
/// math of AttentionAlgebra::mergeNormalized.
void lowerMergeStatesToGpu(RewriterBase &rewriter, MergeStatesOp op);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOGPU_MERGESTATESTOGPU_H
