//===- PipelineOptions.cpp - Checks of the pipelines' options -------------===//
//
// The values that attn-cpu-pipeline and attn-gpu-pipeline accept, checked
// before a pipeline is built (a GPU chip that PTX 8.0 cannot target ended
// in an LLVM fatal error; an unknown kernel format was reported and the
// output still written), so that every user-written value is used as
// written or is one error line. The tools and the C++/Python facade check
// the same way.
//
//===----------------------------------------------------------------------===//

#include "attn/Pipelines/Pipelines.h"
#include "attn/Strategies/Strategy.h"
#include "attn/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

/// The kernels need sm_80 (mma.sync m16n8k16, cp.async); PTX 8.0, which
/// the pipeline emits by default, ends at sm_90. Each one is compiled
/// through ptxas by test/GPU/chips.mlir.
static constexpr StringLiteral kGpuChips[] = {"sm_80", "sm_86", "sm_89",
                                              "sm_90"};
/// PTX ISA versions (`features`) that LLVM 22 emits for those chips.
static constexpr StringLiteral kPtxFeatures[] = {
    "+ptx80", "+ptx81", "+ptx82", "+ptx83", "+ptx84",
    "+ptx85", "+ptx86", "+ptx87", "+ptx88"};
static constexpr StringLiteral kKernelFormats[] = {"isa", "bin", "fatbin"};

template <size_t N>
static std::string listOf(const StringLiteral (&values)[N]) {
  std::string text;
  for (size_t i = 0; i < N; ++i)
    text += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + values[i].str();
  return text;
}

ArrayRef<StringLiteral> mlir::attn::supportedGpuChips() { return kGpuChips; }

std::string mlir::attn::checkGpuChip(StringRef chip) {
  if (llvm::is_contained(kGpuChips, chip))
    return "";
  return "GPU chip '" + chip.str() + "' is not supported (supported: " +
         listOf(kGpuChips) + ")";
}

/// "" when `forced` is empty, an #attn.strategy<...> (checked where it is
/// parsed) or the name of a registered strategy.
static std::string checkStrategyName(StringRef forced) {
  if (forced.empty() || forced.starts_with("#"))
    return "";
  registerBuiltinStrategies();
  if (StrategyRegistry::global().lookup(forced))
    return "";
  std::string known;
  for (const Strategy *s : StrategyRegistry::global().all())
    known += (known.empty() ? "" : ", ") + s->getName().str();
  return "unknown strategy '" + forced.str() +
         "'; registered strategies: " + known;
}

std::string
mlir::attn::checkCpuPipelineOptions(const CpuPipelineOptions &options) {
  if (std::string error = checkTargetOptions("cpu", options.threads,
                                             options.vectorWidth, 0, 0, 0);
      !error.empty())
    return error;
  return checkStrategyName(options.strategy);
}

std::string
mlir::attn::checkGpuPipelineOptions(const GpuPipelineOptions &options) {
  if (std::string error = checkGpuChip(options.chip); !error.empty())
    return "chip: " + error;
  if (!llvm::is_contained(kPtxFeatures, StringRef(options.features)))
    return "features = '" + options.features +
           "' is not a PTX version for these chips (expected " +
           listOf(kPtxFeatures) + ")";
  if (!llvm::is_contained(kKernelFormats, StringRef(options.format)))
    return "format = '" + options.format + "' is not a kernel format "
           "(expected " + listOf(kKernelFormats) + ")";
  return checkStrategyName(options.strategy);
}
