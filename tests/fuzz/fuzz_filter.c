/*
 * fuzz_filter.c -- libFuzzer target for the display-filter engine: the
 * program loader (a program is untrusted bytes) and the runner over
 * hostile packets.
 *
 * Input: a byte n, then n bytes of program body (the target adds the
 * "SFDF" header), then a packet's bytes, dissected as Ethernet or, when
 * the first packet byte is odd, as raw IP.  A program that loads is run
 * on the packet, and formatted as tshark -T fields would print it when it
 * is a fields program; every value it reads must lie in the packet.
 * (The compiler, stdlib/stackforge/dfilter.lua, is fuzzed by
 * tests/lua/dfilter_spec.lua: random strings and random valid filters.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"
#include "sf.h"

static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t prog[5 + 255];
  char err[200], line[512];
  size_t n;
  sf_filter *f;
  sf_pkt p;
  if (!ready) {
    sf_init();
    ready = 1;
  }
  if (size < 1) return 0;
  n = data[0];
  if (n > size - 1) n = size - 1;
  memcpy(prog, "SFDF\1", 5);
  memcpy(prog + 5, data + 1, n);
  f = sf_filter_load(prog, 5 + n, err, sizeof err);
  if (!f) {
    if (!err[0]) abort();  /* a refusal says why */
    return 0;
  }
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, data + 1 + n, size - 1 - n) == SF_OK) {
    p.linktype = (size > 1 + n && (data[1 + n] & 1)) ? 101 : 1;
    p.frame = 1;
    sf_pkt_parse(&p);
    (void)sf_filter_run(f, &p);
    (void)sf_filter_format(f, &p, line, sizeof line);
    (void)sf_filter_run(f, &p);  /* scratch reused: same answer path */
    (void)sf_filter_protocols(&p, line, sizeof line);
  }
  sf_pkt_free(&p);
  sf_filter_free(f);
  return 0;
}
