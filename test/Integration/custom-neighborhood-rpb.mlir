// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x6x7x8:f32 k=1x2x6x7x8:f32 v=1x2x6x7x8:f32 rpb=2x5x5:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/rpb.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 3,3 --rpb
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/rpb.npy -- neighborhood --kernel 3,3 --rpb | FileCheck %s --check-prefix=STRATEGIES

// NATTEN-style relative positional bias on a 6x7 grid, kernel 3x3: a
// score_mod reading a table of (2k - 1)^2 entries per head at the key's
// coordinates minus the query's (windows shift at the edges, so the
// offsets span -2..2). The neighborhood strategy computes the mod in its
// kernel, at key coordinates clamped into each window (the table has no
// entry for a key outside it).

// STRATEGIES: reference: ok
// STRATEGIES: neighborhood: ok

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x6x7x8xf32>, %k: tensor<1x2x6x7x8xf32>, %v: tensor<1x2x6x7x8xf32>, %rpb: tensor<2x5x5xf32>) -> tensor<1x2x6x7x8xf32> {
  %init = tensor.empty() : tensor<1x2x6x7x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x6x7x8xf32>, tensor<1x2x6x7x8xf32>, tensor<1x2x6x7x8xf32>)
                         outs(%init : tensor<1x2x6x7x8xf32>) {kernel = [3, 3]}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qx: index, %qy: index, %kx: index, %ky: index):
      %c2 = arith.constant 2 : index
      %dx = arith.subi %kx, %qx : index
      %x = arith.addi %dx, %c2 : index
      %dy = arith.subi %ky, %qy : index
      %y = arith.addi %dy, %c2 : index
      %bias = tensor.extract %rpb[%h, %x, %y] : tensor<2x5x5xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    } -> tensor<1x2x6x7x8xf32>
  return %o : tensor<1x2x6x7x8xf32>
}
