// BERT encoder block in linalg, as torch-mlir writes it: batch 2, 4 heads
// of 32, sequence 64, width 128, FFN 256; %keep is the padding mask
// (true = a real token). Made by make_models.py.
func.func @main(%x: tensor<2x64x128xf32>, %keep: tensor<2x64xi1>, %w_q: tensor<128x128xf32>, %b_q: tensor<128xf32>, %w_k: tensor<128x128xf32>, %b_k: tensor<128xf32>, %w_v: tensor<128x128xf32>, %b_v: tensor<128xf32>, %w_o: tensor<128x128xf32>, %b_o: tensor<128xf32>, %ln1_g: tensor<128xf32>, %ln1_b: tensor<128xf32>, %w_1: tensor<128x256xf32>, %b_1: tensor<256xf32>, %w_2: tensor<256x128xf32>, %b_2: tensor<128xf32>, %ln2_g: tensor<128xf32>, %ln2_b: tensor<128xf32>) -> tensor<2x64x128xf32> {
  %zero1 = arith.constant 0.0 : f32
  %r2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x64x128xf32> into tensor<128x128xf32>
  %empty3 = tensor.empty() : tensor<128x128xf32>
  %fill4 = linalg.fill ins(%zero1 : f32) outs(%empty3 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %mm5 = linalg.matmul ins(%r2, %w_q : tensor<128x128xf32>, tensor<128x128xf32>) outs(%fill4 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %empty6 = tensor.empty() : tensor<128x128xf32>
  %bias7 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm5, %b_q : tensor<128x128xf32>, tensor<128xf32>) outs(%empty6 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty8 = tensor.empty() : tensor<128x128xf32>
  %fill9 = linalg.fill ins(%zero1 : f32) outs(%empty8 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %mm10 = linalg.matmul ins(%r2, %w_k : tensor<128x128xf32>, tensor<128x128xf32>) outs(%fill9 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %empty11 = tensor.empty() : tensor<128x128xf32>
  %bias12 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm10, %b_k : tensor<128x128xf32>, tensor<128xf32>) outs(%empty11 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty13 = tensor.empty() : tensor<128x128xf32>
  %fill14 = linalg.fill ins(%zero1 : f32) outs(%empty13 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %mm15 = linalg.matmul ins(%r2, %w_v : tensor<128x128xf32>, tensor<128x128xf32>) outs(%fill14 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %empty16 = tensor.empty() : tensor<128x128xf32>
  %bias17 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm15, %b_v : tensor<128x128xf32>, tensor<128xf32>) outs(%empty16 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %r18 = tensor.expand_shape %bias7 [[0, 1], [2, 3]] output_shape [2, 64, 4, 32] : tensor<128x128xf32> into tensor<2x64x4x32xf32>
  %empty19 = tensor.empty() : tensor<2x4x64x32xf32>
  %t20 = linalg.transpose ins(%r18 : tensor<2x64x4x32xf32>) outs(%empty19 : tensor<2x4x64x32xf32>) permutation = [0, 2, 1, 3]
  %r21 = tensor.collapse_shape %t20 [[0, 1], [2], [3]] : tensor<2x4x64x32xf32> into tensor<8x64x32xf32>
  %r22 = tensor.expand_shape %bias12 [[0, 1], [2, 3]] output_shape [2, 64, 4, 32] : tensor<128x128xf32> into tensor<2x64x4x32xf32>
  %empty23 = tensor.empty() : tensor<2x4x32x64xf32>
  %t24 = linalg.transpose ins(%r22 : tensor<2x64x4x32xf32>) outs(%empty23 : tensor<2x4x32x64xf32>) permutation = [0, 2, 3, 1]
  %r25 = tensor.collapse_shape %t24 [[0, 1], [2], [3]] : tensor<2x4x32x64xf32> into tensor<8x32x64xf32>
  %r26 = tensor.expand_shape %bias17 [[0, 1], [2, 3]] output_shape [2, 64, 4, 32] : tensor<128x128xf32> into tensor<2x64x4x32xf32>
  %empty27 = tensor.empty() : tensor<2x4x64x32xf32>
  %t28 = linalg.transpose ins(%r26 : tensor<2x64x4x32xf32>) outs(%empty27 : tensor<2x4x64x32xf32>) permutation = [0, 2, 1, 3]
  %r29 = tensor.collapse_shape %t28 [[0, 1], [2], [3]] : tensor<2x4x64x32xf32> into tensor<8x64x32xf32>
  %empty30 = tensor.empty() : tensor<8x64x64xf32>
  %fill31 = linalg.fill ins(%zero1 : f32) outs(%empty30 : tensor<8x64x64xf32>) -> tensor<8x64x64xf32>
  %bmm32 = linalg.batch_matmul ins(%r21, %r25 : tensor<8x64x32xf32>, tensor<8x32x64xf32>) outs(%fill31 : tensor<8x64x64xf32>) -> tensor<8x64x64xf32>
  %r33 = tensor.expand_shape %bmm32 [[0, 1], [2], [3]] output_shape [2, 4, 64, 64] : tensor<8x64x64xf32> into tensor<2x4x64x64xf32>
  %empty34 = tensor.empty() : tensor<2x64xf32>
  %additive35 = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%keep : tensor<2x64xi1>) outs(%empty34 : tensor<2x64xf32>) {
  ^bb0(%a0: i1, %acc: f32):
    %z = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %r = arith.select %a0, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x64xf32>
  %r36 = tensor.expand_shape %additive35 [[0, 1, 2], [3]] output_shape [2, 1, 1, 64] : tensor<2x64xf32> into tensor<2x1x1x64xf32>
  %empty37 = tensor.empty() : tensor<2x4x64x64xf32>
  %scores38 = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, 0, 0, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%r33, %r36 : tensor<2x4x64x64xf32>, tensor<2x1x1x64xf32>) outs(%empty37 : tensor<2x4x64x64xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %c = arith.constant 5.656854152679443 : f32
    %d = arith.divf %a0, %c : f32
    %r = arith.addf %d, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x64x64xf32>
  %empty39 = tensor.empty() : tensor<2x4x64x64xf32>
  %softmax40 = linalg.softmax dimension(3) ins(%scores38 : tensor<2x4x64x64xf32>) outs(%empty39 : tensor<2x4x64x64xf32>) -> tensor<2x4x64x64xf32>
  %r41 = tensor.collapse_shape %softmax40 [[0, 1], [2], [3]] : tensor<2x4x64x64xf32> into tensor<8x64x64xf32>
  %empty42 = tensor.empty() : tensor<8x64x32xf32>
  %fill43 = linalg.fill ins(%zero1 : f32) outs(%empty42 : tensor<8x64x32xf32>) -> tensor<8x64x32xf32>
  %bmm44 = linalg.batch_matmul ins(%r41, %r29 : tensor<8x64x64xf32>, tensor<8x64x32xf32>) outs(%fill43 : tensor<8x64x32xf32>) -> tensor<8x64x32xf32>
  %r45 = tensor.expand_shape %bmm44 [[0, 1], [2], [3]] output_shape [2, 4, 64, 32] : tensor<8x64x32xf32> into tensor<2x4x64x32xf32>
  %empty46 = tensor.empty() : tensor<2x64x4x32xf32>
  %t47 = linalg.transpose ins(%r45 : tensor<2x4x64x32xf32>) outs(%empty46 : tensor<2x64x4x32xf32>) permutation = [0, 2, 1, 3]
  %r48 = tensor.collapse_shape %t47 [[0, 1], [2, 3]] : tensor<2x64x4x32xf32> into tensor<128x128xf32>
  %empty49 = tensor.empty() : tensor<128x128xf32>
  %fill50 = linalg.fill ins(%zero1 : f32) outs(%empty49 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %mm51 = linalg.matmul ins(%r48, %w_o : tensor<128x128xf32>, tensor<128x128xf32>) outs(%fill50 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %empty52 = tensor.empty() : tensor<128x128xf32>
  %bias53 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm51, %b_o : tensor<128x128xf32>, tensor<128xf32>) outs(%empty52 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty54 = tensor.empty() : tensor<128x128xf32>
  %res55 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%r2, %bias53 : tensor<128x128xf32>, tensor<128x128xf32>) outs(%empty54 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty56 = tensor.empty() : tensor<128xf32>
  %fill57 = linalg.fill ins(%zero1 : f32) outs(%empty56 : tensor<128xf32>) -> tensor<128xf32>
  %sum58 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%res55 : tensor<128x128xf32>) outs(%fill57 : tensor<128xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %r = arith.addf %acc, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<128xf32>
  %empty59 = tensor.empty() : tensor<128x128xf32>
  %center60 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%res55, %sum58 : tensor<128x128xf32>, tensor<128xf32>) outs(%empty59 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %c = arith.constant 0.0078125 : f32
    %m = arith.mulf %a1, %c : f32
    %r = arith.subf %a0, %m : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty61 = tensor.empty() : tensor<128xf32>
  %fill62 = linalg.fill ins(%zero1 : f32) outs(%empty61 : tensor<128xf32>) -> tensor<128xf32>
  %var63 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%center60 : tensor<128x128xf32>) outs(%fill62 : tensor<128xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %a0 : f32
    %r = arith.addf %acc, %s : f32
    linalg.yield %r : f32
  } -> tensor<128xf32>
  %empty64 = tensor.empty() : tensor<128x128xf32>
  %ln65 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%center60, %var63, %ln1_g, %ln1_b : tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) outs(%empty64 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %a2: f32, %a3: f32, %acc: f32):
    %c = arith.constant 0.0078125 : f32
    %eps = arith.constant 9.999999747378752e-06 : f32
    %v = arith.mulf %a1, %c : f32
    %ve = arith.addf %v, %eps : f32
    %rs = math.rsqrt %ve : f32
    %n = arith.mulf %a0, %rs : f32
    %s = arith.mulf %n, %a2 : f32
    %r = arith.addf %s, %a3 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty66 = tensor.empty() : tensor<128x256xf32>
  %fill67 = linalg.fill ins(%zero1 : f32) outs(%empty66 : tensor<128x256xf32>) -> tensor<128x256xf32>
  %mm68 = linalg.matmul ins(%ln65, %w_1 : tensor<128x128xf32>, tensor<128x256xf32>) outs(%fill67 : tensor<128x256xf32>) -> tensor<128x256xf32>
  %empty69 = tensor.empty() : tensor<128x256xf32>
  %bias70 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm68, %b_1 : tensor<128x256xf32>, tensor<256xf32>) outs(%empty69 : tensor<128x256xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x256xf32>
  %empty71 = tensor.empty() : tensor<128x256xf32>
  %gelu72 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%bias70 : tensor<128x256xf32>) outs(%empty71 : tensor<128x256xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %c = arith.constant 0.7071067690849304 : f32
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %s = arith.mulf %a0, %c : f32
    %er = math.erf %s : f32
    %p = arith.addf %er, %one : f32
    %h = arith.mulf %a0, %half : f32
    %r = arith.mulf %h, %p : f32
    linalg.yield %r : f32
  } -> tensor<128x256xf32>
  %empty73 = tensor.empty() : tensor<128x128xf32>
  %fill74 = linalg.fill ins(%zero1 : f32) outs(%empty73 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %mm75 = linalg.matmul ins(%gelu72, %w_2 : tensor<128x256xf32>, tensor<256x128xf32>) outs(%fill74 : tensor<128x128xf32>) -> tensor<128x128xf32>
  %empty76 = tensor.empty() : tensor<128x128xf32>
  %bias77 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm75, %b_2 : tensor<128x128xf32>, tensor<128xf32>) outs(%empty76 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty78 = tensor.empty() : tensor<128x128xf32>
  %res79 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%ln65, %bias77 : tensor<128x128xf32>, tensor<128x128xf32>) outs(%empty78 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty80 = tensor.empty() : tensor<128xf32>
  %fill81 = linalg.fill ins(%zero1 : f32) outs(%empty80 : tensor<128xf32>) -> tensor<128xf32>
  %sum82 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%res79 : tensor<128x128xf32>) outs(%fill81 : tensor<128xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %r = arith.addf %acc, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<128xf32>
  %empty83 = tensor.empty() : tensor<128x128xf32>
  %center84 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%res79, %sum82 : tensor<128x128xf32>, tensor<128xf32>) outs(%empty83 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %c = arith.constant 0.0078125 : f32
    %m = arith.mulf %a1, %c : f32
    %r = arith.subf %a0, %m : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %empty85 = tensor.empty() : tensor<128xf32>
  %fill86 = linalg.fill ins(%zero1 : f32) outs(%empty85 : tensor<128xf32>) -> tensor<128xf32>
  %var87 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%center84 : tensor<128x128xf32>) outs(%fill86 : tensor<128xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %a0 : f32
    %r = arith.addf %acc, %s : f32
    linalg.yield %r : f32
  } -> tensor<128xf32>
  %empty88 = tensor.empty() : tensor<128x128xf32>
  %ln89 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%center84, %var87, %ln2_g, %ln2_b : tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) outs(%empty88 : tensor<128x128xf32>) {
  ^bb0(%a0: f32, %a1: f32, %a2: f32, %a3: f32, %acc: f32):
    %c = arith.constant 0.0078125 : f32
    %eps = arith.constant 9.999999747378752e-06 : f32
    %v = arith.mulf %a1, %c : f32
    %ve = arith.addf %v, %eps : f32
    %rs = math.rsqrt %ve : f32
    %n = arith.mulf %a0, %rs : f32
    %s = arith.mulf %n, %a2 : f32
    %r = arith.addf %s, %a3 : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  %r90 = tensor.expand_shape %ln89 [[0, 1], [2]] output_shape [2, 64, 128] : tensor<128x128xf32> into tensor<2x64x128xf32>
  return %r90 : tensor<2x64x128xf32>
}
