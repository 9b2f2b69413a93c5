//===- GpuFlashKernel.cpp - FlashAttention-2 as a GPU kernel --------------===//
//
// See GpuFlashKernel.h. Host side: each operand becomes a buffer and the
// result an allocated one (attn-gpu-device-buffers later gives the launches
// device copies of them), then the launches run. Device side,
// per thread block of block_q query rows (one per thread):
//   q row scaled into registers; m = -inf, l = 0, o = 0
//   for each key tile this block (and split) may see:
//     all threads stage K and V rows of the tile in shared memory; barrier
//     each thread: for each allowed key: online softmax update in exp2
//     barrier
//   o / l to the result (or, with splits, the split's (o / l, LSE, entropy)
//   to [split, B, Hq, Lq, ...] buffers, which attn.merge_states merges:
//   into the results, or for sinks and state outputs into a merged state
//   that one more launch writes)
// With tensor cores (f16 or bf16), the block's Q rows are staged in shared
// memory once, and each warp computes the scores of its 32 rows against the
// tile with nvgpu.mma.sync m16n8k16 (f32 accumulation; bf16 is lowered by
// attn-convert-bf16-mma-sync-to-nvvm) into a shared score tile that the
// rows' online softmax then reads;
// fragments follow the PTX layouts:
//   A (16x16, row): a[i] at row g + 8 (i/2 % 2), col 2t + i%2 + 8 (i/4)
//   B (16x8, col):  b[i] at k 2t + i%2 + 8 (i/2), n g
//   C (16x8):       c[i] at row g + 8 (i/2), col 2t + i%2
// with g = lane / 4 and t = lane % 4.
// The gpu.launch is outlined, lowered to NVVM and serialized to PTX/cubin
// (or to SPIR-V for Vulkan) by attn-gpu-pipeline; the host calls
// libattn_runtime's mgpu* functions. The configuration and its limits are
// GpuKernelLimits.cpp's.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/MaskTiles.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Strategies/Common/ModTileClasses.h"
#include "attn/Strategies/Common/PagedKV.h"
#include "attn/Strategies/Common/QuantizedKV.h"
#include "attn/Strategies/Common/WholeProblemTile.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/ADT/ScopeExit.h"

#include <limits>
#include <tuple>

using namespace mlir;
using namespace mlir::attn;

namespace {

class GpuEmitter : KernelBuilder {
public:
  GpuEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
             const GpuKernelConfig &config,
             SmallVector<Value> spatialExtents)
      : KernelBuilder(rewriter, problem.op->getLoc(), /*lanes=*/1),
        p(problem), cfg(config), extents(std::move(spatialExtents)) {
    group = p.groupSize();
    // verifyGpuKernelConfig checked that tensor cores can run as asked.
    mma = cfg.tensorCores;
  }

  /// The result (output mode), or with `state` the tile op's updated acc,
  /// max and sum.
  SmallVector<Value> build();

  /// A tile op's query_position - key_position: row i sees the keys of the
  /// row at aligned position i + queryShift. Null: Lk - Lq.
  Value queryShift;
  /// A tile op's state, which the kernel then updates instead of writing
  /// acc / sum into problem.init.
  std::optional<TileState> state;

private:
  /// phi of elu1/relu scores.
  Value featureMap(Value x) {
    return p.score.getFunction()->featureMap(b, loc, x);
  }

  /// S = Q K^T of the key tile into `scores` [block_q, block_k]: each warp
  /// its 32 rows, with mma.sync.
  void emitTileScores(Value queries, Value keys, Value scores, Value tid);
  /// Dot product of the query row `qr` with key `j` of the staged tile.
  Value rowDot(Value qr, Value keys, Value j);
  void emitAttentionKernel(Value qBuf, Value kBuf, Value vBuf, Value maskBuf,
                           Value biasBuf, Value out, Value partO,
                           Value partLse, Value partEntropy);
  /// Writes the normalized state (O, LSE, H) that attn.merge_states made of
  /// the splits' states as the result (the sinks' weight, the element type)
  /// or as the tile op's state.
  void emitFinishKernel(Value out, Value mergedO, Value mergedLse,
                        Value mergedEntropy);
  /// Writes one row's finished state (m, l, t; O element e from `oAt`):
  /// in state mode as acc, max and sum; otherwise through the epilogue
  /// (the sink's weight, the element type) into `out`, and its LSE and
  /// entropy where the results have them.
  void writeRow(Value out, Value batch, Value head, Value row,
                AttentionAlgebra::NormalizedRowState state,
                function_ref<Value(Value e)> oAt);
  const AttentionProblem &p;
  GpuKernelConfig cfg;
  SmallVector<Value> extents;
  int64_t group;
  /// Rows, keys, and the query length the rules take (row i aligned at
  /// i + lk - ruleLq).
  Value batches, lq, lk, ruleLq, numBlocks, numTiles;
  /// block_sparse: allowed keys per mask tile, on the device (or null).
  Value tileCounts;
  /// The mask_mod's tile classes (ModTileClasses.h), on the device, or null.
  Value modClasses;
  /// State mode: the state's buffers, read (null when empty) and written.
  Value accIn, maxIn, sumIn, accOut, maxOut, sumOut;
  /// The LSE and entropy results' buffers, when the fused finalize has
  /// them (the entropy adds a part t to each row's state).
  Value lseOut, entropyOut;
  /// Whether rows keep the entropy part t: the fused finalize returns the
  /// entropy.
  bool withEntropy = false;
  /// The buffers of the tables the mods read, and of the sink logits.
  DenseMap<Value, Value> modBuffers;
  Value sinkBuf;
  /// Quantized K/V: the scales' buffers (QuantizedKV.h), or null.
  Value keyScaleBuf, valueScaleBuf;
  /// Paged K/V: the page table's and the key lengths' buffers, or null.
  Value tableBuf, lengthsBuf;
  ProblemSizes sizes;
  KernelBuffers buffers{b, loc};
  bool mma = false; ///< Q K^T on tensor cores.
};

void GpuEmitter::emitTileScores(Value queries, Value keys, Value scores,
                                Value tid) {
  constexpr int64_t kWarp = 32, kRowTiles = kWarp / 16;
  int64_t colTiles = cfg.blockK / 8;
  Type half = cast<MemRefType>(queries.getType()).getElementType();
  auto aType = VectorType::get({4, 2}, half);
  auto bType = VectorType::get({2, 2}, half);
  auto accType = VectorType::get({2, 2}, f32);
  Value lane = rem(tid, idx(kWarp));
  Value warpRow = mul(div(tid, idx(kWarp)), idx(kWarp));
  Value g = div(lane, idx(4)), t2 = mul(rem(lane, idx(4)), idx(2));
  auto load = [&](Value tile, Value r, Value c) -> Value {
    return memref::LoadOp::create(b, loc, tile, ValueRange{r, c});
  };
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
  SmallVector<Value> init(kRowTiles * colTiles, zero);
  auto kLoop = scf::ForOp::create(
      b, loc, idx(0), idx(mmaPaddedHeadDim(p)), idx(16), init,
      [&](OpBuilder &nb, Location, Value k0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value cLo = add(k0, t2), cHi = add(cLo, idx(8));
        Value cLo1 = add(cLo, idx(1)), cHi1 = add(cHi, idx(1));
        SmallVector<Value> a, bf;
        for (int64_t mt = 0; mt < kRowTiles; ++mt) {
          Value r0 = add(add(warpRow, idx(mt * 16)), g);
          Value r1 = add(r0, idx(8));
          a.push_back(vector::FromElementsOp::create(
              b, loc, aType,
              ValueRange{load(queries, r0, cLo), load(queries, r0, cLo1),
                         load(queries, r1, cLo), load(queries, r1, cLo1),
                         load(queries, r0, cHi), load(queries, r0, cHi1),
                         load(queries, r1, cHi), load(queries, r1, cHi1)}));
        }
        for (int64_t nt = 0; nt < colTiles; ++nt) {
          Value n = add(idx(nt * 8), g);
          bf.push_back(vector::FromElementsOp::create(
              b, loc, bType,
              ValueRange{load(keys, n, cLo), load(keys, n, cLo1),
                         load(keys, n, cHi), load(keys, n, cHi1)}));
        }
        SmallVector<Value> next;
        for (int64_t mt = 0; mt < kRowTiles; ++mt)
          for (int64_t nt = 0; nt < colTiles; ++nt)
            next.push_back(nvgpu::MmaSyncOp::create(
                b, loc, a[mt], bf[nt], acc[mt * colTiles + nt],
                ArrayRef<int64_t>{16, 8, 16}));
        scf::YieldOp::create(b, loc, next);
      });
  for (int64_t mt = 0; mt < kRowTiles; ++mt)
    for (int64_t nt = 0; nt < colTiles; ++nt) {
      Value c = kLoop.getResult(mt * colTiles + nt);
      Value r0 = add(add(warpRow, idx(mt * 16)), g);
      Value col = add(idx(nt * 8), t2);
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 2; ++j)
          memref::StoreOp::create(
              b, loc,
              vector::ExtractOp::create(b, loc, c, ArrayRef<int64_t>{i, j}),
              scores, ValueRange{add(r0, idx(8 * i)), add(col, idx(j))});
    }
}

Value GpuEmitter::rowDot(Value qr, Value keys, Value j) {
  auto dot = scf::ForOp::create(
      b, loc, idx(0), idx(p.headDim), idx(1), ValueRange{fconst(0.0)},
      [&](OpBuilder &db, Location, Value dd, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(db.getInsertionBlock(), db.getInsertionPoint());
        Value prod = arith::MulFOp::create(
            b, loc, memref::LoadOp::create(b, loc, qr, ValueRange{dd}),
            memref::LoadOp::create(b, loc, keys, ValueRange{j, dd}));
        scf::YieldOp::create(
            b, loc, ValueRange{arith::AddFOp::create(b, loc, acc[0], prod)});
      });
  return dot.getResult(0);
}

void GpuEmitter::emitAttentionKernel(Value qBuf, Value kBuf, Value vBuf,
                                     Value maskBuf, Value biasBuf, Value out,
                                     Value partO, Value partLse,
                                     Value partEntropy) {
  int64_t d = p.headDim, dvDim = p.valueDim, bq = cfg.blockQ, bk = cfg.blockK;
  Attribute workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::AddressSpace::Workgroup);
  Attribute priv = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Private);
  // Tensor cores: K, V and the block's Q rows staged as f16/bf16 (K and Q with
  // the head dimension padded to the mma k step), plus the score tile.
  int64_t dStaged = mma ? mmaPaddedHeadDim(p) : d;
  Type staged = mma ? cast<ShapedType>(p.query.getType()).getElementType()
                   : f32;
  SmallVector<Type> shared = {
      MemRefType::get({bk, dStaged}, staged, AffineMap(), workgroup),
      MemRefType::get({bk, dvDim}, staged, AffineMap(), workgroup)};
  if (mma) {
    shared.push_back(
        MemRefType::get({bq, dStaged}, staged, AffineMap(), workgroup));
    shared.push_back(MemRefType::get({bq, bk}, f32, AffineMap(), workgroup));
  }
  SmallVector<Type> registers = {
      MemRefType::get({dvDim}, f32, AffineMap(), priv)};
  if (!mma)
    registers.push_back(MemRefType::get({d}, f32, AffineMap(), priv));
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      b, loc, numBlocks, mul(batches, idx(p.headsQ)), idx(cfg.splits),
      idx(bq), one, one, Value(), Type(), ValueRange{}, shared, registers);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value keys = launch.getWorkgroupAttributions()[0];
  Value values = launch.getWorkgroupAttributions()[1];
  Value queryTile = mma ? Value(launch.getWorkgroupAttributions()[2]) : Value();
  Value scoreTile = mma ? Value(launch.getWorkgroupAttributions()[3]) : Value();
  Value orow = launch.getPrivateAttributions()[0];
  Value qr = mma ? Value() : Value(launch.getPrivateAttributions()[1]);

  Value block = launch.getBlockIds().x, bh = launch.getBlockIds().y;
  Value split = launch.getBlockIds().z, tid = launch.getThreadIds().x;
  Value batch = div(bh, idx(p.headsQ)), head = rem(bh, idx(p.headsQ));
  Value kvHead = div(head, idx(group));
  // Paged: the request's own length decides its tiles and rules inside the
  // kernel; the host's values (the table's capacity) come back after it.
  auto hostSizes = std::make_tuple(lk, numTiles, ruleLq, sizes);
  llvm::scope_exit restoreSizes(
      [&] { std::tie(lk, numTiles, ruleLq, sizes) = hostSizes; });
  if (tableBuf) {
    lk = pagedKeyLength(b, loc, lengthsBuf, batch, lk);
    numTiles = arith::CeilDivUIOp::create(b, loc, lk, idx(bk));
    ruleLq = lq;
    sizes.queryShape = {ruleLq};
    sizes.keyShape = {lk};
  }
  Value row = add(mul(block, idx(bq)), tid);
  Value valid = cmpI(arith::CmpIPredicate::slt, row, lq);
  Value rowClamped = minI(row, sub(lq, idx(1)));
  Value rowsLo = mul(block, idx(bq));
  Value rowsHi = sub(minI(add(rowsLo, idx(bq)), lq), idx(1));

  AttentionAlgebra algebra(b, loc, p);
  bool tracksMax = algebra.tracksMax();
  bool featureProduct = p.score.isFeatureProduct();
  // The scale of the scores, applied to the query row (to the scores with
  // tensor cores); phi(scale q) for feature maps.
  double qScale = featureProduct ? p.scale : algebra.scoreScale();

  if (mma) {
    // The block's query rows as f16/bf16, zero beyond Lq and the head
    // dimension; the scale is applied to the scores.
    forLoop(tid, idx(bq * dStaged), idx(bq), [&](Value flat) {
      Value r = div(flat, idx(dStaged)), c = rem(flat, idx(dStaged));
      Value qRowIndex = add(rowsLo, r);
      Value inside = andI(cmpI(arith::CmpIPredicate::slt, qRowIndex, lq),
                          cmpI(arith::CmpIPredicate::slt, c, idx(d)));
      Value x = memref::LoadOp::create(
          b, loc, qBuf,
          ValueRange{batch, head, minI(qRowIndex, sub(lq, one)),
                     minI(c, idx(d - 1))});
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(staged));
      memref::StoreOp::create(b, loc, select(inside, x, zero), queryTile,
                              ValueRange{r, c});
    });
  } else {
    // The query row, scaled (phi(scale q) for feature maps), in registers.
    forLoop(idx(0), idx(d), one, [&](Value dd) {
      Value x = toF32(memref::LoadOp::create(
          b, loc, qBuf, ValueRange{batch, head, rowClamped, dd}));
      x = arith::MulFOp::create(b, loc, x, fconst(qScale));
      if (featureProduct)
        x = featureMap(x);
      memref::StoreOp::create(b, loc, x, qr, ValueRange{dd});
    });
  }
  // The row's state: the empty one, or the tile op's (with splits, in
  // split 0 only: the merge adds the others to it). Rows past Lq read a
  // clamped row and are never written.
  Value readsState;
  if (accIn)
    readsState = cfg.splits == 1
                     ? Value(valid)
                     : andI(valid, cmpI(arith::CmpIPredicate::eq, split,
                                        idx(0)));
  forLoop(idx(0), idx(dvDim), one, [&](Value e) {
    Value o = fconst(0.0);
    if (readsState)
      o = select(readsState,
                 memref::LoadOp::create(b, loc, accIn,
                                        ValueRange{batch, head, rowClamped, e}),
                 o);
    memref::StoreOp::create(b, loc, o, orow, ValueRange{e});
  });

  // Key tiles of this split; a tile is visited when some row of the block
  // may see it (uniform across the block, so barriers stay uniform).
  Value perSplit = arith::CeilDivUIOp::create(b, loc, numTiles,
                                              idx(cfg.splits));
  Value tFirst = mul(split, perSplit);
  Value tEnd = minI(add(tFirst, perSplit), numTiles);
  Value mInit = fconst(algebra.initialMax()), lInit = fconst(0.0);
  if (readsState) {
    SmallVector<Value> at = {batch, head, rowClamped};
    mInit = select(readsState, memref::LoadOp::create(b, loc, maxIn, at),
                   mInit);
    lInit = select(readsState, memref::LoadOp::create(b, loc, sumIn, at),
                   lInit);
  }
  // The row's state in registers: m, l (and the entropy part t).
  SmallVector<Value> stateInit = {mInit, lInit};
  if (withEntropy)
    stateInit.push_back(fconst(0.0));
  auto tileLoop = scf::ForOp::create(
      b, loc, tFirst, tEnd, one, stateInit,
      [&](OpBuilder &nb, Location, Value t, ValueRange ml) {
        OpBuilder::InsertionGuard g1(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value kvStart = mul(t, idx(bk));
        Value kvEnd = sub(minI(add(kvStart, idx(bk)), lk), one);
        Value visit = arith::ConstantIntOp::create(b, loc, 1, 1);
        // block_sparse: whether the mask allows every key of the tile to
        // every row of the block (the padded tile counts bq x bk then), so
        // that the key loop need not read it.
        Value tileFull;
        if (tileCounts) {
          // block_sparse: the mask allows some key of the tile to a row of
          // the block.
          auto type = cast<MemRefType>(tileCounts.getType());
          Value mb = type.getDimSize(0) == 1 ? idx(0) : batch;
          Value mh = type.getDimSize(1) == 1 ? idx(0) : head;
          Value count = memref::LoadOp::create(
              b, loc, tileCounts, ValueRange{mb, mh, block, t});
          visit = cmpI(arith::CmpIPredicate::ne, count,
                       arith::ConstantIntOp::create(b, loc, 0, 32));
          tileFull = cmpI(arith::CmpIPredicate::eq, count,
                          arith::ConstantIntOp::create(b, loc, bq * bk, 32));
        }
        // The mask_mod's class of the tile: empty tiles are skipped, full
        // ones need not evaluate it.
        Value modFull;
        if (modClasses) {
          auto type = cast<MemRefType>(modClasses.getType());
          Value mb = type.getDimSize(0) == 1 ? idx(0) : batch;
          Value mh = type.getDimSize(1) == 1 ? idx(0) : head;
          Value cls = memref::LoadOp::create(b, loc, modClasses,
                                             ValueRange{mb, mh, block, t});
          auto classConstant = [&](TileClass c) {
            return arith::ConstantIntOp::create(b, loc, int64_t(c), 32);
          };
          visit = andI(visit, cmpI(arith::CmpIPredicate::ne, cls,
                                   classConstant(TileClass::Empty)));
          modFull = cmpI(arith::CmpIPredicate::eq, cls,
                         classConstant(TileClass::Full));
        }
        if (!p.isNeighborhood && (p.causal || p.hasWindow)) {
          // The tile meets the band of the block's first row to its last,
          // or the sink keys.
          RuleArith d(b, loc);
          rule::RowsKeys<RuleArith> keys =
              rule::rowsKeys(d, p, rowsLo, rowsHi, ruleLq, lk);
          Value inBand =
              andI(cmpI(arith::CmpIPredicate::sle, kvStart, keys.hi),
                   cmpI(arith::CmpIPredicate::sle, keys.lo, kvEnd));
          if (p.hasWindow && p.sinks > 0)
            inBand = orI(inBand, cmpI(arith::CmpIPredicate::sle, kvStart,
                                      keys.sinkHi));
          visit = andI(visit, inBand);
        }
        auto ifVisit = scf::IfOp::create(
            b, loc, visit,
            [&](OpBuilder &ib, Location) {
              OpBuilder::InsertionGuard g2(b);
              b.setInsertionPoint(ib.getInsertionBlock(),
                                  ib.getInsertionPoint());
              // Stage the tile's K and V rows (f32, dequantized when they
              // are quantized, phi(k) for feature maps; f16/bf16 for tensor
              // cores), zero beyond Lk and the head dimension.
              auto stage = [&](Value source, Value tile, int64_t width,
                               int64_t columns, bool isKey) {
                forLoop(tid, idx(bk * width), idx(bq), [&](Value flat) {
                  Value j = div(flat, idx(width)), c = rem(flat, idx(width));
                  Value key = add(kvStart, j);
                  Value inside = cmpI(arith::CmpIPredicate::slt, key, lk);
                  Value safe = minI(key, sub(lk, one));
                  if (width > columns)
                    inside = andI(inside, cmpI(arith::CmpIPredicate::slt, c,
                                               idx(columns)));
                  Value column =
                      width > columns ? minI(c, idx(columns - 1)) : c;
                  SmallVector<Value> at =
                      tableBuf ? pagedKeyRow(b, loc, tableBuf, source,
                                             p.pageSize, batch, kvHead, safe)
                               : SmallVector<Value>{batch, kvHead, safe};
                  Value x = memref::LoadOp::create(
                      b, loc, source, ValueRange{at[0], at[1], at[2], column});
                  if (!mma) {
                    Value scales = isKey ? keyScaleBuf : valueScaleBuf;
                    x = scales
                            ? dequantize(b, loc, x,
                                         quantizationScale(
                                             b, loc, scales,
                                             getElementTypeOrSelf(x.getType()),
                                             at[0], at[1], at[2]))
                            : toF32(x);
                    if (isKey && featureProduct)
                      x = featureMap(x);
                  }
                  Value zero = arith::ConstantOp::create(
                      b, loc, b.getZeroAttr(x.getType()));
                  memref::StoreOp::create(b, loc, select(inside, x, zero),
                                          tile, ValueRange{j, c});
                });
              };
              stage(kBuf, keys, dStaged, d, true);
              stage(vBuf, values, dvDim, dvDim, false);
              gpu::BarrierOp::create(b, loc);
              if (mma) {
                emitTileScores(queryTile, keys, scoreTile, tid);
                gpu::BarrierOp::create(b, loc);
              }
              auto rowWork = scf::IfOp::create(
                  b, loc, valid,
                  [&](OpBuilder &rb, Location) {
                    OpBuilder::InsertionGuard g3(b);
                    b.setInsertionPoint(rb.getInsertionBlock(),
                                        rb.getInsertionPoint());
                    Value count = add(sub(kvEnd, kvStart), one);
                    auto keyLoop = scf::ForOp::create(
                        b, loc, idx(0), count, one, ml,
                        [&](OpBuilder &kb, Location, Value j,
                            ValueRange state) {
                          OpBuilder::InsertionGuard g4(b);
                          b.setInsertionPoint(kb.getInsertionBlock(),
                                              kb.getInsertionPoint());
                          Value key = add(kvStart, j);
                          // The score: from the tensor-core tile, or
                          // the dot product of the row with the key.
                          Value s =
                              mma ? arith::MulFOp::create(
                                        b, loc,
                                        memref::LoadOp::create(
                                            b, loc, scoreTile,
                                            ValueRange{tid, j}),
                                        fconst(qScale))
                                  : rowDot(qr, keys, j);
                          Value bias;
                          if (biasBuf) {
                            auto type = cast<MemRefType>(biasBuf.getType());
                            Value bb =
                                type.getDimSize(0) == 1 ? idx(0) : batch;
                            Value hb = type.getDimSize(1) == 1 ? idx(0) : head;
                            bias = toF32(memref::LoadOp::create(
                                b, loc, biasBuf, ValueRange{bb, hb, row, key}));
                          }
                          Value allowed =
                              buildAllowedPredicate(b, loc, p, sizes, row, key);
                          // A neighborhood's mods take coordinates and run
                          // only where the window allows the key (a table
                          // of the window's offsets is read in bounds).
                          SmallVector<Value> modAt =
                              p.isNeighborhood
                                  ? modPositions(b, loc, p, extents, row, key)
                                  : SmallVector<Value>{row, key};
                          auto whereAllowed =
                              [&](Value otherwise,
                                  function_ref<Value(OpBuilder &, Location)>
                                      mod) -> Value {
                            if (!p.isNeighborhood || !allowed)
                              return mod(b, loc);
                            return scf::IfOp::create(
                                       b, loc, allowed,
                                       [&](OpBuilder &tb, Location tl) {
                                         scf::YieldOp::create(tb, tl,
                                                              mod(tb, tl));
                                       },
                                       [&](OpBuilder &eb, Location el) {
                                         scf::YieldOp::create(eb, el,
                                                              otherwise);
                                       })
                                .getResult(0);
                          };
                          auto scoreMod = [&](Value x) {
                            return whereAllowed(x, [&](OpBuilder &mb,
                                                       Location ml) {
                              return applyScoreMod(mb, ml, p, x, batch, head,
                                                   modAt, &modBuffers);
                            });
                          };
                          s = algebra.finishScore(
                              s, bias,
                              p.scoreMod ? function_ref<Value(Value)>(scoreMod)
                                         : nullptr);
                          if (modFull) {
                            allowed = applyMaskModUnlessFull(
                                b, loc, p, allowed, modFull, batch, head,
                                {row, key}, &modBuffers);
                          } else if (p.maskMod) {
                            Value rule = allowed;
                            allowed = whereAllowed(
                                arith::ConstantIntOp::create(b, loc, 0, 1),
                                [&](OpBuilder &mb, Location ml) {
                                  return applyMaskMod(mb, ml, p, rule, batch,
                                                      head, modAt, &modBuffers);
                                });
                          }
                          if (maskBuf) {
                            auto type = cast<MemRefType>(maskBuf.getType());
                            Value mb =
                                type.getDimSize(0) == 1 ? idx(0) : batch;
                            Value mh = type.getDimSize(1) == 1 ? idx(0) : head;
                            auto loadBit = [&](OpBuilder &lb, Location ll) {
                              return memref::LoadOp::create(
                                  lb, ll, maskBuf,
                                  ValueRange{mb, mh, row, key});
                            };
                            Value bit;
                            if (tileFull) {
                              // A full tile's bits are all set: not read.
                              bit = scf::IfOp::create(
                                        b, loc, tileFull,
                                        [&](OpBuilder &fb, Location fl) {
                                          scf::YieldOp::create(
                                              fb, fl,
                                              ValueRange{
                                                  arith::ConstantIntOp::create(
                                                      fb, fl, 1, 1)});
                                        },
                                        [&](OpBuilder &lb, Location ll) {
                                          scf::YieldOp::create(
                                              lb, ll,
                                              ValueRange{loadBit(lb, ll)});
                                        })
                                        .getResult(0);
                            } else {
                              bit = loadBit(b, loc);
                            }
                            allowed = allowed ? andI(allowed, bit) : bit;
                          }
                          if (!allowed)
                            allowed =
                                arith::ConstantIntOp::create(b, loc, 1, 1);
                          // Weight p and the rescale alpha of the running
                          // sums (AttentionAlgebra); disallowed keys leave
                          // everything as is.
                          Value m = state[0], l = state[1];
                          Value tEnt = withEntropy ? state[2] : Value();
                          Value weight, alpha = fconst(1.0), mNext = m;
                          Value mSafe = fconst(0.0);
                          if (tracksMax) {
                            AttentionAlgebra::MaxUpdate update =
                                algebra.updateMax(m, s);
                            mSafe = update.mSafe;
                            alpha = algebra.rescaleFactor(m, update.mSafe);
                            weight = algebra.weight(s, update.mSafe);
                            mNext = select(allowed, update.mNew, m);
                          } else {
                            weight = algebra.weight(s, Value());
                          }
                          auto update = scf::IfOp::create(
                              b, loc, allowed,
                              [&](OpBuilder &ub, Location) {
                                OpBuilder::InsertionGuard g6(b);
                                b.setInsertionPoint(ub.getInsertionBlock(),
                                                    ub.getInsertionPoint());
                                forLoop(idx(0), idx(dvDim), one, [&](Value e) {
                                  Value o = memref::LoadOp::create(
                                      b, loc, orow, ValueRange{e});
                                  Value vv = toF32(memref::LoadOp::create(
                                      b, loc, values, ValueRange{j, e}));
                                  Value next = arith::AddFOp::create(
                                      b, loc,
                                      arith::MulFOp::create(b, loc, o, alpha),
                                      arith::MulFOp::create(b, loc, weight,
                                                            vv));
                                  memref::StoreOp::create(b, loc, next, orow,
                                                          ValueRange{e});
                                });
                                SmallVector<Value> sums = {
                                    arith::AddFOp::create(
                                        b, loc,
                                        arith::MulFOp::create(b, loc, l, alpha),
                                        weight)};
                                if (tEnt)
                                  sums.push_back(arith::AddFOp::create(
                                      b, loc,
                                      algebra.rescaleEntropy(tEnt, l, m, mSafe,
                                                             alpha),
                                      algebra.entropyTerm(s, weight, mSafe)));
                                scf::YieldOp::create(b, loc, sums);
                              },
                              [&](OpBuilder &ub, Location) {
                                scf::YieldOp::create(ub, loc,
                                                     tEnt ? ValueRange{l, tEnt}
                                                          : ValueRange{l});
                              });
                          SmallVector<Value> next = {mNext};
                          llvm::append_range(next, update.getResults());
                          scf::YieldOp::create(b, loc, next);
                        });
                    scf::YieldOp::create(b, loc, keyLoop.getResults());
                  },
                  [&](OpBuilder &rb, Location) {
                    scf::YieldOp::create(rb, loc, ml);
                  });
              gpu::BarrierOp::create(b, loc);
              scf::YieldOp::create(b, loc, rowWork.getResults());
            },
            [&](OpBuilder &ib, Location) {
              scf::YieldOp::create(ib, loc, ml);
            });
        scf::YieldOp::create(b, loc, ifVisit.getResults());
      });
  Value m = tileLoop.getResult(0), l = tileLoop.getResult(1);
  Value t = withEntropy ? tileLoop.getResult(2) : Value();

  scf::IfOp::create(b, loc, valid, [&](OpBuilder &wb, Location) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(wb.getInsertionBlock(), wb.getInsertionPoint());
    if (partO) {
      // This split's normalized state, for attn.merge_states.
      forLoop(idx(0), idx(dvDim), one, [&](Value e) {
        memref::StoreOp::create(
            b, loc,
            algebra.epilogue(
                memref::LoadOp::create(b, loc, orow, ValueRange{e}), l, f32),
            partO, ValueRange{split, batch, head, row, e});
      });
      memref::StoreOp::create(b, loc, algebra.logSumExp(m, l), partLse,
                              ValueRange{split, batch, head, row});
      if (partEntropy)
        memref::StoreOp::create(b, loc, algebra.entropy(t, l), partEntropy,
                                ValueRange{split, batch, head, row});
    } else {
      writeRow(out, batch, head, row, {m, l, t}, [&](Value e) -> Value {
        return memref::LoadOp::create(b, loc, orow, ValueRange{e});
      });
    }
    scf::YieldOp::create(b, loc);
  });
  gpu::TerminatorOp::create(b, loc);
}

void GpuEmitter::writeRow(Value out, Value batch, Value head, Value row,
                          AttentionAlgebra::NormalizedRowState rowState,
                          function_ref<Value(Value e)> oAt) {
  AttentionAlgebra algebra(b, loc, p);
  auto [m, l, t] = rowState;
  SmallVector<Value> at = {batch, head, row};
  Value target = state ? accOut : out;
  Type outElem = cast<MemRefType>(target.getType()).getElementType();
  Value sinkWeight =
      sinkBuf && !state
          ? algebra.sinkWeight(
                memref::LoadOp::create(b, loc, sinkBuf, ValueRange{head}), m)
          : Value();
  if (lseOut)
    memref::StoreOp::create(b, loc, algebra.logSumExp(m, l, sinkWeight),
                            lseOut, at);
  if (entropyOut)
    memref::StoreOp::create(b, loc, algebra.entropy(t, l, sinkWeight),
                            entropyOut, at);
  forLoop(idx(0), idx(p.valueDim), idx(1), [&](Value e) {
    Value o = oAt(e);
    if (!state)
      o = algebra.epilogue(o, l, outElem, sinkWeight);
    memref::StoreOp::create(b, loc, o, target,
                            ValueRange{batch, head, row, e});
  });
  if (state) {
    memref::StoreOp::create(b, loc, m, maxOut, at);
    memref::StoreOp::create(b, loc, l, sumOut, at);
  }
}

void GpuEmitter::emitFinishKernel(Value out, Value mergedO, Value mergedLse,
                                  Value mergedEntropy) {
  int64_t bq = cfg.blockQ;
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(b, loc, numBlocks,
                                      mul(batches, idx(p.headsQ)), one,
                                      idx(bq), one, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value block = launch.getBlockIds().x, bh = launch.getBlockIds().y;
  Value tid = launch.getThreadIds().x;
  Value row = add(mul(block, idx(bq)), tid);
  Value batch = div(bh, idx(p.headsQ)), head = rem(bh, idx(p.headsQ));
  AttentionAlgebra algebra(b, loc, p);
  scf::IfOp::create(
      b, loc, cmpI(arith::CmpIPredicate::slt, row, lq),
      [&](OpBuilder &wb, Location) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(wb.getInsertionBlock(), wb.getInsertionPoint());
        SmallVector<Value> at = {batch, head, row};
        auto [m, l, t] = algebra.stateOfNormalized(
            memref::LoadOp::create(b, loc, mergedLse, at),
            mergedEntropy ? memref::LoadOp::create(b, loc, mergedEntropy, at)
                                .getResult()
                          : Value());
        writeRow(out, batch, head, row, {m, l, t}, [&](Value e) -> Value {
          return memref::LoadOp::create(b, loc, mergedO,
                                        ValueRange{batch, head, row, e});
        });
        scf::YieldOp::create(b, loc);
      });
  gpu::TerminatorOp::create(b, loc);
}

SmallVector<Value> GpuEmitter::build() {
  batches = dimOf(p.query, 0);
  lq = dimOf(p.query, 2);
  // Paged: the table's capacity (each request's own length in the kernel).
  lk = p.isPaged() ? pagedCapacity(b, loc, p.pageTable, p.pageSize)
                   : dimOf(p.key, 2);
  ruleLq = queryShift ? sub(lk, queryShift) : lq;
  numBlocks = arith::CeilDivUIOp::create(b, loc, lq, idx(cfg.blockQ));
  numTiles = arith::CeilDivUIOp::create(b, loc, lk, idx(cfg.blockK));
  sizes.queryShape = {ruleLq};
  sizes.keyShape = {lk};
  if (p.isNeighborhood) {
    sizes.queryShape = extents;
    sizes.keyShape = extents;
  }

  Value qBuf = buffers.input(p.query), kBuf = buffers.input(p.key);
  Value vBuf = buffers.input(p.value);
  Value maskBuf = p.mask ? buffers.input(p.mask) : Value();
  if (cfg.skipEmptyTiles && p.mask)
    tileCounts = buffers.input(buildMaskTiles(b, loc, p.mask, cfg.blockQ,
                                              cfg.blockK, numBlocks, numTiles,
                                              /*withCounts=*/true)
                                   .counts);
  if (p.maskMod && !p.isNeighborhood) {
    ModTileClassifier classifier(b, loc, p, cfg.blockQ, cfg.blockK,
                                 /*rowGroup=*/0, lq, lk);
    modClasses = buffers.input(classifier.classes(b.getI32Type()));
  }
  Value biasBuf = p.bias ? buffers.input(p.bias) : Value();
  for (Value table : modTables(p))
    modBuffers[table] = buffers.input(table);
  if (p.sinkLogits)
    sinkBuf = buffers.input(p.sinkLogits);
  if (p.keyScale)
    keyScaleBuf = buffers.input(p.keyScale);
  if (p.valueScale)
    valueScaleBuf = buffers.input(p.valueScale);
  if (p.isPaged()) {
    tableBuf = buffers.input(p.pageTable);
    lengthsBuf = buffers.input(p.keyLengths);
  }
  withEntropy = !state && p.entropyInit;
  // With splits, attn.merge_states merges the splits' states: straight into
  // the results, unless the sinks' weight or the tile op's state must be
  // written from the merged state by one more launch.
  bool splits = cfg.splits > 1;
  bool mergeIntoResults = splits && !state && !p.sinkLogits;
  Value out;
  if (state) {
    if (!state->empty) {
      accIn = buffers.input(state->acc);
      maxIn = buffers.input(state->max);
      sumIn = buffers.input(state->sum);
    }
    accOut = buffers.allocLike(state->acc);
    maxOut = buffers.allocLike(state->max);
    sumOut = buffers.allocLike(state->sum);
  } else if (!mergeIntoResults) {
    out = buffers.allocLike(p.init);
    if (p.lseInit)
      lseOut = buffers.allocLike(p.lseInit);
    if (p.entropyInit)
      entropyOut = buffers.allocLike(p.entropyInit);
  }
  // The splits' normalized states, [split, B, Hq, Lq, ...].
  Value partO, partLse, partEntropy;
  if (splits) {
    int64_t dyn = ShapedType::kDynamic;
    partO = buffers.allocF32({cfg.splits, dyn, p.headsQ, dyn, p.valueDim},
                             {batches, lq});
    partLse = buffers.allocF32({cfg.splits, dyn, p.headsQ, dyn}, {batches, lq});
    if (withEntropy)
      partEntropy =
          buffers.allocF32({cfg.splits, dyn, p.headsQ, dyn}, {batches, lq});
  }
  emitAttentionKernel(qBuf, kBuf, vBuf, maskBuf, biasBuf, out, partO, partLse,
                      partEntropy);
  if (splits) {
    auto asTensor = [&](Value buffer) -> Value {
      if (!buffer)
        return Value();
      auto type = cast<MemRefType>(buffer.getType());
      return bufferization::ToTensorOp::create(
          b, loc, RankedTensorType::get(type.getShape(), f32), buffer,
          /*restrict=*/true, /*writable=*/true);
    };
    SplitStateInits inits;
    if (mergeIntoResults)
      inits = {p.init, p.lseInit, p.entropyInit};
    MergeStatesOp merged =
        mergeSplitStates(b, loc, asTensor(partO), asTensor(partLse),
                         asTensor(partEntropy), inits);
    if (mergeIntoResults) {
      SmallVector<Value> results = {merged.getResult()};
      if (p.lseInit)
        results.push_back(merged.getLse());
      if (p.entropyInit)
        results.push_back(merged.getEntropy());
      return results;
    }
    emitFinishKernel(out, buffers.input(merged.getResult()),
                     buffers.input(merged.getLse()),
                     merged.getEntropy() ? buffers.input(merged.getEntropy())
                                         : Value());
  }

  if (state)
    return {buffers.result(accOut, state->acc),
            buffers.result(maxOut, state->max),
            buffers.result(sumOut, state->sum)};
  SmallVector<Value> results = {buffers.result(out, p.init)};
  if (lseOut)
    results.push_back(buffers.result(lseOut, p.lseInit));
  if (entropyOut)
    results.push_back(buffers.result(entropyOut, p.entropyInit));
  return results;
}

} // namespace

Value KernelBuffers::input(Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto bufferType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, loc, bufferType, tensor,
                                           b.getUnitAttr());
}

Value KernelBuffers::allocLike(Value like) {
  auto type = cast<RankedTensorType>(like.getType());
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      tensor::createDynamicDimValues(b, loc, like));
}

Value KernelBuffers::allocF32(ArrayRef<int64_t> shape,
                              ValueRange dynamicSizes) {
  return memref::AllocOp::create(
      b, loc, MemRefType::get(shape, b.getF32Type()), dynamicSizes);
}

Value KernelBuffers::result(Value buffer, Value like) {
  return bufferization::ToTensorOp::create(
      b, loc, cast<RankedTensorType>(like.getType()), buffer,
      /*restrict=*/true, /*writable=*/true);
}

SmallVector<Value>
mlir::attn::buildGpuFlashAttention(RewriterBase &rewriter,
                                   const AttentionProblem &problem,
                                   const GpuKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  if (!problem.isNeighborhood) {
    GpuEmitter emitter(rewriter, problem, config, {});
    return emitter.build();
  }
  // Neighborhoods: attention over flattened positions, NATTEN's rule per
  // (query, key).
  return buildOnFlattenedPositions(
      rewriter, problem,
      [&](const AttentionProblem &flat, ArrayRef<Value> extents) {
        return GpuEmitter(rewriter, flat, config, llvm::to_vector(extents))
            .build();
      });
}

LogicalResult mlir::attn::lowerTileToGpuKernel(RewriterBase &rewriter,
                                               OnlineAttentionOp tile,
                                               const GpuKernelConfig &config) {
  FailureOr<TileOpForm> form =
      getTileOpForm(rewriter, tile, "GPU flash kernel");
  if (failed(form))
    return failure();
  GpuEmitter emitter(rewriter, form->problem, config, {});
  emitter.queryShift = form->queryShift;
  emitter.state = form->state;
  form->replace(rewriter, tile, emitter.build());
  return success();
}
