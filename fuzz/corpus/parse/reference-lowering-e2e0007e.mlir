func.func @gqa_causal_mask(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x8x12xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>)
                      mask(%m : tensor<1x1x8x12xi1>)
                      outs(%init : tensor<1x4x8x8xf32>) {causal, scale = 0.25 : f32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

func.func @bias_softcap_softplus(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %m: tensor<2x4x8x12xi1>, %b: tensor<1x4x8x12xf16>, %init: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x16xf32>)
                      mask(%m : tensor<2x4x8x12xi1>) bias(%b : tensor<1x4x8x12xf16>)
                      outs(%init : tensor<2x4x8x16xf32>)
                      {softcap = 5.0 : f32, score = #attn.score<softplus>, strategy = #attn.strategy<"reference">} -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

func.func @kernel_elu1(%q: tensor<1x2x8x16xf32>, %init: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
                      outs(%init : tensor<1x2x8x16xf32>) {score = #attn.score<kernel<elu1>>} -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

func.func @identity_f16_window_sinks(%q: tensor<1x2x8x16xf16>, %init: tensor<1x2x8x16xf16>) -> tensor<1x2x8x16xf16> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>)
                      outs(%init : tensor<1x2x8x16xf16>)
                      {score = #attn.score<kernel<identity>, normalize = false>,
                       window = #attn.window<left = 2, right = 1>, sinks = 1 : i64} -> tensor<1x2x8x16xf16>
  return %o : tensor<1x2x8x16xf16>
}

func.func @dynamic(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %init: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
                      outs(%init : tensor<?x4x?x16xf32>) {causal, scale = 0.25 : f32} -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

func.func @neighborhood_2d(%q: tensor<1x2x6x5x8xf32>, %init: tensor<1x2x6x5x8xf32>) -> tensor<1x2x6x5x8xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x6x5x8xf32>, tensor<1x2x6x5x8xf32>, tensor<1x2x6x5x8xf32>)
                         outs(%init : tensor<1x2x6x5x8xf32>)
                         {kernel = [3, 2], dilation = [2, 1], causal = [false, true]} -> tensor<1x2x6x5x8xf32>
  return %o : tensor<1x2x6x5x8xf32>
}

func.func @neighborhood_3d(%q: tensor<1x1x4x3x2x8xf32>, %init: tensor<1x1x4x3x2x8xf32>) -> tensor<1x1x4x3x2x8xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x1x4x3x2x8xf32>, tensor<1x1x4x3x2x8xf32>, tensor<1x1x4x3x2x8xf32>)
                         outs(%init : tensor<1x1x4x3x2x8xf32>) {kernel = [3, 3, 2]} -> tensor<1x1x4x3x2x8xf32>
  return %o : tensor<1x1x4x3x2x8xf32>
}
