// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x12x4:f32 k=1x2x15x4:f32 v=1x2x15x4:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --scale 0.7 --score relu
// RUN: %python -c "import numpy as np; q = np.load('%t/q.npy'); o = np.load('%t/o.npy'); dead = (q <= 0).all(-1); assert dead.any() and (o[dead] == 0).all() and np.isfinite(o).all(), 'rows with relu(q) = 0 must be zeros'"
// RUN: attn-run %s --entry unnormalized --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/u.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/u.npy --scale 0.7 --score relu --no-normalize
// RUN: attn-run %s --entry unnormalized --attn-strategy=reference --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/u-ref.npy
// RUN: %python %S/lib/check_case.py attention %t %t/u-ref.npy --scale 0.7 --score relu --no-normalize
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --scale 0.7 --score relu

// Linear attention with phi(x) = relu(x). Normalized, the scale cancels, and
// a query row with relu(scale q) = 0 has weights that sum to 0: its output
// row must be zeros, not NaN (with D = 4 some rows of q are all negative).
// Unnormalized, the scale shows: o_i = sum_j (phi(0.7 q_i) . phi(k_j)) v_j.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x12x4xf32>, %k: tensor<1x2x15x4xf32>, %v: tensor<1x2x15x4xf32>) -> tensor<1x2x12x4xf32> {
  %init = tensor.empty() : tensor<1x2x12x4xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x4xf32>, tensor<1x2x15x4xf32>, tensor<1x2x15x4xf32>)
                      outs(%init : tensor<1x2x12x4xf32>) {scale = 0.7 : f32, score = #attn.score<kernel<relu>>} -> tensor<1x2x12x4xf32>
  return %o : tensor<1x2x12x4xf32>
}

func.func @unnormalized(%q: tensor<1x2x12x4xf32>, %k: tensor<1x2x15x4xf32>, %v: tensor<1x2x15x4xf32>) -> tensor<1x2x12x4xf32> {
  %init = tensor.empty() : tensor<1x2x12x4xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x4xf32>, tensor<1x2x15x4xf32>, tensor<1x2x15x4xf32>)
                      outs(%init : tensor<1x2x12x4xf32>)
                      {scale = 0.7 : f32, score = #attn.score<kernel<relu>, normalize = false>} -> tensor<1x2x12x4xf32>
  return %o : tensor<1x2x12x4xf32>
}
