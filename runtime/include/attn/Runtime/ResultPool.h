//===- ResultPool.h - Result buffers kept for the next calls ----*- C++ -*-===//
//
// The buffers of results that their arrays released, kept for the next call
// of the same entries, so that a steady stream of calls writes into memory
// it touched before instead of faulting in fresh pages every time.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_RESULTPOOL_H
#define ATTN_RUNTIME_RESULTPOOL_H

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

namespace attn::runtime {

/// Thread-safe. Buffers come from malloc (or posix_memalign) and are
/// released with free().
class ResultPool : public std::enable_shared_from_this<ResultPool> {
public:
  /// Holds at most `capacity` released buffers; the oldest goes first.
  explicit ResultPool(size_t capacity = 4) : capacity(capacity) {}
  ~ResultPool();
  ResultPool(const ResultPool &) = delete;
  ResultPool &operator=(const ResultPool &) = delete;

  /// A kept buffer of exactly `bytes` bytes, now the caller's; null when
  /// none is kept.
  void *take(int64_t bytes);
  /// Keeps `buffer` of `bytes` bytes for a later take (or frees it when
  /// the pool is full).
  void give(void *buffer, int64_t bytes);
  /// Storage owning `buffer` that gives it back to this pool when its last
  /// user goes (the pool stays alive until then).
  std::shared_ptr<uint8_t> adopt(void *buffer, int64_t bytes);

private:
  size_t capacity;
  std::mutex mutex;
  std::deque<std::pair<void *, int64_t>> kept;
};

} // namespace attn::runtime

#endif // ATTN_RUNTIME_RESULTPOOL_H
