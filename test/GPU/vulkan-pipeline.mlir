// Both GPU APIs build the same gpu-dialect kernels: attn-gpu-pipeline with
// api=cuda and api=vulkan prints identical gpu.modules after outlining (the
// last step they share); only the conversions after it differ.
// RUN: attn-opt %s --attn-gpu-pipeline="api=cuda format=isa" --mlir-print-ir-after=attn-deallocate-host-buffers -o /dev/null 2> %t.cuda
// RUN: attn-opt %s --attn-gpu-pipeline="api=vulkan" --mlir-print-ir-after=attn-deallocate-host-buffers -o /dev/null 2> %t.vulkan
// RUN: %python %S/gpu_modules.py %t.cuda > %t.cuda.kernels
// RUN: %python %S/gpu_modules.py %t.vulkan > %t.vulkan.kernels
// RUN: diff %t.cuda.kernels %t.vulkan.kernels
// RUN: FileCheck %s --check-prefix=KERNEL < %t.vulkan.kernels

// The Vulkan pipeline ends with the kernels in a gpu.binary of attn's
// container and host calls to the Vulkan layer of the runtime.
// RUN: attn-opt %s --attn-gpu-pipeline="api=vulkan" | FileCheck %s

// Options of one API are errors with the other; an unknown API is an error.
// RUN: not attn-opt %s --attn-gpu-pipeline="api=metal" 2>&1 | FileCheck %s --check-prefix=API
// RUN: not attn-opt %s --attn-gpu-pipeline="api=vulkan tensor-cores=true" 2>&1 | FileCheck %s --check-prefix=MMA
// RUN: not attn-opt %s --attn-gpu-pipeline="api=vulkan chip=sm_80" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not attn-opt %s --attn-gpu-pipeline="shared-memory=-1" 2>&1 | FileCheck %s --check-prefix=SHARED

// KERNEL: gpu.module @main_kernel
// KERNEL: gpu.func @main_kernel
// KERNEL-SAME: workgroup(
// KERNEL-SAME: kernel

// CHECK-NOT: llvm.call @mgpu
// CHECK: llvm.call @attnVulkanMemAlloc
// CHECK-NOT: llvm.call @mgpu
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @main_kernel::@main_kernel
// CHECK-NOT: llvm.call @mgpu
// CHECK: gpu.binary @main_kernel [#gpu.object<#spirv.target_env<{{.*}}>, bin = "ATTNVK01

// API: error: attn-gpu-pipeline: api = 'metal' is not a GPU API (expected cuda or vulkan)
// MMA: error: attn-gpu-pipeline: tensor-cores needs api=cuda: Vulkan kernels have no mma.sync form
// CHIP: error: attn-gpu-pipeline: chip applies to api=cuda only
// SHARED: error: attn-gpu-pipeline: shared-memory = -1 must be 0 (the API's default) or positive

func.func @main(%q: tensor<1x4x10x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x16xf32>) -> tensor<1x4x10x16xf32> {
  %init = tensor.empty() : tensor<1x4x10x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x10x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x16xf32>)
                      outs(%init : tensor<1x4x10x16xf32>) {causal} -> tensor<1x4x10x16xf32>
  return %o : tensor<1x4x10x16xf32>
}
