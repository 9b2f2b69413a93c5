//===- CudaRuntime.cpp - attn's CUDA driver-API layer ---------------------===//
//
// See CudaRuntime.h. The driver's functions are looked up with dlsym once;
// cuda.h supplies only the types. Every entry point checks the sticky error
// first, so that after a failure compiled code runs to its end without
// touching the device, and the host reports the first error.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/CudaRuntime.h"

#include <cuda.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace {

struct Driver {
#define ATTN_CU(name, ...) CUresult (*name)(__VA_ARGS__) = nullptr;
  ATTN_CU(cuInit, unsigned int)
  ATTN_CU(cuDeviceGetCount, int *)
  ATTN_CU(cuDeviceGet, CUdevice *, int)
  ATTN_CU(cuDevicePrimaryCtxRetain, CUcontext *, CUdevice)
  ATTN_CU(cuCtxSetCurrent, CUcontext)
  ATTN_CU(cuGetErrorName, CUresult, const char **)
  ATTN_CU(cuGetErrorString, CUresult, const char **)
  ATTN_CU(cuModuleLoadData, CUmodule *, const void *)
  ATTN_CU(cuModuleLoadDataEx, CUmodule *, const void *, unsigned int,
          CUjit_option *, void **)
  ATTN_CU(cuModuleUnload, CUmodule)
  ATTN_CU(cuModuleGetFunction, CUfunction *, CUmodule, const char *)
  ATTN_CU(cuFuncSetAttribute, CUfunction, CUfunction_attribute, int)
  ATTN_CU(cuLaunchKernel, CUfunction, unsigned, unsigned, unsigned, unsigned,
          unsigned, unsigned, unsigned, CUstream, void **, void **)
  ATTN_CU(cuLaunchKernelEx, const CUlaunchConfig *, CUfunction, void **,
          void **)
  ATTN_CU(cuStreamCreate, CUstream *, unsigned int)
  ATTN_CU(cuStreamDestroy, CUstream)
  ATTN_CU(cuStreamSynchronize, CUstream)
  ATTN_CU(cuStreamWaitEvent, CUstream, CUevent, unsigned int)
  ATTN_CU(cuEventCreate, CUevent *, unsigned int)
  ATTN_CU(cuEventDestroy, CUevent)
  ATTN_CU(cuEventSynchronize, CUevent)
  ATTN_CU(cuEventRecord, CUevent, CUstream)
  ATTN_CU(cuEventElapsedTime, float *, CUevent, CUevent)
  ATTN_CU(cuMemAlloc, CUdeviceptr *, size_t)
  ATTN_CU(cuMemAllocManaged, CUdeviceptr *, size_t, unsigned int)
  ATTN_CU(cuMemFree, CUdeviceptr)
  ATTN_CU(cuMemcpyAsync, CUdeviceptr, CUdeviceptr, size_t, CUstream)
  ATTN_CU(cuMemsetD32Async, CUdeviceptr, unsigned int, size_t, CUstream)
  ATTN_CU(cuMemsetD16Async, CUdeviceptr, unsigned short, size_t, CUstream)
  ATTN_CU(cuMemHostRegister, void *, size_t, unsigned int)
  ATTN_CU(cuMemHostUnregister, void *)
#undef ATTN_CU
  bool loaded = false;
  bool initialized = false;
  CUcontext context = nullptr;
};

Driver driver;
std::mutex mutex;
bool errorPending = false;

/// Kernel timing (attnCudaSetKernelTiming): launches bracketed by events.
struct KernelTiming {
  bool enabled = false;
  CUevent start = nullptr, stop = nullptr;
  double milliseconds = 0;
};
KernelTiming &timing() {
  static KernelTiming state;
  return state;
}

/// Constructed on first use: compiled code's global constructors (which
/// load GPU modules) may run before this file's static initializers.
std::string &pendingError() {
  static std::string text;
  return text;
}

void fail(const std::string &message) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!errorPending) {
    pendingError() = message;
    errorPending = true;
  }
}

bool failed() {
  std::lock_guard<std::mutex> lock(mutex);
  return errorPending;
}

/// Records a failed call with its CUDA error name; returns true on success.
bool check(CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return true;
  const char *name = nullptr, *text = nullptr;
  if (driver.cuGetErrorName)
    driver.cuGetErrorName(result, &name);
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(result, &text);
  fail(std::string(call) + " failed: " + (name ? name : "CUDA error") +
       " (" + std::to_string(static_cast<int>(result)) + ")" +
       (text ? std::string(": ") + text : std::string()));
  return false;
}

bool loadDriver() {
  if (driver.loaded)
    return true;
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    fail(std::string("cannot load the CUDA driver libcuda.so.1 (no NVIDIA "
                     "driver on this machine?): ") +
         (why ? why : "unknown error"));
    return false;
  }
  bool ok = true;
  auto bind = [&](auto &slot, const char *name) {
    void *symbol = dlsym(library, name);
    if (!symbol) {
      fail(std::string("the CUDA driver lacks ") + name);
      ok = false;
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
  bind(driver.cuInit, "cuInit");
  bind(driver.cuDeviceGetCount, "cuDeviceGetCount");
  bind(driver.cuDeviceGet, "cuDeviceGet");
  bind(driver.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(driver.cuCtxSetCurrent, "cuCtxSetCurrent");
  bind(driver.cuGetErrorName, "cuGetErrorName");
  bind(driver.cuGetErrorString, "cuGetErrorString");
  bind(driver.cuModuleLoadData, "cuModuleLoadData");
  bind(driver.cuModuleLoadDataEx, "cuModuleLoadDataEx");
  bind(driver.cuModuleUnload, "cuModuleUnload");
  bind(driver.cuModuleGetFunction, "cuModuleGetFunction");
  bind(driver.cuFuncSetAttribute, "cuFuncSetAttribute");
  bind(driver.cuLaunchKernel, "cuLaunchKernel");
  bind(driver.cuLaunchKernelEx, "cuLaunchKernelEx");
  bind(driver.cuStreamCreate, "cuStreamCreate");
  bind(driver.cuStreamDestroy, "cuStreamDestroy_v2");
  bind(driver.cuStreamSynchronize, "cuStreamSynchronize");
  bind(driver.cuStreamWaitEvent, "cuStreamWaitEvent");
  bind(driver.cuEventCreate, "cuEventCreate");
  bind(driver.cuEventDestroy, "cuEventDestroy_v2");
  bind(driver.cuEventSynchronize, "cuEventSynchronize");
  bind(driver.cuEventRecord, "cuEventRecord");
  bind(driver.cuMemAlloc, "cuMemAlloc_v2");
  bind(driver.cuMemAllocManaged, "cuMemAllocManaged");
  bind(driver.cuMemFree, "cuMemFree_v2");
  bind(driver.cuMemcpyAsync, "cuMemcpyAsync");
  bind(driver.cuMemsetD32Async, "cuMemsetD32Async");
  bind(driver.cuMemsetD16Async, "cuMemsetD16Async");
  bind(driver.cuMemHostRegister, "cuMemHostRegister_v2");
  bind(driver.cuMemHostUnregister, "cuMemHostUnregister");
  // Only kernel timing needs it; the name changed in CUDA 12.8.
  void *elapsed = dlsym(library, "cuEventElapsedTime_v2");
  if (!elapsed)
    elapsed = dlsym(library, "cuEventElapsedTime");
  driver.cuEventElapsedTime =
      reinterpret_cast<decltype(driver.cuEventElapsedTime)>(elapsed);
  driver.loaded = ok;
  return ok;
}

/// Loads the driver, creates the context of device 0 once, and makes it
/// current on this thread. False (with the error recorded) when unusable.
bool ready() {
  if (failed())
    return false;
  static std::once_flag once;
  std::call_once(once, [] {
    if (!loadDriver() || !check(driver.cuInit(0), "cuInit"))
      return;
    int count = 0;
    if (!check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount"))
      return;
    if (count == 0) {
      fail("no CUDA device is present");
      return;
    }
    CUdevice device;
    if (!check(driver.cuDeviceGet(&device, 0), "cuDeviceGet") ||
        !check(driver.cuDevicePrimaryCtxRetain(&driver.context, device),
               "cuDevicePrimaryCtxRetain"))
      return;
    driver.initialized = true;
  });
  if (!driver.initialized)
    return false;
  return check(driver.cuCtxSetCurrent(driver.context), "cuCtxSetCurrent");
}

CUdeviceptr devicePtr(void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

/// With timing on: the launch between two events on its stream, waited for.
template <typename Launch>
void timedLaunch(void *stream, Launch launch) {
  KernelTiming &t = timing();
  if (!t.enabled || !t.stop) {
    launch();
    return;
  }
  auto s = static_cast<CUstream>(stream);
  if (!check(driver.cuEventRecord(t.start, s), "cuEventRecord") || !launch() ||
      !check(driver.cuEventRecord(t.stop, s), "cuEventRecord") ||
      !check(driver.cuEventSynchronize(t.stop), "cuEventSynchronize"))
    return;
  float ms = 0;
  if (check(driver.cuEventElapsedTime(&ms, t.start, t.stop),
            "cuEventElapsedTime"))
    t.milliseconds += ms;
}

} // namespace

extern "C" {

bool attnCudaInit() { return ready(); }

bool attnCudaHasError() { return failed(); }

const char *attnCudaTakeError() {
  static thread_local std::string taken;
  std::lock_guard<std::mutex> lock(mutex);
  if (!errorPending)
    return nullptr;
  taken = pendingError();
  errorPending = false;
  return taken.c_str();
}

void *attnCudaModuleLoad(void *data, size_t) {
  CUmodule module = nullptr;
  if (ready())
    check(driver.cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

void *attnCudaModuleLoadJIT(void *data, int optLevel) {
  CUmodule module = nullptr;
  if (!ready())
    return nullptr;
  char log[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log)),
                    reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
  CUresult result =
      driver.cuModuleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS && log[0])
    fail(std::string("cuModuleLoadDataEx failed compiling PTX: ") + log);
  check(result, "cuModuleLoadDataEx");
  return module;
}

void attnCudaModuleUnload(void *module) {
  if (module && ready())
    check(driver.cuModuleUnload(static_cast<CUmodule>(module)),
          "cuModuleUnload");
}

void *attnCudaModuleGetFunction(void *module, const char *name) {
  CUfunction function = nullptr;
  if (module && ready() &&
      check(driver.cuModuleGetFunction(&function,
                                       static_cast<CUmodule>(module), name),
            "cuModuleGetFunction"))
    return function;
  return nullptr;
}

static void allowSharedMemory(CUfunction function, int32_t bytes) {
  // More than 48 KiB of dynamic shared memory must be opted into.
  if (bytes > 48 * 1024)
    check(driver.cuFuncSetAttribute(
              function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
          "cuFuncSetAttribute");
}

void attnCudaSetKernelTiming(bool enable) {
  KernelTiming &t = timing();
  t.enabled = enable;
  t.milliseconds = 0;
  if (enable && !t.start && ready()) {
    if (!driver.cuEventElapsedTime)
      fail("kernel timing needs cuEventElapsedTime, which this CUDA driver "
           "lacks");
    else if (check(driver.cuEventCreate(&t.start, CU_EVENT_DEFAULT),
                   "cuEventCreate"))
      check(driver.cuEventCreate(&t.stop, CU_EVENT_DEFAULT), "cuEventCreate");
  }
}

double attnCudaKernelMilliseconds() {
  double total = timing().milliseconds;
  timing().milliseconds = 0;
  return total;
}

void attnCudaLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemBytes, void *stream,
                      void **params, void **extra, size_t) {
  if (!function || !ready())
    return;
  auto f = static_cast<CUfunction>(function);
  allowSharedMemory(f, sharedMemBytes);
  timedLaunch(stream, [&] {
    return check(driver.cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY,
                                       blockZ, sharedMemBytes,
                                       static_cast<CUstream>(stream), params,
                                       extra),
                 "cuLaunchKernel");
  });
}

void attnCudaLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t sharedMemBytes, void *stream,
                             void **params, void **extra, size_t) {
  if (!function || !ready())
    return;
  auto f = static_cast<CUfunction>(function);
  allowSharedMemory(f, sharedMemBytes);
  CUlaunchAttribute attribute;
  std::memset(&attribute, 0, sizeof(attribute));
  attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attribute.value.clusterDim.x = clusterX;
  attribute.value.clusterDim.y = clusterY;
  attribute.value.clusterDim.z = clusterZ;
  CUlaunchConfig config;
  std::memset(&config, 0, sizeof(config));
  config.gridDimX = gridX;
  config.gridDimY = gridY;
  config.gridDimZ = gridZ;
  config.blockDimX = blockX;
  config.blockDimY = blockY;
  config.blockDimZ = blockZ;
  config.sharedMemBytes = sharedMemBytes;
  config.hStream = static_cast<CUstream>(stream);
  config.attrs = &attribute;
  config.numAttrs = 1;
  timedLaunch(stream, [&] {
    return check(driver.cuLaunchKernelEx(&config, f, params, extra),
                 "cuLaunchKernelEx");
  });
}

void *mgpuStreamCreate() {
  CUstream stream = nullptr;
  if (ready())
    check(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
          "cuStreamCreate");
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  if (stream && ready())
    check(driver.cuStreamDestroy(static_cast<CUstream>(stream)),
          "cuStreamDestroy");
}

void mgpuStreamSynchronize(void *stream) {
  if (ready())
    check(driver.cuStreamSynchronize(static_cast<CUstream>(stream)),
          "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  if (event && ready())
    check(driver.cuStreamWaitEvent(static_cast<CUstream>(stream),
                                   static_cast<CUevent>(event), 0),
          "cuStreamWaitEvent");
}

void *mgpuEventCreate() {
  CUevent event = nullptr;
  if (ready())
    check(driver.cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
          "cuEventCreate");
  return event;
}

void mgpuEventDestroy(void *event) {
  if (event && ready())
    check(driver.cuEventDestroy(static_cast<CUevent>(event)),
          "cuEventDestroy");
}

void mgpuEventSynchronize(void *event) {
  if (event && ready())
    check(driver.cuEventSynchronize(static_cast<CUevent>(event)),
          "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  if (event && ready())
    check(driver.cuEventRecord(static_cast<CUevent>(event),
                               static_cast<CUstream>(stream)),
          "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t sizeBytes, void *, bool isHostShared) {
  CUdeviceptr ptr = 0;
  if (sizeBytes == 0 || !ready())
    return nullptr;
  if (isHostShared)
    check(driver.cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL),
          "cuMemAllocManaged");
  else
    check(driver.cuMemAlloc(&ptr, sizeBytes), "cuMemAlloc");
  return reinterpret_cast<void *>(static_cast<uintptr_t>(ptr));
}

void mgpuMemFree(void *ptr, void *) {
  if (ptr && ready())
    check(driver.cuMemFree(devicePtr(ptr)), "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  if (sizeBytes && ready())
    check(driver.cuMemcpyAsync(devicePtr(dst), devicePtr(src), sizeBytes,
                               static_cast<CUstream>(stream)),
          "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  if (count && ready())
    check(driver.cuMemsetD32Async(devicePtr(dst), value, count,
                                  static_cast<CUstream>(stream)),
          "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void *stream) {
  if (count && ready())
    check(driver.cuMemsetD16Async(devicePtr(dst), value, count,
                                  static_cast<CUstream>(stream)),
          "cuMemsetD16Async");
}

void mgpuMemHostRegister(void *ptr, uint64_t sizeBytes) {
  if (ptr && sizeBytes && ready())
    check(driver.cuMemHostRegister(ptr, sizeBytes, 0), "cuMemHostRegister");
}

void mgpuMemHostUnregister(void *ptr) {
  if (ptr && ready())
    check(driver.cuMemHostUnregister(ptr), "cuMemHostUnregister");
}

/// Bytes spanned by a ranked memref descriptor {allocated, aligned,
/// offset, sizes[rank], strides[rank]}, and its first element.
static void *memrefSpan(int64_t rank, void *descriptor, int64_t elementSize,
                        uint64_t &bytes) {
  auto *fields = static_cast<int64_t *>(descriptor);
  char *aligned = reinterpret_cast<char *>(fields[1]);
  int64_t offset = fields[2];
  int64_t extent = 1;
  for (int64_t i = 0; i < rank; ++i)
    extent += (fields[3 + i] - 1) * fields[3 + rank + i];
  bytes = static_cast<uint64_t>(extent) * elementSize;
  return aligned + offset * elementSize;
}

void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementSizeBytes) {
  uint64_t bytes;
  void *ptr = memrefSpan(rank, descriptor, elementSizeBytes, bytes);
  mgpuMemHostRegister(ptr, bytes);
}

void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementSizeBytes) {
  uint64_t bytes;
  mgpuMemHostUnregister(memrefSpan(rank, descriptor, elementSizeBytes, bytes));
}

void mgpuSetDefaultDevice(int32_t device) {
  if (device != 0)
    fail("only CUDA device 0 is supported, asked for device " +
         std::to_string(device));
}

} // extern "C"
