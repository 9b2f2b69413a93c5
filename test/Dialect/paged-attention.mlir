// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// attn.paged_attention prints and parses back: f32 decode with GQA, a
// quantized cache with dynamic sizes and a window, f8E4M3FN with per-head
// scales, sink logits with the LSE result, a window with sink keys.

// CHECK-LABEL: func.func @decode(
// CHECK:         attn.paged_attention ins({{.*}} : tensor<4x32x1x128xf32>, tensor<512x8x16x128xf32>, tensor<512x8x16x128xf32>, tensor<4x64xi32>, tensor<4xi32>) outs({{.*}} : tensor<4x32x1x128xf32>) {causal} -> tensor<4x32x1x128xf32>
func.func @decode(%q: tensor<4x32x1x128xf32>, %kc: tensor<512x8x16x128xf32>, %vc: tensor<512x8x16x128xf32>,
                  %t: tensor<4x64xi32>, %l: tensor<4xi32>, %init: tensor<4x32x1x128xf32>) -> tensor<4x32x1x128xf32> {
  %o = attn.paged_attention ins(%q, %kc, %vc, %t, %l : tensor<4x32x1x128xf32>, tensor<512x8x16x128xf32>, tensor<512x8x16x128xf32>, tensor<4x64xi32>, tensor<4xi32>)
         outs(%init : tensor<4x32x1x128xf32>) {causal} -> tensor<4x32x1x128xf32>
  return %o : tensor<4x32x1x128xf32>
}

// CHECK-LABEL: func.func @i8_prefill(
// CHECK:         attn.paged_attention ins({{.*}}) k_scale(%{{.*}} : tensor<?x2x16xf32>) v_scale(%{{.*}} : tensor<?x2x16xf32>) outs({{.*}}) {scale = 1.250000e-01 : f32, softcap = 3.000000e+01 : f32, window = #attn.window<left = 32, right = 0>}
func.func @i8_prefill(%q: tensor<?x4x?x64xf32>, %kc: tensor<?x2x16x64xi8>, %vc: tensor<?x2x16x64xi8>, %t: tensor<?x?xi32>, %l: tensor<?xi32>,
                      %ks: tensor<?x2x16xf32>, %vs: tensor<?x2x16xf32>, %init: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.paged_attention ins(%q, %kc, %vc, %t, %l : tensor<?x4x?x64xf32>, tensor<?x2x16x64xi8>, tensor<?x2x16x64xi8>, tensor<?x?xi32>, tensor<?xi32>)
         k_scale(%ks : tensor<?x2x16xf32>) v_scale(%vs : tensor<?x2x16xf32>)
         outs(%init : tensor<?x4x?x64xf32>) {scale = 0.125 : f32, softcap = 30.0 : f32, window = #attn.window<left = 32, right = 0>} -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// CHECK-LABEL: func.func @f8_value(
// CHECK:         attn.paged_attention ins({{.*}} : tensor<2x8x1x64xbf16>, tensor<64x2x32x64xbf16>, tensor<64x2x32x64xf8E4M3FN>, tensor<2x8xi32>, tensor<2xi32>) v_scale(%{{.*}} : tensor<2xf32>) outs(
func.func @f8_value(%q: tensor<2x8x1x64xbf16>, %kc: tensor<64x2x32x64xbf16>, %vc: tensor<64x2x32x64xf8E4M3FN>, %t: tensor<2x8xi32>, %l: tensor<2xi32>,
                    %vs: tensor<2xf32>, %init: tensor<2x8x1x64xbf16>) -> tensor<2x8x1x64xbf16> {
  %o = attn.paged_attention ins(%q, %kc, %vc, %t, %l : tensor<2x8x1x64xbf16>, tensor<64x2x32x64xbf16>, tensor<64x2x32x64xf8E4M3FN>, tensor<2x8xi32>, tensor<2xi32>)
         v_scale(%vs : tensor<2xf32>) outs(%init : tensor<2x8x1x64xbf16>) -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// CHECK-LABEL: func.func @sink_logits_lse(
// CHECK:         %{{.*}}, %{{.*}} = attn.paged_attention ins({{.*}}) sink_logits(%{{.*}} : tensor<8xf32>) outs({{.*}}) {causal, return_lse} -> tensor<2x8x1x64xf32>, tensor<2x8x1xf32>
func.func @sink_logits_lse(%q: tensor<2x8x1x64xf32>, %kc: tensor<64x2x16x64xf32>, %vc: tensor<64x2x16x64xf32>, %t: tensor<2x8xi32>, %l: tensor<2xi32>,
                           %sl: tensor<8xf32>, %init: tensor<2x8x1x64xf32>) -> (tensor<2x8x1x64xf32>, tensor<2x8x1xf32>) {
  %o, %lse = attn.paged_attention ins(%q, %kc, %vc, %t, %l : tensor<2x8x1x64xf32>, tensor<64x2x16x64xf32>, tensor<64x2x16x64xf32>, tensor<2x8xi32>, tensor<2xi32>)
         sink_logits(%sl : tensor<8xf32>) outs(%init : tensor<2x8x1x64xf32>) {causal, return_lse} -> tensor<2x8x1x64xf32>, tensor<2x8x1xf32>
  return %o, %lse : tensor<2x8x1x64xf32>, tensor<2x8x1xf32>
}

// CHECK-LABEL: func.func @window_sinks(
// CHECK:         attn.paged_attention ins({{.*}}) outs({{.*}}) {causal, sinks = 4 : i64, window = #attn.window<left = 1024, right = 0>}
func.func @window_sinks(%q: tensor<4x32x1x128xf32>, %kc: tensor<512x8x16x128xf32>, %vc: tensor<512x8x16x128xf32>,
                        %t: tensor<4x64xi32>, %l: tensor<4xi32>, %init: tensor<4x32x1x128xf32>) -> tensor<4x32x1x128xf32> {
  %o = attn.paged_attention ins(%q, %kc, %vc, %t, %l : tensor<4x32x1x128xf32>, tensor<512x8x16x128xf32>, tensor<512x8x16x128xf32>, tensor<4x64xi32>, tensor<4xi32>)
         outs(%init : tensor<4x32x1x128xf32>) {causal, sinks = 4 : i64, window = #attn.window<left = 1024, right = 0>} -> tensor<4x32x1x128xf32>
  return %o : tensor<4x32x1x128xf32>
}
