//===- GpuFlashBackwardKernel.cpp - FlashAttention-2's backward on a GPU --===//
//
// See GpuFlashBackwardKernel.h. The math of one (row, key) pair is the CPU
// backward's and the reference's: the score as the forward forms it and its
// derivative (AttentionAlgebra::scoreAndDerivative, score_mod differentiated
// by ModRegions), the allowed rule (MaskRules, mask, mask_mod), then
//   P = exp(score - LSE_i), dS = P (dO_i . v_j - D_i) d score / d x
// with x = scale q_i . k_j + bias; 0 where the pair is not allowed or the
// row has no allowed key (LSE = -inf). dV_j += P dO_i, dK_j += scale dS q_i,
// dQ_i += scale dS k_j, dBias_ij = dS, and dSink from
// AttentionAlgebra::sinkGradientStep.
// Kernel scores and softplus have no LSE: the first launch forms each row's
// normalizer Z_i = sum of the allowed weights (normalized only) and D' =
// (dO_i / Z_i) . O_i; a pair's P = w / Z and dS = (dO_i . v_j / Z_i - D'_i)
// w'(s) d s / d x (AttentionAlgebra::divideByNormalizer; no division and
// no D' unnormalized). Softplus's weights and their derivatives are
// relative to the row's reference (ScoreFunction::rowReference), from the
// maximum of its allowed scores, which that launch forms first and stores. A
// feature product (elu1, relu) stages phi(scale q) and phi(k) in place of q and
// k, so the products above are of features, and dQ and dK take phi' when they
// are written. Tiles that a mask_mod leaves empty (ModTileClasses.h) are
// skipped in launches 2 and 3.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/GpuFlashBackwardKernel.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Strategies/Common/ModTileClasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>
#include <tuple>

using namespace mlir;
using namespace mlir::attn;

namespace {

class GpuBackwardEmitter : KernelBuilder {
public:
  /// `spatialExtents`: a neighborhood's (flattened by
  /// buildOnFlattenedPositions), or none.
  GpuBackwardEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
                     const GpuKernelConfig &config,
                     ArrayRef<Value> spatialExtents)
      : KernelBuilder(rewriter, problem.op->getLoc(), /*lanes=*/1), p(problem),
        cfg(config), group(problem.groupSize()), extents(spatialExtents) {}

  SmallVector<Value> build();

private:
  /// P and dS (with respect to the biased score) of one pair, 0 where it is
  /// not allowed.
  struct PairTerms {
    Value weight, gradScore;
    /// The finished score, -inf where the pair is not allowed (scores
    /// without an LSE only: softplus's row maximum is formed from it).
    Value score;
  };
  /// The terms of query row `row` of `head` and key `key`, from q.k `dot`
  /// (phi(scale q) . phi(k) for a feature product), dO.v `gradDot`, the
  /// row's statistic (softmax: its LSE as AttentionAlgebra::lseInLog2 gives
  /// it; kernel scores: its normalizer Z, null unnormalized), its D
  /// `rowDot` (D' for kernel scores) and softplus's row reference (null for
  /// other scores). `modFull` (i1, or null) says that the mask_mod allows
  /// every pair of the tile, so the mod is not evaluated there.
  PairTerms pairTerms(Value batch, Value head, Value row, Value key, Value dot,
                      Value gradDot, Value rowStatistic, Value rowDot,
                      Value reference, Value modFull = Value());
  /// The row statistic pairTerms takes for row `row` (clamped in bounds).
  Value rowStatistic(Value batch, Value head, Value row);
  /// Softplus's row reference for row `row`, else null.
  Value rowReferenceAt(Value batch, Value head, Value row) {
    return rowReferences ? load(rowReferences, {batch, head, row}) : Value();
  }
  /// Row `row` of `source` as loadRow does, through phi (of scale x for
  /// queries) when the score is a feature product.
  void loadOperandRow(Value source, Value into, int64_t n, Value batch,
                      Value head, Value row, bool isQuery);
  /// stageRows, then phi over the tile as loadOperandRow (the caller's
  /// barrier follows).
  void stageOperandRows(Value source, Value tile, int64_t n, Value batch,
                        Value head, Value first, Value length, Value tid,
                        int64_t threads, bool isQuery);
  /// Stores the gradient `from` of the operand row at (batch, head, row) of
  /// `source`: for a feature product times phi' of that row (of scale x,
  /// times scale, for queries).
  void storeGradient(Value from, Value into, Value source, int64_t n,
                     Value batch, Value head, Value row, bool isQuery);
  /// The row's D (D' for kernel scores; 0 where unnormalized kernel scores
  /// have none).
  /// The factor of the other operand's row in dQ or dK for a pair's dS:
  /// scale dS, or dS for a feature product (whose dot has no scale).
  Value dotFactor(Value gradScore) {
    return featureProduct ? gradScore : fmul(gradScore, fconst(p.scale));
  }
  Value rowDotAt(Value batch, Value head, Value row) {
    return rowDots ? load(rowDots, {batch, head, row}) : fconst(0.0);
  }

  void emitRowDotKernel();
  void emitKeyKernel();
  void emitQueryKernel();
  /// dS [B, Hq, Lq, Lk] = 0 before launch 3, which writes the tiles it
  /// visits: the pairs of the tiles it skips have dS = 0.
  void emitZeroScoresKernel();
  void emitBiasKernel();
  void emitSinkKernel();

  /// A gpu.launch of `blocks` x `rows` thread blocks of `threads` threads,
  /// with f32 shared tiles and private arrays of the given shapes; `body`
  /// builds the kernel (before its terminator) from the block ids x and y,
  /// the thread id and the attributions.
  void
  launch(Value blocks, Value rows, int64_t threads,
         ArrayRef<SmallVector<int64_t>> sharedShapes,
         ArrayRef<int64_t> privateSizes,
         function_ref<void(Value, Value, Value, ValueRange, ValueRange)> body);
  /// scf.if without results.
  void ifThen(Value condition, function_ref<void()> body);
  /// sum over e < n of row[e] tile[r, e].
  Value dotWithTileRow(Value row, Value tile, Value r, int64_t n);
  /// `row`[e] += factor tile[r, e] for e < n.
  void addTileRow(Value row, Value factor, Value tile, Value r, int64_t n);
  /// Rows [first, first + tile rows) of head `head` of `source` [B, H, L, n]
  /// as f32 in `tile`, zero past `length`; thread `tid` of `threads`.
  void stageRows(Value source, Value tile, int64_t n, Value batch, Value head,
                 Value first, Value length, Value tid, int64_t threads);
  /// Row `row` of head `head` of `source` as f32 in the private `into`.
  void loadRow(Value source, Value into, int64_t n, Value batch, Value head,
               Value row);
  /// The private `from` rounded to `into`'s element type at (batch, head,
  /// row).
  void storeRow(Value from, Value into, int64_t n, Value batch, Value head,
                Value row);
  void zero(Value row, int64_t n);
  Value load(Value buffer, ValueRange at) {
    return memref::LoadOp::create(b, loc, buffer, at);
  }
  void store(Value v, Value buffer, ValueRange at) {
    memref::StoreOp::create(b, loc, v, buffer, at);
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  /// The index of a broadcast dimension of `buffer`: 0 where it has size 1.
  Value broadcastIndex(Value buffer, unsigned dim, Value index) {
    return cast<MemRefType>(buffer.getType()).getDimSize(dim) == 1 ? idx(0)
                                                                   : index;
  }

  const AttentionProblem &p;
  GpuKernelConfig cfg;
  int64_t group;
  SmallVector<Value> extents;
  Value batches, lq, lk;
  ProblemSizes sizes;
  KernelBuffers buffers{b, loc};
  Value qBuf, kBuf, vBuf, oBuf, gradOutBuf, lseBuf, maskBuf, biasBuf, sinkBuf;
  DenseMap<Value, Value> modBuffers;
  /// D [B, Hq, Lq] f32 (D' for kernel scores), the kernel scores'
  /// normalizers Z [B, Hq, Lq] (normalized only), and softplus's row
  /// references [B, Hq, Lq].
  Value rowDots, rowNorms, rowReferences;
  /// `kernel`: every score but softmax (no LSE; Z formed again);
  /// `relative`: softplus, whose weights take a row reference.
  bool kernel = false, relative = false, featureProduct = false;
  /// The gradients; gradScores is dS [B, Hq, Lq, Lk] f32 for dBias (dBias
  /// itself when the bias is f32 and does not broadcast).
  Value dq, dk, dv, dbias, gradScores, dsink;
  /// The mask_mod's tile classes (ModTileClasses.h, i32), on the device,
  /// or null: keyBlockClasses for launch 2's blocks of block_q keys by tiles
  /// of block_k rows ([Bm, Hm, row tile, key block]), rowBlockClasses for
  /// launch 3's blocks of block_q rows by tiles of block_k keys ([Bm, Hm,
  /// row block, key tile]).
  Value keyBlockClasses, rowBlockClasses;
  /// The mask_mod's class of the tile at [rowTile, keyTile] of `classes`:
  /// {not empty, full} (i1 each), or {true, null} without classes.
  std::pair<Value, Value> tileClass(Value classes, Value batch, Value head,
                                    Value rowTile, Value keyTile);
};

} // namespace

std::pair<Value, Value> GpuBackwardEmitter::tileClass(Value classes,
                                                      Value batch, Value head,
                                                      Value rowTile,
                                                      Value keyTile) {
  if (!classes)
    return {arith::ConstantIntOp::create(b, loc, 1, 1), Value()};
  auto type = cast<MemRefType>(classes.getType());
  Value mb = type.getDimSize(0) == 1 ? idx(0) : batch;
  Value mh = type.getDimSize(1) == 1 ? idx(0) : head;
  Value cls = memref::LoadOp::create(b, loc, classes,
                                     ValueRange{mb, mh, rowTile, keyTile});
  auto is = [&](arith::CmpIPredicate predicate, TileClass c) {
    return cmpI(
        predicate, cls,
        arith::ConstantIntOp::create(b, loc, static_cast<int64_t>(c), 32));
  };
  return {is(arith::CmpIPredicate::ne, TileClass::Empty),
          is(arith::CmpIPredicate::eq, TileClass::Full)};
}

void GpuBackwardEmitter::launch(
    Value blocks, Value rows, int64_t threads,
    ArrayRef<SmallVector<int64_t>> sharedShapes, ArrayRef<int64_t> privateSizes,
    function_ref<void(Value, Value, Value, ValueRange, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  auto space = [&](gpu::AddressSpace s) {
    return gpu::AddressSpaceAttr::get(ctx, s);
  };
  SmallVector<Type> shared, registers;
  for (ArrayRef<int64_t> shape : sharedShapes)
    shared.push_back(MemRefType::get(shape, f32, AffineMap(),
                                     space(gpu::AddressSpace::Workgroup)));
  for (int64_t size : privateSizes)
    registers.push_back(MemRefType::get({size}, f32, AffineMap(),
                                        space(gpu::AddressSpace::Private)));
  Value one = idx(1);
  auto op =
      gpu::LaunchOp::create(b, loc, blocks, rows, one, idx(threads), one, one,
                            Value(), Type(), ValueRange{}, shared, registers);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getBody().front());
  body(op.getBlockIds().x, op.getBlockIds().y, op.getThreadIds().x,
       op.getWorkgroupAttributions(), op.getPrivateAttributions());
  gpu::TerminatorOp::create(b, loc);
}

void GpuBackwardEmitter::ifThen(Value condition, function_ref<void()> body) {
  scf::IfOp::create(b, loc, condition, [&](OpBuilder &nested, Location) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
    body();
    scf::YieldOp::create(b, loc);
  });
}

Value GpuBackwardEmitter::dotWithTileRow(Value row, Value tile, Value r,
                                         int64_t n) {
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(n), idx(1), ValueRange{fconst(0.0)},
      [&](OpBuilder &nested, Location, Value e, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        scf::YieldOp::create(
            b, loc,
            ValueRange{fadd(acc[0], fmul(load(row, {e}), load(tile, {r, e})))});
      });
  return loop.getResult(0);
}

void GpuBackwardEmitter::addTileRow(Value row, Value factor, Value tile,
                                    Value r, int64_t n) {
  forLoop(idx(0), idx(n), idx(1), [&](Value e) {
    store(fadd(load(row, {e}), fmul(factor, load(tile, {r, e}))), row, {e});
  });
}

void GpuBackwardEmitter::stageRows(Value source, Value tile, int64_t n,
                                   Value batch, Value head, Value first,
                                   Value length, Value tid, int64_t threads) {
  int64_t tileRows = cast<MemRefType>(tile.getType()).getDimSize(0);
  forLoop(tid, idx(tileRows * n), idx(threads), [&](Value flat) {
    Value r = div(flat, idx(n)), e = rem(flat, idx(n));
    Value at = add(first, r);
    Value inside = cmpI(arith::CmpIPredicate::slt, at, length);
    Value x =
        toF32(load(source, {batch, head, minI(at, sub(length, idx(1))), e}));
    store(select(inside, x, fconst(0.0)), tile, {r, e});
  });
}

void GpuBackwardEmitter::loadRow(Value source, Value into, int64_t n,
                                 Value batch, Value head, Value row) {
  forLoop(idx(0), idx(n), idx(1), [&](Value e) {
    store(toF32(load(source, {batch, head, row, e})), into, {e});
  });
}

void GpuBackwardEmitter::storeRow(Value from, Value into, int64_t n,
                                  Value batch, Value head, Value row) {
  Type element = cast<MemRefType>(into.getType()).getElementType();
  forLoop(idx(0), idx(n), idx(1), [&](Value e) {
    Value x = load(from, {e});
    if (element != f32)
      x = arith::TruncFOp::create(b, loc, element, x);
    store(x, into, {batch, head, row, e});
  });
}

void GpuBackwardEmitter::zero(Value row, int64_t n) {
  forLoop(idx(0), idx(n), idx(1),
          [&](Value e) { store(fconst(0.0), row, {e}); });
}

GpuBackwardEmitter::PairTerms
GpuBackwardEmitter::pairTerms(Value batch, Value head, Value row, Value key,
                              Value dot, Value gradDot, Value rowStatistic,
                              Value rowDot, Value reference, Value modFull) {
  AttentionAlgebra algebra(b, loc, p);
  // A feature product's dot is phi(scale q) . phi(k), its weight already.
  Value x = featureProduct ? dot : fmul(dot, fconst(p.scale));
  if (biasBuf)
    x = fadd(
        x, toF32(load(biasBuf, {broadcastIndex(biasBuf, 0, batch),
                                broadcastIndex(biasBuf, 1, head), row, key})));
  Value allowed = buildAllowedPredicate(b, loc, p, sizes, row, key);
  // A neighborhood's mods take coordinates and run only where its window
  // allows the key: a table of the window's offsets is read in bounds.
  SmallVector<Value> positions =
      p.isNeighborhood ? modPositions(b, loc, p, extents, row, key)
                       : SmallVector<Value>{row, key};
  auto whereAllowed =
      [&](ValueRange otherwise,
          function_ref<SmallVector<Value>()> mod) -> SmallVector<Value> {
    if (!p.isNeighborhood || !allowed)
      return mod();
    auto ifOp = scf::IfOp::create(
        b, loc, allowed,
        [&](OpBuilder &nested, Location) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          scf::YieldOp::create(b, loc, mod());
        },
        [&](OpBuilder &nested, Location) {
          scf::YieldOp::create(nested, loc, otherwise);
        });
    return SmallVector<Value>(ifOp.getResults());
  };
  auto scoreMod = [&](Value s) -> std::pair<Value, Value> {
    SmallVector<Value> modded = whereAllowed({s, fconst(1.0)}, [&] {
      auto [score, tangent] = applyScoreModWithDerivative(
          b, loc, p, s, batch, head, positions, &modBuffers);
      return SmallVector<Value>{score, tangent};
    });
    return {modded[0], modded[1]};
  };
  auto [score, derivative] = algebra.scoreAndDerivative(
      x, p.scoreMod ? function_ref<std::pair<Value, Value>(Value)>(scoreMod)
                    : nullptr);
  if (p.maskMod && modFull) {
    allowed = applyMaskModUnlessFull(b, loc, p, allowed, modFull, batch, head,
                                     positions, &modBuffers);
  } else if (p.maskMod) {
    Value rule = allowed;
    Value none = arith::ConstantIntOp::create(b, loc, 0, 1);
    allowed = whereAllowed({none}, [&] {
                return SmallVector<Value>{applyMaskMod(
                    b, loc, p, rule, batch, head, positions, &modBuffers)};
              }).front();
  }
  if (maskBuf) {
    Value bit = load(maskBuf, {broadcastIndex(maskBuf, 0, batch),
                               broadcastIndex(maskBuf, 1, head), row, key});
    allowed = allowed ? andI(allowed, bit) : bit;
  }
  if (kernel) {
    // P = w / Z and dS = (dO.v / Z - D') w'(s) ds/dx (without Z and D'
    // unnormalized); a feature product's dS is that of its dot.
    const ScoreFunction &function = *p.score.getFunction();
    Value w = function.weight(b, loc, score, reference);
    Value weight = w, gradWeight = gradDot;
    if (rowStatistic) {
      weight = algebra.divideByNormalizer(w, rowStatistic);
      gradWeight = arith::SubFOp::create(
          b, loc, algebra.divideByNormalizer(gradDot, rowStatistic), rowDot);
    }
    Value gradScore =
        featureProduct
            ? gradWeight
            : fmul(fmul(gradWeight,
                        function.weightDerivative(b, loc, score, reference)),
                   derivative);
    if (!allowed)
      return {weight, gradScore, score};
    Value none = fconst(-std::numeric_limits<double>::infinity());
    return {select(allowed, weight, fconst(0.0)),
            select(allowed, gradScore, fconst(0.0)),
            select(allowed, score, none)};
  }
  // A row without allowed keys (LSE = -inf, +inf here) has no weights.
  Value lseLog2 = rowStatistic;
  Value hasKeys =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, lseLog2,
                            fconst(std::numeric_limits<double>::infinity()));
  allowed = allowed ? andI(allowed, hasKeys) : hasKeys;
  Value weight = algebra.weightFromLse(score, lseLog2);
  Value gradScore = fmul(
      fmul(weight, arith::SubFOp::create(b, loc, gradDot, rowDot)), derivative);
  // Pairs that are not allowed have no weight and no gradient, even where
  // their score or value row is not finite.
  return {select(allowed, weight, fconst(0.0)),
          select(allowed, gradScore, fconst(0.0)), Value()};
}

Value GpuBackwardEmitter::rowStatistic(Value batch, Value head, Value row) {
  if (!kernel)
    return AttentionAlgebra(b, loc, p).lseInLog2(
        load(lseBuf, {batch, head, row}));
  return rowNorms ? load(rowNorms, {batch, head, row}) : Value();
}

void GpuBackwardEmitter::loadOperandRow(Value source, Value into, int64_t n,
                                        Value batch, Value head, Value row,
                                        bool isQuery) {
  loadRow(source, into, n, batch, head, row);
  if (!featureProduct)
    return;
  forLoop(idx(0), idx(n), idx(1), [&](Value e) {
    Value x = load(into, {e});
    if (isQuery)
      x = fmul(x, fconst(p.scale));
    store(p.score.getFunction()->featureMap(b, loc, x), into, {e});
  });
}

void GpuBackwardEmitter::stageOperandRows(Value source, Value tile, int64_t n,
                                          Value batch, Value head, Value first,
                                          Value length, Value tid,
                                          int64_t threads, bool isQuery) {
  stageRows(source, tile, n, batch, head, first, length, tid, threads);
  if (!featureProduct)
    return;
  // The elements this thread staged.
  int64_t tileRows = cast<MemRefType>(tile.getType()).getDimSize(0);
  forLoop(tid, idx(tileRows * n), idx(threads), [&](Value flat) {
    Value r = div(flat, idx(n)), e = rem(flat, idx(n));
    Value x = load(tile, {r, e});
    if (isQuery)
      x = fmul(x, fconst(p.scale));
    store(p.score.getFunction()->featureMap(b, loc, x), tile, {r, e});
  });
}

void GpuBackwardEmitter::storeGradient(Value from, Value into, Value source,
                                       int64_t n, Value batch, Value head,
                                       Value row, bool isQuery) {
  if (featureProduct) {
    // d phi(scale q) / d q = scale phi'(scale q); d phi(k) / d k = phi'(k).
    forLoop(idx(0), idx(n), idx(1), [&](Value e) {
      Value x = toF32(load(source, {batch, head, row, e}));
      if (isQuery)
        x = fmul(x, fconst(p.scale));
      Value factor = p.score.getFunction()->featureMapDerivative(b, loc, x);
      if (isQuery)
        factor = fmul(factor, fconst(p.scale));
      store(fmul(load(from, {e}), factor), from, {e});
    });
  }
  storeRow(from, into, n, batch, head, row);
}

void GpuBackwardEmitter::emitRowDotKernel() {
  int64_t threads = cfg.blockQ;
  bool normalizes = kernel && p.score.getNormalize();
  launch(arith::CeilDivUIOp::create(b, loc, lq, idx(threads)),
         mul(batches, idx(p.headsQ)), threads, {},
         normalizes ? SmallVector<int64_t>{p.headDim} : SmallVector<int64_t>{},
         [&](Value block, Value bh, Value tid, ValueRange,
             ValueRange registers) {
           Value batch = div(bh, idx(p.headsQ)), head = rem(bh, idx(p.headsQ));
           Value row = add(mul(block, idx(threads)), tid);
           ifThen(cmpI(arith::CmpIPredicate::slt, row, lq), [&] {
             Value z;
             if (normalizes) {
               Value queryRow = registers[0];
               Value kvHead = div(head, idx(group));
               loadOperandRow(qBuf, queryRow, p.headDim, batch, head, row,
                              /*isQuery=*/true);
               // `combine`d over every key from `init`: the terms of each
               // pair (with Z = 1 and no gradient, P is w).
               auto overKeys =
                   [&](Value init, Value reference,
                       function_ref<Value(Value, PairTerms)> combine) {
                     return scf::ForOp::create(
                                b, loc, idx(0), lk, idx(1), ValueRange{init},
                                [&](OpBuilder &nested, Location, Value key,
                                    ValueRange acc) {
                                  OpBuilder::InsertionGuard guard(b);
                                  b.setInsertionPoint(
                                      nested.getInsertionBlock(),
                                      nested.getInsertionPoint());
                                  auto dotLoop = scf::ForOp::create(
                                      b, loc, idx(0), idx(p.headDim), idx(1),
                                      ValueRange{fconst(0.0)},
                                      [&](OpBuilder &inner, Location, Value e,
                                          ValueRange sum) {
                                        OpBuilder::InsertionGuard g2(b);
                                        b.setInsertionPoint(
                                            inner.getInsertionBlock(),
                                            inner.getInsertionPoint());
                                        Value k = toF32(load(
                                            kBuf, {batch, kvHead, key, e}));
                                        if (featureProduct)
                                          k = p.score.getFunction()->featureMap(
                                              b, loc, k);
                                        scf::YieldOp::create(
                                            b, loc,
                                            ValueRange{fadd(
                                                sum[0],
                                                fmul(load(queryRow, {e}), k))});
                                      });
                                  PairTerms terms = pairTerms(
                                      batch, head, row, key,
                                      dotLoop.getResult(0), fconst(0.0),
                                      fconst(1.0), fconst(0.0), reference);
                                  scf::YieldOp::create(
                                      b, loc,
                                      ValueRange{combine(acc[0], terms)});
                                })
                         .getResult(0);
                   };
               // Softplus: the row's reference, from the maximum of its
               // allowed scores (0 for a row without keys, whose weights
               // are all 0).
               Value reference;
               if (relative) {
                 Value none = fconst(-std::numeric_limits<double>::infinity());
                 Value m = overKeys(none, fconst(0.0),
                                    [&](Value acc, PairTerms terms) -> Value {
                                      return arith::MaximumFOp::create(
                                          b, loc, acc, terms.score);
                                    });
                 reference = AttentionAlgebra(b, loc, p).safeReference(
                     p.score.getFunction()->rowReference(b, loc, m));
                 store(reference, rowReferences, {batch, head, row});
               }
               // Z = the sum of the row's allowed weights, over every key.
               z = overKeys(fconst(0.0), reference,
                            [&](Value acc, PairTerms terms) {
                              return fadd(acc, terms.weight);
                            });
               store(z, rowNorms, {batch, head, row});
             }
             auto loop = scf::ForOp::create(
                 b, loc, idx(0), idx(p.valueDim), idx(1),
                 ValueRange{fconst(0.0)},
                 [&](OpBuilder &nested, Location, Value e, ValueRange acc) {
                   OpBuilder::InsertionGuard guard(b);
                   b.setInsertionPoint(nested.getInsertionBlock(),
                                       nested.getInsertionPoint());
                   SmallVector<Value> at = {batch, head, row, e};
                   scf::YieldOp::create(
                       b, loc,
                       ValueRange{fadd(acc[0], fmul(toF32(load(gradOutBuf, at)),
                                                    toF32(load(oBuf, at))))});
                 });
             // D' = (dO / Z) . O for kernel scores.
             Value rowDot = loop.getResult(0);
             if (z)
               rowDot =
                   AttentionAlgebra(b, loc, p).divideByNormalizer(rowDot, z);
             store(rowDot, rowDots, {batch, head, row});
           });
         });
}

void GpuBackwardEmitter::emitKeyKernel() {
  int64_t d = p.headDim, dvDim = p.valueDim;
  int64_t threads = cfg.blockQ, tileRows = cfg.blockK;
  launch(
      arith::CeilDivUIOp::create(b, loc, lk, idx(threads)),
      mul(batches, idx(p.headsKV)), threads, {{tileRows, d}, {tileRows, dvDim}},
      {d, dvDim, d, dvDim},
      [&](Value block, Value bh, Value tid, ValueRange shared,
          ValueRange registers) {
        Value queries = shared[0], gradOutputs = shared[1];
        Value keyRow = registers[0], valueRow = registers[1];
        Value dkRow = registers[2], dvRow = registers[3];
        Value batch = div(bh, idx(p.headsKV)), kvHead = rem(bh, idx(p.headsKV));
        Value k0 = mul(block, idx(threads));
        Value key = add(k0, tid);
        Value valid = cmpI(arith::CmpIPredicate::slt, key, lk);
        Value keyClamped = minI(key, sub(lk, idx(1)));
        loadOperandRow(kBuf, keyRow, d, batch, kvHead, keyClamped,
                       /*isQuery=*/false);
        loadRow(vBuf, valueRow, dvDim, batch, kvHead, keyClamped);
        zero(dkRow, d);
        zero(dvRow, dvDim);
        // The rows that may see some key of the block (uniform across it,
        // so that barriers stay uniform).
        Value k1 = sub(minI(add(k0, idx(threads)), lk), idx(1));
        auto [rowLo, rowHi] =
            rowsSeeingKeys(b, loc, p, k0, k1, lq, lk, extents);
        // With the mask_mod's classes the row tiles are its, aligned to
        // block_k rows; the rows added in front see none of the block's
        // keys (the rule masks them).
        if (keyBlockClasses)
          rowLo = mul(div(rowLo, idx(tileRows)), idx(tileRows));
        forLoop(idx(0), idx(group), idx(1), [&](Value g) {
          Value head = add(mul(kvHead, idx(group)), g);
          forLoop(rowLo, rowHi, idx(tileRows), [&](Value first) {
            // Row tiles that the mask_mod leaves empty for the block's keys
            // are skipped (the condition is the block's, so the barriers
            // stay uniform); on full ones the mod is not evaluated.
            Value visit, modFull;
            std::tie(visit, modFull) = tileClass(
                keyBlockClasses, batch, head, div(first, idx(tileRows)), block);
            ifThen(visit, [&] {
              stageOperandRows(qBuf, queries, d, batch, head, first, lq, tid,
                               threads, /*isQuery=*/true);
              stageRows(gradOutBuf, gradOutputs, dvDim, batch, head, first, lq,
                        tid, threads);
              gpu::BarrierOp::create(b, loc);
              ifThen(valid, [&] {
                Value count = minI(idx(tileRows), sub(rowHi, first));
                forLoop(idx(0), count, idx(1), [&](Value r) {
                  Value row = add(first, r);
                  PairTerms terms =
                      pairTerms(batch, head, row, key,
                                dotWithTileRow(keyRow, queries, r, d),
                                dotWithTileRow(valueRow, gradOutputs, r, dvDim),
                                rowStatistic(batch, head, row),
                                rowDotAt(batch, head, row),
                                rowReferenceAt(batch, head, row), modFull);
                  addTileRow(dvRow, terms.weight, gradOutputs, r, dvDim);
                  addTileRow(dkRow, dotFactor(terms.gradScore), queries, r, d);
                });
              });
              gpu::BarrierOp::create(b, loc);
            });
          });
        });
        ifThen(valid, [&] {
          storeGradient(dkRow, dk, kBuf, d, batch, kvHead, key,
                        /*isQuery=*/false);
          storeRow(dvRow, dv, dvDim, batch, kvHead, key);
        });
      });
}

void GpuBackwardEmitter::emitQueryKernel() {
  int64_t d = p.headDim, dvDim = p.valueDim;
  int64_t threads = cfg.blockQ, tileKeys = cfg.blockK;
  launch(
      arith::CeilDivUIOp::create(b, loc, lq, idx(threads)),
      mul(batches, idx(p.headsQ)), threads, {{tileKeys, d}, {tileKeys, dvDim}},
      {d, dvDim, d},
      [&](Value block, Value bh, Value tid, ValueRange shared,
          ValueRange registers) {
        Value keys = shared[0], values = shared[1];
        Value queryRow = registers[0], gradOutRow = registers[1];
        Value dqRow = registers[2];
        Value batch = div(bh, idx(p.headsQ)), head = rem(bh, idx(p.headsQ));
        Value kvHead = div(head, idx(group));
        Value rowsLo = mul(block, idx(threads));
        Value row = add(rowsLo, tid);
        Value valid = cmpI(arith::CmpIPredicate::slt, row, lq);
        Value rowClamped = minI(row, sub(lq, idx(1)));
        Value rowsHi = sub(minI(add(rowsLo, idx(threads)), lq), idx(1));
        loadOperandRow(qBuf, queryRow, d, batch, head, rowClamped,
                       /*isQuery=*/true);
        loadRow(gradOutBuf, gradOutRow, dvDim, batch, head, rowClamped);
        zero(dqRow, d);
        Value statistic = rowStatistic(batch, head, rowClamped);
        Value rowDot = rowDotAt(batch, head, rowClamped);
        Value reference = rowReferenceAt(batch, head, rowClamped);
        Value numTiles = arith::CeilDivUIOp::create(b, loc, lk, idx(tileKeys));
        // A neighborhood's rows see keys within its reach on the leading
        // axis only.
        Value tFirst = idx(0), tEnd = numTiles;
        if (p.isNeighborhood) {
          auto [keysLo, keysHi] = neighborhoodReach(b, loc, p, extents, rowsLo,
                                                    rowsHi, /*fromKeys=*/false);
          tFirst = div(keysLo, idx(tileKeys));
          tEnd = arith::CeilDivUIOp::create(b, loc, keysHi, idx(tileKeys));
        }
        forLoop(tFirst, tEnd, idx(1), [&](Value t) {
          Value kvStart = mul(t, idx(tileKeys));
          Value kvEnd = sub(minI(add(kvStart, idx(tileKeys)), lk), idx(1));
          // Tiles that no row of the block may see are skipped (with
          // dBias, dS is 0 there from emitZeroScoresKernel).
          Value visit = arith::ConstantIntOp::create(b, loc, 1, 1);
          if (p.causal || p.hasWindow) {
            RuleArith r(b, loc);
            rule::RowsKeys<RuleArith> seen =
                rule::rowsKeys(r, p, rowsLo, rowsHi, lq, lk);
            visit = andI(cmpI(arith::CmpIPredicate::sle, kvStart, seen.hi),
                         cmpI(arith::CmpIPredicate::sle, seen.lo, kvEnd));
            if (p.hasWindow && p.sinks > 0)
              visit = orI(
                  visit, cmpI(arith::CmpIPredicate::sle, kvStart, seen.sinkHi));
          }
          // And tiles that the mask_mod leaves empty for the block's rows;
          // on full ones the mod is not evaluated.
          Value notEmpty, modFull;
          std::tie(notEmpty, modFull) =
              tileClass(rowBlockClasses, batch, head, block, t);
          visit = andI(visit, notEmpty);
          ifThen(visit, [&] {
            stageOperandRows(kBuf, keys, d, batch, kvHead, kvStart, lk, tid,
                             threads, /*isQuery=*/false);
            stageRows(vBuf, values, dvDim, batch, kvHead, kvStart, lk, tid,
                      threads);
            gpu::BarrierOp::create(b, loc);
            ifThen(valid, [&] {
              forLoop(
                  idx(0), add(sub(kvEnd, kvStart), idx(1)), idx(1),
                  [&](Value j) {
                    Value key = add(kvStart, j);
                    PairTerms terms =
                        pairTerms(batch, head, row, key,
                                  dotWithTileRow(queryRow, keys, j, d),
                                  dotWithTileRow(gradOutRow, values, j, dvDim),
                                  statistic, rowDot, reference, modFull);
                    addTileRow(dqRow, dotFactor(terms.gradScore), keys, j, d);
                    if (gradScores)
                      store(terms.gradScore, gradScores,
                            {batch, head, row, key});
                  });
            });
            gpu::BarrierOp::create(b, loc);
          });
        });
        ifThen(valid, [&] {
          storeGradient(dqRow, dq, qBuf, d, batch, head, row,
                        /*isQuery=*/true);
        });
      });
}

void GpuBackwardEmitter::emitZeroScoresKernel() {
  // The block's rows in turn, each thread a column of keys in steps of the
  // block's width: consecutive threads write consecutive words.
  int64_t threads = cfg.blockQ;
  launch(arith::CeilDivUIOp::create(b, loc, lq, idx(threads)),
         mul(batches, idx(p.headsQ)), threads, {}, {},
         [&](Value block, Value bh, Value tid, ValueRange, ValueRange) {
           Value batch = div(bh, idx(p.headsQ)), head = rem(bh, idx(p.headsQ));
           Value first = mul(block, idx(threads));
           forLoop(first, minI(add(first, idx(threads)), lq), idx(1),
                   [&](Value row) {
                     forLoop(tid, lk, idx(threads), [&](Value key) {
                       store(fconst(0.0), gradScores, {batch, head, row, key});
                     });
                   });
         });
}

void GpuBackwardEmitter::emitBiasKernel() {
  // One thread per row of the bias; the sum runs over the batches and heads
  // it broadcasts over, in order.
  auto type = cast<MemRefType>(dbias.getType());
  bool sumBatches = type.getDimSize(0) == 1, sumHeads = type.getDimSize(1) == 1;
  Value biasBatches = sumBatches ? idx(1) : batches;
  int64_t biasHeads = sumHeads ? 1 : p.headsQ;
  int64_t threads = cfg.blockQ;
  launch(arith::CeilDivUIOp::create(b, loc, lq, idx(threads)),
         mul(biasBatches, idx(biasHeads)), threads, {}, {},
         [&](Value block, Value bh, Value tid, ValueRange, ValueRange) {
           Value bb = div(bh, idx(biasHeads)), hb = rem(bh, idx(biasHeads));
           Value row = add(mul(block, idx(threads)), tid);
           ifThen(cmpI(arith::CmpIPredicate::slt, row, lq), [&] {
             forLoop(idx(0), lk, idx(1), [&](Value key) {
               Value batchLo = sumBatches ? idx(0) : bb;
               Value batchHi = sumBatches ? batches : add(bb, idx(1));
               Value headLo = sumHeads ? idx(0) : hb;
               Value headHi = sumHeads ? idx(p.headsQ) : add(hb, idx(1));
               auto overBatches = scf::ForOp::create(
                   b, loc, batchLo, batchHi, idx(1), ValueRange{fconst(0.0)},
                   [&](OpBuilder &nb, Location, Value batch, ValueRange acc) {
                     OpBuilder::InsertionGuard guard(b);
                     b.setInsertionPoint(nb.getInsertionBlock(),
                                         nb.getInsertionPoint());
                     auto overHeads = scf::ForOp::create(
                         b, loc, headLo, headHi, idx(1), acc,
                         [&](OpBuilder &hb2, Location, Value head,
                             ValueRange sum) {
                           OpBuilder::InsertionGuard g2(b);
                           b.setInsertionPoint(hb2.getInsertionBlock(),
                                               hb2.getInsertionPoint());
                           scf::YieldOp::create(
                               b, loc,
                               ValueRange{fadd(
                                   sum[0],
                                   load(gradScores, {batch, head, row, key}))});
                         });
                     scf::YieldOp::create(b, loc, overHeads.getResults());
                   });
               Value sum = overBatches.getResult(0);
               if (type.getElementType() != f32)
                 sum = arith::TruncFOp::create(b, loc, type.getElementType(),
                                               sum);
               store(sum, dbias, {bb, hb, row, key});
             });
           });
         });
}

void GpuBackwardEmitter::emitSinkKernel() {
  // dSink_h = -sum over (batch, row) of exp(sink_h - LSE) D: a block per
  // query head. Thread t sums the rows t, t + T, ... of the flattened
  // (batch, row) range in order; then the block adds the threads' sums in
  // halves in shared memory. The order is fixed, so the result is the same
  // on every run.
  constexpr int64_t threads = 128;
  launch(
      idx(p.headsQ), idx(1), threads, {{threads}}, {},
      [&](Value head, Value, Value tid, ValueRange shared, ValueRange) {
        Value partials = shared[0];
        Value sinkLogit = load(sinkBuf, {head});
        auto overRows = scf::ForOp::create(
            b, loc, tid, mul(batches, lq), idx(threads),
            ValueRange{fconst(0.0)},
            [&](OpBuilder &nested, Location, Value flat, ValueRange sum) {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(nested.getInsertionBlock(),
                                  nested.getInsertionPoint());
              SmallVector<Value> at = {div(flat, lq), head, rem(flat, lq)};
              scf::YieldOp::create(
                  b, loc,
                  ValueRange{AttentionAlgebra(b, loc, p).sinkGradientStep(
                      sum[0], load(lseBuf, at), load(rowDots, at), sinkLogit)});
            });
        store(overRows.getResult(0), partials, {tid});
        gpu::BarrierOp::create(b, loc);
        for (int64_t half = threads / 2; half >= 1; half /= 2) {
          ifThen(cmpI(arith::CmpIPredicate::ult, tid, idx(half)), [&] {
            store(fadd(load(partials, {tid}),
                       load(partials, {add(tid, idx(half))})),
                  partials, {tid});
          });
          gpu::BarrierOp::create(b, loc);
        }
        ifThen(cmpI(arith::CmpIPredicate::eq, tid, idx(0)),
               [&] { store(load(partials, {idx(0)}), dsink, {head}); });
      });
}

SmallVector<Value> GpuBackwardEmitter::build() {
  batches = dimOf(p.query, 0);
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  sizes.queryShape = {lq};
  sizes.keyShape = {lk};
  if (p.isNeighborhood) {
    sizes.queryShape = extents;
    sizes.keyShape = extents;
  }

  kernel = !p.score.getFunction()->scoresInLog2Domain();
  relative = kernel && p.score.tracksRowMax();
  featureProduct = p.score.isFeatureProduct();
  bool normalizes = kernel && p.score.getNormalize();
  qBuf = buffers.input(p.query);
  kBuf = buffers.input(p.key);
  vBuf = buffers.input(p.value);
  oBuf = buffers.input(p.init);
  gradOutBuf = buffers.input(p.gradOutput);
  if (p.lse)
    lseBuf = buffers.input(p.lse);
  if (p.mask)
    maskBuf = buffers.input(p.mask);
  if (p.bias)
    biasBuf = buffers.input(p.bias);
  if (p.sinkLogits)
    sinkBuf = buffers.input(p.sinkLogits);
  for (Value table : modTables(p))
    modBuffers[table] = buffers.input(table);
  if (p.maskMod && !p.isNeighborhood) {
    ModTileClassifier byKeyBlocks(b, loc, p, /*blockQ=*/cfg.blockK,
                                  /*blockK=*/cfg.blockQ, /*rowGroup=*/0, lq,
                                  lk);
    keyBlockClasses = buffers.input(byKeyBlocks.classes(b.getI32Type()));
    ModTileClassifier byRowBlocks(b, loc, p, cfg.blockQ, cfg.blockK,
                                  /*rowGroup=*/0, lq, lk);
    rowBlockClasses = buffers.input(byRowBlocks.classes(b.getI32Type()));
  }

  if (!kernel || normalizes)
    rowDots = buffers.allocF32(
        {ShapedType::kDynamic, p.headsQ, ShapedType::kDynamic}, {batches, lq});
  if (normalizes)
    rowNorms = buffers.allocF32(
        {ShapedType::kDynamic, p.headsQ, ShapedType::kDynamic}, {batches, lq});
  if (relative)
    rowReferences = buffers.allocF32(
        {ShapedType::kDynamic, p.headsQ, ShapedType::kDynamic}, {batches, lq});
  dq = buffers.allocLike(p.gradInits[0]);
  dk = buffers.allocLike(p.gradInits[1]);
  dv = buffers.allocLike(p.gradInits[2]);
  unsigned next = 3;
  Value dbiasInit, dsinkInit;
  if (p.bias) {
    dbiasInit = p.gradInits[next++];
    dbias = buffers.allocLike(dbiasInit);
    auto type = cast<MemRefType>(dbias.getType());
    bool direct = type.getElementType() == f32 && type.getDimSize(0) != 1 &&
                  type.getDimSize(1) != 1;
    int64_t dyn = ShapedType::kDynamic;
    gradScores =
        direct ? dbias
               : buffers.allocF32({dyn, p.headsQ, dyn, dyn}, {batches, lq, lk});
  }
  if (p.sinkLogits) {
    dsinkInit = p.gradInits[next++];
    dsink = buffers.allocLike(dsinkInit);
  }

  if (rowDots)
    emitRowDotKernel();
  emitKeyKernel();
  if (gradScores)
    emitZeroScoresKernel();
  emitQueryKernel();
  if (p.bias && gradScores != dbias)
    emitBiasKernel();
  if (p.sinkLogits)
    emitSinkKernel();

  SmallVector<Value> results = {buffers.result(dq, p.gradInits[0]),
                                buffers.result(dk, p.gradInits[1]),
                                buffers.result(dv, p.gradInits[2])};
  if (dbias)
    results.push_back(buffers.result(dbias, dbiasInit));
  if (dsink)
    results.push_back(buffers.result(dsink, dsinkInit));
  return results;
}

SmallVector<Value>
mlir::attn::buildGpuFlashBackward(RewriterBase &rewriter,
                                  const AttentionProblem &problem,
                                  const GpuKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  if (!problem.isNeighborhood)
    return GpuBackwardEmitter(rewriter, problem, config, {}).build();
  // Neighborhoods: the backward over flattened positions, NATTEN's rule per
  // (query, key).
  return buildOnFlattenedPositions(
      rewriter, problem,
      [&](const AttentionProblem &flat, ArrayRef<Value> extents) {
        return GpuBackwardEmitter(rewriter, flat, config, extents).build();
      });
}
