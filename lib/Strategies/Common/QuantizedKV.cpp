//===- QuantizedKV.cpp - Dequantizing i8 and f8E4M3FN keys and values -----===//
//
// See QuantizedKV.h.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/QuantizedKV.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

/// `type`'s shape (a vector's or none) with element type `element`.
static Type withElement(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return VectorType::get(vector.getShape(), element);
  return element;
}

/// A constant of `type` (scalar or vector) whose elements are `attr`.
static Value splat(OpBuilder &b, Location loc, Type type, TypedAttr attr) {
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(vector, attr));
  return arith::ConstantOp::create(b, loc, attr);
}

/// f8E4M3FN bits to f32, 2^-8 times their value. Sign-extended to i16 and
/// shifted left by 7, the byte's sign lands on bit 15 and its magnitude's 7
/// bits (exponent 4, mantissa 3) on bits 13..7: an f16 with the exponent
/// bias 15 instead of 7, subnormals included, which f16 -> f32 conversion
/// (one instruction with F16C) widens exactly. S.1111.111 is NaN (the
/// format has no infinity): only for it does adding 1 at bit 7 carry into
/// bit 14, which then makes the f16 exponent all ones. Vectors work in i16
/// lanes; a scalar (GPU kernels) in i32, whose constants a kernel's ABI can
/// pass, truncated at the end.
static Value decodeF8E4M3FNOver256(OpBuilder &b, Location loc, Value raw) {
  Type i8 = b.getI8Type(), i16 = b.getI16Type();
  Type rawType = raw.getType();
  Value bits = arith::BitcastOp::create(b, loc, withElement(rawType, i8), raw);
  Type wideType =
      withElement(rawType, isa<VectorType>(rawType) ? i16 : b.getI32Type());
  auto constant = [&](uint16_t v) {
    return splat(b, loc, wideType,
                 b.getIntegerAttr(getElementTypeOrSelf(wideType), v));
  };
  Value wide = arith::ExtSIOp::create(b, loc, wideType, bits);
  Value half = arith::AndIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, wide, constant(7)),
      constant(0xbf80));
  Value nanExponent = arith::AndIOp::create(
      b, loc, arith::AddIOp::create(b, loc, half, constant(0x0080)),
      constant(0x4000));
  half = arith::OrIOp::create(b, loc, half, nanExponent);
  if (wideType != withElement(rawType, i16))
    half = arith::TruncIOp::create(b, loc, withElement(rawType, i16), half);
  Value f16 = arith::BitcastOp::create(
      b, loc, withElement(rawType, b.getF16Type()), half);
  return arith::ExtFOp::create(b, loc, withElement(rawType, b.getF32Type()),
                               f16);
}

double mlir::attn::quantizedDecodeFactor(Type element) {
  return element.isInteger(8) ? 1.0 : 256.0;
}

Value mlir::attn::decodeQuantizedOverFactor(OpBuilder &b, Location loc,
                                            Value raw) {
  Type rawType = raw.getType();
  if (getElementTypeOrSelf(rawType).isInteger(8))
    return arith::SIToFPOp::create(b, loc,
                                   withElement(rawType, b.getF32Type()), raw);
  return decodeF8E4M3FNOver256(b, loc, raw);
}

Value mlir::attn::decodeQuantized(OpBuilder &b, Location loc, Value raw) {
  Value value = decodeQuantizedOverFactor(b, loc, raw);
  double factor = quantizedDecodeFactor(getElementTypeOrSelf(raw.getType()));
  if (factor == 1.0)
    return value;
  return arith::MulFOp::create(
      b, loc, value,
      splat(b, loc, value.getType(), b.getF32FloatAttr(factor)));
}

Value mlir::attn::dequantize(OpBuilder &b, Location loc, Value raw,
                             Value scale) {
  Value value = decodeQuantized(b, loc, raw);
  Type floatType = value.getType();
  if (isa<VectorType>(floatType) && !isa<VectorType>(scale.getType()))
    scale = vector::BroadcastOp::create(b, loc, floatType, scale);
  return arith::MulFOp::create(b, loc, value, scale);
}

Value mlir::attn::quantizationScale(OpBuilder &b, Location loc, Value scales,
                                    Type elementType, Value batch,
                                    Value kvHead, Value key) {
  SmallVector<Value> at = {kvHead};
  if (elementType.isInteger(8))
    at = {batch, kvHead, key};
  if (isa<MemRefType>(scales.getType()))
    return memref::LoadOp::create(b, loc, scales, at);
  return tensor::ExtractOp::create(b, loc, scales, at);
}

Value mlir::attn::dequantizeToTensor(OpBuilder &b, Location loc,
                                     Value operand, Value scales,
                                     Type element) {
  auto type = cast<RankedTensorType>(operand.getType());
  Value empty = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, operand), element);
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(ctx, d0, d1, d2, d3);
  AffineMap scaleMap =
      type.getElementType().isInteger(8)
          ? AffineMap::get(4, 0, {d0, d1, d2}, ctx)
          : AffineMap::get(4, 0, {d1}, ctx);
  AffineMap id = b.getMultiDimIdentityMap(4);
  return linalg::GenericOp::create(
             b, loc, TypeRange{empty.getType()}, ValueRange{operand, scales},
             ValueRange{empty}, ArrayRef<AffineMap>{id, scaleMap, id},
             SmallVector<utils::IteratorType>(4,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value v = dequantize(nb, l, args[0], args[1]);
               if (!element.isF32())
                 v = arith::TruncFOp::create(nb, l, element, v);
               linalg::YieldOp::create(nb, l, v);
             })
      .getResult(0);
}

AttentionOp mlir::attn::materializeDequantizedKV(RewriterBase &rewriter,
                                                 AttentionOp op) {
  if (!op.getKScale() && !op.getVScale())
    return op;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Type element = op.getQueryType().getElementType();
  Value key = op.getKey(), value = op.getValue();
  if (Value scales = op.getKScale())
    key = dequantizeToTensor(rewriter, loc, key, scales, element);
  if (Value scales = op.getVScale())
    value = dequantizeToTensor(rewriter, loc, value, scales, element);
  rewriter.modifyOpInPlace(op, [&] {
    op.getKeyMutable().assign(key);
    op.getValueMutable().assign(value);
    op.getKScaleMutable().clear();
    op.getVScaleMutable().clear();
  });
  return op;
}
