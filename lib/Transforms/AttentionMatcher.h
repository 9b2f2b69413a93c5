//===- AttentionMatcher.h - Attention written as math -----------*- C++ -*-===//
//
// Finds attention that a front end wrote as math (TOSA or linalg: two batched
// matrix products around a softmax, with scales, additive masks, reshapes,
// transposes and head repeats) and rewrites it into attn.attention. Shared by
// attn-raise (which rewrites) and attn-explain (which only reports).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_TRANSFORMS_ATTENTIONMATCHER_H
#define ATTN_LIB_TRANSFORMS_ATTENTIONMATCHER_H

#include "mlir/IR/PatternMatch.h"

#include <memory>
#include <string>

namespace mlir::attn {

/// What a raise needs: values, axes and attributes (defined in the .cpp).
struct AttentionPlan;

/// A contraction whose one operand looks like softmax weights (it reaches an
/// exp or a softmax): either attention that can be raised (`plan` set), or a
/// near-miss (`reason` says why it is not raised).
struct AttentionSite {
  Operation *anchor = nullptr; ///< The product of the weights with V.
  std::string reason;          ///< Why it is not raised; empty if it is.
  std::string summary;         ///< The attn.attention it becomes.
  std::shared_ptr<AttentionPlan> plan;
  bool raisable() const { return plan != nullptr; }
};

/// Every site under `root`, in walk order. Changes nothing.
SmallVector<AttentionSite> findAttentionSites(Operation *root);

/// Replaces the site's anchor by attn.attention (with the reshapes and
/// transposes its operands and result need) and erases the ops that became
/// dead. Returns the new attn.attention op.
FailureOr<Operation *> raiseAttentionSite(RewriterBase &rewriter,
                                          const AttentionSite &site);

} // namespace mlir::attn

#endif // ATTN_LIB_TRANSFORMS_ATTENTIONMATCHER_H
