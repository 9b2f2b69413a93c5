//===- UseVulkanRuntime.cpp - Host GPU runtime calls to attn's Vulkan layer ==//
//
// attn-use-vulkan-runtime: gpu-to-llvm lowers streams, events, device
// allocation and copies to calls of `mgpu*` functions, the ABI that attn's
// runtime implements for CUDA. In a module built for Vulkan these calls are
// renamed to the same functions of the Vulkan layer (`mgpuMemAlloc` ->
// `attnVulkanMemAlloc`), so that one process can run CUDA and Vulkan
// modules side by side. gpu.binary and gpu.launch_func become module loads
// and launches only when translated to LLVM IR, under fixed `mgpu*` names;
// the runtime dispatches those on the kernel container. A launch must
// therefore run on a stream of the Vulkan layer: one without an async
// object (which translation would give a stream of its own) is an error.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringSet.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNUSEVULKANRUNTIME
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The runtime functions gpu-to-llvm calls that the Vulkan layer provides,
/// without their `mgpu` prefix.
const llvm::StringSet<> &vulkanRuntimeFunctions() {
  static const llvm::StringSet<> functions = {
      "StreamCreate",          "StreamDestroy",
      "StreamSynchronize",     "StreamWaitEvent",
      "EventCreate",           "EventDestroy",
      "EventSynchronize",      "EventRecord",
      "MemAlloc",              "MemFree",
      "Memcpy",                "Memset32",
      "Memset16",              "MemHostRegister",
      "MemHostUnregister",     "MemHostRegisterMemRef",
      "MemHostUnregisterMemRef", "SetDefaultDevice"};
  return functions;
}

struct UseVulkanRuntimePass
    : mlir::attn::impl::AttnUseVulkanRuntimeBase<UseVulkanRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool failedAny = false;
    module.walk([&](gpu::LaunchFuncOp launch) {
      if (!launch.getAsyncObject()) {
        launch.emitError() << "vulkan target: a kernel launch without a "
                              "stream would run on a CUDA stream";
        failedAny = true;
      }
    });
    SmallVector<LLVM::LLVMFuncOp> runtimeFunctions;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func.getName().starts_with("mgpu"))
        runtimeFunctions.push_back(func);
    for (LLVM::LLVMFuncOp func : runtimeFunctions) {
      StringRef suffix = func.getName().drop_front(4);
      if (!vulkanRuntimeFunctions().contains(suffix)) {
        func.emitError() << "vulkan target: host code calls "
                         << func.getName()
                         << ", which attn's Vulkan runtime does not provide";
        failedAny = true;
        continue;
      }
      auto name = StringAttr::get(&getContext(), "attnVulkan" + suffix);
      if (failed(SymbolTable::replaceAllSymbolUses(func, name, module))) {
        func.emitError() << "vulkan target: cannot rename " << func.getName();
        failedAny = true;
        continue;
      }
      SymbolTable::setSymbolName(func, name);
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
