//===- ReferenceBuilder.h - The materialized oracle's builder ---*- C++ -*-===//
//
// The reference strategy's builder, shared by its forward
// (ReferenceStrategy.cpp) and backward (ReferenceBackward.cpp): linalg
// generics on tensors over split heads [B, Hkv, G, ...], one step of the
// definition per op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_STRATEGIES_REFERENCE_REFERENCEBUILDER_H
#define ATTN_LIB_STRATEGIES_REFERENCE_REFERENCEBUILDER_H

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/MaskRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn::reference {

using utils::IteratorType;

/// Builds the reference computation of one attn op.
class ReferenceBuilder {
public:
  ReferenceBuilder(RewriterBase &rewriter, const AttentionProblem &problem)
      : b(rewriter), loc(problem.op->getLoc()), p(problem),
        f32(b.getF32Type()) {}

  /// The op's results: the output, then its LSE and entropy when asked.
  SmallVector<Value> build();
  /// attn.attention_backward's results: dQ, dK, dV, then dBias and dSink
  /// when those operands are present (ReferenceBackward.cpp).
  SmallVector<Value> buildBackward();

private:
  /// S[b, hk, g, i, j] = sum_d q[b, hk, g, i, d] k[b, hk, j, d] (or the
  /// feature maps' product) of split-head `query` and `key`.
  Value dotScores(Value query, Value key);
  /// A score formed from its dot product inside a generic body whose loops
  /// are (b, hk, g, i, j, ...): scale, bias, softcap, then score_mod at
  /// allowed pairs. With `derivative`, also d score / d (scale dot + bias).
  struct FormedScore {
    Value score, derivative;
  };
  FormedScore formScore(OpBuilder &nb, Location l, Value dot, Value maskElement,
                        Value biasElement, bool derivative);
  /// [B, Hkv, G, L, X] -> [B, Hq, L, X] (or [.., L] -> [B, Hq, L]).
  Value mergeHeads(Value tensor);
  /// `tensor` (f32) converted to `type`'s element type by a generic.
  Value convertTo(Value tensor, Value init);

  // Generic helpers.
  Value constF(double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
  Value toF32(OpBuilder &nb, Location l, Value value) {
    if (value.getType() == nb.getF32Type())
      return value;
    return arith::ExtFOp::create(nb, l, nb.getF32Type(), value);
  }
  Value filledTensor(ArrayRef<OpFoldResult> sizes, double value) {
    Value empty = tensor::EmptyOp::create(b, loc, sizes, f32);
    return linalg::FillOp::create(b, loc, ValueRange{constF(value)},
                                  ValueRange{empty})
        .getResult(0);
  }
  AffineMap map(unsigned dims, ArrayRef<AffineExpr> results) {
    return AffineMap::get(dims, 0, results, b.getContext());
  }

  /// Flattens the spatial dimensions of a neighborhood operand (or of its
  /// per-query rows, [B, H, spatial...]) to one.
  Value flatten(Value tensor);
  /// A flattened result of a neighborhood op back to the op's `type`,
  /// spatial sizes from the query.
  Value unflatten(Value tensor, Type type);
  /// [B, Hq, L, X] -> [B, Hkv, G, L, X] (or [B, Hq, L] -> [B, Hkv, G, L]).
  Value splitHeads(Value tensor);
  /// Indexing map of the mask/bias operand over the 5-D loop dims
  /// (b, hk, g, i, j) starting at dimension `first` of a `dims`-dim space.
  AffineMap broadcastMap(Value operand, unsigned dims);
  /// The mask and the bias (those present, in that order) as inputs of a
  /// generic over (b, hk, g, i, j), with their broadcast maps.
  void appendMaskAndBias(SmallVectorImpl<Value> &inputs,
                         SmallVectorImpl<AffineMap> &maps);
  /// The i1 "allowed" value inside a generic body whose loops include i at
  /// `iDim` and j at `jDim`; `maskElement` is the mask operand's element.
  Value allowedInBody(OpBuilder &nb, Location l, unsigned iDim, unsigned jDim,
                      Value maskElement);
  /// The query head of a generic body whose loops start (b, hk, g).
  Value queryHeadInBody(OpBuilder &nb, Location l);
  /// The positions the mods take in a generic body with i at `iDim` and j
  /// at `jDim`.
  SmallVector<Value> modPositionsInBody(OpBuilder &nb, Location l,
                                        unsigned iDim, unsigned jDim);
  /// With sink logits: the row maxima raised to each row's sink logit
  /// (rowMax), or the row sums plus the sink's weight (rowSum).
  Value withSinkInMax(Value rowMax);
  Value withSinkInSum(Value rowSum, Value rowMax);
  /// A linalg.generic over rows [B, Hkv, G, Lq] of `rows` and each row's
  /// sink logit (in the domain of the scores) that yields combine(rows,
  /// sink), of the type of rows[0].
  Value withSink(
      ValueRange rows,
      function_ref<Value(OpBuilder &, Location, ValueRange, Value)> combine);

  RewriterBase &b;
  Location loc;
  const AttentionProblem &p;
  Type f32;
  ProblemSizes sizes;
  SmallVector<OpFoldResult> scoreSizes; // [B, Hkv, G, Lq, Lk]
};

} // namespace mlir::attn::reference

#endif // ATTN_LIB_STRATEGIES_REFERENCE_REFERENCEBUILDER_H
