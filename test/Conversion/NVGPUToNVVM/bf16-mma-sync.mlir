// attn-convert-bf16-mma-sync-to-nvvm lowers bf16 nvgpu.mma.sync m16n8k16
// (which upstream's convert-nvgpu-to-nvvm cannot) to nvvm.mma.sync on i32
// registers of two bf16 each, and leaves the f16 form to upstream.
// RUN: attn-opt %s -split-input-file --attn-convert-bf16-mma-sync-to-nvvm --verify-diagnostics | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-convert-bf16-mma-sync-to-nvvm --convert-nvgpu-to-nvvm --verify-diagnostics | FileCheck %s --check-prefix=UPSTREAM

// CHECK-LABEL: func.func @bf16(
// CHECK-SAME:    %[[A:.*]]: vector<4x2xbf16>, %[[B:.*]]: vector<2x2xbf16>, %[[C:.*]]: vector<2x2xf32>
// CHECK:         %[[A0:.*]] = vector.extract %[[A]][0] : vector<2xbf16> from vector<4x2xbf16>
// CHECK:         %[[W0:.*]] = vector.bitcast %[[A0]] : vector<2xbf16> to vector<1xi32>
// CHECK:         %[[R0:.*]] = vector.extract %[[W0]][0] : i32 from vector<1xi32>
// CHECK:         %[[D:.*]] = nvvm.mma.sync A[%[[R0]], %{{.*}}, %{{.*}}, %{{.*}}] B[%{{.*}}, %{{.*}}] C[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK:         %[[D0:.*]] = llvm.extractvalue %[[D]][0]
// CHECK:         %[[D3:.*]] = llvm.extractvalue %[[D]][3]
// CHECK:         %[[R:.*]] = vector.from_elements %[[D0]], %{{.*}}, %{{.*}}, %[[D3]] : vector<2x2xf32>
// CHECK:         return %[[R]]
// CHECK-NOT:     nvgpu.mma.sync
// UPSTREAM-LABEL: func.func @bf16(
// UPSTREAM:       nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
func.func @bf16(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf32>) -> vector<2x2xf32> {
  %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
  return %d : vector<2x2xf32>
}

// -----

// f16 stays nvgpu here, and upstream lowers it.
// CHECK-LABEL: func.func @f16(
// CHECK:         nvgpu.mma.sync
// UPSTREAM-LABEL: func.func @f16(
// UPSTREAM:       nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32)
func.func @f16(%a: vector<4x2xf16>, %b: vector<2x2xf16>, %c: vector<2x2xf32>) -> vector<2x2xf32> {
  %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
  return %d : vector<2x2xf32>
}

// -----

// Other bf16 shapes have no lowering here: an error naming the form.
func.func @bf16_m16n8k8(%a: vector<2x2xbf16>, %b: vector<1x2xbf16>, %c: vector<2x2xf32>) -> vector<2x2xf32> {
  // expected-error @+1 {{'nvgpu.mma.sync' op with bf16 operands: only m16n8k16 with vector<4x2xbf16> A, vector<2x2xbf16> B and vector<2x2xf32> C is lowered}}
  %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 8]} : (vector<2x2xbf16>, vector<1x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
  return %d : vector<2x2xf32>
}
