/*
 * gre.c -- Generic Routing Encapsulation (RFC 2784, with RFC 2890's key
 * and sequence number) over IPv4 and IPv6, and the enhanced GRE of PPTP
 * (RFC 2637), with Scapy's class and field names (GRE, GRE_PPTP).
 *
 * The protocol field is an EtherType: what follows is found in the
 * "ethertype" table, and 0x6558 (transparent Ethernet bridging) carries an
 * Ethernet frame.  With the routing bit set, source route entries follow
 * the header (RFC 1701); they are left as payload.  Optional words sit
 * after the fixed four bytes in a set order, so a field's offset depends
 * on which come before it: each position is its own conditional field.
 */
#include "common.h"

#define C_BIT 0x8000     /* checksum present */
#define R_BIT 0x4000     /* routing present */
#define K_BIT 0x2000     /* key present */
#define S_BIT 0x1000     /* sequence number present */
#define A_BIT 0x0080     /* PPTP: acknowledgment number present */
#define TEB 0x6558       /* transparent Ethernet bridging */
#define PPP 0x880b

/* a one-bit field whose change reshapes the header */
#define PRESENT(n, off, d) UINTF(n, off, 1, d, SF_FF_SHAPE, NULL, 0)

/* The flag bits, none when the header is cut short before them. */
static uint16_t gre_bits(const uint8_t *h, size_t hlen) { return hlen >= 2 ? rd16(h) : 0; }

/* ---- GRE -------------------------------------------------------------------- */

enum { G_CR = 1, G_K4, G_K8, G_S4, G_S8, G_S12 };
enum { F_PROTO = 8, F_CHKSUM = 9 };

static const sf_field gre_fields[] = {
  PRESENT("chksum_present", 0, 0),
  PRESENT("routing_present", 1, 0),
  PRESENT("key_present", 2, 0),
  PRESENT("seqnum_present", 3, 0),
  UINTF("strict_route_source", 4, 1, 0, 0, NULL, 0),
  UINTF("recursion_control", 5, 3, 0, 0, NULL, 0),
  UINTF("flags", 8, 5, 0, 0, NULL, 0),
  UINTF("version", 13, 3, 0, 0, NULL, 0),
  UINTF("proto", 16, 16, 0, SF_FF_HEX, NULL, 0),
  UINTF("chksum", 32, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, G_CR),
  UINTF("offset", 48, 16, 0, SF_FF_HEX, NULL, G_CR),
  UINTF("key", 32, 32, 0, SF_FF_HEX, NULL, G_K4),
  UINTF("key", 64, 32, 0, SF_FF_HEX, NULL, G_K8),
  UINTF("sequence_number", 32, 32, 0, SF_FF_HEX, NULL, G_S4),
  UINTF("sequence_number", 64, 32, 0, SF_FF_HEX, NULL, G_S8),
  UINTF("sequence_number", 96, 32, 0, SF_FF_HEX, NULL, G_S12),
};

/* Words after the fixed four bytes: checksum+offset, key, sequence. */
static unsigned words_before(uint16_t b, uint16_t bit) {
  unsigned n = 0;
  if (bit != C_BIT && (b & (C_BIT | R_BIT))) n++;
  if (bit == S_BIT && (b & K_BIT)) n++;
  return n;
}

static int gre_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  uint16_t b = gre_bits(h, hlen);
  switch (cond) {
    case G_CR: return (b & (C_BIT | R_BIT)) != 0;
    case G_K4: return (b & K_BIT) && words_before(b, K_BIT) == 0;
    case G_K8: return (b & K_BIT) && words_before(b, K_BIT) == 1;
    case G_S4: return (b & S_BIT) && words_before(b, S_BIT) == 0;
    case G_S8: return (b & S_BIT) && words_before(b, S_BIT) == 1;
    case G_S12: return (b & S_BIT) && words_before(b, S_BIT) == 2;
    default: return 1;
  }
}

static size_t gre_shape(const uint8_t *h, size_t hlen) {
  uint16_t b = gre_bits(h, hlen);
  return 4 + 4u * !!(b & (C_BIT | R_BIT)) + 4u * !!(b & K_BIT) + 4u * !!(b & S_BIT);
}

static size_t gre_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 4) return 0;
  want = gre_shape(h, n);
  return want <= n ? want : 0;
}

static int gre_next(const sf_pkt *p, int li) {
  static int ether;
  const uint8_t *h = p->data + p->layers[li].off;
  if (gre_bits(h, p->layers[li].hlen) & R_BIT) return -2;  /* source route entries first */
  if (p->layers[li].hlen >= 4 && rd16(h + 2) == TEB) return proto_named(&ether, "Ether");
  return -1;  /* the "ethertype" table */
}

/* Before Ethernet the protocol is transparent bridging (the table names
   the others). */
static void gre_fixup(sf_pkt *p, int li) {
  static int ether;
  if (li + 1 < p->nlayers && p->layers[li + 1].proto == proto_named(&ether, "Ether"))
    sf_lput(p, li, F_PROTO, TEB);
}

/* RFC 2784: over the header and payload, when the checksum bit says so. */
static void gre_checksum(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (l->hlen < 8 || !(gre_bits(p->data + l->off, l->hlen) & C_BIT) || sf_isset(p, li, F_CHKSUM))
    return;
  sf_lput(p, li, F_CHKSUM, 0);
  sf_lput(p, li, F_CHKSUM, sf_fold(sf_sum16(p->data + l->off, l->end - l->off, 0)));
}

static const sf_place gre_places[] = {{"ip.proto", 47, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_alias gre_aliases[] = {
  {"seqence_number", "sequence_number"},  /* Scapy before 2.4.4 */
  {"checksum", "chksum"}, {NULL, NULL}
};

/* Wireshark's flag names are bits of the first word; ours are fields */
static const sf_wsfield gre_ws[] = {
  WS("gre.flags.checksum", "chksum_present"), WS("gre.flags.routing", "routing_present"),
  WS("gre.flags.key", "key_present"), WS("gre.flags.sequence_number", "seqnum_present"),
  WS("gre.flags.strict_source_route", "strict_route_source"),
  WS("gre.flags.recursion_control", "recursion_control"),
  WS("gre.flags.version", "version"), WSX("gre.proto", "proto", 4),
  WSX("gre.checksum", "chksum", 4), WS("gre.offset", "offset"), WSX("gre.key", "key", 8),
  WS("gre.sequence_number", "sequence_number"), WSEND
};

static const char *const gre_names[] = {"proto", "ethertypes", NULL};
static const sf_scapy gre_scapy = {.names = gre_names};

static sf_proto gre = {
  .name = "GRE", .display = "GRE", .kind = "Gre",
  .scapy = &gre_scapy,
  .fields = gre_fields, .nfields = NFIELDS(gre_fields), .minlen = 4,
  .next_table = "ethertype", .next_keys = {"proto"}, .places = gre_places,
  .aliases = gre_aliases, .ws = "gre", .ws_fields = gre_ws,
  .hdr_len = gre_len, .next = gre_next,
  .fixup = gre_fixup, .checksum = gre_checksum, .present = gre_present,
  .shape_len = gre_shape,
};

/* ---- enhanced GRE (PPTP) -------------------------------------------------------- */

enum { P_S = 1, P_A8, P_A12 };
enum { F_PAYLOAD_LEN = 10 };

static const sf_field pptp_fields[] = {
  PRESENT("chksum_present", 0, 0),
  PRESENT("routing_present", 1, 0),
  PRESENT("key_present", 2, 1),
  PRESENT("seqnum_present", 3, 0),
  UINTF("strict_route_source", 4, 1, 0, 0, NULL, 0),
  UINTF("recursion_control", 5, 3, 0, 0, NULL, 0),
  PRESENT("acknum_present", 8, 0),
  UINTF("flags", 9, 4, 0, 0, NULL, 0),
  UINTF("version", 13, 3, 1, 0, NULL, 0),
  UINTF("proto", 16, 16, PPP, SF_FF_HEX, NULL, 0),
  UINTF("payload_len", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  UINTF("call_id", 48, 16, 0, 0, NULL, 0),
  UINTF("sequence_number", 64, 32, 0, SF_FF_HEX, NULL, P_S),
  UINTF("ack_number", 64, 32, 0, SF_FF_HEX, NULL, P_A8),
  UINTF("ack_number", 96, 32, 0, SF_FF_HEX, NULL, P_A12),
};

static int pptp_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  uint16_t b = gre_bits(h, hlen);
  switch (cond) {
    case P_S: return (b & S_BIT) != 0;
    case P_A8: return (b & A_BIT) && !(b & S_BIT);
    case P_A12: return (b & A_BIT) && (b & S_BIT);
    default: return 1;
  }
}

static size_t pptp_shape(const uint8_t *h, size_t hlen) {
  uint16_t b = gre_bits(h, hlen);
  return 8 + 4u * !!(b & S_BIT) + 4u * !!(b & A_BIT);
}

static size_t pptp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 8) return 0;
  want = pptp_shape(h, n);
  return want <= n ? want : 0;
}

/* payload_len counts what follows the header */
static void pptp_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_PAYLOAD_LEN, l->end - l->off - l->hlen);
}

/* Version 1 with protocol PPP is PPTP's (Scapy's dispatch); what follows
   is looked up by protocol, as GRE's (PPP enters 0x880b from its file). */
static int is_pptp(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return n >= 8 && (h[1] & 7) == 1 && rd16(h + 2) == PPP;
}

static const sf_place pptp_places[] = {{"ip.proto", 47, 0, is_pptp}, {NULL, 0, 0, NULL}};

static const sf_alias pptp_aliases[] = {{"seqence_number", "sequence_number"}, {NULL, NULL}};

/* Wireshark dissects enhanced GRE as GRE, the key split in two */
static const sf_wsfield pptp_ws[] = {
  WS("gre.flags.checksum", "chksum_present"), WS("gre.flags.routing", "routing_present"),
  WS("gre.flags.key", "key_present"), WS("gre.flags.sequence_number", "seqnum_present"),
  WS("gre.flags.ack", "acknum_present"), WS("gre.flags.version", "version"),
  WSX("gre.proto", "proto", 4), WS("gre.key.payload_length", "payload_len"),
  WS("gre.key.call_id", "call_id"), WS("gre.sequence_number", "sequence_number"),
  WS("gre.ack_number", "ack_number"), WSEND
};

static sf_proto pptp = {
  .scapy = &gre_scapy,
  .name = "GRE_PPTP", .display = "GRE PPTP", .kind = "GrePptp",
  .fields = pptp_fields, .nfields = NFIELDS(pptp_fields), .minlen = 8,
  .next_table = "ethertype", .next_keys = {"proto"},
  .places = pptp_places, .aliases = pptp_aliases, .ws = "gre", .ws_fields = pptp_ws,
  .hdr_len = pptp_len,
  .fixup = pptp_fixup, .present = pptp_present,
  .shape_len = pptp_shape,
};

SF_PROTO_FILE(gre) {
  sf_register(&gre);
  sf_register(&pptp);
}
