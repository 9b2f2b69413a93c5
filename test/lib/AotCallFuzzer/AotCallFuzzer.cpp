//===- AotCallFuzzer.cpp - Random calls into an attn AOT library ----------===//
//
// attn-aot-call-fuzzer LIB.so [--calls N] [--seed S]
//
// Calls the entries of an attn AOT library N times with random arguments,
// as a careless host would: random ranks, sizes (negative, zero, INT64_MIN,
// beyond 2^31 - 1, overflowing), dtypes, counts, null entry names, arrays,
// data, outputs and error buffers. Every call must return: the process
// must not crash or exit. A call that the fuzzer knows breaks the ABI's
// contract (AttnAOT.h) must fail with a message; a call that succeeds must
// return results of the entry's declared dtypes and ranks, whose memory is
// read in full and freed. Arrays that a call may read are real buffers of
// the size their shape says (shapes are kept small for that), so a library
// that accepts a call reads only memory that is there.
//
// Prints `calls=N accepted=A refused=R`, then the accepted calls of each
// entry, `accepted @name: K`, and exits 0;
// prints `FAIL: ...` and exits 1 at the first broken expectation.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/AotLibrary.h"
#include "attn/Runtime/AttnAOT.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using attn::runtime::AotArraySpec;
using attn::runtime::AotEntry;
using attn::runtime::DType;

namespace {

using CallFn = int (*)(const char *, const attn_aot_array *, int,
                       attn_aot_array *, int, char *, size_t);

/// At most this many elements per array that a call may read.
constexpr int64_t kMaxElements = 1 << 14;

struct Fuzzer {
  std::mt19937_64 random;
  CallFn call = nullptr;
  void (*release)(void *) = nullptr;
  std::vector<AotEntry> entries;
  std::vector<int64_t> acceptedPerEntry;
  int64_t accepted = 0, refused = 0;

  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(random);
  }
  bool chance(int percent) { return uniform(0, 99) < percent; }

  [[noreturn]] void failure(int64_t index, const std::string &what) {
    std::printf("FAIL: call %lld: %s\n", static_cast<long long>(index),
                what.c_str());
    std::exit(1);
  }

  /// Sizes for the entry's inputs that may satisfy its size rules (which
  /// the description does not list): a dynamic dimension takes the value
  /// shared by dimension index d of every input or, sometimes, one of its
  /// own; each array stays within kMaxElements.
  std::vector<std::vector<int64_t>> drawShapes(const AotEntry &entry) {
    std::vector<int64_t> shared(ATTN_AOT_MAX_RANK);
    for (int64_t &size : shared)
      size = chance(10) ? 0 : uniform(1, 24);
    bool independent = chance(30);
    std::vector<std::vector<int64_t>> shapes;
    for (const AotArraySpec &spec : entry.inputs) {
      std::vector<int64_t> shape = spec.shape;
      for (size_t d = 0; d < shape.size(); ++d)
        if (shape[d] < 0)
          shape[d] = independent && chance(50)
                         ? (chance(50) ? 1 : uniform(0, 24))
                         : shared[d];
      int64_t elements = 1;
      for (int64_t size : shape)
        elements *= size;
      // Too large to back with memory: shrink the dynamic sizes.
      for (size_t d = 0; elements > kMaxElements && d < shape.size(); ++d)
        if (spec.shape[d] < 0 && shape[d] > 1) {
          elements /= shape[d];
          shape[d] = 1;
        }
      if (elements > kMaxElements)
        for (size_t d = 0; d < shape.size(); ++d)
          if (spec.shape[d] < 0)
            shape[d] = 0;
      shapes.push_back(shape);
    }
    return shapes;
  }

  /// One random call. Returns normally; failure() ends the program.
  void once(int64_t index) {
    size_t entryIndex = uniform(0, entries.size() - 1);
    const AotEntry &entry = entries[entryIndex];
    std::vector<std::vector<int64_t>> shapes = drawShapes(entry);
    std::vector<std::vector<uint64_t>> buffers;
    std::vector<attn_aot_array> inputs(entry.inputs.size() + 1);
    for (size_t i = 0; i < entry.inputs.size(); ++i) {
      attn_aot_array &a = inputs[i];
      std::memset(&a, 0, sizeof a);
      a.dtype = static_cast<int32_t>(entry.inputs[i].dtype);
      a.rank = static_cast<int32_t>(shapes[i].size());
      int64_t elements = 1;
      for (int d = 0; d < a.rank; ++d) {
        a.shape[d] = shapes[i][d];
        elements *= shapes[i][d];
      }
      // Random bits: NaN, Inf and huge values are fair inputs too.
      buffers.emplace_back(elements + 1);
      for (uint64_t &word : buffers.back())
        word = random();
      a.data = buffers.back().data();
    }

    // One mutation that breaks the contract, or none.
    std::string broken;
    const char *name = entry.name.c_str();
    int numInputs = static_cast<int>(entry.inputs.size());
    int numOutputs = static_cast<int>(entry.results.size());
    attn_aot_array *inputPointer = inputs.data();
    std::vector<attn_aot_array> outputs(entry.results.size() + 2);
    attn_aot_array *outputPointer = outputs.data();
    int kind = chance(40) ? static_cast<int>(uniform(0, 12)) : -1;
    int victim = numInputs ? static_cast<int>(uniform(0, numInputs - 1)) : -1;
    int victimRank = victim >= 0 ? inputs[victim].rank : 0;
    int dim = victimRank ? static_cast<int>(uniform(0, victimRank - 1)) : -1;
    switch (kind) {
    case 0:
      name = chance(50) ? nullptr : "no_such_entry";
      broken = "a null or unknown entry name";
      break;
    case 1:
      if (numInputs) {
        inputPointer = nullptr;
        broken = "null inputs";
      }
      break;
    case 2:
      if (numOutputs) {
        outputPointer = nullptr;
        broken = "null outputs";
      }
      break;
    case 3:
      numInputs += chance(50) ? 1 : -static_cast<int>(uniform(1, 1000));
      broken = "a wrong number of inputs";
      break;
    case 4:
      numOutputs += chance(50) ? 1 : -static_cast<int>(uniform(1, 1000));
      broken = "a wrong number of outputs";
      break;
    case 5:
      if (victim >= 0) {
        int rank = static_cast<int>(uniform(-8, 16));
        if (rank != inputs[victim].rank) {
          inputs[victim].rank = rank;
          broken = "a wrong rank";
        }
      }
      break;
    case 6:
      if (victim >= 0) {
        int dtype = static_cast<int>(uniform(-3, 12));
        if (dtype != inputs[victim].dtype) {
          inputs[victim].dtype = dtype;
          broken = "a wrong dtype";
        }
      }
      break;
    case 7:
      if (dim >= 0) {
        int64_t values[] = {-1, -uniform(2, 1 << 30), INT64_MIN,
                            int64_t(1) << 31, INT64_MAX};
        inputs[victim].shape[dim] = values[uniform(0, 4)];
        broken = "a negative or too large size";
      }
      break;
    case 8:
      // Sizes within 2^31 - 1 each whose product overflows an address
      // space: a dynamic dimension or a static one changed.
      if (victimRank >= 2) {
        for (int d = 0; d < victimRank; ++d)
          inputs[victim].shape[d] = (int64_t(1) << 31) - uniform(1, 9);
        broken = "an array larger than memory";
      }
      break;
    case 9:
      if (dim >= 0 && entry.inputs[victim].shape[dim] >= 0) {
        inputs[victim].shape[dim] += uniform(1, 3);
        broken = "a static size changed";
      }
      break;
    case 10:
      if (victim >= 0) {
        int64_t elements = 1;
        for (int d = 0; d < victimRank; ++d)
          elements *= inputs[victim].shape[d];
        if (elements > 0) {
          inputs[victim].data = nullptr;
          broken = "null data";
        }
      }
      break;
    default:
      break;
    }

    char errorBuffer[256];
    char *error = chance(5) ? nullptr : errorBuffer;
    size_t errorSize = chance(5) ? uniform(0, 4) : sizeof errorBuffer;
    if (error)
      std::strcpy(errorBuffer, "");
    int status = call(name, inputPointer, numInputs, outputPointer,
                      numOutputs, error, errorSize);
    if (!broken.empty() && status == 0)
      failure(index, "@" + entry.name + " accepted " + broken);
    if (status != 0) {
      ++refused;
      if (error && errorSize >= sizeof errorBuffer && !errorBuffer[0])
        failure(index, "a refused call left no message");
      return;
    }
    ++accepted;
    ++acceptedPerEntry[entryIndex];
    for (size_t r = 0; r < entry.results.size(); ++r) {
      const attn_aot_array &out = outputs[r];
      if (out.dtype != static_cast<int32_t>(entry.results[r].dtype) ||
          out.rank != static_cast<int32_t>(entry.results[r].shape.size()))
        failure(index, "result " + std::to_string(r) +
                           " has another dtype or rank than described");
      int64_t bytes =
          static_cast<int64_t>(attn::runtime::dtypeSize(
              static_cast<DType>(out.dtype)));
      for (int d = 0; d < out.rank; ++d) {
        if (out.shape[d] < 0)
          failure(index, "result " + std::to_string(r) +
                             " has a negative size");
        bytes *= out.shape[d];
      }
      if (bytes > 0 && !out.data)
        failure(index, "result " + std::to_string(r) + " has no data");
      // Read it all: a wrong pointer faults here.
      volatile uint8_t sum = 0;
      for (int64_t b = 0; b < bytes; ++b)
        sum += static_cast<const uint8_t *>(out.data)[b];
      (void)sum;
    }
    // Results may share one allocation.
    std::vector<void *> freed;
    for (size_t r = 0; r < entry.results.size(); ++r) {
      void *base = outputs[r].base;
      bool seen = false;
      for (void *p : freed)
        seen |= p == base;
      if (!seen) {
        freed.push_back(base);
        release(base);
      }
    }
  }
};

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s LIB.so [--calls N] [--seed S]\n", argv[0]);
    return 2;
  }
  int64_t calls = 100000;
  uint64_t seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--calls") == 0)
      calls = std::strtoll(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--seed") == 0)
      seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  std::string error;
  if (std::string why = attn::runtime::checkSharedObjectFile(argv[1]);
      !why.empty()) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 2;
  }
  void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::fprintf(stderr, "error: %s\n", dlerror());
    return 2;
  }
  Fuzzer fuzzer;
  fuzzer.random.seed(seed);
  fuzzer.call = reinterpret_cast<CallFn>(dlsym(library, "attn_aot_call"));
  fuzzer.release =
      reinterpret_cast<void (*)(void *)>(dlsym(library, "attn_aot_free"));
  auto describe =
      reinterpret_cast<const char *(*)()>(dlsym(library, "attn_aot_describe"));
  std::string target;
  if (!fuzzer.call || !fuzzer.release || !describe ||
      !attn::runtime::parseAotDescription(describe(), target, fuzzer.entries,
                                          error) ||
      fuzzer.entries.empty()) {
    std::fprintf(stderr, "error: '%s' is not an attn AOT library with "
                         "entries%s%s\n",
                 argv[1], error.empty() ? "" : ": ", error.c_str());
    return 2;
  }
  fuzzer.acceptedPerEntry.assign(fuzzer.entries.size(), 0);
  for (int64_t i = 0; i < calls; ++i)
    fuzzer.once(i);
  std::printf("calls=%lld accepted=%lld refused=%lld\n",
              static_cast<long long>(calls),
              static_cast<long long>(fuzzer.accepted),
              static_cast<long long>(fuzzer.refused));
  for (size_t e = 0; e < fuzzer.entries.size(); ++e)
    std::printf("accepted @%s: %lld\n", fuzzer.entries[e].name.c_str(),
                static_cast<long long>(fuzzer.acceptedPerEntry[e]));
  return 0;
}
