/*
 * fuzz_dhcp.c -- libFuzzer target for BOOTP and DHCP (core/proto/dhcp.c).
 *
 * Input: one selector byte, then bytes.  Even selectors dissect the bytes
 * from BOOTP (as UDP 67/68 would hand them over) and read every field and
 * the text of chaddr, sname and file; odd ones build UDP / BOOTP / DHCP
 * with the bytes as DHCP's option list, finalize it (the cookie and the
 * lengths), and dissect the result: the option list must come back as
 * given up to where it ends (its "end" option or an option cut short), the
 * layer index must stay inside the bytes, and nothing may read past them.
 * Both feed the bytes to the codecs' from_text as a user's text would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static volatile uint8_t sink;
static int bootp, dhcp, udp;

static void check_index(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    if (l->off > p->len || l->end > p->len || l->off + l->hlen > p->len) abort();
  }
}

/* every field of every layer, and the text the codecs make of it */
static void read_all(const sf_pkt *p) {
  int li, fi;
  char text[1024];
  check_index(p);
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++) {
      const sf_codec *c = sf_codec_find(pr->fields[fi].codec);
      sf_val v;
      size_t i;
      if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
      for (i = 0; i < v.n; i++) sink ^= v.p[i];
      if (c && c->to_text) {
        int n = c->to_text(p, li, fi, v.p, v.n, text, sizeof text);
        if (n >= (int)sizeof text || (n >= 0 && text[n] != '\0')) abort();
      }
    }
  }
}

static void from_text(const char *codec, const uint8_t *d, size_t n) {
  const sf_codec *c = sf_codec_find(codec);
  uint8_t out[128];
  int len;
  if (!c) abort();
  len = c->from_text((const char *)d, n, out, sizeof out);
  if (len > (int)sizeof out) abort();
}

static void dissect(const uint8_t *d, size_t n) {
  sf_pkt p;
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, d, n) != SF_OK) return;
  sf_dissect(&p, bootp);
  read_all(&p);
  sf_pkt_free(&p);
}

/* UDP / BOOTP / DHCP{options = d}, built and dissected again */
static void build(const uint8_t *d, size_t n) {
  sf_pkt a, b, c, q;
  sf_val v = {0, d, n};
  int li;
  sf_pkt_init(&a);
  sf_pkt_init(&b);
  sf_pkt_init(&c);
  sf_pkt_init(&q);
  if (sf_pkt_new_layer(&a, udp) == SF_OK && sf_pkt_new_layer(&b, bootp) == SF_OK &&
      sf_pkt_concat(&c, &a, &b) == SF_OK && sf_pkt_new_layer(&b, dhcp) == SF_OK &&
      sf_field_set(&b, 0, 0, &v) == SF_OK && sf_pkt_concat(&q, &c, &b) == SF_OK &&
      sf_finalize(&q) == SF_OK) {
    read_all(&q);
    if (q.len != 8 + 236 + 4 + n) abort();  /* the cookie went in */
    if (sf_pkt_borrow(&a, q.data, q.len) == SF_OK) {
      sf_dissect(&a, udp);
      read_all(&a);
      for (li = 0; li < a.nlayers; li++)  /* what parsed is what was given */
        if (a.layers[li].proto == dhcp &&
            (a.layers[li].off != 8 + 240 || a.layers[li].hlen > n ||
             memcmp(a.data + a.layers[li].off, d, a.layers[li].hlen) != 0))
          abort();
    }
  }
  sf_pkt_free(&a);
  sf_pkt_free(&b);
  sf_pkt_free(&c);
  sf_pkt_free(&q);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  bootp = sf_proto_find("BOOTP");
  dhcp = sf_proto_find("DHCP");
  udp = sf_proto_find("UDP");
  if (bootp < 0 || dhcp < 0 || udp < 0) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1) build(data + 1, size - 1);
  else dissect(data + 1, size - 1);
  from_text("chaddr", data + 1, size - 1);
  from_text("nul_padded", data + 1, size - 1);
  return 0;
}
