//===- EntryCheck.h - Check arrays against an entry's signature -*- C++ -*-===//
//
// The one check of the arrays a caller passes to a compiled entry, before
// compiled code reads them: count, element type, rank, sizes (static sizes
// as declared, dynamic ones from 0 to 2^31 - 1), data pointers, and the
// rules between sizes that the entry's attn ops need (K and V of one length,
// a mask's Lk equal to K's). The JIT (lib/CAPI) and every AOT library
// (attn-aot's generated dispatcher) run this same code, so a call that one
// of them refuses the other refuses too. Plain structs, so that generated
// code can hold the tables as constants.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_ENTRYCHECK_H
#define ATTN_RUNTIME_ENTRYCHECK_H

#include <cstdint>
#include <string>

namespace attn::runtime {

/// The largest size of one dimension: positions are 32-bit in compiled code
/// (the op verifier bounds static sizes the same way).
inline constexpr int64_t kMaxDimensionSize = (int64_t(1) << 31) - 1;

/// What an entry declares about one argument: element type (a DType),
/// rank, sizes (negative: dynamic) and its MLIR type as text, for messages.
struct ArraySpec {
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
  const char *type;
};

/// Two input dimensions that an attn op of the entry needs equal; with
/// `orOne`, the first may also be 1 (a broadcast). `what` says which rule.
struct SizeRuleSpec {
  int32_t firstArg, firstDim;
  int32_t secondArg, secondDim;
  int32_t orOne;
  const char *what;
};

/// One array a caller passes: element type (a DType code), rank, sizes and
/// the first element.
struct ArrayArg {
  const void *data;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
};

/// An attn.paged_attention whose page table, key lengths and K cache are
/// inputs of the entry: the values its kernels read as positions. Each
/// request's length must lie in [0, T * pageSize] (T: the table's second
/// size) and each page it uses (table[b, t] for t < ceil(length /
/// pageSize)) in [0, the cache's pages); entries past a request's length
/// are not read. `op` names the op in messages.
struct PagedRuleSpec {
  int32_t tableArg, lengthsArg, cacheArg;
  int64_t pageSize;
  const char *op;
};

/// Checks `args` against the `numSpecs` inputs of entry `entry` and its
/// size rules. Returns "" when compiled code may read them, else one line
/// naming the input, the dimension and the rule. `args` and every shape
/// pointer must be valid for the counts given (a null `args` with
/// numArgs > 0 is reported, not read).
std::string checkEntryArguments(const char *entry, const ArraySpec *specs,
                                int numSpecs, const SizeRuleSpec *rules,
                                int numRules, const ArrayArg *args,
                                int numArgs);

/// Checks the values that `numRules` paged rules read, on arguments that
/// checkEntryArguments accepted. Returns "" or one line naming the input,
/// the element and its range.
std::string checkPagedValues(const PagedRuleSpec *rules, int numRules,
                             const ArrayArg *args);

} // namespace attn::runtime

#endif // ATTN_RUNTIME_ENTRYCHECK_H
