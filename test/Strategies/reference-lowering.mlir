// RUN: attn-opt %s --attn-strategy=reference --attn-apply-strategies | FileCheck %s
// RUN: attn-opt %s --attn-select-strategy=strategy=reference --attn-apply-strategies | FileCheck %s
// RUN: attn-opt %s --attn-strategy=reference --attn-apply-strategies | FileCheck %s --check-prefix=NOATTN

// The reference strategy materializes the score matrix with one
// linalg.generic per step of the definition: S = q.k, masked weights,
// (softmax) row max and exp, row sum, the PV contraction, the normalization.
// Ops without a strategy get the reference one because it is forced
// (attn-opt's --attn-strategy, or attn-select-strategy's strategy option);
// @bias_softcap_softplus writes it on the op.

// NOATTN-NOT: attn.

// CHECK-DAG: #[[$QMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[$KMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5)>
// CHECK-DAG: #[[$SMAP6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$ID5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$MASK_BCAST:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, 0, d3, d4)>
// CHECK-DAG: #[[$MASK_BCAST6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (0, 0, d3, d4)>
// CHECK-DAG: #[[$HEADS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 2 + d2, d3, d4)>
// CHECK-DAG: #[[$HEADS6:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d2, d3, d4)>
// CHECK-DAG: #[[$BIAS_BCAST:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d1 * 2 + d2, d3, d4)>

// GQA (Hq = 4, Hkv = 2), causal with Lq < Lk, a mask broadcast over batch
// and heads.
// CHECK-LABEL: func.func @gqa_causal_mask(
// CHECK-SAME:      %[[Q:[^:]+]]: tensor<1x4x8x16xf32>, %[[K:[^:]+]]: tensor<1x2x12x16xf32>, %[[V:[^:]+]]: tensor<1x2x12x8xf32>, %[[M:[^:]+]]: tensor<1x1x8x12xi1>, %[[INIT:[^:]+]]: tensor<1x4x8x8xf32>)
// CHECK-DAG:     %[[LQ:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[LK:.*]] = arith.constant 12 : index
// Query heads split as [Hkv, G] = [2, 2], for the query and the destination.
// CHECK:         %[[QX:.*]] = tensor.expand_shape %[[Q]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 8, 16] : tensor<1x4x8x16xf32> into tensor<1x2x2x8x16xf32>
// CHECK:         %[[INITX:.*]] = tensor.expand_shape %[[INIT]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 8, 8] : tensor<1x4x8x8xf32> into tensor<1x2x2x8x8xf32>
// S = q . k, a contraction over D (the last loop, a reduction).
// CHECK:         %[[SZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x2x2x8x12xf32>)
// CHECK:         %[[S:.*]] = linalg.generic {indexing_maps = [#[[$QMAP]], #[[$KMAP]], #[[$SMAP6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[QX]], %[[K]] : tensor<1x2x2x8x16xf32>, tensor<1x2x12x16xf32>) outs(%[[SZERO]] : tensor<1x2x2x8x12xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         } -> tensor<1x2x2x8x12xf32>
// Scale; causal rule j <= i + (Lk - Lq) and the mask select -inf.
// CHECK:         %[[W:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$MASK_BCAST]], #[[$ID5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[S]], %[[M]] : tensor<1x2x2x8x12xf32>, tensor<1x1x8x12xi1>)
// CHECK-NEXT:    ^bb0(%[[SIN:[^:]+]]: f32, %[[MIN:[^:]+]]: i1, %{{[^:]+}}: f32):
// CHECK:           %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK:           %[[SS:.*]] = arith.mulf %[[SIN]], %[[SCALE]] : f32
// Softmax takes its scores in the log2 domain (ScoreFunction).
// CHECK:           %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
// CHECK:           %[[SL2:.*]] = arith.mulf %[[SS]], %[[LOG2E]] : f32
// CHECK:           %[[I:.*]] = linalg.index 3 : index
// CHECK:           %[[J:.*]] = linalg.index 4 : index
// CHECK:           %[[OFF:.*]] = arith.subi %[[LK]], %[[LQ]] : index
// CHECK:           %[[DIAG:.*]] = arith.addi %[[I]], %[[OFF]] : index
// CHECK:           %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[DIAG]] : index
// CHECK:           %[[ALLOWED:.*]] = arith.andi %[[CAUSAL]], %[[MIN]] : i1
// CHECK:           %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:           %[[SEL:.*]] = arith.select %[[ALLOWED]], %[[SL2]], %[[NEGINF]] : f32
// CHECK:           linalg.yield %[[SEL]] : f32
// Softmax: row max from -inf, exp2(w - max) with masked entries set to 0.
// CHECK:         %[[MAXINIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x2x2x8xf32>)
// CHECK:         %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[W]] : tensor<1x2x2x8x12xf32>) outs(%[[MAXINIT]] : tensor<1x2x2x8xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[E:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]], #[[$ID5]]], {{.*}}} ins(%[[W]], %[[MAX]] : tensor<1x2x2x8x12xf32>, tensor<1x2x2x8xf32>)
// CHECK:           %[[ISMASKED:.*]] = arith.cmpf oeq
// CHECK:           %[[DIFF:.*]] = arith.subf
// CHECK:           %[[EXP:.*]] = math.exp2 %[[DIFF]] : f32
// CHECK:           arith.select %[[ISMASKED]], %{{.*}}, %[[EXP]] : f32
// Row sum Z.
// CHECK:         %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[E]] : tensor<1x2x2x8x12xf32>)
// CHECK:           arith.addf
// PV: the key loop (position 4) is the reduction; keys the mask or causal
// rule forbid are skipped.
// CHECK:         %[[PV:.*]] = linalg.generic {indexing_maps = [#[[$SMAP6]], #[[$KMAP]], #[[$MASK_BCAST6]], #[[$QMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "parallel"]}
// CHECK-SAME:        ins(%[[E]], %[[V]], %[[M]] : tensor<1x2x2x8x12xf32>, tensor<1x2x12x8xf32>, tensor<1x1x8x12xi1>)
// CHECK:           arith.cmpi sle
// CHECK:           arith.select
// O / Z, 0 where Z == 0, into the split destination; then merge the heads.
// CHECK:         %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]], #[[$ID5]]], {{.*}}} ins(%[[PV]], %[[SUM]] : tensor<1x2x2x8x8xf32>, tensor<1x2x2x8xf32>) outs(%[[INITX]] : tensor<1x2x2x8x8xf32>)
// CHECK:           %[[ZEROSUM:.*]] = arith.cmpf oeq
// CHECK:           %[[DIV:.*]] = arith.divf
// CHECK:           arith.select %[[ZEROSUM]], %{{.*}}, %[[DIV]] : f32
// CHECK:         %[[R:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x8x8xf32> into tensor<1x4x8x8xf32>
// CHECK:         return %[[R]]
func.func @gqa_causal_mask(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x8x12xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>)
                      mask(%m : tensor<1x1x8x12xi1>)
                      outs(%init : tensor<1x4x8x8xf32>) {causal, scale = 0.25 : f32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// Full-size mask, head-broadcast f16 bias, softcap, softplus: query head
// h = hk * G + g indexes the mask and bias; masked scores are -inf for the
// row max m, and the weights are softplus(s) 2^-c with c = min(m log2 e, 0)
// (s > 0: s + log1p(e^-s); else 2^(s log2 e - c) log1p(t) / t, t = e^s).
// CHECK-LABEL: func.func @bias_softcap_softplus(
// CHECK-SAME:      %[[M:[^:]+]]: tensor<2x4x8x12xi1>, %[[B:[^:]+]]: tensor<1x4x8x12xf16>
// CHECK:         %[[S:.*]] = linalg.generic {{.*}} iterator_types = [{{.*}}, "reduction"]}
// CHECK:         %[[W:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$HEADS]], #[[$BIAS_BCAST]], #[[$ID5]]], {{.*}}} ins(%[[S]], %[[M]], %[[B]] : tensor<2x2x2x8x12xf32>, tensor<2x4x8x12xi1>, tensor<1x4x8x12xf16>)
// CHECK-NEXT:    ^bb0(%{{[^:]+}}: f32, %[[MIN:[^:]+]]: i1, %[[BIN:[^:]+]]: f16, %{{[^:]+}}: f32):
// CHECK:           %[[SCALED:.*]] = arith.mulf
// CHECK:           %[[BIAS:.*]] = arith.extf %[[BIN]] : f16 to f32
// CHECK:           %[[BIASED:.*]] = arith.addf %[[SCALED]], %[[BIAS]] : f32
// CHECK:           %[[INVCAP:.*]] = arith.constant 2.000000e-01 : f32
// CHECK:           %[[OVER:.*]] = arith.mulf %[[BIASED]], %[[INVCAP]] : f32
// CHECK:           %[[TANH:.*]] = math.tanh %[[OVER]] : f32
// CHECK:           %[[CAP:.*]] = arith.constant 5.000000e+00 : f32
// CHECK:           %[[CAPPED:.*]] = arith.mulf %[[CAP]], %[[TANH]] : f32
// CHECK:           %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:           arith.select %[[MIN]], %[[CAPPED]], %[[NEGINF]] : f32
// CHECK:         %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]]], {{.*}}} ins(%[[W]] :
// CHECK:           arith.maximumf
// CHECK:         %[[P:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[MAX]] :
// CHECK-NEXT:    ^bb0(%[[WIN:[^:]+]]: f32, %[[MAXIN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[ISMASKED:.*]] = arith.cmpf oeq, %[[WIN]]
// CHECK:           %[[M2:.*]] = arith.mulf %[[MAXIN]]
// CHECK:           %[[REF:.*]] = arith.minimumf %[[M2]]
// CHECK:           %[[T:.*]] = math.exp
// CHECK:           %[[TAIL:.*]] = math.log1p %[[T]] : f32
// CHECK:           %[[POS:.*]] = arith.addf %[[WIN]], %[[TAIL]] : f32
// CHECK:           %[[RATIO:.*]] = arith.divf %[[TAIL]], %[[T]] : f32
// CHECK:           %[[S2:.*]] = arith.mulf %[[WIN]]
// CHECK:           %[[SHIFT:.*]] = arith.subf %[[S2]], %[[REF]] : f32
// CHECK:           math.exp2 %[[SHIFT]] : f32
// CHECK:           %[[ISPOS:.*]] = arith.cmpf ogt, %[[WIN]]
// CHECK:           %[[SP:.*]] = arith.select %[[ISPOS]], %[[POS]]
// CHECK:           arith.select %[[ISMASKED]], %{{.*}}, %[[SP]] : f32
// CHECK:         %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]]], {{.*}}} ins(%[[P]] :
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.addf
// CHECK:         linalg.generic {indexing_maps = [#[[$SMAP6]], #[[$KMAP]], #[[$HEADS6]], #[[$QMAP]]], {{.*}}} ins(%[[P]], %{{.*}}, %[[M]] :
// CHECK:           arith.divf
// CHECK:         tensor.collapse_shape
func.func @bias_softcap_softplus(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %m: tensor<2x4x8x12xi1>, %b: tensor<1x4x8x12xf16>, %init: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x16xf32>)
                      mask(%m : tensor<2x4x8x12xi1>) bias(%b : tensor<1x4x8x12xf16>)
                      outs(%init : tensor<2x4x8x16xf32>)
                      {softcap = 5.0 : f32, score = #attn.score<softplus>, strategy = #attn.strategy<"reference">} -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// Kernel elu1: the score generic computes phi(scale q) . phi(k) with
// phi(x) = x > 0 ? x + 1 : exp(x); no scaling afterwards, no row max, no
// softmax exp.
// CHECK-LABEL: func.func @kernel_elu1(
// CHECK:         %[[S:.*]] = linalg.generic {indexing_maps = [#[[$QMAP]], #[[$KMAP]], #[[$SMAP6]]], iterator_types = [{{.*}}, "reduction"]}
// CHECK-NEXT:    ^bb0(%[[QIN:[^:]+]]: f32, %[[KIN:[^:]+]]: f32, %[[ACC:[^:]+]]: f32):
// CHECK:           %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK:           %[[QS:.*]] = arith.mulf %[[QIN]], %[[SCALE]] : f32
// CHECK:           %[[QPOS:.*]] = arith.cmpf ogt, %[[QS]], %{{.*}} : f32
// CHECK:           %[[QEXP:.*]] = math.exp %[[QS]] : f32
// CHECK:           %[[QP1:.*]] = arith.addf %[[QS]], %{{.*}} : f32
// CHECK:           %[[PHIQ:.*]] = arith.select %[[QPOS]], %[[QP1]], %[[QEXP]] : f32
// CHECK:           %[[KPOS:.*]] = arith.cmpf ogt, %[[KIN]], %{{.*}} : f32
// CHECK:           %[[KEXP:.*]] = math.exp %[[KIN]] : f32
// CHECK:           %[[KP1:.*]] = arith.addf %[[KIN]], %{{.*}} : f32
// CHECK:           %[[PHIK:.*]] = arith.select %[[KPOS]], %[[KP1]], %[[KEXP]] : f32
// CHECK:           %[[PROD:.*]] = arith.mulf %[[PHIQ]], %[[PHIK]] : f32
// CHECK:           arith.addf %[[ACC]], %[[PROD]] : f32
// CHECK:         %[[W:.*]] = linalg.generic {{.*}} ins(%[[S]] :
// CHECK-NOT:       arith.mulf
// CHECK:           linalg.yield
// CHECK-NOT:     math.exp
// CHECK-NOT:     arith.maximumf
// CHECK:         %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]]], {{.*}}} ins(%[[W]] :
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.addf
// CHECK-NOT:     math.exp
// CHECK:           arith.divf
// CHECK:         return
func.func @kernel_elu1(%q: tensor<1x2x8x16xf32>, %init: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
                      outs(%init : tensor<1x2x8x16xf32>) {score = #attn.score<kernel<elu1>>} -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// f16 inputs accumulate in f32 and the result is truncated; identity kernel
// without normalization has no row sum and no division; a window with sinks
// is i - 2 <= j <= i + 1 or j < 1.
// CHECK-LABEL: func.func @identity_f16_window_sinks(
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x1x8x16xf16>, tensor<1x2x8x16xf16>) outs(%{{.*}} : tensor<1x2x1x8x8xf32>)
// CHECK-NEXT:    ^bb0(%[[QIN:[^:]+]]: f16, %[[KIN:[^:]+]]: f16, %{{[^:]+}}: f32):
// CHECK-NEXT:      arith.extf %[[QIN]] : f16 to f32
// CHECK-NEXT:      arith.extf %[[KIN]] : f16 to f32
// CHECK:         linalg.generic
// CHECK:           %[[DIAG:.*]] = arith.addi
// CHECK:           %[[LEFT:.*]] = arith.constant 2 : index
// CHECK:           %[[LO:.*]] = arith.subi %[[DIAG]], %[[LEFT]] : index
// CHECK:           %[[GELO:.*]] = arith.cmpi sle, %[[LO]], %[[J:.*]] : index
// CHECK:           %[[RIGHT:.*]] = arith.constant 1 : index
// CHECK:           %[[HI:.*]] = arith.addi %[[DIAG]], %[[RIGHT]] : index
// CHECK:           %[[LEHI:.*]] = arith.cmpi sle, %[[J]], %[[HI]] : index
// CHECK:           %[[INWIN:.*]] = arith.andi %[[GELO]], %[[LEHI]] : i1
// CHECK:           %[[SINKS:.*]] = arith.constant 1 : index
// CHECK:           %[[ISSINK:.*]] = arith.cmpi slt, %[[J]], %[[SINKS]] : index
// CHECK:           %[[ALLOWED:.*]] = arith.ori %[[INWIN]], %[[ISSINK]] : i1
// CHECK:           arith.select %[[ALLOWED]]
// CHECK-NOT:     arith.divf
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "parallel"]
// CHECK-NOT:     arith.divf
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT:     arith.divf
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x1x8x16xf16> into tensor<1x2x8x16xf16>
func.func @identity_f16_window_sinks(%q: tensor<1x2x8x16xf16>, %init: tensor<1x2x8x16xf16>) -> tensor<1x2x8x16xf16> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>)
                      outs(%init : tensor<1x2x8x16xf16>)
                      {score = #attn.score<kernel<identity>, normalize = false>,
                       window = #attn.window<left = 2, right = 1>, sinks = 1 : i64} -> tensor<1x2x8x16xf16>
  return %o : tensor<1x2x8x16xf16>
}

// Dynamic batch and lengths: sizes come from tensor.dim, the causal offset
// is Lk - Lq at run time.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME:      %[[Q:[^:]+]]: tensor<?x4x?x16xf32>, %[[K:[^:]+]]: tensor<?x2x?x16xf32>
// CHECK-DAG:     %[[LQ:.*]] = tensor.dim %[[Q]], %{{.*}} : tensor<?x4x?x16xf32>
// CHECK-DAG:     %[[LK:.*]] = tensor.dim %[[K]], %{{.*}} : tensor<?x2x?x16xf32>
// CHECK:         tensor.expand_shape %[[Q]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [%{{.*}}, 2, 2, %{{.*}}, 16] : tensor<?x4x?x16xf32> into tensor<?x2x2x?x16xf32>
// CHECK:         tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}) : tensor<?x2x2x?x?xf32>
// CHECK:         arith.subi %[[LK]], %[[LQ]] : index
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<?x2x2x?x16xf32> into tensor<?x4x?x16xf32>
func.func @dynamic(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %init: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
                      outs(%init : tensor<?x4x?x16xf32>) {causal, scale = 0.25 : f32} -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// Neighborhood 2-D: spatial dimensions collapse to one sequence of X * Y
// positions; the allowed set decodes (x, y) from the flat index; the result
// expands back.
// CHECK-LABEL: func.func @neighborhood_2d(
// CHECK-SAME:      %[[Q:[^:]+]]: tensor<1x2x6x5x8xf32>, %[[INIT:[^:]+]]: tensor<1x2x6x5x8xf32>)
// CHECK:         %[[QF:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0], [1], [2, 3], [4]] : tensor<1x2x6x5x8xf32> into tensor<1x2x30x8xf32>
// CHECK:         tensor.expand_shape %[[QF]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 1, 30, 8]
// CHECK:         tensor.collapse_shape %[[INIT]] {{\[\[}}0], [1], [2, 3], [4]] : tensor<1x2x6x5x8xf32> into tensor<1x2x30x8xf32>
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x1x30x30xf32>)
// CHECK:         linalg.generic
// CHECK:           %[[I:.*]] = linalg.index 3 : index
// CHECK:           %[[J:.*]] = linalg.index 4 : index
// CHECK-DAG:       arith.remui %[[I]], %{{.*}} : index
// CHECK-DAG:       arith.divui %[[I]], %{{.*}} : index
// CHECK-DAG:       arith.remui %[[J]], %{{.*}} : index
// CHECK-DAG:       arith.divui %[[J]], %{{.*}} : index
// CHECK:           %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:           arith.select %{{.*}}, %{{.*}}, %[[NEGINF]] : f32
// CHECK:         math.exp
// CHECK:         %[[OUT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x1x30x8xf32> into tensor<1x2x30x8xf32>
// CHECK:         %[[R:.*]] = tensor.expand_shape %[[OUT]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [1, 2, 6, 5, 8] : tensor<1x2x30x8xf32> into tensor<1x2x6x5x8xf32>
// CHECK:         return %[[R]]
func.func @neighborhood_2d(%q: tensor<1x2x6x5x8xf32>, %init: tensor<1x2x6x5x8xf32>) -> tensor<1x2x6x5x8xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x6x5x8xf32>, tensor<1x2x6x5x8xf32>, tensor<1x2x6x5x8xf32>)
                         outs(%init : tensor<1x2x6x5x8xf32>)
                         {kernel = [3, 2], dilation = [2, 1], causal = [false, true]} -> tensor<1x2x6x5x8xf32>
  return %o : tensor<1x2x6x5x8xf32>
}

// Neighborhood 3-D: three spatial dimensions collapse into one.
// CHECK-LABEL: func.func @neighborhood_3d(
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3, 4], [5]] : tensor<1x1x4x3x2x8xf32> into tensor<1x1x24x8xf32>
// CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3, 4], [5]] output_shape [1, 1, 4, 3, 2, 8] : tensor<1x1x24x8xf32> into tensor<1x1x4x3x2x8xf32>
func.func @neighborhood_3d(%q: tensor<1x1x4x3x2x8xf32>, %init: tensor<1x1x4x3x2x8xf32>) -> tensor<1x1x4x3x2x8xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x1x4x3x2x8xf32>, tensor<1x1x4x3x2x8xf32>, tensor<1x1x4x3x2x8xf32>)
                         outs(%init : tensor<1x1x4x3x2x8xf32>) {kernel = [3, 3, 2]} -> tensor<1x1x4x3x2x8xf32>
  return %o : tensor<1x1x4x3x2x8xf32>
}
