// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x20x8:f32 k=1x2x12x8:f32 v=1x2x12x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal
// RUN: %python -c "import numpy as np; o = np.load('%t/o.npy'); assert o.shape == (1, 2, 20, 8) and (o[:, :, :8] == 0).all() and (o[:, :, 8:] != 0).any(), 'expected zero rows'"
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal

// Causal with Lq > Lk: query i sees keys j <= i - 8, so the first 8 rows have no
// allowed key and must be zeros (not NaN).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x20x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>) -> tensor<1x2x20x8xf32> {
  %init = tensor.empty() : tensor<1x2x20x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x20x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
                      outs(%init : tensor<1x2x20x8xf32>) {causal} -> tensor<1x2x20x8xf32>
  return %o : tensor<1x2x20x8xf32>
}
