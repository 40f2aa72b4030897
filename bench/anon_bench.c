/*
 * anon_bench.c -- anonymization speeds (issue 6):
 *   anon_bench [capture.pcap]
 * cpan_v4_repeated: Crypto-PAn over a realistic stream, 1,000,000 lookups
 *   of 2,000 distinct addresses with Zipf-like popularity (goal >= 5M/s);
 * cpan_v4_distinct / cpan_v6_distinct: every address new (goal >= 500k/s);
 * anonymize_pcap: sf_anon_pcap with the default policy over the capture,
 *   written to /tmp (goal >= 1M packets/s).
 * Prints "name rate" lines (per second), best of 3 runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "anon/anon.h"
#include "anon/cryptopan.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252u;
static uint32_t xr(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

static const uint8_t key[32] = "benchmark key for crypto-pan!!!";

static double run_v4(const uint32_t *addrs, size_t n) {
  sf_cpan *c = sf_cpan_new(key);
  volatile uint32_t sink = 0;
  double t = now();
  size_t i;
  for (i = 0; i < n; i++) sink ^= sf_cpan_anon_u32(c, addrs[i]);
  t = now() - t;
  sf_cpan_free(c);
  (void)sink;
  return n / t;
}

static double run_v6(size_t n) {
  sf_cpan *c = sf_cpan_new(key);
  uint8_t a[16], o[16];
  double t;
  size_t i, j;
  for (j = 0; j < 16; j++) a[j] = (uint8_t)xr();
  t = now();
  for (i = 0; i < n; i++) {
    a[15] = (uint8_t)i;  /* new every time: the low bits change... */
    a[12] = (uint8_t)(i >> 8);
    a[4] = (uint8_t)(i >> 16);  /* ...and the /64 every 65536 */
    sf_cpan_anon6(c, a, o);
  }
  t = now() - t;
  sf_cpan_free(c);
  return n / t;
}

static double best(double a, double b) { return a > b ? a : b; }

int main(int argc, char **argv) {
  enum { N = 1000000, POOL = 2000 };
  uint32_t *rep = malloc(N * sizeof *rep), *dis = malloc(N * sizeof *dis), pool[POOL];
  double r1 = 0, r2 = 0, r3 = 0, r4 = 0;
  int i, k;
  for (i = 0; i < POOL; i++) pool[i] = xr();
  for (i = 0; i < N; i++) {
    uint32_t u = xr() % (POOL * POOL);  /* skewed: low indices far more common */
    rep[i] = pool[(uint32_t)((double)POOL * ((double)u / (POOL * POOL)) * ((double)u / (POOL * POOL)))];
    dis[i] = xr();
  }
  for (k = 0; k < 3; k++) {
    r1 = best(r1, run_v4(rep, N));
    r2 = best(r2, run_v4(dis, N));
    r3 = best(r3, run_v6(N / 4));
  }
  printf("RESULT cpan_v4_repeated %.0f\nRESULT cpan_v4_distinct %.0f\n"
         "RESULT cpan_v6_distinct %.0f\n", r1, r2, r3);
  if (argc > 1) {
    sf_anon_policy p;
    char err[600], out[64];
    snprintf(out, sizeof out, "/tmp/anon_bench_%d.pcap", (int)getpid());
    sf_anon_policy_init(&p);
    for (k = 0; k < 3; k++) {
      sf_anon_stats st = {0};
      double t = now();
      if (sf_anon_pcap(argv[1], out, &p, NULL, &st, err, sizeof err) != SF_OK) {
        fprintf(stderr, "anon_bench: %s\n", err);
        return 1;
      }
      r4 = best(r4, st.packets / (now() - t));
    }
    unlink(out);
    printf("RESULT anonymize_pcap %.0f\n", r4);
  }
  free(rep);
  free(dis);
  return 0;
}
