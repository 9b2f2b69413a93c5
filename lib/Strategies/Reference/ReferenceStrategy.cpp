//===- ReferenceStrategy.cpp - The materialized oracle
//---------------------===//
//
// Rewrites attn.attention and attn.neighborhood (and, in
// ReferenceBackward.cpp, attn.attention_backward) into linalg.generic ops on
// tensors that materialize the whole score matrix, one step of the definition
// per op:
//   S = q . k (or phi(scale q) . phi(k))       [B, Hkv, G, Lq, Lk]
//   W = weight(scale S + bias, softcap) where allowed, else -inf / 0
//   softmax only: M = max_j W; W = exp(W - M) where W > -inf, else 0
//   Z = sum_j W (normalized scores)
// score_mod rewrites each score after softcap, mask_mod joins the allowed
// rule (both inlined into the generic bodies, ModRegions.h), and sink
// logits join M and Z.
//   O = sum_j W v over allowed keys, then O / Z (0 where Z == 0)
//   return_lse: LSE = ln 2 (M + log2 Z) (-inf where no key is allowed)
//   return_entropy: H = -sum_j (W / Z) ln(W / Z) over W > 0
// Query heads are split as [Hkv, G] so that each KV head's group of query
// heads reads it (GQA). A neighborhood op is flattened to one sequence
// dimension and uses NATTEN's rule as its allowed set. This is the oracle
// every other strategy is tested against: plain, not fast.
//
//===----------------------------------------------------------------------===//

#include "ReferenceBuilder.h"
#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

#define DEBUG_TYPE "attn-strategy-reference"

using namespace mlir;
using namespace mlir::attn;

using namespace mlir::attn::reference;

Value ReferenceBuilder::flatten(Value tensor) {
  if (!p.isNeighborhood)
    return tensor;
  int64_t rank = cast<RankedTensorType>(tensor.getType()).getRank();
  return tensor::CollapseShapeOp::create(
      b, loc, tensor, spatialPositionGroups(p.queryShape.size(), rank));
}

Value ReferenceBuilder::unflatten(Value tensor, Type type) {
  if (!p.isNeighborhood)
    return tensor;
  auto tensorType = cast<RankedTensorType>(type);
  int64_t spatialRank = p.queryShape.size();
  SmallVector<OpFoldResult> flatSizes = tensor::getMixedSizes(b, loc, tensor);
  SmallVector<OpFoldResult> querySizes = tensor::getMixedSizes(b, loc, p.query);
  SmallVector<OpFoldResult> sizes = {flatSizes[0], flatSizes[1]};
  sizes.append(querySizes.begin() + 2, querySizes.begin() + 2 + spatialRank);
  if (tensorType.getRank() > 2 + spatialRank)
    sizes.push_back(flatSizes.back());
  return tensor::ExpandShapeOp::create(
      b, loc, tensorType, tensor,
      spatialPositionGroups(spatialRank, tensorType.getRank()), sizes);
}

Value ReferenceBuilder::splitHeads(Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<OpFoldResult> shape = tensor::getMixedSizes(b, loc, tensor);
  int64_t group = p.groupSize();
  SmallVector<OpFoldResult> newShape = {shape[0], b.getIndexAttr(p.headsKV),
                                        b.getIndexAttr(group)};
  SmallVector<int64_t> staticShape = {type.getDimSize(0), p.headsKV, group};
  SmallVector<ReassociationIndices> groups = {{0}, {1, 2}};
  for (int64_t d = 2; d < type.getRank(); ++d) {
    newShape.push_back(shape[d]);
    staticShape.push_back(type.getDimSize(d));
    groups.push_back({d + 1});
  }
  auto newType = RankedTensorType::get(staticShape, type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, newType, tensor, groups,
                                       newShape);
}

AffineMap ReferenceBuilder::broadcastMap(Value operand, unsigned dims) {
  auto type = cast<RankedTensorType>(operand.getType());
  MLIRContext *ctx = b.getContext();
  AffineExpr batch = type.getDimSize(0) == 1 ? getAffineConstantExpr(0, ctx)
                                             : getAffineDimExpr(0, ctx);
  AffineExpr head =
      type.getDimSize(1) == 1
          ? getAffineConstantExpr(0, ctx)
          : getAffineDimExpr(1, ctx) * p.groupSize() + getAffineDimExpr(2, ctx);
  return map(dims, {batch, head, getAffineDimExpr(3, ctx),
                    getAffineDimExpr(4, ctx)});
}

void ReferenceBuilder::appendMaskAndBias(SmallVectorImpl<Value> &inputs,
                                         SmallVectorImpl<AffineMap> &maps) {
  for (Value operand : {p.mask, p.bias}) {
    if (!operand)
      continue;
    inputs.push_back(operand);
    maps.push_back(broadcastMap(operand, 5));
  }
}

Value ReferenceBuilder::allowedInBody(OpBuilder &nb, Location l, unsigned iDim,
                                      unsigned jDim, Value maskElement) {
  Value i = linalg::IndexOp::create(nb, l, iDim);
  Value j = linalg::IndexOp::create(nb, l, jDim);
  Value allowed = buildAllowedPredicate(nb, l, p, sizes, i, j);
  if (maskElement)
    allowed = allowed ? arith::AndIOp::create(nb, l, allowed, maskElement)
                            .getResult()
                      : maskElement;
  if (p.maskMod)
    allowed = applyMaskMod(nb, l, p, allowed, linalg::IndexOp::create(nb, l, 0),
                           queryHeadInBody(nb, l),
                           modPositionsInBody(nb, l, iDim, jDim));
  return allowed;
}

Value ReferenceBuilder::queryHeadInBody(OpBuilder &nb, Location l) {
  Value hk = linalg::IndexOp::create(nb, l, 1);
  Value g = linalg::IndexOp::create(nb, l, 2);
  Value groupSize = arith::ConstantIndexOp::create(nb, l, p.groupSize());
  return arith::AddIOp::create(nb, l,
                               arith::MulIOp::create(nb, l, hk, groupSize), g);
}

SmallVector<Value> ReferenceBuilder::modPositionsInBody(OpBuilder &nb,
                                                        Location l,
                                                        unsigned iDim,
                                                        unsigned jDim) {
  return modPositions(nb, l, p, sizes.queryShape,
                      linalg::IndexOp::create(nb, l, iDim),
                      linalg::IndexOp::create(nb, l, jDim));
}

Value ReferenceBuilder::withSink(
    ValueRange rows,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(ctx, d0, d1, d2, d3);
  auto rowMap = map(4, {d0, d1, d2, d3});
  SmallVector<Value> inputs(rows);
  inputs.push_back(p.sinkLogits);
  SmallVector<AffineMap> maps(rows.size(), rowMap);
  maps.push_back(map(4, {d1 * p.groupSize() + d2}));
  maps.push_back(rowMap);
  const ScoreFunction &function = *p.score.getFunction();
  return linalg::GenericOp::create(
             b, loc, TypeRange{rows.front().getType()}, inputs,
             ValueRange{tensor::EmptyOp::create(
                 b, loc, tensor::getMixedSizes(b, loc, rows.front()), f32)},
             maps, SmallVector<IteratorType>(4, IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               // The sink logit in the domain of the scores.
               Value sink = args[rows.size()];
               if (function.scoresInLog2Domain())
                 sink = arith::MulFOp::create(
                     nb, l, sink,
                     arith::ConstantOp::create(
                         nb, l, nb.getF32FloatAttr(1.4426950408889634)));
               linalg::YieldOp::create(
                   nb, l,
                   ValueRange{combine(nb, l, args.take_front(rows.size()),
                                      sink)});
             })
      .getResult(0);
}

Value ReferenceBuilder::withSinkInMax(Value rowMax) {
  if (!p.sinkLogits)
    return rowMax;
  return withSink(rowMax, [](OpBuilder &nb, Location l, ValueRange row,
                             Value sink) -> Value {
    return arith::MaximumFOp::create(nb, l, row[0], sink);
  });
}

Value ReferenceBuilder::withSinkInSum(Value rowSum, Value rowMax) {
  if (!p.sinkLogits)
    return rowSum;
  const ScoreFunction &function = *p.score.getFunction();
  return withSink(ValueRange{rowSum, rowMax},
                  [&](OpBuilder &nb, Location l, ValueRange row,
                      Value sink) -> Value {
                    Value w = function.weight(
                        nb, l, sink, function.rowReference(nb, l, row[1]));
                    return arith::AddFOp::create(nb, l, row[0], w);
                  });
}

ReferenceBuilder::FormedScore ReferenceBuilder::formScore(OpBuilder &nb,
                                                          Location l, Value dot,
                                                          Value maskElement,
                                                          Value biasElement,
                                                          bool derivative) {
  auto cst = [&](double v) -> Value {
    return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
  };
  Value s = arith::MulFOp::create(nb, l, dot, cst(p.scale));
  if (biasElement)
    s = arith::AddFOp::create(nb, l, s, toF32(nb, l, biasElement));
  // score_mod (with `derivative`, and its derivative) only at allowed
  // pairs: a table the mod reads may cover only those (NATTEN's relative
  // positional bias). (linalg.index only directly in the generic's body.)
  auto modWhereAllowed = [&](Value x) -> SmallVector<Value> {
    Value batchIndex = linalg::IndexOp::create(nb, l, 0);
    Value head = queryHeadInBody(nb, l);
    SmallVector<Value> positions = modPositionsInBody(nb, l, 3, 4);
    auto modified = [&](OpBuilder &mb, Location ml) -> SmallVector<Value> {
      if (!derivative)
        return {applyScoreMod(mb, ml, p, x, batchIndex, head, positions)};
      auto [score, tangent] = applyScoreModWithDerivative(
          mb, ml, p, x, batchIndex, head, positions);
      return {score, tangent};
    };
    Value allowedHere = allowedInBody(nb, l, 3, 4, maskElement);
    if (!allowedHere)
      return modified(nb, l);
    SmallVector<Value> unmodified = {x};
    if (derivative)
      unmodified.push_back(cst(1.0));
    auto ifOp = scf::IfOp::create(
        nb, l, allowedHere,
        [&](OpBuilder &tb, Location tl) {
          scf::YieldOp::create(tb, tl, modified(tb, tl));
        },
        [&](OpBuilder &eb, Location el) {
          scf::YieldOp::create(eb, el, unmodified);
        });
    return SmallVector<Value>(ifOp.getResults());
  };
  AttentionAlgebra algebra(nb, l, p);
  if (!derivative) {
    s = algebra.softcap(s).first;
    return {p.scoreMod ? modWhereAllowed(s).front() : s, Value()};
  }
  auto scoreMod = [&](Value x) -> std::pair<Value, Value> {
    SmallVector<Value> modded = modWhereAllowed(x);
    return {modded[0], modded[1]};
  };
  auto [score, ds] = algebra.scoreAndDerivative(
      s, p.scoreMod ? function_ref<std::pair<Value, Value>(Value)>(scoreMod)
                    : nullptr);
  return {score, ds};
}

Value ReferenceBuilder::mergeHeads(Value tensor) {
  auto rank = cast<RankedTensorType>(tensor.getType()).getRank();
  SmallVector<ReassociationIndices> groups = {{0}, {1, 2}};
  for (int64_t d = 3; d < rank; ++d)
    groups.push_back({d});
  return tensor::CollapseShapeOp::create(b, loc, tensor, groups);
}

Value ReferenceBuilder::convertTo(Value tensor, Value init) {
  auto type = cast<RankedTensorType>(init.getType());
  Type element = type.getElementType();
  if (element == cast<RankedTensorType>(tensor.getType()).getElementType())
    return tensor;
  AffineMap identity =
      AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext());
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{tensor}, ValueRange{init},
             ArrayRef<AffineMap>{identity, identity},
             SmallVector<IteratorType>(type.getRank(), IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l,
                                       ValueRange{arith::TruncFOp::create(
                                           nb, l, element, args[0])});
             })
      .getResult(0);
}

Value ReferenceBuilder::dotScores(Value query, Value key) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3, d4, d5;
  bindDims(ctx, d0, d1, d2, d3, d4, d5);
  auto par = IteratorType::parallel, red = IteratorType::reduction;
  ScoreAttr score = p.score;
  bool featureProduct = score.isFeatureProduct();
  float scale = p.scale;
  auto queryType = cast<RankedTensorType>(query.getType());
  SmallVector<int64_t> scoreShape(queryType.getShape().take_front(4));
  scoreShape.push_back(cast<RankedTensorType>(key.getType()).getDimSize(2));
  auto scoreType = RankedTensorType::get(scoreShape, f32);

  // S[b, hk, g, i, j] = sum_d q[b, hk, g, i, d] * k[b, hk, j, d].
  return linalg::GenericOp::create(
             b, loc, TypeRange{scoreType}, ValueRange{query, key},
             ValueRange{filledTensor(scoreSizes, 0.0)},
             ArrayRef<AffineMap>{map(6, {d0, d1, d2, d3, d5}),
                                 map(6, {d0, d1, d4, d5}),
                                 map(6, {d0, d1, d2, d3, d4})},
             ArrayRef<IteratorType>{par, par, par, par, par, red},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value qv = toF32(nb, l, args[0]), kv = toF32(nb, l, args[1]);
               if (featureProduct) {
                 // phi(scale * q) . phi(k)
                 Value s = arith::ConstantOp::create(nb, l,
                                                     nb.getF32FloatAttr(scale));
                 qv = arith::MulFOp::create(nb, l, qv, s);
                 auto phi = [&](Value x) {
                   return score.getFunction()->featureMap(nb, l, x);
                 };
                 qv = phi(qv);
                 kv = phi(kv);
               }
               Value product = arith::MulFOp::create(nb, l, qv, kv);
               linalg::YieldOp::create(
                   nb, l,
                   ValueRange{arith::AddFOp::create(nb, l, args[2], product)});
             })
      .getResult(0);
}

SmallVector<Value> ReferenceBuilder::build() {
  MLIRContext *ctx = b.getContext();
  sizes = getProblemSizes(b, loc, p);
  Value query = splitHeads(flatten(p.query));
  Value key = flatten(p.key);
  Value value = flatten(p.value);
  Value init = splitHeads(flatten(p.init));

  SmallVector<OpFoldResult> qSizes = tensor::getMixedSizes(b, loc, query);
  SmallVector<OpFoldResult> kSizes = tensor::getMixedSizes(b, loc, key);
  scoreSizes = {qSizes[0], qSizes[1], qSizes[2], qSizes[3], kSizes[2]};
  SmallVector<OpFoldResult> rowSizes(scoreSizes.begin(),
                                     scoreSizes.begin() + 4);

  AffineExpr d0, d1, d2, d3, d4, d5;
  bindDims(ctx, d0, d1, d2, d3, d4, d5);
  auto par = IteratorType::parallel, red = IteratorType::reduction;
  ScoreAttr score = p.score;
  bool featureProduct = score.isFeatureProduct();

  Value scores = dotScores(query, key);
  auto scoreType = cast<RankedTensorType>(scores.getType());
  // W: weights before normalization, masked.
  SmallVector<Value> weightInputs = {scores};
  SmallVector<AffineMap> weightMaps = {map(5, {d0, d1, d2, d3, d4})};
  appendMaskAndBias(weightInputs, weightMaps);
  weightMaps.push_back(map(5, {d0, d1, d2, d3, d4}));
  // Softmax and softplus keep the scores (-inf where masked) for a row max;
  // other scores become their weights here (0 where masked).
  const ScoreFunction &function = *score.getFunction();
  bool tracksMax = score.tracksRowMax();
  double masked = tracksMax ? -std::numeric_limits<double>::infinity() : 0.0;
  bool hasMask = static_cast<bool>(p.mask), hasBias = static_cast<bool>(p.bias);
  Value weights =
      linalg::GenericOp::create(
          b, loc, TypeRange{scoreType}, weightInputs,
          ValueRange{tensor::EmptyOp::create(b, loc, scoreSizes, f32)},
          weightMaps, SmallVector<IteratorType>(5, par),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            auto cst = [&](double v) -> Value {
              return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
            };
            Value s = args[0];
            unsigned next = 1;
            Value maskElement = hasMask ? args[next++] : Value();
            Value biasElement = hasBias ? args[next++] : Value();
            Value weight;
            if (featureProduct) {
              weight = s;
            } else {
              s = formScore(nb, l, s, maskElement, biasElement, false).score;
              // Kernel scores weigh here; the others after the row max, in
              // the log2 domain where their function takes it.
              if (!tracksMax)
                weight = function.weight(nb, l, s, Value());
              else if (function.scoresInLog2Domain())
                weight =
                    arith::MulFOp::create(nb, l, s, cst(1.4426950408889634));
              else
                weight = s;
            }
            Value allowed = allowedInBody(nb, l, 3, 4, maskElement);
            if (allowed)
              weight = arith::SelectOp::create(nb, l, allowed, weight,
                                               cst(masked));
            linalg::YieldOp::create(nb, l, ValueRange{weight});
          })
          .getResult(0);

  auto rowType = RankedTensorType::get(scoreType.getShape().drop_back(), f32);
  auto reduceRows = [&](Value input, double initValue, bool isMax) -> Value {
    return linalg::GenericOp::create(
               b, loc, TypeRange{rowType}, ValueRange{input},
               ValueRange{filledTensor(rowSizes, initValue)},
               ArrayRef<AffineMap>{map(5, {d0, d1, d2, d3, d4}),
                                   map(5, {d0, d1, d2, d3})},
               ArrayRef<IteratorType>{par, par, par, par, red},
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value r =
                     isMax ? arith::MaximumFOp::create(nb, l, args[0], args[1])
                                 .getResult()
                           : arith::AddFOp::create(nb, l, args[0], args[1])
                                 .getResult();
                 linalg::YieldOp::create(nb, l, ValueRange{r});
               })
        .getResult(0);
  };

  Value rowMax;
  if (tracksMax) {
    // The weights relative to the reference point of the row's maximum
    // (ScoreFunction::rowReference; softmax: W = 2^(W - max_j W) of the
    // log2-domain scores; softplus: W = softplus(W) 2^-c with c =
    // min(max_j W log2(e), 0)); 0 where W is -inf (masked).
    rowMax = withSinkInMax(
        reduceRows(weights, -std::numeric_limits<double>::infinity(), true));
    weights =
        linalg::GenericOp::create(
            b, loc, TypeRange{scoreType}, ValueRange{weights, rowMax},
            ValueRange{tensor::EmptyOp::create(b, loc, scoreSizes, f32)},
            ArrayRef<AffineMap>{map(5, {d0, d1, d2, d3, d4}),
                                map(5, {d0, d1, d2, d3}),
                                map(5, {d0, d1, d2, d3, d4})},
            SmallVector<IteratorType>(5, par),
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value negInf = arith::ConstantOp::create(
                  nb, l,
                  nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
              Value zero =
                  arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0));
              Value isMasked = arith::CmpFOp::create(
                  nb, l, arith::CmpFPredicate::OEQ, args[0], negInf);
              Value e = function.weight(nb, l, args[0],
                                        function.rowReference(nb, l, args[1]));
              linalg::YieldOp::create(
                  nb, l,
                  ValueRange{arith::SelectOp::create(nb, l, isMasked, zero, e)});
            })
            .getResult(0);
  }
  bool normalize = score.getNormalize();
  // The sum over keys alone (0: no allowed key), then with the sink.
  Value keySum =
      normalize || p.returnLse ? reduceRows(weights, 0.0, false) : Value();
  Value rowSum = keySum ? withSinkInSum(keySum, rowMax) : Value();

  // O[b, hk, g, i, e] = sum_j (allowed ? W v : 0).
  auto valueType = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> outSizes = rowSizes;
  outSizes.push_back(b.getIndexAttr(p.valueDim));
  SmallVector<int64_t> outShape(rowType.getShape());
  outShape.push_back(valueType.getDimSize(3));
  auto outType = RankedTensorType::get(outShape, f32);
  // Loop dims: (b, hk, g, i, j, e) so that i and j sit where the allowed
  // predicate expects them.
  SmallVector<Value> pvInputs = {weights, value};
  SmallVector<AffineMap> pvMaps = {map(6, {d0, d1, d2, d3, d4}),
                                   map(6, {d0, d1, d4, d5})};
  if (p.mask) {
    pvInputs.push_back(p.mask);
    pvMaps.push_back(broadcastMap(p.mask, 6));
  }
  pvMaps.push_back(map(6, {d0, d1, d2, d3, d5}));
  Value weighted =
      linalg::GenericOp::create(
          b, loc, TypeRange{outType}, pvInputs,
          ValueRange{filledTensor(outSizes, 0.0)}, pvMaps,
          ArrayRef<IteratorType>{par, par, par, par, red, par},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value product = arith::MulFOp::create(nb, l, args[0],
                                                  toF32(nb, l, args[1]));
            Value sum = arith::AddFOp::create(nb, l, args.back(), product);
            // Keys that are not allowed are never read: a NaN in their value
            // row must not reach this query.
            Value allowed =
                allowedInBody(nb, l, 3, 4, hasMask ? args[2] : Value());
            if (allowed)
              sum = arith::SelectOp::create(nb, l, allowed, sum, args.back());
            linalg::YieldOp::create(nb, l, ValueRange{sum});
          })
          .getResult(0);

  // result = Z == 0 ? 0 : O / Z (or O unnormalized), in the result type.
  SmallVector<Value> finalInputs = {weighted};
  SmallVector<AffineMap> finalMaps = {map(5, {d0, d1, d2, d3, d4})};
  if (normalize) {
    finalInputs.push_back(rowSum);
    finalMaps.push_back(map(5, {d0, d1, d2, d3}));
  }
  finalMaps.push_back(map(5, {d0, d1, d2, d3, d4}));
  Type elementType = p.elementType;
  Value result =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, finalInputs, ValueRange{init},
          finalMaps, SmallVector<IteratorType>(5, par),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value out = args[0];
            if (normalize) {
              Value zero =
                  arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0));
              Value empty = arith::CmpFOp::create(
                  nb, l, arith::CmpFPredicate::OEQ, args[1], zero);
              out = arith::SelectOp::create(
                  nb, l, empty, zero,
                  arith::DivFOp::create(nb, l, out, args[1]));
            }
            if (elementType != nb.getF32Type())
              out = arith::TruncFOp::create(nb, l, elementType, out);
            linalg::YieldOp::create(nb, l, ValueRange{out});
          })
          .getResult(0);

  // [B, Hkv, G, L, Dv] -> [B, Hq, L, Dv] -> the op's result shape.
  Value merged = mergeHeads(result);
  {
    SmallVector<Value> results = {merged};
    // Row statistics: [B, Hkv, G, L] -> [B, Hq, L].
    auto rowMaps = SmallVector<AffineMap>(4, map(4, {d0, d1, d2, d3}));
    if (p.returnLse)
      results.push_back(mergeHeads(
          linalg::GenericOp::create(
              b, loc, TypeRange{rowType}, ValueRange{keySum, rowSum, rowMax},
              ValueRange{tensor::EmptyOp::create(b, loc, rowSizes, f32)},
              rowMaps, SmallVector<IteratorType>(4, par),
              [&](OpBuilder &nb, Location l, ValueRange args) {
                auto cst = [&](double v) -> Value {
                  return arith::ConstantOp::create(nb, l,
                                                   nb.getF32FloatAttr(v));
                };
                // M is in the log2 domain: ln Z' = ln 2 (M + log2 Z).
                Value lse = arith::MulFOp::create(
                    nb, l,
                    arith::AddFOp::create(nb, l, args[2],
                                          math::Log2Op::create(nb, l, args[1])),
                    cst(std::log(2.0)));
                Value none = arith::CmpFOp::create(
                    nb, l, arith::CmpFPredicate::OEQ, args[0], cst(0.0));
                linalg::YieldOp::create(
                    nb, l,
                    ValueRange{arith::SelectOp::create(
                        nb, l, none,
                        cst(-std::numeric_limits<double>::infinity()), lse)});
              })
              .getResult(0)));
    if (p.returnEntropy)
      results.push_back(mergeHeads(
          linalg::GenericOp::create(
              b, loc, TypeRange{rowType}, ValueRange{weights, rowSum},
              ValueRange{filledTensor(rowSizes, 0.0)},
              ArrayRef<AffineMap>{map(5, {d0, d1, d2, d3, d4}),
                                  map(5, {d0, d1, d2, d3}),
                                  map(5, {d0, d1, d2, d3})},
              ArrayRef<IteratorType>{par, par, par, par, red},
              [&](OpBuilder &nb, Location l, ValueRange args) {
                // H -= w ln w for each key with weight w = W / Z > 0.
                Value zero =
                    arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0));
                Value w = arith::DivFOp::create(nb, l, args[0], args[1]);
                Value term = arith::MulFOp::create(
                    nb, l, w, math::LogOp::create(nb, l, w));
                Value positive = arith::CmpFOp::create(
                    nb, l, arith::CmpFPredicate::OGT, args[0], zero);
                linalg::YieldOp::create(
                    nb, l,
                    ValueRange{arith::SelectOp::create(
                        nb, l, positive,
                        arith::SubFOp::create(nb, l, args[2], term), args[2])});
              })
              .getResult(0)));
    // A neighborhood's results back to its spatial shape.
    for (auto [value, type] : llvm::zip_equal(results, p.op->getResultTypes()))
      value = unflatten(value, type);
    return results;
  }
}

namespace {

class ReferenceStrategy final : public Strategy {
public:
  StringRef getName() const override { return "reference"; }
  StringRef getDescription() const override {
    return "materializes the score matrix with linalg ops; the oracle";
  }
  bool knowsRowStatistics() const override { return true; }
  bool isApplicable(Operation *op, const TargetDescription &,
                    std::string &) const override {
    return isAttnOp(op);
  }
  CostEstimate estimateCost(Operation *op, const TargetDescription &target,
                            StrategyAttr) const override {
    AttentionProblem p = AttentionProblem::get(op);
    auto known = [](int64_t size, int64_t fallback) {
      return ShapedType::isDynamic(size) ? fallback : size;
    };
    double batch = known(p.batch, 1);
    double lq = known(p.queryLength(), 1024), lk = known(p.keyLength(), 1024);
    double pairs = batch * p.headsQ * lq * lk;
    CostEstimate cost;
    // Both contractions over every pair, plus ~10 elementwise steps.
    cost.flops = pairs * (2.0 * p.headDim + 2.0 * p.valueDim + 10.0);
    if (p.isBackward) // q.k, dO.v, dV, dK and dQ
      cost.flops = pairs * (6.0 * p.headDim + 4.0 * p.valueDim + 10.0);
    // Five passes over the f32 score matrix.
    cost.bytes = pairs * 4.0 * 5.0;
    cost.extraBytes = pairs * 4.0 * 3.0;
    cost.parallelism = 1; // scalar loops on one thread
    // Scalar code: one lane of one FMA port. On a GPU target the linalg ops
    // still run on the host, so the host's peak applies.
    cost.efficiency = 1.0 / (target.vectorBits / 32.0 * 2.0);
    if (target.kind == TargetDescription::Kind::GPU) {
      TargetDescription host = TargetDescription::host();
      cost.efficiency = 1.0 / (host.vectorBits / 32.0 * 2.0) *
                        host.peakFlops() / target.peakFlops();
    }
    return cost;
  }
  LogicalResult apply(RewriterBase &rewriter, Operation *op, StrategyAttr,
                      const TargetDescription &) const override {
    AttentionProblem problem = AttentionProblem::get(op);
    ATTN_DEBUG(ATTN_DBGS() << "materializes the scores of '" << op->getName()
                           << "' at " << op->getLoc() << "\n");
    rewriter.setInsertionPoint(op);
    ReferenceBuilder builder(rewriter, problem);
    rewriter.replaceOp(op, problem.isBackward ? builder.buildBackward()
                                              : builder.build());
    return success();
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createReferenceStrategy() {
  return std::make_unique<ReferenceStrategy>();
}
