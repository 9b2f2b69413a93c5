//===- VulkanPipeline.cpp - attn-gpu-pipeline with api=vulkan -------------===//
//
// Vulkan: the kernels to SPIR-V compute shaders beside each gpu.module
// (lib/Conversion/GPUToVulkan), checked against the module's #attn.target
// shared memory, serialized into attn's kernel container and embedded as
// gpu.binary; host code calls the runtime's attnVulkan* layer
// (VulkanRuntime), which Mesa's lavapipe runs on a machine without a GPU.
//
//===----------------------------------------------------------------------===//

#include "attn/Pipelines/GpuApi.h"

#include "attn/Conversion/Passes.h"
#include "attn/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
class Vulkan final : public GpuApi {
public:
  StringRef getName() const override { return "vulkan"; }
  StringRef getSummary() const override { return "SPIR-V compute shaders"; }
  StringRef getRuntimeLayer() const override { return "Vulkan"; }
  /// Vulkan's guaranteed minimum of maxComputeSharedMemorySize.
  int64_t getDefaultSharedMemoryBytes() const override { return 32 << 10; }
  StringRef whyNoTensorCores() const override {
    return "Vulkan kernels have no mma.sync form (lavapipe has no "
           "cooperative matrices)";
  }

  void buildLowering(OpPassManager &pm,
                     const GpuPipelineOptions &options) const override {
    // Kernels: SPIR-V beside each gpu.module, then serialized in its place.
    // Kernels are checked against the module's #attn.target shared_memory.
    pm.addPass(createAttnConvertGpuToVulkanSPIRV());
    pm.nest<func::FuncOp>().addPass(createGpuAsyncRegionPass());
    pm.addPass(createAttnSerializeVulkanKernels());
    buildCpuLoweringToLLVM(pm, /*gpuHost=*/true);
    pm.addPass(createAttnUseVulkanRuntime());
    addMarkResultsOwned(pm);
  }
};
} // namespace

std::unique_ptr<GpuApi> mlir::attn::createVulkanGpuApi() {
  return std::make_unique<Vulkan>();
}
