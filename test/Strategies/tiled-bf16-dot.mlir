// The CPU flash kernel computes bf16 Q K^T and P V as AVX512-BF16 dot
// products (x86vector.avx512.dot, vdpbf16ps) where the module's target has
// them and the op allows it: Q, K and V bf16, an even head dimension, the
// forward kernel over packed keys. K is packed in pairs of D, V in pairs of
// keys, and each row's weights are rounded to bf16 (vcvtneps2bf16) for the
// full tiles' P V; partial tiles keep the f32 path. Elsewhere the kernel
// widens bf16 to f32 and uses FMAs. The target is written here, so that
// the test does not depend on the machine that runs it.
// RUN: attn-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(attn-apply-strategies,attn-convert-online-attention-to-cpu-vector))" | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-cpu-pipeline="strategy=tiled" | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @dot(
// K in pairs of D [tiles, 32, 2 x 64 keys]: rows as i32 words, transposed
// 16 x 16 by shuffles; V in pairs of keys [tiles, 32, 2 x 64]: two rows
// interleaved. Both one tile per iteration of a forall.
// CHECK:         scf.forall {{.*}} -> (tensor<?x32x128xbf16>)
// CHECK:           vector.bitcast {{.*}} : vector<32xbf16> to vector<16xi32>
// CHECK:           vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// CHECK:           tensor.parallel_insert_slice {{.*}} into {{.*}} : tensor<1x32x128xbf16> into tensor<?x32x128xbf16>
// CHECK:         scf.forall {{.*}} -> (tensor<?x32x128xbf16>)
// CHECK:           vector.shuffle {{.*}} [0, 16, 1, 17, {{.*}}, 15, 31] : vector<16xbf16>, vector<16xbf16>
// CHECK:           tensor.parallel_insert_slice
// CHECK:         x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK:         x86vector.avx512.cvt.packed.f32_to_bf16 {{.*}} : vector<16xf32> -> vector<16xbf16>
// CHECK:         x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK:         vector.fma
// LLVM-LABEL:  llvm.func @dot(
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512bf16.cvtneps2bf16.512"
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = true>} {
func.func @dot(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x1x100x64xbf16>, %v: tensor<1x1x100x64xbf16>) -> tensor<1x2x100x64xbf16> {
  %init = tensor.empty() : tensor<1x2x100x64xbf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x100x64xbf16>, tensor<1x1x100x64xbf16>, tensor<1x1x100x64xbf16>)
                      outs(%init : tensor<1x2x100x64xbf16>) {causal, strategy = #attn.strategy<"tiled">} -> tensor<1x2x100x64xbf16>
  return %o : tensor<1x2x100x64xbf16>
}
}

// -----

// 256-bit vectors: the same dot products on 8 lanes.
// CHECK-LABEL: func.func @dot_256(
// CHECK:         x86vector.avx512.dot {{.*}} : vector<16xbf16> -> vector<8xf32>
// CHECK:         x86vector.avx512.cvt.packed.f32_to_bf16 {{.*}} : vector<8xf32> -> vector<8xbf16>
// LLVM-LABEL:  llvm.func @dot_256(
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.256"
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 256, bf16_dot = true>} {
func.func @dot_256(%q: tensor<1x1x20x16xbf16>, %k: tensor<1x1x20x16xbf16>) -> tensor<1x1x20x16xbf16> {
  %init = tensor.empty() : tensor<1x1x20x16xbf16>
  %o = attn.attention ins(%q, %k, %k : tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>)
                      outs(%init : tensor<1x1x20x16xbf16>) {strategy = #attn.strategy<"tiled">} -> tensor<1x1x20x16xbf16>
  return %o : tensor<1x1x20x16xbf16>
}
}

// -----

// 128-bit vectors: 4 lanes; the weights are rounded by arith.truncf (the
// x86vector conversion takes 8 or 16 lanes).
// CHECK-LABEL: func.func @dot_128(
// CHECK:         x86vector.avx512.dot {{.*}} : vector<8xbf16> -> vector<4xf32>
// CHECK:         arith.truncf {{.*}} : vector<4xf32> to vector<4xbf16>
// LLVM-LABEL:  llvm.func @dot_128(
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.128"
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 128, bf16_dot = true>} {
func.func @dot_128(%q: tensor<1x1x20x16xbf16>, %k: tensor<1x1x20x16xbf16>) -> tensor<1x1x20x16xbf16> {
  %init = tensor.empty() : tensor<1x1x20x16xbf16>
  %o = attn.attention ins(%q, %k, %k : tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>)
                      outs(%init : tensor<1x1x20x16xbf16>) {strategy = #attn.strategy<"tiled">} -> tensor<1x1x20x16xbf16>
  return %o : tensor<1x1x20x16xbf16>
}
}

// -----

// A target without them: FMAs on f32.
// CHECK-LABEL: func.func @no_feature(
// CHECK-NOT:     x86vector
// CHECK:         vector.fma
// CHECK-NOT:     x86vector
// CHECK:         return
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = false>} {
func.func @no_feature(%q: tensor<1x1x20x16xbf16>) -> tensor<1x1x20x16xbf16> {
  %init = tensor.empty() : tensor<1x1x20x16xbf16>
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>)
                      outs(%init : tensor<1x1x20x16xbf16>) {strategy = #attn.strategy<"tiled">} -> tensor<1x1x20x16xbf16>
  return %o : tensor<1x1x20x16xbf16>
}
}

// -----

// f32 operands, an odd head dimension, and a written bf16_dot = 0: the same.
// CHECK-LABEL: func.func @f32(
// CHECK-NOT:     x86vector
// CHECK:         vector.fma
// CHECK-LABEL: func.func @odd_d(
// CHECK-NOT:     x86vector
// CHECK:         vector.fma
// CHECK-LABEL: func.func @written_off(
// CHECK-NOT:     x86vector
// CHECK:         vector.fma
// CHECK-LABEL: func.func @end(
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = true>} {
func.func @f32(%q: tensor<1x1x20x16xf32>) -> tensor<1x1x20x16xf32> {
  %init = tensor.empty() : tensor<1x1x20x16xf32>
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>)
                      outs(%init : tensor<1x1x20x16xf32>) {strategy = #attn.strategy<"tiled">} -> tensor<1x1x20x16xf32>
  return %o : tensor<1x1x20x16xf32>
}
func.func @odd_d(%q: tensor<1x1x20x15xbf16>) -> tensor<1x1x20x15xbf16> {
  %init = tensor.empty() : tensor<1x1x20x15xbf16>
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x15xbf16>, tensor<1x1x20x15xbf16>, tensor<1x1x20x15xbf16>)
                      outs(%init : tensor<1x1x20x15xbf16>) {strategy = #attn.strategy<"tiled">} -> tensor<1x1x20x15xbf16>
  return %o : tensor<1x1x20x15xbf16>
}
func.func @written_off(%q: tensor<1x1x20x16xbf16>) -> tensor<1x1x20x16xbf16> {
  %init = tensor.empty() : tensor<1x1x20x16xbf16>
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>)
                      outs(%init : tensor<1x1x20x16xbf16>) {strategy = #attn.strategy<"tiled", {bf16_dot = 0}>} -> tensor<1x1x20x16xbf16>
  return %o : tensor<1x1x20x16xbf16>
}
func.func @end() {
  return
}
}
