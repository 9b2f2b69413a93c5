//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// A strict reader: wrong magic, unsupported dtypes, Fortran order,
// big-endian data, or a size that disagrees with the header are errors with
// one clear message, never a crash.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/Npy.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <sys/mman.h>

namespace attn::runtime {

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32: return "float32";
  case DType::F16: return "float16";
  case DType::BF16AsU16: return "bfloat16 (as uint16)";
  case DType::F64: return "float64";
  case DType::I1: return "bool";
  case DType::I8: return "int8";
  case DType::I32: return "int32";
  case DType::I64: return "int64";
  case DType::F8E4M3FNAsU8: return "float8_e4m3fn (as uint8)";
  }
  return "?";
}

static constexpr const char *kTypeNames[] = {"f32", "f16", "bf16", "f64",
                                             "i1",  "i8",  "i32",  "i64",
                                             "f8E4M3FN"};

const char *dtypeTypeName(DType dtype) {
  return kTypeNames[static_cast<int>(dtype)];
}

bool parseDTypeTypeName(const std::string &name, DType &dtype) {
  for (int i = 0; i <= static_cast<int>(DType::F8E4M3FNAsU8); ++i)
    if (name == kTypeNames[i]) {
      dtype = static_cast<DType>(i);
      return true;
    }
  return false;
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16AsU16: return 2;
  case DType::F64: case DType::I64: return 8;
  case DType::I1: case DType::I8: case DType::F8E4M3FNAsU8: return 1;
  }
  return 1;
}

int64_t HostArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool HostArray::allocate(DType type, std::vector<int64_t> dims) {
  dtype = type;
  shape = std::move(dims);
  size_t bytes = numBytes();
  // Arrays of 4 MiB and more sit on 2 MiB pages where the kernel offers
  // them (transparent huge pages in `madvise` mode, as NumPy does for its
  // own large arrays): a KV cache read in scattered pages then costs a TLB
  // miss per 2 MiB rather than per 4 KiB, and the first write faults once
  // per 2 MiB.
  constexpr size_t kHugePage = size_t(2) << 20;
  size_t alignment = bytes >= 2 * kHugePage ? kHugePage : 64;
  size_t rounded = ((bytes + alignment - 1) / alignment) * alignment;
  if (rounded == 0)
    rounded = alignment;
  void *memory = std::aligned_alloc(alignment, rounded);
  if (!memory)
    return false;
  if (alignment == kHugePage)
    (void)madvise(memory, rounded, MADV_HUGEPAGE); // advice only
  std::memset(memory, 0, rounded);
  storage = std::shared_ptr<uint8_t>(static_cast<uint8_t *>(memory),
                                     [](uint8_t *p) { std::free(p); });
  data = storage.get();
  return true;
}

HostArray HostArray::view(DType type, std::vector<int64_t> dims,
                          void *memory) {
  HostArray array;
  array.dtype = type;
  array.shape = std::move(dims);
  array.data = static_cast<uint8_t *>(memory);
  return array;
}

std::string HostArray::shapeString() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else { // subnormal: normalize
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        --exponent;
      }
      mantissa &= 0x3ff;
      bits = sign | (exponent << 23) | (mantissa << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint32_t sign = (bits >> 16) & 0x8000u;
  int32_t exponent = static_cast<int32_t>((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff) // inf / nan
    return sign | 0x7c00u | (mantissa ? 0x200u : 0u);
  if (exponent >= 31)
    return sign | 0x7c00u;
  if (exponent <= 0) {
    if (exponent < -10)
      return sign;
    mantissa |= 0x800000;
    uint32_t shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = sign | (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return half;
}

double elementAsDouble(const HostArray &array, int64_t index) {
  const uint8_t *p = array.data + index * dtypeSize(array.dtype);
  switch (array.dtype) {
  case DType::F32: { float v; std::memcpy(&v, p, 4); return v; }
  case DType::F16: { uint16_t v; std::memcpy(&v, p, 2); return halfToFloat(v); }
  case DType::BF16AsU16: {
    uint16_t v; std::memcpy(&v, p, 2);
    uint32_t bits = uint32_t(v) << 16; float f; std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::F64: { double v; std::memcpy(&v, p, 8); return v; }
  case DType::I1: case DType::I8: return static_cast<int8_t>(*p);
  case DType::I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
  case DType::I64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
  case DType::F8E4M3FNAsU8: {
    int exponent = (*p >> 3) & 0xf, mantissa = *p & 0x7;
    if ((*p & 0x7f) == 0x7f)
      return std::numeric_limits<double>::quiet_NaN();
    double magnitude = exponent == 0
                           ? std::ldexp(mantissa / 8.0, -6)
                           : std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
    return (*p & 0x80) ? -magnitude : magnitude;
  }
  }
  return 0;
}

namespace {

struct File {
  FILE *f = nullptr;
  ~File() {
    if (f)
      std::fclose(f);
  }
};

bool parseDescr(const std::string &descr, DType &dtype) {
  // '<f4', '|b1', '<u2', ... ; '=' and '|' mean native / not applicable.
  if (descr.size() < 3)
    return false;
  char order = descr[0];
  std::string kind = descr.substr(1);
  if (order == '>' && kind != "b1" && kind != "i1" && kind != "u1")

    return false;
  if (kind == "f4") dtype = DType::F32;
  else if (kind == "f2") dtype = DType::F16;
  else if (kind == "u2") dtype = DType::BF16AsU16;
  else if (kind == "f8") dtype = DType::F64;
  else if (kind == "b1") dtype = DType::I1;
  else if (kind == "i1") dtype = DType::I8;
  else if (kind == "u1") dtype = DType::F8E4M3FNAsU8;
  else if (kind == "i4") dtype = DType::I32;
  else if (kind == "i8") dtype = DType::I64;
  else return false;
  return true;
}

const char *descrOf(DType dtype) {
  switch (dtype) {
  case DType::F32: return "<f4";
  case DType::F16: return "<f2";
  case DType::BF16AsU16: return "<u2";
  case DType::F64: return "<f8";
  case DType::I1: return "|b1";
  case DType::I8: return "|i1";
  case DType::I32: return "<i4";
  case DType::I64: return "<i8";
  case DType::F8E4M3FNAsU8: return "|u1";
  }
  return "<f4";
}

/// Value of `key` in the header dict, as its raw text.
bool findValue(const std::string &header, const std::string &key,
               std::string &value) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return false;
  at = header.find(':', at);
  if (at == std::string::npos)
    return false;
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  if (at >= header.size())
    return false;
  size_t end;
  if (header[at] == '\'') {
    end = header.find('\'', at + 1);
    if (end == std::string::npos)
      return false;
    value = header.substr(at + 1, end - at - 1);
  } else if (header[at] == '(') {
    end = header.find(')', at);
    if (end == std::string::npos)
      return false;
    value = header.substr(at + 1, end - at - 1);
  } else {
    end = header.find_first_of(",}", at);
    if (end == std::string::npos)
      return false;
    value = header.substr(at, end - at);
  }
  return true;
}

} // namespace

/// Reads the header of the open `file` (at its start) into `header`.
static bool readHeader(File &file, const std::string &path, NpyHeader &out,
                       std::string &error) {
  if (!file.f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  unsigned char magic[8];
  if (std::fread(magic, 1, 8, file.f) != 8 ||
      std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    error = "'" + path + "' is not a .npy file (bad magic)";
    return false;
  }
  int major = magic[6];
  uint32_t headerLength = 0;
  if (major == 1) {
    unsigned char len[2];
    if (std::fread(len, 1, 2, file.f) != 2) {
      error = "'" + path + "' is truncated in its header";
      return false;
    }
    headerLength = len[0] | (len[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    if (std::fread(len, 1, 4, file.f) != 4) {
      error = "'" + path + "' is truncated in its header";
      return false;
    }
    headerLength = len[0] | (len[1] << 8) | (len[2] << 16) |
                   (uint32_t(len[3]) << 24);
  } else {
    error = "'" + path + "' has unsupported .npy version " +
            std::to_string(major);
    return false;
  }
  if (headerLength > (1u << 20)) {
    error = "'" + path + "' has a corrupt .npy header length";
    return false;
  }
  std::string header(headerLength, '\0');
  if (std::fread(header.data(), 1, headerLength, file.f) != headerLength) {
    error = "'" + path + "' is truncated in its header";
    return false;
  }
  std::string descr, fortran, shapeText;
  if (!findValue(header, "descr", descr) ||
      !findValue(header, "fortran_order", fortran) ||
      !findValue(header, "shape", shapeText)) {
    error = "'" + path + "' has a corrupt .npy header";
    return false;
  }
  DType &dtype = out.dtype;
  if (!parseDescr(descr, dtype)) {
    error = "'" + path + "' has unsupported dtype '" + descr +
            "' (supported: little-endian float32, float16, float64, bool, "
            "uint16 for bfloat16, uint8 for float8_e4m3fn, int8/32/64)";
    return false;
  }
  if (fortran.find("True") != std::string::npos) {
    error = "'" + path + "' is in Fortran order; save it in C order";
    return false;
  }
  std::vector<int64_t> &shape = out.shape;
  shape.clear();
  const char *p = shapeText.c_str();
  while (*p) {
    while (*p == ' ' || *p == ',')
      ++p;
    if (!*p)
      break;
    char *end;
    errno = 0;
    long long dim = std::strtoll(p, &end, 10);
    if (end == p || errno || dim < 0) {
      error = "'" + path + "' has a corrupt shape (" + shapeText + ")";
      return false;
    }
    shape.push_back(dim);
    p = end;
  }
  long double elements = 1;
  for (int64_t d : shape)
    elements *= static_cast<long double>(d);
  if (elements * dtypeSize(dtype) > static_cast<long double>(1ull << 40)) {
    error = "'" + path + "' declares an array too large to load";
    return false;
  }
  out.dataOffset = std::ftell(file.f);
  return true;
}

bool readNpyHeader(const std::string &path, NpyHeader &header,
                   std::string &error) {
  File file;
  file.f = std::fopen(path.c_str(), "rb");
  if (!file.f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (!readHeader(file, path, header, error))
    return false;
  // The data must be all there, and nothing after it.
  int64_t bytes = static_cast<int64_t>(dtypeSize(header.dtype));
  for (int64_t d : header.shape)
    bytes *= d;
  if (std::fseek(file.f, 0, SEEK_END) != 0 ||
      std::ftell(file.f) != header.dataOffset + bytes) {
    error = "'" + path + "' holds " +
            std::to_string(std::ftell(file.f) - header.dataOffset) +
            " bytes of data, but its header declares " + std::to_string(bytes);
    return false;
  }
  return true;
}

bool readNpyRows(const std::string &path, const NpyHeader &header, int axis,
                 const std::vector<std::pair<int64_t, int64_t>> &rows,
                 int64_t rowsEach, HostArray &array, std::string &error) {
  std::vector<int64_t> shape = header.shape;
  if (axis < 0 || axis >= static_cast<int>(shape.size())) {
    error = "'" + path + "' has no axis " + std::to_string(axis);
    return false;
  }
  int64_t length = shape[axis];
  shape[axis] = rowsEach * static_cast<int64_t>(rows.size());
  if (!array.allocate(header.dtype, shape)) {
    error = "out of memory loading rows of '" + path + "'";
    return false;
  }
  File file;
  file.f = std::fopen(path.c_str(), "rb");
  if (!file.f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  int64_t outer = 1, inner = static_cast<int64_t>(dtypeSize(header.dtype));
  for (int d = 0; d < axis; ++d)
    outer *= header.shape[d];
  for (size_t d = axis + 1; d < header.shape.size(); ++d)
    inner *= header.shape[d];
  uint8_t *to = array.data;
  for (int64_t o = 0; o < outer; ++o)
    for (auto [first, count] : rows) {
      if (first < 0 || count < 0 || count > rowsEach ||
          first + count > length) {
        error = "rows [" + std::to_string(first) + ", " +
                std::to_string(first + count) + ") are outside axis " +
                std::to_string(axis) + " of '" + path + "'";
        return false;
      }
      long at = header.dataOffset + (o * length + first) * inner;
      size_t bytes = static_cast<size_t>(count * inner);
      if (bytes && (std::fseek(file.f, at, SEEK_SET) != 0 ||
                    std::fread(to, 1, bytes, file.f) != bytes)) {
        error = "'" + path + "' is truncated";
        return false;
      }
      to += rowsEach * inner; // padding rows stay zero
    }
  return true;
}

bool readNpy(const std::string &path, HostArray &array, std::string &error) {
  File file;
  file.f = std::fopen(path.c_str(), "rb");
  if (!file.f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  NpyHeader header;
  if (!readHeader(file, path, header, error))
    return false;
  // readHeader bounded the size (at most 2^40 bytes): no overflow below.
  DType dtype = header.dtype;
  int64_t declared = static_cast<int64_t>(dtypeSize(dtype));
  for (int64_t d : header.shape)
    declared *= d;
  if (!array.allocate(dtype, header.shape)) {
    error = "out of memory loading '" + path + "' (" +
            std::to_string(declared) + " bytes)";
    return false;
  }
  size_t bytes = array.numBytes();
  if (std::fread(array.data, 1, bytes, file.f) != bytes) {
    error = "'" + path + "' is truncated: the header declares " +
            array.shapeString() + " " + dtypeName(dtype) + " (" +
            std::to_string(bytes) + " bytes of data)";
    return false;
  }
  if (std::fgetc(file.f) != EOF) {
    error = "'" + path + "' has trailing bytes after the data its header "
            "declares";
    return false;
  }
  return true;
}

bool writeNpy(const std::string &path, const HostArray &array,
              std::string &error) {
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i)
    shape += std::to_string(array.shape[i]) + ", ";
  if (array.shape.size() > 1)
    shape.erase(shape.size() - 2);
  else if (array.shape.size() == 1)
    shape.erase(shape.size() - 1);
  shape += ")";
  std::string header = std::string("{'descr': '") + descrOf(array.dtype) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  File file;
  file.f = std::fopen(path.c_str(), "wb");
  if (!file.f) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                static_cast<unsigned char>(header.size() & 0xff),
                                static_cast<unsigned char>(header.size() >> 8)};
  bool ok = std::fwrite(preamble, 1, 10, file.f) == 10 &&
            std::fwrite(header.data(), 1, header.size(), file.f) ==
                header.size() &&
            std::fwrite(array.data, 1, array.numBytes(), file.f) ==
                array.numBytes();
  if (!ok || std::fflush(file.f) != 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace attn::runtime
