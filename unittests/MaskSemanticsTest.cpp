//===- MaskSemanticsTest.cpp - The allowed-key rules, checked -------------===//
//
// Checks MaskSemantics (which strategies and the cost model use) against
// brute-force implementations written here from DESIGN.md, on every small
// configuration, and against NATTEN's worked stride examples.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskSemantics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

using mlir::attn::semantics::BandRule;
using mlir::attn::semantics::NeighborhoodAxis;

namespace {

/// DESIGN.md: Allowed(i, j) = causal rule and (window rule or j < sinks).
bool bandAllowed(int64_t i, int64_t j, int64_t lq, int64_t lk, bool causal,
                 bool window, std::optional<int64_t> left,
                 std::optional<int64_t> right, int64_t sinks) {
  int64_t shifted = i + (lk - lq);
  if (causal && j > shifted)
    return false;
  if (!window)
    return true;
  bool inWindow = (!left || shifted - *left <= j) &&
                  (!right || j <= shifted + *right);
  return inWindow || j < sinks;
}

/// DESIGN.md's one-axis neighborhood rule (stride 1), written directly.
bool natten(int64_t i, int64_t j, int64_t n, int64_t k, int64_t d,
            bool causal) {
  if (i % d != j % d)
    return false;
  int64_t qi = i / d, kj = j / d;
  if (causal)
    return 0 <= qi - kj && qi - kj < k;
  int64_t m = (n - i % d + d - 1) / d;
  int64_t r = k / 2 - (1 - k % 2);
  int64_t c = std::clamp<int64_t>(qi, k / 2, m - 1 - r);
  return c - k / 2 <= kj && kj <= c + r;
}

TEST(BandRule, MatchesDefinition) {
  for (int64_t lq : {1, 3, 7})
    for (int64_t lk : {1, 4, 9})
      for (bool causal : {false, true})
        for (int window = 0; window < 4; ++window)
          for (int64_t sinks : {0, 2}) {
            BandRule rule;
            rule.queryLength = lq;
            rule.keyLength = lk;
            rule.causal = causal;
            rule.hasWindow = window > 0;
            if (window & 1)
              rule.windowLeft = 2;
            if (window & 2)
              rule.windowRight = 1;
            rule.sinks = rule.hasWindow ? sinks : 0;
            int64_t pairs = 0;
            for (int64_t i = 0; i < lq; ++i) {
              int64_t row = 0;
              for (int64_t j = 0; j < lk; ++j) {
                bool want = bandAllowed(i, j, lq, lk, causal, rule.hasWindow,
                                        rule.windowLeft, rule.windowRight,
                                        rule.sinks);
                EXPECT_EQ(rule.allowed(i, j), want)
                    << "lq=" << lq << " lk=" << lk << " i=" << i
                    << " j=" << j;
                row += want;
              }
              EXPECT_EQ(rule.countAllowed(i), row);
              pairs += row;
            }
            EXPECT_EQ(rule.countAllowedPairs(), pairs);
          }
}

TEST(NeighborhoodAxis, MatchesDesignWithoutStride) {
  for (int64_t n = 1; n <= 12; ++n)
    for (int64_t k = 1; k <= n; ++k)
      for (int64_t d = 1; k * d <= n; ++d)
        for (bool causal : {false, true}) {
          NeighborhoodAxis axis{n, k, d, 1, causal};
          for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j)
              EXPECT_EQ(axis.allowed(i, j), natten(i, j, n, k, d, causal))
                  << "n=" << n << " k=" << k << " d=" << d << " i=" << i
                  << " j=" << j << " causal=" << causal;
        }
}

TEST(NeighborhoodAxis, NattenStrideExamples) {
  // n=10, k=4, s=3: queries in blocks of 3 share the block center's window
  // (NATTEN's strided neighborhood attention); the partial last block's
  // leader is clamped to the last position.
  NeighborhoodAxis axis{10, 4, 1, 3, false};
  auto keys = [&](int64_t i) {
    int64_t lo, hi;
    axis.groupRange(i, lo, hi);
    return std::make_pair(lo, hi);
  };
  EXPECT_EQ(keys(0), std::make_pair(int64_t(0), int64_t(3)));
  EXPECT_EQ(keys(2), std::make_pair(int64_t(0), int64_t(3)));
  EXPECT_EQ(keys(3), std::make_pair(int64_t(2), int64_t(5)));
  EXPECT_EQ(keys(5), std::make_pair(int64_t(2), int64_t(5)));
  EXPECT_EQ(keys(6), std::make_pair(int64_t(5), int64_t(8)));
  EXPECT_EQ(keys(9), std::make_pair(int64_t(6), int64_t(9)));
  // Causal: the block's window start comes from its last query, the end is
  // the query itself.
  NeighborhoodAxis causal{10, 4, 1, 3, true};
  int64_t lo, hi;
  causal.groupRange(4, lo, hi);
  EXPECT_EQ(lo, 2);
  EXPECT_EQ(hi, 4);
  causal.groupRange(9, lo, hi);
  EXPECT_EQ(lo, 6);
  EXPECT_EQ(hi, 9);
}

TEST(NeighborhoodAxis, EveryQueryHasKeys) {
  for (int64_t n = 1; n <= 12; ++n)
    for (int64_t k = 1; k <= n; ++k)
      for (int64_t d = 1; k * d <= n; ++d)
        for (int64_t s = 1; s <= k; ++s)
          for (bool causal : {false, true}) {
            NeighborhoodAxis axis{n, k, d, s, causal};
            for (int64_t i = 0; i < n; ++i) {
              EXPECT_TRUE(axis.allowed(i, i) || !causal || s > 1)
                  << "a causal query sees itself";
              EXPECT_GE(axis.countAllowed(i), 1);
              EXPECT_LE(axis.countAllowed(i), k);
              if (!causal) {
                EXPECT_EQ(axis.countAllowed(i), k);
              }
            }
          }
}

} // namespace
