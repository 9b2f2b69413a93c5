// RUN: attn-opt %s --attn-gpu-pipeline="format=isa chip=sm_80" --mlir-print-ir-after=attn-gpu-device-buffers -o /dev/null 2>&1 | FileCheck %s

// Two attention ops on the GPU, the second reading the first's result and
// the same K and V: attn-gpu-device-buffers (after bufferization) copies Q,
// K and V to the device once, keeps the first result on the device for the
// second kernel (no host buffer, no copy), and copies back only the second
// result. The results are checked on a device by python/tests/test_vulkan.py
// (test_vulkan_chained_ops).

// CHECK-LABEL: func.func @chain(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<1x4x64x32xf32>, %[[K:[^:]*]]: memref<1x4x64x32xf32>, %[[V:[^:]*]]: memref<1x4x64x32xf32>)
// CHECK:         %[[DQ:.*]] = gpu.alloc () : memref<1x4x64x32xf32>
// CHECK-NEXT:    gpu.memcpy %[[DQ]], %[[Q]] :
// CHECK-NEXT:    %[[DK:.*]] = gpu.alloc () : memref<1x4x64x32xf32>
// CHECK-NEXT:    gpu.memcpy %[[DK]], %[[K]] :
// CHECK-NEXT:    %[[DV:.*]] = gpu.alloc () : memref<1x4x64x32xf32>
// CHECK-NEXT:    gpu.memcpy %[[DV]], %[[V]] :
// CHECK-NEXT:    %[[DO1:.*]] = gpu.alloc () : memref<1x4x64x32xf32>
// CHECK-NEXT:    gpu.launch
// CHECK:           memref.store %{{.*}}, %[[DO1]]
// CHECK:         gpu.dealloc %[[DQ]] :
// CHECK-NEXT:    %[[OUT:.*]] = memref.alloc() : memref<1x4x64x32xf32>
// CHECK-NEXT:    %[[DO2:.*]] = gpu.alloc () : memref<1x4x64x32xf32>
// CHECK-NEXT:    gpu.launch
// CHECK:           memref.load %[[DO1]]
// CHECK:           memref.load %[[DK]]
// CHECK:           memref.load %[[DV]]
// CHECK:           memref.store %{{.*}}, %[[DO2]]
// CHECK:         gpu.memcpy %[[OUT]], %[[DO2]] :
// CHECK-NOT:     gpu.memcpy
// CHECK:         return %[[OUT]]
func.func @chain(%q: tensor<1x4x64x32xf32>, %k: tensor<1x4x64x32xf32>, %v: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  %i0 = tensor.empty() : tensor<1x4x64x32xf32>
  %o1 = attn.attention ins(%q, %k, %v : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>) outs(%i0 : tensor<1x4x64x32xf32>) {causal} -> tensor<1x4x64x32xf32>
  %i1 = tensor.empty() : tensor<1x4x64x32xf32>
  %o2 = attn.attention ins(%o1, %k, %v : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>) outs(%i1 : tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32>
  return %o2 : tensor<1x4x64x32xf32>
}
