// REQUIRES: numpy
//
// Scores far beyond what a naive exp survives (exp overflows f32 above 88):
// q and k scaled by 30 ("big": scores of about +-1000) and by 1000 ("huge":
// about +-1e6). Every strategy subtracts the running row max, so no
// infinity or NaN may appear and the result matches the float64 oracle.
// With scores this large a rounding error of a score (f32, about 1e-7 of
// its terms) is an absolute change of the weights, hence the looser
// tolerance than elsewhere. A mask makes block_sparse applicable.
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/big q=1x4x70x16:f32:big k=1x2x200x16:f32:big v=1x2x200x16:f32 mask=1x1x70x200:bool:mask
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/big --inputs %t/big/q.npy,%t/big/k.npy,%t/big/v.npy,%t/big/mask.npy -- attention --causal --mask --atol 2e-3 --rtol 2e-3 | FileCheck %s
// RUN: %python %S/lib/check_case.py gen %t/huge q=1x4x70x16:f32:huge k=1x2x200x16:f32:huge v=1x2x200x16:f32 mask=1x1x70x200:bool:mask
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/huge --inputs %t/huge/q.npy,%t/huge/k.npy,%t/huge/v.npy,%t/huge/mask.npy -- attention --causal --mask --atol 2e-3 --rtol 2e-3 | FileCheck %s
//
// Softcap keeps large scores bounded; softplus grows linearly with them.
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/big --entry softcap --inputs %t/big/q.npy,%t/big/k.npy,%t/big/v.npy,%t/big/mask.npy -- attention --causal --mask --softcap 20 --atol 2e-3 --rtol 2e-3 | FileCheck %s
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/big --entry softplus --inputs %t/big/q.npy,%t/big/k.npy,%t/big/v.npy,%t/big/mask.npy -- attention --causal --mask --score softplus --atol 2e-3 --rtol 2e-3 | FileCheck %s

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled-odd: ok
// CHECK: tiled-wide: ok
// CHECK: split_kv: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: split_kv-odd: ok
// CHECK: block_sparse: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable-splits: ok {{.*}} nan=0 inf=0 outside_tolerance=0

func.func @main(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @softcap(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal, softcap = 20.0 : f32} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @softplus(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal, score = #attn.score<softplus>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}
