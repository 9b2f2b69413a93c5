//===- CudaPipeline.cpp - attn-gpu-pipeline with api=cuda -----------------===//
//
// CUDA: the kernels to NVVM (bf16 tensor-core products by attn's own
// conversion, lib/Conversion/NVGPUToNVVM), serialized to PTX, cubin or
// fatbin with the CUDA toolkit's ptxas, and embedded as gpu.binary; host code
// calls the runtime's mgpu* layer (CudaRuntime). Its options: the chip, the
// PTX version, the kernel format and the toolkit.
//
//===----------------------------------------------------------------------===//

#include "attn/Pipelines/GpuApi.h"
#include "attn/Support/ListText.h"

#include "attn/Conversion/Passes.h"
#include "attn/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

#include <cstring>
#include <iterator>

using namespace mlir;
using namespace mlir::attn;

/// The kernels need sm_80 (mma.sync m16n8k16, cp.async); LLVM 22's PTX
/// 8.0 default ends at sm_90. Each chip is compiled through ptxas by
/// test/GPU/chips.mlir.
static constexpr StringLiteral kGpuChips[] = {"sm_80", "sm_86", "sm_89",
                                              "sm_90"};
/// The first PTX ISA version (x10) of each chip of kGpuChips, in order.
static constexpr int kFirstPtxVersion[] = {70, 71, 78, 78};
static_assert(std::size(kFirstPtxVersion) == std::size(kGpuChips));
/// PTX ISA versions (`features`) that LLVM 22 emits for those chips.
static constexpr StringLiteral kPtxFeatures[] = {
    "+ptx70", "+ptx71", "+ptx72", "+ptx73", "+ptx74", "+ptx75",
    "+ptx76", "+ptx77", "+ptx78", "+ptx80", "+ptx81", "+ptx82",
    "+ptx83", "+ptx84", "+ptx85", "+ptx86", "+ptx87", "+ptx88"};
static constexpr StringLiteral kKernelFormats[] = {"isa", "bin", "fatbin"};

ArrayRef<StringLiteral> mlir::attn::supportedGpuChips() { return kGpuChips; }

std::string mlir::attn::checkGpuChip(StringRef chip) {
  if (llvm::is_contained(kGpuChips, chip))
    return "";
  return "GPU chip '" + chip.str() +
         "' is not supported (supported: " + joinAsList(kGpuChips) + ")";
}

namespace {
class Cuda final : public GpuApi {
public:
  StringRef getName() const override { return "cuda"; }
  StringRef getSummary() const override { return "NVVM, PTX/cubin"; }
  StringRef getRuntimeLayer() const override { return "Cuda"; }
  /// CUDA's static shared memory limit per block.
  int64_t getDefaultSharedMemoryBytes() const override { return 48 << 10; }
  StringRef whyNoTensorCores() const override { return ""; }

  SmallVector<const llvm::cl::Option *>
  getOwnOptions(const GpuPipelineOptions &options) const override {
    return {&options.chip, &options.features, &options.format,
            &options.toolkit};
  }

  std::string
  checkOwnOptions(const GpuPipelineOptions &options) const override {
    if (std::string error = checkGpuChip(options.chip); !error.empty())
      return "chip: " + error;
    StringRef features = options.features;
    if (!llvm::is_contained(kPtxFeatures, features))
      return "features = '" + options.features +
             "' is not a PTX version for these chips (expected " +
             joinAsList(kPtxFeatures) + ")";
    int ptxVersion = 0;
    features.drop_front(strlen("+ptx")).getAsInteger(10, ptxVersion);
    int firstVersion =
        kFirstPtxVersion[llvm::find(kGpuChips, StringRef(options.chip)) -
                         std::begin(kGpuChips)];
    if (ptxVersion < firstVersion)
      return "features = '" + options.features + "' cannot target " +
             options.chip + ": its first PTX version is +ptx" +
             std::to_string(firstVersion);
    if (!llvm::is_contained(kKernelFormats, StringRef(options.format)))
      return "format = '" + options.format +
             "' is not a kernel format (expected " + joinAsList(kKernelFormats) +
             ")";
    return "";
  }

  void buildLowering(OpPassManager &pm,
                     const GpuPipelineOptions &options) const override {
    // Kernels: target, lower to NVVM.
    GpuNVVMAttachTargetOptions target;
    target.chip = options.chip;
    target.features = options.features;
    pm.addPass(createGpuNVVMAttachTarget(target));
    OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
    kernels.addPass(createSCFToControlFlowPass());
    // bf16 tensor-core products, which upstream's conversion cannot lower.
    kernels.addPass(createAttnConvertBf16MmaSyncToNVVM());
    kernels.addPass(createConvertNVGPUToNVVMPass());
    ConvertGpuOpsToNVVMOpsOptions nvvm;
    nvvm.useBarePtrCallConv = false;
    kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
    kernels.addPass(createCanonicalizerPass());
    kernels.addPass(createReconcileUnrealizedCastsPass());
    pm.nest<func::FuncOp>().addPass(createGpuAsyncRegionPass());
    GpuModuleToBinaryPassOptions binary;
    binary.compilationTarget = options.format;
    binary.toolkitPath = options.toolkit;
    pm.addPass(createGpuModuleToBinaryPass(binary));

    // Host: the CPU lowering with gpu-to-llvm for launches and copies.
    buildCpuLoweringToLLVM(pm, /*gpuHost=*/true);
    // attn-deallocate-host-buffers returns owned host buffers only.
    addMarkResultsOwned(pm);
  }
};
} // namespace

std::unique_ptr<GpuApi> mlir::attn::createCudaGpuApi() {
  return std::make_unique<Cuda>();
}
