// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of the row statistics of attn.attention
// (return_lse, return_entropy), of attn.finalize's lse and of
// attn.merge_states (AttnOps.cpp).

func.func @lse_flag_without_result(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{has 0 results after the output but its flags ask for 1 (one per return_lse and return_entropy)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q : tensor<1x2x4x8xf32>) {return_lse} -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @result_without_flag(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{has 1 results after the output but its flags ask for 0}}
  %o:2 = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @lse_shape(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'lse' result must be tensor<1x2x4xf32> ([B, Hq, Lq] of 'query'), got 'tensor<1x2x5xf32>'}}
  %o:2 = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q : tensor<1x2x4x8xf32>) {return_lse} -> tensor<1x2x4x8xf32>, tensor<1x2x5xf32>
  return
}

// -----

func.func @entropy_type(%q: tensor<1x2x4x8xf16>) {
  // expected-error @+1 {{'entropy' result must be tensor<1x2x4xf32> ([B, Hq, Lq] of 'query'), got 'tensor<1x2x4xf16>'}}
  %o:3 = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>)
      outs(%q : tensor<1x2x4x8xf16>) {return_lse, return_entropy}
      -> tensor<1x2x4x8xf16>, tensor<1x2x4xf32>, tensor<1x2x4xf16>
  return
}

// -----

func.func @lse_of_kernel_score(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'return_lse' needs #attn.score<softmax>: the log-sum-exp is of exp(s), got #attn.score<kernel<elu1>>}}
  %o:2 = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q : tensor<1x2x4x8xf32>) {return_lse, score = #attn.score<kernel<elu1>>}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @entropy_unnormalized(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{'return_entropy' needs a score that normalizes (its weights are a distribution), got #attn.score<kernel<elu1>, normalize = false>}}
  %o:2 = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q : tensor<1x2x4x8xf32>) {return_entropy, score = #attn.score<kernel<elu1>, normalize = false>}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @finalize_lse_without_max(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>) {
  // expected-error @+1 {{'lse' needs the state's 'max': LSE = ln 2 (max + log2 sum)}}
  %o:2 = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) lse(%l : tensor<1x2x4xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @finalize_lse_type(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %bad: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'lse' init must have the type of 'sum' 'tensor<1x2x4xf32>', got 'tensor<1x2x5xf32>'}}
  %o:2 = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) max(%l : tensor<1x2x4xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) lse(%bad : tensor<1x2x5xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x5xf32>
  return
}

// -----

func.func @finalize_sinks_without_max(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %sl: tensor<2xf32>) {
  // expected-error @+1 {{'sink_logits' need the state's 'max': the sink's weight is 2^(sl log2(e) - max)}}
  %o = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) sink_logits(%sl : tensor<2xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @merge_odd_operands(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{'ins' must hold pairs (O_k, LSE_k) of at least one state, got 3 operands}}
  %r:2 = attn.merge_states ins(%o, %l, %o : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4x8xf32>)
      outs(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_output_shape(%o: tensor<2x4x8xf32>, %o2: tensor<2x4x9xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{state 1: O must have the shape of the output init 'tensor<2x4x8xf32>' and element type f32, f16 or bf16, got 'tensor<2x4x9xf32>'}}
  %r:2 = attn.merge_states ins(%o, %l, %o2, %l : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4x9xf32>, tensor<2x4xf32>)
      outs(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_lse_shape(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>, %bad: tensor<2x4x8xf32>) {
  // expected-error @+1 {{state 0: LSE must be tensor<2x4xf32> (O's shape without its last dimension), got 'tensor<2x4x8xf32>'}}
  %r:2 = attn.merge_states ins(%o, %bad : tensor<2x4x8xf32>, tensor<2x4x8xf32>)
      outs(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_lse_f16(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>, %h: tensor<2x4xf16>) {
  // expected-error @+1 {{LSE init must be tensor<2x4xf32> (the output's shape without its last dimension), got 'tensor<2x4xf16>'}}
  %r:2 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      outs(%o, %h : tensor<2x4x8xf32>, tensor<2x4xf16>) -> tensor<2x4x8xf32>, tensor<2x4xf16>
  return
}

// -----

func.func @merge_result(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{result types 'tensor<2x4x8xf16>', 'tensor<2x4xf32>' must match the inits 'tensor<2x4x8xf32>', 'tensor<2x4xf32>'}}
  %r:2 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      outs(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf16>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_entropy_count(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{'entropy' must hold one entropy per state (2), got 1}}
  %r:3 = attn.merge_states ins(%o, %l, %o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4x8xf32>, tensor<2x4xf32>)
      entropy(%l : tensor<2x4xf32>)
      outs(%o, %l, %l : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_entropy_without_init(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{'entropy' of the states needs an entropy init (a third 'outs' operand)}}
  %r:2 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      entropy(%l : tensor<2x4xf32>)
      outs(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_entropy_init_alone(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{an entropy init (a third 'outs' operand) needs the states' 'entropy'}}
  %r:3 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      outs(%o, %l, %l : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_entropy_shape(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>, %bad: tensor<2x5xf32>) {
  // expected-error @+1 {{state 0: entropy must be tensor<2x4xf32> (O's shape without its last dimension), got 'tensor<2x5xf32>'}}
  %r:3 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      entropy(%bad : tensor<2x5xf32>)
      outs(%o, %l, %l : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @merge_entropy_init_type(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>, %h: tensor<2x4xf16>) {
  // expected-error @+1 {{entropy init must be tensor<2x4xf32> (the output's shape without its last dimension), got 'tensor<2x4xf16>'}}
  %r:3 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      entropy(%l : tensor<2x4xf32>)
      outs(%o, %l, %h : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf16>) -> tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf16>
  return
}

// -----

func.func @merge_entropy_result(%o: tensor<2x4x8xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{entropy result type 'tensor<2x4xf16>' must match its init 'tensor<2x4xf32>'}}
  %r:3 = attn.merge_states ins(%o, %l : tensor<2x4x8xf32>, tensor<2x4xf32>)
      entropy(%l : tensor<2x4xf32>)
      outs(%o, %l, %l : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2x4xf16>
  return
}

// -----

func.func @finalize_lse_without_result(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>) {
  // expected-error @+1 {{has 0 results after the output but 1 inits for them (lse, entropy)}}
  %o = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) max(%l : tensor<1x2x4xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) lse(%l : tensor<1x2x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @finalize_entropy_unnormalized(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>) {
  // expected-error @+1 {{'entropy' needs a score that normalizes, got #attn.score<kernel<elu1>, normalize = false>}}
  %o:2 = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) max(%l : tensor<1x2x4xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) entropy(%l, %l : tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {score = #attn.score<kernel<elu1>, normalize = false>} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @finalize_entropy_type(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %t: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'entropy' state and init must have the type of 'sum' 'tensor<1x2x4xf32>', got 'tensor<1x2x5xf32>', 'tensor<1x2x4xf32>'}}
  %o:2 = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) max(%l : tensor<1x2x4xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) entropy(%t, %l : tensor<1x2x5xf32>, tensor<1x2x4xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return
}

// -----

func.func @tile_entropy_type(%q: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %t: tensor<1x2x4xf16>, %i: index) {
  // expected-error @+1 {{'entropy' state and result must have the type of 'sum' 'tensor<1x2x4xf32>', got 'tensor<1x2x4xf16>', 'tensor<1x2x4xf16>'}}
  %a:4 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%q, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) entropy(%t : tensor<1x2x4xf16>)
      {scale = 1.0 : f32} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf16>
  return
}

// -----

func.func @tile_entropy_unnormalized(%q: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) {
  // expected-error @+1 {{'entropy' needs a score that normalizes, got #attn.score<kernel<identity>, normalize = false>}}
  %a:4 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%q, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) entropy(%m : tensor<1x2x4xf32>)
      {scale = 1.0 : f32, score = #attn.score<kernel<identity>, normalize = false>} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return
}
