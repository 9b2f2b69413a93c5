//===- Passes.h - attn strategy selection and application -------*- C++ -*-===//

#ifndef ATTN_TRANSFORMS_PASSES_H
#define ATTN_TRANSFORMS_PASSES_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Strategies/Strategy.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/CommandLine.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "attn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Transforms/Passes.h.inc"

/// Unit attribute that attn-cpu-pipeline and attn-gpu-pipeline put on the
/// module they lower (attn-mark-results-owned): every memref an entry returns is a fresh heap
/// allocation (never an argument or a global) that the caller frees with
/// free(). A runner of a module that arrives already lowered (attn-run on
/// attn-opt's output) takes ownership of results only where it is set.
inline constexpr llvm::StringLiteral kResultsOwnedAttrName =
    "attn.results_owned";

/// Registers attn's passes and, with them, the built-in strategies that
/// attn-select-strategy, attn-explain and attn-apply-strategies consult.
void registerAttnPasses();

/// Most threads a target option may name.
inline constexpr int64_t kMaxThreads = 1 << 16;

/// "" when target options (attn-set-target's) are ones the cost models and kernels
/// can use (a known target kind, threads from 0 to kMaxThreads, a vector
/// width of 0, 128, 256 or 512 bits, cache sizes >= 0, tensor cores and
/// a shared-memory size >= 0 only on a GPU), else one line naming the
/// option and what it must be.
std::string checkTargetOptions(StringRef kind, int64_t threads,
                               int64_t vectorWidth, int64_t l1, int64_t l2,
                               int64_t l3, bool tensorCores = false,
                               int64_t gpuSharedBytes = 0);

/// attn-opt's and attn-run's process-wide flags: `--attn-strategy=NAME`
/// (default for attn-select-strategy's `strategy` option),
/// `--attn-load-strategy=lib.so` (a strategy library, loaded by
/// loadCommandLineStrategyLibraries), and `-debug` / `-debug-only` where
/// LLVM lacks them (attn/Support/Debug.h).
void registerAttnCommandLineOptions();
/// Loads the libraries that `--attn-load-strategy` named, in order, once the
/// command line is parsed. On failure returns false with `error` naming the
/// library; the tool reports it and exits (a library never ends the process).
bool loadCommandLineStrategyLibraries(std::string &error);
/// The strategy that `--attn-strategy` forces, or "".
StringRef getCommandLineForcedStrategy();
/// The category of attn's own command-line flags. attn-run and attn-aot put
/// theirs in it and hide LLVM's from --help.
llvm::cl::OptionCategory &getAttnOptionCategory();

} // namespace mlir::attn

#endif // ATTN_TRANSFORMS_PASSES_H
