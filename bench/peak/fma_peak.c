// Measures this machine's f32 FMA peak: every thread runs 24 independent
// chains of vector FMAs (512-bit with AVX-512, else 256-bit) for a fixed
// time. Prints GFLOP/s for 1 thread and for N threads (argv[1], default 2).
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define LANE0(x) _mm512_cvtss_f32(x)
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define LANE0(x) _mm256_cvtss_f32(x)
#endif

static double run(int threads) {
  const long iters = 20000000;
  double start = 0, stop = 0;
  float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
    vec acc[24];
    for (int i = 0; i < 24; ++i)
      acc[i] = SET1(0.001f * i);
    vec x = SET1(0.99999f), y = SET1(1e-7f);
#pragma omp barrier
#pragma omp master
    start = omp_get_wtime();
    for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 24
      for (int k = 0; k < 24; ++k)
        acc[k] = FMA(acc[k], x, y);
    }
#pragma omp barrier
#pragma omp master
    stop = omp_get_wtime();
    for (int i = 0; i < 24; ++i)
      sink += LANE0(acc[i]);
  }
  if (sink == 12345.f)
    printf("unlikely\n");
  return (double)iters * 24 * LANES * 2 * threads / (stop - start) / 1e9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  run(1); // warm up
  double one = run(1);
  double all = run(threads);
  printf("fma_peak_gflops_1thread=%.1f fma_peak_gflops=%.1f threads=%d "
         "vector_bits=%d\n",
         one, all, threads, LANES * 32);
  return 0;
}
