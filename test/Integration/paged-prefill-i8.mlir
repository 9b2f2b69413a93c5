// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=3x4x21x16:f32 k=30x2x16x16:i8 v=30x2x16x24:i8 table=3x6:i32:pages30 klen=3:i32:lengths90 ks=30x2x16:f32:qscale vs=30x2x16:f32:qscale
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy,%t/ks.npy,%t/vs.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --window 40,0 --paged --quantized
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy,%t/ks.npy,%t/vs.npy -- attention --causal --window 40,0 --paged --quantized

// Chunked prefill over a paged i8 cache: 21 new queries per request, each
// request's queries aligned to its own last keys (bottom-right causal, a
// window of 40 keys), one f32 scale per cached key ([pages, Hkv,
// page_size]). The second request has 1 key, fewer than its queries: its
// first 20 rows have no key and are zeros; the third has none.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<3x4x21x16xf32>, %kc: tensor<30x2x16x16xi8>, %vc: tensor<30x2x16x24xi8>,
                %table: tensor<3x6xi32>, %klen: tensor<3xi32>, %ks: tensor<30x2x16xf32>, %vs: tensor<30x2x16xf32>) -> tensor<3x4x21x24xf32> {
  %init = tensor.empty() : tensor<3x4x21x24xf32>
  %o = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : tensor<3x4x21x16xf32>, tensor<30x2x16x16xi8>, tensor<30x2x16x24xi8>, tensor<3x6xi32>, tensor<3xi32>)
         k_scale(%ks : tensor<30x2x16xf32>) v_scale(%vs : tensor<30x2x16xf32>)
         outs(%init : tensor<3x4x21x24xf32>) {causal, window = #attn.window<left = 40, right = 0>} -> tensor<3x4x21x24xf32>
  return %o : tensor<3x4x21x24xf32>
}
