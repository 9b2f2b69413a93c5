// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x8x4:f32 k=1x2x8x4:f32 v=1x2x8x4:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --score identity
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score identity

// Identity weights, normalized (the default): o_i = sum_j s_ij v_j / sum_j s_ij
// over allowed keys. Row 0 has one allowed key, so o_0 = v_0 exactly.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %init = tensor.empty() : tensor<1x2x8x4xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
                      outs(%init : tensor<1x2x8x4xf32>)
                      {causal, score = #attn.score<kernel<identity>>} -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
