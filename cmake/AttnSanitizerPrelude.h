//===- AttnSanitizerPrelude.h - ASan builds against uninstrumented LLVM ---===//
//
// Included before every C++ file of an ATTN_SANITIZE=address build. libLLVM
// and libMLIR are not instrumented, but their headers turn on ASan
// annotations (BumpPtrAllocator poisons each new slab and unpoisons each
// allocation) whenever the including file is. One allocator (an
// MLIRContext's attribute storage, for example) is then run by both copies:
// a slab that our copy of AllocateSlow poisoned is handed out by libMLIR's
// copy of Allocate without unpoisoning, and ASan reports a use-after-poison
// that is not one. Our copies must behave as the library's: no annotations.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SANITIZER_PRELUDE_H
#define ATTN_SANITIZER_PRELUDE_H

#include "llvm/Support/Compiler.h"

#undef LLVM_ADDRESS_SANITIZER_BUILD
#define LLVM_ADDRESS_SANITIZER_BUILD 0
#define __asan_poison_memory_region(p, size) ((void)(p), (void)(size))
#define __asan_unpoison_memory_region(p, size) ((void)(p), (void)(size))

#endif // ATTN_SANITIZER_PRELUDE_H
