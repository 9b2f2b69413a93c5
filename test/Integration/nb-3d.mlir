// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x2x5x6x4x8:f32 k=2x2x5x6x4x8:f32 v=2x2x5x6x4x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 3,3,2
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- neighborhood --kernel 3,3,2

// 3-D neighborhood, 5 x 6 x 4, kernel [3, 3, 2], batch 2.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x2x5x6x4x8xf32>, %k: tensor<2x2x5x6x4x8xf32>, %v: tensor<2x2x5x6x4x8xf32>) -> tensor<2x2x5x6x4x8xf32> {
  %init = tensor.empty() : tensor<2x2x5x6x4x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<2x2x5x6x4x8xf32>, tensor<2x2x5x6x4x8xf32>, tensor<2x2x5x6x4x8xf32>)
                         outs(%init : tensor<2x2x5x6x4x8xf32>)
                         {kernel = [3, 3, 2]} -> tensor<2x2x5x6x4x8xf32>
  return %o : tensor<2x2x5x6x4x8xf32>
}
