/*
 * udp.c -- UDP (RFC 768).
 */
#include "common.h"

enum { F_SPORT, F_DPORT, F_LEN, F_CHKSUM };

static const sf_field udp_fields[] = {
  UINTF("sport", 0, 16, 53, 0, NULL, 0),
  UINTF("dport", 16, 16, 53, 0, NULL, 0),
  UINTF("len", 32, 16, 8, SF_FF_AUTO, NULL, 0),
  UINTF("chksum", 48, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, 0),
};

static size_t udp_hdr_len(const uint8_t *h, size_t n) {
  (void)h;
  return n >= 8 ? 8 : 0;
}

/* A length of 0 is a jumbogram's (RFC 2675): take it all. */
static size_t udp_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t len = rd16(h + 4);
  (void)hlen;
  (void)n;
  return len ? len : (size_t)-1;
}

/* A computed checksum of 0 is sent as 0xffff: 0 means "none". */
static void udp_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_LEN, l->end - l->off);
}

static void udp_checksum(sf_pkt *p, int li) {
  int ok;
  uint16_t ck;
  if (!clear_checksum(p, li, F_CHKSUM)) return;
  ck = sf_l4_checksum(p, li, 17, &ok);
  if (ok) put_checksum(p, li, F_CHKSUM, ck ? ck : 0xffff);
}

static sf_proto udp = {
  .name = "UDP", .display = "UDP", .kind = "Udp",
  .fields = udp_fields, .nfields = NFIELDS(udp_fields), .minlen = 8,
  .next_field = -1, .hdr_len = udp_hdr_len, .extent = udp_extent,
  .fixup = udp_fixup, .checksum = udp_checksum,
};

void sf_register_udp(void) { sf_register(&udp); }
