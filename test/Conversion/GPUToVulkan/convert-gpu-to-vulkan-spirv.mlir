// RUN: attn-opt %s --attn-convert-gpu-to-vulkan-spirv | FileCheck %s

// A kernel with every kind of argument the Vulkan ABI passes: memrefs of
// dynamic and static shape (flattened, offset and sizes from the params
// buffer), index, f32, i32 and i1 scalars (params words), workgroup and
// private attributions (Workgroup and Function variables).

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%x: memref<?x?xf32>, %n: index, %a: f32, %y: memref<4x8xf16>,
                    %k: i32, %flag: i1)
        workgroup(%tile : memref<8xf32, #gpu.address_space<workgroup>>)
        private(%acc : memref<2xf32, #gpu.address_space<private>>)
        kernel attributes {known_block_size = array<i32: 8, 1, 1>} {
      %t = gpu.thread_id x
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %rows = memref.dim %x, %c0 : memref<?x?xf32>
      %v = memref.load %x[%c1, %t] : memref<?x?xf32>
      %s = arith.mulf %v, %a : f32
      memref.store %s, %tile[%t] : memref<8xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %w = memref.load %tile[%t] : memref<8xf32, #gpu.address_space<workgroup>>
      memref.store %w, %acc[%c0] : memref<2xf32, #gpu.address_space<private>>
      %u = memref.load %acc[%c0] : memref<2xf32, #gpu.address_space<private>>
      %kf = arith.sitofp %k : i32 to f32
      %z = arith.select %flag, %u, %kf : f32
      %h = arith.truncf %z : f32 to f16
      %i = arith.addi %rows, %n : index
      memref.store %h, %y[%c0, %i] : memref<4x8xf16>
      gpu.return
    }
  }
}

// The gpu.module stays for the host's launches; the shaders go beside it.
// CHECK: gpu.module @kernels
// CHECK: spirv.module @__spv__kernels Logical GLSL450 requires #spirv.vce<{{[^>]*}}Float16{{[^>]*}}SPV_KHR_16bit_storage{{[^>]*}}>
// CHECK-SAME: attn.vulkan_kernels = [{
// Per argument: kind, rank, element bytes, binding, first params word.
// CHECK-SAME: args = array<i32: 0, 2, 4, 0, 0, 1, 0, 0, 0, 3, 3, 0, 0, 0, 4, 0, 2, 2, 1, 5, 2, 0, 0, 0, 8, 4, 0, 0, 0, 9>
// CHECK-SAME: name = "scale", params_binding = 2 : i32, params_words = 11 : i32, shared_bytes = 32 : i32, workgroup_size = array<i32: 8, 1, 1>
// Buffers and params at set 0, bindings 0, 1, 2.
// CHECK-DAG: spirv.GlobalVariable @[[X:.*]] bind(0, 0) : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0])>, StorageBuffer>
// CHECK-DAG: spirv.GlobalVariable @[[Y:.*]] bind(0, 1) : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f16, stride=2> [0])>, StorageBuffer>
// CHECK-DAG: spirv.GlobalVariable @[[P:.*]] bind(0, 2) : !spirv.ptr<!spirv.struct<(!spirv.array<11 x i32, stride=4> [0])>, StorageBuffer>
// CHECK-DAG: spirv.GlobalVariable @{{.*}} : !spirv.ptr<!spirv.struct<(!spirv.array<8 x f32>)>, Workgroup>
// CHECK: spirv.func @scale()
// CHECK: spirv.Variable : !spirv.ptr<!spirv.struct<(!spirv.array<2 x f32>)>, Function>
// CHECK: spirv.ControlBarrier <Workgroup>, <Workgroup>
// CHECK: spirv.EntryPoint "GLCompute" @scale
// CHECK: spirv.ExecutionMode @scale "LocalSize", 8, 1, 1
