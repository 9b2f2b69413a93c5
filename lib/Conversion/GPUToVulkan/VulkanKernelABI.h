//===- VulkanKernelABI.h - gpu.func kernels to attn's Vulkan ABI -*- C++ -*-=//
//
// Rewrites a gpu.func kernel into the form that attn's Vulkan runtime calls
// (runtime/include/attn/Runtime/VulkanKernelBinary.h): flat storage buffers
// and one params buffer as its only arguments, attributions as local
// allocations, and its static block size as the SPIR-V workgroup size.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_GPUTOVULKAN_VULKANKERNELABI_H
#define ATTN_LIB_CONVERSION_GPUTOVULKAN_VULKANKERNELABI_H

#include "attn/Runtime/VulkanKernelBinary.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::attn {

/// The container's types (attn::vulkan in the runtime's header).
namespace vulkan = ::attn::vulkan;

/// Device limits a Vulkan kernel is checked against when it is rewritten.
struct VulkanKernelLimits {
  int64_t sharedMemoryBytes = 32768;
  int64_t maxWorkgroupInvocations = 1024;
};

/// Rewrites `kernel` in place (it must not be launched any more: the host's
/// gpu.launch_func keeps the original signature) and returns how the host's
/// launch arguments map onto the new signature. On failure emits an error
/// naming the kernel and, where it applies, the argument.
FailureOr<vulkan::Kernel>
rewriteKernelToVulkanABI(gpu::GPUFuncOp kernel,
                         const VulkanKernelLimits &limits);

/// The ABI of `kernels` as an attribute (one dictionary per kernel), and
/// back. Recorded on the spirv.module between conversion and serialization.
Attribute vulkanKernelsToAttr(MLIRContext *context,
                              ArrayRef<vulkan::Kernel> kernels);
FailureOr<SmallVector<vulkan::Kernel>> vulkanKernelsFromAttr(Attribute attr);

/// Name of that attribute.
inline constexpr llvm::StringLiteral kVulkanKernelsAttrName =
    "attn.vulkan_kernels";

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_GPUTOVULKAN_VULKANKERNELABI_H
