/*
 * fuzz_flow.c -- libFuzzer target for core/flow through its driver: the
 * input is a sequence of packets, each [1 byte: link type and time
 * step][2 bytes: length][bytes], fed as the host's packets to a run with
 * small caps, short timeouts and a tiny memory budget, so reassembly, IP
 * defragmentation, expiry, eviction and spilling all run, with streams both copied and referring to
 * the input (stable input), conversations delivered as they end or held
 * to the end.  Every stream is read back, whole and in pieces, and its
 * gaps checked (in order, never overlapping).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

typedef struct src {
  const uint8_t *d;
  size_t n;
  int64_t now;
  sf_pkt p;
  sf_flow_run *run;
} src;

static int next(void *ud, sf_pkt **pp) {
  src *s = (src *)ud;
  uint8_t ctl;
  size_t n;
  if (s->n < 3) return 0;
  ctl = s->d[0];
  n = (size_t)s->d[1] << 8 | s->d[2];
  s->d += 3;
  s->n -= 3;
  if (n > s->n) n = s->n;
  s->now += ctl >> 2;
  sf_pkt_borrow(&s->p, s->d, n);
  s->p.linktype = (ctl & 3) == 0 ? 1 : 228 + (ctl & 1);
  s->p.time_ns = s->now;
  s->p.wirelen = (uint32_t)n;
  s->d += n;
  s->n -= n;
  *pp = &s->p;
  return 1;
}

/* Every stream read back whole and in 7-byte pieces (which must agree),
   every gap looked at. */
static void read_back(void *ud, sf_flow *f) {
  sf_flows *t = sf_flow_run_table(((src *)ud)->run);
  int d;
  for (d = 0; d < 2; d++) {
    size_t n = sf_flow_stream_len(f, d), k, ngaps;
    uint8_t *s = malloc(n + 1), piece[7];
    const sf_gap *g = sf_flow_gaps(f, d, &ngaps);
    if (s && sf_flow_stream_copy(t, f, d, s) == SF_OK)
      for (k = 0; k < n; k += sizeof piece) {
        long long got = sf_flow_stream_read(t, f, d, k, piece, sizeof piece);
        if (got <= 0 || memcmp(piece, s + k, (size_t)got) != 0) abort();
      }
    for (k = 0; k < ngaps; k++)
      if (!g[k].len || (k && g[k].off < g[k - 1].off + g[k - 1].len)) abort();
    free(s);
  }
  sf_flow_free(t, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  sf_flow_config c;
  sf_flow_hooks h = {0};
  src s = {0};
  if (!init) {
    sf_init();
    init = 1;
  }
  sf_flow_config_default(&c);
  c.max_ooo_fragments = 8;
  c.max_reassembly_buffer = 4096;
  c.memory_budget = 2048;
  c.udp_timeout_ns = 50;
  c.tcp_half_open_timeout_ns = 20;
  c.fragment_timeout_ns = 40;  /* datagrams given up too */
  c.reorder_window_ns = 30;
  h.ud = &s;
  h.on_flow = read_back;
  h.hold = (size & 2) != 0;
  h.log = NULL;
  s.d = data;
  s.n = size;
  sf_pkt_init(&s.p);
  if (!(s.run = sf_flow_run_new(&c, &h))) return 0;
  /* odd sizes: the input outlives the table, streams refer to it */
  sf_flow_run_source(s.run, next, &s, (int)(size & 1));
  sf_flow_run_free(s.run);
  sf_pkt_free(&s.p);
  return 0;
}
