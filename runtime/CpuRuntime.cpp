//===- CpuRuntime.cpp - Functions compiled CPU code calls -----------------===//

#include "attn/Runtime/CpuRuntime.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {
struct Strided {
  char *base;
  const int64_t *sizes;
  const int64_t *strides;
};

Strided view(const AttnUnrankedMemRef *m, int64_t elementSize) {
  auto *fields = static_cast<int64_t *>(m->descriptor);
  char *aligned = reinterpret_cast<char *>(fields[1]);
  int64_t offset = fields[2];
  return {aligned + offset * elementSize, fields + 3, fields + 3 + m->rank};
}
} // namespace

extern "C" void memrefCopy(int64_t elementSize, AttnUnrankedMemRef *src,
                           AttnUnrankedMemRef *dst) {
  int64_t rank = src->rank;
  Strided s = view(src, elementSize), d = view(dst, elementSize);
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i)
    count *= s.sizes[i];
  if (count == 0)
    return;
  // Fast path: both contiguous row-major.
  bool contiguous = true;
  int64_t expected = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    if (s.sizes[i] != 1 &&
        (s.strides[i] != expected || d.strides[i] != expected))
      contiguous = false;
    expected *= s.sizes[i];
  }
  if (contiguous) {
    std::memmove(d.base, s.base, count * elementSize);
    return;
  }
  std::vector<int64_t> index(rank, 0);
  int64_t srcOffset = 0, dstOffset = 0;
  for (int64_t n = 0; n < count; ++n) {
    std::memcpy(d.base + dstOffset * elementSize,
                s.base + srcOffset * elementSize, elementSize);
    // Advance the row-major index, updating both offsets.
    for (int64_t i = rank - 1; i >= 0; --i) {
      ++index[i];
      srcOffset += s.strides[i];
      dstOffset += d.strides[i];
      if (index[i] < s.sizes[i])
        break;
      srcOffset -= s.strides[i] * s.sizes[i];
      dstOffset -= d.strides[i] * d.sizes[i];
      index[i] = 0;
    }
  }
}

namespace {
[[noreturn]] void outOfMemory(size_t size) {
#ifdef __GLIBC__
  const char *program = program_invocation_short_name;
#else
  const char *program = "attn";
#endif
  std::fprintf(stderr,
               "%s: error: out of memory: compiled code could not allocate "
               "%zu bytes\n",
               program, size);
  std::fflush(stderr);
  // Other threads may still be running compiled code: leave without
  // running destructors under them.
  std::_Exit(1);
}
} // namespace

extern "C" void *_mlir_memref_to_llvm_alloc(size_t size) {
  void *pointer = std::malloc(size ? size : 1);
  if (!pointer)
    outOfMemory(size);
  return pointer;
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                    size_t size) {
  // posix_memalign wants a power of two that is a multiple of sizeof(void *).
  size_t align = sizeof(void *);
  while (align < alignment && align != 0)
    align <<= 1;
  if (align == 0)
    outOfMemory(size);
  void *pointer = nullptr;
  if (posix_memalign(&pointer, align, size ? size : 1) != 0 || !pointer)
    outOfMemory(size);
  return pointer;
}

extern "C" void _mlir_memref_to_llvm_free(void *pointer) { std::free(pointer); }
