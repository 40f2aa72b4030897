/*
 * ipv4.c -- IPv4 (RFC 791), with options.
 */
#include "common.h"

const sf_enum sf_ip_protos[] = {
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
  UINTF("proto", 72, 8, 0, 0, sf_ip_protos, 0),
  UINTF("chksum", 80, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, 0),
  IP4F("src", 96, "127.0.0.1", 0),
  IP4F("dst", 128, "127.0.0.1", 0),
  BYTESF("options", 160, 4, "ip_options", NULL, 0),
};

static size_t ip_hdr_len(const uint8_t *h, size_t n) {
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

static void ip_checksum(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (clear_checksum(p, li, F_CHKSUM))
    put_checksum(p, li, F_CHKSUM, sf_fold(sf_sum16(p->data + l->off, l->hlen, 0)));
}

static void ip_options(const uint8_t *h, size_t hlen, int fi, size_t *off,
                       size_t *len) {
  (void)h;
  (void)fi;
  *off = 20;
  *len = hlen - 20;
}

static sf_proto ipv4 = {
  .name = "IP", .display = "IPv4", .kind = "Ipv4",
  .fields = ip_fields, .nfields = NFIELDS(ip_fields), .minlen = 20,
  .next_field = F_PROTO, .hdr_len = ip_hdr_len, .extent = ip_extent,
  .next = ip_next, .fixup = ip_fixup, .checksum = ip_checksum,
  .header_checksum = 1,
  .var = ip_options,
};

void sf_register_ipv4(void) {
  sf_register(&ipv4);
  sf_bind(SF_IPV4, 1, SF_ICMP);
  sf_bind(SF_IPV4, 6, SF_TCP);
  sf_bind(SF_IPV4, 17, SF_UDP);
  sf_bind(SF_IPV4, 4, SF_IPV4);
  sf_bind(SF_IPV4, 41, SF_IPV6);
}
