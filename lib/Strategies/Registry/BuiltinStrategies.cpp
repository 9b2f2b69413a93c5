//===- BuiltinStrategies.cpp - Registers attn's own strategies -------------===//

#include "attn/Strategies/Builtin.h"

#include <mutex>

using namespace mlir::attn;

void mlir::attn::registerBuiltinStrategies() {
  static std::once_flag once;
  std::call_once(once, [] {
    StrategyRegistry &registry = StrategyRegistry::global();
    registry.add(createReferenceStrategy());
    registry.add(createTiledStrategy());
    registry.add(createSplitKVStrategy());
    registry.add(createNeighborhoodStrategy());
    registry.add(createBlockSparseStrategy());
    registry.add(createLinearStrategy());
    registry.add(createPortableStrategy());
  });
}
