//===- ToolTargetFlags.h - Target flags of attn-run and attn-aot -*- C++ -*-===//
//
// --target, --gpu-chip and --tensor-cores, which attn-run and attn-aot share,
// in attn's option category, with the check of --target. Included by the
// main file of each tool (the flags are inline variables: one per program).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_TOOLTARGETFLAGS_H
#define ATTN_TOOLS_TOOLTARGETFLAGS_H

#include "attn/Pipelines/Pipelines.h"
#include "attn/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
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

/// The values --target accepts.
inline constexpr const char *kTargets[] = {"cpu", "cuda", "vulkan"};

/// "" for a known --target with a supported --gpu-chip, else the error line
/// to print. --gpu-chip and --tensor-cores apply to --target cuda only.
inline std::string targetError() {
  std::string known;
  for (size_t i = 0; i < std::size(kTargets); ++i)
    known += std::string(i == 0 ? ""
                         : i + 1 == std::size(kTargets) ? " or "
                                                         : ", ") +
             kTargets[i];
  if (!llvm::is_contained(kTargets, llvm::StringRef(target)))
    return "unknown --target '" + target + "' (expected " + known + ")";
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
