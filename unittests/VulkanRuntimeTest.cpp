//===- VulkanRuntimeTest.cpp - attn's Vulkan layer on a real device -------===//
//
// The kernel container is read as the runtime reads it, truncated or not;
// then a kernel compiled by attn's Vulkan conversion (y = a x + y) runs
// through the entry points that compiled host code calls, with parameters
// laid out as gpu-to-llvm lays them out, and every launch rule is broken
// once. The device tests are skipped where no Vulkan device answers.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Runtime/GpuRuntime.h"
#include "attn/Runtime/VulkanKernelBinary.h"
#include "attn/Runtime/VulkanRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr const char *kAxpy = R"mlir(
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @axpy(%x: memref<?xf32>, %y: memref<?xf32>, %a: f32, %n: index)
        kernel attributes {known_block_size = array<i32: 8, 1, 1>} {
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %c8 = arith.constant 8 : index
      %base = arith.muli %b, %c8 : index
      %i = arith.addi %base, %t : index
      %in = arith.cmpi slt, %i, %n : index
      scf.if %in {
        %xi = memref.load %x[%i] : memref<?xf32>
        %yi = memref.load %y[%i] : memref<?xf32>
        %p = arith.mulf %a, %xi : f32
        %s = arith.addf %p, %yi : f32
        memref.store %s, %y[%i] : memref<?xf32>
      }
      gpu.return
    }
  }
}
)mlir";

/// The kernel container attn's conversion makes of kAxpy.
std::string compileAxpy() {
  mlir::DialectRegistry registry;
  registry.insert<mlir::arith::ArithDialect, mlir::gpu::GPUDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
                  mlir::spirv::SPIRVDialect>();
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(kAxpy, &context);
  if (!module)
    return "";
  mlir::PassManager pm(&context);
  pm.addPass(mlir::attn::createAttnConvertGpuToVulkanSPIRV());
  pm.addPass(mlir::attn::createAttnSerializeVulkanKernels());
  if (mlir::failed(pm.run(*module)))
    return "";
  std::string object;
  module->walk([&](mlir::gpu::BinaryOp binary) {
    auto attr = mlir::cast<mlir::gpu::ObjectAttr>(binary.getObjects()[0]);
    object = attr.getObject().str();
  });
  return object;
}

TEST(VulkanKernelBinary, RoundTripsAndRejectsDamage) {
  attn::vulkan::KernelBinary binary;
  binary.features = attn::vulkan::kFeatureFloat16;
  attn::vulkan::Kernel kernel;
  kernel.name = "k";
  kernel.workgroupSize[0] = 64;
  kernel.paramsBinding = 1;
  kernel.paramsWords = 4;
  kernel.args = {{attn::vulkan::ArgKind::Buffer, 2, 4, 0, 0},
                 {attn::vulkan::ArgKind::F32, 0, 0, 0, 3}};
  binary.kernels = {kernel};
  binary.spirv = {0x07230203, 1, 2, 3};
  std::string bytes = attn::vulkan::encodeKernelBinary(binary);

  attn::vulkan::KernelBinary back;
  std::string error;
  ASSERT_TRUE(attn::vulkan::decodeKernelBinary(bytes.data(), bytes.size(),
                                               back, error))
      << error;
  EXPECT_EQ(back.features, binary.features);
  ASSERT_EQ(back.kernels.size(), 1u);
  EXPECT_EQ(back.kernels[0].name, "k");
  EXPECT_EQ(back.kernels[0].hostParameterCount(), 3u + 2 * 2 + 1);
  EXPECT_EQ(back.spirv, binary.spirv);

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    attn::vulkan::KernelBinary damaged;
    EXPECT_FALSE(attn::vulkan::decodeKernelBinary(bytes.data(), cut, damaged,
                                                  error))
        << "accepted a container cut at " << cut << " bytes";
  }
  std::string otherVersion = bytes;
  otherVersion[8] = 9;
  EXPECT_FALSE(attn::vulkan::decodeKernelBinary(
      otherVersion.data(), otherVersion.size(), back, error));
  EXPECT_NE(error.find("version 9"), std::string::npos) << error;
}

/// Calls of one kernel as compiled host code makes them.
class VulkanLaunch : public ::testing::Test {
protected:
  void SetUp() override {
    if (!attnVulkanInit()) {
      const char *why = attnVulkanTakeError();
      GTEST_SKIP() << "no Vulkan device: " << (why ? why : "");
    }
    container = compileAxpy();
    ASSERT_FALSE(container.empty());
    module = mgpuModuleLoad(container.data(), container.size());
    ASSERT_NE(module, nullptr) << error();
    function = mgpuModuleGetFunction(module, "axpy");
    ASSERT_NE(function, nullptr) << error();
    x = static_cast<float *>(attnVulkanMemAlloc(4 * (n + 3), nullptr, false));
    y = static_cast<float *>(attnVulkanMemAlloc(4 * n, nullptr, false));
    ASSERT_TRUE(x && y) << error();
    for (int64_t i = 0; i < n + 3; ++i)
      x[i] = static_cast<float>(i);
    for (int64_t i = 0; i < n; ++i)
      y[i] = 1.0f;
  }
  void TearDown() override {
    if (x)
      attnVulkanMemFree(x, nullptr);
    if (y)
      attnVulkanMemFree(y, nullptr);
    if (module)
      mgpuModuleUnload(module);
    attnVulkanTakeError();
  }
  std::string error() {
    const char *text = attnVulkanTakeError();
    return text ? text : "";
  }
  /// Launches with x read from element 3 on (a memref offset), as
  /// gpu-to-llvm passes it: {allocated, aligned, offset, size, stride} per
  /// memref, then a and n.
  void launch(intptr_t blockX = 8, size_t count = 12, float *xBase = nullptr,
              int64_t ySize = -1) {
    float *xs = xBase ? xBase : x;
    int64_t xOffset = 3, xSize = n, stride = 1, yOffset = 0;
    int64_t yLength = ySize < 0 ? n : ySize;
    float a = 2.0f;
    void *params[] = {&xs,      &xs,      &xOffset, &xSize, &stride,
                      &y,       &y,       &yOffset, &yLength, &stride,
                      &a,       &n};
    mgpuLaunchKernel(function, (n + 7) / 8, 1, 1, blockX, 1, 1, 0, nullptr,
                     params, nullptr, count);
  }

  int64_t n = 100;
  std::string container;
  void *module = nullptr, *function = nullptr;
  float *x = nullptr, *y = nullptr;
};

TEST_F(VulkanLaunch, ComputesWithAnOffsetMemref) {
  launch();
  ASSERT_EQ(error(), "");
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(y[i], 2.0f * static_cast<float>(i + 3) + 1.0f) << "at " << i;
}

TEST_F(VulkanLaunch, BlockSizeMustBeTheWorkgroupSize) {
  launch(/*blockX=*/16);
  EXPECT_NE(error().find("block size 16x1x1, but Vulkan compiled it for "
                         "8x1x1"),
            std::string::npos);
  EXPECT_EQ(y[0], 1.0f);
}

TEST_F(VulkanLaunch, ParameterCountMustMatchTheABI) {
  launch(8, /*count=*/11);
  EXPECT_NE(error().find("launched with 11 parameters, its ABI takes 12"),
            std::string::npos);
}

TEST_F(VulkanLaunch, BuffersMustBeDeviceMemory) {
  std::vector<float> host(n + 3, 0.0f);
  launch(8, 12, host.data());
  EXPECT_NE(error().find("argument 0 is not memory from attnVulkanMemAlloc"),
            std::string::npos);
}

TEST_F(VulkanLaunch, MemrefsMustLieInsideTheirAllocation) {
  launch(8, 12, nullptr, /*ySize=*/n + 1);
  EXPECT_NE(error().find("argument 1 reaches past the end of its device "
                         "allocation"),
            std::string::npos);
}

TEST_F(VulkanLaunch, ModulesNeedingMissingFeaturesAreRefused) {
  attn::vulkan::KernelBinary binary;
  std::string why;
  ASSERT_TRUE(attn::vulkan::decodeKernelBinary(
      container.data(), container.size(), binary, why))
      << why;
  binary.features |= 1u << 30; // no device has this one
  std::string forged = attn::vulkan::encodeKernelBinary(binary);
  EXPECT_EQ(mgpuModuleLoad(forged.data(), forged.size()), nullptr);
  EXPECT_NE(error().find("lacks: feature bit 30"), std::string::npos);
}

TEST_F(VulkanLaunch, TruncatedContainersAreRefused) {
  EXPECT_EQ(mgpuModuleLoad(container.data(), container.size() / 2), nullptr);
  EXPECT_NE(error().find("cut short"), std::string::npos);
}

} // namespace
