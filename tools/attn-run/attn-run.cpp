//===- attn-run.cpp - Run an MLIR function on .npy inputs -----------------===//
//
// attn-run FILE --entry NAME --inputs a.npy,b.npy [--output out.npy]
//         [--target cpu|cuda|vulkan] [--check] [--bench N]
//         [--bench-results caller|returned] [--threads N]
//
// Compiles FILE (attn IR goes through attn-cpu-pipeline; LLVM-dialect IR runs
// as is), calls one function on NumPy arrays, and writes its result. --check
// also runs the `reference` strategy and compares; --bench N times N calls
// after a warm-up and prints `median_ms=<float> gflops=<float> runs=<N>`;
// the timed runs write into the warm-up's result arrays, as a server reuses
// its output buffers (--bench-results=returned: each returns new arrays).
// Every error is one line on stderr and a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/Compiler.h"
#include "attn/Runtime/AotLibrary.h"
#include "attn/Transforms/Passes.h"
#include "../ToolTargetFlags.h"
#ifdef ATTN_HAVE_MPI
#include "DistributedRun.h"
#endif

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace cl = llvm::cl;
using attn::api::CompiledModule;
using attn::api::CompileOptions;
using attn::runtime::DType;
using attn::runtime::HostArray;

static cl::opt<std::string>
    inputFile(cl::Positional, cl::desc("<file.mlir>"), cl::Required,
              cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<std::string> entry("entry", cl::desc("Function to run"),
                                  cl::init("main"),
                                  cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<std::string>
    inputsList("inputs",
               cl::desc("Comma-separated .npy files, one per argument"),
               cl::init(""), cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<std::string>
    outputList("output", cl::desc("Comma-separated .npy files, one per result"),
               cl::init(""), cl::cat(mlir::attn::getAttnOptionCategory()));
using attn::tools::gpuChip;
using attn::tools::target;
using attn::tools::tensorCores;
static cl::opt<bool> check("check",
                           cl::desc("Compare with the reference strategy"),
                           cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<unsigned> bench("bench",
                               cl::desc("Time N calls after a warm-up"),
                               cl::init(0),
                               cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<std::string> benchResults(
    "bench-results",
    cl::desc("Where --bench runs put their results: 'caller' (default) "
             "writes them into output arrays allocated once, as a server "
             "does; 'returned' has each run return new arrays (the "
             "previous run's are released first, and the runtime reuses "
             "their buffers)"),
    cl::init("caller"), cl::cat(mlir::attn::getAttnOptionCategory()));
// `--threads N` is parsed by hand: libMLIR already registers an option named
// "threads" with llvm::cl.
static int threads = 0;
static cl::opt<double>
    absTolerance("atol",
                 cl::desc("--check absolute tolerance (default "
                          "1e-4, 1e-2 for f16/bf16)"),
                 cl::init(-1), cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<double>
    relTolerance("rtol",
                 cl::desc("--check relative tolerance (default "
                          "1e-4, 1e-2 for f16/bf16)"),
                 cl::init(-1), cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<bool> raise(
    "raise",
    cl::desc("Raise attention written as math (TOSA, linalg) to attn ops "
             "first (default on; --raise=false lowers the math as written)"),
    cl::init(true), cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<std::string> distribute(
    "distribute",
    cl::desc("Under mpirun: split the attention along the sequence over the "
             "MPI ranks, ring or zigzag; each rank reads its rows, rank 0 "
             "writes the result"),
    cl::init(""), cl::cat(mlir::attn::getAttnOptionCategory()));
static cl::opt<bool> printIR("print-lowered-ir",
                             cl::desc("Print the module after compilation"),
                             cl::cat(mlir::attn::getAttnOptionCategory()));

static int fail(const std::string &message) {
  llvm::errs() << "attn-run: error: " << message;
  if (message.empty() || message.back() != '\n')
    llvm::errs() << "\n";
  return 1;
}

static void initRegistry(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::attn::AttnDialect>();
}

/// Compares `got` with `want`; prints one line; returns false on mismatch.
static bool compare(const std::vector<HostArray> &got,
                    const std::vector<HostArray> &want) {
  bool pass = true;
  for (size_t r = 0; r < got.size(); ++r) {
    const HostArray &a = got[r], &b = want[r];
    bool lowPrecision = a.dtype == DType::F16 || a.dtype == DType::BF16AsU16;
    double absTol =
        absTolerance >= 0 ? absTolerance : (lowPrecision ? 1e-2 : 1e-4);
    double relTol =
        relTolerance >= 0 ? relTolerance : (lowPrecision ? 1e-2 : 1e-4);
    double maxAbs = 0, maxRef = 0;
    int64_t nanMismatch = 0, outside = 0;
    for (int64_t i = 0, n = a.numElements(); i < n; ++i) {
      double x = attn::runtime::elementAsDouble(a, i);
      double y = attn::runtime::elementAsDouble(b, i);
      if (std::isnan(x) || std::isnan(y)) {
        nanMismatch += std::isnan(x) != std::isnan(y);
        continue;
      }
      double diff = std::fabs(x - y);
      if (std::isinf(x) || std::isinf(y))
        diff = x == y ? 0 : INFINITY;
      maxAbs = std::max(maxAbs, diff);
      if (std::isfinite(y))
        maxRef = std::max(maxRef, std::fabs(y));
      if (!(diff <= absTol + relTol * std::fabs(y)))
        ++outside;
    }
    double maxRel = maxAbs / std::max(maxRef, 1e-30);
    bool ok = nanMismatch == 0 && outside == 0;
    pass &= ok;
    llvm::outs() << "check"
                 << (got.size() > 1 ? " result " + std::to_string(r) : "")
                 << ": max_abs_err=" << llvm::format("%.3e", maxAbs)
                 << " max_rel_err=" << llvm::format("%.3e", maxRel)
                 << " (vs reference strategy, atol=" << absTol
                 << " rtol=" << relTol << ")";
    if (nanMismatch)
      llvm::outs() << " nan_mismatches=" << nanMismatch;
    if (outside)
      llvm::outs() << " elements_outside_tolerance=" << outside;
    llvm::outs() << (ok ? " PASS" : " FAIL") << "\n";
  }
  return pass;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
#ifdef __GLIBC__
  // Buffers of up to 32 MiB that compiled code allocates on every call
  // (results, scratch, the K/V blocks of --distribute) come from the heap
  // and stay mapped between calls, instead of fresh mappings whose first
  // touch faults in every page again (about 12 us per 4 KiB page here).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  mlir::attn::registerAttnCommandLineOptions();
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    llvm::StringRef value;
    if (arg == "--threads" || arg == "-threads") {
      if (i + 1 >= argc)
        return fail("--threads needs a number");
      value = argv[++i];
    } else if (arg.consume_front("--threads=") ||
               arg.consume_front("-threads=")) {
      value = arg;
    } else {
      args.push_back(argv[i]);
      continue;
    }
    if (value.getAsInteger(10, threads) || threads < 0)
      return fail("--threads needs a non-negative number, got '" + value.str() +
                  "'");
  }
  cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream &os) { os << "attn-run (attn, LLVM/MLIR 22)\n"; });
  cl::HideUnrelatedOptions(mlir::attn::getAttnOptionCategory());
  cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(),
                              "attn-run: run a function of an MLIR file on "
                              ".npy inputs\n\n  --threads N  threads to run "
                              "with (default: all cores)\n");

  if (std::string error = attn::tools::targetError(); !error.empty())
    return fail(error);
  if (std::string error; !mlir::attn::loadCommandLineStrategyLibraries(error))
    return fail(error);
  for (cl::opt<double> *tolerance : {&absTolerance, &relTolerance}) {
    if (!tolerance->getNumOccurrences())
      continue;
    std::string flag = "--" + tolerance->ArgStr.str();
    if (!(*tolerance >= 0) || std::isinf(*tolerance))
      return fail(flag + " must be a finite number >= 0, got " +
                  llvm::formatv("{0}", tolerance->getValue()).str());
    if (!check)
      return fail(flag + " is the tolerance of --check, which is not given");
  }

  if (benchResults.getNumOccurrences()) {
    if (benchResults != "caller" && benchResults != "returned")
      return fail("--bench-results must be caller or returned, got '" +
                  benchResults + "'");
    if (!bench)
      return fail("--bench-results says where --bench runs put their "
                  "results, and --bench is not given");
  }

  std::string source;

  if (distribute.getNumOccurrences()) {
#ifdef ATTN_HAVE_MPI
    for (const cl::Option *flag : std::initializer_list<const cl::Option *>{
             &check, &absTolerance, &relTolerance, &gpuChip, &tensorCores,
             &benchResults})
      if (flag->getNumOccurrences())
        return fail("--" + flag->ArgStr.str() +
                    " does not apply with --distribute");
    if (target != "cpu")
      return fail("--distribute runs on the CPU target, not --target " +
                  target);
    if (llvm::StringRef(inputFile).ends_with(".so"))
      return fail("--distribute compiles attn IR; '" + inputFile +
                  "' is a compiled library");
    auto buffer = llvm::MemoryBuffer::getFile(inputFile);
    if (!buffer)
      return fail("cannot read '" + inputFile +
                  "': " + buffer.getError().message());
    DistributedRunOptions run;
    run.mode = distribute;
    run.source = (*buffer)->getBuffer().str();
    run.sourceName = inputFile;
    run.entry = entry;
    llvm::SmallVector<llvm::StringRef> paths;
    llvm::StringRef(inputsList).split(paths, ',', -1, false);
    for (llvm::StringRef path : paths)
      run.inputPaths.push_back(path.trim().str());
    paths.clear();
    llvm::StringRef(outputList).split(paths, ',', -1, false);
    for (llvm::StringRef path : paths)
      run.outputPaths.push_back(path.trim().str());
    run.threads = threads;
    run.bench = bench;
    run.printIR = printIR;
    run.compile.raise = raise;
    run.registry = initRegistry;
    return runDistributed(run);
#else
    return fail("--distribute needs MPI, and this attn-run was built without "
                "it (scripts/setup.sh installs OpenMPI)");
#endif
  }

  std::vector<HostArray> inputs;
  if (!inputsList.empty()) {
    llvm::SmallVector<llvm::StringRef> paths;
    llvm::StringRef(inputsList).split(paths, ',', -1, false);
    for (llvm::StringRef path : paths) {
      HostArray array;
      std::string error;
      if (!attn::runtime::readNpy(path.trim().str(), array, error))
        return fail(error);
      inputs.push_back(std::move(array));
    }
  }

  attn::api::setNumThreads(threads);
  std::string error;
  // An AOT library (attn-aot) runs as is; MLIR text is compiled first.
  std::unique_ptr<attn::runtime::AotLibrary> library;
  std::unique_ptr<CompiledModule> module;
  std::function<bool(std::vector<HostArray> &, std::string &)> runOnce;
  // Runs the entry with its results written into the given arrays.
  std::function<bool(const std::vector<HostArray> &, std::string &)> runInto;
  if (llvm::StringRef(inputFile).ends_with(".so")) {
    library = attn::runtime::AotLibrary::open(inputFile, error);
    if (!library)
      return fail(error);
    if (!library->entry(entry)) {
      std::string known;
      for (const attn::runtime::AotEntry &e : library->entries())
        known += (known.empty() ? "" : "; ") + e.text();
      return fail("no entry @" + entry + " in '" + inputFile +
                  "' (entries: " + known + ")");
    }
    if (check)
      return fail("--check needs attn IR to recompute with the reference "
                  "strategy; '" +
                  inputFile + "' is a compiled library");
    // What only compilation reads cannot apply to a compiled library.
    std::string compileOnly;
    if (!mlir::attn::getCommandLineForcedStrategy().empty())
      compileOnly = "--attn-strategy";
    for (const cl::Option *flag :
         std::initializer_list<const cl::Option *>{&gpuChip, &tensorCores,
                                                   &raise, &printIR})
      if (compileOnly.empty() && flag->getNumOccurrences())
        compileOnly = "--" + flag->ArgStr.str();
    if (!compileOnly.empty())
      return fail(compileOnly + " applies when attn-run compiles IR; '" +
                  inputFile + "' is a library compiled by attn-aot");
    if (target.getNumOccurrences() && target != library->target())
      return fail("--target " + target + " was given, but '" + inputFile +
                  "' holds code for target " + library->target() +
                  " (attn-aot --target chose it)");
    runOnce = [&](std::vector<HostArray> &outputs, std::string &err) {
      return library->call(entry, inputs, outputs, err);
    };
    runInto = [&](const std::vector<HostArray> &outputs, std::string &err) {
      return library->callInto(entry, inputs, outputs, err);
    };
  } else {
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
    if (!buffer)
      return fail("cannot read '" + inputFile +
                  "': " + buffer.getError().message());
    source = (*buffer)->getBuffer().str();
    CompileOptions options;
    options.target = target;
    options.gpuChip = gpuChip;
    options.tensorCores = tensorCores;
    options.threads = threads;
    options.raise = raise;
    module = CompiledModule::compile(source, inputFile, options, initRegistry,
                                     error);
    if (!module)
      return fail(error);
    if (printIR)
      llvm::outs() << module->loweredIR() << "\n";
    if (!module->signature(entry)) {
      std::string known;
      for (const std::string &name : module->entryNames())
        known += (known.empty() ? "@" : ", @") + name;
      return fail("no function @" + entry + " in '" + inputFile +
                  "' (functions: " + known + ")");
    }
    if (!module->checkInputs(entry, inputs, error))
      return fail(error);
    runOnce = [&](std::vector<HostArray> &outputs, std::string &err) {
      return module->run(entry, inputs, outputs, err);
    };
    runInto = [&](const std::vector<HostArray> &outputs, std::string &err) {
      return module->runInto(entry, inputs, outputs, err);
    };
  }

  // One --output file per result: checked before the call where the
  // signature says how many results there are, after it otherwise (LLVM
  // dialect input).
  llvm::SmallVector<llvm::StringRef> outputPaths;
  llvm::StringRef(outputList).split(outputPaths, ',', -1, false);
  auto checkOutputCount = [&](size_t results) -> bool {
    if (outputPaths.empty() || outputPaths.size() == results)
      return true;
    auto count = [](size_t n, const char *noun) {
      return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
    };
    fail("@" + entry + " returns " + count(results, "result") +
         " but --output names " + count(outputPaths.size(), "file"));
    return false;
  };
  // An AOT library knows its number of results; MLIR text knows it from the
  // signature unless the input is already in the LLVM dialect.
  if (library && !checkOutputCount(library->entry(entry)->results.size()))
    return 1;
  if (module) {
    const attn::api::EntrySignature *signature = module->signature(entry);
    if (signature->known && !checkOutputCount(signature->results.size()))
      return 1;
  }

  std::vector<HostArray> outputs;
  if (!runOnce(outputs, error))
    return fail(error);
  if (!checkOutputCount(outputs.size()))
    return 1;
  for (size_t r = 0; r < outputPaths.size(); ++r)
    if (!attn::runtime::writeNpy(outputPaths[r].trim().str(), outputs[r],
                                 error))
      return fail(error);
  if (outputPaths.empty())
    for (size_t r = 0; r < outputs.size(); ++r)
      llvm::outs() << "result " << r << ": "
                   << attn::runtime::dtypeName(outputs[r].dtype) << " "
                   << outputs[r].shapeString() << "\n";

  int status = 0;
  if (check) {
    if (!module->hasAttnOps())
      return fail("--check needs attn ops in the input: '" + inputFile +
                  "' has none to recompute with the reference strategy");
    CompileOptions refOptions;
    refOptions.target = target;
    refOptions.gpuChip = gpuChip;
    refOptions.threads = threads;
    refOptions.raise = raise;
    refOptions.overrideStrategy = "reference";
    std::unique_ptr<CompiledModule> reference = CompiledModule::compile(
        source, inputFile, refOptions, initRegistry, error);
    if (!reference)
      return fail("reference compilation failed: " + error);
    std::vector<HostArray> expected;
    if (!reference->run(entry, inputs, expected, error))
      return fail("reference run failed: " + error);
    if (!compare(outputs, expected))
      status = 1;
  }

  if (bench > 0) {
    // GPU code compiled here: its kernels are timed on the device too.
    bool gpuKernels = module && target != "cpu";
    if (gpuKernels &&
        !attn::api::setGpuKernelTiming(target, /*enable=*/true, error))
      return fail(error);
    auto medianOf = [](std::vector<double> times) {
      std::sort(times.begin(), times.end());
      return times.size() % 2 ? times[times.size() / 2]
                              : 0.5 * (times[times.size() / 2 - 1] +
                                       times[times.size() / 2]);
    };
    std::vector<double> times, kernelTimes;
    // The first run's results are the output arrays of the runs that
    // write into the caller's memory.
    bool intoCaller = benchResults == "caller";
    for (unsigned i = 0; i < bench; ++i) {
      if (!intoCaller)
        outputs.clear();
      auto start = std::chrono::steady_clock::now();
      if (!(intoCaller ? runInto(outputs, error) : runOnce(outputs, error)))
        return fail(error);
      auto stop = std::chrono::steady_clock::now();
      times.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
      if (gpuKernels)
        kernelTimes.push_back(attn::api::gpuKernelMilliseconds(target));
    }
    if (gpuKernels)
      attn::api::setGpuKernelTiming(target, /*enable=*/false, error);
    double median = medianOf(times);
    double flops = module ? module->usefulFlops(entry, inputs) : -1;
    double gflops = flops >= 0 ? flops / (median * 1e-3) / 1e9 : NAN;
    llvm::outs() << "median_ms=" << llvm::format("%.4f", median)
                 << " gflops=" << llvm::format("%.3f", gflops)
                 << " runs=" << bench;
    if (gpuKernels)
      llvm::outs() << " kernel_median_ms="
                   << llvm::format("%.4f", medianOf(kernelTimes));
    llvm::outs() << "\n";
  }
  return status;
}
