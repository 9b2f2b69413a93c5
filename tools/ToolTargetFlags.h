//===- ToolTargetFlags.h - Target flags of attn-run and attn-aot -*- C++ -*-===//
//
// --target, --gpu-chip and --tensor-cores, which attn-run and attn-aot share,
// in attn's option category, with the check of --target. Included by the
// main file of each tool (the flags are inline variables: one per program).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_TOOLTARGETFLAGS_H
#define ATTN_TOOLS_TOOLTARGETFLAGS_H

#include "attn/CAPI/Compiler.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"

#include <string>

namespace attn::tools {

inline llvm::cl::opt<std::string>
    target("target", llvm::cl::desc("cpu, cuda or vulkan"), llvm::cl::init("cpu"),
           llvm::cl::cat(mlir::attn::getAttnOptionCategory()));
inline llvm::cl::opt<std::string>
    gpuChip("gpu-chip",
            llvm::cl::desc("GPU architecture for --target cuda: sm_80, sm_86, sm_89 or sm_90"),
            llvm::cl::init("sm_90"),
            llvm::cl::cat(mlir::attn::getAttnOptionCategory()));
inline llvm::cl::opt<bool> tensorCores(
    "tensor-cores",
    llvm::cl::desc("--target cuda: f16/bf16 Q K^T on tensor cores (mma.sync, "
                   "sm_80+) where the strategy can"),
    llvm::cl::init(false), llvm::cl::cat(mlir::attn::getAttnOptionCategory()));

/// "" for a known --target (attn::api::knownTargets) with a supported
/// --gpu-chip, else the error line to print. --gpu-chip and --tensor-cores
/// apply to --target cuda only.
inline std::string targetError() {
  if (!attn::api::findTarget(target))
    return "unknown --target '" + target + "' (expected " +
           attn::api::knownTargetList() + ")";
  bool cuda = target == "cuda";
  if (!cuda && (gpuChip.getNumOccurrences() || tensorCores))
    return std::string(gpuChip.getNumOccurrences() ? "--gpu-chip"
                                                   : "--tensor-cores") +
           " applies to --target cuda, not " + target;
  if (cuda)
    if (std::string error = mlir::attn::checkGpuChip(gpuChip); !error.empty())
      return "--gpu-chip: " + error;
  return "";
}

} // namespace attn::tools

#endif // ATTN_TOOLS_TOOLTARGETFLAGS_H
