//===- CpuRuntime.cpp - Functions compiled CPU code calls -----------------===//

#include "attn/Runtime/CpuRuntime.h"

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
