// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Every attribute in the written forms of DESIGN.md survives a round trip
// through the custom and the generic assembly.

// CHECK-LABEL: func.func @plain(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x8x128x64xf32>, %[[K:[^:]+]]: tensor<1x8x128x64xf32>, %[[V:[^:]+]]: tensor<1x8x128x64xf32>, %[[INIT:[^:]+]]: tensor<1x8x128x64xf32>)
// CHECK:         %[[O:.*]] = attn.attention ins(%[[Q]], %[[K]], %[[V]] : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>) outs(%[[INIT]] : tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32>
// CHECK-NEXT:    return %[[O]]
// GENERIC-LABEL: sym_name = "plain"
// GENERIC:       "attn.attention"(%{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 1>}>
func.func @plain(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>, %init: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>)
                      outs(%init : tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// An empty attribute dictionary may be written `{}`; it prints as nothing.
// CHECK-LABEL: func.func @empty_dict(
// CHECK:         attn.attention ins(%{{.*}}) outs(%{{.*}} : tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
func.func @empty_dict(%q: tensor<1x1x4x8xf32>, %init: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>)
                      outs(%init : tensor<1x1x4x8xf32>) {} -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// The DESIGN.md example: GQA, scale, causal.
// CHECK-LABEL: func.func @gqa_scale_causal(
// CHECK:         attn.attention ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x1024x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>) outs(%{{.*}} : tensor<1x8x1024x64xf32>)
// CHECK-SAME:      {causal, scale = 1.250000e-01 : f32} -> tensor<1x8x1024x64xf32>
func.func @gqa_scale_causal(%q: tensor<1x8x1024x64xf32>, %k: tensor<1x2x1024x64xf32>, %v: tensor<1x2x1024x64xf32>, %init: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x1024x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>)
                      outs(%init : tensor<1x8x1024x64xf32>)
                      {scale = 0.125 : f32, causal} -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// MQA: one KV head; Dv differs from D.
// CHECK-LABEL: func.func @mqa(
// CHECK:         attn.attention ins(%{{.*}} : tensor<2x16x32x64xf32>, tensor<2x1x48x64xf32>, tensor<2x1x48x32xf32>) outs(%{{.*}} : tensor<2x16x32x32xf32>) -> tensor<2x16x32x32xf32>
func.func @mqa(%q: tensor<2x16x32x64xf32>, %k: tensor<2x1x48x64xf32>, %v: tensor<2x1x48x32xf32>, %init: tensor<2x16x32x32xf32>) -> tensor<2x16x32x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x16x32x64xf32>, tensor<2x1x48x64xf32>, tensor<2x1x48x32xf32>)
                      outs(%init : tensor<2x16x32x32xf32>) -> tensor<2x16x32x32xf32>
  return %o : tensor<2x16x32x32xf32>
}

// CHECK-LABEL: func.func @window_both(
// CHECK:         attn.attention
// CHECK-SAME:      {window = #attn.window<left = 16, right = 0>}
// GENERIC-LABEL: sym_name = "window_both"
// GENERIC:       window = #attn.window<left = 16, right = 0>
func.func @window_both(%q: tensor<1x2x64x16xf32>, %init: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%init : tensor<1x2x64x16xf32>)
                      {window = #attn.window<left = 16, right = 0>} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// CHECK-LABEL: func.func @window_left_only(
// CHECK:         attn.attention
// CHECK-SAME:      {causal, window = #attn.window<left = 128>}
func.func @window_left_only(%q: tensor<1x2x64x16xf32>, %init: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%init : tensor<1x2x64x16xf32>)
                      {causal, window = #attn.window<left = 128>} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// CHECK-LABEL: func.func @window_right_only(
// CHECK:         attn.attention
// CHECK-SAME:      {window = #attn.window<right = 3>}
func.func @window_right_only(%q: tensor<1x2x64x16xf32>, %init: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%init : tensor<1x2x64x16xf32>)
                      {window = #attn.window<right = 3>} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// CHECK-LABEL: func.func @window_sinks(
// CHECK:         attn.attention
// CHECK-SAME:      {sinks = 4 : i64, window = #attn.window<left = 16, right = 0>}
// GENERIC-LABEL: sym_name = "window_sinks"
// GENERIC:       sinks = 4 : i64
func.func @window_sinks(%q: tensor<1x2x64x16xf32>, %init: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%init : tensor<1x2x64x16xf32>)
                      {window = #attn.window<left = 16, right = 0>, sinks = 4 : i64} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// CHECK-LABEL: func.func @softcap(
// CHECK:         attn.attention
// CHECK-SAME:      {softcap = 5.000000e+00 : f32}
func.func @softcap(%q: tensor<1x2x64x16xf32>, %init: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%init : tensor<1x2x64x16xf32>)
                      {softcap = 5.0 : f32} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// Every score kind.
// CHECK-LABEL: func.func @scores(
// CHECK:         attn.attention {{.*}} {score = #attn.score<softmax>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<softplus>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<elu1>>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<relu>>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<taylor2>>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<identity>>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<identity>, normalize = false>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<taylor2>, normalize = false>}
// `normalize = true` is the default and is not printed.
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<elu1>>}
// CHECK-NEXT:    attn.attention {{.*}} {score = #attn.score<kernel<sigmoid>, normalize = false>}
// GENERIC-LABEL: sym_name = "scores"
// GENERIC:       score = #attn.score<softmax>
// GENERIC:       score = #attn.score<softplus>
// GENERIC:       score = #attn.score<kernel<elu1>>
// GENERIC:       score = #attn.score<kernel<relu>>
// GENERIC:       score = #attn.score<kernel<taylor2>>
// GENERIC:       score = #attn.score<kernel<identity>>
// GENERIC:       score = #attn.score<kernel<identity>, normalize = false>
// GENERIC:       score = #attn.score<kernel<sigmoid>, normalize = false>
func.func @scores(%q: tensor<1x2x8x16xf32>, %init: tensor<1x2x8x16xf32>) {
  %0 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<softmax>} -> tensor<1x2x8x16xf32>
  %1 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<softplus>} -> tensor<1x2x8x16xf32>
  %2 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<elu1>>} -> tensor<1x2x8x16xf32>
  %3 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<relu>>} -> tensor<1x2x8x16xf32>
  %4 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<taylor2>>} -> tensor<1x2x8x16xf32>
  %5 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<identity>>} -> tensor<1x2x8x16xf32>
  %6 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<identity>, normalize = false>} -> tensor<1x2x8x16xf32>
  %7 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<taylor2>, normalize = false>} -> tensor<1x2x8x16xf32>
  %8 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<elu1>, normalize = true>} -> tensor<1x2x8x16xf32>
  %9 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {score = #attn.score<kernel<sigmoid>, normalize = false>} -> tensor<1x2x8x16xf32>
  return
}

// Strategy with and without parameters.
// CHECK-LABEL: func.func @strategies(
// CHECK:         attn.attention {{.*}} {strategy = #attn.strategy<"tiled", {block_k = 64 : i64, block_q = 64 : i64}>}
// CHECK-NEXT:    attn.attention {{.*}} {strategy = #attn.strategy<"reference">}
// CHECK-NEXT:    attn.attention {{.*}} {strategy = #attn.strategy<"tiled">}
// GENERIC-LABEL: sym_name = "strategies"
// GENERIC:       strategy = #attn.strategy<"tiled", {block_k = 64 : i64, block_q = 64 : i64}>
// GENERIC:       strategy = #attn.strategy<"reference">
func.func @strategies(%q: tensor<1x2x8x16xf32>, %init: tensor<1x2x8x16xf32>) {
  %0 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {strategy = #attn.strategy<"tiled", {block_q = 64, block_k = 64}>} -> tensor<1x2x8x16xf32>
  %1 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {strategy = #attn.strategy<"reference">} -> tensor<1x2x8x16xf32>
  %2 = attn.attention ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>)
                      {strategy = #attn.strategy<"tiled">} -> tensor<1x2x8x16xf32>
  return
}

// Every attribute at once (printed in alphabetical order).
// CHECK-LABEL: func.func @all_attributes(
// CHECK:         attn.attention
// CHECK-SAME:      {causal, scale = 1.250000e-01 : f32, score = #attn.score<softplus>, sinks = 4 : i64, softcap = 5.000000e+00 : f32, strategy = #attn.strategy<"reference">, window = #attn.window<left = 16, right = 0>} -> tensor<1x8x16x32xf32>
func.func @all_attributes(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x16x32xf32>, %init: tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>)
                      outs(%init : tensor<1x8x16x32xf32>)
                      {scale = 0.125 : f32, causal, window = #attn.window<left = 16, right = 0>, sinks = 4 : i64,
                       softcap = 5.0 : f32, score = #attn.score<softplus>,
                       strategy = #attn.strategy<"reference">} -> tensor<1x8x16x32xf32>
  return %o : tensor<1x8x16x32xf32>
}

// Mask and bias, full-size and broadcast (dimension 0 and 1 equal to 1).
// CHECK-LABEL: func.func @mask_bias(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x4x16x8xf32>, %[[K:[^:]+]]: tensor<2x2x24x8xf32>, %[[M:[^:]+]]: tensor<1x4x16x24xi1>, %[[B:[^:]+]]: tensor<2x1x16x24xf32>, %[[M2:[^:]+]]: tensor<2x4x16x24xi1>, %[[B2:[^:]+]]: tensor<1x1x16x24xf16>, %[[INIT:[^:]+]]: tensor<2x4x16x8xf32>)
// CHECK:         attn.attention ins(%[[Q]], %[[K]], %[[K]] : tensor<2x4x16x8xf32>, tensor<2x2x24x8xf32>, tensor<2x2x24x8xf32>) mask(%[[M]] : tensor<1x4x16x24xi1>) bias(%[[B]] : tensor<2x1x16x24xf32>) outs(%[[INIT]] : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
// CHECK-NEXT:    attn.attention ins(%[[Q]], %[[K]], %[[K]] : {{.*}}) mask(%[[M2]] : tensor<2x4x16x24xi1>) outs(%[[INIT]] : tensor<2x4x16x8xf32>) {causal} -> tensor<2x4x16x8xf32>
// CHECK-NEXT:    attn.attention ins(%[[Q]], %[[K]], %[[K]] : {{.*}}) bias(%[[B2]] : tensor<1x1x16x24xf16>) outs(%[[INIT]] : tensor<2x4x16x8xf32>) {score = #attn.score<kernel<taylor2>>}
// GENERIC-LABEL: sym_name = "mask_bias"
// GENERIC:       "attn.attention"({{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0, 1>}>
// GENERIC:       "attn.attention"({{.*}}) <{causal, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 1>}>
// GENERIC:       "attn.attention"({{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0, 1>, score
func.func @mask_bias(%q: tensor<2x4x16x8xf32>, %k: tensor<2x2x24x8xf32>, %m: tensor<1x4x16x24xi1>, %b: tensor<2x1x16x24xf32>,
                     %m2: tensor<2x4x16x24xi1>, %b2: tensor<1x1x16x24xf16>, %init: tensor<2x4x16x8xf32>) {
  %0 = attn.attention ins(%q, %k, %k : tensor<2x4x16x8xf32>, tensor<2x2x24x8xf32>, tensor<2x2x24x8xf32>)
                      mask(%m : tensor<1x4x16x24xi1>) bias(%b : tensor<2x1x16x24xf32>)
                      outs(%init : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %1 = attn.attention ins(%q, %k, %k : tensor<2x4x16x8xf32>, tensor<2x2x24x8xf32>, tensor<2x2x24x8xf32>)
                      mask(%m2 : tensor<2x4x16x24xi1>)
                      outs(%init : tensor<2x4x16x8xf32>) {causal} -> tensor<2x4x16x8xf32>
  %2 = attn.attention ins(%q, %k, %k : tensor<2x4x16x8xf32>, tensor<2x2x24x8xf32>, tensor<2x2x24x8xf32>)
                      bias(%b2 : tensor<1x1x16x24xf16>)
                      outs(%init : tensor<2x4x16x8xf32>) {score = #attn.score<kernel<taylor2>>} -> tensor<2x4x16x8xf32>
  return
}

// Dynamic batch and sequence lengths; mask with dynamic Lq/Lk.
// CHECK-LABEL: func.func @dynamic(
// CHECK:         attn.attention ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>) mask(%{{.*}} : tensor<1x1x?x?xi1>) outs(%{{.*}} : tensor<?x8x?x64xf32>) {causal} -> tensor<?x8x?x64xf32>
func.func @dynamic(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>, %m: tensor<1x1x?x?xi1>, %init: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>)
                      mask(%m : tensor<1x1x?x?xi1>)
                      outs(%init : tensor<?x8x?x64xf32>) {causal} -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// CHECK-LABEL: func.func @f16(
// CHECK:         attn.attention ins({{.*}} : tensor<1x4x32x64xf16>, tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>) outs(%{{.*}} : tensor<1x4x32x64xf16>) {causal} -> tensor<1x4x32x64xf16>
func.func @f16(%q: tensor<1x4x32x64xf16>, %k: tensor<1x1x32x64xf16>, %init: tensor<1x4x32x64xf16>) -> tensor<1x4x32x64xf16> {
  %o = attn.attention ins(%q, %k, %k : tensor<1x4x32x64xf16>, tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>)
                      outs(%init : tensor<1x4x32x64xf16>) {causal} -> tensor<1x4x32x64xf16>
  return %o : tensor<1x4x32x64xf16>
}

// CHECK-LABEL: func.func @bf16(
// CHECK:         attn.attention ins({{.*}} : tensor<1x4x32x64xbf16>, tensor<1x4x32x64xbf16>, tensor<1x4x32x64xbf16>) bias(%{{.*}} : tensor<1x4x32x32xbf16>) outs(%{{.*}} : tensor<1x4x32x64xbf16>) {softcap = 3.000000e+01 : f32} -> tensor<1x4x32x64xbf16>
func.func @bf16(%q: tensor<1x4x32x64xbf16>, %b: tensor<1x4x32x32xbf16>, %init: tensor<1x4x32x64xbf16>) -> tensor<1x4x32x64xbf16> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x32x64xbf16>, tensor<1x4x32x64xbf16>, tensor<1x4x32x64xbf16>)
                      bias(%b : tensor<1x4x32x32xbf16>)
                      outs(%init : tensor<1x4x32x64xbf16>) {softcap = 30.0 : f32} -> tensor<1x4x32x64xbf16>
  return %o : tensor<1x4x32x64xbf16>
}

// Neighborhood attention, 1-D, 2-D and 3-D.
// CHECK-LABEL: func.func @neighborhood_1d(
// CHECK:         attn.neighborhood ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>) outs(%{{.*}} : tensor<1x4x64x32xf32>) {kernel = [7]} -> tensor<1x4x64x32xf32>
// CHECK-NEXT:    attn.neighborhood {{.*}} {causal = [true], dilation = [3], kernel = [4], scale = 5.000000e-01 : f32, stride = [2]} -> tensor<1x4x64x32xf32>
// GENERIC-LABEL: sym_name = "neighborhood_1d"
// GENERIC:       "attn.neighborhood"({{.*}}) <{kernel = [7]}>
// GENERIC:       "attn.neighborhood"({{.*}}) <{causal = [true], dilation = [3], kernel = [4], scale = 5.000000e-01 : f32, stride = [2]}>
func.func @neighborhood_1d(%q: tensor<1x4x64x32xf32>, %init: tensor<1x4x64x32xf32>) {
  %0 = attn.neighborhood ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>)
                         outs(%init : tensor<1x4x64x32xf32>) {kernel = [7]} -> tensor<1x4x64x32xf32>
  %1 = attn.neighborhood ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>)
                         outs(%init : tensor<1x4x64x32xf32>)
                         {kernel = [4], dilation = [3], causal = [true], stride = [2], scale = 0.5 : f32} -> tensor<1x4x64x32xf32>
  return
}

// The DESIGN.md example.
// CHECK-LABEL: func.func @neighborhood_2d(
// CHECK:         attn.neighborhood ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>) outs(%{{.*}} : tensor<1x4x56x56x32xf32>)
// CHECK-SAME:      {causal = [false, false], dilation = [2, 2], kernel = [7, 7]} -> tensor<1x4x56x56x32xf32>
// CHECK-NEXT:    attn.neighborhood {{.*}} {causal = [true, false], dilation = [1, 2], kernel = [7, 7], strategy = #attn.strategy<"reference">, stride = [1, 1]} -> tensor<1x4x56x56x32xf32>
func.func @neighborhood_2d(%q: tensor<1x4x56x56x32xf32>, %k: tensor<1x4x56x56x32xf32>, %v: tensor<1x4x56x56x32xf32>, %init: tensor<1x4x56x56x32xf32>) {
  %0 = attn.neighborhood ins(%q, %k, %v : tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>)
                         outs(%init : tensor<1x4x56x56x32xf32>)
                         {kernel = [7, 7], dilation = [2, 2], causal = [false, false]} -> tensor<1x4x56x56x32xf32>
  %1 = attn.neighborhood ins(%q, %k, %v : tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>, tensor<1x4x56x56x32xf32>)
                         outs(%init : tensor<1x4x56x56x32xf32>)
                         {kernel = [7, 7], dilation = [1, 2], causal = [true, false], stride = [1, 1],
                          strategy = #attn.strategy<"reference">} -> tensor<1x4x56x56x32xf32>
  return
}

// 3-D, dynamic batch, Dv != D, bf16.
// CHECK-LABEL: func.func @neighborhood_3d(
// CHECK:         attn.neighborhood ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x2x8x8x6x16xbf16>, tensor<?x2x8x8x6x16xbf16>, tensor<?x2x8x8x6x8xbf16>) outs(%{{.*}} : tensor<?x2x8x8x6x8xbf16>)
// CHECK-SAME:      {causal = [true, false, false], dilation = [1, 2, 1], kernel = [3, 3, 2], stride = [1, 2, 2]} -> tensor<?x2x8x8x6x8xbf16>
func.func @neighborhood_3d(%q: tensor<?x2x8x8x6x16xbf16>, %v: tensor<?x2x8x8x6x8xbf16>, %init: tensor<?x2x8x8x6x8xbf16>) -> tensor<?x2x8x8x6x8xbf16> {
  %o = attn.neighborhood ins(%q, %q, %v : tensor<?x2x8x8x6x16xbf16>, tensor<?x2x8x8x6x16xbf16>, tensor<?x2x8x8x6x8xbf16>)
                         outs(%init : tensor<?x2x8x8x6x8xbf16>)
                         {kernel = [3, 3, 2], dilation = [1, 2, 1], causal = [true, false, false], stride = [1, 2, 2]} -> tensor<?x2x8x8x6x8xbf16>
  return %o : tensor<?x2x8x8x6x8xbf16>
}

// The target machine, on a module.
// CHECK: module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024, tensor_cores = true, shared_memory = 49152>}
// CHECK: module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 256, l1_bytes = 32768, l2_bytes = 1048576, l3_bytes = 33554432>}
// CHECK: module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = true>}
module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024, tensor_cores = true, shared_memory = 49152>} {
}
module attributes {attn.target = #attn.target<l3_bytes = 33554432, kind = "cpu", vector_width = 256, l1_bytes = 32768, l2_bytes = 1048576>} {
}
module attributes {attn.target = #attn.target<kind = "cpu", bf16_dot = true, vector_width = 512>} {
}
