/*
 * fuzz_iot.c -- libFuzzer target for MQTT, MQTT-SN and Modbus/TCP (the
 * protocol files in core/proto): hostile bytes parsed from each message
 * protocol and over TCP/UDP, every field of every layer read, and a layer
 * of each of their classes built, its fields set from the input, and
 * finalized (lengths, message ids, property blocks, counts).
 *
 * Input: a selector byte, then the bytes.  Selector % 4: 0 MQTT, 1 MQTT-SN,
 * 2 Modbus, 3 all three one after another as one packet's payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static volatile uint8_t sink;  /* so ASan sees every byte read */

static void read_all(const sf_pkt *p) {
  int li, fi;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    const sf_proto *pr = sf_proto_get(l->proto);
    if (!pr || l->off > p->len || l->end > p->len || l->off + l->hlen > l->end) abort();
    for (fi = 0; fi < pr->nfields; fi++) {
      size_t off, bits, i;
      sf_val v;
      if (!sf_field_span(p, li, fi, &off, &bits)) continue;
      if (off + bits > (size_t)l->hlen * 8) abort();
      if (sf_field_get(p, li, fi, &v) != SF_OK) continue;  /* a base-128 integer cut short */
      for (i = 0; i < v.n; i++) sink ^= v.p[i];
      sink ^= (uint8_t)v.u;
    }
  }
}

static void parse_as(const char *name, const uint8_t *d, size_t n) {
  sf_pkt p;
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, d, n) == SF_OK) {
    p.first = sf_proto_find(name) + 1;
    sf_pkt_parse(&p);
    read_all(&p);
  }
  sf_pkt_free(&p);
}

/* A built message: the class after its header (or alone), every field
   set from the input, then finalized and parsed again. */
static void build(int header, int cls, const uint8_t *d, size_t n) {
  const sf_proto *pr = sf_proto_get(cls);
  sf_pkt a, b, c;
  size_t at = 0;
  int fi;
  sf_pkt_init(&a);
  sf_pkt_init(&b);
  sf_pkt_init(&c);
  if (sf_pkt_new_layer(&a, header) != SF_OK || sf_pkt_new_layer(&b, cls) != SF_OK ||
      sf_pkt_concat(&c, &a, &b) != SF_OK)
    goto out;
  for (fi = 0; fi < pr->nfields && at < n; fi++) {
    sf_val v = {0, NULL, 0};
    size_t len = d[at] % 9;
    if (pr->fields[fi].type == SF_T_BYTES) {
      v.p = d + at + 1;
      v.n = len < n - at - 1 ? len : n - at - 1;
    } else {
      v.u = d[at] & sf_field_max(&pr->fields[fi]);
    }
    at += 1 + v.n;
    (void)sf_field_set(&c, 1, sf_field_resolve(&c, 1, fi) >= 0 ? sf_field_resolve(&c, 1, fi) : fi, &v);
  }
  if (sf_finalize(&c) == SF_OK) {
    read_all(&c);
    parse_as(sf_proto_get(header)->name, c.data, c.len);
  }
out:
  sf_pkt_free(&a);
  sf_pkt_free(&b);
  sf_pkt_free(&c);
}

/* every class that follows a header through its table */
static void build_classes(const char *header, const char *table, const uint8_t *d, size_t n) {
  int tab = sf_table_find(table), h = sf_proto_find(header), upper;
  size_t cursor = 0;
  uint64_t value;
  if (tab < 0 || h < 0) abort();
  while (sf_table_next(tab, &cursor, &value, &upper)) build(h, upper, d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const first[] = {"MQTT", "MQTTSN", "Modbus"};
  static const char *const tables[] = {"mqtt.type", "mqttsn.type", "modbus.func"};
  unsigned sel;
  if (size < 1) return 0;
  sf_init();
  sel = data[0] % 4;
  data++;
  size--;
  if (sel < 3) {
    parse_as(first[sel], data, size);
    if (size < 64) build_classes(first[sel], tables[sel], data, size);
  } else {
    parse_as("MQTT", data, size);
    parse_as("MQTTSN", data, size);
    parse_as("Modbus", data, size);
  }
  return 0;
}
