//===- GpuKernelLimits.cpp - What a GPU flash configuration needs ---------===//
//
// The GPU flash kernel's shared memory (SIMT and tensor-core), what keeps
// Q K^T off tensor cores, and the configuration a strategy's preset, the
// written parameters and the target's limits give (chooseGpuKernelConfig),
// with its checks (verifyGpuKernelConfig), and the configuration as the
// attribute that carries it on a tile op.
//
//===----------------------------------------------------------------------===//

#include "attn/Strategies/Common/GpuFlashKernel.h"
#include "attn/Strategies/Common/KernelConfigAttr.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

static int64_t simtSharedBytes(const AttentionProblem &p, int64_t blockK) {
  return 4 * blockK * (p.headDim + p.valueDim);
}

/// Shared memory of the tensor-core kernel: Q, K and V tiles in f16/bf16
/// and the f32 score tile.
static int64_t mmaSharedBytes(const AttentionProblem &p,
                              const GpuKernelConfig &c) {
  int64_t dPad = mmaPaddedHeadDim(p);
  return 2 * (c.blockQ * dPad + c.blockK * dPad + c.blockK * p.valueDim) +
         4 * c.blockQ * c.blockK;
}

/// Why Q K^T cannot run on tensor cores for `p` (whatever the tiles), or "".
static std::string tensorCoreObstacle(const AttentionProblem &p) {
  auto elem = [](Value v) {
    return cast<ShapedType>(v.getType()).getElementType();
  };
  if (p.isBackward)
    return "the backward kernel forms its products one thread at a time";
  Type q = elem(p.query);
  if (!q.isF16() && !q.isBF16())
    return "tensor cores need f16 or bf16 inputs";
  if (elem(p.key) != q || elem(p.value) != q)
    return "tensor cores need Q, K and V of one element type";
  if (p.score.isFeatureProduct())
    return "tensor cores compute q . k, which elu1 and relu scores do not "
           "form";
  return "";
}

int64_t mlir::attn::fitGpuBlockK(const AttentionProblem &problem,
                                 int64_t preferred, int64_t sharedBytes) {
  int64_t blockK = preferred;
  while (blockK > 1 && simtSharedBytes(problem, blockK) > sharedBytes)
    blockK /= 2;
  return blockK;
}

bool mlir::attn::gpuFlashKernelCanCompute(const AttentionProblem &p,
                                          int64_t sharedBytes,
                                          std::string &reason) {
  if (simtSharedBytes(p, 1) <= sharedBytes)
    return true;
  reason = "K and V of one key (D = " + std::to_string(p.headDim) +
           ", Dv = " + std::to_string(p.valueDim) + ") take " +
           std::to_string(simtSharedBytes(p, 1)) + " bytes, more than the " +
           std::to_string(sharedBytes) + " bytes of shared memory";
  return false;
}

/// The integer parameter `key` written in `attr`, if any.
static std::optional<int64_t> writtenParameter(StrategyAttr attr,
                                               StringRef key) {
  if (!attr || !attr.getParams())
    return std::nullopt;
  if (auto value = attr.getParams().getAs<IntegerAttr>(key))
    return value.getInt();
  return std::nullopt;
}

GpuKernelConfig mlir::attn::chooseGpuKernelConfig(
    const AttentionProblem &p, const TargetDescription &target,
    StrategyAttr written, GpuKernelConfig preset) {
  GpuKernelConfig c = preset;
  c.sharedBytes = target.gpuSharedBytes;
  std::optional<int64_t> tensorCores = writtenParameter(written, "tensor_cores");
  c.tensorCores = tensorCores ? *tensorCores != 0
                              : target.tensorCores &&
                                    tensorCoreObstacle(p).empty();
  std::optional<int64_t> blockQ = writtenParameter(written, "block_q");
  std::optional<int64_t> blockK = writtenParameter(written, "block_k");
  if (blockQ)
    c.blockQ = *blockQ;
  else if (c.tensorCores)
    c.blockQ = 64;
  if (blockK)
    c.blockK = *blockK;
  else
    c.blockK = fitGpuBlockK(p, c.blockK, c.sharedBytes);
  // Tensor cores stage Q and the score tile too: fewer rows per block when
  // they would not fit (only rows the user did not write).
  while (c.tensorCores && !blockQ && mmaSharedBytes(p, c) > c.sharedBytes &&
         c.blockQ >= 64)
    c.blockQ /= 2;
  if (std::optional<int64_t> splits = writtenParameter(written, "splits"))
    c.splits = *splits;
  return c;
}

StrategyAttr mlir::attn::getGpuStrategyAttr(MLIRContext *context,
                                           StringRef strategy,
                                           const GpuKernelConfig &c,
                                           bool withSplits) {
  Builder b(context);
  SmallVector<NamedAttribute> params = {
      b.getNamedAttr("block_q", b.getI64IntegerAttr(c.blockQ)),
      b.getNamedAttr("block_k", b.getI64IntegerAttr(c.blockK))};
  if (withSplits)
    params.push_back(b.getNamedAttr("splits", b.getI64IntegerAttr(c.splits)));
  params.push_back(b.getNamedAttr("tensor_cores",
                                  b.getI64IntegerAttr(c.tensorCores ? 1 : 0)));
  return StrategyAttr::get(context, strategy, b.getDictionaryAttr(params));
}

LogicalResult mlir::attn::verifyGpuKernelConfig(Operation *op,
                                                StringRef strategy,
                                                const AttentionProblem &p,
                                                const GpuKernelConfig &cfg) {
  auto outOfRange = [&](StringRef name, int64_t value, int64_t hi) {
    return op->emitOpError()
           << strategy << " strategy parameter " << name << " = " << value
           << " is out of range on a GPU: it must be from 1 to " << hi;
  };
  if (cfg.blockQ < 1 || cfg.blockQ > 1024)
    return outOfRange("block_q", cfg.blockQ, 1024);
  if (cfg.blockK < 1 || cfg.blockK > 1024)
    return outOfRange("block_k", cfg.blockK, 1024);
  if (cfg.splits < 1 || cfg.splits > 4096)
    return outOfRange("splits", cfg.splits, 4096);
  if (simtSharedBytes(p, cfg.blockK) > cfg.sharedBytes)
    return op->emitOpError()
           << strategy << " strategy parameter block_k = " << cfg.blockK
           << " stages " << simtSharedBytes(p, cfg.blockK)
           << " bytes of K and V per tile, more than the GPU's "
           << cfg.sharedBytes << " bytes of shared memory (at most "
           << fitGpuBlockK(p, cfg.blockK, cfg.sharedBytes)
           << " for this head dimension)";
  if (cfg.skipEmptyTiles && !p.mask)
    return op->emitOpError() << strategy
                             << " strategy: skipping empty tiles reads the "
                                "mask operand, and the op has none";
  if (!cfg.tensorCores)
    return success();
  if (std::string why = tensorCoreObstacle(p); !why.empty())
    return op->emitOpError()
           << strategy << " strategy parameter tensor_cores = 1: " << why;
  if (cfg.blockQ % 32 != 0 || cfg.blockK % 8 != 0)
    return op->emitOpError()
           << strategy << " strategy parameter tensor_cores = 1 needs block_q "
           << "a multiple of 32 (whole warps) and block_k a multiple of 8 "
           << "(the mma n step); they are " << cfg.blockQ << " and "
           << cfg.blockK;
  if (int64_t bytes = mmaSharedBytes(p, cfg); bytes > cfg.sharedBytes)
    return op->emitOpError()
           << strategy << " strategy parameters block_q = " << cfg.blockQ
           << ", block_k = " << cfg.blockK << " with tensor_cores = 1 stage "
           << bytes << " bytes of Q, K, V and scores, more than the GPU's "
           << cfg.sharedBytes << " bytes of shared memory";
  return success();
}

llvm::raw_ostream &mlir::attn::operator<<(llvm::raw_ostream &os,
                                          const GpuKernelConfig &c) {
  return os << "{block_q = " << c.blockQ << ", block_k = " << c.blockK
            << ", splits = " << c.splits
            << ", tensor_cores = " << c.tensorCores
            << ", skip_empty_tiles = " << c.skipEmptyTiles
            << ", shared_bytes = " << c.sharedBytes << "}";
}

static const std::pair<StringLiteral, int64_t GpuKernelConfig::*>
    kIntFields[] = {{"block_q", &GpuKernelConfig::blockQ},
                    {"block_k", &GpuKernelConfig::blockK},
                    {"splits", &GpuKernelConfig::splits},
                    {"shared_bytes", &GpuKernelConfig::sharedBytes}};
static const std::pair<StringLiteral, bool GpuKernelConfig::*>
    kBoolFields[] = {{"tensor_cores", &GpuKernelConfig::tensorCores},
                     {"skip_empty_tiles", &GpuKernelConfig::skipEmptyTiles}};
static const KernelConfigFields<GpuKernelConfig> kFields = {kIntFields,
                                                            kBoolFields};

DictionaryAttr mlir::attn::getGpuKernelAttr(MLIRContext *ctx,
                                            StringRef strategy,
                                            const GpuKernelConfig &config) {
  return getKernelConfigAttr(ctx, strategy, config, kFields);
}

FailureOr<GpuKernelConfig> mlir::attn::parseGpuKernelAttr(Operation *op,
                                                          std::string &strategy) {
  return parseKernelConfigAttr(op, kGpuKernelAttrName, kFields, strategy);
}
