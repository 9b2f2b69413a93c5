//===- GpuLayer.h - The runtime side of a GPU API, for the facade -*- C++ -*-=//
//
// What the facade (attn-run, attn-aot, Python) needs of a GPU API beyond its
// pipeline (lib/Pipelines/GpuApis): whether this build has the API's layer of
// libattn_runtime, its errors, the compile options it takes and the device
// it fits kernels to, the runtime functions its host code calls (for the
// JIT), and kernel timing. Each API's is a class derived from GpuLayer, in
// lib/Targets/<X>/<X>Facade.cpp, under the name of its GpuApi, registered by
// the target's line in attn/Targets/BuiltinTargets.def. For the facade's
// files and the targets' only: no public API.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CAPI_GPULAYER_H
#define ATTN_CAPI_GPULAYER_H

#include "attn/CAPI/Compiler.h"
#include "attn/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace attn::api::detail {

class GpuLayer {
public:
  virtual ~GpuLayer();

  /// The name of the GpuApi (and the facade's target) it runs.
  virtual llvm::StringRef getName() const = 0;
  /// "" when this build has the layer, else the error line saying why not.
  virtual std::string whyUnavailable() const = 0;
  /// The first error the layer recorded since the last call, prefixed by
  /// the API's name, or "" (compiled code cannot report errors; the layer
  /// keeps the first one).
  virtual std::string takeError() const = 0;
  /// Writes the API's own pipeline options from the compile options; when
  /// compiling to run here (`forDevice`), fits the kernels to this machine's
  /// device, within what `module`'s #attn.target writes. False with `error`
  /// set when they do not fit.
  virtual bool setPipelineOptions(const CompileOptions &options, bool forDevice,
                                  mlir::ModuleOp module,
                                  mlir::attn::GpuPipelineOptions &pipeline,
                                  std::string &error) const = 0;
  /// Adds, by name, the runtime functions the API's host code calls.
  virtual void
  addJitSymbols(llvm::function_ref<void(const char *, void *)> add) const = 0;
  virtual void setKernelTiming(bool enable) const = 0;
  /// The kernels' time since timing was set, or -1 without the layer.
  virtual double kernelMilliseconds() const = 0;
};

/// The layer of the GPU API named `name`, or null.
const GpuLayer *lookupGpuLayer(llvm::StringRef name);
/// Every layer, in registration order.
llvm::ArrayRef<const GpuLayer *> getGpuLayers();
/// Adds the module loads and launches that every GPU layer shares
/// (GpuRuntime.h), when this build has any.
void addSharedGpuJitSymbols(llvm::function_ref<void(const char *, void *)> add);

/// createXGpuLayer() of each registered target X (lib/Targets/X).
#define ATTN_GPU_TARGET(Name)                                                  \
  std::unique_ptr<GpuLayer> create##Name##GpuLayer();
#include "attn/Targets/BuiltinTargets.def"

} // namespace attn::api::detail

#endif // ATTN_CAPI_GPULAYER_H
