// REQUIRES: numpy
//
// f16 inputs near the end of their range: q and k about +-200 (q.k up to
// about 1e6, far beyond f16's 65504 but well inside f32, where the math is
// done) and values of +-(60000..65000). The result (a convex combination of
// values) stays inside f16: no infinity and no NaN, under every strategy,
// with fully masked rows and 64-key tiles.
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/a q=1x4x70x16:f16:f16big k=1x2x200x16:f16:f16big v=1x2x200x16:f16:f16max mask=1x1x70x200:bool:tiles
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/a --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy,%t/a/mask.npy -- attention --causal --mask | FileCheck %s
// The same values with softcap and softplus scores.
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/a --entry softcap --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy,%t/a/mask.npy -- attention --causal --mask --softcap 30 | FileCheck %s
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/a --entry softplus --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy,%t/a/mask.npy -- attention --causal --mask --score softplus | FileCheck %s

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled-odd: ok
// CHECK: tiled-wide: ok
// CHECK: split_kv: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: split_kv-odd: ok
// CHECK: block_sparse: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable-splits: ok {{.*}} nan=0 inf=0 outside_tolerance=0

func.func @main(%q: tensor<1x4x70x16xf16>, %k: tensor<1x2x200x16xf16>, %v: tensor<1x2x200x16xf16>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf16> {
  %init = tensor.empty() : tensor<1x4x70x16xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf16>, tensor<1x2x200x16xf16>, tensor<1x2x200x16xf16>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf16>) {causal} -> tensor<1x4x70x16xf16>
  return %o : tensor<1x4x70x16xf16>
}

func.func @softcap(%q: tensor<1x4x70x16xf16>, %k: tensor<1x2x200x16xf16>, %v: tensor<1x2x200x16xf16>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf16> {
  %init = tensor.empty() : tensor<1x4x70x16xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf16>, tensor<1x2x200x16xf16>, tensor<1x2x200x16xf16>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf16>) {causal, softcap = 30.0 : f32} -> tensor<1x4x70x16xf16>
  return %o : tensor<1x4x70x16xf16>
}

func.func @softplus(%q: tensor<1x4x70x16xf16>, %k: tensor<1x2x200x16xf16>, %v: tensor<1x2x200x16xf16>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf16> {
  %init = tensor.empty() : tensor<1x4x70x16xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf16>, tensor<1x2x200x16xf16>, tensor<1x2x200x16xf16>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf16>) {causal, score = #attn.score<softplus>} -> tensor<1x4x70x16xf16>
  return %o : tensor<1x4x70x16xf16>
}
