// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attn.paged_attention.

func.func @table_type(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi64>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'page_table' must be tensor<2x?xi32> ([B, pages per request] of page indices), got 'tensor<2x4xi64>'}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi64>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @table_batch(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<3x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'page_table' must be tensor<2x?xi32>}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<3x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @lengths(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2x1xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'key_lengths' must be tensor<2xi32> (the keys of each request), got 'tensor<2x1xi32>'}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2x1xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @dynamic_page_size(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x?x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'k_cache' page size (dimension 2) must be static and non-zero, got ?}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x?x8xf32>, tensor<16x2x?x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @pages_differ(%q: tensor<2x4x1x8xf32>, %k: tensor<16x2x4x8xf32>, %v: tensor<8x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'v_cache' pages (dimension 0, 8) must match 'k_cache' pages (16)}}
  %o = attn.paged_attention ins(%q, %k, %v, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<8x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @gqa(%q: tensor<2x3x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x3x1x8xf32>) -> tensor<2x3x1x8xf32> {
  // expected-error @+1 {{'query' heads 3 must be a multiple of 'k_cache' heads 2 (grouped-query rule Hq % Hkv == 0)}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x3x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x3x1x8xf32>) -> tensor<2x3x1x8xf32>
  return %o : tensor<2x3x1x8xf32>
}

// -----

func.func @element_type(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf16>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'k_cache' element type 'f16' must match 'query' element type 'f32'}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf16>, tensor<16x2x4x8xf16>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @i8_scale(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xi8>, %s: tensor<2x2x16xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'k_scale' must be tensor<16x2x4xf32> (one scale per cached key for i8, [pages, Hkv, page_size]), got 'tensor<2x2x16xf32>'}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xi8>, tensor<16x2x4x8xi8>, tensor<2x4xi32>, tensor<2xi32>) k_scale(%s : tensor<2x2x16xf32>) v_scale(%s : tensor<2x2x16xf32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @quantized_without_scale(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xi8>, %v: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'k_cache' of element type 'i8' is quantized and needs a 'k_scale' operand (its dequantization scales)}}
  %o = attn.paged_attention ins(%q, %c, %v, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xi8>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @init_shape(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x3x8xf32>) -> tensor<2x4x3x8xf32> {
  // expected-error @+1 {{'init' dimension 2 is 3 but must be 1}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x3x8xf32>) -> tensor<2x4x3x8xf32>
  return %o : tensor<2x4x3x8xf32>
}

// -----

func.func @capacity(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x65536x8xf32>, %t: tensor<2x65536xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'page_table' holds 65536 pages of 65536 keys per request, more than 2147483647 keys (rule: a position fits a 32-bit index)}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x65536x8xf32>, tensor<16x2x65536x8xf32>, tensor<2x65536xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @softcap(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'softcap' must be positive and finite, got -1}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) {softcap = -1.0 : f32} -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @sink_logits_shape(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %sl: tensor<2xf32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'sink_logits' must be tensor<4xf32> (one logit per query head), got 'tensor<2xf32>'}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) sink_logits(%sl : tensor<2xf32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @lse_without_flag(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{has 1 results after the output but 'return_lse' asks for 0}}
  %o, %lse = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32>, tensor<2x4x1xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @lse_missing(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{has 0 results after the output but 'return_lse' asks for 1}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) {return_lse} -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @lse_shape(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'lse' result must be tensor<2x4x1xf32> ([B, Hq, Lq] of 'query'), got 'tensor<2x4xf32>'}}
  %o, %lse = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) {return_lse} -> tensor<2x4x1x8xf32>, tensor<2x4xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @sinks_without_window(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'sinks' only exempts keys from a 'window'}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) {causal, sinks = 2 : i64} -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}

// -----

func.func @negative_sinks(%q: tensor<2x4x1x8xf32>, %c: tensor<16x2x4x8xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>, %init: tensor<2x4x1x8xf32>) -> tensor<2x4x1x8xf32> {
  // expected-error @+1 {{'sinks' must be non-negative, got -1}}
  %o = attn.paged_attention ins(%q, %c, %c, %t, %l : tensor<2x4x1x8xf32>, tensor<16x2x4x8xf32>, tensor<16x2x4x8xf32>, tensor<2x4xi32>, tensor<2xi32>) outs(%init : tensor<2x4x1x8xf32>) {sinks = -1 : i64, window = #attn.window<left = 2>} -> tensor<2x4x1x8xf32>
  return %o : tensor<2x4x1x8xf32>
}
