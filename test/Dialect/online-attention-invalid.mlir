// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attn.online_attention (AttnOps.cpp) that
// attn.attention does not share.

func.func @state_type(%q: tensor<1x2x4x8xf16>, %acc: tensor<1x2x4x8xf16>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{'acc' must be f32 of shape [1, 2, 4, 8], got 'tensor<1x2x4x8xf16>'}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf16>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 1.0 : f32} -> tensor<1x2x4x8xf16>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @max_shape(%q: tensor<1x2x4x8xf32>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x5xf32>, %l: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{'max' must be f32 of shape [1, 2, 4], got 'tensor<1x2x5xf32>'}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %l : tensor<1x2x4x8xf32>, tensor<1x2x5xf32>, tensor<1x2x4xf32>)
      {scale = 1.0 : f32} -> tensor<1x2x4x8xf32>, tensor<1x2x5xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @result_type(%q: tensor<1x2x4x8xf32>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{result 'sum' type 'tensor<1x2x?xf32>' must match its init 'tensor<1x2x4xf32>'}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 1.0 : f32} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x?xf32>
  return
}

// -----

func.func @heads(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>, %acc: tensor<1x3x4x8xf32>, %m: tensor<1x3x4xf32>, %i: index) {
  // expected-error @+1 {{'query' heads 3, 'key' heads 2 and 'value' heads 2 break the grouped-query rule (Hk = Hv, Hq % Hk == 0)}}
  %a:3 = attn.online_attention ins(%q, %k, %k : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x3x4x8xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>)
      {scale = 1.0 : f32} -> tensor<1x3x4x8xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  return
}

// -----

// A feature-product score takes no softcap on the tile op either.
func.func @feature_map_softcap(%q: tensor<1x2x4x8xf32>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{'softcap' cannot apply to #attn.score<kernel<elu1>>: that feature map never forms the score q.k that softcap bounds}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 1.0 : f32, softcap = 5.0 : f32, score = #attn.score<kernel<elu1>>} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @sinks_without_window(%q: tensor<1x2x4x8xf32>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{'sinks' only exempts keys from a 'window'; it needs a 'window' attribute}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 1.0 : f32, sinks = 4} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @mask_keys(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %mask: tensor<1x1x4x4xi1>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{'mask' dimension 3 is 4 but must be Lk = 6}}
  %a:3 = attn.online_attention ins(%q, %k, %k : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
      mask(%mask : tensor<1x1x4x4xi1>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 1.0 : f32} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @scale_required(%q: tensor<1x2x4x8xf32>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{requires attribute 'scale'}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return
}

// -----

// attn.finalize: one case per verifier rule.
func.func @finalize_acc(%acc: tensor<1x2x4x8xf16>, %l: tensor<1x2x4xf32>, %init: tensor<1x2x4x8xf16>) {
  // expected-error @+1 {{'acc' must be f32 of rank 4 [B, Hq, M, Dv], got 'tensor<1x2x4x8xf16>'}}
  %o = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf16>, tensor<1x2x4xf32>) outs(%init : tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  return
}

// -----

func.func @finalize_sum(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x5xf32>, %init: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'sum' must be f32 of shape [B, Hq, M] of 'acc' 'tensor<1x2x4x8xf32>', got 'tensor<1x2x5xf32>'}}
  %o = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x5xf32>) outs(%init : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @finalize_init(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %init: tensor<1x2x4x9xf32>) {
  // expected-error @+1 {{'init' must have the shape of 'acc' 'tensor<1x2x4x8xf32>' and element type f32, f16 or bf16, got 'tensor<1x2x4x9xf32>'}}
  %o = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%init : tensor<1x2x4x9xf32>) -> tensor<1x2x4x9xf32>
  return
}

// -----

func.func @finalize_result(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %init: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{result type 'tensor<1x2x4x8xf16>' must match 'init' 'tensor<1x2x4x8xf32>'}}
  %o = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%init : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf16>
  return
}
