// RUN: attn-opt %s --attn-set-target="vector-width=256 threads=2" --attn-select-strategy | FileCheck %s --check-prefix=CPU
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy | FileCheck %s --check-prefix=GPU

// Selection for the backward of a kernel score: the chunked linear backward
// on the CPU; on a GPU target (where the linear backward is not written)
// the tiled strategy's GPU backward, which weighs each pair by w / Z.

// CPU: attn.attention_backward {{.*}}strategy = #attn.strategy<"linear", {chunk = 32 : i64}>
// GPU: attn.attention_backward {{.*}}strategy = #attn.strategy<"tiled", {block_k = 32 : i64, block_q = 128 : i64, tensor_cores = 0 : i64}>
func.func @elu1(%q: tensor<1x4x512x32xf32>, %k: tensor<1x2x512x32xf32>)
    -> (tensor<1x4x512x32xf32>, tensor<1x2x512x32xf32>, tensor<1x2x512x32xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %k, %q, %q : tensor<1x4x512x32xf32>, tensor<1x2x512x32xf32>, tensor<1x2x512x32xf32>, tensor<1x4x512x32xf32>, tensor<1x4x512x32xf32>)
      outs(%q, %k, %k : tensor<1x4x512x32xf32>, tensor<1x2x512x32xf32>, tensor<1x2x512x32xf32>)
      {causal, score = #attn.score<kernel<elu1>>}
      -> tensor<1x4x512x32xf32>, tensor<1x2x512x32xf32>, tensor<1x2x512x32xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x512x32xf32>, tensor<1x2x512x32xf32>, tensor<1x2x512x32xf32>
}
