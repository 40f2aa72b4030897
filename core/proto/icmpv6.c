/*
 * icmpv6.c -- ICMPv6 (RFC 4443) and neighbour discovery (RFC 4861) with
 * its options.  Like ICMP, the body depends on the type; ND options are
 * layers of their own, as in Scapy.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

static const sf_enum icmp6_types[] = {
  {1, "Destination unreachable"}, {2, "Packet too big"},
  {3, "Time exceeded"}, {4, "Parameter problem"},
  {128, "Echo Request"}, {129, "Echo Reply"},
  {130, "MLD Query"}, {131, "MLD Report"}, {132, "MLD Done"},
  {133, "Router Solicitation"}, {134, "Router Advertisement"},
  {135, "Neighbor Solicitation"}, {136, "Neighbor Advertisement"},
  {137, "Redirect Message"}, {0, NULL}
};

static const sf_enum ra_prefs[] = {{0, "Medium (default)"}, {1, "High"},
  {2, "Reserved"}, {3, "Low"}, {0, NULL}};

enum { C_UNUSED = 1, C_MTU, C_PTR, C_ECHO, C_RS, C_RA, C_NS, C_NA, C_REDIR,
       C_TGT, C_OTHER };

static const sf_field icmp6_fields[] = {
  UINTF("type", 0, 8, 128, SF_FF_SHAPE, icmp6_types, 0),
  UINTF("code", 8, 8, 0, 0, NULL, 0),
  UINTF("cksum", 16, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, 0),
  UINTF("length", 32, 8, 0, 0, NULL, C_UNUSED),
  UINTF("unused", 40, 24, 0, SF_FF_HEX, NULL, C_UNUSED),
  UINTF("mtu", 32, 32, 1280, 0, NULL, C_MTU),
  UINTF("ptr", 32, 32, 6, SF_FF_HEX, NULL, C_PTR),
  UINTF("id", 32, 16, 0, SF_FF_HEX, NULL, C_ECHO),
  UINTF("seq", 48, 16, 0, SF_FF_HEX, NULL, C_ECHO),
  BYTESF("data", 64, 0, NULL, NULL, C_ECHO),
  UINTF("res", 32, 32, 0, SF_FF_HEX, NULL, C_RS),
  UINTF("chlim", 32, 8, 0, 0, NULL, C_RA),
  UINTF("M", 40, 1, 0, 0, NULL, C_RA),
  UINTF("O", 41, 1, 0, 0, NULL, C_RA),
  UINTF("H", 42, 1, 0, 0, NULL, C_RA),
  UINTF("prf", 43, 2, 1, 0, ra_prefs, C_RA),
  UINTF("P", 45, 1, 0, 0, NULL, C_RA),
  UINTF("res", 46, 2, 0, 0, NULL, C_RA),
  UINTF("routerlifetime", 48, 16, 1800, 0, NULL, C_RA),
  UINTF("reachabletime", 64, 32, 0, 0, NULL, C_RA),
  UINTF("retranstimer", 96, 32, 0, 0, NULL, C_RA),
  UINTF("res", 32, 32, 0, SF_FF_HEX, NULL, C_NS),
  UINTF("R", 32, 1, 1, 0, NULL, C_NA),
  UINTF("S", 33, 1, 0, 0, NULL, C_NA),
  UINTF("O", 34, 1, 1, 0, NULL, C_NA),
  UINTF("res", 35, 29, 0, SF_FF_HEX, NULL, C_NA),
  UINTF("res", 32, 32, 0, SF_FF_HEX, NULL, C_REDIR),
  IP6F("tgt", 64, "::", C_TGT),
  IP6F("dst", 192, "::", C_REDIR),
  BYTESF("msgbody", 32, 0, NULL, NULL, C_OTHER),
};

static int known_type(unsigned t) {
  return (t >= 1 && t <= 4) || (t >= 128 && t <= 129) || (t >= 133 && t <= 137);
}

static int icmp6_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  unsigned t = h[0];
  (void)hlen;
  switch (cond) {
    case C_UNUSED: return t == 1 || t == 3;
    case C_MTU: return t == 2;
    case C_PTR: return t == 4;
    case C_ECHO: return t == 128 || t == 129;
    case C_RS: return t == 133;
    case C_RA: return t == 134;
    case C_NS: return t == 135;
    case C_NA: return t == 136;
    case C_REDIR: return t == 137;
    case C_TGT: return t >= 135 && t <= 137;
    case C_OTHER: return !known_type(t);
    default: return 1;
  }
}

/* Header length by type; 0 = the body runs to the end of the message. */
static size_t fixed_len(unsigned t) {
  switch (t) {
    case 1: case 2: case 3: case 4: case 133: return 8;
    case 134: return 16;
    case 135: case 136: return 24;
    case 137: return 40;
    case 128: case 129: return 0;
    default: return 0;
  }
}

static size_t icmp6_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 4) return 0;
  want = fixed_len(h[0]);
  if (want == 0) return (h[0] == 128 || h[0] == 129) ? (n >= 8 ? n : 0) : n;
  return want <= n ? want : 0;
}

static size_t icmp6_shape(const uint8_t *h, size_t hlen) {
  size_t want = fixed_len(h[0]);
  if (want) return want;
  if (h[0] == 128 || h[0] == 129) return hlen < 8 ? 8 : hlen;
  return hlen < 4 ? 4 : hlen;
}

static int icmp6_next(const sf_pkt *p, int li) {
  static int ip6, ndopt;
  unsigned t = p->data[p->layers[li].off];
  if (t >= 1 && t <= 4 && proto_named(&ip6, "IPv6") >= 0)
    return proto_named(&ip6, "IPv6") | SF_NEXT_QUOTED;
  if (t >= 133 && t <= 137) return proto_named(&ndopt, "ICMPv6NDOpt");
  return -2;
}

static void icmp6_span(const uint8_t *h, size_t hlen, int fi, size_t *off,
                       size_t *len) {
  (void)h;
  *off = icmp6_fields[fi].bitoff / 8u;
  *len = hlen > *off ? hlen - *off : 0;
}

/* Neighbour discovery built from a constructor gets the addressing Scapy
   gives it (its overload_fields): hop limit 255 and the all-nodes (for a
   router solicitation, all-routers) group, unless the user set them. */
static void nd_overload(sf_pkt *p, int lower, int li) {
  static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
  static const uint8_t all_routers[16] = {0xff, 2, [15] = 2};
  const sf_proto *pr = sf_proto_get(p->layers[lower].proto);
  int hlim = sf_field_find(pr, "hlim"), dst = sf_field_find(pr, "dst");
  uint8_t t = p->layers[li].hlen ? p->data[p->layers[li].off] : 0;
  size_t at;
  if (t < 133 || t > 137 || hlim < 0 || dst < 0 || pr->fields[dst].type != SF_T_IP6)
    return;
  sf_lput(p, lower, hlim, 255);
  at = p->layers[lower].off + pr->fields[dst].bitoff / 8u;
  if (!sf_isset(p, lower, dst) && at + 16 <= p->len)  /* finalize made it ours */
    memcpy((uint8_t *)p->data + at, t == 133 ? all_routers : all_nodes, 16);
}

static const sf_place icmp6_places[] = {{"ip.proto", 58, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_alias icmp6_aliases[] = {{"chksum", "cksum"}, {NULL, NULL}};

static const sf_variant icmp6_variants[] = {
  {"dest_unreach", "ICMPv6DestUnreach", "type", 1},
  {"packet_too_big", "ICMPv6PacketTooBig", "type", 2},
  {"time_exceeded", "ICMPv6TimeExceeded", "type", 3},
  {"param_problem", "ICMPv6ParamProblem", "type", 4},
  {"echo_request", "ICMPv6EchoRequest", "type", 128},
  {"echo_reply", "ICMPv6EchoReply", "type", 129},
  {"nd_rs", "ICMPv6ND_RS", "type", 133}, {"nd_ra", "ICMPv6ND_RA", "type", 134},
  {"nd_ns", "ICMPv6ND_NS", "type", 135}, {"nd_na", "ICMPv6ND_NA", "type", 136},
  {"nd_redirect", "ICMPv6ND_Redirect", "type", 137}, {NULL, NULL, NULL, 0}
};

static const sf_facts icmp6_facts = {
  .role = SF_ROLE_ICMP, .echo_request = 128, .echo_reply = 129, .id = "id",
  .seqno = "seq", .body = "data", .cksum = "cksum",
  .cksum_cover = SF_CK_PSEUDO, .cksum_proto = 58,
  .solicit = 135, .advert = 136, .target = "tgt",
};

/* Router and neighbour advertisements both have an O flag: "O#2" is the
   second field of that name, the advertisement's (sf_wsfield). */
static const sf_wsfield icmp6_ws[] = {
  WS("icmpv6.type", "type"), WS("icmpv6.code", "code"),
  WSX("icmpv6.checksum", "cksum", 4), WS("icmpv6.mtu", "mtu"), WS("icmpv6.pointer", "ptr"),
  WSX("icmpv6.echo.identifier", "id", 4), WS("icmpv6.echo.sequence_number", "seq"),
  WS("icmpv6.nd.ra.cur_hop_limit", "chlim"), WS("icmpv6.nd.ra.flag.m", "M"),
  WS("icmpv6.nd.ra.flag.o", "O#1"), WS("icmpv6.nd.ra.flag.h", "H"),
  WS("icmpv6.nd.ra.flag.prf", "prf"), WS("icmpv6.nd.ra.flag.p", "P"),
  WS("icmpv6.nd.ra.router_lifetime", "routerlifetime"),
  WS("icmpv6.nd.ra.reachable_time", "reachabletime"),
  WS("icmpv6.nd.ra.retrans_timer", "retranstimer"),
  WS("icmpv6.nd.na.flag.r", "R"), WS("icmpv6.nd.na.flag.s", "S"),
  WS("icmpv6.nd.na.flag.o", "O#2"), WSEND
};

/* Scapy's names of the error messages' codes, by type */
static const sf_enum codes_unreach[] = {
  {0, "No route to destination"},
  {1, "Communication with destination administratively prohibited"},
  {2, "Beyond scope of source address"}, {3, "Address unreachable"},
  {4, "Port unreachable"}, {0, NULL}
};
static const sf_enum codes_exceeded[] = {
  {0, "hop limit exceeded in transit"}, {1, "fragment reassembly time exceeded"},
  {0, NULL}
};
static const sf_enum codes_param[] = {
  {0, "erroneous header field encountered"},
  {1, "unrecognized Next Header type encountered"},
  {2, "unrecognized IPv6 option encountered"},
  {3, "first fragment has incomplete header chain"}, {0, NULL}
};

/* "code": the code as Scapy's class of the type names it, else its number */
static int icmp6_text(const sf_pkt *p, int li, const char *what, char *out,
                      size_t cap) {
  const uint8_t *h = p->data + p->layers[li].off;
  const sf_enum *e = NULL;
  if (strcmp(what, "code") != 0 || p->layers[li].hlen < 2) return -1;
  if (h[0] == 1) e = codes_unreach;
  else if (h[0] == 3) e = codes_exceeded;
  else if (h[0] == 4) e = codes_param;
  for (; e && e->name; e++)
    if (e->value == h[1]) return snprintf(out, cap, "%s", e->name);
  return snprintf(out, cap, "%u", h[1]);
}

/* Scapy's ICMPv6 classes' mysummary, by type; the reserved words of
   router and neighbour solicitations are plain numbers there */
static const char *const icmp6_names[] = {"code", "$", "res#1", "decimal",
                                          "res#3", "decimal", "ptr", "decimal", NULL};
static const sf_scapy icmp6_scapy = {
  .names = icmp6_names, .text = icmp6_text,
  .fmt = "{type=128:ICMPv6 Echo Request (id: %id% seq: %seq%)}"
         "{type=129:ICMPv6 Echo Reply (id: %id% seq: %seq%)}"
         "{type=134:ICMPv6 Neighbor Discovery - Router Advertisement Lifetime "
         "%routerlifetime% Hop Limit %chlim% Preference %prf% Managed %M% "
         "Other %O% Home %H%}"
         "{type=135:ICMPv6 Neighbor Discovery - Neighbor Solicitation (tgt: %tgt%)}"
         "{type=136:ICMPv6 Neighbor Discovery - Neighbor Advertisement (tgt: %tgt%)}",
};

static sf_proto icmpv6 = {
  .name = "ICMPv6", .display = "ICMPv6", .kind = "Icmpv6",
  .scapy = &icmp6_scapy,
  .fields = icmp6_fields, .nfields = NFIELDS(icmp6_fields), .minlen = 8,
  .places = icmp6_places, .aliases = icmp6_aliases, .variants = icmp6_variants,
  .facts = &icmp6_facts, .ws = "icmpv6", .ws_fields = icmp6_ws,
  .hdr_len = icmp6_hdr_len, .next = icmp6_next,
  .overload = nd_overload, .present = icmp6_present, .shape_len = icmp6_shape,
  .var = icmp6_span,
};

/* ---- neighbour discovery options ---------------------------------------- */

static const sf_enum ndopt_types[] = {
  {1, "Source Link-Layer Address"}, {2, "Target Link-Layer Address"},
  {3, "Prefix Information"}, {4, "Redirected Header"}, {5, "MTU"},
  {25, "Recursive DNS Server"}, {31, "DNS Search List"}, {0, NULL}
};

enum { O_LLADDR = 1, O_PREFIX, O_MTU, O_OTHER };

static const sf_field ndopt_fields[] = {
  UINTF("type", 0, 8, 1, SF_FF_SHAPE, ndopt_types, 0),
  UINTF("len", 8, 8, 1, SF_FF_AUTO, NULL, 0),
  MACF("lladdr", 16, "00:00:00:00:00:00", O_LLADDR),
  UINTF("prefixlen", 16, 8, 64, 0, NULL, O_PREFIX),
  UINTF("L", 24, 1, 1, 0, NULL, O_PREFIX),
  UINTF("A", 25, 1, 1, 0, NULL, O_PREFIX),
  UINTF("R", 26, 1, 0, 0, NULL, O_PREFIX),
  UINTF("res1", 27, 5, 0, 0, NULL, O_PREFIX),
  UINTF("validlifetime", 32, 32, 0xffffffff, SF_FF_HEX, NULL, O_PREFIX),
  UINTF("preferredlifetime", 64, 32, 0xffffffff, SF_FF_HEX, NULL, O_PREFIX),
  UINTF("res2", 96, 32, 0, SF_FF_HEX, NULL, O_PREFIX),
  IP6F("prefix", 128, "::", O_PREFIX),
  UINTF("res", 16, 16, 0, SF_FF_HEX, NULL, O_MTU),
  UINTF("mtu", 32, 32, 1280, 0, NULL, O_MTU),
  BYTESF("data", 16, 0, NULL, NULL, O_OTHER),
};

static int ndopt_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  unsigned t = h[0];
  (void)hlen;
  switch (cond) {
    case O_LLADDR: return t == 1 || t == 2;
    case O_PREFIX: return t == 3;
    case O_MTU: return t == 5;
    case O_OTHER: return t != 1 && t != 2 && t != 3 && t != 5;
    default: return 1;
  }
}

static size_t ndopt_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 2 || h[1] == 0) return 0;  /* a zero length would loop forever */
  want = (size_t)h[1] * 8;
  return want <= n ? want : 0;
}

static size_t ndopt_shape(const uint8_t *h, size_t hlen) {
  if (h[0] == 3) return 32;
  if (h[0] == 1 || h[0] == 2 || h[0] == 5) return 8;
  return hlen;
}

static int ndopt_next(const sf_pkt *p, int li) {
  (void)li;
  return p->layers[li].proto;  /* options follow one another */
}

static void ndopt_span(const uint8_t *h, size_t hlen, int fi, size_t *off,
                       size_t *len) {
  (void)h;
  (void)fi;
  *off = 2;
  *len = hlen - 2;
}

static void ndopt_fixup(sf_pkt *p, int li) {
  sf_lput(p, li, 1, (p->layers[li].hlen + 7) / 8);
}

static const sf_variant ndopt_variants[] = {
  {"src_lladdr", "ICMPv6NDOptSrcLLAddr", "type", 1},
  {"dst_lladdr", "ICMPv6NDOptDstLLAddr", "type", 2},
  {"prefix_info", "ICMPv6NDOptPrefixInfo", "type", 3},
  {"mtu", "ICMPv6NDOptMTU", "type", 5}, {NULL, NULL, NULL, 0}
};

/* Options are items of Wireshark's ICMPv6, not a protocol of their own:
   no .ws, so frame.protocols leaves them out, as tshark does. */
static const sf_wsfield ndopt_ws[] = {
  WS("icmpv6.opt.type", "type"), WS("icmpv6.opt.length", "len"),
  WS("icmpv6.opt.linkaddr", "lladdr"), WS("icmpv6.opt.prefix.length", "prefixlen"),
  WS("icmpv6.opt.prefix.flag.l", "L"), WS("icmpv6.opt.prefix.flag.a", "A"),
  WS("icmpv6.opt.prefix.flag.r", "R"),
  WS("icmpv6.opt.prefix.valid_lifetime", "validlifetime"),
  WS("icmpv6.opt.prefix.preferred_lifetime", "preferredlifetime"),
  WS("icmpv6.opt.prefix", "prefix"), WS("icmpv6.opt.mtu", "mtu"), WSEND
};

static const char *const ndopt_names[] = {"type", "decimal", NULL};
static const sf_scapy ndopt_scapy = {
  .names = ndopt_names,
  .fmt = "{type=1:ICMPv6 Neighbor Discovery Option - Source Link-Layer Address %lladdr%}"
         "{type=2:ICMPv6 Neighbor Discovery Option - Destination Link-Layer Address %lladdr%}"
         "{type=3:ICMPv6 Neighbor Discovery Option - Prefix Information %prefix%/%prefixlen% "
         "On-link %L% Autonomous Address %A% Router Address %R%}"
         "{type=5:ICMPv6 Neighbor Discovery Option - MTU %mtu%}",
};

static sf_proto ndopt = {
  .name = "ICMPv6NDOpt", .display = "ICMPv6 ND Option",
  .scapy = &ndopt_scapy,
  .kind = "Icmpv6NdOpt", .fields = ndopt_fields,
  .nfields = NFIELDS(ndopt_fields), .minlen = 8, .variants = ndopt_variants,
  .ws_fields = ndopt_ws,
  .hdr_len = ndopt_len, .next = ndopt_next, .fixup = ndopt_fixup,
  .present = ndopt_present, .shape_len = ndopt_shape, .var = ndopt_span,
};

SF_PROTO_FILE(icmpv6) {
  sf_register(&icmpv6);
  sf_register(&ndopt);
}
