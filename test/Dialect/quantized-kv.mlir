// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Quantized K/V print and parse back: i8 with per-(batch, KV head, key)
// scales, f8E4M3FN with per-head scales, one or both operands quantized,
// dynamic sizes, and the tile op's form.

// CHECK-LABEL: func.func @i8_decode(
// CHECK:         attn.attention ins({{.*}} : tensor<2x32x1x128xf32>, tensor<2x8x4096x128xi8>, tensor<2x8x4096x128xi8>) k_scale(%{{.*}} : tensor<2x8x4096xf32>) v_scale(%{{.*}} : tensor<2x8x4096xf32>) outs(
func.func @i8_decode(%q: tensor<2x32x1x128xf32>, %k: tensor<2x8x4096x128xi8>, %v: tensor<2x8x4096x128xi8>,
                     %ks: tensor<2x8x4096xf32>, %vs: tensor<2x8x4096xf32>) -> tensor<2x32x1x128xf32> {
  %init = tensor.empty() : tensor<2x32x1x128xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x32x1x128xf32>, tensor<2x8x4096x128xi8>, tensor<2x8x4096x128xi8>)
                      k_scale(%ks : tensor<2x8x4096xf32>) v_scale(%vs : tensor<2x8x4096xf32>)
                      outs(%init : tensor<2x32x1x128xf32>) -> tensor<2x32x1x128xf32>
  return %o : tensor<2x32x1x128xf32>
}

// CHECK-LABEL: func.func @f8_values_only_dynamic(
// CHECK:         attn.attention ins({{.*}} : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xf8E4M3FN>) v_scale(%{{.*}} : tensor<2xf32>) outs({{.*}}) {causal}
func.func @f8_values_only_dynamic(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xf8E4M3FN>,
                                  %vs: tensor<2xf32>, %init: tensor<?x4x?x64xbf16>) -> tensor<?x4x?x64xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xf8E4M3FN>)
                      v_scale(%vs : tensor<2xf32>)
                      outs(%init : tensor<?x4x?x64xbf16>) {causal} -> tensor<?x4x?x64xbf16>
  return %o : tensor<?x4x?x64xbf16>
}

// CHECK-LABEL: func.func @tile(
// CHECK:         attn.online_attention ins({{.*}}) k_scale(%{{.*}} : tensor<1x2x64xf32>) v_scale(%{{.*}} : tensor<2xf32>) positions(
func.func @tile(%q: tensor<1x4x16x32xf32>, %k: tensor<1x2x64x32xi8>, %v: tensor<1x2x64x32xf8E4M3FN>,
                %ks: tensor<1x2x64xf32>, %vs: tensor<2xf32>, %acc: tensor<1x4x16x32xf32>,
                %m: tensor<1x4x16xf32>, %l: tensor<1x4x16xf32>, %qp: index, %kp: index)
    -> (tensor<1x4x16x32xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x4x16x32xf32>, tensor<1x2x64x32xi8>, tensor<1x2x64x32xf8E4M3FN>)
      k_scale(%ks : tensor<1x2x64xf32>) v_scale(%vs : tensor<2xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x4x16x32xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>)
      {scale = 0.125 : f32} -> tensor<1x4x16x32xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
  return %a, %mm, %ll : tensor<1x4x16x32xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}
