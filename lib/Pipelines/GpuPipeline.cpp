//===- GpuPipeline.cpp - attn-gpu-pipeline --------------------------------===//
//
// From attn ops on tensors to the LLVM dialect with NVIDIA kernels:
// strategies chosen for a GPU target emit gpu.launch kernels with their
// device copies; after bufferization the launches are outlined into a
// gpu.module, lowered to NVVM, serialized to PTX / cubin / fatbin (ptxas from
// the CUDA toolkit) and embedded as gpu.binary; host code, made
// asynchronous on streams, calls the mgpu* functions of libattn_runtime.
// Host-side linalg ops (anything that is not attention) run on the CPU.
//
//===----------------------------------------------------------------------===//

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

void mlir::attn::buildGpuPipeline(OpPassManager &pm,
                                  const GpuPipelineOptions &options) {
  // Attention written as math becomes attn ops (and GPU kernels); the rest
  // of a model's math stays on the host.
  if (options.raise)
    pm.addPass(createAttnRaise());
  buildInputLowering(pm);
  AttnSelectStrategyOptions select;
  select.targetKind = "gpu";
  select.forcedStrategy = options.strategy;
  select.tensorCores = options.tensorCores;
  pm.addPass(createAttnSelectStrategy(select));
  AttnApplyStrategiesOptions apply;
  apply.targetKind = "gpu";
  apply.tensorCores = options.tensorCores;
  pm.addPass(createAttnApplyStrategies(apply));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  addOneShotBufferize(pm);
  // Kernels leave the host functions, which are then deallocated.
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createAttnDeallocateHostBuffers());

  // Kernels: target, lower to NVVM.
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
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
  buildCpuLoweringToLLVM(pm, /*threads=*/0, /*gpuHost=*/true);
  // attn-deallocate-host-buffers returns owned host buffers only.
  addMarkResultsOwned(pm);
}
