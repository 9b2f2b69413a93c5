//===- GpuApi.h - The GPU APIs attn-gpu-pipeline builds for -----*- C++ -*-===//
//
// A GPU API (CUDA, Vulkan) is where attn-gpu-pipeline's shared part ends: up
// to outlined gpu.modules beside bufferized host functions, every API
// compiles the same gpu-dialect kernels. Each API is a class derived from
// GpuApi, in lib/Targets/<X>/<X>Pipeline.cpp, registered by the target's
// line in attn/Targets/BuiltinTargets.def: its name (`api=NAME`), its
// defaults and option rules, and the rest of the pipeline (kernels to the
// API's binary, host code to the LLVM dialect calling the runtime's layer
// for it).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PIPELINES_GPUAPI_H
#define ATTN_PIPELINES_GPUAPI_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

#include <memory>
#include <string>

namespace mlir::attn {

struct GpuPipelineOptions;

class GpuApi {
public:
  virtual ~GpuApi();

  /// The name written as `api=NAME` (and the facade's target name).
  virtual llvm::StringRef getName() const = 0;
  /// What the API's kernels become, for the option's help.
  virtual llvm::StringRef getSummary() const = 0;
  /// The layer of libattn_runtime that its host code calls ("Cuda",
  /// "Vulkan"): what an AOT library's dispatcher checks before a call.
  virtual llvm::StringRef getRuntimeLayer() const = 0;
  /// Shared memory per thread block that kernels may use when neither the
  /// pipeline nor the module's #attn.target writes one.
  virtual int64_t getDefaultSharedMemoryBytes() const = 0;
  /// Where the API cannot run tensor-core kernels (nvgpu.mma.sync), why;
  /// "" where it can.
  virtual llvm::StringRef whyNoTensorCores() const = 0;
  /// The options of `options` that only this API reads; every other API
  /// refuses them when they are written.
  virtual llvm::SmallVector<const llvm::cl::Option *>
  getOwnOptions(const GpuPipelineOptions &options) const {
    return {};
  }
  /// "" when this API can use its own options as written, else one line
  /// naming the option and the rule.
  virtual std::string checkOwnOptions(const GpuPipelineOptions &options) const {
    return "";
  }
  /// The pipeline from outlined gpu.modules beside bufferized host
  /// functions (host buffers deallocated) to the LLVM dialect, with the
  /// kernels embedded as gpu.binary and host calls to the runtime.
  virtual void buildLowering(OpPassManager &pm,
                             const GpuPipelineOptions &options) const = 0;
};

/// The registered API named `name`, or null.
const GpuApi *lookupGpuApi(llvm::StringRef name);
/// Every registered API, in registration order (the first is the default).
llvm::ArrayRef<const GpuApi *> getGpuApis();
/// Their names as a list for diagnostics ("cuda or vulkan").
std::string listGpuApis();

/// createXGpuApi() of each registered target X (lib/Targets/X).
#define ATTN_GPU_TARGET(Name) std::unique_ptr<GpuApi> create##Name##GpuApi();
#include "attn/Targets/BuiltinTargets.def"

} // namespace mlir::attn

#endif // ATTN_PIPELINES_GPUAPI_H
