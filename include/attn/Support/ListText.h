//===- ListText.h - Names as a list for diagnostics -------------*- C++ -*-===//
//
// joinAsList({"a", "b", "c"}) is "a, b or c": how attn's error lines list
// what they expected (registered scores, GPU APIs, targets, chips).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SUPPORT_LISTTEXT_H
#define ATTN_SUPPORT_LISTTEXT_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::attn {

/// The names of `range` (anything convertible to StringRef), joined by ", "
/// and, before the last, " or ".
template <typename Range>
std::string joinAsList(const Range &range) {
  std::string list;
  size_t count = 0, total = 0;
  for (const auto &name : range) {
    (void)name;
    ++total;
  }
  for (const auto &name : range) {
    if (count > 0)
      list += count + 1 == total ? " or " : ", ";
    list += llvm::StringRef(name).str();
    ++count;
  }
  return list;
}

} // namespace mlir::attn

#endif // ATTN_SUPPORT_LISTTEXT_H
