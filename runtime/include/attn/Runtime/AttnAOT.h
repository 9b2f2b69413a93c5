/*===- AttnAOT.h - The C ABI of attn's ahead-of-time libraries -*- C -*-===*\
 *
 * `attn-aot model.mlir -o libmodel.so` compiles a model into a shared
 * library that needs only libc, libstdc++, libm, libomp (CPU code) and, for
 * GPU code, libcuda.so.1 loaded at run time. It exports these functions.
 * Arrays are dense, row-major; bfloat16 travels as uint16 bits. Results are
 * either allocated by the library (attn_aot_call: free each result's `base`
 * with attn_aot_free) or written into the caller's arrays
 * (attn_aot_call_into: nothing is allocated for them, so a server that
 * reuses its output arrays touches no fresh memory call after call).
 *
 * A library never ends its host process: every call that it cannot run
 * (null pointers, counts, types, ranks or sizes that do not match the
 * entry, sizes that its attention ops need equal and are not, memory that
 * runs out) returns non-zero with one line of explanation.
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
#define ATTN_AOT_ABI_VERSION 4
#define ATTN_AOT_MAX_RANK 8

typedef enum {
  ATTN_AOT_F32 = 0,
  ATTN_AOT_F16 = 1,
  ATTN_AOT_BF16 = 2,
  ATTN_AOT_F64 = 3,
  ATTN_AOT_BOOL = 4,
  ATTN_AOT_I8 = 5,
  ATTN_AOT_I32 = 6,
  ATTN_AOT_I64 = 7,
  ATTN_AOT_F8E4M3FN = 8 /* as uint8 bits */
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
/* What the library holds, as text that programs read: one record per line,
   each line fields separated by single spaces (no field holds a space):

     target <cpu|cuda|vulkan>
     entry <name> <num_inputs> <num_results> <array>...

   The `target` line comes first; then one `entry` line per entry, its
   arrays the inputs in order, then the results. An <array> is
   <dtype>[<sizes>]: dtype one of f32 f16 bf16 f64 i1 i8 i32 i64 (the
   attn_aot_dtype values 0 to 7, in order), sizes decimal and separated by
   'x', '?' for a size given at run time, nothing for rank 0. For example:

     target cpu
     entry main 3 1 f32[1x8x?x64] f32[1x2x?x64] f32[1x2x?x64] f32[1x8x?x64]

   Readers skip lines with other first words (later versions may add
   some). */
const char *attn_aot_describe(void);
/* Runs `entry` on `num_inputs` arrays and writes its `num_outputs` results
   into `outputs`. Returns 0 on success; otherwise writes one line into
   `error` (NUL-terminated, at most error_size bytes; `error` may be null)
   and returns non-zero, leaving `outputs` unwritten. Before any compiled
   code runs, every input is checked against the entry (see
   attn_aot_describe): its dtype, rank and static sizes; each size from 0 to
   2^31 - 1; a non-null `data` unless the array is empty; and the sizes that
   the entry's attention ops need equal (batch, key and value lengths, a
   mask's or bias's Lq and Lk). `data` must point to the whole array that
   the shape describes. */
int attn_aot_call(const char *entry, const attn_aot_array *inputs,
                  int num_inputs, attn_aot_array *outputs, int num_outputs,
                  char *error, size_t error_size);
/* Runs `entry` like attn_aot_call, but writes its results into the
   caller's arrays `outputs` (`num_outputs` of them, `base` ignored): each
   of the result's dtype and rank, its sizes the result's static ones,
   `data` the whole dense array aligned to its element size. The compiled
   code computes a result directly in that memory where it can, and the
   result is copied there otherwise. The outputs are checked before any
   compiled code runs; a result whose size given at run time differs from
   its output's is an error after the call, which leaves that output's
   contents unspecified. Returns 0 on success, else non-zero with one line
   in `error`. */
int attn_aot_call_into(const char *entry, const attn_aot_array *inputs,
                       int num_inputs, const attn_aot_array *outputs,
                       int num_outputs, char *error, size_t error_size);
/* Frees a result's `base`. */
void attn_aot_free(void *base);
/* Benchmarks of GPU code: with timing on, every kernel launch is bracketed
   by CUDA events (Vulkan: timestamp queries) and waited for;
   attn_aot_gpu_kernel_ms() returns the kernels' milliseconds since its
   last call (copies excluded) and resets them, or -1 for a library without
   GPU code. */
void attn_aot_gpu_timing(int enable);
double attn_aot_gpu_kernel_ms(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_ATTNAOT_H */
