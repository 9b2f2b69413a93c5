//===- BuiltinGpuApis.h - Factories of the built-in GPU APIs ----*- C++ -*-===//
//
// createXGpuApi() for each line ATTN_GPU_API(X) of BuiltinGpuApis.def; X.cpp
// in this folder defines it, GpuApiRegistry.cpp calls it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_PIPELINES_GPUAPIS_BUILTINGPUAPIS_H
#define ATTN_LIB_PIPELINES_GPUAPIS_BUILTINGPUAPIS_H

#include "attn/Pipelines/GpuApi.h"

#include <memory>

namespace mlir::attn {
#define ATTN_GPU_API(Name) std::unique_ptr<GpuApi> create##Name##GpuApi();
#include "BuiltinGpuApis.def"
} // namespace mlir::attn

#endif // ATTN_LIB_PIPELINES_GPUAPIS_BUILTINGPUAPIS_H
