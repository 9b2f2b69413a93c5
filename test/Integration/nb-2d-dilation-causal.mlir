// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x9x10x8:f32 k=1x2x9x10x8:f32 v=1x2x9x10x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 3,4 --dilation 2,1 --causal-axes 1,0
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- neighborhood --kernel 3,4 --dilation 2,1 --causal-axes 1,0

// 2-D neighborhood, 9 x 10, kernel [3, 4], dilation [2, 1], causal along X only.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x9x10x8xf32>, %k: tensor<1x2x9x10x8xf32>, %v: tensor<1x2x9x10x8xf32>) -> tensor<1x2x9x10x8xf32> {
  %init = tensor.empty() : tensor<1x2x9x10x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x9x10x8xf32>, tensor<1x2x9x10x8xf32>, tensor<1x2x9x10x8xf32>)
                         outs(%init : tensor<1x2x9x10x8xf32>)
                         {kernel = [3, 4], dilation = [2, 1], causal = [true, false]} -> tensor<1x2x9x10x8xf32>
  return %o : tensor<1x2x9x10x8xf32>
}
