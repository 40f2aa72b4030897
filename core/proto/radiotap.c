/*
 * radiotap.c -- the radiotap header (link type 127) in front of 802.11
 * frames, with Scapy's class and field names (RadioTap).
 *
 * The present bitmap says which fields follow, in bit order, each aligned
 * to its natural size from the start of the header (radiotap.org,
 * "Alignment in radiotap").  Further bitmaps follow while bit 31 (Ext) is
 * set; their namespaces (further antennas, vendors) are kept as bytes
 * (Ext) and their fields are left in notdecoded, as Scapy does.  A bit
 * whose field this file does not know (TLVs, bits 16 and 17 aside) ends
 * the walk: what follows up to len is notdecoded.
 *
 * Fields move with the bitmap, so the layout is computed (sf_dyn): from
 * the bytes when reading, and from the values when a field is set, the
 * header being written again as Scapy builds it.  When the Flags field
 * says an FCS ends the frame, Dot11FCS follows; else Dot11.
 */
#include <string.h>

#include "common.h"

/* fields */
enum {
  F_VERSION, F_PAD, F_LEN, F_PRESENT, F_EXT,
  F_TSFT, F_FLAGS, F_RATE, F_CHFREQ, F_CHFLAGS, F_FHSS_SET, F_FHSS_PAT,
  F_SIGNAL, F_NOISE, F_LOCK, F_TXATT, F_DBTXATT, F_TXPOWER, F_ANTENNA,
  F_DBSIGNAL, F_DBNOISE, F_RXFLAGS, F_TXFLAGS, F_RTSRETRIES, F_DATARETRIES,
  F_XFLAGS, F_XFREQ, F_XCHAN, F_XPOWER,
  F_MCSKNOWN, F_NESS, F_STBC, F_FEC, F_HTFMT, F_GI, F_MCSBW, F_MCSIDX,
  F_AMPDUREF, F_AMPDUFLAGS,
  F_VHTKNOWN, F_VHTPRESENT, F_VHTBW, F_MCSNSS, F_GROUPID, F_PAID,
  F_TS, F_TSACC, F_TSUNIT, F_TSPOS, F_TSFLAGS,
  F_HE1, F_HE2, F_HE3, F_HE4, F_HE5, F_HE6,
  F_HEMU1, F_HEMU2, F_RU1, F_RU2, F_ZLPSDU, F_LSIG1, F_LSIG2,
  F_NOTDECODED, NF
};

#define EXT_BIT 0x80000000u
#define FLAG_FCS 0x10

static const sf_enum rt_present[] = {
  {0, "TSFT"}, {1, "Flags"}, {2, "Rate"}, {3, "Channel"}, {4, "FHSS"},
  {5, "dBm_AntSignal"}, {6, "dBm_AntNoise"}, {7, "Lock_Quality"},
  {8, "TX_Attenuation"}, {9, "dB_TX_Attenuation"}, {10, "dBm_TX_Power"},
  {11, "Antenna"}, {12, "dB_AntSignal"}, {13, "dB_AntNoise"}, {14, "RXFlags"},
  {15, "TXFlags"}, {16, "b17"}, {17, "b18"}, {18, "ChannelPlus"}, {19, "MCS"},
  {20, "A_MPDU"}, {21, "VHT"}, {22, "timestamp"}, {23, "HE"}, {24, "HE_MU"},
  {25, "HE_MU_other_user"}, {26, "zero_length_psdu"}, {27, "L_SIG"},
  {28, "TLV"}, {29, "RadiotapNS"}, {30, "VendorNS"}, {31, "Ext"}, {0, NULL}
};

static const sf_enum rt_flags[] = {
  {0, "CFP"}, {1, "ShortPreamble"}, {2, "wep"}, {3, "fragment"}, {4, "FCS"},
  {5, "pad"}, {6, "badFCS"}, {7, "ShortGI"}, {0, NULL}
};

static const sf_enum rt_chflags[] = {
  {4, "Turbo"}, {5, "CCK"}, {6, "OFDM"}, {7, "2GHz"}, {8, "5GHz"},
  {9, "Passive"}, {10, "Dynamic_CCK_OFDM"}, {11, "GFSK"}, {12, "GSM"},
  {13, "StaticTurbo"}, {14, "10MHz"}, {15, "5MHz"}, {16, "20MHz"},
  {17, "40MHz_ext_channel_above"}, {18, "40MHz_ext_channel_below"}, {0, NULL}
};

static const sf_enum rt_rxflags[] = {{1, "BAD_PLCP"}, {0, NULL}};

static const sf_enum rt_txflags[] = {
  {0, "TX_FAIL"}, {1, "CTS"}, {2, "RTS"}, {3, "NOACK"}, {4, "NOSEQ"},
  {5, "ORDER"}, {0, NULL}
};

static const sf_enum rt_knownmcs[] = {
  {0, "MCS_bandwidth"}, {1, "MCS_index"}, {2, "guard_interval"},
  {3, "HT_format"}, {4, "FEC_type"}, {5, "STBC_streams"}, {6, "Ness"},
  {7, "Ness_MSB"}, {0, NULL}
};

static const sf_enum rt_bandwidth[] = {
  {0, "20MHz"}, {1, "40MHz"}, {2, "ht40Mhz-"}, {3, "ht40MHz+"}, {0, NULL}
};

static const sf_enum rt_ampdu[] = {
  {0, "Report0Subframe"}, {1, "Is0Subframe"}, {2, "KnownLastSubframe"},
  {3, "LastSubframe"}, {4, "CRCerror"}, {5, "EOFsubframe"}, {6, "KnownEOF"},
  {0, NULL}
};

static const sf_enum rt_knownvht[] = {
  {0, "STBC"}, {1, "TXOP_PS_NOT_ALLOWED"}, {2, "GuardInterval"},
  {3, "SGINsysmDis"}, {4, "LDPCextraOFDM"}, {5, "Beamformed"},
  {6, "Bandwidth"}, {7, "GroupID"}, {8, "PartialAID"}, {0, NULL}
};

static const sf_enum rt_presentvht[] = {
  {0, "STBC"}, {1, "TXOP_PS_NOT_ALLOWED"}, {2, "GuardInterval"},
  {3, "SGINsysmDis"}, {4, "LDPCextraOFDM"}, {5, "Beamformed"}, {0, NULL}
};

static const sf_enum rt_tsflags[] = {{0, "32-bit_counter"}, {1, "Accuracy"}, {0, NULL}};
static const sf_enum fec_types[] = {{0, "BCC"}, {1, "LDPC"}, {0, NULL}};
static const sf_enum ht_formats[] = {{0, "mixed"}, {1, "greenfield"}, {0, NULL}};
static const sf_enum gis[] = {{0, "Long_GI"}, {1, "Short_GI"}, {0, NULL}};

/* bitoff: where the field lies within its item (the layout adds the
   item's place); little-endian integers are whole bytes */
#define LE(n, off, w, en) {(n), SF_T_UINT, SF_FF_LE, 0, 0, (off), (w), 0, NULL, (en), NULL, NULL}
#define LEF(n, off, w, en) {(n), SF_T_FLAGS, SF_FF_LE, 0, 0, (off), (w), 0, NULL, (en), NULL, NULL}
#define S8(n) {(n), SF_T_UINT, SF_FF_SIGNED, 0, 0, 0, 8, 0, NULL, NULL, NULL, NULL}
#define U(n, off, w, en) UINTF(n, off, w, 0, 0, en, 0)
#define RTBYTES(n, w) {(n), SF_T_BYTES, 0, 0, 0, 0, (w), 0, NULL, NULL, NULL, NULL}

static const sf_field rt_fields[NF] = {
  U("version", 0, 8, NULL), U("pad", 8, 8, NULL),
  {"len", SF_T_UINT, SF_FF_LE | SF_FF_AUTO, 0, 0, 16, 16, 0, NULL, NULL, NULL, NULL},
  {"present", SF_T_FLAGS, SF_FF_LE | SF_FF_SHAPE, 0, 0, 32, 32, 0, NULL, rt_present, NULL, NULL},
  RTBYTES("Ext", 0),
  LE("mac_timestamp", 0, 64, NULL),
  {"Flags", SF_T_FLAGS, 0, 0, 0, 0, 8, 0, NULL, rt_flags, NULL, NULL},
  U("Rate", 0, 8, NULL),
  LE("ChannelFrequency", 0, 16, NULL), LEF("ChannelFlags", 16, 16, rt_chflags),
  U("FHSS_hop_set", 0, 8, NULL), U("FHSS_hop_pattern", 8, 8, NULL),
  S8("dBm_AntSignal"), S8("dBm_AntNoise"),
  LE("Lock_Quality", 0, 16, NULL), LE("TX_Attenuation", 0, 16, NULL),
  LE("dB_TX_Attenuation", 0, 16, NULL), S8("dBm_TX_Power"),
  U("Antenna", 0, 8, NULL), U("dB_AntSignal", 0, 8, NULL), U("dB_AntNoise", 0, 8, NULL),
  LEF("RXFlags", 0, 16, rt_rxflags), LEF("TXFlags", 0, 16, rt_txflags),
  U("RTS_retries", 0, 8, NULL), U("data_retries", 0, 8, NULL),
  LEF("ChannelPlusFlags", 0, 32, rt_chflags), LE("ChannelPlusFrequency", 32, 16, NULL),
  U("ChannelPlusNumber", 48, 8, NULL), U("ChannelPlusMaxPower", 56, 8, NULL),
  {"knownMCS", SF_T_FLAGS, 0, 0, 0, 0, 8, 0, NULL, rt_knownmcs, NULL, NULL},
  U("Ness_LSB", 8, 1, NULL), U("STBC_streams", 9, 2, NULL), U("FEC_type", 11, 1, fec_types),
  U("HT_format", 12, 1, ht_formats), U("guard_interval", 13, 1, gis),
  U("MCS_bandwidth", 14, 2, rt_bandwidth), U("MCS_index", 16, 8, NULL),
  LE("A_MPDU_ref", 0, 32, NULL), LEF("A_MPDU_flags", 32, 32, rt_ampdu),
  LEF("KnownVHT", 0, 16, rt_knownvht),
  {"PresentVHT", SF_T_FLAGS, 0, 0, 0, 16, 8, 0, NULL, rt_presentvht, NULL, NULL},
  U("VHT_bandwidth", 24, 8, NULL),
  {"mcs_nss", SF_T_BYTES, 0, 0, 0, 32, 40, 0, "0000000000", NULL, NULL, NULL},
  U("GroupID", 72, 8, NULL), U("PartialAID", 80, 16, NULL),
  LE("timestamp", 0, 64, NULL), LE("ts_accuracy", 64, 16, NULL),
  U("ts_unit", 80, 4, NULL), U("ts_position", 84, 4, NULL),
  {"ts_flags", SF_T_FLAGS, 0, 0, 0, 88, 8, 0, NULL, rt_tsflags, NULL, NULL},
  LE("he_data1", 0, 16, NULL), LE("he_data2", 16, 16, NULL), LE("he_data3", 32, 16, NULL),
  LE("he_data4", 48, 16, NULL), LE("he_data5", 64, 16, NULL), LE("he_data6", 80, 16, NULL),
  LE("hemu_flags1", 0, 16, NULL), LE("hemu_flags2", 16, 16, NULL),
  {"RU_channel1", SF_T_BYTES, 0, 0, 0, 32, 32, 0, "00000000", NULL, NULL, NULL},
  {"RU_channel2", SF_T_BYTES, 0, 0, 0, 64, 32, 0, "00000000", NULL, NULL, NULL},
  U("zero_length_psdu", 0, 8, NULL),
  LE("lsig_data1", 0, 16, NULL), LE("lsig_data2", 16, 16, NULL),
  RTBYTES("notdecoded", 0),
};

/* What each bit of the first bitmap brings: alignment, size, fields. */
typedef struct rt_item {
  uint8_t align, size, first, count;
} rt_item;

static const rt_item items[29] = {
  {8, 8, F_TSFT, 1}, {1, 1, F_FLAGS, 1}, {1, 1, F_RATE, 1},
  {2, 4, F_CHFREQ, 2}, {1, 2, F_FHSS_SET, 2}, {1, 1, F_SIGNAL, 1},
  {1, 1, F_NOISE, 1}, {2, 2, F_LOCK, 1}, {2, 2, F_TXATT, 1},
  {2, 2, F_DBTXATT, 1}, {1, 1, F_TXPOWER, 1}, {1, 1, F_ANTENNA, 1},
  {1, 1, F_DBSIGNAL, 1}, {1, 1, F_DBNOISE, 1}, {2, 2, F_RXFLAGS, 1},
  {2, 2, F_TXFLAGS, 1}, {1, 1, F_RTSRETRIES, 1}, {1, 1, F_DATARETRIES, 1},
  {4, 8, F_XFLAGS, 4}, {1, 3, F_MCSKNOWN, 8}, {4, 8, F_AMPDUREF, 2},
  {2, 12, F_VHTKNOWN, 6}, {8, 12, F_TS, 5}, {2, 12, F_HE1, 6},
  {2, 12, F_HEMU1, 4}, {0, 0, 0, 0}, {1, 1, F_ZLPSDU, 1}, {2, 4, F_LSIG1, 2},
  {0, 0, 0, 0}  /* TLVs: not walked */
};

static uint32_t le32(const uint8_t *h) {
  return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

static unsigned le16(const uint8_t *h) { return (unsigned)(h[0] | h[1] << 8); }

static void absent_all(sf_span *sp) {
  int i;
  for (i = 0; i < NF; i++) sp[i].bitoff = 0, sp[i].bits = SF_ABSENT;
}

/* The fields of present's items from byte pos on, up to end: where the
   walk stopped (an unknown bit, or an item past the end). */
static size_t lay_items(uint32_t present, size_t pos, size_t end, sf_span *sp) {
  unsigned bit;
  for (bit = 0; bit < 29; bit++) {
    const rt_item *it = &items[bit];
    int i;
    if (!(present >> bit & 1)) continue;
    if (!it->size) break;
    pos = (pos + it->align - 1) / it->align * it->align;
    if (pos + it->size > end) break;
    for (i = it->first; i < it->first + it->count; i++) {
      sp[i].bitoff = (uint32_t)(pos * 8 + rt_fields[i].bitoff);
      sp[i].bits = rt_fields[i].bits;
    }
    pos += it->size;
  }
  return pos;
}

/* The extra bitmaps: how many bytes they take after the first, or
   SIZE_MAX when they run past len. */
static size_t ext_bytes(const uint8_t *h, size_t len) {
  size_t pos = 4;
  while (le32(h + pos) & EXT_BIT) {
    pos += 4;
    if (pos + 4 > len) return (size_t)-1;
  }
  return pos - 4;
}

static size_t rt_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                        sf_span *sp, int build) {
  size_t len, ext, pos;
  int i;
  (void)pr;
  (void)build;
  absent_all(sp);
  if (n < 8 || (len = le16(h + 2)) < 8 || len > n) return 0;
  if ((ext = ext_bytes(h, len)) == (size_t)-1) return 0;
  for (i = F_VERSION; i <= F_PRESENT; i++) {
    sp[i].bitoff = rt_fields[i].bitoff;
    sp[i].bits = rt_fields[i].bits;
  }
  sp[F_EXT].bitoff = 64;
  sp[F_EXT].bits = (uint32_t)(ext * 8);
  if (!ext) sp[F_EXT].bits = SF_ABSENT;
  pos = lay_items(le32(h + 4), 8 + ext, len, sp);
  sp[F_NOTDECODED].bitoff = (uint32_t)(pos * 8);
  sp[F_NOTDECODED].bits = (uint32_t)((len - pos) * 8);
  return len;
}

/* ---- writing the header again from its values -------------------------------- */

/* an integer field's value at a span */
static uint64_t get_int(const uint8_t *h, int fi, const sf_span *s) {
  const sf_field *f = &rt_fields[fi];
  uint64_t v = 0;
  unsigned i;
  if (!(f->flags & SF_FF_LE)) return sf_getbits(h, s->bitoff, s->bits);
  for (i = s->bits / 8; i-- > 0;) v = v << 8 | h[s->bitoff / 8 + i];
  return v;
}

static void put_int(uint8_t *h, int fi, size_t bitoff, uint64_t v) {
  const sf_field *f = &rt_fields[fi];
  unsigned i;
  if (f->bits < 64) v &= (UINT64_C(1) << f->bits) - 1;
  if (!(f->flags & SF_FF_LE)) {
    sf_setbits(h, (unsigned)bitoff, f->bits, v);
    return;
  }
  for (i = 0; i < f->bits / 8u; i++) h[bitoff / 8 + i] = (uint8_t)(v >> (8 * i));
}

#define RT_MAX 1024  /* bitmaps, items and notdecoded bytes kept */

/* One field's value for the new header: the one being set, else the old
   header's, else its default (zeros). */
typedef struct rt_values {
  const uint8_t *h;        /* old header */
  const sf_span *sp;       /* its layout */
  int fi;                  /* the field being set */
  const sf_val *v;         /* its value, NULL: the default */
} rt_values;

static int has_old(const rt_values *rv, int i) {
  return rv->sp[i].bits != SF_ABSENT;
}

static uint64_t int_value(const rt_values *rv, int i) {
  if (i == rv->fi) return rv->v ? rv->v->u : rt_fields[i].def;
  return has_old(rv, i) ? get_int(rv->h, i, &rv->sp[i]) : rt_fields[i].def;
}

/* a bytes field's value: the one set, or the old one, or n zeros */
static void bytes_value(const rt_values *rv, int i, const uint8_t **d, size_t *n) {
  static const uint8_t zeros[8];
  if (i == rv->fi && rv->v) {
    *d = rv->v->p;
    *n = rv->v->n;
  } else if (i != rv->fi && has_old(rv, i)) {
    *d = rv->h + rv->sp[i].bitoff / 8;
    *n = rv->sp[i].bits / 8;
  } else {
    *d = zeros;
    *n = rt_fields[i].bits / 8u;  /* fixed ones; 0 for Ext and notdecoded */
  }
}

static void write_field(uint8_t *out, size_t at, int i, const rt_values *rv) {
  const sf_field *f = &rt_fields[i];
  if (f->type == SF_T_BYTES) {
    const uint8_t *d;
    size_t n, want = f->bits / 8u;
    bytes_value(rv, i, &d, &n);
    memset(out + at + f->bitoff / 8u, 0, want);
    memcpy(out + at + f->bitoff / 8u, d, n < want ? n : want);
  } else {
    put_int(out, i, at * 8 + f->bitoff, int_value(rv, i));
  }
}

/* The items of present, aligned, into out from pos: the new position. */
static size_t write_items(uint8_t *out, size_t pos, uint32_t present,
                          const rt_values *rv) {
  unsigned bit;
  for (bit = 0; bit < 29; bit++) {
    const rt_item *it = &items[bit];
    int i;
    if (!(present >> bit & 1)) continue;
    if (!it->size) break;
    while (pos % it->align) out[pos++] = 0;
    memset(out + pos, 0, it->size);
    for (i = it->first; i < it->first + it->count; i++) write_field(out, pos, i, rv);
    pos += it->size;
  }
  return pos;
}

/* Append a bytes field's value (Ext, notdecoded). */
static size_t append(uint8_t *out, size_t pos, int i, const rt_values *rv) {
  const uint8_t *d;
  size_t n;
  bytes_value(rv, i, &d, &n);
  if (pos + n > RT_MAX) n = RT_MAX - pos;
  memcpy(out + pos, d, n);
  return pos + n;
}

/* The header written from its values into out (RT_MAX bytes): its length,
   or 0 when the extra bitmaps are not whole words. */
static size_t rt_write(uint8_t *out, const rt_values *rv, int len_set) {
  uint32_t present = (uint32_t)int_value(rv, F_PRESENT);
  size_t pos = 8;
  int i;
  memset(out, 0, 8);
  for (i = F_VERSION; i <= F_PRESENT; i++) write_field(out, 0, i, rv);
  if (present & EXT_BIT) {
    pos = append(out, pos, F_EXT, rv);
    if ((pos - 8) % 4) return 0;
  }
  pos = write_items(out, pos, present, rv);
  pos = append(out, pos, F_NOTDECODED, rv);
  if (!len_set) put_int(out, F_LEN, 16, pos);
  return pos;
}

/* Every old value the rewrite reads lies in the header's bytes (a built
   layout follows a len set past them: fuzz_dissect found one). */
static int spans_inside(const sf_proto *pr, const sf_span *sp, size_t hlen) {
  int i;
  for (i = 0; i < pr->nfields; i++)
    if (sp[i].bits != SF_ABSENT && (size_t)sp[i].bitoff + sp[i].bits > hlen * 8)
      return 0;
  return 1;
}

static int rt_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_layer *l = &p->layers[li];
  sf_span sp[SF_MAX_FIELDS];
  uint8_t out[RT_MAX];
  rt_values rv;
  size_t n;
  rv.h = p->data + l->off;
  rv.sp = sp;
  rv.fi = fi;
  rv.v = v;
  if (!rt_layout(pr, rv.h, l->hlen, sp, 1) || !spans_inside(pr, sp, l->hlen))
    return SF_E_VALUE;
  if (l->hlen > RT_MAX / 2 || (v && rt_fields[fi].type == SF_T_BYTES && v->n > RT_MAX / 2))
    return SF_E_TOOBIG;  /* (a header this long is not written again) */
  if (!(n = rt_write(out, &rv, fi != F_LEN && sf_isset(p, li, F_LEN))))
    return SF_E_VALUE;
  return sf_pkt_splice(p, li, l->off, l->hlen, out, n);
}

/* ---- what follows ------------------------------------------------------------ */

/* The header's length, as len says (what rt_layout checks, without
   laying out every field: asked for every frame). */
static size_t rt_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t len;
  (void)p;
  if (n < 8 || (len = le16(h + 2)) < 8 || len > n) return 0;
  return ext_bytes(h, len) == (size_t)-1 ? 0 : len;
}

/* The Flags field, if present: after the bitmaps and the TSFT, if any. */
static int flags_of(const sf_pkt *p, int li, unsigned *flags) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  uint32_t present = le32(h + 4);
  size_t pos = 8 + ext_bytes(h, l->hlen);
  if (!(present & 2)) return 0;
  if (present & 1) pos = (pos + 7) / 8 * 8 + 8;
  if (pos >= l->hlen) return 0;
  *flags = h[pos];
  return 1;
}

static int rt_next(const sf_pkt *p, int li) {
  static int dot11, dot11fcs;
  unsigned flags;
  if (flags_of(p, li, &flags) && (flags & FLAG_FCS))
    return proto_named(&dot11fcs, "Dot11FCS");
  return proto_named(&dot11, "Dot11");
}

/* Before a Dot11FCS, a built header says an FCS ends the frame (Scapy's
   bind_top_down(RadioTap, Dot11FCS, present=2, Flags=16)). */
static void rt_fixup(sf_pkt *p, int li) {
  static int dot11fcs;
  const sf_layer *l = &p->layers[li];
  sf_val v = {0, NULL, 0};
  if ((l->flags & SF_L_BUILT) && li + 1 < p->nlayers &&
      p->layers[li + 1].proto == proto_named(&dot11fcs, "Dot11FCS")) {
    uint64_t set = l->set;
    v.u = 2;
    if (!sf_isset(p, li, F_PRESENT)) rt_set(sf_proto_get(l->proto), p, li, F_PRESENT, &v);
    v.u = FLAG_FCS;
    if (!sf_isset(p, li, F_FLAGS) && sf_field_present(p, li, F_FLAGS))
      rt_set(sf_proto_get(l->proto), p, li, F_FLAGS, &v);
    p->layers[li].set = set;
  }
  sf_lput(p, li, F_LEN, p->layers[li].hlen);
}

static const sf_place rt_places[] = {{"linktype", 127, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_wsfield rt_ws[] = {
  WS("radiotap.version", "version"), WS("radiotap.pad", "pad"),
  WS("radiotap.length", "len"),
  WSBIT("radiotap.present.tsft", "present", 1u << 0),
  WSBIT("radiotap.present.flags", "present", 1u << 1),
  WSBIT("radiotap.present.rate", "present", 1u << 2),
  WSBIT("radiotap.present.channel", "present", 1u << 3),
  WSBIT("radiotap.present.dbm_antsignal", "present", 1u << 5),
  WSBIT("radiotap.present.dbm_antnoise", "present", 1u << 6),
  WSBIT("radiotap.present.antenna", "present", 1u << 11),
  WSBIT("radiotap.present.rxflags", "present", 1u << 14),
  WSBIT("radiotap.present.mcs", "present", 1u << 19),
  WSBIT("radiotap.present.vht", "present", 1u << 21),
  WSBIT("radiotap.present.ext", "present", 1u << 31),
  WS("radiotap.mactime", "mac_timestamp"),
  WSX("radiotap.flags", "Flags", 2),
  WSBIT("radiotap.flags.fcs", "Flags", FLAG_FCS),
  WSBIT("radiotap.flags.shortgi", "Flags", 0x80),
  WS("radiotap.channel.freq", "ChannelFrequency"),
  WSX("radiotap.channel.flags", "ChannelFlags", 4),
  WS("radiotap.dbm_antsignal", "dBm_AntSignal"),
  WS("radiotap.dbm_antnoise", "dBm_AntNoise"),
  WS("radiotap.quality", "Lock_Quality"),
  WS("radiotap.antenna", "Antenna"),
  WSX("radiotap.rxflags", "RXFlags", 4),
  WSX("radiotap.txflags", "TXFlags", 4),
  WSX("radiotap.xchannel.flags", "ChannelPlusFlags", 8),
  WS("radiotap.xchannel.freq", "ChannelPlusFrequency"),
  WS("radiotap.xchannel.channel", "ChannelPlusNumber"),
  WSX("radiotap.mcs.known", "knownMCS", 2),
  WS("radiotap.mcs.index", "MCS_index"),
  WS("radiotap.ampdu.reference", "A_MPDU_ref"),
  WSX("radiotap.vht.known", "KnownVHT", 2),
  WS("radiotap.vht.gid", "GroupID"),
  WSEND
};

static const sf_facts rt_facts = {.role = SF_ROLE_NONE};

static const uint8_t rt_default[8] = {0, 0, 8, 0, 0, 0, 0, 0};

static const sf_dyn rt_dyn = {
  .layout = rt_layout, .set = rt_set,
};

static sf_proto radiotap = {
  .name = "RadioTap", .display = "RadioTap", .kind = "RadioTap",
  .fields = rt_fields, .nfields = NF, .minlen = 8, .places = rt_places,
  .ws = "radiotap", .ws_fields = rt_ws, .facts = &rt_facts,
  .hdr_len = rt_len, .next = rt_next, .fixup = rt_fixup, .dyn = &rt_dyn,
  .deftmpl = rt_default,
};

SF_PROTO_FILE(radiotap) { sf_register(&radiotap); }
