/*
 * dot15d4.c -- IEEE 802.15.4 MAC frames: link types 195 (with the FCS)
 * and 230 (without), with Scapy's class and field names (Dot15d4,
 * Dot15d4FCS, Dot15d4Beacon, Dot15d4Cmd and the command payloads).
 *
 * The MAC header -- frame control, sequence number, addresses and the
 * auxiliary security header -- is one layer here: its frame control says
 * which fields follow and how long each is (addressing modes, PAN ID
 * compression as 802.15.4-2015 Table 7-2 has it for frame version 2,
 * sequence number suppression, key identifier mode), so the layout is
 * computed from the bytes and written again from the values when a field
 * is set (sf_dyn).  Scapy keeps the addresses in Dot15d4Data,
 * Dot15d4Beacon and Dot15d4Cmd; here they are Dot15d4's, and a data
 * frame's payload follows the header directly (6LoWPAN and ZigBee are
 * not dissected yet).
 *
 * Dot15d4FCS has the FCS (CRC-16/KERMIT over the frame, little-endian)
 * as its trailer, filled in at build time.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

enum {
  F_RES1, F_PANCOMP, F_ACKREQ, F_PENDING, F_SECURITY, F_FRAMETYPE, F_SRCMODE,
  F_FRAMEVER, F_DSTMODE, F_RES2, F_SEQNUM, F_DPAN, F_DADDR16, F_DADDR64,
  F_SPAN, F_SADDR16, F_SADDR64, F_SECRES, F_KEYIDMODE, F_SECLEVEL,
  F_FRAMECOUNTER, F_KEYSRC4, F_KEYSRC8, F_KEYINDEX, F_FCS, NF
};

static const sf_enum frametypes[] = {
  {0, "Beacon"}, {1, "Data"}, {2, "Ack"}, {3, "Command"}, {0, NULL}
};

static const sf_enum addrmodes[] = {
  {0, "None"}, {1, "Reserved"}, {2, "Short"}, {3, "Long"}, {0, NULL}
};

static const sf_enum keyidmodes[] = {
  {0, "Implicit"}, {1, "1oKeyIndex"}, {2, "4o-KeySource-1oKeyIndex"},
  {3, "8o-KeySource-1oKeyIndex"}, {0, NULL}
};

static const sf_enum seclevels[] = {
  {0, "None"}, {1, "MIC-32"}, {2, "MIC-64"}, {3, "MIC-128"}, {4, "ENC"},
  {5, "ENC-MIC-32"}, {6, "ENC-MIC-64"}, {7, "ENC-MIC-128"}, {0, NULL}
};

#define FCF(n, off, w, d, fl, en) UINTF(n, off, w, d, (fl) | SF_FF_SHAPE, en, 0)
/* bitoff: within the field's own bytes; the layout places them */
#define LEH(n, w, d) {(n), SF_T_UINT, SF_FF_LE | SF_FF_HEX, 0, 0, 0, (w), (d), NULL, NULL, NULL, NULL}

static const sf_field wpan_fields[NF] = {
  FCF("fcf_reserved_1", 0, 1, 0, 0, NULL),
  FCF("fcf_panidcompress", 1, 1, 0, 0, NULL),
  FCF("fcf_ackreq", 2, 1, 0, 0, NULL),
  FCF("fcf_pending", 3, 1, 0, 0, NULL),
  FCF("fcf_security", 4, 1, 0, 0, NULL),
  FCF("fcf_frametype", 5, 3, 0, 0, frametypes),
  FCF("fcf_srcaddrmode", 8, 2, 0, 0, addrmodes),
  FCF("fcf_framever", 10, 2, 0, 0, NULL),
  FCF("fcf_destaddrmode", 12, 2, 2, 0, addrmodes),
  FCF("fcf_reserved_2", 14, 2, 0, 0, NULL),
  UINTF("seqnum", 0, 8, 1, 0, NULL, 0),
  LEH("dest_panid", 16, 0xffff), LEH("dest_addr", 16, 0xffff), LEH("dest_addr", 64, 0xffff),
  LEH("src_panid", 16, 0), LEH("src_addr", 16, 0), LEH("src_addr", 64, 0),
  UINTF("sec_sc_reserved", 0, 3, 0, 0, NULL, 0),
  UINTF("sec_sc_keyidmode", 3, 2, 0, SF_FF_SHAPE, keyidmodes, 0),
  UINTF("sec_sc_seclevel", 5, 3, 0, 0, seclevels, 0),
  LEH("sec_framecounter", 32, 0), LEH("sec_keyid_keysource", 32, 0),
  LEH("sec_keyid_keysource", 64, 0),
  UINTF("sec_keyid_keyindex", 0, 8, 0xff, SF_FF_HEX, NULL, 0),
  {"fcs", SF_T_UINT, SF_FF_LE | SF_FF_AUTO | SF_FF_HEX | SF_FF_TRAIL, 0, 0, 0, 16, 0,
   NULL, NULL, NULL, NULL},
};

/* What frame control (and the security control byte) lay out. */
typedef struct mhr {
  int seq, dpan, span;
  unsigned dlen, slen;   /* address bytes: 0, 2 or 8 */
  int sec;
  unsigned keysrc;       /* key source bytes: 0, 4 or 8 */
  int keyindex;
} mhr;

static unsigned addr_len(unsigned mode) { return mode == 2 ? 2 : mode == 3 ? 8 : 0; }

/* Which PAN IDs are there (802.15.4-2015 7.2.1.5; before 2015 a PAN ID
   goes with each address, the source's left out under compression). */
static void pans(unsigned ver, unsigned dm, unsigned sm, int comp, mhr *m) {
  if (ver < 2) {
    m->dpan = dm != 0;
    m->span = sm != 0 && !(comp && dm != 0);
    return;
  }
  if (!dm && !sm) m->dpan = comp, m->span = 0;
  else if (dm && !sm) m->dpan = !comp, m->span = 0;
  else if (!dm && sm) m->dpan = 0, m->span = !comp;
  else if (dm == 3 && sm == 3) m->dpan = !comp, m->span = 0;
  else m->dpan = 1, m->span = !comp;
}

/* fcf: the two frame control bytes as sent; sc: the security control */
static void mhr_of(const uint8_t fcf[2], unsigned sc, mhr *m) {
  unsigned ver = (fcf[1] >> 4) & 3, dm = (fcf[1] >> 2) & 3, sm = fcf[1] >> 6;
  memset(m, 0, sizeof *m);
  m->seq = !(ver == 2 && (fcf[1] & 1));
  m->dlen = addr_len(dm);
  m->slen = addr_len(sm);
  pans(ver, dm, sm, (fcf[0] >> 6) & 1, m);
  m->sec = (fcf[0] >> 3) & 1;
  m->keysrc = ((sc >> 3) & 3) == 2 ? 4 : ((sc >> 3) & 3) == 3 ? 8 : 0;
  m->keyindex = ((sc >> 3) & 3) != 0;
}

static void span_at(sf_span *sp, int fi, size_t pos) {
  sp[fi].bitoff = (uint32_t)(pos * 8 + (wpan_fields[fi].bits < 8 ? wpan_fields[fi].bitoff : 0));
  sp[fi].bits = wpan_fields[fi].bits;
}

static void absent(sf_span *sp) {
  int i;
  for (i = 0; i < NF; i++) sp[i].bitoff = 0, sp[i].bits = SF_ABSENT;
}

/* Spans of the header as m lays it out: its length. */
static size_t lay(const mhr *m, sf_span *sp) {
  size_t pos = 2;
  int i;
  absent(sp);
  for (i = F_RES1; i <= F_RES2; i++) {
    sp[i].bitoff = wpan_fields[i].bitoff;
    sp[i].bits = wpan_fields[i].bits;
  }
  if (m->seq) span_at(sp, F_SEQNUM, pos++);
  if (m->dpan) span_at(sp, F_DPAN, pos), pos += 2;
  if (m->dlen) span_at(sp, m->dlen == 2 ? F_DADDR16 : F_DADDR64, pos), pos += m->dlen;
  if (m->span) span_at(sp, F_SPAN, pos), pos += 2;
  if (m->slen) span_at(sp, m->slen == 2 ? F_SADDR16 : F_SADDR64, pos), pos += m->slen;
  if (!m->sec) return pos;
  span_at(sp, F_SECRES, pos);
  span_at(sp, F_KEYIDMODE, pos);
  span_at(sp, F_SECLEVEL, pos++);
  span_at(sp, F_FRAMECOUNTER, pos), pos += 4;
  if (m->keysrc) span_at(sp, m->keysrc == 4 ? F_KEYSRC4 : F_KEYSRC8, pos), pos += m->keysrc;
  if (m->keyindex) span_at(sp, F_KEYINDEX, pos++);
  return pos;
}

/* where the security control byte is, for the frame control at h */
static size_t sec_at(const uint8_t *h) {
  sf_span sp[NF];
  mhr m;
  mhr_of(h, 0, &m);
  m.sec = 0;
  return lay(&m, sp);
}

static size_t wpan_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                          sf_span *sp, int build) {
  size_t at, len;
  mhr m;
  (void)pr;
  (void)build;
  absent(sp);
  if (n < 2) return 0;
  at = sec_at(h);
  if ((h[0] >> 3 & 1) && at >= n) return 0;
  mhr_of(h, (h[0] >> 3 & 1) ? h[at] : 0, &m);
  len = lay(&m, sp);
  return len <= n ? len : 0;
}

/* ---- writing the header from its values ---------------------------------------- */

static uint64_t get_int(const uint8_t *h, int fi, const sf_span *s) {
  uint64_t v = 0;
  unsigned i;
  if (!(wpan_fields[fi].flags & SF_FF_LE)) return sf_getbits(h, s->bitoff, s->bits);
  for (i = s->bits / 8; i-- > 0;) v = v << 8 | h[s->bitoff / 8 + i];
  return v;
}

static void put_int(uint8_t *h, int fi, const sf_span *s, uint64_t v) {
  unsigned i;
  if (s->bits < 64) v &= (UINT64_C(1) << s->bits) - 1;
  if (!(wpan_fields[fi].flags & SF_FF_LE)) {
    sf_setbits(h, s->bitoff, s->bits, v);
    return;
  }
  for (i = 0; i < s->bits / 8u; i++) h[s->bitoff / 8 + i] = (uint8_t)(v >> (8 * i));
}

/* The value field i gets: the one set, the old one (an address of the
   other width converted), or its default. */
static uint64_t value_of(const uint8_t *h, const sf_span *old, int i, int fi,
                         const sf_val *v) {
  int twin = i == F_DADDR16 ? F_DADDR64 : i == F_DADDR64 ? F_DADDR16
           : i == F_SADDR16 ? F_SADDR64 : i == F_SADDR64 ? F_SADDR16
           : i == F_KEYSRC4 ? F_KEYSRC8 : i == F_KEYSRC8 ? F_KEYSRC4 : -1;
  if (i == fi || (twin >= 0 && twin == fi)) return v ? v->u : wpan_fields[i].def;
  if (old[i].bits != SF_ABSENT) return get_int(h, i, &old[i]);
  if (twin >= 0 && old[twin].bits != SF_ABSENT) return get_int(h, twin, &old[twin]);
  return wpan_fields[i].def;
}

static int wpan_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  sf_span old[SF_MAX_FIELDS], sp[NF];
  uint8_t out[48], sc;
  size_t n;
  mhr m;
  int i;
  if (!wpan_layout(pr, h, l->hlen, old, 1)) return SF_E_VALUE;
  memset(out, 0, sizeof out);
  for (i = F_RES1; i <= F_RES2; i++) put_int(out, i, &old[i], value_of(h, old, i, fi, v));
  out[2] = 0;
  for (i = F_SECRES; i <= F_SECLEVEL; i++) {  /* the security control, at 0 */
    sf_span s = {wpan_fields[i].bitoff, wpan_fields[i].bits};
    put_int(out + 2, i, &s, value_of(h, old, i, fi, v));
  }
  sc = out[2];
  mhr_of(out, sc, &m);
  n = lay(&m, sp);
  for (i = F_SEQNUM; i <= F_KEYINDEX; i++)
    if (sp[i].bits != SF_ABSENT && (i < F_SECRES || i > F_SECLEVEL))
      put_int(out, i, &sp[i], value_of(h, old, i, fi, v));
  if (m.sec) out[sp[F_SECRES].bitoff / 8] = sc;  /* at its place */
  return sf_pkt_splice(p, li, l->off, l->hlen, out, n);
}

/* ---- what follows ---------------------------------------------------------------- */

static int wpan_next(const sf_pkt *p, int li) {
  static int beacon, cmd;
  const uint8_t *h = p->data + p->layers[li].off;
  if (((h[1] >> 4) & 3) == 2 && (h[1] & 2)) return -2;  /* header IEs first */
  if (h[0] >> 3 & 1) return -2;                          /* secured */
  switch (h[0] & 7) {
    case 0: return proto_named(&beacon, "Dot15d4Beacon");
    case 3: return proto_named(&cmd, "Dot15d4Cmd");
    default: return -2;
  }
}

/* A built header before a command says so (Scapy's binding). */
static void wpan_fixup(sf_pkt *p, int li) {
  static int cmd;
  if ((p->layers[li].flags & SF_L_BUILT) && li + 1 < p->nlayers &&
      p->layers[li + 1].proto == proto_named(&cmd, "Dot15d4Cmd"))
    sf_lput(p, li, F_FRAMETYPE, 3);
}

/* CRC-16/KERMIT: reflected 0x1021, initial 0 */
static uint16_t kermit(const uint8_t *d, size_t n) {
  uint16_t crc = 0;
  int k;
  while (n--) {
    crc ^= *d++;
    for (k = 0; k < 8; k++) crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0x8408) : crc >> 1;
  }
  return crc;
}

static void wpan_checksum(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (sf_isset(p, li, F_FCS) || l->end - l->off < l->hlen + 2u) return;
  sf_lput(p, li, F_FCS, kermit(p->data + l->off, l->end - l->off - 2));
}

/* ---- Scapy's text ------------------------------------------------------------------ */

/* (a command's identifier: Scapy's text reads it too) */
static const sf_enum cmd_ids[] = {
  {1, "AssocReq"}, {2, "AssocResp"}, {3, "DisassocNotify"}, {4, "DataReq"},
  {5, "PANIDConflictNotify"}, {6, "OrphanNotify"}, {7, "BeaconReq"},
  {8, "CoordRealign"}, {9, "GTSReq"}, {0, NULL}
};

static const sf_field cmd_fields[] = {UINTF("cmd_id", 0, 8, 0, 0, cmd_ids, 0)};

/* Scapy 2.5 keeps the addresses in the class after Dot15d4 and reads them
   by the 2003 and 2006 rules whatever the frame version: Dot15d4Data and
   Dot15d4Cmd a destination PAN ID and address, then a source PAN ID
   unless compressed and a source address; Dot15d4Beacon a source PAN ID
   and address.  An address of mode None or Reserved with bytes left
   fails the class ("impossible case") and the bytes are Raw; a field the
   bytes end before is its default. */
enum { V_DPAN, V_DADDR, V_SPAN, V_SADDR, V_N };

typedef struct sview {
  int ok;            /* Scapy's class reads the bytes */
  uint64_t v[V_N];   /* the address fields, defaults where absent */
  const uint8_t *d;  /* the bytes after the sequence number, */
  size_t n, at, end; /* n of them, the fields after the addresses at,
                        the end of what the class reads */
} sview;

/* the bytes after the sequence number, up to the FCS */
static const uint8_t *mac_payload(const sf_pkt *p, int li, size_t *n) {
  const sf_layer *l = &p->layers[li];
  size_t t = sf_proto_get(l->proto)->trailer, all = l->end - l->off;
  *n = all >= 3 + t ? all - 3 - t : 0;
  return p->data + l->off + 3;
}

/* One field of w bytes (little-endian) at *pos into *v: 1 read, 0 the
   bytes ended before it (its default stays), -1 Scapy fails. */
static int view_field(const uint8_t *d, size_t n, size_t *pos, unsigned w, uint64_t *v) {
  unsigned i;
  if (*pos >= n) return 0;
  if (w == 0 || *pos + w > n) return -1;
  for (*v = 0, i = w; i-- > 0;) *v = *v << 8 | d[*pos + i];
  *pos += w;
  return 1;
}

/* w bytes at *pos as for view_field, their value not kept */
static int view_skip(const uint8_t *d, size_t n, size_t *pos, unsigned w) {
  uint64_t v;
  return w > 8 ? -1 : view_field(d, n, pos, w, &v);
}

/* Scapy's beacon after its addresses: the superframe, GTS specification
   (and directions when it counts descriptors, whose list Scapy does not
   read) and the pending addresses, each list read while bytes last. */
static int view_beacon(const uint8_t *d, size_t n, size_t *pos) {
  unsigned ps, k;
  int r;
  if ((r = view_skip(d, n, pos, 2)) <= 0 || (r = view_skip(d, n, pos, 1)) <= 0) return r;
  if ((d[*pos - 1] & 7) && (r = view_skip(d, n, pos, 1)) <= 0) return r;
  if ((r = view_skip(d, n, pos, 1)) <= 0) return r;
  ps = d[*pos - 1];
  for (k = 0; k < (ps & 7) && *pos < n; k++)
    if (view_skip(d, n, pos, 2) < 0) return -1;
  for (k = 0; k < ((ps >> 4) & 7) && *pos < n; k++)
    if (view_skip(d, n, pos, 8) < 0) return -1;
  return 1;
}

static sview scapy_view(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off, *d;
  unsigned ft = h[0] & 7, dm = (h[1] >> 2) & 3, sm = h[1] >> 6, comp = (h[0] >> 6) & 1;
  sview s = {1, {0xffff, ft == 3 ? 0 : 0xffff, 0, 0}, NULL, 0, 0, 0};
  size_t n, pos = 0;
  int r = 1;
  s.d = d = mac_payload(p, li, &n);
  s.n = n;
  if (ft == 0) {
    s.v[V_DPAN] = s.v[V_DADDR] = 0;
    if ((r = view_field(d, n, &pos, 2, &s.v[V_SPAN])) > 0)
      r = view_field(d, n, &pos, addr_len(sm), &s.v[V_SADDR]);
  } else {
    if ((r = view_field(d, n, &pos, 2, &s.v[V_DPAN])) > 0 &&
        (r = view_field(d, n, &pos, addr_len(dm), &s.v[V_DADDR])) > 0 && sm && !comp)
      r = view_field(d, n, &pos, 2, &s.v[V_SPAN]);
    if (r > 0 && sm) r = view_field(d, n, &pos, addr_len(sm), &s.v[V_SADDR]);
  }
  s.at = pos;
  if (r > 0 && ft == 0) r = view_beacon(d, n, &pos);
  else if (r > 0 && ft == 3 && pos < n) pos++;  /* cmd_id */
  s.ok = r >= 0;
  s.end = pos;
  return s;
}

/* byte k of what follows the addresses in Scapy's view (-1: none) */
static int view_byte(const sview *s, size_t k) {
  return s->at + k < s->n ? s->d[s->at + k] : -1;
}

/* an address as Scapy's dot15d4AddressField shows it: hex() when short
   enough, else eight colon-separated bytes */
static int addr_repr(uint64_t v, char *out, size_t cap) {
  int i, w = 0;
  if (v <= 0xffff) return snprintf(out, cap, "0x%llx", (unsigned long long)v);
  for (i = 7; i >= 0; i--)
    w += snprintf(out + w, cap > (size_t)w ? cap - (size_t)w : 0, i ? "%02x:" : "%02x",
                  (unsigned)(v >> (8 * i)) & 0xff);
  return w;
}

static int wpan_next(const sf_pkt *p, int li);
static const char *wpan_extra(const sf_pkt *p, int li);

static int is_header(const sf_pkt *p, int li) {
  return sf_proto_get(p->layers[li].proto)->next == wpan_next;
}

/* The texts of layer li (a Dot15d4 header, or the beacon or command
   after one): Scapy's address fields, and its [False, True] flags. */
static int wpan_text(const sf_pkt *p, int li, const char *what, char *out, size_t cap) {
  static const char *const addrs[V_N] = {"dpanid", "daddr", "spanid", "saddr"};
  int hdr = is_header(p, li) ? li : li - 1, i;
  sview s;
  if (hdr < 0 || !is_header(p, hdr)) return -1;
  for (i = 0; i < V_N; i++)
    if (strcmp(what, addrs[i]) == 0) {
      s = scapy_view(p, hdr);
      return i == V_DADDR || i == V_SADDR ? addr_repr(s.v[i], out, cap)
                                          : snprintf(out, cap, "0x%llx", (unsigned long long)s.v[i]);
    }
  /* Scapy's command identifier and superframe flags, where it reads them */
  if (strcmp(what, "cmdid") == 0) {
    int id = view_byte((s = scapy_view(p, hdr), &s), 0);
    const char *name = sf_enum_name(&cmd_fields[0], id < 0 ? 0 : (unsigned)id);
    return name ? snprintf(out, cap, "%s", name) : snprintf(out, cap, "%d", id < 0 ? 0 : id);
  }
  if (strcmp(what, "assocpermit") == 0 || strcmp(what, "pancoord") == 0) {
    int b = view_byte((s = scapy_view(p, hdr), &s), 1);
    int bit = what[0] == 'a' ? 0x80 : 0x40;
    return snprintf(out, cap, "%s", b >= 0 && (b & bit) ? "True" : "False");
  }
  if (strcmp(what, "read") == 0) {  /* Scapy reads the class (else Raw) */
    if (!scapy_view(p, hdr).ok) return -1;
    if (cap) out[0] = '\0';
    return 0;
  }
  if (strcmp(what, "Data") == 0 || strcmp(what, "Cmd") == 0 || strcmp(what, "Beacon") == 0) {
    const char *c = wpan_extra(p, hdr);  /* is the class after the header Dot15d4<what>? */
    if (!c || strncmp(c, "Dot15d4", 7) != 0 || strcmp(c + 7, what) != 0) return -1;
    if (cap) out[0] = '\0';
    return 0;
  }
  if (strncmp(what, "fcf_", 4) == 0 || strncmp(what, "sf_", 3) == 0 ||
      strcmp(what, "gts_spec_permit") == 0) {
    int fi = sf_field_lookup(sf_proto_get(p->layers[li].proto), what);
    return fi < 0 ? -1 : snprintf(out, cap, "%s", sf_lget(p, li, fi) ? "True" : "False");
  }
  return -1;
}

/* What Scapy has after the header that sflua has no layer for: the
   Dot15d4Data its addresses are in, an acknowledgement's (empty) class
   before bytes that follow it -- and their Raw, when those are addresses
   sflua's header holds (Scapy reads none in an acknowledgement) -- and
   the Raw of bytes Scapy reads no class from (a failed class, a reserved
   frame type) that sflua's header holds. */
static const char *wpan_extra(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  int after = li + 1 < p->nlayers;
  size_t n;
  mac_payload(p, li, &n);
  if (!n) return NULL;
  switch (h[0] & 7) {
    case 2: return after ? "Dot15d4Ack" : "Dot15d4Ack / Raw";
    case 1:
      if (scapy_view(p, li).ok) return "Dot15d4Data";
      return after ? NULL : "Raw";
    case 0: case 3:  /* (a beacon or command layer after says its own;
                        without one, Scapy's class ends with the bytes) */
      if (after) return NULL;
      if (!scapy_view(p, li).ok) return "Raw";
      return (h[0] & 7) ? "Dot15d4Cmd" : "Dot15d4Beacon";
    default: return after ? NULL : "Raw";
  }
}

/* A beacon or command Scapy fails to read is its Raw. */
static const char *failed_cls(const sf_pkt *p, int li) {
  return li > 0 && is_header(p, li - 1) && !scapy_view(p, li - 1).ok ? "Raw" : NULL;
}

/* Scapy's class after the header of layer hdr reads (or fails on) all
   the bytes: what sflua reads after them is none of Scapy's. */
static int view_takes_all(const sf_pkt *p, int hdr) {
  sview s = scapy_view(p, hdr);
  return !s.ok || s.end >= s.n;
}

/* a beacon's or command's layer */
static int body_keeps(const sf_pkt *p, int li, int j) {
  (void)j;
  return li > 0 && is_header(p, li - 1) && view_takes_all(p, li - 1);
}

/* the header, when Scapy's Dot15d4Data there takes all the bytes */
static int header_keeps(const sf_pkt *p, int li, int j) {
  const char *c = wpan_extra(p, li);
  (void)j;
  return c && strcmp(c, "Dot15d4Data") == 0 && view_takes_all(p, li);
}

static const char *wpan_added(const sf_pkt *p, int li, int after) {
  return after ? wpan_extra(p, li) : NULL;
}

static const char *const wpan_names[] = {
  "fcf_panidcompress", "$", "fcf_ackreq", "$", "fcf_pending", "$", "fcf_security", "$",
  "dest_addr", "$", "src_addr", "$", NULL
};

/* the mysummary of the class after the header ($Data: it is Dot15d4Data) */
#define WPAN_BEACON "802.15.4 Beacon ( %$spanid%:%$saddr% ) assocPermit(%$assocpermit%) " \
                    "panCoord(%$pancoord%)"
#define WPAN_CMD "802.15.4 Command %$cmdid% ( ??:%$saddr% -> %$dpanid%:%$daddr% )"
#define WPAN_DATA "{$Data:802.15.4 Data ( %$spanid%:%$saddr% -> %$dpanid%:%$daddr% )}" \
                  "{$Cmd:" WPAN_CMD "}{$Beacon:" WPAN_BEACON "}"

static const sf_scapy wpan_scapy = {
  .fmt = "802.15.4 %fcf_frametype% ackreq(%fcf_ackreq%) ( %fcf_destaddrmode% -> "
         "%fcf_srcaddrmode% ) Seq#%seqnum%",
  .names = wpan_names, .text = wpan_text, .added = wpan_added, .added_fmt = WPAN_DATA,
  .keeps = header_keeps,
};

/* Dot15d4FCS's mysummary asks for class Dot15d4's fields, which a
   Dot15d4FCS is not: Scapy prints ?? for each */
static const sf_scapy wpanfcs_scapy = {
  .fmt = "802.15.4 ?\? ackreq(?\?) ( ?\? -> ?\? ) Seq#?\?",
  .names = wpan_names, .text = wpan_text, .added = wpan_added, .added_fmt = WPAN_DATA,
  .keeps = header_keeps,
};

static const sf_place wpan_places[] = {{"linktype", 230, 0, NULL}, {NULL, 0, 0, NULL}};
static const sf_place wpanfcs_places[] = {{"linktype", 195, 0, NULL}, {NULL, 0, 0, NULL}};

/* Dot15d4.data{...} and friends.  Scapy's Dot15d4Data and Dot15d4Ack are
   not constructors here: stacked under a Dot15d4 (Scapy's way) they would
   make a second MAC header, so a script using them fails by name. */
static const sf_variant wpan_variants[] = {
  {"beacon", NULL, "fcf_frametype", 0}, {"data", NULL, "fcf_frametype", 1},
  {"ack", NULL, "fcf_frametype", 2}, {"command", NULL, "fcf_frametype", 3},
  {NULL, NULL, NULL, 0}
};

static const sf_alias wpan_aliases[] = {
  {"seq", "seqnum"}, {"frame_type", "fcf_frametype"}, {NULL, NULL}
};


static const sf_wsfield wpan_ws[] = {
  WSX("wpan.frame_type", "fcf_frametype", 4), WS("wpan.security", "fcf_security"),
  WS("wpan.pending", "fcf_pending"), WS("wpan.ack_request", "fcf_ackreq"),
  WS("wpan.pan_id_compression", "fcf_panidcompress"),
  WSX("wpan.dst_addr_mode", "fcf_destaddrmode", 4), WS("wpan.version", "fcf_framever"),
  WSX("wpan.src_addr_mode", "fcf_srcaddrmode", 4), WS("wpan.seq_no", "seqnum"),
  WSX("wpan.dst_pan", "dest_panid", 4), WSX("wpan.src_pan", "src_panid", 4),
  WSX("wpan.aux_sec.sec_level", "sec_sc_seclevel", 2),
  WSX("wpan.aux_sec.key_id_mode", "sec_sc_keyidmode", 2),
  WS("wpan.aux_sec.frame_counter", "sec_framecounter"),
  WSX("wpan.aux_sec.key_index", "sec_keyid_keyindex", 2),
  WSEND
};

static const sf_wsfield wpanfcs_ws[] = {
  WSX("wpan.frame_type", "fcf_frametype", 4), WS("wpan.security", "fcf_security"),
  WS("wpan.pending", "fcf_pending"), WS("wpan.ack_request", "fcf_ackreq"),
  WS("wpan.pan_id_compression", "fcf_panidcompress"),
  WSX("wpan.dst_addr_mode", "fcf_destaddrmode", 4), WS("wpan.version", "fcf_framever"),
  WSX("wpan.src_addr_mode", "fcf_srcaddrmode", 4), WS("wpan.seq_no", "seqnum"),
  WSX("wpan.dst_pan", "dest_panid", 4), WSX("wpan.src_pan", "src_panid", 4),
  WSX("wpan.aux_sec.sec_level", "sec_sc_seclevel", 2),
  WSX("wpan.aux_sec.key_id_mode", "sec_sc_keyidmode", 2),
  WS("wpan.aux_sec.frame_counter", "sec_framecounter"),
  WSX("wpan.aux_sec.key_index", "sec_keyid_keyindex", 2), WSX("wpan.fcs", "fcs", 4),
  WSEND
};

/* Scapy's default: a data-less beacon-type frame to the broadcast short
   address of the broadcast PAN, sequence number 1 */
static const uint8_t wpan_default[7] = {0x00, 0x08, 0x01, 0xff, 0xff, 0xff, 0xff};

static const sf_dyn wpan_dyn = {.layout = wpan_layout, .set = wpan_set};

static sf_proto wpan = {
  .name = "Dot15d4", .display = "802.15.4", .kind = "Dot15d4",
  .fields = wpan_fields, .nfields = NF - 1, .minlen = 7, .places = wpan_places,
  .aliases = wpan_aliases, .ws = "wpan", .ws_fields = wpan_ws,
  .variants = wpan_variants, .next = wpan_next, .fixup = wpan_fixup, .dyn = &wpan_dyn,
  .deftmpl = wpan_default, .scapy = &wpan_scapy,
};

static sf_proto wpanfcs = {
  .name = "Dot15d4FCS", .display = "802.15.4 - FCS", .kind = "Dot15d4Fcs",
  .fields = wpan_fields, .nfields = NF, .minlen = 7, .trailer = 2,
  .places = wpanfcs_places, .aliases = wpan_aliases, .ws = "wpan",
  .ws_fields = wpanfcs_ws, .variants = wpan_variants, .next = wpan_next,
  .fixup = wpan_fixup,
  .checksum = wpan_checksum, .dyn = &wpan_dyn, .deftmpl = wpan_default,
  .scapy = &wpanfcs_scapy,
};

/* ---- beacon ---------------------------------------------------------------------- */

enum { C_GTS = 1, C_PA3, C_PA4 };

static const sf_field beacon_fields[] = {
  UINTF("sf_sforder", 0, 4, 15, 0, NULL, 0), UINTF("sf_beaconorder", 4, 4, 15, 0, NULL, 0),
  UINTF("sf_assocpermit", 8, 1, 0, 0, NULL, 0), UINTF("sf_pancoord", 9, 1, 0, 0, NULL, 0),
  UINTF("sf_reserved", 10, 1, 0, 0, NULL, 0), UINTF("sf_battlifeextend", 11, 1, 0, 0, NULL, 0),
  UINTF("sf_finalcapslot", 12, 4, 15, 0, NULL, 0),
  UINTF("gts_spec_permit", 16, 1, 1, 0, NULL, 0), UINTF("gts_spec_reserved", 17, 4, 0, 0, NULL, 0),
  UINTF("gts_spec_desccount", 21, 3, 0, SF_FF_SHAPE, NULL, 0),
  UINTF("gts_dir_reserved", 24, 1, 0, 0, NULL, C_GTS), UINTF("gts_dir_mask", 25, 7, 0, 0, NULL, C_GTS),
  UINTF("pa_reserved_1", 24, 1, 0, 0, NULL, C_PA3), UINTF("pa_num_long", 25, 3, 0, SF_FF_SHAPE, NULL, C_PA3),
  UINTF("pa_reserved_2", 28, 1, 0, 0, NULL, C_PA3), UINTF("pa_num_short", 29, 3, 0, SF_FF_SHAPE, NULL, C_PA3),
  UINTF("pa_reserved_1", 32, 1, 0, 0, NULL, C_PA4), UINTF("pa_num_long", 33, 3, 0, SF_FF_SHAPE, NULL, C_PA4),
  UINTF("pa_reserved_2", 36, 1, 0, 0, NULL, C_PA4), UINTF("pa_num_short", 37, 3, 0, SF_FF_SHAPE, NULL, C_PA4),
  BYTESF("gts_list", 0, 0, NULL, "", 0),
  BYTESF("pa_short_addresses", 0, 0, NULL, "", 0),
  BYTESF("pa_long_addresses", 0, 0, NULL, "", 0),
};

enum { B_GTSLIST = 20, B_SHORT, B_LONG };

/* superframe (2), GTS spec (1), directions and descriptors, pending spec */
static size_t pa_at(const uint8_t *h) {
  unsigned d = h[2] & 7;
  return d ? 4u + 3u * d : 3u;
}

static int beacon_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)hlen;
  switch (cond) {
    case C_GTS: return (h[2] & 7) != 0;
    case C_PA3: return (h[2] & 7) == 0;
    case C_PA4: return 0;  /* a pending spec after descriptors: in gts_list's wake */
    default: return 1;
  }
}

static size_t beacon_shape(const uint8_t *h, size_t hlen) {
  size_t at = pa_at(h);
  unsigned ps = at < hlen ? h[at] : 0;
  return at + 1 + 2u * (ps & 7) + 8u * ((ps >> 4) & 7);
}

static size_t beacon_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t at, want;
  (void)p;
  if (n < 4 || (at = pa_at(h)) >= n) return 0;
  want = beacon_shape(h, n);
  return want <= n ? want : 0;
}

static void beacon_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  size_t at = pa_at(h);
  unsigned ps = at < hlen ? h[at] : 0;
  if (fi == B_GTSLIST) {
    *off = 4;
    *len = (h[2] & 7) ? 3u * (h[2] & 7) : 0;
    if (!*len) *off = 3;
  } else if (fi == B_SHORT) {
    *off = at + 1;
    *len = 2u * (ps & 7);
  } else {
    *off = at + 1 + 2u * (ps & 7);
    *len = 8u * ((ps >> 4) & 7);
  }
}

static const sf_wsfield beacon_ws[] = {
  WS("wpan.beacon_order", "sf_beaconorder"), WS("wpan.superframe_order", "sf_sforder"),
  WS("wpan.cap", "sf_finalcapslot"), WS("wpan.battery_ext", "sf_battlifeextend"),
  WS("wpan.bcn_coord", "sf_pancoord"), WS("wpan.assoc_permit", "sf_assocpermit"),
  WS("wpan.gts.count", "gts_spec_desccount"), WS("wpan.gts.permit", "gts_spec_permit"),
  WSEND
};

static const char *const beacon_names[] = {
  "sf_assocpermit", "$", "sf_pancoord", "$", "sf_battlifeextend", "$",
  "gts_spec_permit", "$", NULL
};
static const sf_scapy beacon_scapy = {
  .fmt = "{$read:" WPAN_BEACON "}",
  .names = beacon_names, .text = wpan_text, .cls = failed_cls, .keeps = body_keeps,
};

static sf_proto beacon = {
  .scapy = &beacon_scapy,
  .name = "Dot15d4Beacon", .display = "802.15.4 Beacon", .kind = "Dot15d4Beacon",
  .fields = beacon_fields, .nfields = NFIELDS(beacon_fields), .minlen = 4,
  .ws_fields = beacon_ws, .hdr_len = beacon_len, .present = beacon_present,
  .shape_len = beacon_shape, .var = beacon_var,
};

/* ---- commands ---------------------------------------------------------------------- */


#define FIXED_LEN(name, k) \
  static size_t name(const sf_pkt *p, const uint8_t *h, size_t n) { \
    (void)p; (void)h; return n >= (k) ? (k) : 0; }

FIXED_LEN(len1, 1)
FIXED_LEN(len3, 3)
FIXED_LEN(len7, 7)

static const sf_wsfield cmd_ws[] = {WSX("wpan.cmd", "cmd_id", 2), WSEND};

/* (Scapy's format names a class Dot15dCmd for the source PAN ID: ??) */
static const sf_scapy cmd_scapy = {
  .fmt = "{$read:" WPAN_CMD "}",
  .text = wpan_text, .cls = failed_cls, .keeps = body_keeps,
};

static sf_proto cmd = {
  .scapy = &cmd_scapy,
  .name = "Dot15d4Cmd", .display = "802.15.4 Command", .kind = "Dot15d4Cmd",
  .fields = cmd_fields, .nfields = 1, .minlen = 1, .next_table = "wpan.cmd",
  .next_keys = {"cmd_id"}, .ws_fields = cmd_ws, .hdr_len = len1,
};

#define LE16(n, off, d) UINTF(n, off, 16, d, SF_FF_LE | SF_FF_HEX, NULL, 0)

static const sf_field realign_fields[] = {
  LE16("panid", 0, 0xffff), LE16("coord_address", 16, 0),
  UINTF("channel", 32, 8, 0, 0, NULL, 0), LE16("dev_address", 40, 0xffff),
};

static const sf_field assocreq_fields[] = {
  UINTF("allocate_address", 0, 1, 0, 0, NULL, 0), UINTF("security_capability", 1, 1, 0, 0, NULL, 0),
  UINTF("reserved2", 2, 1, 0, 0, NULL, 0), UINTF("reserved1", 3, 1, 0, 0, NULL, 0),
  UINTF("receiver_on_when_idle", 4, 1, 0, 0, NULL, 0), UINTF("power_source", 5, 1, 0, 0, NULL, 0),
  UINTF("device_type", 6, 1, 0, 0, NULL, 0), UINTF("alternate_pan_coordinator", 7, 1, 0, 0, NULL, 0),
};

static const sf_enum assoc_status[] = {
  {0, "successful"}, {1, "PAN_at_capacity"}, {2, "PAN_access_denied"}, {0, NULL}
};

static const sf_field assocresp_fields[] = {
  LE16("short_address", 0, 0xffff), UINTF("association_status", 16, 8, 0, 0, assoc_status, 0),
};

static const sf_enum disassoc_reasons[] = {
  {1, "coord_wishes_device_to_leave"}, {2, "device_wishes_to_leave"}, {0, NULL}
};

static const sf_field disassoc_fields[] = {
  UINTF("disassociation_reason", 0, 8, 2, 0, disassoc_reasons, 0),
};

static const sf_field gtsreq_fields[] = {
  UINTF("reserved", 0, 2, 0, 0, NULL, 0), UINTF("charact_type", 2, 1, 0, 0, NULL, 0),
  UINTF("gts_dir", 3, 1, 0, 0, NULL, 0), UINTF("gts_len", 4, 4, 0, 0, NULL, 0),
};

static const sf_field page_fields[] = {UINTF("channel_page", 0, 8, 0, 0, NULL, 0)};

/* A realignment with one byte more carries the channel page. */
static int realign_next(const sf_pkt *p, int li) {
  static int page;
  const sf_layer *l = &p->layers[li];
  return l->end - l->off - l->hlen == 1 ? proto_named(&page, "Dot15d4CmdCoordRealignPage") : -2;
}

#define CMD_PLACE(name, id) \
  static const sf_place name[] = {{"wpan.cmd", (id), 0, NULL}, {NULL, 0, 0, NULL}}

CMD_PLACE(assocreq_pl, 1);
CMD_PLACE(assocresp_pl, 2);
CMD_PLACE(disassoc_pl, 3);
CMD_PLACE(realign_pl, 8);
CMD_PLACE(gtsreq_pl, 9);

#define CMDP(id_, nm, disp, flds, min, pl, len, nxt, sc) \
  static sf_proto id_ = { \
    .name = (nm), .display = (disp), .kind = (nm), .fields = (flds), \
    .nfields = NFIELDS(flds), .minlen = (min), .places = (pl), .hdr_len = (len), \
    .next = (nxt), .scapy = (sc), \
  }

/* Scapy's mysummary of the command payloads (the realignment's names a
   class Dot15dCmdCoordRealign for the PAN ID: ??) */
static const sf_scapy realign_scapy = {
  .fmt = "802.15.4 Coordinator Realign Payload ( PAN ID: ?? : channel %channel% )"
};
static const sf_scapy assocreq_scapy = {
  .fmt = "802.15.4 Association Request Payload ( Alt PAN Coord: "
         "%alternate_pan_coordinator% Device Type: %device_type% )"
};
static const sf_scapy assocresp_scapy = {
  .fmt = "802.15.4 Association Response Payload ( Association Status: "
         "%association_status% Assigned Address: %short_address% )"
};
static const sf_scapy disassoc_scapy = {
  .fmt = "802.15.4 Disassociation Notification Payload ( Disassociation Reason "
         "%disassociation_reason% )"
};
static const sf_scapy gtsreq_scapy = {
  .fmt = "802.15.4 GTS Request Command ( %gts_len% : %gts_dir% )"
};

CMDP(realign, "Dot15d4CmdCoordRealign", "802.15.4 Coordinator Realign Command",
     realign_fields, 7, realign_pl, len7, realign_next, &realign_scapy);
CMDP(page, "Dot15d4CmdCoordRealignPage", "802.15.4 Coordinator Realign Page",
     page_fields, 1, NULL, len1, NULL, NULL);
CMDP(assocreq, "Dot15d4CmdAssocReq", "802.15.4 Association Request Payload",
     assocreq_fields, 1, assocreq_pl, len1, NULL, &assocreq_scapy);
CMDP(assocresp, "Dot15d4CmdAssocResp", "802.15.4 Association Response Payload",
     assocresp_fields, 3, assocresp_pl, len3, NULL, &assocresp_scapy);
CMDP(disassoc, "Dot15d4CmdDisassociation", "802.15.4 Disassociation Notification Payload",
     disassoc_fields, 1, disassoc_pl, len1, NULL, &disassoc_scapy);
CMDP(gtsreq, "Dot15d4CmdGTSReq", "802.15.4 GTS request command",
     gtsreq_fields, 1, gtsreq_pl, len1, NULL, &gtsreq_scapy);

SF_PROTO_FILE(dot15d4) {
  sf_register(&wpan);
  sf_register(&wpanfcs);
  sf_register(&beacon);
  sf_register(&cmd);
  sf_register(&realign);
  sf_register(&page);
  sf_register(&assocreq);
  sf_register(&assocresp);
  sf_register(&disassoc);
  sf_register(&gtsreq);
}
