//===- AttnDialect.cpp - The attn dialect and its attributes -------------===//
//
// Registers the attn dialect's ops and attributes, and implements the
// attribute parsers, printers and verifiers.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Interfaces/TilingInterface.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
  // Implemented by external models above the dialect (the merge of partial
  // states needs the attention algebra): OnlineAttentionTiling.h.
  declarePromisedInterfaces<TilingInterface, OnlineAttentionOp>();
  declarePromisedInterfaces<PartialReductionOpInterface, OnlineAttentionOp>();
}

//===----------------------------------------------------------------------===//
// TargetAttr
//===----------------------------------------------------------------------===//

TargetAttr mlir::attn::lookupTargetAttr(Operation *op) {
  for (; op; op = op->getParentOp())
    if (auto attr = op->getAttrOfType<TargetAttr>(TargetAttr::kAttrName))
      return attr;
  return TargetAttr();
}

LogicalResult TargetAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, StringRef kind,
    std::optional<int64_t> threads, std::optional<int64_t> vectorWidth,
    std::optional<int64_t> l1Bytes, std::optional<int64_t> l2Bytes,
    std::optional<int64_t> l3Bytes, BoolAttr tensorCores,
    std::optional<int64_t> sharedMemory, BoolAttr bf16Dot) {
  if (kind != "cpu" && kind != "gpu")
    return emitError() << "#attn.target kind = \"" << kind
                       << "\" is not a target: expected \"cpu\" or \"gpu\"";
  constexpr int64_t kMaxThreads = 1 << 16;
  if (threads && (*threads < 1 || *threads > kMaxThreads))
    return emitError() << "#attn.target threads = " << *threads
                       << " is out of range: it must be from 1 to "
                       << kMaxThreads;
  if (vectorWidth && *vectorWidth != 128 && *vectorWidth != 256 &&
      *vectorWidth != 512)
    return emitError() << "#attn.target vector_width = " << *vectorWidth
                       << " is not a SIMD width the kernels are built for: it "
                          "must be 128, 256 or 512";
  for (auto [name, bytes] : {std::pair{"l1_bytes", l1Bytes},
                             std::pair{"l2_bytes", l2Bytes},
                             std::pair{"l3_bytes", l3Bytes},
                             std::pair{"shared_memory", sharedMemory}})
    if (bytes && *bytes < 1)
      return emitError() << "#attn.target " << name << " = " << *bytes
                         << " is out of range: it must be at least 1";
  if (kind != "gpu" && tensorCores)
    return emitError() << "#attn.target tensor_cores applies to kind \"gpu\", "
                          "not \""
                       << kind << "\"";
  if (kind != "gpu" && sharedMemory)
    return emitError() << "#attn.target shared_memory applies to kind "
                          "\"gpu\", not \""
                       << kind << "\"";
  if (kind != "cpu" && bf16Dot)
    return emitError() << "#attn.target bf16_dot applies to kind \"cpu\", "
                          "not \""
                       << kind << "\"";
  return success();
}

//===----------------------------------------------------------------------===//
// WindowAttr
//===----------------------------------------------------------------------===//

LogicalResult WindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 std::optional<int64_t> left,
                                 std::optional<int64_t> right) {
  if (!left && !right)
    return emitError() << "#attn.window needs 'left', 'right' or both";
  if (left && *left < 0)
    return emitError() << "#attn.window 'left' must be non-negative, got "
                       << *left;
  if (right && *right < 0)
    return emitError() << "#attn.window 'right' must be non-negative, got "
                       << *right;
  // Positions are 32-bit indices in the kernels.
  constexpr int64_t maxBound = std::numeric_limits<int32_t>::max();
  for (auto [name, bound] : {std::pair{"left", left}, std::pair{"right", right}})
    if (bound && *bound > maxBound)
      return emitError() << "#attn.window '" << name << "' is " << *bound
                         << ", more than " << maxBound
                         << " (rule: a position fits a 32-bit index)";
  return success();
}

//===----------------------------------------------------------------------===//
// ScoreAttr
//===----------------------------------------------------------------------===//

ScoreAttr ScoreAttr::getSoftmax(MLIRContext *ctx) {
  return ScoreAttr::get(ctx, lookupScoreFunction("softmax"), true);
}

LogicalResult ScoreAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                const ScoreFunction *function, bool normalize) {
  if (!function)
    return emitError() << "#attn.score needs a registered score function";
  if (function->getFamily() == ScoreFunction::Family::RowMax && !normalize)
    return emitError() << "#attn.score<" << function->getName()
                       << "> is always normalized; 'normalize' applies to "
                          "kernel scores only";
  return success();
}

// #attn.score<NAME> for the functions with a running maximum (softmax,
// softplus), #attn.score<kernel<NAME>> for the kernel ones, either followed
// by `, normalize = b`. NAME is looked up among the registered functions
// (ScoreFunction.h).
Attribute ScoreAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  SMLoc loc = parser.getCurrentLocation();
  StringRef name;
  if (parser.parseLess() || parser.parseKeyword(&name))
    return {};
  using Family = ScoreFunction::Family;
  const ScoreFunction *function = nullptr;
  if (name == "kernel") {
    SMLoc mapLoc = parser.getCurrentLocation();
    if (parser.parseLess() || parser.parseKeyword(&name) ||
        parser.parseGreater())
      return {};
    function = lookupScoreFunction(name);
    if (function && function->getFamily() != Family::Kernel) {
      parser.emitError(mapLoc) << "'" << name << "' is not a kernel score; "
                               << "write #attn.score<" << name << ">";
      return {};
    }
    if (!function) {
      parser.emitError(mapLoc)
          << "unknown feature map '" << name << "'; expected "
          << listScoreFunctions(Family::Kernel);
      return {};
    }
  } else {
    function = lookupScoreFunction(name);
    if (function && function->getFamily() != Family::RowMax) {
      parser.emitError(loc) << "'" << name << "' is a kernel score; write "
                            << "#attn.score<kernel<" << name << ">>";
      return {};
    }
    if (!function) {
      parser.emitError(loc) << "unknown score kind '" << name << "'; expected "
                            << listScoreFunctions(Family::RowMax, "kernel");
      return {};
    }
  }
  bool normalize = true;
  if (succeeded(parser.parseOptionalComma())) {
    SMLoc normLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key))
      return {};
    if (key != "normalize") {
      parser.emitError(normLoc) << "unknown score parameter '" << key
                                << "'; expected 'normalize'";
      return {};
    }
    StringRef value;
    SMLoc valueLoc = parser.getCurrentLocation();
    if (parser.parseEqual() || parser.parseKeyword(&value))
      return {};
    if (value != "true" && value != "false") {
      parser.emitError(valueLoc) << "'normalize' must be true or false";
      return {};
    }
    normalize = value == "true";
  }
  if (parser.parseGreater())
    return {};
  return ScoreAttr::getChecked([&] { return parser.emitError(loc); }, ctx,
                               function, normalize);
}

void ScoreAttr::print(AsmPrinter &printer) const {
  printer << "<";
  if (isKernel())
    printer << "kernel<" << getName() << ">";
  else
    printer << getName();
  if (!getNormalize())
    printer << ", normalize = false";
  printer << ">";
}

//===----------------------------------------------------------------------===//
// StrategyAttr
//===----------------------------------------------------------------------===//

int64_t StrategyAttr::getIntParam(StringRef key, int64_t fallback) const {
  if (!getParams())
    return fallback;
  if (auto value = getParams().getAs<IntegerAttr>(key))
    return value.getInt();
  return fallback;
}
