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

#include <cstring>
#include <iterator>

using namespace mlir;
using namespace mlir::attn;

/// The kernels need sm_80 (mma.sync m16n8k16, cp.async); LLVM 22's PTX
/// 8.0 default ends at sm_90. Each chip is compiled through ptxas by
/// test/GPU/chips.mlir.
static constexpr StringLiteral kGpuChips[] = {"sm_80", "sm_86", "sm_89",
                                              "sm_90"};
/// The first PTX ISA version (x10) of each chip of kGpuChips, in order.
static constexpr int kFirstPtxVersion[] = {70, 71, 78, 78};
static_assert(std::size(kFirstPtxVersion) == std::size(kGpuChips));
/// PTX ISA versions (`features`) that LLVM 22 emits for those chips.
static constexpr StringLiteral kPtxFeatures[] = {
    "+ptx70", "+ptx71", "+ptx72", "+ptx73", "+ptx74", "+ptx75", "+ptx76",
    "+ptx77", "+ptx78", "+ptx80", "+ptx81", "+ptx82", "+ptx83", "+ptx84",
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

/// The `strategy` and `override-strategy` options.
static std::string checkStrategies(StringRef forced, StringRef override) {
  if (std::string error = checkStrategyName(forced); !error.empty())
    return "strategy: " + error;
  if (std::string error = checkStrategyName(override); !error.empty())
    return "override-strategy: " + error;
  return "";
}

std::string
mlir::attn::checkCpuPipelineOptions(const CpuPipelineOptions &options) {
  if (std::string error = checkTargetOptions("cpu", options.threads,
                                             options.vectorWidth, 0, 0, 0);
      !error.empty())
    return error;
  return checkStrategies(options.strategy, options.overrideStrategy);
}

std::string
mlir::attn::checkGpuPipelineOptions(const GpuPipelineOptions &options) {
  if (options.sharedMemory < 0)
    return "shared-memory = " + std::to_string(options.sharedMemory) +
           " must be 0 (the API's default) or positive";
  if (options.api == GpuApi::Vulkan) {
    if (options.tensorCores)
      return "tensor-cores needs api=cuda: Vulkan kernels have no mma.sync "
             "form (lavapipe has no cooperative matrices)";
    for (const llvm::cl::Option *cudaOnly :
         {static_cast<const llvm::cl::Option *>(&options.chip),
          static_cast<const llvm::cl::Option *>(&options.features),
          static_cast<const llvm::cl::Option *>(&options.format),
          static_cast<const llvm::cl::Option *>(&options.toolkit)})
      if (cudaOnly->getNumOccurrences())
        return cudaOnly->ArgStr.str() + " applies to api=cuda only";
    return checkStrategies(options.strategy, options.overrideStrategy);
  }
  if (std::string error = checkGpuChip(options.chip); !error.empty())
    return "chip: " + error;
  StringRef features = options.features;
  if (!llvm::is_contained(kPtxFeatures, features))
    return "features = '" + options.features +
           "' is not a PTX version for these chips (expected " +
           listOf(kPtxFeatures) + ")";
  int ptxVersion = 0;
  features.drop_front(strlen("+ptx")).getAsInteger(10, ptxVersion);
  int firstVersion =
      kFirstPtxVersion[llvm::find(kGpuChips, StringRef(options.chip)) -
                       std::begin(kGpuChips)];
  if (ptxVersion < firstVersion)
    return "features = '" + options.features + "' cannot target " +
           options.chip + ": its first PTX version is +ptx" +
           std::to_string(firstVersion);
  if (!llvm::is_contained(kKernelFormats, StringRef(options.format)))
    return "format = '" + options.format + "' is not a kernel format "
           "(expected " + listOf(kKernelFormats) + ")";
  return checkStrategies(options.strategy, options.overrideStrategy);
}
