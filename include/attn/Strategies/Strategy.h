//===- Strategy.h - Strategy plugins and their registry ---------*- C++ -*-===//
//
// A strategy is one way to compute an attn op. Each strategy says whether it
// can compute an op (isApplicable, with a reason), what it would cost on a
// target (estimateCost), which parameters it would use (chooseParameters),
// and rewrites the op into linalg/scf/vector ops on tensors (apply). All
// strategies live in one registry; third-party libraries add theirs through
// the `attnRegisterStrategies` entry point (see loadStrategyLibrary).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_STRATEGY_H
#define ATTN_STRATEGIES_STRATEGY_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Support/LLVM.h"

#include <memory>
#include <string>

namespace mlir::attn {

/// What a strategy's cost model knows about the machine. `host()` reads it
/// from the running machine; an #attn.target on the module overrides each
/// field it writes (`get`).
struct TargetDescription {
  enum class Kind { CPU, GPU };
  Kind kind = Kind::CPU;
  int64_t threads = 1;         ///< Hardware threads to use.
  int64_t vectorBits = 256;    ///< SIMD register width (512 with AVX-512).
  int64_t l1Bytes = 32 << 10;  ///< Per-core L1 data cache.
  int64_t l2Bytes = 1 << 20;   ///< Per-core L2 cache.
  int64_t l3Bytes = 32 << 20;  ///< Shared last-level cache.
  double ghz = 3.0;            ///< Clock used for the FMA peak.
  double memoryGBs = 50.0;     ///< Sustained DRAM bandwidth.
  /// GPU: strategies that can compute f16/bf16 Q K^T with tensor-core mma.sync
  /// do so.
  bool tensorCores = false;
  /// GPU: shared memory a thread block may use (CUDA's static 48 KiB; a
  /// Vulkan device's maxComputeSharedMemorySize).
  int64_t gpuSharedBytes = 48 << 10;
  /// CPU: AVX512-BF16 dot products (vdpbf16ps, bf16 pairs into f32), which
  /// the flash kernels use for bf16 Q K^T and P V.
  bool bf16Dot = false;

  /// f32 FLOP/s peak: threads x lanes x 2 (FMA) x 2 FMA ports x clock.
  double peakFlops() const {
    return threads * (vectorBits / 32.0) * 2.0 * 2.0 * ghz * 1e9;
  }
  static TargetDescription host();
  static TargetDescription gpu();
  /// host() or gpu() by the attribute's kind, with every field it writes.
  static TargetDescription get(TargetAttr attr);
};

/// The machine the attn op `op` is compiled for: TargetDescription::get of
/// lookupTargetAttr (AttnDialect.h), or the host when there is none.
TargetDescription getTargetDescription(Operation *op);

/// A strategy's estimate of what computing one op costs on a target.
struct CostEstimate {
  double flops = 0;        ///< Floating-point operations executed.
  double bytes = 0;        ///< Bytes moved to and from memory.
  double parallelism = 1;  ///< Independent work items for threads.
  double extraBytes = 0;   ///< Scratch memory beyond inputs and result.
  double efficiency = 1;   ///< Fraction of peak the code reaches.
  /// Time outside the roofline: code that runs on one thread, such as
  /// scalar loops before the parallel ones.
  double serialSeconds = 0;
  /// Roofline estimate, plus the serial time, in seconds on `target`.
  double seconds(const TargetDescription &target) const;
};

/// One parameter a strategy reads from `#attn.strategy<"name", {...}>`: its
/// type, its range, and the targets whose kernels use it. Parameters are
/// checked against it once, when selection takes a written or forced
/// strategy: an unknown key, a wrong type, a value out of range, or a
/// parameter the target does not use is an error naming the key and the
/// strategy. Limits that depend on the op or the device (stack, shared
/// memory) are checked when the strategy applies.
struct StrategyParameter {
  enum class Type {
    Integer,      ///< an integer
    IntegerPerAxis ///< an integer, or a list of one per spatial axis
  };
  /// The targets that use a parameter.
  enum Targets : unsigned { CPU = 1, GPU = 2, Both = CPU | GPU };
  const char *name;
  Type type;
  int64_t min, max;
  Targets targets;
  /// What it controls and what the cost model picks when it is not written.
  const char *summary;
};

class Strategy {
public:
  virtual ~Strategy() = default;
  /// Name written in #attn.strategy<"name">.
  virtual StringRef getName() const = 0;
  virtual StringRef getDescription() const = 0;
  /// Whether this strategy can compute `op` on `target`; when it cannot,
  /// `reason` says why.
  virtual bool isApplicable(Operation *op, const TargetDescription &target,
                            std::string &reason) const = 0;
  /// Whether apply() gives attn.attention's row statistics (return_lse,
  /// return_entropy) their results, or else isApplicable() declines the
  /// ones it does not compute. A strategy that does not say so (one
  /// written before the statistics existed) is not asked to compute an op
  /// that returns them: its apply() would replace the op's results by the
  /// output alone.
  virtual bool knowsRowStatistics() const { return false; }
  /// Whether apply() reads quantized K/V (k_scale, v_scale) itself on
  /// `target`. When it does not, attn-apply-strategies hands it the op over
  /// dequantized copies of K and V (QuantizedKV.h).
  virtual bool dequantizesKV(const TargetDescription &target) const {
    return false;
  }
  /// Whether apply() reads attn.paged_attention's cache through its page
  /// table on `target`. When it does not, attn-apply-strategies hands it an
  /// attn.attention over contiguous copies of each request's keys
  /// (PagedKV.h).
  virtual bool readsPagedKV(const TargetDescription &target) const {
    return false;
  }
  /// Completes `requested` (which may be null or carry some parameters) with
  /// the parameters this strategy would use for `op` on `target`.
  virtual StrategyAttr chooseParameters(Operation *op,
                                        const TargetDescription &target,
                                        StrategyAttr requested) const;
  /// The parameters this strategy takes (none by default).
  virtual ArrayRef<StrategyParameter> getParameters() const { return {}; }
  /// Cost of computing `op` with the parameters of `strategy`.
  virtual CostEstimate estimateCost(Operation *op,
                                    const TargetDescription &target,
                                    StrategyAttr strategy) const = 0;
  /// Replaces `op` with ops that compute it. On failure, emits an error.
  virtual LogicalResult apply(RewriterBase &rewriter, Operation *op,
                              StrategyAttr strategy,
                              const TargetDescription &target) const = 0;
};

/// The one registry of strategies of a process.
class StrategyRegistry {
public:
  static StrategyRegistry &global();
  /// Adds a strategy; a later strategy with the same name replaces the first.
  void add(std::unique_ptr<Strategy> strategy);
  const Strategy *lookup(StringRef name) const;
  SmallVector<const Strategy *> all() const;

private:
  SmallVector<std::unique_ptr<Strategy>> strategies;
};

/// Registers the strategies built into attn (idempotent).
void registerBuiltinStrategies();

/// Loads a shared library that registers strategies through
/// `extern "C" void attnRegisterStrategies(mlir::attn::StrategyRegistry &)`.
/// On failure returns false and sets `error` to a message naming the path.
bool loadStrategyLibrary(StringRef path, std::string &error);

/// The C entry point a strategy library exports.
using RegisterStrategiesFn = void (*)(StrategyRegistry &);
inline constexpr const char *kRegisterStrategiesSymbol =
    "attnRegisterStrategies";

/// One candidate of strategy selection for an op.
struct StrategyCandidate {
  const Strategy *strategy = nullptr;
  bool applicable = false;
  std::string reason;           ///< Why it is not applicable.
  StrategyAttr parameters;      ///< Parameters it would use.
  CostEstimate cost;
  double seconds = 0;
};

/// Asks every registered strategy about `op`, cheapest applicable first, then
/// the inapplicable ones.
SmallVector<StrategyCandidate> rankStrategies(Operation *op,
                                              const TargetDescription &target);

/// What a user asks of selection, besides what is written on the ops. Each
/// is a strategy name or a whole `#attn.strategy<...>` attribute.
struct StrategyRequest {
  /// Replaces the strategy of every op, written or not (attn-run --check
  /// compares with "reference" this way).
  std::string override;
  /// The strategy of every op that carries none.
  std::string forced;
};

/// Where an op's strategy comes from, in the order selection tries them.
enum class StrategyOrigin { Override, Written, Forced, Cheapest };
StringRef stringifyStrategyOrigin(StrategyOrigin origin);

/// The one place that decides an op's strategy: the override, else the
/// strategy written on the op, else the forced one, else the cheapest
/// applicable estimate. A user's strategy keeps the parameters it writes
/// (checked against the strategy's schema for `target`); the cost model
/// chooses only the others. Emits an error on `op` and fails when that
/// strategy is unknown, cannot compute the op, or has a parameter its schema
/// rejects. Explain, the passes, the C API and Python all go through here.
FailureOr<StrategyAttr> selectStrategy(Operation *op,
                                       const TargetDescription &target,
                                       const StrategyRequest &request,
                                       StrategyOrigin *origin = nullptr);
/// selectStrategy with only a forced strategy.
FailureOr<StrategyAttr> selectStrategy(Operation *op,
                                       const TargetDescription &target,
                                       StringRef forced);

/// Checks the parameters of `attr` against `strategy`'s schema on
/// `target`; emits one error on `op` naming the key and the strategy.
LogicalResult verifyStrategyParameters(Operation *op, const Strategy &strategy,
                                       StrategyAttr attr,
                                       const TargetDescription &target);

/// Writes the parameter reference of every registered strategy (Markdown),
/// from their schemas.
void printStrategyParameterReference(raw_ostream &os);

/// True for the ops strategies compute: attn.attention, attn.neighborhood,
/// attn.attention_backward and attn.paged_attention.
bool isAttnOp(Operation *op);

struct AttentionProblem;
/// The useful work of an attn op: 2 (D + Dv) FLOPs per (query, key) pair
/// that its rules allow (and its mask, when the mask's values are given);
/// 2 (3 D + 2 Dv) for attn.attention_backward.
/// It keeps sizes and rules only, so it outlives the op: tools count the
/// FLOPs of a call with the call's sizes, after compilation.
class AttentionWork {
public:
  explicit AttentionWork(Operation *op);
  /// Query and key position dimensions (1 for attn.attention, the spatial
  /// rank for attn.neighborhood).
  size_t queryRank() const;
  size_t keyRank() const;
  /// FLOPs of a call with these sizes. `mask`, when not null, holds the
  /// mask operand's values (one byte each, row-major over `maskShape`, that
  /// is [Bm, Hm, Lq, Lk]) of an attn.attention; their false entries do not
  /// count. With a mask_mod, the pairs it allows are counted at
  /// construction for the op's static sizes; for other sizes, or a mod that
  /// reads values known only at run time, the count is unknown: -1.
  double flops(int64_t batch, ArrayRef<int64_t> queryShape,
               ArrayRef<int64_t> keyShape, const uint8_t *mask = nullptr,
               ArrayRef<int64_t> maskShape = {}) const;

private:
  std::shared_ptr<const AttentionProblem> problem;
  /// With a mask_mod: the pairs allowed over every batch and head for the
  /// op's static batch and lengths (the problem's), or -1 when they could
  /// not be counted.
  bool hasMaskMod = false;
  int64_t modPairs = -1;
};
/// The strategy attribute an attn op carries, or null.
StrategyAttr getStrategyAttr(Operation *op);
void setStrategyAttr(Operation *op, StrategyAttr strategy);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_STRATEGY_H
