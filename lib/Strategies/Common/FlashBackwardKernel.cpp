//===- FlashBackwardKernel.cpp - FlashAttention-2's backward on the CPU ---===//
//
// See FlashBackwardKernel.h. Which query rows may see a key tile follows
// from the rules of AllowedKeyRule.h read backwards: causal and a right
// window bound the first row, a left window (outside the sink keys) the
// last; micro-tiles whose rows see every key of the tile skip the
// element-wise rule.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/FlashBackwardKernel.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Strategies/Common/ModTileClasses.h"
#include "attn/Strategies/Common/OnlineSoftmax.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

bool mlir::attn::flashBackwardCanCompute(const AttentionProblem &p,
                                         std::string &reason) {
  if (!p.isBackward) {
    reason = "computes attn.attention_backward only";
    return false;
  }
  if (!p.score.tracksRowMax()) {
    reason = "its CPU backward kernel differentiates softmax and softplus "
             "(kernel scores: the linear or reference strategy)";
    return false;
  }
  if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim) {
    reason = "head dimensions above " + std::to_string(kMaxFlashHeadDim) +
             " would unroll into enormous IR";
    return false;
  }
  return true;
}

namespace {

class BackwardEmitter : KernelBuilder {
public:
  /// `spatialExtents`: a neighborhood's (flattened by
  /// buildOnFlattenedPositions), or none.
  BackwardEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
                  const FlashKernelConfig &config, int64_t headSplits,
                  ArrayRef<Value> spatialExtents)
      : KernelBuilder(rewriter, problem.op->getLoc(), config.lanes), p(problem),
        cfg(config), splits(headSplits), extents(spatialExtents) {
    group = p.groupSize();
    headsPerSplit = group / splits;
    lanes = cfg.lanes;
    mr = cfg.microQ;
    keyVecs = cfg.blockK / lanes;
    headVecs = (p.headDim + lanes - 1) / lanes;
    valueVecs = (p.valueDim + lanes - 1) / lanes;
    chunkVecs = std::max<int64_t>(1, cfg.blockDv / lanes);
    relative =
        p.score.tracksRowMax() && !p.score.getFunction()->scoresInLog2Domain();
  }

  SmallVector<Value> build();

private:
  Value ceilDiv(Value x, int64_t d) {
    return arith::CeilDivUIOp::create(b, loc, x, idx(d));
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value splat(Value scalar) {
    return vector::BroadcastOp::create(b, loc, vecType, scalar);
  }
  Value fma(Value x, Value y, Value acc) {
    return vector::FMAOp::create(b, loc, x, y, acc);
  }
  /// Row `row` of a [B, H, L, E] tensor, columns [e*lanes, +lanes), zero
  /// past E, in f32.
  Value readRow(Value tensor, Value batch, Value head, Value row, int64_t e,
                int64_t width) {
    return readAt(tensor, {batch, head, row, idx(e * lanes)},
                  width % lanes == 0);
  }
  /// `lanes` elements of a rank-4 tensor along its last dimension from
  /// `indices`, in f32 (zero past the end unless `inBounds`).
  Value readAt(Value tensor, ValueRange indices, bool inBounds) {
    Type elem = getElementTypeOrSelf(tensor.getType());
    return toF32(vector::TransferReadOp::create(
        b, loc, VectorType::get({lanes}, elem), tensor, indices,
        arith::ConstantOp::create(b, loc, b.getZeroAttr(elem)),
        ArrayRef<bool>{inBounds}));
  }
  Value scalarAt(Value tensor, ValueRange indices) {
    return tensor::ExtractOp::create(b, loc, tensor, indices);
  }
  /// scf.for [lo, hi) step `step` carrying `inits`.
  SmallVector<Value>
  carriedLoop(Value lo, Value hi, Value step, ValueRange inits,
              function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(
        b, loc, lo, hi, step, inits,
        [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          scf::YieldOp::create(b, loc, body(iv, carried));
        });
    return SmallVector<Value>(loop.getResults());
  }

  /// Whether rows [first, first + micro_q) all see every key of the whole
  /// tile [k0, k0 + block_k) (never with a mask, which is tested element by
  /// element, nor with a mask_mod unless `modFull`, i1, says that it allows
  /// the whole tile to these rows).
  Value tileFull(Value first, Value k0, Value keyCount, Value modFull);
  /// The lanes of key vector `keys` (i32 positions) that row `row` of
  /// `head` may see under the rules, the mask and the mask_mod.
  Value allowedKeys(Value batch, Value head, Value row, Value keys);
  /// The positions (i32) of key vector c of the tile at k0, and the same
  /// with lanes past the last key clamped to it (what the mods read).
  Value keyPositions(Value k0, int64_t c) {
    return lanePositions(add(k0, idx(c * lanes)));
  }
  Value clampKeys(Value keys) { return clampPositions(keys, sub(lk, idx(1))); }
  Value clampedKeys(Value k0, int64_t c) {
    return clampKeys(keyPositions(k0, c));
  }
  /// The positions the mods take for `row` and the key lanes `keys` (in
  /// bounds): modPositionsInWindow with a neighborhood's window.
  SmallVector<Value> modPositionsAt(Value row, Value keys) {
    if (!p.isNeighborhood)
      return {row, keys};
    ProblemSizes sizes;
    sizes.queryShape = sizes.keyShape = extents;
    return modPositionsInWindow(
        b, loc, p, extents, row, keys,
        buildAllowedPredicate(b, loc, p, sizes, row, keys));
  }
  /// dBias from its f32 [B, Hq, Lq, Lk] sums: summed over the dimensions
  /// the bias broadcasts (size 1 where the scores have more), in the
  /// init's element type.
  Value finishBiasGradient(Value full);
  /// f32 `sums` rounded into `init`'s element type, elementwise.
  Value roundInto(Value sums, Value init);
  /// D = rowsum(dO O) [B, Hq, Lq] in f32, once per call (FlashAttention-2's
  /// preprocessing): every key tile of a row and dSink read it.
  Value rowDotProducts();
  /// dSink[h] = -sum_{b,i} exp(sink_h - LSE) rowsum(dO O) over the rows
  /// with some allowed key (DESIGN: the sink's weight carries no value).
  Value sinkLogitsGradient();
  /// The rows of a micro-tile from `first`: row r is first + r clamped to
  /// the last row (rows past Lq read it and add nothing), valid while
  /// first + r < Lq.
  struct MicroRows {
    SmallVector<Value> row, valid;
    /// With a mask_mod that the classifier decides: i1, whether it allows
    /// every key of the tile to these rows; else null.
    Value modFull;
  };
  MicroRows microRows(Value first, Value modFull);
  /// `body(modFull)` for the micro-tile of rows from `first` against key
  /// tile `tile`, unless the mask_mod allows none of its pairs (then
  /// `carried` as they are): the tile classifier's verdict on these rows.
  SmallVector<Value>
  visitMicroTile(Value batch, Value head, Value first, Value tile,
                 ValueRange carried,
                 function_ref<SmallVector<Value>(Value modFull)> body);
  /// rows . packed: the rows' micro_q x block_k products with a packed
  /// [dim, block_k] tile, in registers.
  SmallVector<Value> timesPacked(Value rowsTensor, Value packed, int64_t dim,
                                 Value batch, Value head,
                                 const MicroRows &rows);
  /// The micro-tile's scores against the packed keys as the forward forms
  /// them (scale, bias, softcap, score_mod), and their derivatives with
  /// respect to the biased score x = scale q.k + bias.
  std::pair<SmallVector<Value>, SmallVector<Value>>
  scoresAndDerivatives(Value batch, Value head, const MicroRows &rows,
                       Value k0);
  /// `values` (groups of micro_q x key-vector vectors) where each pair is
  /// allowed and group n's fills[n] elsewhere, unless the tile is full.
  SmallVector<Value> maskPartialTile(Value batch, Value head,
                                     const MicroRows &rows, Value first,
                                     Value k0, Value keyCount,
                                     ArrayRef<Value> values,
                                     ArrayRef<double> fills);
  /// Softplus: the task's rows' statistics, each row's running maximum
  /// reference m (AttentionAlgebra::updateMax) and sum l of its weights
  /// relative to it, over every key tile, as [1, heads, Lq] tensors.
  std::pair<Value, Value> rowStatistics(Value batch, Value kvHead,
                                        Value firstHead, Value numTiles);
  /// One micro-tile's step of rowStatistics: its rows' (m, l) updated with
  /// the key tile at `k0`.
  SmallVector<Value> statisticsMicroTile(Value batch, Value head, Value g,
                                         Value first, Value k0, Value keyCount,
                                         Value modFull, ValueRange stats);
  /// K^T (or V^T) of the tile of `keyCount` keys at `k0` into `packed`
  /// [dim, block_k], zero past Lk.
  void packTile(Value source, Value packed, int64_t dim, Value batch,
                Value kvHead, Value k0, Value keyCount);
  /// One micro-tile of rows starting at `first` of query head `head` (the
  /// g-th of the task's heads) against the key tile at `k0`: accumulates dK
  /// and dV on the stack and returns dQ (the task's heads) with its rows
  /// updated.
  SmallVector<Value> microTile(Value batch, Value head, Value kvHead, Value g,
                               Value first, Value k0, Value keyCount,
                               Value modFull, ValueRange grads);

  const AttentionProblem &p;
  FlashKernelConfig cfg;
  int64_t group, lanes, mr, keyVecs, headVecs, valueVecs, chunkVecs;
  /// The group's heads are split among `splits` tasks of headsPerSplit
  /// each; with splits > 1 each task's dK and dV are partial sums.
  int64_t splits, headsPerSplit;
  /// A neighborhood's spatial extents (its rule unflattens positions).
  SmallVector<Value> extents;
  Value lq, lk;
  /// rowDotProducts() of the call.
  Value rowDots;
  /// Softplus (weights relative to a row reference, no LSE): each row's
  /// normalizer is formed again by a first sweep over the keys
  /// (rowStatistics), whose (m, l) of the task's rows the second reads.
  bool relative = false;
  Value rowMaxes, rowSums;
  /// The mask_mod's tile classifier (not for neighborhoods): micro-tiles it
  /// leaves empty are skipped, and those it fills need no per-key test.
  std::optional<ModTileClassifier> modClassifier;
  // Stack scratch of a task: K^T and V^T of the tile [D | Dv, block_k];
  // dK and dV of the tile [block_k, D | Dv padded]; P and dS of a
  // micro-tile [micro_q, block_k].
  Value keysT, valuesT, dkAcc, dvAcc, pBuf, dsBuf;
};

} // namespace

Value BackwardEmitter::tileFull(Value first, Value k0, Value keyCount,
                                Value modFull) {
  if (p.mask || p.isNeighborhood || (p.maskMod && !modFull))
    return arith::ConstantIntOp::create(b, loc, 0, 1);
  RuleArith d(b, loc);
  Value last = add(first, idx(mr - 1));
  Value k1 = add(k0, idx(cfg.blockK - 1));
  // Lower bounds grow with the row, and so do upper bounds.
  Value full = andI(cmpI(arith::CmpIPredicate::slt, last, lq),
                    cmpI(arith::CmpIPredicate::eq, keyCount, idx(cfg.blockK)));
  Value band = andI(cmpI(arith::CmpIPredicate::sle,
                         rule::bandInterval(d, p, last, lq, lk).lo, k0),
                    cmpI(arith::CmpIPredicate::sle, k1,
                         rule::bandInterval(d, p, first, lq, lk).hi));
  Value sink = cmpI(arith::CmpIPredicate::sle, k1,
                    rule::sinkInterval(d, p, first, lq, lk).hi);
  full = andI(full, orI(band, sink));
  return modFull ? andI(full, modFull) : full;
}

Value BackwardEmitter::allowedKeys(Value batch, Value head, Value row,
                                   Value keys) {
  RuleArith d(b, loc);
  Value rule;
  if (p.isNeighborhood) {
    ProblemSizes sizes;
    sizes.queryShape = sizes.keyShape = extents;
    rule = buildAllowedPredicate(b, loc, p, sizes, row, keys);
  } else {
    rule = rule::bandAllowed(d, p, row, keys, lq, lk);
  }
  Value ok = d.both(d.slt(keys, lk), rule);
  // Lanes past the last key read the last key (they are not allowed).
  Value clamped = clampKeys(keys);
  if (p.mask) {
    auto maskType = cast<RankedTensorType>(p.mask.getType());
    Value mb = maskType.getDimSize(0) == 1 ? idx(0) : batch;
    Value mh = maskType.getDimSize(1) == 1 ? idx(0) : head;
    SmallVector<Value> bits;
    for (int64_t x = 0; x < lanes; ++x) {
      Value key = arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          vector::ExtractOp::create(b, loc, clamped, ArrayRef<int64_t>{x}));
      bits.push_back(scalarAt(p.mask, {mb, mh, row, key}));
    }
    ok = d.both(ok, vector::FromElementsOp::create(
                        b, loc, VectorType::get({lanes}, b.getI1Type()), bits));
  }
  if (p.maskMod)
    ok = applyMaskMod(b, loc, p, ok, batch, head, modPositionsAt(row, clamped));
  return ok;
}

BackwardEmitter::MicroRows BackwardEmitter::microRows(Value first,
                                                      Value modFull) {
  MicroRows rows;
  rows.modFull = modFull;
  Value lastRow = sub(lq, idx(1));
  for (int64_t r = 0; r < mr; ++r) {
    Value i = add(first, idx(r));
    rows.valid.push_back(cmpI(arith::CmpIPredicate::slt, i, lq));
    rows.row.push_back(minI(i, lastRow));
  }
  return rows;
}

SmallVector<Value> BackwardEmitter::timesPacked(Value rowsTensor, Value packed,
                                                int64_t dim, Value batch,
                                                Value head,
                                                const MicroRows &rows) {
  return emitPackedScores(
      b, loc, cfg, dim,
      [&](int64_t r, Value d) {
        return toF32(scalarAt(rowsTensor, {batch, head, rows.row[r], d}));
      },
      [&](Value d, int64_t c) -> Value {
        return vector::LoadOp::create(b, loc, vecType, packed,
                                      ValueRange{d, idx(c * lanes)});
      });
}

std::pair<SmallVector<Value>, SmallVector<Value>>
BackwardEmitter::scoresAndDerivatives(Value batch, Value head,
                                      const MicroRows &rows, Value k0) {
  AttentionAlgebra algebra(b, loc, p);
  SmallVector<Value> s =
      timesPacked(p.query, keysT, p.headDim, batch, head, rows);
  SmallVector<Value> deriv(s.size());
  Value scale = vconst(p.scale);
  auto biasType =
      p.bias ? cast<RankedTensorType>(p.bias.getType()) : RankedTensorType();
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < keyVecs; ++c) {
      Value v = fmul(s[r * keyVecs + c], scale);
      if (p.bias) {
        Value bb = biasType.getDimSize(0) == 1 ? idx(0) : batch;
        Value bh = biasType.getDimSize(1) == 1 ? idx(0) : head;
        v = fadd(v,
                 readAt(p.bias, {bb, bh, rows.row[r], add(k0, idx(c * lanes))},
                        /*inBounds=*/false));
      }
      // Lanes past the last key read the last key's position (they are
      // not allowed).
      auto scoreMod = [&](Value x) {
        return applyScoreModWithDerivative(
            b, loc, p, x, batch, head,
            modPositionsAt(rows.row[r], clampedKeys(k0, c)));
      };
      std::tie(s[r * keyVecs + c], deriv[r * keyVecs + c]) =
          algebra.scoreAndDerivative(
              v, p.scoreMod
                     ? function_ref<std::pair<Value, Value>(Value)>(scoreMod)
                     : nullptr);
    }
  return {s, deriv};
}

SmallVector<Value> BackwardEmitter::maskPartialTile(
    Value batch, Value head, const MicroRows &rows, Value first, Value k0,
    Value keyCount, ArrayRef<Value> values, ArrayRef<double> fills) {
  int64_t perGroup = mr * keyVecs;
  assert(int64_t(values.size()) == perGroup * int64_t(fills.size()) &&
         "one fill per group of micro-tile vectors");
  auto masked = scf::IfOp::create(
      b, loc, tileFull(first, k0, keyCount, rows.modFull),
      [&](OpBuilder &nb, Location l) { scf::YieldOp::create(nb, l, values); },
      [&](OpBuilder &nb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> out(values);
        for (int64_t c = 0; c < keyVecs; ++c) {
          Value jv = keyPositions(k0, c);
          for (int64_t r = 0; r < mr; ++r) {
            Value ok = andI(allowedKeys(batch, head, rows.row[r], jv),
                            vector::BroadcastOp::create(
                                b, loc, VectorType::get({lanes}, b.getI1Type()),
                                rows.valid[r]));
            for (auto [n, fill] : llvm::enumerate(fills)) {
              Value &v = out[n * perGroup + r * keyVecs + c];
              v = select(ok, v, vconst(fill));
            }
          }
        }
        scf::YieldOp::create(b, loc, out);
      });
  return SmallVector<Value>(masked.getResults());
}

SmallVector<Value>
BackwardEmitter::statisticsMicroTile(Value batch, Value head, Value g,
                                     Value first, Value k0, Value keyCount,
                                     Value modFull, ValueRange stats) {
  AttentionAlgebra algebra(b, loc, p);
  MicroRows rows = microRows(first, modFull);
  // The scores as the second sweep forms them (their derivatives are not
  // used here, and fold away); -inf where not allowed, weight 0.
  SmallVector<Value> s = scoresAndDerivatives(batch, head, rows, k0).first;
  s = maskPartialTile(batch, head, rows, first, k0, keyCount, s,
                      {-std::numeric_limits<double>::infinity()});
  // Row by row, each reading what the row before wrote (a clamped row adds
  // nothing to the last row).
  Value maxes = stats[0], sums = stats[1];
  for (int64_t r = 0; r < mr; ++r) {
    Value tileMax = s[r * keyVecs];
    for (int64_t c = 1; c < keyVecs; ++c)
      tileMax = arith::MaximumFOp::create(b, loc, tileMax, s[r * keyVecs + c]);
    tileMax = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXIMUMF, tileMax);
    SmallVector<Value> at = {idx(0), g, rows.row[r]};
    Value mOld = scalarAt(maxes, at);
    AttentionAlgebra::MaxUpdate update = algebra.updateMax(mOld, tileMax);
    Value sum = algebra.weight(s[r * keyVecs], update.mSafe);
    for (int64_t c = 1; c < keyVecs; ++c)
      sum = fadd(sum, algebra.weight(s[r * keyVecs + c], update.mSafe));
    sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
    Value lNew = fadd(
        fmul(scalarAt(sums, at), algebra.rescaleFactor(mOld, update.mSafe)),
        sum);
    maxes = tensor::InsertOp::create(b, loc, update.mNew, maxes, at);
    sums = tensor::InsertOp::create(b, loc, lNew, sums, at);
  }
  return {maxes, sums};
}

std::pair<Value, Value> BackwardEmitter::rowStatistics(Value batch,
                                                       Value kvHead,
                                                       Value firstHead,
                                                       Value numTiles) {
  auto type = RankedTensorType::get(
      {1, headsPerSplit,
       cast<RankedTensorType>(p.query.getType()).getDimSize(2)},
      f32);
  SmallVector<Value> dynamic;
  if (type.isDynamicDim(2))
    dynamic.push_back(lq);
  auto filled = [&](double v) {
    return linalg::FillOp::create(
               b, loc, fconst(v),
               tensor::EmptyOp::create(b, loc, type, dynamic).getResult())
        .getResult(0);
  };
  SmallVector<Value> stats = carriedLoop(
      idx(0), numTiles, idx(1),
      {filled(AttentionAlgebra(b, loc, p).initialMax()), filled(0.0)},
      [&](Value tile, ValueRange carried) -> SmallVector<Value> {
        Value k0 = mul(tile, idx(cfg.blockK));
        Value keyCount = minI(idx(cfg.blockK), sub(lk, k0));
        packTile(p.key, keysT, p.headDim, batch, kvHead, k0, keyCount);
        auto [rowLo, rowHi] = rowsSeeingKeys(
            b, loc, p, k0, add(k0, sub(keyCount, idx(1))), lq, lk, extents);
        return carriedLoop(
            idx(0), idx(headsPerSplit), idx(1), carried,
            [&](Value g, ValueRange gCarried) -> SmallVector<Value> {
              Value head = add(firstHead, g);
              return carriedLoop(
                  rowLo, rowHi, idx(mr), gCarried,
                  [&](Value first, ValueRange rCarried) {
                    return visitMicroTile(
                        batch, head, first, tile, rCarried, [&](Value modFull) {
                          return statisticsMicroTile(batch, head, g, first, k0,
                                                     keyCount, modFull,
                                                     rCarried);
                        });
                  });
            });
      });
  return {stats[0], stats[1]};
}

SmallVector<Value> BackwardEmitter::visitMicroTile(
    Value batch, Value head, Value first, Value tile, ValueRange carried,
    function_ref<SmallVector<Value>(Value modFull)> body) {
  if (!modClassifier)
    return body(Value());
  Value last = minI(add(first, idx(mr - 1)), sub(lq, idx(1)));
  auto [may, must] = modClassifier->rowsInTile(batch, head, first, last, tile);
  auto visit = scf::IfOp::create(
      b, loc, may,
      [&](OpBuilder &nb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        scf::YieldOp::create(b, loc, body(must));
      },
      [&](OpBuilder &nb, Location l) { scf::YieldOp::create(nb, l, carried); });
  return SmallVector<Value>(visit.getResults());
}

void BackwardEmitter::packTile(Value source, Value packed, int64_t dim,
                               Value batch, Value kvHead, Value k0,
                               Value keyCount) {
  forLoop(idx(0), idx(cfg.blockK), idx(1), [&](Value j) {
    Value inside = cmpI(arith::CmpIPredicate::slt, j, keyCount);
    Value key = minI(add(k0, j), sub(lk, idx(1)));
    forLoop(idx(0), idx(dim), idx(1), [&](Value d) {
      Value v = toF32(scalarAt(source, {batch, kvHead, key, d}));
      memref::StoreOp::create(b, loc, select(inside, v, fconst(0.0)), packed,
                              ValueRange{d, j});
    });
  });
}

SmallVector<Value> BackwardEmitter::microTile(Value batch, Value head,
                                              Value kvHead, Value g,
                                              Value first, Value k0,
                                              Value keyCount, Value modFull,
                                              ValueRange grads) {
  Value dq = grads[0];
  Value dbias = p.bias ? grads[1] : Value();
  AttentionAlgebra algebra(b, loc, p);
  MicroRows rows = microRows(first, modFull);
  const SmallVector<Value> &row = rows.row, &rowValid = rows.valid;
  // Softmax: the row's LSE (log2). Softplus: its reference and 1/Z (0 for a
  // row without keys) from the first sweep.
  SmallVector<Value> lse2(mr), reference(mr), inverseNorm(mr), rowDot(mr);
  for (int64_t r = 0; r < mr; ++r) {
    rowDot[r] = scalarAt(rowDots, {batch, head, row[r]});
    if (!relative) {
      lse2[r] = algebra.lseInLog2(scalarAt(p.lse, {batch, head, row[r]}));
      continue;
    }
    SmallVector<Value> at = {idx(0), g, row[r]};
    reference[r] = splat(algebra.safeReference(scalarAt(rowMaxes, at)));
    inverseNorm[r] =
        splat(algebra.divideByNormalizer(fconst(1.0), scalarAt(rowSums, at)));
  }

  // P = 2^(score log2 e - LSE log2 e) (softplus: w / Z), masked in partial
  // tiles. The score as the forward forms it and its derivative with respect
  // to the biased score x = scale q.k + bias, where it is not 1; softplus's
  // dS factor w'(s) / Z joins that derivative.
  auto [s, deriv] = scoresAndDerivatives(batch, head, rows, k0);
  bool varyingDerivative = p.softcap || p.scoreMod || relative;
  const ScoreFunction &function = *p.score.getFunction();
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < keyVecs; ++c) {
      Value &v = s[r * keyVecs + c];
      if (!relative) {
        v = algebra.weightFromLse(v, lse2[r]);
        continue;
      }
      Value &d = deriv[r * keyVecs + c];
      d = fmul(d, fmul(function.weightDerivative(b, loc, v, reference[r]),
                       inverseNorm[r]));
      v = fmul(function.weight(b, loc, v, reference[r]), inverseNorm[r]);
    }
  if (relative) {
    SmallVector<Value> both(s);
    both.append(deriv);
    both = maskPartialTile(batch, head, rows, first, k0, keyCount, both,
                           {0.0, 0.0});
    s.assign(both.begin(), both.begin() + s.size());
    deriv.assign(both.begin() + s.size(), both.end());
  } else {
    s = maskPartialTile(batch, head, rows, first, k0, keyCount, s, {0.0});
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < keyVecs; ++c)
      vector::StoreOp::create(b, loc, s[r * keyVecs + c], pBuf,
                              ValueRange{idx(r), idx(c * lanes)});
  // The score's derivative waits in dsBuf while dP takes the registers.
  if (varyingDerivative)
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t c = 0; c < keyVecs; ++c)
        vector::StoreOp::create(b, loc, deriv[r * keyVecs + c], dsBuf,
                                ValueRange{idx(r), idx(c * lanes)});

  // dS = P (dO V^T - D) d score / d x (softplus: (dO V^T - D) w'(s) / Z
  // d score / d x): the bias's gradient, and times the scale, that of q.k.
  Value scale = vconst(p.scale);
  SmallVector<Value> dp =
      timesPacked(p.gradOutput, valuesT, p.valueDim, batch, head, rows);
  for (int64_t r = 0; r < mr; ++r) {
    SmallVector<Value> ds(keyVecs);
    for (int64_t c = 0; c < keyVecs; ++c) {
      SmallVector<Value> at = {idx(r), idx(c * lanes)};
      ds[c] = fsub(dp[r * keyVecs + c], splat(rowDot[r]));
      if (!relative)
        ds[c] = fmul(vector::LoadOp::create(b, loc, vecType, pBuf, at), ds[c]);
      if (varyingDerivative)
        ds[c] = fmul(ds[c], vector::LoadOp::create(b, loc, vecType, dsBuf, at));
      vector::StoreOp::create(b, loc, fmul(ds[c], scale), dsBuf, at);
    }
    if (!dbias)
      continue;
    // The row's dBias; a row past Lq (clamped to the last row) writes
    // nothing.
    Value base = dbias;
    auto write = scf::IfOp::create(
        b, loc, rowValid[r],
        [&](OpBuilder &nb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value next = base;
          for (int64_t c = 0; c < keyVecs; ++c)
            next = vector::TransferWriteOp::create(
                       b, loc, ds[c], next,
                       ValueRange{idx(0), g, row[r], add(k0, idx(c * lanes))},
                       ArrayRef<bool>{false})
                       .getResult();
          scf::YieldOp::create(b, loc, next);
        },
        [&](OpBuilder &nb, Location l) { scf::YieldOp::create(nb, l, base); });
    dbias = write.getResult(0);
  }

  // acc[j] += sum_r w[r, j] rows[r] over the tile's keys j, where w is P
  // (rows dO, acc dV) or dS (rows q, acc dK); a chunk of columns at a time,
  // the rows' chunk held in registers.
  auto accumulateKeys = [&](Value weights, Value rowsTensor, Value acc,
                            int64_t vecs, int64_t width) {
    for (int64_t e0 = 0; e0 < vecs; e0 += chunkVecs) {
      int64_t nE = std::min(chunkVecs, vecs - e0);
      SmallVector<Value> rows;
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t e = 0; e < nE; ++e)
          rows.push_back(
              readRow(rowsTensor, batch, head, row[r], e0 + e, width));
      forLoop(idx(0), keyCount, idx(1), [&](Value j) {
        SmallVector<Value> sum(nE);
        for (int64_t e = 0; e < nE; ++e)
          sum[e] = vector::LoadOp::create(b, loc, vecType, acc,
                                          ValueRange{j, idx((e0 + e) * lanes)});
        for (int64_t r = 0; r < mr; ++r) {
          Value w = splat(
              memref::LoadOp::create(b, loc, weights, ValueRange{idx(r), j}));
          for (int64_t e = 0; e < nE; ++e)
            sum[e] = fma(w, rows[r * nE + e], sum[e]);
        }
        for (int64_t e = 0; e < nE; ++e)
          vector::StoreOp::create(b, loc, sum[e], acc,
                                  ValueRange{j, idx((e0 + e) * lanes)});
      });
    }
  };
  accumulateKeys(pBuf, p.gradOutput, dvAcc, valueVecs, p.valueDim);
  accumulateKeys(dsBuf, p.query, dkAcc, headVecs, p.headDim);

  // dQ[r] += sum_j dS[r, j] K[j], the rows' chunk of dQ in registers; each
  // row read and written in turn, so that clamped rows (adding 0) read what
  // the row before wrote.
  bool headInBounds = p.headDim % lanes == 0;
  for (int64_t e0 = 0; e0 < headVecs; e0 += chunkVecs) {
    int64_t nE = std::min(chunkVecs, headVecs - e0);
    SmallVector<Value> acc = carriedLoop(
        idx(0), keyCount, idx(1), SmallVector<Value>(mr * nE, vconst(0.0)),
        [&](Value j, ValueRange carried) {
          SmallVector<Value> next(carried);
          SmallVector<Value> keyRow(nE);
          for (int64_t e = 0; e < nE; ++e)
            keyRow[e] =
                readRow(p.key, batch, kvHead, add(k0, j), e0 + e, p.headDim);
          for (int64_t r = 0; r < mr; ++r) {
            Value w = splat(
                memref::LoadOp::create(b, loc, dsBuf, ValueRange{idx(r), j}));
            for (int64_t e = 0; e < nE; ++e)
              next[r * nE + e] = fma(w, keyRow[e], next[r * nE + e]);
          }
          return next;
        });
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t e = 0; e < nE; ++e) {
        SmallVector<Value> at = {idx(0), g, row[r], idx((e0 + e) * lanes)};
        Value old = vector::TransferReadOp::create(
            b, loc, vecType, dq, at, fconst(0.0), ArrayRef<bool>{headInBounds});
        dq = vector::TransferWriteOp::create(b, loc, fadd(old, acc[r * nE + e]),
                                             dq, at,
                                             ArrayRef<bool>{headInBounds})
                 .getResult();
      }
  }
  if (dbias)
    return {dq, dbias};
  return {dq};
}

Value BackwardEmitter::finishBiasGradient(Value full) {
  Value init = p.gradInits[3];
  auto initType = cast<RankedTensorType>(init.getType());
  // Kept dimensions: those the bias does not broadcast, and Lq, Lk.
  SmallVector<bool> kept = {initType.getDimSize(0) != 1,
                            initType.getDimSize(1) != 1, true, true};
  SmallVector<AffineExpr> keptExprs;
  SmallVector<OpFoldResult> keptSizes;
  SmallVector<utils::IteratorType> iterators;
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (unsigned d = 0; d < 4; ++d) {
    iterators.push_back(kept[d] ? utils::IteratorType::parallel
                                : utils::IteratorType::reduction);
    pending.push_back(d);
    if (kept[d]) {
      keptExprs.push_back(b.getAffineDimExpr(d));
      keptSizes.push_back(tensor::getMixedSize(b, loc, full, d));
      groups.push_back(pending);
      pending.clear();
    }
  }
  Value sumInit =
      linalg::FillOp::create(
          b, loc, fconst(0.0),
          tensor::EmptyOp::create(b, loc, keptSizes, f32).getResult())
          .getResult(0);
  Value sum =
      linalg::GenericOp::create(
          b, loc, TypeRange{sumInit.getType()}, ValueRange{full},
          ValueRange{sumInit},
          ArrayRef<AffineMap>{b.getMultiDimIdentityMap(4),
                              AffineMap::get(4, 0, keptExprs, b.getContext())},
          iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            linalg::YieldOp::create(
                nb, l,
                ValueRange{arith::AddFOp::create(nb, l, args[1], args[0])});
          })
          .getResult(0);
  SmallVector<OpFoldResult> initSizes = tensor::getMixedSizes(b, loc, init);
  Value expanded = tensor::ExpandShapeOp::create(b, loc, initType.clone(f32),
                                                 sum, groups, initSizes);
  if (initType.getElementType().isF32())
    return expanded;
  return roundInto(expanded, init);
}

Value BackwardEmitter::roundInto(Value sums, Value init) {
  auto type = cast<RankedTensorType>(init.getType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{sums}, ValueRange{init},
             ArrayRef<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(type.getRank(),
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(
                   nb, l,
                   ValueRange{arith::TruncFOp::create(
                       nb, l, type.getElementType(), args[0])});
             })
      .getResult(0);
}

Value BackwardEmitter::rowDotProducts() {
  AffineExpr d0, d1, d2, d3;
  bindDims(b.getContext(), d0, d1, d2, d3);
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  SmallVector<OpFoldResult> rowSizes = {
      tensor::getMixedSize(b, loc, p.query, 0), b.getIndexAttr(p.headsQ),
      tensor::getMixedSize(b, loc, p.query, 2)};
  Value rowInit =
      linalg::FillOp::create(
          b, loc, fconst(0.0),
          tensor::EmptyOp::create(b, loc, rowSizes, f32).getResult())
          .getResult(0);
  AffineMap all = AffineMap::get(4, 0, {d0, d1, d2, d3}, b.getContext());
  return linalg::GenericOp::create(
             b, loc, TypeRange{rowInit.getType()},
             ValueRange{p.gradOutput, p.init}, ValueRange{rowInit},
             ArrayRef<AffineMap>{
                 all, all, AffineMap::get(4, 0, {d0, d1, d2}, b.getContext())},
             ArrayRef<utils::IteratorType>{par, par, par, red},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               KernelBuilder scalar(nb, l, lanes);
               linalg::YieldOp::create(
                   nb, l,
                   ValueRange{arith::AddFOp::create(
                       nb, l, args[2],
                       arith::MulFOp::create(nb, l, scalar.toF32(args[0]),
                                             scalar.toF32(args[1])))});
             })
      .getResult(0);
}

Value BackwardEmitter::sinkLogitsGradient() {
  AffineExpr d0, d1, d2;
  bindDims(b.getContext(), d0, d1, d2);
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(3, 0, exprs, b.getContext());
  };
  // Rows with LSE = -inf saw no key: they add nothing.
  Value sinkInit =
      linalg::FillOp::create(b, loc, fconst(0.0), p.gradInits.back())
          .getResult(0);
  return linalg::GenericOp::create(
             b, loc, TypeRange{sinkInit.getType()},
             ValueRange{p.lse, rowDots, p.sinkLogits}, ValueRange{sinkInit},
             ArrayRef<AffineMap>{map({d0, d1, d2}), map({d0, d1, d2}),
                                 map({d1}), map({d1})},
             ArrayRef<utils::IteratorType>{red, par, red},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(
                   nb, l,
                   ValueRange{AttentionAlgebra(nb, l, p).sinkGradientStep(
                       args[3], args[0], args[1], args[2])});
             })
      .getResult(0);
}

SmallVector<Value> BackwardEmitter::build() {
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  Value batches = dimOf(p.query, 0);
  Value numTiles = ceilDiv(lk, cfg.blockK);
  rowDots = rowDotProducts();
  // The classifier's summaries of the mod's tables, once per call.
  if (p.maskMod && !p.isNeighborhood)
    modClassifier.emplace(b, loc, p, /*blockQ=*/mr, cfg.blockK,
                          /*rowGroup=*/mr, lq, lk);
  int64_t bk = cfg.blockK;
  Value gradQ = p.gradInits[0], gradK = p.gradInits[1], gradV = p.gradInits[2];

  // An f32 tensor of `grad`'s shape, with `leading` splits in front.
  auto f32Like = [&](Value grad, std::optional<int64_t> leading) -> Value {
    auto type = cast<RankedTensorType>(grad.getType());
    SmallVector<int64_t> shape;
    if (leading)
      shape.push_back(*leading);
    llvm::append_range(shape, type.getShape());
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < 4; ++d)
      if (type.isDynamicDim(d))
        dynamic.push_back(tensor::DimOp::create(b, loc, grad, d));
    return tensor::EmptyOp::create(b, loc, shape, f32, dynamic);
  };
  // f16/bf16 gradients are accumulated in f32 and rounded once at the end.
  bool lowPrecision = !p.elementType.isF32();
  // With head splits, dK and dV are summed from per-split partials
  // [splits, B, Hkv, Lk, D | Dv] after the tasks, in a fixed order.
  auto sharedKV = [&](Value grad) -> Value {
    if (splits > 1)
      return f32Like(grad, splits);
    return lowPrecision ? f32Like(grad, std::nullopt) : grad;
  };
  Value sharedQ = lowPrecision ? f32Like(gradQ, std::nullopt) : gradQ;
  Value sharedK = sharedKV(gradK), sharedV = sharedKV(gradV);
  SmallVector<Value> sharedOuts = {sharedQ, sharedK, sharedV};
  // dBias: straight into its init when it has the scores' shape and f32;
  // else per (batch, query head) in f32, summed over the dimensions the
  // bias broadcasts and rounded after the tasks.
  bool biasDirect = false;
  if (p.bias) {
    auto type = cast<RankedTensorType>(p.gradInits[3].getType());
    biasDirect = !lowPrecision && type.getDimSize(0) == p.batch &&
                 type.getDimSize(1) == p.headsQ;
    sharedOuts.push_back(biasDirect
                             ? p.gradInits[3]
                             : tensor::EmptyOp::create(
                                   b, loc,
                                   SmallVector<OpFoldResult>{
                                       tensor::getMixedSize(b, loc, p.query, 0),
                                       b.getIndexAttr(p.headsQ),
                                       tensor::getMixedSize(b, loc, p.query, 2),
                                       tensor::getMixedSize(b, loc, p.key, 2)},
                                   f32)
                                   .getResult());
  }
  int64_t tasksPerBatch = p.headsKV * splits;
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{mul(batches, idx(tasksPerBatch))},
      sharedOuts, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value task = forall.getInductionVar(0);
  Value batch = div(task, idx(tasksPerBatch));
  Value kvHead = div(rem(task, idx(tasksPerBatch)), idx(splits));
  Value split = rem(task, idx(splits));
  Value firstHead =
      add(mul(kvHead, idx(group)), mul(split, idx(headsPerSplit)));
  ValueRange shared = forall.getRegionIterArgs();

  // The task's slices: dQ of its heads, dK and dV of its KV head (of its
  // split's partial), as [1, heads, L, D] tensors.
  auto sliceOf = [&](Value tensor, Value head, int64_t heads) {
    auto type = cast<RankedTensorType>(tensor.getType());
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> offsets, sizes;
    if (rank == 5) {
      offsets.push_back(split);
      sizes.push_back(b.getIndexAttr(1));
    }
    offsets.append({batch, head, b.getIndexAttr(0), b.getIndexAttr(0)});
    sizes.append({b.getIndexAttr(1), b.getIndexAttr(heads),
                  tensor::getMixedSize(b, loc, tensor, rank - 2),
                  tensor::getMixedSize(b, loc, tensor, rank - 1)});
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    auto sliceType = RankedTensorType::get(
        {1, heads, type.getDimSize(rank - 2), type.getDimSize(rank - 1)}, f32);
    return std::make_tuple(sliceType, offsets, sizes, strides);
  };
  auto [qType, qOffsets, qSizes, qStrides] =
      sliceOf(shared[0], firstHead, headsPerSplit);
  auto [kType, kOffsets, kSizes, kStrides] = sliceOf(shared[1], kvHead, 1);
  auto [vType, vOffsets, vSizes, vStrides] = sliceOf(shared[2], kvHead, 1);
  Value dq = tensor::ExtractSliceOp::create(b, loc, qType, shared[0], qOffsets,
                                            qSizes, qStrides);
  dq = linalg::FillOp::create(b, loc, fconst(0.0), dq).getResult(0);
  Value dk = tensor::ExtractSliceOp::create(b, loc, kType, shared[1], kOffsets,
                                            kSizes, kStrides);
  Value dv = tensor::ExtractSliceOp::create(b, loc, vType, shared[2], vOffsets,
                                            vSizes, vStrides);
  SmallVector<Value> taskGrads = {dq, dk, dv};
  auto [biasType, biasOffsets, biasSizes, biasStrides] =
      p.bias ? sliceOf(shared[3], firstHead, headsPerSplit)
             : sliceOf(shared[0], firstHead, headsPerSplit);
  if (p.bias)
    taskGrads.push_back(
        linalg::FillOp::create(
            b, loc, fconst(0.0),
            tensor::ExtractSliceOp::create(b, loc, biasType, shared[3],
                                           biasOffsets, biasSizes, biasStrides)
                .getResult())
            .getResult(0));

  auto stackBuffer = [&](int64_t rows, int64_t cols) -> Value {
    return memref::AllocaOp::create(b, loc, MemRefType::get({rows, cols}, f32),
                                    b.getI64IntegerAttr(64));
  };
  keysT = stackBuffer(p.headDim, bk);
  valuesT = stackBuffer(p.valueDim, bk);
  dkAcc = stackBuffer(bk, headVecs * lanes);
  dvAcc = stackBuffer(bk, valueVecs * lanes);
  pBuf = stackBuffer(mr, bk);
  dsBuf = stackBuffer(mr, bk);

  if (relative)
    std::tie(rowMaxes, rowSums) =
        rowStatistics(batch, kvHead, firstHead, numTiles);
  SmallVector<Value> results = carriedLoop(
      idx(0), numTiles, idx(1), taskGrads,
      [&](Value tile, ValueRange carried) -> SmallVector<Value> {
        Value k0 = mul(tile, idx(bk));
        Value keyCount = minI(idx(bk), sub(lk, k0));
        packTile(p.key, keysT, p.headDim, batch, kvHead, k0, keyCount);
        packTile(p.value, valuesT, p.valueDim, batch, kvHead, k0, keyCount);
        auto zero = [&](Value acc, int64_t vecs) {
          forLoop(idx(0), idx(bk), idx(1), [&](Value j) {
            for (int64_t e = 0; e < vecs; ++e)
              vector::StoreOp::create(b, loc, vconst(0.0), acc,
                                      ValueRange{j, idx(e * lanes)});
          });
        };
        zero(dkAcc, headVecs);
        zero(dvAcc, valueVecs);

        auto [rowLo, rowHi] = rowsSeeingKeys(
            b, loc, p, k0, add(k0, sub(keyCount, idx(1))), lq, lk, extents);
        // dQ and dBias of the task's heads.
        SmallVector<Value> rowGrads = {carried[0]};
        if (p.bias)
          rowGrads.push_back(carried[3]);
        rowGrads = carriedLoop(
            idx(0), idx(headsPerSplit), idx(1), rowGrads,
            [&](Value g, ValueRange gCarried) -> SmallVector<Value> {
              Value head = add(firstHead, g);
              return carriedLoop(
                  rowLo, rowHi, idx(mr), gCarried,
                  [&](Value first, ValueRange rCarried) -> SmallVector<Value> {
                    return visitMicroTile(
                        batch, head, first, tile, rCarried, [&](Value modFull) {
                          return microTile(batch, head, kvHead, g, first, k0,
                                           keyCount, modFull, rCarried);
                        });
                  });
            });

        // The tile's rows of dK and dV.
        auto writeRows = [&](Value acc, Value out, int64_t vecs,
                             int64_t width) {
          return carriedLoop(
              idx(0), keyCount, idx(1), ValueRange{out},
              [&](Value j, ValueRange jCarried) -> SmallVector<Value> {
                Value next = jCarried[0];
                for (int64_t e = 0; e < vecs; ++e) {
                  Value v = vector::LoadOp::create(
                      b, loc, vecType, acc, ValueRange{j, idx(e * lanes)});
                  next = vector::TransferWriteOp::create(
                             b, loc, v, next,
                             ValueRange{idx(0), idx(0), add(k0, j),
                                        idx(e * lanes)},
                             ArrayRef<bool>{width % lanes == 0})
                             .getResult();
                }
                return {next};
              })[0];
        };
        SmallVector<Value> next = {
            rowGrads[0], writeRows(dkAcc, carried[1], headVecs, p.headDim),
            writeRows(dvAcc, carried[2], valueVecs, p.valueDim)};
        if (p.bias)
          next.push_back(rowGrads[1]);
        return next;
      });

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, results[0], shared[0], qOffsets,
                                        qSizes, qStrides);
  tensor::ParallelInsertSliceOp::create(b, loc, results[1], shared[1], kOffsets,
                                        kSizes, kStrides);
  tensor::ParallelInsertSliceOp::create(b, loc, results[2], shared[2], vOffsets,
                                        vSizes, vStrides);
  if (p.bias)
    tensor::ParallelInsertSliceOp::create(b, loc, results[3], shared[3],
                                          biasOffsets, biasSizes, biasStrides);
  SmallVector<Value> grads(forall.getResults());
  b.setInsertionPointAfter(forall);
  if (p.bias && !biasDirect)
    grads[3] = finishBiasGradient(grads[3]);
  if (p.sinkLogits)
    grads.push_back(sinkLogitsGradient());
  SmallVector<Value> inits = {gradK, gradV};
  if (splits > 1)
    for (auto [k, init] : llvm::enumerate(inits)) {
      Value sum = lowPrecision ? f32Like(init, std::nullopt) : init;
      grads[k + 1] =
          linalg::ReduceOp::create(
              b, loc, ValueRange{grads[k + 1]},
              ValueRange{linalg::FillOp::create(b, loc, fconst(0.0), sum)
                             .getResult(0)},
              ArrayRef<int64_t>{0},
              [](OpBuilder &nb, Location l, ValueRange args) {
                linalg::YieldOp::create(
                    nb, l,
                    ValueRange{arith::AddFOp::create(nb, l, args[0], args[1])});
              })
              .getResult(0);
    }
  if (lowPrecision)
    for (unsigned k = 0; k < 3; ++k)
      grads[k] = roundInto(grads[k], p.gradInits[k]);
  return grads;
}

int64_t mlir::attn::flashBackwardStackBytes(const AttentionProblem &p,
                                            const FlashKernelConfig &config) {
  auto padded = [&](int64_t dim) {
    return (dim + config.lanes - 1) / config.lanes * config.lanes;
  };
  double floats =
      double(config.blockK) *
          (p.headDim + p.valueDim + padded(p.headDim) + padded(p.valueDim)) +
      2.0 * config.microQ * config.blockK;
  return saturatingBytes(floats * 4.0);
}

int64_t mlir::attn::flashBackwardHeadSplits(const AttentionProblem &p,
                                            int64_t threads) {
  // Two tasks per thread, from divisors of the group size.
  int64_t tasks = knownOr(p.batch, 1) * p.headsKV, splits = 1;
  while (splits < p.groupSize() && tasks * splits < 2 * threads) {
    ++splits;
    while (p.groupSize() % splits != 0)
      ++splits;
  }
  return splits;
}

SmallVector<Value> mlir::attn::buildFlashBackward(
    RewriterBase &rewriter, const AttentionProblem &problem,
    const FlashKernelConfig &config, int64_t headSplits) {
  assert(headSplits >= 1 && problem.groupSize() % headSplits == 0 &&
         "head splits must divide the group");
  rewriter.setInsertionPoint(problem.op);
  if (!problem.isNeighborhood)
    return BackwardEmitter(rewriter, problem, config, headSplits, {}).build();
  // Neighborhoods: over flattened positions, NATTEN's rule per key vector;
  // every row meets every key tile.
  return buildOnFlattenedPositions(
      rewriter, problem,
      [&](const AttentionProblem &flat, ArrayRef<Value> extents) {
        return BackwardEmitter(rewriter, flat, config, headSplits, extents)
            .build();
      });
}
