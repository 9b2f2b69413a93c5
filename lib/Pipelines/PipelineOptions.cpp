//===- PipelineOptions.cpp - Checks of the pipelines' options -------------===//
//
// The values that attn-cpu-pipeline and attn-gpu-pipeline accept (each GPU
// API checks its own options: lib/Targets/<X>), checked
// before a pipeline is built (a GPU chip that PTX 8.0 cannot target ended
// in an LLVM fatal error; an unknown kernel format was reported and the
// output still written), so that every user-written value is used as
// written or is one error line. The tools and the C++/Python facade check
// the same way.
//
//===----------------------------------------------------------------------===//

#include "attn/Pipelines/GpuApi.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Strategies/Strategy.h"
#include "attn/Transforms/Passes.h"
#include "attn/Transforms/SequenceShards.h"

using namespace mlir;
using namespace mlir::attn;

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
  if (!options.distribute.empty() &&
      !parseSequenceDistribution(options.distribute))
    return "distribute = '" + options.distribute +
           "' must be ring or zigzag (or empty: one process)";
  if (options.ranks < 1 || options.ranks > kMaxThreads)
    return "ranks = " + std::to_string(options.ranks) + " must be from 1 to " +
           std::to_string(kMaxThreads);
  if (options.distribute.empty() &&
      (options.ranks.getNumOccurrences() ||
       options.distributeEntry.getNumOccurrences()))
    return std::string(options.ranks.getNumOccurrences() ? "ranks"
                                                         : "distribute-entry") +
           " applies with distribute=ring|zigzag, which is not given";
  return checkStrategies(options.strategy, options.overrideStrategy);
}

std::string
mlir::attn::checkGpuPipelineOptions(const GpuPipelineOptions &options) {
  const GpuApi *api = lookupGpuApi(options.api);
  if (!api)
    return "api = '" + options.api + "' is not a GPU API (expected " +
           listGpuApis() + ")";
  if (options.sharedMemory < 0)
    return "shared-memory = " + std::to_string(options.sharedMemory) +
           " must be 0 (the API's default) or positive";
  if (options.tensorCores && !api->whyNoTensorCores().empty()) {
    std::string able;
    for (const GpuApi *other : getGpuApis())
      if (other->whyNoTensorCores().empty())
        able += (able.empty() ? "api=" : " or api=") + other->getName().str();
    return "tensor-cores needs " + able + ": " + api->whyNoTensorCores().str();
  }
  // The options another API reads are errors when written.
  for (const GpuApi *other : getGpuApis())
    if (other != api)
      for (const llvm::cl::Option *own : other->getOwnOptions(options))
        if (own->getNumOccurrences())
          return own->ArgStr.str() +
                 " applies to api=" + other->getName().str() + " only";
  if (std::string error = api->checkOwnOptions(options); !error.empty())
    return error;
  return checkStrategies(options.strategy, options.overrideStrategy);
}
