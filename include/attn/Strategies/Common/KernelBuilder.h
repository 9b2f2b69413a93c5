//===- KernelBuilder.h - Shorthands for emitting kernels --------*- C++ -*-===//
//
// What every kernel emitter (CPU vector IR, GPU) builds over and over: index
// constants and arithmetic, f32 scalar and splat constants, tensor sizes,
// extension to f32, loops without results, tensors generated element by
// element. The emitters of the strategies derive from KernelBuilder or hold
// one.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_KERNELBUILDER_H
#define ATTN_STRATEGIES_COMMON_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir::attn {

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &builder, Location loc, int64_t lanes)
      : b(builder), loc(loc), f32(builder.getF32Type()),
        vecType(VectorType::get({lanes}, f32)) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value fconst(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  /// An f32 vector of `lanes` lanes, all `v`.
  Value vconst(double v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, b.getF32FloatAttr(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value minI(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxI(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  /// Unsigned quotient and remainder of indices.
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value cmpI(arith::CmpIPredicate predicate, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, predicate, x, y);
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  /// Size `d` of a ranked tensor, constant where static.
  Value dimOf(Value tensor, int64_t d) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (!type.isDynamicDim(d))
      return idx(type.getDimSize(d));
    return tensor::DimOp::create(b, loc, tensor, d);
  }
  /// scf.for [lo, hi) step `step` whose body yields nothing.
  void forLoop(Value lo, Value hi, Value step, function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, lo, hi, step, ValueRange{},
                       [&](OpBuilder &nested, Location, Value iv, ValueRange) {
                         OpBuilder::InsertionGuard guard(b);
                         b.setInsertionPoint(nested.getInsertionBlock(),
                                             nested.getInsertionPoint());
                         body(iv);
                         scf::YieldOp::create(b, loc);
                       });
  }
  /// scf.for over the (batch, KV head) pairs of `batches` x `heads` that
  /// carries `inits`: `body(batch, kvHead, carried)` returns the values it
  /// yields. Returns the loop's results.
  SmallVector<Value>
  headLoop(Value batches, int64_t heads, ValueRange inits,
           function_ref<SmallVector<Value>(Value, Value, ValueRange)> body) {
    Value headCount = idx(heads);
    auto loop = scf::ForOp::create(
        b, loc, idx(0), mul(batches, headCount), idx(1), inits,
        [&](OpBuilder &nested, Location, Value bh, ValueRange carried) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          scf::YieldOp::create(
              b, loc, body(div(bh, headCount), rem(bh, headCount), carried));
        });
    return SmallVector<Value>(loop.getResults());
  }
  /// headLoop carrying one value.
  Value headLoop(Value batches, int64_t heads, Value init,
                 function_ref<Value(Value, Value, Value)> body) {
    return headLoop(batches, heads, ValueRange{init},
                    [&](Value batch, Value kvHead,
                        ValueRange carried) -> SmallVector<Value> {
                      return {body(batch, kvHead, carried[0])};
                    })
        .front();
  }
  /// Positions start, start + 1, ... (index `start`) as an i32 vector of
  /// `lanes` lanes: the keys of one key vector.
  Value lanePositions(Value start) {
    auto type = VectorType::get(vecType.getShape(), b.getI32Type());
    SmallVector<Attribute> iota;
    for (int64_t x = 0; x < type.getNumElements(); ++x)
      iota.push_back(b.getI32IntegerAttr(x));
    Value base = arith::IndexCastOp::create(b, loc, b.getI32Type(), start);
    return arith::AddIOp::create(
        b, loc, vector::BroadcastOp::create(b, loc, type, base),
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, iota)));
  }
  /// i32 `positions` clamped to at most `last` (index): lanes past the last
  /// key read the last key, so that what they index stays in bounds.
  Value clampPositions(Value positions, Value last) {
    Value bound = arith::IndexCastOp::create(b, loc, b.getI32Type(), last);
    return arith::MinSIOp::create(
        b, loc, positions,
        vector::BroadcastOp::create(b, loc, positions.getType(), bound));
  }

  /// `v` (a scalar or a vector) extended to f32.
  Value toF32(Value v) {
    Type t = v.getType();
    if (getElementTypeOrSelf(t).isF32())
      return v;
    Type target = isa<VectorType>(t)
                      ? Type(VectorType::get(cast<VectorType>(t).getShape(), f32))
                      : Type(f32);
    return arith::ExtFOp::create(b, loc, target, v);
  }

  OpBuilder &b;
  Location loc;
  Type f32;
  VectorType vecType; ///< f32 x lanes.
};

/// A tensor of `type` (its dynamic sizes `dynamicSizes`) whose element at
/// `indices` is element(b, loc, indices), built with `b` set inside the
/// body (so an emitter may build through its own builder): a linalg.generic
/// without
/// inputs (canonicalization would inline a tensor.generate into each read
/// of it, recomputing the elements).
Value generateTensor(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynamicSizes,
    function_ref<Value(OpBuilder &, Location, ValueRange indices)> element);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_KERNELBUILDER_H
