//===- Passes.td - attn strategy selection and application -*- tablegen -*-===//

#ifndef ATTN_TRANSFORMS_PASSES_TD
#define ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnSetTarget : Pass<"attn-set-target", "::mlir::ModuleOp"> {
  let summary = "Write the target machine on the module as #attn.target";
  let description = [{
    Writes `attn.target = #attn.target<...>` on the module from the options:
    the machine that attn-select-strategy, attn-explain and
    attn-apply-strategies choose and build strategies for. An option left at
    0 (or false, or an empty target) is left out, and is then the host's
    (cpu) or the GPU model's. When the module already has an #attn.target,
    the options fill in what it leaves out; an option that disagrees with
    what it writes is an error naming both values.
  }];
  let options = [
    Option<"targetKind", "target", "std::string", "\"\"",
           "Target the cost model describes: cpu or gpu (empty: the module's, else cpu)">,
    Option<"threads", "threads", "int64_t", "0",
           "Threads available (0: all hardware threads)">,
    Option<"vectorWidth", "vector-width", "int64_t", "0",
           "SIMD width in bits (0: read from the host)">,
    Option<"l1Bytes", "l1-bytes", "int64_t", "0", "L1 data cache bytes (0: host)">,
    Option<"l2Bytes", "l2-bytes", "int64_t", "0", "L2 cache bytes (0: host)">,
    Option<"l3Bytes", "l3-bytes", "int64_t", "0", "L3 cache bytes (0: host)">,
    Option<"tensorCores", "tensor-cores", "bool", "false",
           "GPU: compute f16/bf16 Q K^T with tensor-core mma.sync where a strategy can">,
    Option<"gpuSharedBytes", "gpu-shared-memory", "int64_t", "0",
           "GPU: shared memory per thread block that kernels may use, in bytes "
           "(0: the module's, else default-gpu-shared-memory)">,
    Option<"defaultGpuSharedBytes", "default-gpu-shared-memory", "int64_t",
           "0",
           "GPU: the shared memory to write when neither gpu-shared-memory "
           "nor the module's #attn.target gives one (0: write none; the cost "
           "model then assumes 48 KiB, CUDA's static limit)">
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

def AttnClearTarget : Pass<"attn-clear-target", "::mlir::ModuleOp"> {
  let summary = "Remove #attn.target once nothing reads it";
  let description = [{
    Removes the `attn.target` attribute from the module and every op in it.
    The pipelines run this pass after its last reader
    (attn-set-openmp-threads, in the lowering to the LLVM dialect), so that
    the module they emit names no attn attribute but `attn.results_owned`,
    and tools without the attn dialect can read it.
  }];
}

def AttnScheduleTaskLoops : Pass<"attn-schedule-task-loops", "::mlir::ModuleOp"> {
  let summary = "Schedule OpenMP loops whose iterations are kernel tasks dynamically";
  let description = [{
    Gives `schedule(dynamic)` to each `omp.wsloop` that has no schedule and
    whose iterations allocate scratch on the stack (`memref.alloca`): the
    task loops of the flash kernels, a few heavy iterations of uneven cost
    (query blocks under a causal band, a mask_mod's skipped tiles). Threads
    then take the next task when they finish one instead of a fixed share.
    Loops of many light iterations (elementwise and packing loops) keep the
    static default.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def AttnSetOpenMPThreads : Pass<"attn-set-openmp-threads", "::mlir::ModuleOp"> {
  let summary = "Run every OpenMP region with the #attn.target's threads";
  let description = [{
    Gives each `omp.parallel` that has no `num_threads` the `threads` of the
    nearest `#attn.target` around it when that is a `kind = "cpu"` one, so
    that the thread count a module writes is the one its parallel regions
    run with, as well as the one the cost model assumed. Regions under no
    target, or under one that does not write `threads`, keep the OpenMP
    runtime's default (`OMP_NUM_THREADS`, else all cores). So do regions under a `kind = "gpu"` target, whose
    `threads` are the device's (the host code of a GPU module).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnSelectStrategy : Pass<"attn-select-strategy"> {
  let summary = "Write the cheapest applicable strategy on each attn op";
  let description = [{
    Asks every registered strategy whether it can compute each attn op and
    what it would cost on the target, and writes the cheapest applicable one
    (with its parameters) as the op's `strategy` attribute. A strategy that
    the user wrote is kept; its missing parameters are filled in. With
    `strategy=NAME` (or attn-opt's `--attn-strategy=NAME`) that strategy is
    forced, and an op it cannot compute is an error naming the reason. The
    target is the module's #attn.target (attn-set-target), else the host.
  }];
  let options = [
    Option<"forcedStrategy", "strategy", "std::string", "\"\"",
           "Force this strategy on every op that has none">,
    Option<"overrideStrategy", "override", "std::string", "\"\"",
           "Replace the strategy of every op, written or not, by this one">
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

def AttnExplain : Pass<"attn-explain"> {
  let summary = "Emit a remark per attn op with every strategy's cost";
  let description = [{
    For each attn op, emits one remark that lists every registered strategy:
    its estimated time, FLOPs, bytes, parallelism and scratch memory, or the
    reason it cannot compute the op, and which one selection picks (or the
    strategy already written on the op), for the module's #attn.target
    (attn-set-target), else the host. Changes nothing.
  }];
}

def AttnApplyStrategies : Pass<"attn-apply-strategies"> {
  let summary = "Rewrite each attn op with the strategy written on it";
  let description = [{
    Replaces each attn op by the ops its strategy produces (linalg, scf,
    vector and tensor ops). An op without a strategy is first given the one
    selection picks. Kernels are built for the module's #attn.target
    (attn-set-target), else the host.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::memref::MemRefDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::x86vector::X86VectorDialect"
  ];
}

def AttnApproximateMath : Pass<"attn-approximate-math"> {
  let summary = "Polynomial approximations for vector math (exp, exp2, tanh, log1p)";
  let description = [{
    LLVM scalarizes vector transcendental intrinsics into libm calls. This
    pass rewrites math ops on f32 *vectors* with MLIR's polynomial
    approximations (upstream populateMathPolynomialApproximationPatterns and
    the f32 expansions), so that strategies' vector code stays vectorized.
    Scalar math is left to libm, so the reference strategy keeps libm's
    accuracy.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect"
  ];
}

def AttnGpuDeviceBuffers : Pass<"attn-gpu-device-buffers", "::mlir::ModuleOp"> {
  let summary = "Give each gpu.launch device copies of the host buffers it uses";
  let description = [{
    The GPU strategies write kernels over host buffers: their inputs as
    `bufferization.to_buffer` of tensors, their results and scratch as
    `memref.alloc`. This pass decides where that memory lives. It runs after
    bufferization, so that the buffers of one op's result and the next op's
    input are the same memref. For each memref that `gpu.launch` bodies use
    from outside, every run of its launches in one block that nothing else
    touches the buffer between (a host operation, a launch in another block)
    shares one device buffer: `gpu.alloc` before the run's first launch,
    `gpu.dealloc` after its last, and the run's launches use it instead.
    - It is filled from the host buffer (`gpu.memcpy`) unless the host
      buffer is a `memref.alloc` that nothing touches before the run.
    - It is copied back after the run when a launch may write it and
      something touches the buffer afterwards (or the buffer is a function
      argument, whose memory the caller reads).
    - A `memref.alloc` that only the launches of one run use (scratch,
      partial states, one kernel's result that the next kernel reads) is
      erased: it lives on the device only.
    - A run in a block nested below the buffer's own (a loop body, a branch)
      may repeat or not run: it is filled before and written back after
      (when a launch may write), and the buffer stays on the host.

    A buffer with a non-identity layout (a slice, say of a KV cache) goes
    through a contiguous host staging buffer: `memref.copy` into it and
    `gpu.memcpy` to the device, and back. Its device copy is contiguous, so
    the kernels may use it only through `memref.load` and `memref.store`
    (which index any layout); any other use inside a launch is an error.
    Such a view's host operation counts as a host use of the buffer it
    views, so launches that wrote that buffer copy it back first.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def AttnDeallocateHostBuffers : Pass<"attn-deallocate-host-buffers", "::mlir::ModuleOp"> {
  let summary = "Buffer deallocation for host functions, with or without GPU operations";
  let description = [{
    Runs upstream's buffer deallocation pipeline (ownership-based
    deallocation, simplification, lowering) on every func.func that holds no
    gpu dialect operation. Upstream's deallocation rejects operations with
    unmodeled memory effects such as gpu.launch_func, so in a function that
    holds gpu operations each `memref.alloc` gets a `memref.dealloc` after
    its last use (in the alloc's block) instead, when neither it nor an
    alias of it (upstream's BufferViewFlowAnalysis) leaves the function:
    every user is a view, a load or
    store through it, a copy, a linalg op, a vector transfer, a gpu.memcpy,
    gpu.memset or gpu.launch_func. A buffer that is returned, passed to a
    call, yielded, stored as a value or taken by any other op is left as it
    is (the host result belongs to the caller). attn-gpu-device-buffers
    frees the device buffers of the kernels with gpu.dealloc.
  }];
}

def AttnRaise : Pass<"attn-raise"> {
  let summary = "Raise attention written as math (TOSA, linalg) to attn.attention";
  let description = [{
    Finds attention that a front end wrote as math: a batched matrix product
    of softmax weights with V, where the softmax (linalg.softmax, or
    exp(s - max) divided by the sum, in TOSA ops, linalg named ops or
    generics) runs over the keys of scores that are a batched product of Q
    and K, scaled by constants and plus additive masks. 3-D [B*H, L, D] and
    4-D [B, H, L, D] layouts, reshapes and transposes between them, scales on
    Q, K or the scores, and K/V repeated across query heads (GQA) are
    recognized. Each one becomes one attn.attention (with the reshapes and
    transposes its operands need): a constant lower-triangular -inf mask
    becomes `causal` (bottom-right aligned), a constant band `window`, any
    other constant 0/-inf mask or a select of an i1 tensor `mask`, and any
    other additive tensor `bias`. Nothing else changes meaning: near-misses
    (a softmax over another axis, a scale after the softmax, no max
    subtracted, a mask added after the exp, non-f32 or dynamic shapes) are
    left as they are; with `explain`, each site gets a remark saying what it
    became or why it was left.
  }];
  let options = [
    Option<"explain", "explain", "bool", "false",
           "Emit a remark per site: what it was raised to, or why not">
  ];
  let dependentDialects = [
    "::mlir::attn::AttnDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"
  ];
}

def AttnDecomposeAggregates : Pass<"attn-decompose-aggregates"> {
  let summary = "Decompose linalg.softmax (and other aggregated linalg ops) into generics";
  let description = [{
    Rewrites every op with linalg's AggregatedOpInterface (linalg.softmax)
    into the linalg ops its upstream decomposition gives (reductions and
    elementwise generics), so that the CPU pipeline's loop lowering applies
    to attention written as math that was not raised.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

def AttnMarkResultsOwned : Pass<"attn-mark-results-owned", "::mlir::ModuleOp"> {
  let summary = "Mark a lowered module: its entries' results are fresh allocations";
  let description = [{
    Sets the unit attribute `attn.results_owned` on the module. The CPU and
    GPU pipelines end with it: every result of their entries is a fresh
    allocation that the caller owns and frees (attn-run, the Python package).
    A module lowered some other way may return an argument or a global, so
    without the mark callers leave results alone.
  }];
}

def AttnResultBuffers : Pass<"attn-result-buffers", "::mlir::ModuleOp"> {
  let summary = "Let the caller provide the buffers that entries return";
  let description = [{
    On bufferized code whose deallocation is done: each `memref.alloc` in
    the body of a public function (its one block, not inside a loop or a
    branch) that the function returns becomes a call of the runtime's
    `attnAllocateResult(index, bytes, alignment)`, where `index` is the
    result it becomes. When the caller of the entry offered a buffer for
    that result (`attnOfferResultBuffers`, used by the C API, AOT libraries,
    `attn-run --bench` and Python's `out=`) that is large enough and aligned,
    the result is computed in it and nothing is allocated; otherwise the
    runtime allocates it as before, so a result without a buffer behaves as
    it did. The allocation must have an identity layout, an integer or float
    element type, and no `memref.dealloc`; a buffer returned twice is
    offered for its first result only. A public function that the module
    also calls is cloned first (`<name>.attn_internal`, private) and the
    calls take the clone, so only calls from outside see the offered
    buffers.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnExpandShapeToReinterpretCast
    : Pass<"attn-expand-shape-to-reinterpret-cast", "::mlir::ModuleOp"> {
  let summary = "memref.expand_shape of identity-layout memrefs to memref.reinterpret_cast";
  let description = [{
    Works around upstream `expand-strided-metadata` (MLIR 22.1), which
    crashes on a memref.expand_shape with a dynamic output size (a null size
    in the memref.reinterpret_cast it builds), e.g.
    `memref<?xf32> into memref<?x?xf32>`, which the neighborhood strategies
    leave for dynamic spatial extents. An expand of an identity-layout source
    into an identity-layout result is rewritten into a reinterpret_cast with
    the result's sizes and row-major strides. The CPU lowering runs it just
    before expand-strided-metadata.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnDistributeSequence : Pass<"attn-distribute-sequence", "::mlir::ModuleOp"> {
  let summary = "Split an entry's attention over MPI ranks along the sequence (ring or zigzag)";
  let description = [{
    Runs after the strategies (attn-apply-strategies), on the tile-op form
    they leave: one attn.online_attention over the whole problem and the
    attn.finalize of its state. The entry `entry` then computes, on each of
    `ranks` MPI ranks, the rows of its own shard of the sequence
    (SequenceShards.h: `ring`, N chunks, rank r holds chunk r; `zigzag`,
    2N chunks, rank r holds chunks r and 2N - 1 - r):

    * its q, k and v arguments become the rank's shard (the rank's chunks
      one after the other on the sequence axis, padded past L);
    * an scf.for of N steps passes K/V blocks around the ring with
      `mpi.isend` / `mpi.irecv` into two alternating buffers, and while the
      next block travels, folds the current one into each local chunk's
      state with the tile op (with the original kernel configuration), at
      the block's global key position; `mpi.wait` ends the step;
    * each local chunk's state is finalized (output, and LSE when the op
      returns it) and rank 0 gathers every rank's rows with `mpi.send` /
      `mpi.recv` into the whole result, which the entry returns (other
      ranks return a result of the same shape whose contents are
      undefined).

    Sink keys (window with sinks) are folded by a tile op at the constant
    key position 0 when the block holds them; keys padded past Lk are
    masked (causal rules them out already). The module gets the DLTI entry
    `MPI:Implementation = "OpenMPI"` for `attn-convert-mpi-to-llvm`.
    Entropy results, masks, biases, score_mod / mask_mod regions and
    non-f32 operands are errors that name what is not supported.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"",
           "The function to distribute">,
    Option<"mode", "mode", "std::string", "\"ring\"",
           "ring or zigzag">,
    Option<"ranks", "ranks", "int64_t", "1", "MPI ranks (at least 1)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect",
    "::mlir::mpi::MPIDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::DLTIDialect"
  ];
}

#endif // ATTN_TRANSFORMS_PASSES_TD
