/*
 * ppp.c -- the Point-to-Point Protocol (RFC 1661): the HDLC-like address
 * and control bytes (RFC 1662), the protocol field, LCP and IPCP (RFC
 * 1332) messages with their options, with Scapy's class and field names
 * (HDLC, PPP, PPP_LCP*, PPP_IPCP*).
 *
 * PPP's protocol field is one byte when that byte is odd (protocol field
 * compression: a first byte with its low bit set ends the field), as
 * Scapy reads it; Scapy writes values below 0x100 in one byte.  What
 * follows is found in the "ppp.proto" table, where LCP and IPCP take
 * their places; IPv4 (0x0021) and IPv6 (0x0057) are entries this file
 * makes for them (`carries`), as IPv4's file cannot know of PPP.
 *
 * An LCP or IPCP Configure message's options are layers of their own
 * after it (PPP_LCP_MRU_Option, PPP_IPCP_Option_IPAddress, ...), as TLS's
 * extensions are: the message's extent is its length, so its options end
 * where it does and what lies past it is Padding.
 *
 * Reached by L2TP's data messages (core/proto/l2tp.c names PPP and HDLC)
 * and by link type 9 (LINKTYPE_PPP).  PAP, CHAP and the other control
 * protocols are left as Raw.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

/* ---- HDLC: address and control -------------------------------------------------- */

static const sf_field hdlc_fields[] = {
  UINTF("address", 0, 8, 0xff, SF_FF_HEX, NULL, 0),
  UINTF("control", 8, 8, 0x03, SF_FF_HEX, NULL, 0),
};

static size_t hdlc_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 2 ? 2 : 0;
}

static int hdlc_next(const sf_pkt *p, int li) {
  static int ppp;
  (void)p;
  (void)li;
  return proto_named(&ppp, "PPP");
}

/* A PPP frame in HDLC-like framing starts with ff 03. */
static int is_hdlc(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return n >= 2 && h[0] == 0xff && h[1] == 0x03;
}

/* link type 9, and EtherType 0x880b (PPTP's enhanced GRE), as Scapy
   dispatches: ff 03 first is HDLC framing, else bare PPP */
static const sf_place hdlc_places[] = {
  {"linktype", 9, 0, is_hdlc}, {"ethertype", 0x880b, 0, is_hdlc}, {NULL, 0, 0, NULL}
};

static const sf_wsfield hdlc_ws[] = {
  WSX("ppp.address", "address", 2), WSX("ppp.control", "control", 2), WSEND
};

static sf_proto hdlc = {
  .name = "HDLC", .display = "HDLC", .kind = "Hdlc",
  .fields = hdlc_fields, .nfields = NFIELDS(hdlc_fields), .minlen = 2,
  .places = hdlc_places, .ws_fields = hdlc_ws, .hdr_len = hdlc_len, .next = hdlc_next,
};

/* ---- PPP: the protocol field -------------------------------------------------------- */

static const sf_enum ppp_protos[] = {
  {0x0021, "IPv4"}, {0x0057, "IPv6"}, {0x8021, "IPCP"}, {0x8057, "IPv6CP"},
  {0xc021, "LCP"}, {0xc023, "PAP"}, {0xc223, "CHAP"}, {0xc227, "EAP"},
  {0x80fd, "CCP"}, {0x00fd, "CCP data"}, {0, NULL}
};

static const sf_field ppp_fields[] = {
  UINTF("proto", 0, 16, 0x0021, SF_FF_HEX, ppp_protos, 0),
};

/* one byte when the first is odd (RFC 1661 section 2) */
static size_t proto_bytes(const uint8_t *h) { return (h[0] & 1) ? 1 : 2; }

static size_t ppp_layout(const sf_proto *pr, const uint8_t *h, size_t n, sf_span *sp,
                         int build) {
  size_t k;
  (void)pr;
  (void)build;
  if (n < 1 || (k = proto_bytes(h)) > n) return 0;
  sp[0].bitoff = 0;
  sp[0].bits = (uint32_t)(8 * k);
  return k;
}

static size_t ppp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  sf_span sp[1];
  (void)p;
  return ppp_layout(NULL, h, n, sp, 0);
}

/* The field written as Scapy writes it: one byte below 0x100. */
static int put_proto(sf_pkt *p, int li, uint64_t v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  const sf_layer *l = &p->layers[li];
  return v < 0x100 ? sf_pkt_splice(p, li, l->off, l->hlen, b + 1, 1)
                   : sf_pkt_splice(p, li, l->off, l->hlen, b, 2);
}

static int ppp_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  (void)fi;
  return put_proto(p, li, v ? v->u : pr->fields[0].def);
}

/* The value of what follows (the builder's own write cannot widen the
   field from one byte to two). */
static void ppp_fixup(sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_layer *l = &p->layers[li];
  uint64_t v;
  if (sf_isset(p, li, 0) || li + 1 >= p->nlayers) return;
  if (p->layers[li + 1].off != l->off + l->hlen) return;
  if (sf_table_value(pr->table, p->layers[li + 1].proto, &v) &&
      v != sf_lget(p, li, 0))
    put_proto(p, li, v);
}

static const sf_dyn ppp_dyn = {.layout = ppp_layout, .set = ppp_set};
static const uint8_t ppp_default[] = {0x21};

/* IPv4 and IPv6 over PPP: entries this file makes in its own table */
static const sf_carry ppp_carries[] = {
  {0x0021, "IP", 0}, {0x0057, "IPv6", 0}, {0, NULL, 0}
};

/* a frame without address and control (PPPoE, L2TP without them) */
static int not_hdlc(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  return !is_hdlc(p, li, h, n);
}

static const sf_place ppp_places[] = {
  {"linktype", 9, SF_PL_PARSE_ONLY, not_hdlc}, {"ethertype", 0x880b, 0, not_hdlc},
  {NULL, 0, 0, NULL}
};

static const sf_wsfield ppp_ws[] = {WSX("ppp.protocol", "proto", 4), WSEND};

/* How Scapy 2.5 shows the protocol field (its _PPP_PROTOCOLS, the IANA
   registry's names; other values in decimal): show2() and sprintf agree
   with Scapy's.  sflua's own names, above, are the short ones. */
static const sf_enum scapy_ppp_protos[] = {
  {0x0001, "Padding Protocol"}, {0x0003, "ROHC small-CID [RFC3095]"},
  {0x0005, "ROHC large-CID [RFC3095]"}, {0x0021, "Internet Protocol version 4"},
  {0x0023, "OSI Network Layer"}, {0x0025, "Xerox NS IDP"},
  {0x0027, "DECnet Phase IV"}, {0x0029, "Appletalk"}, {0x002b, "Novell IPX"},
  {0x002d, "Van Jacobson Compressed TCP/IP"},
  {0x002f, "Van Jacobson Uncompressed TCP/IP"}, {0x0031, "Bridging PDU"},
  {0x0033, "Stream Protocol (ST-II)"}, {0x0035, "Banyan Vines"},
  {0x0037, "reserved (until 1993) [Typo in RFC1172]"}, {0x0039, "AppleTalk EDDP"},
  {0x003b, "AppleTalk SmartBuffered"}, {0x003d, "Multi-Link [RFC1717]"},
  {0x003f, "NETBIOS Framing"}, {0x0041, "Cisco Systems"},
  {0x0043, "Ascom Timeplex"},
  {0x0045, "Fujitsu Link Backup and Load Balancing (LBLB)"},
  {0x0047, "DCA Remote Lan"},
  {0x0049, "Serial Data Transport Protocol (PPP-SDTP)"},
  {0x004b, "SNA over 802.2"}, {0x004d, "SNA"}, {0x004f, "IPv6 Header Compression"},
  {0x0051, "KNX Bridging Data [ianp]"}, {0x0053, "Encryption [Meyer]"},
  {0x0055, "Individual Link Encryption [Meyer]"},
  {0x0057, "Internet Protocol version 6 [Hinden]"},
  {0x0059, "PPP Muxing [RFC3153]"},
  {0x005b, "Vendor-Specific Network Protocol (VSNP) [RFC3772]"},
  {0x0061, "RTP IPHC Full Header [RFC3544]"},
  {0x0063, "RTP IPHC Compressed TCP [RFC3544]"},
  {0x0065, "RTP IPHC Compressed Non TCP [RFC3544]"},
  {0x0067, "RTP IPHC Compressed UDP 8 [RFC3544]"},
  {0x0069, "RTP IPHC Compressed RTP 8 [RFC3544]"}, {0x006f, "Stampede Bridging"},
  {0x0071, "Reserved [Fox]"}, {0x0073, "MP+ Protocol [Smith]"},
  {0x007d, "reserved (Control Escape) [RFC1661]"},
  {0x007f, "reserved (compression inefficient [RFC1662]"},
  {0x0081, "Reserved Until 20-Oct-2000 [IANA]"},
  {0x0083, "Reserved Until 20-Oct-2000 [IANA]"}, {0x00c1, "NTCITS IPI [Ungar]"},
  {0x00cf, "reserved (PPP NLID)"},
  {0x00fb, "single link compression in multilink [RFC1962]"},
  {0x00fd, "compressed datagram [RFC1962]"},
  {0x00ff, "reserved (compression inefficient)"}, {0x0201, "802.1d Hello Packets"},
  {0x0203, "IBM Source Routing BPDU"}, {0x0205, "DEC LANBridge100 Spanning Tree"},
  {0x0207, "Cisco Discovery Protocol [Sastry]"},
  {0x0209, "Netcs Twin Routing [Korfmacher]"},
  {0x020b, "STP - Scheduled Transfer Protocol [Segal]"},
  {0x020d, "EDP - Extreme Discovery Protocol [Grosser]"},
  {0x0211, "Optical Supervisory Channel Protocol (OSCP)[Prasad]"},
  {0x0213, "Optical Supervisory Channel Protocol (OSCP)[Prasad]"},
  {0x0231, "Luxcom"}, {0x0233, "Sigma Network Systems"},
  {0x0235, "Apple Client Server Protocol [Ridenour]"},
  {0x0281, "MPLS Unicast [RFC3032]  "}, {0x0283, "MPLS Multicast [RFC3032]"},
  {0x0285, "IEEE p1284.4 standard - data packets [Batchelder]"},
  {0x0287, "ETSI TETRA Network Protocol Type 1 [Nieminen]"},
  {0x0289, "Multichannel Flow Treatment Protocol [McCann]"},
  {0x2063, "RTP IPHC Compressed TCP No Delta [RFC3544]"},
  {0x2065, "RTP IPHC Context State [RFC3544]"},
  {0x2067, "RTP IPHC Compressed UDP 16 [RFC3544]"},
  {0x2069, "RTP IPHC Compressed RTP 16 [RFC3544]"},
  {0x4001, "Cray Communications Control Protocol [Stage]"},
  {0x4003, "CDPD Mobile Network Registration Protocol [Quick]"},
  {0x4005, "Expand accelerator protocol [Rachmani]"},
  {0x4007, "ODSICP NCP [Arvind]"}, {0x4009, "DOCSIS DLL [Gaedtke]"},
  {0x400b, "Cetacean Network Detection Protocol [Siller]"},
  {0x4021, "Stacker LZS [Simpson]"}, {0x4023, "RefTek Protocol [Banfill]"},
  {0x4025, "Fibre Channel [Rajagopal]"}, {0x4027, "EMIT Protocols [Eastham]"},
  {0x405b, "Vendor-Specific Protocol (VSP) [RFC3772]"},
  {0x8021, "Internet Protocol Control Protocol"},
  {0x8023, "OSI Network Layer Control Protocol"},
  {0x8025, "Xerox NS IDP Control Protocol"},
  {0x8027, "DECnet Phase IV Control Protocol"},
  {0x8029, "Appletalk Control Protocol"}, {0x802b, "Novell IPX Control Protocol"},
  {0x802d, "reserved"}, {0x802f, "reserved"}, {0x8031, "Bridging NCP"},
  {0x8033, "Stream Protocol Control Protocol"},
  {0x8035, "Banyan Vines Control Protocol"}, {0x8037, "reserved (until 1993)"},
  {0x8039, "reserved"}, {0x803b, "reserved"},
  {0x803d, "Multi-Link Control Protocol"},
  {0x803f, "NETBIOS Framing Control Protocol"},
  {0x8041, "Cisco Systems Control Protocol"}, {0x8043, "Ascom Timeplex"},
  {0x8045, "Fujitsu LBLB Control Protocol"},
  {0x8047, "DCA Remote Lan Network Control Protocol (RLNCP)"},
  {0x8049, "Serial Data Control Protocol (PPP-SDCP)"},
  {0x804b, "SNA over 802.2 Control Protocol"}, {0x804d, "SNA Control Protocol"},
  {0x804f, "IP6 Header Compression Control Protocol"},
  {0x8051, "KNX Bridging Control Protocol [ianp]"},
  {0x8053, "Encryption Control Protocol [Meyer]"},
  {0x8055, "Individual Link Encryption Control Protocol [Meyer]"},
  {0x8057, "IPv6 Control Protovol [Hinden]"},
  {0x8059, "PPP Muxing Control Protocol [RFC3153]"},
  {0x805b, "Vendor-Specific Network Control Protocol (VSNCP) [RFC3772]"},
  {0x806f, "Stampede Bridging Control Protocol"}, {0x8071, "Reserved [Fox]"},
  {0x8073, "MP+ Control Protocol [Smith]"},
  {0x807d, "Not Used - reserved [RFC1661]"},
  {0x8081, "Reserved Until 20-Oct-2000 [IANA]"},
  {0x8083, "Reserved Until 20-Oct-2000 [IANA]"},
  {0x80c1, "NTCITS IPI Control Protocol [Ungar]"},
  {0x80cf, "Not Used - reserved [RFC1661]"},
  {0x80fb, "single link compression in multilink control [RFC1962]"},
  {0x80fd, "Compression Control Protocol [RFC1962]"},
  {0x80ff, "Not Used - reserved [RFC1661]"},
  {0x8207, "Cisco Discovery Protocol Control [Sastry]"},
  {0x8209, "Netcs Twin Routing [Korfmacher]"},
  {0x820b, "STP - Control Protocol [Segal]"},
  {0x820d, "EDPCP - Extreme Discovery Protocol Ctrl Prtcl [Grosser]"},
  {0x8235, "Apple Client Server Protocol Control [Ridenour]"},
  {0x8281, "MPLSCP [RFC3032]"},
  {0x8285, "IEEE p1284.4 standard - Protocol Control [Batchelder]"},
  {0x8287, "ETSI TETRA TNP1 Control Protocol [Nieminen]"},
  {0x8289, "Multichannel Flow Treatment Protocol [McCann]"},
  {0xc021, "Link Control Protocol"}, {0xc023, "Password Authentication Protocol"},
  {0xc025, "Link Quality Report"},
  {0xc027, "Shiva Password Authentication Protocol"},
  {0xc029, "CallBack Control Protocol (CBCP)"},
  {0xc02b, "BACP Bandwidth Allocation Control Protocol [RFC2125]"},
  {0xc02d, "BAP [RFC2125]"},
  {0xc05b, "Vendor-Specific Authentication Protocol (VSAP) [RFC3772]"},
  {0xc081, "Container Control Protocol [KEN]"},
  {0xc223, "Challenge Handshake Authentication Protocol"},
  {0xc225, "RSA Authentication Protocol [Narayana]"},
  {0xc227, "Extensible Authentication Protocol [RFC2284]"},
  {0xc229, "Mitsubishi Security Info Exch Ptcl (SIEP) [Seno]"},
  {0xc26f, "Stampede Bridging Authorization Protocol"},
  {0xc281, "Proprietary Authentication Protocol [KEN]"},
  {0xc283, "Proprietary Authentication Protocol [Tackabury]"},
  {0xc481, "Proprietary Node ID Authentication Protocol [KEN]"}, {0, NULL}
};

static int ppp_text(const sf_pkt *p, int li, const char *what, char *out,
                    size_t cap) {
  const sf_enum *e;
  uint64_t v = sf_lget(p, li, 0);
  if (strcmp(what, "proto") != 0) return -1;
  for (e = scapy_ppp_protos; e->name; e++)
    if (e->value == v) return snprintf(out, cap, "%s", e->name);
  return snprintf(out, cap, "%u", (unsigned)v);
}

static const char *const ppp_scapy_names[] = {"proto", "$", NULL};
static const sf_scapy ppp_scapy = {.names = ppp_scapy_names, .text = ppp_text};

static sf_proto ppp = {
  .name = "PPP", .display = "PPP", .kind = "Ppp", .scapy = &ppp_scapy,
  .fields = ppp_fields, .nfields = NFIELDS(ppp_fields), .minlen = 1,
  .next_table = "ppp.proto", .next_keys = {"proto"}, .places = ppp_places,
  .carries = ppp_carries, .ws = "ppp", .ws_fields = ppp_ws,
  .hdr_len = ppp_len, .fixup = ppp_fixup, .dyn = &ppp_dyn, .deftmpl = ppp_default,
};

/* ---- LCP and IPCP messages -------------------------------------------------------------- */

static const sf_enum lcp_codes[] = {
  {1, "Configure-Request"}, {2, "Configure-Ack"}, {3, "Configure-Nak"},
  {4, "Configure-Reject"}, {5, "Terminate-Request"}, {6, "Terminate-Ack"},
  {7, "Code-Reject"}, {8, "Protocol-Reject"}, {9, "Echo-Request"},
  {10, "Echo-Reply"}, {11, "Discard-Request"}, {0, NULL}
};

static const sf_enum ipcp_codes[] = {
  {1, "Configure-Request"}, {2, "Configure-Ack"}, {3, "Configure-Nak"},
  {4, "Configure-Reject"}, {5, "Terminate-Request"}, {6, "Terminate-Ack"},
  {7, "Code-Reject"}, {0, NULL}
};

/* code, id, length: the head of every LCP and IPCP message */
#define MSG_HEAD(def, names)                                \
  UINTF("code", 0, 8, (def), 0, (names), 0),                \
  UINTF("id", 8, 8, 0, SF_FF_HEX, NULL, 0),                 \
  UINTF("len", 16, 16, 0, SF_FF_AUTO, NULL, 0)
enum { F_CODE, F_ID, F_LEN };

/* What each of this file's layers is: a message whose options follow it,
   an LCP option, an IPCP option, or a message whole in its header. */
enum { K_NONE, K_LCP_CONF, K_IPCP, K_LCP_OPT, K_IPCP_OPT, K_MSG };
static uint8_t kind[SF_MAX_PROTOS];

static size_t len_at(const uint8_t *h, size_t n, size_t min) {
  size_t len;
  if (n < min) return 0;
  len = rd16(h + 2);
  return len >= min && len <= n ? len : 0;
}

/* A message whole in its header: its length says how long. */
static size_t msg4_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return len_at(h, n, 4);
}

static size_t msg6_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return len_at(h, n, 6);
}

static size_t msg8_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return len_at(h, n, 8);
}

/* A Configure message's header is its first four bytes: options follow. */
static size_t conf_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 4 ? 4 : 0;
}

/* What the length claims: options and padding stop there. */
static size_t msg_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t len = rd16(h + 2);
  (void)hlen;
  (void)n;
  return len >= 4 ? len : 4;
}

/* variable bytes from byte k of the header to its end */
#define VAR_FROM(name, k)                                                      \
  static void name(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) { \
    (void)h;                                                                   \
    (void)fi;                                                                  \
    *off = hlen >= (k) ? (k) : hlen;                                           \
    *len = hlen - *off;                                                        \
  }
VAR_FROM(var_from2, 2)
VAR_FROM(var_from3, 3)
VAR_FROM(var_from4, 4)
VAR_FROM(var_from6, 6)
VAR_FROM(var_from8, 8)

/* The options a Configure message's length counts are the option layers
   right after it; a message whole in its header counts its header. */
static size_t options_end(const sf_pkt *p, int li) {
  size_t e = p->layers[li].off + p->layers[li].hlen;
  int j, opt = kind[p->layers[li].proto] == K_LCP_CONF ? K_LCP_OPT : K_IPCP_OPT;
  for (j = li + 1; j < p->nlayers; j++) {
    const sf_layer *l = &p->layers[j];
    if (kind[l->proto] != opt || l->off != e) break;
    e += l->hlen;
  }
  return e;
}

/* A parsed message the capture cut keeps the length its header says. */
static void msg_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t e;
  if (!(l->flags & SF_L_BUILT) && (l->flags & SF_L_TRUNC)) return;
  e = kind[l->proto] == K_MSG ? l->off + l->hlen : options_end(p, li);
  sf_lput(p, li, F_LEN, e - l->off);
}

/* The option at the start of the bytes after layer li, inside the
   message's extent. */
static int lcp_option_at(const uint8_t *h, size_t n);
static int ipcp_option_at(const uint8_t *h, size_t n);

static int options_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t pos = l->off + l->hlen;
  int k = kind[l->proto];
  if (pos >= l->end) return -2;
  if (k == K_LCP_CONF || k == K_LCP_OPT) return lcp_option_at(p->data + pos, l->end - pos);
  return ipcp_option_at(p->data + pos, l->end - pos);
}

static int msg_next(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return -2;
}

/* Several LCP messages share 0xc021: each takes the codes it has. */
#define CODE_ACCEPT(name, test)                                                   \
  static int name(const sf_pkt *p, int li, const uint8_t *h, size_t n) {          \
    (void)p;                                                                      \
    (void)li;                                                                     \
    return n >= 1 && (test);                                                      \
  }
CODE_ACCEPT(is_configure, h[0] >= 1 && h[0] <= 4)
CODE_ACCEPT(is_terminate, h[0] == 5 || h[0] == 6)
CODE_ACCEPT(is_code_reject, h[0] == 7)
CODE_ACCEPT(is_proto_reject, h[0] == 8)
CODE_ACCEPT(is_echo, h[0] == 9 || h[0] == 10)
CODE_ACCEPT(is_discard, h[0] == 11)

#define LCP_PLACES(name, accept) \
  static const sf_place name[] = {{"ppp.proto", 0xc021, 0, (accept)}, {NULL, 0, 0, NULL}}
LCP_PLACES(lcp_places, NULL);
LCP_PLACES(conf_places, is_configure);
LCP_PLACES(term_places, is_terminate);
LCP_PLACES(coderej_places, is_code_reject);
LCP_PLACES(protorej_places, is_proto_reject);
LCP_PLACES(echo_places, is_echo);
LCP_PLACES(discard_places, is_discard);

#define WS_MSG(pfx) WS("ppp.code", "code"), WS("ppp.identifier", "id"), \
                    WS("ppp.length", "len")
static const sf_wsfield lcp_ws[] = {WS_MSG("lcp"), WSEND};
static const sf_wsfield lcp_magic_ws[] = {WS_MSG("lcp"), WSX("lcp.magic_number", "magic_number", 8), WSEND};
static const sf_wsfield lcp_rej_ws[] = {WS_MSG("lcp"), WSX("lcp.rej_proto", "rejected_protocol", 4), WSEND};
static const sf_wsfield ipcp_ws[] = {WS_MSG("ipcp"), WSEND};

static const sf_field lcp_fields[] = {MSG_HEAD(5, lcp_codes), BYTESF("data", 32, 0, NULL, NULL, 0)};
static const sf_field conf_fields[] = {MSG_HEAD(1, lcp_codes)};
static const sf_field coderej_fields[] = {
  MSG_HEAD(7, lcp_codes), BYTESF("rejected_packet", 32, 0, NULL, NULL, 0)
};
static const sf_field protorej_fields[] = {
  MSG_HEAD(8, lcp_codes), UINTF("rejected_protocol", 32, 16, 0, SF_FF_HEX, ppp_protos, 0),
  BYTESF("rejected_information", 48, 0, NULL, NULL, 0)
};
static const sf_field echo_fields[] = {
  MSG_HEAD(9, lcp_codes), UINTF("magic_number", 32, 32, 0, SF_FF_HEX, NULL, 0),
  BYTESF("data", 64, 0, NULL, NULL, 0)
};
static const sf_field discard_fields[] = {
  MSG_HEAD(11, lcp_codes), UINTF("magic_number", 32, 32, 0, SF_FF_HEX, NULL, 0),
  BYTESF("data", 64, 0, NULL, NULL, 0)
};
static const sf_field ipcp_fields[] = {MSG_HEAD(1, ipcp_codes)};

/* Scapy's PPP_LCP.mysummary, which its LCP messages share; their magic
   numbers are Scapy's IntField, shown in decimal */
static const char *const lcp_scapy_names[] = {"magic_number", "decimal", NULL};
static const sf_scapy lcp_scapy = {.fmt = "LCP %code%", .names = lcp_scapy_names};
static const sf_scapy magic_scapy = {.names = lcp_scapy_names};

#define MSG(self, wsname, nm, disp, knd, flds, minl, places_, ws_, hl, vr, nx)   \
  static sf_proto self = {                                                        \
    .name = nm, .display = disp, .kind = knd, .fields = flds,                     \
    .nfields = NFIELDS(flds), .minlen = minl, .places = places_,                  \
    .ws = wsname,                                                                 \
    .ws_fields = ws_, .hdr_len = hl, .extent = msg_extent, .next = nx,            \
    .fixup = msg_fixup, .var = vr,                                                \
  }
MSG(lcp, "lcp", "PPP_LCP", "PPP LCP", "PppLcp", lcp_fields, 4, lcp_places, lcp_ws,
    msg4_len, var_from4, msg_next);
MSG(conf, "lcp", "PPP_LCP_Configure", "PPP LCP Configure", "PppLcpConfigure", conf_fields, 4,
    conf_places, lcp_ws, conf_len, NULL, options_next);
MSG(term, "lcp", "PPP_LCP_Terminate", "PPP LCP Terminate", "PppLcpTerminate", lcp_fields, 4,
    term_places, lcp_ws, msg4_len, var_from4, msg_next);
MSG(coderej, "lcp", "PPP_LCP_Code_Reject", "PPP LCP Code-Reject", "PppLcpCodeReject",
    coderej_fields, 4, coderej_places, lcp_ws, msg4_len, var_from4, msg_next);
MSG(protorej, "lcp", "PPP_LCP_Protocol_Reject", "PPP LCP Protocol-Reject", "PppLcpProtocolReject",
    protorej_fields, 6, protorej_places, lcp_rej_ws, msg6_len, var_from6, msg_next);
MSG(echo, "lcp", "PPP_LCP_Echo", "PPP LCP Echo", "PppLcpEcho", echo_fields, 8, echo_places,
    lcp_magic_ws, msg8_len, var_from8, msg_next);
MSG(discard, "lcp", "PPP_LCP_Discard_Request", "PPP LCP Discard-Request", "PppLcpDiscardRequest",
    discard_fields, 8, discard_places, lcp_magic_ws, msg8_len, var_from8, msg_next);

static const sf_place ipcp_places[] = {{"ppp.proto", 0x8021, 0, NULL}, {NULL, 0, 0, NULL}};
MSG(ipcp, "ipcp", "PPP_IPCP", "PPP IPCP", "PppIpcp", ipcp_fields, 4, ipcp_places, ipcp_ws,
    conf_len, NULL, options_next);

/* ---- options --------------------------------------------------------------------------------- */

static const sf_enum lcp_opts[] = {
  {1, "Maximum-Receive-Unit"}, {2, "Async-Control-Character-Map"},
  {3, "Authentication-protocol"}, {4, "Quality-protocol"}, {5, "Magic-number"},
  {7, "Protocol-Field-Compression"}, {8, "Address-and-Control-Field-Compression"},
  {13, "Callback"}, {0, NULL}
};

static const sf_enum ipcp_opts[] = {
  {1, "IP-Addresses (Deprecated)"}, {2, "IP-Compression-Protocol"}, {3, "IP-Address"},
  {4, "Mobile-IPv4"}, {129, "Primary-DNS-Address"}, {130, "Primary-NBNS-Address"},
  {131, "Secondary-DNS-Address"}, {132, "Secondary-NBNS-Address"}, {0, NULL}
};

static const sf_enum auth_protos[] = {
  {0xc023, "Password authentication protocol"},
  {0xc223, "Challenge-response authentication protocol"},
  {0xc227, "PPP Extensible authentication protocol"}, {0, NULL}
};

static const sf_enum chap_algs[] = {{5, "MD5"}, {6, "SHA1"}, {128, "MS-CHAP"}, {129, "MS-CHAP-v2"}, {0, NULL}};

static const sf_enum callback_ops[] = {
  {0, "Location determined by user authentication"}, {1, "Dialing string"},
  {2, "Location identifier"}, {3, "E.164 number"}, {4, "Distinguished name"}, {0, NULL}
};

#define OPT_HEAD(def, names)                               \
  UINTF("type", 0, 8, (def), 0, (names), 0),               \
  UINTF("len", 8, 8, 0, SF_FF_AUTO, NULL, 0)

/* An option's length says how long it is; min: what its fields need. */
static size_t opt_len_min(const uint8_t *h, size_t n, size_t min) {
  if (n < 2 || h[1] < min || h[1] > n) return 0;
  return h[1];
}

static size_t opt2_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return opt_len_min(h, n, 2);
}
static size_t opt3_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return opt_len_min(h, n, 3);
}
static size_t opt4_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return opt_len_min(h, n, 4);
}
static size_t opt6_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return opt_len_min(h, n, 6);
}
/* CHAP's option is one byte longer than its protocol: the algorithm */
static size_t auth_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t len = opt_len_min(h, n, 4);
  (void)p;
  return len && rd16(h + 2) == 0xc223 && len < 5 ? 0 : len;
}

static void opt_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (!(l->flags & SF_L_BUILT) && (l->flags & SF_L_TRUNC)) return;
  sf_lput(p, li, 1, l->hlen);
}

enum { C_NOT_CHAP = 1, C_CHAP };

static int auth_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  int chap = hlen >= 4 && rd16(h + 2) == 0xc223;
  (void)p;
  return cond == C_CHAP ? chap : !chap;
}

static size_t auth_shape(const uint8_t *h, size_t hlen) {
  return hlen >= 4 && rd16(h + 2) == 0xc223 ? 5 : 4;
}

static const sf_field lcp_opt_fields[] = {OPT_HEAD(0, lcp_opts), BYTESF("data", 16, 0, NULL, NULL, 0)};
static const sf_field mru_fields[] = {OPT_HEAD(1, lcp_opts), UINTF("max_recv_unit", 16, 16, 1500, 0, NULL, 0)};
static const sf_field accm_fields[] = {OPT_HEAD(2, lcp_opts), UINTF("accm", 16, 32, 0, SF_FF_HEX, NULL, 0)};
static const sf_field auth_fields[] = {
  OPT_HEAD(3, lcp_opts),
  UINTF("auth_protocol", 16, 16, 0xc023, SF_FF_HEX | SF_FF_SHAPE, auth_protos, 0),
  BYTESF("data", 32, 0, NULL, NULL, C_NOT_CHAP),
  UINTF("algorithm", 32, 8, 5, 0, chap_algs, C_CHAP),
};
static const sf_field quality_fields[] = {
  OPT_HEAD(4, lcp_opts), UINTF("quality_protocol", 16, 16, 0xc025, SF_FF_HEX, NULL, 0),
  BYTESF("data", 32, 0, NULL, NULL, 0)
};
static const sf_field magic_fields[] = {OPT_HEAD(5, lcp_opts), UINTF("magic_number", 16, 32, 0, SF_FF_HEX, NULL, 0)};
static const sf_field callback_fields[] = {
  OPT_HEAD(13, lcp_opts), UINTF("operation", 16, 8, 0, 0, callback_ops, 0),
  BYTESF("message", 24, 0, NULL, NULL, 0)
};

static const sf_field ipcp_opt_fields[] = {OPT_HEAD(0, ipcp_opts), BYTESF("data", 16, 0, NULL, NULL, 0)};
#define IPADDR_FIELDS(t) \
  {OPT_HEAD(t, ipcp_opts), IP4F("data", 16, "0.0.0.0", 0), BYTESF("garbage", 48, 0, NULL, NULL, 0)}
static const sf_field ipaddr_fields[] = IPADDR_FIELDS(3);
static const sf_field dns1_fields[] = IPADDR_FIELDS(129);
static const sf_field dns2_fields[] = IPADDR_FIELDS(131);
static const sf_field nbns1_fields[] = IPADDR_FIELDS(130);
static const sf_field nbns2_fields[] = IPADDR_FIELDS(132);

static const sf_wsfield lcp_opt_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"), WSEND};
static const sf_wsfield mru_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"),
                                    WS("lcp.opt.mru", "max_recv_unit"), WSEND};
static const sf_wsfield accm_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"),
                                     WSX("lcp.opt.asyncmap", "accm", 8), WSEND};
static const sf_wsfield auth_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"),
                                     WSX("lcp.opt.auth_protocol", "auth_protocol", 4),
                                     WS("lcp.opt.algorithm", "algorithm"), WSEND};
static const sf_wsfield quality_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"),
                                        WSX("lcp.opt.quality_protocol", "quality_protocol", 4), WSEND};
static const sf_wsfield magic_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"),
                                      WSX("lcp.opt.magic_number", "magic_number", 8), WSEND};
static const sf_wsfield callback_ws[] = {WS("lcp.opt.type", "type"), WS("lcp.opt.length", "len"),
                                         WS("lcp.opt.operation", "operation"), WSEND};
static const sf_wsfield ipcp_opt_ws[] = {WS("ipcp.opt.type", "type"), WS("ipcp.opt.length", "len"), WSEND};
static const sf_wsfield ipaddr_ws[] = {WS("ipcp.opt.type", "type"), WS("ipcp.opt.length", "len"),
                                       WS("ipcp.opt.ip_address", "data"), WSEND};
static const sf_wsfield dns1_ws[] = {WS("ipcp.opt.type", "type"), WS("ipcp.opt.length", "len"),
                                     WS("ipcp.opt.pri_dns_address", "data"), WSEND};
static const sf_wsfield dns2_ws[] = {WS("ipcp.opt.type", "type"), WS("ipcp.opt.length", "len"),
                                     WS("ipcp.opt.sec_dns_address", "data"), WSEND};
static const sf_wsfield nbns1_ws[] = {WS("ipcp.opt.type", "type"), WS("ipcp.opt.length", "len"),
                                      WS("ipcp.opt.pri_nbns_address", "data"), WSEND};
static const sf_wsfield nbns2_ws[] = {WS("ipcp.opt.type", "type"), WS("ipcp.opt.length", "len"),
                                      WS("ipcp.opt.sec_nbns_address", "data"), WSEND};

#define OPT(self, nm, disp, knd, flds, minl, ws_, hl, vr)                        \
  static sf_proto self = {                                                        \
    .name = nm, .display = disp, .kind = knd, .fields = flds,                    \
    .nfields = NFIELDS(flds), .minlen = minl, .ws_fields = ws_, .hdr_len = hl,   \
    .next = options_next, .fixup = opt_fixup, .var = vr, .record = 1,            \
  }
OPT(lcp_opt, "PPP_LCP_Option", "PPP LCP Option", "PppLcpOption", lcp_opt_fields, 2,
    lcp_opt_ws, opt2_len, var_from2);
OPT(mru, "PPP_LCP_MRU_Option", "PPP LCP MRU Option", "PppLcpMruOption", mru_fields, 4,
    mru_ws, opt4_len, NULL);
OPT(accm, "PPP_LCP_ACCM_Option", "PPP LCP ACCM Option", "PppLcpAccmOption", accm_fields, 6,
    accm_ws, opt6_len, NULL);
OPT(quality, "PPP_LCP_Quality_Protocol_Option", "PPP LCP Quality Protocol Option",
    "PppLcpQualityProtocolOption", quality_fields, 4, quality_ws, opt4_len, var_from4);
OPT(magic, "PPP_LCP_Magic_Number_Option", "PPP LCP Magic Number Option",
    "PppLcpMagicNumberOption", magic_fields, 6, magic_ws, opt6_len, NULL);
OPT(callback, "PPP_LCP_Callback_Option", "PPP LCP Callback Option", "PppLcpCallbackOption",
    callback_fields, 3, callback_ws, opt3_len, var_from3);
OPT(ipcp_opt, "PPP_IPCP_Option", "PPP IPCP Option", "PppIpcpOption", ipcp_opt_fields, 2,
    ipcp_opt_ws, opt2_len, var_from2);
OPT(ipaddr, "PPP_IPCP_Option_IPAddress", "PPP IPCP Option IP-Address",
    "PppIpcpOptionIpAddress", ipaddr_fields, 6, ipaddr_ws, opt6_len, var_from6);
OPT(dns1, "PPP_IPCP_Option_DNS1", "PPP IPCP Option DNS1", "PppIpcpOptionDns1", dns1_fields, 6,
    dns1_ws, opt6_len, var_from6);
OPT(dns2, "PPP_IPCP_Option_DNS2", "PPP IPCP Option DNS2", "PppIpcpOptionDns2", dns2_fields, 6,
    dns2_ws, opt6_len, var_from6);
OPT(nbns1, "PPP_IPCP_Option_NBNS1", "PPP IPCP Option NBNS1", "PppIpcpOptionNbns1", nbns1_fields,
    6, nbns1_ws, opt6_len, var_from6);
OPT(nbns2, "PPP_IPCP_Option_NBNS2", "PPP IPCP Option NBNS2", "PppIpcpOptionNbns2", nbns2_fields,
    6, nbns2_ws, opt6_len, var_from6);

/* The authentication option's tail depends on its protocol (CHAP names
   an algorithm): laid out by its conditions. */
static sf_proto auth = {
  .name = "PPP_LCP_Auth_Protocol_Option", .display = "PPP LCP Auth Protocol Option",
  .kind = "PppLcpAuthProtocolOption", .fields = auth_fields, .nfields = NFIELDS(auth_fields),
  .minlen = 4, .ws_fields = auth_ws, .hdr_len = auth_len, .next = options_next,
  .fixup = opt_fixup, .var = var_from4, .record = 1, .present = auth_present,
  .shape_len = auth_shape,
};

/* option protocols by type, with the generic one for the rest */
static int lcp_by_type[256], ipcp_by_type[256];

static int option_at(const int *by_type, const uint8_t *h, size_t n) {
  if (n < 2 || h[1] < 2 || h[1] > n) return -2;  /* Raw: malformed */
  return by_type[h[0]];
}

static int lcp_option_at(const uint8_t *h, size_t n) { return option_at(lcp_by_type, h, n); }
static int ipcp_option_at(const uint8_t *h, size_t n) { return option_at(ipcp_by_type, h, n); }

/* ---- registration ------------------------------------------------------------------------------ */

static int reg(sf_proto *pr, int k) {
  int id = sf_register(pr);
  if (id >= 0) kind[id] = (uint8_t)k;
  return id;
}

static void reg_options(sf_proto *generic, sf_proto *const *opts, size_t n, int *by_type,
                        int k) {
  int g = reg(generic, k);
  size_t i;
  for (i = 0; i < 256; i++) by_type[i] = g;
  for (i = 0; i < n; i++) {
    int id = reg(opts[i], k);
    if (id >= 0) by_type[opts[i]->fields[0].def] = id;
  }
}

SF_PROTO_FILE(ppp) {
  static sf_proto *const lcp_options[] = {&mru, &accm, &auth, &quality, &magic, &callback};
  static sf_proto *const ipcp_options[] = {&ipaddr, &dns1, &dns2, &nbns1, &nbns2};
  static sf_proto *const lcp_msgs[] = {&term, &coderej, &protorej, &echo, &discard};
  size_t i;
  sf_register(&hdlc);
  sf_register(&ppp);
  lcp.scapy = conf.scapy = &lcp_scapy;
  magic.scapy = &magic_scapy;
  reg(&lcp, K_MSG);  /* first: the codes the others do not take (tried last) */
  reg(&conf, K_LCP_CONF);
  for (i = 0; i < sizeof lcp_msgs / sizeof *lcp_msgs; i++) {
    lcp_msgs[i]->scapy = &lcp_scapy;
    reg(lcp_msgs[i], K_MSG);
  }
  reg(&ipcp, K_IPCP);
  reg_options(&lcp_opt, lcp_options, sizeof lcp_options / sizeof *lcp_options, lcp_by_type,
              K_LCP_OPT);
  reg_options(&ipcp_opt, ipcp_options, sizeof ipcp_options / sizeof *ipcp_options,
              ipcp_by_type, K_IPCP_OPT);
}
