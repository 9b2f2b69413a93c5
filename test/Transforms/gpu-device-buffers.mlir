// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-gpu-device-buffers | FileCheck %s

// An input read by two launches is copied in once; the result is allocated
// before its first launch and copied back after its last; scratch that only
// the launches use lives on the device only (its host allocation is gone).

// CHECK-LABEL: func.func @two_launches(
// CHECK-SAME:      %[[IN:.*]]: tensor<?x4xf32>
// CHECK:         %[[HOST_IN:.*]] = bufferization.to_buffer %[[IN]]
// CHECK:         %[[OUT:.*]] = memref.alloc(%[[N:.*]]) : memref<?x4xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         %[[DIM:.*]] = memref.dim %[[HOST_IN]], %c0
// CHECK:         %[[D_IN:.*]] = gpu.alloc (%[[DIM]]) : memref<?x4xf32>
// CHECK-NEXT:    gpu.memcpy %[[D_IN]], %[[HOST_IN]] :
// CHECK:         %[[D_TMP:.*]] = gpu.alloc (%[[N]]) : memref<?x4xf32>
// CHECK-NOT:     gpu.memcpy
// CHECK:         gpu.launch
// CHECK:           memref.load %[[D_IN]]
// CHECK:           memref.store %{{.*}}, %[[D_TMP]]
// CHECK:         %[[D_OUT:.*]] = gpu.alloc (%[[N]]) : memref<?x4xf32>
// CHECK-NOT:     gpu.memcpy
// CHECK:         gpu.launch
// CHECK:           memref.load %[[D_TMP]]
// CHECK:           memref.load %[[D_IN]]
// CHECK:           memref.store %{{.*}}, %[[D_OUT]]
// CHECK:         gpu.memcpy %[[OUT]], %[[D_OUT]] :
// CHECK-NEXT:    gpu.dealloc %[[D_OUT]] :
// CHECK-DAG:     gpu.dealloc %[[D_TMP]] :
// CHECK-DAG:     gpu.dealloc %[[D_IN]] :
// CHECK-NOT:     gpu.memcpy
// CHECK:         bufferization.to_tensor %[[OUT]]
func.func @two_launches(%in: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %host_in = bufferization.to_buffer %in read_only : tensor<?x4xf32> to memref<?x4xf32>
  %n = tensor.dim %in, %c0 : tensor<?x4xf32>
  %out = memref.alloc(%n) : memref<?x4xf32>
  %tmp = memref.alloc(%n) : memref<?x4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %x = memref.load %host_in[%bx, %c0] : memref<?x4xf32>
    memref.store %x, %tmp[%bx, %c0] : memref<?x4xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %x = memref.load %tmp[%bx, %c0] : memref<?x4xf32>
    %y = memref.load %host_in[%bx, %c0] : memref<?x4xf32>
    %z = arith.addf %x, %y : f32
    memref.store %z, %out[%bx, %c0] : memref<?x4xf32>
    gpu.terminator
  }
  %t = bufferization.to_tensor %out restrict writable : memref<?x4xf32> to tensor<?x4xf32>
  return %t : tensor<?x4xf32>
}

// -----

// A function argument that a launch writes (through a view) is copied in
// and back: the caller owns its memory. One that a launch only reads is
// copied in only. A buffer the host filled before the launch is copied in.

// CHECK-LABEL: func.func @arguments(
// CHECK-SAME:      %[[RW:[^:]*]]: memref<8xf32>, %[[RO:[^:]*]]: memref<8xf32>
// CHECK:         %[[FILLED:.*]] = memref.alloc() : memref<8xf32>
// CHECK:         memref.store %{{.*}}, %[[FILLED]]
// CHECK:         %[[D_RW:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:    gpu.memcpy %[[D_RW]], %[[RW]] :
// CHECK:         %[[D_RO:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:    gpu.memcpy %[[D_RO]], %[[RO]] :
// CHECK:         %[[D_FILLED:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:    gpu.memcpy %[[D_FILLED]], %[[FILLED]] :
// CHECK:         gpu.launch
// CHECK:           memref.subview %[[D_RW]]
// CHECK:         }
// CHECK-DAG:     gpu.dealloc %[[D_RO]] :
// CHECK-DAG:     gpu.dealloc %[[D_FILLED]] :
// CHECK:         gpu.memcpy %[[RW]], %[[D_RW]] :
// CHECK-NEXT:    gpu.dealloc %[[D_RW]] :
// CHECK-NOT:     gpu.memcpy
// CHECK:         return
func.func @arguments(%rw: memref<8xf32>, %ro: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %filled = memref.alloc() : memref<8xf32>
  memref.store %one, %filled[%c0] : memref<8xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %view = memref.subview %rw[2] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: 2>>
    %x = memref.load %ro[%c0] : memref<8xf32>
    %y = memref.load %filled[%c0] : memref<8xf32>
    %z = arith.addf %x, %y : f32
    memref.store %z, %view[%c0] : memref<4xf32, strided<[1], offset: 2>>
    gpu.terminator
  }
  return
}

// -----

// A host use between two launches splits them into two runs, each with its
// own device copy: the first copied out before the host use, the second
// copied in after it. So do launches in another block; a run copies back
// only what its own launches write.

// CHECK-LABEL: func.func @host_between(
// CHECK-SAME:      %[[IN:[^:]*]]: memref<8xf32>
// CHECK:         %[[D1:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:    gpu.memcpy %[[D1]], %[[IN]] :
// CHECK-NEXT:    gpu.launch
// CHECK:           memref.store %{{.*}}, %[[D1]]
// CHECK:         gpu.memcpy %[[IN]], %[[D1]] :
// CHECK-NEXT:    gpu.dealloc %[[D1]] :
// CHECK-NEXT:    memref.store %{{.*}}, %[[IN]]
// CHECK-NEXT:    %[[D2:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:    gpu.memcpy %[[D2]], %[[IN]] :
// CHECK-NEXT:    gpu.launch
// CHECK:           memref.store %{{.*}}, %[[D2]]
// CHECK:         gpu.memcpy %[[IN]], %[[D2]] :
// CHECK-NEXT:    gpu.dealloc %[[D2]] :
func.func @host_between(%in: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %one, %in[%c0] : memref<8xf32>
    gpu.terminator
  }
  memref.store %one, %in[%c1] : memref<8xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %one, %in[%c0] : memref<8xf32>
    gpu.terminator
  }
  return
}

// -----

// CHECK-LABEL: func.func @two_blocks(
// CHECK-SAME:      %[[IN:[^:]*]]: memref<8xf32>
// CHECK:         %[[TMP:.*]] = memref.alloc() : memref<8xf32>
// CHECK:         %[[D1:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NOT:     gpu.memcpy %[[D1]], %[[TMP]]
// CHECK:         gpu.launch
// CHECK:         gpu.memcpy %[[TMP]], %[[D1]] :
// CHECK-NEXT:    gpu.dealloc %[[D1]] :
// CHECK:         scf.if
// CHECK-NEXT:      %[[D2:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:      gpu.memcpy %[[D2]], %[[TMP]] :
// CHECK-NEXT:      %[[D3:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:      gpu.memcpy %[[D3]], %[[IN]] :
// CHECK-NEXT:      gpu.launch
// CHECK:             memref.load %[[D2]]
// CHECK:             memref.store %{{.*}}, %[[D3]]
// CHECK:           gpu.memcpy %[[IN]], %[[D3]] :
// CHECK-NEXT:      gpu.dealloc %[[D3]] :
// CHECK-NEXT:      gpu.dealloc %[[D2]] :
// CHECK-NEXT:    }
func.func @two_blocks(%in: memref<8xf32>, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %tmp = memref.alloc() : memref<8xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %one, %tmp[%c0] : memref<8xf32>
    gpu.terminator
  }
  scf.if %flag {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      %x = memref.load %tmp[%c0] : memref<8xf32>
      memref.store %x, %in[%c0] : memref<8xf32>
      gpu.terminator
    }
  }
  return
}

// -----

// A strided buffer (a slice) goes through a contiguous staging buffer both
// ways (an argument: the caller reads what the launch wrote); the launch
// stores into the contiguous device copy.
// CHECK-LABEL: func.func @strided(
// CHECK-SAME:      %[[IN:[^:]+]]: memref<8xf32, strided<[2]>>
// CHECK:         %[[STAGE:.*]] = memref.alloc() : memref<8xf32>
// CHECK:         %[[DEV:.*]] = gpu.alloc  () : memref<8xf32>
// CHECK:         memref.copy %[[IN]], %[[STAGE]]
// CHECK:         gpu.memcpy  %[[DEV]], %[[STAGE]]
// CHECK:         gpu.launch
// CHECK:           memref.store %{{.*}}, %[[DEV]][%{{.*}}] : memref<8xf32>
// CHECK:         gpu.memcpy  %[[STAGE]], %[[DEV]]
// CHECK:         memref.copy %[[STAGE]], %[[IN]]
// CHECK:         gpu.dealloc  %[[DEV]]
// CHECK:         memref.dealloc %[[STAGE]]
func.func @strided(%in: memref<8xf32, strided<[2]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %one, %in[%c0] : memref<8xf32, strided<[2]>>
    gpu.terminator
  }
  return
}

// -----

func.func @strided_view(%in: memref<8xf32, strided<[2]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error @+1 {{'memref.subview' op uses the host buffer of type 'memref<8xf32, strided<[2]>>' inside a gpu.launch; its layout is not the identity, so its device copy is contiguous, and only memref.load and memref.store may index that in its place}}
    %v = memref.subview %in[0] [4] [1] : memref<8xf32, strided<[2]>> to memref<4xf32, strided<[2]>>
    memref.store %one, %v[%c0] : memref<4xf32, strided<[2]>>
    gpu.terminator
  }
  return
}

// -----

// A run nested below its buffer's block may repeat (a loop): what one
// iteration's launch writes, the next one reads, so the device copy is
// filled from and written back to the host buffer around each run, and the
// buffer stays on the host.

// CHECK-LABEL: func.func @in_loop(
// CHECK:         %[[ACC:.*]] = memref.alloc() : memref<8xf32>
// CHECK:         scf.for
// CHECK-NEXT:      %[[D:.*]] = gpu.alloc () : memref<8xf32>
// CHECK-NEXT:      gpu.memcpy %[[D]], %[[ACC]] :
// CHECK-NEXT:      gpu.launch
// CHECK:             memref.load %[[D]]
// CHECK:             memref.store %{{.*}}, %[[D]]
// CHECK:           gpu.memcpy %[[ACC]], %[[D]] :
// CHECK-NEXT:      gpu.dealloc %[[D]] :
func.func @in_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %acc = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %n step %c1 {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      %x = memref.load %acc[%c0] : memref<8xf32>
      %y = arith.addf %x, %one : f32
      memref.store %y, %acc[%c0] : memref<8xf32>
      gpu.terminator
    }
  }
  return
}
