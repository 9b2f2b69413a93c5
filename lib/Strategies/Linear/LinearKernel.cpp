//===- LinearKernel.cpp - Chunked linear attention as vector IR -----------===//
//
// See LinearKernel.h. For each (batch, KV head), one task of an scf.forall
// (of an scf.for when the work is too small for threads):
//   S[F, Dv] = 0, z[F] = 0                          stack scratch
//   absorb keys [0, prefix): S += phi(K)^T V, z += sum phi(K)
//       (prefix = Lk without causal; keys before the first chunk's band with
//        causal, i.e. max(0, Lk - Lq))
//   for each chunk of C queries, rows = G heads x C queries:
//     phi(Q) rows into qF; causal: keys [lo, hi) of the chunk's band into
//       kF (features, row-major) and kT (the D score features, transposed)
//     causal: P = weight(Q K^T) masked by j <= i + Lk - Lq   (intra)
//     O = phi(Q) S + P V,  den = phi(Q) . z + rowsum P      (inter + intra)
//     out = O / den (0 where den == 0), or O when not normalized
//     causal: absorb keys [lo, hi) into S, z
// All products are register tiles of `rowTile` rows x vectors of Dv (or of
// chunk keys), rank-1 updates over F (or D, or keys) with broadcast scalars.
// taylor2 uses the packed symmetric map phi(x) = [1, x, x_a x_b (a <= b),
// x_a^2 / sqrt 2] on scale q and on k, so phi(q).phi(k) = 1 + s + s^2 / 2
// with F = 1 + D + D(D+1)/2; its intra-chunk scores are 1 + s + s^2/2 from
// s = (scale q).k directly. Everything accumulates in f32.
//
//===----------------------------------------------------------------------===//

#include "LinearEmitter.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/MaskRules.h"

#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

static int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

LinearLayout LinearLayout::get(const AttentionProblem &p,
                               const LinearKernelConfig &cfg) {
  LinearLayout l;
  l.d = p.headDim;
  l.dv = p.valueDim;
  l.group = p.groupSize();
  l.taylor = p.score.getFunction()->getLinearForm() ==
             ScoreFunction::LinearForm::SecondOrderTaylor;
  l.features = l.taylor ? 1 + l.d + l.d * (l.d + 1) / 2 : l.d;
  l.offset = l.taylor ? 1 : 0;
  l.chunk = std::max<int64_t>(1, cfg.chunk);
  l.lanes = cfg.lanes;
  l.dVecs = (l.d + l.lanes - 1) / l.lanes;
  l.vVecs = (l.dv + l.lanes - 1) / l.lanes;
  l.paddedDv = l.vVecs * l.lanes;
  l.cVecs = (l.chunk + l.lanes - 1) / l.lanes;
  l.paddedChunk = l.cVecs * l.lanes;
  // Register tiles of r rows x `vecs` vectors, r at most the accumulator
  // budget allows and at least half that, padding `n` rows the least.
  auto tile = [&](int64_t n, int64_t vecs) {
    int64_t most = std::clamp<int64_t>(cfg.accumulators / vecs, 1, cfg.maxRows);
    int64_t best = most;
    for (int64_t r = most; r >= (most + 1) / 2; --r)
      if (roundUp(n, r) < roundUp(n, best))
        best = r;
    return best;
  };
  l.rowTile = tile(l.group * l.chunk, l.vVecs);
  if (cfg.tileRows > 0)
    l.rowTile = cfg.tileRows;
  l.rows = roundUp(l.group * l.chunk, l.rowTile);
  // Score tiles split the same rows.
  l.scoreTile = std::clamp<int64_t>(cfg.accumulators / l.cVecs, 1, cfg.maxRows);
  while (l.rows % l.scoreTile != 0)
    --l.scoreTile;
  l.stateTile = tile(l.features, l.vVecs);
  l.stateRows = roundUp(l.features, l.stateTile);
  l.featureWidth = roundUp(
      std::max(l.stateRows, l.taylor ? l.features + l.lanes : l.features),
      l.lanes);
  return l;
}

int64_t LinearLayout::scratchBytes(bool causal) const {
  double floats = double(stateRows) * paddedDv + featureWidth  // S, z
                  + double(rows) * featureWidth                 // qF
                  + double(paddedChunk) * featureWidth          // kF
                  + rows + double(rows) * paddedDv;             // den, O
  if (causal)
    floats += double(d) * paddedChunk + double(rows) * paddedChunk; // kT, P
  return saturatingBytes(floats * 4);
}

SmallVector<Value> LinearEmitter::loop(Value lo, Value hi, int64_t step,
                                       ValueRange init, Body body) {
  auto forOp = scf::ForOp::create(
      b, loc, lo, hi, idx(step), init,
      [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        scf::YieldOp::create(b, loc, body(iv, args));
      });
  return SmallVector<Value>(forOp.getResults());
}

SmallVector<Value>
LinearEmitter::rankUpdates(Value lo, Value hi, int64_t rows, ValueRange acc,
                           function_ref<Value(int64_t, Value)> a,
                           function_ref<SmallVector<Value>(Value)> row,
                           function_ref<Value(int64_t, Value)> allowed) {
  int64_t vecs = acc.size() / rows;
  auto step = [&](Value t, SmallVector<Value> &sums) {
    SmallVector<Value> bs = row(t);
    for (int64_t r = 0; r < rows; ++r) {
      Value ab = vector::BroadcastOp::create(b, loc, vecType, a(r, t));
      Value guard = allowed ? allowed(r, t) : Value();
      for (int64_t c = 0; c < vecs; ++c) {
        Value sum =
            vector::FMAOp::create(b, loc, ab, bs[c], sums[r * vecs + c]);
        sums[r * vecs + c] =
            guard ? select(guard, sum, sums[r * vecs + c]) : sum;
      }
    }
  };
  Value mainEnd =
      add(lo, mul(arith::DivUIOp::create(b, loc, sub(hi, lo), idx(unroll)),
                  idx(unroll)));
  SmallVector<Value> sums =
      loop(lo, mainEnd, unroll, acc, [&](Value t0, ValueRange args) {
        SmallVector<Value> s(args.begin(), args.end());
        for (int64_t u = 0; u < unroll; ++u)
          step(add(t0, idx(u)), s);
        return s;
      });
  return loop(mainEnd, hi, 1, sums, [&](Value t, ValueRange args) {
    SmallVector<Value> s(args.begin(), args.end());
    step(t, s);
    return s;
  });
}

void LinearEmitter::zeroFill(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t rows = type.getRank() == 2 ? type.getDimSize(0) : 1;
  int64_t width = type.getShape().back();
  Value zero = vconst(0.0);
  loop(idx(0), idx(rows), 1, [&](Value r) {
    loop(idx(0), idx(width), l.lanes, [&](Value c) {
      if (type.getRank() == 2)
        storeVec(zero, buffer, ValueRange{r, c});
      else
        storeVec(zero, buffer, ValueRange{c});
    });
  });
}

SmallVector<Value> LinearEmitter::readRow(Value tensor, ValueRange at,
                                          int64_t width) {
  Type elem = cast<RankedTensorType>(tensor.getType()).getElementType();
  VectorType raw = VectorType::get({l.lanes}, elem);
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elem));
  bool inBounds = width % l.lanes == 0;
  SmallVector<Value> row;
  for (int64_t v = 0; v * l.lanes < width; ++v) {
    SmallVector<Value> indices(at.begin(), at.end());
    indices.push_back(idx(v * l.lanes));
    row.push_back(toF32(vector::TransferReadOp::create(
        b, loc, raw, tensor, indices, pad, ArrayRef<bool>{inBounds})));
  }
  return row;
}

void LinearEmitter::writeFeatures(Value buffer, Value row,
                                  SmallVector<Value> x) {
  if (function->getLinearForm() ==
      ScoreFunction::LinearForm::ElementwiseFeatures) {
    for (int64_t v = 0; v < l.dVecs; ++v) {
      x[v] = function->featureMap(b, loc, x[v]);
      // Where phi(0) is not 0 (elu1), lanes past D stay 0.
      if (!function->featureMapKeepsZero() && (v + 1) * l.lanes > l.d)
        x[v] = select(lanesBelow(idx(v * l.lanes), idx(l.d)), x[v],
                      vconst(0.0));
    }
  }
  for (int64_t v = 0; v < l.dVecs; ++v)
    storeVec(x[v], buffer, ValueRange{row, idx(l.offset + v * l.lanes)});
  if (!l.taylor)
    return;
  // [1, x, x_a x[a:] with the diagonal x_a^2 / sqrt 2]: the segment of a
  // starts at 1 + D + a(2D + 1 - a)/2; each vector store may spill zeros
  // into the next segment, which the next a overwrites.
  memref::StoreOp::create(b, loc, fconst(1.0), buffer, ValueRange{row, idx(0)});
  SmallVector<Attribute> diag(l.lanes, b.getF32FloatAttr(1.0));
  diag[0] = b.getF32FloatAttr(M_SQRT1_2);
  Value diagScale = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecType, diag));
  auto window = [&](int64_t pos) { return windowAt(x, pos); };
  for (int64_t a = 0; a < l.d; ++a) {
    int64_t start = 1 + l.d + a * (2 * l.d + 1 - a) / 2;
    Value xa = vector::ExtractOp::create(b, loc, x[a / l.lanes],
                                         ArrayRef<int64_t>{a % l.lanes});
    Value xab = vector::BroadcastOp::create(b, loc, vecType, xa);
    for (int64_t at = 0; a + at < l.d; at += l.lanes) {
      Value coef = at == 0 ? arith::MulFOp::create(b, loc, xab, diagScale)
                                 .getResult()
                           : xab;
      Value prod = arith::MulFOp::create(b, loc, coef, window(a + at));
      storeVec(prod, buffer, ValueRange{row, idx(start + at)});
    }
  }
}

Value LinearEmitter::windowAt(ArrayRef<Value> x, int64_t pos) {
  int64_t v = pos / l.lanes, shift = pos % l.lanes;
  if (shift == 0)
    return x[v];
  SmallVector<int64_t> lanes;
  for (int64_t i = 0; i < l.lanes; ++i)
    lanes.push_back(shift + i);
  return vector::ShuffleOp::create(
      b, loc, x[v], v + 1 < l.dVecs ? x[v + 1] : vconst(0.0), lanes);
}

void LinearEmitter::buildKeyFeatures(Value j0, Value n, bool transposed) {
  loop(idx(0), n, 1, [&](Value j) {
    SmallVector<Value> x =
        readRow(p.key, ValueRange{batch, kvHead, add(j0, j)}, l.d);
    writeFeatures(kF, j, x);
  });
  if (!transposed)
    return;
  // The D features that intra-chunk scores use (phi(k) or k), transposed
  // into kT[d, key] by lanes x lanes blocks in registers. Keys past n carry
  // stale rows: their scores are masked.
  loop(idx(0), idx(l.paddedChunk), l.lanes, [&](Value jb) {
    for (int64_t db = 0; db < l.dVecs; ++db) {
      SmallVector<Value> rows;
      for (int64_t r = 0; r < l.lanes; ++r)
        rows.push_back(loadVec(
            kF, ValueRange{add(jb, idx(r)), idx(l.offset + db * l.lanes)}));
      rows = transpose(rows);
      for (int64_t d = 0; d < l.lanes && db * l.lanes + d < l.d; ++d)
        storeVec(rows[d], kT, ValueRange{idx(db * l.lanes + d), jb});
    }
  });
}

SmallVector<Value> LinearEmitter::transpose(SmallVector<Value> rows) {
  // Swaps the off-diagonal h x h blocks of every 2h x 2h block, for h =
  // lanes/2 down to 1: one two-source shuffle per row and step.
  int64_t lanes = l.lanes;
  for (int64_t h = lanes / 2; h >= 1; h /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t j = 0; j < lanes; ++j) {
      low.push_back((j & h) ? lanes + j - h : j);
      high.push_back((j & h) ? lanes + j : j + h);
    }
    for (int64_t i = 0; i < lanes; ++i) {
      if (i & h)
        continue;
      Value a = rows[i], c = rows[i + h];
      rows[i] = vector::ShuffleOp::create(b, loc, a, c, low);
      rows[i + h] = vector::ShuffleOp::create(b, loc, a, c, high);
    }
  }
  return rows;
}

void LinearEmitter::buildQueryFeatures(Value i0, Value nQ) {
  Value scale = vconst(p.scale);
  Value last = sub(nQ, idx(1));
  loop(idx(0), idx(l.rows), 1, [&](Value r) {
    Value il = div(r, l.group), g = rem(r, l.group);
    Value i = add(i0, minI(il, last));
    Value head = add(mul(kvHead, idx(l.group)), g);
    SmallVector<Value> x = readRow(p.query, ValueRange{batch, head, i}, l.d);
    for (Value &v : x)
      v = arith::MulFOp::create(b, loc, v, scale);
    writeFeatures(qF, r, x);
  });
}

void LinearEmitter::absorbKeys(Value j0, Value n) {
  int64_t mr = l.stateTile;
  loop(idx(0), idx(l.stateRows), mr, [&](Value f0) {
    SmallVector<Value> acc;
    for (int64_t r = 0; r < mr; ++r)
      acc.append(loadRow(state, add(f0, idx(r)), l.vVecs));
    acc = rankUpdates(
        idx(0), n, mr, acc,
        [&](int64_t r, Value t) {
          return load(kF, ValueRange{t, add(f0, idx(r))});
        },
        [&](Value t) { return readValues(add(j0, t)); });
    storeTile(acc, state, f0, l.vVecs);
  });
  if (normalize)
    absorbKeyNormalizer(n);
}

void LinearEmitter::absorbKeyNormalizer(Value n) {
  loop(idx(0), idx(l.featureWidth), l.lanes, [&](Value f) {
    Value sum = loop(idx(0), n, 1, ValueRange{loadVec(norm, ValueRange{f})},
                     [&](Value j, ValueRange acc) -> SmallVector<Value> {
                       return {arith::AddFOp::create(
                           b, loc, acc[0], loadVec(kF, ValueRange{j, f}))};
                     })[0];
    storeVec(sum, norm, ValueRange{f});
  });
}

Value LinearEmitter::keysSeen(Value i0, Value il, Value lo, Value nK) {
  RuleArith d(b, loc);
  Value last = rule::bandInterval(d, p, add(i0, il), lq, lk).hi;
  return clamp(add(sub(last, lo), idx(1)), idx(0), nK);
}

void LinearEmitter::intraScores(Value i0, Value lo, Value nK) {
  int64_t mr = l.scoreTile;
  loop(idx(0), idx(l.rows), mr, [&](Value r0) {
    SmallVector<Value> acc(mr * l.cVecs, vconst(0.0));
    acc = rankUpdates(
        idx(0), idx(l.d), mr, acc,
        [&](int64_t r, Value t) {
          return load(qF, ValueRange{add(r0, idx(r)), add(t, idx(l.offset))});
        },
        [&](Value t) { return loadRow(kT, t, l.cVecs); });
    for (int64_t r = 0; r < mr; ++r) {
      Value row = add(r0, idx(r));
      // The keys of the band that the row's query may see.
      Value count = keysSeen(i0, div(row, l.group), lo, nK);
      Value sum;
      for (int64_t c = 0; c < l.cVecs; ++c) {
        // The weight of the product (of features, or the score itself).
        Value w = function->weight(b, loc, acc[r * l.cVecs + c], Value());
        w = select(lanesBelow(idx(c * l.lanes), count), w, vconst(0.0));
        storeVec(w, scores, ValueRange{row, idx(c * l.lanes)});
        sum = sum ? arith::AddFOp::create(b, loc, sum, w).getResult() : w;
      }
      if (normalize)
        memref::StoreOp::create(
            b, loc,
            vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                        sum, arith::FastMathFlags::reassoc),
            den, ValueRange{row});
    }
  });
}

void LinearEmitter::outputRows(Value i0, Value lo, Value nK, Value nQ) {
  int64_t mr = l.rowTile;
  loop(idx(0), idx(l.rows), mr, [&](Value r0) {
    SmallVector<Value> acc(mr * l.vVecs, vconst(0.0));
    // Inter-chunk: phi(Q) S.
    acc = rankUpdates(
        idx(0), idx(l.features), mr, acc,
        [&](int64_t r, Value t) {
          return load(qF, ValueRange{add(r0, idx(r)), t});
        },
        [&](Value t) { return loadRow(state, t, l.vVecs); });
    // Intra-chunk: P V over the keys the tile's first row may see, then
    // over those only later rows may see, each row up to its own last key.
    if (p.causal) {
      auto seen = [&](Value il) { return keysSeen(i0, il, lo, nK); };
      Value ilMax = minI(div(add(r0, idx(mr - 1)), l.group), sub(nQ, idx(1)));
      Value limit = seen(ilMax);
      Value shared = minI(seen(div(r0, l.group)), limit);
      auto score = [&](int64_t r, Value t) {
        return load(scores, ValueRange{add(r0, idx(r)), t});
      };
      auto values = [&](Value t) { return readValues(add(lo, t)); };
      acc = rankUpdates(idx(0), shared, mr, acc, score, values);
      acc = rankUpdates(shared, limit, mr, acc, score, values,
                        [&](int64_t r, Value t) {
                          Value rowSeen = seen(div(add(r0, idx(r)), l.group));
                          return arith::CmpIOp::create(
                              b, loc, arith::CmpIPredicate::slt, t, rowSeen);
                        });
    }
    storeTile(acc, oBuf, r0, l.vVecs);
  });
  if (normalize)
    addStateNormalizer();
}

void LinearEmitter::addStateNormalizer() {
  // den += phi(Q) . z (den = phi(Q) . z without causal).
  loop(idx(0), idx(l.rows), 1, [&](Value r) {
    Value dot =
        loop(idx(0), idx(l.featureWidth), l.lanes, ValueRange{vconst(0.0)},
             [&](Value f, ValueRange acc) -> SmallVector<Value> {
               return {vector::FMAOp::create(b, loc,
                                             loadVec(qF, ValueRange{r, f}),
                                             loadVec(norm, ValueRange{f}),
                                             acc[0])};
             })[0];
    Value sum = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, dot, arith::FastMathFlags::reassoc);
    if (p.causal)
      sum = arith::AddFOp::create(b, loc, load(den, ValueRange{r}), sum);
    memref::StoreOp::create(b, loc, sum, den, ValueRange{r});
  });
}

Value LinearEmitter::writeRows(Value i0, Value nQ, Value slice) {
  Type outElem = p.elementType;
  AttentionAlgebra algebra(b, loc, p);
  bool inBounds = l.dv % l.lanes == 0;
  return loop(idx(0), mul(nQ, idx(l.group)), 1, ValueRange{slice},
              [&](Value r, ValueRange acc) -> SmallVector<Value> {
                Value il = div(r, l.group), g = rem(r, l.group);
                // The epilogue (AttentionAlgebra): o / den.
                Value d = normalize ? load(den, ValueRange{r}) : Value();
                Value t = acc[0];
                for (int64_t c = 0; c < l.vVecs; ++c) {
                  Value o = algebra.epilogue(
                      loadVec(oBuf, ValueRange{r, idx(c * l.lanes)}), d,
                      outElem);
                  t = vector::TransferWriteOp::create(
                          b, loc, o, t,
                          ValueRange{g, add(i0, il), idx(c * l.lanes)},
                          ArrayRef<bool>{inBounds})
                          .getResult();
                }
                return {t};
              })[0];
}

void LinearEmitter::allocateScratch() {
  state = scratch({l.stateRows, l.paddedDv});
  norm = scratch({l.featureWidth});
  qF = scratch({l.rows, l.featureWidth});
  kF = scratch({l.paddedChunk, l.featureWidth});
  den = scratch({l.rows});
  oBuf = scratch({l.rows, l.paddedDv});
  if (p.causal) {
    kT = scratch({l.d, l.paddedChunk});
    scores = scratch({l.rows, l.paddedChunk});
  }
}

Value LinearEmitter::emitTask(Value task, Value out,
                              SmallVectorImpl<OpFoldResult> &offsets,
                              SmallVectorImpl<OpFoldResult> &sizes) {
  batch = div(task, p.headsKV);
  kvHead = rem(task, p.headsKV);
  for (Value buffer : {state, norm, qF, kF})
    zeroFill(buffer);
  if (p.causal)
    zeroFill(kT);

  // Keys every query sees: all of them, or (causal) those before the first
  // chunk's band.
  Value prefix = p.causal ? clamp(shift, idx(0), lk) : lk;
  loop(idx(0), prefix, l.chunk, [&](Value j0) {
    Value n = minI(idx(l.chunk), sub(prefix, j0));
    buildKeyFeatures(j0, n, /*transposed=*/false);
    absorbKeys(j0, n);
  });

  auto sliceType = RankedTensorType::get({l.group, ShapedType::kDynamic, l.dv},
                                         p.elementType);
  offsets.assign({batch, mul(kvHead, idx(l.group)), b.getIndexAttr(0),
                  b.getIndexAttr(0)});
  sizes.assign({b.getIndexAttr(1), b.getIndexAttr(l.group), lq,
                b.getIndexAttr(l.dv)});
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, out, offsets,
                                               sizes, strides);
  Value numChunks = arith::CeilDivUIOp::create(b, loc, lq, idx(l.chunk));
  return loop(idx(0), numChunks, 1, ValueRange{slice},
              [&](Value c, ValueRange acc) -> SmallVector<Value> {
                Value i0 = mul(c, idx(l.chunk));
                Value nQ = minI(idx(l.chunk), sub(lq, i0));
                Value lo = idx(0), nK = idx(0);
                if (p.causal) {
                  Value start = add(i0, shift);
                  lo = clamp(start, idx(0), lk);
                  Value hi = clamp(add(start, idx(l.chunk)), idx(0), lk);
                  nK = sub(hi, lo);
                  buildKeyFeatures(lo, nK, /*transposed=*/true);
                }
                buildQueryFeatures(i0, nQ);
                if (p.causal)
                  intraScores(i0, lo, nK);
                outputRows(i0, lo, nK, nQ);
                Value written = writeRows(i0, nQ, acc[0]);
                if (p.causal)
                  absorbKeys(lo, nK);
                return {written};
              })[0];
}

Value LinearEmitter::build() {
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  shift = sub(lk, lq);
  Value tasks = mul(dimOf(p.query, 0), idx(p.headsKV));
  SmallVector<OpFoldResult> offsets, sizes;
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  if (serial) {
    // One thread: the scratch once, the tasks one after another.
    allocateScratch();
    return loop(idx(0), tasks, 1, ValueRange{p.init},
                [&](Value task, ValueRange acc) -> SmallVector<Value> {
                  Value rows = emitTask(task, acc[0], offsets, sizes);
                  return {tensor::InsertSliceOp::create(b, loc, rows, acc[0],
                                                        offsets, sizes,
                                                        strides)
                              .getResult()};
                })[0];
  }
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{tasks},
                                      ValueRange{p.init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  allocateScratch();
  Value out = forall.getRegionIterArgs()[0];
  Value rows = emitTask(forall.getInductionVar(0), out, offsets, sizes);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, rows, out, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

Value mlir::attn::buildLinearAttention(RewriterBase &rewriter,
                                       const AttentionProblem &problem,
                                       const LinearKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  LinearEmitter emitter(rewriter, problem, config);
  return emitter.build();
}
