// RUN: attn-opt %s --split-input-file --attn-convert-gpu-to-vulkan-spirv --verify-diagnostics

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{vulkan target: kernel @k has no static block size (known_block_size)}}
    gpu.func @k(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k has 2048 invocations per workgroup, more than the target's 1024 (maxComputeWorkGroupInvocations)}}
    gpu.func @k(%x: memref<4xf32>) kernel attributes {known_block_size = array<i32: 64, 32, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k uses 65536 bytes of workgroup memory, more than the target's 32768 (maxComputeSharedMemorySize)}}
    gpu.func @k(%x: memref<4xf32>) workgroup(%w : memref<16384xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k argument #0 has type 'memref<4x4xf32, strided<[8, 1]>>': only identity layouts can be flattened}}
    gpu.func @k(%x: memref<4x4xf32, strided<[8, 1]>>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k argument #1 has type 'f64', which the Vulkan kernel ABI cannot pass (index, i32, f32, i1 and memrefs)}}
    gpu.func @k(%x: memref<4xf32>, %a: f64) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k argument #0 has type 'memref<4xf32, #gpu.address_space<workgroup>>', which is not in device memory}}
    gpu.func @k(%x: memref<4xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{kernel @k argument #0 is used by 'memref.subview': only memref.load, memref.store and memref.dim of a constant dimension can be flattened}}
    gpu.func @k(%x: memref<8xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      %s = memref.subview %x[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{vulkan target: gpu.func @helper is not a kernel; device functions have no Vulkan form here}}
    gpu.func @helper(%x: f32) {
      gpu.return
    }
  }
}
