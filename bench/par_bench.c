/*
 * par_bench.c -- the engine's parallel drivers, one thread against n:
 * flow extraction (sf_flow_run_threads, conversations kept to the end as
 * extract_flows' list does) over a capture.
 *
 * Wall time says little on a machine others are loading (each login
 * session gets its share of the CPUs however many threads it runs), so
 * besides it this prints CPU time: the process's, each thread's, and the
 * critical path an idle machine would take -- the caller's thread alone
 * (process CPU minus the threads') plus the longest thread.  Ratios of
 * those paths are the speedup the threads buy; CPU time counts cycles
 * stalled on memory, so threads getting in each other's way show too.
 *
 * Usage: par_bench CAPTURE [THREADS] [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/flow.h"
#include "io/io.h"

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct figures {
  double wall, cpu, path, threads;  /* threads: their CPU, all */
  uint64_t flows;
} figures;

static void count(void *ud, sf_flow *f) {
  sf_flow_run *r = *(sf_flow_run **)ud;
  sf_flow_free(sf_flow_run_table_of(r, f), f);
  ((uint64_t *)ud)[1]++;
}

static int flows(const char *path, int threads, figures *out) {
  sf_flow_config c;
  sf_flow_hooks h;
  struct { sf_flow_run *r; uint64_t n; } y;
  double w0, c0, longest = 0;
  int rc;
  sf_flow_config_default(&c);
  memset(&h, 0, sizeof h);
  memset(&y, 0, sizeof y);
  h.ud = &y;
  h.on_flow = count;
  h.hold = 1;
  if (!(y.r = sf_flow_run_new(&c, &h))) return -1;
  sf_flow_run_threads(y.r, threads);
  w0 = clock_s(CLOCK_MONOTONIC);
  c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  rc = sf_flow_run_file(y.r, path, NULL);
  out->cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
  out->wall = clock_s(CLOCK_MONOTONIC) - w0;
  out->threads = sf_flow_run_thread_cpu(y.r, &longest);
  out->path = out->cpu - out->threads + longest;
  out->flows = y.n;
  if (rc != SF_OK) fprintf(stderr, "par_bench: %s\n", sf_flow_run_error(y.r));
  sf_flow_run_free(y.r);
  return rc;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

int main(int argc, char **argv) {
  int threads = argc > 2 ? atoi(argv[2]) : 2, rounds = argc > 3 ? atoi(argv[3]) : 5, i;
  double path1[64], pathn[64], wall1[64], walln[64], ratio[64];
  figures a, b;
  if (argc < 2 || threads < 2 || rounds < 1 || rounds > 64) {
    fprintf(stderr, "usage: par_bench CAPTURE [THREADS >= 2] [ROUNDS]\n");
    return 2;
  }
  sf_init();
  for (i = 0; i < rounds; i++) {  /* one after the other: load hits both alike */
    if (flows(argv[1], 1, &a) != SF_OK || flows(argv[1], threads, &b) != SF_OK) return 1;
    if (a.flows != b.flows) {
      fprintf(stderr, "par_bench: %llu conversations on one thread, %llu on %d\n",
              (unsigned long long)a.flows, (unsigned long long)b.flows, threads);
      return 1;
    }
    path1[i] = a.path;
    pathn[i] = b.path;
    wall1[i] = a.wall;
    walln[i] = b.wall;
    ratio[i] = a.path / b.path;
    printf("round %d: 1 thread %.3f s CPU (wall %.3f); %d threads: %.3f s CPU, "
           "threads %.3f, path %.3f (wall %.3f)\n", i + 1, a.cpu, a.wall, threads,
           b.cpu, b.threads, b.path, b.wall);
  }
  printf("extract_flows, %d threads vs 1: CPU critical path %.3f vs %.3f s median, "
         "%.2fx (median of rounds' ratios %.2fx); wall %.3f vs %.3f s, %.2fx\n",
         threads, median(pathn, rounds), median(path1, rounds),
         median(path1, rounds) / median(pathn, rounds), median(ratio, rounds),
         median(walln, rounds), median(wall1, rounds),
         median(wall1, rounds) / median(walln, rounds));
  return 0;
}
