//===- ProgramGenerator.h - attn programs from fuzzer bytes -----*- C++ -*-===//
//
// Turns fuzzer bytes into one function holding one attn op: random shapes
// (static or dynamic), element types, attributes, masks and biases (entry
// arguments or constants), and strategies with their parameters, mostly
// valid and sometimes deliberately not. Also makes the entry's input arrays
// from a seed, in one of several data modes (large scores, equal scores, a
// dominant key, NaNs, values near the f16 range limit).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FUZZ_PROGRAMGENERATOR_H
#define ATTN_FUZZ_PROGRAMGENERATOR_H

#include "attn/Runtime/Npy.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attn::fuzz {

/// How the input arrays are filled.
enum class DataMode {
  Normal,   ///< standard normal values
  Large,    ///< scores far beyond what a naive exp survives
  Equal,    ///< every key the same: all scores of a row equal
  Dominant, ///< one key per row scores far above the others
  NearF16,  ///< values close to the f16 limit (v ~ +-60000, q.k beyond f16)
  WithNaN,  ///< a few NaNs in q, k or v
};

struct GeneratedArg {
  enum Kind { Query, Key, Value, Mask, Bias } kind;
  runtime::DType dtype;
  std::vector<int64_t> shape; ///< actual sizes (dynamic ones resolved)
};

struct GeneratedProgram {
  std::string text;             ///< the MLIR module
  std::vector<GeneratedArg> args;
  bool neighborhood = false;
  /// The generator meant the op to be valid (the verifier must accept it).
  bool valid = true;
  /// Valid, and the strategy is left to selection or is `reference`: the
  /// pipeline must compile it.
  bool mustCompile = true;
  /// The op's score is kernel<identity>: inputs are kept non-negative so
  /// that normalization does not cancel.
  bool nonNegativeInputs = false;
  /// Unnormalized kernel scores may overflow on large data.
  bool boundedWeights = true;
  double work = 0;              ///< B * Hq * Lq * Lk * (D + Dv)
  int64_t constantMaskElements = 0;
};

/// Builds a program from the bytes that `data` has left. With `extremeSizes`
/// (for harnesses that never run the program), a quarter of the ops take
/// sizes near the verifier's 2^31 - 1 limits: lengths, heads, head
/// dimensions, neighborhood kernels and dilations; mustCompile is false for
/// those.
GeneratedProgram generateProgram(FuzzedDataProvider &data,
                                 bool extremeSizes = false);

/// Fills the entry's arguments with seeded random values in `mode`.
std::vector<runtime::HostArray>
generateInputs(const GeneratedProgram &program, uint64_t seed, DataMode mode);

const char *dataModeName(DataMode mode);

} // namespace attn::fuzz

#endif // ATTN_FUZZ_PROGRAMGENERATOR_H
