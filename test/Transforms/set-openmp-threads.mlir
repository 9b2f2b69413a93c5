// attn-set-openmp-threads gives the OpenMP regions of a CPU target the
// threads it writes (what the cost model assumed), and leaves the rest.
// RUN: attn-opt %s -split-input-file --convert-scf-to-openmp --attn-set-openmp-threads | FileCheck %s
// RUN: attn-opt %s -split-input-file --convert-scf-to-openmp="num-threads=5" --attn-set-openmp-threads | FileCheck %s --check-prefix=KEPT

// CHECK-LABEL: func.func @written
// CHECK: %[[N:.*]] = arith.constant 3 : i32
// CHECK: omp.parallel num_threads(%[[N]] : i32)
// A num_threads already there stays.
// KEPT-LABEL: func.func @written
// KEPT-NOT: arith.constant 3 : i32
// KEPT: omp.parallel num_threads(%{{.*}} : i32)
module attributes {attn.target = #attn.target<kind = "cpu", threads = 3>} {
func.func @written(%m: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %x, %m[%i] : memref<8xf32>
  }
  return
}
}

// -----

// A target without threads, or none: the OpenMP runtime's default.
// CHECK-LABEL: func.func @unwritten
// CHECK: omp.parallel {
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 256>} {
func.func @unwritten(%m: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %x, %m[%i] : memref<8xf32>
  }
  return
}
}

// -----

// A GPU target's threads are the device's: host regions keep the default.
// CHECK-LABEL: func.func @gpu_host
// CHECK-NOT: arith.constant 1024
// CHECK: omp.parallel {
module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024>} {
func.func @gpu_host(%m: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %x, %m[%i] : memref<8xf32>
  }
  return
}
}
