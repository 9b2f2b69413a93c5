//===- PagedKV.h - attn.paged_attention over contiguous copies --*- C++ -*-===//
//
// The CPU flash kernels read a paged cache through its page table. Every
// other strategy (and every GPU kernel) computes attn.paged_attention as the
// attn.attention that materializeContiguousKV builds: each request's keys
// gathered into [B, Hkv, T * page_size, D] copies, right-aligned so that the
// op's bottom-right rules mean the same per request, with the slots before
// a request's keys masked out.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_PAGEDKV_H
#define ATTN_STRATEGIES_COMMON_PAGEDKV_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// Where key `key` of request `batch` is stored in a paged cache (tensor or
/// memref) of `pageSize` keys per page: {page, kvHead, slot}, the page read
/// from `table` and clamped to the cache's last page (unsigned: a negative
/// entry clamps too), so that a wrong entry reads inside the cache. Every
/// reader of a paged cache finds its rows here.
SmallVector<Value> pagedKeyRow(OpBuilder &b, Location loc, Value table,
                               Value cache, int64_t pageSize, Value batch,
                               Value kvHead, Value key);
/// The keys a request's row of `table` (tensor or memref) can hold:
/// T * pageSize, as an index.
Value pagedCapacity(OpBuilder &b, Location loc, Value table, int64_t pageSize);
/// Request `batch`'s key count from `lengths` (tensor or memref), clamped to
/// [0, capacity], as an index.
Value pagedKeyLength(OpBuilder &b, Location loc, Value lengths, Value batch,
                     Value capacity);

/// Replaces `op` by an equivalent attn.attention over gathered copies of
/// its caches (and of i8 scales), with a mask for each request's length, and
/// returns it. The copies are O(B * T * page_size * (D + Dv)); the op's
/// strategy attribute carries over.
AttentionOp materializeContiguousKV(RewriterBase &rewriter,
                                    PagedAttentionOp op);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_PAGEDKV_H
