// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/b q=1x4x21x16:bf16 k=1x2x21x16:bf16 v=1x2x21x16:bf16
// RUN: attn-run %s --entry bf16 --attn-strategy=linear --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy --output %t/b/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/b %t/b/o.npy --causal --score elu1
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/b --entry bf16 --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy -- attention --causal --score elu1
// RUN: %python %S/lib/check_case.py gen %t/h q=1x2x18x4:f16 k=1x2x25x4:f16 v=1x2x25x20:f16
// RUN: attn-run %s --entry f16 --attn-strategy=linear --inputs %t/h/q.npy,%t/h/k.npy,%t/h/v.npy --output %t/h/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/h %t/h/o.npy --score taylor2
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/h --entry f16 --inputs %t/h/q.npy,%t/h/k.npy,%t/h/v.npy -- attention --score taylor2

// Low-precision inputs: extended to f32 on load, accumulated in f32, the
// result truncated once. bf16 elu1 causal with GQA; f16 taylor2 non-causal
// with D = 4 and Dv = 20 (neither a multiple of the vector width).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @bf16(%q: tensor<1x4x21x16xbf16>, %k: tensor<1x2x21x16xbf16>, %v: tensor<1x2x21x16xbf16>) -> tensor<1x4x21x16xbf16> {
  %init = tensor.empty() : tensor<1x4x21x16xbf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x21x16xbf16>, tensor<1x2x21x16xbf16>, tensor<1x2x21x16xbf16>)
                      outs(%init : tensor<1x4x21x16xbf16>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<1x4x21x16xbf16>
  return %o : tensor<1x4x21x16xbf16>
}

func.func @f16(%q: tensor<1x2x18x4xf16>, %k: tensor<1x2x25x4xf16>, %v: tensor<1x2x25x20xf16>) -> tensor<1x2x18x20xf16> {
  %init = tensor.empty() : tensor<1x2x18x20xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x18x4xf16>, tensor<1x2x25x4xf16>, tensor<1x2x25x20xf16>)
                      outs(%init : tensor<1x2x18x20xf16>) {score = #attn.score<kernel<taylor2>>} -> tensor<1x2x18x20xf16>
  return %o : tensor<1x2x18x20xf16>
}
