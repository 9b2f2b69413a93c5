// RUN: attn-opt %s --attn-expand-shape-to-reinterpret-cast | FileCheck %s
// RUN: attn-opt %s --attn-expand-shape-to-reinterpret-cast --expand-strided-metadata | FileCheck %s --check-prefix=META

// An expand_shape with dynamic output sizes (upstream expand-strided-metadata
// crashes on it in MLIR 22.1) becomes a reinterpret_cast with row-major
// strides; a static one is left to upstream.

// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME:      %[[M:.*]]: memref<?xf32>, %[[A:.*]]: index, %[[B:.*]]: index)
// CHECK-NOT:     memref.expand_shape
// CHECK:         memref.reinterpret_cast %[[M]] to offset: [0], sizes: [%[[A]], %[[B]]], strides: [%{{.*}}, 1] : memref<?xf32> to memref<?x?xf32>
// META-LABEL: func.func @dynamic(
// META-NOT:     memref.expand_shape
func.func @dynamic(%m: memref<?xf32>, %a: index, %b: index) -> memref<?x?xf32> {
  %e = memref.expand_shape %m [[0, 1]] output_shape [%a, %b] : memref<?xf32> into memref<?x?xf32>
  return %e : memref<?x?xf32>
}

// CHECK-LABEL: func.func @static(
// CHECK:         memref.expand_shape
func.func @static(%m: memref<12xf32>) -> memref<3x4xf32> {
  %e = memref.expand_shape %m [[0, 1]] output_shape [3, 4] : memref<12xf32> into memref<3x4xf32>
  return %e : memref<3x4xf32>
}
