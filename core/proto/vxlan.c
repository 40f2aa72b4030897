/*
 * vxlan.c -- VXLAN (RFC 7348) over UDP 4789, with the VXLAN-GPE next
 * protocol (draft-ietf-nvo3-vxlan-gpe) and the group policy option
 * (draft-smith-vxlan-group-policy), as Scapy's VXLAN has them.
 *
 * Plain VXLAN carries an Ethernet frame.  With the next-protocol flag set,
 * NextProtocol says what follows: 1 IPv4, 2 IPv6, 3 Ethernet.  Building
 * VXLAN() / IP() sets that flag and value; VXLAN() / Ether() stays plain
 * RFC 7348 VXLAN (flags 0x08), where Scapy would switch to GPE.
 */
#include "common.h"

enum { F_FLAGS, F_RESERVED0, F_NEXTPROTO, F_RESERVED1, F_GPFLAGS, F_GPID,
       F_VNI, F_RESERVED2 };

#define NP_FLAG 0x04     /* next protocol present (GPE) */
#define G_FLAG 0x80      /* group policy */

static const sf_enum vxlan_flags[] = {
  {0, "OAM"}, {1, "R"}, {2, "NextProtocol"}, {3, "Instance"}, {4, "V1"},
  {5, "V2"}, {6, "R"}, {7, "G"}, {0, NULL}
};

static const sf_enum gp_flags[] = {{3, "A"}, {6, "D"}, {0, NULL}};

static const sf_enum next_protos[] = {
  {0, "NotDefined"}, {1, "IPv4"}, {2, "IPv6"}, {3, "Ethernet"}, {4, "NSH"},
  {0, NULL}
};

enum { C_NP = 1, C_PLAIN, C_GP };

static const sf_field vxlan_fields[] = {
  /* the flags decide which fields follow: a change reshapes the header */
  {"flags", SF_T_FLAGS, SF_FF_SHAPE, 0, 0, 0, 8, 0x08, NULL, vxlan_flags, NULL, NULL},
  UINTF("reserved0", 8, 16, 0, 0, NULL, C_NP),
  UINTF("NextProtocol", 24, 8, 0, 0, next_protos, C_NP),
  UINTF("reserved1", 8, 24, 0, 0, NULL, C_PLAIN),
  FLAGF("gpflags", 8, 8, 0, gp_flags, C_GP),
  UINTF("gpid", 16, 16, 0, 0, NULL, C_GP),
  UINTF("vni", 32, 24, 0, SF_FF_HEX, NULL, 0),
  UINTF("reserved2", 56, 8, 0, SF_FF_HEX, NULL, 0),
};

/* The second to fourth bytes: GPE's next protocol, the group policy, or
   reserved (a header with both flags reads as GPE). */
static int vxlan_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)hlen;
  switch (cond) {
    case C_NP: return (h[0] & NP_FLAG) != 0;
    case C_GP: return (h[0] & (G_FLAG | NP_FLAG)) == G_FLAG;
    case C_PLAIN: return !(h[0] & (G_FLAG | NP_FLAG));
    default: return 1;
  }
}

static size_t vxlan_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 8 ? 8 : 0;
}

static size_t vxlan_shape(const uint8_t *h, size_t hlen) {
  (void)h;
  (void)hlen;
  return 8;
}

static int vxlan_next(const sf_pkt *p, int li) {
  static int ether, ip, ip6;
  const uint8_t *h = p->data + p->layers[li].off;
  if (!(h[0] & NP_FLAG)) return proto_named(&ether, "Ether");
  switch (h[3]) {
    case 0: case 3: return proto_named(&ether, "Ether");
    case 1: return proto_named(&ip, "IP");
    case 2: return proto_named(&ip6, "IPv6");
    default: return -2;  /* NSH and others: Raw */
  }
}

/* A built VXLAN before IPv4 or IPv6 says so with GPE's next protocol. */
static void vxlan_fixup(sf_pkt *p, int li) {
  static int ip, ip6;
  int next = li + 1 < p->nlayers ? p->layers[li + 1].proto : -1, np;
  if (!(p->layers[li].flags & SF_L_BUILT) || next < 0) return;
  if (next == proto_named(&ip, "IP")) np = 1;
  else if (next == proto_named(&ip6, "IPv6")) np = 2;
  else return;
  sf_lput(p, li, F_FLAGS, (sf_lget(p, li, F_FLAGS) | NP_FLAG) & 0xff);
  if (vxlan_present(p, p->data + p->layers[li].off, 8, C_NP))
    sf_lput(p, li, F_NEXTPROTO, (uint64_t)np);
}

/* 4789 is what builders write, to both ports as Scapy does; 4790 is
   VXLAN-GPE's port and 8472 Linux's default. */
static const sf_place vxlan_places[] = {
  {"udp.port", 4789, SF_PL_BOTH_PORTS, NULL},
  {"udp.port", 4790, SF_PL_PARSE_ONLY, NULL},
  {"udp.port", 8472, SF_PL_PARSE_ONLY, NULL},
  {NULL, 0, 0, NULL}
};

/* Wireshark's flags are the first 16 bits; ours the first 8, so the
   flag bits are ours shifted down by 8.  On port 4789 it reads the group
   policy id whatever the G flag and no GPE fields: those are not named. */
static const sf_wsfield vxlan_ws[] = {
  WSBIT("vxlan.flag_g", "flags", 0x80), WSBIT("vxlan.flag_i", "flags", 0x08),
  WS("vxlan.vni", "vni"), WSEND
};

static const sf_scapy vxlan_scapy = {
  .fmt = "{flags&G:VXLAN (vni=%vni% gpid=%gpid%)}{!flags&G:VXLAN (vni=%vni%)}",
};

static sf_proto vxlan = {
  .name = "VXLAN", .display = "VXLAN", .kind = "Vxlan",
  .scapy = &vxlan_scapy,
  .fields = vxlan_fields, .nfields = NFIELDS(vxlan_fields), .minlen = 8,
  .places = vxlan_places, .ws = "vxlan", .ws_fields = vxlan_ws,
  .hdr_len = vxlan_len, .next = vxlan_next,
  .fixup = vxlan_fixup, .present = vxlan_present, .shape_len = vxlan_shape,
};

SF_PROTO_FILE(vxlan) { sf_register(&vxlan); }
