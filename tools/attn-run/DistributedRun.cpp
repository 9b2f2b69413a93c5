//===- DistributedRun.cpp - attn-run --distribute on MPI ------------------===//
//
// `mpirun -np N attn-run FILE --distribute=ring|zigzag --inputs ... --output
// o.npy`: every rank reads only its own rows of q, k and v (SequenceShards),
// compiles the entry with the attention split over the N ranks
// (attn-distribute-sequence: K/V blocks travel the ring, partial states
// merge in f32), runs it, and rank 0 writes the whole result.
//
// Failures: before the run, every rank reaches each check point together
// (an MPI_Allreduce), so that one clear line comes from the lowest rank
// that failed and every rank exits with status 1; input shapes are compared
// across ranks there too. A rank that fails during or after the run prints
// its line and calls MPI_Abort, which ends every rank; a rank that dies
// makes mpirun end the others (OpenMPI's default).
//
//===----------------------------------------------------------------------===//

#include "DistributedRun.h"

#include "attn/Runtime/Npy.h"
#include "attn/Transforms/SequenceShards.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

// The C API only (OpenMPI's mpi.h would pull in its C++ bindings).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <thread>

using attn::api::CompiledModule;
using attn::runtime::HostArray;
using attn::runtime::NpyHeader;
using mlir::attn::SequenceShards;

namespace {

struct Rank {
  int rank = 0, size = 1;

  void print(const std::string &message) const {
    llvm::errs() << "attn-run: error: "
                 << (size > 1 ? "rank " + std::to_string(rank) + ": " : "")
                 << message << "\n";
    llvm::errs().flush();
  }
  /// A check point that every rank reaches: true when every rank is `ok`;
  /// otherwise the lowest failing rank prints its `message`.
  bool agree(bool ok, const std::string &message) const {
    int failing = ok ? INT_MAX : rank, lowest = INT_MAX;
    MPI_Allreduce(&failing, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (lowest == INT_MAX)
      return true;
    if (lowest == rank)
      print(message);
    return false;
  }
  /// A failure after the check points: ends every rank.
  [[noreturn]] void abort(const std::string &message) const {
    print(message);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);
  }
};

/// Ends MPI on every path out of the run.
struct MPISession {
  bool started = false;
  ~MPISession() {
    if (started)
      MPI_Finalize();
  }
};

/// One line that says what a rank runs, to compare across ranks.
std::string problemText(const DistributedRunOptions &o,
                        const std::vector<NpyHeader> &headers) {
  std::string text = "@" + o.entry + " --distribute=" + o.mode + " inputs";
  for (const NpyHeader &h : headers) {
    text += std::string(" ") + attn::runtime::dtypeName(h.dtype) + "[";
    for (size_t d = 0; d < h.shape.size(); ++d)
      text += (d ? "," : "") + std::to_string(h.shape[d]);
    text += "]";
  }
  return text;
}

/// Threads per rank when --threads is not given: the cores of this node
/// shared among the ranks on it.
int defaultThreads() {
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
                      &node);
  int local = 1;
  MPI_Comm_size(node, &local);
  MPI_Comm_free(&node);
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, local));
}

} // namespace

int runDistributed(const DistributedRunOptions &o) {
  MPISession session;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && MPI_Init(nullptr, nullptr) != MPI_SUCCESS) {
    llvm::errs() << "attn-run: error: --distribute: MPI_Init failed\n";
    return 1;
  }
  session.started = true;
  Rank me;
  MPI_Comm_rank(MPI_COMM_WORLD, &me.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &me.size);
  std::optional<mlir::attn::SequenceDistribution> mode =
      mlir::attn::parseSequenceDistribution(o.mode);

  // Each rank's inputs: headers first, compared across ranks.
  std::vector<NpyHeader> headers(o.inputPaths.size());
  std::string error;
  bool ok = true;
  if (!mode)
    ok = false, error = "--distribute=" + o.mode + " must be ring or zigzag";
  for (size_t i = 0; ok && i < o.inputPaths.size(); ++i)
    ok = attn::runtime::readNpyHeader(o.inputPaths[i], headers[i], error);
  if (!me.agree(ok, error))
    return 1;
  std::string mine = problemText(o, headers);
  constexpr int kTextBytes = 4096;
  std::vector<char> texts(static_cast<size_t>(kTextBytes) * me.size, '\0');
  std::vector<char> text(kTextBytes, '\0');
  std::strncpy(text.data(), mine.c_str(), kTextBytes - 1);
  MPI_Allgather(text.data(), kTextBytes, MPI_CHAR, texts.data(), kTextBytes,
                MPI_CHAR, MPI_COMM_WORLD);
  int differing = -1;
  for (int r = 0; r < me.size && differing < 0; ++r)
    if (std::strncmp(&texts[static_cast<size_t>(r) * kTextBytes], &texts[0],
                     kTextBytes) != 0)
      differing = r;
  if (differing >= 0) {
    if (me.rank == 0)
      me.print(
          "ranks disagree on the problem: rank " + std::to_string(differing) +
          " runs " +
          std::string(&texts[static_cast<size_t>(differing) * kTextBytes]) +
          ", rank 0 runs " + std::string(texts.data()) +
          "; every rank must run the same entry on the same shapes");
    return 1;
  }

  // Compile with the attention split over the ranks.
  int threads = o.threads > 0 ? o.threads : defaultThreads();
  attn::api::setNumThreads(threads);
  attn::api::CompileOptions options = o.compile;
  options.threads = threads;
  options.distribute = o.mode;
  options.ranks = me.size;
  options.distributeEntry = o.entry;
  std::unique_ptr<CompiledModule> module = CompiledModule::compile(
      o.source, o.sourceName, options, o.registry, error);
  ok = module != nullptr;
  if (ok && !module->signature(o.entry)) {
    ok = false;
    error = "no function @" + o.entry + " in '" + o.sourceName + "'";
  }
  if (!me.agree(ok, error))
    return 1;
  if (o.printIR && me.rank == 0)
    llvm::outs() << module->loweredIR() << "\n";
  const attn::api::EntrySignature *sig = module->signature(o.entry);
  if (!me.agree(
          o.outputPaths.empty() || o.outputPaths.size() == sig->results.size(),
          "@" + o.entry + " returns " + std::to_string(sig->results.size()) +
              " results but --output names " +
              std::to_string(o.outputPaths.size()) + " files"))
    return 1;

  // Read the rank's rows of each sharded input, the whole of the others.
  std::vector<HostArray> inputs(o.inputPaths.size()), whole(headers.size());
  ok = true;
  for (size_t i = 0; ok && i < o.inputPaths.size(); ++i) {
    auto sharded = std::find_if(sig->sharded.begin(), sig->sharded.end(),
                                [&](auto &s) { return s.first == int(i); });
    whole[i].dtype = headers[i].dtype;
    whole[i].shape = headers[i].shape;
    if (sharded == sig->sharded.end()) {
      ok = attn::runtime::readNpy(o.inputPaths[i], inputs[i], error);
      continue;
    }
    const NpyHeader &h = headers[i];
    if (h.shape.size() != 4 || h.shape[2] != sharded->second) {
      ok = false;
      error = "'" + o.inputPaths[i] + "' has shape " + whole[i].shapeString() +
              ", but argument " + std::to_string(i) + " of @" + o.entry +
              " has a sequence (axis 2) of " + std::to_string(sharded->second);
      break;
    }
    SequenceShards shards{*mode, me.size, sharded->second};
    std::vector<std::pair<int64_t, int64_t>> rows;
    for (auto range : shards.rowsOf(me.rank))
      rows.push_back(range);
    ok = attn::runtime::readNpyRows(o.inputPaths[i], h, 2, rows,
                                    shards.chunkLength(), inputs[i], error);
  }
  if (ok)
    ok = module->checkInputs(o.entry, inputs, error);
  if (!me.agree(ok, error))
    return 1;

  std::vector<HostArray> outputs;
  if (!module->run(o.entry, inputs, outputs, error))
    me.abort(error);
  if (me.rank == 0)
    for (size_t r = 0; r < o.outputPaths.size(); ++r)
      if (!attn::runtime::writeNpy(o.outputPaths[r], outputs[r], error))
        me.abort(error);
  if (me.rank == 0 && o.outputPaths.empty())
    for (size_t r = 0; r < outputs.size(); ++r)
      llvm::outs() << "result " << r << ": "
                   << attn::runtime::dtypeName(outputs[r].dtype) << " "
                   << outputs[r].shapeString() << "\n";

  if (o.bench > 0) {
    std::vector<double> times;
    for (unsigned i = 0; i < o.bench; ++i) {
      outputs.clear();
      MPI_Barrier(MPI_COMM_WORLD);
      auto start = std::chrono::steady_clock::now();
      if (!module->run(o.entry, inputs, outputs, error))
        me.abort(error);
      MPI_Barrier(MPI_COMM_WORLD);
      auto stop = std::chrono::steady_clock::now();
      times.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(times.begin(), times.end());
    double median =
        times.size() % 2
            ? times[times.size() / 2]
            : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);
    // The useful FLOPs of the whole problem, from the whole shapes.
    double flops = module->usefulFlops(o.entry, whole);
    double gflops = flops >= 0 ? flops / (median * 1e-3) / 1e9 : NAN;
    if (me.rank == 0)
      llvm::outs() << "median_ms=" << llvm::format("%.4f", median)
                   << " gflops=" << llvm::format("%.3f", gflops)
                   << " runs=" << o.bench << " ranks=" << me.size
                   << " threads_per_rank=" << threads << "\n";
  }
  llvm::outs().flush();
  return 0;
}
