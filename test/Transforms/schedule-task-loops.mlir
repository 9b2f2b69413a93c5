// attn-schedule-task-loops gives schedule(dynamic) to the OpenMP loops whose
// iterations allocate scratch (kernel tasks), and leaves the others and any
// schedule already written.
// RUN: attn-opt %s -split-input-file --convert-scf-to-openmp --attn-schedule-task-loops | FileCheck %s

// CHECK-LABEL: func.func @task_loop
// CHECK: omp.wsloop schedule(dynamic)
func.func @task_loop(%m: memref<8x4xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %scratch = memref.alloca() : memref<4xf32>
    memref.store %x, %scratch[%c0] : memref<4xf32>
    %y = memref.load %scratch[%c0] : memref<4xf32>
    memref.store %y, %m[%i, %c0] : memref<8x4xf32>
  }
  return
}

// -----

// CHECK-LABEL: func.func @elementwise
// CHECK: omp.wsloop {
func.func @elementwise(%m: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %x, %m[%i] : memref<8xf32>
  }
  return
}

// -----

// CHECK-LABEL: func.func @written
// CHECK: omp.wsloop schedule(static)
func.func @written(%m: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  omp.parallel {
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        %scratch = memref.alloca() : memref<1xf32>
        memref.store %x, %scratch[%c0] : memref<1xf32>
        memref.store %x, %m[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
