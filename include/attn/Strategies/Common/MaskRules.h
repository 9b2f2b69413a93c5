//===- MaskRules.h - Allowed-key rules as IR --------------------*- C++ -*-===//
//
// The rules of AllowedKeyRule.h as arith ops (mask operand excluded), for
// linalg.generic bodies and loops: RuleArith is the rules' domain of IR
// values, and the functions below apply the rules of one op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MASKRULES_H
#define ATTN_STRATEGIES_COMMON_MASKRULES_H

#include "attn/Strategies/Common/AllowedKeyRule.h"
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

/// AllowedKeyRule.h's domain of IR values: index arithmetic in which a
/// value may also be a vector of integer positions (the CPU kernel's keys).
/// An index scalar that meets a vector is cast to its element type and
/// broadcast, so query-side values stay scalars.
class RuleArith {
public:
  using Int = Value;
  using Bool = Value;
  RuleArith(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  Value c(int64_t v);
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  Value divU(Value x, Value y);
  Value remU(Value x, Value y);
  Value min(Value x, Value y);
  Value max(Value x, Value y);
  Value sle(Value x, Value y);
  Value slt(Value x, Value y);
  Value eq(Value x, Value y);
  /// No restriction: a null Value.
  Value all() { return Value(); }
  Value both(Value x, Value y);
  Value either(Value x, Value y);

private:
  /// x and y with equal types (a scalar broadcast to the other's vector).
  std::pair<Value, Value> promote(Value x, Value y);
  Value cmp(unsigned predicate, Value x, Value y);

  OpBuilder &b;
  Location loc;
};

/// i1 value: key `j` allowed for query `i` (flattened index values; `j`
/// may be a vector of key positions, giving a vector of i1) under
/// the causal/window/sink or neighborhood rules of `problem`. Returns a null
/// Value when every key is allowed.
Value buildAllowedPredicate(OpBuilder &b, Location loc,
                            const AttentionProblem &problem,
                            const ProblemSizes &sizes, Value i, Value j);

/// The query rows [lo, hi) that may see some key of [k0, k1] under the
/// causal, window and sink rules of `problem` (an attention op; row i's
/// keys aligned at i + Lk - Lq), or for a neighborhood over flattened
/// positions (`extents` its spatial extents) neighborhoodReach's band: the
/// backward's key tiles visit only those.
std::pair<Value, Value> rowsSeeingKeys(OpBuilder &b, Location loc,
                                       const AttentionProblem &problem,
                                       Value k0, Value k1, Value lq, Value lk,
                                       ArrayRef<Value> extents = {});

/// For a neighborhood over flattened positions (`extents` its spatial
/// extents): the positions [lo, hi) on the other side (keys of queries, or
/// with `fromKeys` queries of keys) that may pair with some position of
/// [first, last]. On the leading axis a query and a key it sees lie within
/// (kernel - 1 + stride - 1) * dilation of each other, and with a causal
/// axis the key comes first; the band is whole rows of the other axes.
std::pair<Value, Value> neighborhoodReach(OpBuilder &b, Location loc,
                                          const AttentionProblem &problem,
                                          ArrayRef<Value> extents, Value first,
                                          Value last, bool fromKeys);

/// The rule of spatial axis `axis` of a neighborhood op.
rule::AxisRule getAxisRule(const AttentionProblem &problem, unsigned axis);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_MASKRULES_H
