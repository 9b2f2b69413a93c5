//===- GpuRuntime.cpp - Module loads and launches of every GPU layer ------===//
//
// See GpuRuntime.h. Built when at least one GPU layer is.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/GpuRuntime.h"
#ifdef ATTN_HAS_CUDA_RUNTIME
#include "attn/Runtime/CudaRuntime.h"
#endif
#ifdef ATTN_HAS_VULKAN_RUNTIME
#include "attn/Runtime/VulkanKernelBinary.h"
#include "attn/Runtime/VulkanRuntime.h"
#endif

namespace {

#ifdef ATTN_HAS_VULKAN_RUNTIME
bool isVulkanBinary(const void *data, size_t size) {
  return attn::vulkan::isKernelBinary(data, size);
}
bool isVulkanModule(void *module) { return attnVulkanOwnsModule(module); }
bool isVulkanFunction(void *function) {
  return attnVulkanOwnsFunction(function);
}
#else
bool isVulkanBinary(const void *, size_t) { return false; }
bool isVulkanModule(void *) { return false; }
bool isVulkanFunction(void *) { return false; }
#endif

/// Records `what`, something no layer of this build can do (a CUDA image
/// without the CUDA layer, a launch of a kernel never loaded), as the
/// sticky first error (the Vulkan layer's, where there is one).
void *unsupported(const char *what) {
#if defined(ATTN_HAS_VULKAN_RUNTIME)
  attnVulkanFail(what);
#else
  (void)what;
#endif
  return nullptr;
}

/// Whether some layer has recorded an error that its caller has not taken.
bool anyErrorPending() {
#ifdef ATTN_HAS_CUDA_RUNTIME
  if (attnCudaHasError())
    return true;
#endif
#ifdef ATTN_HAS_VULKAN_RUNTIME
  if (attnVulkanHasError())
    return true;
#endif
  return false;
}

} // namespace

extern "C" {

void *mgpuModuleLoad(void *data, size_t size) {
#ifdef ATTN_HAS_VULKAN_RUNTIME
  if (isVulkanBinary(data, size))
    return attnVulkanModuleLoad(data, size);
#endif
#ifdef ATTN_HAS_CUDA_RUNTIME
  return attnCudaModuleLoad(data, size);
#else
  return unsupported("a CUDA kernel image, but this build of attn has no "
                     "CUDA layer (no cuda.h at build time)");
#endif
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
#ifdef ATTN_HAS_CUDA_RUNTIME
  return attnCudaModuleLoadJIT(data, optLevel);
#else
  (void)data;
  (void)optLevel;
  return unsupported("PTX to compile, but this build of attn has no CUDA "
                     "layer (no cuda.h at build time)");
#endif
}

void mgpuModuleUnload(void *module) {
#ifdef ATTN_HAS_VULKAN_RUNTIME
  if (isVulkanModule(module))
    return attnVulkanModuleUnload(module);
#endif
#ifdef ATTN_HAS_CUDA_RUNTIME
  attnCudaModuleUnload(module);
#endif
}

void *mgpuModuleGetFunction(void *module, const char *name) {
#ifdef ATTN_HAS_VULKAN_RUNTIME
  if (isVulkanModule(module))
    return attnVulkanModuleGetFunction(module, name);
#endif
#ifdef ATTN_HAS_CUDA_RUNTIME
  return attnCudaModuleGetFunction(module, name);
#else
  (void)name;
  // A module that failed to load (its error is recorded) or a foreign one.
  return module ? unsupported("a kernel of a module no layer loaded")
                : nullptr;
#endif
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemBytes, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  if (!function) {
    // A kernel whose module or lookup failed: that error, in the layer that
    // failed, is the one reported. Otherwise this is the error.
    if (!anyErrorPending())
      unsupported("a launch of a kernel that was never loaded");
    return;
  }
#ifdef ATTN_HAS_VULKAN_RUNTIME
  if (isVulkanFunction(function))
    return attnVulkanLaunchKernel(function, gridX, gridY, gridZ, blockX,
                                  blockY, blockZ, sharedMemBytes, stream,
                                  params, extra, paramsCount);
#endif
#ifdef ATTN_HAS_CUDA_RUNTIME
  attnCudaLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                       sharedMemBytes, stream, params, extra, paramsCount);
#else
  unsupported("a launch of a kernel no layer loaded");
#endif
}

void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t sharedMemBytes, void *stream,
                             void **params, void **extra, size_t paramsCount) {
  if (isVulkanFunction(function)) {
    unsupported("a cluster launch of a Vulkan kernel: Vulkan has no thread "
                "block clusters");
    return;
  }
#ifdef ATTN_HAS_CUDA_RUNTIME
  attnCudaLaunchClusterKernel(function, clusterX, clusterY, clusterZ, gridX,
                              gridY, gridZ, blockX, blockY, blockZ,
                              sharedMemBytes, stream, params, extra,
                              paramsCount);
#else
  (void)clusterX, (void)clusterY, (void)clusterZ, (void)gridX, (void)gridY,
      (void)gridZ, (void)blockX, (void)blockY, (void)blockZ,
      (void)sharedMemBytes, (void)stream, (void)params, (void)extra,
      (void)paramsCount;
  if (function)
    unsupported("a cluster launch of a kernel no layer loaded");
#endif
}

} // extern "C"
