/*
 * fuzz_flow.c -- libFuzzer target for core/flow: the input is a sequence
 * of packets, each [1 byte: link type and time step][2 bytes: length][bytes],
 * fed to a flow table with small caps, short timeouts and a tiny memory
 * budget, so reassembly, expiry and spilling all run, with streams both
 * copied and referring to the input (stable input).  Every stream is read
 * back at the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "flow/flow.h"

static void drain(sf_flows *t) {
  sf_flow *f;
  while ((f = sf_flows_pop(t)) != NULL) {
    int d;
    for (d = 0; d < 2; d++) {
      size_t n = sf_flow_stream_len(f, d);
      uint8_t *s = malloc(n + 1);
      if (s && sf_flow_stream_copy(t, f, d, s) == SF_OK && n) {
        volatile uint8_t sink = s[n - 1];  /* every byte was written */
        (void)sink;
      }
      free(s);
    }
    sf_flow_free(t, f);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  sf_flow_config c;
  sf_flows *t;
  int64_t now = 0;
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
  c.stable_input = (int)(size & 1);  /* the input outlives the table: refs */
  t = sf_flows_new(&c);
  if (!t) return 0;
  while (size >= 3) {
    uint8_t ctl = data[0];
    size_t n = (size_t)data[1] << 8 | data[2];
    int dir;
    data += 3;
    size -= 3;
    if (n > size) n = size;
    now += ctl >> 2;
    sf_flows_add(t, data, (uint32_t)n, (uint32_t)n, (ctl & 3) == 0 ? 1 : 228 + (ctl & 1), now, &dir);
    data += n;
    size -= n;
    if (ctl & 0x80) drain(t);  /* as a host with on_flow does */
  }
  sf_flows_finish(t);
  sf_flows_sort_done(t);
  drain(t);
  sf_flows_free(t);
  return 0;
}
