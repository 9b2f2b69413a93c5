//===- ModRegions.cpp - score_mod and mask_mod bodies inlined -------------===//
//
// See ModRegions.h.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/ModRegions.h"
#include "attn/Dialect/Attn/IR/ScoreModDerivative.h"
#include "attn/Strategies/Common/MaskRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// `type` with the shape of `lanes` (a vector type), or `type` itself when
/// `lanes` is null.
Type withLanes(Type type, VectorType lanes) {
  return lanes ? VectorType::get(lanes.getShape(), type) : type;
}

/// A scalar of `body`'s arguments as an index (the mods take positions as
/// index), or a vector of integers as a vector of index.
Value asIndex(OpBuilder &b, Location loc, Value value) {
  Type type = value.getType();
  Type element = getElementTypeOrSelf(type);
  if (element.isIndex() || !element.isInteger())
    return value;
  return arith::IndexCastOp::create(
      b, loc, withLanes(b.getIndexType(), dyn_cast<VectorType>(type)), value);
}

/// `op` (scalar operands) cloned with `mapping`, or for a tensor.extract of
/// a tensor that `buffers` maps, a memref.load of its buffer.
Operation *cloneScalar(OpBuilder &b, Operation &op, IRMapping &mapping,
                       const DenseMap<Value, Value> *buffers) {
  if (auto extract = dyn_cast<tensor::ExtractOp>(op); extract && buffers) {
    auto it = buffers->find(extract.getTensor());
    if (it != buffers->end()) {
      SmallVector<Value> indices;
      for (Value index : extract.getIndices())
        indices.push_back(mapping.lookupOrDefault(index));
      auto load = memref::LoadOp::create(b, op.getLoc(), it->second, indices);
      mapping.map(extract.getResult(), load.getResult());
      return load;
    }
  }
  return b.clone(op, mapping);
}

/// A tensor.extract whose only vector index is the innermost one (a table
/// read at each key, `seg[b, j]`) as one vector.gather over the lanes; null
/// for any other op, a table that `buffers` maps, or elements narrower than
/// a byte.
Value gatherAtLanes(OpBuilder &b, Location loc, Operation &op,
                    IRMapping &mapping, VectorType lanes,
                    const DenseMap<Value, Value> *buffers) {
  auto extract = dyn_cast<tensor::ExtractOp>(op);
  if (!extract || lanes.getRank() != 1 || extract.getIndices().empty() ||
      (buffers && buffers->count(extract.getTensor())))
    return Value();
  Type element = extract.getType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() < 8)
    return Value();
  SmallVector<Value> offsets;
  for (Value index : extract.getIndices().drop_back()) {
    offsets.push_back(mapping.lookupOrDefault(index));
    if (isa<VectorType>(offsets.back().getType()))
      return Value();
  }
  Value innermost = mapping.lookupOrDefault(extract.getIndices().back());
  if (!isa<VectorType>(innermost.getType()))
    return Value();
  offsets.push_back(arith::ConstantIndexOp::create(b, loc, 0));
  auto type = VectorType::get(lanes.getShape(), element);
  Value all = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get(lanes.getShape(), b.getI1Type()),
                             true));
  Value zeros = arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
  return vector::GatherOp::create(b, loc, type, extract.getTensor(), offsets,
                                  innermost, all, zeros);
}

} // namespace

SmallVector<Value> mlir::attn::modTables(const AttentionProblem &p) {
  llvm::SetVector<Value> tables;
  for (Region *region : {p.scoreMod, p.maskMod})
    if (region)
      region->walk([&](tensor::ExtractOp extract) {
        tables.insert(extract.getTensor());
      });
  return tables.takeVector();
}

Value mlir::attn::inlineModRegion(
    OpBuilder &b, Location loc, Region &region, ValueRange args,
    const DenseMap<Value, Value> *buffers,
    function_ref<void(Operation *, Operation *)> afterOp) {
  Block &body = region.front();
  VectorType lanes;
  for (Value arg : args)
    if (auto vector = dyn_cast<VectorType>(arg.getType()))
      lanes = vector;
  IRMapping mapping;
  for (auto [blockArg, arg] : llvm::zip_equal(body.getArguments(), args))
    mapping.map(blockArg, arg);
  for (Operation &op : body.without_terminator()) {
    bool readsLanes =
        lanes && llvm::any_of(op.getOperands(), [&](Value v) {
          return isa<VectorType>(mapping.lookupOrDefault(v).getType());
        });
    if (!readsLanes) {
      Operation *clone = cloneScalar(b, op, mapping, buffers);
      if (afterOp)
        afterOp(&op, clone);
      continue;
    }
    if (op.hasTrait<OpTrait::Vectorizable>()) {
      // Elementwise: the same op on vectors, scalars broadcast.
      SmallVector<Value> operands;
      for (Value operand : op.getOperands()) {
        Value mapped = mapping.lookupOrDefault(operand);
        if (!isa<VectorType>(mapped.getType()))
          mapped = vector::BroadcastOp::create(
              b, loc, withLanes(mapped.getType(), lanes), mapped);
        operands.push_back(mapped);
      }
      SmallVector<Type> types;
      for (Type type : op.getResultTypes())
        types.push_back(withLanes(type, lanes));
      OperationState state(op.getLoc(), op.getName(), operands, types,
                           op.getAttrs());
      Operation *vectorOp = b.create(state);
      mapping.map(op.getResults(), vectorOp->getResults());
      if (afterOp)
        afterOp(&op, vectorOp);
      continue;
    }
    if (Value gathered = gatherAtLanes(b, loc, op, mapping, lanes, buffers)) {
      mapping.map(op.getResult(0), gathered);
      continue;
    }
    // One op per lane (other tensor.extract at vector indices, index ops).
    int64_t count = lanes.getNumElements();
    SmallVector<SmallVector<Value>> perLane(op.getNumResults());
    for (int64_t lane = 0; lane < count; ++lane) {
      IRMapping laneMapping;
      for (Value operand : op.getOperands()) {
        Value mapped = mapping.lookupOrDefault(operand);
        if (isa<VectorType>(mapped.getType())) {
          SmallVector<int64_t> position =
              delinearize(lane, computeStrides(lanes.getShape()));
          mapped = vector::ExtractOp::create(b, loc, mapped, position);
        }
        laneMapping.map(operand, mapped);
      }
      Operation *laneOp = cloneScalar(b, op, laneMapping, buffers);
      for (auto [r, result] : llvm::enumerate(laneOp->getResults()))
        perLane[r].push_back(result);
    }
    for (auto [r, result] : llvm::enumerate(op.getResults()))
      mapping.map(result,
                  vector::FromElementsOp::create(
                      b, loc,
                      cast<VectorType>(withLanes(result.getType(), lanes)),
                      perLane[r]));
  }
  auto yield = cast<YieldOp>(body.getTerminator());
  return mapping.lookupOrDefault(yield.getValue());
}

SmallVector<Value> mlir::attn::modPositions(OpBuilder &b, Location loc,
                                            const AttentionProblem &p,
                                            ArrayRef<Value> spatialShape,
                                            Value i, Value j) {
  if (!p.isNeighborhood)
    return {i, j};
  RuleArith d(b, loc);
  SmallVector<Value> qc, kc;
  rule::unflatten(d, i, spatialShape, qc);
  rule::unflatten(d, j, spatialShape, kc);
  SmallVector<Value> positions(qc);
  positions.append(kc);
  return positions;
}

SmallVector<Value> mlir::attn::modPositionsInWindow(
    OpBuilder &b, Location loc, const AttentionProblem &p,
    ArrayRef<Value> spatialShape, Value i, Value keys, Value rule) {
  if (p.isNeighborhood && rule) {
    auto type = cast<VectorType>(keys.getType());
    Value self = vector::BroadcastOp::create(
        b, loc, type,
        arith::IndexCastOp::create(b, loc, type.getElementType(), i));
    keys = arith::SelectOp::create(b, loc, rule, keys, self);
  }
  return modPositions(b, loc, p, spatialShape, i, keys);
}

/// The arguments of a mod: `leading` (the score, or nothing), then b, h and
/// the positions, as index.
static SmallVector<Value> modArguments(OpBuilder &b, Location loc,
                                       ValueRange leading, Value batch,
                                       Value head, ArrayRef<Value> positions) {
  SmallVector<Value> args(leading);
  args.push_back(asIndex(b, loc, batch));
  args.push_back(asIndex(b, loc, head));
  for (Value position : positions)
    args.push_back(asIndex(b, loc, position));
  return args;
}

Value mlir::attn::applyScoreMod(OpBuilder &b, Location loc,
                                const AttentionProblem &p, Value s, Value batch,
                                Value head, ArrayRef<Value> positions,
                                const DenseMap<Value, Value> *buffers) {
  if (!p.scoreMod)
    return s;
  return inlineModRegion(
      b, loc, *p.scoreMod,
      modArguments(b, loc, ValueRange{s}, batch, head, positions), buffers);
}

std::pair<Value, Value> mlir::attn::applyScoreModWithDerivative(
    OpBuilder &b, Location loc, const AttentionProblem &p, Value s, Value batch,
    Value head, ArrayRef<Value> positions,
    const DenseMap<Value, Value> *buffers) {
  // A constant of s's type (f32, or a vector of f32).
  auto constant = [&](double value) -> Value {
    TypedAttr attr = b.getF32FloatAttr(value);
    if (auto vector = dyn_cast<VectorType>(s.getType()))
      attr = DenseElementsAttr::get(vector, attr);
    return arith::ConstantOp::create(b, loc, attr);
  };
  if (!p.scoreMod)
    return {s, constant(1.0)};
  Block &body = p.scoreMod->front();
  // Tangents of the body's values, d value / d s (absent: 0), each built
  // right after the op (scalar or vector) that inlining made of it.
  DenseMap<Value, Value> tangents;
  tangents[body.getArgument(0)] = constant(1.0);
  auto differentiate = [&](Operation *op, Operation *inlined) {
    SmallVector<Value> operandTangents;
    for (Value operand : op->getOperands())
      operandTangents.push_back(tangents.lookup(operand));
    if (Value tangent = buildScoreTangent(b, loc, inlined, operandTangents))
      tangents[op->getResult(0)] = tangent;
  };
  Value score = inlineModRegion(
      b, loc, *p.scoreMod,
      modArguments(b, loc, ValueRange{s}, batch, head, positions), buffers,
      differentiate);
  Value derivative =
      tangents.lookup(cast<YieldOp>(body.getTerminator()).getValue());
  return {score, derivative ? derivative : constant(0.0)};
}

Value mlir::attn::applyMaskMod(OpBuilder &b, Location loc,
                               const AttentionProblem &p, Value allowed,
                               Value batch, Value head,
                               ArrayRef<Value> positions,
                               const DenseMap<Value, Value> *buffers) {
  if (!p.maskMod)
    return allowed;
  Value modAllowed = inlineModRegion(
      b, loc, *p.maskMod,
      modArguments(b, loc, ValueRange{}, batch, head, positions), buffers);
  if (!allowed)
    return modAllowed;
  if (allowed.getType() != modAllowed.getType()) {
    // A scalar rule meeting lanes of the mod (or the other way round).
    if (!isa<VectorType>(allowed.getType()))
      allowed =
          vector::BroadcastOp::create(b, loc, modAllowed.getType(), allowed);
    else
      modAllowed =
          vector::BroadcastOp::create(b, loc, allowed.getType(), modAllowed);
  }
  return arith::AndIOp::create(b, loc, allowed, modAllowed);
}

Value mlir::attn::applyMaskModUnlessFull(
    OpBuilder &b, Location loc, const AttentionProblem &p, Value allowed,
    Value modFull, Value batch, Value head, ArrayRef<Value> positions,
    const DenseMap<Value, Value> *buffers) {
  Value rule = allowed ? allowed : arith::ConstantIntOp::create(b, loc, 1, 1);
  return scf::IfOp::create(
             b, loc, modFull,
             [&](OpBuilder &nested, Location nestedLoc) {
               scf::YieldOp::create(nested, nestedLoc, ValueRange{rule});
             },
             [&](OpBuilder &nested, Location nestedLoc) {
               scf::YieldOp::create(
                   nested, nestedLoc,
                   ValueRange{applyMaskMod(nested, nestedLoc, p, rule, batch,
                                           head, positions, buffers)});
             })
      .getResult(0);
}
