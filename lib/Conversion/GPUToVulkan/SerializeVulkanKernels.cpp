//===- SerializeVulkanKernels.cpp - Vulkan SPIR-V into gpu.binary ---------===//
//
// attn-serialize-vulkan-kernels: each spirv.module that
// attn-convert-gpu-to-vulkan-spirv made (it carries the kernel ABI as
// `attn.vulkan_kernels`) is serialized to SPIR-V words with upstream's
// serializer and packed, with the ABI and the device features its
// capabilities need, into attn's Vulkan kernel container
// (runtime/include/attn/Runtime/VulkanKernelBinary.h). A gpu.binary of the
// gpu.module's name, holding that container as a `bin` object, replaces the
// gpu.module and the spirv.module; gpu-to-llvm and the translation to LLVM
// IR then embed it and call the runtime's module load and launch functions
// as for any GPU binary.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Support/Debug.h"

#include "VulkanKernelABI.h"

#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Target/SPIRV/Serialization.h"

#define DEBUG_TYPE "attn-serialize-vulkan-kernels"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSERIALIZEVULKANKERNELS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Device features that the module's capabilities need.
uint32_t requiredFeatures(spirv::ModuleOp module) {
  std::optional<spirv::VerCapExtAttr> triple = module.getVceTriple();
  if (!triple)
    return 0;
  uint32_t features = 0;
  for (spirv::Capability capability : triple->getCapabilities()) {
    switch (capability) {
    case spirv::Capability::Float16:
      features |= vulkan::kFeatureFloat16;
      break;
    case spirv::Capability::Int16:
      features |= vulkan::kFeatureInt16;
      break;
    case spirv::Capability::Int8:
      features |= vulkan::kFeatureInt8;
      break;
    case spirv::Capability::Int64:
      features |= vulkan::kFeatureInt64;
      break;
    case spirv::Capability::StorageBuffer16BitAccess:
      features |= vulkan::kFeatureStorage16;
      break;
    case spirv::Capability::StorageBuffer8BitAccess:
      features |= vulkan::kFeatureStorage8;
      break;
    case spirv::Capability::SignedZeroInfNanPreserve:
      features |= vulkan::kFeatureNanPreserve32;
      break;
    default:
      break;
    }
  }
  return features;
}

struct SerializeVulkanKernelsPass
    : mlir::attn::impl::AttnSerializeVulkanKernelsBase<
          SerializeVulkanKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<spirv::ModuleOp> spirvModules;
    for (auto spirvModule : module.getOps<spirv::ModuleOp>())
      if (spirvModule->hasAttr(kVulkanKernelsAttrName))
        spirvModules.push_back(spirvModule);
    for (spirv::ModuleOp spirvModule : spirvModules)
      if (failed(serialize(module, spirvModule)))
        return signalPassFailure();
  }

  LogicalResult serialize(ModuleOp module, spirv::ModuleOp spirvModule);
};

LogicalResult SerializeVulkanKernelsPass::serialize(ModuleOp module,
                                                    spirv::ModuleOp spirvModule) {
  constexpr StringLiteral prefix = "__spv__";
  std::optional<StringRef> spirvName = spirvModule.getName();
  if (!spirvName || !spirvName->starts_with(prefix))
    return spirvModule.emitError()
           << "vulkan target: a spirv.module with " << kVulkanKernelsAttrName
           << " must be named " << prefix << "<gpu.module name>";
  StringRef name = spirvName->drop_front(prefix.size());
  auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>(name);
  if (!gpuModule)
    return spirvModule.emitError()
           << "vulkan target: no gpu.module @" << name << " for "
           << *spirvName;
  FailureOr<SmallVector<vulkan::Kernel>> kernels =
      vulkanKernelsFromAttr(spirvModule->getAttr(kVulkanKernelsAttrName));
  if (failed(kernels))
    return spirvModule.emitError()
           << "vulkan target: malformed " << kVulkanKernelsAttrName;

  vulkan::KernelBinary binary;
  binary.kernels.assign(kernels->begin(), kernels->end());
  binary.features = requiredFeatures(spirvModule);
  SmallVector<uint32_t> words;
  spirvModule->removeAttr(kVulkanKernelsAttrName);
  if (failed(spirv::serialize(spirvModule, words)))
    return spirvModule.emitError() << "vulkan target: cannot serialize the "
                                      "SPIR-V of gpu.module @"
                                   << name;
  binary.spirv.assign(words.begin(), words.end());
  ATTN_DEBUG({
    ATTN_DBGS() << "gpu.module @" << name << ": " << words.size()
                << " SPIR-V words, features " << binary.features << "\n";
    for (const vulkan::Kernel &k : binary.kernels)
      ATTN_DBGS() << "  kernel " << k.name << ": workgroup "
                  << k.workgroupSize[0] << "x" << k.workgroupSize[1] << "x"
                  << k.workgroupSize[2] << ", " << k.sharedBytes
                  << " shared bytes, " << k.args.size() << " arguments, "
                  << k.paramsWords << " params words\n";
  });

  OpBuilder b(gpuModule);
  auto object = gpu::ObjectAttr::get(
      &getContext(), spirv::lookupTargetEnvOrDefault(spirvModule),
      gpu::CompilationTarget::Binary,
      b.getStringAttr(vulkan::encodeKernelBinary(binary)), DictionaryAttr(),
      gpu::KernelTableAttr());
  gpu::BinaryOp::create(b, gpuModule.getLoc(), name, Attribute(),
                        ArrayRef<Attribute>{object});
  spirvModule.erase();
  gpuModule.erase();
  return success();
}

} // namespace
