//===- DebugOptions.cpp - -debug and -debug-only for ATTN_DEBUG -----------===//
//
// See attn/Support/Debug.h. LLVM defines these two options only in builds
// without NDEBUG; where they are missing, attn's tools get their own copies,
// which set the same llvm::DebugFlag and debug types that LLVM's would.
//
//===----------------------------------------------------------------------===//

#include "attn/Support/Debug.h"

#include "llvm/Support/CommandLine.h"

#include <mutex>
#include <string>
#include <vector>

using namespace llvm;

void mlir::attn::registerDebugOptions() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto registered = cl::getRegisteredOptions();
    if (!registered.count("debug"))
      static cl::opt<bool, /*ExternalStorage=*/true> debug(
          "debug",
          cl::desc("Print the decisions of every attn pass and strategy"),
          cl::location(DebugFlag), cl::Hidden);
    if (!registered.count("debug-only")) {
      static std::vector<std::string> types;
      static cl::list<std::string> debugOnly(
          "debug-only",
          cl::desc("Print the decisions of these passes and strategies only "
                   "(their DEBUG_TYPEs, e.g. attn-select-strategy)"),
          cl::value_desc("type,..."), cl::CommaSeparated, cl::Hidden,
          cl::callback([](const std::string &type) {
            types.push_back(type);
            std::vector<const char *> names;
            for (const std::string &name : types)
              names.push_back(name.c_str());
            DebugFlag = true;
            (setCurrentDebugTypes)(names.data(), names.size());
          }));
    }
  });
}
