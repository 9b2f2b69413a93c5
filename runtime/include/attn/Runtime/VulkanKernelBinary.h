//===- VulkanKernelBinary.h - attn's Vulkan kernel container ----*- C++ -*-===//
//
// The object that attn's Vulkan target embeds in a gpu.binary, and how the
// host calls its kernels. The compiler writes it (lib/Conversion/GPUToVulkan)
// and libattn_runtime's Vulkan layer reads it; this header is their one
// contract, so it depends on nothing but the standard library.
//
// Layout: little-endian 32-bit words.
//   "ATTNVK01" (8 bytes), version, features, kernel count,
//   per kernel: name length in bytes, name (zero-padded to a word),
//     workgroup size x, y, z, shared-memory bytes, params binding,
//     params words, argument count,
//     per argument: kind, rank, element bytes, binding, first params word;
//   SPIR-V word count, the SPIR-V module (one for all kernels).
//
// Calling a kernel. gpu-to-llvm passes each argument of a gpu.launch_func as
// kernel parameters: a memref of rank r as its descriptor (allocated,
// aligned, offset, sizes[r], strides[r]: 3 + 2r parameters), a scalar as
// one. The SPIR-V kernel instead reads:
//   - each memref argument as one storage buffer at descriptor set 0,
//     binding `binding`, indexed as a flat array of its element type; the
//     buffer is the device allocation that holds the memref, and params
//     word `word` holds the memref's first element as an element index into
//     that allocation, words `word + 1 ... word + r` its sizes (identity
//     layout: the strides follow from the sizes);
//   - every scalar argument from the params buffer, a storage buffer of
//     `paramsWords` 32-bit words at binding `paramsBinding`: index and i32
//     as a signed 32-bit integer, f32 as its bits, i1 as 0 or 1.
// The last params word is the status: a kernel checks that each of its
// loops ran as many iterations as its bounds ask for, and writes a non-zero
// status when one did not. A device that cuts loops short (Mesa's lavapipe
// ends the loops of a shader after 65,535 iterations in all) thus fails the
// launch instead of returning results that would be wrong.
// Indices are 32-bit in the kernels: a value that does not fit is an error
// of the launch, never a wrap.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_VULKANKERNELBINARY_H
#define ATTN_RUNTIME_VULKANKERNELBINARY_H

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace attn::vulkan {

inline constexpr char kMagic[8] = {'A', 'T', 'T', 'N', 'V', 'K', '0', '1'};
inline constexpr uint32_t kVersion = 1;

/// Device features a module needs beyond Vulkan 1.1 compute (bit mask).
enum Feature : uint32_t {
  kFeatureFloat16 = 1u << 0,   ///< shaderFloat16 (f16 arithmetic).
  kFeatureInt16 = 1u << 1,     ///< shaderInt16.
  kFeatureInt8 = 1u << 2,      ///< shaderInt8.
  kFeatureStorage16 = 1u << 3, ///< storageBuffer16BitAccess (f16 buffers).
  kFeatureStorage8 = 1u << 4,  ///< storageBuffer8BitAccess (i1/i8 buffers).
  kFeatureInt64 = 1u << 5,     ///< shaderInt64.
  /// shaderSignedZeroInfNanPreserveFloat32: NaN and infinities propagate.
  kFeatureNanPreserve32 = 1u << 6,
};

/// Each feature bit with the name of its Vulkan feature.
inline constexpr std::pair<Feature, const char *> kFeatureNames[] = {
    {kFeatureFloat16, "shaderFloat16"},
    {kFeatureInt16, "shaderInt16"},
    {kFeatureInt8, "shaderInt8"},
    {kFeatureStorage16, "storageBuffer16BitAccess"},
    {kFeatureStorage8, "storageBuffer8BitAccess"},
    {kFeatureInt64, "shaderInt64"},
    {kFeatureNanPreserve32, "shaderSignedZeroInfNanPreserveFloat32"}};

/// The Vulkan names of the features in `mask`, comma-separated; a bit that
/// is no feature is "unknown feature bit N".
inline std::string featureNames(uint32_t mask) {
  std::string names;
  auto add = [&](const std::string &name) {
    names += (names.empty() ? "" : ", ") + name;
  };
  for (auto [bit, name] : kFeatureNames)
    if (mask & bit) {
      add(name);
      mask &= ~bit;
    }
  for (uint32_t bit = 0; bit < 32; ++bit)
    if (mask & (1u << bit))
      add("unknown feature bit " + std::to_string(bit));
  return names;
}

/// What one argument of a gpu.launch_func is to the SPIR-V kernel.
enum class ArgKind : uint32_t {
  Buffer = 0, ///< memref: a storage buffer plus offset and sizes in params.
  Index = 1,  ///< index (int64 on the host): one signed 32-bit params word.
  I32 = 2,    ///< i32: one params word.
  F32 = 3,    ///< f32: its bits in one params word.
  I1 = 4,     ///< i1 (one byte on the host): 0 or 1 in one params word.
};

struct KernelArg {
  ArgKind kind = ArgKind::Index;
  uint32_t rank = 0;         ///< Buffer: rank of the memref.
  uint32_t elementBytes = 0; ///< Buffer: bytes per element.
  uint32_t binding = 0;      ///< Buffer: descriptor binding in set 0.
  uint32_t word = 0;         ///< First params word of this argument.
};

struct Kernel {
  std::string name;
  uint32_t workgroupSize[3] = {1, 1, 1};
  uint32_t sharedBytes = 0;   ///< Workgroup memory the kernel declares.
  uint32_t paramsBinding = 0; ///< Binding of the params buffer.
  uint32_t paramsWords = 0;   ///< Size of the params buffer in words (>= 1).
  uint32_t statusWord() const { return paramsWords - 1; }
  std::vector<KernelArg> args;

  /// Kernel parameters gpu-to-llvm passes for these arguments.
  size_t hostParameterCount() const {
    size_t count = 0;
    for (const KernelArg &arg : args)
      count += arg.kind == ArgKind::Buffer ? 3 + 2 * size_t(arg.rank) : 1;
    return count;
  }
};

struct KernelBinary {
  uint32_t features = 0;
  std::vector<Kernel> kernels;
  std::vector<uint32_t> spirv;
};

/// Whether `data` starts with the container's magic (false for CUDA images).
inline bool isKernelBinary(const void *data, size_t size) {
  return data && size >= sizeof(kMagic) &&
         std::memcmp(data, kMagic, sizeof(kMagic)) == 0;
}

inline std::string encodeKernelBinary(const KernelBinary &binary) {
  std::vector<uint32_t> words;
  auto put = [&](uint32_t w) { words.push_back(w); };
  put(kVersion);
  put(binary.features);
  put(static_cast<uint32_t>(binary.kernels.size()));
  for (const Kernel &kernel : binary.kernels) {
    put(static_cast<uint32_t>(kernel.name.size()));
    std::vector<uint32_t> name((kernel.name.size() + 3) / 4, 0);
    if (!kernel.name.empty())
      std::memcpy(name.data(), kernel.name.data(), kernel.name.size());
    words.insert(words.end(), name.begin(), name.end());
    for (uint32_t size : kernel.workgroupSize)
      put(size);
    put(kernel.sharedBytes);
    put(kernel.paramsBinding);
    put(kernel.paramsWords);
    put(static_cast<uint32_t>(kernel.args.size()));
    for (const KernelArg &arg : kernel.args) {
      put(static_cast<uint32_t>(arg.kind));
      put(arg.rank);
      put(arg.elementBytes);
      put(arg.binding);
      put(arg.word);
    }
  }
  put(static_cast<uint32_t>(binary.spirv.size()));
  words.insert(words.end(), binary.spirv.begin(), binary.spirv.end());
  std::string bytes(kMagic, sizeof(kMagic));
  bytes.append(reinterpret_cast<const char *>(words.data()),
               words.size() * sizeof(uint32_t));
  return bytes;
}

/// Reads a container; false with `error` set when it is not one of this
/// version or is cut short.
inline bool decodeKernelBinary(const void *data, size_t size,
                               KernelBinary &binary, std::string &error) {
  if (!isKernelBinary(data, size)) {
    error = "not an attn Vulkan kernel binary";
    return false;
  }
  const auto *bytes = static_cast<const unsigned char *>(data);
  size_t at = sizeof(kMagic);
  bool ok = true;
  auto get = [&]() -> uint32_t {
    if (!ok || at + 4 > size) {
      ok = false;
      return 0;
    }
    uint32_t w;
    std::memcpy(&w, bytes + at, 4);
    at += 4;
    return w;
  };
  auto truncated = [&] {
    error = "the attn Vulkan kernel binary is cut short";
    return false;
  };
  uint32_t version = get();
  if (ok && version != kVersion) {
    error = "the attn Vulkan kernel binary has version " +
            std::to_string(version) + ", this runtime reads version " +
            std::to_string(kVersion);
    return false;
  }
  binary.features = get();
  uint32_t kernels = get();
  if (!ok || kernels > (size - at) / 4)
    return truncated();
  binary.kernels.assign(kernels, Kernel());
  for (Kernel &kernel : binary.kernels) {
    uint32_t nameBytes = get();
    if (!ok || nameBytes > size - at)
      return truncated();
    kernel.name.assign(reinterpret_cast<const char *>(bytes + at), nameBytes);
    at += (static_cast<size_t>(nameBytes) + 3) / 4 * 4;
    for (uint32_t &s : kernel.workgroupSize)
      s = get();
    kernel.sharedBytes = get();
    kernel.paramsBinding = get();
    kernel.paramsWords = get();
    uint32_t args = get();
    if (!ok || args > (size - at) / 20)
      return truncated();
    kernel.args.assign(args, KernelArg());
    for (KernelArg &arg : kernel.args) {
      arg.kind = static_cast<ArgKind>(get());
      arg.rank = get();
      arg.elementBytes = get();
      arg.binding = get();
      arg.word = get();
    }
  }
  uint32_t spirvWords = get();
  if (!ok || spirvWords > (size - at) / 4)
    return truncated();
  binary.spirv.resize(spirvWords);
  if (spirvWords)
    std::memcpy(binary.spirv.data(), bytes + at, spirvWords * 4ull);
  return true;
}

} // namespace attn::vulkan

#endif // ATTN_RUNTIME_VULKANKERNELBINARY_H
