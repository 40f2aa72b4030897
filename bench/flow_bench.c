/*
 * flow_bench.c -- the flow engine alone (core/flow's driver, no Lua):
 * packets/s over a capture with reassembly on, conversations freed as they
 * end (as extract_flows with on_flow does) or kept to the end (as the list
 * extract_flows returns is).
 * Usage: flow_bench CAPTURE [RUNS] [keep|stream|copy|noreasm]
 *   copy: the capture read into memory first, so streams copy their bytes
 *   (as for pipes and gzip files) instead of referring to the mapping
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flow/flow.h"
#include "io/io.h"

typedef struct tally {
  sf_flow_run *run;
  uint64_t flows, bytes;
} tally;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void count(void *ud, sf_flow *f) {
  tally *y = (tally *)ud;
  sf_flows *t = sf_flow_run_table(y->run);
  y->bytes += sf_flow_stream_len(f, 0) + sf_flow_stream_len(f, 1);
  y->flows++;
  sf_flow_free(t, f);
}

/* The whole file in memory, for "copy". */
static uint8_t *slurp(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  uint8_t *d = NULL;
  long len;
  if (!fp) return NULL;
  if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) > 0 &&
      fseek(fp, 0, SEEK_SET) == 0 && (d = malloc((size_t)len)) &&
      fread(d, 1, (size_t)len, fp) == (size_t)len)
    *n = (size_t)len;
  else
    free(d), d = NULL;
  fclose(fp);
  return d;
}

/* One pass; returns seconds, or < 0 on error. */
static double run(const char *path, const char *mode, const uint8_t *mem,
                  size_t memlen, uint64_t *pk, tally *y) {
  char err[600];
  sf_flow_config c;
  sf_flow_hooks h;
  sf_flow_stats s;
  sf_reader *rd = NULL;
  double t0;
  int rc;
  sf_flow_config_default(&c);
  c.reassemble = strcmp(mode, "noreasm") != 0;
  memset(&h, 0, sizeof h);
  memset(y, 0, sizeof *y);
  h.ud = y;
  h.on_flow = count;
  h.hold = strcmp(mode, "keep") == 0;
  if (!(y->run = sf_flow_run_new(&c, &h))) return -1;
  t0 = now();
  if (mem) {
    if (!(rd = sf_reader_open_mem(mem, memlen, path, err, sizeof err))) {
      fprintf(stderr, "%s\n", err);
      return -1;
    }
    rc = sf_flow_run_reader(y->run, rd);
  } else {
    rc = sf_flow_run_file(y->run, path, NULL);
  }
  t0 = now() - t0;
  if (rc != SF_OK) fprintf(stderr, "%s\n", sf_flow_run_error(y->run));
  sf_flows_stats(sf_flow_run_table(y->run), &s);
  *pk = s.packets;
  sf_flow_run_free(y->run);
  if (rd) sf_reader_close(rd);
  return rc == SF_OK ? t0 : -1;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int runs = argc > 2 ? atoi(argv[2]) : 5, i;
  const char *mode = argc > 3 ? argv[3] : "stream";
  double ts[64];
  uint64_t pk = 0;
  uint8_t *mem = NULL;
  size_t memlen = 0;
  tally y;
  struct rusage ru;
  if (argc < 2 || runs < 1 || runs > 64) {
    fprintf(stderr, "usage: flow_bench CAPTURE [RUNS] [keep|stream|copy|noreasm]\n");
    return 2;
  }
  sf_init();
  if (strcmp(mode, "copy") == 0 && !(mem = slurp(argv[1], &memlen))) {
    fprintf(stderr, "flow_bench: cannot read %s\n", argv[1]);
    return 1;
  }
  for (i = 0; i < runs; i++)
    if ((ts[i] = run(argv[1], mode, mem, memlen, &pk, &y)) < 0) return 1;
  free(mem);
  qsort(ts, (size_t)runs, sizeof ts[0], cmp);
  getrusage(RUSAGE_SELF, &ru);
  printf("flow_bench (C, %s): %llu packets, %llu conversations, %llu stream bytes; "
         "%.0f pkt/s median, %.0f best; peak RSS %ld MB\n", mode,
         (unsigned long long)pk, (unsigned long long)y.flows, (unsigned long long)y.bytes,
         pk / ts[runs / 2], pk / ts[0], ru.ru_maxrss / 1024);
  return 0;
}
