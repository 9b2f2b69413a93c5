// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x12x8:f32 k=1x2x12x8:f32 v=1x2x12x8:f32 mask=1x2x12x12:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask --window=5,5 --score taylor2
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --mask --window=5,5 --score taylor2

// Taylor-2 feature map (1 + s + s^2/2) with a mask and a window.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x12x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x2x12x12xi1>) -> tensor<1x2x12x8xf32> {
  %init = tensor.empty() : tensor<1x2x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
                      mask(%m : tensor<1x2x12x12xi1>)
                      outs(%init : tensor<1x2x12x8xf32>) {window = #attn.window<left = 5, right = 5>, score = #attn.score<kernel<taylor2>>} -> tensor<1x2x12x8xf32>
  return %o : tensor<1x2x12x8xf32>
}
