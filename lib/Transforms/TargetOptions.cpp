//===- TargetOptions.cpp - Target description and command-line flags ------===//
//
// Turns the passes' target options into a TargetDescription, and defines the
// process-wide flags `--attn-strategy` and `--attn-load-strategy` that
// attn-opt and attn-run offer.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ManagedStatic.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mlir::attn;

TargetDescription mlir::attn::makeTargetDescription(StringRef kind,
                                                    int64_t threads,
                                                    int64_t vectorWidth,
                                                    int64_t l1, int64_t l2,
                                                    int64_t l3,
                                                    bool tensorCores,
                                                    int64_t gpuSharedBytes) {
  TargetDescription target =
      kind == "gpu" ? TargetDescription::gpu() : TargetDescription::host();
  if (threads > 0)
    target.threads = threads;
  if (vectorWidth > 0)
    target.vectorBits = vectorWidth;
  if (l1 > 0)
    target.l1Bytes = l1;
  if (l2 > 0)
    target.l2Bytes = l2;
  if (l3 > 0)
    target.l3Bytes = l3;
  target.tensorCores = tensorCores;
  if (gpuSharedBytes > 0)
    target.gpuSharedBytes = gpuSharedBytes;
  return target;
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
      llvm::cl::value_desc("lib.so"), llvm::cl::cat(getAttnOptionCategory()),
      llvm::cl::callback([](const std::string &path) {
        std::string error;
        if (!loadStrategyLibrary(path, error)) {
          llvm::WithColor::error(llvm::errs()) << error << "\n";
          std::exit(1);
        }
      })};
};
llvm::ManagedStatic<AttnCommandLineOptions> commandLineOptions;
bool commandLineRegistered = false;
} // namespace

void mlir::attn::registerAttnCommandLineOptions() {
  registerBuiltinStrategies();
  *commandLineOptions;
  commandLineRegistered = true;
}

StringRef mlir::attn::getCommandLineForcedStrategy() {
  if (!commandLineRegistered)
    return "";
  return commandLineOptions->forcedStrategy;
}
