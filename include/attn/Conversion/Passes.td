//===- Passes.td - attn's per-target conversions -----------*- tablegen -*-===//
//
// The lowerings of each target: attn.online_attention to the CPU flash
// kernel (vector IR), to the GPU flash kernel (gpu.launch) and to linalg
// (the portable lowering), and from the gpu-dialect kernels that every GPU target
// shares to what one GPU API loads (Vulkan: SPIR-V compute shaders in attn's
// kernel container).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnConvertGpuToVulkanSPIRV
    : Pass<"attn-convert-gpu-to-vulkan-spirv", "::mlir::ModuleOp"> {
  let summary = "Convert the gpu.module kernels to Vulkan SPIR-V with attn's kernel ABI";
  let description = [{
    For each gpu.module, writes a sibling `spirv.module @__spv__<name>` that
    holds its kernels as Vulkan compute shaders, and leaves the gpu.module
    (and the host's gpu.launch_func ops) as they are. The kernels are first
    rewritten to the calling convention of attn's Vulkan runtime
    (runtime/include/attn/Runtime/VulkanKernelBinary.h): every memref
    argument becomes a flat storage buffer indexed from an element offset and
    sizes read from a params buffer, every scalar argument a word of that
    params buffer; workgroup and private attributions become workgroup and
    function-local variables; the static block size (`known_block_size`)
    becomes the shader's workgroup size. Then upstream's GPU, SCF, arith,
    math, memref and vector to SPIR-V patterns convert them, and
    `spirv-lower-abi-attrs` and `spirv-update-vce` finish the module. The
    kernel ABI is recorded on the spirv.module as `attn.vulkan_kernels`.
    A kernel the Vulkan target cannot express (no static block size, a
    memref with a non-identity layout or in another memory space, an
    argument or element type without a SPIR-V form) is an error naming the
    kernel and the argument.
  }];
  let options = [
    Option<"sharedMemoryBytes", "shared-memory", "int64_t", "0",
           "Workgroup memory a kernel may use (the device's "
           "maxComputeSharedMemorySize). 0: the shared_memory of the "
           "module's #attn.target, else 32768 (Vulkan's guaranteed minimum); "
           "a value that disagrees with the #attn.target's is an error">,
    Option<"maxWorkgroupInvocations", "max-workgroup-invocations", "int64_t",
           "1024", "Invocations a workgroup may have "
           "(maxComputeWorkGroupInvocations)">
  ];
  let dependentDialects = [
    "::mlir::spirv::SPIRVDialect", "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def AttnSerializeVulkanKernels
    : Pass<"attn-serialize-vulkan-kernels", "::mlir::ModuleOp"> {
  let summary = "Serialize Vulkan SPIR-V kernels into gpu.binary ops";
  let description = [{
    Replaces each gpu.module that attn-convert-gpu-to-vulkan-spirv converted
    (and its sibling spirv.module) by a `gpu.binary` of the same name whose
    object is attn's Vulkan kernel container: the kernel ABI, the device
    features the module needs, and the serialized SPIR-V. The host's
    gpu.launch_func ops then lower through gpu-to-llvm as for any GPU.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def AttnUseVulkanRuntime
    : Pass<"attn-use-vulkan-runtime", "::mlir::ModuleOp"> {
  let summary = "Point the host's GPU runtime calls at attn's Vulkan runtime";
  let description = [{
    After gpu-to-llvm, renames the `mgpu*` runtime functions that the host
    code calls (streams, events, allocation, copies) to their `attnVulkan*`
    counterparts in libattn_runtime, so that a module built for Vulkan uses
    the Vulkan layer while CUDA modules keep the CUDA one in the same
    process. (Module loads and launches, which gpu.binary and
    gpu.launch_func become only at translation to LLVM IR, dispatch in the
    runtime on the kernel container.) A runtime function without a Vulkan
    counterpart is an error naming it.
  }];
}

def AttnConvertOnlineAttentionToCPUVector
    : Pass<"attn-convert-online-attention-to-cpu-vector"> {
  let summary = "Lower attn.online_attention tiles marked for the CPU to the flash kernel";
  let description = [{
    The CPU lowering of the tile op. Each `attn.online_attention` that
    carries an `attn.cpu_kernel` dictionary (the configuration a CPU
    strategy chose: block_q, block_k, micro_q, lanes, block_dv, unroll_d,
    splits, skip_by_band, pack_keys, block_sparse, and the strategy's name)
    becomes the register-blocked flash kernel as scf loops of vector ops:
    for each (batch, KV head) K packed once, a forall over query blocks
    (heaviest first), the key tiles the rules and the mask let the block's
    rows see, micro-tiles of rows whose scores live in vector registers,
    and the online-softmax step of AttentionAlgebra. The kernel reads the
    op's state (not when its outs are the empty state's fills) and writes
    the updated acc, max and sum; with splits > 1 the keys of each block are
    split among tasks whose states are merged. When the op starts from the
    empty state and an `attn.finalize` is the only user of its acc and sum
    (and nothing uses its max), the kernel replaces that op too: each block
    writes its rows' acc / sum into the finalize's result, and no state
    tensor is materialized. Rows are aligned at
    `query_position + i` and keys at `key_position + j`; with sink keys the
    key position must be a constant. A malformed dictionary (a missing or
    unknown key, a wrong type, a value out of range) is an error naming the
    key. Tile ops without the attribute are left to
    attn-convert-online-attention-to-linalg.
  }];
  let dependentDialects = [
    "::mlir::x86vector::X86VectorDialect",
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
}

def AttnConvertOnlineAttentionToGPU
    : Pass<"attn-convert-online-attention-to-gpu"> {
  let summary = "Lower attn.online_attention tiles marked for a GPU to the flash kernel's launches";
  let description = [{
    The GPU lowering of the tile op, shared by every GPU API. Each
    `attn.online_attention` that carries an `attn.gpu_kernel` dictionary
    (the configuration a GPU strategy chose: block_q threads per block,
    block_k keys per shared-memory tile, splits, shared_bytes,
    tensor_cores, skip_empty_tiles, and the strategy's name) becomes the
    flash kernel: a `gpu.launch` over
    (batch, query head, query block, split) whose threads each own a row,
    key tiles staged in shared memory and skipped where the rules or the
    mask's tile counts allow none, and Q K^T on `mma.sync` tensor cores when
    asked. With splits, each split writes its normalized state (O, LSE,
    entropy) and `attn.merge_states` merges them (then one more launch
    writes the merged state where sinks or the tile op's state need it).
    The launches work on host buffers (`bufferization.to_buffer`,
    `memref.alloc`); `attn-gpu-device-buffers` gives them device copies
    after bufferization. Each row's thread starts from the op's state (not
    read when its outs are the empty state's fills; with splits, split 0
    starts from it and the merge adds the others) and the op becomes the
    updated acc, max and sum. From the empty state, when an `attn.finalize`
    is the only user of its acc and sum (and nothing uses its max), the
    kernel replaces that op too and writes acc / sum into its result. A
    malformed dictionary (naming the key), a configuration the kernel
    cannot run (naming the parameter and the limit), or sink keys with a
    key position that is not a constant are errors. Then every
    `attn.merge_states` (the splits' and any the input holds) becomes one
    launch, a thread per row.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def AttnConvertOnlineAttentionToLinalg
    : Pass<"attn-convert-online-attention-to-linalg"> {
  let summary = "Lower attn.online_attention tiles and attn.finalize to linalg on tensors";
  let description = [{
    The portable lowering of the tile op: each `attn.online_attention`
    becomes linalg.generic ops on tensors that compute its scores (q.k in
    f32, the scale, bias, softcap and score function of AttentionAlgebra),
    apply the mask and the causal, window and sink rules at the tile's
    positions, take the rows' tile maximum, update the state's maximum,
    weigh the scores, and add the weights and the weighted value rows to the
    rescaled sum and acc. The score matrix of the tile is materialized, so
    the tile's sizes bound the scratch memory. Upstream passes bufferize and
    lower the result like any linalg. A tile op that still carries a
    target's configuration (`attn.cpu_kernel`, `attn.gpu_kernel`) is an
    error: that target's lowering did not run, and lowering the op here
    would drop the configuration. Each `attn.finalize` becomes one
    linalg.generic, acc / sum in the result's element type (in place into
    acc when that is f32 too).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

def AttnConvertBf16MmaSyncToNVVM : Pass<"attn-convert-bf16-mma-sync-to-nvvm"> {
  let summary = "Lower bf16 nvgpu.mma.sync to NVVM's mma.sync";
  let description = [{
    Upstream's convert-nvgpu-to-nvvm lowers `nvgpu.mma.sync` on f16, tf32,
    i8 and i4, but finds no PTX type for bf16 operands (MLIR 22: "failed to
    deduce operand PTX types"). This pass lowers the bf16 form that attn's
    tensor-core kernels use, m16n8k16 with f32 accumulators, to
    `nvvm.mma.sync`: the A (vector<4x2xbf16>) and B (vector<2x2xbf16>)
    fragments as registers of two bf16 packed into an i32, the accumulator
    as four f32. Other `nvgpu.mma.sync` ops are left to upstream's pass,
    which runs after it. So the strategies build every tensor-core product
    as nvgpu, and NVVM appears only in the CUDA lowering.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def AttnConvertMPIToLLVM : Pass<"attn-convert-mpi-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Lower the mpi dialect to calls of the MPI library (OpenMPI)";
  let description = [{
    Upstream's mpi-to-LLVM patterns (init, comm_world, comm_rank,
    comm_split, send, recv, allreduce, finalize) plus attn's for the ops
    that MLIR 22 leaves unlowered: `mpi.comm_size`, `mpi.isend`,
    `mpi.irecv`, `mpi.wait` and `mpi.barrier`, as calls in OpenMPI's ABI
    (MPI_Comm and MPI_Datatype are addresses of the library's predefined
    objects, an MPI_Request is a pointer kept in a stack slot). Buffers
    are 1-D memrefs of f32, f64 or i8/i32/i64; the count is their size. The
    module must carry the DLTI entry `"MPI:Implementation" = "OpenMPI"`
    (attn-distribute-sequence writes it); a module without MPI ops is left
    as it is.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // ATTN_CONVERSION_PASSES_TD
