//===- GpuLayerRegistry.cpp - The facade's GPU layers ---------------------===//
//
// The GPU layers of the registered targets (attn/Targets/BuiltinTargets.def),
// looked up by the name of their GPU API, and the runtime functions that
// every layer shares.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/GpuLayer.h"

#if defined(ATTN_HAS_CUDA_RUNTIME) || defined(ATTN_HAS_VULKAN_RUNTIME)
#include "attn/Runtime/GpuRuntime.h"
#endif

#include <vector>

using namespace attn::api::detail;

GpuLayer::~GpuLayer() = default;

namespace {
/// The layers, created once on first use (thread-safe) and never freed.
struct Registry {
  std::vector<std::unique_ptr<GpuLayer>> owned;
  std::vector<const GpuLayer *> layers;

  Registry() {
#define ATTN_GPU_TARGET(Name) owned.push_back(create##Name##GpuLayer());
#include "attn/Targets/BuiltinTargets.def"
    for (const auto &layer : owned)
      layers.push_back(layer.get());
  }
};

const Registry &getRegistry() {
  static const Registry *registry = new Registry();
  return *registry;
}
} // namespace

const GpuLayer *attn::api::detail::lookupGpuLayer(llvm::StringRef name) {
  for (const GpuLayer *layer : getRegistry().layers)
    if (layer->getName() == name)
      return layer;
  return nullptr;
}

llvm::ArrayRef<const GpuLayer *> attn::api::detail::getGpuLayers() {
  return getRegistry().layers;
}

void attn::api::detail::addSharedGpuJitSymbols(
    llvm::function_ref<void(const char *, void *)> add) {
#if defined(ATTN_HAS_CUDA_RUNTIME) || defined(ATTN_HAS_VULKAN_RUNTIME)
#define ATTN_SYMBOL(name) add(#name, reinterpret_cast<void *>(&name));
  ATTN_SYMBOL(mgpuModuleLoad)
  ATTN_SYMBOL(mgpuModuleLoadJIT)
  ATTN_SYMBOL(mgpuModuleUnload)
  ATTN_SYMBOL(mgpuModuleGetFunction)
  ATTN_SYMBOL(mgpuLaunchKernel)
  ATTN_SYMBOL(mgpuLaunchClusterKernel)
#undef ATTN_SYMBOL
#else
  (void)add;
#endif
}
