// The cost model on short dense sequences (B=1 H=4 L=256 D=64, 2 threads):
// tiled's tasks are batch x KV heads x query blocks (it said "parallelism
// 1", so split_kv with splits = 1 won), its block stays within L (it was
// 258 rows for L = 256), and it keeps at least four tasks per thread
// (blocks of 132 rows: 0.43 ms against 0.78 ms for one 256-row block on the
// machine it was measured on).
// RUN: attn-opt %s --attn-set-target="threads=2 vector-width=512" --attn-explain -o /dev/null 2>&1 | FileCheck %s

// CHECK: remark: strategy 'tiled' (cheapest estimate) on cpu with 2 threads, 512-bit vectors
// CHECK-NEXT: tiled: {{.*}} parallelism 8, {{.*}}block_q = 132 : i64{{.*}} <- cheapest, selected
// CHECK-NEXT: split_kv: {{.*}} parallelism 4, {{.*}}splits = 1 : i64

func.func @main(%q: tensor<1x4x256x64xf32>, %k: tensor<1x4x256x64xf32>, %v: tensor<1x4x256x64xf32>) -> tensor<1x4x256x64xf32> {
  %init = tensor.empty() : tensor<1x4x256x64xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>) outs(%init : tensor<1x4x256x64xf32>) -> tensor<1x4x256x64xf32>
  return %o : tensor<1x4x256x64xf32>
}
