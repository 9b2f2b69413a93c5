// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x12x8:f32 k=1x2x70x8:f32 v=1x2x70x8:f32 mask=1x2x12x70:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask --window=40,3 --score sigmoid
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --mask --window=40,3 --score sigmoid

// Sigmoid weights divided by their sum, with a mask (row 0 fully masked: zeros)
// and a window over 70 keys (more than one 64-key tile).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x12x8xf32>, %k: tensor<1x2x70x8xf32>, %v: tensor<1x2x70x8xf32>, %m: tensor<1x2x12x70xi1>) -> tensor<1x2x12x8xf32> {
  %init = tensor.empty() : tensor<1x2x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x8xf32>, tensor<1x2x70x8xf32>, tensor<1x2x70x8xf32>)
                      mask(%m : tensor<1x2x12x70xi1>)
                      outs(%init : tensor<1x2x12x8xf32>) {window = #attn.window<left = 40, right = 3>, score = #attn.score<kernel<sigmoid>>} -> tensor<1x2x12x8xf32>
  return %o : tensor<1x2x12x8xf32>
}
