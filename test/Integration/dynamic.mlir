// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/a q=2x4x9x16:f32 k=2x2x17x16:f32 v=2x2x17x16:f32
// RUN: attn-run %s --entry main --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy --output %t/a/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/a %t/a/o.npy --causal
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/a --entry main --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy -- attention --causal
// RUN: %python %S/lib/check_case.py gen %t/b q=1x4x7x16:f32 k=1x2x3x16:f32 v=1x2x3x16:f32
// RUN: attn-run %s --entry main --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy --output %t/b/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/b %t/b/o.npy --causal
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/b --entry main --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy -- attention --causal
// RUN: %python -c "import numpy as np; o = np.load('%t/b/o.npy'); assert o.shape == (1, 4, 7, 16) and (o[:, :, :4] == 0).all(), 'expected zero rows'"

// Dynamic batch and sequence lengths; the destination comes from tensor.empty
// sized with tensor.dim. The same function runs on B = 2, Lq = 9, Lk = 17 and
// on B = 1, Lq = 7, Lk = 3 (causal with Lq > Lk: rows 0..3 see no key).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x16xf32>
  %lq = tensor.dim %q, %c2 : tensor<?x4x?x16xf32>
  %init = tensor.empty(%b, %lq) : tensor<?x4x?x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
                      outs(%init : tensor<?x4x?x16xf32>) {causal} -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
