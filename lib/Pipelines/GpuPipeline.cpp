//===- GpuPipeline.cpp - attn-gpu-pipeline --------------------------------===//
//
// From attn ops on tensors to the LLVM dialect with GPU kernels: strategies
// chosen for a GPU target emit gpu.launch kernels with their device copies;
// after bufferization the launches are outlined into a gpu.module. Up to
// there both APIs share everything, so CUDA and Vulkan run the same
// gpu-dialect kernels. Then, per API:
//   cuda:   NVVM, serialized to PTX / cubin / fatbin (ptxas from the CUDA
//           toolkit), embedded as gpu.binary;
//   vulkan: SPIR-V compute shaders in attn's kernel container
//           (lib/Conversion/GPUToVulkan), embedded as gpu.binary.
// Host code, made asynchronous on streams, calls libattn_runtime's GPU
// layer (mgpu* for CUDA, attnVulkan* for Vulkan). Host-side linalg ops
// (anything that is not attention) run on the CPU.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

int64_t mlir::attn::defaultGpuSharedMemoryBytes(GpuApi api) {
  constexpr int64_t kCudaStaticSharedBytes = 48 << 10;
  constexpr int64_t kVulkanDefaultSharedBytes = 32 << 10;
  return api == GpuApi::Vulkan ? kVulkanDefaultSharedBytes
                               : kCudaStaticSharedBytes;
}

void mlir::attn::buildGpuPipeline(OpPassManager &pm,
                                  const GpuPipelineOptions &options) {
  // The pipeline's passes consult the strategy registry.
  registerBuiltinStrategies();
  bool vulkan = options.api == GpuApi::Vulkan;
  // Attention written as math becomes attn ops (and GPU kernels); the rest
  // of a model's math stays on the host.
  if (options.raise)
    pm.addPass(createAttnRaise());
  buildInputLowering(pm);
  AttnSetTargetOptions machine;
  machine.targetKind = "gpu";
  machine.tensorCores = options.tensorCores;
  // What the user writes on the pipeline must agree with the module's
  // #attn.target; the API's default fills in only where neither writes one.
  machine.gpuSharedBytes = options.sharedMemory;
  machine.defaultGpuSharedBytes = defaultGpuSharedMemoryBytes(options.api);
  pm.addPass(createAttnSetTarget(machine));
  AttnSelectStrategyOptions select;
  select.forcedStrategy = options.strategy;
  select.overrideStrategy = options.overrideStrategy;
  pm.addPass(createAttnSelectStrategy(select));
  pm.addPass(createAttnApplyStrategies());
  // Tiles of attn.online_attention: those a GPU strategy configured become
  // the flash kernel's launches; the rest (and any attn.finalize left) get
  // their portable lowering on the host.
  pm.addPass(createAttnConvertOnlineAttentionToGPU());
  pm.addPass(createAttnConvertOnlineAttentionToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  addOneShotBufferize(pm);
  // The kernels' host buffers get device copies around their launches; one
  // kernel's result stays on the device for the next kernel that reads it.
  pm.addPass(createAttnGpuDeviceBuffers());
  // Kernels leave the host functions, which are then deallocated.
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createAttnDeallocateHostBuffers());

  if (vulkan) {
    // Kernels: SPIR-V beside each gpu.module, then serialized in its place.
    // Kernels are checked against the module's #attn.target shared_memory.
    pm.addPass(createAttnConvertGpuToVulkanSPIRV());
    pm.nest<func::FuncOp>().addPass(createGpuAsyncRegionPass());
    pm.addPass(createAttnSerializeVulkanKernels());
    buildCpuLoweringToLLVM(pm, /*gpuHost=*/true);
    pm.addPass(createAttnUseVulkanRuntime());
    addMarkResultsOwned(pm);
    return;
  }

  // Kernels: target, lower to NVVM.
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  // bf16 tensor-core products, which upstream's conversion cannot lower.
  kernels.addPass(createAttnConvertBf16MmaSyncToNVVM());
  kernels.addPass(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = false;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  pm.nest<func::FuncOp>().addPass(createGpuAsyncRegionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));

  // Host: the CPU lowering with gpu-to-llvm for launches and copies.
  buildCpuLoweringToLLVM(pm, /*gpuHost=*/true);
  // attn-deallocate-host-buffers returns owned host buffers only.
  addMarkResultsOwned(pm);
}
