// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=5x4x2x32:f32 k=24x1x4x32:f8 v=24x1x4x32:f8 table=5x4:i32:pages24 klen=5:i32:lengths15 ks=1:f32:qscale vs=1:f32:qscale
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy,%t/ks.npy,%t/vs.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy,%t/ks.npy,%t/vs.npy -- attention --causal --softcap 20 --paged --quantized

// Multi-query decode (Lq = 2, MQA: 4 query heads on 1 KV head) over an
// f8E4M3FN cache with per-head scales and softcap. Capacity 16 keys per
// request; lengths 15 (the last page partly filled), 1, 0 and random.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<5x4x2x32xf32>, %kc: tensor<24x1x4x32xf8E4M3FN>, %vc: tensor<24x1x4x32xf8E4M3FN>,
                %table: tensor<5x4xi32>, %klen: tensor<5xi32>, %ks: tensor<1xf32>, %vs: tensor<1xf32>) -> tensor<5x4x2x32xf32> {
  %init = tensor.empty() : tensor<5x4x2x32xf32>
  %o = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : tensor<5x4x2x32xf32>, tensor<24x1x4x32xf8E4M3FN>, tensor<24x1x4x32xf8E4M3FN>, tensor<5x4xi32>, tensor<5xi32>)
         k_scale(%ks : tensor<1xf32>) v_scale(%vs : tensor<1xf32>)
         outs(%init : tensor<5x4x2x32xf32>) {causal, softcap = 20.0 : f32} -> tensor<5x4x2x32xf32>
  return %o : tensor<5x4x2x32xf32>
}
