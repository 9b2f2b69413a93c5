//===- AttentionProblem.cpp - One view of both attn ops -------------------===//

#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/ModTileClasses.h"
#include "attn/Strategies/Strategy.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;

AttentionProblem AttentionProblem::get(Operation *op) {
  AttentionProblem p;
  p.op = op;
  auto fillCommon = [&](auto typedOp, Value init) {
    p.query = typedOp.getQuery();
    p.key = typedOp.getKey();
    p.value = typedOp.getValue();
    p.init = init;
    RankedTensorType q = typedOp.getQueryType(), k = typedOp.getKeyType(),
                     v = typedOp.getValueType();
    p.elementType = q.getElementType();
    p.batch = q.getDimSize(0);
    p.headsQ = q.getDimSize(1);
    p.headsKV = k.getDimSize(1);
    p.headDim = q.getShape().back();
    p.valueDim = v.getShape().back();
    p.queryShape.assign(q.getShape().begin() + 2, q.getShape().end() - 1);
    p.keyShape.assign(k.getShape().begin() + 2, k.getShape().end() - 1);
    p.scale = typedOp.getEffectiveScale();
  };
  // attn.attention and its tile op share these.
  auto fillScoreAndRules = [&](auto typedOp) {
    p.mask = typedOp.getMask();
    p.bias = typedOp.getBias();
    p.score = typedOp.getEffectiveScore();
    if (auto softcap = typedOp.getSoftcapAttr())
      p.softcap = softcap.getValueAsDouble();
    p.causal = typedOp.getCausal();
    if (auto window = typedOp.getWindowAttr()) {
      p.hasWindow = true;
      p.windowLeft = window.getLeft();
      p.windowRight = window.getRight();
    }
    p.sinks = typedOp.getNumSinks();
  };
  // Both user-facing ops carry the mods.
  auto fillMods = [&](auto typedOp) {
    if (typedOp.hasScoreMod())
      p.scoreMod = &typedOp.getScoreMod();
    if (typedOp.hasMaskMod())
      p.maskMod = &typedOp.getMaskMod();
  };
  // Both neighborhood ops carry NATTEN's rule and the mods.
  auto fillNeighborhood = [&](auto typedOp) {
    p.isNeighborhood = true;
    p.score = ScoreAttr::getSoftmax(op->getContext());
    p.kernel = typedOp.getKernelSizes();
    p.dilation = typedOp.getDilations();
    p.stride = typedOp.getStrides();
    p.causalAxes = typedOp.getCausalAxes();
    fillMods(typedOp);
  };
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    fillCommon(attention, attention.getInit());
    fillScoreAndRules(attention);
    fillMods(attention);
    p.sinkLogits = attention.getSinkLogits();
    p.keyScale = attention.getKScale();
    p.valueScale = attention.getVScale();
    p.returnLse = attention.getReturnLse();
    p.returnEntropy = attention.getReturnEntropy();
  } else if (auto backward = dyn_cast<AttentionBackwardOp>(op)) {
    fillCommon(backward, backward.getOutput());
    fillScoreAndRules(backward);
    fillMods(backward);
    p.sinkLogits = backward.getSinkLogits();
    p.isBackward = true;
    p.gradOutput = backward.getGradOutput();
    p.lse = backward.getLse();
    p.gradInits.assign(backward.getInits().begin(), backward.getInits().end());
  } else if (auto tile = dyn_cast<OnlineAttentionOp>(op)) {
    // The tile op: its lengths are the tile's, and `init` is the state's
    // acc.
    fillCommon(tile, tile.getAcc());
    fillScoreAndRules(tile);
    fillMods(tile);
    p.keyScale = tile.getKScale();
    p.valueScale = tile.getVScale();
  } else if (auto finalize = dyn_cast<FinalizeOp>(op)) {
    // Only what the epilogue needs: the score and the result.
    p.init = finalize.getInit();
    p.elementType =
        cast<RankedTensorType>(finalize.getInit().getType()).getElementType();
    p.score = finalize.getEffectiveScore();
    p.sinkLogits = finalize.getSinkLogits();
    p.lseInit = finalize.getLseInit();
    p.returnLse = p.lseInit != nullptr;
    p.entropyInit = finalize.getEntropyInit();
    p.returnEntropy = p.entropyInit != nullptr;
  } else if (auto merge = dyn_cast<MergeStatesOp>(op)) {
    // States of softmax attention: what the merge's math needs.
    p.init = merge.getOutInit();
    p.elementType = cast<RankedTensorType>(p.init.getType()).getElementType();
    p.score = ScoreAttr::getSoftmax(op->getContext());
    p.lseInit = merge.getLseInit();
    p.returnLse = true;
  } else if (auto paged = dyn_cast<PagedAttentionOp>(op)) {
    fillCommon(paged, paged.getInit());
    p.score = ScoreAttr::getSoftmax(op->getContext());
    if (auto softcap = paged.getSoftcapAttr())
      p.softcap = softcap.getValueAsDouble();
    p.causal = paged.getCausal();
    p.sinks = paged.getSinks().value_or(0);
    if (auto window = paged.getWindowAttr()) {
      p.hasWindow = true;
      p.windowLeft = window.getLeft();
      p.windowRight = window.getRight();
    }
    p.keyScale = paged.getKScale();
    p.valueScale = paged.getVScale();
    p.sinkLogits = paged.getSinkLogits();
    p.returnLse = paged.getReturnLse();
    p.pageTable = paged.getPageTable();
    p.keyLengths = paged.getKeyLengths();
    p.pageSize = paged.getPageSize();
    int64_t pagesPerRequest =
        cast<RankedTensorType>(p.pageTable.getType()).getDimSize(1);
    p.keyShape = {ShapedType::isDynamic(pagesPerRequest)
                      ? ShapedType::kDynamic
                      : pagesPerRequest * p.pageSize};
  } else if (auto neighborhood = dyn_cast<NeighborhoodOp>(op)) {
    fillCommon(neighborhood, neighborhood.getInit());
    fillNeighborhood(neighborhood);
    p.returnLse = neighborhood.getReturnLse();
  } else if (auto backward = dyn_cast<NeighborhoodBackwardOp>(op)) {
    fillCommon(backward, backward.getOutput());
    fillNeighborhood(backward);
    p.isBackward = true;
    p.gradOutput = backward.getGradOutput();
    p.lse = backward.getLse();
    p.gradInits.assign(backward.getInits().begin(), backward.getInits().end());
  }
  return p;
}

std::string
AttentionProblem::unsupportedVariants(StringRef strategy,
                                      const Computed &computed) const {
  SmallVector<StringRef> missing;
  if (scoreMod && !computed.scoreMod)
    missing.push_back("score_mod");
  if (maskMod && !computed.maskMod)
    missing.push_back("mask_mod");
  if (sinkLogits && !computed.sinkLogits)
    missing.push_back("sink_logits");
  if (returnLse && !computed.lse)
    missing.push_back("return_lse");
  if (returnEntropy && !computed.entropy)
    missing.push_back("return_entropy");
  if (missing.empty())
    return "";
  std::string names = llvm::join(missing, " and ");
  return names + (missing.size() == 1 ? " is" : " are") + " not computed by " +
         strategy.str() + " yet";
}

static int64_t product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes) {
    if (ShapedType::isDynamic(size))
      return ShapedType::kDynamic;
    result *= size;
  }
  return result;
}

int64_t AttentionProblem::queryLength() const { return product(queryShape); }
int64_t AttentionProblem::keyLength() const { return product(keyShape); }

bool AttentionProblem::hasDynamicShape() const {
  return ShapedType::isDynamic(batch) ||
         ShapedType::isDynamic(queryLength()) ||
         ShapedType::isDynamic(keyLength());
}

bool AttentionProblem::hasStructuralMask() const {
  return causal || hasWindow || isNeighborhood;
}

semantics::BandRule AttentionProblem::bandRule(int64_t lq, int64_t lk) const {
  semantics::BandRule rule;
  rule.queryLength = lq;
  rule.keyLength = lk;
  rule.causal = causal;
  rule.hasWindow = hasWindow;
  rule.windowLeft = windowLeft;
  rule.windowRight = windowRight;
  rule.sinks = sinks;
  return rule;
}

SmallVector<semantics::NeighborhoodAxis>
AttentionProblem::neighborhoodAxes(ArrayRef<int64_t> spatialShape) const {
  SmallVector<semantics::NeighborhoodAxis> axes;
  for (size_t a = 0; a < kernel.size(); ++a) {
    semantics::NeighborhoodAxis axis;
    axis.extent = spatialShape[a];
    axis.kernel = kernel[a];
    axis.dilation = dilation[a];
    axis.stride = stride[a];
    axis.causal = causalAxes[a];
    axes.push_back(axis);
  }
  return axes;
}

int64_t AttentionProblem::countAllowedPairs(ArrayRef<int64_t> qShape,
                                            ArrayRef<int64_t> kShape) const {
  if (isNeighborhood) {
    int64_t total = 1;
    for (const semantics::NeighborhoodAxis &axis : neighborhoodAxes(qShape))
      total *= axis.countAllowedPairs();
    return total;
  }
  return bandRule(qShape.front(), kShape.front()).countAllowedPairs();
}

SmallVector<ReassociationIndices>
mlir::attn::spatialPositionGroups(int64_t spatialRank, int64_t rank) {
  SmallVector<ReassociationIndices> groups = {{0}, {1}, {}};
  for (int64_t d = 2; d < 2 + spatialRank; ++d)
    groups[2].push_back(d);
  if (rank > 2 + spatialRank)
    groups.push_back({rank - 1});
  return groups;
}

SmallVector<Value> mlir::attn::buildOnFlattenedPositions(
    RewriterBase &rewriter, const AttentionProblem &problem,
    function_ref<SmallVector<Value>(const AttentionProblem &flat,
                                    ArrayRef<Value> extents)>
        build) {
  rewriter.setInsertionPoint(problem.op);
  Location loc = problem.op->getLoc();
  int64_t spatialRank = problem.queryShape.size();
  // [B, H, spatial..., D] -> [B, H, N, D]; per-query rows [B, H, spatial...]
  // -> [B, H, N].
  auto groupsOf = [&](int64_t rank) {
    return spatialPositionGroups(spatialRank, rank);
  };
  auto flatten = [&](Value tensor) -> Value {
    int64_t rank = cast<RankedTensorType>(tensor.getType()).getRank();
    return tensor::CollapseShapeOp::create(rewriter, loc, tensor,
                                           groupsOf(rank));
  };
  SmallVector<Value> extents;
  for (int64_t a = 0; a < spatialRank; ++a)
    extents.push_back(
        ShapedType::isDynamic(problem.queryShape[a])
            ? tensor::DimOp::create(rewriter, loc, problem.query, 2 + a)
                  .getResult()
            : arith::ConstantIndexOp::create(rewriter, loc,
                                             problem.queryShape[a])
                  .getResult());
  AttentionProblem flat = problem;
  flat.query = flatten(problem.query);
  flat.key = flatten(problem.key);
  flat.value = flatten(problem.value);
  flat.init = flatten(problem.init);
  flat.queryShape = {flat.queryLength()};
  flat.keyShape = {flat.keyLength()};
  // The results and the sizes of each, spatial: the output and its LSE, or
  // the gradients.
  SmallVector<OpFoldResult> rowSizes =
      tensor::getMixedSizes(rewriter, loc, problem.query);
  rowSizes.pop_back();
  SmallVector<SmallVector<OpFoldResult>> resultSizes;
  if (problem.isBackward) {
    flat.gradOutput = flatten(problem.gradOutput);
    flat.lse = flatten(problem.lse);
    for (Value &init : flat.gradInits) {
      resultSizes.push_back(tensor::getMixedSizes(rewriter, loc, init));
      init = flatten(init);
    }
  } else {
    resultSizes.push_back(tensor::getMixedSizes(rewriter, loc, problem.init));
    if (problem.returnLse) {
      SmallVector<OpFoldResult> flatRows = {
          rowSizes[0], rowSizes[1],
          tensor::getMixedSizes(rewriter, loc, flat.query)[2]};
      flat.lseInit = tensor::EmptyOp::create(rewriter, loc, flatRows,
                                             rewriter.getF32Type());
      resultSizes.push_back(rowSizes);
    }
  }
  SmallVector<Value> results = build(flat, extents);
  for (auto [result, type, sizes] :
       llvm::zip_equal(results, problem.op->getResultTypes(), resultSizes)) {
    auto tensorType = cast<RankedTensorType>(type);
    result =
        tensor::ExpandShapeOp::create(rewriter, loc, tensorType, result,
                                      groupsOf(tensorType.getRank()), sizes);
  }
  return results;
}

//===----------------------------------------------------------------------===//
// AttentionWork
//===----------------------------------------------------------------------===//

mlir::attn::AttentionWork::AttentionWork(Operation *op) {
  AttentionProblem p = AttentionProblem::get(op);
  hasMaskMod = p.maskMod != nullptr;
  // With a mask operand as well, neither alone decides which pairs count.
  if (hasMaskMod && !p.mask) {
    if (std::optional<int64_t> pairs =
            allowedPairsAtCompileTime(p, /*budget=*/1 << 19))
      modPairs = *pairs;
  }
  // Sizes and rules only: the op and its values do not outlive compilation.
  p.op = nullptr;
  p.query = p.key = p.value = p.mask = p.bias = p.init = p.sinkLogits = Value();
  p.keyScale = p.valueScale = Value();
  p.scoreMod = p.maskMod = nullptr;
  p.gradOutput = p.lse = Value();
  p.gradInits.clear();
  problem = std::make_shared<const AttentionProblem>(std::move(p));
}

size_t mlir::attn::AttentionWork::queryRank() const {
  return problem->queryShape.size();
}

size_t mlir::attn::AttentionWork::keyRank() const {
  return problem->keyShape.size();
}

double mlir::attn::AttentionWork::flops(int64_t batch,
                                        ArrayRef<int64_t> queryShape,
                                        ArrayRef<int64_t> keyShape,
                                        const uint8_t *mask,
                                        ArrayRef<int64_t> maskShape) const {
  const AttentionProblem &p = *problem;
  // The backward forms q.k again, then dO.v, dV, dQ and dK per pair.
  double perPair = p.isBackward ? 2.0 * (3 * p.headDim + 2 * p.valueDim)
                                : 2.0 * (p.headDim + p.valueDim);
  if (hasMaskMod) {
    // Counted for the op's static sizes only.
    if (modPairs < 0 || batch != p.batch || queryShape.size() != 1 ||
        keyShape.size() != 1 || queryShape[0] != p.queryLength() ||
        keyShape[0] != p.keyLength())
      return -1;
    return static_cast<double>(modPairs) * perPair;
  }
  if (!mask || p.isNeighborhood)
    return static_cast<double>(p.countAllowedPairs(queryShape, keyShape)) *
           batch * p.headsQ * perPair;
  // Count allowed pairs exactly through the mask values.
  semantics::BandRule rule = p.bandRule(queryShape[0], keyShape[0]);
  int64_t lq = queryShape[0], lk = keyShape[0];
  double pairs = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < p.headsQ; ++h) {
      int64_t mb = maskShape[0] == 1 ? 0 : b;
      int64_t mh = maskShape[1] == 1 ? 0 : h;
      const uint8_t *rows = mask + ((mb * maskShape[1] + mh) * lq) * lk;
      for (int64_t i = 0; i < lq; ++i)
        for (int64_t j = 0; j < lk; ++j)
          pairs += rows[i * lk + j] && rule.allowed(i, j);
    }
  return pairs * perPair;
}
