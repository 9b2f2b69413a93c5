// RUN: attn-opt %s --split-input-file --attn-use-vulkan-runtime --verify-diagnostics | FileCheck %s

// The host's runtime calls go to the Vulkan layer; calls to other functions
// stay as they are.

// CHECK-LABEL: llvm.func @host
// CHECK: llvm.call @attnVulkanStreamCreate()
// CHECK: llvm.call @attnVulkanMemAlloc(
// CHECK: llvm.call @attnVulkanMemFree(
// CHECK: llvm.call @free(
// CHECK-DAG: llvm.func @attnVulkanStreamCreate() -> !llvm.ptr
// CHECK-DAG: llvm.func @attnVulkanMemAlloc(i64, !llvm.ptr, i8) -> !llvm.ptr
// CHECK-DAG: llvm.func @attnVulkanMemFree(!llvm.ptr, !llvm.ptr)
// CHECK-NOT: @mgpu
llvm.func @host(%n: i64) {
  %s = llvm.call @mgpuStreamCreate() : () -> !llvm.ptr
  %f = llvm.mlir.constant(0 : i8) : i8
  %p = llvm.call @mgpuMemAlloc(%n, %s, %f) : (i64, !llvm.ptr, i8) -> !llvm.ptr
  llvm.call @mgpuMemFree(%p, %s) : (!llvm.ptr, !llvm.ptr) -> ()
  llvm.call @free(%p) : (!llvm.ptr) -> ()
  llvm.return
}
llvm.func @mgpuStreamCreate() -> !llvm.ptr
llvm.func @mgpuMemAlloc(i64, !llvm.ptr, i8) -> !llvm.ptr
llvm.func @mgpuMemFree(!llvm.ptr, !llvm.ptr)
llvm.func @free(!llvm.ptr)

// -----

// expected-error @+1 {{vulkan target: host code calls mgpuSpMV, which attn's Vulkan runtime does not provide}}
llvm.func @mgpuSpMV(!llvm.ptr) -> !llvm.ptr
