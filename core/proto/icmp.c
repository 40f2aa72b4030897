/*
 * icmp.c -- ICMP (RFC 792 and successors).  The fields after the checksum
 * depend on the message type, as in Scapy; error messages quote the
 * offending IP header, which is dissected as layers of its own.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

static const sf_enum icmp_types[] = {
  {0, "echo-reply"}, {3, "dest-unreach"}, {4, "source-quench"},
  {5, "redirect"}, {8, "echo-request"}, {9, "router-advertisement"},
  {10, "router-solicitation"}, {11, "time-exceeded"},
  {12, "parameter-problem"}, {13, "timestamp-request"},
  {14, "timestamp-reply"}, {15, "information-request"},
  {16, "information-response"}, {17, "address-mask-request"},
  {18, "address-mask-reply"}, {0, NULL}
};

/* conditions: which types carry a field */
enum { C_IDSEQ = 1, C_TS, C_GW, C_PTR, C_RESERVED, C_LENGTH, C_MASK, C_MTU,
       C_UNUSED16, C_UNUSED32 };

static const sf_field icmp_fields[] = {
  UINTF("type", 0, 8, 8, SF_FF_SHAPE, icmp_types, 0),
  UINTF("code", 8, 8, 0, 0, NULL, 0),
  UINTF("chksum", 16, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, 0),
  UINTF("id", 32, 16, 0, SF_FF_HEX, NULL, C_IDSEQ),
  UINTF("seq", 48, 16, 0, SF_FF_HEX, NULL, C_IDSEQ),
  UINTF("ts_ori", 64, 32, 0, 0, NULL, C_TS),
  UINTF("ts_rx", 96, 32, 0, 0, NULL, C_TS),
  UINTF("ts_tx", 128, 32, 0, 0, NULL, C_TS),
  IP4F("gw", 32, "0.0.0.0", C_GW),
  UINTF("ptr", 32, 8, 0, 0, NULL, C_PTR),
  UINTF("reserved", 32, 8, 0, 0, NULL, C_RESERVED),
  UINTF("length", 40, 8, 0, 0, NULL, C_LENGTH),
  IP4F("addr_mask", 64, "0.0.0.0", C_MASK),
  UINTF("nexthopmtu", 48, 16, 0, 0, NULL, C_MTU),
  UINTF("unused", 48, 16, 0, 0, NULL, C_UNUSED16),
  UINTF("unused", 32, 32, 0, 0, NULL, C_UNUSED32),
};

static int is_idseq(unsigned t) {
  return t == 0 || t == 8 || (t >= 13 && t <= 18);
}

static int icmp_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  unsigned t = h[0];
  (void)hlen;
  switch (cond) {
    case C_IDSEQ: return is_idseq(t);
    case C_TS: return t == 13 || t == 14;
    case C_GW: return t == 5;
    case C_PTR: return t == 12;
    case C_RESERVED: return t == 3 || t == 11;
    case C_LENGTH: return t == 3 || t == 11 || t == 12;
    case C_MASK: return t == 17 || t == 18;
    case C_MTU: return t == 3;
    case C_UNUSED16: return t == 11 || t == 12;
    case C_UNUSED32: return !is_idseq(t) && t != 3 && t != 5 && t != 11 && t != 12;
    default: return 1;
  }
}

static size_t type_len(unsigned t) {
  if (t == 13 || t == 14) return 20;
  if (t == 17 || t == 18) return 12;
  return 8;
}

static size_t icmp_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 8) return 0;
  want = type_len(h[0]);
  return want <= n ? want : 0;
}

static size_t icmp_shape(const uint8_t *h, size_t hlen) {
  (void)hlen;
  return type_len(h[0]);
}

/* Errors quote the datagram that caused them. */
static int icmp_next(const sf_pkt *p, int li) {
  static int ip;
  unsigned t = p->data[p->layers[li].off];
  if ((t == 3 || t == 4 || t == 5 || t == 11 || t == 12) && proto_named(&ip, "IP") >= 0)
    return proto_named(&ip, "IP") | SF_NEXT_QUOTED;
  return -2;
}

static const sf_place icmp_places[] = {{"ip.proto", 1, 0, NULL}, {NULL, 0, 0, NULL}};

/* the seed toolkit's names beside Scapy's */
static const sf_alias icmp_aliases[] = {
  {"checksum", "chksum"}, {"gateway", "gw"}, {NULL, NULL}
};

static const sf_variant icmp_variants[] = {
  {"echo_request", NULL, "type", 8}, {"echo_reply", NULL, "type", 0},
  {"dest_unreach", NULL, "type", 3}, {"redirect", NULL, "type", 5},
  {"time_exceeded", NULL, "type", 11}, {"param_problem", NULL, "type", 12},
  {"timestamp_request", NULL, "type", 13}, {"timestamp_reply", NULL, "type", 14},
  {NULL, NULL, NULL, 0}
};

/* timestamp, information and address mask requests, answered as echo is */
static const uint8_t icmp_pairs[][2] = {{13, 14}, {15, 16}, {17, 18}, {0, 0}};

static const sf_facts icmp_facts = {
  .role = SF_ROLE_ICMP, .echo_request = 8, .echo_reply = 0, .pairs = icmp_pairs, .id = "id",
  .seqno = "seq", .cksum = "chksum", .cksum_cover = SF_CK_EXTENT,
};

/* Wireshark's identifier and sequence number are the big-endian ones;
   its timestamps and address masks have no names of their own, and it
   shows the next-hop MTU and the RFC 4884 length only when they apply
   (code 4, a non-zero length): not named here. */
static const sf_wsfield icmp_ws[] = {
  WS("icmp.type", "type"), WS("icmp.code", "code"), WSX("icmp.checksum", "chksum", 4),
  WS("icmp.ident", "id"), WS("icmp.seq", "seq"), WS("icmp.redir_gw", "gw"),
  WS("icmp.pointer", "ptr"), WSEND
};

/* ---- Scapy's text -------------------------------------------------------- */

/* Scapy's icmpcodes: the code's name depends on the type */
static const sf_enum codes_unreach[] = {
  {0, "network-unreachable"}, {1, "host-unreachable"}, {2, "protocol-unreachable"},
  {3, "port-unreachable"}, {4, "fragmentation-needed"}, {5, "source-route-failed"},
  {6, "network-unknown"}, {7, "host-unknown"}, {9, "network-prohibited"},
  {10, "host-prohibited"}, {11, "TOS-network-unreachable"},
  {12, "TOS-host-unreachable"}, {13, "communication-prohibited"},
  {14, "host-precedence-violation"}, {15, "precedence-cutoff"}, {0, NULL}
};
static const sf_enum codes_redirect[] = {
  {0, "network-redirect"}, {1, "host-redirect"}, {2, "TOS-network-redirect"},
  {3, "TOS-host-redirect"}, {0, NULL}
};
static const sf_enum codes_exceeded[] = {
  {0, "ttl-zero-during-transit"}, {1, "ttl-zero-during-reassembly"}, {0, NULL}
};
static const sf_enum codes_param[] = {
  {0, "ip-header-bad"}, {1, "required-option-missing"}, {0, NULL}
};
static const sf_enum codes_photuris[] = {
  {0, "bad-spi"}, {1, "authentication-failed"}, {2, "decompression-failed"},
  {3, "decryption-failed"}, {4, "need-authentification"},
  {5, "need-authorization"}, {0, NULL}
};

static const sf_enum *codes_of(unsigned type) {
  switch (type) {
    case 3: return codes_unreach;
    case 5: return codes_redirect;
    case 11: return codes_exceeded;
    case 12: return codes_param;
    case 40: return codes_photuris;
    default: return NULL;
  }
}

/* A timestamp (ms since midnight) as Scapy's ICMPTimeStampField shows it */
static int timestamp_text(const sf_pkt *p, int li, const char *what, char *out,
                          size_t cap) {
  int fi = sf_field_resolve(p, li, sf_field_find(sf_proto_get(p->layers[li].proto), what));
  uint64_t v, sec, min;
  if (fi < 0) return -1;
  v = sf_lget(p, li, fi);
  sec = v / 1000, min = sec / 60;
  return snprintf(out, cap, "%llu:%llu:%llu.%llu", (unsigned long long)(min / 60),
                  (unsigned long long)(min % 60), (unsigned long long)(sec % 60),
                  (unsigned long long)(v % 1000));
}

/* "code": the code as Scapy names it for the type (its number else);
   "ts_ori", "ts_rx", "ts_tx": Scapy's time of day */
static int icmp_text(const sf_pkt *p, int li, const char *what, char *out,
                     size_t cap) {
  const uint8_t *h = p->data + p->layers[li].off;
  const sf_enum *e;
  if (strncmp(what, "ts_", 3) == 0) return timestamp_text(p, li, what, out, cap);
  if (strcmp(what, "code") != 0 || p->layers[li].hlen < 2) return -1;
  for (e = codes_of(h[0]); e && e->name; e++)
    if (e->value == h[1]) return snprintf(out, cap, "%s", e->name);
  return snprintf(out, cap, "%u", h[1]);
}

static const char *const icmp_names[] = {"code", "$", "ts_ori", "$", "ts_rx", "$",
                                         "ts_tx", "$", NULL};
static const sf_scapy icmp_scapy = {
  .fmt = "{^IP:ICMP %^src% > %^dst% %type% %code%}{!^IP:ICMP %type% %code%}",
  .quoted = "ICMPerror", .names = icmp_names, .text = icmp_text,
};

static sf_proto icmp = {
  .name = "ICMP", .display = "ICMP", .kind = "Icmp",
  .scapy = &icmp_scapy,
  .fields = icmp_fields, .nfields = NFIELDS(icmp_fields), .minlen = 8,
  .places = icmp_places, .aliases = icmp_aliases, .variants = icmp_variants,
  .facts = &icmp_facts, .ws = "icmp", .ws_fields = icmp_ws,
  .hdr_len = icmp_hdr_len, .next = icmp_next,
  .present = icmp_present, .shape_len = icmp_shape,
};

SF_PROTO_FILE(icmp) { sf_register(&icmp); }
