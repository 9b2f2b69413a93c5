// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule and per attribute parse error of the attn
// dialect (AttnOps.cpp, AttnDialect.cpp, and the ODS attribute constraints).

//===----------------------------------------------------------------------===//
// attn.attention: ranks
//===----------------------------------------------------------------------===//

func.func @query_rank(%q: tensor<4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'query' must have the layout [B, H, L, D], got rank 3}}
  %o = attn.attention ins(%q, %k, %v : tensor<4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @key_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x1x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'key' must have the layout [B, H, L, D], got rank 5}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x1x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @value_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'value' must have the layout [B, H, L, D], got rank 3}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @init_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'init' must have the layout [B, H, L, D], got rank 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %o : tensor<8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: element types
//===----------------------------------------------------------------------===//

func.func @int_query(%q: tensor<1x4x8x16xi32>, %k: tensor<1x2x12x16xi32>, %v: tensor<1x2x12x8xi32>, %init: tensor<1x4x8x8xi32>) -> tensor<1x4x8x8xi32> {
  // expected-error @+1 {{'query' element type must be f32, f16 or bf16, got 'i32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xi32>, tensor<1x2x12x16xi32>, tensor<1x2x12x8xi32>) outs(%init : tensor<1x4x8x8xi32>) -> tensor<1x4x8x8xi32>
  return %o : tensor<1x4x8x8xi32>
}

// -----

func.func @f64_query(%q: tensor<1x4x8x16xf64>, %k: tensor<1x2x12x16xf64>, %v: tensor<1x2x12x8xf64>, %init: tensor<1x4x8x8xf64>) -> tensor<1x4x8x8xf64> {
  // expected-error @+1 {{'query' element type must be f32, f16 or bf16, got 'f64'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf64>, tensor<1x2x12x16xf64>, tensor<1x2x12x8xf64>) outs(%init : tensor<1x4x8x8xf64>) -> tensor<1x4x8x8xf64>
  return %o : tensor<1x4x8x8xf64>
}

// -----

func.func @key_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf16>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'key' element type 'f16' must match 'query' element type 'f32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf16>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @value_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xbf16>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'value' element type 'bf16' must match 'query' element type 'f32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xbf16>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// The result has q's element type: an f16 init for f32 inputs is rejected.
func.func @init_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16> {
  // expected-error @+1 {{'init' element type 'f16' must match 'query' element type 'f32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16>
  return %o : tensor<1x4x8x8xf16>
}

// -----

func.func @result_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{result type 'tensor<1x4x8x16xf32>' must match 'init' type 'tensor<1x4x8x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @result_dynamic(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x?x8xf32> {
  // expected-error @+1 {{result type 'tensor<1x4x?x8xf32>' must match 'init' type 'tensor<1x4x8x8xf32>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x?x8xf32>
  return %o : tensor<1x4x?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: static heads and head dimensions
//===----------------------------------------------------------------------===//

func.func @dynamic_query_heads(%q: tensor<1x?x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'query' head count (dimension 1) must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x?x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @dynamic_key_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x?x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'key' head count (dimension 1) must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x?x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @dynamic_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x?xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'key' head dimension (dimension 3) must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x?xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @dynamic_value_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x?xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'value' head dimension (dimension 3) must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x?xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @zero_heads(%q: tensor<1x0x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x0x8x8xf32>) -> tensor<1x0x8x8xf32> {
  // expected-error @+1 {{'query' heads and head dimension must be non-zero}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x0x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x0x8x8xf32>) -> tensor<1x0x8x8xf32>
  return %o : tensor<1x0x8x8xf32>
}

// -----

func.func @zero_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x0xf32>, %init: tensor<1x4x8x0xf32>) -> tensor<1x4x8x0xf32> {
  // expected-error @+1 {{'value' heads and head dimension must be non-zero}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x0xf32>) outs(%init : tensor<1x4x8x0xf32>) -> tensor<1x4x8x0xf32>
  return %o : tensor<1x4x8x0xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: batch, heads, head dimension, lengths
//===----------------------------------------------------------------------===//

func.func @key_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'key' batch size 2 must match 'query' batch size 1}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @value_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<?x2x12x16xf32>, %v: tensor<3x2x12x8xf32>, %init: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  // expected-error @+1 {{'value' batch size 3 must match 'query' batch size 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<?x2x12x16xf32>, tensor<3x2x12x8xf32>) outs(%init : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %o : tensor<2x4x8x8xf32>
}

// -----

func.func @init_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  // expected-error @+1 {{'init' batch size 2 must match 'query' batch size 1}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %o : tensor<2x4x8x8xf32>
}

// -----

func.func @value_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x1x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'value' heads 1 must match 'key' heads 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x1x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @gqa_ratio(%q: tensor<1x6x8x16xf32>, %k: tensor<1x4x12x16xf32>, %v: tensor<1x4x12x8xf32>, %init: tensor<1x6x8x8xf32>) -> tensor<1x6x8x8xf32> {
  // expected-error @+1 {{'query' heads 6 must be a multiple of 'key' heads 4 (grouped-query rule Hq % Hkv == 0)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x6x8x16xf32>, tensor<1x4x12x16xf32>, tensor<1x4x12x8xf32>) outs(%init : tensor<1x6x8x8xf32>) -> tensor<1x6x8x8xf32>
  return %o : tensor<1x6x8x8xf32>
}

// -----

func.func @more_kv_heads(%q: tensor<1x2x8x16xf32>, %k: tensor<1x4x12x16xf32>, %v: tensor<1x4x12x8xf32>, %init: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{'query' heads 2 must be a multiple of 'key' heads 4 (grouped-query rule Hq % Hkv == 0)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x4x12x16xf32>, tensor<1x4x12x8xf32>) outs(%init : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x32xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'key' head dimension 32 must match 'query' head dimension 16}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x32xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @value_length(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x10x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'value' dimension 2 (10) must match 'key' dimension 2 (12)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x10x8xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: init shape
//===----------------------------------------------------------------------===//

func.func @init_length(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{'init' dimension 2 is 9 but must be 8 (layout [B, H, L, D] with 'value' head dimension)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

// init has the query heads, not the KV heads.
func.func @init_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{'init' dimension 1 is 2 but must be 4}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// init's last dimension is Dv (8), not D (16).
func.func @init_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{'init' dimension 3 is 16 but must be 8}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @init_dynamic_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x?x8x8xf32>) -> tensor<1x?x8x8xf32> {
  // expected-error @+1 {{'init' heads must be static and equal 4}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x?x8x8xf32>) -> tensor<1x?x8x8xf32>
  return %o : tensor<1x?x8x8xf32>
}

// -----

func.func @init_dynamic_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x?xf32>) -> tensor<1x4x8x?xf32> {
  // expected-error @+1 {{'init' head dimension must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x?xf32>) -> tensor<1x4x8x?xf32>
  return %o : tensor<1x4x8x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: mask
//===----------------------------------------------------------------------===//

func.func @mask_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' element type must be i1 (true = may attend), got 'f32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x1x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_i8(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x8x12xi8>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' element type must be i1 (true = may attend), got 'i8'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x1x8x12xi8>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<8x12xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' must have the layout [B, H, Lq, Lk], got rank 2}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<8x12xi1>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<3x1x8x12xi1>, %init: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  // expected-error @+1 {{'mask' dimension 0 is 3 but must be 1 or the batch size 2 (broadcast rule)}}
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32>) mask(%m : tensor<3x1x8x12xi1>) outs(%init : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %o : tensor<2x4x8x8xf32>
}

// -----

// A mask broadcasts over query heads; KV heads (2) are not a valid size.
func.func @mask_kv_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x2x8x12xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' dimension 1 is 2 but must be 1 or the query head count 4 (broadcast rule)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x2x8x12xi1>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_dynamic_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x?x8x12xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' dimension 1 (heads) must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x?x8x12xi1>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_lq(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x7x12xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' dimension 2 is 7 but must be Lq = 8}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x1x7x12xi1>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_lk(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x8x16xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' dimension 3 is 16 but must be Lk = 12}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x1x8x16xi1>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @mask_transposed(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %m: tensor<1x1x12x8xi1>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'mask' dimension 2 is 12 but must be Lq = 8}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) mask(%m : tensor<1x1x12x8xi1>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: bias
//===----------------------------------------------------------------------===//

func.func @bias_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x1x8x12xi32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' element type must be f32, f16 or bf16, got 'i32'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x1x8x12xi32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<4x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' must have the layout [B, H, Lq, Lk], got rank 3}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<4x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<2x4x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' dimension 0 is 2 but must be 1 or the batch size 1 (broadcast rule)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<2x4x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x3x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' dimension 1 is 3 but must be 1 or the query head count 4 (broadcast rule)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x3x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_dynamic_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x?x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' dimension 1 (heads) must be static}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x?x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_lq(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x4x1x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' dimension 2 is 1 but must be Lq = 8}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x4x1x12xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_lk(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x4x8x1xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' dimension 3 is 1 but must be Lk = 12}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x4x8x1xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: scale, softcap, sinks, window
//===----------------------------------------------------------------------===//

func.func @scale_inf(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'scale' must be finite}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {scale = 0x7F800000 : f32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @scale_f64(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {scale = 0.125 : f64} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @softcap_zero(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'softcap' must be positive and finite, got 0.000000e+00}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {softcap = 0.0 : f32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @softcap_negative(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'softcap' must be positive and finite, got -5.000000e+00}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {softcap = -5.0 : f32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @softcap_inf(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'softcap' must be positive and finite, got }}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {softcap = 0x7F800000 : f32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @sinks_without_window(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'sinks' only exempts keys from a 'window'; it needs a 'window' attribute}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {sinks = 4 : i64} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @sinks_negative(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'sinks' must be non-negative, got -1}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = #attn.window<left = 1>, sinks = -1 : i64} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// causal alone is not a window: sinks still need one.
func.func @sinks_causal_only(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'sinks' only exempts keys from a 'window'; it needs a 'window' attribute}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {causal, sinks = 2 : i64} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @sinks_i32(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{attribute 'sinks' failed to satisfy constraint: 64-bit signless integer attribute}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = #attn.window<left = 4>, sinks = 4 : i32} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// Negative window bounds are rejected when the attribute is parsed.
func.func @window_left_negative(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{#attn.window 'left' must be non-negative, got -1}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = #attn.window<left = -1, right = 0>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @window_right_negative(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{#attn.window 'right' must be non-negative, got -3}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = #attn.window<right = -3>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @window_empty(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{#attn.window needs 'left', 'right' or both}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = #attn.window<>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @window_unknown_param(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{duplicate or unknown struct parameter name: center}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = #attn.window<center = 3>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @window_not_a_window(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{attribute 'window' failed to satisfy constraint: Sliding window: how far a query may look left and right}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {window = 16 : i64} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: score kinds
//===----------------------------------------------------------------------===//

func.func @score_unknown_kind(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{unknown score kind 'sparsemax'; expected softmax, softplus or kernel}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<sparsemax>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// kernel needs a feature map in angle brackets.
func.func @score_kernel_no_map(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{expected '<'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// `none` names no feature map.
func.func @score_kernel_none(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{unknown feature map 'none'; expected elu1, relu, taylor2, identity or sigmoid}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<none>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// A kernel score's name needs kernel<...>, and softmax is not a kernel.
func.func @score_kernel_name_bare(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'taylor2' is a kernel score; write #attn.score<kernel<taylor2>>}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<taylor2>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_kernel_of_softmax(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'softmax' is not a kernel score; write #attn.score<softmax>}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<softmax>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_kernel_unknown_map(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{unknown feature map 'gelu'; expected elu1, relu, taylor2, identity or sigmoid}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<gelu>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_softmax_normalize(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{#attn.score<softmax> is always normalized; 'normalize' applies to kernel scores only}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<softmax, normalize = false>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_softplus_normalize(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{#attn.score<softplus> is always normalized; 'normalize' applies to kernel scores only}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<softplus, normalize = false>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_unknown_param(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{unknown score parameter 'norm'; expected 'normalize'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<relu>, norm = false>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_normalize_value(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'normalize' must be true or false}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<taylor2>, normalize = yes>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_softmax_map(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{expected '>'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<softmax<elu1>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @score_not_a_score(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{attribute 'score' failed to satisfy constraint: Weight function: softmax, softplus, or kernel feature maps}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.strategy<"reference">} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// elu1 and relu never form the score q.k: no bias, no softcap.
func.func @bias_elu1(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x1x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' cannot apply to #attn.score<kernel<elu1>>: that feature map never forms the score q.k that a bias adds to}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x1x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<elu1>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @bias_relu(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %b: tensor<1x4x8x12xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'bias' cannot apply to #attn.score<kernel<relu>>: that feature map never forms the score q.k that a bias adds to}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) bias(%b : tensor<1x4x8x12xf32>) outs(%init : tensor<1x4x8x8xf32>) {score = #attn.score<kernel<relu>, normalize = false>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @softcap_elu1(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'softcap' cannot apply to #attn.score<kernel<elu1>>: that feature map never forms the score q.k that softcap bounds}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {softcap = 5.0 : f32, score = #attn.score<kernel<elu1>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @softcap_relu(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'softcap' cannot apply to #attn.score<kernel<relu>>: that feature map never forms the score q.k that softcap bounds}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {softcap = 5.0 : f32, score = #attn.score<kernel<relu>>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: strategy attribute
//===----------------------------------------------------------------------===//

func.func @strategy_unquoted(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+2 {{expected string}}
  // expected-error @+1 {{failed to parse Attn_StrategyAttr parameter 'name'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {strategy = #attn.strategy<tiled>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @strategy_params_not_dict(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+2 {{invalid kind of attribute specified}}
  // expected-error @+1 {{failed to parse Attn_StrategyAttr parameter 'params'}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {strategy = #attn.strategy<"tiled", 64>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.neighborhood
//===----------------------------------------------------------------------===//

func.func @nb_rank_low(%q: tensor<2x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<2x8x16xf32>, %init: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  // expected-error @+1 {{'query' must have the layout [B, H, X, D], [B, H, X, Y, D] or [B, H, X, Y, Z, D], got rank 3}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>) outs(%init : tensor<2x8x16xf32>) {kernel = [3]} -> tensor<2x8x16xf32>
  return %o : tensor<2x8x16xf32>
}

// -----

// Spatial rank 4 is not supported.
func.func @nb_rank_high(%q: tensor<1x2x4x4x4x4x16xf32>, %k: tensor<1x2x4x4x4x4x16xf32>, %v: tensor<1x2x4x4x4x4x16xf32>, %init: tensor<1x2x4x4x4x4x16xf32>) -> tensor<1x2x4x4x4x4x16xf32> {
  // expected-error @+1 {{'query' must have the layout [B, H, X, D], [B, H, X, Y, D] or [B, H, X, Y, Z, D], got rank 7}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x4x4x4x4x16xf32>, tensor<1x2x4x4x4x4x16xf32>, tensor<1x2x4x4x4x4x16xf32>) outs(%init : tensor<1x2x4x4x4x4x16xf32>) {kernel = [3, 3, 3, 3]} -> tensor<1x2x4x4x4x4x16xf32>
  return %o : tensor<1x2x4x4x4x4x16xf32>
}

// -----

func.func @nb_rank_mismatch(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'key' rank 4 must match 'query' rank 5}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_int(%q: tensor<1x2x8x8x16xi8>, %k: tensor<1x2x8x8x16xi8>, %v: tensor<1x2x8x8x16xi8>, %init: tensor<1x2x8x8x16xi8>) -> tensor<1x2x8x8x16xi8> {
  // expected-error @+1 {{'query' element type must be f32, f16 or bf16, got 'i8'}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xi8>, tensor<1x2x8x8x16xi8>, tensor<1x2x8x8x16xi8>) outs(%init : tensor<1x2x8x8x16xi8>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xi8>
  return %o : tensor<1x2x8x8x16xi8>
}

// -----

func.func @nb_value_type(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf16>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'value' element type 'f16' must match 'query' element type 'f32'}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf16>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_dynamic_heads(%q: tensor<1x?x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x?x8x8x16xf32>, %init: tensor<1x?x8x8x16xf32>) -> tensor<1x?x8x8x16xf32> {
  // expected-error @+1 {{'query' head count (dimension 1) must be static}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x?x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x?x8x8x16xf32>) outs(%init : tensor<1x?x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x?x8x8x16xf32>
  return %o : tensor<1x?x8x8x16xf32>
}

// -----

func.func @nb_key_spatial(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x9x16xf32>, %v: tensor<1x2x8x9x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'key' spatial dimension 3 (9) must match 'query' (8)}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x9x16xf32>, tensor<1x2x8x9x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_value_spatial(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x6x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'value' dimension 2 (6) must match 'key' dimension 2 (8)}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x6x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_init_spatial(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x7x16xf32>) -> tensor<1x2x8x7x16xf32> {
  // expected-error @+1 {{'init' dimension 3 is 7 but must be 8 (layout [B, H, X, D], [B, H, X, Y, D] or [B, H, X, Y, Z, D] with 'value' head dimension)}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x7x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x7x16xf32>
  return %o : tensor<1x2x8x7x16xf32>
}

// -----

func.func @nb_missing_kernel(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{requires attribute 'kernel'}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {dilation = [1, 1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_length(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'kernel' has 1 entries but the input has 2 spatial axes}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_length_3d(%q: tensor<1x2x4x4x4x8xf32>, %k: tensor<1x2x4x4x4x8xf32>, %v: tensor<1x2x4x4x4x8xf32>, %init: tensor<1x2x4x4x4x8xf32>) -> tensor<1x2x4x4x4x8xf32> {
  // expected-error @+1 {{'kernel' has 2 entries but the input has 3 spatial axes}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x4x4x4x8xf32>, tensor<1x2x4x4x4x8xf32>, tensor<1x2x4x4x4x8xf32>) outs(%init : tensor<1x2x4x4x4x8xf32>) {kernel = [3, 3]} -> tensor<1x2x4x4x4x8xf32>
  return %o : tensor<1x2x4x4x4x8xf32>
}

// -----

func.func @nb_dilation_length(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'dilation' has 3 entries but the input has 2 spatial axes}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], dilation = [1, 1, 1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_causal_length(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'causal' has 1 entries but the input has 2 spatial axes}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], causal = [true]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_stride_length(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'stride' has 1 entries but the input has 2 spatial axes}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], stride = [1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_zero(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'kernel' entry 1 must be at least 1, got 0}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 0]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_negative(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'kernel' entry 0 must be at least 1, got -3}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [-3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_dilation_zero(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'dilation' entry 0 must be at least 1, got 0}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], dilation = [0, 1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_stride_zero(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'stride' entry 1 must be between 1 and the kernel size 3, got 0}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], stride = [1, 0]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_stride_above_kernel(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'stride' entry 0 must be between 1 and the kernel size 3, got 4}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], stride = [4, 1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_extent(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{kernel * dilation on axis 1 is 9 * 1 = 9, larger than the spatial extent 8 (rule kernel * dilation <= extent)}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 9]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_dilation_extent(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{kernel * dilation on axis 0 is 3 * 3 = 9, larger than the spatial extent 8 (rule kernel * dilation <= extent)}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], dilation = [3, 2]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_kernel_extent_1d(%q: tensor<1x2x7x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x16xf32>, %init: tensor<1x2x7x16xf32>) -> tensor<1x2x7x16xf32> {
  // expected-error @+1 {{kernel * dilation on axis 0 is 4 * 2 = 8, larger than the spatial extent 7 (rule kernel * dilation <= extent)}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) outs(%init : tensor<1x2x7x16xf32>) {kernel = [4], dilation = [2]} -> tensor<1x2x7x16xf32>
  return %o : tensor<1x2x7x16xf32>
}

// -----

func.func @nb_scale_nan(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'scale' must be finite}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], scale = 0x7FC00000 : f32} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

func.func @nb_causal_ints(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{attribute 'causal' failed to satisfy constraint: 1-bit boolean array attribute}}
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], causal = [1, 0]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

// Sizes beyond 2^31 - 1: the kernels index positions with 32-bit integers
// (and int64 products of such sizes overflowed in cost models).
func.func @length_beyond_i32(%q: tensor<1x2x2147483648x16xf32>, %init: tensor<1x2x2147483648x16xf32>) -> tensor<1x2x2147483648x16xf32> {
  // expected-error @+1 {{'query' dimension 2 is 2147483648, more than 2147483647 (rule: a static size fits a 32-bit position index)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x2147483648x16xf32>, tensor<1x2x2147483648x16xf32>, tensor<1x2x2147483648x16xf32>) outs(%init : tensor<1x2x2147483648x16xf32>) -> tensor<1x2x2147483648x16xf32>
  return %o : tensor<1x2x2147483648x16xf32>
}

// -----

func.func @value_dim_beyond_i32(%q: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x2147483648xf32>, %init: tensor<1x2x?x2147483648xf32>) -> tensor<1x2x?x2147483648xf32> {
  // expected-error @+1 {{'value' dimension 3 is 2147483648, more than 2147483647}}
  %o = attn.attention ins(%q, %q, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x2147483648xf32>) outs(%init : tensor<1x2x?x2147483648xf32>) -> tensor<1x2x?x2147483648xf32>
  return %o : tensor<1x2x?x2147483648xf32>
}

// -----

func.func @sinks_beyond_i32(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{'sinks' is 9223372036854775807, more than 2147483647 (rule: a position fits a 32-bit index)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) outs(%init : tensor<1x4x8x16xf32>) {window = #attn.window<left = 1>, sinks = 9223372036854775807 : i64} -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @window_beyond_i32(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{#attn.window 'right' is 2147483648, more than 2147483647 (rule: a position fits a 32-bit index)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) outs(%init : tensor<1x4x8x16xf32>) {window = #attn.window<left = 1, right = 2147483648>} -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// kernel * dilation overflowed int64 in this check (UBSan).
func.func @nb_span_overflow(%q: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{the window spans more than 2147483647 positions up to axis 0 (rule: the product of kernel * dilation over the axes fits a 32-bit position index)}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [4611686018427387904, 3], dilation = [4, 1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

// Dynamic extents: the span of the window over all axes is bounded too.
func.func @nb_span_dynamic(%q: tensor<1x2x?x?x?x16xf32>, %init: tensor<1x2x?x?x?x16xf32>) -> tensor<1x2x?x?x?x16xf32> {
  // expected-error @+1 {{the window spans more than 2147483647 positions up to axis 2}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x?x?x?x16xf32>, tensor<1x2x?x?x?x16xf32>, tensor<1x2x?x?x?x16xf32>) outs(%init : tensor<1x2x?x?x?x16xf32>) {kernel = [1291, 1291, 1291]} -> tensor<1x2x?x?x?x16xf32>
  return %o : tensor<1x2x?x?x?x16xf32>
}

// -----

func.func @nb_grid_beyond_i32(%q: tensor<1x1x65536x65536x16xf32>, %init: tensor<1x1x65536x65536x16xf32>) -> tensor<1x1x65536x65536x16xf32> {
  // expected-error @+1 {{the spatial grid of 'query' has more than 2147483647 positions (rule: a flattened position fits a 32-bit index)}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x1x65536x65536x16xf32>, tensor<1x1x65536x65536x16xf32>, tensor<1x1x65536x65536x16xf32>) outs(%init : tensor<1x1x65536x65536x16xf32>) {kernel = [3, 3]} -> tensor<1x1x65536x65536x16xf32>
  return %o : tensor<1x1x65536x65536x16xf32>
}

// -----

// expected-error @+1 {{#attn.target kind = "tpu" is not a target: expected "cpu" or "gpu"}}
module attributes {attn.target = #attn.target<kind = "tpu">} {
}

// -----

// expected-error @+1 {{#attn.target threads = 0 is out of range: it must be from 1 to 65536}}
module attributes {attn.target = #attn.target<kind = "cpu", threads = 0>} {
}

// -----

// expected-error @+1 {{#attn.target vector_width = 100 is not a SIMD width the kernels are built for: it must be 128, 256 or 512}}
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 100>} {
}

// -----

// expected-error @+1 {{#attn.target l2_bytes = 0 is out of range: it must be at least 1}}
module attributes {attn.target = #attn.target<kind = "cpu", l2_bytes = 0>} {
}

// -----

// expected-error @+1 {{#attn.target tensor_cores applies to kind "gpu", not "cpu"}}
module attributes {attn.target = #attn.target<kind = "cpu", tensor_cores = true>} {
}

// -----

// expected-error @+1 {{#attn.target shared_memory applies to kind "gpu", not "cpu"}}
module attributes {attn.target = #attn.target<kind = "cpu", shared_memory = 4096>} {
}

// -----

// expected-error @+1 {{#attn.target bf16_dot applies to kind "cpu", not "gpu"}}
module attributes {attn.target = #attn.target<kind = "gpu", bf16_dot = true>} {
}
