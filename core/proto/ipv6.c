/*
 * ipv6.c -- IPv6 (RFC 8200) and its extension headers: hop-by-hop,
 * routing, fragment and destination options.
 */
#include <string.h>

#include "common.h"


static const sf_enum ipv6_nh[] = {
  {0, "Hop-by-Hop Option Header"}, {4, "IP"}, {6, "TCP"}, {17, "UDP"},
  {41, "IPv6"}, {43, "Routing Header"}, {44, "Fragmentation Header"},
  {47, "GRE"}, {50, "ESP Header"}, {51, "AH Header"}, {58, "ICMPv6"},
  {59, "No Next Header"}, {60, "Destination Option Header"}, {0, NULL}
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

static size_t ipv6_len(const uint8_t *h, size_t n) {
  (void)h;
  return n >= 40 ? 40 : 0;
}

/* A payload length of 0 means a jumbogram (or offload): take it all. */
static size_t ipv6_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t plen = rd16(h + 4);
  (void)n;
  return plen ? hlen + plen : (size_t)-1;
}

/* Neighbour discovery sent from a constructor gets the addressing Scapy
   gives it: hop limit 255 and the all-nodes (all-routers) group. */
static void nd_overloads(sf_pkt *p, int li) {
  static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
  static const uint8_t all_routers[16] = {0xff, 2, [15] = 2};
  const sf_layer *n = li + 1 < p->nlayers ? &p->layers[li + 1] : NULL;
  uint8_t t;
  if (!(p->layers[li].flags & SF_L_BUILT) || !n || n->proto != SF_ICMPV6 ||
      n->hlen < 1)
    return;
  t = p->data[n->off];
  if (t < 133 || t > 137) return;
  sf_lput(p, li, F_HLIM, 255);
  if (!sf_isset(p, li, F_DST))
    memcpy((uint8_t *)p->data + p->layers[li].off + 24,
           t == 133 ? all_routers : all_nodes, 16);
}

static void ipv6_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_PLEN, l->end - l->off - 40);
  nd_overloads(p, li);
}

static sf_proto ipv6 = {
  .name = "IPv6", .display = "IPv6", .kind = "Ipv6",
  .fields = ipv6_fields, .nfields = NFIELDS(ipv6_fields), .minlen = 40,
  .next_field = F_NH, .hdr_len = ipv6_len, .extent = ipv6_extent,
  .fixup = ipv6_fixup,
};

/* ---- extension headers -------------------------------------------------- */

/* Length in 8-octet units, not counting the first 8 octets. */
static size_t ext_len(const uint8_t *h, size_t n) {
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

static sf_proto hop = {
  .name = "IPv6ExtHdrHopByHop", .display = "IPv6 Hop-by-Hop Options",
  .kind = "Ipv6HopByHop", .fields = opts_fields,
  .nfields = NFIELDS(opts_fields), .minlen = 8, .next_field = 0,
  .hdr_len = ext_len, .fixup = ext_fixup, .var = opts_span,
};

static sf_proto dest = {
  .name = "IPv6ExtHdrDestOpt", .display = "IPv6 Destination Options",
  .kind = "Ipv6DestOpt", .fields = opts_fields,
  .nfields = NFIELDS(opts_fields), .minlen = 8, .next_field = 0,
  .hdr_len = ext_len, .fixup = ext_fixup, .var = opts_span,
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

static sf_proto routing = {
  .name = "IPv6ExtHdrRouting", .display = "IPv6 Routing Header",
  .kind = "Ipv6Routing", .fields = routing_fields,
  .nfields = NFIELDS(routing_fields), .minlen = 8, .next_field = R_NH,
  .hdr_len = ext_len, .fixup = routing_fixup, .var = addresses_span,
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

static size_t frag_len(const uint8_t *h, size_t n) {
  (void)h;
  return n >= 8 ? 8 : 0;
}

static int frag_next(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  return (rd16(h + 2) >> 3) ? -2 : -1;
}

static sf_proto frag = {
  .name = "IPv6ExtHdrFragment", .display = "IPv6 Fragment Header",
  .kind = "Ipv6Fragment", .fields = frag_fields,
  .nfields = NFIELDS(frag_fields), .minlen = 8, .next_field = 0,
  .hdr_len = frag_len, .next = frag_next,
};

static void bind_upper(int lower) {
  sf_bind(lower, 0, SF_IPV6_HOP);
  sf_bind(lower, 43, SF_IPV6_ROUTING);
  sf_bind(lower, 44, SF_IPV6_FRAG);
  sf_bind(lower, 60, SF_IPV6_DEST);
  sf_bind(lower, 6, SF_TCP);
  sf_bind(lower, 17, SF_UDP);
  sf_bind(lower, 58, SF_ICMPV6);
  sf_bind(lower, 4, SF_IPV4);
  sf_bind(lower, 41, SF_IPV6);
}

void sf_register_ipv6(void) {
  sf_register(&ipv6);
  sf_register(&hop);
  sf_register(&routing);
  sf_register(&frag);
  sf_register(&dest);
  bind_upper(SF_IPV6);
  bind_upper(SF_IPV6_HOP);
  bind_upper(SF_IPV6_ROUTING);
  bind_upper(SF_IPV6_FRAG);
  bind_upper(SF_IPV6_DEST);
}
