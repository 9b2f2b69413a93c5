//===- AttnOps.td - Operations of the attn dialect ---------*- tablegen -*-===//
//
// attn.attention and attn.neighborhood: destination-passing-style attention
// ops on ranked tensors. Their meaning is defined here exactly; strategies
// only choose how to compute it. attn.paged_attention reads K/V from a
// paged cache (serving). attn.online_attention is the tile-level op
// that strategies build them from and that each target lowers.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_TD

include "attn/Dialect/Attn/IR/AttnDialect.td"
include "attn/Dialect/Attn/IR/AttnAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

def Attn_AttentionOp : Attn_Op<"attention", [
    AttrSizedOperandSegments, Pure]> {
  let summary = "Scaled dot-product attention with masks, windows and score kinds";
  let description = [{
    ```mlir
    %o = attn.attention ins(%q, %k, %v : tensor<1x8x1024x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>)
                        outs(%init : tensor<1x8x1024x64xf32>)
                        {scale = 0.125 : f32, causal} -> tensor<1x8x1024x64xf32>
    ```

    Layout `q : [B, Hq, Lq, D]`, `k : [B, Hkv, Lk, D]`, `v : [B, Hkv, Lk, Dv]`,
    `init` and result `[B, Hq, Lq, Dv]`. `Hq % Hkv == 0`; query head `h` reads
    KV head `h / (Hq / Hkv)`. B, Lq and Lk may be dynamic; heads and head
    dimensions are static. Every static size is at most 2^31 - 1 (the kernels
    index positions with 32-bit integers), and so are window bounds and
    sinks. q, k and v share one element type (f32, f16 or bf16);
    math accumulates in f32; the result has q's element type.

    Quantized K/V: `key` and `value` may each be `i8` or `f8E4M3FN`, with
    a scale operand: the element is scale * stored value, dequantized as it
    is read, and the math stays in f32. i8 takes one scale per (batch, KV
    head, key), `k_scale(%ks : tensor<BxHkvxLkxf32>)`; f8E4M3FN one per KV
    head, `tensor<Hkvxf32>`. `v_scale` is the same for `value`.

    ```mlir
    %o = attn.attention ins(%q, %k, %v : tensor<1x32x1x128xf32>, tensor<1x8x4096x128xi8>, tensor<1x8x4096x128xi8>)
                        k_scale(%ks : tensor<1x8x4096xf32>) v_scale(%vs : tensor<1x8x4096xf32>)
                        outs(%init : tensor<1x32x1x128xf32>) -> tensor<1x32x1x128xf32>
    ```

    Optional operands: `mask(%m : tensor<BmxHmxLqxLkxi1>)` (true = may attend)
    and `bias(%b : tensor<BbxHbxLqxLkxf32>)` (added to the scores); their first
    two dimensions are either the full size or 1 (broadcast).

    Scores: s_ij = scale * q_i . k_j (scale defaults to 1/sqrt(D)), plus bias,
    then softcap (s -> c tanh(s / c)). Allowed(i, j) = mask_ij and the causal
    rule (j <= i + Lk - Lq) and (the window rule or j < sinks). Weights come
    from the `score` attribute over allowed keys only. A query with no allowed
    key, or whose weights sum to 0, produces a row of zeros.

    | attribute | meaning | default |
    |---|---|---|
    | `scale` (f32) | score scale | 1/sqrt(D) |
    | `causal` (unit) | bottom-right aligned causal rule | off |
    | `window` | `#attn.window<left = L, right = R>` | unbounded |
    | `sinks` (i64) | keys j < sinks are exempt from the window | 0 |
    | `softcap` (f32) | s -> c tanh(s / c), before masking | none |
    | `score` | `#attn.score<...>` | softmax |
    | `strategy` | `#attn.strategy<...>` | chosen by selection |

    Custom variants. `sink_logits(%sl : tensor<Hqxf32>)` (softmax only) is a
    learnable sink logit per query head: it takes part in each row's
    normalization and carries no value, so with M_i = max(sl_h, max over
    allowed j of s_ij) the weights are exp(s_ij - M_i) / (exp(sl_h - M_i) +
    sum over allowed j of exp(s_ij - M_i)). It is not scaled and does not
    pass through `score_mod`; a row with no allowed key is still zeros.

    ```mlir
    %o = attn.attention ins(%q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>)
                        outs(%init : tensor<1x8x128x64xf32>) {causal}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %slope = tensor.extract %slopes[%h] : tensor<8xf32>
        %d = arith.subi %j, %i : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %t = arith.mulf %slope, %df : f32
        %r = arith.addf %s, %t : f32
        attn.yield %r : f32
      } -> tensor<1x8x128x64xf32>
    ```

    `score_mod` rewrites each score: its block takes the score s (f32, after
    scale, bias and softcap), then b, h (the query head), i (0 <= i < Lq)
    and j (0 <= j < Lk) as `index`, and yields the new f32 score. `mask_mod`
    takes b, h, i, j and yields i1: Allowed(i, j) gains the conjunct
    `mask_mod(b, h, i, j)`. Either region may be absent; with both,
    `score_mod` is written first. Their bodies are pure scalar code: ops of
    the `arith`, `math` and `index` dialects and `tensor.extract` from
    tensors defined above the op (slopes, bias tables, segment ids), indexed
    in bounds. Scores that are never formed (`kernel<elu1>`,
    `kernel<relu>`) take no `score_mod`; every score takes `mask_mod`.

    Row statistics. `{return_lse}` (softmax only) adds a result
    `tensor<BxHqxLqxf32>`: LSE_i = ln(sum over allowed j of exp(s_ij)), in
    the natural log, with exp(sl_h) inside the sum under `sink_logits`;
    -inf for a row with no allowed key. `{return_entropy}` adds (after the
    LSE when both) the entropy of each row's weights,
    H_i = -sum_j w_ij ln w_ij (0 for a row with no allowed key), for score
    kinds that normalize. Each is computed in the same pass as the output.

    ```mlir
    %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>)
                              outs(%init : tensor<1x8x128x64xf32>) {causal, return_lse}
                              -> tensor<1x8x128x64xf32>, tensor<1x8x128xf32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$bias,
    Optional<AnyRankedTensor>:$sink_logits,
    Optional<AnyRankedTensor>:$k_scale,
    Optional<AnyRankedTensor>:$v_scale,
    AnyRankedTensor:$init,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$causal,
    OptionalAttr<Attn_WindowAttr>:$window,
    OptionalAttr<I64Attr>:$sinks,
    OptionalAttr<F32Attr>:$softcap,
    OptionalAttr<Attn_ScoreAttr>:$score,
    OptionalAttr<Attn_StrategyAttr>:$strategy,
    UnitAttr:$return_lse,
    UnitAttr:$return_entropy
  );
  let results = (outs AnyRankedTensor:$result,
                      Variadic<AnyRankedTensor>:$statistics);
  let regions = (region AnyRegion:$score_mod, AnyRegion:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    (`k_scale` `(` $k_scale^ `:` type($k_scale) `)`)?
    (`v_scale` `(` $v_scale^ `:` type($v_scale) `)`)?
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`sink_logits` `(` $sink_logits^ `:` type($sink_logits) `)`)?
    `outs` `(` $init `:` type($init) `)`
    attr-dict
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($result) (`,` type($statistics)^)?
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getQueryType() { return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType()); }
    ::mlir::RankedTensorType getKeyType() { return ::llvm::cast<::mlir::RankedTensorType>(getKey().getType()); }
    ::mlir::RankedTensorType getValueType() { return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType()); }
    ::mlir::RankedTensorType getResultType() { return ::llvm::cast<::mlir::RankedTensorType>(getResult().getType()); }
    /// Whether the op has a score_mod / mask_mod region.
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    /// The scale attribute, or 1/sqrt(D).
    float getEffectiveScale();
    /// The score attribute, or softmax.
    ScoreAttr getEffectiveScore();
    /// Number of sink keys (0 without the attribute).
    int64_t getNumSinks() { return getSinksAttr() ? getSinksAttr().getInt() : 0; }
    /// Query heads per KV head.
    int64_t getGroupSize() { return getQueryType().getDimSize(1) / getKeyType().getDimSize(1); }
    /// The LSE result (null without `return_lse`).
    ::mlir::Value getLse() { return getReturnLse() ? getStatistics()[0] : ::mlir::Value(); }
    /// The entropy result (null without `return_entropy`).
    ::mlir::Value getEntropy() { return getReturnEntropy() ? getStatistics().back() : ::mlir::Value(); }
  }];
}

def Attn_AttentionBackwardOp : Attn_Op<"attention_backward", [
    AttrSizedOperandSegments, Pure]> {
  let summary = "Gradients of attention with respect to q, k, v and its parameters";
  let description = [{
    ```mlir
    %dq, %dk, %dv = attn.attention_backward
        ins(%q, %k, %v, %o, %do, %lse : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128xf32>)
        outs(%dqi, %dki, %dvi : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>)
        {causal} -> tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>
    ```

    The backward of `attn.attention` with a softmax or a kernel score. `q`,
    `k`, `v` are the forward op's operands; `output` (O) and `lse` are its
    output and its `return_lse` result; `grad_output` (dO) has O's type.
    With a kernel score (`#attn.score<kernel<...>>`) there is no `lse`: the
    `ins` list ends at `grad_output` and the backward forms each row's
    normalizer Z_i = sum over allowed j of w_ij again. It takes
    the forward op's optional operands (`mask`, `bias`, `sink_logits`), its
    attributes and its `score_mod` / `mask_mod` regions, with the same
    meaning; they must be the ones the forward op was given.

    The results are the exact gradients of sum(dO * O) with respect to q,
    k and v, in that order and of their types; with `bias` a gradient of
    the bias follows (of its type: summed over a broadcast batch or head
    dimension), and with `sink_logits` one of the sink logits (f32 [Hq]).
    `outs` holds one init per result. With P_ij = exp(s_ij - LSE_i) at
    allowed pairs and D_i = dO_i . O_i:
    dV_j = sum_i P_ij dO_i, dS_ij = P_ij (dO_i . v_j - D_i), dQ_i = scale
    sum_j dS'_ij k_j, dK_j = scale sum_i dS'_ij q_i, where dS' is dS
    carried back through `score_mod` (differentiated with respect to its
    score argument) and softcap to the scaled score, and
    d sink_h = -sum over rows of exp(sl_h - LSE_i) D_i. With a kernel
    score the weights are w_ij over the allowed pairs and the gradient of a
    weight is dW_ij = (dO_i . v_j - D_i) / Z_i when normalized (0 for a row
    with Z_i = 0, whose output is 0), dO_i . v_j otherwise; dV_j = sum_i
    (w_ij / Z_i) dO_i (w_ij dO_i unnormalized); a score-forming kernel
    (taylor2, identity, sigmoid) carries dW back to its score through
    d w / d s, and a feature product (elu1, relu) to scale q and k through
    phi'. Rows with no allowed key contribute nothing. Grouped-query heads
    sum dK and dV over the query heads of a group. The math is in f32.

    `score_mod` is differentiated automatically. Every op of its body that
    depends on the score must have a derivative: addf, subf, mulf, divf,
    negf, the min/max ops, select, extf/truncf, fma, and math's exp, exp2,
    expm1, log, log2, log1p, tanh, sqrt, rsqrt, absf, sin, cos, erf and
    powf; cmpf may read the score (select's condition). Any other op is a
    verifier error naming it. Captured tables get no gradient.
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    AnyRankedTensor:$output,
    AnyRankedTensor:$grad_output,
    Optional<AnyRankedTensor>:$lse,
    Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$bias,
    Optional<AnyRankedTensor>:$sink_logits,
    Variadic<AnyRankedTensor>:$inits,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$causal,
    OptionalAttr<Attn_WindowAttr>:$window,
    OptionalAttr<I64Attr>:$sinks,
    OptionalAttr<F32Attr>:$softcap,
    OptionalAttr<Attn_ScoreAttr>:$score,
    OptionalAttr<Attn_StrategyAttr>:$strategy
  );
  let results = (outs Variadic<AnyRankedTensor>:$gradients);
  let regions = (region AnyRegion:$score_mod, AnyRegion:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` custom<BackwardInputs>($query, $key, $value, $output,
        $grad_output, $lse, type($query), type($key), type($value),
        type($output), type($grad_output), type($lse)) `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`sink_logits` `(` $sink_logits^ `:` type($sink_logits) `)`)?
    `outs` `(` $inits `:` type($inits) `)`
    attr-dict
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($gradients)
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getQueryType() { return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType()); }
    ::mlir::RankedTensorType getKeyType() { return ::llvm::cast<::mlir::RankedTensorType>(getKey().getType()); }
    ::mlir::RankedTensorType getValueType() { return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType()); }
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    /// The scale attribute, or 1/sqrt(D).
    float getEffectiveScale();
    /// The score attribute, or softmax.
    ScoreAttr getEffectiveScore();
    int64_t getNumSinks() { return getSinksAttr() ? getSinksAttr().getInt() : 0; }
  }];
}

def Attn_NeighborhoodOp : Attn_Op<"neighborhood", [Pure]> {
  let summary = "NATTEN neighborhood attention over 1-D, 2-D or 3-D token grids";
  let description = [{
    ```mlir
    %o = attn.neighborhood ins(%q, %k, %v : tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>)
                           outs(%init : tensor<1x4x56x56x32xf32>)
                           {kernel = [7, 7], dilation = [2, 2], causal = [false, false]} -> tensor<1x4x56x56x32xf32>
    ```

    Layout `[B, H, X, D]`, `[B, H, X, Y, D]` or `[B, H, X, Y, Z, D]` (spatial
    rank 1, 2 or 3); v and the result have `Dv` as the last dimension. Softmax
    weights, `scale` as in `attn.attention` (default 1/sqrt(D)). The allowed set
    is the product over axes of NATTEN's one-axis rule. For an axis of length n,
    kernel k, dilation d and stride 1: query i and key j must share a dilation
    group (i mod d = j mod d); in group coordinates qi = i div d, kj = j div d,
    with m = ceil((n - i mod d) / d) positions in the group:
    - non-causal: c = clamp(qi, k div 2, m - 1 - r), r = k div 2 - (1 - k mod 2);
      allowed iff c - k div 2 <= kj <= c + r;
    - causal: allowed iff 0 <= qi - kj < k.
    With stride s, queries are grouped into blocks of s consecutive group
    coordinates, b = s (qi div s), and share a leader L: non-causal uses
    L = min(b + s div 2, m - 1) in place of qi above; causal allows
    max(0, L - k + 1) <= kj <= qi with L = min(b + s - 1, m - 1). This is
    NATTEN's strided (generalized) neighborhood attention; s = 1 gives the
    rules above. Every query produces an output row.

    Attributes: `kernel` (required), `dilation`, `causal`, `stride` (one entry
    per spatial axis; defaults 1, 1, false, 1), `scale`, `strategy`.

    `return_lse` (unit) adds a second result, f32 `[B, H, X, ...]` (the
    query's shape without D): each query's log-sum-exp of its allowed
    scores, natural log, which `attn.neighborhood_backward` takes.

    `score_mod` and `mask_mod` regions as on `attn.attention`, with the
    positions as coordinates: `score_mod` takes s, b, h, then the query's
    spatial coordinates, then the key's (2 * rank `index` arguments);
    `mask_mod` takes b, h and the same coordinates. NATTEN's relative
    positional bias is `tensor.extract %rpb[%h, %kx - %qx + (k - 1), ...]`
    from a table of 2k - 1 entries per axis.
    The verifier rejects kernel * dilation > extent, a static spatial grid of
    more than 2^31 - 1 positions, and a window whose span (the product of
    kernel * dilation over the axes) exceeds 2^31 - 1, dynamic extents too.
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    AnyRankedTensor:$init,
    I64ArrayAttr:$kernel,
    OptionalAttr<I64ArrayAttr>:$dilation,
    OptionalAttr<BoolArrayAttr>:$causal,
    OptionalAttr<I64ArrayAttr>:$stride,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$return_lse,
    OptionalAttr<Attn_StrategyAttr>:$strategy
  );
  let results = (outs AnyRankedTensor:$result,
                      Variadic<AnyRankedTensor>:$statistics);
  let regions = (region AnyRegion:$score_mod, AnyRegion:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    `outs` `(` $init `:` type($init) `)`
    attr-dict
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($result) (`,` type($statistics)^)?
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    /// The LSE result (null without `return_lse`).
    ::mlir::Value getLse() { return getReturnLse() ? getStatistics()[0] : ::mlir::Value(); }
    ::mlir::RankedTensorType getQueryType() { return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType()); }
    ::mlir::RankedTensorType getKeyType() { return ::llvm::cast<::mlir::RankedTensorType>(getKey().getType()); }
    ::mlir::RankedTensorType getValueType() { return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType()); }
    ::mlir::RankedTensorType getResultType() { return ::llvm::cast<::mlir::RankedTensorType>(getResult().getType()); }
    /// Number of spatial axes (1, 2 or 3).
    int64_t getSpatialRank() { return getQueryType().getRank() - 3; }
    /// Whether the op has a score_mod / mask_mod region.
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    /// Per-axis parameters with their defaults filled in.
    ::llvm::SmallVector<int64_t> getKernelSizes();
    ::llvm::SmallVector<int64_t> getDilations();
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<bool> getCausalAxes();
    /// The scale attribute, or 1/sqrt(D).
    float getEffectiveScale();
    /// Query heads per KV head.
    int64_t getGroupSize() { return getQueryType().getDimSize(1) / getKeyType().getDimSize(1); }
  }];
}

def Attn_NeighborhoodBackwardOp : Attn_Op<"neighborhood_backward", [Pure]> {
  let summary = "Gradients of neighborhood attention with respect to q, k and v";
  let description = [{
    ```mlir
    %dq, %dk, %dv = attn.neighborhood_backward
        ins(%q, %k, %v, %o, %do, %lse : tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>, tensor<1x4x32x32xf32>)
        outs(%dqi, %dki, %dvi : tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>)
        {kernel = [5, 5], dilation = [2, 1]}
        -> tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>, tensor<1x4x32x32x16xf32>
    ```

    The backward of `attn.neighborhood`. `q`, `k`, `v` are the forward op's
    operands; `output` (O) and `lse` are its output and its `return_lse`
    result; `grad_output` (dO) has O's type. It takes the forward op's
    attributes (`kernel`, `dilation`, `causal`, `stride`, `scale`) and its
    `score_mod` / `mask_mod` regions, with the same meaning; they must be
    the ones the forward op was given.

    The results are the exact gradients of sum(dO * O) with respect to q, k
    and v, in that order and of their types; `outs` holds one init per
    result. The math is `attn.attention_backward`'s over the flattened
    positions, with NATTEN's allowed set: P_ij = exp(s_ij - LSE_i) at
    allowed pairs, dS_ij = P_ij (dO_i . v_j - dO_i . O_i), dV_j = sum_i
    P_ij dO_i, dK_j = scale sum_i dS'_ij q_i, dQ_i = scale sum_j dS'_ij k_j,
    with dS' carried back through `score_mod` (differentiated with respect
    to its score, as for `attn.attention_backward`). Grouped-query heads sum
    dK and dV over their group. The math is in f32.
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    AnyRankedTensor:$output,
    AnyRankedTensor:$grad_output,
    AnyRankedTensor:$lse,
    Variadic<AnyRankedTensor>:$inits,
    I64ArrayAttr:$kernel,
    OptionalAttr<I64ArrayAttr>:$dilation,
    OptionalAttr<BoolArrayAttr>:$causal,
    OptionalAttr<I64ArrayAttr>:$stride,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<Attn_StrategyAttr>:$strategy
  );
  let results = (outs Variadic<AnyRankedTensor>:$gradients);
  let regions = (region AnyRegion:$score_mod, AnyRegion:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $output `,` $grad_output `,` $lse `:`
        type($query) `,` type($key) `,` type($value) `,` type($output) `,`
        type($grad_output) `,` type($lse) `)`
    `outs` `(` $inits `:` type($inits) `)`
    attr-dict
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($gradients)
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getQueryType() { return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType()); }
    ::mlir::RankedTensorType getKeyType() { return ::llvm::cast<::mlir::RankedTensorType>(getKey().getType()); }
    ::mlir::RankedTensorType getValueType() { return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType()); }
    /// Number of spatial axes (1, 2 or 3).
    int64_t getSpatialRank() { return getQueryType().getRank() - 3; }
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    /// Per-axis parameters with their defaults filled in.
    ::llvm::SmallVector<int64_t> getKernelSizes();
    ::llvm::SmallVector<int64_t> getDilations();
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<bool> getCausalAxes();
    /// The scale attribute, or 1/sqrt(D).
    float getEffectiveScale();
  }];
}

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator,
    ParentOneOf<["AttentionOp", "AttentionBackwardOp", "NeighborhoodOp",
                  "NeighborhoodBackwardOp", "OnlineAttentionOp"]>]> {
  let summary = "The value of a score_mod or mask_mod region";
  let description = [{
    ```mlir
    attn.yield %score : f32
    ```

    Ends a `score_mod` region (one f32, the new score) or a `mask_mod`
    region (one i1, whether the key may be attended).
  }];
  let arguments = (ins AnyType:$value);
  let assemblyFormat = [{ $value attr-dict `:` type($value) }];
}

def Attn_OnlineAttentionOp : Attn_Op<"online_attention", [
    AttrSizedOperandSegments, Pure, DestinationStyleOpInterface]> {
  let summary = "One step of online attention: a tile of keys folded into a state";
  let description = [{
    ```mlir
    %acc, %max, %sum = attn.online_attention
        ins(%q, %k, %v : tensor<1x8x64x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>)
        positions(%qpos, %kpos)
        outs(%acc0, %max0, %sum0 : tensor<1x8x64x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>)
        {scale = 0.125 : f32, causal} -> tensor<1x8x64x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
    ```

    The tile-level op of attn: the state of `M` query rows, `(acc, max,
    sum)`, updated by the `N` keys of `k` and `v`. Layout as in
    `attn.attention`: `q : [B, Hq, M, D]`, `k : [B, Hkv, N, D]`,
    `v : [B, Hkv, N, Dv]`; the state is f32: `acc : [B, Hq, M, Dv]` (the
    weighted sum of value rows), `max : [B, Hq, M]` (the running maximum, in
    the log2 domain: for softmax the largest finished score, for softplus
    min(that, 0), for kernel scores unused and kept as it is) and
    `sum : [B, Hq, M]` (the sum of weights). `mask` and `bias` are
    `[Bx, Hx, M, N]` with `Bx` in {1, B} and `Hx` in {1, Hq}. Quantized
    `k`/`v` (`i8`, `f8E4M3FN`) carry `k_scale`/`v_scale` as on
    `attn.attention`: `[B, Hkv, N]` for i8, `[Hkv]` for f8E4M3FN.

    Positions: row `r` of the tile is the query whose bottom-right aligned
    position (its index plus Lk - Lq of the whole problem) is
    `query_position + r`, and column `c` is key `key_position + c`; the
    causal, window and sink rules apply to those positions. The scores, the
    rules and `score` mean what they mean on `attn.attention`, except that
    `scale` is required (the op above it resolved the default). For scores
    that never form q.k (`kernel<elu1>`, `kernel<relu>`) the tile's weights
    are phi(scale q) . phi(k), as on `attn.attention`.

    The state after the op is the state of the rows having seen every key
    they saw before plus the allowed keys of this tile, in any order:
    attention over a concatenation of key tiles is a sequence of these ops,
    and two states merge exactly. So the op tiles (TilingInterface) over
    batch, heads, rows (parallel) and keys (a reduction that carries the
    state), and splits of the keys are partial reductions merged at the end
    (split-KV). The final output is `acc / sum` (0 where `sum` is 0):
    `attn.finalize`.

    With `entropy(%t : tensor<BxHqxMxf32>)` (scores that normalize) the
    state has a fourth part and the op a fourth result: sum_j w_j log2 w_j
    over the row's weights w_j as `sum` holds them, relative to the running
    maximum (0 for a row without keys). attn.finalize turns it into each
    row's entropy.

    `score_mod` and `mask_mod` regions mean what they mean on
    `attn.attention`, with the tile's own indices: b and h index the tile's
    batch and query heads, i its rows and j its keys (0 <= j < N). The tile
    op over a whole problem carries the op's regions as written; a tile of
    it (tiling) gets them with the tile's offsets added to b, h, i and j.
    Strategies create it; the conversions of each target lower it.
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$bias,
    Optional<AnyRankedTensor>:$k_scale,
    Optional<AnyRankedTensor>:$v_scale,
    Index:$query_position,
    Index:$key_position,
    AnyRankedTensor:$acc,
    AnyRankedTensor:$max,
    AnyRankedTensor:$sum,
    Optional<AnyRankedTensor>:$entropy,
    F32Attr:$scale,
    UnitAttr:$causal,
    OptionalAttr<Attn_WindowAttr>:$window,
    OptionalAttr<I64Attr>:$sinks,
    OptionalAttr<F32Attr>:$softcap,
    OptionalAttr<Attn_ScoreAttr>:$score
  );
  let results = (outs AnyRankedTensor:$acc_result, AnyRankedTensor:$max_result,
                      AnyRankedTensor:$sum_result,
                      Optional<AnyRankedTensor>:$entropy_result);
  let regions = (region AnyRegion:$score_mod, AnyRegion:$mask_mod);

  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`k_scale` `(` $k_scale^ `:` type($k_scale) `)`)?
    (`v_scale` `(` $v_scale^ `:` type($v_scale) `)`)?
    `positions` `(` $query_position `,` $key_position `)`
    `outs` `(` $acc `,` $max `,` $sum `:` type($acc) `,` type($max) `,` type($sum) `)`
    (`entropy` `(` $entropy^ `:` type($entropy) `)`)?
    attr-dict
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($acc_result) `,` type($max_result) `,` type($sum_result)
    (`,` type($entropy_result)^)?
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(
          getOperation(), getAccMutable().getOperandNumber(),
          getEntropy() ? 4 : 3);
    }
    ::mlir::RankedTensorType getQueryType() { return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType()); }
    ::mlir::RankedTensorType getKeyType() { return ::llvm::cast<::mlir::RankedTensorType>(getKey().getType()); }
    ::mlir::RankedTensorType getValueType() { return ::llvm::cast<::mlir::RankedTensorType>(getValue().getType()); }
    /// The scale attribute (required here).
    float getEffectiveScale() { return getScale().convertToFloat(); }
    /// Whether the op has a score_mod / mask_mod region.
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskMod() { return !getMaskMod().empty(); }
    /// The score attribute, or softmax.
    ScoreAttr getEffectiveScore();
    /// Number of sink keys (0 without the attribute).
    int64_t getNumSinks() { return getSinksAttr() ? getSinksAttr().getInt() : 0; }
    /// Query heads per KV head.
    int64_t getGroupSize() { return getQueryType().getDimSize(1) / getKeyType().getDimSize(1); }
  }];
}

def Attn_FinalizeOp : Attn_Op<"finalize", [
    AttrSizedOperandSegments, Pure, DestinationStyleOpInterface]> {
  let summary = "The output of an online-attention state: acc / sum";
  let description = [{
    ```mlir
    %out = attn.finalize ins(%acc, %sum : tensor<1x8x64x64xf32>, tensor<1x8x64xf32>)
        outs(%init : tensor<1x8x64x64xbf16>) -> tensor<1x8x64x64xbf16>
    ```

    The attention output of the final state of `attn.online_attention`:
    `acc / sum` per row, 0 in a row whose `sum` is 0 (no allowed key), in
    the element type of `init` (f32, f16 or bf16). `acc : [B, Hq, M, Dv]`
    and `sum : [B, Hq, M]` are f32. `score` is the state's score function:
    one that does not normalize (`normalize = false`) leaves `acc` as it is.
    `max(%max : tensor<BxHqxMxf32>)` is the state's running maximum; the
    two clauses below need it. With `sink_logits(%sl : tensor<Hqxf32>)`
    (softmax) the sum also counts each row's sink, 2^(sl_h log2(e) - max):
    the output is acc / (sum + that), still 0 where `sum` is 0. With
    `lse(%lse_init : tensor<BxHqxMxf32>)` (softmax) a second result holds
    each row's log-sum-exp in the natural log, ln 2 (max + log2(sum [+ the
    sink])), -inf where `sum` is 0. With `entropy(%t, %h_init : ...)` (the
    state's entropy part and the result's init, both [B, Hq, M] f32) the
    last result holds each row's entropy, with L = sum (+ the sink):
    ln 2 (sum log2 L - t) / L, 0 where `sum` is 0.
    Strategies write it after the tile op; a target may fuse it into the
    tile op's kernel, and otherwise it lowers to linalg.
  }];

  let arguments = (ins
    AnyRankedTensor:$acc,
    AnyRankedTensor:$sum,
    Optional<AnyRankedTensor>:$max,
    Optional<AnyRankedTensor>:$sink_logits,
    Optional<AnyRankedTensor>:$entropy_sum,
    AnyRankedTensor:$init,
    Optional<AnyRankedTensor>:$lse_init,
    Optional<AnyRankedTensor>:$entropy_init,
    OptionalAttr<Attn_ScoreAttr>:$score
  );
  let results = (outs AnyRankedTensor:$result,
                      Variadic<AnyRankedTensor>:$statistics);

  let assemblyFormat = [{
    `ins` `(` $acc `,` $sum `:` type($acc) `,` type($sum) `)`
    (`max` `(` $max^ `:` type($max) `)`)?
    (`sink_logits` `(` $sink_logits^ `:` type($sink_logits) `)`)?
    `outs` `(` $init `:` type($init) `)`
    (`lse` `(` $lse_init^ `:` type($lse_init) `)`)?
    (`entropy` `(` $entropy_sum^ `,` $entropy_init `:` type($entropy_sum) `,` type($entropy_init) `)`)?
    attr-dict `->` type($result) (`,` type($statistics)^)?
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(
          getOperation(), getInitMutable().getOperandNumber(),
          1 + (getLseInit() ? 1 : 0) + (getEntropyInit() ? 1 : 0));
    }
    /// The LSE result (null without an lse init).
    ::mlir::Value getLse() {
      return getLseInit() && !getStatistics().empty() ? getStatistics()[0] : ::mlir::Value();
    }
    /// The entropy result (null without an entropy init).
    ::mlir::Value getEntropy() {
      return getEntropyInit() && !getStatistics().empty() ? getStatistics().back() : ::mlir::Value();
    }
    /// The score attribute, or softmax.
    ScoreAttr getEffectiveScore();
  }];
}

def Attn_MergeStatesOp : Attn_Op<"merge_states", [
    AttrSizedOperandSegments, Pure, DestinationStyleOpInterface]> {
  let summary = "The exact merge of attention states over disjoint key sets";
  let description = [{
    ```mlir
    %o, %lse = attn.merge_states
        ins(%o1, %lse1, %o2, %lse2 : tensor<1x8x64x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64xf32>)
        outs(%oi, %li : tensor<1x8x64x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64x64xf32>, tensor<1x8x64xf32>
    %o, %lse, %h = attn.merge_states
        ins(%o1, %lse1, %o2, %lse2 : ...) entropy(%h1, %h2 : tensor<1x8x64xf32>, tensor<1x8x64xf32>)
        outs(%oi, %li, %hi : ...) -> ..., tensor<1x8x64xf32>
    ```

    `ins` holds K >= 1 states, each a pair (O_k, LSE_k): the normalized
    output of attention over one set of keys and its log-sum-exp (natural
    log), as `attn.attention {return_lse}` returns them. The result is the
    state of attention over the union of the key sets, when they are
    disjoint: LSE = ln sum_k exp(LSE_k) and O = sum_k exp(LSE_k - LSE) O_k.
    Rows where every LSE_k is -inf (no key anywhere) give O = 0 and
    LSE = -inf. Exact up to f32 rounding: split-KV, cascade (shared-prefix)
    attention and sequence parallelism each compute parts and merge them.

    With `entropy(%h_1, ..., %h_K)`, each state's row entropies H_k (as
    `attn.attention {return_entropy}` returns them; 0 for a row without
    keys) and a third init, the op has a third result: the entropy of the
    merged weights, H = sum_k w_k (H_k - ln w_k) with
    w_k = exp(LSE_k - LSE) (a state of weight 0 adds nothing).

    Every O_k and the output have one shape `[..., Dv]` (any rank >= 1);
    every LSE_k, H_k and the LSE and entropy outputs are f32 with the shape
    of O without its last dimension. O_k are f32, f16 or bf16 (read as
    f32); the output's element type is its init's. The math is in f32.
  }];

  let arguments = (ins
    Variadic<AnyRankedTensor>:$states,
    Variadic<AnyRankedTensor>:$entropies,
    AnyRankedTensor:$out_init,
    AnyRankedTensor:$lse_init,
    Optional<AnyRankedTensor>:$entropy_init
  );
  let results = (outs AnyRankedTensor:$result, AnyRankedTensor:$lse,
                      Optional<AnyRankedTensor>:$entropy);

  let assemblyFormat = [{
    `ins` `(` $states `:` type($states) `)`
    (`entropy` `(` $entropies^ `:` type($entropies) `)`)?
    `outs` `(` $out_init `,` $lse_init (`,` $entropy_init^)? `:`
        type($out_init) `,` type($lse_init) (`,` type($entropy_init)^)? `)`
    attr-dict `->` type($result) `,` type($lse) (`,` type($entropy)^)?
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(
          getOperation(), getOutInitMutable().getOperandNumber(),
          getEntropyInit() ? 3 : 2);
    }
    /// The number of merged states.
    unsigned getNumStates() { return getStates().size() / 2; }
    /// O and LSE of state k.
    ::mlir::Value getStateOutput(unsigned k) { return getStates()[2 * k]; }
    ::mlir::Value getStateLse(unsigned k) { return getStates()[2 * k + 1]; }
    /// The entropy of state k (null without `entropy`).
    ::mlir::Value getStateEntropy(unsigned k) {
      return getEntropies().empty() ? ::mlir::Value() : getEntropies()[k];
    }
  }];
}

def Attn_PagedAttentionOp : Attn_Op<"paged_attention", [
    AttrSizedOperandSegments, Pure]> {
  let summary = "Attention over a paged KV cache (serving: decode and chunked prefill)";
  let description = [{
    ```mlir
    %o = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : tensor<4x32x1x128xf32>,
             tensor<512x8x16x128xf32>, tensor<512x8x16x128xf32>, tensor<4x64xi32>, tensor<4xi32>)
             outs(%init : tensor<4x32x1x128xf32>) {causal} -> tensor<4x32x1x128xf32>
    ```

    Layout `query : [B, Hq, Lq, D]`, `k_cache : [pages, Hkv, page_size, D]`,
    `v_cache : [pages, Hkv, page_size, Dv]`, `page_table : [B, T]` (i32),
    `key_lengths : [B]` (i32), `init` and result `[B, Hq, Lq, Dv]`.
    Request b has `key_lengths[b]` keys; its key t lives in page
    `page_table[b, t / page_size]`, slot `t mod page_size`. Its Lq queries
    are its last Lq positions: with `causal`, query i sees key t when
    t <= i + key_lengths[b] - Lq (bottom-right per request). A query with
    no allowed key (a request with fewer keys than queries) produces zeros.
    Runtime values must be in range: 0 <= key_lengths[b] <= T * page_size
    and the table entries a request reads name pages < pages. The kernels
    clamp both (a length to T * page_size, a page to pages - 1) so that a
    wrong value cannot read outside the operands.

    B, Lq, pages and T may be dynamic; heads, page_size and the head
    dimensions are static. Scores, `scale`, `causal`, `window` (its bounds
    relative to each request's own alignment), `sinks` (each request's own
    first keys, exempt from the window: a StreamingLLM cache keeps its
    first pages) and `softcap` mean what they mean for `attn.attention`;
    the weights are softmax's.

    Quantized K/V as for `attn.attention`: `i8` caches with
    `k_scale(%ks : tensor<pages x Hkv x page_size x f32>)` (one scale per
    cached key), `f8E4M3FN` caches with one scale per KV head
    (`tensor<Hkvxf32>`); `v_scale` the same for `v_cache`.

    `sink_logits(%sl : tensor<Hqxf32>)` and `{return_lse}` as for
    `attn.attention`: a learned logit per query head in every row's
    softmax denominator, and a second result `tensor<BxHqxLqxf32>`, each
    row's log-sum-exp in the natural log (with exp(sl_h) inside the sum;
    -inf for a row with no key), by which states of the same queries over
    other keys merge (`attn.merge_states`: a shared prefix cached once,
    say).

    ```mlir
    %o, %lse = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : ...)
                 sink_logits(%sl : tensor<32xf32>)
                 outs(%init : tensor<4x32x1x128xf32>) {return_lse}
                 -> tensor<4x32x1x128xf32>, tensor<4x32x1xf32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$k_cache,
    AnyRankedTensor:$v_cache,
    AnyRankedTensor:$page_table,
    AnyRankedTensor:$key_lengths,
    Optional<AnyRankedTensor>:$k_scale,
    Optional<AnyRankedTensor>:$v_scale,
    Optional<AnyRankedTensor>:$sink_logits,
    AnyRankedTensor:$init,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$causal,
    OptionalAttr<Attn_WindowAttr>:$window,
    OptionalAttr<I64Attr>:$sinks,
    OptionalAttr<F32Attr>:$softcap,
    OptionalAttr<Attn_StrategyAttr>:$strategy,
    UnitAttr:$return_lse
  );
  let results = (outs AnyRankedTensor:$result,
                      Variadic<AnyRankedTensor>:$statistics);

  let assemblyFormat = [{
    `ins` `(` $query `,` $k_cache `,` $v_cache `,` $page_table `,` $key_lengths `:`
        type($query) `,` type($k_cache) `,` type($v_cache) `,` type($page_table) `,` type($key_lengths) `)`
    (`k_scale` `(` $k_scale^ `:` type($k_scale) `)`)?
    (`v_scale` `(` $v_scale^ `:` type($v_scale) `)`)?
    (`sink_logits` `(` $sink_logits^ `:` type($sink_logits) `)`)?
    `outs` `(` $init `:` type($init) `)`
    attr-dict `->` type($result) (`,` type($statistics)^)?
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getQueryType() { return ::llvm::cast<::mlir::RankedTensorType>(getQuery().getType()); }
    ::mlir::RankedTensorType getKeyType() { return ::llvm::cast<::mlir::RankedTensorType>(getKCache().getType()); }
    ::mlir::RankedTensorType getValueType() { return ::llvm::cast<::mlir::RankedTensorType>(getVCache().getType()); }
    ::mlir::Value getKey() { return getKCache(); }
    ::mlir::Value getValue() { return getVCache(); }
    /// Keys per page (static).
    int64_t getPageSize() { return getKeyType().getDimSize(2); }
    /// The log-sum-exp result with return_lse, else null.
    ::mlir::Value getLse() { return getReturnLse() ? getStatistics()[0] : ::mlir::Value(); }
    /// The scale attribute, or 1/sqrt(D).
    float getEffectiveScale();
  }];
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
