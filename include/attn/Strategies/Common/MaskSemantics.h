//===- MaskSemantics.h - Which keys each query may attend -------*- C++ -*-===//
//
// The allowed-key rules of attn.attention (causal, window, sinks) and of
// attn.neighborhood (NATTEN's per-axis rule with dilation, causality and
// stride), as plain integer functions. Strategies use them to plan tile
// ranges at compile time, the cost model to count work, and tools to count
// useful FLOPs. The IR builders in MaskRules.h emit the same rules as ops.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_MASKSEMANTICS_H
#define ATTN_STRATEGIES_COMMON_MASKSEMANTICS_H

#include <cstdint>
#include <optional>

namespace mlir::attn::semantics {

/// The causal/window/sink rules of attn.attention for one (Lq, Lk) pair.
struct BandRule {
  int64_t queryLength = 0;
  int64_t keyLength = 0;
  bool causal = false;
  std::optional<int64_t> windowLeft, windowRight;
  bool hasWindow = false;
  int64_t sinks = 0;

  /// Whether key j is allowed for query i (mask operand excluded).
  bool allowed(int64_t i, int64_t j) const;
  /// Inclusive key interval [lo, hi] that causal and window allow for query
  /// i, clipped to [0, Lk); empty when lo > hi. Sinks come on top.
  void band(int64_t i, int64_t &lo, int64_t &hi) const;
  /// Number of keys query i may attend.
  int64_t countAllowed(int64_t i) const;
  /// Number of keys in [lo, hi] that query i may attend.
  int64_t countAllowedIn(int64_t i, int64_t lo, int64_t hi) const;
  /// Number of allowed (query, key) pairs: exact up to 2^20 queries, an
  /// estimate from 2^20 evenly spaced queries beyond.
  int64_t countAllowedPairs() const;
};

/// NATTEN's rule for one spatial axis.
struct NeighborhoodAxis {
  int64_t extent = 1;    ///< n
  int64_t kernel = 1;    ///< k
  int64_t dilation = 1;  ///< d
  int64_t stride = 1;    ///< s
  bool causal = false;

  /// Inclusive range [lo, hi] of group coordinates that query i may attend;
  /// keys j with j mod d == i mod d and lo <= j div d <= hi are allowed.
  void groupRange(int64_t i, int64_t &lo, int64_t &hi) const;
  bool allowed(int64_t i, int64_t j) const;
  int64_t countAllowed(int64_t i) const;
  /// Sum over queries of countAllowed (exact up to 2^20 queries, an
  /// estimate beyond, as for BandRule).
  int64_t countAllowedPairs() const;
};

} // namespace mlir::attn::semantics

#endif // ATTN_STRATEGIES_COMMON_MASKSEMANTICS_H
