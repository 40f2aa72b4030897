/*
 * ssh_bench.c -- hassh in C: every frame of the KEXINIT capture
 * bench/gen_ssh.lua writes (its record file, in memory), then per frame
 * sf_pkt_borrow + sf_dissect from Ethernet + the SSHKexInit layer's hassh
 * (the MD5 of kex;enc;mac;comp through OpenSSL, as a computed value).
 * Usage: ssh_bench MIXFILE [SECONDS]
 * Prints "RESULT c_hassh <msgs/s>" (wall clock) and "CPU c_hassh <msgs/s>"
 * (per second of this thread's CPU time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mixfile.h"
#include "sf.h"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The first character of the frame's hassh, or 0 without a KEXINIT. */
static int hassh_of(const sf_pkt *p, int kexinit, const sf_prop *hassh) {
  char out[40];
  int li;
  for (li = 0; li < p->nlayers; li++)
    if (p->layers[li].proto == kexinit)
      return hassh->text(p, li, out, sizeof out) == 32 ? out[0] : 0;
  return 0;
}

static uint64_t pass(sf_pkt *p, const mix *m, int ether, int kexinit, const sf_prop *hassh) {
  uint64_t sum = 0;
  size_t i;
  for (i = 0; i < m->npkts; i++) {
    sf_pkt_borrow(p, m->data + m->off[i], m->len[i]);
    sf_dissect(p, ether);
    sum += (uint64_t)hassh_of(p, kexinit, hassh);
  }
  return sum;
}

int main(int argc, char **argv) {
  mix m;
  sf_pkt p;
  const sf_prop *hassh;
  double secs = argc > 2 ? atof(argv[2]) : 1.5, t0, c0, el, cpu;
  uint64_t sum, n = 0;
  int ether, kexinit;
  if (argc < 2) return fprintf(stderr, "usage: %s MIXFILE [SECONDS]\n", argv[0]), 2;
  sf_init();
  if (mix_load(&m, argv[1])) return 1;
  ether = sf_linktype_proto(1, NULL, 0);
  kexinit = sf_proto_find("SSHKexInit");
  hassh = kexinit >= 0 ? sf_prop_find(sf_proto_get(kexinit), "hassh") : NULL;
  if (!hassh) return fprintf(stderr, "no SSH in this build\n"), 1;
  sf_pkt_init(&p);
  sum = pass(&p, &m, ether, kexinit, hassh);  /* warm-up */
  if (sum == 0) return fprintf(stderr, "no hassh in %s\n", argv[1]), 1;
  t0 = mono_now();
  c0 = cpu_now();
  do {
    sum += pass(&p, &m, ether, kexinit, hassh);
    n += m.npkts;
    el = mono_now() - t0;
  } while (el < secs);
  cpu = cpu_now() - c0;
  sf_pkt_free(&p);
  fprintf(stderr, "c: %zu KEXINITs x %llu passes, %.3f s, checksum %llu\n", m.npkts,
          (unsigned long long)(n / m.npkts), el, (unsigned long long)sum);
  printf("RESULT c_hassh %.0f\n", (double)n / el);
  printf("CPU c_hassh %.0f\n", (double)n / cpu);
  return 0;
}
