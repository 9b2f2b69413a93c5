//===- RaiseAttention.cpp - attn-raise ------------------------------------===//
//
// Rewrites attention that a front end wrote as math (TOSA or linalg: two
// batched products around a softmax over the keys, with scales, additive
// masks, reshapes, transposes and head repeats) into attn.attention, so that
// exported models get the strategies without an edit. The recognizer lives
// in AttentionMatcher.cpp (attn-explain reports the same sites). A site is
// raised only when attn.attention computes exactly what was written (up to
// rounding); with `explain`, every site gets a remark saying what it became,
// or why it was left as it is.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatcher.h"
#include "attn/Support/Debug.h"
#include "attn/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"

#define DEBUG_TYPE "attn-raise"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNRAISE
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct RaiseAttentionPass
    : mlir::attn::impl::AttnRaiseBase<RaiseAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    llvm::DenseSet<Operation *> failedAnchors;
    // Raising one site can change what another one reads (an attention
    // output feeding the next one), so sites are found again after each.
    while (true) {
      SmallVector<AttentionSite> sites = findAttentionSites(getOperation());
      const AttentionSite *next = nullptr;
      for (const AttentionSite &site : sites)
        if (site.raisable() && !failedAnchors.contains(site.anchor)) {
          next = &site;
          break;
        }
      if (!next) {
        if (explain)
          for (const AttentionSite &site : sites)
            if (!site.raisable())
              site.anchor->emitRemark()
                  << "attention-like math not raised: " << site.reason;
        return;
      }
      std::string summary = next->summary;
      Operation *anchor = next->anchor;
      FailureOr<Operation *> raised = raiseAttentionSite(rewriter, *next);
      if (failed(raised)) {
        ATTN_DEBUG(ATTN_DBGS() << "could not rewrite the site at "
                               << anchor->getLoc() << "\n");
        failedAnchors.insert(anchor);
        continue;
      }
      ATTN_DEBUG(ATTN_DBGS() << "raised to " << summary << " at "
                             << (*raised)->getLoc() << "\n");
      if (explain)
        (*raised)->emitRemark() << "raised to " << summary;
    }
  }
};
} // namespace
