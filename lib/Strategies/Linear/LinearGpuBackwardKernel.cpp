//===- LinearGpuBackwardKernel.cpp - Linear attention's backward on a GPU -===//
//
// attn.attention_backward with a kernel score as GPU kernels, in
// O((Lq + Lk) F Dv) per (batch, query head) like the forward
// (LinearGpuKernel.cpp; LinearGpuEmitter.h holds their shared pieces). With
// dO' = dO / Z and D' = dO' . O (AttentionAlgebra::divideByNormalizer;
// dO' = dO and D' = 0 unnormalized), the gradient of a weight is
// g_ij = dO'_i . v_j - D'_i, and x_i = scale q_i. Three launches:
//   1. dQ, a block per (batch, query head), queries in order. The state
//      S = sum phi(k) v^T, z = sum phi(k) grows exactly as in the forward
//      (causal: each query weighs its `chunk` most recent keys directly).
//      Per query: Z = phi(x) . z plus the direct weights; dO' and D' (kept
//      for launch 2); dphi(x) = S dO' - D' z, plus g_ij phi(k_j) for the
//      direct keys of a feature product; dx through the feature map, plus
//      g_ij w'(s_ij) k_j for the direct keys of a score-forming kernel
//      (taylor2, identity); dQ = scale dx.
//   2. dK and dV of each query head, a block per (batch, query head), keys
//      from the last. B = sum phi(x_i) dO'_i^T and b = sum phi(x_i) D'_i
//      over the rows whose state holds key j (causal: rows i >= j + chunk
//      + Lq - Lk; every row otherwise) give dV_j = B^T phi(k_j) and
//      dphi(k_j) = B v_j - b; the rows that weigh key j directly add
//      w_ij dO'_i and their g_ij terms as in launch 1. dK through the
//      feature map. Into f32 partials [B, Hq, Lk, D] and [B, Hq, Lk, Dv].
//   3. dK and dV: the partials summed over each GQA group, in head order.
// Thread e < Dv owns column e of S and B, thread Dv their last column (z,
// b). Sums over features and over head dimensions are strided over the
// threads, each thread writing only its own entries; the scalars of a pair
// (w, g) and of a row (Z, D') are formed by every thread alike. No thread
// writes what another writes, so two runs give the same bits. Everything
// accumulates in f32.
//
//===----------------------------------------------------------------------===//

#include "LinearGpuEmitter.h"

#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"

#include <cmath>
#include <tuple>

using namespace mlir;
using namespace mlir::attn;

namespace {

class LinearGpuBackwardEmitter : LinearGpuEmitter {
public:
  LinearGpuBackwardEmitter(RewriterBase &rewriter,
                           const AttentionProblem &problem, int64_t chunk)
      : LinearGpuEmitter(rewriter, problem, chunk),
        function(*problem.score.getFunction()),
        normalize(problem.score.getNormalize()),
        featureProduct(function.isFeatureProduct()) {}

  SmallVector<Value> build();

private:
  void emitQueryKernel();
  void emitKeyKernel();
  void emitGroupSumKernel();

  /// A gpu.launch of a block per (batch, query head) with the shared
  /// buffers raw [D], feat [F], grad [Dv], dfeat [F] and dx [D].
  void launchPerHead(function_ref<void()> body);
  /// scf.for over [lo, hi) carrying one f32 value: `step(i, acc)` returns
  /// the next.
  Value sumOver(Value lo, Value hi, Value init,
                function_ref<Value(Value, Value)> step);
  /// The sum over d < n of f(d).
  Value sumTo(int64_t n, function_ref<Value(Value)> f) {
    return sumOver(idx(0), idx(n), fconst(0.0),
                   [&](Value d, Value acc) { return fadd(acc, f(d)); });
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  void ifThen(Value condition, function_ref<void()> body);
  /// `state`[bh, f, e] += feat[f] value for every feature f, where `value`
  /// is this thread's column's (thread e owns column e).
  void addToState(Value value);
  /// dO'_ie (f32) of row `row` of the block's head for a row normalizer z.
  Value gradOutputOver(Value row, Value e, Value z) {
    Value x = toF32(load(gradOutBuf, {batch, head, row, e}));
    return normalize ? AttentionAlgebra(b, loc, p).divideByNormalizer(x, z) : x;
  }
  /// The weight of a pair and, for a score-forming kernel, d w / d s, from
  /// the features of one side in `feat` (feature product: dot over them) or
  /// its raw row in `raw` (score-forming: s = x . k), with the other side's
  /// element d given by `other(d)`.
  std::pair<Value, Value> pairWeight(function_ref<Value(Value)> other);
  /// Adds a pair's weight gradient g to the staged side's gradient, for
  /// the thread's entries: g phi(y) to dfeat (feature product), else
  /// g w'(s) y to dx, with the other side's element d given by `other(d)`.
  void addPairGradient(Value g, Value derivative,
                       function_ref<Value(Value)> other);
  /// Through the feature map: dx_d of the row staged in `raw` from
  /// dphi in `dfeat`, plus `dx`, into `emit(d, value)` for the thread's d.
  void chainToRow(function_ref<void(Value, Value)> emit);

  const ScoreFunction &function;
  bool normalize, featureProduct;
  Value batches, lq, lk;
  Value qBuf, kBuf, vBuf, oBuf, gradOutBuf;
  Value dq, dk, dv, partialK, partialV, state, rowNorms, rowDots;
  // Set while a kernel body is built.
  Value bh, batch, head, kvHead, raw, feat, grad, dfeat, dx;
};

} // namespace

void LinearGpuBackwardEmitter::launchPerHead(function_ref<void()> body) {
  Attribute workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto shared = [&](int64_t n) {
    return MemRefType::get({n}, f32, AffineMap(), workgroup);
  };
  SmallVector<Type> buffers = {shared(p.headDim), shared(features),
                               shared(p.valueDim), shared(features),
                               shared(p.headDim)};
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      b, loc, mul(batches, idx(p.headsQ)), one, one, idx(threads), one, one,
      Value(), Type(), ValueRange{}, buffers, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  ValueRange attributions = launch.getWorkgroupAttributions();
  raw = attributions[0];
  feat = attributions[1];
  grad = attributions[2];
  dfeat = attributions[3];
  dx = attributions[4];
  tid = launch.getThreadIds().x;
  bh = launch.getBlockIds().x;
  batch = arith::DivUIOp::create(b, loc, bh, idx(p.headsQ));
  head = arith::RemUIOp::create(b, loc, bh, idx(p.headsQ));
  kvHead = arith::DivUIOp::create(b, loc, head, idx(p.groupSize()));
  forLoop(idx(0), idx(features), one, [&](Value f) {
    store(fconst(0.0), state, {bh, f, tid});
  });
  body();
  gpu::TerminatorOp::create(b, loc);
}

Value LinearGpuBackwardEmitter::sumOver(
    Value lo, Value hi, Value init, function_ref<Value(Value, Value)> step) {
  auto loop = scf::ForOp::create(
      b, loc, lo, hi, idx(1), ValueRange{init},
      [&](OpBuilder &nested, Location, Value i, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        scf::YieldOp::create(b, loc, ValueRange{step(i, acc[0])});
      });
  return loop.getResult(0);
}

void LinearGpuBackwardEmitter::ifThen(Value condition,
                                      function_ref<void()> body) {
  scf::IfOp::create(b, loc, condition, [&](OpBuilder &nested, Location) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
    body();
    scf::YieldOp::create(b, loc);
  });
}

void LinearGpuBackwardEmitter::addToState(Value value) {
  forLoop(idx(0), idx(features), idx(1), [&](Value f) {
    store(fadd(load(state, {bh, f, tid}), fmul(load(feat, {f}), value)), state,
          {bh, f, tid});
  });
}

std::pair<Value, Value>
LinearGpuBackwardEmitter::pairWeight(function_ref<Value(Value)> other) {
  if (featureProduct) {
    // phi(x) . phi(k): the staged side's features times phi of the other.
    Value dot = sumTo(p.headDim, [&](Value d) {
      return fmul(load(feat, {d}), function.featureMap(b, loc, other(d)));
    });
    return {function.weight(b, loc, dot, Value()), Value()};
  }
  Value s =
      sumTo(p.headDim, [&](Value d) { return fmul(load(raw, {d}), other(d)); });
  return {function.weight(b, loc, s, Value()),
          function.weightDerivative(b, loc, s, Value())};
}

void LinearGpuBackwardEmitter::addPairGradient(
    Value g, Value derivative, function_ref<Value(Value)> other) {
  if (featureProduct) {
    forLoop(tid, idx(features), idx(threads), [&](Value f) {
      store(fadd(load(dfeat, {f}),
                 fmul(g, function.featureMap(b, loc, other(f)))),
            dfeat, {f});
    });
    return;
  }
  Value gw = fmul(g, derivative);
  forLoop(tid, idx(p.headDim), idx(threads), [&](Value d) {
    store(fadd(load(dx, {d}), fmul(gw, other(d))), dx, {d});
  });
}

void LinearGpuBackwardEmitter::chainToRow(
    function_ref<void(Value, Value)> emit) {
  int64_t d = p.headDim;
  bool taylor2 =
      function.getLinearForm() == ScoreFunction::LinearForm::SecondOrderTaylor;
  forLoop(tid, idx(d), idx(threads), [&](Value a) {
    Value value;
    if (taylor2) {
      // phi = [1, x, x_a x_b / sqrt(2)] (feature 1 + D + a D + b).
      Value pairs = sumTo(d, [&](Value c) {
        Value ac = add(idx(1 + d), add(mul(a, idx(d)), c));
        Value ca = add(idx(1 + d), add(mul(c, idx(d)), a));
        return fmul(fadd(load(dfeat, {ac}), load(dfeat, {ca})), load(raw, {c}));
      });
      value = fadd(load(dfeat, {add(a, idx(1))}),
                   fmul(pairs, fconst(1.0 / std::sqrt(2.0))));
    } else {
      value = load(dfeat, {a});
      if (featureProduct)
        value =
            fmul(value, function.featureMapDerivative(b, loc, load(raw, {a})));
    }
    emit(a, fadd(value, load(dx, {a})));
  });
}

void LinearGpuBackwardEmitter::emitQueryKernel() {
  int64_t dvDim = p.valueDim;
  launchPerHead([&] {
    // Adds keys [lo, hi) to the state, as the forward does.
    auto absorbKeys = [&](Value lo, Value hi) {
      forLoop(lo, hi, idx(1), [&](Value j) {
        stageWithFeatures(kBuf, batch, kvHead, j, 1.0, raw, feat);
        Value e = minI(tid, idx(dvDim - 1));
        addToState(select(cmpI(arith::CmpIPredicate::slt, tid, idx(dvDim)),
                          toF32(load(vBuf, {batch, kvHead, j, e})),
                          fconst(1.0)));
      });
    };
    if (!p.causal)
      absorbKeys(idx(0), lk);
    scf::ForOp::create(
        b, loc, idx(0), lq, idx(1), ValueRange{idx(0)},
        [&](OpBuilder &nested, Location, Value i, ValueRange next) {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          Value absorbed = next[0];
          // Keys [stateEnd, end) are weighed directly (causal only).
          Value end = idx(0), stateEnd = idx(0);
          if (p.causal) {
            std::tie(stateEnd, end) = directKeys(i, lq, lk);
            absorbKeys(absorbed, stateEnd);
            absorbed = maxI(absorbed, stateEnd);
          }
          stageWithFeatures(qBuf, batch, head, i, p.scale, raw, feat);
          auto keyElement = [&](Value j) {
            return [&, j](Value d) {
              return toF32(load(kBuf, {batch, kvHead, j, d}));
            };
          };
          // Z = phi(x) . z + the direct weights (every thread alike).
          Value z;
          if (normalize) {
            z = sumTo(features, [&](Value f) {
              return fmul(load(feat, {f}), load(state, {bh, f, idx(dvDim)}));
            });
            z = sumOver(stateEnd, end, z, [&](Value j, Value acc) {
              return fadd(acc, pairWeight(keyElement(j)).first);
            });
          }
          // dO' (staged) and D' = dO' . O.
          forLoop(tid, idx(dvDim), idx(threads),
                  [&](Value e) { store(gradOutputOver(i, e, z), grad, {e}); });
          Value rowDot = fconst(0.0);
          if (normalize)
            rowDot = AttentionAlgebra(b, loc, p).divideByNormalizer(
                sumTo(dvDim,
                      [&](Value e) {
                        return fmul(
                            toF32(load(gradOutBuf, {batch, head, i, e})),
                            toF32(load(oBuf, {batch, head, i, e})));
                      }),
                z);
          ifThen(cmpI(arith::CmpIPredicate::eq, tid, idx(0)), [&] {
            store(normalize ? z : fconst(1.0), rowNorms, {bh, i});
            store(rowDot, rowDots, {bh, i});
          });
          barrier();
          // dphi(x) = S dO' - D' z for the thread's features; dx = 0.
          forLoop(tid, idx(features), idx(threads), [&](Value f) {
            Value v = sumTo(dvDim, [&](Value e) {
              return fmul(load(state, {bh, f, e}), load(grad, {e}));
            });
            if (normalize)
              v = fsub(v, fmul(rowDot, load(state, {bh, f, idx(dvDim)})));
            store(v, dfeat, {f});
          });
          forLoop(tid, idx(p.headDim), idx(threads),
                  [&](Value d) { store(fconst(0.0), dx, {d}); });
          // The direct keys' g_ij terms, each thread on its own entries.
          forLoop(stateEnd, end, idx(1), [&](Value j) {
            Value derivative = pairWeight(keyElement(j)).second;
            Value g = fsub(
                sumTo(dvDim,
                      [&](Value e) {
                        return fmul(load(grad, {e}),
                                    toF32(load(vBuf, {batch, kvHead, j, e})));
                      }),
                rowDot);
            addPairGradient(g, derivative, keyElement(j));
          });
          barrier();
          Type element = cast<MemRefType>(dq.getType()).getElementType();
          chainToRow([&](Value d, Value value) {
            Value dqd = fmul(value, fconst(p.scale));
            if (element != f32)
              dqd = arith::TruncFOp::create(b, loc, element, dqd);
            store(dqd, dq, {batch, head, i, d});
          });
          barrier();
          scf::YieldOp::create(b, loc, ValueRange{absorbed});
        });
  });
}

void LinearGpuBackwardEmitter::emitKeyKernel() {
  int64_t dvDim = p.valueDim;
  launchPerHead([&] {
    // Adds rows [lo, hi) to B (columns dO'_i) and b (D'_i).
    auto absorbRows = [&](Value lo, Value hi) {
      forLoop(lo, hi, idx(1), [&](Value i) {
        stageWithFeatures(qBuf, batch, head, i, p.scale, raw, feat);
        Value e = minI(tid, idx(dvDim - 1));
        addToState(select(cmpI(arith::CmpIPredicate::slt, tid, idx(dvDim)),
                          gradOutputOver(i, e, load(rowNorms, {bh, i})),
                          load(rowDots, {bh, i})));
      });
    };
    if (!p.causal)
      absorbRows(idx(0), lq);
    scf::ForOp::create(
        b, loc, idx(0), lk, idx(1), ValueRange{lq},
        [&](OpBuilder &nested, Location, Value t, ValueRange carried) {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          Value j = sub(sub(lk, idx(1)), t);
          Value absorbedFrom = carried[0];
          // Causal: row i holds key j in its state when j < end_i - chunk,
          // end_i = i + Lk - Lq + 1 (launch 1's rule), and sees it when
          // i >= j + Lq - Lk; rows between weigh it directly.
          Value directLo = idx(0), directHi = idx(0);
          if (p.causal) {
            Value shifted = sub(add(j, lq), lk);
            Value first = minI(maxI(add(shifted, idx(chunk)), idx(0)), lq);
            absorbRows(first, absorbedFrom);
            absorbedFrom = minI(absorbedFrom, first);
            directLo = maxI(shifted, idx(0));
            directHi = maxI(directLo, first);
          }
          stageWithFeatures(kBuf, batch, kvHead, j, 1.0, raw, feat);
          Value e = minI(tid, idx(dvDim - 1));
          // dV_je = phi(k_j) . B[:, e] + the direct rows' w_ij dO'_ie.
          Value dvje = sumTo(features, [&](Value f) {
            return fmul(load(feat, {f}), load(state, {bh, f, e}));
          });
          // dphi(k_j) = B v_j - b for the thread's features; dx = 0.
          forLoop(tid, idx(features), idx(threads), [&](Value f) {
            Value v = sumTo(dvDim, [&](Value c) {
              return fmul(load(state, {bh, f, c}),
                          toF32(load(vBuf, {batch, kvHead, j, c})));
            });
            if (normalize)
              v = fsub(v, load(state, {bh, f, idx(dvDim)}));
            store(v, dfeat, {f});
          });
          forLoop(tid, idx(p.headDim), idx(threads),
                  [&](Value d) { store(fconst(0.0), dx, {d}); });
          dvje = sumOver(directLo, directHi, dvje, [&](Value i, Value acc) {
            Value z = load(rowNorms, {bh, i});
            auto x = [&, i](Value d) {
              return fmul(toF32(load(qBuf, {batch, head, i, d})),
                          fconst(p.scale));
            };
            auto [w, derivative] = pairWeight(x);
            Value g = fsub(
                sumTo(dvDim,
                      [&](Value c) {
                        return fmul(gradOutputOver(i, c, z),
                                    toF32(load(vBuf, {batch, kvHead, j, c})));
                      }),
                load(rowDots, {bh, i}));
            addPairGradient(g, derivative, x);
            return fadd(acc, fmul(w, gradOutputOver(i, e, z)));
          });
          ifThen(cmpI(arith::CmpIPredicate::slt, tid, idx(dvDim)), [&] {
            store(dvje, partialV, {batch, head, j, tid});
          });
          barrier();
          chainToRow([&](Value d, Value value) {
            store(value, partialK, {batch, head, j, d});
          });
          barrier();
          scf::YieldOp::create(b, loc, ValueRange{absorbedFrom});
        });
  });
}

void LinearGpuBackwardEmitter::emitGroupSumKernel() {
  constexpr int64_t sumThreads = 128;
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      b, loc, mul(batches, idx(p.headsKV)), one, one, idx(sumThreads), one, one,
      Value(), Type(), ValueRange{}, TypeRange{}, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value block = launch.getBlockIds().x, t = launch.getThreadIds().x;
  Value bb = arith::DivUIOp::create(b, loc, block, idx(p.headsKV));
  Value hk = arith::RemUIOp::create(b, loc, block, idx(p.headsKV));
  for (int side = 0; side < 2; ++side) {
    Value partial = side == 0 ? partialK : partialV;
    Value into = side == 0 ? dk : dv;
    int64_t n = side == 0 ? p.headDim : p.valueDim;
    Type element = cast<MemRefType>(into.getType()).getElementType();
    forLoop(t, mul(lk, idx(n)), idx(sumThreads), [&](Value flat) {
      Value j = arith::DivUIOp::create(b, loc, flat, idx(n));
      Value d = arith::RemUIOp::create(b, loc, flat, idx(n));
      Value sum = sumOver(idx(0), idx(p.groupSize()), fconst(0.0),
                          [&](Value g, Value acc) {
                            Value h = add(mul(hk, idx(p.groupSize())), g);
                            return fadd(acc, load(partial, {bb, h, j, d}));
                          });
      if (element != f32)
        sum = arith::TruncFOp::create(b, loc, element, sum);
      store(sum, into, {bb, hk, j, d});
    });
  }
  gpu::TerminatorOp::create(b, loc);
}

SmallVector<Value> LinearGpuBackwardEmitter::build() {
  batches = dimOf(p.query, 0);
  lq = dimOf(p.query, 2);
  lk = dimOf(p.key, 2);
  KernelBuffers buffers(b, loc);
  qBuf = buffers.input(p.query);
  kBuf = buffers.input(p.key);
  vBuf = buffers.input(p.value);
  oBuf = buffers.input(p.init);
  gradOutBuf = buffers.input(p.gradOutput);
  dq = buffers.allocLike(p.gradInits[0]);
  dk = buffers.allocLike(p.gradInits[1]);
  dv = buffers.allocLike(p.gradInits[2]);
  Value blocks = mul(batches, idx(p.headsQ));
  int64_t dyn = ShapedType::kDynamic;
  state = buffers.allocF32({dyn, features, threads}, {blocks});
  rowNorms = buffers.allocF32({dyn, dyn}, {blocks, lq});
  rowDots = buffers.allocF32({dyn, dyn}, {blocks, lq});
  partialK = buffers.allocF32({dyn, p.headsQ, dyn, p.headDim}, {batches, lk});
  partialV = buffers.allocF32({dyn, p.headsQ, dyn, p.valueDim}, {batches, lk});
  emitQueryKernel();
  emitKeyKernel();
  emitGroupSumKernel();
  return {buffers.result(dq, p.gradInits[0]),
          buffers.result(dk, p.gradInits[1]),
          buffers.result(dv, p.gradInits[2])};
}

SmallVector<Value> mlir::attn::buildLinearGpuAttentionBackward(
    RewriterBase &rewriter, const AttentionProblem &problem, int64_t chunk) {
  rewriter.setInsertionPoint(problem.op);
  return LinearGpuBackwardEmitter(rewriter, problem, chunk).build();
}
