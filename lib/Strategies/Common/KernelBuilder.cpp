//===- KernelBuilder.cpp - Shorthands for emitting kernels ----------------===//
//
// See KernelBuilder.h: the out-of-line helpers.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;

Value mlir::attn::generateTensor(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynamicSizes,
    function_ref<Value(OpBuilder &, Location, ValueRange)> element) {
  Value empty = tensor::EmptyOp::create(b, loc, type, dynamicSizes);
  int64_t rank = type.getRank();
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{}, ValueRange{empty},
             ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               // `b` itself builds the body: emitters build through their
               // own builder.
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPoint(nb.getInsertionBlock(),
                                   nb.getInsertionPoint());
               SmallVector<Value> indices;
               for (int64_t d = 0; d < rank; ++d)
                 indices.push_back(linalg::IndexOp::create(b, l, d));
               linalg::YieldOp::create(b, l, element(b, l, indices));
             })
      .getResult(0);
}
