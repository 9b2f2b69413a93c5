//===- LinearBackwardKernel.cpp - Chunked backward of linear attention ----===//
//
// attn.attention_backward with a kernel score, for the CPU, in O(L F Dv) like
// the forward (LinearKernel.cpp, whose pieces LinearEmitter.h shares). One
// task per (batch, KV head); the rows of a chunk are its G heads x C
// queries. With dO' = dO / Z and D' = dO' . O (AttentionAlgebra::
// divideByNormalizer; dO' = dO and no D' unnormalized), the gradient of a
// weight is g_ij = dO'_i . v_j - D'_i, and:
//   forward pass, state S^T[Dv, F] = sum phi(k) v^T and z[F] = sum phi(k):
//     keys before the first chunk's band (all keys without causal) join the
//     state; then for each chunk: phi(Q); causal: the band's phi(K), K^T, V,
//     V^T, its weights P (intraScores) and their row sums;
//     Z = rowsum P + phi(Q) . z (kept per row for the reverse pass);
//     G = g over the band where allowed (0 elsewhere);
//     dphi(Q) = dO' S^T - D' z + G phi(K), then dQ through the feature map;
//     causal: the band's keys join the state.
//   reverse pass, states B[F, Dv] = sum phi(q) dO'^T, B^T and b[F] = sum
//     phi(q) D' over the rows after the chunk:
//     for each chunk from the last: phi(Q), dO', D' (from the kept Z);
//     causal: the band's keys, P and G again, and for its keys
//       dV = phi(K) B + P^T dO',  dphi(K) = V B^T - b + G^T phi(Q) -> dK;
//     then the chunk's rows join B, B^T and b.
//   last, the keys before the first band: dV = phi(K) B, dphi(K) = V B^T - b.
// Rows past the chunk's queries (padding) have dO' = 0 and D' = 0, so they
// add nothing. The feature maps' chain rule: phi' elementwise (elu1, relu),
// the identity, or for taylor2's [1, x, x_a x_b] the linear part plus the
// pair products. Everything accumulates in f32.
//
//===----------------------------------------------------------------------===//

#include "LinearEmitter.h"

#include "attn/Strategies/Common/AttentionAlgebra.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

static int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

int64_t LinearLayout::backwardStateBytes() const {
  // S^T, B^T, then B.
  return saturatingBytes(
      4 * (2.0 * paddedDv * featureWidth + double(stateRows) * paddedDv));
}

int64_t LinearLayout::backwardScratchBytes(bool causal) const {
  int64_t rowsOrKeys = std::max(rows, paddedChunk);
  double floats =
      2.0 * featureWidth                                      // z, b
      + double(rows) * featureWidth                           // phi(Q)
      + double(paddedChunk) * (featureWidth + 2.0 * paddedDv) // phi(K), V, dV
      + double(rowsOrKeys) * featureWidth                     // dphi
      + double(rows) * (paddedDv + 2)                         // dO', D', Z
      + roundUp(d, lanes) + lanes;                            // taylor2's dx
  if (causal)
    floats += double(d) * paddedChunk + double(paddedDv) * paddedChunk +
              2.0 * rows * paddedChunk; // K^T, V^T, P, G
  return saturatingBytes(floats * 4);
}

namespace {

class LinearBackwardEmitter : public LinearEmitter {
public:
  using LinearEmitter::LinearEmitter;

  /// dQ, dK, dV.
  SmallVector<Value> buildBackward();

private:
  /// dst[r, c] = (dst[r, c] when `accumulate`) + sum over t in [lo, hi) of
  /// a(r, t) row(t, c), for the `rows` rows and `vecs` vector columns of
  /// the 2-D buffer dst: register tiles of rank-1 updates.
  void products(Value dst, int64_t rows, int64_t vecs, bool accumulate,
                Value lo, Value hi, function_ref<Value(Value, Value)> a,
                function_ref<Value(Value, Value)> row);
  /// V of keys [j0, j0 + n) into vBuf and, when `transposed`, V^T into vT.
  void loadChunkValues(Value j0, Value n, bool transposed);
  /// dO' and D' of the chunk's rows into gBuf and dBuf; Z from den (and
  /// kept) in the forward pass, from the kept Z in the reverse pass.
  void scaledGradRows(Value i0, Value nQ, bool forwardPass);
  /// G = dO' V^T - D' over the band, 0 where not allowed.
  void gradScores(Value i0, Value lo, Value nK);
  /// The gradient of the feature map's input x (D values in vectors) from
  /// the features' gradients in row `row` of dPhi.
  SmallVector<Value> featureGradient(Value row, SmallVector<Value> x);
  /// Writes `vectors` (f32) as the row `at` of `tensor`, in its element
  /// type.
  Value writeRow(Value tensor, ArrayRef<Value> vectors, ValueRange at);
  /// The states S^T and z take keys [j0, j0 + n) (kF, vBuf).
  void absorbKeysTransposed(Value n);
  /// B, B^T and b take the chunk's rows.
  void absorbRows();
  /// dV and dK of keys [j0, j0 + n) (kF, vBuf), with the chunk's rows
  /// directly when `intra`, into the slices dk and dv.
  SmallVector<Value> keyGradients(Value j0, Value n, bool intra, Value dk,
                                  Value dv);
  void allocateBackwardScratch();
  SmallVector<Value>
  emitBackwardTask(Value task, ValueRange outs,
                   SmallVectorImpl<OpFoldResult> &qOffsets,
                   SmallVectorImpl<OpFoldResult> &qSizes,
                   SmallVectorImpl<OpFoldResult> &kvOffsets,
                   SmallVector<SmallVector<OpFoldResult>> &kvSizes);

  int64_t featureVecs() const { return l.featureWidth / l.lanes; }

  Value stateT, keyStateT, keyState, keyNorm, vBuf, vT, dvBuf, gScores, gBuf,
      dBuf, dPhi, dxBuf, zRows;
};

void LinearBackwardEmitter::products(Value dst, int64_t rows, int64_t vecs,
                                     bool accumulate, Value lo, Value hi,
                                     function_ref<Value(Value, Value)> a,
                                     function_ref<Value(Value, Value)> row) {
  int64_t mr = std::min<int64_t>(maxRows, rows);
  while (rows % mr != 0)
    --mr;
  int64_t cv = std::max<int64_t>(1, std::min<int64_t>(accumulators / mr, vecs));
  while (vecs % cv != 0)
    --cv;
  loop(idx(0), idx(rows), mr, [&](Value r0) {
    loop(idx(0), idx(vecs * l.lanes), cv * l.lanes, [&](Value c0) {
      auto column = [&](int64_t c) { return add(c0, idx(c * l.lanes)); };
      SmallVector<Value> acc;
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t c = 0; c < cv; ++c)
          acc.push_back(
              accumulate ? loadVec(dst, ValueRange{add(r0, idx(r)), column(c)})
                         : vconst(0.0));
      acc = rankUpdates(
          lo, hi, mr, acc,
          [&](int64_t r, Value t) { return a(add(r0, idx(r)), t); },
          [&](Value t) {
            SmallVector<Value> vectors;
            for (int64_t c = 0; c < cv; ++c)
              vectors.push_back(row(t, column(c)));
            return vectors;
          });
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t c = 0; c < cv; ++c)
          storeVec(acc[r * cv + c], dst,
                   ValueRange{add(r0, idx(r)), column(c)});
    });
  });
}

void LinearBackwardEmitter::loadChunkValues(Value j0, Value n,
                                            bool transposed) {
  loop(idx(0), n, 1, [&](Value j) {
    SmallVector<Value> v = readValues(add(j0, j));
    for (int64_t c = 0; c < l.vVecs; ++c)
      storeVec(v[c], vBuf, ValueRange{j, idx(c * l.lanes)});
  });
  if (!transposed)
    return;
  // V^T[e, key] by lanes x lanes blocks in registers; keys past n carry
  // stale rows, which G masks.
  loop(idx(0), idx(l.paddedChunk), l.lanes, [&](Value jb) {
    for (int64_t eb = 0; eb < l.vVecs; ++eb) {
      SmallVector<Value> rows;
      for (int64_t r = 0; r < l.lanes; ++r)
        rows.push_back(
            loadVec(vBuf, ValueRange{add(jb, idx(r)), idx(eb * l.lanes)}));
      rows = transpose(rows);
      for (int64_t e = 0; e < l.lanes; ++e)
        storeVec(rows[e], vT, ValueRange{idx(eb * l.lanes + e), jb});
    }
  });
}

void LinearBackwardEmitter::scaledGradRows(Value i0, Value nQ,
                                           bool forwardPass) {
  AttentionAlgebra algebra(b, loc, p);
  Value last = sub(nQ, idx(1));
  loop(idx(0), idx(l.rows), 1, [&](Value r) {
    Value il = div(r, l.group), g = rem(r, l.group);
    Value valid = cmpI(arith::CmpIPredicate::ult, il, nQ);
    Value i = add(i0, minI(il, last));
    Value head = add(mul(kvHead, idx(l.group)), g);
    SmallVector<Value> grad =
        readRow(p.gradOutput, ValueRange{batch, head, i}, l.dv);
    Value rowDot = fconst(0.0);
    if (normalize) {
      // The row's Z, kept at [query, head of the group].
      Value at = add(mul(i, idx(l.group)), g);
      Value z;
      if (forwardPass) {
        z = load(den, ValueRange{r});
        // A padding row repeats the last query but not its band.
        scf::IfOp::create(b, loc, valid, [&](OpBuilder &nb, Location l) {
          memref::StoreOp::create(nb, l, z, zRows, ValueRange{at});
          scf::YieldOp::create(nb, l);
        });
      } else {
        z = load(zRows, ValueRange{at});
      }
      SmallVector<Value> out =
          readRow(p.init, ValueRange{batch, head, i}, l.dv);
      Value dot = vconst(0.0);
      for (int64_t c = 0; c < l.vVecs; ++c) {
        grad[c] = algebra.divideByNormalizer(grad[c], z);
        dot = vector::FMAOp::create(b, loc, grad[c], out[c], dot);
      }
      rowDot = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                           dot, arith::FastMathFlags::reassoc);
    }
    for (int64_t c = 0; c < l.vVecs; ++c)
      storeVec(select(valid, grad[c], vconst(0.0)), gBuf,
               ValueRange{r, idx(c * l.lanes)});
    memref::StoreOp::create(b, loc, select(valid, rowDot, fconst(0.0)), dBuf,
                            ValueRange{r});
  });
}

void LinearBackwardEmitter::gradScores(Value i0, Value lo, Value nK) {
  int64_t mr = l.scoreTile;
  loop(idx(0), idx(l.rows), mr, [&](Value r0) {
    SmallVector<Value> acc(mr * l.cVecs, vconst(0.0));
    acc = rankUpdates(
        idx(0), idx(l.dv), mr, acc,
        [&](int64_t r, Value e) {
          return load(gBuf, ValueRange{add(r0, idx(r)), e});
        },
        [&](Value e) { return loadRow(vT, e, l.cVecs); });
    for (int64_t r = 0; r < mr; ++r) {
      Value row = add(r0, idx(r));
      Value count = keysSeen(i0, div(row, l.group), lo, nK);
      Value rowDot = vector::BroadcastOp::create(b, loc, vecType,
                                                 load(dBuf, ValueRange{row}));
      for (int64_t c = 0; c < l.cVecs; ++c) {
        Value g = arith::SubFOp::create(b, loc, acc[r * l.cVecs + c], rowDot);
        g = select(lanesBelow(idx(c * l.lanes), count), g, vconst(0.0));
        storeVec(g, gScores, ValueRange{row, idx(c * l.lanes)});
      }
    }
  });
}

SmallVector<Value>
LinearBackwardEmitter::featureGradient(Value row, SmallVector<Value> x) {
  SmallVector<Value> dx;
  switch (function->getLinearForm()) {
  case ScoreFunction::LinearForm::ElementwiseFeatures:
    for (int64_t v = 0; v < l.dVecs; ++v)
      dx.push_back(arith::MulFOp::create(
          b, loc, function->featureMapDerivative(b, loc, x[v]),
          loadVec(dPhi, ValueRange{row, idx(v * l.lanes)})));
    return dx;
  case ScoreFunction::LinearForm::Identity:
    for (int64_t v = 0; v < l.dVecs; ++v)
      dx.push_back(loadVec(dPhi, ValueRange{row, idx(v * l.lanes)}));
    return dx;
  case ScoreFunction::LinearForm::SecondOrderTaylor:
    break;
  case ScoreFunction::LinearForm::None:
    llvm_unreachable("the linear strategy declines scores without a form");
  }
  // taylor2: the features [1, x_a, c_ab x_a x_b (a <= b)] with c_aa =
  // 1/sqrt 2, c_ab = 1: dx_a = dphi(x_a) + sum over the pairs (a, b) of
  // dphi(a, b) c_ab x_b, + the same over the pairs (b, a) (the diagonal
  // counts twice: d (x_a^2 / sqrt 2) = sqrt 2 x_a). dxBuf holds dx; the
  // vector updates of the pairs may spill past D into its padding.
  for (int64_t v = 0; v < l.dVecs; ++v)
    storeVec(loadVec(dPhi, ValueRange{row, idx(1 + v * l.lanes)}), dxBuf,
             ValueRange{idx(v * l.lanes)});
  storeVec(vconst(0.0), dxBuf, ValueRange{idx(l.dVecs * l.lanes)});
  SmallVector<Attribute> diag(l.lanes, b.getF32FloatAttr(1.0));
  diag[0] = b.getF32FloatAttr(M_SQRT1_2);
  Value diagScale =
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecType, diag));
  for (int64_t a = 0; a < l.d; ++a) {
    int64_t start = 1 + l.d + a * (2 * l.d + 1 - a) / 2;
    Value xa = vector::BroadcastOp::create(
        b, loc, vecType,
        vector::ExtractOp::create(b, loc, x[a / l.lanes],
                                  ArrayRef<int64_t>{a % l.lanes}));
    Value own = vconst(0.0);
    for (int64_t at = 0; a + at < l.d; at += l.lanes) {
      Value term = loadVec(dPhi, ValueRange{row, idx(start + at)});
      if (at == 0)
        term = arith::MulFOp::create(b, loc, term, diagScale);
      // Lanes past D read the next pair segment: x is 0 there.
      own = vector::FMAOp::create(b, loc, term, windowAt(x, a + at), own);
      Value at_b = idx(a + at);
      storeVec(vector::FMAOp::create(b, loc, term, xa,
                                     loadVec(dxBuf, ValueRange{at_b})),
               dxBuf, ValueRange{at_b});
    }
    Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                            own, arith::FastMathFlags::reassoc);
    memref::StoreOp::create(
        b, loc,
        arith::AddFOp::create(b, loc, load(dxBuf, ValueRange{idx(a)}), sum),
        dxBuf, ValueRange{idx(a)});
  }
  for (int64_t v = 0; v < l.dVecs; ++v)
    dx.push_back(loadVec(dxBuf, ValueRange{idx(v * l.lanes)}));
  return dx;
}

Value LinearBackwardEmitter::writeRow(Value tensor, ArrayRef<Value> vectors,
                                      ValueRange at) {
  auto type = cast<RankedTensorType>(tensor.getType());
  Type elem = type.getElementType();
  int64_t width = type.getShape().back();
  bool inBounds = width % l.lanes == 0;
  for (auto [c, v] : llvm::enumerate(vectors)) {
    Value value = v;
    if (!elem.isF32())
      value = arith::TruncFOp::create(b, loc, VectorType::get({l.lanes}, elem),
                                      value);
    SmallVector<Value> indices(at.begin(), at.end());
    indices.push_back(idx(c * l.lanes));
    tensor = vector::TransferWriteOp::create(b, loc, value, tensor, indices,
                                             ArrayRef<bool>{inBounds})
                 .getResult();
  }
  return tensor;
}

void LinearBackwardEmitter::absorbKeysTransposed(Value n) {
  // S^T[e, f] += sum_j v[j, e] phi(k_j)[f].
  products(
      stateT, l.paddedDv, featureVecs(), true, idx(0), n,
      [&](Value e, Value j) {
        return load(vBuf, ValueRange{j, e});
      },
      [&](Value j, Value c) {
        return loadVec(kF, ValueRange{j, c});
      });
  if (normalize)
    absorbKeyNormalizer(n);
}

void LinearBackwardEmitter::absorbRows() {
  Value rows = idx(l.rows);
  // B[f, e] += sum_r phi(q_r)[f] dO'_r[e].
  products(
      keyState, l.stateRows, l.vVecs, true, idx(0), rows,
      [&](Value f, Value r) {
        return load(qF, ValueRange{r, f});
      },
      [&](Value r, Value c) {
        return loadVec(gBuf, ValueRange{r, c});
      });
  // B^T[e, f] += sum_r dO'_r[e] phi(q_r)[f].
  products(
      keyStateT, l.paddedDv, featureVecs(), true, idx(0), rows,
      [&](Value e, Value r) {
        return load(gBuf, ValueRange{r, e});
      },
      [&](Value r, Value c) {
        return loadVec(qF, ValueRange{r, c});
      });
  if (!normalize)
    return;
  // b[f] += sum_r D'_r phi(q_r)[f].
  products(
      keyNorm, 1, featureVecs(), true, idx(0), rows,
      [&](Value, Value r) { return load(dBuf, ValueRange{r}); },
      [&](Value r, Value c) {
        return loadVec(qF, ValueRange{r, c});
      });
}

SmallVector<Value> LinearBackwardEmitter::keyGradients(Value j0, Value n,
                                                       bool intra, Value dk,
                                                       Value dv) {
  // dV = phi(K) B (+ P^T dO').
  Value nRows = idx(l.rows);
  products(
      dvBuf, l.paddedChunk, l.vVecs, false, idx(0), idx(l.features),
      [&](Value j, Value f) {
        return load(kF, ValueRange{j, f});
      },
      [&](Value f, Value c) {
        return loadVec(keyState, ValueRange{f, c});
      });
  if (intra)
    products(
        dvBuf, l.paddedChunk, l.vVecs, true, idx(0), nRows,
        [&](Value j, Value r) {
          return load(scores, ValueRange{r, j});
        },
        [&](Value r, Value c) {
          return loadVec(gBuf, ValueRange{r, c});
        });
  // dphi(K) = V B^T - b (+ G^T phi(Q)).
  products(
      dPhi, l.paddedChunk, featureVecs(), false, idx(0), idx(l.dv),
      [&](Value j, Value e) {
        return load(vBuf, ValueRange{j, e});
      },
      [&](Value e, Value c) {
        return loadVec(keyStateT, ValueRange{e, c});
      });
  if (normalize)
    products(
        dPhi, l.paddedChunk, featureVecs(), true, idx(0), idx(1),
        [&](Value, Value) { return fconst(-1.0); },
        [&](Value, Value c) {
          return loadVec(keyNorm, ValueRange{idx(0), c});
        });
  if (intra)
    products(
        dPhi, l.paddedChunk, featureVecs(), true, idx(0), nRows,
        [&](Value j, Value r) {
          return load(gScores, ValueRange{r, j});
        },
        [&](Value r, Value c) {
          return loadVec(qF, ValueRange{r, c});
        });
  SmallVector<Value> written =
      loop(idx(0), n, 1, ValueRange{dk, dv},
           [&](Value j, ValueRange acc) -> SmallVector<Value> {
             Value key = add(j0, j);
             SmallVector<Value> x =
                 readRow(p.key, ValueRange{batch, kvHead, key}, l.d);
             Value newDk =
                 writeRow(acc[0], featureGradient(j, x), ValueRange{key});
             Value newDv =
                 writeRow(acc[1], loadRow(dvBuf, j, l.vVecs), ValueRange{key});
             return {newDk, newDv};
           });
  return written;
}

void LinearBackwardEmitter::allocateBackwardScratch() {
  // The three states on the stack when everything fits there, else on the
  // heap (taylor2's F = 1 + D + D(D+1)/2 features: 1.6 MiB at D = 64), where
  // bufferization's ownership-based deallocation frees them after the task.
  bool statesOnStack =
      l.backwardScratchBytes(p.causal) + l.backwardStateBytes() <=
      kTaskScratchLimitBytes;
  auto state = [&](int64_t rows, int64_t width) -> Value {
    if (statesOnStack)
      return scratch({rows, width});
    return memref::AllocOp::create(b, loc, MemRefType::get({rows, width}, f32),
                                   b.getI64IntegerAttr(64));
  };
  stateT = state(l.paddedDv, l.featureWidth);
  keyState = state(l.stateRows, l.paddedDv);
  keyStateT = state(l.paddedDv, l.featureWidth);
  qF = scratch({l.rows, l.featureWidth});
  kF = scratch({l.paddedChunk, l.featureWidth});
  norm = scratch({l.featureWidth});
  den = scratch({l.rows});
  keyNorm = scratch({1, l.featureWidth});
  vBuf = scratch({l.paddedChunk, l.paddedDv});
  dvBuf = scratch({l.paddedChunk, l.paddedDv});
  gBuf = scratch({l.rows, l.paddedDv});
  dBuf = scratch({l.rows});
  dPhi = scratch({std::max(l.rows, l.paddedChunk), l.featureWidth});
  dxBuf = scratch({roundUp(l.d, l.lanes) + l.lanes});
  if (p.causal) {
    kT = scratch({l.d, l.paddedChunk});
    vT = scratch({l.paddedDv, l.paddedChunk});
    scores = scratch({l.rows, l.paddedChunk});
    gScores = scratch({l.rows, l.paddedChunk});
  }
}

SmallVector<Value> LinearBackwardEmitter::emitBackwardTask(
    Value task, ValueRange outs, SmallVectorImpl<OpFoldResult> &qOffsets,
    SmallVectorImpl<OpFoldResult> &qSizes,
    SmallVectorImpl<OpFoldResult> &kvOffsets,
    SmallVector<SmallVector<OpFoldResult>> &kvSizes) {
  batch = div(task, p.headsKV);
  kvHead = rem(task, p.headsKV);
  for (Value buffer :
       {qF, kF, norm, stateT, keyState, keyStateT, keyNorm, vBuf, gBuf, dPhi})
    zeroFill(buffer);
  if (p.causal)
    for (Value buffer : {kT, vT})
      zeroFill(buffer);
  // Z of every row of the task, [Lq x G] (normalized only); bufferization's
  // ownership-based deallocation frees it at the end of the task.
  if (normalize)
    zRows = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, f32),
        ValueRange{mul(lq, idx(l.group))}, b.getI64IntegerAttr(64));

  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  qOffsets.assign(
      {batch, mul(kvHead, idx(l.group)), b.getIndexAttr(0), b.getIndexAttr(0)});
  qSizes.assign(
      {b.getIndexAttr(1), b.getIndexAttr(l.group), lq, b.getIndexAttr(l.d)});
  Value dq = tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get(
          {l.group, ShapedType::kDynamic, l.d},
          cast<RankedTensorType>(outs[0].getType()).getElementType()),
      outs[0], qOffsets, qSizes, strides);
  kvOffsets.assign({batch, kvHead, b.getIndexAttr(0), b.getIndexAttr(0)});
  SmallVector<Value> kv;
  kvSizes.clear();
  for (int64_t n = 0; n < 2; ++n) {
    int64_t width = n == 0 ? l.d : l.dv;
    kvSizes.push_back(
        {b.getIndexAttr(1), b.getIndexAttr(1), lk, b.getIndexAttr(width)});
    Type elem = cast<RankedTensorType>(outs[n + 1].getType()).getElementType();
    kv.push_back(tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({ShapedType::kDynamic, width}, elem),
        outs[n + 1], kvOffsets, kvSizes.back(), strides));
  }

  // Keys every query sees.
  Value prefix = p.causal ? clamp(shift, idx(0), lk) : lk;
  loop(idx(0), prefix, l.chunk, [&](Value j0) {
    Value n = minI(idx(l.chunk), sub(prefix, j0));
    buildKeyFeatures(j0, n, /*transposed=*/false);
    loadChunkValues(j0, n, /*transposed=*/false);
    absorbKeysTransposed(n);
  });

  Value numChunks = arith::CeilDivUIOp::create(b, loc, lq, idx(l.chunk));
  struct Chunk {
    Value i0, nQ, lo, nK;
  };
  // The chunk's queries and band; its features, values and intra-chunk
  // weights, and (in the forward pass) its normalizers.
  auto prepare = [&](Value c, bool forwardPass) {
    Chunk k;
    k.i0 = mul(c, idx(l.chunk));
    k.nQ = minI(idx(l.chunk), sub(lq, k.i0));
    k.lo = idx(0);
    k.nK = idx(0);
    if (p.causal) {
      Value start = add(k.i0, shift);
      k.lo = clamp(start, idx(0), lk);
      k.nK = sub(clamp(add(start, idx(l.chunk)), idx(0), lk), k.lo);
      buildKeyFeatures(k.lo, k.nK, /*transposed=*/true);
      loadChunkValues(k.lo, k.nK, /*transposed=*/true);
    }
    buildQueryFeatures(k.i0, k.nQ);
    if (p.causal)
      intraScores(k.i0, k.lo, k.nK);
    if (forwardPass && normalize)
      addStateNormalizer();
    scaledGradRows(k.i0, k.nQ, forwardPass);
    if (p.causal)
      gradScores(k.i0, k.lo, k.nK);
    return k;
  };

  // The forward pass: dQ.
  dq = loop(
      idx(0), numChunks, 1, ValueRange{dq},
      [&](Value c, ValueRange acc) -> SmallVector<Value> {
        Chunk k = prepare(c, /*forwardPass=*/true);
        // dphi(Q) = dO' S^T - D' z + G phi(K).
        products(
            dPhi, l.rows, featureVecs(), false, idx(0), idx(l.dv),
            [&](Value r, Value e) {
              return load(gBuf, ValueRange{r, e});
            },
            [&](Value e, Value col) {
              return loadVec(stateT, ValueRange{e, col});
            });
        if (normalize)
          products(
              dPhi, l.rows, featureVecs(), true, idx(0), idx(1),
              [&](Value r, Value) {
                return arith::NegFOp::create(b, loc, load(dBuf, ValueRange{r}))
                    .getResult();
              },
              [&](Value, Value col) { return loadVec(norm, ValueRange{col}); });
        if (p.causal)
          products(
              dPhi, l.rows, featureVecs(), true, idx(0), k.nK,
              [&](Value r, Value j) {
                return load(gScores, ValueRange{r, j});
              },
              [&](Value j, Value col) {
                return loadVec(kF, ValueRange{j, col});
              });
        Value scale = vconst(p.scale);
        Value written =
            loop(idx(0), mul(k.nQ, idx(l.group)), 1, ValueRange{acc[0]},
                 [&](Value r, ValueRange rowAcc) -> SmallVector<Value> {
                   Value il = div(r, l.group), g = rem(r, l.group);
                   Value head = add(mul(kvHead, idx(l.group)), g);
                   Value i = add(k.i0, il);
                   SmallVector<Value> x =
                       readRow(p.query, ValueRange{batch, head, i}, l.d);
                   for (Value &v : x)
                     v = arith::MulFOp::create(b, loc, v, scale);
                   // d (scale q) / d q = scale.
                   SmallVector<Value> dx = featureGradient(r, x);
                   for (Value &v : dx)
                     v = arith::MulFOp::create(b, loc, v, scale);
                   return {writeRow(rowAcc[0], dx, ValueRange{g, i})};
                 })[0];
        if (p.causal)
          absorbKeysTransposed(k.nK);
        return {written};
      })[0];

  // The reverse pass: dK and dV of each chunk's band, then of the keys
  // before the first band.
  kv = loop(idx(0), numChunks, 1, kv,
            [&](Value c, ValueRange acc) -> SmallVector<Value> {
              Value chunk = sub(sub(numChunks, idx(1)), c);
              Chunk k = prepare(chunk, /*forwardPass=*/false);
              SmallVector<Value> written(acc.begin(), acc.end());
              if (p.causal)
                written =
                    keyGradients(k.lo, k.nK, /*intra=*/true, acc[0], acc[1]);
              absorbRows();
              return written;
            });
  kv = loop(idx(0), prefix, l.chunk, kv,
            [&](Value j0, ValueRange acc) -> SmallVector<Value> {
              Value n = minI(idx(l.chunk), sub(prefix, j0));
              buildKeyFeatures(j0, n, /*transposed=*/false);
              loadChunkValues(j0, n, /*transposed=*/false);
              return keyGradients(j0, n, /*intra=*/false, acc[0], acc[1]);
            });
  return {dq, kv[0], kv[1]};
}

SmallVector<Value> LinearBackwardEmitter::buildBackward() {
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  shift = sub(lk, lq);
  Value tasks = mul(dimOf(p.query, 0), idx(p.headsKV));
  SmallVector<Value> inits(p.gradInits.begin(), p.gradInits.begin() + 3);
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{tasks},
                                      inits, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  allocateBackwardScratch();
  SmallVector<OpFoldResult> qOffsets, qSizes, kvOffsets;
  SmallVector<SmallVector<OpFoldResult>> kvSizes;
  SmallVector<Value> slices =
      emitBackwardTask(forall.getInductionVar(0), forall.getRegionIterArgs(),
                       qOffsets, qSizes, kvOffsets, kvSizes);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(b, loc, slices[0],
                                        forall.getRegionIterArgs()[0], qOffsets,
                                        qSizes, strides);
  for (int n = 0; n < 2; ++n)
    tensor::ParallelInsertSliceOp::create(b, loc, slices[n + 1],
                                          forall.getRegionIterArgs()[n + 1],
                                          kvOffsets, kvSizes[n], strides);
  return SmallVector<Value>(forall.getResults());
}

} // namespace

SmallVector<Value>
mlir::attn::buildLinearAttentionBackward(RewriterBase &rewriter,
                                         const AttentionProblem &problem,
                                         const LinearKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  LinearBackwardEmitter emitter(rewriter, problem, config);
  return emitter.buildBackward();
}
