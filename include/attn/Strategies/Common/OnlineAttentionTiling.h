//===- OnlineAttentionTiling.h - Tiling of attn.online_attention -*- C++ -*-===//
//
// attn.online_attention implements upstream's TilingInterface and
// PartialReductionOpInterface through external models, registered here: the
// merge of partial states needs AttentionAlgebra, which lives above the
// dialect. The dialect promises both interfaces, so a context that tiles the
// op without this registration fails loudly instead of skipping the op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_ONLINEATTENTIONTILING_H
#define ATTN_STRATEGIES_COMMON_ONLINEATTENTIONTILING_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::attn {

/// Attaches TilingInterface and PartialReductionOpInterface to
/// attn.online_attention. Iteration domain: (batch, query heads, rows,
/// keys), the keys a reduction; a grouped-query op tiles its heads by 1 or
/// by whole groups (a static multiple of the group size), so that a group's
/// query heads can share their KV head's tiles. Partial reductions split the keys (outer parallel only):
/// each split starts from the empty state, and the merge folds the splits
/// into the op's own initial state.
void registerOnlineAttentionTilingInterface(DialectRegistry &registry);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_ONLINEATTENTIONTILING_H
