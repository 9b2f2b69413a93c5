// RUN: attn-opt %s --attn-result-buffers --split-input-file | FileCheck %s

// A returned allocation of the body becomes attnAllocateResult for its
// result index: static sizes, 4 bytes per f32, alignment at least 64; the
// descriptor is dense row-major.

// CHECK-LABEL: llvm.func @attnAllocateResult(i64, i64, i64) -> !llvm.ptr
// CHECK-LABEL: func.func @two_results
// CHECK-NOT:     memref.alloc
// CHECK-DAG:     %[[I0:.*]] = arith.constant 0 : i64
// CHECK-DAG:     %[[A64:.*]] = arith.constant 64 : i64
// CHECK:         %[[P0:.*]] = llvm.call @attnAllocateResult(%[[I0]], %{{.*}}, %[[A64]])
// CHECK:         %[[M0:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<3x5xf32>
// CHECK:         %[[A128:.*]] = arith.constant 128 : i64
// CHECK:         llvm.call @attnAllocateResult(%{{.*}}, %{{.*}}, %[[A128]])
// CHECK:         %[[M1:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<7xi8>
// CHECK:         memref.store %{{.*}}, %[[M0]]
// CHECK:         return %[[M0]], %[[M1]]
func.func @two_results(%x: f32) -> (memref<3x5xf32>, memref<7xi8>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<3x5xf32>
  %b = memref.alloc() {alignment = 128 : i64} : memref<7xi8>
  %c0 = arith.constant 0 : index
  memref.store %x, %a[%c0, %c0] : memref<3x5xf32>
  return %a, %b : memref<3x5xf32>, memref<7xi8>
}

// -----

// Dynamic sizes: the byte count multiplies the alloc's size operands.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME:    (%[[N:.*]]: index)
// CHECK:         %[[NI:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK:         %[[E:.*]] = arith.muli %{{.*}}, %[[NI]] : i64
// CHECK:         %[[B:.*]] = arith.muli %[[E]], %{{.*}} : i64
// CHECK:         llvm.call @attnAllocateResult(%{{.*}}, %[[B]], %{{.*}})
// CHECK-NOT:     memref.alloc
func.func @dynamic(%n: index) -> memref<?x16xbf16> {
  %a = memref.alloc(%n) : memref<?x16xbf16>
  return %a : memref<?x16xbf16>
}

// -----

// Left alone: a private function, an argument, an allocation inside a
// branch, one that is freed, and one with a strided layout.
// CHECK-NOT: llvm.func @attnAllocateResult
// CHECK-LABEL: func.func private @helper
// CHECK:         memref.alloc
func.func private @helper() -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
// CHECK-LABEL: func.func @argument
// CHECK-NEXT:    return %arg0
func.func @argument(%m: memref<4xf32>) -> memref<4xf32> {
  return %m : memref<4xf32>
}
// CHECK-LABEL: func.func @branch
// CHECK:         scf.if
// CHECK:           memref.alloc
func.func @branch(%c: i1, %m: memref<4xf32>) -> memref<4xf32> {
  %r = scf.if %c -> memref<4xf32> {
    %a = memref.alloc() : memref<4xf32>
    scf.yield %a : memref<4xf32>
  } else {
    scf.yield %m : memref<4xf32>
  }
  return %r : memref<4xf32>
}
// CHECK-LABEL: func.func @freed
// CHECK:         memref.alloc
func.func @freed() -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return %a : memref<4xf32>
}
// CHECK-LABEL: func.func @strided
// CHECK:         memref.alloc
func.func @strided() -> memref<4xf32, strided<[2]>> {
  %a = memref.alloc() : memref<4xf32, strided<[2]>>
  return %a : memref<4xf32, strided<[2]>>
}

// -----

// A buffer returned twice is offered for its first result only.
// CHECK-LABEL: func.func @twice
// CHECK:         llvm.call @attnAllocateResult
// CHECK-NOT:     llvm.call @attnAllocateResult
// CHECK:         return %[[M:.*]], %[[M]]
func.func @twice() -> (memref<4xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  return %a, %a : memref<4xf32>, memref<4xf32>
}

// -----

// An entry that the module calls too: the call takes a private clone that
// allocates as before.
// CHECK-LABEL: func.func @inner
// CHECK:         llvm.call @attnAllocateResult
// CHECK-LABEL: func.func private @inner.attn_internal
// CHECK:         memref.alloc
// CHECK-LABEL: func.func @outer
// CHECK:         call @inner.attn_internal()
func.func @inner() -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
func.func @outer() -> memref<4xf32> {
  %r = call @inner() : () -> memref<4xf32>
  return %r : memref<4xf32>
}
