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
// Kernel scores and softplus have no LSE: W = w(s) (phi(scale q) . phi(k)
// for a feature product; softplus: softplus(s) 2^-ref with the row's
// reference from the maximum of its allowed scores) where allowed, Z =
// sum_j W, dO' = dO / Z (0 where Z = 0; dO unnormalized), D' = sum_e dO'
// O, P = W and dS = (dO' . v - D') d w / d s (no D' unnormalized); a
// feature product takes dS back through phi' instead of q and k: dK =
// phi'(k) sum dS phi(scale q), dQ = scale phi'(scale q) sum_j dS phi(k).
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
  Value lse = p.lse ? splitHeads(flatten(p.lse)) : Value();

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
  const ScoreFunction &function = *p.score.getFunction();
  // Every score but softmax forms its rows' normalizers again.
  bool kernel = !function.scoresInLog2Domain();
  // Softplus: weights relative to the row's reference.
  bool relative = kernel && p.score.tracksRowMax();
  bool featureProduct = p.score.isFeatureProduct();
  bool hasMask = static_cast<bool>(p.mask), hasBias = static_cast<bool>(p.bias);
  float scale = p.scale;
  auto cstIn = [](OpBuilder &nb, Location l, double v) -> Value {
    return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
  };
  auto scoreMap = map(5, {d0, d1, d2, d3, d4});
  auto rowMap = map(5, {d0, d1, d2, d3});
  auto rowElementMap = map(5, {d0, d1, d2, d3, d4});

  // Kernel scores and softplus: W (0 where not allowed) and d W / d (scale
  // S + bias), then each row's normalizer Z = sum_j W, and dO' = dO / Z (0
  // where Z = 0; dO unnormalized). Softmax: dO' = dO.
  Value kernelWeights, kernelDerivative;
  Value scaledGradOutput = gradOutput;
  if (kernel) {
    // Softplus: the maximum of each row's allowed scores (-inf: none).
    Value rowMax;
    if (relative) {
      SmallVector<Value> maxIns = {scores};
      SmallVector<AffineMap> maxMaps = {scoreMap};
      appendMaskAndBias(maxIns, maxMaps);
      maxMaps.push_back(rowMap);
      rowMax =
          linalg::GenericOp::create(
              b, loc, TypeRange{typeOf(rowSizes)}, maxIns,
              ValueRange{filledTensor(
                  rowSizes, -std::numeric_limits<double>::infinity())},
              maxMaps, ArrayRef<IteratorType>{par, par, par, par, red},
              [&](OpBuilder &nb, Location l, ValueRange args) {
                Value maskElement = hasMask ? args[1] : Value();
                Value biasElement = hasBias ? args[hasMask ? 2 : 1] : Value();
                Value s = formScore(nb, l, args[0], maskElement, biasElement,
                                    /*derivative=*/false)
                              .score;
                if (Value allowed = allowedInBody(nb, l, 3, 4, maskElement))
                  s = arith::SelectOp::create(
                      nb, l, allowed, s,
                      cstIn(nb, l, -std::numeric_limits<double>::infinity()));
                linalg::YieldOp::create(nb, l,
                                        ValueRange{arith::MaximumFOp::create(
                                            nb, l, s, args.back())});
              })
              .getResult(0);
    }
    SmallVector<Value> ins = {scores};
    SmallVector<AffineMap> maps = {scoreMap};
    if (rowMax) {
      ins.push_back(rowMax);
      maps.push_back(rowMap);
    }
    appendMaskAndBias(ins, maps);
    unsigned numOuts = featureProduct ? 1 : 2;
    SmallVector<Value> outs;
    for (unsigned n = 0; n < numOuts; ++n) {
      outs.push_back(tensor::EmptyOp::create(b, loc, scoreSizes, f32));
      maps.push_back(scoreMap);
    }
    auto weigh = linalg::GenericOp::create(
        b, loc, TypeRange(ValueRange(outs)), ins, outs, maps,
        SmallVector<IteratorType>(5, par),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          unsigned next = 1;
          // Softplus: the row's reference (0 for a row without keys, whose
          // weights are all 0).
          Value reference;
          if (rowMax) {
            Value m = args[next++];
            Value none = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::OEQ, m,
                cstIn(nb, l, -std::numeric_limits<double>::infinity()));
            reference =
                arith::SelectOp::create(nb, l, none, cstIn(nb, l, 0.0),
                                        function.rowReference(nb, l, m));
          }
          Value maskElement = hasMask ? args[next++] : Value();
          Value biasElement = hasBias ? args[next++] : Value();
          SmallVector<Value> results;
          if (featureProduct) {
            results.push_back(args[0]);
          } else {
            FormedScore formed =
                formScore(nb, l, args[0], maskElement, biasElement, true);
            results.push_back(function.weight(nb, l, formed.score, reference));
            results.push_back(arith::MulFOp::create(
                nb, l,
                function.weightDerivative(nb, l, formed.score, reference),
                formed.derivative));
          }
          if (Value allowed = allowedInBody(nb, l, 3, 4, maskElement))
            for (Value &result : results)
              result = arith::SelectOp::create(nb, l, allowed, result,
                                               cstIn(nb, l, 0.0));
          linalg::YieldOp::create(nb, l, results);
        });
    kernelWeights = weigh.getResult(0);
    if (!featureProduct)
      kernelDerivative = weigh.getResult(1);
    if (p.score.getNormalize()) {
      Value normalizer = sumOfProducts({kernelWeights}, {scoreMap}, rowSizes,
                                       rowMap, {par, par, par, par, red});
      SmallVector<OpFoldResult> outSizes = withLast(rowSizes, p.valueDim);
      scaledGradOutput =
          linalg::GenericOp::create(
              b, loc, TypeRange{typeOf(outSizes)},
              ValueRange{gradOutput, normalizer},
              ValueRange{tensor::EmptyOp::create(b, loc, outSizes, f32)},
              ArrayRef<AffineMap>{rowElementMap, rowMap, rowElementMap},
              SmallVector<IteratorType>(5, par),
              [&](OpBuilder &nb, Location l, ValueRange args) {
                linalg::YieldOp::create(
                    nb, l,
                    ValueRange{AttentionAlgebra(nb, l, p).divideByNormalizer(
                        toF32(nb, l, args[0]), args[1])});
              })
              .getResult(0);
    }
  }

  // D = rowsum(dO' * O), dP = dO' . v (unnormalized kernel scores need no
  // D).
  bool needsRowDot = !kernel || p.score.getNormalize();
  Value rowDot = needsRowDot
                     ? sumOfProducts({scaledGradOutput, output},
                                     {rowElementMap, rowElementMap}, rowSizes,
                                     rowMap, {par, par, par, par, red})
                     : Value();
  Value gradWeights = sumOfProducts(
      {scaledGradOutput, value},
      {map(6, {d0, d1, d2, d3, d5}), map(6, {d0, d1, d4, d5})}, scoreSizes,
      map(6, {d0, d1, d2, d3, d4}), {par, par, par, par, par, red});

  // P (the weights dV sums: exp(s - LSE), or the kernel's W), dS with
  // respect to S = q.k (phi(scale q) . phi(k) for a feature product) and,
  // with a bias, dS with respect to the biased score.
  SmallVector<Value> ins = {scores, gradWeights};
  SmallVector<AffineMap> maps = {scoreMap, scoreMap};
  if (needsRowDot) {
    ins.push_back(rowDot);
    maps.push_back(rowMap);
  }
  if (kernel) {
    ins.push_back(kernelWeights);
    maps.push_back(scoreMap);
    if (kernelDerivative) {
      ins.push_back(kernelDerivative);
      maps.push_back(scoreMap);
    }
  } else {
    ins.push_back(lse);
    maps.push_back(rowMap);
  }
  unsigned firstOptional = ins.size();
  appendMaskAndBias(ins, maps);
  unsigned numOuts = p.bias ? 3 : 2;
  SmallVector<Value> outs;
  for (unsigned n = 0; n < numOuts; ++n) {
    outs.push_back(tensor::EmptyOp::create(b, loc, scoreSizes, f32));
    maps.push_back(scoreMap);
  }
  auto pointwise = linalg::GenericOp::create(
      b, loc, TypeRange(ValueRange(outs)), ins, outs, maps,
      SmallVector<IteratorType>(5, par),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        unsigned next = firstOptional;
        Value maskElement = hasMask ? args[next++] : Value();
        Value biasElement = hasBias ? args[next++] : Value();
        Value gradWeight = args[1];
        unsigned at = 2;
        Value rowDotElement = needsRowDot ? args[at++] : Value();
        Value weight, gradBiased, gradDot;
        if (kernel) {
          // dW = dO' . v - D' (normalized), dO . v otherwise; a feature
          // product's W is the dot product itself.
          weight = args[at++];
          Value gradW = rowDotElement ? arith::SubFOp::create(nb, l, gradWeight,
                                                              rowDotElement)
                                            .getResult()
                                      : gradWeight;
          if (featureProduct) {
            gradBiased = gradDot = gradW;
          } else {
            gradBiased = arith::MulFOp::create(nb, l, gradW, args[at++]);
            gradDot =
                arith::MulFOp::create(nb, l, gradBiased, cstIn(nb, l, scale));
          }
        } else {
          FormedScore formed =
              formScore(nb, l, args[0], maskElement, biasElement, true);
          AttentionAlgebra algebra(nb, l, p);
          weight =
              algebra.weightFromLse(formed.score, algebra.lseInLog2(args[at]));
          Value gradScore = arith::MulFOp::create(
              nb, l, weight,
              arith::SubFOp::create(nb, l, gradWeight, rowDotElement));
          gradBiased =
              arith::MulFOp::create(nb, l, gradScore, formed.derivative);
          gradDot =
              arith::MulFOp::create(nb, l, gradBiased, cstIn(nb, l, scale));
        }
        SmallVector<Value> results = {weight, gradDot};
        if (hasBias)
          results.push_back(gradBiased);
        // Pairs that are not allowed have no weight and no gradient (even
        // where their value row or score is not finite).
        if (Value allowed = allowedInBody(nb, l, 3, 4, maskElement))
          for (Value &result : results)
            result = arith::SelectOp::create(nb, l, allowed, result,
                                             cstIn(nb, l, 0.0));
        linalg::YieldOp::create(nb, l, results);
      });
  Value weights = pointwise.getResult(0);
  Value gradDot = pointwise.getResult(1);

  // dV[b, hk, j, e] = sum_{g,i} P dO'; dK[b, hk, j, d] = sum_{g,i} dS q;
  // dQ[b, hk, g, i, d] = sum_j dS k. A feature product differentiates its
  // features: dK = phi'(k) sum_{g,i} dS phi(scale q), dQ = scale phi'(scale
  // q) sum_j dS phi(k).
  SmallVector<OpFoldResult> kvRows = {kSizes[0], kSizes[1], kSizes[2]};
  Value gradValue = sumOfProducts(
      {weights, scaledGradOutput},
      {map(6, {d0, d1, d4, d5, d2}), map(6, {d0, d1, d4, d5, d3})},
      withLast(kvRows, p.valueDim), map(6, {d0, d1, d2, d3}),
      {par, par, par, par, red, red});
  // x (f32, of its own shape) mapped elementwise by `fn` of x (read as f32)
  // times `factor`.
  auto mapped = [&](Value x, double factor,
                    function_ref<Value(OpBuilder &, Location, Value)> fn,
                    Value times = Value()) -> Value {
    auto type = cast<RankedTensorType>(x.getType());
    unsigned rank = type.getRank();
    SmallVector<OpFoldResult> outSizes = tensor::getMixedSizes(b, loc, x);
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    SmallVector<Value> mapIns = {x};
    if (times)
      mapIns.push_back(times);
    SmallVector<AffineMap> mapMaps(mapIns.size() + 1, identity);
    return linalg::GenericOp::create(
               b, loc, TypeRange{typeOf(outSizes)}, mapIns,
               ValueRange{tensor::EmptyOp::create(b, loc, outSizes, f32)},
               mapMaps, SmallVector<IteratorType>(rank, par),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value y = toF32(nb, l, args[0]);
                 if (factor != 1.0)
                   y = arith::MulFOp::create(nb, l, y, cstIn(nb, l, factor));
                 y = fn(nb, l, y);
                 if (times)
                   y = arith::MulFOp::create(nb, l, y, args[1]);
                 linalg::YieldOp::create(nb, l, ValueRange{y});
               })
        .getResult(0);
  };
  Value keyFactor = key, queryFactor = query;
  if (featureProduct) {
    auto phi = [&](OpBuilder &nb, Location l, Value x) {
      return function.featureMap(nb, l, x);
    };
    keyFactor = mapped(key, 1.0, phi);
    queryFactor = mapped(query, scale, phi);
  }
  Value gradKey = sumOfProducts(
      {gradDot, queryFactor},
      {map(6, {d0, d1, d4, d5, d2}), map(6, {d0, d1, d4, d5, d3})},
      withLast(kvRows, p.headDim), map(6, {d0, d1, d2, d3}),
      {par, par, par, par, red, red});
  Value gradQuery =
      sumOfProducts({gradDot, keyFactor},
                    {map(6, {d0, d1, d2, d3, d5}), map(6, {d0, d1, d5, d4})},
                    withLast(rowSizes, p.headDim), map(6, {d0, d1, d2, d3, d4}),
                    {par, par, par, par, par, red});
  if (featureProduct) {
    auto phiPrime = [&](OpBuilder &nb, Location l, Value x) {
      return function.featureMapDerivative(nb, l, x);
    };
    gradKey = mapped(key, 1.0, phiPrime, gradKey);
    // d phi(scale q) / d q = scale phi'(scale q).
    gradQuery = mapped(
        query, scale,
        [&](OpBuilder &nb, Location l, Value x) -> Value {
          return arith::MulFOp::create(nb, l, phiPrime(nb, l, x),
                                       cstIn(nb, l, scale));
        },
        gradQuery);
  }
  gradQuery = mergeHeads(gradQuery);

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
