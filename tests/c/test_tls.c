/*
 * test_tls.c -- TLS from C, as the benchmark and flows use it: RFC 8448's
 * ClientHello parsed from a frame and from its record alone, its server
 * name read as one field, its JA3 computed (tshark's value), every cut of
 * it parsed without reading past the bytes, a built hello's lengths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

#include "check.h"

/* RFC 8448 section 3's ClientHello record (tests/data/tls_vectors.lua) */
static const char ch_hex[] =
  "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d99"
  "12ec18a2ef6283024dece7000006130113031302010000910000000b00090000"
  "06736572766572ff01000100000a00140012001d001700180019010001010102"
  "0103010400230000003300260024001d002099381de560e4bd43d23d8e435a7d"
  "bafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e04"
  "0305030603020308040805080604010501060102010402050206020202002d00"
  "020101001c00024001";

static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  for (; s[0] && s[1]; s += 2) {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = (uint8_t)v;
  }
  return n;
}

static int layer_of(const sf_pkt *p, const char *name) {
  int id = sf_proto_find(name), li;
  for (li = 0; li < p->nlayers; li++)
    if (p->layers[li].proto == id) return li;
  return -1;
}

static int field(const sf_pkt *p, int li, const char *name, sf_val *v) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  return sf_field_get(p, li, sf_field_find(pr, name), v);
}

static void test_sni_and_ja3(void) {
  uint8_t frame[512], *rec = frame + 54;
  size_t n = unhex(ch_hex, rec);
  sf_pkt p;
  sf_val v;
  char text[256];
  int li;
  /* Ethernet / IPv4 / TCP to port 4433 (the record heuristic), then the record */
  static const uint8_t head[54] = {
    2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0,
    0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    0x9c, 0x40, 0x11, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x20, 0, 0, 0, 0, 0};
  memcpy(frame, head, sizeof head);
  frame[16] = (uint8_t)((20 + 20 + n) >> 8);
  frame[17] = (uint8_t)(20 + 20 + n);
  sf_pkt_init(&p);
  CHECK_EQ(sf_pkt_borrow(&p, frame, 54 + n), SF_OK);
  sf_dissect(&p, sf_linktype_proto(1, frame, 54 + n));
  CHECK_EQ(p.flags & SF_P_TRUNC, 0);
  CHECK((li = layer_of(&p, "TLS_Ext_ServerName")) > 0);
  CHECK_EQ(field(&p, li, "servername", &v), SF_OK);
  CHECK(v.n == 6 && memcmp(v.p, "server", 6) == 0);
  CHECK((li = layer_of(&p, "TLSClientHello")) > 0);
  CHECK_EQ(sf_prop_find(sf_proto_get(p.layers[li].proto), "ja3_hash")->text(&p, li, text, sizeof text), 32);
  CHECK(strcmp(text, "da4dea34fe6d4ce5f0725df3f2682fa0") == 0);
  /* a buffer too short: cut, NUL-ended, the full length told */
  CHECK_EQ(sf_prop_find(sf_proto_get(p.layers[li].proto), "ja3_hash")->text(&p, li, text, 5), 32);
  CHECK(strcmp(text, "da4d") == 0);

  /* the record alone, as a flow's stream hands it over */
  CHECK_EQ(sf_pkt_borrow(&p, rec, n), SF_OK);
  sf_dissect(&p, sf_proto_find("TLS"));
  CHECK_EQ(p.nlayers, 11);
  CHECK_EQ(field(&p, layer_of(&p, "TLS_Ext_RecordSizeLimit"), "record_size_limit", &v), SF_OK);
  CHECK_EQ(v.u, 0x4001);
  sf_pkt_free(&p);
}

/* Every cut parses, its layers inside the bytes, what fits kept. */
static void test_cuts(void) {
  uint8_t rec[256];
  size_t n = unhex(ch_hex, rec), k;
  int tls = sf_proto_find("TLS"), li;
  for (k = 0; k <= n; k++) {
    uint8_t *copy = malloc(k ? k : 1);  /* exactly k bytes: ASan sees past them */
    sf_pkt p;
    memcpy(copy, rec, k);
    sf_pkt_init(&p);
    sf_pkt_borrow(&p, copy, k);
    sf_dissect(&p, tls);
    for (li = 0; li < p.nlayers; li++)
      CHECK(p.layers[li].off + p.layers[li].hlen <= k && p.layers[li].end <= k);
    if (k > 100) CHECK(layer_of(&p, "TLS_Ext_ServerName") > 0);
    /* cut inside a header: truncated; cut between two layers (a record
       goes on in the next segment): the layers that are there, whole */
    if (k > 0 && k < n && !(p.flags & SF_P_TRUNC))
      CHECK_EQ(p.layers[p.nlayers - 1].off + p.layers[p.nlayers - 1].hlen, k);
    if (p.flags & SF_P_TRUNC) CHECK_EQ(p.layers[p.nlayers - 1].proto, SF_RAW);
    sf_pkt_free(&p);
    free(copy);
  }
}

int main(void) {
  sf_init();
  test_sni_and_ja3();
  test_cuts();
  return check_report("test_tls");
}
