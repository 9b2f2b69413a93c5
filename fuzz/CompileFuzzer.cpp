//===- CompileFuzzer.cpp - Structure-aware fuzzing of the compiler --------===//
//
// libFuzzer harness: the bytes become one attn op (ProgramGenerator: random
// shapes, element types, attributes, masks, biases and strategies). The
// program is parsed and verified: a valid program must be accepted and an
// invalid one rejected with a message. Programs too large to run go through
// select -> apply -> the CPU pipeline to the LLVM dialect; small ones are
// compiled and JIT-run through the lib/CAPI facade, once as written and once
// with every op on the `reference` strategy, on seeded inputs placed against
// guard pages (reading past an input or writing into one faults), and the
// results must agree: the same NaNs, the same infinities, the finite values
// within a tolerance, and no NaN or infinity at all from finite inputs when
// the weights are normalized.
//
// Environment: ATTN_FUZZ_VERBOSE=1 prints each program; ATTN_FUZZ_NO_JIT=1
// stops after the pipeline (more programs per second).
//
//===----------------------------------------------------------------------===//

#include "HarnessSupport.h"
#include "ProgramGenerator.h"

#include "attn/CAPI/Compiler.h"
#include "attn/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace mlir;
using ::attn::api::CompiledModule;
using ::attn::api::CompileOptions;
using ::attn::fuzz::DataMode;
using ::attn::fuzz::GeneratedProgram;
using ::attn::runtime::DType;
using ::attn::runtime::HostArray;
namespace api = ::attn::api;
namespace gen = ::attn::fuzz;
namespace rt = ::attn::runtime;

namespace {

/// Programs above this many multiply-adds are compiled, not run.
constexpr double kMaxJitWork = 2e6;

constexpr const char *kHarness = "attn-compile-fuzzer";

struct Settings {
  bool verbose = std::getenv("ATTN_FUZZ_VERBOSE") != nullptr;
  bool jit = std::getenv("ATTN_FUZZ_NO_JIT") == nullptr;
};

Settings &settings() {
  static Settings *s = new Settings();
  return *s;
}

[[noreturn]] void fail(const GeneratedProgram &program, const std::string &what) {
  gen::fail(kHarness, program, what);
}

/// Host arrays whose bytes end at a guard page (and start after one), in
/// read-only memory: compiled code that reads past an input, or writes into
/// one, faults.
class GuardedInputs {
public:
  explicit GuardedInputs(const std::vector<HostArray> &arrays) {
    size_t page = sysconf(_SC_PAGESIZE);
    for (const HostArray &array : arrays) {
      size_t bytes = array.numBytes();
      size_t body = (bytes + page - 1) / page * page;
      size_t total = body + 2 * page;
      void *base = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) {
        std::perror("mmap");
        std::abort();
      }
      uint8_t *end = static_cast<uint8_t *>(base) + page + body;
      uint8_t *data = end - bytes;
      std::memcpy(data, array.data, bytes);
      mprotect(base, page, PROT_NONE);
      mprotect(static_cast<uint8_t *>(base) + page, body, PROT_READ);
      mprotect(end, page, PROT_NONE);
      regions.push_back({base, total});
      views.push_back(HostArray::view(array.dtype, array.shape, data));
    }
  }
  ~GuardedInputs() {
    for (auto [base, total] : regions)
      munmap(base, total);
  }
  const std::vector<HostArray> &arrays() const { return views; }

private:
  std::vector<std::pair<void *, size_t>> regions;
  std::vector<HostArray> views;
};

bool allFinite(const std::vector<HostArray> &arrays) {
  for (const HostArray &a : arrays)
    if (a.dtype != DType::I1)
      for (int64_t i = 0, n = a.numElements(); i < n; ++i)
        if (!std::isfinite(rt::elementAsDouble(a, i)))
          return false;
  return true;
}

/// Compares `got` with the reference's `want`; returns "" or what differs.
std::string compare(const HostArray &got, const HostArray &want,
                    double relTol, bool mustBeFinite) {
  if (got.shape != want.shape || got.dtype != want.dtype)
    return "result shape " + got.shapeString() + " != reference " +
           want.shapeString();
  double scale = 0;
  int64_t n = want.numElements();
  for (int64_t i = 0; i < n; ++i) {
    double y = rt::elementAsDouble(want, i);
    if (std::isfinite(y))
      scale = std::max(scale, std::fabs(y));
  }
  double tol = relTol * (1 + scale);
  for (int64_t i = 0; i < n; ++i) {
    double x = rt::elementAsDouble(got, i);
    double y = rt::elementAsDouble(want, i);
    std::string where = "element " + std::to_string(i) + ": got " +
                        std::to_string(x) + ", reference " + std::to_string(y);
    if (mustBeFinite && !(std::isfinite(x) && std::isfinite(y)))
      return "non-finite output from finite inputs at " + where;
    if (std::isnan(x) || std::isnan(y)) {
      if (std::isnan(x) != std::isnan(y))
        return "NaN mismatch at " + where;
      continue;
    }
    if (std::isinf(x) || std::isinf(y)) {
      if (x != y)
        return "infinity mismatch at " + where;
      continue;
    }
    if (!(std::fabs(x - y) <= tol))
      return "difference beyond " + std::to_string(tol) + " at " + where;
  }
  return "";
}

/// Relative tolerance (to the largest reference value) for the result type
/// and data mode: rounding of the output type, and the conditioning of
/// softmax when scores are huge (a relative rounding error in the score
/// becomes an absolute change of the weights).
double tolerance(DType dtype, DataMode mode) {
  double t = dtype == DType::F16 ? 4e-3 : dtype == DType::BF16AsU16 ? 2e-2 : 2e-4;
  if (mode == DataMode::Large)
    t = std::max(t, 4e-3);
  if (mode == DataMode::NearF16)
    t = std::max(t, 1e-1);
  return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
  Settings &s = settings();
  FuzzedDataProvider data(bytes, size);
  GeneratedProgram program = gen::generateProgram(data);
  uint64_t seed = data.ConsumeIntegral<uint64_t>();
  auto mode = static_cast<DataMode>(data.ConsumeIntegralInRange<int>(0, 5));
  int threads = data.ConsumeIntegralInRange<int>(1, 2);
  int optLevel = data.ConsumeBool() ? 3 : 1;
  if (s.verbose)
    std::fprintf(stderr, "--- program (valid=%d mustCompile=%d mode=%s) ---\n%s",
                 program.valid, program.mustCompile,
                 gen::dataModeName(mode), program.text.c_str());

  // Parse and verify.
  gen::ProgramContext parsed;
  MLIRContext &context = parsed.context;
  const gen::ErrorCollector &errors = parsed.errors;
  OwningOpRef<ModuleOp> module = parsed.parse(kHarness, program);
  if (!module)
    return 0;

  bool runIt = s.jit && program.work <= kMaxJitWork;
  if (!runIt) {
    // select -> apply -> the CPU pipeline to LLVM.
    PassManager pm(&context);
    mlir::attn::CpuPipelineOptions options;
    options.threads = threads;
    mlir::attn::buildCpuPipeline(pm, options);
    if (failed(pm.run(*module))) {
      if (program.mustCompile)
        fail(program, "the pipeline failed on a valid program: " + errors.text());
      if (errors.text().empty())
        fail(program, "the pipeline failed without a message");
    }
    return 0;
  }

  // JIT the program and its reference, run both, compare.
  api::setNumThreads(threads);
  CompileOptions options;
  options.threads = threads;
  options.optLevel = optLevel;
  std::string error;
  auto init = [](DialectRegistry &registry) { gen::initRegistry(registry); };
  std::unique_ptr<CompiledModule> compiled =
      CompiledModule::compile(program.text, "fuzz.mlir", options, init, error);
  if (!compiled) {
    if (program.mustCompile)
      fail(program, "compilation failed on a valid program: " + error);
    if (error.empty())
      fail(program, "compilation failed without a message");
    return 0;
  }
  CompileOptions referenceOptions = options;
  referenceOptions.overrideStrategy = "reference";
  std::unique_ptr<CompiledModule> reference = CompiledModule::compile(
      program.text, "fuzz.mlir", referenceOptions, init, error);
  if (!reference)
    fail(program, "the reference strategy failed to compile: " + error);

  std::vector<HostArray> generated =
      gen::generateInputs(program, seed, mode);
  GuardedInputs inputs(generated);
  std::vector<HostArray> got, want;
  if (!compiled->run("main", inputs.arrays(), got, error))
    fail(program, "run failed: " + error);
  if (!reference->run("main", inputs.arrays(), want, error))
    fail(program, "reference run failed: " + error);
  if (got.size() != 1 || want.size() != 1)
    fail(program, "expected one result");
  bool mustBeFinite = program.boundedWeights && allFinite(generated);
  std::string difference =
      compare(got[0], want[0], tolerance(got[0].dtype, mode), mustBeFinite);
  if (!difference.empty())
    fail(program, std::string("data mode ") + gen::dataModeName(mode) +
                      ", threads " + std::to_string(threads) + ": " +
                      difference);
  return 0;
}
