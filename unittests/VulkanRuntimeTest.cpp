//===- VulkanRuntimeTest.cpp - libattn_runtime's Vulkan layer -------------===//
//
// The kernel container is read as the runtime reads it, whole and cut
// short. On a Vulkan device (skipped where there is none), a kernel compiled
// by attn's Vulkan conversion and the hand-written kernels of
// VulkanTestKernels.spvasm (assembled at build time; skipped without
// spirv-as) run through the entry points compiled code calls:
// mgpuModuleLoad, mgpuModuleGetFunction and mgpuLaunchKernel with parameters
// laid out as gpu-to-llvm lays them out, and attnVulkanMemAlloc/Memcpy/Free.
// Checks the numbers, memrefs with offsets, and that every misuse of the
// kernel ABI, the container or the device limits is one clear error that
// leaves device memory untouched.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/VulkanRuntime.h"
#ifdef ATTN_HAS_CUDA_RUNTIME
#include "attn/Runtime/CudaRuntime.h"
#endif
#include "attn/Conversion/Passes.h"
#include "attn/Runtime/GpuRuntime.h"
#include "attn/Runtime/VulkanKernelBinary.h"

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

#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace vkabi = attn::vulkan;

namespace {

/// The SPIR-V of VulkanTestKernels.spvasm, or empty when the build had no
/// spirv-as.
std::vector<uint32_t> testKernelsSpirv() {
#ifdef ATTN_VULKAN_TEST_KERNELS
  std::ifstream file(ATTN_VULKAN_TEST_KERNELS, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  std::vector<uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), words.size() * 4);
  return words;
#else
  return {};
#endif
}

vkabi::KernelArg bufferArg(uint32_t rank, uint32_t binding, uint32_t word) {
  vkabi::KernelArg arg;
  arg.kind = vkabi::ArgKind::Buffer;
  arg.rank = rank;
  arg.elementBytes = 4;
  arg.binding = binding;
  arg.word = word;
  return arg;
}

vkabi::KernelArg scalarArg(vkabi::ArgKind kind, uint32_t word) {
  vkabi::KernelArg arg;
  arg.kind = kind;
  arg.word = word;
  return arg;
}

/// saxpy(x: memref<?xf32>, y: memref<?xf32>, a: f32, n: index) as the
/// .spvasm declares it (params word 6 is the status word).
vkabi::Kernel saxpyKernel() {
  vkabi::Kernel kernel;
  kernel.name = "saxpy";
  kernel.workgroupSize[0] = 8;
  kernel.paramsBinding = 2;
  kernel.paramsWords = 7;
  kernel.args = {bufferArg(1, 0, 0), bufferArg(1, 1, 2),
                 scalarArg(vkabi::ArgKind::F32, 4),
                 scalarArg(vkabi::ArgKind::Index, 5)};
  return kernel;
}

/// select_fill(out: memref<?x?xf32>, value: i32, flag: i1) (params word 5
/// is the status word).
vkabi::Kernel selectFillKernel() {
  vkabi::Kernel kernel;
  kernel.name = "select_fill";
  kernel.workgroupSize[0] = 4;
  kernel.workgroupSize[1] = 2;
  kernel.paramsBinding = 1;
  kernel.paramsWords = 6;
  kernel.args = {bufferArg(2, 0, 0), scalarArg(vkabi::ArgKind::I32, 3),
                 scalarArg(vkabi::ArgKind::I1, 4)};
  return kernel;
}

/// set_status(): writes its status word.
vkabi::Kernel setStatusKernel() {
  vkabi::Kernel kernel;
  kernel.name = "set_status";
  kernel.paramsBinding = 0;
  kernel.paramsWords = 1;
  return kernel;
}

vkabi::KernelBinary testKernels() {
  vkabi::KernelBinary binary;
  binary.kernels = {saxpyKernel(), selectFillKernel(), setStatusKernel()};
  binary.spirv = testKernelsSpirv();
  return binary;
}

/// Kernel parameters as gpu-to-llvm passes them to mgpuLaunchKernel:
/// params[i] points at the i-th parameter, a memref of rank r being its
/// descriptor spread over 3 + 2r parameters (allocated, aligned, offset,
/// sizes, strides).
class LaunchParams {
public:
  LaunchParams &memref(void *base, int64_t offset, std::vector<int64_t> sizes) {
    std::vector<int64_t> strides(sizes.size(), 1);
    for (size_t d = sizes.size(); d-- > 1;)
      strides[d - 1] = strides[d] * sizes[d];
    return memref(base, base, offset, sizes, strides);
  }
  LaunchParams &memref(void *allocated, void *aligned, int64_t offset,
                       const std::vector<int64_t> &sizes,
                       const std::vector<int64_t> &strides) {
    add(allocated);
    add(aligned);
    add(offset);
    for (int64_t size : sizes)
      add(size);
    for (int64_t stride : strides)
      add(stride);
    return *this;
  }
  template <typename T> LaunchParams &scalar(T value) {
    add(value);
    return *this;
  }
  void **data() {
    pointers.clear();
    for (uint64_t &slot : slots)
      pointers.push_back(&slot);
    return pointers.data();
  }
  size_t count() const { return slots.size(); }

private:
  template <typename T> void add(T value) {
    static_assert(sizeof(T) <= sizeof(uint64_t));
    slots.push_back(0);
    std::memcpy(&slots.back(), &value, sizeof(T));
  }
  std::deque<uint64_t> slots; ///< Stable addresses.
  std::vector<void *> pointers;
};

std::string takeError() {
  const char *error = attnVulkanTakeError();
  return error ? error : "";
}

/// Errors that mean "no Vulkan here" rather than a defect of the layer.
bool meansNoDevice(const std::string &error) {
  return error.find("cannot load the Vulkan loader") != std::string::npos ||
         error.find("no Vulkan device") != std::string::npos;
}

TEST(GpuRuntimeDispatch, LaunchOfAKernelNeverLoadedIsAnError) {
  // No device is needed: the launch never reaches a layer.
  takeError();
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  EXPECT_NE(takeError().find("a launch of a kernel that was never loaded"),
            std::string::npos);
}

#ifdef ATTN_HAS_CUDA_RUNTIME
TEST(GpuRuntimeDispatch, LaunchAfterAFailedLoadKeepsThatError) {
  // A CUDA image without a driver (or with one, a damaged image) fails to
  // load in the CUDA layer; the launch of its kernel adds no second error in
  // another layer, which would outlive the call that takes the first
  // (python/tests/test_errors.py ran into one).
  takeError();
  char image[16] = "not a cubin";
  void *module = mgpuModuleLoad(image, sizeof(image));
  void *function = module ? mgpuModuleGetFunction(module, "k") : nullptr;
  ASSERT_EQ(function, nullptr);
  mgpuLaunchKernel(function, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  EXPECT_TRUE(attnCudaHasError());
  EXPECT_FALSE(attnVulkanHasError());
  attnCudaTakeError();
}
#endif

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
  ASSERT_TRUE(
      attn::vulkan::decodeKernelBinary(bytes.data(), bytes.size(), back, error))
      << error;
  EXPECT_EQ(back.features, binary.features);
  ASSERT_EQ(back.kernels.size(), 1u);
  EXPECT_EQ(back.kernels[0].name, "k");
  EXPECT_EQ(back.kernels[0].hostParameterCount(), 3u + 2 * 2 + 1);
  EXPECT_EQ(back.spirv, binary.spirv);

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    attn::vulkan::KernelBinary damaged;
    EXPECT_FALSE(
        attn::vulkan::decodeKernelBinary(bytes.data(), cut, damaged, error))
        << "accepted a container cut at " << cut << " bytes";
  }
  std::string otherVersion = bytes;
  otherVersion[8] = 9;
  EXPECT_FALSE(attn::vulkan::decodeKernelBinary(
      otherVersion.data(), otherVersion.size(), back, error));
  EXPECT_NE(error.find("version 9"), std::string::npos) << error;
}

/// Tests that need a Vulkan device: skipped where there is none (no loader,
/// no device); any other failure to initialize fails them.
class VulkanDeviceTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!attnVulkanInit()) {
      std::string why = takeError();
      if (meansNoDevice(why))
        GTEST_SKIP() << why;
      FAIL() << why;
    }
  }
};

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

class VulkanCompiledKernel : public VulkanDeviceTest {};

TEST_F(VulkanCompiledKernel, ComputesWithAnOffsetMemref) {
  std::string container = compileAxpy();
  ASSERT_FALSE(container.empty());
  void *module = mgpuModuleLoad(container.data(), container.size());
  ASSERT_NE(module, nullptr) << takeError();
  void *function = mgpuModuleGetFunction(module, "axpy");
  ASSERT_NE(function, nullptr) << takeError();
  const int64_t n = 100;
  auto *x =
      static_cast<float *>(attnVulkanMemAlloc(4 * (n + 3), nullptr, false));
  auto *y = static_cast<float *>(attnVulkanMemAlloc(4 * n, nullptr, false));
  ASSERT_TRUE(x && y) << takeError();
  for (int64_t i = 0; i < n + 3; ++i)
    x[i] = static_cast<float>(i);
  for (int64_t i = 0; i < n; ++i)
    y[i] = 1.0f;
  // x read from element 3 on: a memref offset.
  LaunchParams params;
  params.memref(x, 3, {n}).memref(y, 0, {n}).scalar(2.0f).scalar(n);
  mgpuLaunchKernel(function, (n + 7) / 8, 1, 1, 8, 1, 1, 0, nullptr,
                   params.data(), nullptr, params.count());
  EXPECT_EQ(takeError(), "");
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(y[i], 2.0f * static_cast<float>(i + 3) + 1.0f) << "at " << i;
  attnVulkanMemFree(x, nullptr);
  attnVulkanMemFree(y, nullptr);
  mgpuModuleUnload(module);
  EXPECT_EQ(takeError(), "");
}

class VulkanRuntime : public VulkanDeviceTest {
protected:
  void SetUp() override {
    if (testKernelsSpirv().empty())
      GTEST_SKIP() << "spirv-as was not found when attn was configured";
    VulkanDeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    std::string container = vkabi::encodeKernelBinary(testKernels());
    module = mgpuModuleLoad(container.data(), container.size());
    ASSERT_NE(module, nullptr) << takeError();
    saxpy = mgpuModuleGetFunction(module, "saxpy");
    selectFill = mgpuModuleGetFunction(module, "select_fill");
    setStatus = mgpuModuleGetFunction(module, "set_status");
    ASSERT_NE(saxpy, nullptr) << takeError();
    ASSERT_NE(selectFill, nullptr) << takeError();
    ASSERT_NE(setStatus, nullptr) << takeError();
    stream = attnVulkanStreamCreate();
    ASSERT_NE(stream, nullptr) << takeError();
  }

  void TearDown() override {
    for (void *buffer : buffers)
      attnVulkanMemFree(buffer, stream);
    if (stream)
      attnVulkanStreamDestroy(stream);
    if (module)
      mgpuModuleUnload(module);
    EXPECT_EQ(takeError(), "");
  }

  /// Device memory holding `values`, freed after the test.
  float *deviceFloats(const std::vector<float> &values) {
    size_t bytes = values.size() * sizeof(float);
    void *buffer = attnVulkanMemAlloc(bytes, stream, false);
    EXPECT_NE(buffer, nullptr) << takeError();
    if (!buffer)
      return nullptr;
    buffers.push_back(buffer);
    attnVulkanMemcpy(buffer, const_cast<float *>(values.data()), bytes, stream);
    return static_cast<float *>(buffer);
  }

  std::vector<float> hostFloats(float *device, size_t count) {
    std::vector<float> values(count);
    attnVulkanMemcpy(values.data(), device, count * sizeof(float), stream);
    return values;
  }

  void launch(void *function, std::array<intptr_t, 3> grid,
              std::array<intptr_t, 3> block, LaunchParams &params,
              int32_t sharedMemBytes = 0) {
    launchWithCount(function, grid, block, params, params.count(),
                    sharedMemBytes);
  }

  void launchWithCount(void *function, std::array<intptr_t, 3> grid,
                       std::array<intptr_t, 3> block, LaunchParams &params,
                       size_t count, int32_t sharedMemBytes = 0) {
    mgpuLaunchKernel(function, grid[0], grid[1], grid[2], block[0], block[1],
                     block[2], sharedMemBytes, stream, params.data(), nullptr,
                     count);
  }

  /// saxpy over y[0, n) with x and y whole allocations.
  void launchSaxpy(float *x, float *y, float a, int64_t n,
                   std::array<intptr_t, 3> block = {8, 1, 1}) {
    LaunchParams params;
    params.memref(x, 0, {n}).memref(y, 0, {n}).scalar(a).scalar(n);
    launch(saxpy, {(n + 7) / 8, 1, 1}, block, params);
  }

public:
  /// Loads a container expected to be refused; returns the error.
  std::string refusedLoad(const std::string &container) {
    void *refused =
        mgpuModuleLoad(const_cast<char *>(container.data()), container.size());
    EXPECT_EQ(refused, nullptr);
    if (refused)
      mgpuModuleUnload(refused);
    return takeError();
  }

protected:
  void *module = nullptr, *saxpy = nullptr, *selectFill = nullptr,
       *setStatus = nullptr;
  void *stream = nullptr;
  std::vector<void *> buffers;
};

std::vector<float> iota(size_t count, float first) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = first + static_cast<float>(i);
  return values;
}

TEST_F(VulkanRuntime, SaxpyMatchesTheHost) {
  const int64_t n = 37; // not a multiple of the workgroup size
  std::vector<float> x = iota(n, 1), y = iota(n, -20);
  float *dx = deviceFloats(x), *dy = deviceFloats(y);
  launchSaxpy(dx, dy, 2.5f, n);
  ASSERT_EQ(takeError(), "");
  std::vector<float> result = hostFloats(dy, n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(result[i], 2.5f * x[i] + y[i]) << "element " << i;
  EXPECT_EQ(hostFloats(dx, n), x);
}

TEST_F(VulkanRuntime, MemrefsWithOffsetsInsideTheirAllocation) {
  // x: elements [10, 30) of a 64-float allocation; y: an aligned pointer 4
  // floats into its allocation plus an offset of 3.
  std::vector<float> x = iota(64, 0), y(48, 7.0f);
  float *dx = deviceFloats(x), *dy = deviceFloats(y);
  const int64_t n = 20;
  LaunchParams params;
  params.memref(dx, dx, 10, {n}, {1})
      .memref(dy, dy + 4, 3, {n}, {1})
      .scalar(-1.0f)
      .scalar(n);
  launch(saxpy, {3, 1, 1}, {8, 1, 1}, params);
  ASSERT_EQ(takeError(), "");
  std::vector<float> result = hostFloats(dy, y.size());
  for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
    bool written = i >= 7 && i < 7 + n;
    EXPECT_EQ(result[i], written ? 7.0f - x[10 + i - 7] : 7.0f)
        << "element " << i;
  }
}

TEST_F(VulkanRuntime, TwoDimensionalGridAndEveryScalarKind) {
  // A 5x6 memref at offset 2 of a 40-float allocation; the kernel's
  // workgroup is 4x2, so the grid is 2x3.
  std::vector<float> sentinel(40, 99.0f);
  float *out = deviceFloats(sentinel);
  for (bool flag : {true, false}) {
    LaunchParams params;
    params.memref(out, 2, {5, 6}).scalar(int32_t(-7)).scalar(flag);
    launch(selectFill, {2, 3, 1}, {4, 2, 1}, params);
    ASSERT_EQ(takeError(), "");
    std::vector<float> result = hostFloats(out, sentinel.size());
    for (int i = 0; i < 40; ++i) {
      float expected = i < 2 || i >= 32 ? 99.0f : flag ? -7.0f : -1.0f;
      EXPECT_EQ(result[i], expected) << "element " << i << " flag " << flag;
    }
  }
}

TEST_F(VulkanRuntime, LaunchesFromSeveralThreads) {
  constexpr int kThreads = 4, kLaunches = 25;
  const int64_t n = 40;
  std::vector<float> x = iota(n, 1);
  float *dx = deviceFloats(x);
  std::vector<float *> ys;
  for (int t = 0; t < kThreads; ++t)
    ys.push_back(deviceFloats(std::vector<float>(n, 0.0f)));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLaunches; ++i)
        launchSaxpy(dx, ys[t], static_cast<float>(t + 1), n);
    });
  for (std::thread &thread : threads)
    thread.join();
  ASSERT_EQ(takeError(), "");
  for (int t = 0; t < kThreads; ++t) {
    std::vector<float> y = hostFloats(ys[t], n);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(y[i], kLaunches * (t + 1) * x[i])
          << "thread " << t << " element " << i;
  }
}

TEST_F(VulkanRuntime, ModulesAndFunctionsAreTheVulkanLayers) {
  EXPECT_TRUE(attnVulkanOwnsModule(module));
  EXPECT_TRUE(attnVulkanOwnsFunction(saxpy));
  EXPECT_FALSE(attnVulkanOwnsModule(saxpy));
  EXPECT_FALSE(attnVulkanOwnsFunction(module));
  int host = 0;
  EXPECT_FALSE(attnVulkanOwnsModule(&host));
  EXPECT_EQ(mgpuModuleGetFunction(module, "no_such_kernel"), nullptr);
  EXPECT_NE(takeError().find("no kernel no_such_kernel"), std::string::npos);
}

TEST_F(VulkanRuntime, MemsetAndDeviceToDeviceCopy) {
  float *a = deviceFloats(std::vector<float>(16, 0.0f));
  float *b = deviceFloats(std::vector<float>(16, 0.0f));
  attnVulkanMemset32(a, 0x3f800000u, 16, stream); // 1.0f
  attnVulkanMemcpy(b, a, 8 * sizeof(float), stream);
  attnVulkanMemset16(b + 8, 0x4000, 2, stream); // the low half of 2.0f: 0x4000
  ASSERT_EQ(takeError(), "");
  std::vector<float> result = hostFloats(b, 16);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(result[i], 1.0f);
  uint32_t bits;
  std::memcpy(&bits, &result[8], 4);
  EXPECT_EQ(bits, 0x40004000u);
  EXPECT_EQ(result[9], 0.0f);
}

TEST_F(VulkanRuntime, KernelTimingAddsUpDispatches) {
  float *x = deviceFloats(iota(64, 0)), *y = deviceFloats(iota(64, 0));
  attnVulkanSetKernelTiming(true);
  launchSaxpy(x, y, 1.0f, 64);
  launchSaxpy(x, y, 1.0f, 64);
  double milliseconds = attnVulkanKernelMilliseconds();
  EXPECT_GT(milliseconds, 0.0);
  EXPECT_LT(milliseconds, 10000.0);
  EXPECT_EQ(attnVulkanKernelMilliseconds(), 0.0); // the total was reset
  attnVulkanSetKernelTiming(false);
  launchSaxpy(x, y, 1.0f, 64);
  EXPECT_EQ(attnVulkanKernelMilliseconds(), 0.0);
}

TEST_F(VulkanRuntime, DeviceLimitsMeetVulkansMinimums) {
  AttnVulkanDeviceLimits limits;
  ASSERT_TRUE(attnVulkanDeviceLimits(&limits)) << takeError();
  EXPECT_GT(std::strlen(limits.deviceName), 0u);
  // Vulkan 1.1's required minimums.
  EXPECT_GE(limits.maxComputeSharedMemorySize, 16384u);
  EXPECT_GE(limits.maxComputeWorkGroupInvocations, 128u);
  EXPECT_GE(limits.maxComputeWorkGroupSize[0], 128u);
  EXPECT_GE(limits.maxComputeWorkGroupSize[1], 128u);
  EXPECT_GE(limits.maxComputeWorkGroupSize[2], 64u);
  EXPECT_GE(limits.subgroupSize, 1u);
  EXPECT_GE(limits.maxStorageBufferRange, uint64_t(1) << 27);
  EXPECT_FALSE(attnVulkanDeviceLimits(nullptr));
}

//===----------------------------------------------------------------------===//
// Launches the layer refuses: one error, device memory untouched.
//===----------------------------------------------------------------------===//

class VulkanRuntimeLaunchErrors : public VulkanRuntime {
protected:
  void SetUp() override {
    VulkanRuntime::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    x = deviceFloats(iota(16, 1));
    y = deviceFloats(std::vector<float>(16, 5.0f));
  }
  /// y must still hold what it held before the refused launch.
  void expectYUntouched() {
    EXPECT_EQ(hostFloats(y, 16), std::vector<float>(16, 5.0f));
  }
  float *x = nullptr, *y = nullptr;
};

TEST_F(VulkanRuntimeLaunchErrors, BlockSizeOtherThanTheShaders) {
  launchSaxpy(x, y, 1.0f, 16, {16, 1, 1});
  EXPECT_EQ(takeError(), "kernel saxpy was launched with block size 16x1x1, "
                         "but Vulkan compiled it for 8x1x1");
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, WrongParameterCount) {
  LaunchParams params;
  params.memref(x, 0, {16}).memref(y, 0, {16}).scalar(1.0f).scalar(int64_t(16));
  launchWithCount(saxpy, {2, 1, 1}, {8, 1, 1}, params, params.count() - 1);
  EXPECT_EQ(takeError(),
            "kernel saxpy was launched with 11 parameters, its ABI takes 12");
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, HostMemoryAsAnArgument) {
  std::vector<float> host(16, 1.0f);
  launchSaxpy(host.data(), y, 1.0f, 16);
  EXPECT_EQ(takeError(),
            "kernel saxpy argument 0 is not memory from attnVulkanMemAlloc");
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, ExtentPastTheAllocation) {
  LaunchParams params;
  params.memref(x, 0, {16}).memref(y, 1, {16}).scalar(1.0f).scalar(int64_t(16));
  launch(saxpy, {2, 1, 1}, {8, 1, 1}, params);
  EXPECT_NE(takeError().find(
                "kernel saxpy argument 1 reaches past the end of its device "
                "allocation"),
            std::string::npos);
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, OffsetBeforeTheAllocation) {
  LaunchParams params;
  params.memref(x, -1, {4}).memref(y, 0, {4}).scalar(1.0f).scalar(int64_t(4));
  launch(saxpy, {1, 1, 1}, {8, 1, 1}, params);
  EXPECT_NE(takeError().find("kernel saxpy argument 0 "), std::string::npos);
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, StridesOtherThanRowMajor) {
  float *out = deviceFloats(std::vector<float>(64, 0.0f));
  LaunchParams params;
  params
      .memref(out, out, 0, {4, 4}, {1, 4}) // column-major
      .scalar(int32_t(1))
      .scalar(true);
  launch(selectFill, {1, 2, 1}, {4, 2, 1}, params);
  EXPECT_NE(takeError().find("kernel select_fill argument 0 is not a "
                             "row-major memref"),
            std::string::npos);
  EXPECT_EQ(hostFloats(out, 64), std::vector<float>(64, 0.0f));
}

TEST_F(VulkanRuntimeLaunchErrors, IndexBeyond32Bits) {
  LaunchParams params;
  params.memref(x, 0, {16})
      .memref(y, 0, {16})
      .scalar(1.0f)
      .scalar(int64_t(1) << 40);
  launch(saxpy, {2, 1, 1}, {8, 1, 1}, params);
  EXPECT_EQ(takeError(), "kernel saxpy argument 3: index 1099511627776 does "
                         "not fit the 32-bit indices of Vulkan kernels");
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, SizesBeyond32Bits) {
  float *out = deviceFloats(std::vector<float>(16, 0.0f));
  int64_t huge = int64_t(1) << 40;
  LaunchParams params;
  params.memref(out, out, 0, {1, huge}, {huge, 1})
      .scalar(int32_t(1))
      .scalar(true);
  launch(selectFill, {1, 1, 1}, {4, 2, 1}, params);
  EXPECT_EQ(takeError(), "kernel select_fill argument 0: size 1099511627776 "
                         "does not fit the 32-bit indices of Vulkan kernels");
  EXPECT_EQ(hostFloats(out, 16), std::vector<float>(16, 0.0f));
}

TEST_F(VulkanRuntimeLaunchErrors, SizesWhoseProductOverflows) {
  // saxpy described with a rank-4 x: each size fits 32 bits, their product
  // (2^80) wraps a 64-bit count to 0. The launch is refused before any
  // dispatch, so the shader need not match.
  vkabi::KernelBinary binary = testKernels();
  binary.kernels[0].args[0].rank = 4;
  binary.kernels[0].args[1].word = 5;
  binary.kernels[0].args[2].word = 7;
  binary.kernels[0].args[3].word = 8;
  binary.kernels[0].paramsWords = 10;
  std::string container = vkabi::encodeKernelBinary(binary);
  void *forged = mgpuModuleLoad(container.data(), container.size());
  ASSERT_NE(forged, nullptr) << takeError();
  int64_t big = int64_t(1) << 20;
  LaunchParams params;
  params.memref(x, x, 0, {big, big, big, big}, {0, 0, 0, 1})
      .memref(y, 0, {16})
      .scalar(1.0f)
      .scalar(int64_t(16));
  launch(mgpuModuleGetFunction(forged, "saxpy"), {2, 1, 1}, {8, 1, 1}, params);
  mgpuModuleUnload(forged);
  EXPECT_NE(takeError().find("kernel saxpy argument 0 "), std::string::npos);
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, EmptyMemrefNeedsNoMemory) {
  // n = 0: nothing is read, so x may be the null pointer that
  // attnVulkanMemAlloc returns for 0 bytes.
  EXPECT_EQ(attnVulkanMemAlloc(0, stream, false), nullptr);
  LaunchParams params;
  params.memref(nullptr, 0, {0})
      .memref(y, 0, {0})
      .scalar(1.0f)
      .scalar(int64_t(0));
  launch(saxpy, {1, 1, 1}, {8, 1, 1}, params);
  EXPECT_EQ(takeError(), "");
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, GridBeyondTheDevice) {
  LaunchParams params;
  params.memref(x, 0, {16}).memref(y, 0, {16}).scalar(1.0f).scalar(int64_t(16));
  launch(saxpy, {1, intptr_t(1) << 40, 1}, {8, 1, 1}, params);
  EXPECT_NE(takeError().find("(maxComputeWorkGroupCount)"), std::string::npos);
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, DynamicSharedMemory) {
  LaunchParams params;
  params.memref(x, 0, {16}).memref(y, 0, {16}).scalar(1.0f).scalar(int64_t(16));
  launch(saxpy, {2, 1, 1}, {8, 1, 1}, params, 1024);
  EXPECT_NE(takeError().find("dynamic shared memory"), std::string::npos);
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, ClusterLaunch) {
  LaunchParams params;
  params.memref(x, 0, {16}).memref(y, 0, {16}).scalar(1.0f).scalar(int64_t(16));
  mgpuLaunchClusterKernel(saxpy, 1, 1, 1, 2, 1, 1, 8, 1, 1, 0, stream,
                          params.data(), nullptr, params.count());
  EXPECT_NE(takeError().find("Vulkan has no thread block clusters"),
            std::string::npos);
  expectYUntouched();
}

TEST_F(VulkanRuntimeLaunchErrors, KernelThatReportsLoopsCutShort) {
  LaunchParams none;
  launch(setStatus, {1, 1, 1}, {1, 1, 1}, none);
  AttnVulkanDeviceLimits limits;
  ASSERT_FALSE(attnVulkanDeviceLimits(&limits)); // the error is pending
  std::string error = takeError();
  ASSERT_TRUE(attnVulkanDeviceLimits(&limits));
  EXPECT_EQ(error.rfind("kernel set_status had loops cut short by Vulkan "
                        "device '" +
                            std::string(limits.deviceName) + "'",
                        0),
            0u)
      << error;
  // The next launch starts from a clear status word.
  launchSaxpy(x, y, 1.0f, 16);
  EXPECT_EQ(takeError(), "");
  EXPECT_EQ(hostFloats(y, 16), iota(16, 6));
}

TEST_F(VulkanRuntimeLaunchErrors, FirstErrorSticksAndLaterCallsDoNothing) {
  launchSaxpy(x, y, 1.0f, 16, {4, 1, 1}); // refused
  launchSaxpy(x, y, 1.0f, 16);            // would be fine: skipped
  attnVulkanMemset32(y, 0, 16, stream);   // skipped too
  EXPECT_TRUE(attnVulkanHasError());
  EXPECT_NE(takeError().find("block size 4x1x1"), std::string::npos);
  EXPECT_FALSE(attnVulkanHasError());
  expectYUntouched();
  launchSaxpy(x, y, 1.0f, 16); // works again once the error is taken
  ASSERT_EQ(takeError(), "");
  EXPECT_EQ(hostFloats(y, 16), iota(16, 6));
}

//===----------------------------------------------------------------------===//
// Memory.
//===----------------------------------------------------------------------===//

TEST_F(VulkanRuntime, AllocationBeyondMaxStorageBufferRange) {
  AttnVulkanDeviceLimits limits;
  ASSERT_TRUE(attnVulkanDeviceLimits(&limits));
  EXPECT_EQ(attnVulkanMemAlloc(limits.maxStorageBufferRange + 1, stream, false),
            nullptr);
  EXPECT_NE(takeError().find("maxStorageBufferRange"), std::string::npos);
}

TEST_F(VulkanRuntime, FreeOfMemoryNotFromTheAllocator) {
  float *x = deviceFloats(iota(4, 0));
  attnVulkanMemFree(x + 1, stream); // inside an allocation, not its start
  EXPECT_NE(takeError().find("attnVulkanMemFree of memory that "
                             "attnVulkanMemAlloc did not return"),
            std::string::npos);
  EXPECT_EQ(hostFloats(x, 4), iota(4, 0)); // still allocated
}

TEST_F(VulkanRuntime, StreamsAndEventsAreTheLayers) {
  void *event = attnVulkanEventCreate();
  ASSERT_NE(event, nullptr);
  attnVulkanEventRecord(event, stream);
  attnVulkanStreamWaitEvent(stream, event);
  attnVulkanEventSynchronize(event);
  attnVulkanStreamSynchronize(stream);
  attnVulkanEventDestroy(event);
  EXPECT_EQ(takeError(), "");
  attnVulkanEventDestroy(event); // twice
  EXPECT_EQ(takeError(), "attnVulkanEventDestroy of a handle that "
                         "attnVulkanEventCreate did not return (or destroyed "
                         "before)");
  int host = 0;
  attnVulkanStreamDestroy(&host);
  EXPECT_NE(takeError().find("attnVulkanStreamDestroy of a handle"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Modules the layer refuses at load.
//===----------------------------------------------------------------------===//

TEST_F(VulkanRuntime, EveryTruncationOfTheContainer) {
  std::string container = vkabi::encodeKernelBinary(testKernels());
  for (size_t size = 8; size < container.size(); ++size)
    EXPECT_NE(refusedLoad(container.substr(0, size)).find("cut short"),
              std::string::npos)
        << "truncated to " << size << " bytes";
}

TEST_F(VulkanRuntime, ModuleNeedingAFeatureTheDeviceLacks) {
  AttnVulkanDeviceLimits limits;
  ASSERT_TRUE(attnVulkanDeviceLimits(&limits));
  vkabi::KernelBinary binary = testKernels();
  for (auto [bit, name] : vkabi::kFeatureNames) {
    binary.features = bit;
    std::string container = vkabi::encodeKernelBinary(binary);
    if (limits.features & bit) {
      void *loaded = mgpuModuleLoad(container.data(), container.size());
      EXPECT_NE(loaded, nullptr) << name << ": " << takeError();
      mgpuModuleUnload(loaded);
    } else {
      EXPECT_NE(refusedLoad(container).find(name), std::string::npos) << name;
    }
  }
  // A bit no feature has (the device "lacks" it, whatever it has).
  binary.features = 1u << 30;
  EXPECT_NE(refusedLoad(vkabi::encodeKernelBinary(binary))
                .find("unknown feature bit 30"),
            std::string::npos);
}

/// The error of loading a module of one kernel described as `kernel`, with
/// the test kernels' SPIR-V.
std::string refusedKernelError(VulkanRuntime &test, vkabi::Kernel kernel) {
  vkabi::KernelBinary binary;
  binary.kernels = {kernel};
  binary.spirv = testKernelsSpirv();
  return test.refusedLoad(vkabi::encodeKernelBinary(binary));
}

TEST_F(VulkanRuntime, KernelsBeyondTheDevicesLimits) {
  AttnVulkanDeviceLimits limits;
  ASSERT_TRUE(attnVulkanDeviceLimits(&limits));
  vkabi::Kernel wide = saxpyKernel();
  wide.workgroupSize[0] = limits.maxComputeWorkGroupSize[0] + 1;
  EXPECT_EQ(refusedKernelError(*this, wide),
            "kernel saxpy has workgroup size " +
                std::to_string(wide.workgroupSize[0]) +
                " in dimension 0, more than the device's " +
                std::to_string(limits.maxComputeWorkGroupSize[0]) +
                " (maxComputeWorkGroupSize)");

  vkabi::Kernel crowded = saxpyKernel();
  crowded.workgroupSize[0] = limits.maxComputeWorkGroupSize[0];
  crowded.workgroupSize[1] = limits.maxComputeWorkGroupSize[1];
  EXPECT_NE(refusedKernelError(*this, crowded)
                .find("(maxComputeWorkGroupInvocations)"),
            std::string::npos);

  vkabi::Kernel greedy = saxpyKernel();
  greedy.sharedBytes = limits.maxComputeSharedMemorySize + 1;
  EXPECT_EQ(refusedKernelError(*this, greedy),
            "kernel saxpy uses " + std::to_string(greedy.sharedBytes) +
                " bytes of workgroup memory, more than the device's " +
                std::to_string(limits.maxComputeSharedMemorySize) +
                " (maxComputeSharedMemorySize)");

  vkabi::Kernel manyBuffers = saxpyKernel();
  manyBuffers.paramsBinding = 4096;
  EXPECT_NE(refusedKernelError(*this, manyBuffers)
                .find("(maxPerStageDescriptorStorageBuffers)"),
            std::string::npos);
}

TEST_F(VulkanRuntime, MalformedKernelDescriptions) {
  const std::string malformed =
      "kernel saxpy is malformed in the attn Vulkan kernel binary: ";
  vkabi::Kernel sameBinding = saxpyKernel();
  sameBinding.args[1].binding = 0;
  EXPECT_EQ(refusedKernelError(*this, sameBinding),
            malformed + "argument 1 has the binding of another argument (0)");

  vkabi::Kernel paramsBinding = saxpyKernel();
  paramsBinding.args[1].binding = 2;
  EXPECT_EQ(refusedKernelError(*this, paramsBinding),
            malformed + "argument 1 has binding 2, not below the params "
                        "binding 2");

  vkabi::Kernel onStatusWord = saxpyKernel();
  onStatusWord.args[3].word = 6;
  EXPECT_EQ(refusedKernelError(*this, onStatusWord),
            malformed + "argument 3 reads params word 6, not below the "
                        "status word 6");

  vkabi::Kernel sizesOnStatusWord = saxpyKernel();
  sizesOnStatusWord.args[1].word = 5; // its size would be word 6
  EXPECT_EQ(refusedKernelError(*this, sizesOnStatusWord),
            malformed + "argument 1 reads params word 6, not below the "
                        "status word 6");

  vkabi::Kernel unknownKind = saxpyKernel();
  unknownKind.args[2].kind = static_cast<vkabi::ArgKind>(9);
  EXPECT_EQ(refusedKernelError(*this, unknownKind),
            malformed + "argument 2 has unknown kind 9");

  vkabi::Kernel noElements = saxpyKernel();
  noElements.args[0].elementBytes = 0;
  EXPECT_EQ(refusedKernelError(*this, noElements),
            malformed + "argument 0 has elements of 0 bytes");

  vkabi::Kernel noParams = saxpyKernel();
  noParams.args = {};
  noParams.paramsWords = 0;
  EXPECT_EQ(refusedKernelError(*this, noParams),
            malformed + "it has no params words (the last is the status "
                        "word)");

  vkabi::Kernel otherWorkgroup = saxpyKernel();
  otherWorkgroup.workgroupSize[0] = 16;
  EXPECT_EQ(refusedKernelError(*this, otherWorkgroup),
            malformed + "its workgroup size is 16x1x1, its SPIR-V's "
                        "LocalSize 8x1x1");

  vkabi::Kernel notInShader = saxpyKernel();
  notInShader.name = "not_in_the_shader";
  EXPECT_EQ(refusedKernelError(*this, notInShader),
            "kernel not_in_the_shader is not a GLCompute entry point of the "
            "module's SPIR-V");

  vkabi::KernelBinary twice = testKernels();
  twice.kernels[1] = saxpyKernel();
  EXPECT_EQ(refusedLoad(vkabi::encodeKernelBinary(twice)),
            malformed + "a second kernel has its name");
}

TEST_F(VulkanRuntime, ModuleWithoutSpirv) {
  vkabi::KernelBinary binary = testKernels();
  binary.spirv.clear();
  EXPECT_EQ(refusedLoad(vkabi::encodeKernelBinary(binary)),
            "the attn Vulkan kernel binary holds no SPIR-V module (0 words "
            "without the SPIR-V magic)");
  binary.spirv = testKernelsSpirv();
  binary.spirv[7] = 0; // an instruction of 0 words
  EXPECT_EQ(refusedLoad(vkabi::encodeKernelBinary(binary)),
            "the SPIR-V module of the attn Vulkan kernel binary is malformed "
            "at word 7");
}

//===----------------------------------------------------------------------===//
// The Khronos validation layer (test/Unit/vulkan-runtime.test runs these
// tests again with ATTN_VULKAN_VALIDATION=1, where correct use must pass
// without a message).
//===----------------------------------------------------------------------===//

TEST_F(VulkanRuntime, ValidationMessagesBecomeTheError) {
  const char *validation = std::getenv("ATTN_VULKAN_VALIDATION");
  if (!validation || std::string(validation) != "1")
    GTEST_SKIP() << "needs ATTN_VULKAN_VALIDATION=1 (a driver may crash on "
                    "what the layer reports)";
  // saxpy described with y as a scalar and the params at binding 1: its
  // shader uses binding 2, which the pipeline layout then lacks.
  vkabi::Kernel kernel = saxpyKernel();
  kernel.args[1] = scalarArg(vkabi::ArgKind::Index, 2);
  kernel.paramsBinding = 1;
  std::string error = refusedKernelError(*this, kernel);
  EXPECT_EQ(error.rfind("Vulkan validation: ", 0), 0u) << error;
}

} // namespace
