//===- Pipelines.h - attn's registered pass pipelines -----------*- C++ -*-===//

#ifndef ATTN_PIPELINES_PIPELINES_H
#define ATTN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::attn {

struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("Threads the code is tuned for and "
                                         "runs with (0: all cores)"),
                          llvm::cl::init(0)};
  Option<int64_t> vectorWidth{*this, "vector-width",
                              llvm::cl::desc("SIMD width in bits (0: host)"),
                              llvm::cl::init(0)};
  Option<std::string> strategy{
      *this, "strategy",
      llvm::cl::desc("Force this strategy on ops that have none"),
      llvm::cl::init("")};
  Option<std::string> overrideStrategy{
      *this, "override-strategy",
      llvm::cl::desc("Replace every op's strategy, written or not, by this "
                     "one"),
      llvm::cl::init("")};
  Option<bool> raise{
      *this, "raise",
      llvm::cl::desc("Raise attention written as math (TOSA, linalg) to attn "
                     "ops first (attn-raise); off: the math is lowered as "
                     "written"),
      llvm::cl::init(true)};
  Option<std::string> distribute{
      *this, "distribute",
      llvm::cl::desc("Split the attention of `distribute-entry` over MPI "
                     "ranks along the sequence: ring or zigzag "
                     "(attn-distribute-sequence); empty: one process"),
      llvm::cl::init("")};
  Option<int64_t> ranks{*this, "ranks",
                        llvm::cl::desc("MPI ranks of `distribute`"),
                        llvm::cl::init(1)};
  Option<std::string> distributeEntry{
      *this, "distribute-entry",
      llvm::cl::desc("The function that `distribute` splits"),
      llvm::cl::init("main")};
};

/// The help of attn-gpu-pipeline's `api` option: the registered GPU APIs
/// (GpuApi.h).
llvm::StringRef gpuApiOptionDescription();

struct GpuPipelineOptions : public PassPipelineOptions<GpuPipelineOptions> {
  Option<std::string> api{*this, "api",
                          llvm::cl::desc(gpuApiOptionDescription()),
                          llvm::cl::init("cuda")};
  Option<int64_t> sharedMemory{
      *this, "shared-memory",
      llvm::cl::desc("Shared memory per thread block in bytes that kernels "
                     "may use (0: the API's default, 48 KiB for cuda, "
                     "32 KiB for vulkan)"),
      llvm::cl::init(0)};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture: sm_80, sm_86, sm_89 or sm_90"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features (+ptx80)"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Embedded kernel format: isa (PTX), bin (cubin, with "
                     "ptxas) or fatbin"),
      llvm::cl::init("fatbin")};
  Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Compute f16/bf16 Q K^T with tensor-core mma.sync (sm_80+) "
                     "where a strategy can (tiled); off: SIMT"),
      llvm::cl::init(false)};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit with ptxas and libdevice"),
      llvm::cl::init("/usr/local/cuda")};
  Option<std::string> strategy{
      *this, "strategy",
      llvm::cl::desc("Force this strategy on ops that have none"),
      llvm::cl::init("")};
  Option<std::string> overrideStrategy{
      *this, "override-strategy",
      llvm::cl::desc("Replace every op's strategy, written or not, by this "
                     "one"),
      llvm::cl::init("")};
  Option<bool> raise{
      *this, "raise",
      llvm::cl::desc("Raise attention written as math (TOSA, linalg) to attn "
                     "ops first (attn-raise); off: the math is lowered as "
                     "written"),
      llvm::cl::init(true)};
};

/// attn on tensors -> LLVM dialect with GPU kernels: strategies for a GPU
/// target, bufferization, kernel outlining, then the registered GpuApi of
/// `options.api` (GpuApi.h: NVVM and PTX/cubin for cuda, SPIR-V in attn's
/// kernel container for vulkan) embedded as gpu.binary, and host code
/// calling libattn_runtime's layer for it. `options` must pass
/// checkGpuPipelineOptions (an unknown API adds none of its passes).
void buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options);

/// attn on tensors -> LLVM dialect: raise attention written as math, lower
/// TOSA to linalg, select and apply strategies, bufferize, vectorize,
/// parallelize, lower.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Input dialects that models arrive in (TOSA, linalg.softmax, elementwise
/// arith/math ops on tensors) to linalg on tensors, as upstream lowers them.
void buildInputLowering(OpPassManager &pm);

/// Lowering from bufferized loops/vectors to the LLVM dialect (the tail of
/// the CPU pipeline); with `gpuHost`, also gpu launches and copies to calls
/// of the mgpu* runtime. OpenMP regions run with the #attn.target's threads
/// (attn-set-openmp-threads), and the target is then removed.
void buildCpuLoweringToLLVM(OpPassManager &pm, bool gpuHost = false);

/// One-shot bufferization of the whole module (function boundaries with
/// identity layouts), then canonicalization: what both pipelines run.
void addOneShotBufferize(OpPassManager &pm);

/// Adds a pass that sets kResultsOwnedAttrName on the module.
void addMarkResultsOwned(OpPassManager &pm);

/// GPU architectures that attn-gpu-pipeline compiles for.
ArrayRef<StringLiteral> supportedGpuChips();
/// "" when `chip` is one of supportedGpuChips(), else the error line.
std::string checkGpuChip(StringRef chip);
/// "" when every option is a value the pipeline uses as written, else one
/// line naming the option and what it must be. The registered pipelines,
/// attn-run, attn-aot and the Python package check with these first.
std::string checkCpuPipelineOptions(const CpuPipelineOptions &options);
std::string checkGpuPipelineOptions(const GpuPipelineOptions &options);

/// Writes the passes of both pipelines with their default options, in
/// order, with each pass's summary, as Markdown (attn-opt
/// --attn-print-pipelines; docs/generated/Pipelines.md).
void printPipelineReference(raw_ostream &os);

/// Registers `attn-cpu-pipeline` and `attn-gpu-pipeline`; a pipeline whose
/// options fail the checks above is an error where it is parsed.
void registerAttnPipelines();

} // namespace mlir::attn

#endif // ATTN_PIPELINES_PIPELINES_H
