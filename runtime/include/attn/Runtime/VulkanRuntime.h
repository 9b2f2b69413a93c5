//===- VulkanRuntime.h - attn's Vulkan layer --------------------*- C++ -*-===//
//
// Runs the kernels of attn's Vulkan target (SPIR-V compute shaders in the
// container of VulkanKernelBinary.h) on a Vulkan device, with the Vulkan
// loader (libvulkan.so.1) opened at run time with dlopen. On a machine
// without a GPU, Mesa's lavapipe is such a device.
//
// Host code built for Vulkan calls the attnVulkan* counterparts of the
// mgpu* functions (attn-use-vulkan-runtime renames them); module loads and
// launches arrive through mgpu* (GpuRuntime.cpp), which hands Vulkan
// containers and handles to this layer.
//
// Memory: a "device pointer" is persistently mapped host-visible memory of
// a storage buffer, so copies are plain memcpy; every launch is submitted
// and waited for before it returns, so host code always sees finished
// results. A module load checks the container against itself (argument
// kinds, params words, bindings), the device (features, limits) and its
// SPIR-V (each kernel a compute entry point of its workgroup size); a
// launch checks its parameters against the kernel's ABI and each memref
// against the allocation that holds it (a memref without elements needs
// none). Errors never abort: the first one is kept (with the VkResult
// name) and every later call does nothing until the host takes it with
// attnVulkanTakeError(). Environment: ATTN_VULKAN_DEVICE=N picks the N-th
// device; ATTN_VULKAN_VALIDATION=1 turns on the Khronos validation layer,
// and each warning or error it reports becomes the layer's error.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_VULKANRUNTIME_H
#define ATTN_RUNTIME_VULKANRUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {

/// What the compiler fits kernels to when it compiles for this device.
struct AttnVulkanDeviceLimits {
  char deviceName[256];
  uint32_t maxComputeSharedMemorySize;
  uint32_t maxComputeWorkGroupInvocations;
  uint32_t maxComputeWorkGroupSize[3];
  uint32_t subgroupSize;
  uint64_t maxStorageBufferRange;
  /// The attn::vulkan::Feature bits (VulkanKernelBinary.h) the device has;
  /// the layer enables them all.
  uint32_t features;
};

/// Loads the loader and creates the device once. True when usable;
/// otherwise the reason is recorded.
bool attnVulkanInit();
/// The first error since the last call, or null; clears it. The string
/// lives until the next failure.
const char *attnVulkanTakeError();
bool attnVulkanHasError();
/// Fills `limits` from the device (initializing it); false when there is
/// none (the reason is recorded).
bool attnVulkanDeviceLimits(AttnVulkanDeviceLimits *limits);
/// Benchmarks: while on, each dispatch is bracketed by timestamp queries
/// and its time added up. Turning it on or off resets the total.
void attnVulkanSetKernelTiming(bool enable);
/// Milliseconds the kernels ran since the last call; resets the total.
double attnVulkanKernelMilliseconds();
/// Records `message` as this layer's error (GpuRuntime.cpp reports a
/// binary that no layer of this build can load through it).
void attnVulkanFail(const char *message);

/// Module loads and launches (called through the mgpu* dispatch).
void *attnVulkanModuleLoad(void *data, size_t size);
void attnVulkanModuleUnload(void *module);
void *attnVulkanModuleGetFunction(void *module, const char *name);
void attnVulkanLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                            intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                            intptr_t blockZ, int32_t sharedMemBytes,
                            void *stream, void **params, void **extra,
                            size_t paramsCount);
/// Whether a module or function handle belongs to this layer.
bool attnVulkanOwnsModule(void *module);
bool attnVulkanOwnsFunction(void *function);

/// The mgpu* functions of host code built for Vulkan, same signatures.
void *attnVulkanStreamCreate();
void attnVulkanStreamDestroy(void *stream);
void attnVulkanStreamSynchronize(void *stream);
void attnVulkanStreamWaitEvent(void *stream, void *event);
void *attnVulkanEventCreate();
void attnVulkanEventDestroy(void *event);
void attnVulkanEventSynchronize(void *event);
void attnVulkanEventRecord(void *event, void *stream);
void *attnVulkanMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void attnVulkanMemFree(void *ptr, void *stream);
void attnVulkanMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void attnVulkanMemset32(void *dst, unsigned int value, size_t count,
                        void *stream);
void attnVulkanMemset16(void *dst, unsigned short value, size_t count,
                        void *stream);
void attnVulkanMemHostRegister(void *ptr, uint64_t sizeBytes);
void attnVulkanMemHostUnregister(void *ptr);
void attnVulkanMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                     int64_t elementSizeBytes);
void attnVulkanMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                       int64_t elementSizeBytes);
void attnVulkanSetDefaultDevice(int32_t device);
}

#endif // ATTN_RUNTIME_VULKANRUNTIME_H
