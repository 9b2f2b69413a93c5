//===- MaskSemantics.cpp - Which keys each query may attend ---------------===//
//
// The allowed-key rules of docs/design.md on plain integers: the rules of
// AllowedKeyRule.h in the integer domain, and counts built on them.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskSemantics.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <algorithm>

namespace mlir::attn::semantics {

/// Rows up to which a sum of per-row counts is exact.
static constexpr int64_t kExactRows = int64_t(1) << 20;

/// Sum of count(i) for i in [0, rows): exact up to kExactRows rows; beyond,
/// kExactRows evenly spaced rows scaled up (counts are piecewise linear in i,
/// so the estimate is close; lengths up to 2^31 - 1 would otherwise take
/// seconds in every cost estimate).
static int64_t sumOverRows(int64_t rows,
                           llvm::function_ref<int64_t(int64_t)> count) {
  if (rows <= kExactRows) {
    int64_t total = 0;
    for (int64_t i = 0; i < rows; ++i)
      total += count(i);
    return total;
  }
  double sampled = 0;
  for (int64_t n = 0; n < kExactRows; ++n)
    sampled += static_cast<double>(count(n * (rows - 1) / (kExactRows - 1)));
  return static_cast<int64_t>(sampled * static_cast<double>(rows) /
                              static_cast<double>(kExactRows));
}

namespace {
/// AllowedKeyRule.h's domain of plain integers.
struct IntArith {
  using Int = int64_t;
  using Bool = bool;
  Int c(int64_t v) { return v; }
  Int add(Int x, Int y) { return x + y; }
  Int sub(Int x, Int y) { return x - y; }
  Int mul(Int x, Int y) { return x * y; }
  Int divU(Int x, Int y) { return x / y; }
  Int remU(Int x, Int y) { return x % y; }
  Int min(Int x, Int y) { return std::min(x, y); }
  Int max(Int x, Int y) { return std::max(x, y); }
  Bool sle(Int x, Int y) { return x <= y; }
  Bool slt(Int x, Int y) { return x < y; }
  Bool eq(Int x, Int y) { return x == y; }
  Bool all() { return true; }
  Bool both(Bool x, Bool y) { return x && y; }
  Bool either(Bool x, Bool y) { return x || y; }
};

rule::AxisRule axisRule(const NeighborhoodAxis &axis) {
  return {axis.kernel, axis.dilation, axis.stride, axis.causal};
}
} // namespace

void BandRule::band(int64_t i, int64_t &lo, int64_t &hi) const {
  IntArith d;
  rule::Interval<IntArith> keys =
      rule::bandInterval(d, *this, i, queryLength, keyLength);
  lo = keys.lo;
  hi = keys.hi;
}

bool BandRule::allowed(int64_t i, int64_t j) const {
  IntArith d;
  return j >= 0 && j < keyLength &&
         rule::bandAllowed(d, *this, i, j, queryLength, keyLength);
}

int64_t BandRule::countAllowed(int64_t i) const {
  int64_t lo, hi;
  band(i, lo, hi);
  int64_t count = std::max<int64_t>(0, hi - lo + 1);
  if (hasWindow && sinks > 0) {
    // Sink keys [0, sinks) that causal allows but the window does not.
    IntArith d;
    int64_t sinkHi =
        rule::sinkInterval(d, *this, i, queryLength, keyLength).hi;
    int64_t sinkCount = std::max<int64_t>(0, sinkHi + 1);
    int64_t overlapLo = std::max<int64_t>(lo, 0);
    int64_t overlapHi = std::min(hi, sinkHi);
    int64_t overlap = std::max<int64_t>(0, overlapHi - overlapLo + 1);
    count += sinkCount - overlap;
  }
  return count;
}

int64_t BandRule::countAllowedIn(int64_t i, int64_t lo, int64_t hi) const {
  auto overlap = [](int64_t lo1, int64_t hi1, int64_t lo2, int64_t hi2) {
    return std::max<int64_t>(0, std::min(hi1, hi2) - std::max(lo1, lo2) + 1);
  };
  int64_t bandLo, bandHi;
  band(i, bandLo, bandHi);
  int64_t count = overlap(bandLo, bandHi, lo, hi);
  if (hasWindow && sinks > 0) {
    IntArith d;
    int64_t sinkHi = rule::sinkInterval(d, *this, i, queryLength, keyLength).hi;
    // The sink keys in [lo, hi] that the band does not already count.
    int64_t sinkLo = std::max<int64_t>(0, lo);
    sinkHi = std::min(sinkHi, hi);
    count += std::max<int64_t>(0, sinkHi - sinkLo + 1) -
             overlap(sinkLo, sinkHi, bandLo, bandHi);
  }
  return count;
}

int64_t BandRule::countAllowedPairs() const {
  return sumOverRows(queryLength, [&](int64_t i) { return countAllowed(i); });
}

void NeighborhoodAxis::groupRange(int64_t i, int64_t &lo, int64_t &hi) const {
  IntArith d;
  rule::AxisWindow<IntArith> window =
      rule::axisWindow(d, axisRule(*this), i, extent);
  lo = window.range.lo;
  hi = window.range.hi;
}

bool NeighborhoodAxis::allowed(int64_t i, int64_t j) const {
  IntArith d;
  rule::AxisRule axis = axisRule(*this);
  return rule::axisAllowed(d, axis, rule::axisWindow(d, axis, i, extent), j);
}

int64_t NeighborhoodAxis::countAllowed(int64_t i) const {
  int64_t lo, hi;
  groupRange(i, lo, hi);
  return std::max<int64_t>(0, hi - lo + 1);
}

int64_t NeighborhoodAxis::countAllowedPairs() const {
  return sumOverRows(extent, [&](int64_t i) { return countAllowed(i); });
}

} // namespace mlir::attn::semantics
