// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// The custom variants of attn.attention and attn.neighborhood print and
// parse back: sink_logits, score_mod, mask_mod, each alone and together.

// CHECK-LABEL: func.func @alibi(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal} score_mod {
// CHECK-NEXT:    ^bb0(%[[S:.*]]: f32, %[[B:.*]]: index, %[[H:.*]]: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT:      %[[SLOPE:.*]] = tensor.extract %{{.*}}[%[[H]]] : tensor<8xf32>
// CHECK-NEXT:      %[[D:.*]] = arith.subi %[[J]], %[[I]] : index
// CHECK:           %[[R:.*]] = arith.addf %[[S]], %{{.*}} : f32
// CHECK-NEXT:      attn.yield %[[R]] : f32
// CHECK-NEXT:    } -> tensor<1x8x128x64xf32>
func.func @alibi(%q: tensor<1x8x128x64xf32>, %kv: tensor<1x8x128x64xf32>, %slopes: tensor<8xf32>) -> tensor<1x8x128x64xf32> {
  %init = tensor.empty() : tensor<1x8x128x64xf32>
  %o = attn.attention ins(%q, %kv, %kv : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>)
                      outs(%init : tensor<1x8x128x64xf32>) {causal}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %slope = tensor.extract %slopes[%h] : tensor<8xf32>
      %d = arith.subi %j, %i : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %t = arith.mulf %slope, %df : f32
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    } -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// CHECK-LABEL: func.func @documents_and_sinks(
// CHECK:         attn.attention ins({{.*}}) mask({{.*}}) sink_logits(%{{.*}} : tensor<8xf32>) outs({{.*}}) mask_mod {
// CHECK-NEXT:    ^bb0(%[[B:.*]]: index, %{{.*}}: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT:      %[[SI:.*]] = tensor.extract %{{.*}}[%[[B]], %[[I]]] : tensor<1x128xi32>
// CHECK-NEXT:      %[[SJ:.*]] = tensor.extract %{{.*}}[%[[B]], %[[J]]] : tensor<1x128xi32>
// CHECK-NEXT:      %[[SAME:.*]] = arith.cmpi eq, %[[SI]], %[[SJ]] : i32
// CHECK-NEXT:      attn.yield %[[SAME]] : i1
// CHECK-NEXT:    } -> tensor<1x8x128x64xf32>
func.func @documents_and_sinks(%q: tensor<1x8x128x64xf32>, %kv: tensor<1x8x128x64xf32>, %m: tensor<1x1x128x128xi1>, %seg: tensor<1x128xi32>, %sl: tensor<8xf32>) -> tensor<1x8x128x64xf32> {
  %init = tensor.empty() : tensor<1x8x128x64xf32>
  %o = attn.attention ins(%q, %kv, %kv : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>)
                      mask(%m : tensor<1x1x128x128xi1>)
                      sink_logits(%sl : tensor<8xf32>)
                      outs(%init : tensor<1x8x128x64xf32>)
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %si = tensor.extract %seg[%b, %i] : tensor<1x128xi32>
      %sj = tensor.extract %seg[%b, %j] : tensor<1x128xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    } -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// Both regions, score_mod first, on a kernel score; math and index ops.
// CHECK-LABEL: func.func @both_regions(
// CHECK:         attn.attention {{.*}} {score = #attn.score<kernel<sigmoid>, normalize = false>} score_mod {
// CHECK:           math.tanh
// CHECK:           attn.yield %{{.*}} : f32
// CHECK-NEXT:    } mask_mod {
// CHECK:           index.cmp
// CHECK:           attn.yield %{{.*}} : i1
// CHECK-NEXT:    } -> tensor<1x2x16x8xf32>
func.func @both_regions(%q: tensor<1x2x16x8xf32>, %init: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) {score = #attn.score<kernel<sigmoid>, normalize = false>}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %c = arith.constant 5.0 : f32
      %x = arith.divf %s, %c : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %c, %t : f32
      attn.yield %r : f32
    }
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %n = index.constant 4
      %ok = index.cmp ult(%j, %n)
      attn.yield %ok : i1
    } -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// NATTEN-style relative positional bias on a 2-D neighborhood: the
// query's coordinates, then the key's.
// CHECK-LABEL: func.func @neighborhood_rpb(
// CHECK:         attn.neighborhood {{.*}} {kernel = [3, 3]} score_mod {
// CHECK-NEXT:    ^bb0(%{{.*}}: f32, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index):
// CHECK:           tensor.extract %{{.*}} : tensor<2x5x5xf32>
// CHECK:         } -> tensor<1x2x6x7x8xf32>
func.func @neighborhood_rpb(%q: tensor<1x2x6x7x8xf32>, %rpb: tensor<2x5x5xf32>) -> tensor<1x2x6x7x8xf32> {
  %init = tensor.empty() : tensor<1x2x6x7x8xf32>
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x6x7x8xf32>, tensor<1x2x6x7x8xf32>, tensor<1x2x6x7x8xf32>)
                         outs(%init : tensor<1x2x6x7x8xf32>) {kernel = [3, 3]}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qx: index, %qy: index, %kx: index, %ky: index):
      %c2 = arith.constant 2 : index
      %dx = arith.subi %kx, %qx : index
      %x = arith.addi %dx, %c2 : index
      %dy = arith.subi %ky, %qy : index
      %y = arith.addi %dy, %c2 : index
      %bias = tensor.extract %rpb[%h, %x, %y] : tensor<2x5x5xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    } -> tensor<1x2x6x7x8xf32>
  return %o : tensor<1x2x6x7x8xf32>
}
