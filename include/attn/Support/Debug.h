//===- Debug.h - Debug output that release builds of LLVM keep --*- C++ -*-===//
//
// ATTN_DEBUG(...) is LLVM_DEBUG(...) for attn's passes and strategies, kept
// in builds with NDEBUG. Debian's LLVM is such a build: there LLVM_DEBUG
// compiles to nothing and `-debug-only` does not exist. attn's tools register
// `-debug` and `-debug-only=TYPE,...` themselves when LLVM has not
// (registerDebugOptions), and ATTN_DEBUG runs its statement when `-debug` is
// given or the file's DEBUG_TYPE is among `-debug-only`'s types, as
// LLVM_DEBUG does in a debug build of LLVM. Each file that uses it defines
// DEBUG_TYPE first, named after its pass or strategy:
//
//   #define DEBUG_TYPE "attn-select-strategy"
//   ATTN_DEBUG(ATTN_DBGS() << "chose " << name << "\n");
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SUPPORT_DEBUG_H
#define ATTN_SUPPORT_DEBUG_H

#include "llvm/Support/Debug.h"
#include "llvm/Support/raw_ostream.h"

namespace llvm {
// Debug.h declares these only without NDEBUG; libLLVM defines them either
// way. The parentheses around the names keep NDEBUG's function-like macros
// of the same names (which do nothing) from replacing them, here, in
// ATTN_DEBUG and in registerDebugOptions.
bool(isCurrentDebugType)(const char *type, int level);
void(setCurrentDebugTypes)(const char **types, unsigned count);
} // namespace llvm

#define ATTN_DEBUG_WITH_TYPE(TYPE, ...)                                        \
  do {                                                                         \
    if (::llvm::DebugFlag && (::llvm::isCurrentDebugType)(TYPE, 1)) {         \
      __VA_ARGS__;                                                             \
    }                                                                          \
  } while (false)
#define ATTN_DEBUG(...) ATTN_DEBUG_WITH_TYPE(DEBUG_TYPE, __VA_ARGS__)

/// llvm::dbgs() with the line prefixed by the file's DEBUG_TYPE.
#define ATTN_DBGS() (::llvm::dbgs() << "[" DEBUG_TYPE "] ")

namespace mlir::attn {

/// Registers `-debug` and `-debug-only` for ATTN_DEBUG where LLVM (a release
/// build) has not; does nothing where it has. Call before parsing the
/// command line.
void registerDebugOptions();

} // namespace mlir::attn

#endif // ATTN_SUPPORT_DEBUG_H
