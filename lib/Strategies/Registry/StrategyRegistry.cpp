//===- StrategyRegistry.cpp - The registry of strategies ------------------===//
//
// Holds every registered strategy, loads third-party strategy libraries,
// describes the target machine, and ranks strategies for an op by cost.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Strategies/Strategy.h"
#include "attn/Support/Debug.h"

#include "mlir/AsmParser/AsmParser.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/Format.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <unistd.h>

#define DEBUG_TYPE "attn-strategy-selection"

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Target description and costs
//===----------------------------------------------------------------------===//

/// The running machine, read once: selection asks for it per op.
static TargetDescription readHost() {
  TargetDescription target;
  target.kind = TargetDescription::Kind::CPU;
  unsigned threads = std::thread::hardware_concurrency();
  target.threads = threads ? threads : 1;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    target.vectorBits = 512;
  else if (features.lookup("avx2") || features.lookup("avx"))
    target.vectorBits = 256;
  else
    target.vectorBits = 128;
  // The 256- and 512-bit forms of vdpbf16ps (AVX512VL for the narrower).
  target.bf16Dot = features.lookup("avx512bf16") && features.lookup("avx512vl");
  auto cache = [](int name, int64_t fallback) -> int64_t {
    long size = sysconf(name);
    return size > 0 ? size : fallback;
  };
#ifdef _SC_LEVEL1_DCACHE_SIZE
  target.l1Bytes = cache(_SC_LEVEL1_DCACHE_SIZE, target.l1Bytes);
  target.l2Bytes = cache(_SC_LEVEL2_CACHE_SIZE, target.l2Bytes);
  target.l3Bytes = cache(_SC_LEVEL3_CACHE_SIZE, target.l3Bytes);
#endif
  target.ghz = 3.3;
  target.memoryGBs = 55.0;
  return target;
}

TargetDescription TargetDescription::host() {
  static const TargetDescription host = readHost();
  return host;
}

TargetDescription TargetDescription::gpu() {
  TargetDescription target;
  target.kind = Kind::GPU;
  // An H100/H200-class GPU as a default: 132 SMs x 4 warps of 32 lanes.
  target.threads = 132 * 4 * 32;
  target.vectorBits = 32;
  target.l1Bytes = 228 << 10;
  target.l2Bytes = 50 << 20;
  target.l3Bytes = 50 << 20;
  target.ghz = 1.7;
  target.memoryGBs = 3300.0;
  return target;
}

TargetDescription TargetDescription::get(TargetAttr attr) {
  TargetDescription target = attr.getKind() == "gpu" ? gpu() : host();
  if (attr.getThreads())
    target.threads = *attr.getThreads();
  if (attr.getVectorWidth())
    target.vectorBits = *attr.getVectorWidth();
  if (attr.getL1Bytes())
    target.l1Bytes = *attr.getL1Bytes();
  if (attr.getL2Bytes())
    target.l2Bytes = *attr.getL2Bytes();
  if (attr.getL3Bytes())
    target.l3Bytes = *attr.getL3Bytes();
  if (attr.getTensorCores())
    target.tensorCores = attr.getTensorCores().getValue();
  if (attr.getSharedMemory())
    target.gpuSharedBytes = *attr.getSharedMemory();
  if (attr.getBf16Dot())
    target.bf16Dot = attr.getBf16Dot().getValue();
  return target;
}

TargetDescription mlir::attn::getTargetDescription(Operation *op) {
  TargetAttr attr = lookupTargetAttr(op);
  return attr ? TargetDescription::get(attr) : TargetDescription::host();
}

double CostEstimate::seconds(const TargetDescription &target) const {
  double usableThreads =
      std::max(1.0, std::min<double>(target.threads, parallelism));
  double threadShare = usableThreads / std::max<int64_t>(1, target.threads);
  double compute =
      flops / (target.peakFlops() * std::max(1e-6, efficiency) * threadShare);
  double memory = bytes / (target.memoryGBs * 1e9);
  return std::max(compute, memory) + serialSeconds;
}

StrategyAttr Strategy::chooseParameters(Operation *op, const TargetDescription &,
                                        StrategyAttr requested) const {
  if (requested)
    return requested;
  return StrategyAttr::get(op->getContext(), getName(), DictionaryAttr());
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

StrategyRegistry &StrategyRegistry::global() {
  static StrategyRegistry registry;
  return registry;
}

void StrategyRegistry::add(std::unique_ptr<Strategy> strategy) {
  for (auto &existing : strategies)
    if (existing->getName() == strategy->getName()) {
      existing = std::move(strategy);
      return;
    }
  strategies.push_back(std::move(strategy));
}

const Strategy *StrategyRegistry::lookup(StringRef name) const {
  for (const auto &strategy : strategies)
    if (strategy->getName() == name)
      return strategy.get();
  return nullptr;
}

SmallVector<const Strategy *> StrategyRegistry::all() const {
  return llvm::to_vector(llvm::map_range(
      strategies, [](const auto &s) -> const Strategy * { return s.get(); }));
}

bool mlir::attn::loadStrategyLibrary(StringRef path, std::string &error) {
  std::string message;
  llvm::sys::DynamicLibrary library =
      llvm::sys::DynamicLibrary::getPermanentLibrary(path.str().c_str(),
                                                     &message);
  if (!library.isValid()) {
    error = "cannot load strategy library '" + path.str() + "': " + message;
    return false;
  }
  void *symbol = library.getAddressOfSymbol(kRegisterStrategiesSymbol);
  if (!symbol) {
    error = "strategy library '" + path.str() + "' does not export '" +
            kRegisterStrategiesSymbol + "'";
    return false;
  }
  registerBuiltinStrategies();
  reinterpret_cast<RegisterStrategiesFn>(symbol)(StrategyRegistry::global());
  return true;
}

//===----------------------------------------------------------------------===//
// Ranking
//===----------------------------------------------------------------------===//

bool mlir::attn::isAttnOp(Operation *op) {
  return isa<AttentionOp, NeighborhoodOp, AttentionBackwardOp,
             NeighborhoodBackwardOp, PagedAttentionOp>(op);
}

StrategyAttr mlir::attn::getStrategyAttr(Operation *op) {
  return op->getAttrOfType<StrategyAttr>("strategy");
}

void mlir::attn::setStrategyAttr(Operation *op, StrategyAttr strategy) {
  op->setAttr("strategy", strategy);
}

/// `strategy`'s isApplicable, after the rule that a strategy that does not
/// know the row statistics is not asked for an op that returns them.
static bool canCompute(const Strategy &strategy, Operation *op,
                       const TargetDescription &target, std::string &reason) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (attention && (attention.getReturnLse() || attention.getReturnEntropy()) &&
      !strategy.knowsRowStatistics()) {
    reason = "does not compute row statistics (return_lse, return_entropy)";
    return false;
  }
  return strategy.isApplicable(op, target, reason);
}

SmallVector<StrategyCandidate>
mlir::attn::rankStrategies(Operation *op, const TargetDescription &target) {
  SmallVector<StrategyCandidate> candidates;
  for (const Strategy *strategy : StrategyRegistry::global().all()) {
    StrategyCandidate candidate;
    candidate.strategy = strategy;
    candidate.applicable = canCompute(*strategy, op, target, candidate.reason);
    if (candidate.applicable) {
      candidate.parameters =
          strategy->chooseParameters(op, target, StrategyAttr());
      candidate.cost =
          strategy->estimateCost(op, target, candidate.parameters);
      candidate.seconds = candidate.cost.seconds(target);
    }
    ATTN_DEBUG({
      ATTN_DBGS() << "'" << op->getName() << "' at " << op->getLoc() << ": "
                  << strategy->getName();
      if (!candidate.applicable) {
        llvm::dbgs() << " not applicable: " << candidate.reason << "\n";
      } else {
        const CostEstimate &c = candidate.cost;
        llvm::dbgs() << " " << candidate.parameters << ": "
                     << llvm::format("%.3g", candidate.seconds * 1e3)
                     << " ms (flops " << llvm::format("%.3g", c.flops)
                     << ", bytes " << llvm::format("%.3g", c.bytes)
                     << ", parallelism " << llvm::format("%.0f", c.parallelism)
                     << ", efficiency "
                     << llvm::format("%.2f", c.efficiency) << ", serial "
                     << llvm::format("%.3g", c.serialSeconds * 1e3)
                     << " ms)\n";
      }
    });
    candidates.push_back(std::move(candidate));
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const StrategyCandidate &a, const StrategyCandidate &b) {
                     if (a.applicable != b.applicable)
                       return a.applicable;
                     return a.applicable && a.seconds < b.seconds;
                   });
  return candidates;
}

StringRef mlir::attn::stringifyStrategyOrigin(StrategyOrigin origin) {
  switch (origin) {
  case StrategyOrigin::Override:
    return "override";
  case StrategyOrigin::Written:
    return "written on the op";
  case StrategyOrigin::Forced:
    return "forced";
  case StrategyOrigin::Cheapest:
    return "cheapest estimate";
  }
  return "";
}

FailureOr<StrategyAttr>
mlir::attn::selectStrategy(Operation *op, const TargetDescription &target,
                           StringRef forced) {
  StrategyRequest request;
  request.forced = forced.str();
  return selectStrategy(op, target, request);
}

FailureOr<StrategyAttr>
mlir::attn::selectStrategy(Operation *op, const TargetDescription &target,
                           const StrategyRequest &request,
                           StrategyOrigin *originOut) {
  // Selection's order: the override, what is written, the forced strategy,
  // the cheapest estimate.
  StrategyOrigin origin = StrategyOrigin::Cheapest;
  StrategyAttr asked;
  StringRef text;
  if (!request.override.empty()) {
    origin = StrategyOrigin::Override;
    text = request.override;
  } else if (StrategyAttr written = getStrategyAttr(op)) {
    origin = StrategyOrigin::Written;
    asked = written;
  } else if (!request.forced.empty()) {
    origin = StrategyOrigin::Forced;
    text = request.forced;
  }
  if (originOut)
    *originOut = origin;
  ATTN_DEBUG(ATTN_DBGS() << "'" << op->getName() << "' at " << op->getLoc()
                         << ": selecting by "
                         << stringifyStrategyOrigin(origin) << "\n");
  StringRef label = origin == StrategyOrigin::Override ? "override strategy"
                    : origin == StrategyOrigin::Written ? "strategy"
                                                        : "forced strategy";
  // A name, or a whole #attn.strategy<...> attribute (which also fixes
  // parameters).
  if (!text.empty()) {
    if (text.starts_with("#")) {
      asked = dyn_cast_or_null<StrategyAttr>(
          parseAttribute(text, op->getContext()));
      if (!asked)
        return op->emitOpError() << label << " '" << text
                                 << "' is not an #attn.strategy<...> "
                                    "attribute";
    } else {
      asked = StrategyAttr::get(op->getContext(), text, DictionaryAttr());
    }
  }
  if (!asked) {
    SmallVector<StrategyCandidate> ranked = rankStrategies(op, target);
    if (ranked.empty() || !ranked.front().applicable)
      return op->emitOpError() << "no registered strategy can compute this op";
    ATTN_DEBUG(ATTN_DBGS() << "chose " << ranked.front().parameters
                           << ", the cheapest\n");
    return ranked.front().parameters;
  }
  StringRef name = asked.getName();
  const Strategy *strategy = StrategyRegistry::global().lookup(name);
  if (!strategy) {
    std::string known;
    for (const Strategy *s : StrategyRegistry::global().all())
      known += (known.empty() ? "" : ", ") + s->getName().str();
    return op->emitOpError() << "unknown " << label << " '" << name
                             << "'; registered strategies: " << known;
  }
  std::string reason;
  if (!canCompute(*strategy, op, target, reason))
    return op->emitOpError() << label << " '" << name
                             << "' cannot compute this op: " << reason;
  if (failed(verifyStrategyParameters(op, *strategy, asked, target)))
    return failure();
  StrategyAttr chosen = strategy->chooseParameters(op, target, asked);
  // The cost model's choices obey the schema too.
  if (failed(verifyStrategyParameters(op, *strategy, chosen, target)))
    return failure();
  ATTN_DEBUG(ATTN_DBGS() << "asked " << asked << ", the cost model completed it "
                         << "as " << chosen << "\n");
  return chosen;
}
