//===- CompilerInternals.cpp - What the facade's files share --------------===//
//
// The JIT's one-time setup, contexts, target and GPU pipeline checks, type
// names, and the signature helpers that CompilerInternals.h declares.
//
//===----------------------------------------------------------------------===//

#include "CompilerInternals.h"
#include "attn/CAPI/GpuLayer.h"

#include "attn/Pipelines/GpuApi.h"
#include "attn/Support/ListText.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/TargetSelect.h"

#include <mutex>

namespace attn::api::detail {

/// Initializes the native target once, and makes libomp's symbols visible to
/// the JIT: it resolves them in the process's global scope, where libomp is
/// absent when a host (Python) loaded us with RTLD_LOCAL.
/// Returns the libomp loading error, or "".
const std::string &initializeJitOnce() {
  static std::string ompError;
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
#ifdef ATTN_LIBOMP_PATH
    std::string message;
    if (llvm::sys::DynamicLibrary::LoadLibraryPermanently(ATTN_LIBOMP_PATH,
                                                          &message))
      ompError = "cannot load " ATTN_LIBOMP_PATH ": " + message;
#endif
  });
  return ompError;
}

/// A context with the dialects that `init` registers.
std::unique_ptr<MLIRContext> makeContext(const RegistryInit &init) {
  DialectRegistry registry;
  init(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  context->printOpOnDiagnostic(false);
  return context;
}

OwningOpRef<ModuleOp>
SourceDiagnostics::parseAndRaise(MLIRContext *context, bool raise,
                                 const std::string &bufferName,
                                 std::string &error) {
  OwningOpRef<ModuleOp> module = parse(context);
  if (!module) {
    error = message("cannot parse '" + bufferName + "'");
    return nullptr;
  }
  if (raise && failed(raiseAttention(*module))) {
    error = message("raising attention failed");
    return nullptr;
  }
  return module;
}

bool checkTarget(const std::string &target, std::string &error) {
  if (!findTarget(target)) {
    error = "unknown target '" + target + "' (expected " + knownTargetList() +
            ")";
    return false;
  }
  if (const TargetInfo *info = findTarget(target); info->gpu) {
    const GpuLayer *layer = lookupGpuLayer(target);
    if (!layer) {
      error = "target '" + target + "' has no runtime layer in the facade";
      return false;
    }
    if (std::string why = layer->whyUnavailable(); !why.empty()) {
      error = why;
      return false;
    }
  }
  return true;
}

bool isGpuTarget(const std::string &target) {
  const TargetInfo *info = findTarget(target);
  return info && info->gpu;
}

/// The first error the GPU runtime recorded during a call, or "" (compiled
/// code cannot report errors; the runtime keeps the first one).
std::unique_ptr<llvm::TargetMachine> createHostTargetMachine(bool pic,
                                                             std::string &error) {
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder) {
    error = "cannot describe the host CPU: " +
            llvm::toString(machineBuilder.takeError());
    return nullptr;
  }
  if (pic) {
    machineBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
    machineBuilder->setRelocationModel(llvm::Reloc::PIC_);
  }
  auto machine = machineBuilder->createTargetMachine();
  if (!machine) {
    error = "cannot create a target machine: " +
            llvm::toString(machine.takeError());
    return nullptr;
  }
  return std::move(*machine);
}

std::string takeGpuError() {
  for (const GpuLayer *layer : getGpuLayers())
    if (std::string error = layer->takeError(); !error.empty())
      return error;
  return "";
}

/// The options of attn-gpu-pipeline for a GPU target; false with `error`
/// set when the compile options do not fit it. Compiling to run here
/// (`forDevice`), Vulkan kernels are fitted to this machine's device (or to
/// the module's own shared memory, when it fits the device).
bool gpuPipelineOptions(const CompileOptions &options, bool forDevice,
                        ModuleOp module, GpuPipelineOptions &pipeline,
                        std::string &error) {
  pipeline.strategy = options.strategy;
  pipeline.overrideStrategy = options.overrideStrategy;
  pipeline.tensorCores = options.tensorCores;
  pipeline.raise = false; // done before
  // A GPU target's name is its API's (GpuApi.h) and its layer's.
  pipeline.api = options.target;
  const GpuLayer *layer = lookupGpuLayer(options.target);
  if (!layer) {
    error =
        "target '" + options.target + "' has no runtime layer in the facade";
    return false;
  }
  if (!layer->setPipelineOptions(options, forDevice, module, pipeline, error))
    return false;
  error = checkGpuPipelineOptions(pipeline);
  return error.empty();
}

std::optional<DType> dtypeOf(Type type) {
  if (type.isF32()) return DType::F32;
  if (type.isF16()) return DType::F16;
  if (type.isBF16()) return DType::BF16AsU16;
  if (type.isF64()) return DType::F64;
  if (type.isInteger(1)) return DType::I1;
  if (type.isInteger(8)) return DType::I8;
  if (type.isInteger(32)) return DType::I32;
  if (type.isInteger(64)) return DType::I64;
  if (isa<Float8E4M3FNType>(type)) return DType::F8E4M3FNAsU8;
  return std::nullopt;
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

/// Runs attn-raise on `module`.
LogicalResult raiseAttention(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(createAttnRaise());
  return pm.run(module);
}

DimSource dimSource(Value tensor, int dim, func::FuncOp entry) {
  DimSource source;
  source.value = cast<RankedTensorType>(tensor.getType()).getDimSize(dim);
  if (auto arg = dyn_cast<BlockArgument>(tensor))
    if (arg.getOwner()->getParentOp() == entry.getOperation()) {
      source.arg = arg.getArgNumber();
      source.dim = dim;
    }
  return source;
}

/// Fully masked memref results of LLVM-dialect entries: ranks of the memref
/// descriptors in the result struct.
std::optional<std::vector<int>> descriptorRanks(Type type) {
  auto isDescriptor = [](LLVM::LLVMStructType s) -> std::optional<int> {
    ArrayRef<Type> body = s.getBody();
    if (body.size() == 3 && isa<LLVM::LLVMPointerType>(body[0]))
      return 0;
    if (body.size() != 5 || !isa<LLVM::LLVMPointerType>(body[0]))
      return std::nullopt;
    auto sizes = dyn_cast<LLVM::LLVMArrayType>(body[3]);
    if (!sizes)
      return std::nullopt;
    return static_cast<int>(sizes.getNumElements());
  };
  std::vector<int> ranks;
  if (isa<LLVM::LLVMVoidType>(type))
    return ranks;
  auto s = dyn_cast<LLVM::LLVMStructType>(type);
  if (!s)
    return std::nullopt;
  if (auto rank = isDescriptor(s)) {
    ranks.push_back(*rank);
    return ranks;
  }
  for (Type field : s.getBody()) {
    auto inner = dyn_cast<LLVM::LLVMStructType>(field);
    std::optional<int> rank = inner ? isDescriptor(inner) : std::nullopt;
    if (!rank)
      return std::nullopt;
    ranks.push_back(*rank);
  }
  return ranks;
}

} // namespace attn::api::detail

const std::vector<attn::api::TargetInfo> &attn::api::knownTargets() {
  // The host, then each GPU API that attn-gpu-pipeline builds for.
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> all = {{"cpu", false, ""}};
    for (const mlir::attn::GpuApi *api : mlir::attn::getGpuApis())
      all.push_back(
          {api->getName().data(), true, api->getRuntimeLayer().data()});
    return all;
  }();
  return targets;
}

const attn::api::TargetInfo *attn::api::findTarget(const std::string &name) {
  for (const TargetInfo &info : knownTargets())
    if (name == info.name)
      return &info;
  return nullptr;
}

std::string attn::api::knownTargetList() {
  std::vector<llvm::StringRef> names;
  for (const TargetInfo &info : knownTargets())
    names.push_back(info.name);
  return mlir::attn::joinAsList(names);
}
