// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x4x11x16:f16 k=1x2x4x11x16:f16 v=1x2x4x11x8:f16
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 3,5
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- neighborhood --kernel 3,5

// Non-square 2-D grid 4 x 11, kernel [3, 5], Dv != D, f16.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x4x11x16xf16>, %k: tensor<1x2x4x11x16xf16>, %v: tensor<1x2x4x11x8xf16>) -> tensor<1x2x4x11x8xf16> {
  %init = tensor.empty() : tensor<1x2x4x11x8xf16>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x4x11x16xf16>, tensor<1x2x4x11x16xf16>, tensor<1x2x4x11x8xf16>)
                         outs(%init : tensor<1x2x4x11x8xf16>)
                         {kernel = [3, 5]} -> tensor<1x2x4x11x8xf16>
  return %o : tensor<1x2x4x11x8xf16>
}
