// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x8x13x16:f32 k=2x2x37x16:i8 v=2x2x37x24:i8 ks=2x2x37:f32:qscale vs=2x2x37:f32:qscale
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/ks.npy,%t/vs.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --quantized
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/ks.npy,%t/vs.npy -- attention --causal --quantized
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2" --attn-strategy=split_kv --attn-explain -o /dev/null 2>&1 | FileCheck %s --check-prefix=FUSED
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2" --attn-strategy=portable --attn-explain -o /dev/null 2>&1 | FileCheck %s --check-prefix=COPIES

// i8 K/V with one f32 scale per (batch, KV head, key), GQA (8 query heads
// on 2 KV heads), causal, 37 keys (no tile divides them) and Dv != D. The
// tiled and split_kv kernels dequantize as they read; the other strategies
// read f32 copies.

// CHECK: check: max_abs_err={{.*}} PASS
// --attn-explain says where the dequantization happens:
// FUSED: quantized K/V: dequantized as the kernel reads them
// COPIES: quantized K/V: read from dequantized copies written before the op

func.func @main(%q: tensor<2x8x13x16xf32>, %k: tensor<2x2x37x16xi8>, %v: tensor<2x2x37x24xi8>,
                %ks: tensor<2x2x37xf32>, %vs: tensor<2x2x37xf32>) -> tensor<2x8x13x24xf32> {
  %init = tensor.empty() : tensor<2x8x13x24xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x8x13x16xf32>, tensor<2x2x37x16xi8>, tensor<2x2x37x24xi8>)
                      k_scale(%ks : tensor<2x2x37xf32>) v_scale(%vs : tensor<2x2x37xf32>)
                      outs(%init : tensor<2x8x13x24xf32>) {causal} -> tensor<2x8x13x24xf32>
  return %o : tensor<2x8x13x24xf32>
}
