// RUN: attn-opt %s -split-input-file --attn-deallocate-host-buffers | FileCheck %s

// A function with gpu operations: upstream's deallocation cannot run on it,
// so each host buffer that never leaves the function is freed after its
// last use (through views too), and the others are left alone.

// CHECK-LABEL: func.func @host_intermediate(
// CHECK:         %[[T:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:         %[[R:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:         gpu.memcpy %[[T]], %{{.*}}
// CHECK:         %[[V:.*]] = memref.subview %[[T]]
// CHECK:         linalg.generic {{.*}} ins(%[[V]] : {{.*}}) outs(%[[R]] :
// CHECK:           linalg.yield
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.dealloc %[[T]] : memref<4x8xf32>
// CHECK-NOT:     memref.dealloc %[[R]]
// CHECK:         return %[[R]]
func.func @host_intermediate(%d: memref<4x8xf32>) -> memref<4x8xf32> {
  %t = memref.alloc() : memref<4x8xf32>
  %r = memref.alloc() : memref<4x8xf32>
  gpu.memcpy %t, %d : memref<4x8xf32>, memref<4x8xf32>
  %v = memref.subview %t[0, 0] [4, 8] [1, 1] : memref<4x8xf32> to memref<4x8xf32, strided<[8, 1]>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%v : memref<4x8xf32, strided<[8, 1]>>) outs(%r : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %x : f32
    linalg.yield %s : f32
  }
  return %r : memref<4x8xf32>
}

// -----

// Passed to a call, or already freed: left alone (one dealloc, the one
// written).
// CHECK-LABEL: func.func @escapes(
// CHECK:         %[[A:.*]] = memref.alloc()
// CHECK:         %[[B:.*]] = memref.alloc()
// CHECK:         call @sink(%[[A]])
// CHECK-NOT:     memref.dealloc %[[A]]
// CHECK:         memref.dealloc %[[B]]
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func private @sink(memref<4xf32>)
func.func @escapes(%d: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  gpu.memcpy %a, %d : memref<4xf32>, memref<4xf32>
  gpu.memcpy %b, %d : memref<4xf32>, memref<4xf32>
  call @sink(%a) : (memref<4xf32>) -> ()
  memref.dealloc %b : memref<4xf32>
  return
}
