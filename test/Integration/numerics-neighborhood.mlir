// REQUIRES: numpy
//
// The neighborhood strategy (and the others that compute attn.neighborhood)
// on the same hard inputs: scores that overflow a naive exp, a NaN key at
// spatial column 3 (rows of the image whose neighborhoods hold it become
// NaN, and no others), and f16 values near the f16 limit.
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/big q=1x2x9x10x16:f32:big k=1x2x9x10x16:f32:big v=1x2x9x10x16:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/big --inputs %t/big/q.npy,%t/big/k.npy,%t/big/v.npy -- neighborhood --kernel 3,5 --dilation 2,1 --causal-axes 0,1 --atol 2e-3 --rtol 2e-3 | FileCheck %s
// RUN: %python %S/lib/check_case.py gen %t/nan q=1x2x9x10x16:f32 k=1x2x9x10x16:f32:nan@3 v=1x2x9x10x16:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/nan --inputs %t/nan/q.npy,%t/nan/k.npy,%t/nan/v.npy -- neighborhood --kernel 3,5 --dilation 2,1 --causal-axes 0,1 --nan-reach | FileCheck %s --check-prefix=NAN
// RUN: %python %S/lib/check_case.py gen %t/f16 q=1x2x9x10x16:f16:f16big k=1x2x9x10x16:f16:f16big v=1x2x9x10x16:f16:f16max
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/f16 --entry half --inputs %t/f16/q.npy,%t/f16/k.npy,%t/f16/v.npy -- neighborhood --kernel 3,5 --dilation 2,1 --causal-axes 0,1 | FileCheck %s

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: neighborhood: ok {{.*}} nan=0 inf=0 outside_tolerance=0

// NAN: reference: ok {{.*}} nan={{[1-9][0-9]*}} inf=0 outside_tolerance=0
// NAN-NEXT: nan-reach: nan_elements={{[1-9][0-9]*}} rows_with_nan={{[1-9][0-9]*}} rows_without={{[1-9][0-9]*}} mismatches=0
// NAN: tiled: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0
// NAN: neighborhood: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0

func.func @main(%q: tensor<1x2x9x10x16xf32>, %k: tensor<1x2x9x10x16xf32>, %v: tensor<1x2x9x10x16xf32>) -> tensor<1x2x9x10x16xf32> {
  %init = tensor.empty() : tensor<1x2x9x10x16xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x9x10x16xf32>, tensor<1x2x9x10x16xf32>, tensor<1x2x9x10x16xf32>)
                         outs(%init : tensor<1x2x9x10x16xf32>)
                         {kernel = [3, 5], dilation = [2, 1], causal = [false, true]} -> tensor<1x2x9x10x16xf32>
  return %o : tensor<1x2x9x10x16xf32>
}

func.func @half(%q: tensor<1x2x9x10x16xf16>, %k: tensor<1x2x9x10x16xf16>, %v: tensor<1x2x9x10x16xf16>) -> tensor<1x2x9x10x16xf16> {
  %init = tensor.empty() : tensor<1x2x9x10x16xf16>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x9x10x16xf16>, tensor<1x2x9x10x16xf16>, tensor<1x2x9x10x16xf16>)
                         outs(%init : tensor<1x2x9x10x16xf16>)
                         {kernel = [3, 5], dilation = [2, 1], causal = [false, true]} -> tensor<1x2x9x10x16xf16>
  return %o : tensor<1x2x9x10x16xf16>
}
