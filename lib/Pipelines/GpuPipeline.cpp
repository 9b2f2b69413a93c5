//===- GpuPipeline.cpp - attn-gpu-pipeline --------------------------------===//
//
// From attn ops on tensors to the LLVM dialect with GPU kernels: strategies
// chosen for a GPU target emit gpu.launch kernels with their device copies;
// after bufferization the launches are outlined into a gpu.module. Up to
// there every API shares everything, so CUDA and Vulkan run the same
// gpu-dialect kernels. The rest is the registered GpuApi's (lib/Targets):
//   cuda:   NVVM, serialized to PTX / cubin / fatbin (ptxas from the CUDA
//           toolkit), embedded as gpu.binary;
//   vulkan: SPIR-V compute shaders in attn's kernel container
//           (lib/Conversion/GPUToVulkan), embedded as gpu.binary.
// Host code, made asynchronous on streams, calls libattn_runtime's layer for
// the API (mgpu* for CUDA, attnVulkan* for Vulkan). Host-side linalg ops
// (anything that is not attention) run on the CPU.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Pipelines/GpuApi.h"
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

StringRef mlir::attn::gpuApiOptionDescription() {
  static const std::string description = [] {
    std::string text = "GPU API:";
    for (const GpuApi *api : getGpuApis())
      text += std::string(api == getGpuApis().front() ? " " : "; ") +
              api->getName().str() + " (" + api->getSummary().str() + ")";
    return text;
  }();
  return description;
}

void mlir::attn::buildGpuPipeline(OpPassManager &pm,
                                  const GpuPipelineOptions &options) {
  // The pipeline's passes consult the strategy registry.
  registerBuiltinStrategies();
  const GpuApi *api = lookupGpuApi(options.api);
  assert(api && "attn-gpu-pipeline options not checked");
  if (!api)
    return;
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
  machine.defaultGpuSharedBytes = api->getDefaultSharedMemoryBytes();
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
  // Host results go into buffers the caller offers, where it offers them.
  pm.addPass(createAttnResultBuffers());

  // The rest is the API's: kernels to its binary, host code to the LLVM
  // dialect calling the runtime's layer for it.
  api->buildLowering(pm, options);
}
