// REQUIRES: numpy
//
// The tiny kernel weights of numerics-tiny-weights.mlir (elu1 features
// about e^-47, products about 1e-41: a row's sum is subnormal and 1 / sum
// overflows) through the linear strategy, causal and not: its epilogue
// divides by the sum as the flash kernels do (it multiplied by 1 / sum and
// returned inf).
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x40x1:f32:tiny k=1x1x70x1:f32:tiny v=1x1x70x8:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --score elu1 --scale 1 --atol 2e-3 --rtol 2e-3 | FileCheck %s
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry causal --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --score elu1 --scale 1 --causal --atol 2e-3 --rtol 2e-3 | FileCheck %s

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: linear: ok {{.*}} nan=0 inf=0 outside_tolerance=0

func.func @main(%q: tensor<1x2x40x1xf32>, %k: tensor<1x1x70x1xf32>, %v: tensor<1x1x70x8xf32>) -> tensor<1x2x40x8xf32> {
  %init = tensor.empty() : tensor<1x2x40x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x1xf32>, tensor<1x1x70x1xf32>, tensor<1x1x70x8xf32>)
                      outs(%init : tensor<1x2x40x8xf32>) {scale = 1.0 : f32, score = #attn.score<kernel<elu1>>} -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}

func.func @causal(%q: tensor<1x2x40x1xf32>, %k: tensor<1x1x70x1xf32>, %v: tensor<1x1x70x8xf32>) -> tensor<1x2x40x8xf32> {
  %init = tensor.empty() : tensor<1x2x40x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x1xf32>, tensor<1x1x70x1xf32>, tensor<1x1x70x8xf32>)
                      outs(%init : tensor<1x2x40x8xf32>) {scale = 1.0 : f32, causal, score = #attn.score<kernel<elu1>>} -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}
