//===- AotLibrary.h - Load and call attn AOT libraries ----------*- C++ -*-===//
//
// Opens a library made by attn-aot, checks that it is whole (a truncated
// file would fault inside the dynamic loader) and that this attn can use it
// (ABI and attn version), reads its entries from attn_aot_describe, and
// calls them on host arrays.
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

/// One array of an AOT entry: element type and sizes (-1: given at run
/// time).
struct AotArraySpec {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// As attn_aot_describe writes it: f32[1x8x?x64].
  std::string text() const;
};

/// One entry of an AOT library.
struct AotEntry {
  std::string name;
  std::vector<AotArraySpec> inputs, results;
  /// name(f32[...], ...) -> f32[...], for messages.
  std::string text() const;
};

/// The parsed text of attn_aot_describe (AttnAOT.h): its target and
/// entries. Returns false and sets `error` when the text does not follow
/// the format.
bool parseAotDescription(const std::string &text, std::string &target,
                         std::vector<AotEntry> &entries, std::string &error);

/// "" when `path` holds a whole 64-bit ELF shared object (its headers,
/// segments and section table inside the file), else why not.
std::string checkSharedObjectFile(const std::string &path);

class AotLibrary {
public:
  ~AotLibrary();
  /// Null with `error` set when the file is not a whole attn AOT library or
  /// was built by another version of attn.
  static std::unique_ptr<AotLibrary> open(const std::string &path,
                                          std::string &error);
  /// attn_aot_describe() of the library.
  const std::string &describe() const { return description; }
  /// "cpu" or "cuda": what the library's code runs on.
  const std::string &target() const { return targetName; }
  const std::vector<AotEntry> &entries() const { return entryList; }
  /// Null when the library has no such entry.
  const AotEntry *entry(const std::string &name) const;
  /// Runs `entry` (one of entries()) on `inputs`; its results go into
  /// `outputs`, owning the library's buffers.
  bool call(const std::string &entry, const std::vector<HostArray> &inputs,
            std::vector<HostArray> &outputs, std::string &error) const;
  /// Runs `entry` on `inputs`, writing its results into `outputs`, the
  /// caller's dense arrays of the results' dtypes and shapes
  /// (attn_aot_call_into).
  bool callInto(const std::string &entry, const std::vector<HostArray> &inputs,
                const std::vector<HostArray> &outputs,
                std::string &error) const;

private:
  AotLibrary() = default;
  void *handle = nullptr;
  int (*callFn)(const char *, const void *, int, void *, int, char *,
                size_t) = nullptr;
  int (*callIntoFn)(const char *, const void *, int, const void *, int, char *,
                    size_t) = nullptr;
  void (*freeFn)(void *) = nullptr;
  std::string description;
  std::string targetName;
  std::vector<AotEntry> entryList;
};

} // namespace attn::runtime

#endif // ATTN_RUNTIME_AOTLIBRARY_H
