//===- DistributedRun.h - attn-run --distribute on MPI ----------*- C++ -*-===//
//
// The sequence-parallel run of attn-run (DistributedRun.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTN_RUN_DISTRIBUTEDRUN_H
#define ATTN_TOOLS_ATTN_RUN_DISTRIBUTEDRUN_H

#include "attn/CAPI/Compiler.h"

#include <string>
#include <vector>

struct DistributedRunOptions {
  std::string mode;       ///< ring or zigzag
  std::string source;     ///< MLIR text
  std::string sourceName; ///< its file, for messages
  std::string entry;
  std::vector<std::string> inputPaths, outputPaths;
  int threads = 0; ///< per rank; 0: the node's cores over its ranks
  unsigned bench = 0;
  bool printIR = false;
  attn::api::CompileOptions compile;
  attn::api::RegistryInit registry;
};

/// Runs under MPI (initialized here, finalized on return); returns the
/// process's exit status.
int runDistributed(const DistributedRunOptions &options);

#endif // ATTN_TOOLS_ATTN_RUN_DISTRIBUTEDRUN_H
