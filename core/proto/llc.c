/*
 * llc.c -- IEEE 802.2 LLC, SNAP (RFC 1042) and 802.3 length frames, with
 * Scapy's classes and fields (Dot3, LLC, SNAP), and EAPOL (802.1X), which
 * 802.11 data frames carry behind LLC/SNAP.
 *
 * An Ethernet type of 1500 or less is a length (ether.c); LLC follows it,
 * as it follows 802.3 frames (Dot3) and 802.11 data frames.  LLC's DSAP
 * keys the "llc.dsap" table (0xaa: SNAP); SNAP's code is an EtherType,
 * read in the "ethertype" table.  Scapy's LLC has a one-byte control
 * field (U frames); I and S frames' second control byte is payload here.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

/* ---- 802.3 ------------------------------------------------------------ */

enum { D3_LEN = 2 };

static const sf_field dot3_fields[] = {
  MACF("dst", 0, "ff:ff:ff:ff:ff:ff", 0),
  MACF("src", 48, "00:00:00:00:00:00", 0),
  UINTF("len", 96, 16, 0, SF_FF_AUTO, NULL, 0),
};

static size_t dot3_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 14 ? 14 : 0;
}

/* The length counts the payload: what follows it is padding. */
static size_t dot3_extent(const uint8_t *h, size_t hlen, size_t n) {
  (void)hlen;
  (void)n;
  return 14u + rd16(h + 12);
}

static int llc_id(void) {
  static int llc;
  return proto_named(&llc, "LLC");
}

static int dot3_next(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return llc_id();
}

static void dot3_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, D3_LEN, l->end - l->off - l->hlen);
}

static const sf_facts dot3_facts = {
  .role = SF_ROLE_LINK, .src = "src", .dst = "dst",
};

static const sf_wsfield dot3_ws[] = {
  WS("eth.dst", "dst"), WS("eth.src", "src"),
  WS2("eth.addr", "dst", "src"), WS("eth.len", "len"),
  WSEND
};

/* Scapy's Dot3.mysummary */
static const sf_scapy dot3_scapy = {.fmt = "802.3 %src% > %dst%"};

static sf_proto dot3 = {
  .name = "Dot3", .display = "802.3", .kind = "Dot3", .scapy = &dot3_scapy,
  .fields = dot3_fields, .nfields = NFIELDS(dot3_fields), .minlen = 14,
  .ws_fields = dot3_ws, .facts = &dot3_facts, .hdr_len = dot3_len,
  .extent = dot3_extent, .next = dot3_next, .fixup = dot3_fixup,
};

/* ---- LLC ---------------------------------------------------------------- */

enum { L_DSAP, L_SSAP, L_CTRL };

static const sf_enum saps[] = {
  {0x00, "NULL"}, {0x06, "IP"}, {0x42, "STP"}, {0xaa, "SNAP"}, {0xe0, "IPX"},
  {0xf0, "NetBIOS"}, {0xfe, "ISO"}, {0xff, "global"}, {0, NULL}
};

static const sf_field llc_fields[] = {
  UINTF("dsap", 0, 8, 0, SF_FF_HEX, saps, 0),
  UINTF("ssap", 8, 8, 0, SF_FF_HEX, saps, 0),
  UINTF("ctrl", 16, 8, 0, 0, NULL, 0),
};

static size_t llc_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 3 ? 3 : 0;
}

/* Before SNAP both SAPs are 0xaa and the frame an unnumbered one (UI),
   as Scapy's binding sets them. */
static void llc_fixup(sf_pkt *p, int li) {
  static int snap;
  if (li + 1 >= p->nlayers || p->layers[li + 1].proto != proto_named(&snap, "SNAP"))
    return;
  sf_lput(p, li, L_SSAP, 0xaa);
  sf_lput(p, li, L_CTRL, 3);
}

/* 0x8870 (jumbo LLC) is what Scapy's Ether()/LLC() writes; a length
   leads here through ether.c. */
static const sf_place llc_places[] = {{"ethertype", 0x8870, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_wsfield llc_ws[] = {
  WSX("llc.dsap", "dsap", 2), WSX("llc.ssap", "ssap", 2),
  WSX("llc.control", "ctrl", 4), WSEND
};

/* Scapy binds SNAP after LLC only when both SAPs are 0xaa and the frame
   is UI; before a SNAP header sflua reads by the DSAP alone, Scapy has
   Raw (which keeps the rest). */
static int snap_unbound(const sf_pkt *p, int li) {
  static int snap;
  const uint8_t *h = p->data + p->layers[li].off;
  return li + 1 < p->nlayers && p->layers[li + 1].proto == proto_named(&snap, "SNAP") &&
         (h[1] != 0xaa || h[2] != 3);
}

static int llc_keeps(const sf_pkt *p, int li, int j) {
  (void)j;
  return snap_unbound(p, li);
}

static const char *llc_added(const sf_pkt *p, int li, int after) {
  return after && snap_unbound(p, li) ? "Raw" : NULL;
}

static const sf_scapy llc_scapy = {.added = llc_added, .keeps = llc_keeps};

static sf_proto llc = {
  .scapy = &llc_scapy,
  .name = "LLC", .display = "LLC", .kind = "Llc",
  .fields = llc_fields, .nfields = NFIELDS(llc_fields), .minlen = 3,
  .next_table = "llc.dsap", .next_keys = {"dsap"}, .places = llc_places,
  .ws = "llc", .ws_fields = llc_ws, .hdr_len = llc_len, .fixup = llc_fixup,
};

/* ---- SNAP --------------------------------------------------------------- */

static const sf_enum ouis[] = {
  {0x000000, "RFC1042"}, {0x0000f8, "802.1H"}, {0x00000c, "Cisco"}, {0, NULL}
};

static const sf_field snap_fields[] = {
  UINTF("OUI", 0, 24, 0, SF_FF_HEX, ouis, 0),
  UINTT("code", 24, 16, 0, SF_FF_HEX, NULL, "ethertype"),
};

static size_t snap_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 5 ? 5 : 0;
}

/* The code is an EtherType for the encapsulation OUIs only. */
static int snap_next(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  unsigned oui = (unsigned)h[0] << 16 | (unsigned)rd16(h + 1);
  return oui == 0 || oui == 0xf8 ? -1 : -2;
}

static const sf_place snap_places[] = {{"llc.dsap", 0xaa, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_wsfield snap_ws[] = {
  WS("llc.oui", "OUI"), WSX("llc.type", "code", 4),
  WSEND
};

static sf_proto snap = {
  .name = "SNAP", .display = "SNAP", .kind = "Snap",
  .fields = snap_fields, .nfields = NFIELDS(snap_fields), .minlen = 5,
  .next_table = "ethertype", .next_keys = {"code"}, .places = snap_places,
  .ws_fields = snap_ws, .hdr_len = snap_len, .next = snap_next,
};

/* ---- EAPOL ---------------------------------------------------------------- */

enum { E_LEN = 2 };

static const sf_enum eapol_versions[] = {
  {1, "802.1X-2001"}, {2, "802.1X-2004"}, {3, "802.1X-2010"}, {0, NULL}
};

static const sf_enum eapol_types[] = {
  {0, "EAP_PACKET"}, {1, "START"}, {2, "LOGOFF"}, {3, "KEY"}, {4, "ASF"},
  {0, NULL}
};

static const sf_field eapol_fields[] = {
  UINTF("version", 0, 8, 1, 0, eapol_versions, 0),
  UINTF("type", 8, 8, 0, 0, eapol_types, 0),
  UINTF("len", 16, 16, 0, SF_FF_AUTO, NULL, 0),
};

static size_t eapol_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 4 ? 4 : 0;
}

static size_t eapol_extent(const uint8_t *h, size_t hlen, size_t n) {
  (void)hlen;
  (void)n;
  return 4u + rd16(h + 2);
}

static void eapol_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, E_LEN, l->end - l->off - l->hlen);
}

static int eapol_next(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return -2;  /* EAP and EAPOL-Key bodies are not dissected yet */
}

static const sf_place eapol_places[] = {{"ethertype", 0x888e, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_wsfield eapol_ws[] = {
  WS("eapol.version", "version"), WS("eapol.type", "type"),
  WS("eapol.len", "len"), WSEND
};

/* Scapy's EAPOL.mysummary, with Scapy 2.5's names of the types (its
   eapol_types; sflua's own are the shorter names above) */
static int eapol_text(const sf_pkt *p, int li, const char *what, char *out,
                      size_t cap) {
  static const char *const names[] = {
    "EAP-Packet", "EAPOL-Start", "EAPOL-Logoff", "EAPOL-Key",
    "EAPOL-Encapsulated-ASF-Alert", "EAPOL-MKA", "EAPOL-Announcement (Generic)",
    "EAPOL-Announcement (Specific)", "EAPOL-Announcement-Req"
  };
  uint64_t t = sf_lget(p, li, 1);
  if (strcmp(what, "type") != 0) return -1;
  if (t < sizeof names / sizeof names[0]) return snprintf(out, cap, "%s", names[t]);
  return snprintf(out, cap, "%u", (unsigned)t);
}

static const char *const eapol_names[] = {"type", "$", NULL};
static const sf_scapy eapol_scapy = {
  .fmt = "EAPOL %type%", .names = eapol_names, .text = eapol_text
};

static sf_proto eapol = {
  .name = "EAPOL", .display = "EAPOL", .kind = "Eapol", .scapy = &eapol_scapy,
  .fields = eapol_fields, .nfields = NFIELDS(eapol_fields), .minlen = 4,
  .places = eapol_places, .ws = "eapol", .ws_fields = eapol_ws,
  .hdr_len = eapol_len, .extent = eapol_extent, .next = eapol_next,
  .fixup = eapol_fixup,
};

SF_PROTO_FILE(llc) {
  sf_register(&dot3);
  sf_register(&llc);
  sf_register(&snap);
  sf_register(&eapol);
}
