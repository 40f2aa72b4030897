/*
 * wireless_bench.c -- sfcore: dissect 802.11 frames (radiotap, management
 * bodies, every information element) of a capture held in memory.
 * Usage: sf_wireless_bench CAPTURE [SECONDS]
 *
 * As dissect_bench.c: one sf_pkt borrows each record's bytes, sf_dissect()
 * builds the layer index from the capture's link type, and every layer's
 * protocol, offset and header length go into a checksum.  Passes repeat
 * until SECONDS (default 1.5) have passed; prints "RESULT c_dissect_dot11
 * <frames/s>" and the layers (elements) per frame.
 */
#include <stdio.h>
#include <stdlib.h>

#include "capframes.h"
#include "sf.h"

static uint64_t pass(sf_pkt *p, const frames *f, int first, uint64_t *layers) {
  uint64_t sum = 0;
  size_t i;
  int li;
  for (i = 0; i < f->n; i++) {
    sf_pkt_borrow(p, f->data + f->off[i], f->len[i]);
    sf_dissect(p, first);
    for (li = 0; li < p->nlayers; li++) {
      const sf_layer *l = &p->layers[li];
      sum += l->proto + l->off + l->hlen;
    }
    *layers += p->nlayers;
  }
  return sum;
}

int main(int argc, char **argv) {
  frames f;
  sf_pkt p;
  double secs = argc > 2 ? atof(argv[2]) : 1.5, t0, el;
  uint64_t sum = 0, layers = 0, n = 0;
  int first;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CAPTURE [SECONDS]\n", argv[0]);
    return 2;
  }
  sf_init();
  if (frames_load(&f, argv[1])) return 1;
  first = sf_linktype_proto(f.linktype, NULL, 0);
  sf_pkt_init(&p);
  sum += pass(&p, &f, first, &layers);  /* warm-up */
  layers = 0;
  t0 = mono_now();
  do {
    sum += pass(&p, &f, first, &layers);
    n += f.n;
    el = mono_now() - t0;
  } while (el < secs);
  sf_pkt_free(&p);
  fprintf(stderr, "sfcore: %zu frames x %llu passes, %.2f layers/frame, %.3f s, checksum %llu\n",
          f.n, (unsigned long long)(n / f.n), (double)layers / (double)n, el,
          (unsigned long long)sum);
  printf("RESULT c_dissect_dot11 %.0f\n", (double)n / el);
  return 0;
}
