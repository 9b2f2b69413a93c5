//===- CpuPipeline.cpp - attn-cpu-pipeline --------------------------------===//
//
// From attn ops on tensors to the LLVM dialect for the host CPU: attention
// written as math raised to attn ops, TOSA lowered to linalg as upstream does,
// strategy selection and application, one-shot bufferization with
// ownership-based deallocation, loops, and the upstream conversions to LLVM.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/TosaToArith/TosaToArith.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Conversion/TosaToTensor/TosaToTensor.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;


void mlir::attn::addOneShotBufferize(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
}

void mlir::attn::addMarkResultsOwned(OpPassManager &pm) {
  pm.addPass(createAttnMarkResultsOwned());
}

void mlir::attn::buildCpuLoweringToLLVM(OpPassManager &pm, bool gpuHost) {
  pm.addPass(createAttnApproximateMath());
  // Linalg ops that strategies leave (reference contractions, packing, mask
  // summaries) become parallel loops too, so that OpenMP runs them on all
  // threads.
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // The thread count is the module's #attn.target's (which the pipeline's
  // `threads` wrote or the module did): the last thing read from it.
  pm.addPass(createAttnSetOpenMPThreads());
  // Kernel task loops (uneven query blocks) hand out iterations on demand.
  pm.addPass(createAttnScheduleTaskLoops());
  pm.addPass(createAttnClearTarget());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createAttnExpandShapeToReinterpretCast());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // The flash kernels' AVX512-BF16 dot products (x86vector.avx512.dot),
  // where the target has them.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.x86Vector = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // bf16 conversions as integer ops: LLVM would otherwise call
  // __truncsfbf2 on CPUs without AVX512-BF16, which neither the JIT nor an
  // AOT library's link provides.
  arith::ArithExpandOpsPassOptions expandOptions;
  expandOptions.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expandOptions));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  // memref before scf-to-cf: the alloca scopes that scf-to-openmp wraps
  // around parallel bodies must still hold a single block when lowered.
  // Allocations call the runtime's _mlir_memref_to_llvm_* functions, which
  // report running out of memory instead of returning null to code that
  // would write through it.
  // MPI calls (sequence parallelism), on memref descriptors.
  pm.addPass(createAttnConvertMPIToLLVM());
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createSCFToControlFlowPass());
  if (gpuHost)
    pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::attn::buildInputLowering(OpPassManager &pm) {
  // Upstream's TOSA-to-linalg order (as in its tosa-to-linalg pipeline):
  // named ops (matmul) first, then the elementwise and reduction ops, then
  // constants and reshapes.
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(tosa::createTosaInferShapesPass());
  func.addPass(tosa::createTosaMakeBroadcastablePass());
  func.addPass(tosa::createTosaToLinalgNamed());
  func.addPass(tosa::createTosaToLinalg());
  func.addPass(createTosaToArithPass());
  func.addPass(createTosaToTensorPass());
  // Elementwise ops on tensors (math.tanh, arith.addf, ... of a whole
  // tensor) become linalg.generic, which bufferizes and lowers to loops.
  func.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createAttnDecomposeAggregates());
}

void mlir::attn::buildCpuPipeline(OpPassManager &pm,
                                  const CpuPipelineOptions &options) {
  // The pipeline's passes consult the strategy registry.
  registerBuiltinStrategies();
  if (options.raise)
    pm.addPass(createAttnRaise());
  buildInputLowering(pm);
  AttnSetTargetOptions target;
  target.targetKind = "cpu";
  target.threads = options.threads;
  target.vectorWidth = options.vectorWidth;
  pm.addPass(createAttnSetTarget(target));
  AttnSelectStrategyOptions select;
  select.forcedStrategy = options.strategy;
  select.overrideStrategy = options.overrideStrategy;
  pm.addPass(createAttnSelectStrategy(select));
  pm.addPass(createAttnApplyStrategies());
  // Sequence parallelism on the tile ops the strategies wrote.
  if (!options.distribute.empty()) {
    AttnDistributeSequenceOptions distribute;
    distribute.entry = options.distributeEntry;
    distribute.mode = options.distribute;
    distribute.ranks = options.ranks;
    pm.addPass(createAttnDistributeSequence(distribute));
  }
  // Tiles of attn.online_attention: those a CPU strategy configured become
  // the flash kernel; the rest get their portable lowering.
  pm.addPass(createAttnConvertOnlineAttentionToCPUVector());
  pm.addPass(createAttnConvertOnlineAttentionToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  addOneShotBufferize(pm);
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  // The clones that deallocation adds (a returned argument) become copies.
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Results go into buffers the caller offers, where it offers them.
  pm.addPass(createAttnResultBuffers());

  buildCpuLoweringToLLVM(pm);
  // Deallocation above returns owned (cloned where needed) buffers only.
  addMarkResultsOwned(pm);
}

/// Registers a pipeline whose options are checked before it is built.
template <typename Options>
static void registerCheckedPipeline(
    StringRef argument, StringRef description,
    void (*build)(OpPassManager &, const Options &),
    std::string (*check)(const Options &)) {
  registerPassPipeline(
      argument, description,
      [=](OpPassManager &pm, StringRef text,
          function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        if (std::string error = check(options); !error.empty())
          return errorHandler(argument + ": " + error);
        build(pm, options);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optionHandler) {
        optionHandler(Options());
      });
}

void mlir::attn::registerAttnPipelines() {
  registerCheckedPipeline<CpuPipelineOptions>(
      "attn-cpu-pipeline",
      "Compile attn ops on tensors to the LLVM dialect for the host CPU",
      buildCpuPipeline, checkCpuPipelineOptions);
  registerCheckedPipeline<GpuPipelineOptions>(
      "attn-gpu-pipeline",
      "Compile attn ops on tensors to the LLVM dialect with GPU kernels "
      "(cuda: PTX/cubin; vulkan: SPIR-V) embedded",
      buildGpuPipeline, checkGpuPipelineOptions);
}
