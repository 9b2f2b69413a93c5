//===- ExplainSelection.cpp - Strategy selection as plain structs ---------===//
//
// explain(): every attn op's candidates, costs and the chosen strategy, by
// the selection the passes use; and loading strategy libraries.
//
//===----------------------------------------------------------------------===//

#include "CompilerInternals.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Pipelines/GpuApi.h"
#include "attn/Strategies/Strategy.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"

namespace attn::api {
using namespace detail;

bool explain(const std::string &source, const std::string &bufferName,
             const CompileOptions &options, const RegistryInit &init,
             std::vector<OpExplanation> &ops, std::string &error) {
  if (!checkTarget(options.target, error))
    return false;
  error = checkTargetOptions("cpu", options.threads, options.vectorWidth, 0, 0,
                             0);
  if (!error.empty())
    return false;
  registerBuiltinStrategies();
  std::unique_ptr<MLIRContext> context = makeContext(init);
  SourceDiagnostics diagnostics(context.get(), source, bufferName);
  OwningOpRef<ModuleOp> module = diagnostics.parseAndRaise(
      context.get(), options.raise, bufferName, error);
  if (!module)
    return false;
  // The module's #attn.target as the pipeline would write it, so that
  // selection here is compilation's (a target written in the source counts).
  AttnSetTargetOptions targetOptions;
  if (isGpuTarget(options.target)) {
    GpuPipelineOptions pipeline;
    if (!gpuPipelineOptions(options, /*forDevice=*/true, *module, pipeline,
                            error))
      return false;
    targetOptions.targetKind = "gpu";
    targetOptions.tensorCores = options.tensorCores;
    targetOptions.gpuSharedBytes = pipeline.sharedMemory;
    targetOptions.defaultGpuSharedBytes =
        lookupGpuApi(pipeline.api)->getDefaultSharedMemoryBytes();
  } else {
    targetOptions.targetKind = "cpu";
    targetOptions.threads = options.threads;
    targetOptions.vectorWidth = options.vectorWidth;
  }
  PassManager pm(context.get());
  pm.addPass(createAttnSetTarget(targetOptions));
  if (failed(pm.run(*module))) {
    error = diagnostics.message("cannot set the target");
    return false;
  }
  ops.clear();
  bool selectionFailed = false;
  module->walk([&](Operation *op) {
    if (!isAttnOp(op) || selectionFailed)
      return;
    OpExplanation info;
    info.op = op->getName().getStringRef().str();
    if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
      info.location = (loc.getFilename().str() + ":" +
                       std::to_string(loc.getLine()) + ":" +
                       std::to_string(loc.getColumn()));
    else
      llvm::raw_string_ostream(info.location) << op->getLoc();
    if (StrategyAttr written = getStrategyAttr(op))
      info.written = written.getName().str();
    TargetDescription target = getTargetDescription(op);
    SmallVector<StrategyCandidate> ranked = rankStrategies(op, target);
    // What compilation would choose, by the same selection.
    StrategyRequest request;
    request.override = options.overrideStrategy;
    request.forced = options.strategy;
    FailureOr<StrategyAttr> selected = selectStrategy(op, target, request);
    if (failed(selected)) {
      selectionFailed = true;
      return;
    }
    std::string chosen = selected->getName().str();
    for (const StrategyCandidate &c : ranked) {
      StrategyCandidateInfo out;
      out.strategy = c.strategy->getName().str();
      out.applicable = c.applicable;
      out.reason = c.reason;
      if (c.applicable) {
        out.seconds = c.seconds;
        out.flops = c.cost.flops;
        out.bytes = c.cost.bytes;
        out.parallelism = c.cost.parallelism;
        out.extraBytes = c.cost.extraBytes;
        out.efficiency = c.cost.efficiency;
      }
      if (c.parameters)
        llvm::raw_string_ostream(out.parameters) << c.parameters;
      out.chosen = out.strategy == chosen;
      info.candidates.push_back(std::move(out));
    }
    ops.push_back(std::move(info));
  });
  if (selectionFailed) {
    error = diagnostics.message("strategy selection failed");
    return false;
  }
  return true;
}

bool loadStrategyLibrary(const std::string &path, std::string &error) {
  return mlir::attn::loadStrategyLibrary(path, error);
}

} // namespace attn::api
