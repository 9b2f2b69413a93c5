// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/long q=1x2x37x12:f32 k=1x2x53x12:f32 v=1x2x53x12:f32
// RUN: attn-run %s --entry main --inputs %t/long/q.npy,%t/long/k.npy,%t/long/v.npy --output %t/long/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/long %t/long/o.npy --causal --window=11,-
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/long --entry main --inputs %t/long/q.npy,%t/long/k.npy,%t/long/v.npy -- attention --causal --window=11,-
// RUN: %python %S/lib/check_case.py gen %t/decode q=1x2x1x12:f32 k=1x2x53x12:f32 v=1x2x53x12:f32
// RUN: attn-run %s --entry decode --inputs %t/decode/q.npy,%t/decode/k.npy,%t/decode/v.npy --output %t/decode/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/decode %t/decode/o.npy --causal
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/decode --entry decode --inputs %t/decode/q.npy,%t/decode/k.npy,%t/decode/v.npy -- attention --causal
// RUN: %python %S/lib/check_case.py gen %t/single q=1x1x1x3:f32 k=1x1x1x3:f32 v=1x1x1x5:f32
// RUN: attn-run %s --entry single --inputs %t/single/q.npy,%t/single/k.npy,%t/single/v.npy --output %t/single/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t/single %t/single/o.npy
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/single --entry single --inputs %t/single/q.npy,%t/single/k.npy,%t/single/v.npy -- attention

// Lengths that are not multiples of anything: Lq = 37, Lk = 53 (causal with a
// look-back window of 11), a one-token decode step (Lq = 1, Lk = 53), and a
// single query against a single key (D = 3, Dv = 5).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x37x12xf32>, %k: tensor<1x2x53x12xf32>, %v: tensor<1x2x53x12xf32>) -> tensor<1x2x37x12xf32> {
  %init = tensor.empty() : tensor<1x2x37x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x37x12xf32>, tensor<1x2x53x12xf32>, tensor<1x2x53x12xf32>)
                      outs(%init : tensor<1x2x37x12xf32>)
                      {causal, window = #attn.window<left = 11>} -> tensor<1x2x37x12xf32>
  return %o : tensor<1x2x37x12xf32>
}

func.func @decode(%q: tensor<1x2x1x12xf32>, %k: tensor<1x2x53x12xf32>, %v: tensor<1x2x53x12xf32>) -> tensor<1x2x1x12xf32> {
  %init = tensor.empty() : tensor<1x2x1x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x1x12xf32>, tensor<1x2x53x12xf32>, tensor<1x2x53x12xf32>)
                      outs(%init : tensor<1x2x1x12xf32>) {causal} -> tensor<1x2x1x12xf32>
  return %o : tensor<1x2x1x12xf32>
}

func.func @single(%q: tensor<1x1x1x3xf32>, %k: tensor<1x1x1x3xf32>, %v: tensor<1x1x1x5xf32>) -> tensor<1x1x1x5xf32> {
  %init = tensor.empty() : tensor<1x1x1x5xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x3xf32>, tensor<1x1x1x3xf32>, tensor<1x1x1x5xf32>)
                      outs(%init : tensor<1x1x1x5xf32>) -> tensor<1x1x1x5xf32>
  return %o : tensor<1x1x1x5xf32>
}
