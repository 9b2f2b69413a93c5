//===- DistributeSequence.cpp - attn-distribute-sequence ------------------===//
//
// Sequence parallelism across MPI ranks on the tile-op algebra: the entry's
// whole-problem attn.online_attention becomes, on each rank, a ring of
// steps that fold the K/V blocks of every rank into the states of the
// rank's own query chunks (the blocks travel with mpi.isend / mpi.irecv
// while the current one is computed), then attn.finalize of each chunk and
// a gather of the rows to rank 0 (mpi.send / mpi.recv). The split of the
// sequence is SequenceShards' (ring or zigzag), which attn-run reads
// shards by.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "attn/Transforms/SequenceShards.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/IR/Matchers.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDISTRIBUTESEQUENCE
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Message tags of the ring and of the gather.
enum Tag : int64_t { KeyTag = 0, ValueTag = 1, OutputTag = 2, LseTag = 3 };

/// What the pass reads from the entry and builds from it.
struct Distribution {
  SequenceShards queries, keys;
  OnlineAttentionOp tile;
  FinalizeOp finalize;
  BlockArgument query, key, value;
  int64_t batch, headsQ, headsKV, headDim, valueDim;
  int64_t queryShift; ///< Lk - Lq: the aligned position of query 0.
  /// Keys of the last chunk inside Lk when the chunks pad past Lk and the
  /// rules do not already mask the padding (non-causal); 0 otherwise.
  int64_t paddedKeys = 0;
};

/// The memory effects of the MPI ops that move a buffer (upstream's mpi
/// dialect declares none, and ownership-based deallocation refuses ops
/// with unknown effects on buffers): sends read `ref`, receives write it,
/// and both read and write the world outside (no operand), so that neither
/// is ever dead code.
template <typename Op, typename Effect>
struct MPIBufferEffects
    : MemoryEffectOpInterface::ExternalModel<MPIBufferEffects<Op, Effect>, Op> {
  void
  getEffects(Operation *op,
             SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                 &effects) const {
    effects.emplace_back(Effect::get(), &op->getOpOperand(0),
                         SideEffects::DefaultResource::get());
    effects.emplace_back(MemoryEffects::Read::get());
    effects.emplace_back(MemoryEffects::Write::get());
  }
};

/// mpi.wait completes a transfer: it reads and writes the world outside.
struct MPIWaitEffects
    : MemoryEffectOpInterface::ExternalModel<MPIWaitEffects, mpi::Wait> {
  void
  getEffects(Operation *op,
             SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                 &effects) const {
    effects.emplace_back(MemoryEffects::Read::get());
    effects.emplace_back(MemoryEffects::Write::get());
  }
};

struct DistributeSequencePass
    : mlir::attn::impl::AttnDistributeSequenceBase<DistributeSequencePass> {
  using Base::Base;
  void runOnOperation() override;
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registry.addExtension(+[](MLIRContext *ctx, mpi::MPIDialect *) {
      mpi::SendOp::attachInterface<
          MPIBufferEffects<mpi::SendOp, MemoryEffects::Read>>(*ctx);
      mpi::ISendOp::attachInterface<
          MPIBufferEffects<mpi::ISendOp, MemoryEffects::Read>>(*ctx);
      mpi::RecvOp::attachInterface<
          MPIBufferEffects<mpi::RecvOp, MemoryEffects::Write>>(*ctx);
      mpi::IRecvOp::attachInterface<
          MPIBufferEffects<mpi::IRecvOp, MemoryEffects::Write>>(*ctx);
      mpi::Wait::attachInterface<MPIWaitEffects>(*ctx);
    });
  }

private:
  LogicalResult analyze(func::FuncOp func, Distribution &d);
  void rewrite(func::FuncOp func, Distribution &d);
};

/// One builder context: arithmetic on index values at a location.
struct Emitter {
  OpBuilder &b;
  Location loc;
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  }
  Value i32(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, index(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, index(y));
  }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value empty(ArrayRef<int64_t> shape, Type element) {
    return tensor::EmptyOp::create(b, loc, shape, element);
  }
  Value filled(ArrayRef<int64_t> shape, Value v) {
    return linalg::FillOp::create(b, loc, v, empty(shape, v.getType()))
        .getResult(0);
  }
  /// Offsets, sizes and strides of `length` rows from `first` on the
  /// sequence axis (2) of a tensor of `type`, whole on the other axes.
  struct RowSlice {
    SmallVector<OpFoldResult> offsets, sizes, strides;
  };
  RowSlice rowSlice(RankedTensorType type, OpFoldResult first, int64_t length) {
    RowSlice slice;
    slice.offsets.assign(type.getRank(), b.getIndexAttr(0));
    slice.strides.assign(type.getRank(), b.getIndexAttr(1));
    for (int64_t size : type.getShape())
      slice.sizes.push_back(b.getIndexAttr(size));
    slice.offsets[2] = first;
    slice.sizes[2] = b.getIndexAttr(length);
    return slice;
  }
  /// A slice of `t` on the sequence axis: `length` rows from `first`.
  Value rows(Value t, OpFoldResult first, int64_t length) {
    RowSlice s = rowSlice(cast<RankedTensorType>(t.getType()), first, length);
    return tensor::ExtractSliceOp::create(b, loc, t, s.offsets, s.sizes,
                                          s.strides);
  }
  /// `part` written into `into` at row `first` of the sequence axis.
  Value insertRows(Value part, Value into, OpFoldResult first) {
    auto type = cast<RankedTensorType>(part.getType());
    RowSlice s = rowSlice(type, first, type.getDimSize(2));
    return tensor::InsertSliceOp::create(b, loc, part, into, s.offsets, s.sizes,
                                         s.strides);
  }
  /// The contents of a memref as one 1-D memref (the MPI ops send a
  /// buffer's first dimension).
  Value flat(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    ReassociationIndices all;
    for (int64_t d = 0; d < type.getRank(); ++d)
      all.push_back(d);
    return memref::CollapseShapeOp::create(b, loc, memref,
                                           ArrayRef<ReassociationIndices>{all});
  }
};

} // namespace

/// The value a linalg.fill writes into `state`, or null.
static Value fillValue(Value state) {
  auto fill = state.getDefiningOp<linalg::FillOp>();
  return fill ? fill.getInputs()[0] : Value();
}

LogicalResult DistributeSequencePass::analyze(func::FuncOp func,
                                              Distribution &d) {
  auto fail = [&](Operation *at, const Twine &why) {
    return at->emitError() << "attn-distribute-sequence: " << why;
  };
  SmallVector<OnlineAttentionOp> tiles;
  Operation *other = nullptr;
  func.walk([&](Operation *op) {
    if (auto tile = dyn_cast<OnlineAttentionOp>(op))
      tiles.push_back(tile);
    else if (isa<AttentionOp, NeighborhoodOp, AttentionBackwardOp,
                 NeighborhoodBackwardOp>(op))
      other = op;
  });
  if (other)
    return fail(other, "this op is not in the tile-op form that the flash "
                       "strategies (tiled, split_kv, block_sparse) give it; "
                       "only that form is distributed");
  if (tiles.size() != 1)
    return fail(func, "@" + func.getName() +
                          " must hold exactly one "
                          "attention to distribute, found " +
                          Twine(tiles.size()) +
                          " (after the strategies, as attn.online_attention; "
                          "strategies other than tiled, split_kv and "
                          "block_sparse leave none)");
  OnlineAttentionOp tile = d.tile = tiles.front();
  if (tile.getMask() || tile.getBias())
    return fail(tile, "a mask or bias operand is not distributed (it spans "
                      "the whole sequence)");
  if (tile.getKScale() || tile.getVScale())
    return fail(tile, "quantized K/V (k_scale, v_scale) is not distributed: "
                      "MPI transfers are lowered for f32");
  if (tile.hasScoreMod() || tile.hasMaskMod())
    return fail(tile, "score_mod and mask_mod regions are not distributed");
  if (tile.getEntropy())
    return fail(tile, "return_entropy is not distributed: the CPU kernel "
                      "does not carry the entropy through a state it reads");
  // The whole-problem form: from the empty state, keys from position 0.
  std::optional<int64_t> keyPosition =
      getConstantIntValue(tile.getKeyPosition());
  if (!keyPosition || *keyPosition != 0 || !fillValue(tile.getAcc()) ||
      !fillValue(tile.getMax()) || !fillValue(tile.getSum()))
    return fail(tile, "the tile op must be the whole problem from the empty "
                      "state (as the strategies write it)");
  auto argumentOf = [&](Value v, BlockArgument &arg,
                        StringRef name) -> LogicalResult {
    arg = dyn_cast<BlockArgument>(v);
    if (!arg || arg.getOwner() != &func.getBody().front())
      return fail(tile, name + " must be an argument of @" + func.getName() +
                            ", read from the rank's shard");
    auto type = cast<RankedTensorType>(v.getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return tile.emitError() << "attn-distribute-sequence: " << name
                              << " must be a static f32 tensor, got " << type
                              << " (MPI transfers are lowered for f32)";
    return success();
  };
  if (failed(argumentOf(tile.getQuery(), d.query, "query")) ||
      failed(argumentOf(tile.getKey(), d.key, "key")) ||
      failed(argumentOf(tile.getValue(), d.value, "value")))
    return failure();
  for (BlockArgument arg : {d.query, d.key, d.value})
    for (Operation *user : arg.getUsers())
      if (user != tile && !isa<tensor::DimOp>(user))
        return fail(user, "an argument that the attention reads is used "
                          "here too; its shard holds only the rank's rows");

  Value acc = tile.getAccResult(), sum = tile.getSumResult();
  if (!acc.hasOneUse() || !sum.hasOneUse() ||
      !(d.finalize = dyn_cast<FinalizeOp>(*acc.getUsers().begin())) ||
      *sum.getUsers().begin() != d.finalize)
    return fail(tile, "the tile op's state must go to one attn.finalize");
  for (Value result : d.finalize.getResults())
    for (Operation *user : result.getUsers())
      if (!isa<func::ReturnOp>(user))
        return fail(user, "the attention's results must be returned as they "
                          "are (rank 0 gathers them)");
  if (!cast<RankedTensorType>(d.finalize.getResult().getType())
           .getElementType()
           .isF32())
    return fail(d.finalize, "the output must be f32 (MPI transfers are "
                            "lowered for f32)");

  ArrayRef<int64_t> q = tile.getQueryType().getShape();
  ArrayRef<int64_t> k = tile.getKeyType().getShape();
  d.batch = q[0];
  d.headsQ = q[1];
  d.headsKV = k[1];
  d.headDim = q[3];
  d.valueDim = tile.getValueType().getDimSize(3);
  d.queryShift = k[2] - q[2];
  SequenceDistribution distribution = *parseSequenceDistribution(mode);
  d.queries = {distribution, ranks, q[2]};
  d.keys = {distribution, ranks, k[2]};
  int64_t chunkK = d.keys.chunkLength();
  if (tile.getWindow() && tile.getNumSinks() > chunkK)
    return fail(tile, Twine(tile.getNumSinks()) +
                          " sink keys do not fit in one chunk of " +
                          Twine(chunkK) + " keys (" + mode + " over " +
                          Twine(ranks) + " ranks); use fewer ranks");
  int64_t padded = d.keys.numChunks() * chunkK - k[2];
  if (padded > 0 && !tile.getCausal())
    d.paddedKeys = chunkK - padded;
  return success();
}

void DistributeSequencePass::rewrite(func::FuncOp func, Distribution &d) {
  MLIRContext *ctx = &getContext();
  OnlineAttentionOp tile = d.tile;
  OpBuilder b(tile);
  Location loc = tile.getLoc();
  Emitter e{b, loc};
  Type f32 = b.getF32Type();
  int64_t n = ranks, chunkQ = d.queries.chunkLength(),
          chunkK = d.keys.chunkLength(), perRank = d.queries.chunksPerRank();

  // Dimensions of the arguments become constants; then the arguments
  // become the shards.
  for (BlockArgument arg : {d.query, d.key, d.value})
    for (Operation *user : llvm::make_early_inc_range(arg.getUsers()))
      if (auto dim = dyn_cast<tensor::DimOp>(user)) {
        OpBuilder at(dim);
        std::optional<int64_t> axis = dim.getConstantIndex();
        dim.replaceAllUsesWith(
            arith::ConstantIndexOp::create(
                at, dim.getLoc(),
                cast<RankedTensorType>(arg.getType()).getDimSize(*axis))
                .getResult());
        dim.erase();
      }
  auto shardType = [&](BlockArgument arg, const SequenceShards &shards) {
    auto type = cast<RankedTensorType>(arg.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[2] = shards.shardLength();
    return RankedTensorType::get(shape, f32);
  };
  RankedTensorType queryShard = shardType(d.query, d.queries);
  RankedTensorType keyShard = shardType(d.key, d.keys);
  RankedTensorType valueShard = shardType(d.value, d.keys);
  d.query.setType(queryShard);
  d.key.setType(keyShard);
  d.value.setType(valueShard);
  func.setType(FunctionType::get(ctx, func.getBody().getArgumentTypes(),
                                 func.getResultTypes()));

  Value comm = mpi::CommWorldOp::create(b, loc, mpi::CommType::get(ctx));
  Value rank = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      mpi::CommRankOp::create(b, loc, Type(), b.getI32Type(), comm).getRank());
  Value next = e.i32(e.rem(e.add(rank, e.index(1)), n));
  Value previous = e.i32(e.rem(e.add(rank, e.index(n - 1)), n));
  // The global chunk index of the `local`-th chunk of `owner`.
  auto chunkOf = [&](int64_t local, Value owner) {
    return local == 0 ? owner : e.sub(e.index(2 * n - 1), owner);
  };

  // The empty state of each local query chunk.
  Value zero = fillValue(tile.getAcc()), initialMax = fillValue(tile.getMax());
  SmallVector<int64_t> accShape = {d.batch, d.headsQ, chunkQ, d.valueDim};
  SmallVector<int64_t> rowShape = {d.batch, d.headsQ, chunkQ};
  SmallVector<Value> states, queries, queryPositions;
  for (int64_t a = 0; a < perRank; ++a) {
    states.append({e.filled(accShape, zero), e.filled(rowShape, initialMax),
                   e.filled(rowShape, fillValue(tile.getSum()))});
    queries.push_back(e.rows(d.query, b.getIndexAttr(a * chunkQ), chunkQ));
    queryPositions.push_back(
        e.add(e.index(d.queryShift), e.mul(chunkOf(a, rank), chunkQ)));
  }
  // Keys past Lk in the last chunk, masked where the rules do not.
  Value padMask;
  int64_t lastChunkPosition = (d.keys.numChunks() - 1) * chunkK;
  if (d.paddedKeys > 0) {
    auto maskType =
        RankedTensorType::get({1, 1, chunkQ, chunkK}, b.getI1Type());
    Value bound = e.index(d.paddedKeys);
    padMask =
        linalg::GenericOp::create(
            b, loc, TypeRange{maskType}, ValueRange{},
            ValueRange{e.empty(maskType.getShape(), b.getI1Type())},
            ArrayRef<AffineMap>{b.getMultiDimIdentityMap(4)},
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [&](OpBuilder &nb, Location nl, ValueRange) {
              Value j = linalg::IndexOp::create(nb, nl, 3);
              Value inside = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::ult, j, bound);
              linalg::YieldOp::create(nb, nl, inside);
            })
            .getResult(0);
  }

  // Two buffers per operand that blocks arrive in, alternating with the
  // rank's own shard as the first block.
  auto ringBuffers = [&](BlockArgument arg, RankedTensorType type) {
    auto memrefType = MemRefType::get(type.getShape(), f32);
    Value own = bufferization::ToBufferOp::create(b, loc, memrefType, arg,
                                                  /*read_only=*/true);
    Value even =
        memref::AllocOp::create(b, loc, memrefType, b.getI64IntegerAttr(64));
    Value odd =
        memref::AllocOp::create(b, loc, memrefType, b.getI64IntegerAttr(64));
    return std::array<Value, 3>{own, even, odd};
  };
  std::array<Value, 3> keyBuffers = ringBuffers(d.key, keyShard);
  std::array<Value, 3> valueBuffers = ringBuffers(d.value, valueShard);

  int64_t sinks = tile.getWindow() ? tile.getNumSinks() : 0;
  bool skipFutureChunk =
      tile.getCausal() && d.queryShift == 0 && chunkQ == chunkK && perRank == 2;
  auto stateTypes = TypeRange(ValueRange(states).take_front(3));
  // One tile op folding keys `k`, `v` at `keyPosition` into `state`.
  auto foldTile = [&](OpBuilder &at, Value q, Value k, Value v, Value mask,
                      Value queryPosition, Value keyPosition, ValueRange state,
                      bool withSinks) -> ValueRange {
    auto op = OnlineAttentionOp::create(
        at, loc, stateTypes, q, k, v, mask, /*bias=*/Value(),
        /*k_scale=*/Value(), /*v_scale=*/Value(), queryPosition, keyPosition,
        state[0], state[1], state[2], Value(), tile.getScaleAttr(),
        tile.getCausalAttr(), tile.getWindowAttr(),
        withSinks ? tile.getSinksAttr() : IntegerAttr(), tile.getSoftcapAttr(),
        tile.getScoreAttr());
    for (NamedAttribute attr : tile->getDiscardableAttrs())
      op->setAttr(attr.getName(), attr.getValue());
    return op.getResults();
  };

  // One ring step: fold the current block into every local query chunk's
  // state; with `transfer`, pass the block on and receive the next one
  // meanwhile (every step but the last: the last block needs to go nowhere).
  auto emitStep = [&](OpBuilder &lb, Value step, ValueRange carried,
                      bool transfer) -> SmallVector<Value> {
    Emitter le{lb, loc};
    Value first = le.eq(step, le.index(0));
    Value oddStep = le.eq(le.rem(step, 2), le.index(1));
    Value source = le.rem(le.sub(le.add(rank, le.index(n)), step), n);
    // Start passing the current block on and receiving the next one.
    SmallVector<Value> requests;
    SmallVector<Value> blocks;
    auto requestType = mpi::RequestType::get(ctx);
    for (auto [buffers, tag, type] :
         {std::tuple(keyBuffers, KeyTag, keyShard),
          std::tuple(valueBuffers, ValueTag, valueShard)}) {
      Value current = le.select(first, buffers[0],
                                le.select(oddStep, buffers[1], buffers[2]));
      blocks.push_back(bufferization::ToTensorOp::create(
          lb, loc, type, current, /*restrict=*/true, /*writable=*/false));
      if (!transfer)
        continue;
      Value incoming = le.select(oddStep, buffers[2], buffers[1]);
      requests.push_back(mpi::ISendOp::create(lb, loc, Type(), requestType,
                                              le.flat(current), le.i32(tag),
                                              next, comm)
                             .getReq());
      requests.push_back(mpi::IRecvOp::create(lb, loc, Type(), requestType,
                                              le.flat(incoming), le.i32(tag),
                                              previous, comm)
                             .getReq());
    }
    SmallVector<Value> updated(carried);
    for (int64_t a = 0; a < perRank; ++a)
      for (int64_t c = 0; c < perRank; ++c) {
        // A query chunk of the first half never sees keys of the
        // second half under causal.
        if (skipFutureChunk && a == 0 && c == 1)
          continue;
        Value k = le.rows(blocks[0], lb.getIndexAttr(c * chunkK), chunkK);
        Value v = le.rows(blocks[1], lb.getIndexAttr(c * chunkK), chunkK);
        Value keyPosition = le.mul(chunkOf(c, source), chunkK);
        ValueRange state = ValueRange(updated).slice(3 * a, 3);
        auto plain = [&](OpBuilder &at, Location) -> ValueRange {
          Emitter pe{at, loc};
          if (!padMask)
            return foldTile(at, queries[a], k, v, Value(), queryPositions[a],
                            keyPosition, state, false);
          auto ifOp =
              scf::IfOp::create(
                  at, loc, pe.eq(keyPosition, pe.index(lastChunkPosition)),
                  [&](OpBuilder &tb, Location) {
                    scf::YieldOp::create(
                        tb, loc,
                        foldTile(tb, queries[a], k, v, padMask,
                                 queryPositions[a],
                                 Emitter{tb, loc}.index(lastChunkPosition),
                                 state, false));
                  },
                  [&](OpBuilder &eb, Location) {
                    scf::YieldOp::create(eb, loc,
                                         foldTile(eb, queries[a], k, v, Value(),
                                                  queryPositions[a],
                                                  keyPosition, state, false));
                  });
          return ifOp.getResults();
        };
        ValueRange result;
        if (sinks > 0) {
          // The block with the sink keys at the constant position 0.
          result =
              scf::IfOp::
                  create(
                      lb, loc, le.eq(keyPosition, le.index(0)),
                      [&](OpBuilder &tb, Location) {
                        scf::YieldOp::create(
                            tb, loc,
                            foldTile(tb, queries[a], k, v, Value(),
                                     queryPositions[a],
                                     Emitter{tb, loc}.index(0), state, true));
                      },
                      [&](OpBuilder &eb, Location l) {
                        scf::YieldOp::create(eb, loc, plain(eb, l));
                      })
                      .getResults();
        } else {
          result = plain(lb, loc);
        }
        for (int64_t i = 0; i < 3; ++i)
          updated[3 * a + i] = result[i];
      }
    for (Value request : requests)
      mpi::Wait::create(lb, loc, Type(), request);
    return updated;
  };
  auto loop = scf::ForOp::create(
      b, loc, e.index(0), e.index(n - 1), e.index(1), states,
      [&](OpBuilder &lb, Location, Value step, ValueRange carried) {
        scf::YieldOp::create(lb, loc, emitStep(lb, step, carried, true));
      });
  SmallVector<Value> folded =
      emitStep(b, e.index(n - 1), loop.getResults(), false);

  // Finalize each local chunk: its output (and LSE).
  FinalizeOp finalize = d.finalize;
  bool withLse = static_cast<bool>(finalize.getLseInit());
  SmallVector<Value> outputs, lses;
  for (int64_t a = 0; a < perRank; ++a) {
    ValueRange state = ValueRange(folded).slice(3 * a, 3);
    IRMapping mapping;
    mapping.map(tile.getAccResult(), state[0]);
    mapping.map(tile.getMaxResult(), state[1]);
    mapping.map(tile.getSumResult(), state[2]);
    mapping.map(finalize.getInit(), e.empty(accShape, f32));
    if (withLse)
      mapping.map(finalize.getLseInit(), e.empty(rowShape, f32));
    Operation *chunk = b.clone(*finalize, mapping);
    chunk->getResult(0).setType(RankedTensorType::get(accShape, f32));
    outputs.push_back(chunk->getResult(0));
    if (withLse) {
      chunk->getResult(1).setType(RankedTensorType::get(rowShape, f32));
      lses.push_back(chunk->getResult(1));
    }
  }

  // Rank 0 gathers every rank's rows into the whole (padded) result.
  int64_t paddedRows = d.queries.numChunks() * chunkQ;
  SmallVector<Value> wholes = {
      e.empty({d.batch, d.headsQ, paddedRows, d.valueDim}, f32)};
  SmallVector<SmallVector<Value>> locals = {outputs};
  SmallVector<int64_t> tags = {OutputTag};
  if (withLse) {
    wholes.push_back(e.empty({d.batch, d.headsQ, paddedRows}, f32));
    locals.push_back(lses);
    tags.push_back(LseTag);
  }
  // A rank's rows of each gathered result: its chunks, one after another.
  auto gatheredShardType = [&](Value whole) {
    SmallVector<int64_t> shape(
        cast<RankedTensorType>(whole.getType()).getShape());
    shape[2] = perRank * chunkQ;
    return RankedTensorType::get(shape, f32);
  };
  auto gathered = scf::IfOp::create(
      b, loc, e.eq(rank, e.index(0)),
      [&](OpBuilder &tb, Location) {
        Emitter te{tb, loc};
        SmallVector<Value> filled;
        for (auto [whole, parts] : llvm::zip(wholes, locals)) {
          Value into = whole;
          for (int64_t a = 0; a < perRank; ++a)
            into = te.insertRows(parts[a], into,
                                 te.mul(chunkOf(a, te.index(0)), chunkQ));
          filled.push_back(into);
        }
        auto receive = scf::ForOp::create(
            tb, loc, te.index(1), te.index(n), te.index(1), filled,
            [&](OpBuilder &rb, Location, Value source, ValueRange into) {
              Emitter re{rb, loc};
              SmallVector<Value> result;
              for (auto [whole, tag, target] : llvm::zip(wholes, tags, into)) {
                RankedTensorType type = gatheredShardType(whole);
                Value buffer = memref::AllocOp::create(
                    rb, loc, MemRefType::get(type.getShape(), f32),
                    rb.getI64IntegerAttr(64));
                mpi::RecvOp::create(rb, loc, Type(), re.flat(buffer),
                                    re.i32(tag), re.i32(source), comm);
                Value shard = bufferization::ToTensorOp::create(
                    rb, loc, type, buffer,
                    /*restrict=*/true, /*writable=*/false);
                Value updated = target;
                for (int64_t a = 0; a < perRank; ++a)
                  updated = re.insertRows(
                      re.rows(shard, rb.getIndexAttr(a * chunkQ), chunkQ),
                      updated, re.mul(chunkOf(a, source), chunkQ));
                result.push_back(updated);
              }
              scf::YieldOp::create(rb, loc, result);
            });
        scf::YieldOp::create(tb, loc, receive.getResults());
      },
      [&](OpBuilder &eb, Location) {
        Emitter ee{eb, loc};
        for (auto [whole, parts, tag] : llvm::zip(wholes, locals, tags)) {
          RankedTensorType type = gatheredShardType(whole);
          Value shard = ee.empty(type.getShape(), f32);
          for (int64_t a = 0; a < perRank; ++a)
            shard = ee.insertRows(parts[a], shard, eb.getIndexAttr(a * chunkQ));
          Value buffer = bufferization::ToBufferOp::create(
              eb, loc, MemRefType::get(type.getShape(), f32), shard,
              /*read_only=*/true);
          mpi::SendOp::create(eb, loc, Type(), ee.flat(buffer), ee.i32(tag),
                              ee.i32(0), comm);
        }
        scf::YieldOp::create(eb, loc, wholes);
      });

  // The whole results without the padding rows replace the finalize's.
  for (auto [old, whole] :
       llvm::zip(finalize.getResults(), gathered.getResults()))
    old.replaceAllUsesWith(e.rows(whole, b.getIndexAttr(0), d.queries.length));
  finalize.erase();
  tile.erase();
}

void DistributeSequencePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (!parseSequenceDistribution(mode)) {
    emitError(module.getLoc()) << "attn-distribute-sequence: mode = '" << mode
                               << "' must be ring or zigzag";
    return signalPassFailure();
  }
  if (ranks < 1) {
    emitError(module.getLoc())
        << "attn-distribute-sequence: ranks = " << static_cast<int64_t>(ranks)
        << " must be at least 1";
    return signalPassFailure();
  }
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func || func.isDeclaration()) {
    emitError(module.getLoc()) << "attn-distribute-sequence: no function @"
                               << entry << " to distribute";
    return signalPassFailure();
  }
  Distribution d;
  if (failed(analyze(func, d)))
    return signalPassFailure();
  rewrite(func, d);
  // The MPI library whose ABI attn-convert-mpi-to-llvm calls.
  if (!module->hasAttr(DLTIDialect::kMapAttrName)) {
    MLIRContext *ctx = &getContext();
    module->setAttr(
        DLTIDialect::kMapAttrName,
        MapAttr::get(ctx, {DataLayoutEntryAttr::get(
                              StringAttr::get(ctx, "MPI:Implementation"),
                              StringAttr::get(ctx, "OpenMPI"))}));
  }
}
