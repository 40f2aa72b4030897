/*
 * sll.c -- Linux "cooked" capture headers: SLL (link type 113) and SLL2
 * (276), which tcpdump -i any writes.  Field names are Scapy's
 * (CookedLinux, CookedLinuxV2); the protocol field is an EtherType.
 */
#include "common.h"

static const sf_enum sll_pkttypes[] = {
  {0, "unicast"}, {1, "broadcast"}, {2, "multicast"}, {3, "unicast-to-another-host"},
  {4, "sent-by-us"}, {0, NULL}
};

/* Values below 1536 are not EtherTypes (Linux's if_ether.h); EtherTypes
   are named by the "ethertype" table. */
static const sf_enum sll_protos[] = {
  {0x0004, "802.2 LLC"}, {0x0001, "802.3"}, {0, NULL}
};

/* src: the sender's link-layer address, 8 bytes whatever its length */
static void src_span(const uint8_t *h, size_t hlen, int fi, size_t *off,
                     size_t *len) {
  (void)h;
  (void)hlen;
  (void)fi;
  *off = 6;
  *len = 8;
}

static const sf_field sll_fields[] = {
  UINTF("pkttype", 0, 16, 0, 0, sll_pkttypes, 0),
  UINTF("lladdrtype", 16, 16, 512, SF_FF_HEX, NULL, 0),
  UINTF("lladdrlen", 32, 16, 0, 0, NULL, 0),
  BYTESF("src", 48, 8, NULL, "0000000000000000", 0),
  UINTF("proto", 112, 16, 0x0800, SF_FF_HEX, sll_protos, 0),
};

static size_t sll_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 16 ? 16 : 0;
}

static const sf_place sll_places[] = {{"linktype", 113, 0, NULL}, {NULL, 0, 0, NULL}};

/* the sender's address: lladdrlen bytes of src */
static const sf_facts sll_facts = {
  .role = SF_ROLE_LINK, .lladdr = "src", .lladdr_len = "lladdrlen",
};

/* Wireshark's source address fields take the address's own length
   (sll.src.eth is 6 bytes); ours is the 8-byte slot: no name for it. */
static const sf_wsfield sll_ws[] = {
  WS("sll.pkttype", "pkttype"), WS("sll.hatype", "lladdrtype"),
  WS("sll.halen", "lladdrlen"), WSX("sll.etype", "proto", 4), WSEND
};

/* Scapy names the protocol from /etc/ethertypes */
static const char *const sll_names[] = {"proto", "ethertypes", NULL};
static const sf_scapy sll_scapy = {.names = sll_names};

static sf_proto sll = {
  .name = "CookedLinux", .display = "Linux cooked", .kind = "CookedLinux",
  .scapy = &sll_scapy,
  .fields = sll_fields, .nfields = NFIELDS(sll_fields), .minlen = 16,
  .next_table = "ethertype", .next_keys = {"proto"}, .places = sll_places,
  .facts = &sll_facts, .ws = "sll", .ws_fields = sll_ws,
  .hdr_len = sll_len, .var = src_span,
};

/* ---- SLL2 ---------------------------------------------------------------- */

static void src2_span(const uint8_t *h, size_t hlen, int fi, size_t *off,
                      size_t *len) {
  (void)h;
  (void)hlen;
  (void)fi;
  *off = 12;
  *len = 8;
}

static const sf_field sll2_fields[] = {
  UINTF("proto", 0, 16, 0x0800, SF_FF_HEX, sll_protos, 0),
  UINTF("reserved", 16, 16, 0, 0, NULL, 0),
  UINTF("ifindex", 32, 32, 0, 0, NULL, 0),
  UINTF("lladdrtype", 64, 16, 512, SF_FF_HEX, NULL, 0),
  UINTF("pkttype", 80, 8, 0, 0, sll_pkttypes, 0),
  UINTF("lladdrlen", 88, 8, 0, 0, NULL, 0),
  BYTESF("src", 96, 8, NULL, "0000000000000000", 0),
};

static size_t sll2_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 20 ? 20 : 0;
}

static const sf_place sll2_places[] = {{"linktype", 276, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_wsfield sll2_ws[] = {
  WS("sll.pkttype", "pkttype"), WS("sll.hatype", "lladdrtype"),
  WS("sll.halen", "lladdrlen"), WSX("sll.etype", "proto", 4),
  WS("sll.ifindex", "ifindex"), WSEND
};

static sf_proto sll2 = {
  .name = "CookedLinuxV2", .display = "Linux cooked v2", .kind = "CookedLinuxV2",
  .scapy = &sll_scapy,
  .fields = sll2_fields, .nfields = NFIELDS(sll2_fields), .minlen = 20,
  .next_table = "ethertype", .next_keys = {"proto"}, .places = sll2_places,
  .facts = &sll_facts, .ws = "sll", .ws_fields = sll2_ws,
  .hdr_len = sll2_len, .var = src2_span,
};

SF_PROTO_FILE(sll) {
  sf_register(&sll);
  sf_register(&sll2);
}
