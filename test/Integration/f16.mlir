// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x16x16:f16 k=1x2x16x16:f16 v=1x2x16x16:f16
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal

// f16 inputs and result (f32 accumulation), GQA, causal.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x4x16x16xf16>, %k: tensor<1x2x16x16xf16>, %v: tensor<1x2x16x16xf16>) -> tensor<1x4x16x16xf16> {
  %init = tensor.empty() : tensor<1x4x16x16xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>)
                      outs(%init : tensor<1x4x16x16xf16>) {causal} -> tensor<1x4x16x16xf16>
  return %o : tensor<1x4x16x16xf16>
}
