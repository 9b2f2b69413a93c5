// STREAM-style triad a[i] = b[i] + s * c[i] over arrays much larger than the
// caches, with N threads (argv[1], default 2). Prints the best GB/s of 10
// repetitions (3 arrays x 8 bytes per element moved).
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  const long n = 1L << 25; // 32M doubles = 256 MiB per array
  double *a = aligned_alloc(64, n * sizeof(double));
  double *b = aligned_alloc(64, n * sizeof(double));
  double *c = aligned_alloc(64, n * sizeof(double));
  if (!a || !b || !c)
    return 1;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long i = 0; i < n; ++i) {
    a[i] = 0;
    b[i] = 1;
    c[i] = 2;
  }
  double best = 0;
  for (int rep = 0; rep < 10; ++rep) {
    double start = omp_get_wtime();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long i = 0; i < n; ++i)
      a[i] = b[i] + 3.0 * c[i];
    double seconds = omp_get_wtime() - start;
    double gbs = 3.0 * n * sizeof(double) / seconds / 1e9;
    if (gbs > best)
      best = gbs;
  }
  printf("triad_gbs=%.1f threads=%d check=%.1f\n", best, threads, a[n / 2]);
  free(a);
  free(b);
  free(c);
  return 0;
}
