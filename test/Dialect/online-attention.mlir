// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file --mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// attn.online_attention, the tile op: every operand and attribute survives a
// round trip through the custom and the generic assembly.

// CHECK-LABEL: func.func @plain(
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = attn.online_attention ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x8xf32>) positions(%{{.*}}, %{{.*}}) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) {scale = 1.250000e-01 : f32} -> tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
func.func @plain(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x8xf32>,
                 %acc: tensor<1x8x16x8xf32>, %m: tensor<1x8x16xf32>, %l: tensor<1x8x16xf32>,
                 %qp: index, %kp: index) -> tensor<1x8x16x8xf32> {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>)
      {scale = 0.125 : f32} -> tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %a : tensor<1x8x16x8xf32>
}

// -----

// Dynamic lengths, mask and bias broadcast over heads, every rule attribute.
// CHECK-LABEL: func.func @everything(
// CHECK:         attn.online_attention ins({{.*}} : tensor<?x4x?x16xf16>, tensor<?x4x?x16xf16>, tensor<?x4x?x16xf16>) mask(%{{.*}} : tensor<1x1x?x?xi1>) bias(%{{.*}} : tensor<?x4x?x?xf32>) positions
// CHECK-SAME:    causal
// CHECK-SAME:    score = #attn.score<softplus>
// CHECK-SAME:    sinks = 2 : i64
// CHECK-SAME:    softcap = 3.000000e+01 : f32
// CHECK-SAME:    window = #attn.window<left = 8, right = 0>
func.func @everything(%q: tensor<?x4x?x16xf16>, %k: tensor<?x4x?x16xf16>, %v: tensor<?x4x?x16xf16>,
                      %mask: tensor<1x1x?x?xi1>, %bias: tensor<?x4x?x?xf32>,
                      %acc: tensor<?x4x?x16xf32>, %m: tensor<?x4x?xf32>, %l: tensor<?x4x?xf32>,
                      %qp: index, %kp: index) -> tensor<?x4x?x16xf32> {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<?x4x?x16xf16>, tensor<?x4x?x16xf16>, tensor<?x4x?x16xf16>)
      mask(%mask : tensor<1x1x?x?xi1>) bias(%bias : tensor<?x4x?x?xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<?x4x?x16xf32>, tensor<?x4x?xf32>, tensor<?x4x?xf32>)
      {scale = 0.25 : f32, causal, window = #attn.window<left = 8, right = 0>, sinks = 2, softcap = 30.0 : f32,
       score = #attn.score<softplus>} -> tensor<?x4x?x16xf32>, tensor<?x4x?xf32>, tensor<?x4x?xf32>
  return %a : tensor<?x4x?x16xf32>
}

// -----

// attn.finalize: the state's acc and sum, the result's init and the score.
// CHECK-LABEL: func.func @finalize(
// CHECK:         attn.finalize ins(%{{.*}}, %{{.*}} : tensor<?x4x?x16xf32>, tensor<?x4x?xf32>)
// CHECK-SAME:    outs(%{{.*}} : tensor<?x4x?x16xbf16>)
// CHECK-SAME:    score = #attn.score<kernel<identity>, normalize = false>
// CHECK-SAME:    -> tensor<?x4x?x16xbf16>
func.func @finalize(%acc: tensor<?x4x?x16xf32>, %l: tensor<?x4x?xf32>,
                    %init: tensor<?x4x?x16xbf16>) -> tensor<?x4x?x16xbf16> {
  %o = attn.finalize ins(%acc, %l : tensor<?x4x?x16xf32>, tensor<?x4x?xf32>)
      outs(%init : tensor<?x4x?x16xbf16>)
      {score = #attn.score<kernel<identity>, normalize = false>} -> tensor<?x4x?x16xbf16>
  return %o : tensor<?x4x?x16xbf16>
}
