// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x4x11x16:f32 k=1x2x4x11x16:f32 v=1x2x4x11x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 3,5 --stride 1,2 --causal-axes 0,1
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- neighborhood --kernel 3,5 --stride 1,2 --causal-axes 0,1

// 2-D neighborhood on a non-square 4 x 11 grid with grouped heads (4 query
// heads, 2 KV heads), Dv != D, stride 2 along the causal Y axis.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x4x4x11x16xf32>, %k: tensor<1x2x4x11x16xf32>, %v: tensor<1x2x4x11x8xf32>) -> tensor<1x4x4x11x8xf32> {
  %init = tensor.empty() : tensor<1x4x4x11x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x4x4x11x16xf32>, tensor<1x2x4x11x16xf32>, tensor<1x2x4x11x8xf32>)
                         outs(%init : tensor<1x4x4x11x8xf32>)
                         {kernel = [3, 5], stride = [1, 2], causal = [false, true]} -> tensor<1x4x4x11x8xf32>
  return %o : tensor<1x4x4x11x8xf32>
}
