//===- ExampleStrategy.cpp - An out-of-tree attn strategy -----------------===//
//
// An example of a third-party strategy library, loaded with
// `attn-opt --attn-load-strategy=AttnExampleStrategy.so`. The strategy,
// `decomposed`, writes plain softmax attention (no mask, bias, causal, window
// or softcap; one KV head per query head) with upstream named ops:
// linalg.batch_matmul for Q K^T, linalg.softmax (decomposed by upstream's
// AggregatedOpInterface), and linalg.batch_matmul for P V. It registers
// itself through the `attnRegisterStrategies` C entry point.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Strategy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

class DecomposedStrategy final : public Strategy {
public:
  StringRef getName() const override { return "decomposed"; }
  StringRef getDescription() const override {
    return "example: batch_matmul + linalg.softmax + batch_matmul";
  }

  bool isApplicable(Operation *op, const TargetDescription &,
                    std::string &reason) const override {
    auto attention = dyn_cast<AttentionOp>(op);
    if (!attention) {
      reason = "computes attn.attention only";
      return false;
    }
    if (attention.getMask() || attention.getBias() || attention.getCausal() ||
        attention.getWindowAttr() || attention.getSoftcapAttr()) {
      reason = "needs plain attention (no mask, bias, causal, window, softcap)";
      return false;
    }
    if (attention.getEffectiveScore().getName() != "softmax") {
      reason = "needs the softmax score";
      return false;
    }
    if (attention.getGroupSize() != 1) {
      reason = "needs one KV head per query head";
      return false;
    }
    if (!attention.getQueryType().getElementType().isF32()) {
      reason = "needs f32 operands";
      return false;
    }
    return true;
  }

  CostEstimate estimateCost(Operation *op, const TargetDescription &,
                            StrategyAttr) const override {
    auto attention = cast<AttentionOp>(op);
    auto dim = [](int64_t size) {
      return ShapedType::isDynamic(size) ? 1024.0 : double(size);
    };
    RankedTensorType q = attention.getQueryType(), k = attention.getKeyType();
    double pairs = dim(q.getDimSize(0)) * q.getDimSize(1) *
                   dim(q.getDimSize(2)) * dim(k.getDimSize(2));
    CostEstimate cost;
    cost.flops = pairs * 4.0 * q.getDimSize(3);
    cost.bytes = pairs * 4.0 * 3;
    cost.extraBytes = pairs * 4.0 * 2;
    cost.efficiency = 0.02;
    return cost;
  }

  LogicalResult apply(RewriterBase &rewriter, Operation *op, StrategyAttr,
                      const TargetDescription &) const override {
    auto attention = cast<AttentionOp>(op);
    Location loc = op->getLoc();
    rewriter.setInsertionPoint(op);
    // [B, H, L, D] -> [B*H, L, D]
    auto collapse = [&](Value v) -> Value {
      return tensor::CollapseShapeOp::create(
          rewriter, loc, v,
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
    };
    Value q = collapse(attention.getQuery());
    Value k = collapse(attention.getKey());
    Value v = collapse(attention.getValue());
    Type f32 = rewriter.getF32Type();
    auto sizes = [&](Value t) { return tensor::getMixedSizes(rewriter, loc, t); };
    SmallVector<OpFoldResult> qs = sizes(q), ks = sizes(k), vs = sizes(v);

    // K^T, then S = scale * Q K^T.
    Value kt0 = tensor::EmptyOp::create(
        rewriter, loc, SmallVector<OpFoldResult>{ks[0], ks[2], ks[1]}, f32);
    Value kt = linalg::TransposeOp::create(rewriter, loc, k, kt0,
                                           ArrayRef<int64_t>{0, 2, 1})
                   .getResult()[0];
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getF32FloatAttr(0.0));
    SmallVector<OpFoldResult> sShape = {qs[0], qs[1], ks[1]};
    Value s0 = linalg::FillOp::create(
                   rewriter, loc, ValueRange{zero},
                   ValueRange{tensor::EmptyOp::create(rewriter, loc, sShape, f32)})
                   .getResult(0);
    Value s = linalg::BatchMatmulOp::create(rewriter, loc, ValueRange{q, kt},
                                            ValueRange{s0})
                  .getResult(0);
    Value scale = arith::ConstantOp::create(
        rewriter, loc, rewriter.getF32FloatAttr(attention.getEffectiveScale()));
    Value scaled = linalg::MulOp::create(
                       rewriter, loc,
                       ValueRange{s, linalg::FillOp::create(
                                         rewriter, loc, ValueRange{scale},
                                         ValueRange{tensor::EmptyOp::create(
                                             rewriter, loc, sShape, f32)})
                                         .getResult(0)},
                       ValueRange{tensor::EmptyOp::create(rewriter, loc, sShape,
                                                          f32)})
                       .getResult(0);
    // P = softmax(S) over keys, decomposed by upstream.
    auto softmax = linalg::SoftmaxOp::create(
        rewriter, loc, scaled.getType(), scaled,
        tensor::EmptyOp::create(rewriter, loc, sShape, f32), 2);
    FailureOr<SmallVector<Value>> decomposed =
        cast<linalg::AggregatedOpInterface>(softmax.getOperation())
            .decomposeOperation(rewriter);
    if (failed(decomposed))
      return op->emitOpError() << "linalg.softmax did not decompose";
    rewriter.replaceOp(softmax, *decomposed);
    Value p = decomposed->front();
    // O = P V, back to [B, H, L, Dv].
    SmallVector<OpFoldResult> oShape = {qs[0], qs[1], vs[2]};
    Value o0 = linalg::FillOp::create(
                   rewriter, loc, ValueRange{zero},
                   ValueRange{tensor::EmptyOp::create(rewriter, loc, oShape, f32)})
                   .getResult(0);
    Value o = linalg::BatchMatmulOp::create(rewriter, loc, ValueRange{p, v},
                                            ValueRange{o0})
                  .getResult(0);
    Value result = tensor::ExpandShapeOp::create(
        rewriter, loc, attention.getResultType(), o,
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}},
        tensor::getMixedSizes(rewriter, loc, attention.getInit()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK void
attnRegisterStrategies(mlir::attn::StrategyRegistry &registry) {
  registry.add(std::make_unique<DecomposedStrategy>());
}
