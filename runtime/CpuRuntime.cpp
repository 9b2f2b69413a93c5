//===- CpuRuntime.cpp - Functions compiled CPU code calls -----------------===//

#include "attn/Runtime/CpuRuntime.h"

#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
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

/// One guarded call (attnCallGuarded): where a failed allocation returns
/// to, and the allocations of the call that are still live.
struct Guard {
  std::jmp_buf jump;
  size_t failedBytes = 0;
  std::unordered_set<void *> live;
};

thread_local Guard *currentGuard = nullptr;
std::atomic<int> activeGuards{0};
std::mutex ownersMutex;
/// Allocation -> the guard of the call that made it (guarded calls only).
std::unordered_map<void *, Guard *> &owners() {
  static auto *map = new std::unordered_map<void *, Guard *>();
  return *map;
}

/// Whether this thread runs inside an OpenMP parallel region (where a jump
/// out would leave the team waiting). libomp is optional: without it, no.
extern "C" int omp_get_level(void) __attribute__((weak));
bool inParallelRegion() { return omp_get_level && omp_get_level() > 0; }

void *track(void *pointer, size_t size) {
  Guard *guard = currentGuard;
  if (!pointer) {
    if (guard && !inParallelRegion()) {
      guard->failedBytes = size;
      std::longjmp(guard->jump, 1);
    }
    outOfMemory(size);
  }
  if (guard) {
    std::lock_guard<std::mutex> lock(ownersMutex);
    owners()[pointer] = guard;
    guard->live.insert(pointer);
  }
  return pointer;
}
} // namespace

extern "C" void *_mlir_memref_to_llvm_alloc(size_t size) {
  return track(std::malloc(size ? size : 1), size);
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                    size_t size) {
  // posix_memalign wants a power of two that is a multiple of sizeof(void *).
  size_t align = sizeof(void *);
  while (align < alignment && align != 0)
    align <<= 1;
  void *pointer = nullptr;
  if (align == 0 || posix_memalign(&pointer, align, size ? size : 1) != 0)
    pointer = nullptr;
  return track(pointer, size);
}

namespace {
thread_local AttnResultSlot *offeredSlots = nullptr;
thread_local int32_t offeredCount = 0;
} // namespace

extern "C" void attnOfferResultBuffers(AttnResultSlot *slots, int32_t count) {
  offeredSlots = count > 0 ? slots : nullptr;
  offeredCount = slots ? count : 0;
}

extern "C" void *attnAllocateResult(int64_t index, int64_t bytes,
                                    int64_t alignment) {
  if (index >= 0 && index < offeredCount && bytes >= 0) {
    AttnResultSlot &slot = offeredSlots[index];
    if (slot.data && !slot.taken && slot.bytes >= bytes) {
      slot.taken = 1;
      return slot.data;
    }
  }
  return _mlir_memref_to_llvm_aligned_alloc(static_cast<size_t>(alignment),
                                            static_cast<size_t>(bytes));
}

extern "C" void _mlir_memref_to_llvm_free(void *pointer) {
  if (pointer && activeGuards.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<std::mutex> lock(ownersMutex);
    auto it = owners().find(pointer);
    if (it != owners().end()) {
      it->second->live.erase(pointer);
      owners().erase(it);
    }
  }
  std::free(pointer);
}

namespace {
/// Forgets the guard's allocations; with `release`, frees them too.
void retire(Guard &guard, bool release) {
  std::lock_guard<std::mutex> lock(ownersMutex);
  for (void *pointer : guard.live) {
    owners().erase(pointer);
    if (release)
      std::free(pointer);
  }
  guard.live.clear();
}
} // namespace

extern "C" int attnCallGuarded(void (*body)(void *), void *context,
                               char *error, size_t errorSize) {
  Guard guard;
  Guard *outer = currentGuard;
  activeGuards.fetch_add(1);
  currentGuard = &guard;
  // Nothing with a destructor lives in this frame between setjmp and a
  // longjmp back to it: `guard` is only read afterwards.
  int failed = setjmp(guard.jump);
  if (!failed)
    body(context);
  currentGuard = outer;
  retire(guard, failed != 0);
  activeGuards.fetch_sub(1);
  if (!failed)
    return 0;
  if (error && errorSize)
    std::snprintf(error, errorSize,
                  "out of memory: compiled code could not allocate %zu bytes",
                  guard.failedBytes);
  return 1;
}
