//===- MaskSemantics.cpp - Which keys each query may attend ---------------===//
//
// Integer implementations of the allowed-key rules of docs/design.md.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskSemantics.h"

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

void BandRule::band(int64_t i, int64_t &lo, int64_t &hi) const {
  int64_t shifted = i + (keyLength - queryLength);
  lo = 0;
  hi = keyLength - 1;
  if (causal)
    hi = std::min(hi, shifted);
  if (hasWindow) {
    if (windowLeft)
      lo = std::max(lo, shifted - *windowLeft);
    if (windowRight)
      hi = std::min(hi, shifted + *windowRight);
  }
}

bool BandRule::allowed(int64_t i, int64_t j) const {
  if (j < 0 || j >= keyLength)
    return false;
  int64_t shifted = i + (keyLength - queryLength);
  if (causal && j > shifted)
    return false;
  if (!hasWindow || j < sinks)
    return true;
  if (windowLeft && j < shifted - *windowLeft)
    return false;
  if (windowRight && j > shifted + *windowRight)
    return false;
  return true;
}

int64_t BandRule::countAllowed(int64_t i) const {
  int64_t lo, hi;
  band(i, lo, hi);
  int64_t count = std::max<int64_t>(0, hi - lo + 1);
  if (hasWindow && sinks > 0) {
    // Sink keys [0, sinks) that causal allows but the window does not.
    int64_t sinkHi = std::min(sinks, keyLength) - 1;
    if (causal)
      sinkHi = std::min(sinkHi, i + (keyLength - queryLength));
    int64_t sinkCount = std::max<int64_t>(0, sinkHi + 1);
    int64_t overlapLo = std::max<int64_t>(lo, 0);
    int64_t overlapHi = std::min(hi, sinkHi);
    int64_t overlap = std::max<int64_t>(0, overlapHi - overlapLo + 1);
    count += sinkCount - overlap;
  }
  return count;
}

int64_t BandRule::countAllowedPairs() const {
  return sumOverRows(queryLength, [&](int64_t i) { return countAllowed(i); });
}

void NeighborhoodAxis::groupRange(int64_t i, int64_t &lo, int64_t &hi) const {
  int64_t group = i % dilation;
  int64_t qi = i / dilation;
  // Positions of this dilation group: ceil((n - group) / d).
  int64_t m = (extent - group + dilation - 1) / dilation;
  int64_t first = stride * (qi / stride);
  if (causal) {
    int64_t leader = std::min(first + stride - 1, m - 1);
    lo = std::max<int64_t>(0, leader - kernel + 1);
    hi = qi;
    return;
  }
  int64_t left = kernel / 2;
  int64_t right = kernel / 2 - (1 - kernel % 2);
  int64_t leader = std::min(first + stride / 2, m - 1);
  int64_t center = std::clamp(leader, left, std::max(left, m - 1 - right));
  lo = std::max<int64_t>(0, center - left);
  hi = std::min(m - 1, center + right);
}

bool NeighborhoodAxis::allowed(int64_t i, int64_t j) const {
  if (i % dilation != j % dilation)
    return false;
  int64_t lo, hi;
  groupRange(i, lo, hi);
  int64_t kj = j / dilation;
  return lo <= kj && kj <= hi;
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
