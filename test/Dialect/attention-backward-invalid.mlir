// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attn.attention_backward (AttnOps.cpp) that
// it does not share with attn.attention.

func.func @grad_output_type(%q: tensor<1x2x4x8xf32>, %do: tensor<1x2x4x4xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{'grad_output' type 'tensor<1x2x4x4xf32>' must match 'output' type 'tensor<1x2x4x8xf32>'}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %do, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @output_shape(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x5x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{'output' dimension 2 is 5 but must be 4}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %o, %o, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @lse_shape(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'lse' must be tensor<1x2x4xf32> ([B, Hq, Lq] of 'query', the forward op's return_lse result), got 'tensor<1x2x5xf32>'}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x5xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @kernel_score_with_lse(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{takes no 'lse' with the score #attn.score<kernel<elu1>>: it forms each row's normalizer again; end 'ins' at 'grad_output'}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {score = #attn.score<kernel<elu1>>}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @softmax_without_lse(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{needs 'lse' (the forward op's return_lse result) after 'grad_output' with the score #attn.score<softmax>}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @softplus_with_lse(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{takes no 'lse' with the score #attn.score<softplus>: it forms each row's normalizer again; end 'ins' at 'grad_output'}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {score = #attn.score<softplus>}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @four_inputs(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expected 5 inputs (query, key, value, output, grad_output) or 6 (then lse), got 4}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {score = #attn.score<kernel<elu1>>}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @input_types_count(%q: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{expected 5 input types, got 4}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {score = #attn.score<kernel<elu1>>}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @missing_bias_gradient(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>, %bias: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{has 3 inits and 3 results but differentiates 4 operands (query, key, value, then bias and sink_logits when present): one of each per operand}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      bias(%bias : tensor<1x1x4x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @gradient_type(%q: tensor<1x2x4x8xf32>, %k: tensor<1x1x4x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{init 1 (the gradient of 'key') must have its type 'tensor<1x1x4x8xf32>', got 'tensor<1x2x4x8xf32>'}}
  %g:3 = attn.attention_backward ins(%q, %k, %k, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %k : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>
  return
}

// -----

func.func @result_type(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{result 2 (the gradient of 'value') must have its type 'tensor<1x2x4x8xf32>', got 'tensor<1x2x4x8xf16>'}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf16>
  return
}

// -----

func.func @not_differentiable(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{cannot differentiate 'score_mod': 'math.floor' reads the score and has no derivative rule}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %f = math.floor %s : f32
      attn.yield %f : f32
    }
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}

// -----

func.func @not_differentiable_integer(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>) {
  // expected-error @+1 {{cannot differentiate 'score_mod': 'arith.fptosi' reads the score and has no derivative rule}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %n = arith.fptosi %s : f32 to i32
      %f = arith.sitofp %n : i32 to f32
      attn.yield %f : f32
    }
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return
}
