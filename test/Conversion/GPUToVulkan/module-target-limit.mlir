// Without shared-memory, kernels are checked against the shared_memory of
// the #attn.target around them (what the strategies planned for), else
// 32768; a shared-memory that disagrees with the target's is an error naming
// both, and one the target leaves out is the limit.
// RUN: attn-opt %s --split-input-file --attn-convert-gpu-to-vulkan-spirv --verify-diagnostics | FileCheck %s
// RUN: not attn-opt %s --split-input-file --attn-convert-gpu-to-vulkan-spirv="shared-memory=4096" -o /dev/null 2>&1 | FileCheck %s --check-prefix=OPTION

// CHECK: name = "k", {{.*}}shared_bytes = 65536 : i32
// OPTION: error: vulkan target: shared-memory = 4096 disagrees with the #attn.target shared_memory = 65536 that the kernels were planned for
// OPTION: kernel @k uses 65536 bytes of workgroup memory, more than the target's 4096 (maxComputeSharedMemorySize)
module attributes {gpu.container_module, attn.target = #attn.target<kind = "gpu", shared_memory = 65536>} {
  gpu.module @m {
    gpu.func @k(%x: memref<4xf32>) workgroup(%w : memref<16384xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module, attn.target = #attn.target<kind = "gpu", threads = 1024>} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k uses 65536 bytes of workgroup memory, more than the target's 32768 (maxComputeSharedMemorySize)}}
    gpu.func @k(%x: memref<4xf32>) workgroup(%w : memref<16384xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
}
