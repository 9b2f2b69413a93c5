//===- CudaFacade.cpp - The CUDA layer, for the facade --------------------===//
//
// target=cuda: the runtime's CUDA layer (CudaRuntime.h, the mgpu* functions
// the CUDA pipeline's host code calls), present when cuda.h was found at
// build time. Kernels are compiled to cubin for the chip the options name.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/GpuLayer.h"

#ifdef ATTN_HAS_CUDA_RUNTIME
#include "attn/Runtime/CudaRuntime.h"
#endif

using namespace attn::api;
using namespace attn::api::detail;

namespace {
class Cuda final : public GpuLayer {
public:
  llvm::StringRef getName() const override { return "cuda"; }

  std::string whyUnavailable() const override {
#ifdef ATTN_HAS_CUDA_RUNTIME
    return "";
#else
    return "target 'cuda' is not available in this build of attn (no "
           "cuda.h at build time)";
#endif
  }

  std::string takeError() const override {
#ifdef ATTN_HAS_CUDA_RUNTIME
    if (const char *error = attnCudaTakeError())
      return std::string("CUDA: ") + error;
#endif
    return "";
  }

  bool setPipelineOptions(const CompileOptions &options, bool, mlir::ModuleOp,
                          mlir::attn::GpuPipelineOptions &pipeline,
                          std::string &) const override {
    pipeline.chip = options.gpuChip;
    pipeline.format = "bin";
    return true;
  }

  void addJitSymbols(
      llvm::function_ref<void(const char *, void *)> add) const override {
#ifdef ATTN_HAS_CUDA_RUNTIME
#define ATTN_SYMBOL(name) add(#name, reinterpret_cast<void *>(&name));
    ATTN_SYMBOL(mgpuStreamCreate)
    ATTN_SYMBOL(mgpuStreamDestroy)
    ATTN_SYMBOL(mgpuStreamSynchronize)
    ATTN_SYMBOL(mgpuStreamWaitEvent)
    ATTN_SYMBOL(mgpuEventCreate)
    ATTN_SYMBOL(mgpuEventDestroy)
    ATTN_SYMBOL(mgpuEventSynchronize)
    ATTN_SYMBOL(mgpuEventRecord)
    ATTN_SYMBOL(mgpuMemAlloc)
    ATTN_SYMBOL(mgpuMemFree)
    ATTN_SYMBOL(mgpuMemcpy)
    ATTN_SYMBOL(mgpuMemset32)
    ATTN_SYMBOL(mgpuMemset16)
    ATTN_SYMBOL(mgpuMemHostRegister)
    ATTN_SYMBOL(mgpuMemHostUnregister)
    ATTN_SYMBOL(mgpuMemHostRegisterMemRef)
    ATTN_SYMBOL(mgpuMemHostUnregisterMemRef)
    ATTN_SYMBOL(mgpuSetDefaultDevice)
#undef ATTN_SYMBOL
#else
    (void)add;
#endif
  }

  void setKernelTiming(bool enable) const override {
#ifdef ATTN_HAS_CUDA_RUNTIME
    attnCudaSetKernelTiming(enable);
#else
    (void)enable;
#endif
  }

  double kernelMilliseconds() const override {
#ifdef ATTN_HAS_CUDA_RUNTIME
    return attnCudaKernelMilliseconds();
#else
    return -1;
#endif
  }
};
} // namespace

std::unique_ptr<GpuLayer> attn::api::detail::createCudaGpuLayer() {
  return std::make_unique<Cuda>();
}
