//===- ReferenceBackward.cpp - The materialized oracle of the backward ----===//
//
// attn.attention_backward by the reference strategy: linalg generics on
// tensors that materialize the score matrix again, one step per op:
//   S = q . k                                   [B, Hkv, G, Lq, Lk]
//   D = sum_e dO O                              [B, Hkv, G, Lq]
//   dP = dO . v
//   P = exp(s - LSE) where allowed (s formed as the forward forms it),
//   dS = P (dP - D) d s / d (scale S + bias), 0 where not allowed
//   dV = sum_{g,i} P dO,  dK = scale sum_{g,i} dS q,  dQ = scale sum_j dS k
//   dBias = dS summed over the bias's broadcast dimensions
//   dSink_h = -sum_{b,i} exp(sink_h - LSE) D (rows with LSE = -inf: 0)
// The forward's score formation (scale, bias, softcap, score_mod) and
// allowed rule are ReferenceBuilder's, shared with the forward.
//
//===----------------------------------------------------------------------===//

#include "ReferenceBuilder.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::reference;

SmallVector<Value> ReferenceBuilder::buildBackward() {
  MLIRContext *ctx = b.getContext();
  sizes = getProblemSizes(b, loc, p);
  int64_t group = p.groupSize();
  // A neighborhood's positions flattened to one sequence.
  Value query = splitHeads(flatten(p.query));
  Value key = flatten(p.key), value = flatten(p.value);
  Value output = splitHeads(flatten(p.init));
  Value gradOutput = splitHeads(flatten(p.gradOutput));
  Value lse = splitHeads(flatten(p.lse));

  SmallVector<OpFoldResult> qSizes = tensor::getMixedSizes(b, loc, query);
  SmallVector<OpFoldResult> kSizes = tensor::getMixedSizes(b, loc, key);
  scoreSizes = {qSizes[0], qSizes[1], qSizes[2], qSizes[3], kSizes[2]};
  SmallVector<OpFoldResult> rowSizes(scoreSizes.begin(),
                                     scoreSizes.begin() + 4);
  auto withLast = [&](ArrayRef<OpFoldResult> prefix, int64_t last) {
    SmallVector<OpFoldResult> result(prefix);
    result.push_back(b.getIndexAttr(last));
    return result;
  };
  auto typeOf = [&](ArrayRef<OpFoldResult> shape) {
    SmallVector<int64_t> dims;
    for (OpFoldResult size : shape)
      dims.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
    return RankedTensorType::get(dims, f32);
  };

  AffineExpr d0, d1, d2, d3, d4, d5;
  bindDims(ctx, d0, d1, d2, d3, d4, d5);
  auto par = IteratorType::parallel, red = IteratorType::reduction;
  // A sum over the loops `iterators` into a zero-filled f32 tensor of
  // `outSizes`, of the products of `ins` (read as f32).
  auto sumOfProducts = [&](ValueRange ins, ArrayRef<AffineMap> inMaps,
                           ArrayRef<OpFoldResult> outSizes, AffineMap outMap,
                           ArrayRef<IteratorType> iterators) -> Value {
    SmallVector<AffineMap> maps(inMaps);
    maps.push_back(outMap);
    return linalg::GenericOp::create(
               b, loc, TypeRange{typeOf(outSizes)}, ins,
               ValueRange{filledTensor(outSizes, 0.0)}, maps, iterators,
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value product = toF32(nb, l, args[0]);
                 for (Value factor : args.drop_front().drop_back())
                   product = arith::MulFOp::create(nb, l, product,
                                                   toF32(nb, l, factor));
                 linalg::YieldOp::create(nb, l,
                                         ValueRange{arith::AddFOp::create(
                                             nb, l, args.back(), product)});
               })
        .getResult(0);
  };

  Value scores = dotScores(query, key);
  // D = rowsum(dO * O), dP = dO . v.
  Value rowDot = sumOfProducts(
      {gradOutput, output},
      {map(5, {d0, d1, d2, d3, d4}), map(5, {d0, d1, d2, d3, d4})}, rowSizes,
      map(5, {d0, d1, d2, d3}), {par, par, par, par, red});
  Value gradWeights = sumOfProducts(
      {gradOutput, value},
      {map(6, {d0, d1, d2, d3, d5}), map(6, {d0, d1, d4, d5})}, scoreSizes,
      map(6, {d0, d1, d2, d3, d4}), {par, par, par, par, par, red});

  // P, dS (with respect to S = q.k) and, with a bias, dS with respect to
  // the biased score.
  SmallVector<Value> ins = {scores, gradWeights, lse, rowDot};
  SmallVector<AffineMap> maps = {
      map(5, {d0, d1, d2, d3, d4}), map(5, {d0, d1, d2, d3, d4}),
      map(5, {d0, d1, d2, d3}), map(5, {d0, d1, d2, d3})};
  appendMaskAndBias(ins, maps);
  unsigned numOuts = p.bias ? 3 : 2;
  SmallVector<Value> outs;
  for (unsigned n = 0; n < numOuts; ++n) {
    outs.push_back(tensor::EmptyOp::create(b, loc, scoreSizes, f32));
    maps.push_back(map(5, {d0, d1, d2, d3, d4}));
  }
  bool hasMask = static_cast<bool>(p.mask), hasBias = static_cast<bool>(p.bias);
  float scale = p.scale;
  auto pointwise = linalg::GenericOp::create(
      b, loc, TypeRange(ValueRange(outs)), ins, outs, maps,
      SmallVector<IteratorType>(5, par),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        auto cst = [&](double v) -> Value {
          return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
        };
        unsigned next = 4;
        Value maskElement = hasMask ? args[next++] : Value();
        Value biasElement = hasBias ? args[next++] : Value();
        FormedScore formed =
            formScore(nb, l, args[0], maskElement, biasElement, true);
        AttentionAlgebra algebra(nb, l, p);
        Value weight =
            algebra.weightFromLse(formed.score, algebra.lseInLog2(args[2]));
        Value gradScore = arith::MulFOp::create(
            nb, l, weight, arith::SubFOp::create(nb, l, args[1], args[3]));
        Value gradBiased =
            arith::MulFOp::create(nb, l, gradScore, formed.derivative);
        Value gradDot = arith::MulFOp::create(nb, l, gradBiased, cst(scale));
        SmallVector<Value> results = {weight, gradDot};
        if (hasBias)
          results.push_back(gradBiased);
        // Pairs that are not allowed have no weight and no gradient (even
        // where their value row or score is not finite).
        if (Value allowed = allowedInBody(nb, l, 3, 4, maskElement))
          for (Value &result : results)
            result = arith::SelectOp::create(nb, l, allowed, result, cst(0.0));
        linalg::YieldOp::create(nb, l, results);
      });
  Value weights = pointwise.getResult(0);
  Value gradDot = pointwise.getResult(1);

  // dV[b, hk, j, e] = sum_{g,i} P dO; dK[b, hk, j, d] = sum_{g,i} dS q;
  // dQ[b, hk, g, i, d] = sum_j dS k.
  SmallVector<OpFoldResult> kvRows = {kSizes[0], kSizes[1], kSizes[2]};
  Value gradValue = sumOfProducts(
      {weights, gradOutput},
      {map(6, {d0, d1, d4, d5, d2}), map(6, {d0, d1, d4, d5, d3})},
      withLast(kvRows, p.valueDim), map(6, {d0, d1, d2, d3}),
      {par, par, par, par, red, red});
  Value gradKey = sumOfProducts(
      {gradDot, query},
      {map(6, {d0, d1, d4, d5, d2}), map(6, {d0, d1, d4, d5, d3})},
      withLast(kvRows, p.headDim), map(6, {d0, d1, d2, d3}),
      {par, par, par, par, red, red});
  Value gradQuery = mergeHeads(sumOfProducts(
      {gradDot, key}, {map(6, {d0, d1, d2, d3, d5}), map(6, {d0, d1, d5, d4})},
      withLast(rowSizes, p.headDim), map(6, {d0, d1, d2, d3, d4}),
      {par, par, par, par, par, red}));

  SmallVector<Value> results;
  for (auto [n, gradient] :
       llvm::enumerate(SmallVector<Value>{gradQuery, gradKey, gradValue})) {
    Value init = p.gradInits[n];
    results.push_back(
        unflatten(convertTo(gradient, flatten(init)), init.getType()));
  }
  if (p.bias) {
    // Sum dS over the dimensions the bias broadcasts (size 1 where the
    // scores have more), keeping the others; then unit dimensions back.
    auto biasType = cast<RankedTensorType>(p.bias.getType());
    bool keepBatch = biasType.getDimSize(0) != 1;
    bool keepHeads = biasType.getDimSize(1) != 1;
    SmallVector<bool> kept = {keepBatch, keepHeads, keepHeads, true, true};
    SmallVector<AffineExpr> outExprs;
    SmallVector<OpFoldResult> outSizes, fullSizes;
    SmallVector<IteratorType> iterators;
    SmallVector<ReassociationIndices> groups;
    ReassociationIndices pending;
    for (unsigned d = 0; d < 5; ++d) {
      iterators.push_back(kept[d] ? par : red);
      fullSizes.push_back(kept[d] ? scoreSizes[d] : b.getIndexAttr(1));
      pending.push_back(d);
      if (kept[d]) {
        outExprs.push_back(getAffineDimExpr(d, ctx));
        outSizes.push_back(scoreSizes[d]);
        groups.push_back(pending);
        pending.clear();
      }
    }
    Value reduced =
        sumOfProducts({pointwise.getResult(2)}, {map(5, {d0, d1, d2, d3, d4})},
                      outSizes, map(5, outExprs), iterators);
    Value full = tensor::ExpandShapeOp::create(b, loc, typeOf(fullSizes),
                                               reduced, groups, fullSizes);
    results.push_back(convertTo(mergeHeads(full), p.gradInits[3]));
  }
  if (p.sinkLogits) {
    // dSink[hk, g] = -sum_{b,i} exp(sink - LSE) D over rows with keys.
    SmallVector<OpFoldResult> headSizes = {b.getIndexAttr(p.headsKV),
                                           b.getIndexAttr(group)};
    Value gradSink =
        linalg::GenericOp::create(
            b, loc, TypeRange{typeOf(headSizes)},
            ValueRange{lse, rowDot, p.sinkLogits},
            ValueRange{filledTensor(headSizes, 0.0)},
            ArrayRef<AffineMap>{map(4, {d0, d1, d2, d3}),
                                map(4, {d0, d1, d2, d3}),
                                map(4, {d1 * group + d2}), map(4, {d1, d2})},
            ArrayRef<IteratorType>{red, par, par, red},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  nb, l,
                  ValueRange{AttentionAlgebra(nb, l, p).sinkGradientStep(
                      args[3], args[0], args[1], args[2])});
            })
            .getResult(0);
    results.push_back(tensor::CollapseShapeOp::create(
        b, loc, gradSink, SmallVector<ReassociationIndices>{{0, 1}}));
  }
  return results;
}
