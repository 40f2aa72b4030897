/*
 * ipv6.c -- IPv6 (RFC 8200) and its extension headers: hop-by-hop,
 * routing, fragment and destination options.
 */
#include <string.h>

#include "common.h"


/* Scapy's ipv6nh */
static const sf_enum ipv6_nh[] = {
  {0, "Hop-by-Hop Option Header"}, {4, "IP"}, {6, "TCP"}, {17, "UDP"},
  {41, "IPv6"}, {43, "Routing Header"}, {44, "Fragment Header"},
  {47, "GRE"}, {50, "ESP Header"}, {51, "AH Header"}, {58, "ICMPv6"},
  {59, "No Next Header"}, {60, "Destination Option Header"}, {112, "VRRP"},
  {132, "SCTP"}, {135, "Mobility Header"}, {0, NULL}
};

enum { F_VERSION, F_TC, F_FL, F_PLEN, F_NH, F_HLIM, F_SRC, F_DST };

static const sf_field ipv6_fields[] = {
  UINTF("version", 0, 4, 6, 0, NULL, 0),
  UINTF("tc", 4, 8, 0, SF_FF_HEX, NULL, 0),
  UINTF("fl", 12, 20, 0, 0, NULL, 0),
  UINTF("plen", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  UINTF("nh", 48, 8, 59, 0, ipv6_nh, 0),
  UINTF("hlim", 56, 8, 64, 0, NULL, 0),
  IP6F("src", 64, "::1", 0),
  IP6F("dst", 192, "::1", 0),
};

static size_t ipv6_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 40 ? 40 : 0;
}

/* A payload length of 0 means a jumbogram (or offload): take it all. */
static size_t ipv6_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t plen = rd16(h + 4);
  (void)n;
  return plen ? hlen + plen : (size_t)-1;
}

static void ipv6_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_PLEN, l->end - l->off - 40);
}

/* ---- extension headers -------------------------------------------------- */

/* Length in 8-octet units, not counting the first 8 octets. */
static size_t ext_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 8) return 0;
  want = ((size_t)h[1] + 1) * 8;
  return want <= n ? want : 0;
}

static void ext_fixup(sf_pkt *p, int li) {
  sf_lput(p, li, 1, p->layers[li].hlen / 8 - 1);
}

/* hop-by-hop and destination options: an option list padded to 8 */
static const sf_field opts_fields[] = {
  UINTF("nh", 0, 8, 59, 0, ipv6_nh, 0),
  UINTF("len", 8, 8, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("options", 16, 0, "ipv6_options", "010400000000", 0),
};

static void opts_span(const uint8_t *h, size_t hlen, int fi, size_t *off,
                      size_t *len) {
  (void)h;
  (void)fi;
  *off = 2;
  *len = hlen - 2;
}

static const sf_facts ext_facts = {.role = SF_ROLE_NETEXT};

static const sf_wsfield hop_ws[] = {
  WS("ipv6.hopopts.nxt", "nh"), WS("ipv6.hopopts.len", "len"), WSEND
};

static const sf_wsfield dest_ws[] = {
  WS("ipv6.dstopts.nxt", "nh"), WS("ipv6.dstopts.len", "len"), WSEND
};

static sf_proto ipv6, hop, routing, frag, dest;

/* Extension headers follow IPv6 or another extension header only (IPv4's
   protocol 0, say, is not a hop-by-hop header). */
static int after_ipv6(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  int lower = p ? p->layers[li].proto : -1;
  (void)h;
  (void)n;
  return lower == ipv6.id || lower == hop.id || lower == routing.id ||
         lower == frag.id || lower == dest.id;
}

static const sf_place hop_places[] = {{"ip.proto", 0, 0, after_ipv6}, {NULL, 0, 0, NULL}};
static const sf_place dest_places[] = {{"ip.proto", 60, 0, after_ipv6}, {NULL, 0, 0, NULL}};

static sf_proto hop = {
  .name = "IPv6ExtHdrHopByHop", .display = "IPv6 Hop-by-Hop Options",
  .kind = "Ipv6HopByHop", .fields = opts_fields,
  .nfields = NFIELDS(opts_fields), .minlen = 8,
  .next_table = "ip.proto", .next_keys = {"nh"}, .places = hop_places,
  .facts = &ext_facts, .hdr_len = ext_len, .fixup = ext_fixup, .var = opts_span,
  .ws = "ipv6.hopopts", .ws_fields = hop_ws,
};

static sf_proto dest = {
  .name = "IPv6ExtHdrDestOpt", .display = "IPv6 Destination Options",
  .kind = "Ipv6DestOpt", .fields = opts_fields,
  .nfields = NFIELDS(opts_fields), .minlen = 8,
  .next_table = "ip.proto", .next_keys = {"nh"}, .places = dest_places,
  .facts = &ext_facts, .hdr_len = ext_len, .fixup = ext_fixup, .var = opts_span,
  .ws = "ipv6.dstopts", .ws_fields = dest_ws,
};

/* routing header: a type 0-style address list */
enum { R_NH, R_LEN, R_TYPE, R_SEGLEFT, R_RESERVED, R_ADDRESSES };

static const sf_field routing_fields[] = {
  UINTF("nh", 0, 8, 59, 0, ipv6_nh, 0),
  UINTF("len", 8, 8, 0, SF_FF_AUTO, NULL, 0),
  UINTF("type", 16, 8, 0, 0, NULL, 0),
  UINTF("segleft", 24, 8, 0, SF_FF_AUTO, NULL, 0),
  UINTF("reserved", 32, 32, 0, SF_FF_HEX, NULL, 0),
  BYTESF("addresses", 64, 16, "ip6_list", NULL, 0),
};

static void addresses_span(const uint8_t *h, size_t hlen, int fi,
                           size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 8;
  *len = hlen - 8;
}

/* Segments left counts the addresses only when the user built the header;
   in a captured one it is state, not a length. */
static void routing_fixup(sf_pkt *p, int li) {
  ext_fixup(p, li);
  if (p->layers[li].flags & SF_L_BUILT)
    sf_lput(p, li, R_SEGLEFT, (p->layers[li].hlen - 8) / 16);
}

/* Types 0, 2 and 4 (segment routing) list whole addresses. */
static int routing_addrs(const uint8_t *h, size_t hlen, size_t *off, size_t *n) {
  if (hlen < 8 || (h[2] != 0 && h[2] != 2 && h[2] != 4)) return 0;
  *off = 8;
  *n = (hlen - 8) / 16 * 16;
  return 1;
}

static const sf_facts routing_facts = {.role = SF_ROLE_NETEXT, .addr_list = routing_addrs};

static const sf_place routing_places[] = {{"ip.proto", 43, 0, after_ipv6}, {NULL, 0, 0, NULL}};

static const sf_wsfield routing_ws[] = {
  WS("ipv6.routing.nxt", "nh"), WS("ipv6.routing.len", "len"),
  WS("ipv6.routing.type", "type"), WS("ipv6.routing.segleft", "segleft"), WSEND
};

static const char *const routing_names[] = {"reserved", "decimal", NULL};
static const sf_scapy routing_scapy = {.names = routing_names};

static sf_proto routing = {
  .scapy = &routing_scapy,
  .name = "IPv6ExtHdrRouting", .display = "IPv6 Routing Header",
  .kind = "Ipv6Routing", .fields = routing_fields,
  .nfields = NFIELDS(routing_fields), .minlen = 8,
  .next_table = "ip.proto", .next_keys = {"nh"}, .places = routing_places,
  .facts = &routing_facts, .ws = "ipv6.routing", .ws_fields = routing_ws,
  .hdr_len = ext_len, .fixup = routing_fixup,
  .var = addresses_span,
};

/* fragment header: fixed 8 octets */
static const sf_field frag_fields[] = {
  UINTF("nh", 0, 8, 59, 0, ipv6_nh, 0),
  UINTF("res1", 8, 8, 0, 0, NULL, 0),
  UINTF("offset", 16, 13, 0, 0, NULL, 0),
  UINTF("res2", 29, 2, 0, 0, NULL, 0),
  UINTF("m", 31, 1, 0, 0, NULL, 0),
  UINTF("id", 32, 32, 0, 0, NULL, 0),
};

static size_t frag_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 8 ? 8 : 0;
}

static int frag_next(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  return (rd16(h + 2) >> 3) ? -2 : -1;
}

static int frag_fragment(const uint8_t *h, size_t hlen, sf_frag *f) {
  unsigned off = rd16(h + 2);
  if (hlen < 8 || !(off & 0xfff9)) return 0;  /* offset 0, M clear: atomic */
  f->offset = (off >> 3) * 8u;
  f->more = off & 1;
  f->id = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
  return 1;
}

static const sf_facts frag_facts = {.role = SF_ROLE_NETEXT, .fragment = frag_fragment};

static const sf_place frag_places[] = {{"ip.proto", 44, 0, after_ipv6}, {NULL, 0, 0, NULL}};

/* Wireshark's offset is in 8-octet units, as ours */
static const sf_wsfield frag_ws[] = {
  WS("ipv6.fraghdr.nxt", "nh"), WS("ipv6.fraghdr.offset", "offset"),
  WS("ipv6.fraghdr.more", "m"), WSX("ipv6.fraghdr.ident", "id", 8), WSEND
};

static sf_proto frag = {
  .name = "IPv6ExtHdrFragment", .display = "IPv6 Fragment Header",
  .kind = "Ipv6Fragment", .fields = frag_fields,
  .nfields = NFIELDS(frag_fields), .minlen = 8,
  .next_table = "ip.proto", .next_keys = {"nh"}, .places = frag_places,
  .facts = &frag_facts, .ws = "ipv6.fraghdr", .ws_fields = frag_ws,
  .hdr_len = frag_len, .next = frag_next,
};

/* ---- IPv6 itself ------------------------------------------------------------- */

/* Upper-layer checksums use the final destination of a routing header
   still to be walked (RFC 8200 section 8.1): the last address of a type
   0-style list, the first of a segment routing header's list (RFC 8754,
   which stores it reversed).  Built headers count their segments left
   only at fixup, which has run: lengths come before checksums. */
static const uint8_t *final_dst(const sf_pkt *p, int ip, int li) {
  const uint8_t *dst = p->data + p->layers[ip].off + 24;
  int j;
  for (j = ip + 1; j < li; j++) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    size_t naddr = l->hlen >= 8 ? (l->hlen - 8) / 16 : 0;
    if (l->proto != routing.id || naddr == 0 || h[3] == 0) continue;
    dst = h[2] == 4 ? h + 8 : h + 8 + 16 * (naddr - 1);
    break;  /* the first routing header decides */
  }
  return dst;
}

/* A home address option (RFC 6275 6.3) in a destination options header
   stands for the source in upper-layer checksums. */
static const uint8_t *home_src(const sf_pkt *p, int ip, int li) {
  const uint8_t *src = p->data + p->layers[ip].off + 8;
  int j;
  for (j = ip + 1; j < li; j++) {
    const sf_layer *l = &p->layers[j];
    size_t pos = 2;
    sf_opt o;
    if (l->proto != dest.id) continue;
    while (sf_opt_next(p->data + l->off, l->hlen, &pos, SF_OPT_IPV6, &o))
      if (o.kind == 201 && o.len == 18) return p->data + l->off + o.off + 2;
  }
  return src;
}

static int ipv6_pseudo(const sf_pkt *p, int ip, int li, uint64_t *acc) {
  if (p->layers[ip].hlen < 40) return 0;
  *acc = sf_sum16(home_src(p, ip, li), 16, *acc);
  *acc = sf_sum16(final_dst(p, ip, li), 16, *acc);
  return 1;
}

static int is_v6(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return n > 0 && (h[0] >> 4) == 6;
}

/* BSD loopback families: 24 (NetBSD, OpenBSD) builds; FreeBSD's 28 and
   macOS's 30 parse.  Raw IP link types as IPv4's. */
static const sf_place ipv6_places[] = {
  {"ethertype", 0x86dd, 0, NULL}, {"ip.proto", 41, 0, NULL},
  {"null.type", 24, 0, NULL}, {"null.type", 28, SF_PL_PARSE_ONLY, NULL},
  {"null.type", 30, SF_PL_PARSE_ONLY, NULL}, {"linktype", 101, 0, is_v6},
  {"linktype", 229, SF_PL_PARSE_ONLY, NULL},
  {"linktype", 12, SF_PL_PARSE_ONLY, is_v6}, {"linktype", 14, SF_PL_PARSE_ONLY, is_v6},
  {NULL, 0, 0, NULL}
};

static const sf_alias ipv6_aliases[] = {
  {"hop_limit", "hlim"}, {"next_header", "nh"}, {"traffic_class", "tc"},
  {"flow_label", "fl"}, {NULL, NULL}
};

static const sf_facts ipv6_facts = {
  .role = SF_ROLE_NET, .src = "src", .dst = "dst", .pseudo = ipv6_pseudo,
};

/* Wireshark's IPv6 reports its version as ip.version too */
static const sf_wsfield ipv6_ws[] = {
  WS("ipv6.version", "version"), WS("ip.version", "version"), WSX("ipv6.tclass", "tc", 8),
  WSBIT("ipv6.tclass.dscp", "tc", 0xfc), WSBIT("ipv6.tclass.ecn", "tc", 0x03),
  WSX("ipv6.flow", "fl", 6), WS("ipv6.plen", "plen"), WS("ipv6.nxt", "nh"),
  WS("ipv6.hlim", "hlim"), WS("ipv6.src", "src"), WS("ipv6.dst", "dst"),
  WS2("ipv6.addr", "src", "dst"), WSEND
};

static const char *const ipv6_names[] = {"tc", "decimal", NULL};
static const sf_scapy ipv6_scapy = {
  .fmt = "%src% > %dst% (%r,nh%)", .quoted = "IPerror6", .names = ipv6_names,
};

static sf_proto ipv6 = {
  .name = "IPv6", .display = "IPv6", .kind = "Ipv6",
  .scapy = &ipv6_scapy,
  .fields = ipv6_fields, .nfields = NFIELDS(ipv6_fields), .minlen = 40,
  .next_table = "ip.proto", .next_keys = {"nh"}, .places = ipv6_places,
  .aliases = ipv6_aliases, .facts = &ipv6_facts, .ws = "ipv6", .ws_fields = ipv6_ws,
  .hdr_len = ipv6_len, .extent = ipv6_extent, .fixup = ipv6_fixup,
};

SF_PROTO_FILE(ipv6) {
  sf_register(&ipv6);
  sf_register(&hop);
  sf_register(&routing);
  sf_register(&frag);
  sf_register(&dest);
}
