//===- AotLibrary.h - Load and call attn AOT libraries ----------*- C++ -*-===//
//
// Opens a library made by attn-aot, checks that this attn can use it (ABI
// and attn version), and calls its entries on host arrays.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_AOTLIBRARY_H
#define ATTN_RUNTIME_AOTLIBRARY_H

#include "attn/Runtime/Npy.h"

#include <memory>
#include <string>
#include <vector>

namespace attn::runtime {

/// The version string attn-aot writes into libraries.
const char *attnVersion();

class AotLibrary {
public:
  ~AotLibrary();
  /// Null with `error` set when the file is not an attn AOT library or was
  /// built by another version of attn.
  static std::unique_ptr<AotLibrary> open(const std::string &path,
                                          std::string &error);
  /// attn_aot_describe() of the library.
  std::string describe() const;
  /// Whether the library has `entry`.
  bool hasEntry(const std::string &entry) const;
  bool call(const std::string &entry, const std::vector<HostArray> &inputs,
            std::vector<HostArray> &outputs, int numOutputs,
            std::string &error) const;
  /// Number of results of `entry` (from the description), or -1.
  int numResults(const std::string &entry) const;

private:
  AotLibrary() = default;
  void *handle = nullptr;
  int (*callFn)(const char *, const void *, int, void *, int, char *,
                size_t) = nullptr;
  void (*freeFn)(void *) = nullptr;
  std::string description;
};

} // namespace attn::runtime

#endif // ATTN_RUNTIME_AOTLIBRARY_H
