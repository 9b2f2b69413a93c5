// REQUIRES: spirv-tools
// RUN: attn-opt %s --attn-convert-gpu-to-vulkan-spirv --attn-serialize-vulkan-kernels | FileCheck %s
// RUN: attn-opt %s --attn-convert-gpu-to-vulkan-spirv --attn-serialize-vulkan-kernels -o %t.mlir
// RUN: %python %S/../../GPU/vulkan_kernels.py %t.mlir --validate | FileCheck %s --check-prefix=ABI

// The gpu.module and its SPIR-V become one gpu.binary that holds attn's
// Vulkan kernel container; the launch keeps naming the kernel.

module attributes {gpu.container_module} {
  func.func @host(%x: memref<?xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@add blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%x : memref<?xf32>, %n : index)
    return
  }
  gpu.module @kernels {
    gpu.func @add(%x: memref<?xf32>, %n: index)
        kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%n] : memref<?xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %x[%c0] : memref<?xf32>
      gpu.return
    }
  }
}

// CHECK-NOT: gpu.module
// CHECK-NOT: spirv.module
// CHECK: gpu.launch_func @kernels::@add
// CHECK: gpu.binary @kernels [#gpu.object<#spirv.target_env<{{.*}}>, bin = "ATTNVK01

// ABI: binary @kernels: version 1 features 0x40
// ABI:   kernel add: workgroup 1x1x1 shared 0 params binding 1 words 4
// ABI:     arg 0: buffer rank 1 element 4 bytes binding 0 word 0
// ABI:     arg 1: index word 2
// ABI:   spirv-val: valid
