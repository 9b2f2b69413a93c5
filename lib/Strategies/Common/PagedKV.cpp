//===- PagedKV.cpp - attn.paged_attention over contiguous copies ----------===//
//
// See PagedKV.h. Request b's key t sits at position t + T * page_size -
// key_lengths[b] of the copies: with Lk = T * page_size, attn.attention's
// bottom-right rules (j <= i + Lk - Lq, the window) then give exactly the
// paged op's per-request rules, and the mask removes the positions before
// the request's first key. Sinks are the request's own first keys, not the
// copies' first positions: with sinks the mask carries the whole rule,
// evaluated in the request's positions.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/PagedKV.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;

/// Element `at` of a tensor or a memref.
static Value extractAt(OpBuilder &b, Location loc, Value source,
                       ValueRange at) {
  if (isa<MemRefType>(source.getType()))
    return memref::LoadOp::create(b, loc, source, at);
  return tensor::ExtractOp::create(b, loc, source, at);
}

static Value dimAt(OpBuilder &b, Location loc, Value source, int64_t dim) {
  if (isa<MemRefType>(source.getType()))
    return memref::DimOp::create(b, loc, source, dim);
  return tensor::DimOp::create(b, loc, source, dim);
}

SmallVector<Value> mlir::attn::pagedKeyRow(OpBuilder &b, Location loc,
                                           Value table, Value cache,
                                           int64_t pageSize, Value batch,
                                           Value kvHead, Value key) {
  Value perPage = arith::ConstantIndexOp::create(b, loc, pageSize);
  Value slot = arith::RemUIOp::create(b, loc, key, perPage);
  Value entry = arith::DivUIOp::create(b, loc, key, perPage);
  Value page = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      extractAt(b, loc, table, ValueRange{batch, entry}));
  Value lastPage =
      arith::SubIOp::create(b, loc, dimAt(b, loc, cache, 0),
                            arith::ConstantIndexOp::create(b, loc, 1));
  page = arith::MinUIOp::create(b, loc, page, lastPage);
  return {page, kvHead, slot};
}

Value mlir::attn::pagedCapacity(OpBuilder &b, Location loc, Value table,
                                int64_t pageSize) {
  return arith::MulIOp::create(
      b, loc, dimAt(b, loc, table, 1),
      arith::ConstantIndexOp::create(b, loc, pageSize));
}

Value mlir::attn::pagedKeyLength(OpBuilder &b, Location loc, Value lengths,
                                 Value batch, Value capacity) {
  Value length = arith::IndexCastOp::create(
      b, loc, b.getIndexType(), extractAt(b, loc, lengths, ValueRange{batch}));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  return arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, length, zero), capacity);
}

namespace {

/// Builds the copies of one paged op.
class ContiguousCopies {
public:
  ContiguousCopies(RewriterBase &b, PagedAttentionOp op)
      : b(b), op(op), loc(op.getLoc()) {
    pageSize = op.getPageSize();
    batches = tensor::DimOp::create(b, loc, op.getQuery(), 0);
    capacity = pagedCapacity(b, loc, op.getPageTable(), pageSize);
  }

  /// [B, Hkv, capacity(, D)] copy of `cache` ([pages, Hkv, page_size(,
  /// D)]): zero before the request's keys.
  Value gather(Value cache) {
    auto type = cast<RankedTensorType>(cache.getType());
    int64_t rank = type.getRank();
    SmallVector<int64_t> shape = {ShapedType::kDynamic, type.getDimSize(1),
                                  ShapedType::kDynamic};
    if (rank == 4)
      shape.push_back(type.getDimSize(3));
    auto outType = RankedTensorType::get(shape, type.getElementType());
    return generateTensor(
        b, loc, outType, {batches, capacity},
        [&](OpBuilder &nb, Location l, ValueRange at) -> Value {
          auto [position, valid] = requestKey(nb, l, at[0], at[2]);
          // Scales [pages, Hkv, page_size] are found like the cache's rows.
          SmallVector<Value> from =
              pagedKeyRow(nb, l, op.getPageTable(), cache, pageSize, at[0],
                          at[1], position);
          if (rank == 4)
            from.push_back(at[3]);
          Value element = tensor::ExtractOp::create(nb, l, cache, from);
          Value zero = arith::ConstantOp::create(
              nb, l, nb.getZeroAttr(type.getElementType()));
          return arith::SelectOp::create(nb, l, valid, element, zero);
        });
  }

  /// [B, 1, Lq, capacity] i1: true from the request's first key on and,
  /// with `rules` (the paged op's), where its causal, window and sink rules
  /// allow the key at its position in the request.
  Value lengthMask(const AttentionProblem *rules) {
    int64_t lq = op.getQueryType().getDimSize(2);
    auto type = RankedTensorType::get(
        {ShapedType::kDynamic, 1, lq, ShapedType::kDynamic}, b.getI1Type());
    Value queries = tensor::DimOp::create(b, loc, op.getQuery(), 2);
    SmallVector<Value> sizes = {batches};
    if (ShapedType::isDynamic(lq))
      sizes.push_back(queries);
    sizes.push_back(capacity);
    return generateTensor(
        b, loc, type, sizes, [&](OpBuilder &nb, Location l, ValueRange at) {
          auto [position, valid] = requestKey(nb, l, at[0], at[3]);
          if (!rules)
            return valid;
          ProblemSizes request;
          request.queryShape = {queries};
          request.keyShape = {
              pagedKeyLength(nb, l, op.getKeyLengths(), at[0], capacity)};
          Value allowed =
              buildAllowedPredicate(nb, l, *rules, request, at[2], position);
          return allowed
                     ? arith::AndIOp::create(nb, l, valid, allowed).getResult()
                     : valid;
        });
  }

private:
  /// Position `j` of request `batch`'s copy: its key index (clamped to 0
  /// before its first key) and whether it holds a key.
  std::pair<Value, Value> requestKey(OpBuilder &nb, Location l, Value batch,
                                     Value j) {
    Value length = pagedKeyLength(nb, l, op.getKeyLengths(), batch, capacity);
    Value zero = arith::ConstantIndexOp::create(nb, l, 0);
    Value first = arith::SubIOp::create(nb, l, capacity, length);
    Value valid =
        arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, j, first);
    Value position = arith::MaxSIOp::create(
        nb, l, arith::SubIOp::create(nb, l, j, first), zero);
    return {position, valid};
  }

  RewriterBase &b;
  PagedAttentionOp op;
  Location loc;
  int64_t pageSize;
  Value batches, capacity;
};

} // namespace

AttentionOp mlir::attn::materializeContiguousKV(RewriterBase &rewriter,
                                                PagedAttentionOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  ContiguousCopies copies(rewriter, op);
  Value key = copies.gather(op.getKCache());
  Value value = copies.gather(op.getVCache());
  // i8 scales are per cached key and move with it; f8E4M3FN's are per head.
  auto perKey = [&](Value scale) -> Value {
    if (!scale || cast<RankedTensorType>(scale.getType()).getRank() != 3)
      return scale;
    return copies.gather(scale);
  };
  Value keyScale = perKey(op.getKScale());
  Value valueScale = perKey(op.getVScale());
  AttentionProblem rules = AttentionProblem::get(op);
  bool ruleInMask = rules.sinks > 0;
  Value mask = copies.lengthMask(ruleInMask ? &rules : nullptr);
  auto attention = AttentionOp::create(
      rewriter, op.getLoc(), op.getResult().getType(),
      op.getStatistics().getTypes(), op.getQuery(), key, value, mask,
      /*bias=*/Value(), op.getSinkLogits(), keyScale, valueScale, op.getInit(),
      op.getScaleAttr(), !ruleInMask && op.getCausal(),
      ruleInMask ? WindowAttr() : op.getWindowAttr(),
      /*sinks=*/IntegerAttr(), op.getSoftcapAttr(),
      /*score=*/ScoreAttr(), op.getStrategyAttr(), op.getReturnLse(),
      /*return_entropy=*/false);
  rewriter.replaceOp(op, attention->getResults());
  return attention;
}
