// RUN: attn-opt %s --attn-convert-gpu-to-vulkan-spirv | FileCheck %s

// Loops in Vulkan kernels:
// - a loop with results runs under a selection that yields its initial
//   values when it would not iterate (upstream's scf.for to SPIR-V returns
//   an unwritten variable then);
// - every loop counts its iterations and sets the status word (the last
//   params word) when it ran fewer than its bounds ask for (lavapipe cuts
//   loops short after 65,535 iterations in all);
// - innermost loops of at most 64 known iterations are unrolled, others
//   by 8.

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @sum(%x: memref<?xf32>, %n: index)
        kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %zero = arith.constant 0.0 : f32
      // Dynamic bounds: kept as a loop, guarded and checked.
      %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
        %v = memref.load %x[%i] : memref<?xf32>
        %a = arith.addf %acc, %v : f32
        scf.yield %a : f32
      }
      // Four known iterations: unrolled.
      %t = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %s) -> f32 {
        %a = arith.addf %acc, %acc : f32
        scf.yield %a : f32
      }
      memref.store %t, %x[%c0] : memref<?xf32>
      gpu.return
    }
  }
}

// CHECK-LABEL: spirv.func @sum
// The loop over n, unrolled by 8 with an epilogue loop for the rest; each
// runs under a guard, and its count is checked after it: on a difference
// the status, params word 3 of 4, is set.
// CHECK: spirv.mlir.selection
// CHECK: spirv.mlir.loop
// CHECK-COUNT-8: spirv.FAdd
// CHECK: spirv.INotEqual
// CHECK: spirv.AccessChain %sum_arg_1_addr[%{{.*}}, %cst3_i32] : !spirv.ptr<!spirv.struct<(!spirv.array<4 x i32, stride=4> [0])>, StorageBuffer>
// CHECK-NEXT: spirv.Store "StorageBuffer" %{{.*}}, %cst1_i32
// CHECK: spirv.mlir.selection
// CHECK: spirv.mlir.loop
// CHECK: spirv.FAdd
// CHECK: spirv.INotEqual
// CHECK: spirv.AccessChain %sum_arg_1_addr[%{{.*}}, %cst3_i32]
// CHECK-NEXT: spirv.Store "StorageBuffer" %{{.*}}, %cst1_i32
// The loop of four known iterations: four additions, no loop.
// CHECK-NOT: spirv.mlir.loop
// CHECK-COUNT-4: spirv.FAdd
// CHECK-NOT: spirv.mlir.loop
// CHECK: spirv.Return
