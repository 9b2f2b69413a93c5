//===- AllowedKeyRule.h - Which keys a query may attend, written once -----===//
//
// The allowed-key rules of attn.attention (causal, window, sinks) and of
// attn.neighborhood (NATTEN's per-axis rule with dilation, causality and
// stride), written once as templates over an arithmetic domain `D`. The
// domain says what a number is:
//   - int64_t (MaskSemantics.cpp): tile planning, cost models, FLOP counts;
//   - IR values (MaskRules.cpp, RuleArith): the reference strategy, the GPU
//     kernels, and the CPU flash kernel, whose key positions are vectors
//     while query-side values stay scalars (RuleArith broadcasts on use).
//
// A domain provides `Int` and `Bool` types and:
//   Int c(int64_t); add, sub, mul, divU, remU, min, max (Int, Int -> Int);
//   Bool sle, slt, eq (Int, Int -> Bool);
//   Bool all() (no restriction), both(Bool, Bool), either(Bool, Bool), where
//   all() is absorbing for `either` and neutral for `both`.
// Sizes and positions are non-negative, so divU/remU are plain division.
//
// `Band` is anything with the fields of AttentionProblem's rule: causal,
// hasWindow, windowLeft, windowRight (std::optional<int64_t>), sinks.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_ALLOWEDKEYRULE_H
#define ATTN_STRATEGIES_COMMON_ALLOWEDKEYRULE_H

#include <cstddef>
#include <cstdint>

namespace mlir::attn::rule {

/// An inclusive key interval [lo, hi]; empty when lo > hi.
template <typename D>
struct Interval {
  typename D::Int lo, hi;
};

/// Whether lo <= x <= hi.
template <typename D>
typename D::Bool contains(D &d, const Interval<D> &interval,
                          typename D::Int x) {
  return d.both(d.sle(interval.lo, x), d.sle(x, interval.hi));
}

/// Query i's keys are aligned to the end of the keys: i + (Lk - Lq).
template <typename D>
typename D::Int alignedQuery(D &d, typename D::Int i, typename D::Int lq,
                             typename D::Int lk) {
  return d.add(i, d.sub(lk, lq));
}

/// The keys that causal and the window allow query i, clipped to [0, Lk)
/// (sinks come on top: sinkInterval).
template <typename D, typename Band>
Interval<D> bandInterval(D &d, const Band &band, typename D::Int i,
                         typename D::Int lq, typename D::Int lk) {
  typename D::Int shifted = alignedQuery(d, i, lq, lk);
  typename D::Int lo = d.c(0), hi = d.sub(lk, d.c(1));
  if (band.causal)
    hi = d.min(hi, shifted);
  if (band.hasWindow && band.windowLeft)
    lo = d.max(lo, d.sub(shifted, d.c(*band.windowLeft)));
  if (band.hasWindow && band.windowRight)
    hi = d.min(hi, d.add(shifted, d.c(*band.windowRight)));
  return {lo, hi};
}

/// The sink keys [0, sinks) that query i may attend whatever the window
/// says (causal still applies); empty (hi = -1) without a window or sinks.
template <typename D, typename Band>
Interval<D> sinkInterval(D &d, const Band &band, typename D::Int i,
                         typename D::Int lq, typename D::Int lk) {
  if (!band.hasWindow || band.sinks <= 0)
    return {d.c(0), d.c(-1)};
  typename D::Int hi = d.min(d.c(band.sinks - 1), d.sub(lk, d.c(1)));
  if (band.causal)
    hi = d.min(hi, alignedQuery(d, i, lq, lk));
  return {d.c(0), hi};
}

/// The keys that queries [first, last] may see together under causal, the
/// window and sinks: the band from the first query's lower bound to the
/// last query's upper bound (both bounds grow with the query; empty when
/// lo > hi), and the sink keys up to the last query's (sinkHi = -1: none).
template <typename D>
struct RowsKeys {
  typename D::Int lo, hi, sinkHi;
};

template <typename D, typename Band>
RowsKeys<D> rowsKeys(D &d, const Band &band, typename D::Int first,
                     typename D::Int last, typename D::Int lq,
                     typename D::Int lk) {
  return {bandInterval(d, band, first, lq, lk).lo,
          bandInterval(d, band, last, lq, lk).hi,
          sinkInterval(d, band, last, lq, lk).hi};
}

/// Whether key j (0 <= j < Lk) is allowed for query i under causal, the
/// window and sinks. `all()` when nothing restricts keys.
template <typename D, typename Band>
typename D::Bool bandAllowed(D &d, const Band &band, typename D::Int i,
                             typename D::Int j, typename D::Int lq,
                             typename D::Int lk) {
  typename D::Bool allowed = d.all();
  if (!band.causal && !band.hasWindow)
    return allowed;
  typename D::Int shifted = alignedQuery(d, i, lq, lk);
  if (band.causal)
    allowed = d.both(allowed, d.sle(j, shifted));
  if (band.hasWindow) {
    typename D::Bool inWindow = d.all();
    if (band.windowLeft)
      inWindow = d.both(inWindow,
                        d.sle(d.sub(shifted, d.c(*band.windowLeft)), j));
    if (band.windowRight)
      inWindow = d.both(inWindow,
                        d.sle(j, d.add(shifted, d.c(*band.windowRight))));
    if (band.sinks > 0)
      inWindow = d.either(inWindow, d.slt(j, d.c(band.sinks)));
    allowed = d.both(allowed, inWindow);
  }
  return allowed;
}

/// One spatial axis of attn.neighborhood.
struct AxisRule {
  int64_t kernel = 1, dilation = 1, stride = 1;
  bool causal = false;
};

/// What query coordinate qc (on an axis of `extent` positions) may attend:
/// its dilation group, and the inclusive range of group coordinates.
template <typename D>
struct AxisWindow {
  typename D::Int group;
  Interval<D> range;
};

/// The positions of dilation group `group` on an axis of `extent`
/// positions: ceil((extent - group) / dilation).
template <typename D>
typename D::Int groupPositions(D &d, const AxisRule &axis,
                               typename D::Int extent, typename D::Int group) {
  if (axis.dilation == 1)
    return extent;
  return d.divU(d.add(d.sub(extent, group), d.c(axis.dilation - 1)),
                d.c(axis.dilation));
}

/// NATTEN's window in group coordinates: for position qi of a group of
/// `positions`, `kernel` positions led by qi's stride block's leader (its
/// last query when causal, else its middle one), shifted to stay inside.
template <typename D>
Interval<D> groupWindow(D &d, const AxisRule &axis, typename D::Int qi,
                        typename D::Int positions) {
  using Int = typename D::Int;
  Int last = d.sub(positions, d.c(1));
  Int first = axis.stride == 1
                  ? qi
                  : d.mul(d.c(axis.stride), d.divU(qi, d.c(axis.stride)));
  if (axis.causal) {
    Int leader = d.min(d.add(first, d.c(axis.stride - 1)), last);
    return {d.max(d.c(0), d.sub(leader, d.c(axis.kernel - 1))), qi};
  }
  int64_t left = axis.kernel / 2;
  int64_t right = axis.kernel / 2 - (1 - axis.kernel % 2);
  Int leader = d.min(d.add(first, d.c(axis.stride / 2)), last);
  Int center = d.min(d.max(leader, d.c(left)),
                     d.max(d.c(left), d.sub(last, d.c(right))));
  return {d.max(d.c(0), d.sub(center, d.c(left))),
          d.min(last, d.add(center, d.c(right)))};
}

/// The window of query coordinate qc on an axis of `extent` positions.
template <typename D>
AxisWindow<D> axisWindow(D &d, const AxisRule &axis, typename D::Int qc,
                         typename D::Int extent) {
  typename D::Int group =
      axis.dilation == 1 ? d.c(0) : d.remU(qc, d.c(axis.dilation));
  typename D::Int qi =
      axis.dilation == 1 ? qc : d.divU(qc, d.c(axis.dilation));
  return {group,
          groupWindow(d, axis, qi, groupPositions(d, axis, extent, group))};
}

/// Whether key coordinate kc is inside the query's window on one axis.
template <typename D>
typename D::Bool axisAllowed(D &d, const AxisRule &axis,
                             const AxisWindow<D> &window, typename D::Int kc) {
  typename D::Int kj =
      axis.dilation == 1 ? kc : d.divU(kc, d.c(axis.dilation));
  typename D::Bool allowed = contains(d, window.range, kj);
  if (axis.dilation > 1)
    allowed = d.both(d.eq(d.remU(kc, d.c(axis.dilation)), window.group),
                     allowed);
  return allowed;
}

/// The coordinates of a flattened position over `extents` (row-major):
/// `coords` receives one per axis.
template <typename D, typename Extents, typename Coords>
void unflatten(D &d, typename D::Int flat, const Extents &extents,
               Coords &coords) {
  std::size_t rank = extents.size();
  coords.resize(rank);
  typename D::Int rest = flat;
  for (std::size_t a = rank; a-- > 0;) {
    if (a == 0) {
      coords[a] = rest;
    } else {
      coords[a] = d.remU(rest, extents[a]);
      rest = d.divU(rest, extents[a]);
    }
  }
}

} // namespace mlir::attn::rule

#endif // ATTN_STRATEGIES_COMMON_ALLOWEDKEYRULE_H
