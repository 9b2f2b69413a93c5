//===- CudaRuntime.h - attn's CUDA driver-API layer -------------*- C++ -*-===//
//
// The mgpu* functions that MLIR 22's gpu-to-llvm lowering calls (streams,
// events, alloc/free, memcpy, memset, host registration; module loads and
// launches as attnCuda*, which GpuRuntime.h's mgpu* dispatch to),
// implemented on the CUDA driver API, which is loaded at run time with
// dlopen("libcuda.so.1").
//
// Compiled code cannot check errors, so failures never abort: the first
// failure is recorded (with the CUDA error name) and every later call
// becomes a no-op until the host reads and clears it with
// attnCudaTakeError(). No driver, no device, or a CUDA error all end there.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CUDARUNTIME_H
#define ATTN_RUNTIME_CUDARUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {

/// Loads the driver and initializes device 0 if not done yet. Returns true
/// when a device is usable; otherwise records why.
bool attnCudaInit();
/// The first error since the last call, or null; clears it. The string lives
/// until the next failure.
const char *attnCudaTakeError();
/// Whether an error is pending.
bool attnCudaHasError();
/// Benchmarks: while on, every kernel launch is bracketed by CUDA events and
/// waited for, and its time added up (copies are not counted). Turning it
/// on or off resets the total.
void attnCudaSetKernelTiming(bool enable);
/// Milliseconds the kernels ran since the last call (or since timing was
/// turned on); resets the total.
double attnCudaKernelMilliseconds();

/// Module loads and launches on CUDA, which the mgpu* functions of the same
/// names (GpuRuntime.h) dispatch to for CUDA images.
void *attnCudaModuleLoad(void *data, size_t size);
void *attnCudaModuleLoadJIT(void *data, int optLevel);
void attnCudaModuleUnload(void *module);
void *attnCudaModuleGetFunction(void *module, const char *name);
void attnCudaLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                          intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                          intptr_t blockZ, int32_t sharedMemBytes,
                          void *stream, void **params, void **extra,
                          size_t paramsCount);
void attnCudaLaunchClusterKernel(void *function, intptr_t clusterX,
                                 intptr_t clusterY, intptr_t clusterZ,
                                 intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ,
                                 int32_t sharedMemBytes, void *stream,
                                 void **params, void **extra,
                                 size_t paramsCount);
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate();
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void *stream);
void mgpuMemHostRegister(void *ptr, uint64_t sizeBytes);
void mgpuMemHostUnregister(void *ptr);
void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementSizeBytes);
void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementSizeBytes);
void mgpuSetDefaultDevice(int32_t device);
}

#endif // ATTN_RUNTIME_CUDARUNTIME_H
