/*
 * fuzz_tls.c -- libFuzzer target for TLS: records, messages and
 * extensions parsed from hostile bytes, every field and every computed
 * value (JA3, JA3S, JA4, certificates' names through OpenSSL) read, then a
 * copy changed and rebuilt (lengths of records, hellos and extensions
 * filled in) and parsed again.
 *
 * Input: one selector byte -- what the bytes start with: a record (the
 * stream chunk flows hand over), a bare ClientHello (QUIC's CRYPTO data),
 * or an Ethernet frame (port 443 or the record heuristic) -- then the
 * bytes.  The seeds in corpus/tls-* are RFC 8448's records and Scapy's
 * captures; the dissector target reaches TLS through TCP as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static volatile uint8_t sink;
static const char *const starts[] = {"TLS", "TLSClientHello", "Ether"};

static void read_layer(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_prop *pp;
  char text[96];
  int fi;
  if (p->layers[li].off + p->layers[li].hlen > p->len || p->layers[li].end > p->len)
    abort();  /* the index stays inside the bytes */
  for (fi = 0; fi < pr->nfields; fi++) {
    sf_val v;
    size_t i;
    if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
    for (i = 0; i < v.n; i++) sink ^= v.p[i];
    sink ^= (uint8_t)v.u;
  }
  for (pp = pr->props; pp && pp->name; pp++) {  /* a short buffer: cut text */
    int n = pp->text(p, li, text, sizeof text);
    if (n >= 0 && strlen(text) != ((size_t)n < sizeof text ? (size_t)n : sizeof text - 1))
      abort();
  }
}

static void read_all(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) read_layer(p, li);
}

/* The first BYTES field present in a TLS layer gets the input's last
   bytes; the first UINT field not automatic is flipped. */
static void change(sf_pkt *q, const uint8_t *data, size_t size) {
  int li, fi, done_bytes = 0, done_uint = 0;
  for (li = 0; li < q->nlayers && !(done_bytes && done_uint); li++) {
    const sf_proto *pr = sf_proto_get(q->layers[li].proto);
    if (strncmp(pr->name, "TLS", 3) != 0) continue;
    for (fi = 0; fi < pr->nfields; fi++) {
      const sf_field *f = &pr->fields[fi];
      sf_val v;
      if (sf_field_get(q, li, fi, &v) != SF_OK) continue;
      if (f->type == SF_T_BYTES && !done_bytes && !f->codec && !f->bits) {
        v.p = data + size / 2;
        v.n = size - size / 2;
        done_bytes = sf_field_set(q, li, fi, &v) == SF_OK;
        break;  /* the layer is laid out anew: look at the next */
      }
      if (f->type == SF_T_UINT && !done_uint && !(f->flags & SF_FF_AUTO)) {
        v.u ^= 1;
        if (v.u > sf_field_max(f)) v.u = 0;
        done_uint = sf_field_set(q, li, fi, &v) == SF_OK;
        break;
      }
    }
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sf_pkt p, q, r;
  int first;
  if (size < 1) return 0;
  first = sf_proto_find(starts[data[0] % 3]);
  data++;
  size--;
  if (first < 0) abort();
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, data, size) != SF_OK) return 0;
  sf_dissect(&p, first);
  read_all(&p);

  sf_pkt_init(&q);
  if (sf_pkt_copy(&q, &p) == SF_OK) {
    change(&q, data, size);
    q.flags |= SF_P_DIRTY;
    if (sf_finalize(&q) == SF_OK) {
      read_all(&q);
      sf_pkt_init(&r);  /* what the rebuild wrote parses again */
      if (sf_pkt_copy(&r, &q) == SF_OK) {
        sf_dissect(&r, first);
        read_all(&r);
      }
      sf_pkt_free(&r);
    }
    if (q.data == data && q.len) abort();  /* the input is never written */
  }
  sf_pkt_free(&q);
  sf_pkt_free(&p);
  return 0;
}
