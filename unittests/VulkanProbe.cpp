//===- VulkanProbe.cpp - Which device the Vulkan layer chooses ------------===//
//
// Initializes libattn_runtime's Vulkan layer once, as compiled code would,
// and prints the device it chose with its limits (exit 0) or the layer's
// error (exit 1). lit runs it with ATTN_VULKAN_DEVICE and
// ATTN_VULKAN_VALIDATION set, which take effect only at the first
// initialization of a process.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/VulkanKernelBinary.h"
#include "attn/Runtime/VulkanRuntime.h"

#include <cstdio>

int main() {
  AttnVulkanDeviceLimits limits;
  if (!attnVulkanDeviceLimits(&limits)) {
    const char *error = attnVulkanTakeError();
    std::printf("error: %s\n", error ? error : "(none recorded)");
    return 1;
  }
  std::printf("device: %s\n", limits.deviceName);
  std::printf("maxComputeSharedMemorySize: %u\n",
              limits.maxComputeSharedMemorySize);
  std::printf("maxComputeWorkGroupInvocations: %u\n",
              limits.maxComputeWorkGroupInvocations);
  std::printf(
      "maxComputeWorkGroupSize: %u %u %u\n", limits.maxComputeWorkGroupSize[0],
      limits.maxComputeWorkGroupSize[1], limits.maxComputeWorkGroupSize[2]);
  std::printf("subgroupSize: %u\n", limits.subgroupSize);
  std::printf("maxStorageBufferRange: %llu\n",
              static_cast<unsigned long long>(limits.maxStorageBufferRange));
  std::printf("features: %s\n",
              attn::vulkan::featureNames(limits.features).c_str());
  return 0;
}
