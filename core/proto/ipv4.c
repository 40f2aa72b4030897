/*
 * ipv4.c -- IPv4 (RFC 791), with options.
 */
#include "common.h"

static const sf_enum ip_protos[] = {
  {0, "hopopt"}, {1, "icmp"}, {2, "igmp"}, {4, "ipencap"}, {6, "tcp"},
  {17, "udp"}, {41, "ipv6"}, {43, "ipv6_route"}, {44, "ipv6_frag"},
  {47, "gre"}, {50, "esp"}, {51, "ah"}, {58, "ipv6_icmp"},
  {59, "ipv6_nonxt"}, {60, "ipv6_opts"}, {89, "ospf"}, {103, "pim"},
  {112, "vrrp"}, {115, "l2tp"}, {132, "sctp"}, {0, NULL}
};

static const sf_enum ip_flags[] = {{0, "MF"}, {1, "DF"}, {2, "evil"}, {0, NULL}};

enum { F_VERSION, F_IHL, F_TOS, F_LEN, F_ID, F_FLAGS, F_FRAG, F_TTL, F_PROTO,
       F_CHKSUM, F_SRC, F_DST, F_OPTIONS };

static const sf_field ip_fields[] = {
  UINTF("version", 0, 4, 4, 0, NULL, 0),
  UINTF("ihl", 4, 4, 5, SF_FF_AUTO, NULL, 0),
  UINTF("tos", 8, 8, 0, SF_FF_HEX, NULL, 0),
  UINTF("len", 16, 16, 20, SF_FF_AUTO, NULL, 0),
  UINTF("id", 32, 16, 1, 0, NULL, 0),
  FLAGF("flags", 48, 3, 0, ip_flags, 0),
  UINTF("frag", 51, 13, 0, 0, NULL, 0),
  UINTF("ttl", 64, 8, 64, 0, NULL, 0),
  UINTF("proto", 72, 8, 0, 0, ip_protos, 0),
  UINTF("chksum", 80, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, 0),
  IP4F("src", 96, "127.0.0.1", 0),
  IP4F("dst", 128, "127.0.0.1", 0),
  BYTESF("options", 160, 4, "ip_options", NULL, 0),
};

static size_t ip_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t hl;
  if (n < 20) return 0;
  hl = (size_t)(h[0] & 15) * 4;
  return (hl >= 20 && hl <= n) ? hl : 0;
}

/* A total length of 0 is a segmentation-offload capture: take it all. */
static size_t ip_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t tot = rd16(h + 2);
  (void)hlen;
  (void)n;
  return tot ? tot : (size_t)-1;
}

/* Fragments after the first carry no header of the next protocol. */
static int ip_next(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  return (rd16(h + 6) & 0x1fff) ? -2 : -1;
}

static void ip_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_IHL, l->hlen / 4);
  sf_lput(p, li, F_LEN, l->end - l->off);
}

static void ip_options(const uint8_t *h, size_t hlen, int fi, size_t *off,
                       size_t *len) {
  (void)h;
  (void)fi;
  *off = 20;
  *len = hlen - 20;
}

/* With one loose or strict source route, TCP and UDP checksums use its
   last address: the final destination (RFC 791, RFC 9293 3.1; as Scapy
   and Linux).  With several, the header's destination stays. */
static const uint8_t *final_dst(const uint8_t *h, size_t hlen) {
  const uint8_t *last = NULL;
  size_t pos = 0;
  int routes = 0;
  sf_opt o;
  while (sf_opt_next(h + 20, hlen - 20, &pos, SF_OPT_IP, &o)) {
    if (o.kind != 131 && o.kind != 137) continue;
    routes++;
    last = o.len >= 7 ? h + 20 + o.off + o.len - 4 : NULL;
  }
  return (routes == 1 && last) ? last : h + 16;
}

static int ip_pseudo(const sf_pkt *p, int ip, int li, uint64_t *acc) {
  const sf_layer *l = &p->layers[ip];
  const uint8_t *h = p->data + l->off;
  (void)li;
  if (l->hlen < 20) return 0;
  *acc = sf_sum16(h + 12, 4, *acc);
  *acc = sf_sum16(final_dst(h, l->hlen), 4, *acc);
  return 1;
}

static int ip_fragment(const uint8_t *h, size_t hlen, sf_frag *f) {
  unsigned ff = rd16(h + 6);
  if (hlen < 20 || !(ff & 0x3fff)) return 0;  /* MF clear, offset 0 */
  f->offset = (ff & 0x1fff) * 8u;
  f->more = (ff >> 13) & 1;
  f->id = rd16(h + 4);
  return 1;
}

static int is_v4(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return n > 0 && (h[0] >> 4) == 4;
}

/* Raw IP link types: 101 (LINKTYPE_RAW, what builders write), 12 and 14
   (DLT_RAW on some BSDs) carry either version, the first nibble says
   which; 228 is IPv4 only. */
static const sf_place ip_places[] = {
  {"ethertype", 0x0800, 0, NULL}, {"ip.proto", 4, 0, NULL},
  {"null.type", 2, 0, NULL}, {"linktype", 101, 0, is_v4},
  {"linktype", 228, SF_PL_PARSE_ONLY, NULL},
  {"linktype", 12, SF_PL_PARSE_ONLY, is_v4}, {"linktype", 14, SF_PL_PARSE_ONLY, is_v4},
  {NULL, 0, 0, NULL}
};

static const sf_alias ip_aliases[] = {{"checksum", "chksum"}, {NULL, NULL}};

static const sf_facts ip_facts = {
  .role = SF_ROLE_NET, .src = "src", .dst = "dst", .cksum = "chksum",
  .cksum_cover = SF_CK_HEADER, .pseudo = ip_pseudo, .fragment = ip_fragment,
};

/* Our flags are Wireshark's three bits, MF lowest; the fragment offset
   is in 8-octet units, as ours. */
static const sf_wsfield ip_ws[] = {
  WS("ip.version", "version"), WSMUL("ip.hdr_len", "ihl", 4),
  WSX("ip.dsfield", "tos", 2), WSBIT("ip.dsfield.dscp", "tos", 0xfc),
  WSBIT("ip.dsfield.ecn", "tos", 0x03), WS("ip.len", "len"), WSX("ip.id", "id", 4),
  WSX("ip.flags", "flags", 2), WSBIT("ip.flags.rb", "flags", 0x4),
  WSBIT("ip.flags.df", "flags", 0x2), WSBIT("ip.flags.mf", "flags", 0x1),
  WS("ip.frag_offset", "frag"), WS("ip.ttl", "ttl"), WS("ip.proto", "proto"),
  WSX("ip.checksum", "chksum", 4), WS("ip.src", "src"), WS("ip.dst", "dst"),
  WS2("ip.addr", "src", "dst"), WSEND
};

static const char *const ip_names[] = {"proto", "protocols", NULL};
static const sf_scapy ip_scapy = {
  .fmt = "%src% > %dst% %proto%{frag: frag:%r,frag%}", .quoted = "IPerror",
  .names = ip_names,
};

static sf_proto ipv4 = {
  .name = "IP", .display = "IPv4", .kind = "Ipv4",
  .scapy = &ip_scapy,
  .fields = ip_fields, .nfields = NFIELDS(ip_fields), .minlen = 20,
  .next_table = "ip.proto", .next_keys = {"proto"}, .places = ip_places,
  .aliases = ip_aliases, .facts = &ip_facts, .ws = "ip", .ws_fields = ip_ws,
  .hdr_len = ip_hdr_len, .extent = ip_extent, .next = ip_next,
  .fixup = ip_fixup, .var = ip_options,
};

SF_PROTO_FILE(ipv4) { sf_register(&ipv4); }
