// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/full q=1x2x5x6x8:f32 k=1x2x5x6x8:f32 v=1x2x5x6x8:f32
// RUN: attn-run %s --entry main --inputs %t/full/q.npy,%t/full/k.npy,%t/full/v.npy --output %t/full/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t/full %t/full/o.npy --kernel 5,6 --scale 0.3
// RUN: %python -c "import sys; sys.path.insert(0, '%S/lib'); import numpy as np, attn_numpy as a; l = lambda n: np.load('%t/full/' + n + '.npy').reshape(1, 2, 30, 8); want = a.attention(l('q'), l('k'), l('v'), scale=0.3); assert np.allclose(l('o'), want, atol=2e-5, rtol=2e-4), 'kernel = extent must be full attention'"
// RUN: %python %S/lib/check_case.py gen %t/dilated q=1x2x8x8:f32 k=1x2x8x8:f32 v=1x2x8x8:f32
// RUN: attn-run %s --entry dilated --inputs %t/dilated/q.npy,%t/dilated/k.npy,%t/dilated/v.npy --output %t/dilated/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t/dilated %t/dilated/o.npy --kernel 4 --dilation 2

// Kernel equal to the extent on both axes (5 x 6, kernel [5, 6]) is full
// attention over the 30 positions; and kernel * dilation equal to the extent
// (n = 8, kernel 4, dilation 2), the largest the verifier accepts.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x5x6x8xf32>, %k: tensor<1x2x5x6x8xf32>, %v: tensor<1x2x5x6x8xf32>) -> tensor<1x2x5x6x8xf32> {
  %init = tensor.empty() : tensor<1x2x5x6x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x5x6x8xf32>, tensor<1x2x5x6x8xf32>, tensor<1x2x5x6x8xf32>)
                         outs(%init : tensor<1x2x5x6x8xf32>)
                         {kernel = [5, 6], scale = 0.3 : f32} -> tensor<1x2x5x6x8xf32>
  return %o : tensor<1x2x5x6x8xf32>
}

func.func @dilated(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %init = tensor.empty() : tensor<1x2x8x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>)
                         outs(%init : tensor<1x2x8x8xf32>)
                         {kernel = [4], dilation = [2]} -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}
