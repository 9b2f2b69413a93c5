// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x1x10x9x8:f32 k=1x1x10x9x8:f32 v=1x1x10x9x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 5,3 --causal-axes 0,1 --stride 2,3
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- neighborhood --kernel 5,3 --causal-axes 0,1 --stride 2,3

// 2-D strided neighborhood, 10 x 9, kernel [5, 3], stride [2, 3], causal along Y.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x1x10x9x8xf32>, %k: tensor<1x1x10x9x8xf32>, %v: tensor<1x1x10x9x8xf32>) -> tensor<1x1x10x9x8xf32> {
  %init = tensor.empty() : tensor<1x1x10x9x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x1x10x9x8xf32>, tensor<1x1x10x9x8xf32>, tensor<1x1x10x9x8xf32>)
                         outs(%init : tensor<1x1x10x9x8xf32>)
                         {kernel = [5, 3], causal = [false, true], stride = [2, 3]} -> tensor<1x1x10x9x8xf32>
  return %o : tensor<1x1x10x9x8xf32>
}
