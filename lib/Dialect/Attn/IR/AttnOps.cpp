//===- AttnOps.cpp - attn.attention and attn.neighborhood -----------------===//
//
// Verifiers and helpers of the attn ops. Every rule has its own message that
// names the operand or attribute and the rule it breaks.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/ScoreModDerivative.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

/// `ins(q, k, v, o, do[, lse] : types)`: the statistics operand is written
/// with softmax scores and left out with kernel scores.
static ParseResult
parseBackwardInputs(OpAsmParser &parser, OpAsmParser::UnresolvedOperand &query,
                    OpAsmParser::UnresolvedOperand &key,
                    OpAsmParser::UnresolvedOperand &value,
                    OpAsmParser::UnresolvedOperand &output,
                    OpAsmParser::UnresolvedOperand &gradOutput,
                    std::optional<OpAsmParser::UnresolvedOperand> &lse,
                    Type &queryType, Type &keyType, Type &valueType,
                    Type &outputType, Type &gradOutputType, Type &lseType) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<OpAsmParser::UnresolvedOperand, 6> operands;
  SmallVector<Type, 6> types;
  if (parser.parseOperandList(operands) || parser.parseColonTypeList(types))
    return failure();
  if (operands.size() != 5 && operands.size() != 6)
    return parser.emitError(loc)
           << "expected 5 inputs (query, key, value, output, grad_output) or "
              "6 (then lse), got "
           << operands.size();
  if (types.size() != operands.size())
    return parser.emitError(loc) << "expected " << operands.size()
                                 << " input types, got " << types.size();
  query = operands[0];
  key = operands[1];
  value = operands[2];
  output = operands[3];
  gradOutput = operands[4];
  queryType = types[0];
  keyType = types[1];
  valueType = types[2];
  outputType = types[3];
  gradOutputType = types[4];
  if (operands.size() == 6) {
    lse = operands[5];
    lseType = types[5];
  }
  return success();
}

static void printBackwardInputs(OpAsmPrinter &printer, Operation *, Value query,
                                Value key, Value value, Value output,
                                Value gradOutput, Value lse, Type queryType,
                                Type keyType, Type valueType, Type outputType,
                                Type gradOutputType, Type lseType) {
  printer << query << ", " << key << ", " << value << ", " << output << ", "
          << gradOutput;
  if (lse)
    printer << ", " << lse;
  printer << " : " << queryType << ", " << keyType << ", " << valueType << ", "
          << outputType << ", " << gradOutputType;
  if (lse)
    printer << ", " << lseType;
}

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

namespace {

/// Two sizes agree when either is dynamic or both are equal.
bool sizesAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string sizeString(int64_t size) {
  return ShapedType::isDynamic(size) ? std::string("?")
                                     : std::to_string(size);
}

/// Largest static size of a dimension, window bound, sink count or
/// neighborhood span: the kernels index positions with 32-bit integers.
constexpr int64_t kMaxPositions = std::numeric_limits<int32_t>::max();

bool isSupportedFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

/// How the K/V operands are named in messages, and whether their first
/// dimension is the batch (a paged cache's is its pages).
struct KVNames {
  StringRef key = "key", value = "value";
  bool batched = true;
};

/// Whether `name`'s element type is taken as written because a scale
/// operand dequantizes it (verifyKVScales checks the pair).
bool isDequantized(StringRef name, Value kScale, Value vScale,
                   const KVNames &kv = KVNames()) {
  return (name == kv.key && kScale) || (name == kv.value && vScale);
}

/// Shared q/k/v/init checks of both ops. `rank` is the expected rank of every
/// operand; `layout` names the dimensions for messages. The last dimension is
/// the head dimension, dimension 1 the heads, dimension 0 the batch, and the
/// dimensions in between the sequence (or spatial) positions. `kv` names the
/// key and value operands; a paged cache's dimension 0 is its pages, not the
/// batch.
LogicalResult verifyQkvInit(Operation *op, RankedTensorType q,
                            RankedTensorType k, RankedTensorType v,
                            RankedTensorType init, Type result,
                            ArrayRef<int64_t> allowedRanks, StringRef layout,
                            bool sameSpatial, StringRef initName = "init",
                            Value kScale = {}, Value vScale = {},
                            const KVNames &kv = KVNames()) {
  auto checkRank = [&](StringRef name, RankedTensorType type) -> LogicalResult {
    if (!llvm::is_contained(allowedRanks, type.getRank()))
      return op->emitOpError() << "'" << name << "' must have the layout "
                               << layout << ", got rank " << type.getRank();
    return success();
  };
  if (failed(checkRank("query", q)) || failed(checkRank(kv.key, k)) ||
      failed(checkRank(kv.value, v)) || failed(checkRank(initName, init)))
    return failure();
  int64_t rank = q.getRank();
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{kv.key, k},
                            {kv.value, v},
                            {initName, init}})
    if (type.getRank() != rank)
      return op->emitOpError()
             << "'" << name << "' rank " << type.getRank()
             << " must match 'query' rank " << rank;

  if (!isSupportedFloat(q.getElementType()))
    return op->emitOpError()
           << "'query' element type must be f32, f16 or bf16, got "
           << q.getElementType();
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{kv.key, k},
                            {kv.value, v},
                            {initName, init}})
    if (type.getElementType() != q.getElementType() &&
        !isDequantized(name, kScale, vScale, kv))
      return op->emitOpError()
             << "'" << name << "' element type " << type.getElementType()
             << " must match 'query' element type " << q.getElementType();
  if (result != init)
    return op->emitOpError() << "result type " << result << " must match '"
                             << initName << "' type " << init;

  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"query", q},
                            {kv.key, k},
                            {kv.value, v},
                            {initName, init}})
    for (int64_t d = 0; d < rank; ++d)
      if (!type.isDynamicDim(d) && type.getDimSize(d) > kMaxPositions)
        return op->emitOpError()
               << "'" << name << "' dimension " << d << " is "
               << type.getDimSize(d) << ", more than " << kMaxPositions
               << " (rule: a static size fits a 32-bit position index)";

  // Heads and head dimensions are static: strategies specialize on them.
  int64_t headDim = rank - 1;
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"query", q},
                            {kv.key, k},
                            {kv.value, v}}) {
    if (type.isDynamicDim(1))
      return op->emitOpError()
             << "'" << name << "' head count (dimension 1) must be static";
    if (type.isDynamicDim(headDim))
      return op->emitOpError() << "'" << name << "' head dimension (dimension "
                               << headDim << ") must be static";
    if (type.getDimSize(1) == 0 || type.getDimSize(headDim) == 0)
      return op->emitOpError()
             << "'" << name << "' heads and head dimension must be non-zero";
  }

  // Batch (a paged cache's first dimension is its pages).
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{kv.key, k},
                            {kv.value, v},
                            {initName, init}})
    if ((kv.batched || name == initName) &&
        !sizesAgree(type.getDimSize(0), q.getDimSize(0)))
      return op->emitOpError()
             << "'" << name << "' batch size " << sizeString(type.getDimSize(0))
             << " must match 'query' batch size "
             << sizeString(q.getDimSize(0));

  // Heads: GQA ratio.
  int64_t hq = q.getDimSize(1), hkv = k.getDimSize(1);
  if (v.getDimSize(1) != hkv)
    return op->emitOpError() << "'" << kv.value << "' heads " << v.getDimSize(1)
                             << " must match '" << kv.key << "' heads " << hkv;
  if (hq % hkv != 0)
    return op->emitOpError()
           << "'query' heads " << hq << " must be a multiple of '" << kv.key
           << "' heads " << hkv << " (grouped-query rule Hq % Hkv == 0)";

  // Head dimensions.
  if (k.getDimSize(headDim) != q.getDimSize(headDim))
    return op->emitOpError()
           << "'" << kv.key << "' head dimension " << k.getDimSize(headDim)
           << " must match 'query' head dimension " << q.getDimSize(headDim);

  // Sequence / spatial dimensions.
  for (int64_t d = 2; d < headDim; ++d) {
    if (!sizesAgree(v.getDimSize(d), k.getDimSize(d)))
      return op->emitOpError()
             << "'" << kv.value << "' dimension " << d << " ("
             << sizeString(v.getDimSize(d)) << ") must match '" << kv.key
             << "' dimension " << d << " (" << sizeString(k.getDimSize(d))
             << ")";
    if (sameSpatial && !sizesAgree(k.getDimSize(d), q.getDimSize(d)))
      return op->emitOpError()
             << "'key' spatial dimension " << d << " ("
             << sizeString(k.getDimSize(d)) << ") must match 'query' ("
             << sizeString(q.getDimSize(d)) << ")";
  }

  // init = [B, Hq, <query positions>, Dv].
  SmallVector<int64_t> expected(q.getShape());
  expected[headDim] = v.getDimSize(headDim);
  for (int64_t d = 0; d < rank; ++d)
    if (!sizesAgree(init.getDimSize(d), expected[d])) {
      InFlightDiagnostic diag =
          op->emitOpError() << "'" << initName << "' dimension " << d << " is "
                            << sizeString(init.getDimSize(d)) << " but must be "
                            << sizeString(expected[d]) << " (layout " << layout
                            << " with 'value' head dimension)";
      return diag;
    }
  if (init.getDimSize(1) != hq)
    return op->emitOpError()
           << "'" << initName << "' heads must be static and equal " << hq;
  if (init.isDynamicDim(headDim))
    return op->emitOpError()
           << "'" << initName << "' head dimension must be static";
  return success();
}

/// Mask and bias: [Bx, Hx, Lq, Lk] with Bx in {1, B}, Hx in {1, Hq}.
LogicalResult verifyBroadcastOperand(Operation *op, StringRef name,
                                     RankedTensorType type, RankedTensorType q,
                                     RankedTensorType k) {
  if (type.getRank() != 4)
    return op->emitOpError() << "'" << name
                             << "' must have the layout [B, H, Lq, Lk], got rank "
                             << type.getRank();
  int64_t b = type.getDimSize(0), h = type.getDimSize(1);
  if (b != 1 && !sizesAgree(b, q.getDimSize(0)))
    return op->emitOpError()
           << "'" << name << "' dimension 0 is " << sizeString(b)
           << " but must be 1 or the batch size " << sizeString(q.getDimSize(0))
           << " (broadcast rule)";
  if (h != 1 && !sizesAgree(h, q.getDimSize(1)))
    return op->emitOpError()
           << "'" << name << "' dimension 1 is " << sizeString(h)
           << " but must be 1 or the query head count " << q.getDimSize(1)
           << " (broadcast rule)";
  if (ShapedType::isDynamic(h))
    return op->emitOpError() << "'" << name
                             << "' dimension 1 (heads) must be static";
  if (!sizesAgree(type.getDimSize(2), q.getDimSize(2)))
    return op->emitOpError()
           << "'" << name << "' dimension 2 is "
           << sizeString(type.getDimSize(2)) << " but must be Lq = "
           << sizeString(q.getDimSize(2));
  if (!sizesAgree(type.getDimSize(3), k.getDimSize(2)))
    return op->emitOpError()
           << "'" << name << "' dimension 3 is "
           << sizeString(type.getDimSize(3)) << " but must be Lk = "
           << sizeString(k.getDimSize(2));
  return success();
}

/// The mask (i1) and bias (f32, f16 or bf16) operands, each broadcast as
/// verifyBroadcastOperand says; either may be null.
LogicalResult verifyMaskAndBias(Operation *op, Value mask, Value bias,
                                RankedTensorType q, RankedTensorType k) {
  if (mask) {
    auto type = cast<RankedTensorType>(mask.getType());
    if (!type.getElementType().isInteger(1))
      return op->emitOpError() << "'mask' element type must be i1 (true = may "
                                  "attend), got "
                               << type.getElementType();
    if (failed(verifyBroadcastOperand(op, "mask", type, q, k)))
      return failure();
  }
  if (bias) {
    auto type = cast<RankedTensorType>(bias.getType());
    if (!isSupportedFloat(type.getElementType()))
      return op->emitOpError()
             << "'bias' element type must be f32, f16 or bf16, got "
             << type.getElementType();
    if (failed(verifyBroadcastOperand(op, "bias", type, q, k)))
      return failure();
  }
  return success();
}

/// The score attributes and allowed-key rules that attn.attention and
/// attn.online_attention share: scale, softcap, sinks, window, and what a
/// feature-map score excludes.
LogicalResult verifyScoreAndRules(Operation *op, FloatAttr scaleAttr,
                                  FloatAttr softcapAttr, IntegerAttr sinksAttr,
                                  WindowAttr window, ScoreAttr score,
                                  bool hasBias) {
  if (scaleAttr && !std::isfinite(scaleAttr.getValueAsDouble()))
    return op->emitOpError() << "'scale' must be finite";
  if (softcapAttr) {
    double c = softcapAttr.getValueAsDouble();
    if (!(c > 0) || !std::isfinite(c))
      return op->emitOpError() << "'softcap' must be positive and finite, got "
                               << c;
  }
  int64_t sinks = sinksAttr ? sinksAttr.getInt() : 0;
  if (sinks < 0)
    return op->emitOpError() << "'sinks' must be non-negative, got " << sinks;
  if (sinks > kMaxPositions)
    return op->emitOpError() << "'sinks' is " << sinks << ", more than "
                             << kMaxPositions
                             << " (rule: a position fits a 32-bit index)";
  if (window && ((window.getLeft() && *window.getLeft() < 0) ||
                 (window.getRight() && *window.getRight() < 0)))
    return op->emitOpError() << "'window' bounds must be non-negative";
  if (sinks > 0 && !window)
    return op->emitOpError() << "'sinks' only exempts keys from a 'window'; "
                                "it needs a 'window' attribute";

  if (score.isFeatureProduct()) {
    StringRef map = score.getName();
    if (hasBias)
      return op->emitOpError() << "'bias' cannot apply to #attn.score<kernel<"
                               << map << ">>: that feature map never forms the "
                                         "score q.k that a bias adds to";
    if (softcapAttr)
      return op->emitOpError()
             << "'softcap' cannot apply to #attn.score<kernel<" << map
             << ">>: that feature map never forms the score q.k that softcap "
                "bounds";
  }
  return success();
}

/// The rules of a `score_mod` or `mask_mod` region (empty: absent): one
/// block taking `argTypes`, ending in attn.yield of one `yieldType`, whose
/// other ops are pure scalar ops of the arith, math and index dialects or
/// tensor.extract (of tensors defined above the op: nothing in the region
/// makes a tensor). `signature` spells the arguments for messages.
LogicalResult verifyModRegion(Operation *op, Region &region, StringRef name,
                              ArrayRef<Type> argTypes, StringRef signature,
                              Type yieldType) {
  if (region.empty())
    return success();
  if (!region.hasOneBlock())
    return op->emitOpError() << "'" << name << "' must have one block";
  Block &block = region.front();
  if (block.getNumArguments() != argTypes.size() ||
      block.getArgumentTypes() != TypeRange(argTypes)) {
    std::string got;
    llvm::raw_string_ostream os(got);
    llvm::interleaveComma(block.getArgumentTypes(), os);
    return op->emitOpError() << "'" << name << "' block must take " << signature
                             << ", got (" << got << ")";
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op->emitOpError() << "'" << name << "' must end in attn.yield";
  if (yield.getValue().getType() != yieldType)
    return op->emitOpError() << "'" << name << "' must yield " << yieldType
                             << ", got " << yield.getValue().getType();
  for (Operation &inner : block.without_terminator()) {
    Dialect *dialect = inner.getDialect();
    bool scalarOp = isa_and_nonnull<arith::ArithDialect, math::MathDialect,
                                    index::IndexDialect>(dialect) &&
                    inner.getNumRegions() == 0 && isPure(&inner);
    if (!scalarOp && !isa<tensor::ExtractOp>(inner))
      return op->emitOpError()
             << "'" << name << "' may hold only pure arith, math and index "
             << "ops and tensor.extract, got '" << inner.getName() << "'";
    for (Type type : inner.getResultTypes())
      if (!type.isIntOrIndexOrFloat())
        return op->emitOpError() << "'" << name << "' computes scalars only: '"
                                 << inner.getName() << "' makes " << type;
  }
  return success();
}

/// Both regions of attn.attention or attn.neighborhood. `positions` is the
/// number of index arguments that locate the query (and as many the key),
/// and `positionText` spells them.
LogicalResult verifyModRegions(Operation *op, Region &scoreMod, Region &maskMod,
                               unsigned positions, StringRef positionText,
                               ScoreAttr score) {
  MLIRContext *ctx = op->getContext();
  Builder b(ctx);
  SmallVector<Type> maskArgs(2 + 2 * positions, b.getIndexType());
  SmallVector<Type> scoreArgs = {b.getF32Type()};
  scoreArgs.append(maskArgs);
  std::string scoreSignature =
      ("(s: f32, b, h, " + positionText + ": index)").str();
  std::string maskSignature = ("(b, h, " + positionText + ": index)").str();
  if (failed(verifyModRegion(op, scoreMod, "score_mod", scoreArgs,
                             scoreSignature, b.getF32Type())) ||
      failed(verifyModRegion(op, maskMod, "mask_mod", maskArgs, maskSignature,
                             b.getI1Type())))
    return failure();
  if (!scoreMod.empty() && score.isFeatureProduct())
    return op->emitOpError()
           << "'score_mod' cannot apply to #attn.score<kernel<"
           << score.getName()
           << ">>: that feature map never forms the score q.k it rewrites";
  return success();
}

/// Whether `type` is an f32 tensor whose shape agrees with `shape`.
bool isF32OfShape(Type type, ArrayRef<int64_t> shape) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isF32() &&
         tensor.getRank() == static_cast<int64_t>(shape.size()) &&
         llvm::all_of(llvm::seq<size_t>(0, shape.size()), [&](size_t d) {
           return sizesAgree(tensor.getDimSize(d), shape[d]);
         });
}

/// The f32 tensor type of `shape` as text ("?" for dynamic sizes).
std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text = "tensor<";
  for (int64_t size : shape)
    text += sizeString(size) + "x";
  return text + "f32>";
}

/// The log-sum-exp result of an op with `return_lse` and no other
/// statistic: one result after the output exactly when the flag is set,
/// f32 of shape `rows` (`rowsName` says what that shape is).
LogicalResult verifyLseResult(Operation *op, ValueRange statistics,
                              bool returnLse, ArrayRef<int64_t> rows,
                              StringRef rowsName) {
  size_t expected = returnLse ? 1 : 0;
  if (statistics.size() != expected)
    return op->emitOpError()
           << "has " << statistics.size()
           << " results after the output but 'return_lse' asks for "
           << expected;
  if (returnLse && !isF32OfShape(statistics[0].getType(), rows))
    return op->emitOpError()
           << "'lse' result must be " << shapeString(rows) << " (" << rowsName
           << "), got " << statistics[0].getType();
  return success();
}

/// `sink_logits` (may be null): f32 [Hq], with a softmax score.
LogicalResult verifySinkLogits(Operation *op, Value sinkLogits,
                               RankedTensorType q, ScoreAttr score) {
  if (!sinkLogits)
    return success();
  auto type = cast<RankedTensorType>(sinkLogits.getType());
  if (type.getRank() != 1 || type.getDimSize(0) != q.getDimSize(1) ||
      !type.getElementType().isF32())
    return op->emitOpError()
           << "'sink_logits' must be tensor<" << q.getDimSize(1)
           << "xf32> (one logit per query head), got " << type;
  if (!score.getFunction()->scoresInLog2Domain())
    return op->emitOpError()
           << "'sink_logits' need #attn.score<softmax>: a sink logit "
              "enters the normalization as exp(sink), got "
           << score;
  return success();
}

/// Quantized K/V: an i8 or f8E4M3FN `key`/`value` comes with its scale
/// operand, f32 over the operand's first three dimensions for i8 ([B, Hkv,
/// keysName], or a paged cache's [pages, Hkv, page_size]) and [Hkv] for
/// f8E4M3FN; a scale comes only with a quantized operand.
LogicalResult verifyKVScales(Operation *op, RankedTensorType k,
                             RankedTensorType v, Value kScale, Value vScale,
                             StringRef keysName,
                             const KVNames &kv = KVNames()) {
  for (auto [name, scaleName, type, scale] :
       {std::tuple<StringRef, StringRef, RankedTensorType, Value>{
            kv.key, "k_scale", k, kScale},
        {kv.value, "v_scale", v, vScale}}) {
    Type element = type.getElementType();
    bool quantized = isQuantizedKVElement(element);
    if (quantized && !scale)
      return op->emitOpError()
             << "'" << name << "' of element type " << element
             << " is quantized and needs a '" << scaleName
             << "' operand (its dequantization scales)";
    if (!scale)
      continue;
    if (!quantized)
      return op->emitOpError()
             << "'" << scaleName << "' needs a quantized '" << name
             << "' (element type i8 or f8E4M3FN), got " << element;
    if (type.getRank() != 4)
      continue; // The layout rule names the operand.
    auto scaleType = cast<RankedTensorType>(scale.getType());
    SmallVector<int64_t> expected;
    StringRef meaning;
    if (element.isInteger(8)) {
      expected = {type.getDimSize(0), type.getDimSize(1), type.getDimSize(2)};
      meaning = kv.batched ? "one scale per (batch, KV head, key) for i8"
                           : "one scale per cached key for i8";
    } else {
      expected = {type.getDimSize(1)};
      meaning = "one scale per KV head for f8E4M3FN";
    }
    bool shapeOk = scaleType.getRank() == int64_t(expected.size());
    for (int64_t d = 0; shapeOk && d < scaleType.getRank(); ++d)
      shapeOk = sizesAgree(scaleType.getDimSize(d), expected[d]);
    if (!shapeOk || !scaleType.getElementType().isF32()) {
      std::string shape;
      for (int64_t size : expected)
        shape += sizeString(size) + "x";
      InFlightDiagnostic diag = op->emitOpError()
                                << "'" << scaleName << "' must be tensor<"
                                << shape << "f32> (" << meaning << ", [";
      if (!element.isInteger(8))
        diag << "Hkv";
      else if (kv.batched)
        diag << "B, Hkv, " << keysName;
      else
        diag << "pages, Hkv, page_size";
      return diag << "]), got " << scaleType;
    }
  }
  return success();
}

/// The written scale, or 1/sqrt(D) of `q`.
float effectiveScale(FloatAttr scale, RankedTensorType q) {
  if (scale)
    return scale.getValueAsDouble();
  return 1.0f / std::sqrt(static_cast<float>(q.getShape().back()));
}

/// The written score, or softmax.
ScoreAttr effectiveScore(ScoreAttr score, MLIRContext *ctx) {
  return score ? score : ScoreAttr::getSoftmax(ctx);
}

} // namespace

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

float AttentionOp::getEffectiveScale() {
  return effectiveScale(getScaleAttr(), getQueryType());
}

ScoreAttr AttentionOp::getEffectiveScore() {
  return effectiveScore(getScoreAttr(), getContext());
}

LogicalResult AttentionOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType();
  auto init = cast<RankedTensorType>(getInit().getType());
  if (failed(verifyKVScales(*this, k, v, getKScale(), getVScale(), "Lk")) ||
      failed(verifyQkvInit(*this, q, k, v, init, getResult().getType(), {4},
                           "[B, H, L, D]", /*sameSpatial=*/false, "init",
                           getKScale(), getVScale())))
    return failure();

  if (failed(verifyMaskAndBias(*this, getMask(), getBias(), q, k)))
    return failure();

  if (failed(verifySinkLogits(*this, getSinkLogits(), q, getEffectiveScore())))
    return failure();

  // Row statistics: one result per flag, f32 [B, Hq, Lq].
  size_t expectedStatistics =
      (getReturnLse() ? 1 : 0) + (getReturnEntropy() ? 1 : 0);
  if (getStatistics().size() != expectedStatistics)
    return emitOpError() << "has " << getStatistics().size()
                         << " results after the output but its flags ask for "
                         << expectedStatistics
                         << " (one per return_lse and return_entropy)";
  if (getReturnLse() &&
      !getEffectiveScore().getFunction()->scoresInLog2Domain())
    return emitOpError() << "'return_lse' needs #attn.score<softmax>: the "
                            "log-sum-exp is of exp(s), got "
                         << getEffectiveScore();
  if (getReturnEntropy() && !getEffectiveScore().getNormalize())
    return emitOpError() << "'return_entropy' needs a score that normalizes "
                            "(its weights are a distribution), got "
                         << getEffectiveScore();
  SmallVector<int64_t> rows = {q.getDimSize(0), q.getDimSize(1),
                               q.getDimSize(2)};
  for (Value statistic : getStatistics())
    if (!isF32OfShape(statistic.getType(), rows))
      return emitOpError() << "'" << (statistic == getLse() ? "lse" : "entropy")
                           << "' result must be " << shapeString(rows)
                           << " ([B, Hq, Lq] of 'query'), got "
                           << statistic.getType();

  return verifyScoreAndRules(*this, getScaleAttr(), getSoftcapAttr(),
                             getSinksAttr(), getWindowAttr(),
                             getEffectiveScore(), getBias() != nullptr);
}

LogicalResult AttentionOp::verifyRegions() {
  return verifyModRegions(*this, getScoreMod(), getMaskMod(), 1, "i, j",
                          getEffectiveScore());
}

//===----------------------------------------------------------------------===//
// AttentionBackwardOp
//===----------------------------------------------------------------------===//

float AttentionBackwardOp::getEffectiveScale() {
  return effectiveScale(getScaleAttr(), getQueryType());
}

ScoreAttr AttentionBackwardOp::getEffectiveScore() {
  return effectiveScore(getScoreAttr(), getContext());
}

LogicalResult AttentionBackwardOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType();
  auto o = cast<RankedTensorType>(getOutput().getType());
  if (failed(verifyQkvInit(*this, q, k, v, o, o, {4}, "[B, H, L, D]",
                           /*sameSpatial=*/false, "output")))
    return failure();
  if (getGradOutput().getType() != o)
    return emitOpError() << "'grad_output' type " << getGradOutput().getType()
                         << " must match 'output' type " << o;
  SmallVector<int64_t> rows = {q.getDimSize(0), q.getDimSize(1),
                               q.getDimSize(2)};
  ScoreAttr score = getEffectiveScore();
  const ScoreFunction *function = score.getFunction();
  // Softmax takes the forward's LSE; every other score (kernel scores,
  // softplus) forms each row's normalizer again.
  bool takesLse = function->scoresInLog2Domain();
  if (!takesLse && getLse())
    return emitOpError() << "takes no 'lse' with the score " << score
                         << ": it forms each row's normalizer again; end "
                            "'ins' at 'grad_output'";
  if (!takesLse && !function->hasWeightDerivative())
    return emitOpError() << "cannot differentiate the score " << score
                         << ": its weight has no derivative rule";
  if (takesLse && !getLse())
    return emitOpError() << "needs 'lse' (the forward op's return_lse "
                            "result) after 'grad_output' with the score "
                         << score;
  if (getLse() && !isF32OfShape(getLse().getType(), rows))
    return emitOpError() << "'lse' must be " << shapeString(rows)
                         << " ([B, Hq, Lq] of 'query', the forward op's "
                            "return_lse result), got "
                         << getLse().getType();
  if (failed(verifyMaskAndBias(*this, getMask(), getBias(), q, k)) ||
      failed(verifySinkLogits(*this, getSinkLogits(), q, score)))
    return failure();

  // One init and one result per gradient, of the differentiated operand's
  // type.
  SmallVector<std::pair<StringRef, Value>> differentiated = {
      {"query", getQuery()}, {"key", getKey()}, {"value", getValue()}};
  if (getBias())
    differentiated.push_back({"bias", getBias()});
  if (getSinkLogits())
    differentiated.push_back({"sink_logits", getSinkLogits()});
  if (getInits().size() != differentiated.size() ||
      getGradients().size() != differentiated.size())
    return emitOpError() << "has " << getInits().size() << " inits and "
                         << getGradients().size()
                         << " results but differentiates "
                         << differentiated.size()
                         << " operands (query, key, value, then bias and "
                            "sink_logits when present): one of each per "
                            "operand";
  for (auto [n, entry] : llvm::enumerate(differentiated)) {
    Type expected = entry.second.getType();
    if (getInits()[n].getType() != expected)
      return emitOpError() << "init " << n << " (the gradient of '"
                           << entry.first << "') must have its type "
                           << expected << ", got " << getInits()[n].getType();
    if (getGradients()[n].getType() != expected)
      return emitOpError() << "result " << n << " (the gradient of '"
                           << entry.first << "') must have its type "
                           << expected << ", got "
                           << getGradients()[n].getType();
  }
  return verifyScoreAndRules(*this, getScaleAttr(), getSoftcapAttr(),
                             getSinksAttr(), getWindowAttr(), score,
                             getBias() != nullptr);
}

LogicalResult AttentionBackwardOp::verifyRegions() {
  if (failed(verifyModRegions(*this, getScoreMod(), getMaskMod(), 1, "i, j",
                              getEffectiveScore())))
    return failure();
  if (Operation *op = findNonDifferentiableScoreOp(getScoreMod()))
    return emitOpError() << "cannot differentiate 'score_mod': '"
                         << op->getName()
                         << "' reads the score and has no derivative rule";
  return success();
}

//===----------------------------------------------------------------------===//
// NeighborhoodOp
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> intsOr(std::optional<ArrayAttr> attr, int64_t rank,
                                   int64_t fallback) {
  if (!attr)
    return SmallVector<int64_t>(rank, fallback);
  return llvm::to_vector(llvm::map_range(
      *attr, [](Attribute a) { return cast<IntegerAttr>(a).getInt(); }));
}

static SmallVector<bool> boolsOr(std::optional<ArrayAttr> attr, int64_t rank) {
  if (!attr)
    return SmallVector<bool>(rank, false);
  return llvm::to_vector(llvm::map_range(
      *attr, [](Attribute a) { return cast<BoolAttr>(a).getValue(); }));
}

/// NATTEN's rule as the attributes of a neighborhood op (forward or
/// backward) over the spatial axes of `q`: one entry per axis, kernel and
/// dilation of at least 1, stride from 1 to the kernel, kernel * dilation
/// within the extent, the grid and the window's span within 32-bit
/// positions, a finite scale.
static LogicalResult verifyNeighborhoodRule(
    Operation *op, RankedTensorType q, ArrayAttr kernelAttr,
    std::optional<ArrayAttr> dilationAttr, std::optional<ArrayAttr> causalAttr,
    std::optional<ArrayAttr> strideAttr, FloatAttr scaleAttr) {
  int64_t rank = q.getRank() - 3;

  auto checkLength = [&](StringRef name, size_t size) -> LogicalResult {
    if (static_cast<int64_t>(size) != rank)
      return op->emitOpError()
             << "'" << name << "' has " << size << " entries but the input has "
             << rank << " spatial axes";
    return success();
  };
  if (failed(checkLength("kernel", kernelAttr.size())))
    return failure();
  if (dilationAttr && failed(checkLength("dilation", dilationAttr->size())))
    return failure();
  if (causalAttr && failed(checkLength("causal", causalAttr->size())))
    return failure();
  if (strideAttr && failed(checkLength("stride", strideAttr->size())))
    return failure();

  SmallVector<int64_t> kernel = intsOr(std::optional<ArrayAttr>(kernelAttr),
                                       rank, 1),
                       dilation = intsOr(dilationAttr, rank, 1),
                       stride = intsOr(strideAttr, rank, 1);
  // The flattened spatial grid and the window's span are position indices.
  int64_t positions = 1, span = 1;
  for (int64_t axis = 0; axis < rank; ++axis) {
    int64_t extent = q.getDimSize(2 + axis);
    if (!ShapedType::isDynamic(extent) &&
        (positions = positions * extent) > kMaxPositions)
      return op->emitOpError()
             << "the spatial grid of 'query' has more than " << kMaxPositions
             << " positions (rule: a flattened position fits a "
                "32-bit index)";
  }
  for (int64_t axis = 0; axis < rank; ++axis) {
    if (kernel[axis] < 1)
      return op->emitOpError() << "'kernel' entry " << axis
                               << " must be at least 1, got " << kernel[axis];
    if (dilation[axis] < 1)
      return op->emitOpError() << "'dilation' entry " << axis
                               << " must be at least 1, got " << dilation[axis];
    if (stride[axis] < 1 || stride[axis] > kernel[axis])
      return op->emitOpError() << "'stride' entry " << axis
                               << " must be between 1 and the kernel size "
                               << kernel[axis] << ", got " << stride[axis];
    // Each factor is checked before the next multiplication: no overflow.
    if (kernel[axis] > kMaxPositions || dilation[axis] > kMaxPositions ||
        (span *= kernel[axis]) > kMaxPositions ||
        (span *= dilation[axis]) > kMaxPositions)
      return op->emitOpError()
             << "the window spans more than " << kMaxPositions
             << " positions up to axis " << axis
             << " (rule: the product of kernel * dilation over the axes fits "
                "a 32-bit position index)";
    int64_t extent = q.getDimSize(2 + axis);
    if (!ShapedType::isDynamic(extent) &&
        kernel[axis] * dilation[axis] > extent)
      return op->emitOpError() << "kernel * dilation on axis " << axis << " is "
                               << kernel[axis] << " * " << dilation[axis]
                               << " = " << kernel[axis] * dilation[axis]
                               << ", larger than the spatial extent " << extent
                               << " (rule kernel * dilation <= extent)";
  }
  if (scaleAttr)
    if (!std::isfinite(scaleAttr.getValueAsDouble()))
      return op->emitOpError() << "'scale' must be finite";
  return success();
}

SmallVector<int64_t> NeighborhoodOp::getKernelSizes() {
  return intsOr(std::optional<ArrayAttr>(getKernel()), getSpatialRank(), 1);
}
SmallVector<int64_t> NeighborhoodOp::getDilations() {
  return intsOr(getDilation(), getSpatialRank(), 1);
}
SmallVector<int64_t> NeighborhoodOp::getStrides() {
  return intsOr(getStride(), getSpatialRank(), 1);
}
SmallVector<bool> NeighborhoodOp::getCausalAxes() {
  return boolsOr(getCausal(), getSpatialRank());
}

float NeighborhoodOp::getEffectiveScale() {
  return effectiveScale(getScaleAttr(), getQueryType());
}

/// The shape of a neighborhood op's per-query statistics: `q`'s without D.
static SmallVector<int64_t> spatialRows(RankedTensorType q) {
  return SmallVector<int64_t>(q.getShape().drop_back());
}

/// The position arguments of a neighborhood op's mods, by spatial rank.
static constexpr StringLiteral kNeighborhoodPositions[] = {
    "qx, kx", "qx, qy, kx, ky", "qx, qy, qz, kx, ky, kz"};

static constexpr StringLiteral kNeighborhoodLayouts =
    "[B, H, X, D], [B, H, X, Y, D] or [B, H, X, Y, Z, D]";

LogicalResult NeighborhoodOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType();
  auto init = cast<RankedTensorType>(getInit().getType());
  if (failed(verifyQkvInit(*this, q, k, v, init, getResult().getType(),
                           {4, 5, 6}, kNeighborhoodLayouts,
                           /*sameSpatial=*/true)) ||
      failed(verifyNeighborhoodRule(*this, q, getKernel(), getDilation(),
                                    getCausal(), getStride(), getScaleAttr())))
    return failure();
  return verifyLseResult(*this, getStatistics(), getReturnLse(), spatialRows(q),
                         "'query' without its last dimension");
}

LogicalResult NeighborhoodOp::verifyRegions() {
  int64_t rank = getSpatialRank();
  if (rank < 1 || rank > 3)
    return success(); // verify() reports the layout.
  return verifyModRegions(*this, getScoreMod(), getMaskMod(), rank,
                          kNeighborhoodPositions[rank - 1],
                          ScoreAttr::getSoftmax(getContext()));
}

//===----------------------------------------------------------------------===//
// NeighborhoodBackwardOp
//===----------------------------------------------------------------------===//

SmallVector<int64_t> NeighborhoodBackwardOp::getKernelSizes() {
  return intsOr(std::optional<ArrayAttr>(getKernel()), getSpatialRank(), 1);
}
SmallVector<int64_t> NeighborhoodBackwardOp::getDilations() {
  return intsOr(getDilation(), getSpatialRank(), 1);
}
SmallVector<int64_t> NeighborhoodBackwardOp::getStrides() {
  return intsOr(getStride(), getSpatialRank(), 1);
}
SmallVector<bool> NeighborhoodBackwardOp::getCausalAxes() {
  return boolsOr(getCausal(), getSpatialRank());
}

float NeighborhoodBackwardOp::getEffectiveScale() {
  return effectiveScale(getScaleAttr(), getQueryType());
}

LogicalResult NeighborhoodBackwardOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType();
  auto o = cast<RankedTensorType>(getOutput().getType());
  if (failed(verifyQkvInit(*this, q, k, v, o, o, {4, 5, 6},
                           kNeighborhoodLayouts, /*sameSpatial=*/true,
                           "output")) ||
      failed(verifyNeighborhoodRule(*this, q, getKernel(), getDilation(),
                                    getCausal(), getStride(), getScaleAttr())))
    return failure();
  if (getGradOutput().getType() != o)
    return emitOpError() << "'grad_output' type " << getGradOutput().getType()
                         << " must match 'output' type " << o;
  if (!isF32OfShape(getLse().getType(), spatialRows(q)))
    return emitOpError() << "'lse' must be " << shapeString(spatialRows(q))
                         << " ('query' without its last dimension, the "
                            "forward op's return_lse result), got "
                         << getLse().getType();
  std::pair<StringRef, Value> differentiated[] = {
      {"query", getQuery()}, {"key", getKey()}, {"value", getValue()}};
  if (getInits().size() != 3 || getGradients().size() != 3)
    return emitOpError() << "has " << getInits().size() << " inits and "
                         << getGradients().size()
                         << " results but differentiates 3 operands (query, "
                            "key, value): one of each per operand";
  for (auto [n, entry] : llvm::enumerate(differentiated)) {
    Type expected = entry.second.getType();
    if (getInits()[n].getType() != expected)
      return emitOpError() << "init " << n << " (the gradient of '"
                           << entry.first << "') must have its type "
                           << expected << ", got " << getInits()[n].getType();
    if (getGradients()[n].getType() != expected)
      return emitOpError() << "result " << n << " (the gradient of '"
                           << entry.first << "') must have its type "
                           << expected << ", got "
                           << getGradients()[n].getType();
  }
  return success();
}

LogicalResult NeighborhoodBackwardOp::verifyRegions() {
  int64_t rank = getSpatialRank();
  if (rank < 1 || rank > 3)
    return success(); // verify() reports the layout.
  if (failed(verifyModRegions(*this, getScoreMod(), getMaskMod(), rank,
                              kNeighborhoodPositions[rank - 1],
                              ScoreAttr::getSoftmax(getContext()))))
    return failure();
  if (Operation *op = findNonDifferentiableScoreOp(getScoreMod()))
    return emitOpError() << "cannot differentiate 'score_mod': '"
                         << op->getName()
                         << "' reads the score and has no derivative rule";
  return success();
}

//===----------------------------------------------------------------------===//
// OnlineAttentionOp
//===----------------------------------------------------------------------===//

ScoreAttr OnlineAttentionOp::getEffectiveScore() {
  return effectiveScore(getScoreAttr(), getContext());
}

LogicalResult OnlineAttentionOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType();
  if (failed(verifyKVScales(*this, k, v, getKScale(), getVScale(), "N")))
    return failure();
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"query", q},
                            {"key", k},
                            {"value", v}}) {
    if (type.getRank() != 4)
      return emitOpError() << "'" << name
                           << "' must have the layout [B, H, L, D], got rank "
                           << type.getRank();
    if ((!isSupportedFloat(type.getElementType()) ||
         type.getElementType() != q.getElementType()) &&
        !isDequantized(name, getKScale(), getVScale()))
      return emitOpError() << "'" << name << "' element type "
                           << type.getElementType()
                           << " must be f32, f16 or bf16 and match 'query'";
    if (type.isDynamicDim(1) || type.isDynamicDim(3))
      return emitOpError() << "'" << name
                           << "' heads and head dimension must be static";
  }
  int64_t hq = q.getDimSize(1), hkv = k.getDimSize(1);
  if (v.getDimSize(1) != hkv || hkv == 0 || hq % hkv != 0)
    return emitOpError() << "'query' heads " << hq << ", 'key' heads " << hkv
                         << " and 'value' heads " << v.getDimSize(1)
                         << " break the grouped-query rule (Hk = Hv, Hq % Hk "
                            "== 0)";
  if (k.getDimSize(3) != q.getDimSize(3))
    return emitOpError() << "'key' head dimension " << k.getDimSize(3)
                         << " must match 'query' head dimension "
                         << q.getDimSize(3);
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"key", k},
                            {"value", v}})
    if (!sizesAgree(type.getDimSize(0), q.getDimSize(0)))
      return emitOpError() << "'" << name << "' batch size "
                           << sizeString(type.getDimSize(0))
                           << " must match 'query' batch size "
                           << sizeString(q.getDimSize(0));
  if (!sizesAgree(v.getDimSize(2), k.getDimSize(2)))
    return emitOpError() << "'value' keys " << sizeString(v.getDimSize(2))
                         << " must match 'key' keys "
                         << sizeString(k.getDimSize(2));

  // The state: f32, [B, Hq, M, Dv] and twice [B, Hq, M].
  SmallVector<int64_t> rowsShape = {q.getDimSize(0), hq, q.getDimSize(2)};
  SmallVector<int64_t> accShape = {q.getDimSize(0), hq, q.getDimSize(2),
                                   v.getDimSize(3)};
  for (auto [name, init, result, shape] :
       {std::tuple<StringRef, Value, Value, ArrayRef<int64_t>>{
            "acc", getAcc(), getAccResult(), accShape},
        {"max", getMax(), getMaxResult(), rowsShape},
        {"sum", getSum(), getSumResult(), rowsShape}}) {
    auto type = cast<RankedTensorType>(init.getType());
    if (!type.getElementType().isF32() ||
        type.getRank() != static_cast<int64_t>(shape.size()) ||
        !llvm::all_of(llvm::zip_equal(type.getShape(), shape), [](auto pair) {
          return sizesAgree(std::get<0>(pair), std::get<1>(pair));
        })) {
      InFlightDiagnostic diag = emitOpError()
                                << "'" << name << "' must be f32 of shape [";
      llvm::interleave(shape, diag, [&](int64_t d) { diag << sizeString(d); },
                       ", ");
      return diag << "], got " << type;
    }
    if (result.getType() != type)
      return emitOpError() << "result '" << name << "' type "
                           << result.getType() << " must match its init "
                           << type;
  }

  // The optional entropy part: like sum, with its result.
  if (static_cast<bool>(getEntropy()) != static_cast<bool>(getEntropyResult()))
    return emitOpError() << "has an 'entropy' result exactly when it has an "
                            "'entropy' state";
  if (Value entropy = getEntropy()) {
    if (entropy.getType() != getSum().getType() ||
        getEntropyResult().getType() != entropy.getType())
      return emitOpError() << "'entropy' state and result must have the type "
                              "of 'sum' "
                           << getSum().getType() << ", got "
                           << entropy.getType() << ", "
                           << getEntropyResult().getType();
    if (!getEffectiveScore().getNormalize())
      return emitOpError() << "'entropy' needs a score that normalizes, got "
                           << getEffectiveScore();
  }

  if (failed(verifyMaskAndBias(*this, getMask(), getBias(), q, k)))
    return failure();

  return verifyScoreAndRules(*this, getScaleAttr(), getSoftcapAttr(),
                             getSinksAttr(), getWindowAttr(),
                             getEffectiveScore(), getBias() != nullptr);
}

LogicalResult OnlineAttentionOp::verifyRegions() {
  return verifyModRegions(*this, getScoreMod(), getMaskMod(), 1, "i, j",
                          getEffectiveScore());
}

ScoreAttr FinalizeOp::getEffectiveScore() {
  return effectiveScore(getScoreAttr(), getContext());
}

LogicalResult FinalizeOp::verify() {
  auto acc = cast<RankedTensorType>(getAcc().getType());
  auto sum = cast<RankedTensorType>(getSum().getType());
  auto init = cast<RankedTensorType>(getInit().getType());
  if (acc.getRank() != 4 || !acc.getElementType().isF32())
    return emitOpError() << "'acc' must be f32 of rank 4 [B, Hq, M, Dv], got "
                         << acc;
  if (sum.getRank() != 3 || !sum.getElementType().isF32() ||
      !llvm::all_of(llvm::seq<int64_t>(0, 3), [&](int64_t d) {
        return sizesAgree(sum.getDimSize(d), acc.getDimSize(d));
      }))
    return emitOpError() << "'sum' must be f32 of shape [B, Hq, M] of 'acc' "
                         << acc << ", got " << sum;
  if (init.getRank() != 4 || !isSupportedFloat(init.getElementType()) ||
      !llvm::all_of(llvm::seq<int64_t>(0, 4), [&](int64_t d) {
        return sizesAgree(init.getDimSize(d), acc.getDimSize(d));
      }))
    return emitOpError() << "'init' must have the shape of 'acc' " << acc
                         << " and element type f32, f16 or bf16, got " << init;
  if (getResult().getType() != init)
    return emitOpError() << "result type " << getResult().getType()
                         << " must match 'init' " << init;
  Value max = getMax();
  if (max && max.getType() != sum)
    return emitOpError() << "'max' must have the type of 'sum' " << sum
                         << ", got " << max.getType();
  if (Value lseInit = getLseInit()) {
    if (!max)
      return emitOpError()
             << "'lse' needs the state's 'max': LSE = ln 2 (max + log2 sum)";
    if (!getEffectiveScore().getFunction()->scoresInLog2Domain())
      return emitOpError() << "'lse' needs #attn.score<softmax>, got "
                           << getEffectiveScore();
    if (lseInit.getType() != sum)
      return emitOpError() << "'lse' init must have the type of 'sum' " << sum
                           << ", got " << lseInit.getType();
  }
  if (Value entropySum = getEntropySum()) {
    if (!getEffectiveScore().getNormalize())
      return emitOpError() << "'entropy' needs a score that normalizes, got "
                           << getEffectiveScore();
    if (entropySum.getType() != sum || getEntropyInit().getType() != sum)
      return emitOpError() << "'entropy' state and init must have the type "
                              "of 'sum' "
                           << sum << ", got " << entropySum.getType() << ", "
                           << getEntropyInit().getType();
  }
  size_t statistics = (getLseInit() ? 1 : 0) + (getEntropyInit() ? 1 : 0);
  if (getStatistics().size() != statistics)
    return emitOpError() << "has " << getStatistics().size()
                         << " results after the output but " << statistics
                         << " inits for them (lse, entropy)";
  for (Value statistic : getStatistics())
    if (statistic.getType() != sum)
      return emitOpError() << "'" << (statistic == getLse() ? "lse" : "entropy")
                           << "' result type " << statistic.getType()
                           << " must match its init " << sum;
  if (getSinkLogits()) {
    if (!max)
      return emitOpError() << "'sink_logits' need the state's 'max': the "
                              "sink's weight is 2^(sl log2(e) - max)";
    auto sinks = cast<RankedTensorType>(getSinkLogits().getType());
    if (sinks.getRank() != 1 || !sinks.getElementType().isF32() ||
        !sizesAgree(sinks.getDimSize(0), acc.getDimSize(1)))
      return emitOpError() << "'sink_logits' must be f32 [Hq] of 'acc' " << acc
                           << ", got " << sinks;
    if (!getEffectiveScore().getFunction()->scoresInLog2Domain())
      return emitOpError() << "'sink_logits' need #attn.score<softmax>, got "
                           << getEffectiveScore();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// MergeStatesOp
//===----------------------------------------------------------------------===//

LogicalResult MergeStatesOp::verify() {
  auto out = cast<RankedTensorType>(getOutInit().getType());
  if (getStates().empty() || getStates().size() % 2 != 0)
    return emitOpError() << "'ins' must hold pairs (O_k, LSE_k) of at least "
                            "one state, got "
                         << getStates().size() << " operands";
  if (out.getRank() < 1 || !isSupportedFloat(out.getElementType()))
    return emitOpError() << "output init must have rank >= 1 and element "
                            "type f32, f16 or bf16, got "
                         << out;
  ArrayRef<int64_t> rows = out.getShape().drop_back();
  auto agreesWithOut = [&](RankedTensorType type) {
    return type.getRank() == out.getRank() &&
           llvm::all_of(llvm::seq<int64_t>(0, out.getRank()), [&](int64_t d) {
             return sizesAgree(type.getDimSize(d), out.getDimSize(d));
           });
  };
  for (unsigned k = 0; k < getNumStates(); ++k) {
    auto o = cast<RankedTensorType>(getStateOutput(k).getType());
    if (!agreesWithOut(o) || !isSupportedFloat(o.getElementType()))
      return emitOpError() << "state " << k << ": O must have the shape of the "
                           << "output init " << out
                           << " and element type f32, f16 or bf16, got " << o;
    if (!isF32OfShape(getStateLse(k).getType(), rows))
      return emitOpError() << "state " << k << ": LSE must be "
                           << shapeString(rows)
                           << " (O's shape without its last dimension), got "
                           << getStateLse(k).getType();
  }
  if (!isF32OfShape(getLseInit().getType(), rows))
    return emitOpError() << "LSE init must be " << shapeString(rows)
                         << " (the output's shape without its last "
                            "dimension), got "
                         << getLseInit().getType();
  if (getResult().getType() != out ||
      getLse().getType() != getLseInit().getType())
    return emitOpError() << "result types " << getResult().getType() << ", "
                         << getLse().getType() << " must match the inits "
                         << out << ", " << getLseInit().getType();
  // The entropy clause: one H_k per state, an init and a result, or none.
  bool withEntropy = !getEntropies().empty();
  if (withEntropy && getEntropies().size() != getNumStates())
    return emitOpError() << "'entropy' must hold one entropy per state ("
                         << getNumStates() << "), got "
                         << getEntropies().size();
  if (withEntropy != bool(getEntropyInit()))
    return emitOpError() << (withEntropy
                                 ? "'entropy' of the states needs an entropy "
                                   "init (a third 'outs' operand)"
                                 : "an entropy init (a third 'outs' operand) "
                                   "needs the states' 'entropy'");
  if (bool(getEntropy()) != withEntropy)
    return emitOpError() << "has an entropy result exactly when it has an "
                            "entropy init";
  for (unsigned k = 0; withEntropy && k < getNumStates(); ++k)
    if (!isF32OfShape(getStateEntropy(k).getType(), rows))
      return emitOpError() << "state " << k << ": entropy must be "
                           << shapeString(rows)
                           << " (O's shape without its last dimension), got "
                           << getStateEntropy(k).getType();
  if (withEntropy) {
    if (!isF32OfShape(getEntropyInit().getType(), rows))
      return emitOpError() << "entropy init must be " << shapeString(rows)
                           << " (the output's shape without its last "
                              "dimension), got "
                           << getEntropyInit().getType();
    if (getEntropy().getType() != getEntropyInit().getType())
      return emitOpError() << "entropy result type " << getEntropy().getType()
                           << " must match its init "
                           << getEntropyInit().getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// PagedAttentionOp
//===----------------------------------------------------------------------===//

float PagedAttentionOp::getEffectiveScale() {
  return effectiveScale(getScaleAttr(), getQueryType());
}

LogicalResult PagedAttentionOp::verify() {
  RankedTensorType q = getQueryType(), k = getKeyType(), v = getValueType();
  auto init = cast<RankedTensorType>(getInit().getType());
  KVNames names{"k_cache", "v_cache", /*batched=*/false};
  if (failed(verifyKVScales(*this, k, v, getKScale(), getVScale(), "page_size",
                            names)) ||
      failed(verifyQkvInit(*this, q, k, v, init, getResult().getType(), {4},
                           "[B, H, L, D] (caches [pages, Hkv, page_size, D])",
                           /*sameSpatial=*/false, "init", getKScale(),
                           getVScale(), names)))
    return failure();
  // The pages' slots are static: the kernels split a key index by them.
  if (k.isDynamicDim(2) || k.getDimSize(2) == 0)
    return emitOpError() << "'k_cache' page size (dimension 2) must be static "
                            "and non-zero, got "
                         << sizeString(k.getDimSize(2));
  if (!sizesAgree(v.getDimSize(0), k.getDimSize(0)))
    return emitOpError() << "'v_cache' pages (dimension 0, "
                         << sizeString(v.getDimSize(0))
                         << ") must match 'k_cache' pages ("
                         << sizeString(k.getDimSize(0)) << ")";
  auto table = cast<RankedTensorType>(getPageTable().getType());
  if (table.getRank() != 2 || !table.getElementType().isInteger(32) ||
      !sizesAgree(table.getDimSize(0), q.getDimSize(0)))
    return emitOpError() << "'page_table' must be tensor<"
                         << sizeString(q.getDimSize(0))
                         << "x?xi32> ([B, pages per request] of page indices), "
                            "got "
                         << table;
  // (Divided, not multiplied: the table's width may be any int64.)
  if (!table.isDynamicDim(1) &&
      table.getDimSize(1) > kMaxPositions / k.getDimSize(2))
    return emitOpError() << "'page_table' holds " << table.getDimSize(1)
                         << " pages of " << k.getDimSize(2)
                         << " keys per request, more than " << kMaxPositions
                         << " keys (rule: a position fits a 32-bit index)";
  auto lengths = cast<RankedTensorType>(getKeyLengths().getType());
  if (lengths.getRank() != 1 || !lengths.getElementType().isInteger(32) ||
      !sizesAgree(lengths.getDimSize(0), q.getDimSize(0)))
    return emitOpError() << "'key_lengths' must be tensor<"
                         << sizeString(q.getDimSize(0))
                         << "xi32> (the keys of each request), got " << lengths;
  if (failed(verifySinkLogits(*this, getSinkLogits(), q,
                              ScoreAttr::getSoftmax(getContext()))))
    return failure();
  if (failed(
          verifyLseResult(*this, getStatistics(), getReturnLse(),
                          {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2)},
                          "[B, Hq, Lq] of 'query'")))
    return failure();
  return verifyScoreAndRules(*this, getScaleAttr(), getSoftcapAttr(),
                             getSinksAttr(), getWindowAttr(),
                             ScoreAttr::getSoftmax(getContext()),
                             /*hasBias=*/false);
}
