//===- ExpandShapeToReinterpretCast.cpp - expand_shape workaround ---------===//
//
// Rewrites memref.expand_shape of an identity-layout source into an
// identity-layout result as memref.reinterpret_cast with the result's sizes
// and row-major strides: upstream expand-strided-metadata (MLIR 22.1)
// crashes on an expand_shape with a dynamic output size, e.g.
//   memref.expand_shape %m [[0, 1]] output_shape [%a, %b]
//       : memref<?xf32> into memref<?x?xf32>
// which the neighborhood strategies leave for dynamic spatial extents.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEXPANDSHAPETOREINTERPRETCAST
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct ExpandShapeToReinterpretCastPass
    : mlir::attn::impl::AttnExpandShapeToReinterpretCastBase<
          ExpandShapeToReinterpretCastPass> {
  void runOnOperation() override {
    SmallVector<memref::ExpandShapeOp> ops;
    getOperation()->walk([&](memref::ExpandShapeOp op) {
      if (op.getSrcType().getLayout().isIdentity() &&
          op.getResultType().getLayout().isIdentity() &&
          !op.getResultType().hasStaticShape())
        ops.push_back(op);
    });
    for (memref::ExpandShapeOp op : ops) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      MemRefType type = op.getResultType();
      SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
      SmallVector<OpFoldResult> strides(sizes.size());
      OpFoldResult stride = b.getIndexAttr(1);
      for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
        strides[d] = stride;
        std::optional<int64_t> s = getConstantIntValue(stride);
        std::optional<int64_t> n = getConstantIntValue(sizes[d]);
        if (s && n) {
          stride = b.getIndexAttr(*s * *n);
          continue;
        }
        Value sv = getValueOrCreateConstantIndexOp(b, loc, stride);
        Value nv = getValueOrCreateConstantIndexOp(b, loc, sizes[d]);
        stride = arith::MulIOp::create(b, loc, sv, nv).getResult();
      }
      // Where the type's stride is dynamic, so must the operand be.
      auto [typeStrides, typeOffset] = type.getStridesAndOffset();
      for (size_t d = 0; d < strides.size(); ++d)
        if (ShapedType::isDynamic(typeStrides[d]) && isa<Attribute>(strides[d]))
          strides[d] = getValueOrCreateConstantIndexOp(b, loc, strides[d]);
      Value cast = memref::ReinterpretCastOp::create(
          b, loc, type, op.getSrc(), b.getIndexAttr(0), sizes, strides);
      op.replaceAllUsesWith(cast);
      op.erase();
    }
  }
};
} // namespace
