//===- FlashKernelLimits.cpp - What a flash configuration needs -----------===//
//
// The CPU flash kernel's serial cost, stack scratch and register limits,
// the checks of a configuration against them, and the configuration as the
// attribute that carries it on a tile op.
//
//===----------------------------------------------------------------------===//

#include "FlashEmitter.h"
#include "attn/Strategies/Common/AllowedKeyRule.h"
#include "attn/Strategies/Common/FlashBackwardKernel.h"
#include "attn/Strategies/Common/KernelBuilder.h"
#include "attn/Strategies/Common/KernelConfigAttr.h"
#include "attn/Strategies/Common/MaskRules.h"
#include "attn/Strategies/Common/OnlineSoftmax.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::flash;

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

std::string mlir::attn::flashBf16DotRefusal(const AttentionProblem &p,
                                            const FlashKernelConfig &config) {
  for (Value operand : {p.query, p.key, p.value})
    if (!cast<ShapedType>(operand.getType()).getElementType().isBF16())
      return "Q, K and V are not all bf16";
  if (p.isBackward)
    return "the backward kernel widens bf16 to f32";
  if (p.isNeighborhood)
    return "a neighborhood's tiles are all partial, and their P V is in f32";
  if (p.score.isFeatureProduct())
    return "feature-map scores are formed in f32";
  if (!config.packKeys)
    return "the keys are read unpacked (decode), in f32";
  if (p.headDim % 2 != 0)
    return "the head dimension D = " + std::to_string(p.headDim) +
           " is odd, and the dot products take pairs of it";
  return "";
}

/// Vectors of one micro-tile of scores (micro_q x block_k / lanes), all
/// unrolled in the IR: 128 compile in about a second, 2048 in minutes.
static constexpr int64_t kMaxMicroTileVectors = 128;

/// flashKernelStackBytes for tasks that keep the state of `heads` KV heads.
static int64_t stackBytes(const AttentionProblem &p, const FlashKernelConfig &c,
                          int64_t heads) {
  int64_t rows = p.groupSize() * c.blockQ;
  int64_t paddedRows = (rows + c.microQ - 1) / c.microQ * c.microQ;
  int64_t paddedDv = (p.valueDim + c.lanes - 1) / c.lanes * c.lanes;
  double floats = double(heads) * paddedRows * (paddedDv + 2) +
                  c.microQ * c.blockK +
                  (c.packKeys ? 0 : c.microQ * c.blockK * c.lanes) +
                  (c.splits > 1 ? paddedDv : 0);
  return saturatingBytes(4 * floats);
}

bool mlir::attn::flashVisitsHeadsPerTile(const AttentionProblem &p,
                                         const FlashKernelConfig &c) {
  constexpr int64_t kMaxBytes = 256 << 10;
  return p.isPaged() && !c.packKeys && !p.score.isFeatureProduct() && !p.mask &&
         !p.maskMod && !c.blockSparse && p.headsKV > 1 &&
         stackBytes(p, c, p.headsKV) <= kMaxBytes;
}

int64_t mlir::attn::flashKernelStackBytes(const AttentionProblem &p,
                                          const FlashKernelConfig &c) {
  return stackBytes(p, c, flashVisitsHeadsPerTile(p, c) ? p.headsKV : 1);
}

void mlir::attn::fitFlashBlockDvToRegisters(FlashKernelConfig &config) {
  // 32 vector registers with AVX-512 (16 f32 lanes), 16 below it.
  int64_t registers = config.lanes >= 16 ? 32 : 16;
  auto needed = [&](int64_t vectors) {
    return config.microQ * vectors + vectors + 2;
  };
  while (config.blockDv > config.lanes &&
         needed(config.blockDv / config.lanes) > registers)
    config.blockDv -= config.lanes;
}

void mlir::attn::fitFlashBlockQToStack(const AttentionProblem &p,
                                       FlashKernelConfig &c) {
  // Down to one row per head where a task must be that small (many query
  // heads per KV head): micro-tiles then span heads.
  while (c.blockQ > 1 && flashKernelStackBytes(p, c) > kTaskScratchLimitBytes)
    c.blockQ = std::max<int64_t>(1, c.blockQ / 2);
}

bool mlir::attn::flashKernelCanCompute(const AttentionProblem &p,
                                       FlashKernelConfig config,
                                       std::string &reason) {
  if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim) {
    reason = "head dimensions D = " + std::to_string(p.headDim) +
             ", Dv = " + std::to_string(p.valueDim) + " exceed the kernel's " +
             std::to_string(kMaxFlashHeadDim);
    return false;
  }
  config.blockQ = 1;
  if (int64_t bytes = flashKernelStackBytes(p, config);
      bytes > kTaskScratchLimitBytes) {
    reason = "a task of one query row per head takes " +
             std::to_string(bytes >> 10) + " KiB of stack scratch, more than " +
             "the " + std::to_string(kTaskScratchLimitBytes >> 10) +
             " KiB limit";
    return false;
  }
  return true;
}

LogicalResult mlir::attn::verifyFlashKernelConfig(Operation *op,
                                                  StringRef strategy,
                                                  const AttentionProblem &p,
                                                  const FlashKernelConfig &c) {
  auto bad = [&](StringRef name, int64_t value) {
    return op->emitOpError()
           << strategy << " strategy parameter " << name << " = " << value
           << " is out of range: ";
  };
  int64_t maxBlockK = 16 * c.lanes;
  if (c.blockK < c.lanes || c.blockK > maxBlockK || c.blockK % c.lanes != 0)
    return bad("block_k", c.blockK)
           << "it must be a multiple of " << c.lanes << " (the vector lanes) "
           << "from " << c.lanes << " to " << maxBlockK;
  if (c.microQ < 1 || c.microQ > 32)
    return bad("micro_q", c.microQ) << "it must be from 1 to 32";
  int64_t registers = c.microQ * (c.blockK / c.lanes);
  if (registers > kMaxMicroTileVectors)
    return bad("micro_q", c.microQ)
           << "micro_q x block_k / " << c.lanes << " = " << registers
           << " vectors, more than the " << kMaxMicroTileVectors
           << " that one micro-tile may hold";
  if (c.bf16Dot && !getTargetDescription(op).bf16Dot)
    return op->emitOpError()
           << strategy
           << " strategy parameter bf16_dot = 1 needs AVX512-BF16 dot "
              "products, which the target lacks (#attn.target bf16_dot)";
  if (std::string refusal = flashBf16DotRefusal(p, c);
      c.bf16Dot && !refusal.empty())
    return op->emitOpError()
           << strategy
           << " strategy parameter bf16_dot = 1 does not apply: " << refusal;
  if (p.headDim > kMaxFlashHeadDim || p.valueDim > kMaxFlashHeadDim)
    return op->emitOpError()
           << strategy << " strategy: head dimensions D = " << p.headDim
           << ", Dv = " << p.valueDim << " exceed the CPU kernel's "
           << kMaxFlashHeadDim << " (it unrolls them in vectors)";
  if (p.isBackward) {
    // The backward's tasks walk key tiles: block_q does not apply
    // (FlashStrategy refuses a written one), and block_k sizes the stack
    // scratch.
    if (int64_t bytes = flashBackwardStackBytes(p, c);
        bytes > kTaskScratchLimitBytes)
      return bad("block_k", c.blockK)
             << "a backward task's scratch (K^T, V^T, dK, dV of block_k keys, "
                "D = "
             << p.headDim << ", Dv = " << p.valueDim << ") takes "
             << (bytes >> 10) << " KiB of stack, more than the "
             << (kTaskScratchLimitBytes >> 10) << " KiB limit";
    return success();
  }
  if (c.blockQ < 1 || c.blockQ > (int64_t(1) << 20))
    return bad("block_q", c.blockQ) << "it must be from 1 to 1048576";
  if (int64_t bytes = flashKernelStackBytes(p, c);
      bytes > kTaskScratchLimitBytes)
    return bad("block_q", c.blockQ)
           << "a task's scratch (O, m, l of " << p.groupSize()
           << " heads x block_q rows, Dv = " << p.valueDim << ") takes "
           << (bytes >> 10) << " KiB of stack, more than the "
           << (kTaskScratchLimitBytes >> 10) << " KiB limit";
  if (c.splits < 1 || c.splits > 4096)
    return bad("splits", c.splits) << "it must be from 1 to 4096";
  if (c.blockSparse && !p.mask)
    return op->emitOpError() << strategy
                             << " strategy: block-sparse iteration reads the "
                                "mask operand, and the op has none";
  return success();
}

llvm::raw_ostream &mlir::attn::operator<<(llvm::raw_ostream &os,
                                          const FlashKernelConfig &c) {
  return os << "{block_q = " << c.blockQ << ", block_k = " << c.blockK
            << ", micro_q = " << c.microQ << ", lanes = " << c.lanes
            << ", block_dv = " << c.blockDv << ", unroll_d = " << c.unrollD
            << ", skip_by_band = " << c.skipByBand
            << ", pack_keys = " << c.packKeys << ", splits = " << c.splits
            << ", block_sparse = " << c.blockSparse
            << ", bf16_dot = " << c.bf16Dot << "}";
}

static const std::pair<StringLiteral, int64_t FlashKernelConfig::*>
    kIntFields[] = {{"block_q", &FlashKernelConfig::blockQ},
                    {"block_k", &FlashKernelConfig::blockK},
                    {"micro_q", &FlashKernelConfig::microQ},
                    {"lanes", &FlashKernelConfig::lanes},
                    {"block_dv", &FlashKernelConfig::blockDv},
                    {"unroll_d", &FlashKernelConfig::unrollD},
                    {"splits", &FlashKernelConfig::splits}};
static const std::pair<StringLiteral, bool FlashKernelConfig::*> kBoolFields[] =
    {{"skip_by_band", &FlashKernelConfig::skipByBand},
     {"pack_keys", &FlashKernelConfig::packKeys},
     {"block_sparse", &FlashKernelConfig::blockSparse},
     {"bf16_dot", &FlashKernelConfig::bf16Dot}};
static const KernelConfigFields<FlashKernelConfig> kFields = {kIntFields,
                                                              kBoolFields};

DictionaryAttr mlir::attn::getCpuKernelAttr(MLIRContext *ctx,
                                            StringRef strategy,
                                            const FlashKernelConfig &config) {
  return getKernelConfigAttr(ctx, strategy, config, kFields);
}

FailureOr<FlashKernelConfig>
mlir::attn::parseCpuKernelAttr(Operation *op, std::string &strategy) {
  FailureOr<FlashKernelConfig> config =
      parseKernelConfigAttr(op, kCpuKernelAttrName, kFields, strategy);
  if (failed(config))
    return failure();
  auto error = [&](StringRef key) {
    return op->emitOpError() << kCpuKernelAttrName << " key '" << key << "' ";
  };
  if (config->lanes < 4 || config->lanes > 64 ||
      !llvm::isPowerOf2_64(config->lanes))
    return error("lanes") << "= " << config->lanes
                          << " must be a power of two from 4 to 64";
  if (config->blockDv < config->lanes || config->blockDv % config->lanes != 0)
    return error("block_dv") << "= " << config->blockDv
                             << " must be a positive multiple of lanes ("
                             << config->lanes << ")";
  if (config->unrollD < 1 || config->unrollD > 64)
    return error("unroll_d") << "= " << config->unrollD
                             << " must be from 1 to 64";
  if (config->bf16Dot && config->lanes > 16)
    return error("bf16_dot")
           << "= true needs lanes 4, 8 or 16 (vdpbf16ps), not "
           << config->lanes;
  return config;
}
