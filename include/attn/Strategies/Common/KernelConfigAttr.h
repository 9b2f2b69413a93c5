//===- KernelConfigAttr.h - A kernel configuration as a dictionary -*- C++ -*-===//
//
// A target's kernel configuration (FlashKernelConfig, GpuKernelConfig)
// travels from the strategy that chose it to the lowering of the tile op as
// a dictionary attribute on that op: the strategy's name, then each integer
// and boolean field under its key. Written once here for every
// configuration struct: the strategy writes every field, and the lowering
// requires every key with its type and refuses any other.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_KERNELCONFIGATTR_H
#define ATTN_STRATEGIES_COMMON_KERNELCONFIGATTR_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::attn {

/// The fields of `Config` by key.
template <typename Config>
struct KernelConfigFields {
  ArrayRef<std::pair<StringLiteral, int64_t Config::*>> ints;
  ArrayRef<std::pair<StringLiteral, bool Config::*>> bools;
};

/// `config` as a dictionary: {strategy = "<strategy>", key = value...}.
template <typename Config>
DictionaryAttr getKernelConfigAttr(MLIRContext *ctx, StringRef strategy,
                                   const Config &config,
                                   const KernelConfigFields<Config> &fields) {
  Builder b(ctx);
  SmallVector<NamedAttribute> entries = {
      b.getNamedAttr("strategy", b.getStringAttr(strategy))};
  for (auto [key, field] : fields.ints)
    entries.push_back(b.getNamedAttr(key, b.getI64IntegerAttr(config.*field)));
  for (auto [key, field] : fields.bools)
    entries.push_back(b.getNamedAttr(key, b.getBoolAttr(config.*field)));
  return b.getDictionaryAttr(entries);
}

/// The configuration in `op`'s attribute `name`: a dictionary with a
/// string `strategy` (returned in `strategy`) and every field as an i64 or
/// a bool, and no other key. On failure emits one error on `op` naming the
/// attribute and the key.
template <typename Config>
FailureOr<Config> parseKernelConfigAttr(Operation *op, StringRef name,
                                        const KernelConfigFields<Config> &fields,
                                        std::string &strategy) {
  auto dict = dyn_cast_or_null<DictionaryAttr>(op->getAttr(name));
  if (!dict)
    return op->emitOpError() << name << " must be a dictionary";
  auto error = [&](StringRef key) {
    return op->emitOpError() << name << " key '" << key << "' ";
  };
  for (NamedAttribute entry : dict) {
    StringRef key = entry.getName().strref();
    bool known = key == "strategy";
    for (auto [k, field] : fields.ints)
      known |= key == k;
    for (auto [k, field] : fields.bools)
      known |= key == k;
    if (!known)
      return error(key) << "is unknown";
  }
  auto strategyName = dyn_cast_or_null<StringAttr>(dict.get("strategy"));
  if (!strategyName)
    return error("strategy") << "must be a string";
  strategy = strategyName.str();
  Config config;
  for (auto [key, field] : fields.ints) {
    auto value = dyn_cast_or_null<IntegerAttr>(dict.get(key));
    if (!value || !value.getType().isInteger(64))
      return error(key) << "must be an i64";
    config.*field = value.getInt();
  }
  for (auto [key, field] : fields.bools) {
    auto value = dyn_cast_or_null<BoolAttr>(dict.get(key));
    if (!value)
      return error(key) << "must be a bool";
    config.*field = value.getValue();
  }
  return config;
}

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_KERNELCONFIGATTR_H
