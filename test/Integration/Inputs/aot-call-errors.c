/* Input of aot-call-errors.test: a C host that calls an attn AOT library
   (built from dynamic.mlir: q ?x4x?x16, k and v ?x2x?x16, f32) the wrong
   ways. Every call must come back with an error code and one line, and the
   host must live on to print "alive" at the end. With a second argument,
   the name of a library built from huge-scores.mlir, it also calls that
   one, whose reference strategy cannot allocate its 4 TiB score matrix.
   It also calls attn_aot_call_into, with the caller's output arrays, right
   (the result must equal attn_aot_call's, bit for bit) and wrong. */

#include "attn/Runtime/AttnAOT.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*CallFn)(const char *, const attn_aot_array *, int,
                      attn_aot_array *, int, char *, size_t);

typedef int (*CallIntoFn)(const char *, const attn_aot_array *, int,
                          const attn_aot_array *, int, char *, size_t);

static CallFn call;
static CallIntoFn callInto;
static void (*release)(void *);

static attn_aot_array array(void *data, int64_t b, int64_t h, int64_t l,
                            int64_t d) {
  attn_aot_array a;
  memset(&a, 0, sizeof a);
  a.data = data;
  a.dtype = ATTN_AOT_F32;
  a.rank = 4;
  a.shape[0] = b;
  a.shape[1] = h;
  a.shape[2] = l;
  a.shape[3] = d;
  return a;
}

static void report(const char *what, const char *entry,
                   const attn_aot_array *in, int numIn, attn_aot_array *out,
                   int numOut) {
  char error[512] = "(no message)";
  int status = call(entry, in, numIn, out, numOut, error, sizeof error);
  printf("%s: status %d: %s\n", what, status, status ? error : "ok");
  if (status == 0)
    for (int r = 0; r < numOut; ++r)
      release(out[r].base);
}

static void reportInto(const char *what, const attn_aot_array *in,
                       const attn_aot_array *out, int numOut) {
  char error[512] = "(no message)";
  int status = callInto("main", in, 3, out, numOut, error, sizeof error);
  printf("into, %s: status %d: %s\n", what, status, status ? error : "ok");
}

static void *load(const char *path) {
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    printf("cannot load %s: %s\n", path, dlerror());
    exit(2);
  }
  call = (CallFn)dlsym(library, "attn_aot_call");
  callInto = (CallIntoFn)dlsym(library, "attn_aot_call_into");
  release = (void (*)(void *))dlsym(library, "attn_aot_free");
  return library;
}

int main(int argc, char **argv) {
  load(argv[1]);
  static float q[2 * 4 * 9 * 16], k[2 * 2 * 300 * 16], v[2 * 2 * 300 * 16];
  for (int i = 0; i < 2 * 4 * 9 * 16; ++i)
    q[i] = (float)((i * 37) % 23) / 23.0f - 0.5f;
  for (int i = 0; i < 2 * 2 * 300 * 16; ++i) {
    k[i] = (float)((i * 11) % 19) / 19.0f - 0.5f;
    v[i] = (float)((i * 7) % 29) / 29.0f - 0.5f;
  }
  attn_aot_array in[3] = {array(q, 2, 4, 9, 16), array(k, 2, 2, 17, 16),
                          array(v, 2, 2, 17, 16)};
  attn_aot_array out[1];
  report("valid", "main", in, 3, out, 1);
  printf("valid result: rank %d shape %lldx%lldx%lldx%lld\n", out[0].rank,
         (long long)out[0].shape[0], (long long)out[0].shape[1],
         (long long)out[0].shape[2], (long long)out[0].shape[3]);

  /* The same call into the caller's array: equal bit for bit. */
  static float o[2 * 4 * 9 * 16];
  attn_aot_array into[1] = {array(o, 2, 4, 9, 16)};
  reportInto("valid", in, into, 1);
  char error[256];
  if (call("main", in, 3, out, 1, error, sizeof error) == 0) {
    printf("into equals call: %s\n",
           memcmp(out[0].data, o, sizeof o) == 0 ? "yes" : "no");
    release(out[0].base);
  }
  attn_aot_array wrong[1];
  memcpy(wrong, into, sizeof wrong);
  wrong[0].dtype = ATTN_AOT_F16;
  reportInto("f16 output", in, wrong, 1);
  memcpy(wrong, into, sizeof wrong);
  wrong[0].rank = 3;
  reportInto("rank 3 output", in, wrong, 1);
  memcpy(wrong, into, sizeof wrong);
  wrong[0].shape[1] = 2;
  reportInto("static size", in, wrong, 1);
  memcpy(wrong, into, sizeof wrong);
  wrong[0].data = NULL;
  reportInto("null data", in, wrong, 1);
  memcpy(wrong, into, sizeof wrong);
  wrong[0].shape[2] = 8;
  reportInto("8 queries for 9", in, wrong, 1);
  reportInto("null outputs", in, NULL, 1);
  reportInto("two outputs", in, into, 2);

  attn_aot_array bad[3];
  memcpy(bad, in, sizeof bad);
  bad[0].shape[2] = -9;
  report("negative length", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[0].shape[0] = -9223372036854775807LL - 1;
  report("INT64_MIN batch", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[1].shape[2] = 300;
  bad[2].shape[2] = 100;
  report("K 300 keys, V 100", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[1].shape[0] = 1;
  report("K batch 1, Q batch 2", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[2].shape[2] = (int64_t)1 << 31;
  report("length 2^31", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[1].data = NULL;
  report("null data", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[0].shape[2] = 0;
  bad[0].data = NULL;
  report("null data, no queries", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[2].rank = 9;
  report("rank 9", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[2].rank = -1;
  report("rank -1", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[0].dtype = 42;
  report("dtype 42", "main", bad, 3, out, 1);
  memcpy(bad, in, sizeof bad);
  bad[0].shape[3] = 8;
  report("static size", "main", bad, 3, out, 1);
  report("null entry", NULL, in, 3, out, 1);
  report("unknown entry", "nope", in, 3, out, 1);
  report("null inputs", "main", NULL, 3, out, 1);
  report("null outputs", "main", in, 3, NULL, 1);
  report("two inputs", "main", in, 2, out, 1);
  report("negative input count", "main", in, -1, out, 1);
  report("two outputs", "main", in, 3, out, 2);
  printf("null error buffer: status %d\n",
         call("nope", in, 3, out, 1, NULL, 100));
  char tiny[8];
  printf("short error buffer: status %d: '%s'\n",
         call("nope", in, 3, out, 1, tiny, sizeof tiny), tiny);

  if (argc > 2) {
    load(argv[2]);
    size_t n = (size_t)1 << 20;
    float *data = calloc(n, sizeof(float));
    attn_aot_array huge[3] = {array(data, 1, 1, n, 1), array(data, 1, 1, n, 1),
                              array(data, 1, 1, n, 1)};
    report("4 TiB of scores", "main", huge, 3, out, 1);
    report("4 TiB of scores again", "main", huge, 3, out, 1);
    /* The caller's output array survives the failure (it is not freed). */
    float *o2 = calloc(n, sizeof(float));
    attn_aot_array hugeOut[1] = {array(o2, 1, 1, n, 1)};
    reportInto("4 TiB of scores", huge, hugeOut, 1);
    o2[n - 1] = 1;
    free(o2);
    free(data);
  }
  printf("alive\n");
  return 0;
}
