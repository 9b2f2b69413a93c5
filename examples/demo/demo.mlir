// A small transformer-style model: two attention layers with linalg
// projections and residual connections.
//   layer 1: grouped-query (8 query heads, 2 KV heads), causal
//   layer 2: multi-head, sliding window of 32 keys back with 4 sink tokens
// x: [1, 256, 256]; head dimension 32. Weights are inputs.


func.func @layer_gqa_causal(%x: tensor<256x256xf32>, %wq: tensor<256x256xf32>,
                            %wk: tensor<256x64xf32>, %wv: tensor<256x64xf32>,
                            %wo: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e256 = tensor.empty() : tensor<256x256xf32>
  %z256 = linalg.fill ins(%zero : f32) outs(%e256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %e64 = tensor.empty() : tensor<256x64xf32>
  %z64 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<256x64xf32>) -> tensor<256x64xf32>
  %q2 = linalg.matmul ins(%x, %wq : tensor<256x256xf32>, tensor<256x256xf32>) outs(%z256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %k2 = linalg.matmul ins(%x, %wk : tensor<256x256xf32>, tensor<256x64xf32>) outs(%z64 : tensor<256x64xf32>) -> tensor<256x64xf32>
  %v2 = linalg.matmul ins(%x, %wv : tensor<256x256xf32>, tensor<256x64xf32>) outs(%z64 : tensor<256x64xf32>) -> tensor<256x64xf32>
  // [L, H*D] -> [1, H, L, D]
  %q3 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 256, 8, 32] : tensor<256x256xf32> into tensor<1x256x8x32xf32>
  %k3 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 256, 2, 32] : tensor<256x64xf32> into tensor<1x256x2x32xf32>
  %v3 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 256, 2, 32] : tensor<256x64xf32> into tensor<1x256x2x32xf32>
  %qt0 = tensor.empty() : tensor<1x8x256x32xf32>
  %kt0 = tensor.empty() : tensor<1x2x256x32xf32>
  %q = linalg.transpose ins(%q3 : tensor<1x256x8x32xf32>) outs(%qt0 : tensor<1x8x256x32xf32>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%k3 : tensor<1x256x2x32xf32>) outs(%kt0 : tensor<1x2x256x32xf32>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%v3 : tensor<1x256x2x32xf32>) outs(%kt0 : tensor<1x2x256x32xf32>) permutation = [0, 2, 1, 3]
  %o0 = tensor.empty() : tensor<1x8x256x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x256x32xf32>, tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32>)
                      outs(%o0 : tensor<1x8x256x32xf32>) {causal} -> tensor<1x8x256x32xf32>
  // [1, H, L, D] -> [L, H*D], output projection, residual.
  %ot0 = tensor.empty() : tensor<1x256x8x32xf32>
  %ot = linalg.transpose ins(%o : tensor<1x8x256x32xf32>) outs(%ot0 : tensor<1x256x8x32xf32>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %ot [[0, 1], [2, 3]] : tensor<1x256x8x32xf32> into tensor<256x256xf32>
  %proj = linalg.matmul ins(%o2, %wo : tensor<256x256xf32>, tensor<256x256xf32>) outs(%z256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %y = linalg.add ins(%x, %proj : tensor<256x256xf32>, tensor<256x256xf32>) outs(%e256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %y : tensor<256x256xf32>
}

func.func @layer_window(%x: tensor<256x256xf32>, %wq: tensor<256x256xf32>,
                        %wk: tensor<256x256xf32>, %wv: tensor<256x256xf32>,
                        %wo: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e256 = tensor.empty() : tensor<256x256xf32>
  %z256 = linalg.fill ins(%zero : f32) outs(%e256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %q2 = linalg.matmul ins(%x, %wq : tensor<256x256xf32>, tensor<256x256xf32>) outs(%z256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %k2 = linalg.matmul ins(%x, %wk : tensor<256x256xf32>, tensor<256x256xf32>) outs(%z256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %v2 = linalg.matmul ins(%x, %wv : tensor<256x256xf32>, tensor<256x256xf32>) outs(%z256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %q3 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 256, 8, 32] : tensor<256x256xf32> into tensor<1x256x8x32xf32>
  %k3 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 256, 8, 32] : tensor<256x256xf32> into tensor<1x256x8x32xf32>
  %v3 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 256, 8, 32] : tensor<256x256xf32> into tensor<1x256x8x32xf32>
  %t0 = tensor.empty() : tensor<1x8x256x32xf32>
  %q = linalg.transpose ins(%q3 : tensor<1x256x8x32xf32>) outs(%t0 : tensor<1x8x256x32xf32>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%k3 : tensor<1x256x8x32xf32>) outs(%t0 : tensor<1x8x256x32xf32>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%v3 : tensor<1x256x8x32xf32>) outs(%t0 : tensor<1x8x256x32xf32>) permutation = [0, 2, 1, 3]
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x256x32xf32>, tensor<1x8x256x32xf32>, tensor<1x8x256x32xf32>)
                      outs(%t0 : tensor<1x8x256x32xf32>)
                      {causal, window = #attn.window<left = 32, right = 0>, sinks = 4 : i64} -> tensor<1x8x256x32xf32>
  %ot0 = tensor.empty() : tensor<1x256x8x32xf32>
  %ot = linalg.transpose ins(%o : tensor<1x8x256x32xf32>) outs(%ot0 : tensor<1x256x8x32xf32>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %ot [[0, 1], [2, 3]] : tensor<1x256x8x32xf32> into tensor<256x256xf32>
  %proj = linalg.matmul ins(%o2, %wo : tensor<256x256xf32>, tensor<256x256xf32>) outs(%z256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  %y = linalg.add ins(%x, %proj : tensor<256x256xf32>, tensor<256x256xf32>) outs(%e256 : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %y : tensor<256x256xf32>
}

func.func @main(%x: tensor<256x256xf32>,
                %wq1: tensor<256x256xf32>, %wk1: tensor<256x64xf32>, %wv1: tensor<256x64xf32>, %wo1: tensor<256x256xf32>,
                %wq2: tensor<256x256xf32>, %wk2: tensor<256x256xf32>, %wv2: tensor<256x256xf32>, %wo2: tensor<256x256xf32>)
    -> tensor<256x256xf32> {
  %h = func.call @layer_gqa_causal(%x, %wq1, %wk1, %wv1, %wo1)
      : (tensor<256x256xf32>, tensor<256x256xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %y = func.call @layer_window(%h, %wq2, %wk2, %wv2, %wo2)
      : (tensor<256x256xf32>, tensor<256x256xf32>, tensor<256x256xf32>, tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %y : tensor<256x256xf32>
}
