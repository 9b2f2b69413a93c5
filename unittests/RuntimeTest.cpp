//===- RuntimeTest.cpp - libattn_runtime: .npy, memrefCopy, allocation ---===//

#include "attn/Runtime/AotLibrary.h"
#include "attn/Runtime/CpuRuntime.h"
#include "attn/Runtime/EntryCheck.h"
#include "attn/Runtime/Npy.h"
#include "attn/Runtime/ResultPool.h"

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
                      DType::I1, DType::I8, DType::I32, DType::I64,
                      DType::F8E4M3FNAsU8}) {
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

TEST(Npy, DecodesFloat8E4M3FNBits) {
  HostArray array;
  ASSERT_TRUE(array.allocate(DType::F8E4M3FNAsU8, {6}));
  const uint8_t bits[] = {0x38, 0xb8, 0x01, 0x7e, 0x00, 0x7f};
  std::memcpy(array.data, bits, sizeof(bits));
  EXPECT_EQ(elementAsDouble(array, 0), 1.0);
  EXPECT_EQ(elementAsDouble(array, 1), -1.0);
  EXPECT_EQ(elementAsDouble(array, 2), std::ldexp(1.0, -9)); // subnormal
  EXPECT_EQ(elementAsDouble(array, 3), 448.0);               // largest
  EXPECT_EQ(elementAsDouble(array, 4), 0.0);
  EXPECT_TRUE(std::isnan(elementAsDouble(array, 5)));
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

TEST(MemrefAllocGuarded, ReturnsAnErrorAndFreesTheCallsAllocations) {
  // A "compiled" body that allocates twice, frees one, then cannot
  // allocate: the call returns an error, nothing is left allocated (ASan's
  // leak check sees it), and the process lives on.
  struct Context {
    void *kept = nullptr;
  } context;
  char error[128] = {0};
  int status = attnCallGuarded(
      [](void *c) {
        auto *ctx = static_cast<Context *>(c);
        ctx->kept = _mlir_memref_to_llvm_alloc(64);
        _mlir_memref_to_llvm_free(_mlir_memref_to_llvm_alloc(32));
        _mlir_memref_to_llvm_aligned_alloc(64, size_t(1) << 62);
        ctx->kept = nullptr; // not reached
      },
      &context, error, sizeof error);
  EXPECT_NE(status, 0);
  EXPECT_STREQ(error, "out of memory: compiled code could not allocate "
                      "4611686018427387904 bytes");
  EXPECT_NE(context.kept, nullptr); // freed by the guard, not by us
}

TEST(MemrefAllocGuarded, KeepsResultsOfASuccessfulCall) {
  void *result = nullptr;
  char error[128] = {0};
  int status = attnCallGuarded(
      [](void *c) { *static_cast<void **>(c) = _mlir_memref_to_llvm_alloc(16); },
      &result, error, sizeof error);
  EXPECT_EQ(status, 0);
  ASSERT_NE(result, nullptr);
  std::memset(result, 1, 16);
  _mlir_memref_to_llvm_free(result);
}

TEST(EntryCheck, RefusesWhatCompiledCodeCannotRead) {
  const int64_t qShape[] = {1, 4, -1, 8}, kShape[] = {1, 2, -1, 8};
  ArraySpec specs[] = {{0, 4, qShape, "tensor<1x4x?x8xf32>"},
                       {0, 4, kShape, "tensor<1x2x?x8xf32>"},
                       {0, 4, kShape, "tensor<1x2x?x8xf32>"}};
  SizeRuleSpec rules[] = {{1, 2, 2, 2, 0, "K and V lengths equal"}};
  float memory[1024];
  int64_t q[] = {1, 4, 3, 8}, k[] = {1, 2, 5, 8}, v[] = {1, 2, 5, 8};
  ArrayArg args[] = {{memory, 0, 4, q}, {memory, 0, 4, k}, {memory, 0, 4, v}};
  auto check = [&](int numArgs = 3) {
    return checkEntryArguments("main", specs, 3, rules, 1, args, numArgs);
  };
  EXPECT_EQ(check(), "");
  EXPECT_EQ(check(2), "@main takes 3 inputs but 2 were given");
  v[2] = 4;
  EXPECT_EQ(check(), "input 1 dimension 2 is 5 but input 2 dimension 2 is "
                     "4: K and V lengths equal");
  v[2] = -4;
  EXPECT_EQ(check(), "input 2 dimension 2 is -4: sizes must be from 0 to "
                     "2147483647 (2^31 - 1)");
  v[2] = 5;
  k[3] = 9;
  EXPECT_EQ(check(), "input 1 has shape [1, 2, 5, 9] but @main expects "
                     "tensor<1x2x?x8xf32>");
  k[3] = 8;
  args[0].dtype = 1;
  EXPECT_EQ(check(), "input 0 has dtype float16 but @main expects float32 "
                     "(tensor<1x4x?x8xf32>)");
  args[0].dtype = 0;
  args[2].data = nullptr;
  EXPECT_EQ(check(), "input 2 has no data (a null pointer) for shape "
                     "[1, 2, 5, 8]");
  v[2] = 0;
  k[2] = 0;
  EXPECT_EQ(check(), ""); // empty: no data needed
  EXPECT_EQ(checkEntryArguments("main", specs, 3, rules, 1, nullptr, 3),
            "@main takes 3 inputs but the array of inputs is a null pointer");
}

TEST(EntryCheck, RefusesArraysLargerThanMemory) {
  const int64_t shape[] = {-1, -1, -1};
  ArraySpec spec = {0, 3, shape, "tensor<?x?x?xf32>"};
  float memory[4];
  int64_t sizes[] = {2147483647, 2147483647, 4};
  ArrayArg arg = {memory, 0, 3, sizes};
  EXPECT_EQ(checkEntryArguments("f", &spec, 1, nullptr, 0, &arg, 1),
            "input 0 has shape [2147483647, 2147483647, 4], more bytes than "
            "an address space holds");
}

TEST(EntryCheck, ChecksThePagesARequestUses) {
  // Two requests, a table of 3 pages of 4 keys, a cache of 5 pages.
  int32_t table[] = {4, 0, -1, 2, 3, 1}, lengths[] = {6, 12};
  float cache[1];
  int64_t tableShape[] = {2, 3}, lengthShape[] = {2}, cacheShape[] = {5, 1, 4, 1};
  ArrayArg args[] = {{cache, 0, 4, cacheShape},
                     {table, 6, 2, tableShape},
                     {lengths, 6, 1, lengthShape}};
  PagedRuleSpec rule = {1, 2, 0, 4, "attn.paged_attention"};
  // Request 0 uses pages 4 and 0; its -1 past its 6 keys is not read.
  EXPECT_EQ(checkPagedValues(&rule, 1, args), "");
  lengths[0] = 9;
  EXPECT_EQ(checkPagedValues(&rule, 1, args),
            "input 1 ('page_table' of attn.paged_attention): "
            "'page_table'[0, 2] is -1, not a page of the cache's 5");
  lengths[0] = 6;
  table[4] = 5;
  EXPECT_EQ(checkPagedValues(&rule, 1, args),
            "input 1 ('page_table' of attn.paged_attention): "
            "'page_table'[1, 1] is 5, not a page of the cache's 5");
  table[4] = 3;
  lengths[1] = 13;
  EXPECT_EQ(checkPagedValues(&rule, 1, args),
            "input 2 ('key_lengths' of attn.paged_attention): "
            "'key_lengths'[1] is 13, outside [0, 12] (the table's 3 pages of "
            "4 keys)");
  lengths[1] = -1;
  EXPECT_NE(checkPagedValues(&rule, 1, args), "");
  lengths[1] = 0;
  EXPECT_EQ(checkPagedValues(&rule, 1, args), "");
}

TEST(ResultBuffers, OfferedBufferTakenOnceWhenLargeEnough) {
  alignas(64) static char buffer[256];
  AttnResultSlot slots[2] = {{buffer, 256, 0}, {nullptr, 0, 0}};
  attnOfferResultBuffers(slots, 2);
  // Too large: fresh memory; the slot stays free.
  void *large = attnAllocateResult(0, 512, 64);
  EXPECT_NE(large, static_cast<void *>(buffer));
  EXPECT_EQ(slots[0].taken, 0);
  EXPECT_EQ(attnAllocateResult(0, 200, 64), static_cast<void *>(buffer));
  EXPECT_EQ(slots[0].taken, 1);
  // Taken already, or no buffer for the index: fresh memory.
  void *again = attnAllocateResult(0, 200, 64);
  void *other = attnAllocateResult(1, 8, 64);
  void *outside = attnAllocateResult(7, 8, 64);
  EXPECT_NE(again, static_cast<void *>(buffer));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(other) % 64, 0u);
  attnOfferResultBuffers(nullptr, 0);
  void *withdrawn = attnAllocateResult(0, 8, 64);
  for (void *p : {large, again, other, outside, withdrawn})
    _mlir_memref_to_llvm_free(p);
}

TEST(ResultBuffers, PoolKeepsReleasedBuffersBySize) {
  auto pool = std::make_shared<ResultPool>(2);
  void *a = std::malloc(64), *b = std::malloc(64), *c = std::malloc(32);
  {
    std::shared_ptr<uint8_t> held = pool->adopt(a, 64);
    EXPECT_EQ(pool->take(64), nullptr); // still in use
  }
  EXPECT_EQ(pool->take(32), nullptr);
  EXPECT_EQ(pool->take(64), a);
  pool->give(a, 64);
  pool->give(b, 64);
  pool->give(c, 32); // full: the oldest (a) is freed
  EXPECT_EQ(pool->take(64), b);
  EXPECT_EQ(pool->take(64), nullptr);
  EXPECT_EQ(pool->take(32), c);
  std::free(b);
  std::free(c);
}

TEST(AotDescription, ParsesTheDocumentedFormat) {
  std::string target, error;
  std::vector<AotEntry> entries;
  ASSERT_TRUE(parseAotDescription(
      "target cpu\nfuture field\nentry main 2 1 bf16[1x?x8] i1[] "
      "f32[?]\nentry none 0 0\n",
      target, entries, error))
      << error;
  EXPECT_EQ(target, "cpu");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].text(), "main(bf16[1x?x8], i1[]) -> f32[?]");
  EXPECT_EQ(entries[0].inputs[0].shape, (std::vector<int64_t>{1, -1, 8}));
  EXPECT_TRUE(entries[0].inputs[1].shape.empty());
  EXPECT_EQ(entries[1].text(), "none() -> ()");
  for (const char *bad :
       {"target cpu\nentry main 1 1 f32[2]\n", "entry main 0 0\n",
        "target cpu\nentry main 1 0 float32[2]\n",
        "target cpu\nentry main 1 0 f32[2x]\n",
        "target cpu\nentry main x 0\n"})
    EXPECT_FALSE(parseAotDescription(bad, target, entries, error)) << bad;
}

TEST(SharedObjectFile, RefusesTruncatedFiles) {
  std::string path = tempPath("not-elf.so");
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello";
  }
  EXPECT_NE(checkSharedObjectFile(path).find("no ELF header"),
            std::string::npos);
  EXPECT_NE(checkSharedObjectFile(tempPath("missing.so")).find("cannot read"),
            std::string::npos);
}

} // namespace
