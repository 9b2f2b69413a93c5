//===- StrategyFuzzer.cpp - Every strategy's rewrite on generated ops -----===//
//
// libFuzzer harness: the bytes become one attn op (ProgramGenerator) and a
// target (the CPU with 1-4 threads and 256- or 512-bit vectors, or the GPU
// with or without tensor cores). The program is parsed and judged as in the
// compile harness; then every strategy is ranked for the op on that target
// (isApplicable, chooseParameters, estimateCost), and one strategy, picked
// by the bytes (or the cost model's choice, or the one written on the op),
// goes through attn-select-strategy and attn-apply-strategies, whose result
// is verified. This stops before bufferization and LLVM, so it runs about
// a hundred times as many programs per second as attn-compile-fuzzer and
// reaches the GPU emitters, which that harness never builds. Since it never
// runs a program, a quarter of its ops take sizes near the verifier's
// 2^31 - 1 limits (generateProgram's extremeSizes).
//
// What counts as a bug (abort): a valid program rejected or an invalid one
// accepted, or one rejected without a message; a strategy that calls itself
// applicable (or the cost model's choice, or a written `reference` or
// parameterless choice) failing to rewrite the op or producing IR that does
// not verify; a failure without a message.
//
// Environment: ATTN_FUZZ_VERBOSE=1 prints each program and target.
//
//===----------------------------------------------------------------------===//

#include "HarnessSupport.h"
#include "ProgramGenerator.h"

#include "attn/Strategies/Strategy.h"
#include "attn/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cstdio>
#include <cstdlib>

using namespace mlir;
using ::attn::fuzz::GeneratedProgram;
namespace gen = ::attn::fuzz;

namespace {
constexpr const char *kHarness = "attn-strategy-fuzzer";
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
  static const bool verbose = std::getenv("ATTN_FUZZ_VERBOSE") != nullptr;
  FuzzedDataProvider data(bytes, size);
  GeneratedProgram program = gen::generateProgram(data, /*extremeSizes=*/true);

  // The target, as the pipelines' options describe it.
  mlir::attn::AttnApplyStrategiesOptions target;
  bool gpu = data.ConsumeBool();
  target.targetKind = gpu ? "gpu" : "cpu";
  if (gpu) {
    target.tensorCores = data.ConsumeBool();
  } else {
    target.threads = data.ConsumeIntegralInRange<int64_t>(1, 4);
    target.vectorWidth = data.ConsumeBool() ? 512 : 256;
  }
  // Which strategy: 0 leaves it to the cost model, i > 0 forces the i-th
  // registered one (on an op that has none written).
  SmallVector<const mlir::attn::Strategy *> strategies =
      mlir::attn::StrategyRegistry::global().all();
  size_t pick = data.ConsumeIntegralInRange<size_t>(0, strategies.size());
  std::string forced =
      pick ? strategies[pick - 1]->getName().str() : std::string();
  if (verbose)
    std::fprintf(stderr,
                 "--- program (valid=%d mustCompile=%d target=%s "
                 "tensor-cores=%d threads=%lld vector-width=%lld "
                 "strategy=%s) ---\n%s",
                 program.valid, program.mustCompile, target.targetKind.c_str(),
                 bool(target.tensorCores), (long long)target.threads,
                 (long long)target.vectorWidth,
                 forced.empty() ? "(selection)" : forced.c_str(),
                 program.text.c_str());

  gen::ProgramContext parsed;
  MLIRContext &context = parsed.context;
  const gen::ErrorCollector &errors = parsed.errors;
  OwningOpRef<ModuleOp> module = parsed.parse(kHarness, program);
  if (!module)
    return 0;

  // Rank every strategy; note whether the forced one says it applies.
  mlir::attn::TargetDescription description =
      mlir::attn::makeTargetDescription(target.targetKind, target.threads,
                                        target.vectorWidth, 0, 0, 0,
                                        target.tensorCores);
  Operation *op = nullptr;
  module->walk([&](Operation *candidate) {
    if (mlir::attn::isAttnOp(candidate))
      op = candidate;
  });
  if (!op)
    gen::fail(kHarness, program, "the program holds no attn op");
  bool written = static_cast<bool>(mlir::attn::getStrategyAttr(op));
  bool forcedApplies = forced.empty();
  bool anyApplies = false;
  for (const mlir::attn::StrategyCandidate &candidate :
       mlir::attn::rankStrategies(op, description)) {
    anyApplies |= candidate.applicable;
    if (candidate.strategy->getName() == forced)
      forcedApplies = candidate.applicable;
    if (!candidate.applicable && candidate.reason.empty())
      gen::fail(kHarness, program,
                "strategy '" + candidate.strategy->getName().str() +
                    "' is not applicable and gives no reason");
  }

  // Select and apply; the pass manager verifies after each pass.
  mlir::attn::AttnSelectStrategyOptions select;
  select.forcedStrategy = forced;
  select.targetKind = target.targetKind;
  select.threads = target.threads;
  select.vectorWidth = target.vectorWidth;
  select.tensorCores = target.tensorCores;
  PassManager pm(&context);
  pm.addPass(mlir::attn::createAttnSelectStrategy(select));
  pm.addPass(mlir::attn::createAttnApplyStrategies(target));
  bool mustApply = written ? program.mustCompile
                           : program.valid && forcedApplies &&
                                 (forced.empty() ? anyApplies : true);
  if (failed(pm.run(*module))) {
    if (mustApply)
      gen::fail(kHarness, program,
                std::string("the ") + target.targetKind + " rewrite with " +
                    (written ? "the written strategy"
                     : forced.empty() ? "the selected strategy"
                                      : "strategy '" + forced + "'") +
                    " failed: " + errors.text());
    if (errors.text().empty())
      gen::fail(kHarness, program, "the rewrite failed without a message");
    return 0;
  }
  bool left = false;
  module->walk([&](Operation *o) { left |= mlir::attn::isAttnOp(o); });
  if (left)
    gen::fail(kHarness, program, "an attn op is left after the rewrite");
  return 0;
}
