//===- FlashKernel.cpp - FlashAttention-2 on the CPU as vector IR ---------===//
//
// See FlashKernel.h; the emitter's other parts are listed in
// FlashEmitter.h. The emitted structure, for each (batch, KV head):
//   Kt[T, D, BK] = K^T packed in key tiles (f32, zero padded; phi(k) for
//                  feature-map scores)
//   forall query blocks (heaviest first):
//     O[R, Dv], m[R], l[R], P[micro_q, BK] on the stack (R = G * block_q)
//     for each KV tile the block's rows can see (band + sink tiles):
//       for each micro-tile of micro_q rows that sees the tile:
//         S = Q K^T   micro_q x BK/lanes vector accumulators, D loop unrolled
//         partial tiles only: mask by causal/window/sinks/mask/length
//         softmax: m' = max(m, rowmax S); p = exp2(S - m'); l = l 2^(m-m') +
//         sum p softplus: m' = min(max(m, rowmax S log2 e), 0); p = softplus(S)
//         2^-m' O = O 2^(m-m') + P V   micro_q x blockDv/lanes accumulators
//     out = O / l (0 where l == 0), written into the result tile; or, when
//       the kernel lowers an attn.online_attention whose state is used, O,
//       m and l written into that state (and read from it first unless it
//       is the empty state)
// The scale is folded into S with log2(e) so the softmax uses exp2. Rows of
// all G query heads of a KV head share one task, so each K/V tile loaded
// serves the whole group; a micro-tile may span heads (decode: one row per
// head). With `splits` > 1 each block's keys are split among tasks, each
// finishing its state as (O / l, LSE, entropy); attn.merge_states merges the
// splits, and the merged state goes through the epilogue (split-KV). Without
// packing, scores are dot products over D read straight from K, and the
// K and V rows kPrefetchKeys keys ahead are prefetched. A paged cache
// (attn.paged_attention) is read through its page table (keyRow), and each
// request's own key count sets its tiles, splits and rules. Paged decode
// (flashVisitsHeadsPerTile) visits every KV head in each tile instead: one task
// per (batch, query block, split) keeps all heads' rows of state, head h's
// from row h x paddedRows, and runs the tile for each head in turn.
//
//===----------------------------------------------------------------------===//

#include "FlashEmitter.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/OnlineSoftmax.h"
#include "attn/Strategies/Common/PagedKV.h"
#include "attn/Strategies/Common/WholeProblemTile.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::flash;

SmallVector<Value> FlashEmitter::build() {
  lq = dimOf(p.query, 2);
  // Paged: the table's capacity here; each request's own length below.
  lk = p.isPaged() ? pagedCapacity(b, loc, p.pageTable, p.pageSize)
                   : dimOf(p.key, 2);
  Value capacity = lk;
  if (!cfg.packKeys) {
    // Rows are prefetched ahead of the key the scores read (see
    // prefetchRows): read-only views of K and V, of any layout.
    auto buffer = [&](Value cache) -> Value {
      auto type = cast<RankedTensorType>(cache.getType());
      SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
      auto layout =
          StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
      return bufferization::ToBufferOp::create(
          b, loc,
          MemRefType::get(type.getShape(), type.getElementType(), layout),
          cache, /*read_only=*/true);
    };
    keyCacheBuffer = buffer(p.key);
    valueCacheBuffer = buffer(p.value);
  }
  ruleLq = queryShift ? sub(lk, queryShift) : lq;
  numTiles = ceilDiv(lk, cfg.blockK);
  Value batches = dimOf(p.query, 0);
  Value numBlocks = ceilDiv(lq, cfg.blockQ);
  int64_t mr = cfg.microQ, lanes = cfg.lanes, splits = cfg.splits;
  bool banded = cfg.skipByBand && (p.causal || p.hasWindow);

  if (p.mask && cfg.blockSparse)
    prepareBlockSparse();
  else if (p.mask)
    prepareMaskCounts();
  // Tiles that the mask_mod leaves empty are skipped, and those it allows
  // completely run without per-element tests.
  if (p.maskMod && !p.isNeighborhood) {
    modClassifier.emplace(b, loc, p, cfg.blockQ, cfg.blockK, cfg.microQ, lq,
                          lk);
    modTiles = modClassifier->classes(b.getI8Type());
  }

  // The entropy part of the state: kept when the fused finalize returns
  // the entropy.
  bool withEntropy = !state && p.entropyInit;
  // Per-head states of split-KV tasks, [split, block, row, ...]: the
  // normalized O and the LSE (and the entropy) of each split's keys, which
  // attn.merge_states merges.
  auto partialTypes = [&]() -> SmallVector<RankedTensorType> {
    auto rowsType =
        RankedTensorType::get({splits, ShapedType::kDynamic, taskRows}, f32);
    SmallVector<RankedTensorType> types = {
        RankedTensorType::get(
            {splits, ShapedType::kDynamic, taskRows, paddedDv}, f32),
        rowsType};
    if (withEntropy)
      types.push_back(rowsType);
    return types;
  };

  AttentionAlgebra algebra(b, loc, p);
  // The rows of block `block` in [B, Hq, M, ...] tensors: offsets, sizes
  // and strides of the block's [1, G', rows, Dv] slice (the first three of
  // each for max and sum), G' = G x taskHeads query heads from the task's
  // first KV head `kvHead`.
  int64_t taskGroup = taskHeads * group;
  struct BlockSlice {
    SmallVector<OpFoldResult> offsets, sizes, strides;
    Value rowsValid;
  };
  auto blockSlice = [&](Value batch, Value kvHead, Value block) {
    BlockSlice slice;
    Value q0 = mul(block, idx(cfg.blockQ));
    slice.rowsValid = sub(minI(add(q0, idx(cfg.blockQ)), lq), q0);
    slice.offsets = {batch, mul(kvHead, idx(group)), q0, b.getIndexAttr(0)};
    slice.sizes = {b.getIndexAttr(1), b.getIndexAttr(taskGroup),
                   slice.rowsValid, b.getIndexAttr(p.valueDim)};
    slice.strides.assign(4, b.getIndexAttr(1));
    return slice;
  };
  // Extracts the block's slices of `tensors` (the result or acc; then max
  // and sum). Full rank: a rank-reducing slice is ambiguous when sizes fold
  // to 1.
  auto extractBlock = [&](const BlockSlice &slice, ValueRange tensors) {
    SmallVector<Value> slices;
    for (auto [k, tensor] : llvm::enumerate(tensors)) {
      unsigned rank = k == 0 ? 4 : 3;
      SmallVector<int64_t> shape = {1, taskGroup, ShapedType::kDynamic,
                                    p.valueDim};
      shape.resize(rank);
      auto type = RankedTensorType::get(
          shape, cast<RankedTensorType>(tensor.getType()).getElementType());
      slices.push_back(tensor::ExtractSliceOp::create(
          b, loc, type, tensor, ArrayRef(slice.offsets).take_front(rank),
          ArrayRef(slice.sizes).take_front(rank),
          ArrayRef(slice.strides).take_front(rank)));
    }
    return slices;
  };

  // Writes rows [g, i] of block `block` into the forall's shared outputs
  // `outs`: the result through the epilogue (and the LSE and entropy), or
  // in state mode acc, max and sum. rowState(r) gives the m, l and t of the
  // task's state row r (m only when needsMax, t only withEntropy) and
  // rowVector(r, e) its O vectors; query head g of the task (of KV head
  // g / G) keeps row i in state row (g / G) paddedRows + (g % G) block_q +
  // i.
  bool needsMax = state || p.sinkLogits || p.lseInit || p.entropyInit;
  struct RowState {
    Value m, l, t;
  };
  auto writeBlock = [&](Value batch, Value kvHead, ValueRange outs, Value block,
                        scf::ForallOp forall,
                        function_ref<RowState(Value r)> rowState,
                        function_ref<Value(Value r, int64_t e)> rowVector) {
    BlockSlice slice = blockSlice(batch, kvHead, block);
    Type outElem =
        cast<RankedTensorType>(outs[0].getType()).getElementType();
    bool outInBounds = p.valueDim % lanes == 0;
    auto gLoop = scf::ForOp::create(
        b, loc, idx(0), idx(taskGroup), idx(1), extractBlock(slice, outs),
        [&](OpBuilder &gb, Location, Value g, ValueRange gAcc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(gb.getInsertionBlock(), gb.getInsertionPoint());
          auto iLoop = scf::ForOp::create(
              b, loc, idx(0), slice.rowsValid, idx(1), gAcc,
              [&](OpBuilder &ib, Location, Value i, ValueRange iAcc) {
                OpBuilder::InsertionGuard guard2(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                Value r = add(mul(g, idx(cfg.blockQ)), i);
                if (taskHeads > 1)
                  r = add(add(mul(div(g, idx(group)), idx(paddedRows)),
                              mul(rem(g, idx(group)), idx(cfg.blockQ))),
                          i);
                auto [m, l, t] = rowState(r);
                // The row's sink logit, weighed against its maximum.
                Value sinkWeight;
                if (!state && p.sinkLogits)
                  sinkWeight = algebra.sinkWeight(
                      tensor::ExtractOp::create(
                          b, loc, p.sinkLogits,
                          ValueRange{add(mul(kvHead, idx(group)), g)}),
                      m);
                SmallVector<Value> next(iAcc);
                if (!state && p.lseInit)
                  next[1] = tensor::InsertOp::create(
                      b, loc, algebra.logSumExp(m, l, sinkWeight), next[1],
                      ValueRange{idx(0), g, i});
                if (withEntropy)
                  next.back() = tensor::InsertOp::create(
                      b, loc, algebra.entropy(t, l, sinkWeight), next.back(),
                      ValueRange{idx(0), g, i});
                for (int64_t e = 0; e < valueVecs; ++e) {
                  Value o = rowVector(r, e);
                  if (!state)
                    o = algebra.epilogue(o, l, outElem, sinkWeight);
                  next[0] = vector::TransferWriteOp::create(
                                b, loc, o, next[0],
                                ValueRange{idx(0), g, i, idx(e * lanes)},
                                ArrayRef<bool>{outInBounds})
                                .getResult();
                }
                if (state) {
                  next[1] = tensor::InsertOp::create(
                      b, loc, m, next[1], ValueRange{idx(0), g, i});
                  next[2] = tensor::InsertOp::create(
                      b, loc, l, next[2], ValueRange{idx(0), g, i});
                }
                scf::YieldOp::create(b, loc, next);
              });
          scf::YieldOp::create(b, loc, iLoop.getResults());
        });
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    for (auto [k, out] : llvm::enumerate(outs)) {
      unsigned rank = k == 0 ? 4 : 3;
      tensor::ParallelInsertSliceOp::create(
          b, loc, gLoop.getResult(k), out,
          ArrayRef(slice.offsets).take_front(rank),
          ArrayRef(slice.sizes).take_front(rank),
          ArrayRef(slice.strides).take_front(rank));
    }
  };

  SmallVector<Value> outputs;
  if (state) {
    outputs = {state->acc, state->max, state->sum};
  } else {
    outputs = {p.init};
    if (p.lseInit)
      outputs.push_back(p.lseInit);
    if (p.entropyInit)
      outputs.push_back(p.entropyInit);
  }
  // With heads visited per tile, one task per batch and query block (its
  // first KV head 0) visits every KV head.
  return headLoop(
      batches, p.headsKV / taskHeads, outputs,
      [&](Value batch, Value kvHead, ValueRange carried) -> SmallVector<Value> {
        if (p.isPaged()) {
          // The request's keys, clamped into [0, capacity]; its queries
          // align to its own last keys.
          lk = pagedKeyLength(b, loc, p.keyLengths, batch, capacity);
          numTiles = ceilDiv(lk, cfg.blockK);
          ruleLq = lq;
        }
        Value packedKeys = cfg.packKeys ? packKeys(batch, kvHead) : Value();
        packedValues = cfg.bf16Dot ? packValuePairs(batch, kvHead) : Value();
        Value queries =
            featureProduct ? featureQueries(batch, kvHead) : p.query;

        SmallVector<Value> sharedOuts;
        if (splits == 1) {
          sharedOuts.assign(carried.begin(), carried.end());
        } else {
          for (RankedTensorType type : partialTypes())
            sharedOuts.push_back(
                tensor::EmptyOp::create(b, loc, type, ValueRange{numBlocks}));
        }
        auto forall = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{mul(numBlocks, idx(splits))},
            sharedOuts, std::nullopt);
        {
          OpBuilder::InsertionGuard guard2(b);
          b.setInsertionPoint(forall.getTerminator());
          Value iter = forall.getInductionVar(0);
          Value split = arith::RemUIOp::create(b, loc, iter, idx(splits));
          Value blockIter = arith::DivUIOp::create(b, loc, iter, idx(splits));
          // Heaviest blocks first, interleaved with the lightest so that
          // contiguous chunks of iterations cost about the same.
          Value half = arith::DivUIOp::create(b, loc, blockIter, idx(2));
          Value odd = cmpI(arith::CmpIPredicate::eq,
                           arith::RemUIOp::create(b, loc, blockIter, idx(2)),
                           idx(1));
          Value block = select(odd, half, sub(sub(numBlocks, idx(1)), half));
          Value q0 = mul(block, idx(cfg.blockQ));
          Value qEnd = minI(add(q0, idx(cfg.blockQ)), lq);
          Value qLast = sub(qEnd, idx(1));
          Value rowsValid = sub(qEnd, q0);

          auto memType = [&](ArrayRef<int64_t> shape) {
            return MemRefType::get(shape, f32);
          };
          Value oAcc = memref::AllocaOp::create(
              b, loc, memType({taskRows, paddedDv}), b.getI64IntegerAttr(64));
          Value mRow = memref::AllocaOp::create(b, loc, memType({taskRows}));
          Value lRow = memref::AllocaOp::create(b, loc, memType({taskRows}));
          Value tRow =
              withEntropy
                  ? memref::AllocaOp::create(b, loc, memType({taskRows}))
                        .getResult()
                  : Value();
          Value pBuf = memref::AllocaOp::create(
              b, loc, memType({mr, cfg.blockK}), b.getI64IntegerAttr(64));
          pairBuf =
              cfg.bf16Dot
                  ? memref::AllocaOp::create(
                        b, loc,
                        MemRefType::get({mr, cfg.blockK}, b.getBF16Type()),
                        b.getI64IntegerAttr(64))
                        .getResult()
                  : Value();
          if (p.isPaged())
            tilePages = memref::AllocaOp::create(
                b, loc, MemRefType::get({cfg.blockK}, b.getIndexType()));
          Value partBuf = cfg.packKeys
                              ? Value()
                              : memref::AllocaOp::create(
                                    b, loc, memType({mr, cfg.blockK, lanes}),
                                    b.getI64IntegerAttr(64))
                                    .getResult();
          // The rows' state: the empty one, or in state mode with a state
          // to read, the block's rows of it (with splits, in split 0 only:
          // the others start empty, and the merge adds them to it).
          SmallVector<Value> stateRows;
          Value readsState;
          if (state && !state->empty) {
            stateRows = extractBlock(
                blockSlice(batch, kvHead, block),
                splits == 1 ? ValueRange(forall.getRegionIterArgs())
                            : carried);
            readsState = splits == 1
                             ? Value()
                             : cmpI(arith::CmpIPredicate::eq, split, idx(0));
          }
          scf::ForOp::create(
              b, loc, idx(0), idx(taskRows), idx(1), ValueRange{},
              [&](OpBuilder &ib, Location, Value r, ValueRange) {
                OpBuilder::InsertionGuard guard3(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                Value m = fconst(algebra.initialMax()), l = fconst(0.0);
                SmallVector<Value> o(valueVecs, vconst(0.0));
                if (!stateRows.empty()) {
                  // Row r is (g, i) of the slice; padding rows and rows
                  // past Lq read a clamped row and keep the empty state.
                  Value g = minI(arith::DivUIOp::create(b, loc, r,
                                                        idx(cfg.blockQ)),
                                 idx(group - 1));
                  Value i = arith::RemUIOp::create(b, loc, r, idx(cfg.blockQ));
                  Value valid =
                      andI(cmpI(arith::CmpIPredicate::slt, r, idx(rows)),
                           cmpI(arith::CmpIPredicate::slt, i, rowsValid));
                  if (readsState)
                    valid = andI(valid, readsState);
                  Value ic = minI(i, sub(rowsValid, idx(1)));
                  SmallVector<Value> at3 = {idx(0), g, ic};
                  m = select(valid,
                             tensor::ExtractOp::create(b, loc, stateRows[1],
                                                       at3),
                             m);
                  l = select(valid,
                             tensor::ExtractOp::create(b, loc, stateRows[2],
                                                       at3),
                             l);
                  for (int64_t e = 0; e < valueVecs; ++e)
                    o[e] = select(
                        valid,
                        vector::TransferReadOp::create(
                            b, loc, vecType, stateRows[0],
                            ValueRange{idx(0), g, ic, idx(e * lanes)},
                            fconst(0.0), ArrayRef<bool>{false}),
                        o[e]);
                }
                memref::StoreOp::create(b, loc, m, mRow, ValueRange{r});
                memref::StoreOp::create(b, loc, l, lRow, ValueRange{r});
                if (tRow)
                  memref::StoreOp::create(b, loc, fconst(0.0), tRow,
                                          ValueRange{r});
                for (int64_t e = 0; e < valueVecs; ++e)
                  vector::StoreOp::create(b, loc, o[e], oAcc,
                                          ValueRange{r, idx(e * lanes)});
                scf::YieldOp::create(b, loc);
              });

          // KV tiles the block's rows can see: sink tiles, then the band,
          // each cut to this task's split of the tiles.
          Value tLo = idx(0), numBand = numTiles, numSink = idx(0);
          if (banded) {
            KeyBounds bounds = keyBounds(q0, qLast);
            tLo = arith::DivUIOp::create(b, loc, bounds.lo, idx(cfg.blockK));
            Value tHi = floorDiv(bounds.hi, cfg.blockK);
            Value nonEmpty =
                cmpI(arith::CmpIPredicate::sle, bounds.lo, bounds.hi);
            numBand = select(nonEmpty, maxI(idx(0), add(sub(tHi, tLo), idx(1))),
                             idx(0));
            Value sinkTiles =
                select(cmpI(arith::CmpIPredicate::sge, bounds.sinkHi, idx(0)),
                       add(floorDiv(bounds.sinkHi, cfg.blockK), idx(1)),
                       idx(0));
            numSink = minI(sinkTiles, select(nonEmpty, tLo, sinkTiles));
            // Sink tiles past the band's last tile (a band that ends before
            // the sinks do): the band runs on to the last sink tile, so that
            // the visits cover [0, sinkTiles) and [tLo, tHi] both.
            Value bandEnd = add(tLo, numBand);
            numBand = select(
                andI(nonEmpty, cmpI(arith::CmpIPredicate::sgt, sinkTiles, tLo)),
                sub(maxI(bandEnd, sinkTiles), tLo), numBand);
          }
          Value sinkStart = idx(0);
          if (splits > 1) {
            Value perSplit = ceilDiv(numTiles, splits);
            Value sLo = mul(split, perSplit);
            Value sHi = minI(add(sLo, perSplit), numTiles);
            Value bandLo = maxI(tLo, sLo);
            Value bandHi = minI(add(tLo, numBand), sHi);
            numBand = maxI(idx(0), sub(bandHi, bandLo));
            tLo = bandLo;
            numSink = maxI(idx(0), sub(minI(numSink, sHi), sLo));
            sinkStart = sLo;
          }
          Value visits = add(numSink, numBand);
          if (listOffsets) {
            // Constant mask: only the listed (non-empty) blocks.
            Value key = blockListKey(batch, kvHead, block);
            Value first = tensor::ExtractOp::create(b, loc, listOffsets,
                                                    ValueRange{key});
            Value last = tensor::ExtractOp::create(b, loc, listOffsets,
                                                   ValueRange{add(key, idx(1))});
            numSink = idx(0);
            sinkStart = idx(0);
            tLo = first;
            visits = sub(last, first);
          }
          int64_t microTiles = paddedRows / mr;
          scf::ForOp::create(
              b, loc, idx(0), visits, idx(1), ValueRange{},
              [&](OpBuilder &tb, Location, Value v, ValueRange) {
                OpBuilder::InsertionGuard guard3(b);
                b.setInsertionPoint(tb.getInsertionBlock(),
                                    tb.getInsertionPoint());
                Value inSinks = cmpI(arith::CmpIPredicate::slt, v, numSink);
                Value tile = select(inSinks, add(sinkStart, v),
                                    add(tLo, sub(v, numSink)));
                Value listedFull;
                if (listOffsets) {
                  Value entry = tile;
                  tile = tensor::ExtractOp::create(b, loc, listTiles,
                                                   ValueRange{entry});
                  listedFull = tensor::ExtractOp::create(b, loc, listFull,
                                                         ValueRange{entry});
                }
                Value kvStart = mul(tile, idx(cfg.blockK));
                Value kvEnd = add(kvStart, idx(cfg.blockK - 1));
                if (tilePages)
                  fillTilePages(batch, kvStart);
                // The tile for KV head `head`, whose rows' state starts at
                // row `stateBase` of the task's buffers.
                auto visitHead = [&](Value head, Value stateBase) {
                  Value blockVisit, blockFull = listedFull;
                  if (!listOffsets && blockCounts)
                    std::tie(blockVisit, blockFull) =
                        blockState(batch, head, block, tile);
                  Value modFull;
                  if (modTiles) {
                    Value modVisit;
                    std::tie(modVisit, modFull) =
                        modState(batch, head, block, tile);
                    blockVisit =
                        blockVisit ? andI(blockVisit, modVisit) : modVisit;
                  }
                  auto microLoop = [&]() {
                    scf::ForOp::create(
                        b, loc, idx(0), idx(microTiles), idx(1), ValueRange{},
                        [&](OpBuilder &mb, Location, Value mt, ValueRange) {
                          OpBuilder::InsertionGuard guard4(b);
                          b.setInsertionPoint(mb.getInsertionBlock(),
                                              mb.getInsertionPoint());
                          Value rowBase = mul(mt, idx(mr));
                          // Rows r of the block: head g = r / block_q, query
                          // q0 + r % block_q; rows past the block or past Lq
                          // are computed on a clamped row and never written.
                          MicroRows micro;
                          for (int64_t r = 0; r < mr; ++r) {
                            Value row = add(rowBase, idx(r));
                            Value g = minI(arith::DivUIOp::create(
                                               b, loc, row, idx(cfg.blockQ)),
                                           idx(group - 1));
                            Value i =
                                add(q0, arith::RemUIOp::create(
                                            b, loc, row, idx(cfg.blockQ)));
                            micro.group.push_back(g);
                            micro.head.push_back(add(mul(head, idx(group)), g));
                            micro.row.push_back(minI(i, qLast));
                          }
                          Value firstOffset = arith::RemUIOp::create(
                              b, loc, rowBase, idx(cfg.blockQ));
                          Value wraps =
                              cmpI(arith::CmpIPredicate::sgt,
                                   add(firstOffset, idx(mr)), idx(cfg.blockQ));
                          micro.iMin = select(wraps, q0, micro.row[0]);
                          micro.iMax = select(
                              wraps, qLast,
                              minI(add(add(q0, firstOffset), idx(mr - 1)),
                                   qLast));
                          Value visit =
                              andI(cmpI(arith::CmpIPredicate::slt, rowBase,
                                        idx(rows)),
                                   orI(wraps, cmpI(arith::CmpIPredicate::slt,
                                                   firstOffset, rowsValid)));
                          if (banded) {
                            KeyBounds bounds =
                                keyBounds(micro.iMin, micro.iMax);
                            KeyBounds firstRow =
                                keyBounds(micro.iMin, micro.iMin);
                            Value band = andI(cmpI(arith::CmpIPredicate::sle,
                                                   firstRow.lo, kvEnd),
                                              cmpI(arith::CmpIPredicate::sle,
                                                   kvStart, bounds.hi));
                            band = andI(band, cmpI(arith::CmpIPredicate::sle,
                                                   firstRow.lo, bounds.hi));
                            Value sink = cmpI(arith::CmpIPredicate::sle,
                                              kvStart, bounds.sinkHi);
                            visit = andI(visit, orI(band, sink));
                          }
                          Value microModFull = modFull;
                          if (modTiles) {
                            // In a partial block, the mod on just the
                            // micro-tile's rows (those of one head when it does
                            // not wrap) may skip it or find it full; a full
                            // block needs no second look.
                            Type i1 = b.getI1Type();
                            auto refine = scf::IfOp::create(
                                b, loc, TypeRange{i1, i1}, modFull,
                                /*withElseRegion=*/true);
                            {
                              OpBuilder::InsertionGuard guard(b);
                              b.setInsertionPointToStart(refine.thenBlock());
                              Value yes =
                                  arith::ConstantIntOp::create(b, loc, 1, 1);
                              scf::YieldOp::create(b, loc,
                                                   ValueRange{yes, yes});
                              b.setInsertionPointToStart(refine.elseBlock());
                              auto [may, must] = modClassifier->rowsInTile(
                                  batch, micro.head[0], micro.iMin,
                                  minI(micro.iMax,
                                       add(micro.iMin, idx(mr - 1))),
                                  tile);
                              scf::YieldOp::create(b, loc,
                                                   ValueRange{may, must});
                            }
                            Value may = refine.getResult(0);
                            Value must = refine.getResult(1);
                            visit = andI(visit, orI(wraps, may));
                            Value no =
                                arith::ConstantIntOp::create(b, loc, 0, 1);
                            microModFull =
                                orI(modFull, select(wraps, no, must));
                          }
                          if (maskCounts) {
                            // Skip tiles that the mask leaves empty for all
                            // rows of the micro-tile.
                            Value any =
                                arith::ConstantIntOp::create(b, loc, 0, 1);
                            for (int64_t r = 0; r < mr; ++r)
                              any = orI(any,
                                        cmpI(arith::CmpIPredicate::ne,
                                             maskCount(batch, micro, r, tile),
                                             arith::ConstantIntOp::create(
                                                 b, loc, 0, 32)));
                            visit = andI(visit, any);
                          }
                          if (p.isNeighborhood) {
                            auto [lo, hi] = neighborhoodRows(micro);
                            visit = andI(
                                visit,
                                andI(cmpI(arith::CmpIPredicate::sle, lo, kvEnd),
                                     cmpI(arith::CmpIPredicate::sle, kvStart,
                                          hi)));
                          }
                          scf::IfOp::create(
                              b, loc, visit, [&](OpBuilder &xb, Location) {
                                OpBuilder::InsertionGuard guard5(b);
                                b.setInsertionPoint(xb.getInsertionBlock(),
                                                    xb.getInsertionPoint());
                                emitMicroTile(batch, head, micro,
                                              add(stateBase, rowBase), tile,
                                              packedKeys, queries, oAcc, mRow,
                                              lRow, tRow, pBuf, partBuf,
                                              blockFull, microModFull);
                                scf::YieldOp::create(b, loc);
                              });
                          scf::YieldOp::create(b, loc);
                        });
                  };
                  if (blockVisit) {
                    scf::IfOp::create(
                        b, loc, blockVisit, [&](OpBuilder &ib, Location) {
                          OpBuilder::InsertionGuard g(b);
                          b.setInsertionPoint(ib.getInsertionBlock(),
                                              ib.getInsertionPoint());
                          microLoop();
                          scf::YieldOp::create(b, loc);
                        });
                  } else {
                    microLoop();
                  }
                };
                if (taskHeads == 1)
                  visitHead(kvHead, idx(0));
                else
                  forLoop(idx(0), idx(taskHeads), idx(1), [&](Value head) {
                    visitHead(head, mul(head, idx(paddedRows)));
                  });
                scf::YieldOp::create(b, loc);
              });

          if (splits == 1) {
            writeBlock(
                batch, kvHead, forall.getRegionIterArgs(), block, forall,
                [&](Value r) -> RowState {
                  auto load = [&](Value row) -> Value {
                    return row ? memref::LoadOp::create(b, loc, row,
                                                        ValueRange{r})
                                     .getResult()
                               : Value();
                  };
                  return {needsMax ? load(mRow) : Value(), load(lRow),
                          load(tRow)};
                },
                [&](Value r, int64_t e) -> Value {
                  return vector::LoadOp::create(b, loc, vecType, oAcc,
                                                ValueRange{r, idx(e * lanes)});
                });
          } else {
            // This split's state: O / l, its LSE (and entropy).
            ValueRange outs = forall.getRegionIterArgs();
            SmallVector<OpFoldResult> oOff = {split, block, b.getIndexAttr(0),
                                              b.getIndexAttr(0)};
            SmallVector<OpFoldResult> oSize = {
                b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(taskRows),
                b.getIndexAttr(paddedDv)};
            SmallVector<OpFoldResult> rOff = {split, block, b.getIndexAttr(0)};
            SmallVector<OpFoldResult> rSize = {
                b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(taskRows)};
            auto oType = RankedTensorType::get({1, 1, taskRows, paddedDv}, f32);
            auto rType = RankedTensorType::get({1, 1, taskRows}, f32);
            SmallVector<OpFoldResult> one4(4, b.getIndexAttr(1)),
                one3(3, b.getIndexAttr(1));
            SmallVector<Value> slices = {tensor::ExtractSliceOp::create(
                b, loc, oType, outs[0], oOff, oSize, one4)};
            for (size_t k = 1; k < outs.size(); ++k)
              slices.push_back(tensor::ExtractSliceOp::create(
                  b, loc, rType, outs[k], rOff, rSize, one3));
            auto rLoop = scf::ForOp::create(
                b, loc, idx(0), idx(taskRows), idx(1), slices,
                [&](OpBuilder &rb, Location, Value r, ValueRange t) {
                  OpBuilder::InsertionGuard guard3(b);
                  b.setInsertionPoint(rb.getInsertionBlock(),
                                      rb.getInsertionPoint());
                  Value l = memref::LoadOp::create(b, loc, lRow, ValueRange{r});
                  Value o = t[0];
                  for (int64_t e = 0; e < valueVecs; ++e)
                    o = vector::TransferWriteOp::create(
                            b, loc,
                            algebra.epilogue(
                                vector::LoadOp::create(
                                    b, loc, vecType, oAcc,
                                    ValueRange{r, idx(e * lanes)}),
                                l, f32),
                            o, ValueRange{idx(0), idx(0), r, idx(e * lanes)},
                            ArrayRef<bool>{true})
                            .getResult();
                  SmallVector<Value> rowValues = {algebra.logSumExp(
                      memref::LoadOp::create(b, loc, mRow, ValueRange{r}), l)};
                  if (tRow)
                    rowValues.push_back(algebra.entropy(
                        memref::LoadOp::create(b, loc, tRow, ValueRange{r}),
                        l));
                  SmallVector<Value> next = {o};
                  for (auto [k, value] : llvm::enumerate(rowValues))
                    next.push_back(tensor::InsertOp::create(
                        b, loc, value, t[1 + k],
                        ValueRange{idx(0), idx(0), r}));
                  scf::YieldOp::create(b, loc, next);
                });
            OpBuilder::InsertionGuard guard3(b);
            b.setInsertionPointToStart(forall.getTerminator().getBody());
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(0),
                                                  outs[0], oOff, oSize, one4);
            for (size_t k = 1; k < outs.size(); ++k)
              tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(k),
                                                    outs[k], rOff, rSize, one3);
          }
        }
        if (splits == 1)
          return SmallVector<Value>(forall.getResults());

        // The splits' states merged by attn.merge_states, then written as
        // the result (through the epilogue: sinks, the element type) or as
        // the state (O, m = LSE log2 e, l = 1; l = 0 where LSE = -inf).
        MergeStatesOp merged = mergeSplitStates(
            b, loc, forall.getResult(0), forall.getResult(1),
            withEntropy ? forall.getResult(2) : Value());
        auto merge = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{numBlocks}, carried, std::nullopt);
        {
          OpBuilder::InsertionGuard guard2(b);
          b.setInsertionPoint(merge.getTerminator());
          Value block = merge.getInductionVar(0);
          writeBlock(
              batch, kvHead, merge.getRegionIterArgs(), block, merge,
              [&](Value r) -> RowState {
                auto row = [&](Value tensor) -> Value {
                  return tensor::ExtractOp::create(b, loc, tensor,
                                                   ValueRange{block, r});
                };
                auto [m, l, t] = algebra.stateOfNormalized(
                    row(merged.getLse()), merged.getEntropy()
                                              ? row(merged.getEntropy())
                                              : Value());
                return {m, l, t};
              },
              [&](Value r, int64_t e) -> Value {
                return vector::TransferReadOp::create(
                    b, loc, vecType, merged.getResult(),
                    ValueRange{block, r, idx(e * lanes)}, fconst(0.0),
                    ArrayRef<bool>{true});
              });
        }
        return SmallVector<Value>(merge.getResults());
      });
}

SmallVector<Value>
mlir::attn::buildFlashAttention(RewriterBase &rewriter,
                                const AttentionProblem &problem,
                                const FlashKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  if (!problem.isNeighborhood) {
    FlashEmitter emitter(rewriter, problem, config);
    return emitter.build();
  }
  // A neighborhood is attention over the flattened positions whose allowed
  // keys follow NATTEN's rule, computed per element.
  return buildOnFlattenedPositions(
      rewriter, problem,
      [&](const AttentionProblem &flat, ArrayRef<Value> extents) {
        FlashEmitter emitter(rewriter, flat, config);
        emitter.spatialExtents.assign(extents.begin(), extents.end());
        return emitter.build();
      });
}

LogicalResult mlir::attn::lowerTileToFlashKernel(
    RewriterBase &rewriter, OnlineAttentionOp tile,
    const FlashKernelConfig &config) {
  FailureOr<TileOpForm> form =
      getTileOpForm(rewriter, tile, "CPU flash kernel");
  if (failed(form))
    return failure();
  FlashEmitter emitter(rewriter, form->problem, config, form->state);
  emitter.queryShift = form->queryShift;
  form->replace(rewriter, tile, emitter.build());
  return success();
}
