// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x48x16:f32 k=1x2x64x16:f32 v=1x2x64x16:f32 mask=1x4x48x64:bool:tiles
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --mask | FileCheck %s
// RUN: attn-run %s --entry aligned --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask
// RUN: attn-opt %s --attn-apply-strategies --attn-convert-online-attention-to-cpu-vector | FileCheck %s --check-prefix=IR

// A runtime mask whose lengths the blocks divide (48 = 4 x 12 rows, 64 =
// 4 x 16 keys): block_sparse reads it in place instead of padding a copy
// (run_strategies.py's block_sparse uses exactly these blocks), with GQA and
// per-head masks.

// CHECK: reference: ok
// CHECK: block_sparse: ok
// CHECK-NOT: MISMATCH

// IR-LABEL: func.func @aligned(
// IR-NOT: tensor.pad
// IR: tensor.cast %{{.*}} : tensor<1x4x48x64xi1> to tensor<1x4x?x?xi1>
// IR-NOT: tensor.pad
// IR: return

func.func @main(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>, %m: tensor<1x4x48x64xi1>) -> tensor<1x4x48x16xf32> {
  %init = tensor.empty() : tensor<1x4x48x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x48x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      mask(%m : tensor<1x4x48x64xi1>)
                      outs(%init : tensor<1x4x48x16xf32>) -> tensor<1x4x48x16xf32>
  return %o : tensor<1x4x48x16xf32>
}

func.func @aligned(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>, %m: tensor<1x4x48x64xi1>) -> tensor<1x4x48x16xf32> {
  %init = tensor.empty() : tensor<1x4x48x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x48x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      mask(%m : tensor<1x4x48x64xi1>)
                      outs(%init : tensor<1x4x48x16xf32>) {strategy = #attn.strategy<"block_sparse", {block_q = 12, block_k = 16}>} -> tensor<1x4x48x16xf32>
  return %o : tensor<1x4x48x16xf32>
}
