//===- NeighborhoodStrategy.cpp - Fused neighborhood attention ------------===//
//
// The `neighborhood` strategy computes attn.neighborhood (1-D, 2-D, 3-D, with
// dilation, per-axis causality and stride) without visiting keys that no
// query of a tile can see. Queries are tiled in the multi-dimensional space:
// a task is a box of query positions of one dilation group (in group
// coordinates every axis has dilation 1), for all query heads of a KV head.
// The union of the box's windows is again a box of keys; the task gathers
// those keys (K transposed into [tiles, D, block_k], V into rows) on the
// stack and runs the shared online-softmax micro-tile step over them,
// masking each (query, key) pair by NATTEN's rule. Border windows shift
// inward exactly as the op defines, because the windows come from the same
// rule (MaskRules.h). The op's score_mod and mask_mod are inlined into the
// step, at coordinates clamped into each query's window so that a table of
// window offsets is read in bounds (the GPU flash kernel evaluates them only
// at allowed pairs). Parameter: `tile`, the box edge per axis.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Builtin.h"
#include "attn/Strategies/Common/AttentionAlgebra.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/AttentionProblem.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/OnlineSoftmax.h"
#include "attn/Support/Debug.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/InterleavedRange.h"

#include <cmath>
#include <limits>

#define DEBUG_TYPE "attn-strategy-neighborhood"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Largest box edge a `tile` parameter may give (per axis).
constexpr int64_t kMaxTileEdge = 4096;

/// Sizes of one task's box for box edges `tile` (each in [1,
/// kMaxTileEdge]): its query rows, the key slots its windows may reach, and
/// the stack scratch that holds them. An upper bound of the scratch comes
/// first, in doubles: kernel and heads may be up to 2^31 - 1, and their
/// products overflow int64. Where that bound is astronomical the scratch is
/// INT64_MAX and the other sizes are unset (no kernel is built then).
struct BoxLayout {
  int64_t rowsPerHead = 1, rows = 0, paddedRows = 0, maxSlots = 1,
          maxTiles = 0, valueVecs = 0;
  int64_t scratchBytes = 0;

  BoxLayout(const AttentionProblem &p, const FlashKernelConfig &cfg,
            ArrayRef<int64_t> tile) {
    double rowsD = p.groupSize(), slotsD = 1;
    for (size_t a = 0; a < tile.size(); ++a) {
      rowsD *= tile[a];
      slotsD *= double(tile[a]) + p.kernel[a] + p.stride[a];
    }
    valueVecs = (p.valueDim + cfg.lanes - 1) / cfg.lanes;
    int64_t paddedDv = valueVecs * cfg.lanes;
    // K^T and V of the gathered keys, their coordinates (i32), O, m, l, P.
    scratchBytes = saturatingBytes(
        4 * ((slotsD + cfg.blockK) * (double(p.headDim) + paddedDv +
                                      double(tile.size())) +
             (rowsD + cfg.microQ) * (paddedDv + 2) + cfg.microQ * cfg.blockK));
    if (scratchBytes >= (int64_t(1) << 60)) {
      scratchBytes = std::numeric_limits<int64_t>::max();
      return;
    }
    for (size_t a = 0; a < tile.size(); ++a) {
      rowsPerHead *= tile[a];
      maxSlots *= tile[a] + p.kernel[a] + p.stride[a];
    }
    rows = p.groupSize() * rowsPerHead;
    paddedRows = (rows + cfg.microQ - 1) / cfg.microQ * cfg.microQ;
    maxTiles = (maxSlots + cfg.blockK - 1) / cfg.blockK;
    int64_t slots = maxTiles * cfg.blockK;
    scratchBytes =
        4 * (slots * (p.headDim + paddedDv + int64_t(tile.size())) +
             paddedRows * (paddedDv + 2) + cfg.microQ * cfg.blockK);
  }
};

class NeighborhoodEmitter : KernelBuilder {
public:
  NeighborhoodEmitter(RewriterBase &rewriter, const AttentionProblem &problem,
                      const FlashKernelConfig &config,
                      SmallVector<int64_t> tile)
      : KernelBuilder(rewriter, problem.op->getLoc(), config.lanes),
        p(problem), cfg(config), tile(std::move(tile)) {
    i32 = b.getI32Type();
    rank = p.kernel.size();
    group = p.groupSize();
    lanes = cfg.lanes;
    idxVecType = VectorType::get({lanes}, i32);
    BoxLayout layout(p, cfg, this->tile);
    rowsPerHead = layout.rowsPerHead;
    rows = layout.rows;
    paddedRows = layout.paddedRows;
    maxSlots = layout.maxSlots;
    maxTiles = layout.maxTiles;
    valueVecs = layout.valueVecs;
  }

  Value build();

private:
  /// Row-major coordinates of `linear` over `sizes`.
  SmallVector<Value> unflatten(Value linear, ArrayRef<Value> sizes) {
    SmallVector<Value> coords(sizes.size());
    for (size_t a = sizes.size(); a-- > 0;) {
      if (a == 0) {
        coords[a] = linear;
      } else {
        coords[a] = rem(linear, sizes[a]);
        linear = div(linear, sizes[a]);
      }
    }
    return coords;
  }
  /// The keys, in group coordinates, that group position qi may attend.
  rule::Interval<RuleArith> window(int64_t axis, Value qi, Value positions) {
    RuleArith d(b, loc);
    return rule::groupWindow(d, getAxisRule(p, axis), qi, positions);
  }

  void emitTask(Value batch, Value kvHead, Value task, Value numBoxes,
                ArrayRef<Value> boxesPerAxis, scf::ForallOp forall);

  const AttentionProblem &p;
  FlashKernelConfig cfg;
  SmallVector<int64_t> tile;
  Type i32;
  VectorType idxVecType;
  int64_t rank, group, lanes, rowsPerHead, rows, paddedRows, maxSlots,
      maxTiles, valueVecs;
  SmallVector<Value> extents;
};

void NeighborhoodEmitter::emitTask(Value batch, Value kvHead, Value task,
                                   Value numBoxes,
                                   ArrayRef<Value> boxesPerAxis,
                                   scf::ForallOp forall) {
  int64_t mr = cfg.microQ, bk = cfg.blockK, d = p.headDim;
  Value outTensor = forall.getRegionIterArgs()[0];
  Type outElem = cast<RankedTensorType>(p.init.getType()).getElementType();

  // The task's dilation group and box, in group coordinates.
  SmallVector<Value> dilations;
  for (int64_t a = 0; a < rank; ++a)
    dilations.push_back(idx(p.dilation[a]));
  SmallVector<Value> groupCoord = unflatten(div(task, numBoxes), dilations);
  SmallVector<Value> boxCoord = unflatten(rem(task, numBoxes), boxesPerAxis);
  SmallVector<Value> positions(rank), q0(rank), boxSize(rank), keyLo(rank),
      keySize(rank);
  Value numSlots = idx(1);
  for (int64_t a = 0; a < rank; ++a) {
    RuleArith rules(b, loc);
    positions[a] = rule::groupPositions(rules, getAxisRule(p, a), extents[a],
                                        groupCoord[a]);
    q0[a] = mul(boxCoord[a], idx(tile[a]));
    Value q1 = sub(minI(add(q0[a], idx(tile[a])), positions[a]), idx(1));
    boxSize[a] = maxI(idx(0), add(sub(q1, q0[a]), idx(1)));
    Value q1Safe = maxI(q1, q0[a]);
    keyLo[a] = window(a, q0[a], positions[a]).lo;
    Value keyHi = window(a, q1Safe, positions[a]).hi;
    keySize[a] = maxI(idx(0), add(sub(keyHi, keyLo[a]), idx(1)));
    numSlots = mul(numSlots, keySize[a]);
  }
  // Empty boxes (past this group's positions) gather nothing.
  Value nonEmpty = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (int64_t a = 0; a < rank; ++a)
    nonEmpty = arith::AndIOp::create(
        b, loc, nonEmpty, cmpI(arith::CmpIPredicate::sgt, boxSize[a], idx(0)));
  numSlots = select(nonEmpty, numSlots, idx(0));
  Value numTiles = arith::CeilDivUIOp::create(b, loc, numSlots, idx(bk));

  // Scratch on the stack.
  auto mem = [&](ArrayRef<int64_t> shape, Type type) -> Value {
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, type),
                                    b.getI64IntegerAttr(64));
  };
  int64_t paddedDv = valueVecs * lanes;
  Value keysT = mem({maxTiles, d, bk}, f32);
  Value valuesT = mem({maxTiles * bk, paddedDv}, f32);
  SmallVector<Value> keyCoord;
  for (int64_t a = 0; a < rank; ++a)
    keyCoord.push_back(mem({maxTiles * bk}, i32));
  Value oAcc = mem({paddedRows, paddedDv}, f32);
  Value mRow = mem({paddedRows}, f32);
  Value lRow = mem({paddedRows}, f32);
  Value pBuf = mem({mr, bk}, f32);

  AttentionAlgebra algebra(b, loc, p);
  scf::ForOp::create(
      b, loc, idx(0), idx(paddedRows), idx(1), ValueRange{},
      [&](OpBuilder &nb, Location, Value r, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        memref::StoreOp::create(b, loc, fconst(algebra.initialMax()), mRow,
                                ValueRange{r});
        memref::StoreOp::create(b, loc, fconst(0.0), lRow, ValueRange{r});
        for (int64_t e = 0; e < valueVecs; ++e)
          vector::StoreOp::create(b, loc, vconst(0.0), oAcc,
                                  ValueRange{r, idx(e * lanes)});
        scf::YieldOp::create(b, loc);
      });

  // Gather the key box: slot s -> key position; K transposed, V as rows,
  // each slot's group coordinates for masking (-1 past the last slot).
  Value slotEnd = mul(numTiles, idx(bk));
  scf::ForOp::create(
      b, loc, idx(0), slotEnd, idx(1), ValueRange{},
      [&](OpBuilder &nb, Location, Value s, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value inside = cmpI(arith::CmpIPredicate::slt, s, numSlots);
        Value sc = minI(s, maxI(sub(numSlots, idx(1)), idx(0)));
        SmallVector<Value> local = unflatten(sc, keySize);
        SmallVector<Value> at = {batch, kvHead};
        for (int64_t a = 0; a < rank; ++a) {
          Value kj = add(keyLo[a], local[a]);
          at.push_back(add(groupCoord[a], mul(dilations[a], kj)));
          Value coord = select(inside, arith::IndexCastOp::create(b, loc, i32, kj),
                               arith::ConstantIntOp::create(b, loc, -1, 32));
          memref::StoreOp::create(b, loc, coord, keyCoord[a], ValueRange{s});
        }
        Value t = div(s, idx(bk)), c = rem(s, idx(bk));
        for (int64_t dd = 0; dd < d; ++dd) {
          SmallVector<Value> kAt(at);
          kAt.push_back(idx(dd));
          Value kv = toF32(tensor::ExtractOp::create(b, loc, p.key, kAt));
          memref::StoreOp::create(b, loc, kv, keysT,
                                  ValueRange{t, idx(dd), c});
        }
        auto valueType = cast<RankedTensorType>(p.value.getType());
        VectorType rawValue =
            VectorType::get({lanes}, valueType.getElementType());
        Value zero = arith::ConstantOp::create(
            b, loc, b.getZeroAttr(valueType.getElementType()));
        for (int64_t e = 0; e < valueVecs; ++e) {
          SmallVector<Value> vAt(at);
          vAt.push_back(idx(e * lanes));
          Value vv = toF32(vector::TransferReadOp::create(
              b, loc, rawValue, p.value, vAt, zero,
              ArrayRef<bool>{p.valueDim % lanes == 0}));
          vector::StoreOp::create(b, loc, vv, valuesT,
                                  ValueRange{s, idx(e * lanes)});
        }
        scf::YieldOp::create(b, loc);
      });

  // Row r: head r / rowsPerHead of the group, box position r % rowsPerHead
  // over the tile shape (clamped into the box; rows past it are not
  // written).
  SmallVector<Value> tileSizes;
  for (int64_t a = 0; a < rank; ++a)
    tileSizes.push_back(idx(tile[a]));
  scf::ForOp::create(
      b, loc, idx(0), numTiles, idx(1), ValueRange{},
      [&](OpBuilder &tb, Location, Value t, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(tb.getInsertionBlock(), tb.getInsertionPoint());
        Value keyCount = minI(idx(bk), sub(numSlots, mul(t, idx(bk))));
        scf::ForOp::create(
            b, loc, idx(0), idx(paddedRows / mr), idx(1), ValueRange{},
            [&](OpBuilder &mb, Location, Value mt, ValueRange) {
              OpBuilder::InsertionGuard guard2(b);
              b.setInsertionPoint(mb.getInsertionBlock(),
                                  mb.getInsertionPoint());
              Value rowBase = mul(mt, idx(mr));
              SmallVector<Value> heads(mr);
              SmallVector<SmallVector<Value>> queryAt(mr);
              SmallVector<SmallVector<rule::Interval<RuleArith>>> windows(mr);
              for (int64_t r = 0; r < mr; ++r) {
                Value row = add(rowBase, idx(r));
                Value g = minI(div(row, idx(rowsPerHead)), idx(group - 1));
                heads[r] = add(mul(kvHead, idx(group)), g);
                SmallVector<Value> inBox =
                    unflatten(rem(row, idx(rowsPerHead)), tileSizes);
                queryAt[r] = {batch, heads[r]};
                for (int64_t a = 0; a < rank; ++a) {
                  Value qi = add(q0[a], minI(inBox[a],
                                             maxI(sub(boxSize[a], idx(1)),
                                                  idx(0))));
                  windows[r].push_back(window(a, qi, positions[a]));
                  queryAt[r].push_back(
                      add(groupCoord[a], mul(dilations[a], qi)));
                }
              }
              SmallVector<Value> s = emitPackedScores(
                  b, loc, cfg, d,
                  [&](int64_t r, Value dd) -> Value {
                    SmallVector<Value> at(queryAt[r]);
                    at.push_back(dd);
                    return toF32(tensor::ExtractOp::create(b, loc, p.query, at));
                  },
                  [&](Value dd, int64_t c) -> Value {
                    return vector::LoadOp::create(b, loc, vecType, keysT,
                                                  ValueRange{t, dd,
                                                             idx(c * lanes)});
                  });
              MicroTileAccess access;
              access.full = arith::ConstantIntOp::create(b, loc, 0, 1);
              access.keyCount = keyCount;
              auto allowed = [&](int64_t r, int64_t c) -> Value {
                // The gathered keys share the box's dilation group: each
                // axis's rule is its window in group coordinates.
                Value slot = add(mul(t, idx(bk)), idx(c * lanes));
                RuleArith rules(b, loc);
                Value ok = rules.all();
                for (int64_t a = 0; a < rank; ++a) {
                  Value kc = vector::LoadOp::create(b, loc, idxVecType,
                                                    keyCoord[a],
                                                    ValueRange{slot});
                  ok = rules.both(ok, rule::contains(rules, windows[r][a], kc));
                }
                return ok;
              };
              // The mods see positions (query, then key coordinates). A key
              // outside row r's window is moved to the window's edge first,
              // so that a table indexed by the offset (relative positional
              // bias) is read in bounds; such lanes are masked anyway.
              auto modPositions = [&](int64_t r, int64_t c) {
                Value slot = add(mul(t, idx(bk)), idx(c * lanes));
                RuleArith rules(b, loc);
                SmallVector<Value> at(queryAt[r].begin() + 2,
                                      queryAt[r].end());
                for (int64_t a = 0; a < rank; ++a) {
                  Value kc = vector::LoadOp::create(b, loc, idxVecType,
                                                    keyCoord[a],
                                                    ValueRange{slot});
                  Value inWindow = rules.min(
                      rules.max(kc, windows[r][a].lo), windows[r][a].hi);
                  at.push_back(rules.add(groupCoord[a],
                                         rules.mul(dilations[a], inWindow)));
                }
                return at;
              };
              auto allowedByMods = [&](int64_t r, int64_t c) -> Value {
                return applyMaskMod(b, loc, p, allowed(r, c), batch, heads[r],
                                    modPositions(r, c));
              };
              access.allowed = allowed;
              if (p.maskMod)
                access.allowed = allowedByMods;
              auto scoreMod = [&](int64_t r, int64_t c, Value s) -> Value {
                return applyScoreMod(b, loc, p, s, batch, heads[r],
                                     modPositions(r, c));
              };
              if (p.scoreMod)
                access.scoreMod = scoreMod;
              auto value = [&](Value j, int64_t e) -> Value {
                return vector::LoadOp::create(
                    b, loc, vecType, valuesT,
                    ValueRange{add(mul(t, idx(bk)), j), idx(e * lanes)});
              };
              access.value = value;
              emitOnlineSoftmaxStep(
                  b, loc, p, cfg, s, access,
                  MicroTileState{oAcc, mRow, lRow, pBuf, rowBase});
              scf::YieldOp::create(b, loc);
            });
        scf::YieldOp::create(b, loc);
      });

  // out[b, hk*G + g, positions of the box, :] = O / l: a strided box.
  SmallVector<OpFoldResult> offsets = {batch, mul(kvHead, idx(group))};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                     b.getIndexAttr(group)};
  SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
  // Full-rank slices: a rank-reducing slice is ambiguous when several of
  // its sizes fold to 1.
  SmallVector<int64_t> sliceShape = {1, group};
  for (int64_t a = 0; a < rank; ++a) {
    offsets.push_back(add(groupCoord[a], mul(dilations[a], q0[a])));
    sizes.push_back(boxSize[a]);
    strides.push_back(b.getIndexAttr(p.dilation[a]));
    sliceShape.push_back(ShapedType::kDynamic);
  }
  offsets.push_back(b.getIndexAttr(0));
  sizes.push_back(b.getIndexAttr(p.valueDim));
  strides.push_back(b.getIndexAttr(1));
  sliceShape.push_back(p.valueDim);
  auto sliceType = RankedTensorType::get(sliceShape, outElem);
  Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, outTensor,
                                               offsets, sizes, strides);
  Value boxRows = idx(1);
  for (int64_t a = 0; a < rank; ++a)
    boxRows = mul(boxRows, boxSize[a]);
  auto rowLoop = scf::ForOp::create(
      b, loc, idx(0), mul(idx(group), boxRows), idx(1), ValueRange{slice},
      [&](OpBuilder &nb, Location, Value i, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value g = div(i, boxRows);
        SmallVector<Value> inBox = unflatten(rem(i, boxRows), boxSize);
        // The row of this position in the tile-shaped row layout.
        Value local = idx(0);
        for (int64_t a = 0; a < rank; ++a)
          local = add(mul(local, idx(tile[a])), inBox[a]);
        Value r = add(mul(g, idx(rowsPerHead)), local);
        Value l = memref::LoadOp::create(b, loc, lRow, ValueRange{r});
        Value t = acc[0];
        SmallVector<Value> at = {idx(0), g};
        at.append(inBox.begin(), inBox.end());
        for (int64_t e = 0; e < valueVecs; ++e) {
          Value o = algebra.epilogue(
              vector::LoadOp::create(b, loc, vecType, oAcc,
                                     ValueRange{r, idx(e * lanes)}),
              l, outElem);
          SmallVector<Value> wAt(at);
          wAt.push_back(idx(e * lanes));
          t = vector::TransferWriteOp::create(
                  b, loc, o, t, wAt, ArrayRef<bool>{p.valueDim % lanes == 0})
                  .getResult();
        }
        scf::YieldOp::create(b, loc, t);
      });
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, rowLoop.getResult(0),
                                        outTensor, offsets, sizes, strides);
}

Value NeighborhoodEmitter::build() {
  for (int64_t a = 0; a < rank; ++a)
    extents.push_back(dimOf(p.query, 2 + a));
  Value batches = dimOf(p.query, 0);
  SmallVector<Value> boxesPerAxis;
  Value numBoxes = idx(1);
  int64_t numGroups = 1;
  for (int64_t a = 0; a < rank; ++a) {
    Value maxPositions =
        arith::CeilDivUIOp::create(b, loc, extents[a], idx(p.dilation[a]));
    boxesPerAxis.push_back(
        arith::CeilDivUIOp::create(b, loc, maxPositions, idx(tile[a])));
    numBoxes = mul(numBoxes, boxesPerAxis.back());
    numGroups *= p.dilation[a];
  }
  Value numTasks = mul(idx(numGroups), numBoxes);
  return headLoop(batches, p.headsKV, p.init,
                  [&](Value batch, Value kvHead, Value acc) -> Value {
                    auto forall = scf::ForallOp::create(
                        b, loc, ArrayRef<OpFoldResult>{numTasks},
                        ValueRange{acc}, std::nullopt);
                    OpBuilder::InsertionGuard guard(b);
                    b.setInsertionPoint(forall.getTerminator());
                    emitTask(batch, kvHead, forall.getInductionVar(0),
                             numBoxes, boxesPerAxis, forall);
                    return forall.getResult(0);
                  });
}

class NeighborhoodStrategy final : public Strategy {
public:
  StringRef getName() const override { return "neighborhood"; }
  StringRef getDescription() const override {
    return "fused neighborhood attention over query boxes and their key boxes";
  }

  ArrayRef<StrategyParameter> getParameters() const override {
    auto gpuOnly = [](StrategyParameter parameter) {
      parameter.targets = StrategyParameter::GPU;
      return parameter;
    };
    static const StrategyParameter parameters[] = {
        {"tile", StrategyParameter::Type::IntegerPerAxis, 1, kMaxTileEdge,
         StrategyParameter::CPU,
         "the query box edge per spatial axis (one integer for every axis, "
         "or one per axis); chosen from a few edges by the cost model"},
        gpuOnly(kGpuBlockQParameter), gpuOnly(kFlashBlockKParameter),
        kGpuTensorCoresParameter};
    return parameters;
  }

  bool isApplicable(Operation *op, const TargetDescription &target,
                    std::string &reason) const override {
    if (!isa<NeighborhoodOp>(op)) {
      reason = "computes attn.neighborhood only";
      return false;
    }
    AttentionProblem p = AttentionProblem::get(op);
    AttentionProblem::Computed computed;
    computed.scoreMod = computed.maskMod = true;
    if (std::string missing = p.unsupportedVariants(getName(), computed);
        !missing.empty()) {
      reason = missing;
      return false;
    }
    if (target.kind == TargetDescription::Kind::GPU)
      return gpuFlashKernelCanCompute(p, target.gpuSharedBytes, reason);
    if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim) {
      reason = "head dimensions beyond " + std::to_string(kMaxFlashHeadDim);
      return false;
    }
    SmallVector<int64_t> unitBox(p.kernel.size(), 1);
    int64_t bytes = BoxLayout(p, configFor(target), unitBox).scratchBytes;
    if (bytes > kTaskScratchLimitBytes) {
      reason = "even a box of one query reaches keys whose scratch (" +
               std::to_string(bytes >> 10) + " KiB) exceeds the " +
               std::to_string(kTaskScratchLimitBytes >> 10) +
               " KiB stack limit";
      return false;
    }
    return true;
  }

  StrategyAttr chooseParameters(Operation *op, const TargetDescription &target,
                                StrategyAttr requested) const override {
    AttentionProblem p = AttentionProblem::get(op);
    if (target.kind == TargetDescription::Kind::GPU)
      return getGpuStrategyAttr(
          op->getContext(), getName(),
          chooseGpuKernelConfig(p, target, requested, GpuKernelConfig()),
          /*withSplits=*/false);
    SmallVector<int64_t> tile = tileFor(p, requested);
    if (!requested || !requested.getParams() ||
        !requested.getParams().get("tile")) {
      // The cheapest box edge: small boxes waste fewer masked keys per
      // query, large ones gather each key for more queries.
      size_t rank = p.kernel.size();
      SmallVector<int64_t> edges = rank == 1   ? SmallVector<int64_t>{16, 32, 64, 128}
                                   : rank == 2 ? SmallVector<int64_t>{2, 4, 8, 16}
                                               : SmallVector<int64_t>{2, 3, 4, 6};
      // Boxes whose scratch overflows a task's stack are skipped; where
      // none fits, a box of one query (which isApplicable checked).
      double best = -1;
      FlashKernelConfig config = configFor(target);
      tile.assign(rank, 1);
      for (int64_t edge : edges) {
        SmallVector<int64_t> candidate(rank, edge);
        if (target.kind == TargetDescription::Kind::CPU &&
            BoxLayout(p, config, candidate).scratchBytes > kTaskScratchLimitBytes)
          continue;
        double seconds = costFor(p, target, candidate).seconds(target);
        if (best < 0 || seconds < best) {
          best = seconds;
          tile = candidate;
        }
      }
    }
    Builder b(op->getContext());
    return StrategyAttr::get(
        op->getContext(), getName(),
        b.getDictionaryAttr({b.getNamedAttr("tile", b.getI64ArrayAttr(tile))}));
  }

  CostEstimate estimateCost(Operation *op, const TargetDescription &target,
                            StrategyAttr strategy) const override {
    AttentionProblem p = AttentionProblem::get(op);
    return costFor(p, target, tileFor(p, strategy));
  }

  static CostEstimate costFor(const AttentionProblem &p,
                              const TargetDescription &target,
                              ArrayRef<int64_t> tile) {
    FlashKernelConfig config = configFor(target);
    double queries = knownOr(p.batch, 1) * p.headsQ;
    double rowsPerTask = 1, slots = 1, tasks = 1;
    for (size_t a = 0; a < tile.size(); ++a) {
      double extent = knownOr(p.queryShape[a], 64);
      queries *= extent;
      // In doubles: a `tile` parameter may be any i64 (apply rejects what
      // is out of range; cost estimates come first).
      double edge = std::max<double>(1.0, tile[a]);
      rowsPerTask *= edge;
      slots *= std::min<double>(
          extent, edge + double(p.kernel[a]) + double(p.stride[a]) - 1.0);
      tasks *= std::ceil(extent / edge);
    }
    double keysPerQuery =
        std::ceil(slots / config.blockK) * config.blockK;
    // Gathering moves each key of a box once per task (D scalar stores for
    // the transposed K), counted as work shared by the task's rows.
    double gatherPerQuery =
        slots * (p.headDim + p.valueDim) / (rowsPerTask * p.groupSize());
    CostEstimate cost;
    cost.flops = queries * (keysPerQuery * (2.0 * p.headDim +
                                            2.0 * p.valueDim + 8) +
                            gatherPerQuery * 8.0);
    cost.bytes = queries / rowsPerTask * slots * (p.headDim + p.valueDim) * 4.0 +
                 queries * (p.headDim + p.valueDim) * 4.0;
    cost.parallelism = tasks * p.headsKV * knownOr(p.batch, 1);
    cost.extraBytes = target.threads * slots * (p.headDim + p.valueDim) * 4.0;
    // Every tile is masked element-wise and keys are gathered per task.
    cost.efficiency = 0.35;
    return cost;
  }

  LogicalResult apply(RewriterBase &rewriter, Operation *op,
                      StrategyAttr strategy,
                      const TargetDescription &target) const override {
    AttentionProblem p = AttentionProblem::get(op);
    if (target.kind == TargetDescription::Kind::GPU) {
      // On the GPU: the flattened kernel with NATTEN's rule per element.
      GpuKernelConfig gpu =
          chooseGpuKernelConfig(p, target, strategy, GpuKernelConfig());
      if (failed(verifyGpuKernelConfig(op, getName(), p, gpu)))
        return failure();
      ATTN_DEBUG(ATTN_DBGS() << "GPU kernel " << gpu << "\n");
      rewriter.replaceOp(op, buildGpuFlashAttention(rewriter, p, gpu));
      return success();
    }
    if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim)
      return op->emitOpError()
             << "neighborhood strategy: head dimensions D = " << p.headDim
             << ", Dv = " << p.valueDim << " exceed the CPU kernel's "
             << kMaxFlashHeadDim << " (it unrolls them in vectors)";
    if (auto list = dyn_cast_or_null<ArrayAttr>(
            strategy.getParams() ? strategy.getParams().get("tile")
                                 : Attribute());
        list && list.size() != p.kernel.size())
      return op->emitOpError()
             << "neighborhood strategy parameter tile has " << list.size()
             << " edges but the op has " << p.kernel.size()
             << " spatial axes: give one edge, or one per axis";
    SmallVector<int64_t> tile = tileFor(p, strategy);
    for (int64_t t : tile)
      if (t < 1 || t > kMaxTileEdge)
        return op->emitOpError()
               << "neighborhood strategy parameter tile = " << t
               << " is out of range: it must be from 1 to " << kMaxTileEdge;
    FlashKernelConfig config = configFor(target);
    if (int64_t bytes = BoxLayout(p, config, tile).scratchBytes;
        bytes > kTaskScratchLimitBytes)
      return op->emitOpError()
             << "neighborhood strategy parameter tile = ["
             << llvm::interleaved(tile)
             << "] is out of range: a box's scratch (its queries and the "
                "keys their windows reach) takes "
             << (bytes >> 10) << " KiB of stack, more than the "
             << (kTaskScratchLimitBytes >> 10) << " KiB limit";
    ATTN_DEBUG(ATTN_DBGS() << "CPU boxes of [" << llvm::interleaved(tile)
                           << "] queries, kernel " << config << "\n");
    rewriter.setInsertionPoint(op);
    NeighborhoodEmitter emitter(rewriter, p, config, tile);
    rewriter.replaceOp(op, emitter.build());
    return success();
  }

private:
  static FlashKernelConfig configFor(const TargetDescription &target) {
    FlashKernelConfig config;
    config.lanes = std::max<int64_t>(4, target.vectorBits / 32);
    config.blockK = 4 * config.lanes;
    config.microQ = 6;
    return config;
  }
  /// Box edges: `tile` (one int for every axis, or one per axis), else
  /// about 64 queries per box.
  static SmallVector<int64_t> tileFor(const AttentionProblem &p,
                                      StrategyAttr requested) {
    size_t rank = p.kernel.size();
    int64_t edge = rank == 1 ? 64 : rank == 2 ? 8 : 4;
    SmallVector<int64_t> tile(rank, edge);
    if (requested && requested.getParams()) {
      Attribute attr = requested.getParams().get("tile");
      if (auto single = dyn_cast_or_null<IntegerAttr>(attr))
        tile.assign(rank, single.getInt());
      else if (auto list = dyn_cast_or_null<ArrayAttr>(attr))
        for (size_t a = 0; a < rank && a < list.size(); ++a)
          if (auto v = dyn_cast<IntegerAttr>(list[a]))
            tile[a] = v.getInt();
    }
    return tile;
  }
};

} // namespace

std::unique_ptr<Strategy> mlir::attn::createNeighborhoodStrategy() {
  return std::make_unique<NeighborhoodStrategy>();
}
