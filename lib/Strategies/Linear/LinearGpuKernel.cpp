//===- LinearGpuKernel.cpp - Linear attention as a GPU kernel -------------===//
//
// See LinearGpuKernel.h. One gpu.launch: a thread block per (batch, query
// head) with Dv + 1 threads. Thread e < Dv owns column e of the state
// S = sum_j phi(k_j) v_j^T, thread Dv the normalizer z = sum_j phi(k_j) (a
// value column of ones). The state lives in a device scratch buffer
// [B Hq, F, Dv + 1], so that the block's threads touch consecutive words.
// The whole block computes the features of one key (or scaled query) into
// shared memory, then each thread updates (or reads) its column:
//   S = 0; next = 0            (without causal: every key absorbed first)
//   for each query i, in order:
//     causal: last = min(i + Lk - Lq, Lk - 1); the `chunk` keys up to last
//             are weighed directly, the keys before them join the state:
//             absorb keys next .. last - chunk; next = last - chunk + 1
//     stage scale q_i; barrier; phi(scale q_i) to shared; barrier
//     acc = phi(scale q_i) . S[:, e]
//     causal: acc += w(q_i, k_j) v_je for the directly weighed keys j, with
//             w from the score itself (1 + s + s^2 / 2 for taylor2), as the
//             CPU kernel's quadratic step inside a chunk: the recent keys
//             of a row suffer no cancellation among features
//     thread Dv publishes z_i; barrier
//     out[i, e] = acc / z_i (0 when z_i = 0; acc when not normalized)
//   absorb key j: stage k_j; barrier; phi(k_j) to shared; barrier;
//                 S[:, e] += phi(k_j) v_je
// Features: phi(x) for elu1 and relu, x for identity, and for taylor2
// [1, x, x_a x_b / sqrt(2) for all a, b] (F = 1 + D + D^2), so that
// phi(scale q) . phi(k) = 1 + s + s^2 / 2. A query row with no allowed key
// (causal, Lq > Lk) reads an empty state and gets 0. A NaN in k_j or v_j
// reaches the state, hence exactly the queries allowed to read key j.
// The query heads of a GQA group each rebuild the state (blocks share
// nothing); f32 accumulation for f16/bf16 inputs.
//
//===----------------------------------------------------------------------===//

#include "LinearGpuEmitter.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/MaskRules.h"

#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/KernelBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <cmath>
#include <tuple>

using namespace mlir;
using namespace mlir::attn;

void LinearGpuEmitter::stageRow(Value source, Value batchIndex, Value headIndex,
                                Value row, double scale, Value into) {
  forLoop(tid, idx(p.headDim), idx(threads), [&](Value d) {
    Value x = toF32(load(source, {batchIndex, headIndex, row, d}));
    if (scale != 1.0)
      x = arith::MulFOp::create(b, loc, x, fconst(scale));
    store(x, into, {d});
  });
}

void LinearGpuEmitter::emitFeatures(Value from, Value into) {
  int64_t d = p.headDim;
  const ScoreFunction &function = *p.score.getFunction();
  forLoop(tid, idx(features), idx(threads), [&](Value f) {
    Value value;
    if (function.getLinearForm() ==
        ScoreFunction::LinearForm::SecondOrderTaylor) {
      // f = 0: 1; f in [1, D]: x_(f-1); else x_a x_b / sqrt(2) with
      // f - 1 - D = a D + b. Indices are clamped so every load is in bounds.
      Value linear =
          load(from, {minI(maxI(sub(f, idx(1)), idx(0)), idx(d - 1))});
      Value pair = maxI(sub(f, idx(1 + d)), idx(0));
      Value xa = load(from, {arith::DivUIOp::create(b, loc, pair, idx(d))});
      Value xb = load(from, {arith::RemUIOp::create(b, loc, pair, idx(d))});
      Value quadratic = arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, xa, xb),
          fconst(1.0 / std::sqrt(2.0)));
      value = select(cmpI(arith::CmpIPredicate::ule, f, idx(d)), linear,
                     quadratic);
      value = select(cmpI(arith::CmpIPredicate::eq, f, idx(0)), fconst(1.0),
                     value);
    } else {
      value = load(from, {f});
      if (function.isFeatureProduct())
        value = function.featureMap(b, loc, value);
    }
    store(value, into, {f});
  });
}

std::pair<Value, Value> LinearGpuEmitter::directKeys(Value row, Value lq,
                                                     Value lk) {
  RuleArith d(b, loc);
  Value end =
      maxI(add(rule::bandInterval(d, p, row, lq, lk).hi, idx(1)), idx(0));
  return {maxI(sub(end, idx(chunk)), idx(0)), end};
}

namespace {

class LinearGpuForwardEmitter : LinearGpuEmitter {
public:
  LinearGpuForwardEmitter(RewriterBase &rewriter,
                          const AttentionProblem &problem, int64_t chunk)
      : LinearGpuEmitter(rewriter, problem, chunk) {}

  Value build();

private:
  /// Adds keys [lo, hi) of this block's KV head to the state column.
  void absorbKeys(Value lo, Value hi);
  /// acc + the sum over keys [lo, hi) of w(q, k_j) v_j[column] (1 for the
  /// normalizer), with the staged scaled query in `raw` and its features in
  /// `feat`.
  Value addDirectKeys(Value acc, Value lo, Value hi);

  // Set while the kernel body is built.
  Value bh, batch, head, kvHead, state, raw, feat;
  Value kBuf, vBuf;
};

void LinearGpuForwardEmitter::absorbKeys(Value lo, Value hi) {
  int64_t dvDim = p.valueDim;
  forLoop(lo, hi, idx(1), [&](Value j) {
    stageWithFeatures(kBuf, batch, kvHead, j, 1.0, raw, feat);
    // Thread Dv's value is 1: its column sums the features (z).
    Value e = minI(tid, idx(dvDim - 1));
    Value vje = select(cmpI(arith::CmpIPredicate::slt, tid, idx(dvDim)),
                       toF32(load(vBuf, {batch, kvHead, j, e})), fconst(1.0));
    forLoop(idx(0), idx(features), idx(1), [&](Value f) {
      Value updated = arith::AddFOp::create(
          b, loc, load(state, {bh, f, tid}),
          arith::MulFOp::create(b, loc, load(feat, {f}), vje));
      store(updated, state, {bh, f, tid});
    });
  });
}

Value LinearGpuForwardEmitter::addDirectKeys(Value acc, Value lo, Value hi) {
  int64_t dvDim = p.valueDim;
  const ScoreFunction &function = *p.score.getFunction();
  Value e = minI(tid, idx(dvDim - 1));
  Value isValue = cmpI(arith::CmpIPredicate::slt, tid, idx(dvDim));
  auto keys = scf::ForOp::create(
      b, loc, lo, hi, idx(1), ValueRange{acc},
      [&](OpBuilder &kb, Location, Value j, ValueRange sum) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(kb.getInsertionBlock(), kb.getInsertionPoint());
        // The weight of key j: phi(q) . phi(k_j), or w(s) of s = q . k_j
        // (taylor2, identity).
        bool fromScore = !function.isFeatureProduct();
        auto dot = scf::ForOp::create(
            b, loc, idx(0), idx(p.headDim), idx(1), ValueRange{fconst(0.0)},
            [&](OpBuilder &db, Location, Value d, ValueRange partial) {
              OpBuilder::InsertionGuard g2(b);
              b.setInsertionPoint(db.getInsertionBlock(),
                                  db.getInsertionPoint());
              Value k = toF32(load(kBuf, {batch, kvHead, j, d}));
              Value qd = load(fromScore ? raw : feat, {d});
              if (!fromScore)
                k = function.featureMap(b, loc, k);
              scf::YieldOp::create(
                  b, loc,
                  ValueRange{arith::AddFOp::create(
                      b, loc, partial[0],
                      arith::MulFOp::create(b, loc, qd, k))});
            });
        Value w = function.weight(b, loc, dot.getResult(0), Value());
        Value vje = select(isValue, toF32(load(vBuf, {batch, kvHead, j, e})),
                           fconst(1.0));
        scf::YieldOp::create(
            b, loc,
            ValueRange{arith::AddFOp::create(
                b, loc, sum[0], arith::MulFOp::create(b, loc, w, vje))});
      });
  return keys.getResult(0);
}

Value LinearGpuForwardEmitter::build() {
  int64_t dvDim = p.valueDim;
  Value batches = dimOf(p.query, 0);
  Value lq = dimOf(p.query, 2), lk = dimOf(p.key, 2);
  Value one = idx(1);

  KernelBuffers buffers(b, loc);
  Value qBuf = buffers.input(p.query);
  kBuf = buffers.input(p.key);
  vBuf = buffers.input(p.value);
  Value out = buffers.allocLike(p.init);
  Value blocks = mul(batches, idx(p.headsQ));
  state = buffers.allocF32({ShapedType::kDynamic, features, threads}, {blocks});

  Attribute workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::AddressSpace::Workgroup);
  SmallVector<Type> shared = {
      MemRefType::get({p.headDim}, f32, AffineMap(), workgroup),
      MemRefType::get({features}, f32, AffineMap(), workgroup),
      MemRefType::get({1}, f32, AffineMap(), workgroup)};
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, idx(threads),
                                      one, one, Value(), Type(), ValueRange{},
                                      shared, TypeRange{});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  raw = launch.getWorkgroupAttributions()[0];
  feat = launch.getWorkgroupAttributions()[1];
  Value normalizer = launch.getWorkgroupAttributions()[2];
  tid = launch.getThreadIds().x;
  bh = launch.getBlockIds().x;
  batch = arith::DivUIOp::create(b, loc, bh, idx(p.headsQ));
  head = arith::RemUIOp::create(b, loc, bh, idx(p.headsQ));
  kvHead = arith::DivUIOp::create(b, loc, head, idx(p.groupSize()));

  forLoop(idx(0), idx(features), one,
          [&](Value f) { store(fconst(0.0), state, {bh, f, tid}); });
  if (!p.causal)
    absorbKeys(idx(0), lk);

  // Query i may see keys j <= i + Lk - Lq (causal); keys join the state in
  // order, once, as the first query that may see them comes up.
  Type outElem = cast<RankedTensorType>(p.init.getType()).getElementType();
  scf::ForOp::create(
      b, loc, idx(0), lq, one, ValueRange{idx(0)},
      [&](OpBuilder &nested, Location, Value i, ValueRange next) {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value absorbed = next[0];
        // Keys [stateEnd, end) are weighed directly (causal only).
        Value end, stateEnd;
        if (p.causal) {
          std::tie(stateEnd, end) = directKeys(i, lq, lk);
          absorbKeys(absorbed, stateEnd);
          absorbed = maxI(absorbed, stateEnd);
        }
        stageWithFeatures(qBuf, batch, head, i, p.scale, raw, feat);
        auto dot = scf::ForOp::create(
            b, loc, idx(0), idx(features), one, ValueRange{fconst(0.0)},
            [&](OpBuilder &db, Location, Value f, ValueRange acc) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(db.getInsertionBlock(),
                                  db.getInsertionPoint());
              Value term = arith::MulFOp::create(b, loc, load(feat, {f}),
                                                 load(state, {bh, f, tid}));
              scf::YieldOp::create(
                  b, loc, ValueRange{arith::AddFOp::create(b, loc, acc[0],
                                                           term)});
            });
        Value acc = dot.getResult(0);
        if (p.causal)
          acc = addDirectKeys(acc, stateEnd, end);
        Value isNormalizer = cmpI(arith::CmpIPredicate::eq, tid, idx(dvDim));
        scf::IfOp::create(b, loc, isNormalizer, [&](OpBuilder &ib, Location) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(ib.getInsertionBlock(), ib.getInsertionPoint());
          store(acc, normalizer, {idx(0)});
          scf::YieldOp::create(b, loc);
        });
        barrier();
        // The epilogue (AttentionAlgebra): acc / z.
        Value z = p.score.getNormalize() ? load(normalizer, {idx(0)}) : Value();
        Value o = AttentionAlgebra(b, loc, p).epilogue(acc, z, outElem);
        scf::IfOp::create(
            b, loc, cmpI(arith::CmpIPredicate::slt, tid, idx(dvDim)),
            [&](OpBuilder &ib, Location) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(ib.getInsertionBlock(),
                                  ib.getInsertionPoint());
              store(o, out, {batch, head, i, tid});
              scf::YieldOp::create(b, loc);
            });
        scf::YieldOp::create(b, loc, ValueRange{absorbed});
      });
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointAfter(launch);
  return buffers.result(out, p.init);
}

} // namespace

int64_t mlir::attn::linearGpuFeatures(const AttentionProblem &problem) {
  int64_t d = problem.headDim;
  return problem.score.getFunction()->getLinearForm() ==
                 ScoreFunction::LinearForm::SecondOrderTaylor
             ? 1 + d + d * d
             : d;
}

Value mlir::attn::buildLinearGpuAttention(RewriterBase &rewriter,
                                          const AttentionProblem &problem,
                                          int64_t chunk) {
  rewriter.setInsertionPoint(problem.op);
  return LinearGpuForwardEmitter(rewriter, problem, chunk).build();
}
