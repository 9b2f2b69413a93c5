//===- CpuRuntime.h - Functions compiled CPU code calls ---------*- C++ -*-===//
//
// C-ABI functions that MLIR's lowering of attn programs may call at run time
// and that no system library provides. The JIT (lib/CAPI) registers them
// with the ExecutionEngine; AOT artifacts link them statically.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CPURUNTIME_H
#define ATTN_RUNTIME_CPURUNTIME_H

#include <cstdint>

extern "C" {

/// An unranked memref as MLIR passes it: rank and a pointer to the ranked
/// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct AttnUnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

/// memref.copy between memrefs of any layout (what MLIR's memref-to-llvm
/// lowering calls when a copy is not contiguous): copies element by element
/// of `elementSize` bytes, in row-major order of the (equal) shapes.
void memrefCopy(int64_t elementSize, AttnUnrankedMemRef *src,
                AttnUnrankedMemRef *dst);
}

#endif // ATTN_RUNTIME_CPURUNTIME_H
