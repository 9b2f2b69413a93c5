//===- OnlineSoftmax.cpp - One micro-tile of the online softmax -----------===//
//
// The heart of the FlashAttention-2 kernels on the CPU, shared by the
// strategies that tile keys (tiled, split_kv, block_sparse, neighborhood):
// register-blocked S = Q K^T from packed keys, then scale / bias / softcap,
// masking of partial tiles, the online update of the running row max (softmax,
// and softplus weights taken relative to it) or plain sums (kernel scores),
// and O = O alpha + P V, all as vector IR.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/OnlineSoftmax.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// The bits of -0.0f: the weight of a key that is not allowed.
constexpr int32_t kMaskedBits = std::numeric_limits<int32_t>::min();
} // namespace

/// The register-blocked loop of both score forms: s[r * (block_k / lanes)
/// + c] accumulates multiplyAdd(s, query(r, step), key(step, c)) over
/// `steps` steps (elements of D, or pairs of them), unrolled by
/// cfg.unrollD; each query vector is formed once per row and step.
static SmallVector<Value> emitRegisterBlockedScores(
    OpBuilder &b, Location loc, const FlashKernelConfig &cfg, int64_t steps,
    function_ref<Value(int64_t r, Value step)> query,
    function_ref<Value(Value step, int64_t c)> key,
    function_ref<Value(Value acc, Value q, Value k)> multiplyAdd) {
  KernelBuilder e(b, loc, cfg.lanes);
  int64_t mr = cfg.microQ, keyVecs = cfg.blockK / cfg.lanes;
  int64_t unroll = std::max<int64_t>(1, std::gcd(cfg.unrollD, steps));
  SmallVector<Value> init(mr * keyVecs, e.vconst(0.0));
  auto loop = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(steps), e.idx(unroll), init,
      [&](OpBuilder &nb, Location, Value d0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> s(acc.begin(), acc.end());
        for (int64_t u = 0; u < unroll; ++u) {
          Value step = e.add(d0, e.idx(u));
          SmallVector<Value> kv(keyVecs);
          for (int64_t c = 0; c < keyVecs; ++c)
            kv[c] = key(step, c);
          for (int64_t r = 0; r < mr; ++r) {
            Value q = query(r, step);
            for (int64_t c = 0; c < keyVecs; ++c)
              s[r * keyVecs + c] = multiplyAdd(s[r * keyVecs + c], q, kv[c]);
          }
        }
        scf::YieldOp::create(b, loc, s);
      });
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value>
mlir::attn::emitPackedScores(OpBuilder &b, Location loc,
                             const FlashKernelConfig &cfg, int64_t headDim,
                             function_ref<Value(int64_t r, Value d)> query,
                             function_ref<Value(Value d, int64_t c)> key) {
  VectorType vecType = VectorType::get({cfg.lanes}, b.getF32Type());
  return emitRegisterBlockedScores(
      b, loc, cfg, headDim,
      [&](int64_t r, Value d) -> Value {
        return vector::BroadcastOp::create(b, loc, vecType, query(r, d));
      },
      key,
      [&](Value acc, Value q, Value k) -> Value {
        return vector::FMAOp::create(b, loc, q, k, acc);
      });
}

Value mlir::attn::splatBf16Pair(OpBuilder &b, Location loc, Value pair,
                                int64_t lanes) {
  // The pair as one i32, broadcast (vpbroadcastd), seen as bf16 again.
  Type i32 = b.getI32Type();
  Value word =
      vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), pair);
  Value splat = vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, i32),
      vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0}));
  return vector::BitCastOp::create(
      b, loc, VectorType::get({2 * lanes}, b.getBF16Type()), splat);
}

SmallVector<Value> mlir::attn::emitPackedScoresBf16(
    OpBuilder &b, Location loc, const FlashKernelConfig &cfg, int64_t headDim,
    function_ref<Value(int64_t r, Value d2)> queryPair,
    function_ref<Value(Value d2, int64_t c)> keyPair) {
  return emitRegisterBlockedScores(b, loc, cfg, headDim / 2, queryPair, keyPair,
                                   [&](Value acc, Value q, Value k) -> Value {
                                     return x86vector::DotBF16Op::create(
                                         b, loc, acc, q, k);
                                   });
}

void mlir::attn::emitOnlineSoftmaxStep(OpBuilder &b, Location loc,
                                       const AttentionProblem &p,
                                       const FlashKernelConfig &cfg,
                                       SmallVector<Value> s,
                                       const MicroTileAccess &access,
                                       const MicroTileState &state) {
  KernelBuilder e(b, loc, cfg.lanes);
  Type f32 = e.f32;
  VectorType vecType = e.vecType;
  auto idx = [&](int64_t v) { return e.idx(v); };
  auto fconst = [&](double v) { return e.fconst(v); };
  auto vconst = [&](double v) { return e.vconst(v); };
  auto add = [&](Value x, Value y) { return e.add(x, y); };
  auto select = [&](Value c, Value x, Value y) { return e.select(c, x, y); };
  int64_t mr = cfg.microQ, lanes = cfg.lanes, keyVecs = cfg.blockK / lanes;
  int64_t valueVecs = (p.valueDim + lanes - 1) / lanes;
  AttentionAlgebra algebra(b, loc, p);
  bool tracksMax = algebra.tracksMax();

  // Scores: scale, then bias, softcap, the log2 domain (AttentionAlgebra).
  if (double scale = algebra.scoreScale(); scale != 1.0) {
    Value sc = vconst(scale);
    for (Value &v : s)
      v = arith::MulFOp::create(b, loc, v, sc);
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < keyVecs; ++c) {
      auto scoreMod = [&](Value x) { return access.scoreMod(r, c, x); };
      s[r * keyVecs + c] = algebra.finishScore(
          s[r * keyVecs + c], p.bias ? access.bias(r, c) : Value(),
          access.scoreMod ? function_ref<Value(Value)>(scoreMod) : nullptr);
    }

  // Partial tiles: masked keys become -inf (running max) or weight -0.0. The
  // weight of a masked key ends up as -0.0, which no allowed key has (exp2
  // gives +0 on underflow; see kMaskedBits below), so that P V can skip
  // exactly the keys that are not allowed: an allowed key of weight 0 is
  // still read (0 * NaN is NaN), as in the reference strategy. (A
  // kernel<identity> weight is -0.0 only when every product of its score is;
  // such an allowed key is skipped too, which matters only for a NaN value.)
  double fill = tracksMax ? -std::numeric_limits<double>::infinity() : -0.0;
  SmallVector<Value> allowedVecs;
  {
    SmallVector<Value> whenFull(s);
    Value allTrue;
    if (tracksMax) {
      allTrue = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(
                      VectorType::get({lanes}, b.getI1Type()), true));
      whenFull.append(s.size(), allTrue);
    }
    auto masked = scf::IfOp::create(
        b, loc, access.full,
        [&](OpBuilder &nb, Location l) {
          scf::YieldOp::create(nb, l, whenFull);
        },
        [&](OpBuilder &nb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          SmallVector<Value> out(s), allowed(s.size());
          Value fillVec = vconst(fill);
          for (int64_t c = 0; c < keyVecs; ++c)
            for (int64_t r = 0; r < mr; ++r) {
              allowed[r * keyVecs + c] = access.allowed(r, c);
              out[r * keyVecs + c] = select(allowed[r * keyVecs + c],
                                            out[r * keyVecs + c], fillVec);
            }
          if (tracksMax)
            out.append(allowed);
          scf::YieldOp::create(b, l, out);
        });
    s.assign(masked.getResults().begin(),
             masked.getResults().begin() + s.size());
    if (tracksMax)
      allowedVecs.assign(masked.getResults().begin() + s.size(),
                         masked.getResults().end());
  }

  // Online softmax (or plain sums) per row; P to the stack buffer. m is in
  // the log2 domain: the max of softmax's scores (already times log2(e)),
  // and for softplus min(max s log2(e), 0), relative to which its weights
  // are taken.
  SmallVector<Value> alpha(mr);
  // Each row's maximum before and after the tile (with tracksMax).
  SmallVector<Value> rowMaxOld(mr), rowMaxSafe(mr);
  // Each row's entropy terms of the tile (AttentionAlgebra::entropyTerm)
  // summed over its key vectors by fused multiply-adds, when the op returns
  // the entropy.
  SmallVector<Value> entropyTerms(mr);
  auto addEntropyTerms = [&](int64_t r, Value s, Value w, Value mSafe) {
    Value log2w = algebra.entropyLog2Weight(s, w, mSafe);
    entropyTerms[r] =
        entropyTerms[r]
            ? vector::FMAOp::create(b, loc, w, log2w, entropyTerms[r])
                  .getResult()
            : arith::MulFOp::create(b, loc, w, log2w).getResult();
  };
  if (tracksMax) {
    // Each row's maximum and its update (AttentionAlgebra); the rescale
    // factors of all rows in one exp2 of a vector of (a power of 2 >=
    // micro_q) lanes.
    int64_t width = 1;
    while (width < mr)
      width *= 2;
    VectorType rowVec = VectorType::get({width}, f32);
    SmallVector<Value> mOld(width, fconst(0.0)), mSafe(width, fconst(0.0));
    for (int64_t r = 0; r < mr; ++r) {
      // NaN scores propagate through the weights whatever the max is, so
      // the max may ignore NaN (nnan gives plain vmaxps).
      auto fm = arith::FastMathFlags::nnan | arith::FastMathFlags::nsz;
      Value m = s[r * keyVecs];
      for (int64_t c = 1; c < keyVecs; ++c)
        m = arith::MaximumFOp::create(b, loc, m, s[r * keyVecs + c], fm);
      Value rowMax = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::MAXIMUMF, m, fm);
      Value rowIdx = add(state.rowBase, idx(r));
      mOld[r] = memref::LoadOp::create(b, loc, state.mRow, ValueRange{rowIdx});
      AttentionAlgebra::MaxUpdate update = algebra.updateMax(mOld[r], rowMax);
      mSafe[r] = update.mSafe;
      memref::StoreOp::create(b, loc, update.mNew, state.mRow,
                              ValueRange{rowIdx});
    }
    Value alphas = algebra.rescaleFactor(
        vector::FromElementsOp::create(b, loc, rowVec, mOld),
        vector::FromElementsOp::create(b, loc, rowVec, mSafe));
    for (int64_t r = 0; r < mr; ++r) {
      alpha[r] = vector::ExtractOp::create(b, loc, alphas, ArrayRef<int64_t>{r});
      rowMaxOld[r] = mOld[r];
      rowMaxSafe[r] = mSafe[r];
      for (int64_t c = 0; c < keyVecs; ++c) {
        Value w =
            select(allowedVecs[r * keyVecs + c],
                   algebra.weight(s[r * keyVecs + c], mSafe[r]), vconst(-0.0));
        if (state.tRow)
          addEntropyTerms(r, s[r * keyVecs + c], w, mSafe[r]);
        s[r * keyVecs + c] = w;
      }
    }
  } else if (state.tRow) {
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t c = 0; c < keyVecs; ++c)
        addEntropyTerms(r, s[r * keyVecs + c], s[r * keyVecs + c],
                        fconst(0.0));
  }
  for (int64_t r = 0; r < mr; ++r) {
    Value sum = s[r * keyVecs];
    for (int64_t c = 1; c < keyVecs; ++c)
      sum = arith::AddFOp::create(b, loc, sum, s[r * keyVecs + c]);
    Value rowSum = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, sum,
        arith::FastMathFlags::reassoc);
    Value rowIdx = add(state.rowBase, idx(r));
    Value l = memref::LoadOp::create(b, loc, state.lRow, ValueRange{rowIdx});
    if (state.tRow) {
      // t = rescaled t + this tile's terms, from the old l.
      Value terms = entropyTerms[r];
      Value t = memref::LoadOp::create(b, loc, state.tRow, ValueRange{rowIdx});
      if (tracksMax)
        t = algebra.rescaleEntropy(t, l, rowMaxOld[r], rowMaxSafe[r], alpha[r]);
      t = arith::AddFOp::create(
          b, loc, t,
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, terms,
                                      arith::FastMathFlags::reassoc));
      memref::StoreOp::create(b, loc, t, state.tRow, ValueRange{rowIdx});
    }
    if (tracksMax)
      l = arith::MulFOp::create(b, loc, l, alpha[r]);
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, l, rowSum),
                            state.lRow, ValueRange{rowIdx});
    for (int64_t c = 0; c < keyVecs; ++c)
      vector::StoreOp::create(b, loc, s[r * keyVecs + c], state.pBuf,
                              ValueRange{idx(r), idx(c * lanes)});
    // And in bf16 for the dot products of full tiles (rounded to nearest
    // even; vcvtneps2bf16 where it takes the width).
    if (state.pairBuf) {
      VectorType halfType = VectorType::get({lanes}, b.getBF16Type());
      for (int64_t c = 0; c < keyVecs; ++c) {
        Value w = s[r * keyVecs + c];
        Value half =
            lanes == 8 || lanes == 16
                ? x86vector::CvtPackedF32ToBF16Op::create(b, loc, halfType, w)
                      .getResult()
                : arith::TruncFOp::create(b, loc, halfType, w).getResult();
        vector::StoreOp::create(b, loc, half, state.pairBuf,
                                ValueRange{idx(r), idx(c * lanes)});
      }
    }
  }

  // Whether weight `pv` is the marker of a masked key (kMaskedBits).
  auto isMaskedWeight = [&](Location l, Value pv) -> Value {
    return arith::CmpIOp::create(
        b, l, arith::CmpIPredicate::eq,
        arith::BitcastOp::create(b, l, b.getI32Type(), pv),
        arith::ConstantOp::create(b, l, b.getI32IntegerAttr(kMaskedBits)));
  };

  // Quantized V: each weight times its key's scale, once per key here
  // rather than once per column chunk below. A masked weight keeps its
  // marker bits.
  if (access.scaleWeight) {
    scf::ForOp::create(
        b, loc, idx(0), access.keyCount, idx(1), ValueRange{},
        [&](OpBuilder &nb, Location l, Value j, ValueRange) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          for (int64_t r = 0; r < mr; ++r) {
            Value pv =
                memref::LoadOp::create(b, l, state.pBuf, ValueRange{idx(r), j});
            memref::StoreOp::create(
                b, l,
                select(isMaskedWeight(l, pv), pv, access.scaleWeight(j, pv)),
                state.pBuf, ValueRange{idx(r), j});
          }
          scf::YieldOp::create(b, l);
        });
  }

  // O = O * alpha + P V, blockDv columns at a time.
  int64_t chunkVecs = std::max<int64_t>(1, cfg.blockDv / lanes);
  for (int64_t e0 = 0; e0 < valueVecs; e0 += chunkVecs) {
    int64_t nE = std::min(chunkVecs, valueVecs - e0);
    SmallVector<Value> o;
    for (int64_t r = 0; r < mr; ++r) {
      Value ab = tracksMax ? vector::BroadcastOp::create(b, loc, vecType, alpha[r])
                                 .getResult()
                           : Value();
      for (int64_t e = 0; e < nE; ++e) {
        Value v = vector::LoadOp::create(
            b, loc, vecType, state.oAcc,
            ValueRange{add(state.rowBase, idx(r)), idx((e0 + e) * lanes)});
        o.push_back(ab ? arith::MulFOp::create(b, loc, v, ab).getResult() : v);
      }
    }
    // Full tiles with bf16 dot products: keys in pairs, each row's two
    // weights against the two value rows interleaved.
    auto emitPairLoop = [&]() -> SmallVector<Value> {
      VectorType pairType = VectorType::get({2}, b.getBF16Type());
      auto loop = scf::ForOp::create(
          b, loc, idx(0), idx(cfg.blockK / 2), idx(1), o,
          [&](OpBuilder &nb, Location l, Value jp, ValueRange acc) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            SmallVector<Value> next(acc.begin(), acc.end());
            SmallVector<Value> vv(nE);
            for (int64_t e = 0; e < nE; ++e)
              vv[e] = access.valuePairs(jp, e0 + e);
            Value j = arith::MulIOp::create(b, l, jp, idx(2));
            for (int64_t r = 0; r < mr; ++r) {
              Value pw = splatBf16Pair(
                  b, l,
                  vector::LoadOp::create(b, l, pairType, state.pairBuf,
                                         ValueRange{idx(r), j}),
                  lanes);
              for (int64_t e = 0; e < nE; ++e)
                next[r * nE + e] = x86vector::DotBF16Op::create(
                    b, l, next[r * nE + e], pw, vv[e]);
            }
            scf::YieldOp::create(b, l, next);
          });
      return SmallVector<Value>(loop.getResults());
    };
    auto emitJLoop = [&](bool guardZeros) -> SmallVector<Value> {
      if (!guardZeros && state.pairBuf)
        return emitPairLoop();
      auto jLoop = scf::ForOp::create(
          b, loc, idx(0), access.keyCount, idx(1), o,
          [&](OpBuilder &nb, Location l, Value j, ValueRange acc) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            SmallVector<Value> next(acc.begin(), acc.end());
            SmallVector<Value> vv(nE);
            for (int64_t e = 0; e < nE; ++e)
              vv[e] = access.value(j, e0 + e);
            for (int64_t r = 0; r < mr; ++r) {
              Value pv = memref::LoadOp::create(b, l, state.pBuf,
                                                ValueRange{idx(r), j});
              Value isMasked;
              if (guardZeros)
                isMasked = isMaskedWeight(l, pv);
              Value pb = vector::BroadcastOp::create(b, l, vecType, pv);
              for (int64_t e = 0; e < nE; ++e) {
                Value prev = next[r * nE + e];
                Value updated = vector::FMAOp::create(b, l, pb, vv[e], prev);
                // A masked key of a partial tile is never read: its value
                // row (maybe NaN) must not reach this row.
                next[r * nE + e] =
                    guardZeros ? select(isMasked, prev, updated) : updated;
              }
            }
            scf::YieldOp::create(b, l, next);
          });
      return SmallVector<Value>(jLoop.getResults());
    };
    auto pv = scf::IfOp::create(
        b, loc, access.full,
        [&](OpBuilder &nb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          scf::YieldOp::create(b, l, emitJLoop(false));
        },
        [&](OpBuilder &nb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          scf::YieldOp::create(b, l, emitJLoop(true));
        });
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t e = 0; e < nE; ++e)
        vector::StoreOp::create(
            b, loc, pv.getResult(r * nE + e), state.oAcc,
            ValueRange{add(state.rowBase, idx(r)), idx((e0 + e) * lanes)});
  }
}
