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

static size_t udp_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
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

static void udp_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_LEN, l->end - l->off);
}

static const sf_place udp_places[] = {{"ip.proto", 17, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_alias udp_aliases[] = {{"checksum", "chksum"}, {NULL, NULL}};

/* A computed checksum of 0 is sent as 0xffff: 0 means "none". */
static const sf_facts udp_facts = {
  .role = SF_ROLE_TRANSPORT, .src = "sport", .dst = "dport",
  .cksum = "chksum", .cksum_cover = SF_CK_PSEUDO, .cksum_proto = 17,
  .cksum_nonzero = 1,
};

static const sf_wsfield udp_ws[] = {
  WS("udp.srcport", "sport"), WS("udp.dstport", "dport"),
  WS2("udp.port", "sport", "dport"), WS("udp.length", "len"),
  WSX("udp.checksum", "chksum", 4), WSEND
};

/* What follows is found by the destination port, then the source port. */
static const char *const udp_names[] = {"sport", "services/udp", "dport", "services/udp", NULL};
static const sf_scapy udp_scapy = {
  .fmt = "{^@net:UDP %^src%:%sport% > %^dst%:%dport%}{!^@net:UDP %sport% > %dport%}",
  .quoted = "UDPerror", .names = udp_names,
};

static sf_proto udp = {
  .name = "UDP", .display = "UDP", .kind = "Udp",
  .scapy = &udp_scapy,
  .fields = udp_fields, .nfields = NFIELDS(udp_fields), .minlen = 8,
  .next_table = "udp.port", .next_keys = {"dport", "sport"},
  .places = udp_places, .aliases = udp_aliases, .facts = &udp_facts,
  .ws = "udp", .ws_fields = udp_ws,
  .hdr_len = udp_hdr_len, .extent = udp_extent, .fixup = udp_fixup,
};

SF_PROTO_FILE(udp) { sf_register(&udp); }
