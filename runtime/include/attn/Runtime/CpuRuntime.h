//===- CpuRuntime.h - Functions compiled CPU code calls ---------*- C++ -*-===//
//
// C-ABI functions that MLIR's lowering of attn programs may call at run time
// and that no system library provides. The JIT (lib/CAPI) registers them
// with the ExecutionEngine; AOT artifacts link them statically.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CPURUNTIME_H
#define ATTN_RUNTIME_CPURUNTIME_H

#include <cstddef>
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

/// The allocation functions that the CPU pipeline's memref lowering calls
/// (finalize-memref-to-llvm with use-generic-functions). Memory comes from
/// malloc, so what compiled code returns is released with free(). Compiled
/// code cannot unwind and does not check for null: when the memory is not
/// there during a call made through attnCallGuarded (the JIT and AOT
/// libraries call entries so), the call returns an error instead; anywhere
/// else (code run by upstream mlir-runner, or an allocation inside a
/// parallel region) these print one line (`<program>: error: out of memory:
/// ...`) and end the process with status 1, rather than let compiled code
/// write through a null pointer.
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *pointer);

/// A buffer that the caller of an entry offers for one of its results.
struct AttnResultSlot {
  void *data;    ///< Null: no buffer for this result.
  int64_t bytes; ///< How large it is.
  int32_t taken; ///< Set by attnAllocateResult when the result went there.
};

/// Offers `slots[i]` for result i of every entry this thread calls until
/// the next offer; (null, 0) withdraws the offer. The slots must stay alive
/// while offered. A buffer must be aligned to its element size.
void attnOfferResultBuffers(AttnResultSlot *slots, int32_t count);

/// What an entry's result allocation calls (attn-result-buffers): the
/// buffer offered for result `index` when it holds `bytes` bytes and was not
/// taken yet (it is then marked taken), otherwise fresh memory as
/// _mlir_memref_to_llvm_aligned_alloc gives it. An offered buffer is never
/// freed by compiled code or by attnCallGuarded.
void *attnAllocateResult(int64_t index, int64_t bytes, int64_t alignment);

/// Runs `body(context)`, compiled code, so that an allocation that fails on
/// this thread outside OpenMP parallel regions returns here: the call's
/// live allocations are freed, one line goes into `error` (at most
/// `errorSize` bytes, NUL-terminated) and the result is non-zero. Returns 0
/// when `body` returned. `body` must not hold C++ objects with destructors
/// across the compiled code it calls (a failure jumps over its frames).
int attnCallGuarded(void (*body)(void *), void *context, char *error,
                    size_t errorSize);
}

#endif // ATTN_RUNTIME_CPURUNTIME_H
