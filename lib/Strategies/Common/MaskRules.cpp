//===- MaskRules.cpp - Allowed-key rules as IR ----------------------------===//
//
// Emits the rules of MaskSemantics.cpp as arith ops on index values.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/MaskRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;

ProblemSizes mlir::attn::getProblemSizes(OpBuilder &b, Location loc,
                                         const AttentionProblem &problem) {
  ProblemSizes sizes;
  auto dims = [&](Value tensor, ArrayRef<int64_t> shape,
                  SmallVectorImpl<Value> &out) {
    for (auto [index, size] : llvm::enumerate(shape)) {
      if (ShapedType::isDynamic(size))
        out.push_back(tensor::DimOp::create(b, loc, tensor, 2 + index));
      else
        out.push_back(arith::ConstantIndexOp::create(b, loc, size));
    }
  };
  dims(problem.query, problem.queryShape, sizes.queryShape);
  dims(problem.key, problem.keyShape, sizes.keyShape);
  return sizes;
}

namespace {
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value sle(Value x, Value y) { return cmp(arith::CmpIPredicate::sle, x, y); }
  Value slt(Value x, Value y) { return cmp(arith::CmpIPredicate::slt, x, y); }
  Value eq(Value x, Value y) { return cmp(arith::CmpIPredicate::eq, x, y); }
  Value andI(Value x, Value y) {
    if (!x)
      return y;
    if (!y)
      return x;
    return arith::AndIOp::create(b, loc, x, y);
  }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
};

/// NATTEN's one-axis rule for query position i and key position j.
Value buildAxisRule(IndexMath &m, Value i, Value j, Value extent,
                    int64_t kernel, int64_t dilation, int64_t stride,
                    bool causal) {
  Value d = m.c(dilation);
  Value group = m.rem(i, d);
  Value sameGroup = dilation == 1 ? Value() : m.eq(group, m.rem(j, d));
  Value qi = dilation == 1 ? i : m.div(i, d);
  Value kj = dilation == 1 ? j : m.div(j, d);
  Value positions = buildGroupPositions(m.b, m.loc, extent, group, dilation);
  AxisWindow window =
      buildNeighborhoodWindow(m.b, m.loc, qi, positions, kernel, stride, causal);
  Value inRange = m.andI(m.sle(window.lo, kj), m.sle(kj, window.hi));
  return m.andI(sameGroup, inRange);
}
} // namespace

Value mlir::attn::buildGroupPositions(OpBuilder &b, Location loc,
                                      Value extent, Value group,
                                      int64_t dilation) {
  IndexMath m{b, loc};
  if (dilation == 1)
    return extent;
  return m.div(m.add(m.sub(extent, group), m.c(dilation - 1)), m.c(dilation));
}

AxisWindow mlir::attn::buildNeighborhoodWindow(OpBuilder &b, Location loc,
                                               Value qi, Value positions,
                                               int64_t kernel, int64_t stride,
                                               bool causal) {
  IndexMath m{b, loc};
  Value last = m.sub(positions, m.c(1));
  Value first = stride == 1 ? qi : m.mul(m.c(stride), m.div(qi, m.c(stride)));
  if (causal) {
    Value leader = m.min(m.add(first, m.c(stride - 1)), last);
    return {m.max(m.c(0), m.sub(leader, m.c(kernel - 1))), qi};
  }
  int64_t left = kernel / 2;
  int64_t right = kernel / 2 - (1 - kernel % 2);
  Value leader = m.min(m.add(first, m.c(stride / 2)), last);
  Value center = m.min(m.max(leader, m.c(left)), m.sub(last, m.c(right)));
  return {m.sub(center, m.c(left)), m.add(center, m.c(right))};
}

Value mlir::attn::buildAllowedPredicate(OpBuilder &b, Location loc,
                                        const AttentionProblem &p,
                                        const ProblemSizes &sizes, Value i,
                                        Value j) {
  IndexMath m{b, loc};
  if (p.isNeighborhood) {
    // Unflatten i and j over the spatial extents (row-major), then take the
    // product of the per-axis rules.
    size_t rank = p.kernel.size();
    SmallVector<Value> qi(rank), kj(rank);
    Value restI = i, restJ = j;
    for (size_t a = rank; a-- > 0;) {
      Value extent = sizes.queryShape[a];
      if (a == 0) {
        qi[a] = restI;
        kj[a] = restJ;
      } else {
        qi[a] = m.rem(restI, extent);
        kj[a] = m.rem(restJ, extent);
        restI = m.div(restI, extent);
        restJ = m.div(restJ, extent);
      }
    }
    Value allowed;
    for (size_t a = 0; a < rank; ++a)
      allowed = m.andI(allowed, buildAxisRule(m, qi[a], kj[a],
                                              sizes.queryShape[a], p.kernel[a],
                                              p.dilation[a], p.stride[a],
                                              p.causalAxes[a]));
    return allowed;
  }

  if (!p.causal && !p.hasWindow)
    return Value();
  Value shifted =
      m.add(i, m.sub(sizes.keyLength(), sizes.queryLength()));
  Value allowed;
  if (p.causal)
    allowed = m.sle(j, shifted);
  if (p.hasWindow) {
    Value inWindow;
    if (p.windowLeft)
      inWindow = m.andI(inWindow, m.sle(m.sub(shifted, m.c(*p.windowLeft)), j));
    if (p.windowRight)
      inWindow =
          m.andI(inWindow, m.sle(j, m.add(shifted, m.c(*p.windowRight))));
    if (p.sinks > 0)
      inWindow = m.orI(inWindow, m.slt(j, m.c(p.sinks)));
    allowed = m.andI(allowed, inWindow);
  }
  return allowed;
}
