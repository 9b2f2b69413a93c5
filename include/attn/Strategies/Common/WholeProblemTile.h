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
#include "attn/Support/Debug.h"

#include <string>

namespace mlir::attn {

/// Emits, before the attn.attention `p.op`, the empty state and the tile
/// op over the whole problem: positions (Lk - Lq, 0), the op's mask, bias,
/// rules and score (and the entropy part when the op returns it). With an f32
/// result the state's acc is the op's init (so that the portable lowering
/// finalizes it in place); otherwise a separate f32 tensor.
OnlineAttentionOp createWholeProblemTile(RewriterBase &rewriter,
                                         const AttentionProblem &p);

/// attn.finalize of the final state `acc`, `sum` into `p.init`, with the
/// score of the attn.attention `p.op`, its sink logits and, when the op
/// returns them, the LSE and the entropy (which reads the state's
/// `entropy`; all three read its `max`). Emitted at the rewriter's insertion
/// point; returns the results: the output, then the LSE and the entropy.
ValueRange createFinalize(RewriterBase &rewriter, const AttentionProblem &p,
                          Value acc, Value sum, Value max,
                          Value entropy = Value());

/// attn.merge_states of the states that a kernel's split-KV tasks wrote:
/// `outputs` [S, ..., Dv] (normalized O) and `lses` [S, ...] (and
/// `entropies` [S, ...], or null) hold split s's state at index s of their
/// first dimension. The results go into `inits` where given (of that shape
/// without it), and into new f32 tensors otherwise. Emitted at the
/// builder's insertion point.
struct SplitStateInits {
  Value output, lse, entropy;
};
MergeStatesOp mergeSplitStates(OpBuilder &b, Location loc, Value outputs,
                               Value lses, Value entropies,
                               SplitStateInits inits = {});

/// The state of a tile op that a kernel reads and writes (in place of
/// writing the finalize's output).
struct TileState {
  /// acc [B, Hq, M, Dv], max and sum [B, Hq, M]: the tensors to read, or
  /// when `empty` the destinations of the empty state's fills (shaped like
  /// the state, their contents not needed).
  Value acc, max, sum;
  /// The outs are fills with the empty state's values (0, the score's
  /// initial maximum, 0): the kernel starts from them without reading.
  bool empty = false;
};

/// What a target's lowering of a tile op needs to know about its form.
struct TileOpForm {
  /// The tile op's problem. Sink keys count from its first key, as a kernel
  /// over its keys 0 to N - 1 sees them. With `finalize`, its init is the
  /// finalize's.
  AttentionProblem problem;
  /// The attn.finalize that the kernel takes the place of, writing its
  /// output (and LSE): from the empty state, the only user of acc and sum,
  /// with the tile op's score, and the tile op's max unused but by it. Null
  /// otherwise. Its sink logits and LSE init are the problem's then.
  FinalizeOp finalize;
  /// Without `finalize`: the state the kernel updates.
  std::optional<TileState> state;
  /// query_position - key_position, built by getTileOpForm before the op.
  Value queryShift;

  /// Replaces the tile op (and the finalize) by the kernel's `results`:
  /// the output (and the LSE), or the updated acc, max and sum.
  void replace(RewriterBase &rewriter, OnlineAttentionOp tile,
               ValueRange results) const;
};

/// The form of `tile` for a lowering named `kernel` (for messages), with
/// the rewriter's insertion point where the kernel goes: before the
/// finalize (which everything the kernel reads dominates) or before the
/// tile op. Fails with an error on `tile` when it has sink keys and a
/// key_position that is not a constant.
FailureOr<TileOpForm> getTileOpForm(RewriterBase &rewriter,
                                    OnlineAttentionOp tile, StringRef kernel);

/// The driver of a target's lowering pass: lowers each attn.online_attention
/// below `root` that carries the configuration attribute `attrName`.
/// `parse` reads the configuration (and the name of the strategy that
/// wrote it), `verify` checks it against the op's problem, and `lower`
/// replaces the op. Stops at the first op refused; each step emits its own
/// error. With `-debug-only=<debugType>` (the pass's name) each op lowered
/// is printed with its types and configuration.
template <typename Config>
LogicalResult lowerConfiguredTileOps(
    Operation *root, StringRef attrName,
    function_ref<FailureOr<Config>(Operation *, std::string &)> parse,
    function_ref<LogicalResult(Operation *, StringRef, const AttentionProblem &,
                               const Config &)>
        verify,
    function_ref<LogicalResult(RewriterBase &, OnlineAttentionOp,
                               const Config &)>
        lower,
    const char *debugType) {
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
        failed(verify(op, strategy, AttentionProblem::get(op), *config)))
      return failure();
    ATTN_DEBUG_WITH_TYPE(
        debugType, llvm::dbgs() << "[" << debugType << "] lowering "
                                << op.getQueryType() << " x " << op.getKeyType()
                                << " tile with " << *config << "\n");
    if (failed(lower(rewriter, op, *config)))
      return failure();
  }
  return success();
}

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_WHOLEPROBLEMTILE_H
