//===- Compiler.h - Compile and run attn programs ---------------*- C++ -*-===//
//
// A small facade over the compiler for tools and bindings: compile MLIR text
// (attn ops or anything lower) for the CPU, inspect entry signatures, run an
// entry on host arrays through MLIR's ExecutionEngine, count the useful
// FLOPs of a call, and explain strategy selection as plain data. No MLIR type
// appears in this header, so the Python bindings and attn-run depend on it
// alone.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CAPI_COMPILER_H
#define ATTN_CAPI_COMPILER_H

#include "attn/Runtime/Npy.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace attn::api {

using runtime::DType;
using runtime::HostArray;

/// A target that `CompileOptions::target` may name.
struct TargetInfo {
  const char *name;         ///< "cpu", "cuda", "vulkan".
  bool gpu;                 ///< Compiled by the GPU pipeline.
  /// The GPU runtime layer an AOT library's dispatcher checks ("Cuda",
  /// "Vulkan"; "" for the CPU).
  const char *runtimeLayer;
};
/// Every target attn knows, in the order tools list them; the one list that
/// the tools, the AOT dispatcher and Python take theirs from. Whether this
/// build can run one is checkTarget's answer.
const std::vector<TargetInfo> &knownTargets();
/// The entry of knownTargets() named `name`, or null.
const TargetInfo *findTarget(const std::string &name);
/// "cpu, cuda or vulkan": knownTargets() for messages.
std::string knownTargetList();

struct CompileOptions {
  std::string target = "cpu";  ///< "cpu", or "cuda" where cuda.h was found.
  std::string gpuChip = "sm_90"; ///< GPU architecture for target "cuda".
  std::string strategy;        ///< Force this strategy on ops without one.
  /// Replace every op's strategy by this one (attn-run --check uses
  /// "reference").
  std::string overrideStrategy;
  int threads = 0;             ///< 0: all cores.
  int vectorWidth = 0;         ///< 0: the host's.
  int optLevel = 3;            ///< LLVM optimization level.
  /// Raise attention written as math (TOSA, linalg) to attn ops before
  /// anything else (attn-raise); off: it is lowered as written.
  bool raise = true;
  /// Target "cuda": f16/bf16 Q K^T on tensor cores where a strategy can.
  bool tensorCores = false;
  /// Sequence parallelism over MPI ranks ("ring" or "zigzag"; empty: one
  /// process): the attention of `distributeEntry` is split along the
  /// sequence (attn-distribute-sequence), and that entry's q, k and v
  /// arguments become the rank's shard (EntrySignature::sharded).
  std::string distribute;
  int ranks = 1;
  std::string distributeEntry = "main";
};

/// One argument or result of an entry: element type and shape (-1 dynamic).
struct TensorSpec {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::string typeString;  ///< As MLIR prints it.
};

/// Two input dimensions that an attn op of an entry reads and needs equal
/// (or, with `orOne`, the first may be 1: a broadcast). The op verifier
/// checks static sizes; these are checked again on the arrays of a call.
struct SizeRule {
  int firstArg = -1, firstDim = -1;
  int secondArg = -1, secondDim = -1;
  bool orOne = false;
  std::string what;
};

/// An attn.paged_attention whose table, lengths and K cache are entry
/// inputs: their values are checked on every call (runtime::PagedRuleSpec).
struct PagedRule {
  int tableArg = -1, lengthsArg = -1, cacheArg = -1;
  int64_t pageSize = 0;
  std::string op;
};

struct EntrySignature {
  std::string name;
  std::vector<TensorSpec> inputs, results;
  std::vector<SizeRule> sizeRules;
  std::vector<PagedRule> pagedRules;
  /// False for LLVM-dialect input, whose ranks come from the inputs.
  bool known = true;
  /// With CompileOptions::distribute: the arguments that are a rank's
  /// shard of the sequence (axis 2), with the whole sequence's length
  /// (their `inputs` shape holds the shard's).
  std::vector<std::pair<int, int64_t>> sharded;
};

/// Registers the dialects, extensions and translations the compiler needs
/// into `registry`; supplied by tool mains (which include InitAll*.h).
using RegistryInit = std::function<void(mlir::DialectRegistry &)>;

class CompiledModule {
public:
  virtual ~CompiledModule();

  /// Compiles MLIR text. On failure returns null and sets `error` to the
  /// diagnostics. `bufferName` names the source in diagnostics.
  static std::unique_ptr<CompiledModule>
  compile(const std::string &source, const std::string &bufferName,
          const CompileOptions &options, const RegistryInit &init,
          std::string &error);

  /// Public functions of the module, in order.
  virtual std::vector<std::string> entryNames() const = 0;
  /// Null when there is no such function.
  virtual const EntrySignature *signature(const std::string &name) const = 0;
  /// Checks `inputs` against the entry's signature; sets `error` naming the
  /// input and the rule when they disagree.
  virtual bool checkInputs(const std::string &name,
                           const std::vector<HostArray> &inputs,
                           std::string &error) const = 0;
  /// Runs `name` on `inputs` and fills `outputs` with new arrays. Inputs
  /// are not copied. A result's buffer, once its arrays are gone, is kept
  /// by the module and reused by a later call whose result has its size,
  /// so a steady stream of calls touches no fresh memory.
  virtual bool run(const std::string &name,
                   const std::vector<HostArray> &inputs,
                   std::vector<HostArray> &outputs, std::string &error) = 0;
  /// Runs `name` on `inputs` and writes its results into `outputs`, the
  /// caller's arrays: one per result, of its dtype and shape, dense and
  /// aligned to their element size. The compiled code computes a result
  /// in the caller's memory where it can (attn-result-buffers) and the
  /// result is copied there otherwise. Checks the outputs' dtypes and
  /// static sizes before the call; on an error after it (a dynamic size
  /// that differs), the outputs' contents are unspecified.
  virtual bool runInto(const std::string &name,
                       const std::vector<HostArray> &inputs,
                       const std::vector<HostArray> &outputs,
                       std::string &error) = 0;
  /// Useful FLOPs of one call: 2 (D + Dv) per allowed query-key pair and
  /// head, summed over the attn ops of the entry. Negative when unknown.
  virtual double usefulFlops(const std::string &name,
                             const std::vector<HostArray> &inputs) const = 0;
  /// The module after compilation (LLVM dialect), as text.
  virtual std::string loweredIR() const = 0;
  /// True when the source held attn ops (so --check can compare strategies).
  virtual bool hasAttnOps() const = 0;
};

/// Compiles MLIR text ahead of time into a relocatable object for the host
/// CPU (GPU kernels embedded), with a C interface `_mlir_ciface_<name>` for
/// every public function, and returns the entries' signatures.
bool compileToObject(const std::string &source, const std::string &bufferName,
                     const CompileOptions &options, const RegistryInit &init,
                     const std::string &objectPath,
                     std::vector<EntrySignature> &entries, std::string &error);

/// Sets the number of threads compiled code runs with (0: all cores).
void setNumThreads(int threads);

/// GPU targets ("cuda", "vulkan"): while timing is on, each kernel launch of
/// that target is timed on the device (CUDA events, Vulkan timestamps) and
/// waited for; turning it on or off resets the total. False with `error`
/// set when the target has no GPU layer in this build or no device.
bool setGpuKernelTiming(const std::string &target, bool enable,
                        std::string &error);
/// Milliseconds the target's kernels ran since the last call; resets it.
double gpuKernelMilliseconds(const std::string &target);

/// What one strategy would do with one attn op (one line of --attn-explain).
struct StrategyCandidateInfo {
  std::string strategy;     ///< Registered name.
  bool applicable = false;
  std::string reason;       ///< Why it cannot compute the op.
  double seconds = 0;       ///< Roofline estimate on the target.
  double flops = 0;
  double bytes = 0;         ///< Moved to and from memory.
  double parallelism = 0;   ///< Independent work items.
  double extraBytes = 0;    ///< Scratch beyond inputs and result.
  double efficiency = 0;    ///< Fraction of peak the code reaches.
  std::string parameters;   ///< The #attn.strategy<...> it would use, as text.
  bool chosen = false;      ///< The one compilation would use.
};

/// The candidates of one attn op, cheapest applicable first.
struct OpExplanation {
  std::string op;           ///< "attn.attention" or "attn.neighborhood".
  std::string location;     ///< Where the op is in the source.
  std::string written;      ///< Strategy written on the op, or "".
  std::vector<StrategyCandidateInfo> candidates;
};

/// Parses `source` and asks every registered strategy about each attn op on
/// the target of `options` (threads, vectorWidth; `strategy` counts as
/// forced for ops without one). On failure returns false and sets `error`.
bool explain(const std::string &source, const std::string &bufferName,
             const CompileOptions &options, const RegistryInit &init,
             std::vector<OpExplanation> &ops, std::string &error);

/// Loads a shared library that registers more strategies (see
/// mlir::attn::loadStrategyLibrary). On failure sets `error`.
bool loadStrategyLibrary(const std::string &path, std::string &error);

} // namespace attn::api

#endif // ATTN_CAPI_COMPILER_H
