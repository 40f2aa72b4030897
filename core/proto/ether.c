/*
 * ether.c -- Ethernet II, 802.1Q / 802.1ad VLAN tags, ARP.
 */
#include <string.h>

#include "common.h"

/* EtherTypes of protocols sflua does not dissect; the others are named by
   the protocols registered in the "ethertype" table. */
static const sf_enum ether_types[] = {
  {0x8035, "RARP"}, {0x8847, "MPLS"}, {0x8848, "MPLS-multicast"},
  {0x8863, "PPPoED"}, {0x8864, "PPPoE"}, {0x888e, "EAPOL"}, {0x88cc, "LLDP"},
  {0x9000, "LOOP"}, {0, NULL}
};

/* ---- Ethernet II ------------------------------------------------------ */

static const sf_field ether_fields[] = {
  MACF("dst", 0, "ff:ff:ff:ff:ff:ff", 0),
  MACF("src", 48, "00:00:00:00:00:00", 0),
  UINTF("type", 96, 16, 0x9000, SF_FF_HEX, ether_types, 0),
};

static size_t ether_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 14 ? 14 : 0;
}

/* A type of 1500 or less is an 802.3 length: what follows it is padding. */
static size_t ether_extent(const uint8_t *h, size_t hlen, size_t n) {
  unsigned t = rd16(h + 12);
  (void)hlen;
  (void)n;
  return t <= 1500 ? 14u + t : (size_t)-1;
}

/* ... and LLC follows it (llc.c). */
static int ether_next(const sf_pkt *p, int li) {
  static int llc;
  if (rd16(p->data + p->layers[li].off + 12) > 1500) return -1;
  return proto_named(&llc, "LLC");
}

static const sf_place ether_places[] = {{"linktype", 1, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_facts ether_facts = {
  .role = SF_ROLE_LINK, .src = "src", .dst = "dst",
};

static const sf_wsfield ether_ws[] = {
  WS("eth.dst", "dst"), WS("eth.src", "src"), WS2("eth.addr", "dst", "src"),
  WSX("eth.type", "type", 4), WSEND
};

/* Scapy's Ether.mysummary; EtherTypes named from /etc/ethertypes.  A
   frame whose type field is an 802.3 length is Scapy's Dot3 (Ether's
   dispatch_hook), with Dot3's mysummary. */
static int is_8023(const sf_pkt *p, int li) {
  return rd16(p->data + p->layers[li].off + 12) <= 1500;
}

static int ether_text(const sf_pkt *p, int li, const char *what, char *out,
                      size_t cap) {
  if (strcmp(what, "dot3") != 0 || !is_8023(p, li)) return -1;
  if (cap) out[0] = '\0';
  return 0;
}

static const char *ether_cls(const sf_pkt *p, int li) {
  return is_8023(p, li) ? "Dot3" : NULL;
}

static const char *const ether_type_names[] = {"type", "ethertypes", NULL};
static const sf_scapy ether_scapy = {
  .fmt = "{$dot3:802.3 %src% > %dst%}{!$dot3:%src% > %dst% (%type%)}",
  .names = ether_type_names, .text = ether_text, .cls = ether_cls,
};

static sf_proto ether = {
  .name = "Ether", .display = "Ethernet", .kind = "Ethernet",
  .scapy = &ether_scapy,
  .fields = ether_fields, .nfields = NFIELDS(ether_fields), .minlen = 14,
  .next_table = "ethertype", .next_keys = {"type"}, .places = ether_places,
  .facts = &ether_facts, .ws = "eth", .ws_fields = ether_ws,
  .hdr_len = ether_len, .extent = ether_extent, .next = ether_next,
};

/* ---- 802.1Q and 802.1ad ------------------------------------------------- */

static const sf_field dot1q_fields[] = {
  UINTF("prio", 0, 3, 0, 0, NULL, 0),
  UINTF("id", 3, 1, 0, 0, NULL, 0),
  UINTF("vlan", 4, 12, 1, 0, NULL, 0),
  UINTF("type", 16, 16, 0, SF_FF_HEX, ether_types, 0),
};

static size_t dot1q_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 4 ? 4 : 0;
}

/* Stackforge calls the drop-eligible bit by its 802.1Q-2011 name. */
static const sf_alias dot1q_aliases[] = {{"dei", "id"}, {NULL, NULL}};

static const sf_facts dot1q_facts = {.role = SF_ROLE_VLAN, .vlan = "vlan"};

/* 0x9100: the pre-standard QinQ outer tag, read as 802.1Q */
static const sf_place dot1q_places[] = {
  {"ethertype", 0x8100, 0, NULL}, {"ethertype", 0x9100, SF_PL_PARSE_ONLY, NULL},
  {NULL, 0, 0, NULL}
};

static const sf_place dot1ad_places[] = {{"ethertype", 0x88a8, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_wsfield dot1q_ws[] = {
  WS("vlan.priority", "prio"), WS("vlan.dei", "id"), WS("vlan.id", "vlan"),
  WSX("vlan.etype", "type", 4), WSEND
};

/* Wireshark names the 802.1ad tag's fields but not the type after it */
static const sf_wsfield dot1ad_ws[] = {
  WS("ieee8021ad.priority", "prio"), WS("ieee8021ad.dei", "id"),
  WS("ieee8021ad.id", "vlan"), WSEND
};

/* Scapy's Dot1Q.mysummary (Dot1AD inherits it) */
static const sf_scapy dot1q_scapy = {
  .fmt = "{^Ether:802.1q %^src% > %^dst% (%type%) vlan %vlan%}"
         "{!^Ether:802.1q (%type%) vlan %vlan%}",
  .names = ether_type_names,
};

static sf_proto dot1q = {
  .name = "Dot1Q", .display = "802.1Q", .kind = "Dot1Q",
  .scapy = &dot1q_scapy,
  .fields = dot1q_fields, .nfields = NFIELDS(dot1q_fields), .minlen = 4,
  .next_table = "ethertype", .next_keys = {"type"}, .places = dot1q_places,
  .aliases = dot1q_aliases, .facts = &dot1q_facts, .hdr_len = dot1q_len,
  .ws = "vlan", .ws_fields = dot1q_ws,
};

static sf_proto dot1ad = {
  .scapy = &dot1q_scapy,
  .name = "Dot1AD", .display = "802.1AD", .kind = "Dot1AD",
  .fields = dot1q_fields, .nfields = NFIELDS(dot1q_fields), .minlen = 4,
  .next_table = "ethertype", .next_keys = {"type"}, .places = dot1ad_places,
  .aliases = dot1q_aliases, .facts = &dot1q_facts, .hdr_len = dot1q_len,
  .ws = "ieee8021ad", .ws_fields = dot1ad_ws,
};

/* ---- ARP ---------------------------------------------------------------- */

static const sf_enum arp_ops[] = {
  {1, "who-has"}, {2, "is-at"}, {3, "RARP-req"}, {4, "RARP-rep"},
  {5, "Dyn-RARP-req"}, {6, "Dyn-RAR-rep"}, {7, "Dyn-RARP-err"},
  {8, "InARP-req"}, {9, "InARP-rep"}, {0, NULL}
};

static const sf_enum arp_hwtypes[] = {{1, "Ethernet (10Mb)"}, {6, "IEEE 802"}, {0, NULL}};

enum { ARP_ETH_IP = 1 };  /* addresses are Ethernet and IPv4 */

static const sf_field arp_fields[] = {
  UINTF("hwtype", 0, 16, 1, SF_FF_HEX, arp_hwtypes, 0),
  UINTT("ptype", 16, 16, 0x0800, SF_FF_HEX, ether_types, "ethertype"),
  UINTF("hwlen", 32, 8, 6, 0, NULL, 0),
  UINTF("plen", 40, 8, 4, 0, NULL, 0),
  UINTF("op", 48, 16, 1, 0, arp_ops, 0),
  MACF("hwsrc", 64, "00:00:00:00:00:00", ARP_ETH_IP),
  IP4F("psrc", 112, "0.0.0.0", ARP_ETH_IP),
  MACF("hwdst", 144, "00:00:00:00:00:00", ARP_ETH_IP),
  IP4F("pdst", 192, "0.0.0.0", ARP_ETH_IP),
};

static size_t arp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t want;
  if (n < 8) return 0;
  want = 8 + 2u * ((size_t)h[4] + h[5]);
  return want <= n ? want : 0;
}

/* ARP carries nothing after its addresses: the rest is padding. */
static size_t arp_extent(const uint8_t *h, size_t hlen, size_t n) {
  (void)h;
  (void)n;
  return hlen;
}

static int arp_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)cond;
  return hlen >= 28 && h[4] == 6 && h[5] == 4;
}

static const sf_place arp_places[] = {{"ethertype", 0x0806, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_variant arp_variants[] = {
  {"who_has", NULL, "op", 1}, {"is_at", NULL, "op", 2}, {NULL, NULL, NULL, 0}
};

/* who-has asks for pdst; is-at answers from it (psrc) */
static const sf_facts arp_facts = {
  .role = SF_ROLE_RESOLVE, .op = "op", .solicit = 1, .advert = 2,
  .src = "psrc", .dst = "pdst", .lsrc = "hwsrc",
};

static const sf_wsfield arp_ws[] = {
  WS("arp.hw.type", "hwtype"), WSX("arp.proto.type", "ptype", 4),
  WS("arp.hw.size", "hwlen"), WS("arp.proto.size", "plen"), WS("arp.opcode", "op"),
  WS("arp.src.hw_mac", "hwsrc"), WS("arp.src.proto_ipv4", "psrc"),
  WS("arp.dst.hw_mac", "hwdst"), WS("arp.dst.proto_ipv4", "pdst"), WSEND
};

/* Addresses of other sizes are not named fields: show them as payload. */
static const char *const arp_names[] = {"ptype", "ethertypes", NULL};
static const sf_scapy arp_scapy = {
  .fmt = "{op=1:ARP who has %pdst% says %psrc%}{op=2:ARP is at %hwsrc% says %psrc%}"
         "{!op=1:{!op=2:ARP %op% %psrc% > %pdst%}}",
  .names = arp_names,
};

static sf_proto arp = {
  .name = "ARP", .display = "ARP", .kind = "Arp",
  .scapy = &arp_scapy,
  .fields = arp_fields, .nfields = NFIELDS(arp_fields), .minlen = 28,
  .places = arp_places, .variants = arp_variants, .facts = &arp_facts,
  .ws = "arp", .ws_fields = arp_ws,
  .hdr_len = arp_len, .extent = arp_extent, .present = arp_present,
};

SF_PROTO_FILE(ether) {
  sf_register(&ether);
  sf_register(&dot1q);
  sf_register(&dot1ad);
  sf_register(&arp);
}
