//===- Builtin.h - Factories of the strategies built into attn --*- C++ -*-===//

#ifndef ATTN_STRATEGIES_BUILTIN_H
#define ATTN_STRATEGIES_BUILTIN_H

#include "attn/Strategies/Strategy.h"

namespace mlir::attn {
std::unique_ptr<Strategy> createReferenceStrategy();
std::unique_ptr<Strategy> createTiledStrategy();
std::unique_ptr<Strategy> createSplitKVStrategy();
std::unique_ptr<Strategy> createNeighborhoodStrategy();
std::unique_ptr<Strategy> createBlockSparseStrategy();
std::unique_ptr<Strategy> createLinearStrategy();
std::unique_ptr<Strategy> createPortableStrategy();
} // namespace mlir::attn

#endif // ATTN_STRATEGIES_BUILTIN_H
