//===- ResultPool.cpp - Result buffers kept for the next calls ------------===//

#include "attn/Runtime/ResultPool.h"

#include <cstdlib>

namespace attn::runtime {

ResultPool::~ResultPool() {
  for (auto &[buffer, bytes] : kept)
    std::free(buffer);
}

void *ResultPool::take(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto it = kept.begin(); it != kept.end(); ++it) {
    if (it->second != bytes)
      continue;
    void *buffer = it->first;
    kept.erase(it);
    return buffer;
  }
  return nullptr;
}

void ResultPool::give(void *buffer, int64_t bytes) {
  if (!buffer)
    return;
  void *evicted = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    kept.emplace_back(buffer, bytes);
    if (kept.size() > capacity) {
      evicted = kept.front().first;
      kept.pop_front();
    }
  }
  std::free(evicted);
}

std::shared_ptr<uint8_t> ResultPool::adopt(void *buffer, int64_t bytes) {
  std::shared_ptr<ResultPool> self = shared_from_this();
  return std::shared_ptr<uint8_t>(
      static_cast<uint8_t *>(buffer),
      [self, bytes](uint8_t *p) { self->give(p, bytes); });
}

} // namespace attn::runtime
