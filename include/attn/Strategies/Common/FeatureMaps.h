//===- FeatureMaps.h - Kernel-score math shared by strategies ---*- C++ -*-===//
//
// The pieces of kernel (feature-map) attention that every strategy emits the
// same way: phi of elu1 and relu, and the taylor2 weight 1 + s + s^2/2. Each
// works on an f32 scalar or an f32 vector.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_FEATUREMAPS_H
#define ATTN_STRATEGIES_COMMON_FEATUREMAPS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// phi(x) of a feature-product score: elu1 (x > 0 ? x + 1 : exp(x)) or
/// relu (max(x, 0)).
Value buildFeatureMap(OpBuilder &b, Location loc, FeatureMap map, Value x);

/// The taylor2 weight of a score: 1 + s + s^2 / 2.
Value buildTaylor2Weight(OpBuilder &b, Location loc, Value s);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_FEATUREMAPS_H
