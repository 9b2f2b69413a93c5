/*===- AttnAOT.h - The C ABI of attn's ahead-of-time libraries -*- C -*-===*\
 *
 * `attn-aot model.mlir -o libmodel.so` compiles a model into a shared
 * library that needs only libc, libstdc++, libm, libomp (CPU code) and, for
 * GPU code, libcuda.so.1 loaded at run time. It exports these functions.
 * Arrays are dense, row-major; bfloat16 travels as uint16 bits. Results are
 * allocated by the library: free each result's `base` with attn_aot_free.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_RUNTIME_ATTNAOT_H
#define ATTN_RUNTIME_ATTNAOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever the functions or structs below change. */
#define ATTN_AOT_ABI_VERSION 2
#define ATTN_AOT_MAX_RANK 8

typedef enum {
  ATTN_AOT_F32 = 0,
  ATTN_AOT_F16 = 1,
  ATTN_AOT_BF16 = 2,
  ATTN_AOT_F64 = 3,
  ATTN_AOT_BOOL = 4,
  ATTN_AOT_I8 = 5,
  ATTN_AOT_I32 = 6,
  ATTN_AOT_I64 = 7
} attn_aot_dtype;

typedef struct {
  void *data;        /* first element */
  void *base;        /* results: the allocation to free; inputs: ignored */
  int32_t dtype;     /* attn_aot_dtype */
  int32_t rank;
  int64_t shape[ATTN_AOT_MAX_RANK];
} attn_aot_array;

/* ATTN_AOT_ABI_VERSION of the library. */
int attn_aot_abi_version(void);
/* The attn version that built the library, e.g. "attn 0.1.0 (LLVM 22)". */
const char *attn_aot_attn_version(void);
/* One line per entry: "name: in f32[1x8x?x64] ... -> out f32[...] ...". */
const char *attn_aot_describe(void);
/* Runs `entry`. Returns 0 on success; otherwise writes one line into
   `error` (NUL-terminated, at most error_size bytes) and returns non-zero. */
int attn_aot_call(const char *entry, const attn_aot_array *inputs,
                  int num_inputs, attn_aot_array *outputs, int num_outputs,
                  char *error, size_t error_size);
/* Frees a result's `base`. */
void attn_aot_free(void *base);
/* Benchmarks of GPU code: with timing on, every kernel launch is bracketed
   by CUDA events and waited for; attn_aot_gpu_kernel_ms() returns the
   kernels' milliseconds since its last call (copies excluded) and resets
   them, or -1 for a library without GPU code. */
void attn_aot_gpu_timing(int enable);
double attn_aot_gpu_kernel_ms(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_ATTNAOT_H */
