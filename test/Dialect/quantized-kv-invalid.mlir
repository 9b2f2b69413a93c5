// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of quantized K/V (k_scale, v_scale).

func.func @i8_without_scale(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xi8>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'key' of element type 'i8' is quantized and needs a 'k_scale' operand (its dequantization scales)}}
  %o = attn.attention ins(%q, %k, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xi8>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @scale_of_float(%q: tensor<1x2x8x4xf32>, %s: tensor<1x2x8xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'v_scale' needs a quantized 'value' (element type i8 or f8E4M3FN), got 'f32'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) v_scale(%s : tensor<1x2x8xf32>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @i8_scale_shape(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xi8>, %s: tensor<1x2x7xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'k_scale' must be tensor<1x2x8xf32> (one scale per (batch, KV head, key) for i8, [B, Hkv, Lk]), got 'tensor<1x2x7xf32>'}}
  %o = attn.attention ins(%q, %k, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xi8>, tensor<1x2x8x4xf32>) k_scale(%s : tensor<1x2x7xf32>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @f8_scale_shape(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf8E4M3FN>, %s: tensor<1x2x8xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'k_scale' must be tensor<2xf32> (one scale per KV head for f8E4M3FN, [Hkv]), got 'tensor<1x2x8xf32>'}}
  %o = attn.attention ins(%q, %k, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf8E4M3FN>, tensor<1x2x8x4xf32>) k_scale(%s : tensor<1x2x8xf32>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @f16_scale(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf8E4M3FN>, %s: tensor<2xf16>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'k_scale' must be tensor<2xf32> (one scale per KV head for f8E4M3FN, [Hkv]), got 'tensor<2xf16>'}}
  %o = attn.attention ins(%q, %k, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf8E4M3FN>, tensor<1x2x8x4xf32>) k_scale(%s : tensor<2xf16>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @other_quantized_type(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xi4>, %s: tensor<1x2x8xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'k_scale' needs a quantized 'key' (element type i8 or f8E4M3FN), got 'i4'}}
  %o = attn.attention ins(%q, %k, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xi4>, tensor<1x2x8x4xf32>) k_scale(%s : tensor<1x2x8xf32>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @quantized_query(%q: tensor<1x2x8x4xi8>, %k: tensor<1x2x8x4xi8>, %s: tensor<1x2x8xf32>, %init: tensor<1x2x8x4xi8>) -> tensor<1x2x8x4xi8> {
  // expected-error @+1 {{'query' element type must be f32, f16 or bf16, got 'i8'}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x2x8x4xi8>, tensor<1x2x8x4xi8>, tensor<1x2x8x4xi8>) k_scale(%s : tensor<1x2x8xf32>) v_scale(%s : tensor<1x2x8xf32>) outs(%init : tensor<1x2x8x4xi8>) -> tensor<1x2x8x4xi8>
  return %o : tensor<1x2x8x4xi8>
}

// -----

func.func @tile_without_scale(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xi8>, %acc: tensor<1x2x8x4xf32>, %m: tensor<1x2x8xf32>, %p: index)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>) {
  // expected-error @+1 {{'key' of element type 'i8' is quantized and needs a 'k_scale' operand (its dequantization scales)}}
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xi8>, tensor<1x2x8x4xf32>)
      positions(%p, %p) outs(%acc, %m, %m : tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
      {scale = 0.5 : f32} -> tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  return %a, %mm, %ll : tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
}
