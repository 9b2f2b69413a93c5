//===- RuntimeTest.cpp - libattn_runtime: .npy, memrefCopy, allocation ---===//

#include "attn/Runtime/CpuRuntime.h"
#include "attn/Runtime/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

using namespace attn::runtime;

namespace {

std::string tempPath(const char *name) {
  return std::string(::testing::TempDir()) + name;
}

TEST(Npy, RoundTripsEveryDtype) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16AsU16, DType::F64,
                      DType::I1, DType::I8, DType::I32, DType::I64}) {
    HostArray array;
    ASSERT_TRUE(array.allocate(dtype, {2, 3, 5}));
    for (size_t i = 0; i < array.numBytes(); ++i)
      array.data[i] = static_cast<uint8_t>(dtype == DType::I1 ? i % 2 : i * 7);
    std::string error, path = tempPath("roundtrip.npy");
    ASSERT_TRUE(writeNpy(path, array, error)) << error;
    HostArray back;
    ASSERT_TRUE(readNpy(path, back, error)) << error;
    EXPECT_EQ(back.dtype, dtype);
    EXPECT_EQ(back.shape, array.shape);
    EXPECT_EQ(std::memcmp(back.data, array.data, array.numBytes()), 0);
  }
}

TEST(Npy, ScalarAndEmptyShapes) {
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{}, std::vector<int64_t>{0, 4}}) {
    HostArray array;
    ASSERT_TRUE(array.allocate(DType::F32, shape));
    std::string error, path = tempPath("shape.npy");
    ASSERT_TRUE(writeNpy(path, array, error)) << error;
    HostArray back;
    ASSERT_TRUE(readNpy(path, back, error)) << error;
    EXPECT_EQ(back.shape, shape);
  }
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(Npy, RejectsBadFilesWithOneLine) {
  HostArray array;
  std::string error;
  EXPECT_FALSE(readNpy(tempPath("missing.npy"), array, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);

  writeBytes(tempPath("text.npy"), "not a numpy file at all");
  EXPECT_FALSE(readNpy(tempPath("text.npy"), array, error));
  EXPECT_NE(error.find("not a .npy file"), std::string::npos);

  // A valid header whose data is cut short.
  HostArray full;
  ASSERT_TRUE(full.allocate(DType::F32, {4, 4}));
  ASSERT_TRUE(writeNpy(tempPath("full.npy"), full, error));
  std::ifstream in(tempPath("full.npy"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  writeBytes(tempPath("short.npy"), bytes.substr(0, bytes.size() - 5));
  EXPECT_FALSE(readNpy(tempPath("short.npy"), array, error));
  EXPECT_NE(error.find("truncated"), std::string::npos);

  std::string fortran = bytes;
  size_t at = fortran.find("False");
  fortran.replace(at, 5, "True ");
  writeBytes(tempPath("fortran.npy"), fortran);
  EXPECT_FALSE(readNpy(tempPath("fortran.npy"), array, error));
  EXPECT_NE(error.find("Fortran"), std::string::npos);

  std::string complex = bytes;
  complex.replace(complex.find("<f4"), 3, "<c8");
  writeBytes(tempPath("complex.npy"), complex);
  EXPECT_FALSE(readNpy(tempPath("complex.npy"), array, error));
  EXPECT_NE(error.find("unsupported dtype"), std::string::npos);
  for (const std::string &message : {error})
    EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(Half, ConvertsBothWays) {
  for (float value : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f,
                      5.9604645e-08f, 0.333251953125f})
    EXPECT_EQ(halfToFloat(floatToHalf(value)), value) << value;
  EXPECT_TRUE(std::isinf(halfToFloat(floatToHalf(1e6f))));
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_EQ(halfToFloat(floatToHalf(1.0f + 1.0f / 4096)), 1.0f); // rounds
}

TEST(MemrefCopy, CopiesStridedViews) {
  // src: 3x4 row-major; dst: the transpose's storage viewed 3x4 with
  // strides {1, 3}.
  float src[12], dst[12] = {};
  for (int i = 0; i < 12; ++i)
    src[i] = float(i);
  int64_t srcDesc[] = {0, 0, 0, 3, 4, 4, 1};
  int64_t dstDesc[] = {0, 0, 0, 3, 4, 1, 3};
  srcDesc[0] = srcDesc[1] = reinterpret_cast<int64_t>(src);
  dstDesc[0] = dstDesc[1] = reinterpret_cast<int64_t>(dst);
  AttnUnrankedMemRef s{2, srcDesc}, d{2, dstDesc};
  memrefCopy(sizeof(float), &s, &d);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(dst[i + 3 * j], src[4 * i + j]);
}

TEST(MemrefAlloc, AlignsAndNeverReturnsNull) {
  for (size_t alignment : {1, 8, 16, 64, 4096}) {
    void *p = _mlir_memref_to_llvm_aligned_alloc(alignment, 100);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignment, 0u);
    std::memset(p, 1, 100);
    _mlir_memref_to_llvm_free(p);
  }
  void *empty = _mlir_memref_to_llvm_alloc(0);
  EXPECT_NE(empty, nullptr);
  _mlir_memref_to_llvm_free(empty);
}

TEST(MemrefAllocDeathTest, ReportsOutOfMemoryAndExits) {
  // 2^62 bytes: more than any address space.
  size_t huge = size_t(1) << 62;
  EXPECT_EXIT(_mlir_memref_to_llvm_alloc(huge), ::testing::ExitedWithCode(1),
              "error: out of memory: compiled code could not allocate "
              "4611686018427387904 bytes");
  EXPECT_EXIT(_mlir_memref_to_llvm_aligned_alloc(64, huge),
              ::testing::ExitedWithCode(1), "out of memory");
}

} // namespace
