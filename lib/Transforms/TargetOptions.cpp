//===- TargetOptions.cpp - Target options and command-line flags ---------===//
//
// The rules of target options (attn-set-target's, the pipelines' and the C
// API's), and the process-wide flags `--attn-strategy` and
// `--attn-load-strategy` that attn-opt and attn-run offer.
//
//===----------------------------------------------------------------------===//

#include "attn/Support/Debug.h"
#include "attn/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ManagedStatic.h"

using namespace mlir;
using namespace mlir::attn;

/// Target kinds that the `target` option accepts.
static constexpr llvm::StringLiteral kTargetKinds[] = {"cpu", "gpu"};
/// SIMD widths in bits that the CPU kernels can be built for (0: host).
static constexpr int64_t kVectorWidths[] = {0, 128, 256, 512};

std::string mlir::attn::checkTargetOptions(StringRef kind, int64_t threads,
                                           int64_t vectorWidth, int64_t l1,
                                           int64_t l2, int64_t l3,
                                           bool tensorCores,
                                           int64_t gpuSharedBytes) {
  if (!llvm::is_contained(kTargetKinds, kind)) {
    std::string known;
    for (StringRef k : kTargetKinds)
      known += (known.empty() ? "" : " or ") + k.str();
    return "unknown target '" + kind.str() + "' (expected " + known + ")";
  }
  if (threads < 0 || threads > kMaxThreads)
    return "threads = " + std::to_string(threads) + " is out of range: it "
           "must be from 0 (all hardware threads) to " +
           std::to_string(kMaxThreads);
  if (!llvm::is_contained(kVectorWidths, vectorWidth))
    return "vector-width = " + std::to_string(vectorWidth) +
           " is not a SIMD width the kernels are built for: it must be 128, "
           "256 or 512 (0: the host's)";
  for (auto [name, bytes] : {std::pair<const char *, int64_t>{"l1-bytes", l1},
                             {"l2-bytes", l2},
                             {"l3-bytes", l3}})
    if (bytes < 0)
      return std::string(name) + " = " + std::to_string(bytes) +
             " is out of range: it must be >= 0 (0: the host's)";
  if (tensorCores && kind != "gpu")
    return "tensor-cores applies to target gpu, not " + kind.str();
  if (gpuSharedBytes < 0)
    return "gpu-shared-memory = " + std::to_string(gpuSharedBytes) +
           " is out of range: it must be >= 0 (0: 48 KiB)";
  if (gpuSharedBytes > 0 && kind != "gpu")
    return "gpu-shared-memory applies to target gpu, not " + kind.str();
  return "";
}

llvm::cl::OptionCategory &mlir::attn::getAttnOptionCategory() {
  static llvm::cl::OptionCategory category("attn options");
  return category;
}

namespace {
struct AttnCommandLineOptions {
  llvm::cl::opt<std::string> forcedStrategy{
      "attn-strategy",
      llvm::cl::desc("Force this strategy on every attn op that has none "
                     "(default of attn-select-strategy's strategy option)"),
      llvm::cl::value_desc("name"), llvm::cl::init(""),
      llvm::cl::cat(getAttnOptionCategory())};
  llvm::cl::list<std::string> strategyLibraries{
      "attn-load-strategy",
      llvm::cl::desc("Load a shared library that registers strategies"),
      llvm::cl::value_desc("lib.so"), llvm::cl::cat(getAttnOptionCategory())};
};
llvm::ManagedStatic<AttnCommandLineOptions> commandLineOptions;
bool commandLineRegistered = false;
} // namespace

void mlir::attn::registerAttnCommandLineOptions() {
  registerBuiltinStrategies();
  registerDebugOptions();
  *commandLineOptions;
  commandLineRegistered = true;
}

bool mlir::attn::loadCommandLineStrategyLibraries(std::string &error) {
  if (!commandLineRegistered)
    return true;
  for (const std::string &path : commandLineOptions->strategyLibraries)
    if (!loadStrategyLibrary(path, error))
      return false;
  return true;
}

StringRef mlir::attn::getCommandLineForcedStrategy() {
  if (!commandLineRegistered)
    return "";
  return commandLineOptions->forcedStrategy;
}
