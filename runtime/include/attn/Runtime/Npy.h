//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads and writes NumPy's .npy format (versions 1-3, little-endian,
// C order). Part of libattn_runtime, which includes nothing of the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_NPY_H
#define ATTN_RUNTIME_NPY_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attn::runtime {

/// Element kinds that attn exchanges through .npy files.
/// F8E4M3FNAsU8: f8E4M3FN elements, which travel as uint8 bit patterns
/// (numpy has no 8-bit float).
enum class DType { F32, F16, BF16AsU16, F64, I1, I8, I32, I64, F8E4M3FNAsU8 };

const char *dtypeName(DType dtype);
size_t dtypeSize(DType dtype);
/// The MLIR element type name of `dtype` (f32, f16, bf16, f64, i1, i8, i32,
/// i64, f8E4M3FN), as attn_aot_describe writes it.
const char *dtypeTypeName(DType dtype);
/// The DType whose dtypeTypeName is `name`; false when there is none.
bool parseDTypeTypeName(const std::string &name, DType &dtype);

/// A host array with 64-byte aligned storage.
struct HostArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::shared_ptr<uint8_t> storage; ///< owns `data` (may be null for views)
  uint8_t *data = nullptr;

  int64_t numElements() const;
  size_t numBytes() const { return numElements() * dtypeSize(dtype); }
  /// Allocates zeroed, aligned storage for `shape`. Returns false when the
  /// allocation fails.
  bool allocate(DType type, std::vector<int64_t> dims);
  /// A view over borrowed C-order memory (no copy, no ownership): the caller
  /// keeps `memory` alive while the view is used.
  static HostArray view(DType type, std::vector<int64_t> dims, void *memory);
  std::string shapeString() const;
};

/// Element `index` of `array` as a double (floats, bools and integers).
double elementAsDouble(const HostArray &array, int64_t index);

/// IEEE half <-> float.
float halfToFloat(uint16_t bits);
uint16_t floatToHalf(float value);

/// What a .npy header says: the element type, the shape, and where the
/// data starts in the file.
struct NpyHeader {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  long dataOffset = 0;
};

/// Reads the header of `path` and checks that the data it declares is all
/// there. On failure returns false and sets `error` to one line.
bool readNpyHeader(const std::string &path, NpyHeader &header,
                   std::string &error);

/// Reads part of the array of `path` (whose header is `header`): on axis
/// `axis`, the rows [first, first + count) of each pair of `rows`, each
/// padded with zeros to `rowsEach` rows, one after the other. Only those
/// rows are read from the file.
bool readNpyRows(const std::string &path, const NpyHeader &header, int axis,
                 const std::vector<std::pair<int64_t, int64_t>> &rows,
                 int64_t rowsEach, HostArray &array, std::string &error);

/// Reads `path`. On failure returns false and sets `error` to one line.
bool readNpy(const std::string &path, HostArray &array, std::string &error);
/// Writes `array` to `path`. On failure returns false and sets `error`.
bool writeNpy(const std::string &path, const HostArray &array,
              std::string &error);

} // namespace attn::runtime

#endif // ATTN_RUNTIME_NPY_H
