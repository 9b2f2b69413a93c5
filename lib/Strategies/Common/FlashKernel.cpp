//===- FlashKernel.cpp - FlashAttention-2 on the CPU as vector IR ---------===//
//
// See FlashKernel.h. The emitted structure, for each (batch, KV head):
//   Kt[T, D, BK] = K^T packed in key tiles (f32, zero padded; phi(k) for
//                  feature-map scores)
//   forall query blocks (heaviest first):
//     O[R, Dv], m[R], l[R], P[micro_q, BK] on the stack (R = G * block_q)
//     for each KV tile the block's rows can see (band + sink tiles):
//       for each micro-tile of micro_q rows that sees the tile:
//         S = Q K^T   micro_q x BK/lanes vector accumulators, D loop unrolled
//         partial tiles only: mask by causal/window/sinks/mask/length
//         softmax: m' = max(m, rowmax S); p = exp2(S - m'); l = l 2^(m-m') + sum p
//         O = O 2^(m-m') + P V   micro_q x blockDv/lanes accumulators
//     out = O / l (0 where l == 0), written into the result tile
// The scale is folded into S with log2(e) so the softmax uses exp2. Rows of
// all G query heads of a KV head share one task, so each K/V tile loaded
// serves the whole group; a micro-tile may span heads (decode: one row per
// head). With `splits` > 1 each block's keys are split among tasks whose
// partial (O, m, l) are merged through their log-sum-exp (split-KV). Without
// packing, scores are dot products over D read straight from K.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/FlashKernel.h"
#include "attn/Strategies/Common/FeatureMaps.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::attn;

bool mlir::attn::flashKernelSupports(const AttentionProblem &p,
                                     std::string &reason) {
  if (p.isNeighborhood) {
    reason = "computes attn.attention only (neighborhoods have their own "
             "strategy)";
    return false;
  }
  return true;
}

double mlir::attn::flashKernelSerialSeconds(const AttentionProblem &p,
                                            const FlashKernelConfig &config,
                                            double batch, double lq, double lk,
                                            double ghz) {
  if (!p.score.isFeatureProduct())
    return 0;
  double elements = batch * p.headDim *
                    (p.headsQ * lq + (config.packKeys ? p.headsKV * lk : 0));
  return 8.0 / (ghz * 1e9) * elements;
}

namespace {

constexpr double kLog2E = 1.4426950408889634;

/// Index bounds of the keys that rows [iA, iB] may see.
struct KeyBounds {
  Value lo;     ///< First band key of the last row's band (rows' max lo).
  Value hi;     ///< Last band key of the last row (rows' max hi).
  Value sinkHi; ///< Last sink key the rows may see, or -1.
};

/// The rows of one micro-tile: for each, its query head, its head within
/// the group, its (clamped) query index; and the range of query indices.
struct MicroRows {
  SmallVector<Value> head, group, row;
  Value iMin, iMax;
};

class FlashEmitter : KernelBuilder {
public:
  FlashEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
               const FlashKernelConfig &config)
      : KernelBuilder(rewriter, problem.op->getLoc(), config.lanes),
        p(problem), cfg(config) {
    i32 = b.getI32Type();
    maskVecType = VectorType::get({cfg.lanes}, b.getI1Type());
    idxVecType = VectorType::get({cfg.lanes}, i32);
    group = p.groupSize();
    rows = group * cfg.blockQ;
    paddedRows = (rows + cfg.microQ - 1) / cfg.microQ * cfg.microQ;
    keyVecs = cfg.blockK / cfg.lanes;
    valueVecs = (p.valueDim + cfg.lanes - 1) / cfg.lanes;
    paddedDv = valueVecs * cfg.lanes;
    isSoftmax = p.score.isSoftmax();
    featureProduct = p.score.isFeatureProduct();
  }

  Value build();

private:
  // Scalar arithmetic beyond KernelBuilder's.
  Value cmpI(arith::CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value ceilDiv(Value x, int64_t d) {
    return arith::CeilDivUIOp::create(b, loc, x, idx(d));
  }
  Value floorDiv(Value x, int64_t d) {
    return arith::FloorDivSIOp::create(b, loc, x, idx(d));
  }
  /// phi of feature-map scores on a scalar.
  Value featureMap(Value x);

  KeyBounds keyBounds(Value iA, Value iB);
  Value bandAllowed(Value i, Value jv);

  Value packKeys(Value batch, Value kvHead);
  Value featureQueries(Value batch, Value kvHead);
  SmallVector<Value> scoresPacked(Value batch, const MicroRows &rows,
                                  Value tile, Value packedKeys, Value queries);
  SmallVector<Value> scoresUnpacked(Value batch, Value kvHead,
                                    const MicroRows &rows, Value kvStart,
                                    Value queries, Value partBuf);
  void emitMicroTile(Value batch, Value kvHead, const MicroRows &rows,
                     Value rowBase, Value tile, Value packedKeys,
                     Value queries, Value oAcc, Value mRow, Value lRow,
                     Value pBuf, Value partBuf);
  /// Lane k of the result = sum of the lanes of vectors[k].
  Value transposeReduce(SmallVector<Value> vectors);
  /// Reads query element d (scalar) or vector dv of one row.
  Value queryScalar(Value queries, Value batch, const MicroRows &rows,
                    int64_t r, Value d);

  const AttentionProblem &p;
  FlashKernelConfig cfg;
  Type i32;
  VectorType maskVecType, idxVecType;
  int64_t group, rows, paddedRows, keyVecs, valueVecs, paddedDv;
  bool isSoftmax, featureProduct;
  // Sizes.
  Value lq, lk, shift, numTiles;
  Value mask8; // i8 copy of the mask, or null
};

Value FlashEmitter::featureMap(Value x) {
  return buildFeatureMap(b, loc, p.score.getFeatureMap(), x);
}

KeyBounds FlashEmitter::keyBounds(Value iA, Value iB) {
  KeyBounds bounds;
  Value last = sub(lk, idx(1));
  Value hi = last;
  if (p.causal)
    hi = minI(hi, add(iB, shift));
  if (p.hasWindow && p.windowRight)
    hi = minI(hi, add(add(iB, shift), idx(*p.windowRight)));
  Value lo = idx(0);
  if (p.hasWindow && p.windowLeft)
    lo = maxI(lo, sub(add(iA, shift), idx(*p.windowLeft)));
  bounds.lo = lo;
  bounds.hi = hi;
  if (p.hasWindow && p.sinks > 0) {
    Value sinkHi = minI(idx(p.sinks - 1), last);
    if (p.causal)
      sinkHi = minI(sinkHi, add(iB, shift));
    bounds.sinkHi = sinkHi;
  } else {
    bounds.sinkHi = idx(-1);
  }
  return bounds;
}

Value FlashEmitter::bandAllowed(Value i, Value jv) {
  auto splat = [&](Value index) -> Value {
    Value v = arith::IndexCastOp::create(b, loc, i32, index);
    return vector::BroadcastOp::create(b, loc, idxVecType, v);
  };
  auto cmp = [&](arith::CmpIPredicate pred, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  };
  Value allowed = cmp(arith::CmpIPredicate::slt, jv, splat(lk));
  Value shifted = add(i, shift);
  if (p.causal)
    allowed = andI(allowed, cmp(arith::CmpIPredicate::sle, jv, splat(shifted)));
  if (p.hasWindow) {
    Value inWindow;
    if (p.windowLeft)
      inWindow = cmp(arith::CmpIPredicate::sge, jv,
                     splat(sub(shifted, idx(*p.windowLeft))));
    if (p.windowRight) {
      Value right = cmp(arith::CmpIPredicate::sle, jv,
                        splat(add(shifted, idx(*p.windowRight))));
      inWindow = inWindow ? andI(inWindow, right) : right;
    }
    if (p.sinks > 0)
      inWindow =
          orI(inWindow, cmp(arith::CmpIPredicate::slt, jv, splat(idx(p.sinks))));
    allowed = andI(allowed, inWindow);
  }
  return allowed;
}

Value FlashEmitter::packKeys(Value batch, Value kvHead) {
  int64_t d = p.headDim, bk = cfg.blockK;
  auto type = RankedTensorType::get({ShapedType::kDynamic, d, bk}, f32);
  Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange{numTiles});
  AffineMap id = b.getMultiDimIdentityMap(3);
  Value key = p.key;
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{}, ValueRange{empty},
             ArrayRef<AffineMap>{id},
             SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPoint(nb.getInsertionBlock(),
                                   nb.getInsertionPoint());
               Value t = linalg::IndexOp::create(b, l, 0);
               Value dd = linalg::IndexOp::create(b, l, 1);
               Value c = linalg::IndexOp::create(b, l, 2);
               Value j = add(mul(t, idx(bk)), c);
               Value inside = cmpI(arith::CmpIPredicate::slt, j, lk);
               Value jc = minI(j, sub(lk, idx(1)));
               Value v = toF32(tensor::ExtractOp::create(
                   b, l, key, ValueRange{batch, kvHead, jc, dd}));
               if (featureProduct)
                 v = featureMap(v);
               linalg::YieldOp::create(b, l,
                                       ValueRange{select(inside, v, fconst(0))});
             })
      .getResult(0);
}

Value FlashEmitter::featureQueries(Value batch, Value kvHead) {
  int64_t d = p.headDim;
  auto type = RankedTensorType::get({group, ShapedType::kDynamic, d}, f32);
  Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange{lq});
  AffineMap id = b.getMultiDimIdentityMap(3);
  Value query = p.query;
  float scale = p.scale;
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{}, ValueRange{empty},
             ArrayRef<AffineMap>{id},
             SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPoint(nb.getInsertionBlock(),
                                   nb.getInsertionPoint());
               Value g = linalg::IndexOp::create(b, l, 0);
               Value i = linalg::IndexOp::create(b, l, 1);
               Value dd = linalg::IndexOp::create(b, l, 2);
               Value head = add(mul(kvHead, idx(group)), g);
               Value v = toF32(tensor::ExtractOp::create(
                   b, l, query, ValueRange{batch, head, i, dd}));
               v = arith::MulFOp::create(b, l, v, fconst(scale));
               linalg::YieldOp::create(b, l, ValueRange{featureMap(v)});
             })
      .getResult(0);
}

Value FlashEmitter::queryScalar(Value queries, Value batch,
                                const MicroRows &rows, int64_t r, Value d) {
  if (featureProduct)
    return tensor::ExtractOp::create(b, loc, queries,
                                     ValueRange{rows.group[r], rows.row[r], d});
  return toF32(tensor::ExtractOp::create(
      b, loc, queries, ValueRange{batch, rows.head[r], rows.row[r], d}));
}

SmallVector<Value> FlashEmitter::scoresPacked(Value batch,
                                              const MicroRows &rows,
                                              Value tile, Value packedKeys,
                                              Value queries) {
  int64_t mr = cfg.microQ, lanes = cfg.lanes;
  int64_t unroll = std::max<int64_t>(1, std::gcd(cfg.unrollD, p.headDim));
  SmallVector<Value> init(mr * keyVecs, vconst(0.0));
  auto dLoop = scf::ForOp::create(
      b, loc, idx(0), idx(p.headDim), idx(unroll), init,
      [&](OpBuilder &nb, Location l, Value d0, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> s(acc.begin(), acc.end());
        for (int64_t u = 0; u < unroll; ++u) {
          Value d = add(d0, idx(u));
          SmallVector<Value> kv(keyVecs);
          for (int64_t c = 0; c < keyVecs; ++c)
            kv[c] = vector::TransferReadOp::create(
                b, l, vecType, packedKeys,
                ValueRange{tile, d, idx(c * lanes)}, fconst(0),
                ArrayRef<bool>{true});
          for (int64_t r = 0; r < mr; ++r) {
            Value qb = vector::BroadcastOp::create(
                b, l, vecType, queryScalar(queries, batch, rows, r, d));
            for (int64_t c = 0; c < keyVecs; ++c)
              s[r * keyVecs + c] =
                  vector::FMAOp::create(b, l, qb, kv[c], s[r * keyVecs + c]);
          }
        }
        scf::YieldOp::create(b, l, s);
      });
  return SmallVector<Value>(dLoop.getResults());
}

SmallVector<Value> FlashEmitter::scoresUnpacked(Value batch, Value kvHead,
                                                const MicroRows &rows,
                                                Value kvStart, Value queries,
                                                Value partBuf) {
  // s[r][j] = sum over D of q[r] * k[j]: vectors along D, one key per loop
  // iteration (so that few values are live), partial sums of `lanes` keys
  // parked in a small stack buffer and folded into one vector per row by a
  // transposing reduction. K is read once, in its own layout.
  int64_t mr = cfg.microQ, lanes = cfg.lanes;
  int64_t dVecs = (p.headDim + lanes - 1) / lanes;
  bool dInBounds = p.headDim % lanes == 0;
  auto keyType = cast<RankedTensorType>(p.key.getType());
  VectorType rawKey = VectorType::get({lanes}, keyType.getElementType());
  auto queryType = cast<RankedTensorType>(queries.getType());
  VectorType rawQuery = VectorType::get({lanes}, queryType.getElementType());
  Value lastKey = sub(lk, idx(1));
  SmallVector<Value> s(mr * keyVecs);
  for (int64_t c = 0; c < keyVecs; ++c) {
    scf::ForOp::create(
        b, loc, idx(0), idx(lanes), idx(1), ValueRange{},
        [&](OpBuilder &nb, Location, Value kk, ValueRange) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value key =
              minI(add(add(kvStart, idx(c * lanes)), kk), lastKey);
          Value keyZero = arith::ConstantOp::create(
              b, loc, b.getZeroAttr(keyType.getElementType()));
          Value queryZero = arith::ConstantOp::create(
              b, loc, b.getZeroAttr(queryType.getElementType()));
          SmallVector<Value> kv(dVecs);
          for (int64_t dv = 0; dv < dVecs; ++dv) {
            kv[dv] = toF32(vector::TransferReadOp::create(
                b, loc, rawKey, p.key,
                ValueRange{batch, kvHead, key, idx(dv * lanes)}, keyZero,
                ArrayRef<bool>{dInBounds}));
            if (featureProduct)
              kv[dv] = featureMap(kv[dv]);
          }
          for (int64_t r = 0; r < mr; ++r) {
            Value acc;
            for (int64_t dv = 0; dv < dVecs; ++dv) {
              SmallVector<Value> at =
                  featureProduct
                      ? SmallVector<Value>{rows.group[r], rows.row[r],
                                           idx(dv * lanes)}
                      : SmallVector<Value>{batch, rows.head[r], rows.row[r],
                                           idx(dv * lanes)};
              Value q = toF32(vector::TransferReadOp::create(
                  b, loc, rawQuery, queries, at, queryZero,
                  ArrayRef<bool>{dInBounds}));
              acc = acc ? vector::FMAOp::create(b, loc, q, kv[dv], acc)
                              .getResult()
                        : arith::MulFOp::create(b, loc, q, kv[dv]).getResult();
            }
            vector::StoreOp::create(b, loc, acc, partBuf,
                                    ValueRange{idx(r), kk, idx(0)});
          }
          scf::YieldOp::create(b, loc);
        });
    for (int64_t r = 0; r < mr; ++r) {
      SmallVector<Value> partials;
      for (int64_t kk = 0; kk < lanes; ++kk)
        partials.push_back(vector::LoadOp::create(
            b, loc, vecType, partBuf, ValueRange{idx(r), idx(kk), idx(0)}));
      s[r * keyVecs + c] = transposeReduce(partials);
    }
  }
  return s;
}

Value FlashEmitter::transposeReduce(SmallVector<Value> vectors) {
  // vectors[k] holds `lanes` partial sums of key k. Pair vectors and fold
  // each key's partials in half, log2(lanes) times: lane k of the result is
  // the sum of vectors[k]. Keys stay in order (x's keys, then y's).
  int64_t lanes = cfg.lanes;
  int64_t partialsPerKey = lanes;
  while (vectors.size() > 1) {
    int64_t keysPerVector = lanes / partialsPerKey;
    int64_t half = partialsPerKey / 2;
    SmallVector<int64_t> first, second;
    for (int64_t lane = 0; lane < lanes; ++lane) {
      int64_t key = lane / half, part = lane % half;
      int64_t source = key < keysPerVector ? 0 : lanes;
      int64_t localKey = key % keysPerVector;
      first.push_back(source + localKey * partialsPerKey + part);
      second.push_back(source + localKey * partialsPerKey + half + part);
    }
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < vectors.size(); i += 2) {
      Value lo = vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1],
                                           first);
      Value hi = vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1],
                                           second);
      next.push_back(arith::AddFOp::create(b, loc, lo, hi));
    }
    vectors = std::move(next);
    partialsPerKey = half;
  }
  return vectors.front();
}

void FlashEmitter::emitMicroTile(Value batch, Value kvHead,
                                 const MicroRows &rows, Value rowBase,
                                 Value tile, Value packedKeys, Value queries,
                                 Value oAcc, Value mRow, Value lRow,
                                 Value pBuf, Value partBuf) {
  int64_t mr = cfg.microQ, lanes = cfg.lanes;
  Value kvStart = mul(tile, idx(cfg.blockK));
  Value kvValid = minI(idx(cfg.blockK), sub(lk, kvStart));
  const SmallVector<Value> &rowIndex = rows.row;

  // Whether every (row, key) of this micro-tile is allowed: then no masking.
  Value full;
  {
    Value tileEnd = add(kvStart, idx(cfg.blockK - 1));
    full = cmpI(arith::CmpIPredicate::slt, tileEnd, lk);
    if (p.mask) {
      full = arith::ConstantIntOp::create(b, loc, 0, 1);
    } else if (p.causal || p.hasWindow) {
      KeyBounds first = keyBounds(rows.iMin, rows.iMin);
      KeyBounds last = keyBounds(rows.iMax, rows.iMax);
      full = andI(full, cmpI(arith::CmpIPredicate::sge, kvStart, last.lo));
      full = andI(full, cmpI(arith::CmpIPredicate::sle, tileEnd, first.hi));
    }
  }

  SmallVector<Value> s =
      cfg.packKeys
          ? scoresPacked(batch, rows, tile, packedKeys, queries)
          : scoresUnpacked(batch, kvHead, rows, kvStart, queries, partBuf);

  // Scores: scale, bias, softcap; exp2 domain for softmax.
  bool scoreOps = !featureProduct && (p.bias || p.softcap);
  double firstScale = featureProduct ? 1.0
                      : (isSoftmax && !scoreOps) ? p.scale * kLog2E
                                                 : p.scale;
  if (firstScale != 1.0) {
    Value sc = vconst(firstScale);
    for (Value &v : s)
      v = arith::MulFOp::create(b, loc, v, sc);
  }
  if (p.bias) {
    auto biasType = cast<RankedTensorType>(p.bias.getType());
    Value bb = biasType.getDimSize(0) == 1 ? idx(0) : batch;
    auto biasHead = [&](int64_t r) {
      return biasType.getDimSize(1) == 1 ? idx(0) : rows.head[r];
    };
    VectorType rawType = VectorType::get({lanes}, biasType.getElementType());
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t c = 0; c < keyVecs; ++c) {
        Value zero = arith::ConstantOp::create(
            b, loc, b.getZeroAttr(biasType.getElementType()));
        Value bv = vector::TransferReadOp::create(
            b, loc, rawType, p.bias,
            ValueRange{bb, biasHead(r), rowIndex[r],
                       add(kvStart, idx(c * lanes))},
            zero, ArrayRef<bool>{false});
        s[r * keyVecs + c] =
            arith::AddFOp::create(b, loc, s[r * keyVecs + c], toF32(bv));
      }
  }
  if (p.softcap) {
    Value cap = vconst(*p.softcap), inv = vconst(1.0 / *p.softcap);
    for (Value &v : s)
      v = arith::MulFOp::create(
          b, loc, cap,
          math::TanhOp::create(b, loc, arith::MulFOp::create(b, loc, v, inv)));
  }
  if (isSoftmax && scoreOps) {
    Value l2e = vconst(kLog2E);
    for (Value &v : s)
      v = arith::MulFOp::create(b, loc, v, l2e);
  }

  // Weights before masking, for scores without a running max.
  if (!isSoftmax && !featureProduct) {
    for (Value &v : s) {
      if (p.score.isSoftplus()) {
        // softplus(x) = max(x, 0) + log1p(exp(-|x|))
        Value tail = math::Log1pOp::create(
            b, loc,
            math::ExpOp::create(
                b, loc,
                arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, v))));
        v = arith::AddFOp::create(
            b, loc, arith::MaximumFOp::create(b, loc, v, vconst(0.0)), tail);
      } else if (p.score.getFeatureMap() == FeatureMap::Taylor2) {
        v = buildTaylor2Weight(b, loc, v);
      }
    }
  }

  // Partial tiles: masked keys become -inf (softmax) or weight 0.
  double fill = isSoftmax ? -std::numeric_limits<double>::infinity() : 0.0;
  auto masked = scf::IfOp::create(
      b, loc, full,
      [&](OpBuilder &nb, Location l) { scf::YieldOp::create(nb, l, s); },
      [&](OpBuilder &nb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> out(s);
        Value iota = arith::ConstantOp::create(
            b, l,
            DenseElementsAttr::get(
                idxVecType,
                llvm::to_vector(llvm::map_range(
                    llvm::seq<int64_t>(0, lanes), [&](int64_t x) -> Attribute {
                      return b.getI32IntegerAttr(x);
                    }))));
        Value fillVec = vconst(fill);
        for (int64_t c = 0; c < keyVecs; ++c) {
          Value base = arith::IndexCastOp::create(
              b, l, i32, add(kvStart, idx(c * lanes)));
          Value jv = arith::AddIOp::create(
              b, l, vector::BroadcastOp::create(b, l, idxVecType, base), iota);
          for (int64_t r = 0; r < mr; ++r) {
            Value allowed = bandAllowed(rowIndex[r], jv);
            if (mask8) {
              auto maskType = cast<RankedTensorType>(mask8.getType());
              Value mb = maskType.getDimSize(0) == 1 ? idx(0) : batch;
              Value mh =
                  maskType.getDimSize(1) == 1 ? idx(0) : rows.head[r];
              Value raw = vector::TransferReadOp::create(
                  b, l, VectorType::get({lanes}, b.getI8Type()), mask8,
                  ValueRange{mb, mh, rowIndex[r], add(kvStart, idx(c * lanes))},
                  arith::ConstantIntOp::create(b, l, 0, 8),
                  ArrayRef<bool>{false});
              Value zero = arith::ConstantOp::create(
                  b, l,
                  DenseElementsAttr::get(
                      VectorType::get({lanes}, b.getI8Type()),
                      b.getI8IntegerAttr(0)));
              allowed = andI(allowed, arith::CmpIOp::create(
                                          b, l, arith::CmpIPredicate::ne, raw,
                                          zero));
            }
            out[r * keyVecs + c] =
                select(allowed, out[r * keyVecs + c], fillVec);
          }
        }
        scf::YieldOp::create(b, l, out);
      });
  s.assign(masked.getResults().begin(), masked.getResults().end());

  // Online softmax (or plain sums) per row; P to the stack buffer.
  SmallVector<Value> alpha(mr);
  if (isSoftmax) {
    SmallVector<Value> mOld(mr), mSafe(mr), rowMax(mr);
    Value negInf = fconst(-std::numeric_limits<double>::infinity());
    for (int64_t r = 0; r < mr; ++r) {
      // NaN scores propagate through p = exp2(s - m) whatever the max is,
      // so the max may ignore NaN (nnan gives plain vmaxps).
      auto fm = arith::FastMathFlags::nnan | arith::FastMathFlags::nsz;
      Value m = s[r * keyVecs];
      for (int64_t c = 1; c < keyVecs; ++c)
        m = arith::MaximumFOp::create(b, loc, m, s[r * keyVecs + c], fm);
      rowMax[r] = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::MAXIMUMF, m, fm);
      Value rowIdx = add(rowBase, idx(r));
      mOld[r] = memref::LoadOp::create(b, loc, mRow, ValueRange{rowIdx});
      Value mNew = arith::MaximumFOp::create(b, loc, mOld[r], rowMax[r]);
      Value isNegInf = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                             mNew, negInf);
      mSafe[r] = select(isNegInf, fconst(0.0), mNew);
      memref::StoreOp::create(b, loc, mNew, mRow, ValueRange{rowIdx});
    }
    // alpha = exp2(m_old - m_new) for all rows at once.
    int64_t width = 1;
    while (width < mr)
      width *= 2;
    VectorType rowVec = VectorType::get({width}, f32);
    SmallVector<Value> diffs;
    for (int64_t r = 0; r < width; ++r)
      diffs.push_back(r < mr ? arith::SubFOp::create(b, loc, mOld[r], mSafe[r])
                                   .getResult()
                             : fconst(0.0));
    Value alphas = math::Exp2Op::create(
        b, loc, vector::FromElementsOp::create(b, loc, rowVec, diffs));
    for (int64_t r = 0; r < mr; ++r) {
      alpha[r] = vector::ExtractOp::create(b, loc, alphas, ArrayRef<int64_t>{r});
      Value ms = vector::BroadcastOp::create(b, loc, vecType, mSafe[r]);
      for (int64_t c = 0; c < keyVecs; ++c)
        s[r * keyVecs + c] = math::Exp2Op::create(
            b, loc, arith::SubFOp::create(b, loc, s[r * keyVecs + c], ms));
    }
  }
  for (int64_t r = 0; r < mr; ++r) {
    Value sum = s[r * keyVecs];
    for (int64_t c = 1; c < keyVecs; ++c)
      sum = arith::AddFOp::create(b, loc, sum, s[r * keyVecs + c]);
    Value rowSum = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, sum,
        arith::FastMathFlags::reassoc);
    Value rowIdx = add(rowBase, idx(r));
    Value l = memref::LoadOp::create(b, loc, lRow, ValueRange{rowIdx});
    if (isSoftmax)
      l = arith::MulFOp::create(b, loc, l, alpha[r]);
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, l, rowSum),
                            lRow, ValueRange{rowIdx});
    for (int64_t c = 0; c < keyVecs; ++c)
      vector::StoreOp::create(b, loc, s[r * keyVecs + c], pBuf,
                              ValueRange{idx(r), idx(c * lanes)});
  }

  // O = O * alpha + P V, blockDv columns at a time.
  int64_t chunkVecs = std::max<int64_t>(1, cfg.blockDv / lanes);
  for (int64_t e0 = 0; e0 < valueVecs; e0 += chunkVecs) {
    int64_t nE = std::min(chunkVecs, valueVecs - e0);
    SmallVector<Value> o;
    for (int64_t r = 0; r < mr; ++r) {
      Value ab = isSoftmax ? vector::BroadcastOp::create(b, loc, vecType, alpha[r])
                                 .getResult()
                           : Value();
      for (int64_t e = 0; e < nE; ++e) {
        Value v = vector::LoadOp::create(
            b, loc, vecType, oAcc,
            ValueRange{add(rowBase, idx(r)), idx((e0 + e) * lanes)});
        o.push_back(ab ? arith::MulFOp::create(b, loc, v, ab).getResult() : v);
      }
    }
    auto valueType = cast<RankedTensorType>(p.value.getType());
    VectorType rawType = VectorType::get({lanes}, valueType.getElementType());
    bool valueInBounds = p.valueDim % lanes == 0;
    auto emitJLoop = [&](bool guardZeros) -> SmallVector<Value> {
      auto jLoop = scf::ForOp::create(
          b, loc, idx(0), kvValid, idx(1), o,
          [&](OpBuilder &nb, Location l, Value j, ValueRange acc) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            SmallVector<Value> next(acc.begin(), acc.end());
            Value key = add(kvStart, j);
            SmallVector<Value> vv(nE);
            Value zero = arith::ConstantOp::create(
                b, l, b.getZeroAttr(valueType.getElementType()));
            for (int64_t e = 0; e < nE; ++e)
              vv[e] = toF32(vector::TransferReadOp::create(
                  b, l, rawType, p.value,
                  ValueRange{batch, kvHead, key, idx((e0 + e) * lanes)}, zero,
                  ArrayRef<bool>{valueInBounds}));
            for (int64_t r = 0; r < mr; ++r) {
              Value pv = memref::LoadOp::create(b, l, pBuf,
                                                ValueRange{idx(r), j});
              Value pb = vector::BroadcastOp::create(b, l, vecType, pv);
              Value isZero;
              if (guardZeros)
                isZero = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OEQ, pv, fconst(0.0));
              for (int64_t e = 0; e < nE; ++e) {
                Value prev = next[r * nE + e];
                Value updated = vector::FMAOp::create(b, l, pb, vv[e], prev);
                // A key with weight 0 in a partial tile may be masked: its
                // value row (maybe NaN) must not reach this row.
                next[r * nE + e] =
                    guardZeros ? select(isZero, prev, updated) : updated;
              }
            }
            scf::YieldOp::create(b, l, next);
          });
      return SmallVector<Value>(jLoop.getResults());
    };
    auto pv = scf::IfOp::create(
        b, loc, full,
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
            b, loc, pv.getResult(r * nE + e), oAcc,
            ValueRange{add(rowBase, idx(r)), idx((e0 + e) * lanes)});
  }
}

Value FlashEmitter::build() {
  auto qType = cast<RankedTensorType>(p.query.getType());
  Type outElem = qType.getElementType();
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  shift = sub(lk, lq);
  numTiles = ceilDiv(lk, cfg.blockK);
  Value batches = dimOf(p.query, 0);
  Value numBlocks = ceilDiv(lq, cfg.blockQ);
  int64_t mr = cfg.microQ, lanes = cfg.lanes, splits = cfg.splits;
  bool banded = cfg.skipByBand && (p.causal || p.hasWindow);
  double negInf = -std::numeric_limits<double>::infinity();

  if (p.mask) {
    auto maskType = cast<RankedTensorType>(p.mask.getType());
    auto type = RankedTensorType::get(maskType.getShape(), b.getI8Type());
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < 4; ++d)
      if (maskType.isDynamicDim(d))
        dyn.push_back(dimOf(p.mask, d));
    Value empty = tensor::EmptyOp::create(b, loc, type, dyn);
    AffineMap id = b.getMultiDimIdentityMap(4);
    mask8 = linalg::GenericOp::create(
                b, loc, TypeRange{type}, ValueRange{p.mask}, ValueRange{empty},
                ArrayRef<AffineMap>{id, id},
                SmallVector<utils::IteratorType>(4,
                                                 utils::IteratorType::parallel),
                [&](OpBuilder &nb, Location l, ValueRange args) {
                  linalg::YieldOp::create(
                      nb, l,
                      ValueRange{arith::ExtUIOp::create(nb, l, nb.getI8Type(),
                                                        args[0])});
                })
                .getResult(0);
  }

  // Per-head partial results of split-KV tasks.
  auto partialTypes = [&]() -> SmallVector<RankedTensorType> {
    return {RankedTensorType::get(
                {splits, ShapedType::kDynamic, paddedRows, paddedDv}, f32),
            RankedTensorType::get({splits, ShapedType::kDynamic, paddedRows},
                                  f32),
            RankedTensorType::get({splits, ShapedType::kDynamic, paddedRows},
                                  f32)};
  };

  // Writes rows [g, i] of the result block `block` from per-row values:
  // out = rowValue(r, e) * rowScale(r).
  auto writeBlock = [&](Value batch, Value kvHead, Value outTensor,
                        Value block, scf::ForallOp forall,
                        function_ref<Value(Value r)> rowScale,
                        function_ref<Value(Value r, int64_t e)> rowVector) {
    Value q0 = mul(block, idx(cfg.blockQ));
    Value rowsValid = sub(minI(add(q0, idx(cfg.blockQ)), lq), q0);
    auto sliceType = RankedTensorType::get(
        {group, ShapedType::kDynamic, p.valueDim}, outElem);
    SmallVector<OpFoldResult> offsets = {batch, mul(kvHead, idx(group)), q0,
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                       b.getIndexAttr(group), rowsValid,
                                       b.getIndexAttr(p.valueDim)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, outTensor,
                                                 offsets, sizes, strides);
    VectorType outVec = VectorType::get({lanes}, outElem);
    bool outInBounds = p.valueDim % lanes == 0;
    auto gLoop = scf::ForOp::create(
        b, loc, idx(0), idx(group), idx(1), ValueRange{slice},
        [&](OpBuilder &gb, Location, Value g, ValueRange gAcc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(gb.getInsertionBlock(), gb.getInsertionPoint());
          auto iLoop = scf::ForOp::create(
              b, loc, idx(0), rowsValid, idx(1), gAcc,
              [&](OpBuilder &ib, Location, Value i, ValueRange iAcc) {
                OpBuilder::InsertionGuard guard2(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                Value r = add(mul(g, idx(cfg.blockQ)), i);
                Value scale =
                    vector::BroadcastOp::create(b, loc, vecType, rowScale(r));
                Value t = iAcc[0];
                for (int64_t e = 0; e < valueVecs; ++e) {
                  Value o =
                      arith::MulFOp::create(b, loc, rowVector(r, e), scale);
                  if (!outElem.isF32())
                    o = arith::TruncFOp::create(b, loc, outVec, o);
                  t = vector::TransferWriteOp::create(
                          b, loc, o, t, ValueRange{g, i, idx(e * lanes)},
                          ArrayRef<bool>{outInBounds})
                          .getResult();
                }
                scf::YieldOp::create(b, loc, t);
              });
          scf::YieldOp::create(b, loc, iLoop.getResults());
        });
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, loc, gLoop.getResult(0),
                                          outTensor, offsets, sizes, strides);
  };

  Value heads = idx(p.headsKV);
  auto headLoop = scf::ForOp::create(
      b, loc, idx(0), mul(batches, heads), idx(1), ValueRange{p.init},
      [&](OpBuilder &nb, Location, Value bh, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value batch = arith::DivUIOp::create(b, loc, bh, heads);
        Value kvHead = arith::RemUIOp::create(b, loc, bh, heads);
        Value packedKeys = cfg.packKeys ? packKeys(batch, kvHead) : Value();
        Value queries =
            featureProduct ? featureQueries(batch, kvHead) : p.query;

        SmallVector<Value> sharedOuts;
        if (splits == 1) {
          sharedOuts.push_back(acc[0]);
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
              b, loc, memType({paddedRows, paddedDv}), b.getI64IntegerAttr(64));
          Value mRow = memref::AllocaOp::create(b, loc, memType({paddedRows}));
          Value lRow = memref::AllocaOp::create(b, loc, memType({paddedRows}));
          Value pBuf = memref::AllocaOp::create(
              b, loc, memType({mr, cfg.blockK}), b.getI64IntegerAttr(64));
          Value partBuf =
              cfg.packKeys ? Value()
                           : memref::AllocaOp::create(
                                 b, loc, memType({mr, lanes, lanes}),
                                 b.getI64IntegerAttr(64))
                                 .getResult();
          scf::ForOp::create(
              b, loc, idx(0), idx(paddedRows), idx(1), ValueRange{},
              [&](OpBuilder &ib, Location, Value r, ValueRange) {
                OpBuilder::InsertionGuard guard3(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                memref::StoreOp::create(b, loc,
                                        fconst(isSoftmax ? negInf : 0.0), mRow,
                                        ValueRange{r});
                memref::StoreOp::create(b, loc, fconst(0.0), lRow,
                                        ValueRange{r});
                for (int64_t e = 0; e < valueVecs; ++e)
                  vector::StoreOp::create(b, loc, vconst(0.0), oAcc,
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
                Value kvStart = mul(tile, idx(cfg.blockK));
                Value kvEnd = add(kvStart, idx(cfg.blockK - 1));
                scf::ForOp::create(
                    b, loc, idx(0), idx(microTiles), idx(1), ValueRange{},
                    [&](OpBuilder &mb, Location, Value mt, ValueRange) {
                      OpBuilder::InsertionGuard guard4(b);
                      b.setInsertionPoint(mb.getInsertionBlock(),
                                          mb.getInsertionPoint());
                      Value rowBase = mul(mt, idx(mr));
                      // Rows r of the block: head g = r / block_q, query
                      // q0 + r % block_q; rows past the block or past Lq are
                      // computed on a clamped row and never written.
                      MicroRows micro;
                      for (int64_t r = 0; r < mr; ++r) {
                        Value row = add(rowBase, idx(r));
                        Value g = minI(arith::DivUIOp::create(
                                           b, loc, row, idx(cfg.blockQ)),
                                       idx(group - 1));
                        Value i = add(q0, arith::RemUIOp::create(
                                              b, loc, row, idx(cfg.blockQ)));
                        micro.group.push_back(g);
                        micro.head.push_back(add(mul(kvHead, idx(group)), g));
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
                          minI(add(add(q0, firstOffset), idx(mr - 1)), qLast));
                      Value visit = andI(
                          cmpI(arith::CmpIPredicate::slt, rowBase, idx(rows)),
                          orI(wraps, cmpI(arith::CmpIPredicate::slt,
                                          firstOffset, rowsValid)));
                      if (banded) {
                        KeyBounds bounds = keyBounds(micro.iMin, micro.iMax);
                        KeyBounds firstRow = keyBounds(micro.iMin, micro.iMin);
                        Value band = andI(
                            cmpI(arith::CmpIPredicate::sle, firstRow.lo, kvEnd),
                            cmpI(arith::CmpIPredicate::sle, kvStart,
                                 bounds.hi));
                        band = andI(band, cmpI(arith::CmpIPredicate::sle,
                                               firstRow.lo, bounds.hi));
                        Value sink = cmpI(arith::CmpIPredicate::sle, kvStart,
                                          bounds.sinkHi);
                        visit = andI(visit, orI(band, sink));
                      }
                      scf::IfOp::create(
                          b, loc, visit, [&](OpBuilder &xb, Location) {
                            OpBuilder::InsertionGuard guard5(b);
                            b.setInsertionPoint(xb.getInsertionBlock(),
                                                xb.getInsertionPoint());
                            emitMicroTile(batch, kvHead, micro, rowBase, tile,
                                          packedKeys, queries, oAcc, mRow,
                                          lRow, pBuf, partBuf);
                            scf::YieldOp::create(b, loc);
                          });
                      scf::YieldOp::create(b, loc);
                    });
                scf::YieldOp::create(b, loc);
              });

          if (splits == 1) {
            bool normalize = p.score.getNormalize();
            writeBlock(
                batch, kvHead, forall.getRegionIterArgs()[0], block, forall,
                [&](Value r) -> Value {
                  if (!normalize)
                    return fconst(1.0);
                  Value l = memref::LoadOp::create(b, loc, lRow, ValueRange{r});
                  Value empty = arith::CmpFOp::create(
                      b, loc, arith::CmpFPredicate::OEQ, l, fconst(0.0));
                  return select(empty, fconst(0.0),
                                arith::DivFOp::create(b, loc, fconst(1.0), l));
                },
                [&](Value r, int64_t e) -> Value {
                  return vector::LoadOp::create(b, loc, vecType, oAcc,
                                                ValueRange{r, idx(e * lanes)});
                });
          } else {
            // Partial (O, m, l) of this split, unnormalized.
            ValueRange outs = forall.getRegionIterArgs();
            SmallVector<OpFoldResult> oOff = {split, block, b.getIndexAttr(0),
                                              b.getIndexAttr(0)};
            SmallVector<OpFoldResult> oSize = {
                b.getIndexAttr(1), b.getIndexAttr(1),
                b.getIndexAttr(paddedRows), b.getIndexAttr(paddedDv)};
            SmallVector<OpFoldResult> rOff = {split, block, b.getIndexAttr(0)};
            SmallVector<OpFoldResult> rSize = {b.getIndexAttr(1),
                                               b.getIndexAttr(1),
                                               b.getIndexAttr(paddedRows)};
            auto oType = RankedTensorType::get({paddedRows, paddedDv}, f32);
            auto rType = RankedTensorType::get({paddedRows}, f32);
            SmallVector<OpFoldResult> one4(4, b.getIndexAttr(1)),
                one3(3, b.getIndexAttr(1));
            Value oSlice = tensor::ExtractSliceOp::create(
                b, loc, oType, outs[0], oOff, oSize, one4);
            Value mSlice = tensor::ExtractSliceOp::create(b, loc, rType,
                                                          outs[1], rOff, rSize,
                                                          one3);
            Value lSlice = tensor::ExtractSliceOp::create(b, loc, rType,
                                                          outs[2], rOff, rSize,
                                                          one3);
            auto rLoop = scf::ForOp::create(
                b, loc, idx(0), idx(paddedRows), idx(1),
                ValueRange{oSlice, mSlice, lSlice},
                [&](OpBuilder &rb, Location, Value r, ValueRange t) {
                  OpBuilder::InsertionGuard guard3(b);
                  b.setInsertionPoint(rb.getInsertionBlock(),
                                      rb.getInsertionPoint());
                  Value o = t[0];
                  for (int64_t e = 0; e < valueVecs; ++e)
                    o = vector::TransferWriteOp::create(
                            b, loc,
                            vector::LoadOp::create(b, loc, vecType, oAcc,
                                                   ValueRange{r, idx(e * lanes)}),
                            o, ValueRange{r, idx(e * lanes)},
                            ArrayRef<bool>{true})
                            .getResult();
                  Value m = tensor::InsertOp::create(
                      b, loc,
                      memref::LoadOp::create(b, loc, mRow, ValueRange{r}),
                      t[1], ValueRange{r});
                  Value l = tensor::InsertOp::create(
                      b, loc,
                      memref::LoadOp::create(b, loc, lRow, ValueRange{r}),
                      t[2], ValueRange{r});
                  scf::YieldOp::create(b, loc, ValueRange{o, m, l});
                });
            OpBuilder::InsertionGuard guard3(b);
            b.setInsertionPointToStart(forall.getTerminator().getBody());
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(0),
                                                  outs[0], oOff, oSize, one4);
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(1),
                                                  outs[1], rOff, rSize, one3);
            tensor::ParallelInsertSliceOp::create(b, loc, rLoop.getResult(2),
                                                  outs[2], rOff, rSize, one3);
          }
        }
        if (splits == 1) {
          scf::YieldOp::create(b, loc, forall.getResults());
          return;
        }

        // Merge the splits: m = max m_s, w_s = 2^(m_s - m),
        // out = sum w_s O_s / sum w_s l_s.
        Value oPart = forall.getResult(0), mPart = forall.getResult(1),
              lPart = forall.getResult(2);
        auto merge = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{numBlocks}, ValueRange{acc[0]},
            std::nullopt);
        {
          OpBuilder::InsertionGuard guard2(b);
          b.setInsertionPoint(merge.getTerminator());
          Value block = merge.getInductionVar(0);
          Value oRow = memref::AllocaOp::create(
              b, loc, MemRefType::get({paddedDv}, f32), b.getI64IntegerAttr(64));
          Value scaleRow =
              memref::AllocaOp::create(b, loc, MemRefType::get({1}, f32));
          bool normalize = p.score.getNormalize();
          writeBlock(
              batch, kvHead, merge.getRegionIterArgs()[0], block, merge,
              [&](Value r) -> Value {
                // Computes the merged row into oRow; returns 1 / l.
                Value mMax = fconst(isSoftmax ? negInf : 0.0);
                if (isSoftmax)
                  for (int64_t sp = 0; sp < splits; ++sp)
                    mMax = arith::MaximumFOp::create(
                        b, loc, mMax,
                        tensor::ExtractOp::create(
                            b, loc, mPart, ValueRange{idx(sp), block, r}));
                Value mSafe = select(
                    arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mMax, fconst(negInf)),
                    fconst(0.0), mMax);
                Value l = fconst(0.0);
                SmallVector<Value> o(valueVecs, vconst(0.0));
                for (int64_t sp = 0; sp < splits; ++sp) {
                  Value w = fconst(1.0);
                  if (isSoftmax)
                    w = math::Exp2Op::create(
                        b, loc,
                        arith::SubFOp::create(
                            b, loc,
                            tensor::ExtractOp::create(
                                b, loc, mPart, ValueRange{idx(sp), block, r}),
                            mSafe));
                  Value ls = tensor::ExtractOp::create(
                      b, loc, lPart, ValueRange{idx(sp), block, r});
                  l = arith::AddFOp::create(
                      b, loc, l, arith::MulFOp::create(b, loc, w, ls));
                  Value wv = vector::BroadcastOp::create(b, loc, vecType, w);
                  for (int64_t e = 0; e < valueVecs; ++e) {
                    Value os = vector::TransferReadOp::create(
                        b, loc, vecType, oPart,
                        ValueRange{idx(sp), block, r, idx(e * lanes)},
                        fconst(0.0), ArrayRef<bool>{true});
                    o[e] = vector::FMAOp::create(b, loc, wv, os, o[e]);
                  }
                }
                for (int64_t e = 0; e < valueVecs; ++e)
                  vector::StoreOp::create(b, loc, o[e], oRow,
                                          ValueRange{idx(e * lanes)});
                if (!normalize)
                  return fconst(1.0);
                Value empty = arith::CmpFOp::create(
                    b, loc, arith::CmpFPredicate::OEQ, l, fconst(0.0));
                Value inv = select(empty, fconst(0.0),
                                   arith::DivFOp::create(b, loc, fconst(1.0), l));
                memref::StoreOp::create(b, loc, inv, scaleRow,
                                        ValueRange{idx(0)});
                return inv;
              },
              [&](Value, int64_t e) -> Value {
                return vector::LoadOp::create(b, loc, vecType, oRow,
                                              ValueRange{idx(e * lanes)});
              });
        }
        scf::YieldOp::create(b, loc, merge.getResults());
      });
  return headLoop.getResult(0);
}

} // namespace

Value mlir::attn::buildFlashAttention(RewriterBase &rewriter,
                                      const AttentionProblem &problem,
                                      const FlashKernelConfig &config) {
  rewriter.setInsertionPoint(problem.op);
  FlashEmitter emitter(rewriter, problem, config);
  return emitter.build();
}
