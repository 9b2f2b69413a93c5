//===- AttentionProblem.h - One view of both attn ops -----------*- C++ -*-===//
//
// Strategies see attn.attention and attn.neighborhood through one struct:
// operands, static sizes, scale, score, and the allowed-key rules. A
// neighborhood op is an attention over its flattened spatial positions whose
// allowed set follows NATTEN's rule.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_STRATEGIES_COMMON_ATTENTIONPROBLEM_H
#define ATTN_STRATEGIES_COMMON_ATTENTIONPROBLEM_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Strategies/Common/MaskSemantics.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>
#include <optional>

namespace mlir::attn {

struct AttentionProblem {
  Operation *op = nullptr;
  bool isNeighborhood = false;
  Value query, key, value, mask, bias, init;
  Type elementType;       ///< q/k/v/result element type.
  int64_t batch = 0;      ///< May be ShapedType::kDynamic.
  int64_t headsQ = 0, headsKV = 0, headDim = 0, valueDim = 0;
  /// Attention: {Lq}, {Lk}. Neighborhood: the spatial shape (both).
  SmallVector<int64_t> queryShape, keyShape;
  float scale = 1.0f;
  ScoreAttr score;
  std::optional<float> softcap;
  // attn.attention rules.
  bool causal = false;
  bool hasWindow = false;
  std::optional<int64_t> windowLeft, windowRight;
  int64_t sinks = 0;
  // attn.neighborhood rules, one entry per spatial axis.
  SmallVector<int64_t> kernel, dilation, stride;
  SmallVector<bool> causalAxes;
  // Custom variants (ModRegions.h): the op's score_mod and mask_mod regions
  // (null when absent) and its sink logits [Hq] (attn.attention only).
  Region *scoreMod = nullptr;
  Region *maskMod = nullptr;
  Value sinkLogits;
  // Quantized K/V (QuantizedKV.h): the dequantization scales of an i8 or
  // f8E4M3FN key / value operand, null for a float one.
  Value keyScale, valueScale;
  // attn.paged_attention: `key` and `value` are the caches [pages, Hkv,
  // pageSize, D]; request b's key t lives in page pageTable[b, t /
  // pageSize], slot t mod pageSize, and it has keyLengths[b] keys (its
  // queries aligned to its own last keys). keyShape is the table's
  // capacity, T * pageSize. Null when the op is not paged.
  Value pageTable, keyLengths;
  int64_t pageSize = 0;
  bool isPaged() const { return pageTable != nullptr; }
  // Row statistics the op returns besides its output (attn.attention's
  // return_lse / return_entropy, attn.finalize's lse and entropy).
  // `lseInit` and `entropyInit` are their destinations when the op has
  // them (attn.finalize), else null.
  bool returnLse = false, returnEntropy = false;
  Value lseInit, entropyInit;
  /// attn.attention_backward: `init` is the forward op's output; its LSE,
  /// the output's gradient, and the gradients' inits (dQ, dK, dV, then
  /// dBias and dSink when those operands are present).
  bool isBackward = false;
  Value gradOutput, lse;
  SmallVector<Value> gradInits;

  static AttentionProblem get(Operation *op);

  int64_t groupSize() const { return headsQ / headsKV; }
  /// Flattened query / key lengths (kDynamic if any part is dynamic).
  int64_t queryLength() const;
  int64_t keyLength() const;
  bool hasDynamicShape() const;
  /// True when causal, window or neighborhood rules restrict keys.
  bool hasStructuralMask() const;
  /// What a strategy computes beyond plain attention.
  struct Computed {
    bool scoreMod = false, maskMod = false, sinkLogits = false;
    bool lse = false, entropy = false;
  };
  /// The custom variants and row statistics of the op that `strategy` does
  /// not compute yet, as a reason for isApplicable ("score_mod and
  /// return_entropy are not computed by NAME yet"), or "" when there are
  /// none.
  std::string unsupportedVariants(StringRef strategy,
                                  const Computed &computed) const;

  /// Rule objects for concrete lengths.
  semantics::BandRule bandRule(int64_t lq, int64_t lk) const;
  SmallVector<semantics::NeighborhoodAxis> neighborhoodAxes(
      ArrayRef<int64_t> spatialShape) const;
  /// Allowed (query, key) pairs per (batch, head), ignoring a mask operand.
  /// Uses `lengths` (flattened Lq, Lk for attention; the spatial shape for a
  /// neighborhood) in place of dynamic sizes.
  int64_t countAllowedPairs(ArrayRef<int64_t> queryShape,
                            ArrayRef<int64_t> keyShape) const;
};

/// The reassociation that collapses a neighborhood operand [B, H,
/// spatial..., (D)] of `rank` dimensions, `spatialRank` of them spatial, to
/// [B, H, N, (D)].
SmallVector<ReassociationIndices> spatialPositionGroups(int64_t spatialRank,
                                                        int64_t rank);

/// Computes the neighborhood op `problem` (forward or backward) as attention
/// over its flattened positions: collapses q, k, v, init (and the
/// backward's grad_output, lse and gradient inits) to [B, H, N, D] or
/// [B, H, N] before `problem.op`, with an f32 [B, H, N] lseInit for a
/// forward op's return_lse, calls `build` with the flattened problem and the
/// spatial extents (index values), and expands each of its results (the
/// output and LSE, or the gradients) back to the op's result types.
SmallVector<Value> buildOnFlattenedPositions(
    RewriterBase &rewriter, const AttentionProblem &problem,
    function_ref<SmallVector<Value>(const AttentionProblem &flat,
                                    ArrayRef<Value> extents)>
        build);

/// Stack scratch one task of a CPU kernel may take (O, m, l, P, gathered
/// keys, linear state). OpenMP workers get 4 MiB stacks by default, the main
/// thread 8 MiB; a task beyond this would overflow one at run time.
constexpr int64_t kTaskScratchLimitBytes = 2 << 20;

/// A byte count computed in doubles, as an int64 that saturates at
/// INT64_MAX: scratch estimates multiply sizes that may each be up to
/// 2^31 - 1, whose product overflows int64.
inline int64_t saturatingBytes(double bytes) {
  return bytes >= 0x1p62 ? std::numeric_limits<int64_t>::max()
                         : static_cast<int64_t>(bytes);
}

/// A static size, or `fallback` where it is dynamic (for cost estimates).
inline int64_t knownOr(int64_t size, int64_t fallback) {
  return ShapedType::isDynamic(size) ? fallback : size;
}

} // namespace mlir::attn

#endif // ATTN_STRATEGIES_COMMON_ATTENTIONPROBLEM_H
