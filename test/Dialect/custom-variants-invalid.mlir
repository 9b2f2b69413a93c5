// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of the custom variants: the score_mod and
// mask_mod regions (their block arguments, yields and purity, and the
// kernel-score rule) and the sink_logits operand.

func.func @score_mod_arguments(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'score_mod' block must take (s: f32, b, h, i, j: index), got (f32, index, index, index)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index):
      attn.yield %s : f32
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @score_mod_argument_type(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'score_mod' block must take (s: f32, b, h, i, j: index), got (f16, index, index, index, index)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    score_mod {
    ^bb0(%s: f16, %b: index, %h: index, %i: index, %j: index):
      %c = arith.constant 0.0 : f32
      attn.yield %c : f32
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @score_mod_yield(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'score_mod' must yield 'f32', got 'i1'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %t = arith.constant true
      attn.yield %t : i1
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @mask_mod_arguments(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'mask_mod' block must take (b, h, i, j: index), got (f32, index, index, index, index)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    mask_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %t = arith.constant true
      attn.yield %t : i1
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @mask_mod_yield(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'mask_mod' must yield 'i1', got 'index'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      attn.yield %j : index
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @mask_mod_blocks(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'mask_mod' must have one block}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %t = arith.constant true
      cf.br ^bb1
    ^bb1:
      attn.yield %t : i1
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @impure_op(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>, %table: memref<8xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'score_mod' may hold only pure arith, math and index ops and tensor.extract, got 'memref.load'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %t = memref.load %table[%i] : memref<8xf32>
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @division_may_trap(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'mask_mod' may hold only pure arith, math and index ops and tensor.extract, got 'arith.divui'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %d = arith.divui %i, %j : index
      %c = arith.constant 2 : index
      %ok = arith.cmpi ult, %d, %c : index
      attn.yield %ok : i1
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @tensor_result(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'score_mod' computes scalars only: 'arith.constant' makes 'tensor<2xf32>'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %t = arith.constant dense<1.0> : tensor<2xf32>
      %c = arith.constant 0 : index
      %x = tensor.extract %t[%c] : tensor<2xf32>
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @score_mod_feature_map(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'score_mod' cannot apply to #attn.score<kernel<elu1>>: that feature map never forms the score q.k it rewrites}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>) {score = #attn.score<kernel<elu1>>}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      attn.yield %s : f32
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @neighborhood_score_mod_arguments(%q: tensor<1x2x6x7x8xf32>) -> tensor<1x2x6x7x8xf32> {
  %init = tensor.empty() : tensor<1x2x6x7x8xf32>
  // expected-error @+1 {{'score_mod' block must take (s: f32, b, h, qx, qy, kx, ky: index), got (f32, index, index, index, index)}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x6x7x8xf32>, tensor<1x2x6x7x8xf32>, tensor<1x2x6x7x8xf32>) outs(%init : tensor<1x2x6x7x8xf32>) {kernel = [3, 3]}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      attn.yield %s : f32
    } -> tensor<1x2x6x7x8xf32>
  return %o : tensor<1x2x6x7x8xf32>
}

// -----

func.func @neighborhood_mask_mod_arguments(%q: tensor<1x2x9x8xf32>) -> tensor<1x2x9x8xf32> {
  %init = tensor.empty() : tensor<1x2x9x8xf32>
  // expected-error @+1 {{'mask_mod' block must take (b, h, qx, kx: index), got (index, index, index)}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>) outs(%init : tensor<1x2x9x8xf32>) {kernel = [3]}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index):
      %t = arith.constant true
      attn.yield %t : i1
    } -> tensor<1x2x9x8xf32>
  return %o : tensor<1x2x9x8xf32>
}

// -----

func.func @yield_outside(%x: f32) {
  // expected-error @+1 {{'attn.yield' op expects parent op to be one of 'attn.attention, attn.attention_backward, attn.neighborhood, attn.neighborhood_backward, attn.online_attention'}}
  attn.yield %x : f32
}

// -----

func.func @sink_logits_shape(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>, %sl: tensor<4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'sink_logits' must be tensor<2xf32> (one logit per query head), got 'tensor<4xf32>'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) sink_logits(%sl : tensor<4xf32>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @sink_logits_type(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>, %sl: tensor<2xf16>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'sink_logits' must be tensor<2xf32> (one logit per query head), got 'tensor<2xf16>'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) sink_logits(%sl : tensor<2xf16>) outs(%init : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @sink_logits_score(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>, %sl: tensor<2xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'sink_logits' need #attn.score<softmax>: a sink logit enters the normalization as exp(sink), got #attn.score<softplus>}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) sink_logits(%sl : tensor<2xf32>) outs(%init : tensor<1x2x8x4xf32>) {score = #attn.score<softplus>} -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @mask_mod_terminator(%q: tensor<1x2x8x4xf32>, %init: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'mask_mod' must end in attn.yield}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>)
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      llvm.unreachable
    } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
