// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x10x8:f32 k=2x2x14x8:f32 v=2x2x14x8:f32 mask=1x4x10x14:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask
// RUN: %python -c "import numpy as np; o = np.load('%t/o.npy'); assert o.shape == (2, 4, 10, 8) and (o[:, :, 0] == 0).all() and (o[:, :, 1:] != 0).any(), 'expected zero rows'"
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --mask

// A boolean mask broadcast over the batch (dimension 0 is 1, B = 2) with GQA;
// row 0 of the mask is all false, so output row 0 is zeros in every batch and head.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x4x10x8xf32>, %k: tensor<2x2x14x8xf32>, %v: tensor<2x2x14x8xf32>, %m: tensor<1x4x10x14xi1>) -> tensor<2x4x10x8xf32> {
  %init = tensor.empty() : tensor<2x4x10x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x10x8xf32>, tensor<2x2x14x8xf32>, tensor<2x2x14x8xf32>)
                      mask(%m : tensor<1x4x10x14xi1>)
                      outs(%init : tensor<2x4x10x8xf32>) -> tensor<2x4x10x8xf32>
  return %o : tensor<2x4x10x8xf32>
}
