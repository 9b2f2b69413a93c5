//===- ScoreModDerivative.h - d score_mod / d s, op by op -------*- C++ -*-===//
//
// attn.attention_backward differentiates a `score_mod` region with respect
// to its score argument: forward-mode, one tangent per value that depends on
// the score. The rules live here, once: the verifier asks which ops have
// one, and the strategies that build the backward ask for the tangents.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_SCOREMODDERIVATIVE_H
#define ATTN_DIALECT_ATTN_IR_SCOREMODDERIVATIVE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Region.h"

namespace mlir::attn {

/// The first op of the score_mod body `region` that reads a value depending
/// on the score argument (argument 0) and has no derivative rule; null when
/// the whole body can be differentiated.
Operation *findNonDifferentiableScoreOp(Region &region);

/// The tangent of `op`'s result, an op already built at the builder's
/// insertion point, given the tangents of its operands (null: the operand
/// does not depend on the score, tangent 0). Null when no operand has a
/// tangent or the result is not a float (cmpf). `op` must pass
/// findNonDifferentiableScoreOp's rule.
Value buildScoreTangent(OpBuilder &b, Location loc, Operation *op,
                        ArrayRef<Value> operandTangents);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_SCOREMODDERIVATIVE_H
