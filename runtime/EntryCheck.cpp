//===- EntryCheck.cpp - Check arrays against an entry's signature ---------===//
//
// The checks that the JIT and AOT libraries both run before compiled code
// reads a caller's arrays (EntryCheck.h).
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/EntryCheck.h"
#include "attn/Runtime/Npy.h"

#include <algorithm>

namespace attn::runtime {

namespace {

constexpr int32_t kNumDTypes = static_cast<int32_t>(DType::F8E4M3FNAsU8) + 1;

std::string shapeText(const int64_t *shape, int32_t rank) {
  std::string text = "[";
  for (int32_t d = 0; d < rank; ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

std::string dtypeText(int32_t dtype) {
  if (dtype < 0 || dtype >= kNumDTypes)
    return "code " + std::to_string(dtype);
  return dtypeName(static_cast<DType>(dtype));
}

/// "" when one array may be passed for `spec`, else why not.
std::string checkOne(const std::string &entry, int index,
                     const ArraySpec &spec, const ArrayArg &arg) {
  std::string which = "input " + std::to_string(index);
  std::string expects = " but @" + entry + " expects ";
  if (arg.dtype != spec.dtype)
    return which + " has dtype " + dtypeText(arg.dtype) + expects +
           dtypeText(spec.dtype) + " (" + spec.type + ")";
  if (arg.rank < 0 || arg.rank > 64)
    return which + " has rank " + std::to_string(arg.rank) + expects +
           spec.type;
  if (arg.rank > 0 && !arg.shape)
    return which + " has rank " + std::to_string(arg.rank) +
           " and no shape (a null pointer)";
  if (arg.rank != spec.rank)
    return which + " has shape " + shapeText(arg.shape, arg.rank) + expects +
           spec.type;
  // Sizes first, so that the byte count below cannot overflow.
  for (int32_t d = 0; d < arg.rank; ++d)
    if (arg.shape[d] < 0 || arg.shape[d] > kMaxDimensionSize)
      return which + " dimension " + std::to_string(d) + " is " +
             std::to_string(arg.shape[d]) +
             ": sizes must be from 0 to 2147483647 (2^31 - 1)";
  for (int32_t d = 0; d < arg.rank; ++d)
    if (spec.shape[d] >= 0 && spec.shape[d] != arg.shape[d])
      return which + " has shape " + shapeText(arg.shape, arg.rank) +
             expects + spec.type;
  // The whole array must be addressable: below 2^62 bytes.
  long double bytes = dtypeSize(static_cast<DType>(arg.dtype));
  for (int32_t d = 0; d < arg.rank; ++d)
    bytes *= static_cast<long double>(arg.shape[d]);
  if (bytes >= static_cast<long double>(int64_t(1) << 62))
    return which + " has shape " + shapeText(arg.shape, arg.rank) +
           ", more bytes than an address space holds";
  if (!arg.data && bytes > 0)
    return which + " has no data (a null pointer) for shape " +
           shapeText(arg.shape, arg.rank);
  return "";
}

} // namespace

std::string checkEntryArguments(const char *entry, const ArraySpec *specs,
                                int numSpecs, const SizeRuleSpec *rules,
                                int numRules, const ArrayArg *args,
                                int numArgs) {
  std::string name = entry ? entry : "?";
  if (numArgs != numSpecs)
    return "@" + name + " takes " + std::to_string(numSpecs) + " input" +
           (numSpecs == 1 ? "" : "s") + " but " + std::to_string(numArgs) +
           (numArgs == 1 ? " was" : " were") + " given";
  if (numArgs > 0 && !args)
    return "@" + name + " takes " + std::to_string(numSpecs) +
           " inputs but the array of inputs is a null pointer";
  for (int i = 0; i < numArgs; ++i)
    if (std::string error = checkOne(name, i, specs[i], args[i]);
        !error.empty())
      return error;
  for (int r = 0; r < numRules; ++r) {
    const SizeRuleSpec &rule = rules[r];
    int64_t a = args[rule.firstArg].shape[rule.firstDim];
    int64_t b = args[rule.secondArg].shape[rule.secondDim];
    if (a == b || (rule.orOne && a == 1))
      continue;
    return "input " + std::to_string(rule.firstArg) + " dimension " +
           std::to_string(rule.firstDim) + " is " + std::to_string(a) +
           " but input " + std::to_string(rule.secondArg) + " dimension " +
           std::to_string(rule.secondDim) + " is " + std::to_string(b) +
           ": " + rule.what;
  }
  return "";
}

std::string checkPagedValues(const PagedRuleSpec *rules, int numRules,
                             const ArrayArg *args) {
  for (int r = 0; r < numRules; ++r) {
    const PagedRuleSpec &rule = rules[r];
    const ArrayArg &table = args[rule.tableArg];
    const ArrayArg &lengths = args[rule.lengthsArg];
    int64_t batch = std::min(lengths.shape[0], table.shape[0]);
    int64_t slots = table.shape[1];
    int64_t pages = args[rule.cacheArg].shape[0];
    int64_t capacity = slots * rule.pageSize;
    auto *length = static_cast<const int32_t *>(lengths.data);
    auto *entries = static_cast<const int32_t *>(table.data);
    std::string of = " of " + std::string(rule.op) + "): ";
    for (int64_t b = 0; b < batch; ++b) {
      if (length[b] < 0 || length[b] > capacity)
        return "input " + std::to_string(rule.lengthsArg) +
               " ('key_lengths'" + of + "'key_lengths'[" + std::to_string(b) +
               "] is " + std::to_string(length[b]) + ", outside [0, " +
               std::to_string(capacity) + "] (the table's " +
               std::to_string(slots) + " pages of " +
               std::to_string(rule.pageSize) + " keys)";
      int64_t used = (length[b] + rule.pageSize - 1) / rule.pageSize;
      for (int64_t t = 0; t < used; ++t) {
        int32_t page = entries[b * slots + t];
        if (page < 0 || page >= pages)
          return "input " + std::to_string(rule.tableArg) + " ('page_table'" +
                 of + "'page_table'[" + std::to_string(b) + ", " +
                 std::to_string(t) + "] is " + std::to_string(page) +
                 ", not a page of the cache's " + std::to_string(pages);
      }
    }
  }
  return "";
}

} // namespace attn::runtime
