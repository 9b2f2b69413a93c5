// RUN: attn-opt %s | attn-opt | FileCheck %s

// The forms of attention state round-trip: the row statistics of
// attn.attention, the entropy part of the tile op's state, attn.finalize's
// statistics and attn.merge_states.

// CHECK-LABEL: func.func @statistics
// CHECK: attn.attention {{.*}} {causal, return_entropy, return_lse} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
func.func @statistics(%q: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
  %o:3 = attn.attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      outs(%q : tensor<1x2x4x8xf32>) {causal, return_lse, return_entropy}
      -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return %o#0, %o#1, %o#2 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
}

// CHECK-LABEL: func.func @tile_and_finalize
// CHECK: attn.online_attention {{.*}} entropy(%{{.*}} : tensor<1x2x4xf32>) {scale = 1.000000e+00 : f32} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
// CHECK: attn.finalize ins({{.*}}) max(%{{.*}} : tensor<1x2x4xf32>) outs(%{{.*}} : tensor<1x2x4x8xf32>) lse(%{{.*}} : tensor<1x2x4xf32>) entropy(%{{.*}}, %{{.*}} : tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
func.func @tile_and_finalize(%q: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
  %s:4 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%q, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) entropy(%m : tensor<1x2x4xf32>)
      {scale = 1.0 : f32} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  %o:3 = attn.finalize ins(%s#0, %s#2 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) max(%s#1 : tensor<1x2x4xf32>)
      outs(%q : tensor<1x2x4x8xf32>) lse(%m : tensor<1x2x4xf32>) entropy(%s#3, %m : tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return %o#0, %o#1, %o#2 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
}

// CHECK-LABEL: func.func @merge
// CHECK: attn.merge_states ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xbf16>, tensor<3xf32>, tensor<3x8xbf16>, tensor<3xf32>) outs(%{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<3xf32>) -> tensor<3x8xf32>, tensor<3xf32>
func.func @merge(%o: tensor<3x8xbf16>, %l: tensor<3xf32>, %oi: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3xf32>) {
  %r:2 = attn.merge_states ins(%o, %l, %o, %l : tensor<3x8xbf16>, tensor<3xf32>, tensor<3x8xbf16>, tensor<3xf32>)
      outs(%oi, %l : tensor<3x8xf32>, tensor<3xf32>) -> tensor<3x8xf32>, tensor<3xf32>
  return %r#0, %r#1 : tensor<3x8xf32>, tensor<3xf32>
}

// With the states' entropies: a third init and result.
// CHECK-LABEL: func.func @merge_entropy
// CHECK: attn.merge_states ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<3xf32>, tensor<3x8xf32>, tensor<3xf32>) entropy(%{{.*}}, %{{.*}} : tensor<3xf32>, tensor<3xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>
func.func @merge_entropy(%o: tensor<3x8xf32>, %l: tensor<3xf32>, %h: tensor<3xf32>) -> (tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>) {
  %r:3 = attn.merge_states ins(%o, %l, %o, %l : tensor<3x8xf32>, tensor<3xf32>, tensor<3x8xf32>, tensor<3xf32>)
      entropy(%h, %h : tensor<3xf32>, tensor<3xf32>)
      outs(%o, %l, %h : tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>
  return %r#0, %r#1, %r#2 : tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>
}
