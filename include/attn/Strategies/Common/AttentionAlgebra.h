//===- AttentionAlgebra.h - The tile-level math of attention ----*- C++ -*-===//
//
// The math every attention kernel shares, written once: the score after
// q.k (scale, bias, softcap, the log2 domain, kernel weights), the online
// update of the running row maximum and the weight of a score relative to
// it, the merge of partial states, and the epilogue. Each function emits
// arith/math ops on an f32 scalar or an f32 vector alike (constants take the
// type of their operand), so the CPU kernels call it on vector registers of
// keys or rows and the GPU kernels on one thread's scalars. What differs
// between targets (how q.k is computed, which keys a tile holds, where the
// state lives) stays in the kernels.
//
// A state is (O, m, l): the weighted sum of value rows, the running maximum
// in the log2 domain (for softmax, the maximum score times log2(e); for
// softplus, min(that, 0); 0 for kernel scores, which keep none), and the sum
// of weights. A state that computes the entropy has a fourth part t =
// sum_j w_j log2 w_j over the same weights w_j (relative to m).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_ATTENTIONALGEBRA_H
#define ATTN_STRATEGIES_COMMON_ATTENTIONALGEBRA_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

class AttentionAlgebra {
public:
  AttentionAlgebra(OpBuilder &b, Location loc, const AttentionProblem &p)
      : b(b), loc(loc), p(p) {}

  /// Whether scores keep a running row maximum (softmax, softplus); kernel
  /// scores are plain sums of weights.
  bool tracksMax() const;

  /// The factor of q.k (of phi(q).phi(k) for feature maps: 1) that comes
  /// first. For softmax without bias or softcap it includes log2(e). A
  /// kernel may apply it to q instead of to each score.
  double scoreScale() const;

  /// The rest of the score from s = scoreScale() * q.k: plus `bias` (of s's
  /// type; null when the op has none), softcap, the op's score_mod (which
  /// `scoreMod` applies at the kernel's indices; ModRegions.h), the log2
  /// domain when the score function takes it (softmax), and for kernel
  /// scores their weight w(s) (ScoreFunction::weight).
  Value finishScore(Value s, Value bias,
                    function_ref<Value(Value)> scoreMod = nullptr);

  /// The softcap of the biased score `x`: cap tanh(x / cap), and with
  /// `derivative` its derivative 1 - tanh^2 (else null); {x, null} without
  /// a softcap.
  std::pair<Value, Value> softcap(Value x, bool derivative = false);

  /// The backward's score from the biased score x = scale q.k + bias, as
  /// the forward forms it in the natural domain (softcap, then the
  /// score_mod, which `scoreMod` applies at the kernel's indices and
  /// returns with its derivative; ModRegions.h), and its derivative
  /// d score / d x (1 where nothing changes the score).
  std::pair<Value, Value> scoreAndDerivative(
      Value x, function_ref<std::pair<Value, Value>(Value)> scoreMod = nullptr);

  /// m of a state that has seen no key.
  double initialMax() const;

  struct MaxUpdate {
    Value mNew;  ///< max(m, reference of the tile's maximum)
    Value mSafe; ///< mNew, or 0 while it is -inf (no allowed key yet)
  };
  /// The online update of the running maximum `m` by `tileMax`, the largest
  /// finished score of the keys just seen (or one key's score).
  MaxUpdate updateMax(Value m, Value tileMax);

  /// The reference a row's weights are taken relative to, from its running
  /// maximum `m`: m itself, or 0 while m is -inf (no allowed key yet), so
  /// that no -inf - -inf is formed.
  Value safeReference(Value m);

  /// alpha = 2^(m - mSafe): the factor of the old O and l when the maximum
  /// moves from m to mSafe. Apart from updateMax so that a kernel may take
  /// it for many rows at once.
  Value rescaleFactor(Value m, Value mSafe);

  /// The weight of finished score `s` in a row whose maximum is `mSafe`, as
  /// the score function gives it (2^(s - mSafe) for softmax, softplus(s)
  /// 2^-mSafe for softplus), and `s` itself for kernel scores (finishScore
  /// made it the weight).
  Value weight(Value s, Value mSafe);

  /// The maximum of the state merged from states with maxima `ms`: the
  /// largest; kernel scores keep the first state's (which they never use).
  Value mergedMax(ArrayRef<Value> ms);
  /// The merge of partial states with maxima `ms`: each state's factor,
  /// 2^(m_k - mergedMax(ms)) (1 for kernel scores, and where every m is
  /// -inf).
  SmallVector<Value> mergeFactors(ArrayRef<Value> ms);

  /// The factor of one state with maximum `m` in a merge whose largest
  /// maximum is `mMax` (an element of mergeFactors).
  Value mergeFactor(Value m, Value mMax);

  /// sum_k w_k x_k, each scalar w_k broadcast to x_k's type: l and O of the
  /// merged state from mergeFactors.
  Value weightedSum(ArrayRef<Value> w, ArrayRef<Value> x);

  /// The weight of a row's sink logit `sinkLogit` (scalar f32, as the op
  /// holds it) in a state whose maximum is `m`: 2^(sink log2(e) - m).
  Value sinkWeight(Value sinkLogit, Value m);

  /// The backward's row term of the forward's LSE (natural log, f32 scalar):
  /// LSE log2(e), or +inf for a row without allowed keys (LSE = -inf), so
  /// that each of its weights is 0.
  Value lseInLog2(Value lse);
  /// The backward's recomputed weight P = exp(score - LSE) of a score as
  /// the forward forms it in the natural domain (scoreAndDerivative; a
  /// scalar or a vector), as 2^(score log2(e) - lseLog2) with the row's
  /// scalar `lseLog2` from lseInLog2.
  Value weightFromLse(Value score, Value lseLog2);

  /// Kernel scores' backward: `x` (a row's grad_output, or its D = dO . O;
  /// a scalar or a vector) divided by the row's normalizer `z`, its
  /// forward's weight sum (a scalar), and 0 where z = 0 (a row whose output
  /// is 0 whatever its inputs); `x` itself when the score is not
  /// normalized. With dO' and D' so divided, the gradient of the weight
  /// w_ij is dO'_i . v_j - D'_i (dO_i . v_j unnormalized), and dV_j =
  /// sum_i w_ij dO'_i. A division, as in the epilogue.
  Value divideByNormalizer(Value x, Value z);

  /// The backward's sum dSink_h = -sum over rows of exp(sink_h - LSE) D,
  /// one row at a time (f32 scalars): `acc` minus the row's term, or `acc`
  /// for a row without allowed keys (LSE = -inf), which adds nothing.
  Value sinkGradientStep(Value acc, Value lse, Value rowDot, Value sinkLogit);

  /// The epilogue: O / l (the scalar l broadcast to O's type) in the output
  /// element type `outElem`. A row whose weights sum to 0 is 0, whatever O
  /// holds (0 * NaN from a value read with weight 0). A division, never a
  /// multiplication by 1 / l, which overflows when kernel weights are tiny.
  /// Unnormalized scores return O. With `sinkWeight` (sinkWeight()) the
  /// divisor is l plus it; a row without keys (l = 0) is still 0.
  Value epilogue(Value o, Value l, Type outElem, Value sinkWeight = Value());

  /// The entropy part of one key (or a vector of keys) of finished score
  /// `s` and weight `w` (weight()) in a row whose maximum is `mSafe`:
  /// w log2 w, 0 where w is 0 (a key that is not allowed, or a score of
  /// -inf). It is w times entropyLog2Weight(s, w, mSafe), which a kernel
  /// may take instead to fold the product into a fused multiply-add.
  Value entropyTerm(Value s, Value w, Value mSafe);
  /// log2 w, finite where w is 0 so that w times it is 0: for softmax
  /// s - mSafe clamped to the lowest f32, else log2 w where w > 0 and 0
  /// elsewhere.
  Value entropyLog2Weight(Value s, Value w, Value mSafe);

  /// The entropy part t of a state whose maximum moves from `m` to `mSafe`
  /// (updateMax) with factor `alpha` (rescaleFactor), before the tile's
  /// terms are added: alpha (t + (m' - mSafe) l), with m' = m or 0 while m
  /// is -inf (then l and t are 0). Kernel scores keep t as it is.
  Value rescaleEntropy(Value t, Value l, Value m, Value mSafe, Value alpha);

  /// The entropy part t (with sum l) of a state whose maximum is `m`,
  /// relative to the maximum `mMax` >= m of a merge (before its factor):
  /// t + (m' - mMax') l, with m' = m or 0 while m is -inf (and mMax' the
  /// same). Kernel scores: t.
  Value entropyRelativeTo(Value t, Value l, Value m, Value mMax);

  /// The entropy part of the merge of states (ts, ls, ms) with factors
  /// `factors` (mergeFactors(ms)): sum_k f_k (t_k + (m_k' - max') l_k).
  Value mergedEntropy(ArrayRef<Value> ts, ArrayRef<Value> ls,
                      ArrayRef<Value> ms, ArrayRef<Value> factors);

  /// The row's entropy -sum_j p_j ln p_j of its normalized weights, from the
  /// state's t and l (and the sink's weight, which joins the normalizer
  /// L = l + sinkWeight): ln 2 (l log2 L - t) / L, 0 where l = 0.
  Value entropy(Value t, Value l, Value sinkWeight = Value());

  /// The row's log-sum-exp in the natural log (softmax states):
  /// ln 2 (m + log2(l [+ sinkWeight])), -inf where l = 0 (no allowed key,
  /// whatever the sink).
  Value logSumExp(Value m, Value l, Value sinkWeight = Value());

  /// The state of a row known by its normalized output (O, LSE, H), as
  /// attn.merge_states returns it: m = LSE log2 e, l = 1 (0 where LSE = -inf:
  /// no key), t = -H log2 e (null when `entropy` is). With O as acc, the
  /// epilogue, logSumExp and entropy give O, LSE and H back (and take a
  /// sink's weight in); it merges and rescales as any state.
  struct NormalizedRowState {
    Value m, l, t;
  };
  NormalizedRowState stateOfNormalized(Value lse, Value entropy);

  /// attn.merge_states on one row: the states' LSE_k (and entropies H_k, or
  /// none) merged. `factors` weigh each state's O_k relative to the largest
  /// LSE; O = epilogue(weightedSum(factors, O_k), l). `entropy` is null
  /// without entropies.
  struct MergedRow {
    SmallVector<Value> factors;
    Value l, lse, entropy;
  };
  MergedRow mergeNormalized(ArrayRef<Value> lses, ArrayRef<Value> entropies);

private:
  Value constant(Value like, double v);

  OpBuilder &b;
  Location loc;
  const AttentionProblem &p;
};

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_ATTENTIONALGEBRA_H
