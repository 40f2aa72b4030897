/*
 * dissect_bench.c -- sfcore: dissect every layer of every packet of the mix.
 * Usage: sf_dissect_bench MIXFILE [SECONDS]
 *
 * One sf_pkt is reused: sf_pkt_borrow() points it at the packet's bytes
 * (no copy), sf_dissect() builds the layer index, and the loop reads every
 * layer's protocol, offset and header length into a checksum the compiler
 * cannot drop.  Passes over the mix repeat until SECONDS (default 1.5) of
 * CLOCK_MONOTONIC time have passed; prints "RESULT c_dissect_sfcore <pkts/s>".
 */
#include <stdio.h>
#include <stdlib.h>

#include "mixfile.h"
#include "sf.h"

static uint64_t pass(sf_pkt *p, const mix *m, uint64_t *layers) {
  uint64_t sum = 0;
  size_t i;
  int li, ether = sf_linktype_proto(1, NULL, 0);
  for (i = 0; i < m->npkts; i++) {
    /* as the libtins loop: prefetch the packet after next */
    if (i + 2 < m->npkts) __builtin_prefetch(m->data + m->off[i + 2]);
    sf_pkt_borrow(p, m->data + m->off[i], m->len[i]);
    sf_dissect(p, ether);
    for (li = 0; li < p->nlayers; li++) {
      const sf_layer *l = &p->layers[li];
      sum += l->proto + l->off + l->hlen;
    }
    *layers += p->nlayers;
  }
  return sum;
}

int main(int argc, char **argv) {
  mix m;
  sf_pkt p;
  double secs = argc > 2 ? atof(argv[2]) : 1.5, t0, el;
  uint64_t sum = 0, layers = 0, npkts = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s MIXFILE [SECONDS]\n", argv[0]);
    return 2;
  }
  if (mix_load(&m, argv[1]) != 0) return 1;
  sf_init();
  sf_pkt_init(&p);
  sum += pass(&p, &m, &layers);  /* warm-up: caches, page faults */
  layers = 0;
  t0 = mono_now();
  do {
    sum += pass(&p, &m, &layers);
    npkts += m.npkts;
    el = mono_now() - t0;
  } while (el < secs);
  sf_pkt_free(&p);
  fprintf(stderr, "sfcore: %zu packets x %llu passes, %.2f layers/pkt, "
          "%.3f s, checksum %llu\n", m.npkts,
          (unsigned long long)(npkts / m.npkts), (double)layers / (double)npkts,
          el, (unsigned long long)sum);
  printf("RESULT c_dissect_sfcore %.0f\n", (double)npkts / el);
  return 0;
}
