//===- BuiltinScores.h - Factories of the built-in scores -------*- C++ -*-===//
//
// createXScore() for each line ATTN_SCORE(X) of BuiltinScores.def; X.cpp in
// this folder defines it, ScoreRegistry.cpp calls it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_SCORES_BUILTINSCORES_H
#define ATTN_LIB_DIALECT_ATTN_SCORES_BUILTINSCORES_H

#include "attn/Dialect/Attn/IR/ScoreFunction.h"

#include <memory>

namespace mlir::attn {
#define ATTN_SCORE(Name) std::unique_ptr<ScoreFunction> create##Name##Score();
#include "BuiltinScores.def"
} // namespace mlir::attn

#endif // ATTN_LIB_DIALECT_ATTN_SCORES_BUILTINSCORES_H
