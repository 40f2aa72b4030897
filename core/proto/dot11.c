/*
 * dot11.c -- IEEE 802.11 frames (link type 105, and behind radiotap), with
 * Scapy's classes and field names: Dot11 and Dot11FCS, Dot11QoS, the
 * management bodies (Dot11Beacon, Dot11ProbeResp, Dot11AssoReq, ...),
 * information elements (Dot11Elt and its typed kinds), and the headers of
 * protected frames (Dot11WEP, Dot11TKIP, Dot11CCMP).
 *
 * Frame control says what follows: a management body by its subtype (the
 * "dot11.mgmt" table), QoS control for QoS data, LLC for data, the
 * cipher's header when the frame is protected.  Information elements are
 * records of the management frame, one layer each, in the "dot11.elt"
 * table by element ID (a plain Dot11Elt when no typed kind claims it);
 * each is followed by the next until the frame body ends.  Probe requests
 * have no fixed fields: their elements follow the 802.11 header directly.
 *
 * Dot11FCS has the frame check sequence (CRC-32, little-endian) as its
 * trailer, filled in at build time and kept out of the elements.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "../summary.h"

/* ---- frame control ------------------------------------------------------ */

#define FC_TODS 0x01
#define FC_FROMDS 0x02
#define FC_PROTECTED 0x40
#define FC_ORDER 0x80

static unsigned fc_type(const uint8_t *h) { return (h[0] >> 2) & 3; }
static unsigned fc_subtype(const uint8_t *h) { return h[0] >> 4; }

/* ---- CRC-32 (the FCS) ------------------------------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void) {
  uint32_t i, c;
  int k;
  for (i = 0; i < 256; i++) {
    for (c = i, k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32(const uint8_t *d, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) c = crc_table[(c ^ *d++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

/* ---- Dot11 ------------------------------------------------------------------ */

enum { C_CFE = 1, C_FC8, C_A2, C_A3, C_SC, C_SCX, C_A4, C_HTC };
enum { F_SUBTYPE, F_TYPE, F_PROTO, F_CFE, F_FC4, F_FC, F_ID, F_ADDR1, F_ADDR2,
       F_ADDR3, F_SC, F_SCX, F_ADDR4, F_HTC, F_FCS };

static const sf_enum dot11_types[] = {
  {0, "Management"}, {1, "Control"}, {2, "Data"}, {3, "Extension"}, {0, NULL}
};

static const sf_enum fc_flags[] = {
  {0, "to-DS"}, {1, "from-DS"}, {2, "MF"}, {3, "retry"}, {4, "pw-mgt"},
  {5, "MD"}, {6, "protected"}, {7, "order"}, {0, NULL}
};

static const sf_enum fc4_flags[] = {
  {0, "pw-mgt"}, {1, "MD"}, {2, "protected"}, {3, "order"}, {0, NULL}
};

static const sf_enum cfes[] = {
  {2, "Poll"}, {3, "SPR"}, {4, "Grant"}, {5, "DMG CTS"}, {6, "DMG DTS"},
  {7, "Grant Ack"}, {8, "SSW"}, {9, "SSW-Feedback"}, {10, "SSW-Ack"}, {0, NULL}
};

#define LEU(n, off, w, d, en, c) UINTF(n, off, w, d, SF_FF_LE, en, c)

static const sf_field dot11_fields[] = {
  UINTF("subtype", 0, 4, 0, SF_FF_SHAPE, NULL, 0),
  UINTF("type", 4, 2, 0, SF_FF_SHAPE, dot11_types, 0),
  UINTF("proto", 6, 2, 0, 0, NULL, 0),
  UINTF("cfe", 8, 4, 0, SF_FF_SHAPE, cfes, C_CFE),
  {"FCfield", SF_T_FLAGS, SF_FF_SHAPE, C_CFE, 0, 12, 4, 0, NULL, fc4_flags, NULL, NULL},
  {"FCfield", SF_T_FLAGS, SF_FF_SHAPE, C_FC8, 0, 8, 8, 0, NULL, fc_flags, NULL, NULL},
  UINTF("ID", 16, 16, 0, 0, NULL, 0),
  MACF("addr1", 32, "00:00:00:00:00:00", 0),
  MACF("addr2", 80, "00:00:00:00:00:00", C_A2),
  MACF("addr3", 128, "00:00:00:00:00:00", C_A3),
  LEU("SC", 176, 16, 0, NULL, C_SC),
  LEU("SC", 128, 16, 0, NULL, C_SCX),
  MACF("addr4", 192, "00:00:00:00:00:00", C_A4),
  LEU("htc", 192, 32, 0, NULL, C_HTC),
  {"fcs", SF_T_UINT, SF_FF_LE | SF_FF_AUTO | SF_FF_HEX | SF_FF_TRAIL, 0, 0, 0, 32, 0,
   NULL, NULL, NULL, NULL},
};

static int is_cfe(const uint8_t *h) { return fc_type(h) == 1 && fc_subtype(h) == 6; }

static int dot11_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  unsigned t = fc_type(h), s = fc_subtype(h);
  (void)p;
  (void)hlen;
  switch (cond) {
    case C_CFE: return is_cfe(h);
    case C_FC8: return !is_cfe(h);
    case C_A2: return t != 1 || (s >= 4 && s != 7 && s != 12 && s != 13);
    case C_A3: return t == 0 || t == 2 || (is_cfe(h) && (h[1] >> 4) == 6);
    case C_SC: return t == 0 || t == 2;
    case C_SCX: return t == 3;
    case C_A4: return t == 2 && (h[1] & 3) == 3;
    case C_HTC: return t == 0 && (h[1] & FC_ORDER);
    default: return 1;
  }
}

static size_t dot11_shape(const uint8_t *h, size_t hlen) {
  (void)hlen;
  switch (fc_type(h)) {
    case 1:
      if (!dot11_present(NULL, h, 2, C_A2)) return 10;
      return dot11_present(NULL, h, 2, C_A3) ? 22 : 16;
    case 3: return 18;
    default:
      return 24u + 6u * (size_t)dot11_present(NULL, h, 2, C_A4) +
             4u * (size_t)dot11_present(NULL, h, 2, C_HTC);
  }
}

static size_t dot11_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t want;
  (void)p;
  if (n < 10) return 0;
  want = dot11_shape(h, n);
  return want <= n ? want : 0;
}

static int table_of(int *cache, const char *name) {
  if (*cache <= 0) *cache = sf_table(name) + 1;
  return *cache - 1;
}

static int mgmt_table(void) {
  static int t;
  return table_of(&t, "dot11.mgmt");
}

/* The cipher's header, by its bytes as Scapy and Wireshark tell them:
   an extended IV means TKIP (its second byte derived from the first) or
   CCMP (third byte zero); without, WEP. */
static int cipher_next(const uint8_t *d, size_t n) {
  static int wep, tkip, ccmp;
  if (n < 4) return -2;
  if (!(d[3] & 0x20)) return proto_named(&wep, "Dot11WEP");
  if (n < 8) return -2;
  if (d[1] == ((d[0] | 0x20) & 0x7f)) return proto_named(&tkip, "Dot11TKIP");
  if (d[2] == 0) return proto_named(&ccmp, "Dot11CCMP");
  return -2;
}

/* The body after layer li: where it starts and how long it is. */
static const uint8_t *body(const sf_pkt *p, int li, size_t *n) {
  const sf_layer *l = &p->layers[li];
  size_t t = sf_proto_get(l->proto)->trailer;
  *n = l->end - l->off - l->hlen - t;
  return p->data + l->off + l->hlen;
}

static int elt_next(const sf_pkt *p, int li);

static int dot11_next(const sf_pkt *p, int li) {
  static int qos, llc;
  const uint8_t *h = p->data + p->layers[li].off, *d;
  unsigned t = fc_type(h), s = fc_subtype(h);
  size_t n;
  d = body(p, li, &n);
  if (t == 2 && s >= 8 && s != 13) return proto_named(&qos, "Dot11QoS");
  if (!is_cfe(h) && (h[1] & FC_PROTECTED)) return cipher_next(d, n);
  if (t == 0) {
    if (s == 4) return elt_next(p, li);  /* a probe request's elements */
    return n ? sf_table_lookup(mgmt_table(), s, p, li, d, n) : -2;
  }
  if (t == 2 && !(s & 4)) return proto_named(&llc, "LLC");
  return -2;
}

/* A built frame's header grown or shrunk to what its frame control now
   says (a type set by the layer after it brings addr4 for to-DS+from-DS). */
static void dot11_reshape(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t want = dot11_shape(p->data + l->off, l->hlen);
  if (want > l->hlen) sf_pkt_splice(p, li, l->off + l->hlen, 0, NULL, want - l->hlen);
  else if (want < l->hlen) sf_pkt_splice(p, li, l->off + want, l->hlen - want, NULL, 0);
}

/* What the layer after a built frame makes it: a management body its
   subtype, LLC a data frame, QoS control a QoS null (Scapy's bindings). */
static void dot11_fixup(sf_pkt *p, int li) {
  static int qos, llc, preq;
  const sf_layer *l = &p->layers[li];
  int up = li + 1 < p->nlayers ? p->layers[li + 1].proto : -1;
  uint64_t sub;
  if (!(l->flags & SF_L_BUILT) || up < 0) return;
  if (up == proto_named(&preq, "Dot11ProbeReq")) {
    sf_lput(p, li, F_TYPE, 0);
    sf_lput(p, li, F_SUBTYPE, 4);
  } else if (sf_table_value(mgmt_table(), up, &sub)) {
    sf_lput(p, li, F_TYPE, 0);
    sf_lput(p, li, F_SUBTYPE, sub);
  } else if (up == proto_named(&llc, "LLC")) {
    sf_lput(p, li, F_TYPE, 2);
  } else if (up == proto_named(&qos, "Dot11QoS")) {
    sf_lput(p, li, F_TYPE, 2);
    sf_lput(p, li, F_SUBTYPE, 12);
  }
  dot11_reshape(p, li);
}

static void dot11fcs_checksum(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (sf_isset(p, li, F_FCS) || l->end - l->off < l->hlen + 4u) return;
  sf_lput(p, li, F_FCS, crc32(p->data + l->off, l->end - l->off - 4));
}

static const sf_place dot11_places[] = {{"linktype", 105, 0, NULL}, {NULL, 0, 0, NULL}};

/* addr2 sends, addr1 receives */
static const sf_facts dot11_facts = {.role = SF_ROLE_LINK, .src = "addr2", .dst = "addr1"};

static const sf_alias dot11_aliases[] = {{"FCS", "fcs"}, {NULL, NULL}};


static const sf_wsfield dot11_ws[] = {
  WS("wlan.fc.type", "type"), WS("wlan.fc.subtype", "subtype"),
  WS("wlan.fc.version", "proto"), WSX("wlan.flags", "FCfield", 2),
  WSBIT("wlan.fc.tods", "FCfield", FC_TODS), WSBIT("wlan.fc.fromds", "FCfield", FC_FROMDS),
  WSBIT("wlan.fc.frag", "FCfield", 0x04), WSBIT("wlan.fc.retry", "FCfield", 0x08),
  WSBIT("wlan.fc.pwrmgt", "FCfield", 0x10), WSBIT("wlan.fc.moredata", "FCfield", 0x20),
  WSBIT("wlan.fc.protected", "FCfield", FC_PROTECTED), WSBIT("wlan.fc.order", "FCfield", FC_ORDER),
  WS("wlan.ra", "addr1"), WS("wlan.addr", "addr1"),
  WS("wlan.ta", "addr2"), WS("wlan.seq", "SC"), WSX("wlan.htc", "htc", 8),
  WSEND
};

static const sf_wsfield dot11fcs_ws[] = {
  WS("wlan.fc.type", "type"), WS("wlan.fc.subtype", "subtype"),
  WS("wlan.fc.version", "proto"), WSX("wlan.flags", "FCfield", 2),
  WSBIT("wlan.fc.tods", "FCfield", FC_TODS), WSBIT("wlan.fc.fromds", "FCfield", FC_FROMDS),
  WSBIT("wlan.fc.frag", "FCfield", 0x04), WSBIT("wlan.fc.retry", "FCfield", 0x08),
  WSBIT("wlan.fc.pwrmgt", "FCfield", 0x10), WSBIT("wlan.fc.moredata", "FCfield", 0x20),
  WSBIT("wlan.fc.protected", "FCfield", FC_PROTECTED), WSBIT("wlan.fc.order", "FCfield", FC_ORDER),
  WS("wlan.ra", "addr1"), WS("wlan.addr", "addr1"),
  WS("wlan.ta", "addr2"), WS("wlan.seq", "SC"), WSX("wlan.htc", "htc", 8),
  WSX("wlan.fcs", "fcs", 8), WSEND
};

/* ---- Scapy's text ------------------------------------------------------------ */

/* Scapy's cipher classes keep the encrypted bytes as their data field */
static int keeps_all(const sf_pkt *p, int li, int j) {
  (void)p;
  (void)li;
  (void)j;
  return 1;
}
static const sf_scapy cipher_scapy = {.keeps = keeps_all};

/* Scapy's subtype names, by type (its _dot11_subtypes) */
static const sf_enum mgmt_subtypes[] = {
  {0, "Association Request"}, {1, "Association Response"},
  {2, "Reassociation Request"}, {3, "Reassociation Response"}, {4, "Probe Request"},
  {5, "Probe Response"}, {6, "Timing Advertisement"}, {8, "Beacon"}, {9, "ATIM"},
  {10, "Disassociation"}, {11, "Authentication"}, {12, "Deauthentication"},
  {13, "Action"}, {14, "Action No Ack"}, {0, NULL}
};
static const sf_enum ctrl_subtypes[] = {
  {2, "Trigger"}, {3, "TACK"}, {4, "Beamforming Report Poll"},
  {5, "VHT/HE NDP Announcement"}, {6, "Control Frame Extension"}, {7, "Control Wrapper"},
  {8, "Block Ack Request"}, {9, "Block Ack"}, {10, "PS-Poll"}, {11, "RTS"}, {12, "CTS"},
  {13, "Ack"}, {14, "CF-End"}, {15, "CF-End+CF-Ack"}, {0, NULL}
};
static const sf_enum data_subtypes[] = {
  {0, "Data"}, {1, "Data+CF-Ack"}, {2, "Data+CF-Poll"}, {3, "Data+CF-Ack+CF-Poll"},
  {4, "Null (no data)"}, {5, "CF-Ack (no data)"}, {6, "CF-Poll (no data)"},
  {7, "CF-Ack+CF-Poll (no data)"}, {8, "QoS Data"}, {9, "QoS Data+CF-Ack"},
  {10, "QoS Data+CF-Poll"}, {11, "QoS Data+CF-Ack+CF-Poll"}, {12, "QoS Null (no data)"},
  {14, "QoS CF-Poll (no data)"}, {15, "QoS CF-Ack+CF-Poll (no data)"}, {0, NULL}
};
static const sf_enum ext_subtypes[] = {{0, "DMG Beacon"}, {1, "S1G Beacon"}, {0, NULL}};

/* the subtype field as Scapy's MultiEnumField has it for each type */
static const sf_field subtypes_of[4] = {
  UINTF("subtype", 0, 4, 0, 0, mgmt_subtypes, 0), UINTF("subtype", 0, 4, 0, 0, ctrl_subtypes, 0),
  UINTF("subtype", 0, 4, 0, 0, data_subtypes, 0), UINTF("subtype", 0, 4, 0, 0, ext_subtypes, 0),
};

/* What address i (1 to 4) means in this frame (Scapy's address_meaning;
   only the summary's two are asked, so a QoS A-MSDU is not looked at). */
static const char *addr_meaning(const uint8_t *h, int i) {
  static const char *const mgmt[] = {"RA=DA", "TA=SA", "BSSID/STA", NULL};
  static const char *const ctrl[] = {"RA", "TA", NULL, NULL};
  static const char *const dts[] = {"RA", "NAV-SA", "NAV-DA", NULL};
  static const char *const ext[] = {"BSSID", NULL, NULL, NULL};
  /* [address][to-DS][from-DS] */
  static const char *const data[4][2][2] = {
    {{"RA=DA", "RA=DA"}, {"RA=BSSID", "RA"}}, {{"TA=SA", "TA=BSSID"}, {"TA=SA", "TA"}},
    {{"BSSID", "SA"}, {"DA", "DA"}}, {{NULL, NULL}, {"SA", "BSSID"}},
  };
  switch (fc_type(h)) {
    case 0: return mgmt[i - 1];
    case 1: return is_cfe(h) && (h[1] >> 4) == 6 ? dts[i - 1] : ctrl[i - 1];
    case 2: return data[i - 1][h[1] & FC_TODS][(h[1] & FC_FROMDS) >> 1];
    default: return ext[i - 1];
  }
}

static int addr_text(const sf_pkt *p, int li, int i, char *out, size_t cap) {
  static const int fields[] = {F_ADDR1, F_ADDR2, F_ADDR3, F_ADDR4};
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  const sf_field *f = &dot11_fields[fields[i - 1]];
  static const uint8_t any[6];
  const char *m = addr_meaning(h, i);
  char mac[18];
  sf_format_mac(dot11_present(p, h, l->hlen, f->cond) ? h + f->bitoff / 8 : any, mac);
  return m ? snprintf(out, cap, "%s (%s)", mac, m) : snprintf(out, cap, "%s", mac);
}

/* The subtype by its type's names, and the addresses with what they
   mean (absent ones as Scapy shows them: its default, 00:..:00). */
static int dot11_text(const sf_pkt *p, int li, const char *what, char *out, size_t cap) {
  const uint8_t *h = p->data + p->layers[li].off;
  const char *name;
  if (strcmp(what, "subtype") == 0) {
    name = sf_enum_name(&subtypes_of[fc_type(h)], fc_subtype(h));
    return name ? snprintf(out, cap, "%s", name) : snprintf(out, cap, "%u", fc_subtype(h));
  }
  if (strncmp(what, "addr", 4) == 0 && what[4] >= '1' && what[4] <= '4' && !what[5])
    return addr_text(p, li, what[4] - '0', out, cap);
  return -1;
}

/* Scapy's class of a protected body of n bytes at d (Dot11Encrypted's
   dispatch) where sflua reads none: an extended IV of neither TKIP nor
   CCMP is Dot11Encrypted; a WEP header alone, or an extended IV in fewer
   than 8 bytes, Dot11WEP (Scapy reads WEP from 4 bytes, or from 8 with
   the ICV).  NULL: Scapy's Raw, or sflua's cipher layer says it. */
static const char *scapy_cipher(const sf_pkt *p, int li, const uint8_t *d, size_t n) {
  if (li + 1 < p->nlayers && sf_proto_get(p->layers[li + 1].proto)->scapy == &cipher_scapy)
    return NULL;
  if (n < 4) return NULL;
  if ((d[3] & 0x20) && n >= 8) return cipher_next(d, n) == -2 ? "Dot11Encrypted" : NULL;
  return n == 4 || n >= 8 ? "Dot11WEP" : NULL;
}

/* Scapy's reading of an unprotected data body where sflua has no LLC
   layer (a body in a frame of no data, or too short): its LLC, then Raw.
   NULL: sflua reads what Scapy does, or a SNAP or STP header follows. */
static const char *scapy_llc(const sf_pkt *p, int li, const uint8_t *d, size_t n) {
  static int llc;
  if (li + 1 < p->nlayers && p->layers[li + 1].proto == proto_named(&llc, "LLC")) return NULL;
  if (n <= 3) return "LLC";
  if (d[2] == 3 && ((d[0] == 0xaa && d[1] == 0xaa) || (d[0] == 0x42 && d[1] == 0x42))) return NULL;
  return "LLC / Raw";
}

/* Classes Scapy has after the 802.11 header and sflua none: a probe
   request's body (elements follow the header here), the empty ATIM and
   Ack classes before bytes that follow them, a protected body's cipher. */
static const char *dot11_added(const sf_pkt *p, int li, int after) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off, *d;
  unsigned t = fc_type(h), st = fc_subtype(h);
  size_t n;
  d = body(p, li, &n);
  if (!after || !n || (t == 2 && st >= 8 && st != 13)) return NULL;  /* (QoS: its own) */
  if (!is_cfe(h) && (h[1] & FC_PROTECTED)) return scapy_cipher(p, li, d, n);
  if (t == 0 && st == 4) return "Dot11ProbeReq";
  if (t == 0 && st == 9) return "Dot11ATIM";
  if (t == 1 && st == 13) return "Dot11Ack";
  return t == 2 ? scapy_llc(p, li, d, n) : NULL;
}

/* A cipher class or LLC Scapy reads there keeps the body: sflua's
   layers from it are its. */
static int dot11_keeps(const sf_pkt *p, int li, int j) {
  const char *c = sf_proto_get(p->layers[li].proto)->scapy->added(p, li, 1);
  (void)j;
  return c && (strcmp(c, "Dot11WEP") == 0 || strcmp(c, "Dot11Encrypted") == 0 ||
               strncmp(c, "LLC", 3) == 0);
}

static const char *const dot11_names[] = {"subtype", "$", "addr1", "$", "addr2", "$",
                                          "addr3", "$", "addr4", "$", NULL};
static const sf_scapy dot11_scapy = {
  .fmt = "802.11 %type% %$subtype% %$addr2% > %$addr1%", .names = dot11_names,
  .text = dot11_text, .added = dot11_added, .keeps = dot11_keeps,
};

static sf_proto dot11 = {
  .name = "Dot11", .display = "802.11", .kind = "Dot11",
  .fields = dot11_fields, .nfields = NFIELDS(dot11_fields) - 1, .minlen = 24,
  .places = dot11_places, .ws = "wlan",
  .ws_fields = dot11_ws, .facts = &dot11_facts, .hdr_len = dot11_len,
  .next = dot11_next, .fixup = dot11_fixup, .present = dot11_present,
  .shape_len = dot11_shape, .scapy = &dot11_scapy,
};

static size_t dot11fcs_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t hl = dot11_len(p, h, n);
  return hl && hl + 4 <= n ? hl : 0;
}

static sf_proto dot11fcs = {
  .name = "Dot11FCS", .display = "802.11-FCS", .kind = "Dot11Fcs",
  .fields = dot11_fields, .nfields = NFIELDS(dot11_fields), .minlen = 24,
  .trailer = 4, .aliases = dot11_aliases, .ws = "wlan", .ws_fields = dot11fcs_ws,
  .facts = &dot11_facts, .hdr_len = dot11fcs_len, .next = dot11_next,
  .fixup = dot11_fixup, .checksum = dot11fcs_checksum, .present = dot11_present,
  .shape_len = dot11_shape, .scapy = &dot11_scapy,
};

/* ---- QoS control ---------------------------------------------------------------- */

enum { F_QHTC = 5 };

/* the 802.11 header below a QoS control at h, or -1 */
static int frame_below(const sf_pkt *p, const uint8_t *h) {
  int li = sf_layer_before(p, h);
  return li >= 0 && (sf_proto_get(p->layers[li].proto)->next == dot11_next) ? li : -1;
}

static int qos_htc(const sf_pkt *p, const uint8_t *h) {
  int li = p ? frame_below(p, h) : -1;
  return li >= 0 && (p->data[p->layers[li].off + 1] & FC_ORDER);
}

static const sf_field qos_fields[] = {
  UINTF("A_MSDU_Present", 0, 1, 0, 0, NULL, 0),
  UINTF("Ack_Policy", 1, 2, 0, 0, NULL, 0),
  UINTF("EOSP", 3, 1, 0, 0, NULL, 0),
  UINTF("TID", 4, 4, 0, 0, NULL, 0),
  UINTF("TXOP", 8, 8, 0, 0, NULL, 0),
  LEU("htc", 16, 32, 0, NULL, 1),
};

static int qos_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)cond;
  return hlen >= 6 && qos_htc(p, h);
}

static size_t qos_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t want = qos_htc(p, h) ? 6 : 2;
  return want <= n ? want : 0;
}

static int qos_next(const sf_pkt *p, int li) {
  static int llc;
  const uint8_t *d;
  size_t n;
  int below = frame_below(p, p->data + p->layers[li].off);
  d = body(p, li, &n);
  if (below >= 0) {
    const uint8_t *fh = p->data + p->layers[below].off;
    if (fh[1] & FC_PROTECTED) return cipher_next(d, n);
  }
  return n ? proto_named(&llc, "LLC") : -2;  /* (Scapy reads LLC after a QoS null too) */
}

static const sf_wsfield qos_ws[] = {
  WS("wlan.qos.tid", "TID"), WS("wlan.qos.eosp", "EOSP"),
  WSX("wlan.qos.ack", "Ack_Policy", 4), WS("wlan.qos.amsdupresent", "A_MSDU_Present"),
  WS("wlan.qos.txop_limit", "TXOP"), WSX("wlan.htc", "htc", 8), WSEND
};

/* a protected QoS frame's body as Scapy reads it (see scapy_cipher) */
static const char *qos_added(const sf_pkt *p, int li, int after) {
  int below = frame_below(p, p->data + p->layers[li].off);
  const uint8_t *d;
  size_t n;
  d = body(p, li, &n);
  if (!after || below < 0 || !n) return NULL;
  if (!(p->data[p->layers[below].off + 1] & FC_PROTECTED)) return scapy_llc(p, li, d, n);
  return scapy_cipher(p, li, d, n);
}

static const sf_scapy qos_scapy = {.added = qos_added, .keeps = dot11_keeps};

static sf_proto qos = {
  .scapy = &qos_scapy,
  .name = "Dot11QoS", .display = "802.11 QoS", .kind = "Dot11QoS",
  .fields = qos_fields, .nfields = NFIELDS(qos_fields), .minlen = 2,
  .ws_fields = qos_ws, .hdr_len = qos_len, .next = qos_next,
  .present = qos_present,
};

/* ---- protected frames ----------------------------------------------------------- */

static size_t fixed4(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 8 ? 4 : 0;  /* and the ICV after the data */
}

static int raw_next(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return -2;
}

static void iv_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)hlen;
  (void)fi;
  *off = 0;
  *len = 3;
}


static const sf_field wep_fields[] = {
  {"iv", SF_T_BYTES, 0, 0, 0, 0, 24, 0, "000000", NULL, NULL, NULL},
  UINTF("keyid", 24, 8, 0, 0, NULL, 0),
  {"icv", SF_T_UINT, SF_FF_HEX | SF_FF_TRAIL, 0, 0, 0, 32, 0, NULL, NULL, NULL, NULL},
};

static const sf_wsfield wep_ws[] = {
  WSX("wlan.wep.iv", "iv", 6), WS("wlan.wep.key", "keyid"), WSX("wlan.wep.icv", "icv", 8), WSEND
};

/* The encrypted data is the payload; the ICV (encrypted too) trails it. */
static sf_proto wep = {
  .name = "Dot11WEP", .display = "802.11 WEP packet", .kind = "Dot11Wep",
  .fields = wep_fields, .nfields = NFIELDS(wep_fields), .minlen = 4,
  .trailer = 4, .ws_fields = wep_ws, .hdr_len = fixed4, .next = raw_next,
  .var = iv_span, .scapy = &cipher_scapy,
};

enum { C_EXTIV = 1 };

static const sf_field tkip_fields[] = {
  UINTF("TSC1", 0, 8, 0, 0, NULL, 0), UINTF("WEPSeed", 8, 8, 0, 0, NULL, 0),
  UINTF("TSC0", 16, 8, 0, 0, NULL, 0), UINTF("key_id", 24, 2, 0, 0, NULL, 0),
  UINTF("ext_iv", 26, 1, 0, SF_FF_SHAPE, NULL, 0), UINTF("res", 27, 5, 0, 0, NULL, 0),
  UINTF("TSC2", 32, 8, 0, 0, NULL, C_EXTIV), UINTF("TSC3", 40, 8, 0, 0, NULL, C_EXTIV),
  UINTF("TSC4", 48, 8, 0, 0, NULL, C_EXTIV), UINTF("TSC5", 56, 8, 0, 0, NULL, C_EXTIV),
};

static int extiv_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)cond;
  return hlen >= 8 && (h[3] & 0x20);
}

static size_t extiv_shape(const uint8_t *h, size_t hlen) {
  (void)hlen;
  return h[3] & 0x20 ? 8 : 4;
}

static size_t extiv_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t want;
  (void)p;
  if (n < 4) return 0;
  want = extiv_shape(h, n);
  return want <= n ? want : 0;
}

static const sf_wsfield tkip_ws[] = {
  WS("wlan.tkip.extiv", "TSC2"), WSEND
};

static sf_proto tkip = {
  .name = "Dot11TKIP", .display = "802.11 TKIP packet", .kind = "Dot11Tkip",
  .fields = tkip_fields, .nfields = NFIELDS(tkip_fields), .minlen = 4,
  .ws_fields = tkip_ws, .hdr_len = extiv_len, .next = raw_next,
  .present = extiv_present, .shape_len = extiv_shape, .scapy = &cipher_scapy,
};

static const sf_field ccmp_fields[] = {
  UINTF("PN0", 0, 8, 0, 0, NULL, 0), UINTF("PN1", 8, 8, 0, 0, NULL, 0),
  UINTF("res0", 16, 8, 0, 0, NULL, 0), UINTF("key_id", 24, 2, 0, 0, NULL, 0),
  UINTF("ext_iv", 26, 1, 0, SF_FF_SHAPE, NULL, 0), UINTF("res1", 27, 5, 0, 0, NULL, 0),
  UINTF("PN2", 32, 8, 0, 0, NULL, C_EXTIV), UINTF("PN3", 40, 8, 0, 0, NULL, C_EXTIV),
  UINTF("PN4", 48, 8, 0, 0, NULL, C_EXTIV), UINTF("PN5", 56, 8, 0, 0, NULL, C_EXTIV),
};

static sf_proto ccmp = {
  .name = "Dot11CCMP", .display = "802.11 CCMP packet", .kind = "Dot11Ccmp",
  .fields = ccmp_fields, .nfields = NFIELDS(ccmp_fields), .minlen = 4,
  .hdr_len = extiv_len, .next = raw_next, .present = extiv_present,
  .shape_len = extiv_shape, .scapy = &cipher_scapy,
};

/* ---- management bodies ------------------------------------------------------------ */

static const sf_enum capability_list[] = {
  {0, "res8"}, {1, "res9"}, {2, "short-slot"}, {3, "res11"}, {4, "res12"},
  {5, "DSSS-OFDM"}, {6, "res14"}, {7, "res15"}, {8, "ESS"}, {9, "IBSS"},
  {10, "CFP"}, {11, "CFP-req"}, {12, "privacy"}, {13, "short-preamble"},
  {14, "PBCC"}, {15, "agility"}, {0, NULL}
};

static const sf_enum reason_codes[] = {
  {0, "reserved"}, {1, "unspec"}, {2, "auth-expired"}, {3, "deauth-ST-leaving"},
  {4, "inactivity"}, {5, "AP-full"}, {6, "class2-from-nonauth"},
  {7, "class3-from-nonass"}, {8, "disas-ST-leaving"}, {9, "ST-not-auth"}, {0, NULL}
};

static const sf_enum status_codes[] = {
  {0, "success"}, {1, "failure"}, {10, "cannot-support-all-cap"},
  {11, "inexist-asso"}, {12, "asso-denied"}, {13, "algo-unsupported"},
  {14, "bad-seq-num"}, {15, "challenge-failure"}, {16, "timeout"},
  {17, "AP-full"}, {18, "rate-unsupported"}, {0, NULL}
};

static const sf_enum auth_algos[] = {{0, "open"}, {1, "sharedkey"}, {0, NULL}};

#define CAP(off) {"cap", SF_T_FLAGS, 0, 0, 0, (off), 16, 0, NULL, capability_list, NULL, NULL}

static const sf_field beacon_fields[] = {
  LEU("timestamp", 0, 64, 0, NULL, 0),
  LEU("beacon_interval", 64, 16, 100, NULL, 0),
  CAP(80),
};

static const sf_field assoreq_fields[] = {
  CAP(0), LEU("listen_interval", 16, 16, 200, NULL, 0),
};

static const sf_field assoresp_fields[] = {
  CAP(0), LEU("status", 16, 16, 0, status_codes, 0), LEU("AID", 32, 16, 0, NULL, 0),
};

static const sf_field reassoreq_fields[] = {
  CAP(0), LEU("listen_interval", 16, 16, 200, NULL, 0),
  MACF("current_AP", 32, "00:00:00:00:00:00", 0),
};

static const sf_field auth_fields[] = {
  LEU("algo", 0, 16, 0, auth_algos, 0), LEU("seqnum", 16, 16, 0, NULL, 0),
  LEU("status", 32, 16, 0, status_codes, 0),
};

static const sf_field reason_fields[] = {LEU("reason", 0, 16, 1, reason_codes, 0)};

static const sf_enum categories[] = {
  {0, "spectrum-management"}, {1, "qos"}, {3, "block-ack"}, {4, "public"},
  {5, "radio-measurement"}, {6, "fast-bss-transition"}, {7, "ht"},
  {8, "sa-query"}, {9, "protected-dual-of-public"}, {10, "wnm"},
  {21, "vht"}, {127, "vendor-specific"}, {0, NULL}
};

static const sf_field action_fields[] = {UINTF("category", 0, 8, 0, 0, categories, 0)};

#define FIXED_LEN(name, n) \
  static size_t name(const sf_pkt *p, const uint8_t *h, size_t avail) { \
    (void)p; (void)h; return avail >= (n) ? (n) : 0; }

FIXED_LEN(len12, 12)
FIXED_LEN(len4, 4)
FIXED_LEN(len6, 6)
FIXED_LEN(len10, 10)
FIXED_LEN(len2, 2)
FIXED_LEN(len1, 1)

/* (a probe request's: never asked, no table leads to it) */
static size_t len0(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  (void)n;
  return 0;
}

static const sf_wsfield beacon_ws[] = {
  WS("wlan.fixed.timestamp", "timestamp"), WS("wlan.fixed.beacon", "beacon_interval"),
  WSEND
};

static const sf_wsfield assoreq_ws[] = {WSX("wlan.fixed.listen_ival", "listen_interval", 4), WSEND};
static const sf_wsfield assoresp_ws[] = {
  WSX("wlan.fixed.status_code", "status", 4), WSX("wlan.fixed.aid", "AID", 4), WSEND
};
static const sf_wsfield reassoreq_ws[] = {
  WSX("wlan.fixed.listen_ival", "listen_interval", 4), WS("wlan.fixed.current_ap", "current_AP"),
  WSEND
};
static const sf_wsfield auth_ws[] = {
  WS("wlan.fixed.auth.alg", "algo"), WSX("wlan.fixed.auth_seq", "seqnum", 4),
  WSX("wlan.fixed.status_code", "status", 4), WSEND
};
static const sf_wsfield reason_ws[] = {WSX("wlan.fixed.reason_code", "reason", 4), WSEND};
static const sf_wsfield action_ws[] = {WS("wlan.fixed.category_code", "category"), WSEND};

#define MGMT_PLACE(name, sub) \
  static const sf_place name[] = {{"dot11.mgmt", (sub), 0, NULL}, {NULL, 0, 0, NULL}}

MGMT_PLACE(assoreq_pl, 0);
MGMT_PLACE(assoresp_pl, 1);
MGMT_PLACE(reassoreq_pl, 2);
MGMT_PLACE(reassoresp_pl, 3);
MGMT_PLACE(proberesp_pl, 5);
MGMT_PLACE(beacon_pl, 8);
MGMT_PLACE(disas_pl, 10);
MGMT_PLACE(auth_pl, 11);
MGMT_PLACE(deauth_pl, 12);
MGMT_PLACE(action_pl, 13);

#define BODY(id_, nm, disp, knd, flds, min, pl, ws, len, nxt) \
  static sf_proto id_ = { \
    .name = (nm), .display = (disp), .kind = (knd), .fields = (flds), \
    .nfields = NFIELDS(flds), .minlen = (min), .places = (pl), .ws_fields = (ws), \
    .hdr_len = (len), .next = (nxt), \
  }

BODY(beacon, "Dot11Beacon", "802.11 Beacon", "Dot11Beacon", beacon_fields, 12,
     beacon_pl, beacon_ws, len12, elt_next);
BODY(proberesp, "Dot11ProbeResp", "802.11 Probe Response", "Dot11ProbeResp",
     beacon_fields, 12, proberesp_pl, beacon_ws, len12, elt_next);
BODY(assoreq, "Dot11AssoReq", "802.11 Association Request", "Dot11AssoReq",
     assoreq_fields, 4, assoreq_pl, assoreq_ws, len4, elt_next);
BODY(assoresp, "Dot11AssoResp", "802.11 Association Response", "Dot11AssoResp",
     assoresp_fields, 6, assoresp_pl, assoresp_ws, len6, elt_next);
BODY(reassoreq, "Dot11ReassoReq", "802.11 Reassociation Request", "Dot11ReassoReq",
     reassoreq_fields, 10, reassoreq_pl, reassoreq_ws, len10, elt_next);
BODY(reassoresp, "Dot11ReassoResp", "802.11 Reassociation Response", "Dot11ReassoResp",
     assoresp_fields, 6, reassoresp_pl, assoresp_ws, len6, elt_next);
BODY(auth, "Dot11Auth", "802.11 Authentication", "Dot11Auth", auth_fields, 6,
     auth_pl, auth_ws, len6, elt_next);
BODY(deauth, "Dot11Deauth", "802.11 Deauthentication", "Dot11Deauth", reason_fields,
     2, deauth_pl, reason_ws, len2, raw_next);
BODY(disas, "Dot11Disas", "802.11 Disassociation", "Dot11Disas", reason_fields, 2,
     disas_pl, reason_ws, len2, raw_next);
/* Scapy 2.5 has no Action class: the body is its Raw */
static const char *action_cls(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return "Raw";
}
static const sf_scapy action_scapy = {.cls = action_cls, .keeps = keeps_all};

static sf_proto action = {
  .name = "Dot11Action", .display = "802.11 Action", .kind = "Dot11Action",
  .fields = action_fields, .nfields = NFIELDS(action_fields), .minlen = 1,
  .places = action_pl, .ws_fields = action_ws, .hdr_len = len1, .next = raw_next,
  .scapy = &action_scapy,
};

/* A probe request has no fixed fields: a constructor for Scapy's class,
   whose elements follow the 802.11 header when read back. */
static const sf_field preq_fields[] = {{"_", SF_T_BYTES, 0, 0, 0, 0, 0, 0, "", NULL, NULL, NULL}};

static void empty_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)hlen;
  (void)fi;
  *off = 0;
  *len = 0;
}

static sf_proto probereq = {
  .name = "Dot11ProbeReq", .display = "802.11 Probe Request", .kind = "Dot11ProbeReq",
  .fields = preq_fields, .nfields = 0, .minlen = 0, .hdr_len = len0,
  .next = elt_next, .var = empty_span,
};

/* ---- information elements ------------------------------------------------------------ */

static const sf_enum elt_ids[] = {
  {0, "SSID"}, {1, "Supported Rates"}, {2, "FHset"}, {3, "DSSS Set"},
  {4, "CF Set"}, {5, "TIM"}, {6, "IBSS Set"}, {7, "Country"}, {10, "Request"},
  {11, "BSS Load"}, {12, "EDCA Set"}, {13, "TSPEC"}, {14, "TCLAS"},
  {15, "Schedule"}, {16, "Challenge text"}, {32, "Power Constraint"},
  {33, "Power Capability"}, {36, "Supported Channels"}, {42, "ERP"},
  {45, "HT Capabilities"}, {46, "QoS Capability"}, {48, "RSN"},
  {50, "Extended Supported Rates"}, {52, "Neighbor Report"},
  {61, "HT Operation"}, {107, "Interworking"}, {127, "Extendend Capabilities"},
  {191, "VHT Capabilities"}, {221, "Vendor Specific"},
  {0, NULL}
};

static int elt_table(void) {
  static int t;
  return table_of(&t, "dot11.elt");
}

/* The element that starts the body after layer li: a typed kind by its
   ID, else a plain Dot11Elt; nothing when the body is empty. */
static int elt_next(const sf_pkt *p, int li) {
  static int elt, tab = -1;
  const sf_layer *l = &p->layers[li];  /* (bodies and elements: no trailer) */
  const uint8_t *d = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  int pr;
  if (!n) return -2;
  if (tab < 0) tab = elt_table();
  if ((pr = sf_table_fast(tab, d[0])) == -2) pr = sf_table_lookup(tab, d[0], p, li, d, n);
  return pr >= 0 ? pr : proto_named(&elt, "Dot11Elt");
}

static size_t elt_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return n >= 2 && 2u + h[1] <= n ? 2u + h[1] : 0;
}

/* what follows the element's last fixed field, up to its length */
static void info_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 2;
  *len = hlen - 2;
}

/* len counts what follows it */
static void elt_fixup(sf_pkt *p, int li) {
  sf_lput(p, li, 1, p->layers[li].hlen - 2);
}

#define ELT_ID(d) UINTF("ID", 0, 8, (d), 0, elt_ids, 0)
#define ELT_LEN(d) UINTF("len", 8, 8, (d), SF_FF_AUTO, NULL, 0)

static const sf_field elt_fields[] = {
  ELT_ID(0), ELT_LEN(0), BYTESF("info", 16, 0, NULL, "", 0),
};

static const sf_wsfield elt_ws[] = {
  WS("wlan.tag.number", "ID"), WS("wlan.tag.length", "len"), WSEND
};

/* Scapy's elements are layers, each its class; an SSID says
   "SSID='...'" (its bytes as Python's str of them, undecodable ones
   escaped) and has the 802.11 header below say its own text too. */
static int elt_text(const sf_pkt *p, int li, const char *what, char *out, size_t cap) {
  const sf_layer *l = &p->layers[li];
  if (strcmp(what, "ssid") != 0) return -1;
  return (int)sf_scapy_pystr(p->data + l->off + 2, l->hlen - 2, out, cap);
}

static const sf_scapy elt_scapy = {
  .fmt = "{ID=0:SSID='%$ssid%'}", .text = elt_text, .needs = "Dot11", .layer = 1,
};
static const sf_scapy elt_layer = {.layer = 1};

/* typed elements Scapy 2.5 has no class of */
static const char *plain_elt(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return "Dot11Elt";
}
static const sf_scapy elt_plain = {.layer = 1, .cls = plain_elt};

static sf_proto elt = {
  .scapy = &elt_scapy,
  .name = "Dot11Elt", .display = "802.11 Information Element", .kind = "Dot11Elt",
  .fields = elt_fields, .nfields = NFIELDS(elt_fields), .minlen = 2,
  .ws_fields = elt_ws, .record = 1, .hdr_len = elt_len, .next = elt_next,
  .fixup = elt_fixup, .var = info_span,
};

/* a typed element: its fields, its ID, its default length */
#define ELT_SC(id_, nm, disp, knd, flds, min, pl, ws, vr, sc) \
  static sf_proto id_ = { \
    .name = (nm), .display = (disp), .kind = (knd), .fields = (flds), \
    .nfields = NFIELDS(flds), .minlen = (min), .places = (pl), .ws_fields = (ws), \
    .record = 1, .hdr_len = elt_len, .next = elt_next, .fixup = elt_fixup, \
    .var = (vr), .scapy = (sc), \
  }
#define ELT(id_, nm, disp, knd, flds, min, pl, ws, vr) \
  ELT_SC(id_, nm, disp, knd, flds, min, pl, ws, vr, &elt_layer)

#define ELT_PLACE(name, id) \
  static const sf_place name[] = {{"dot11.elt", (id), 0, NULL}, {NULL, 0, 0, NULL}}

/* Supported (and extended supported) rates: one byte each, in 500 kb/s
   units, the top bit marking a basic rate. */
static const sf_field rates_fields[] = {
  ELT_ID(1), ELT_LEN(1), BYTESF("rates", 16, 0, "u8_list", "82", 0),
};

static const sf_place rates_pl[] = {
  {"dot11.elt", 1, 0, NULL}, {"dot11.elt", 50, SF_PL_PARSE_ONLY, NULL}, {NULL, 0, 0, NULL}
};

static const sf_wsfield rates_ws[] = {WS("wlan.tag.number", "ID"), WS("wlan.tag.length", "len"), WSEND};

ELT(rates, "Dot11EltRates", "802.11 Rates", "Dot11EltRates", rates_fields, 3,
    rates_pl, rates_ws, info_span);

static const sf_field dsss_fields[] = {
  ELT_ID(3), ELT_LEN(1), UINTF("channel", 16, 8, 0, 0, NULL, 0),
};
ELT_PLACE(dsss_pl, 3);
static const sf_wsfield dsss_ws[] = {WS("wlan.ds.current_channel", "channel"), WSEND};
ELT(dsss, "Dot11EltDSSSet", "802.11 DSSS Parameter Set", "Dot11EltDSSSet",
    dsss_fields, 3, dsss_pl, dsss_ws, NULL);

static const sf_field tim_fields[] = {
  ELT_ID(5), ELT_LEN(4), UINTF("dtim_count", 16, 8, 0, 0, NULL, 0),
  UINTF("dtim_period", 24, 8, 0, 0, NULL, 0), UINTF("bitmap_control", 32, 8, 0, SF_FF_HEX, NULL, 0),
  BYTESF("partial_virtual_bitmap", 40, 0, NULL, "00", 0),
};

static void tim_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 5;
  *len = hlen > 5 ? hlen - 5 : 0;
}

ELT_PLACE(tim_pl, 5);
static const sf_wsfield tim_ws[] = {
  WS("wlan.tim.dtim_count", "dtim_count"), WS("wlan.tim.dtim_period", "dtim_period"),
  WSX("wlan.tim.bmapctl", "bitmap_control", 2), WSEND
};
ELT_SC(tim, "Dot11EltTIM", "802.11 TIM", "Dot11EltTIM", tim_fields, 6, tim_pl, tim_ws,
       tim_span, &elt_plain);

/* Country: a two-letter code and an environment byte, then triplets of
   first channel, number of channels and maximum power, and a pad byte
   that makes the length even (Scapy's rule: one when the triplets are
   even in number). */
enum { CO_STRING = 2, CO_DESC, CO_PAD };

static const sf_field country_fields[] = {
  ELT_ID(7), ELT_LEN(4), {"country_string", SF_T_BYTES, 0, 0, 0, 16, 24, 0, "000000", NULL, NULL, NULL},
  BYTESF("descriptors", 40, 0, "u8_triplets", "", 0),
  BYTESF("pad", 40, 0, NULL, "00", 0),
};

static void country_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  size_t desc = hlen > 5 ? (hlen - 5) / 3 * 3 : 0;
  (void)h;
  *off = fi == CO_STRING ? 2 : fi == CO_DESC ? 5 : 5 + desc;
  *len = fi == CO_STRING ? 3 : fi == CO_DESC ? desc : hlen - 5 - desc;
}

/* A built element gets its pad byte, or loses it, as its triplets say. */
static void country_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t off, dlen, plen;
  if ((l->flags & SF_L_BUILT) && l->hlen >= 5 && !sf_isset(p, li, CO_PAD)) {
    country_span(p->data + l->off, l->hlen, CO_DESC, &off, &dlen);
    country_span(p->data + l->off, l->hlen, CO_PAD, &off, &plen);
    if (dlen / 3 % 2 == 0 && plen == 0) sf_pkt_splice(p, li, l->off + off, 0, NULL, 1);
    else if (dlen / 3 % 2 == 1 && plen == 1) sf_pkt_splice(p, li, l->off + off, 1, NULL, 0);
  }
  elt_fixup(p, li);
}

ELT_PLACE(country_pl, 7);
static const sf_wsfield country_ws[] = {WS("wlan.country_info.code", "country_string"), WSEND};

static sf_proto country = {
  .name = "Dot11EltCountry", .display = "802.11 Country", .kind = "Dot11EltCountry",
  .fields = country_fields, .nfields = NFIELDS(country_fields), .minlen = 6,
  .places = country_pl, .ws_fields = country_ws, .record = 1, .scapy = &elt_layer,
  .hdr_len = elt_len,
  .next = elt_next, .fixup = country_fixup, .var = country_span,
};

static const sf_field erp_fields[] = {
  ELT_ID(42), ELT_LEN(1), UINTF("NonERP_Present", 16, 1, 0, 0, NULL, 0),
  UINTF("Use_Protection", 17, 1, 0, 0, NULL, 0),
  UINTF("Barker_Preamble_Mode", 18, 1, 0, 0, NULL, 0), UINTF("res", 19, 5, 0, 0, NULL, 0),
};
ELT_PLACE(erp_pl, 42);
static const sf_wsfield erp_ws[] = {WSX("wlan.erp_info", "res", 2), WSEND};
ELT(erp, "Dot11EltERP", "802.11 ERP", "Dot11EltERP", erp_fields, 3, erp_pl, erp_ws, NULL);

/* HT capabilities: Scapy's bit fields of the little-endian capability
   words, placed on the bytes (bit b of a little-endian word at byte o is
   bit 7 - b % 8 of byte o + b / 8); the MCS set and the beamforming
   capabilities as whole values. */
#define HTB(n, byte, hi, w) UINTF(n, (byte) * 8 + ((hi) / 8) * 8 + 7 - (hi) % 8, w, 0, 0, NULL, 0)

static const sf_field htcap_fields[] = {
  ELT_ID(45), ELT_LEN(26),
  HTB("L_SIG_TXOP_Protection", 2, 15, 1), HTB("Forty_Mhz_Intolerant", 2, 14, 1),
  HTB("PSMP", 2, 13, 1), HTB("DSSS_CCK", 2, 12, 1), HTB("Max_A_MSDU", 2, 11, 1),
  HTB("Delayed_BlockAck", 2, 10, 1), HTB("Rx_STBC", 2, 9, 2), HTB("Tx_STBC", 2, 7, 1),
  HTB("Short_GI_40Mhz", 2, 6, 1), HTB("Short_GI_20Mhz", 2, 5, 1),
  HTB("Green_Field", 2, 4, 1), HTB("SM_Power_Save", 2, 3, 2),
  HTB("Supported_Channel_Width", 2, 1, 1), HTB("LDPC_Coding_Capability", 2, 0, 1),
  UINTF("res1", 32, 3, 0, 0, NULL, 0), UINTF("Min_MPDCU_Start_Spacing", 35, 3, 8 & 7, 0, NULL, 0),
  UINTF("Max_A_MPDU_Length_Exponent", 38, 2, 3, 0, NULL, 0),
  {"mcs_set", SF_T_BYTES, 0, 0, 0, 40, 128, 0, "00000000000000000000000000000000", NULL, NULL, NULL},
  HTB("res5", 21, 15, 4), HTB("RD_Responder", 21, 11, 1), HTB("HTC_HT_Support", 21, 10, 1),
  HTB("MCS_Feedback", 21, 9, 2), HTB("res6", 21, 7, 5), HTB("PCO_Transition_Time", 21, 2, 2),
  HTB("PCO", 21, 0, 1),
  LEU("txbf", 184, 32, 0, NULL, 0),
  UINTF("ASEL", 216, 8, 0, SF_FF_HEX, NULL, 0),
};

static void mcs_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 5;
  *len = hlen >= 21 ? 16 : 0;
}

ELT_PLACE(htcap_pl, 45);
static const sf_wsfield htcap_ws[] = {
  WSX("wlan.ht.ampduparam.maxlength", "Max_A_MPDU_Length_Exponent", 2),
  WSX("wlan.ht.ampduparam.mpdudensity", "Min_MPDCU_Start_Spacing", 2),
  WS("wlan.ht.capabilities.ldpccoding", "LDPC_Coding_Capability"),
  WS("wlan.ht.capabilities.width", "Supported_Channel_Width"),
  WSX("wlan.ht.capabilities.sm", "SM_Power_Save", 4),
  WS("wlan.ht.capabilities.green", "Green_Field"),
  WS("wlan.ht.capabilities.short20", "Short_GI_20Mhz"),
  WS("wlan.ht.capabilities.short40", "Short_GI_40Mhz"),
  WS("wlan.ht.capabilities.txstbc", "Tx_STBC"),
  WSX("wlan.ht.capabilities.rxstbc", "Rx_STBC", 4),
  WS("wlan.ht.capabilities.amsdu", "Max_A_MSDU"),
  WS("wlan.ht.capabilities.dsscck", "DSSS_CCK"),
  WS("wlan.ht.capabilities.40mhzintolerant", "Forty_Mhz_Intolerant"),
  WS("wlan.ht.capabilities.lsig", "L_SIG_TXOP_Protection"),
  WSX("wlan.txbf", "txbf", 8), WSX("wlan.asel", "ASEL", 2),
  WSEND
};
ELT(htcap, "Dot11EltHTCapabilities", "802.11 HT Capabilities", "Dot11EltHTCapabilities",
    htcap_fields, 28, htcap_pl, htcap_ws, mcs_span);

/* VHT capabilities (802.11-2016 9.4.2.158): not in Scapy 2.5; the
   capability word and the MCS maps as Wireshark names them. */
static const sf_field vhtcap_fields[] = {
  ELT_ID(191), ELT_LEN(12), LEU("vht_cap", 16, 32, 0, NULL, 0),
  LEU("rx_mcs_map", 48, 16, 0, NULL, 0), LEU("rx_highest_rate", 64, 16, 0, NULL, 0),
  LEU("tx_mcs_map", 80, 16, 0, NULL, 0), LEU("tx_highest_rate", 96, 16, 0, NULL, 0),
};
ELT_PLACE(vhtcap_pl, 191);
static const sf_wsfield vhtcap_ws[] = {
  WSX("wlan.vht.capabilities", "vht_cap", 8), WSX("wlan.vht.mcsset.rxmcsmap", "rx_mcs_map", 4),
  WSX("wlan.vht.mcsset.txmcsmap", "tx_mcs_map", 4), WSEND
};
ELT_SC(vhtcap, "Dot11EltVHTCapabilities", "802.11 VHT Capabilities",
       "Dot11EltVHTCapabilities", vhtcap_fields, 14, vhtcap_pl, vhtcap_ws, NULL, &elt_plain);

static const sf_field vendor_fields[] = {
  ELT_ID(221), ELT_LEN(3), UINTF("oui", 16, 24, 0, SF_FF_HEX, NULL, 0),
  BYTESF("info", 40, 0, NULL, "", 0),
};

static void vinfo_span(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 5;
  *len = hlen > 5 ? hlen - 5 : 0;
}

/* three bytes at least for the OUI; a shorter element is a plain one */
static int has_oui(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return n >= 5 && h[1] >= 3;
}

static const sf_place vendor_pl[] = {{"dot11.elt", 221, 0, has_oui}, {NULL, 0, 0, NULL}};
static const sf_wsfield vendor_ws[] = {WS("wlan.tag.oui", "oui"), WSEND};
/* Microsoft's WPA element is a class of its own in Scapy */
static const char *vendor_cls(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  return l->hlen >= 6 && h[2] == 0x00 && h[3] == 0x50 && h[4] == 0xf2 && h[5] == 1
             ? "Dot11EltMicrosoftWPA" : NULL;
}
static const sf_scapy vendor_scapy = {.layer = 1, .cls = vendor_cls};

ELT_SC(vendor, "Dot11EltVendorSpecific", "802.11 Vendor Specific", "Dot11EltVendorSpecific",
       vendor_fields, 5, vendor_pl, vendor_ws, vinfo_span, &vendor_scapy);


/* RSN (802.11-2016 9.4.2.25): version, group cipher, counted pairwise
   cipher and AKM suite lists, capabilities, then optionally PMKIDs and
   the group management cipher, each there when the element's length
   leaves room for it (as Wireshark and Scapy read it).  The fields after
   the lists move with them: the layout is computed from the bytes, and
   from the values when a field is set. */
enum {
  R_ID, R_LEN, R_VERSION, R_GROUP, R_NBP, R_PAIRWISE, R_NBA, R_AKM,
  R_MFPC, R_MFPR, R_GTKSA, R_PTKSA, R_NOPAIR, R_PREAUTH, R_RES, R_OCVC,
  R_EXTKEY, R_PBAC, R_SPPREQ, R_SPPCAP, R_PEERKEY, R_JOINT,
  R_NBPMKID, R_PMKIDS, R_GMCS, RN
};

#define RLE(n, d) {(n), SF_T_UINT, SF_FF_LE, 0, 0, 0, 16, (d), NULL, NULL, NULL, NULL}
#define RLEN(n) {(n), SF_T_UINT, SF_FF_LE | SF_FF_AUTO, 0, 0, 0, 16, 1, NULL, NULL, NULL, NULL}
#define RBIT(n, off, w, d) UINTF(n, off, w, d, 0, NULL, 0)
#define RBYTES(n, codec) {(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, (codec), NULL}

static const sf_field rsn_fields[RN] = {
  ELT_ID(48), ELT_LEN(26), RLE("version", 1), RBYTES("group_cipher_suite", "rsn_suite"),
  RLEN("nb_pairwise_cipher_suites"), RBYTES("pairwise_cipher_suites", "rsn_suites"),
  RLEN("nb_akm_suites"), RBYTES("akm_suites", "akm_suites"),
  RBIT("mfp_capable", 0, 1, 1), RBIT("mfp_required", 1, 1, 1),
  RBIT("gtksa_replay_counter", 2, 2, 0), RBIT("ptksa_replay_counter", 4, 2, 0),
  RBIT("no_pairwise", 6, 1, 0), RBIT("pre_auth", 7, 1, 0), RBIT("reserved", 8, 1, 0),
  RBIT("ocvc", 9, 1, 0), RBIT("extended_key_id", 10, 1, 0), RBIT("pbac", 11, 1, 0),
  RBIT("spp_a_msdu_required", 12, 1, 0), RBIT("spp_a_msdu_capable", 13, 1, 0),
  RBIT("peer_key_enabled", 14, 1, 0), RBIT("joint_multiband_rsna", 15, 1, 0),
  {"nb_pmkids", SF_T_UINT, SF_FF_LE | SF_FF_AUTO, 0, 0, 0, 16, 0, NULL, NULL, NULL, NULL},
  RBYTES("pmkid_list", NULL), RBYTES("group_management_cipher_suite", "rsn_suite"),
};

static void rsn_absent(sf_span *sp) {
  int i;
  for (i = 0; i < RN; i++) sp[i].bitoff = 0, sp[i].bits = SF_ABSENT;
}

static void rsn_at(sf_span *sp, int fi, size_t pos, size_t bytes) {
  sp[fi].bitoff = (uint32_t)(pos * 8 + (rsn_fields[fi].bits < 8 ? rsn_fields[fi].bitoff : 0));
  sp[fi].bits = (uint32_t)(rsn_fields[fi].type == SF_T_BYTES ? bytes * 8 : rsn_fields[fi].bits);
}

/* A counted list at pos of the element (end bytes): its fields, the new
   position, or 0 when the count or the list does not fit. */
static size_t rsn_list(const uint8_t *h, size_t pos, size_t end, size_t item,
                       int count_fi, int list_fi, sf_span *sp) {
  size_t k;
  if (pos + 2 > end) return 0;
  k = (size_t)(h[pos] | h[pos + 1] << 8);
  rsn_at(sp, count_fi, pos, 2);
  pos += 2;
  if (pos + k * item > end) return 0;
  rsn_at(sp, list_fi, pos, k * item);
  return pos + k * item;
}

static size_t rsn_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                         sf_span *sp, int build) {
  size_t end, pos = 2;
  int i;
  (void)pr;
  (void)build;
  rsn_absent(sp);
  if (n < 2 || (end = 2u + h[1]) > n) return 0;
  rsn_at(sp, R_ID, 0, 1);
  rsn_at(sp, R_LEN, 1, 1);
  if (pos + 2 > end) return end;
  rsn_at(sp, R_VERSION, pos, 2), pos += 2;
  if (pos + 4 > end) return end;
  rsn_at(sp, R_GROUP, pos, 4), pos += 4;
  if (!(pos = rsn_list(h, pos, end, 4, R_NBP, R_PAIRWISE, sp))) return end;
  if (!(pos = rsn_list(h, pos, end, 4, R_NBA, R_AKM, sp))) return end;
  if (pos + 2 > end) return end;
  for (i = R_MFPC; i <= R_JOINT; i++) rsn_at(sp, i, pos, 0);
  pos += 2;
  if (pos + 2 <= end && !(pos = rsn_list(h, pos, end, 16, R_NBPMKID, R_PMKIDS, sp)))
    return end;
  if (pos && pos + 4 <= end) rsn_at(sp, R_GMCS, pos, 4);
  return end;
}

/* the value of field i for the element being written */
typedef struct rsn_w {
  const uint8_t *h;
  const sf_span *old;
  int fi;
  const sf_val *v;
  uint8_t *out;
  size_t pos;
} rsn_w;

static int rsn_has(const rsn_w *w, int i) {
  return (i == w->fi) || w->old[i].bits != SF_ABSENT;
}

static uint64_t rsn_int(const rsn_w *w, int i) {
  const sf_span *s = &w->old[i];
  if (i == w->fi) return w->v ? w->v->u : rsn_fields[i].def;
  if (s->bits == SF_ABSENT) return rsn_fields[i].def;
  if (rsn_fields[i].flags & SF_FF_LE) return (uint64_t)(w->h[s->bitoff / 8] | w->h[s->bitoff / 8 + 1] << 8);
  return sf_getbits(w->h, s->bitoff, s->bits);
}

/* a list's or suite's bytes: the one set, the old ones, or the default */
static void rsn_bytes(rsn_w *w, int i, const char *def, size_t ndef) {
  const uint8_t *d = (const uint8_t *)def;
  size_t n = ndef;
  if (i == w->fi && w->v) d = w->v->p, n = w->v->n;
  else if (i != w->fi && w->old[i].bits != SF_ABSENT)
    d = w->h + w->old[i].bitoff / 8, n = w->old[i].bits / 8;
  if (w->pos + n > 255) n = w->pos < 255 ? 255 - w->pos : 0;
  memcpy(w->out + w->pos, d, n);
  w->pos += n;
}

static void rsn_le16(rsn_w *w, uint64_t v) {
  w->out[w->pos++] = (uint8_t)v;
  w->out[w->pos++] = (uint8_t)(v >> 8);
}

/* a count (the user's, or the list's) and its list */
static void rsn_counted(rsn_w *w, const sf_pkt *p, int li, int count_fi, int list_fi,
                        size_t item, const char *def, size_t ndef) {
  size_t at = w->pos;
  rsn_le16(w, 0);
  rsn_bytes(w, list_fi, def, ndef);
  if (count_fi == w->fi || sf_isset(p, li, count_fi)) {
    uint64_t k = rsn_int(w, count_fi);
    w->out[at] = (uint8_t)k;
    w->out[at + 1] = (uint8_t)(k >> 8);
  } else {
    size_t k = (w->pos - at - 2) / item;
    w->out[at] = (uint8_t)k;
    w->out[at + 1] = (uint8_t)(k >> 8);
  }
}

static int rsn_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_layer *l = &p->layers[li];
  sf_span old[SF_MAX_FIELDS];
  uint8_t out[300];
  rsn_w w = {p->data + l->off, old, fi, v, out, 2};
  int i;
  if (!rsn_layout(pr, w.h, l->hlen, old, 1)) return SF_E_VALUE;
  if (v && rsn_fields[fi].type == SF_T_BYTES && v->n > 255) return SF_E_TOOBIG;
  memset(out, 0, sizeof out);
  out[0] = (uint8_t)rsn_int(&w, R_ID);
  rsn_le16(&w, rsn_int(&w, R_VERSION));
  rsn_bytes(&w, R_GROUP, "\x00\x0f\xac\x04", 4);
  rsn_counted(&w, p, li, R_NBP, R_PAIRWISE, 4, "\x00\x0f\xac\x04", 4);
  rsn_counted(&w, p, li, R_NBA, R_AKM, 4, "\x00\x0f\xac\x01", 4);
  for (i = R_MFPC; i <= R_JOINT; i++) {
    sf_span s = {(uint32_t)(w.pos * 8 + rsn_fields[i].bitoff), rsn_fields[i].bits};
    sf_setbits(out, s.bitoff, s.bits, rsn_int(&w, i));
  }
  w.pos += 2;
  if (rsn_has(&w, R_NBPMKID) || rsn_has(&w, R_PMKIDS) || rsn_has(&w, R_GMCS))
    rsn_counted(&w, p, li, R_NBPMKID, R_PMKIDS, 16, "", 0);
  if (rsn_has(&w, R_GMCS)) rsn_bytes(&w, R_GMCS, "\x00\x0f\xac\x06", 4);
  if (w.pos > 257) return SF_E_TOOBIG;
  out[1] = fi == R_LEN || sf_isset(p, li, R_LEN) ? (uint8_t)rsn_int(&w, R_LEN)
                                                 : (uint8_t)(w.pos - 2);
  return sf_pkt_splice(p, li, l->off, l->hlen, out, w.pos);
}

static const uint8_t rsn_default[28] = {
  0x30, 0x1a, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04,
  0x01, 0x00, 0x00, 0x0f, 0xac, 0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xac, 0x06
};

static const sf_dyn rsn_dyn = {.layout = rsn_layout, .set = rsn_set};

ELT_PLACE(rsn_pl, 48);
static const sf_wsfield rsn_ws[] = {
  WS("wlan.rsn.version", "version"),
  WS("wlan.rsn.pcs.count", "nb_pairwise_cipher_suites"),
  WS("wlan.rsn.akms.count", "nb_akm_suites"),
  WS("wlan.rsn.capabilities.mfpc", "mfp_capable"),
  WS("wlan.rsn.capabilities.mfpr", "mfp_required"),
  WS("wlan.rsn.capabilities.preauth", "pre_auth"),
  WS("wlan.rsn.capabilities.no_pairwise", "no_pairwise"),
  WS("wlan.rsn.pmkid.count", "nb_pmkids"),
  WSEND
};

static sf_proto rsn = {
  .name = "Dot11EltRSN", .display = "802.11 RSN information", .kind = "Dot11EltRSN",
  .fields = rsn_fields, .nfields = RN, .minlen = 28, .places = rsn_pl,
  .ws_fields = rsn_ws, .record = 1, .scapy = &elt_layer, .hdr_len = elt_len, .next = elt_next, .dyn = &rsn_dyn,
  .deftmpl = rsn_default,
};

SF_PROTO_FILE(dot11) {
  crc_init();
  sf_register(&dot11);
  sf_register(&dot11fcs);
  sf_register(&qos);
  sf_register(&wep);
  sf_register(&tkip);
  sf_register(&ccmp);
  sf_register(&beacon);
  sf_register(&proberesp);
  sf_register(&probereq);
  sf_register(&assoreq);
  sf_register(&assoresp);
  sf_register(&reassoreq);
  sf_register(&reassoresp);
  sf_register(&auth);
  sf_register(&deauth);
  sf_register(&disas);
  sf_register(&action);
  sf_register(&elt);
  sf_register(&rates);
  sf_register(&dsss);
  sf_register(&tim);
  sf_register(&country);
  sf_register(&erp);
  sf_register(&htcap);
  sf_register(&vhtcap);
  sf_register(&vendor);
  sf_register(&rsn);
}
