//===- CompilerInternals.h - What the facade's files share ------*- C++ -*-===//
//
// lib/CAPI's private declarations: the JIT's one-time setup, contexts and
// diagnostics, target and pipeline checks, and CompiledModuleImpl, which
// Compiler.cpp (JIT compile and run), AotCompiler.cpp (object files) and
// ExplainSelection.cpp (strategy reports) use.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CAPI_COMPILERINTERNALS_H
#define ATTN_LIB_CAPI_COMPILERINTERNALS_H

#include "attn/CAPI/Compiler.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Runtime/CpuRuntime.h"
#include "attn/Runtime/ResultPool.h"
#include "attn/Strategies/Strategy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Target/TargetMachine.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace attn::api::detail {
using namespace mlir;
using namespace mlir::attn;

/// Initializes the native target once, and loads libomp for the JIT.
/// Returns the libomp loading error, or "".
const std::string &initializeJitOnce();

/// A context with the dialects that `init` registers.
std::unique_ptr<MLIRContext> makeContext(const RegistryInit &init);

/// The source buffer and the diagnostics emitted against it, as text.
struct SourceDiagnostics {
  llvm::SourceMgr sourceMgr;
  std::string text;
  llvm::raw_string_ostream stream{text};
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;

  SourceDiagnostics(MLIRContext *context, const std::string &source,
                    const std::string &bufferName) {
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(source, bufferName),
        llvm::SMLoc());
    handler =
        std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, context, stream);
  }
  OwningOpRef<ModuleOp> parse(MLIRContext *context) {
    return parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(context));
  }
  /// The diagnostics, or `fallback` when there were none.
  std::string message(const std::string &fallback) const {
    return text.empty() ? fallback : text;
  }
  /// Parses the source and, with `raise`, runs attn-raise on it; null with
  /// `error` set when either fails.
  OwningOpRef<ModuleOp> parseAndRaise(MLIRContext *context, bool raise,
                                      const std::string &bufferName,
                                      std::string &error);
};

/// True for the targets this build can run; else false with `error` set.
bool checkTarget(const std::string &target, std::string &error);
bool isGpuTarget(const std::string &target);
/// The first error the GPU runtime recorded during a call, or "".
std::string takeGpuError();
/// A target machine for the host CPU, or null with `error` set. With `pic`
/// (a shared library): position-independent code at the aggressive codegen
/// level; else the JIT's defaults.
std::unique_ptr<llvm::TargetMachine> createHostTargetMachine(bool pic,
                                                             std::string &error);
/// The options of attn-gpu-pipeline for a GPU target; false with `error`
/// set when the compile options do not fit it. Compiling to run here
/// (`forDevice`), Vulkan kernels are fitted to this machine's device: its
/// shared memory, unless `module`'s #attn.target writes its own, which must
/// not exceed the device's.
bool gpuPipelineOptions(const CompileOptions &options, bool forDevice,
                        ModuleOp module, GpuPipelineOptions &pipeline,
                        std::string &error);
std::optional<DType> dtypeOf(Type type);
std::string typeString(Type type);
/// Runs attn-raise on `module`.
LogicalResult raiseAttention(ModuleOp module);

/// A size of an attn op: static, or dimension `dim` of entry input `arg`.
struct DimSource {
  int64_t value = ShapedType::kDynamic;
  int arg = -1;
  int dim = -1;
  int64_t resolve(const std::vector<HostArray> &inputs) const {
    if (!ShapedType::isDynamic(value))
      return value;
    if (arg < 0 || arg >= static_cast<int>(inputs.size()) ||
        dim >= static_cast<int>(inputs[arg].shape.size()))
      return -1;
    return inputs[arg].shape[dim];
  }
};

/// What counting one attn op's useful FLOPs needs.
struct FlopTerm {
  AttentionWork work;
  DimSource batch;
  std::vector<DimSource> queryShape, keyShape;
  int maskArg = -1;
  /// attn.paged_attention: the page size (keyShape holds the pages per
  /// request) and the entry input holding key_lengths.
  int64_t pageSize = 0;
  int keyLengthsArg = -1;
};

DimSource dimSource(Value tensor, int dim, func::FuncOp entry);
/// Fully masked memref results of LLVM-dialect entries: ranks of the memref
/// descriptors in the result struct.
std::optional<std::vector<int>> descriptorRanks(Type type);

/// One result of a call, as the compiled code returned its descriptor.
struct ReturnedResult {
  uint8_t *allocated = nullptr; ///< What free() would take.
  uint8_t *data = nullptr;      ///< Its first element.
  int64_t offset = 0;           ///< Elements from the aligned pointer.
  std::vector<int64_t> shape, strides;
  DType dtype = DType::F32;
  bool contiguous = true; ///< Dense row-major.
  /// A fresh allocation of the compiled code, for the caller to free (not
  /// an offered buffer, not an argument or a global).
  bool owned = false;
};

class CompiledModuleImpl final : public CompiledModule {
public:
  std::vector<std::string> entryNames() const override { return names; }

  const EntrySignature *signature(const std::string &name) const override {
    auto it = signatures.find(name);
    return it == signatures.end() ? nullptr : &it->second;
  }

  bool checkInputs(const std::string &name,
                   const std::vector<HostArray> &inputs,
                   std::string &error) const override;
  bool run(const std::string &name, const std::vector<HostArray> &inputs,
           std::vector<HostArray> &outputs, std::string &error) override;
  bool runInto(const std::string &name, const std::vector<HostArray> &inputs,
               const std::vector<HostArray> &outputs,
               std::string &error) override;
  double usefulFlops(const std::string &name,
                     const std::vector<HostArray> &inputs) const override;
  std::string loweredIR() const override { return lowered; }
  bool hasAttnOps() const override { return attnOps; }

  bool build(const std::string &source, const std::string &bufferName,
             const CompileOptions &options, const RegistryInit &init,
             std::string &error, bool jit = true);
  /// Without JIT (ahead of time): the module lowered to the LLVM dialect.
  OwningOpRef<ModuleOp> lowered_module;
  ~CompiledModuleImpl() override {
    // The module goes before the context that owns its types.
    lowered_module = nullptr;
  }
  std::vector<EntrySignature> entrySignatures() const {
    std::vector<EntrySignature> out;
    for (const std::string &name : names)
      out.push_back(signatures.at(name));
    return out;
  }

private:
  void recordEntries(ModuleOp module);
  /// Calls `name` with `slots` offered for its results (resized to the
  /// number of results; `taken` says which the code used) and decodes what
  /// it returned. On a failure after the call, frees the owned results.
  bool call(const std::string &name, const std::vector<HostArray> &inputs,
            std::vector<AttnResultSlot> &slots,
            std::vector<ReturnedResult> &results, std::string &error);
  /// With options.distribute: the shapes of the distributed entry's
  /// sharded arguments become a rank's shard (EntrySignature::sharded).
  void shardEntry(ModuleOp module, const CompileOptions &options);

  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<ExecutionEngine> engine;
  std::vector<std::string> names;
  std::map<std::string, EntrySignature> signatures;
  std::map<std::string, std::vector<int>> llvmResultRanks;
  std::map<std::string, std::vector<FlopTerm>> flopTerms;
  std::string lowered;
  std::string ompError;
  bool attnOps = false;
  bool ownsResults = false;
  /// Released result buffers, offered again to later calls (run()).
  std::shared_ptr<runtime::ResultPool> resultPool =
      std::make_shared<runtime::ResultPool>();
  /// Per entry: the bytes of each result of its last run(), the size of
  /// buffer to offer it next time.
  std::map<std::string, std::vector<int64_t>> lastResultBytes;
  std::mutex resultMutex; ///< Guards lastResultBytes.
};

} // namespace attn::api::detail

#endif // ATTN_LIB_CAPI_COMPILERINTERNALS_H
