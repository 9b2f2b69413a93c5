//===- GpuApiRegistry.cpp - The registry of GPU APIs ----------------------===//
//
// The GPU APIs of the registered targets (attn/Targets/BuiltinTargets.def),
// looked up by the name `api=` writes.
//
//===----------------------------------------------------------------------===//

#include "attn/Pipelines/GpuApi.h"
#include "attn/Support/ListText.h"

#include <vector>

using namespace mlir;
using namespace mlir::attn;

GpuApi::~GpuApi() = default;

namespace {
/// The APIs, created once on first use (thread-safe) and never freed.
struct Registry {
  std::vector<std::unique_ptr<GpuApi>> owned;
  std::vector<const GpuApi *> apis;

  Registry() {
#define ATTN_GPU_TARGET(Name) owned.push_back(create##Name##GpuApi());
#include "attn/Targets/BuiltinTargets.def"
    for (const auto &api : owned)
      apis.push_back(api.get());
  }
};

const Registry &getRegistry() {
  static const Registry *registry = new Registry();
  return *registry;
}
} // namespace

const GpuApi *mlir::attn::lookupGpuApi(StringRef name) {
  for (const GpuApi *api : getRegistry().apis)
    if (api->getName() == name)
      return api;
  return nullptr;
}

ArrayRef<const GpuApi *> mlir::attn::getGpuApis() { return getRegistry().apis; }

std::string mlir::attn::listGpuApis() {
  SmallVector<StringRef> names;
  for (const GpuApi *api : getGpuApis())
    names.push_back(api->getName());
  return joinAsList(names);
}
