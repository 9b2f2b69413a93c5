// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/a q=2x4x9x8:f32 k=2x2x17x8:f32 v=2x2x17x8:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/a --entry main --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy -- attention --causal --score identity
// RUN: attn-run %s --entry main --attn-strategy=linear --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy --output %t/a/o.npy
// RUN: %python %S/lib/check_case.py attention %t/a %t/a/o.npy --causal --score identity
// RUN: %python %S/lib/check_case.py gen %t/b q=1x4x40x8:f32 k=1x2x6x8:f32 v=1x2x6x8:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/b --entry main --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy -- attention --causal --score identity
// RUN: attn-run %s --entry main --attn-strategy=linear --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy --output %t/b/o.npy
// RUN: %python %S/lib/check_case.py attention %t/b %t/b/o.npy --causal --score identity
// RUN: %python -c "import numpy as np; o = np.load('%t/b/o.npy'); assert (o[:, :, :34] == 0).all() and np.isfinite(o).all(), 'expected zero rows'"

// Dynamic batch and lengths with identity weights, causal: B = 2, Lq = 9,
// Lk = 17 (the state starts with 8 keys), then B = 1, Lq = 40, Lk = 6 (rows
// 0..33 see no key).

func.func @main(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x8xf32>
  %l = tensor.dim %q, %c2 : tensor<?x4x?x8xf32>
  %init = tensor.empty(%b, %l) : tensor<?x4x?x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>)
                      outs(%init : tensor<?x4x?x8xf32>) {causal, score = #attn.score<kernel<identity>>} -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}
