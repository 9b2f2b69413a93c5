//===- MaskRules.h - Allowed-key rules as IR --------------------*- C++ -*-===//
//
// Builds arith ops that compute whether key j is allowed for query i (mask
// operand excluded), the same rules as MaskSemantics.h, for use inside
// linalg.generic bodies and loops.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MASKRULES_H
#define ATTN_STRATEGIES_COMMON_MASKRULES_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// Runtime sizes that the rules need, as index values: for attention
/// {Lq} and {Lk}; for a neighborhood the spatial extents (queries and keys
/// share them).
struct ProblemSizes {
  SmallVector<Value> queryShape, keyShape;
  Value queryLength() const { return queryShape.front(); }
  Value keyLength() const { return keyShape.front(); }
};

/// Reads the sizes of `problem` from its operands (tensor.dim where dynamic).
ProblemSizes getProblemSizes(OpBuilder &b, Location loc,
                             const AttentionProblem &problem);

/// i1 value: key `j` allowed for query `i` (flattened index values) under
/// the causal/window/sink or neighborhood rules of `problem`. Returns a null
/// Value when every key is allowed.
Value buildAllowedPredicate(OpBuilder &b, Location loc,
                            const AttentionProblem &problem,
                            const ProblemSizes &sizes, Value i, Value j);

/// NATTEN's window on one axis, in dilation-group coordinates: the keys
/// kj with lo <= kj <= hi that query qi may attend, for a group of
/// `positions` positions (index values).
struct AxisWindow {
  Value lo, hi;
};
AxisWindow buildNeighborhoodWindow(OpBuilder &b, Location loc, Value qi,
                                   Value positions, int64_t kernel,
                                   int64_t stride, bool causal);

/// Positions of dilation group `group` on an axis of length `extent`:
/// ceil((extent - group) / dilation).
Value buildGroupPositions(OpBuilder &b, Location loc, Value extent,
                          Value group, int64_t dilation);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MASKRULES_H
