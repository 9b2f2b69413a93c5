//===- SequenceShards.h - How --distribute splits the sequence --*- C++ -*-===//
//
// The sequence axis of attention split across MPI ranks: into N chunks for
// `ring` (rank r holds chunk r) or 2N for `zigzag` (rank r holds chunks r
// and 2N - 1 - r, which balances causal work). Every chunk has
// ceil(L / chunks) positions; the last ones are padded past L. The
// distribution pass (attn-distribute-sequence) and the runner that reads
// each rank's shard (attn-run --distribute) both use this, so that they
// agree on which rows a rank holds.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TRANSFORMS_SEQUENCESHARDS_H
#define ATTN_TRANSFORMS_SEQUENCESHARDS_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace mlir::attn {

enum class SequenceDistribution { Ring, Zigzag };

/// "ring" or "zigzag"; nullopt for anything else.
inline std::optional<SequenceDistribution>
parseSequenceDistribution(llvm::StringRef name) {
  if (name == "ring")
    return SequenceDistribution::Ring;
  if (name == "zigzag")
    return SequenceDistribution::Zigzag;
  return std::nullopt;
}

struct SequenceShards {
  SequenceDistribution mode = SequenceDistribution::Ring;
  int64_t ranks = 1;
  int64_t length = 0; ///< L, the whole sequence.

  /// Chunks of the sequence: N (ring) or 2N (zigzag).
  int64_t numChunks() const {
    return mode == SequenceDistribution::Ring ? ranks : 2 * ranks;
  }
  int64_t chunksPerRank() const {
    return mode == SequenceDistribution::Ring ? 1 : 2;
  }
  /// Positions per chunk, ceil(L / chunks) (at least 1).
  int64_t chunkLength() const {
    int64_t c = numChunks();
    return length <= 0 ? 1 : (length + c - 1) / c;
  }
  /// Rows of one rank's shard: its chunks one after the other.
  int64_t shardLength() const { return chunksPerRank() * chunkLength(); }
  /// The global index of the `local`-th chunk of `rank`.
  int64_t chunkOf(int64_t rank, int64_t local) const {
    return local == 0 ? rank : 2 * ranks - 1 - rank;
  }
  /// The shard of `rank` as (first position, positions inside [0, L)) per
  /// chunk; a chunk wholly past L has 0 positions.
  llvm::SmallVector<std::pair<int64_t, int64_t>, 2> rowsOf(int64_t rank) const {
    llvm::SmallVector<std::pair<int64_t, int64_t>, 2> rows;
    for (int64_t local = 0; local < chunksPerRank(); ++local) {
      int64_t first = chunkOf(rank, local) * chunkLength();
      int64_t last = std::min(length, first + chunkLength());
      rows.push_back({first, std::max<int64_t>(0, last - first)});
    }
    return rows;
  }
};

} // namespace mlir::attn

#endif // ATTN_TRANSFORMS_SEQUENCESHARDS_H
