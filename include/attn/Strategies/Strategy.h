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
/// from the running machine; pass options override each field.
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

  /// f32 FLOP/s peak: threads x lanes x 2 (FMA) x 2 FMA ports x clock.
  double peakFlops() const {
    return threads * (vectorBits / 32.0) * 2.0 * 2.0 * ghz * 1e9;
  }
  static TargetDescription host();
  static TargetDescription gpu();
};

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

/// One parameter that a strategy reads from #attn.strategy<"name", {...}>:
/// its schema. Selection checks every written parameter against it (an
/// unknown name, a value of another kind or out of range, or a parameter
/// the target does not read is an error naming the parameter and the
/// strategy), and `attn-opt --attn-print-strategy-parameters` writes the
/// reference (docs/generated/StrategyParameters.md) from it.
struct StrategyParameter {
  enum class Kind {
    Int,        ///< An integer.
    Flag,       ///< 0 or 1 (or true / false).
    IntPerAxis, ///< An integer for every spatial axis, or a list of one per axis.
  };
  StringLiteral name;
  Kind kind = Kind::Int;
  int64_t min = 0, max = 0; ///< Inclusive range of each integer.
  bool cpu = true, gpu = true; ///< The targets whose code reads it.
  /// What is used when the parameter is absent, in words.
  StringLiteral defaultValue;
  StringLiteral description;
};

class Strategy {
public:
  virtual ~Strategy() = default;
  /// Name written in #attn.strategy<"name">.
  virtual StringRef getName() const = 0;
  virtual StringRef getDescription() const = 0;
  /// The parameters it reads, with their kinds, ranges and targets. A
  /// strategy without parameters returns none (any written one is then an
  /// error).
  virtual ArrayRef<StrategyParameter> getParameters() const { return {}; }
  /// Whether this strategy can compute `op` on `target`; when it cannot,
  /// `reason` says why.
  virtual bool isApplicable(Operation *op, const TargetDescription &target,
                            std::string &reason) const = 0;
  /// Completes `requested` (which may be null or carry some parameters) with
  /// the parameters this strategy would use for `op` on `target`.
  virtual StrategyAttr chooseParameters(Operation *op,
                                        const TargetDescription &target,
                                        StrategyAttr requested) const;
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

/// The strategy selection gives `op`: the one written on it (parameters
/// completed), else `forced` when non-empty, else the cheapest applicable.
/// Emits an error on `op` and fails when that strategy is unknown or cannot
/// compute the op.
FailureOr<StrategyAttr> selectStrategy(Operation *op,
                                       const TargetDescription &target,
                                       StringRef forced);

/// Checks the parameters of `strategy` (an attribute naming `impl`)
/// against impl's schema for `target`; emits an error on `op` naming the
/// parameter and the strategy, and fails, at the first one that is not
/// declared, of another kind, out of range, or not read on `target`.
LogicalResult verifyStrategyParameters(Operation *op, const Strategy &impl,
                                       StrategyAttr strategy,
                                       const TargetDescription &target);

/// Writes the parameter reference of every registered strategy as Markdown:
/// name, kind, range, default, targets and meaning, from their schemas.
void printStrategyParameterReference(raw_ostream &os);

/// True for attn.attention and attn.neighborhood.
bool isAttnOp(Operation *op);
/// The strategy attribute an attn op carries, or null.
StrategyAttr getStrategyAttr(Operation *op);
void setStrategyAttr(Operation *op, StrategyAttr strategy);

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_STRATEGY_H
