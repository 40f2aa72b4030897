/*
 * tins_anchor.cpp -- the libtins anchor for dissect_bench.c: the same
 * packets, each parsed with Tins::EthernetII(data, len), then every inner
 * PDU visited (type and header size summed).  Usage and output as
 * dissect_bench.c: "RESULT c_dissect_libtins <pkts/s>".
 */
#include <tins/tins.h>

#include <cstdio>
#include <cstdlib>

#include "mixfile.h"

static uint64_t pass(const mix &m, uint64_t *layers, uint64_t *bad) {
  uint64_t sum = 0;
  for (size_t i = 0; i < m.npkts; i++) {
    /* both loops prefetch the packet after next: the mix is larger than
       the caches, and without it both mostly measure memory latency */
    if (i + 2 < m.npkts) __builtin_prefetch(m.data + m.off[i + 2]);
    try {
      Tins::EthernetII pdu(m.data + m.off[i], (uint32_t)m.len[i]);
      for (Tins::PDU *l = &pdu; l; l = l->inner_pdu()) {
        sum += (uint64_t)l->pdu_type() + l->header_size();
        ++*layers;
      }
    } catch (const Tins::malformed_packet &) {
      ++*bad;
    }
  }
  return sum;
}

int main(int argc, char **argv) {
  mix m;
  double secs = argc > 2 ? atof(argv[2]) : 1.5, t0, el;
  uint64_t sum = 0, layers = 0, bad = 0, npkts = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s MIXFILE [SECONDS]\n", argv[0]);
    return 2;
  }
  if (mix_load(&m, argv[1]) != 0) return 1;
  sum += pass(m, &layers, &bad);  /* warm-up */
  layers = bad = 0;
  t0 = mono_now();
  do {
    sum += pass(m, &layers, &bad);
    npkts += m.npkts;
    el = mono_now() - t0;
  } while (el < secs);
  fprintf(stderr, "libtins: %zu packets x %llu passes, %.2f layers/pkt, "
          "%llu malformed, %.3f s, checksum %llu\n", m.npkts,
          (unsigned long long)(npkts / m.npkts), (double)layers / (double)npkts,
          (unsigned long long)bad, el, (unsigned long long)sum);
  printf("RESULT c_dissect_libtins %.0f\n", (double)npkts / el);
  return 0;
}
