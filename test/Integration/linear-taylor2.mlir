// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x19x8:f32 k=1x2x30x8:f32 v=1x2x30x12:f32
// RUN: attn-run %s --entry causal --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --score taylor2
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry causal --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score taylor2
// RUN: attn-run %s --entry causal --attn-strategy=linear --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/lin.npy
// RUN: %python %S/lib/check_case.py attention %t %t/lin.npy --causal --score taylor2
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry noncausal --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --score taylor2
// RUN: attn-opt %s '--attn-strategy=#attn.strategy<"linear", {chunk = 7}>' --attn-cpu-pipeline="vector-width=256" -o %t/avx2.mlir
// RUN: attn-run %t/avx2.mlir --entry causal --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/c8.npy
// RUN: %python %S/lib/check_case.py attention %t %t/c8.npy --causal --score taylor2
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry unnormalized --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score taylor2 --no-normalize --kappa 1e-6

// Taylor-2 weights 1 + s + s^2/2 without mask or window, so that `linear`
// computes them through its packed feature map (F = 1 + 8 + 36): GQA (4 query
// heads on 2 KV heads), Dv = 12 != D = 8, causal with Lq = 19 < Lk = 30
// (bottom-right aligned: the state starts with 11 keys), chunks of 7 that
// divide neither length; then non-causal, and causal without normalization
// (sums of up to 30 weights, checked against their own magnitude). The
// causal case runs again with 8-lane vectors.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @causal(%q: tensor<1x4x19x8xf32>, %k: tensor<1x2x30x8xf32>, %v: tensor<1x2x30x12xf32>) -> tensor<1x4x19x12xf32> {
  %init = tensor.empty() : tensor<1x4x19x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x19x8xf32>, tensor<1x2x30x8xf32>, tensor<1x2x30x12xf32>)
                      outs(%init : tensor<1x4x19x12xf32>) {causal, score = #attn.score<kernel<taylor2>>} -> tensor<1x4x19x12xf32>
  return %o : tensor<1x4x19x12xf32>
}

func.func @noncausal(%q: tensor<1x4x19x8xf32>, %k: tensor<1x2x30x8xf32>, %v: tensor<1x2x30x12xf32>) -> tensor<1x4x19x12xf32> {
  %init = tensor.empty() : tensor<1x4x19x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x19x8xf32>, tensor<1x2x30x8xf32>, tensor<1x2x30x12xf32>)
                      outs(%init : tensor<1x4x19x12xf32>) {score = #attn.score<kernel<taylor2>>} -> tensor<1x4x19x12xf32>
  return %o : tensor<1x4x19x12xf32>
}

func.func @unnormalized(%q: tensor<1x4x19x8xf32>, %k: tensor<1x2x30x8xf32>, %v: tensor<1x2x30x12xf32>) -> tensor<1x4x19x12xf32> {
  %init = tensor.empty() : tensor<1x4x19x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x19x8xf32>, tensor<1x2x30x8xf32>, tensor<1x2x30x12xf32>)
                      outs(%init : tensor<1x4x19x12xf32>) {causal, score = #attn.score<kernel<taylor2>, normalize = false>} -> tensor<1x4x19x12xf32>
  return %o : tensor<1x4x19x12xf32>
}
