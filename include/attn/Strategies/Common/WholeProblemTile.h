//===- WholeProblemTile.h - attn.attention as one tile op -------*- C++ -*-===//
//
// The form in which strategies hand attention to the tile op: the empty
// state, one attn.online_attention over every row and key of the problem,
// and attn.finalize (acc / sum) into the op's result. A strategy then tiles the
// tile op (portable) or marks it for a target's lowering (the CPU flash
// kernel); either way the math is the tile op's.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_WHOLEPROBLEMTILE_H
#define ATTN_STRATEGIES_COMMON_WHOLEPROBLEMTILE_H

#include "attn/Strategies/Common/AttentionProblem.h"

#include <string>

namespace mlir::attn {

/// Emits, before the attn.attention `p.op`, the empty state and the tile
/// op over the whole problem: positions (Lk - Lq, 0), the op's mask, bias,
/// rules and score. With an f32 result the state's acc is the op's init
/// (so that the portable lowering finalizes it in place); otherwise a
/// separate f32 tensor.
OnlineAttentionOp createWholeProblemTile(RewriterBase &rewriter,
                                         const AttentionProblem &p);

/// attn.finalize of the final state `acc`, `sum` into `p.init`, with the
/// score of the attn.attention `p.op`. Emitted at the rewriter's insertion
/// point; returns the result.
Value createFinalize(RewriterBase &rewriter, const AttentionProblem &p,
                     Value acc, Value sum);

/// What a target's lowering of a tile op needs to know about its form.
struct TileOpForm {
  /// The tile op's problem. Sink keys count from its first key, as a kernel
  /// over its keys 0 to N - 1 sees them.
  AttentionProblem problem;
  /// The destinations of its outs when they are fills with the empty
  /// state's values (0, the score's initial maximum, 0): a state that need
  /// not be read. Null otherwise.
  Value emptyAcc, emptyMax, emptySum;
  /// The attn.finalize that the kernel may take the place of: from the
  /// empty state, the only user of acc and sum, with the tile op's score,
  /// and its max unused. Null otherwise.
  FinalizeOp finalize;
  /// query_position - key_position, built by getTileOpForm before the op.
  Value queryShift;
};

/// The form of `tile` for a lowering named `kernel` (for messages). Fails
/// with an error on `tile` when it has sink keys and a key_position that
/// is not a constant.
FailureOr<TileOpForm> getTileOpForm(RewriterBase &rewriter,
                                    OnlineAttentionOp tile, StringRef kernel);

/// The driver of a target's lowering pass: lowers each attn.online_attention
/// below `root` that carries the configuration attribute `attrName`.
/// `parse` reads the configuration (and the name of the strategy that
/// wrote it), `verify` checks it against the op's problem, and `lower`
/// replaces the op. Stops at the first op refused; each step emits its own
/// error.
template <typename Config>
LogicalResult lowerConfiguredTileOps(
    Operation *root, StringRef attrName,
    function_ref<FailureOr<Config>(Operation *, std::string &)> parse,
    function_ref<LogicalResult(Operation *, StringRef,
                               const AttentionProblem &, const Config &)>
        verify,
    function_ref<LogicalResult(RewriterBase &, OnlineAttentionOp,
                               const Config &)>
        lower) {
  SmallVector<OnlineAttentionOp> tiles;
  root->walk([&](OnlineAttentionOp op) {
    if (op->hasAttr(attrName))
      tiles.push_back(op);
  });
  IRRewriter rewriter(root->getContext());
  for (OnlineAttentionOp op : tiles) {
    std::string strategy;
    FailureOr<Config> config = parse(op, strategy);
    if (failed(config) ||
        failed(verify(op, strategy, AttentionProblem::get(op), *config)) ||
        failed(lower(rewriter, op, *config)))
      return failure();
  }
  return success();
}

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_WHOLEPROBLEMTILE_H
