// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy --attn-apply-strategies --attn-convert-online-attention-to-gpu --attn-gpu-device-buffers | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX

// The tiled strategy on a GPU target: one gpu.launch over (query blocks,
// batch x heads, key splits), K/V tiles staged in workgroup (shared) memory
// between barriers, the query row and output row in private memory;
// attn-gpu-device-buffers copies the inputs to the device and the result
// back.

// CHECK-LABEL: func.func @causal_gqa(
// CHECK:         %[[Q:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<2x8x100x64xf16> to memref<2x8x100x64xf16>
// CHECK:         %[[HOST:.*]] = memref.alloc() : memref<2x8x100x64xf16>
// CHECK:         %[[DQ:.*]] = gpu.alloc{{ *}}() : memref<2x8x100x64xf16>
// CHECK-NEXT:    gpu.memcpy{{ *}}%[[DQ]], %[[Q]]
// CHECK:         gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %[[BZ:.*]]) in
// CHECK-SAME:        workgroup(%[[KT:.*]] : memref<32x64xf32, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<32x64xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME:        private(%[[QR:.*]] : memref<64xf32, #gpu.address_space<private>>, %[[OR:.*]] : memref<64xf32, #gpu.address_space<private>>)
// CHECK:           scf.for
// CHECK:             scf.if
// CHECK:               memref.store %{{.*}}, %[[KT]]
// CHECK:               memref.store %{{.*}}, %[[VT]]
// CHECK:               gpu.barrier
// CHECK:               math.exp2
// CHECK:               gpu.barrier
// CHECK:         gpu.memcpy{{ *}}%[[HOST]]
// CHECK:         gpu.dealloc
// CHECK:         bufferization.to_tensor %[[HOST]] restrict writable

// PTX: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
// PTX-SAME: .shared
// PTX-SAME: bar.sync
// PTX-NOT: attn.attention
func.func @causal_gqa(%q: tensor<2x8x100x64xf16>, %k: tensor<2x2x100x64xf16>, %v: tensor<2x2x100x64xf16>) -> tensor<2x8x100x64xf16> {
  %init = tensor.empty() : tensor<2x8x100x64xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<2x8x100x64xf16>, tensor<2x2x100x64xf16>, tensor<2x2x100x64xf16>)
                      outs(%init : tensor<2x8x100x64xf16>) {causal, strategy = #attn.strategy<"tiled">} -> tensor<2x8x100x64xf16>
  return %o : tensor<2x8x100x64xf16>
}

// Split-KV decode: a grid dimension over key splits, then a merge kernel.
// CHECK-LABEL: func.func @decode(
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %{{.*}}, {{.*}} = %{{.*}}, {{.*}} = %[[SPLITS:.*]])
// CHECK:         gpu.launch
// CHECK-NOT:     workgroup
// CHECK:         math.exp2
func.func @decode(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x4096x128xf32>, %v: tensor<1x8x4096x128xf32>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x32x1x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>)
                      outs(%init : tensor<1x32x1x128xf32>) {strategy = #attn.strategy<"split_kv", {splits = 8}>} -> tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
