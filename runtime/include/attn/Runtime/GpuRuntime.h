//===- GpuRuntime.h - Module loads and launches of every GPU layer -*- C++ -*-=//
//
// MLIR 22 turns gpu.binary and gpu.launch_func into calls of these mgpu*
// functions only when the module is translated to LLVM IR, under the same
// names for every GPU API. They dispatch: a Vulkan kernel container (and the
// module and function handles the Vulkan layer returned) go to the Vulkan
// layer (VulkanRuntime.h), anything else to the CUDA layer (CudaRuntime.h).
// A binary that no layer of this build can load is recorded as an error of
// a layer that is there.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_GPURUNTIME_H
#define ATTN_RUNTIME_GPURUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {
void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);
void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t sharedMemBytes, void *stream,
                             void **params, void **extra, size_t paramsCount);
}

#endif // ATTN_RUNTIME_GPURUNTIME_H
