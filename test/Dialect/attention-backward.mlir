// RUN: attn-opt %s | attn-opt | FileCheck %s

// attn.attention_backward round-trips: the plain form, and every optional
// operand, attribute and region (gradients of bias and sink logits follow
// dQ, dK and dV).

// CHECK-LABEL: func.func @plain
// CHECK: attn.attention_backward ins(%{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {causal} -> tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
func.func @plain(%q: tensor<1x4x5x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x4x5x8xf32>, %lse: tensor<1x4x5xf32>)
    -> (tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %k, %o, %o, %lse : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5xf32>)
      outs(%q, %k, %k : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {causal}
      -> tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// A kernel score has no LSE: five inputs.
// CHECK-LABEL: func.func @kernel_score
// CHECK: attn.attention_backward ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {causal, score = #attn.score<kernel<taylor2>, normalize = false>} -> tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
func.func @kernel_score(%q: tensor<1x4x5x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x4x5x8xf32>)
    -> (tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %k, %o, %o : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>)
      outs(%q, %k, %k : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {causal, score = #attn.score<kernel<taylor2>, normalize = false>}
      -> tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// Softplus forms its rows' normalizers again too: five inputs.
// CHECK-LABEL: func.func @softplus
// CHECK: attn.attention_backward ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {causal, score = #attn.score<softplus>} -> tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
func.func @softplus(%q: tensor<1x4x5x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x4x5x8xf32>)
    -> (tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %k, %o, %o : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>)
      outs(%q, %k, %k : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {causal, score = #attn.score<softplus>}
      -> tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// CHECK-LABEL: func.func @everything
// CHECK: attn.attention_backward ins({{.*}}) mask(%{{.*}} : tensor<1x1x5x5xi1>) bias(%{{.*}} : tensor<1x2x5x5xf32>) sink_logits(%{{.*}} : tensor<2xf32>) outs({{.*}} : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x5xf32>, tensor<2xf32>) {scale = 5.000000e-01 : f32, sinks = 1 : i64, softcap = 2.000000e+01 : f32, window = #attn.window<left = 2, right = 0>} score_mod {
// CHECK: math.tanh
// CHECK: } mask_mod {
// CHECK: -> tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x5xf32>, tensor<2xf32>
func.func @everything(%q: tensor<1x2x5x8xf32>, %lse: tensor<1x2x5xf32>, %m: tensor<1x1x5x5xi1>,
                      %bias: tensor<1x2x5x5xf32>, %sl: tensor<2xf32>)
    -> (tensor<1x2x5x5xf32>, tensor<2xf32>) {
  %g:5 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5xf32>)
      mask(%m : tensor<1x1x5x5xi1>) bias(%bias : tensor<1x2x5x5xf32>) sink_logits(%sl : tensor<2xf32>)
      outs(%q, %q, %q, %bias, %sl : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x5xf32>, tensor<2xf32>)
      {scale = 0.5 : f32, window = #attn.window<left = 2, right = 0>, sinks = 1 : i64, softcap = 20.0 : f32}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %t = math.tanh %s : f32
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    }
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %ok = arith.cmpi ule, %j, %i : index
      attn.yield %ok : i1
    }
      -> tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x5xf32>, tensor<2xf32>
  return %g#3, %g#4 : tensor<1x2x5x5xf32>, tensor<2xf32>
}

// Ops that do not read the score need no derivative (a floor of a table
// entry).
// CHECK-LABEL: func.func @table_floor
// CHECK: math.floor
func.func @table_floor(%q: tensor<1x2x4x8xf32>, %lse: tensor<1x2x4xf32>, %t: tensor<4xf32>) -> tensor<1x2x4x8xf32> {
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      outs(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %e = tensor.extract %t[%j] : tensor<4xf32>
      %f = math.floor %e : f32
      %r = arith.addf %s, %f : f32
      attn.yield %r : f32
    }
      -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  return %g#0 : tensor<1x2x4x8xf32>
}
