//===- VulkanFacade.cpp - The Vulkan layer, for the facade ----------------===//
//
// target=vulkan: the runtime's Vulkan layer (VulkanRuntime.h, the
// attnVulkan* functions that attn-use-vulkan-runtime renames the host's
// calls to), present when vulkan/vulkan.h was found at build time. Kernels
// compiled to run here are fitted to this machine's device: its shared
// memory, unless the module's #attn.target writes a smaller value.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/GpuLayer.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"

#ifdef ATTN_HAS_VULKAN_RUNTIME
#include "attn/Runtime/VulkanRuntime.h"
#endif

using namespace attn::api;
using namespace attn::api::detail;

namespace {
class Vulkan final : public GpuLayer {
public:
  llvm::StringRef getName() const override { return "vulkan"; }

  std::string whyUnavailable() const override {
#ifdef ATTN_HAS_VULKAN_RUNTIME
    return "";
#else
    return "target 'vulkan' is not available in this build of attn (no "
           "vulkan/vulkan.h at build time)";
#endif
  }

  std::string takeError() const override {
#ifdef ATTN_HAS_VULKAN_RUNTIME
    if (const char *error = attnVulkanTakeError())
      return std::string("Vulkan: ") + error;
#endif
    return "";
  }

  bool setPipelineOptions(const CompileOptions &, bool forDevice,
                          mlir::ModuleOp module,
                          mlir::attn::GpuPipelineOptions &pipeline,
                          std::string &error) const override {
#ifdef ATTN_HAS_VULKAN_RUNTIME
    AttnVulkanDeviceLimits limits;
    if (!forDevice || !attnVulkanDeviceLimits(&limits))
      return true;
    int64_t device = limits.maxComputeSharedMemorySize;
    mlir::attn::TargetAttr target = module
                                        ? mlir::attn::lookupTargetAttr(module)
                                        : mlir::attn::TargetAttr();
    std::optional<int64_t> written =
        target ? target.getSharedMemory() : std::nullopt;
    if (written && *written > device) {
      error = "the module's #attn.target shared_memory = " +
              std::to_string(*written) +
              " exceeds this Vulkan device's maxComputeSharedMemorySize (" +
              std::to_string(device) + ")";
      return false;
    }
    // A module's own (smaller) value is the pipeline's to read.
    if (!written)
      pipeline.sharedMemory = device;
#else
    (void)forDevice;
    (void)module;
    (void)pipeline;
    (void)error;
#endif
    return true;
  }

  void addJitSymbols(
      llvm::function_ref<void(const char *, void *)> add) const override {
#ifdef ATTN_HAS_VULKAN_RUNTIME
#define ATTN_SYMBOL(name) add(#name, reinterpret_cast<void *>(&name));
    ATTN_SYMBOL(attnVulkanStreamCreate)
    ATTN_SYMBOL(attnVulkanStreamDestroy)
    ATTN_SYMBOL(attnVulkanStreamSynchronize)
    ATTN_SYMBOL(attnVulkanStreamWaitEvent)
    ATTN_SYMBOL(attnVulkanEventCreate)
    ATTN_SYMBOL(attnVulkanEventDestroy)
    ATTN_SYMBOL(attnVulkanEventSynchronize)
    ATTN_SYMBOL(attnVulkanEventRecord)
    ATTN_SYMBOL(attnVulkanMemAlloc)
    ATTN_SYMBOL(attnVulkanMemFree)
    ATTN_SYMBOL(attnVulkanMemcpy)
    ATTN_SYMBOL(attnVulkanMemset32)
    ATTN_SYMBOL(attnVulkanMemset16)
    ATTN_SYMBOL(attnVulkanMemHostRegister)
    ATTN_SYMBOL(attnVulkanMemHostUnregister)
    ATTN_SYMBOL(attnVulkanMemHostRegisterMemRef)
    ATTN_SYMBOL(attnVulkanMemHostUnregisterMemRef)
    ATTN_SYMBOL(attnVulkanSetDefaultDevice)
#undef ATTN_SYMBOL
#else
    (void)add;
#endif
  }

  void setKernelTiming(bool enable) const override {
#ifdef ATTN_HAS_VULKAN_RUNTIME
    attnVulkanSetKernelTiming(enable);
#else
    (void)enable;
#endif
  }

  double kernelMilliseconds() const override {
#ifdef ATTN_HAS_VULKAN_RUNTIME
    return attnVulkanKernelMilliseconds();
#else
    return -1;
#endif
  }
};
} // namespace

std::unique_ptr<GpuLayer> attn::api::detail::createVulkanGpuLayer() {
  return std::make_unique<Vulkan>();
}
