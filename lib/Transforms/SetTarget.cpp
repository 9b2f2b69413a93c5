//===- SetTarget.cpp - attn-set-target ------------------------------------===//
//
// Writes the module's #attn.target from the pass options. The options fill in
// what an #attn.target already on the module leaves out; an option that
// disagrees with what it writes is an error naming both values. A default
// for the GPU's shared memory (the API's, from attn-gpu-pipeline) is written
// only where neither gives one.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSETTARGET
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct SetTargetPass : mlir::attn::impl::AttnSetTargetBase<SetTargetPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Attribute existing = module->getAttr(TargetAttr::kAttrName);
    auto written = dyn_cast_or_null<TargetAttr>(existing);
    if (existing && !written) {
      mlir::emitError(module.getLoc())
          << getArgument() << ": the module's " << TargetAttr::kAttrName
          << " is not an #attn.target: " << existing;
      return signalPassFailure();
    }
    std::string kind = targetKind.empty()
                           ? (written ? written.getKind().str() : "cpu")
                           : targetKind.getValue();
    if (std::string error =
            checkTargetOptions(kind, threads, vectorWidth, l1Bytes, l2Bytes,
                               l3Bytes, tensorCores, gpuSharedBytes);
        !error.empty()) {
      // Emitted at the location alone: the option is at fault.
      mlir::emitError(module.getLoc()) << getArgument() << ": " << error;
      return signalPassFailure();
    }
    if (defaultGpuSharedBytes < 0 ||
        (defaultGpuSharedBytes > 0 && kind != "gpu")) {
      mlir::emitError(module.getLoc())
          << getArgument() << ": default-gpu-shared-memory = "
          << static_cast<int64_t>(defaultGpuSharedBytes)
          << (defaultGpuSharedBytes < 0 ? " must be 0 or positive"
                                        : " applies to target gpu, not " +
                                              kind);
      return signalPassFailure();
    }
    if (!written) {
      module->setAttr(TargetAttr::kAttrName, makeAttr(kind, {}));
      return;
    }
    // Merge: what the module writes stays; options fill in the rest.
    bool disagree = false;
    auto field = [&](StringRef option, int64_t value, StringRef name,
                     std::optional<int64_t> theirs) -> std::optional<int64_t> {
      if (value == 0)
        return theirs;
      if (theirs && *theirs != value) {
        mlir::emitError(module.getLoc())
            << getArgument() << ": " << option << " = " << value
            << " disagrees with the module's #attn.target " << name << " = "
            << *theirs;
        disagree = true;
      }
      return value;
    };
    if (!targetKind.empty() && targetKind != written.getKind()) {
      mlir::emitError(module.getLoc())
          << getArgument() << ": target = " << targetKind
          << " disagrees with the module's #attn.target kind = \""
          << written.getKind() << "\"";
      return signalPassFailure();
    }
    Fields merged;
    merged.threads = field("threads", threads, "threads", written.getThreads());
    merged.vectorWidth = field("vector-width", vectorWidth, "vector_width",
                               written.getVectorWidth());
    merged.l1 = field("l1-bytes", l1Bytes, "l1_bytes", written.getL1Bytes());
    merged.l2 = field("l2-bytes", l2Bytes, "l2_bytes", written.getL2Bytes());
    merged.l3 = field("l3-bytes", l3Bytes, "l3_bytes", written.getL3Bytes());
    merged.sharedMemory = field("gpu-shared-memory", gpuSharedBytes,
                                "shared_memory", written.getSharedMemory());
    merged.tensorCores =
        tensorCores || (written.getTensorCores() &&
                        written.getTensorCores().getValue());
    if (tensorCores && written.getTensorCores() &&
        !written.getTensorCores().getValue()) {
      mlir::emitError(module.getLoc())
          << getArgument()
          << ": tensor-cores = true disagrees with the module's #attn.target "
             "tensor_cores = false";
      disagree = true;
    }
    merged.bf16Dot = written.getBf16Dot();
    if (disagree)
      return signalPassFailure();
    module->setAttr(TargetAttr::kAttrName, makeAttr(kind, merged));
  }

private:
  struct Fields {
    std::optional<int64_t> threads, vectorWidth, l1, l2, l3, sharedMemory;
    bool tensorCores = false;
    /// Only the module writes it (the host's features otherwise).
    BoolAttr bf16Dot;
  };

  /// The attribute of `kind` with `fields`; without fields, the options'
  /// (0 and false left out).
  TargetAttr makeAttr(StringRef kind, std::optional<Fields> fields) {
    auto nonzero = [](int64_t v) -> std::optional<int64_t> {
      return v ? std::optional<int64_t>(v) : std::nullopt;
    };
    Fields f =
        fields ? *fields : Fields{nonzero(threads), nonzero(vectorWidth),
                                  nonzero(l1Bytes), nonzero(l2Bytes),
                                  nonzero(l3Bytes), nonzero(gpuSharedBytes),
                                  tensorCores,      BoolAttr()};
    if (!f.sharedMemory)
      f.sharedMemory = nonzero(defaultGpuSharedBytes);
    MLIRContext *ctx = &getContext();
    return TargetAttr::get(
        ctx, kind, f.threads, f.vectorWidth, f.l1, f.l2, f.l3,
        f.tensorCores ? BoolAttr::get(ctx, true) : BoolAttr(), f.sharedMemory,
        f.bf16Dot);
  }
};
} // namespace
