/*
 * fuzz_dns.c -- libFuzzer target for DNS (core/proto/dns.c).
 *
 * Input: a selector byte (bit 0: the message is carried by TCP, with its
 * length first; else it stands alone), then a DNS message.  Every record
 * is read, each name through the dns_name codec (compression pointers
 * followed into the hostile message), the message's parts are listed,
 * then a copy is compressed (dns_compress) and one name of another length
 * is set, which lays records out again and refills rdlen, the counts and
 * the TCP length.  The layer index must stay inside the bytes throughout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static volatile uint8_t sink;

static void check_index(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    if (l->off > p->len || l->end > p->len || l->off + l->hlen > p->len) abort();
  }
}

/* Every present field; names and other coded fields as text. */
static void read_all(const sf_pkt *p) {
  int li, fi, k, first;
  char text[2048];
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++) {
      const sf_codec *c = sf_codec_find(pr->fields[fi].codec);
      sf_val v;
      size_t i;
      if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
      for (i = 0; i < v.n; i++) sink ^= v.p[i];
      if (c && c->to_text && c->to_text(p, li, fi, v.p, v.n, text, sizeof text) >= 0)
        sink ^= (uint8_t)strlen(text);
    }
    for (k = 0; pr->parts && pr->parts[k].name; k++) {
      int n = sf_part_layers(p, li, k, &first);
      if (n < 0 || (n && (first <= li || first + n > p->nlayers))) abort();
    }
  }
}

static int proto(const char *name) { return sf_proto_find(name); }

/* A name field of the first record that has one. */
static void rename_first(sf_pkt *p) {
  static const uint8_t longer[] = "\7example\3org\0";
  sf_val v = {0, longer, sizeof longer - 1};
  int li, fi;
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++)
      if (pr->fields[fi].codec && strcmp(pr->fields[fi].codec, "dns_name") == 0 &&
          sf_field_present(p, li, fi)) {
        sf_field_set(p, li, fi, &v);
        return;
      }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t buf[70000];
  sf_pkt p, q;
  size_t n;
  int li;
  if (size < 1 || size > 65535) return 0;
  sf_init();
  n = size - 1;
  memset(buf, 0, 40);
  if (data[0] & 1) {  /* IPv4 (version 4, IHL 5) / TCP (offset 5) / length / message */
    buf[0] = 0x45;
    buf[9] = 6;
    buf[20 + 3] = 53;
    buf[20 + 12] = 0x50;
    buf[40] = (uint8_t)(n >> 8);
    buf[41] = (uint8_t)n;
    memcpy(buf + 42, data + 1, n);
    n += 42;
  } else {
    memcpy(buf, data + 1, n);
  }
  sf_pkt_init(&p);
  sf_pkt_borrow(&p, buf, n);
  if (data[0] & 1) p.linktype = 101;
  else p.first = proto("DNS") + 1;
  sf_pkt_parse(&p);
  check_index(&p);
  read_all(&p);
  sf_pkt_init(&q);
  if (sf_pkt_copy(&q, &p) == SF_OK) {
    for (li = 0; li < q.nlayers; li++) {
      const sf_proto *pr = sf_proto_get(q.layers[li].proto);
      if (pr->methods && pr->methods[0].fn) {
        pr->methods[0].fn(&q, li);  /* compress */
        check_index(&q);
        break;
      }
    }
    rename_first(&q);
    sf_finalize(&q);
    check_index(&q);
    read_all(&q);
  }
  sf_pkt_free(&q);
  sf_pkt_free(&p);
  return 0;
}
