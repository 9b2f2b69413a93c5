// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attn.neighborhood's return_lse and of
// attn.neighborhood_backward (AttnOps.cpp) that they do not share with
// attn.neighborhood.

func.func @lse_without_flag(%q: tensor<1x2x6x8xf32>) {
  // expected-error @+1 {{has 1 results after the output but 'return_lse' asks for 0}}
  %o, %lse = attn.neighborhood ins(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
      outs(%q : tensor<1x2x6x8xf32>) {kernel = [3]} -> tensor<1x2x6x8xf32>, tensor<1x2x6xf32>
  return
}

// -----

func.func @lse_shape(%q: tensor<1x2x6x8xf32>) {
  // expected-error @+1 {{'lse' result must be tensor<1x2x6xf32> ('query' without its last dimension), got 'tensor<1x2x6x8xf32>'}}
  %o, %lse = attn.neighborhood ins(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
      outs(%q : tensor<1x2x6x8xf32>) {kernel = [3], return_lse} -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
  return
}

// -----

func.func @backward_lse_shape(%q: tensor<1x2x6x8xf32>, %lse: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'lse' must be tensor<1x2x6xf32> ('query' without its last dimension, the forward op's return_lse result), got 'tensor<1x2x5xf32>'}}
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x5xf32>)
      outs(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) {kernel = [3]}
      -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
  return
}

// -----

func.func @backward_grad_output(%q: tensor<1x2x6x8xf32>, %do: tensor<1x2x6x4xf32>, %lse: tensor<1x2x6xf32>) {
  // expected-error @+1 {{'grad_output' type 'tensor<1x2x6x4xf32>' must match 'output' type 'tensor<1x2x6x8xf32>'}}
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %do, %lse : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6xf32>)
      outs(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) {kernel = [3]}
      -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
  return
}

// -----

func.func @backward_gradient_count(%q: tensor<1x2x6x8xf32>, %lse: tensor<1x2x6xf32>) {
  // expected-error @+1 {{has 2 inits and 2 results but differentiates 3 operands (query, key, value): one of each per operand}}
  %g:2 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6xf32>)
      outs(%q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) {kernel = [3]}
      -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
  return
}

// -----

func.func @backward_gradient_type(%q: tensor<1x2x6x8xf32>, %h: tensor<1x2x6x8xf16>, %lse: tensor<1x2x6xf32>) {
  // expected-error @+1 {{result 2 (the gradient of 'value') must have its type 'tensor<1x2x6x8xf32>', got 'tensor<1x2x6x8xf16>'}}
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6xf32>)
      outs(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) {kernel = [3]}
      -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf16>
  return
}

// -----

// The rule's checks are the forward's.
func.func @backward_kernel_too_large(%q: tensor<1x2x6x8xf32>, %lse: tensor<1x2x6xf32>) {
  // expected-error @+1 {{kernel * dilation on axis 0 is 4 * 2 = 8, larger than the spatial extent 6 (rule kernel * dilation <= extent)}}
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6xf32>)
      outs(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) {kernel = [4], dilation = [2]}
      -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
  return
}

// -----

func.func @backward_floor(%q: tensor<1x2x6x8xf32>, %lse: tensor<1x2x6xf32>) {
  // expected-error @+1 {{cannot differentiate 'score_mod': 'math.floor' reads the score and has no derivative rule}}
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6xf32>)
      outs(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) {kernel = [3]}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qx: index, %kx: index):
      %f = math.floor %s : f32
      attn.yield %f : f32
    }
      -> tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>
  return
}
