//===- ScoreFunctions.h - Score math shared by strategies -------*- C++ -*-===//
//
// The pieces of the score functions that every strategy emits the same way:
// phi of elu1 and relu, the taylor2 weight 1 + s + s^2/2, and the softplus
// weight relative to the row's running maximum. Each works on an f32 scalar
// or an f32 vector.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_SCOREFUNCTIONS_H
#define ATTN_STRATEGIES_COMMON_SCOREFUNCTIONS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// phi(x) of a feature-product score: elu1 (x > 0 ? x + 1 : exp(x)) or
/// relu (max(x, 0)).
Value buildFeatureMap(OpBuilder &b, Location loc, FeatureMap map, Value x);

/// The taylor2 weight of a score: 1 + s + s^2 / 2.
Value buildTaylor2Weight(OpBuilder &b, Location loc, Value s);

/// The softplus weight of score `s` scaled by 2^-ref: softplus(s) 2^-ref,
/// where ref = min(m log2(e), 0) for the row's (running) maximum score
/// m >= s, so ref is 0 whenever s > 0. A constant factor of a row cancels
/// in the normalization, and with it the weights of a row whose scores are
/// all far below 0 keep their ratios (about e^(s - m)) instead of all
/// underflowing to 0: for s <= 0, softplus(s) 2^-ref = 2^(s log2(e) - ref)
/// g(e^s) with g(t) = log1p(t) / t (1 - t/2 for small t). `ref` is a value
/// of the type of `s`.
Value buildSoftplusWeight(OpBuilder &b, Location loc, Value s, Value ref);

/// The reference point of softplus weights from the row's (running)
/// maximum score in the log2 domain, m2 = m log2(e): min(m2, 0).
Value buildSoftplusReference(OpBuilder &b, Location loc, Value m2);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_SCOREFUNCTIONS_H
