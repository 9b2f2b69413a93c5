// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x6x1x32:f32 k=1x3x70x32:f8 v=1x3x70x32:f8 ks=3:f32:qscale vs=3:f32:qscale
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/ks.npy,%t/vs.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --quantized
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/ks.npy,%t/vs.npy -- attention --quantized
// RUN: %python %S/lib/check_case.py gen %t/wrong ki=1x3x70x32:i8
// RUN: not attn-run %s --entry main --inputs %t/q.npy,%t/wrong/ki.npy,%t/v.npy,%t/ks.npy,%t/vs.npy 2>&1 | FileCheck %s --check-prefix=WRONG
// WRONG: {{^}}attn-run: error: input 1 has dtype int8 but @main expects float8_e4m3fn (as uint8) (tensor<1x3x70x32xf8E4M3FN>){{$}}
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2 vector-width=256" --attn-strategy=split_kv --attn-select-strategy --attn-apply-strategies --attn-convert-online-attention-to-cpu-vector | FileCheck %s --check-prefix=PAIRS --implicit-check-not="vector<8xf8E4M3FN>"
// The CPU micro-kernel reads and decodes f8 K and V 16 elements at a time
// (two vectors of 8 lanes), never 8 (anywhere in the output).
// PAIRS: vector.transfer_read %arg1{{.*}} vector<16xf8E4M3FN>
// PAIRS: arith.extsi {{.*}} : vector<16xi8> to vector<16xi16>
// PAIRS: vector.transfer_read %arg2{{.*}} vector<16xf8E4M3FN>

// Decode over f8E4M3FN K/V with one f32 scale per KV head: the .npy files
// hold the f8 bit patterns as uint8. GQA (6 query heads on 3 KV heads),
// 70 keys. An int8 file where the entry takes f8 is one clear error.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x6x1x32xf32>, %k: tensor<1x3x70x32xf8E4M3FN>, %v: tensor<1x3x70x32xf8E4M3FN>,
                %ks: tensor<3xf32>, %vs: tensor<3xf32>) -> tensor<1x6x1x32xf32> {
  %init = tensor.empty() : tensor<1x6x1x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x6x1x32xf32>, tensor<1x3x70x32xf8E4M3FN>, tensor<1x3x70x32xf8E4M3FN>)
                      k_scale(%ks : tensor<3xf32>) v_scale(%vs : tensor<3xf32>)
                      outs(%init : tensor<1x6x1x32xf32>) -> tensor<1x6x1x32xf32>
  return %o : tensor<1x6x1x32xf32>
}
