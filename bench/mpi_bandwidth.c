/* Bandwidth between two MPI ranks for the K/V blocks of
 * bench/sequence_parallel.sh: rank 0 and rank 1 exchange BYTES-sized
 * buffers (MPI_Sendrecv, both directions at once, as a ring step does)
 * REPEAT times after a warm-up, and rank 0 prints
 * `bytes=<n> seconds_per_exchange=<s> gbytes_per_s=<per direction>`. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long bytes = argc > 1 ? atol(argv[1]) : 8l << 20;
  int repeat = argc > 2 ? atoi(argv[2]) : 20;
  if (size != 2) {
    if (rank == 0)
      fprintf(stderr, "mpi_bandwidth: run with -np 2\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  char *out = malloc(bytes), *in = malloc(bytes);
  memset(out, 1, bytes);
  memset(in, 0, bytes);
  int peer = 1 - rank;
  double start = 0;
  for (int i = -2; i < repeat; ++i) {
    if (i == 0) {
      MPI_Barrier(MPI_COMM_WORLD);
      start = MPI_Wtime();
    }
    MPI_Sendrecv(out, (int)bytes, MPI_BYTE, peer, 0, in, (int)bytes, MPI_BYTE,
                 peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  double seconds = (MPI_Wtime() - start) / repeat;
  if (rank == 0)
    printf("bytes=%ld seconds_per_exchange=%.6f gbytes_per_s=%.3f\n", bytes,
           seconds, bytes / seconds / 1e9);
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
