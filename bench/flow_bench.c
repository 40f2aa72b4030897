/*
 * flow_bench.c -- the flow engine alone (core/flow), no Lua: packets/s
 * over a capture with reassembly on, conversations freed as they end
 * (as extract_flows with on_flow does) or kept to the end.
 * Usage: flow_bench CAPTURE [RUNS] [keep|stream|copy|noreasm]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flow/flow.h"
#include "io/io.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drain(sf_flows *t, uint64_t *nflows, uint64_t *nbytes) {
  sf_flow *f;
  while ((f = sf_flows_pop(t)) != NULL) {
    *nbytes += sf_flow_stream_len(f, 0) + sf_flow_stream_len(f, 1);
    (*nflows)++;
    sf_flow_free(t, f);
  }
}

/* One pass; returns seconds, or < 0 on error. */
static double run(const char *path, const char *mode, uint64_t *pk,
                  uint64_t *nflows, uint64_t *nbytes) {
  char err[600];
  sf_flow_config c;
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  sf_flows *t;
  sf_rec rec;
  int d, keep = strcmp(mode, "keep") == 0;
  double t0;
  if (!r) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  sf_flow_config_default(&c);
  c.reassemble = strcmp(mode, "noreasm") != 0;
  c.stable_input = sf_reader_map(r) != NULL && strcmp(mode, "copy") != 0;
  t = sf_flows_new(&c);
  *pk = *nflows = *nbytes = 0;
  t0 = now();
  while (sf_reader_next(r, &rec) == SF_IO_REC) {
    sf_flows_add(t, rec.data, rec.caplen, rec.wirelen, rec.linktype, rec.time_ns, &d);
    if (!keep) drain(t, nflows, nbytes);
    (*pk)++;
  }
  sf_flows_finish(t);
  sf_flows_sort_done(t);
  drain(t, nflows, nbytes);
  t0 = now() - t0;
  sf_flows_free(t);
  sf_reader_close(r);
  return t0;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int runs = argc > 2 ? atoi(argv[2]) : 5, i;
  const char *mode = argc > 3 ? argv[3] : "stream";
  double ts[64];
  uint64_t pk = 0, nf = 0, nb = 0;
  struct rusage ru;
  if (argc < 2 || runs < 1 || runs > 64) {
    fprintf(stderr, "usage: flow_bench CAPTURE [RUNS] [keep|stream|copy|noreasm]\n");
    return 2;
  }
  sf_init();
  for (i = 0; i < runs; i++)
    if ((ts[i] = run(argv[1], mode, &pk, &nf, &nb)) < 0) return 1;
  qsort(ts, (size_t)runs, sizeof ts[0], cmp);
  getrusage(RUSAGE_SELF, &ru);
  printf("flow_bench (C, %s): %llu packets, %llu conversations, %llu stream bytes; "
         "%.0f pkt/s median, %.0f best; peak RSS %ld MB\n", mode,
         (unsigned long long)pk, (unsigned long long)nf, (unsigned long long)nb,
         pk / ts[runs / 2], pk / ts[0], ru.ru_maxrss / 1024);
  return 0;
}
