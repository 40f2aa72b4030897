/*
 * quic.c -- QUIC (RFC 9000, RFC 9001, RFC 9369): long headers (Initial,
 * 0-RTT, Handshake, Retry, Version Negotiation) and short headers with
 * Scapy's class and field names (scapy.layers.quic, Scapy 2.6), frames,
 * and Initial packet protection through OpenSSL: the keys every observer
 * can derive from the client's Destination Connection ID (RFC 9001 5.2),
 * for QUIC v1 and v2.
 *
 * A datagram holds QUIC packets back to back (coalesced); each packet is
 * a header layer (through the packet number) and what follows it: on the
 * wire, a QUIC_Protected layer (the packet number's protected bytes are
 * the header's, masked, as Scapy reads them; the rest is the payload and
 * its tag).  Decrypting an Initial (the method `decrypt`) removes header
 * protection and replaces the payload with its plaintext in the packet's
 * own bytes -- the unprotected packet of RFC 9001 Appendix A, without the
 * tag -- and dissects the frames again: QUIC_CRYPTO (the TLS ClientHello
 * inside it as TLS layers when its data holds the whole message),
 * QUIC_PADDING (a run of them), QUIC_PING, QUIC_ACK,
 * QUIC_CONNECTION_CLOSE, and QUIC_Frame for any other type (its bytes to
 * the end of the payload).  `encrypt` does the reverse on a built packet.
 * No layer claims an extent but CRYPTO (its data); each layer's `next`
 * finds its place from the header before it.
 *
 * Fields of variable width (RFC 9000's variable-length integers, the
 * connection IDs, the packet number) are laid out here (sf_dyn): a
 * varint's span leaves out its two length bits, so it reads as its
 * value; setting a field writes the header again, a varint in as many
 * bytes as before when it fits, else in as few as it needs.
 *
 * Detection: UDP port 443 and 4433 (long headers with the fixed bit, and
 * short headers), and long headers of a known version on any port.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common.h"
#include "../crypto/tlsdec.h"

/* ---- varints (RFC 9000 16) ------------------------------------------------ */

static size_t var_len_at(const uint8_t *h) { return (size_t)1 << (h[0] >> 6); }

static size_t var_len_for(uint64_t v) {
  return v < 0x40 ? 1 : v < 0x4000 ? 2 : v < 0x40000000 ? 4 : 8;
}

static void var_put(uint8_t *o, uint64_t v, size_t len) {
  size_t i;
  for (i = len; i-- > 0; v >>= 8) o[i] = (uint8_t)v;
  o[0] = (uint8_t)((o[0] & 0x3f) | (len == 1 ? 0 : len == 2 ? 0x40 : len == 4 ? 0x80 : 0xc0));
}

static uint64_t be_get(const uint8_t *h, size_t n) {
  uint64_t v = 0;
  while (n--) v = v << 8 | *h++;
  return v;
}

/* A varint at h (n bytes): its value and length, 0 if cut short. */
static size_t var_get(const uint8_t *h, size_t n, uint64_t *v) {
  size_t len;
  if (n < 1 || (len = var_len_at(h)) > n) return 0;
  *v = be_get(h, len) & ((len == 8 ? UINT64_C(0x3fffffffffffffff)
                                   : (UINT64_C(1) << (8 * len - 2)) - 1));
  return len;
}

/* ---- versions and packet types ----------------------------------------------- */

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

static const sf_enum versions[] = {
  {0, "Version Negotiation"}, {QUIC_V1, "QUIC v1"}, {QUIC_V2, "QUIC v2"},
  {0xff00001d, "draft-29"}, {0, NULL}
};
static const sf_enum forms[] = {{0, "Short"}, {1, "Long"}, {0, NULL}};
static const sf_enum types_v1[] = {
  {0, "Initial"}, {1, "0-RTT"}, {2, "Handshake"}, {3, "Retry"}, {0, NULL}
};

enum { K_INITIAL, K_0RTT, K_HANDSHAKE, K_RETRY, K_VN, K_SHORT, NKINDS };

/* the long header's type bits for a kind (RFC 9369 3.2 swaps them) */
static unsigned type_bits(int kind, uint32_t version) {
  return version == QUIC_V2 ? (unsigned)(kind + 1) & 3 : (unsigned)kind;
}

static int kind_of_bits(unsigned bits, uint32_t version) {
  return version == QUIC_V2 ? (int)((bits + 3) & 3) : (int)bits;
}

static int known_version(uint32_t v) {
  return v == QUIC_V1 || v == QUIC_V2 || (v & 0xffffff00u) == 0xff000000u;
}

/* ---- layouts ------------------------------------------------------------------- */

/* How each field is laid out: bits of the first bytes where its sf_field
   says; a length byte; bytes sized by another field; a varint (VLEN: one
   that sizes the next field); the packet number (its length in the first
   byte's low bits); bytes to the end (REST), to 16 before it (RTOKEN), 16
   bytes (TAG); a short header's connection ID (what its length leaves);
   an ACK's ranges; varints of some frame types only. */
enum { S_BITS, S_LEN8, S_SIZED, S_VAR, S_PN, S_REST, S_RTOKEN, S_TAG, S_SCID,
       S_RANGES, S_ECN, S_CCFT };

typedef struct qdef {
  sf_proto pr;            /* first: the registry holds &pr */
  int kind;               /* K_*, or -1 for frames */
  uint8_t steps[16];
  int8_t ref[16];         /* S_SIZED, S_RANGES: the field giving the size */
  /* set at registration: the fields of the packet number, its length and
     Length (-1: none) */
  int8_t pn, pnlen, length;
} qdef;

static const qdef *qdef_of(const sf_proto *pr) { return (const qdef *)pr; }

static void absent(sf_span *sp, int n) {
  int i;
  for (i = 0; i < n; i++) sp[i].bitoff = 0, sp[i].bits = SF_ABSENT;
}

static uint64_t span_value(const uint8_t *h, const sf_span *s) {
  if (s->bits == SF_ABSENT || s->bits == 0) return 0;
  return sf_getbits(h, s->bitoff, s->bits);
}

/* An ACK's ranges: 2 * count varints from pos; their length, or 0 and
   *ok = 0 when cut short. */
static size_t ranges_len(const uint8_t *h, size_t n, size_t pos, uint64_t count, int *ok) {
  size_t at = pos, l;
  uint64_t i, v;
  *ok = 1;
  for (i = 0; i < 2 * count; i++) {
    if (!(l = var_get(h + at, n - at, &v))) return *ok = 0, 0;
    at += l;
  }
  return at - pos;
}

/* Spans of every field of the header at h (n bytes); its length, 0 when
   cut short or malformed. */
static size_t lay(const qdef *d, const uint8_t *h, size_t n, sf_span *sp) {
  const sf_field *f = d->pr.fields;
  size_t pos = 0, len;
  int i, nf = d->pr.nfields, ok;
  uint64_t v;
  absent(sp, nf);
  if (n < 1) return 0;
  for (i = 0; i < nf; i++) {
    switch (d->steps[i]) {
      case S_BITS:
        if ((size_t)f[i].bitoff + f[i].bits > n * 8) return 0;
        sp[i].bitoff = f[i].bitoff;
        sp[i].bits = f[i].bits;
        len = ((size_t)f[i].bitoff + f[i].bits + 7) / 8;
        if (len > pos) pos = len;
        continue;
      case S_LEN8: len = 1; break;
      case S_SIZED: len = (size_t)span_value(h, &sp[d->ref[i]]); break;
      case S_ECN:
      case S_CCFT:
        if (span_value(h, &sp[0]) != (d->steps[i] == S_ECN ? 3u : 0x1cu)) continue;
        /* fall through */
      case S_VAR:
        if (pos >= n || !(len = var_get(h + pos, n - pos, &v))) return 0;
        sp[i].bitoff = (uint32_t)(pos * 8 + 2);
        sp[i].bits = (uint32_t)(len * 8 - 2);
        pos += len;
        continue;
      case S_PN: len = (h[0] & 3u) + 1; break;
      case S_REST: len = n - pos; break;
      case S_RTOKEN:
        if (n - pos < 16) return 0;
        len = n - pos - 16;
        break;
      case S_TAG: len = 16; break;
      case S_SCID:  /* a short header: 1 byte, the ID, the packet number */
        if (n < 1 + (h[0] & 3u) + 1) return 0;
        len = n - 1 - ((h[0] & 3u) + 1);
        break;
      case S_RANGES:
        len = ranges_len(h, n, pos, span_value(h, &sp[d->ref[i]]), &ok);
        if (!ok) return 0;
        break;
      default: return 0;
    }
    if (len > n - pos) return 0;
    sp[i].bitoff = (uint32_t)(pos * 8);
    sp[i].bits = (uint32_t)(len * 8);
    pos += len;
  }
  return pos;
}

static size_t q_layout(const sf_proto *pr, const uint8_t *h, size_t n, sf_span *sp,
                       int build) {
  (void)build;
  return lay(qdef_of(pr), h, n, sp);
}

/* ---- writing a header again from its values ---------------------------------------- */

typedef struct qval {
  uint64_t u;
  const uint8_t *b;
  size_t n;
  size_t width;           /* a varint's bytes before, 0: as few as it needs */
} qval;

static int is_bytes(int step) {
  return step == S_SIZED || step == S_REST || step == S_RTOKEN || step == S_TAG ||
         step == S_SCID || step == S_RANGES;
}

static int is_var(int step) { return step == S_VAR || step == S_ECN || step == S_CCFT; }

/* The length field whose bytes field is fi, or -1. */
static int sized_by(const qdef *d, int fi) {
  return d->steps[fi] == S_SIZED || d->steps[fi] == S_RANGES ? d->ref[fi] : -1;
}

/* The bytes field sized by field fi, or -1. */
static int sizes(const qdef *d, int fi) {
  int i;
  for (i = 0; i < d->pr.nfields; i++)
    if (d->steps[i] == S_SIZED && d->ref[i] == fi) return i;
  return -1;
}

static void old_values(const qdef *d, const uint8_t *h, const sf_span *sp, qval *q) {
  int i;
  for (i = 0; i < d->pr.nfields; i++) {
    memset(&q[i], 0, sizeof q[i]);
    if (sp[i].bits == SF_ABSENT) {
      q[i].u = d->pr.fields[i].def;
      continue;
    }
    if (is_bytes(d->steps[i])) {
      q[i].b = h + sp[i].bitoff / 8;
      q[i].n = sp[i].bits / 8;
    } else {
      q[i].u = span_value(h, &sp[i]);
      if (is_var(d->steps[i])) q[i].width = (sp[i].bits + 2) / 8;
    }
  }
}

static int pn_field(const qdef *d) { return d->pn; }

static size_t pn_bytes(uint64_t pn) {
  return pn < 0x100 ? 1 : pn < 0x10000 ? 2 : pn < 0x1000000 ? 3 : 4;
}

/* Values that follow field fi's new value: a length its bytes', bytes
   cut or padded to a length set, the packet number's length. */
static void follow(const qdef *d, const sf_pkt *p, int li, int fi, qval *q,
                   uint8_t *zeros) {
  int r = sized_by(d, fi), s = sizes(d, fi), pn = pn_field(d);
  if (r >= 0 && d->steps[fi] == S_SIZED && !sf_isset(p, li, r)) q[r].u = q[fi].n;
  if (s >= 0 && q[s].n != q[fi].u) {
    if (q[fi].u > q[s].n) q[s].b = zeros;
    q[s].n = (size_t)q[fi].u;
  }
  if (pn >= 0 && fi == pn && d->pnlen >= 0 && !sf_isset(p, li, d->pnlen))
    q[d->pnlen].u = pn_bytes(q[pn].u) - 1;
}

/* Write the header of values q into out (cap bytes); its length, 0 if it
   does not fit. */
static size_t write_header(const qdef *d, const qval *q, uint8_t *out, size_t cap) {
  const sf_field *f = d->pr.fields;
  size_t pos = 0, len;
  int i, lenf = d->pnlen;
  memset(out, 0, cap < 8 ? cap : 8);
  for (i = 0; i < d->pr.nfields; i++) {
    int st = d->steps[i];
    if (st == S_BITS) {
      len = ((size_t)f[i].bitoff + f[i].bits + 7) / 8;
      if (len > cap) return 0;
      sf_setbits(out, f[i].bitoff, f[i].bits, q[i].u);
      if (len > pos) pos = len;
      continue;
    }
    if ((st == S_ECN && q[0].u != 3) || (st == S_CCFT && q[0].u != 0x1c)) continue;
    if (is_var(st)) {
      len = q[i].width && q[i].u < (UINT64_C(1) << (8 * q[i].width - 2)) ? q[i].width
                                                                          : var_len_for(q[i].u);
      if (pos + len > cap) return 0;
      var_put(out + pos, q[i].u, len);
    } else if (st == S_LEN8) {
      if ((len = 1) + pos > cap || q[i].u > 255) return 0;
      out[pos] = (uint8_t)q[i].u;
    } else if (st == S_PN) {
      len = (size_t)(lenf >= 0 ? q[lenf].u : 0) + 1;
      if (pos + len > cap) return 0;
      sf_setbits(out + pos, 0, (unsigned)(8 * len), q[i].u);
    } else {
      len = st == S_TAG ? 16 : q[i].n;
      if (pos + len > cap) return 0;
      memset(out + pos, 0, len);
      memcpy(out + pos, q[i].b, q[i].n < len ? q[i].n : len);
    }
    pos += len;
  }
  return pos;
}

/* An ACK's ranges and their count agree: the count set, the ranges cut
   or filled with zero varints to as many; the ranges set, the count
   follows (unless set) and a varint cut short is left out.  *buf: memory
   the ranges may now use (the caller frees it). */
static int fit_ranges(const qdef *d, const sf_pkt *p, int li, int fi, qval *q, uint8_t **buf) {
  int rs = -1, c, i;
  uint64_t want, found = 0, x;
  size_t at = 0, l;
  for (i = 0; i < d->pr.nfields; i++)
    if (d->steps[i] == S_RANGES) rs = i;
  if (rs < 0 || (fi != rs && fi != d->ref[rs])) return SF_OK;
  c = d->ref[rs];
  while (at < q[rs].n && (l = var_get(q[rs].b + at, q[rs].n - at, &x))) at += l, found++;
  if (fi == rs && !sf_isset(p, li, c)) q[c].u = found / 2;
  want = 2 * q[c].u;
  if (want > SF_MAX_LEN) return SF_E_RANGE;
  for (at = 0, i = 0; (uint64_t)i < want && at < q[rs].n; i++)
    at += var_get(q[rs].b + at, q[rs].n - at, &x);
  if ((uint64_t)i < want) {  /* too few: zeros after them */
    if (!(*buf = calloc(1, at + (size_t)(want - (uint64_t)i)))) return SF_E_NOMEM;
    memcpy(*buf, q[rs].b, at);
    q[rs].b = *buf;
    at += (size_t)(want - (uint64_t)i);
  }
  q[rs].n = at;
  return SF_OK;
}

static int q_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const qdef *d = qdef_of(pr);
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  sf_span sp[SF_MAX_FIELDS];
  qval q[SF_MAX_FIELDS];
  uint8_t *out, *zeros = NULL, *ranges = NULL;
  size_t cap = 64, n, i;
  int rc;
  if (!lay(d, h, l->hlen, sp)) return SF_E_VALUE;
  old_values(d, h, sp, q);
  if (is_bytes(d->steps[fi])) {
    q[fi].b = v ? v->p : NULL;
    q[fi].n = v ? v->n : 0;
  } else {
    q[fi].u = v ? v->u : pr->fields[fi].def;  /* a varint keeps its width if it fits */
  }
  if (sizes(d, fi) >= 0 && v && v->u > SF_MAX_LEN) return SF_E_RANGE;
  if (sizes(d, fi) >= 0 && !(zeros = calloc(1, (size_t)q[fi].u + 1))) return SF_E_NOMEM;
  follow(d, p, li, fi, q, zeros);
  if ((rc = fit_ranges(d, p, li, fi, q, &ranges)) != SF_OK) {
    free(zeros);
    return rc;
  }
  for (i = 0; i < pr->nfields; i++) cap += q[i].n + 9;
  if (!(out = malloc(cap))) {
    free(zeros);
    free(ranges);
    return SF_E_NOMEM;
  }
  n = write_header(d, q, out, cap);
  rc = n ? sf_pkt_splice(p, li, l->off, l->hlen, out, n) : SF_E_VALUE;
  free(out);
  free(zeros);
  free(ranges);
  return rc;
}

static const sf_dyn q_dyn = {.layout = q_layout, .set = q_set};

/* ---- field helpers ---------------------------------------------------------------- */

#define QB(n, off, w, d, fl, en) UINTF(n, off, w, d, fl, en, 0)
#define QU(n, w, d, fl) {(n), SF_T_UINT, (fl), 0, 0, 0, (w), (d), NULL, NULL, NULL, NULL}
#define QUE(n, w, d, fl, en) {(n), SF_T_UINT, (fl), 0, 0, 0, (w), (d), NULL, (en), NULL, NULL}
#define QV(n, d, fl) QU(n, 62, d, fl)
#define QY(n, codec) {(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, (codec), NULL}

/* Write an automatic varint, laying the header out again when the value
   needs more bytes than the field has. */
static void put_var(sf_pkt *p, int li, int fi, uint64_t v) {
  size_t off, bits;
  if (sf_isset(p, li, fi) || !sf_field_span(p, li, fi, &off, &bits)) return;
  if (bits >= 64 || v < (UINT64_C(1) << bits)) {
    sf_lput(p, li, fi, v);
  } else {
    sf_val x = {v, NULL, 0};
    if (sf_field_set(p, li, fi, &x) == SF_OK) p->layers[li].set &= ~(UINT64_C(1) << fi);
  }
}

/* ---- protocol ids and what each is ---------------------------------------------------- */

static int id_kind[NKINDS] = {-1, -1, -1, -1, -1, -1};
static int id_protected = -1, id_padding = -1, id_ping = -1, id_ack = -1,
           id_crypto = -1, id_close = -1, id_frame = -1;
static uint8_t is_header[SF_MAX_PROTOS];  /* 1 + kind */
static uint8_t is_frame[SF_MAX_PROTOS];

static int header_kind(int proto) { return is_header[proto] ? is_header[proto] - 1 : -1; }

/* Where the bytes of a packet stand: on a QUIC port, on any port (a
   heuristic), or after another packet of the same datagram. */
enum { AT_PORT, AT_ANY, AT_COALESCED };

/* The kind of QUIC packet the bytes at h (n) start; -1 if none.  The
   fixed bit may be greased (RFC 9287: ngtcp2 does) in a long header of a
   version we know, and in a short header after another packet; on a port
   that is not QUIC's, only long headers of known versions with connection
   IDs of RFC 9000's sizes. */
static int kind_at(const uint8_t *h, size_t n, int at) {
  uint32_t v;
  if (n < 1) return -1;
  if (!(h[0] & 0x80))
    return at != AT_ANY && ((h[0] & 0x40) || at == AT_COALESCED) && n >= 1 + 1 + 16 ? K_SHORT
                                                                                    : -1;
  if (n < 7) return -1;
  v = (uint32_t)be_get(h + 1, 4);
  if (v == 0) return 6u + h[5] < n ? K_VN : -1;
  if (!(h[0] & 0x40) && !known_version(v)) return -1;
  if (at == AT_ANY && (!known_version(v) || h[5] > 20 || 7u + h[5] > n || h[6 + h[5]] > 20))
    return -1;
  return kind_of_bits((h[0] >> 4) & 3, v);
}

static int proto_at(const uint8_t *h, size_t n, int at) {
  int k = kind_at(h, n, at);
  return k < 0 ? -1 : id_kind[k];
}

/* The header layer of the packet layer li is in (li itself, or the
   nearest header before it), -1 if none. */
static int header_of(const sf_pkt *p, int li) {
  for (; li >= 0; li--)
    if (is_header[p->layers[li].proto]) return li;
  return -1;
}

/* Where a long header's packet number starts, and its Length. */
static int long_lengths(const sf_pkt *p, int hi, size_t *pn_at, uint64_t *length) {
  const sf_layer *l = &p->layers[hi];
  const qdef *d = qdef_of(sf_proto_get(l->proto));
  sf_span sp[SF_MAX_FIELDS];
  int pn = d->pn, lf = d->length;
  if (pn < 0 || lf < 0 || !lay(d, p->data + l->off, l->hlen, sp)) return 0;
  *pn_at = l->off + sp[pn].bitoff / 8;
  *length = span_value(p->data + l->off, &sp[lf]);
  return 1;
}

/* The end of the packet whose header is layer hi, as its header says:
   a long header's Length counts the tag, which a decrypted packet no
   longer has (plain); a short header's packet goes to the datagram's end. */
static size_t packet_end(const sf_pkt *p, int hi, int plain) {
  const sf_layer *l = &p->layers[hi];
  size_t pn_at, e;
  uint64_t length;
  if (header_kind(l->proto) == K_SHORT || !long_lengths(p, hi, &pn_at, &length))
    return l->end;
  if (plain) length = length >= 16 ? length - 16 : 0;
  e = pn_at + (size_t)(length < SF_MAX_LEN ? length : SF_MAX_LEN);
  return e < l->end ? e : l->end;
}

/* What follows at pos, the end of a packet: the next coalesced packet. */
static int after_packet(const sf_pkt *p, size_t pos, size_t end) {
  int k;
  if (pos >= end) return -2;
  k = proto_at(p->data + pos, end - pos, AT_COALESCED);
  return k >= 0 ? k : -2;
}

/* ---- headers ------------------------------------------------------------------------ */

enum { F_FORM, F_FIXED, F_TYPE };
enum { F_RETRY_VERSION = 4, F_LONG_VERSION = 5 };  /* Retry's has no packet number length */

#define LONG_HEAD                                                    \
  QB("HeaderForm", 0, 1, 1, 0, forms), QB("FixedBit", 1, 1, 1, 0, NULL), \
  QB("LongPacketType", 2, 2, 0, SF_FF_AUTO, types_v1),                \
  QB("Reserved", 4, 2, 0, 0, NULL), QB("PacketNumberLen", 6, 2, 0, SF_FF_AUTO, NULL), \
  QB("Version", 8, 32, QUIC_V1, SF_FF_HEX, versions),                \
  QU("DstConnIDLen", 8, 0, SF_FF_AUTO), QY("DstConnID", NULL),         \
  QU("SrcConnIDLen", 8, 0, SF_FF_AUTO), QY("SrcConnID", NULL)
#define LONG_STEPS S_BITS, S_BITS, S_BITS, S_BITS, S_BITS, S_BITS, S_LEN8, S_SIZED, S_LEN8, S_SIZED
#define LONG_REFS -1, -1, -1, -1, -1, -1, -1, 6, -1, 8
#define INITIAL_REFS {LONG_REFS, -1, 10, -1, -1}
#define LH_REFS {LONG_REFS, -1, -1}

static const sf_field initial_fields[] = {
  LONG_HEAD, QV("TokenLen", 0, SF_FF_AUTO), QY("Token", NULL),
  QV("Length", 0, SF_FF_AUTO), QU("PacketNumber", 32, 0, 0),
};
static const sf_field lh_fields[] = {  /* 0-RTT, Handshake */
  LONG_HEAD, QV("Length", 0, SF_FF_AUTO), QU("PacketNumber", 32, 0, 0),
};
static const sf_field retry_fields[] = {
  QB("HeaderForm", 0, 1, 1, 0, forms), QB("FixedBit", 1, 1, 1, 0, NULL),
  QB("LongPacketType", 2, 2, 3, SF_FF_AUTO, types_v1), QB("Unused", 4, 4, 0, 0, NULL),
  QB("Version", 8, 32, QUIC_V1, SF_FF_HEX, versions),
  QU("DstConnIDLen", 8, 0, SF_FF_AUTO), QY("DstConnID", NULL),
  QU("SrcConnIDLen", 8, 0, SF_FF_AUTO), QY("SrcConnID", NULL),
  QY("RetryToken", NULL), QY("RetryIntegrityTag", NULL),
};
static const sf_field vn_fields[] = {
  QB("HeaderForm", 0, 1, 1, 0, forms), QB("Unused", 1, 7, 0, 0, NULL),
  QB("Version", 8, 32, 0, SF_FF_HEX, versions),
  QU("DstConnIDLen", 8, 0, SF_FF_AUTO), QY("DstConnID", NULL),
  QU("SrcConnIDLen", 8, 0, SF_FF_AUTO), QY("SrcConnID", NULL),
  QY("SupportedVersions", "u32_list"),
};
static const sf_field short_fields[] = {
  QB("HeaderForm", 0, 1, 0, 0, forms), QB("FixedBit", 1, 1, 1, 0, NULL),
  QB("SpinBit", 2, 1, 0, 0, NULL), QB("Reserved", 3, 2, 0, 0, NULL),
  QB("KeyPhase", 5, 1, 0, 0, NULL), QB("PacketNumberLen", 6, 2, 0, SF_FF_AUTO, NULL),
  QY("DstConnID", NULL), QU("PacketNumber", 32, 0, 0),
};

/* The header's length: its layout's.  A short header's connection ID
   has no length on the wire: the connection knows it; here, that of a
   long header before it in the datagram (the same connection's), else
   none. */
static size_t header_len(int kind, const sf_pkt *p, const uint8_t *h, size_t n) {
  sf_span sp[SF_MAX_FIELDS];
  const qdef *d;
  if (id_kind[kind] < 0) return 0;
  d = qdef_of(sf_proto_get(id_kind[kind]));
  if (kind == K_SHORT) {
    size_t cid = 0, pnl = (h[0] & 3u) + 1;
    int li = p ? sf_layer_before(p, h) : -1, hi = li >= 0 ? header_of(p, li) : -1;
    if (hi >= 0 && header_kind(p->layers[hi].proto) != K_SHORT &&
        p->layers[hi].hlen >= 6)
      cid = p->data[p->layers[hi].off + 5];
    return 1 + cid + pnl <= n ? 1 + cid + pnl : 0;
  }
  return lay(d, h, n, sp);
}

static size_t initial_len(const sf_pkt *p, const uint8_t *h, size_t n) { return header_len(K_INITIAL, p, h, n); }
static size_t zrtt_len(const sf_pkt *p, const uint8_t *h, size_t n) { return header_len(K_0RTT, p, h, n); }
static size_t hs_len(const sf_pkt *p, const uint8_t *h, size_t n) { return header_len(K_HANDSHAKE, p, h, n); }
static size_t retry_len(const sf_pkt *p, const uint8_t *h, size_t n) { return header_len(K_RETRY, p, h, n); }
static size_t vn_len(const sf_pkt *p, const uint8_t *h, size_t n) { return header_len(K_VN, p, h, n); }
static size_t short_len(const sf_pkt *p, const uint8_t *h, size_t n) { return header_len(K_SHORT, p, h, n); }

/* On the wire, a protected payload follows the header. */
static int header_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  int k = header_kind(l->proto);
  if (k == K_RETRY || k == K_VN) return -2;
  return l->off + l->hlen < l->end ? id_protected : -2;
}

/* The end of what belongs to packet li (built or decrypted): the layers
   after it up to the next packet's header. */
static size_t content_end(const sf_pkt *p, int li, int *protected_) {
  size_t e = p->layers[li].off + p->layers[li].hlen;
  int j;
  *protected_ = li + 1 < p->nlayers && p->layers[li + 1].proto == id_protected;
  for (j = li + 1; j < p->nlayers && !is_header[p->layers[j].proto]; j++) {
    const sf_layer *l = &p->layers[j];
    if (l->proto == SF_PADDING) break;
    if (l->off + l->hlen > e) e = l->off + l->hlen;
  }
  return e;
}

static void long_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  int k = header_kind(l->proto), lf = qdef_of(sf_proto_get(l->proto))->length, prot;
  size_t pn_at, e;
  uint64_t length;
  if (l->flags & SF_L_BUILT) {
    uint32_t v = (uint32_t)sf_lget(p, li, F_LONG_VERSION);
    sf_lput(p, li, F_TYPE, type_bits(k, v));
  }
  if (lf < 0 || !long_lengths(p, li, &pn_at, &length)) return;
  e = content_end(p, li, &prot);
  if (!(l->flags & SF_L_BUILT) && pn_at + length > l->end) return;  /* cut by the capture */
  put_var(p, li, lf, e - pn_at + (prot ? 0 : 16));
}

static void retry_fixup(sf_pkt *p, int li) {
  if (p->layers[li].flags & SF_L_BUILT)
    sf_lput(p, li, F_TYPE, type_bits(K_RETRY, (uint32_t)sf_lget(p, li, F_RETRY_VERSION)));
}

static int accept_kind(int kind, const uint8_t *h, size_t n) { return kind_at(h, n, AT_PORT) == kind; }
static int acc_initial(const sf_pkt *p, int li, const uint8_t *h, size_t n) { (void)p; (void)li; return accept_kind(K_INITIAL, h, n); }
static int acc_0rtt(const sf_pkt *p, int li, const uint8_t *h, size_t n) { (void)p; (void)li; return accept_kind(K_0RTT, h, n); }
static int acc_hs(const sf_pkt *p, int li, const uint8_t *h, size_t n) { (void)p; (void)li; return accept_kind(K_HANDSHAKE, h, n); }
static int acc_retry(const sf_pkt *p, int li, const uint8_t *h, size_t n) { (void)p; (void)li; return accept_kind(K_RETRY, h, n); }
static int acc_vn(const sf_pkt *p, int li, const uint8_t *h, size_t n) { (void)p; (void)li; return accept_kind(K_VN, h, n); }
static int acc_short(const sf_pkt *p, int li, const uint8_t *h, size_t n) { (void)p; (void)li; return accept_kind(K_SHORT, h, n); }

#define PLACES(acc)                                                      \
  {{"udp.port", 443, 0, acc}, {"udp.port", 4433, SF_PL_PARSE_ONLY, acc}, \
   {NULL, 0, 0, NULL}}
static const sf_place initial_places[] = PLACES(acc_initial);
static const sf_place zrtt_places[] = PLACES(acc_0rtt);
static const sf_place hs_places[] = PLACES(acc_hs);
static const sf_place retry_places[] = PLACES(acc_retry);
static const sf_place vn_places[] = PLACES(acc_vn);
static const sf_place short_places[] = PLACES(acc_short);

#define WS_LONG                                                          \
  WS("quic.header_form", "HeaderForm"), WS("quic.fixed_bit", "FixedBit"),  \
  WS_VN
#define WS_VN                                                            \
  WSX("quic.version", "Version", 8), WS("quic.dcil", "DstConnIDLen"),      \
  WS("quic.dcid", "DstConnID"), WS("quic.scil", "SrcConnIDLen"),           \
  WS("quic.scid", "SrcConnID")
static const sf_wsfield initial_ws[] = {
  WS_LONG, WS("quic.long.packet_type", "LongPacketType"),
  WS("quic.token_length", "TokenLen"), WS("quic.token", "Token"),
  WS("quic.length", "Length"), WSEND
};
static const sf_wsfield lh_ws[] = {
  WS_LONG, WS("quic.long.packet_type", "LongPacketType"), WS("quic.length", "Length"), WSEND
};
static const sf_wsfield retry_ws[] = {
  WS_LONG, WS("quic.long.packet_type", "LongPacketType"),
  WS("quic.retry_token", "RetryToken"),
  WS("quic.retry_integrity_tag", "RetryIntegrityTag"), WSEND
};
static const sf_wsfield vn_ws[] = {WS("quic.header_form", "HeaderForm"), WS_VN, WSEND};
static const sf_wsfield short_ws[] = {
  WS("quic.header_form", "HeaderForm"), WS("quic.fixed_bit", "FixedBit"),
  WS("quic.spin_bit", "SpinBit"), WS("quic.dcid", "DstConnID"), WSEND
};

static const sf_method initial_methods[];

static const uint8_t initial_tmpl[] = {0xc0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
static const uint8_t lh0_tmpl[] = {0xd0, 0, 0, 0, 1, 0, 0, 0, 0};
static const uint8_t lh2_tmpl[] = {0xe0, 0, 0, 0, 1, 0, 0, 0, 0};
static const uint8_t retry_tmpl[] = {0xf0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t vn_tmpl[] = {0x80, 0, 0, 0, 0, 0, 0};
static const uint8_t short_tmpl[] = {0x40, 0};

#define HEADER(id_, cls, disp, knd, k, flds, tmpl, plc, hl, fix, wsf, meth, refs, ...) \
  static qdef id_ = {                                                          \
    {.name = (cls), .display = (disp), .kind = (knd), .fields = (flds),        \
     .nfields = NFIELDS(flds), .minlen = sizeof(tmpl), .places = (plc),        \
     .ws = "quic", .ws_fields = (wsf), .methods = (meth), .hdr_len = (hl),     \
     .next = header_next, .fixup = (fix), .dyn = &q_dyn, .deftmpl = (tmpl)},   \
    (k), {__VA_ARGS__}, refs, -1, -1, -1}

/* ---- Initial packet protection (RFC 9001 5) ----------------------------------------- */

static EVP_CIPHER *aes_gcm, *aes_ecb;

static const uint8_t salt_v1[20] = {
  0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a
};
static const uint8_t salt_v2[20] = {
  0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
  0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9
};

/* OpenSSL's contexts, one set per thread, kept between packets: making
   and freeing them cost more than the cryptography of an Initial. */
typedef struct ctxs {
  EVP_CIPHER_CTX *gcm, *ecb;
} ctxs;

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void free_ctxs(void *v) {
  ctxs *c = v;
  EVP_CIPHER_CTX_free(c->gcm);
  EVP_CIPHER_CTX_free(c->ecb);
  free(c);
}

static void make_key(void) { pthread_key_create(&ctx_key, free_ctxs); }

static ctxs *thread_ctxs(void) {
  ctxs *c;
  pthread_once(&ctx_once, make_key);
  if ((c = pthread_getspecific(ctx_key))) return c;
  if (!(c = calloc(1, sizeof *c))) return NULL;
  c->gcm = EVP_CIPHER_CTX_new();
  c->ecb = EVP_CIPHER_CTX_new();
  if (!c->gcm || !c->ecb || pthread_setspecific(ctx_key, c) != 0) {
    free_ctxs(c);
    return NULL;
  }
  return c;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with SHA-256 and an empty context:
   TLS decryption's (core/crypto). */
static int expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t n) {
  return sf_hkdf_expand_label(32, secret, label, NULL, 0, out, n) == SF_OK;
}

typedef struct qkeys {
  uint8_t key[16], iv[12], hp[16];
} qkeys;

/* The Initial keys of one side for a client's Destination Connection ID;
   any: a version other than v1 and v2 gets v1's (to build an Initial of
   a version a server does not speak, which it answers with a Version
   Negotiation). */
static int initial_keys(uint32_t version, const uint8_t *dcid, size_t n, int server,
                        int any, qkeys *k) {
  uint8_t initial[32], secret[32];
  int v2 = version == QUIC_V2;
  if (version != QUIC_V1 && !v2 && !any) return 0;
  if (sf_hkdf_extract(32, v2 ? salt_v2 : salt_v1, 20, dcid, n, initial) != SF_OK) return 0;
  return expand_label(initial, server ? "server in" : "client in", secret, 32) &&
         expand_label(secret, v2 ? "quicv2 key" : "quic key", k->key, 16) &&
         expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) &&
         expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

/* The header protection mask of a 16-byte sample. */
static int hp_mask(const qkeys *k, const uint8_t sample[16], uint8_t mask[16]) {
  ctxs *x = thread_ctxs();
  int len = 0;
  return x && EVP_EncryptInit_ex(x->ecb, aes_ecb, NULL, k->hp, NULL) &&
         EVP_CIPHER_CTX_set_padding(x->ecb, 0) &&
         EVP_EncryptUpdate(x->ecb, mask, &len, sample, 16) && len == 16;
}

/* AES-128-GCM of n bytes in into out; enc: tag written after them, else
   read from there and checked. */
static int aead(const qkeys *k, uint64_t pn, const uint8_t *aad, size_t na,
                const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16], int enc) {
  ctxs *x = thread_ctxs();
  EVP_CIPHER_CTX *c = x ? x->gcm : NULL;
  uint8_t nonce[12];
  int len = 0, ok, i;
  if (!c || n > INT32_MAX) return 0;
  memcpy(nonce, k->iv, 12);
  for (i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  ok = EVP_CipherInit_ex(c, aes_gcm, NULL, k->key, nonce, enc) &&
       EVP_CipherUpdate(c, NULL, &len, aad, (int)na) &&
       EVP_CipherUpdate(c, out, &len, in, (int)n);
  if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
  ok = ok && EVP_CipherFinal_ex(c, out + len, &len) == 1;
  if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  return ok;
}

/* An Initial's header, as decrypting or encrypting needs it. */
typedef struct initial_hdr {
  size_t off;             /* the header's start in the packet */
  size_t pn_at;           /* the packet number's (from off) */
  uint64_t length;
  uint32_t version;
  const uint8_t *dcid;
  size_t dcil;
} initial_hdr;

static int initial_of(const sf_pkt *p, int li, initial_hdr *in) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  size_t pn_at;
  if (header_kind(l->proto) != K_INITIAL || l->hlen < 7) return 0;
  if (!long_lengths(p, li, &pn_at, &in->length)) return 0;
  in->off = l->off;
  in->pn_at = pn_at - l->off;
  in->version = (uint32_t)be_get(h + 1, 4);
  in->dcil = h[5];
  in->dcid = h + 6;
  return 1;
}

/* The first frame of a payload at h (n bytes). */
static int frame_proto(const uint8_t *h, size_t n) {
  uint64_t t;
  if (!var_get(h, n, &t)) return -2;
  switch (t) {
    case 0x00: return id_padding;
    case 0x01: return id_ping;
    case 0x02: case 0x03: return id_ack;
    case 0x06: return id_crypto;
    case 0x1c: case 0x1d: return id_close;
    default: return id_frame;
  }
}

/* Remove header protection and decrypt the Initial at layer li with one
   side's keys into out (its unprotected header and plaintext); their
   length, 0 if the keys do not open it. */
static size_t open_with(const sf_pkt *p, const initial_hdr *in, const qkeys *k, uint8_t *out,
                        size_t *hlen) {
  const uint8_t *h = p->data + in->off;
  size_t end = in->pn_at + (size_t)in->length, pnl, i;
  uint8_t mask[16];
  uint64_t pn = 0;
  if (!hp_mask(k, h + in->pn_at + 4, mask)) return 0;
  memcpy(out, h, in->pn_at);
  out[0] ^= mask[0] & 0x0f;
  pnl = (out[0] & 3u) + 1;
  for (i = 0; i < pnl; i++) {
    out[in->pn_at + i] = h[in->pn_at + i] ^ mask[1 + i];
    pn = pn << 8 | out[in->pn_at + i];
  }
  *hlen = in->pn_at + pnl;
  if (end < *hlen + 16) return 0;
  if (!aead(k, pn, out, *hlen, h + *hlen, end - *hlen - 16, out + *hlen,
            (uint8_t *)h + end - 16, 0))
    return 0;
  return end - 16;
}

/* The Initial at li made plain in place with the keys of Destination
   Connection ID dcid (NULL: its own), the client's then the server's, and
   its frames dissected. */
static int decrypt_with(sf_pkt *p, int li, const uint8_t *dcid, size_t dcil) {
  initial_hdr in;
  qkeys k;
  uint8_t *out;
  size_t n = 0, hlen = 0, avail;
  int side, rc;
  if (!initial_of(p, li, &in)) return SF_E_VALUE;
  if (dcid) {
    if (dcil > 255) return SF_E_VALUE;
    in.dcid = dcid;
    in.dcil = dcil;
  }
  avail = p->layers[li].end - in.off;
  if (li + 1 >= p->nlayers || p->layers[li + 1].proto != id_protected) return SF_E_VALUE;
  if (in.length < 20 || in.pn_at + in.length > avail) return SF_E_VALUE;
  if (!(out = malloc(in.pn_at + (size_t)in.length))) return SF_E_NOMEM;
  for (side = 0; side < 2 && !n; side++)
    if (initial_keys(in.version, in.dcid, in.dcil, side, 0, &k))
      n = open_with(p, &in, &k, out, &hlen);
  if (!n) {
    free(out);
    return SF_E_VALUE;
  }
  rc = sf_pkt_splice(p, li, in.off, in.pn_at + (size_t)in.length, out, n);
  free(out);
  if (rc != SF_OK) return rc;
  p->layers[li].hlen = (uint32_t)hlen;
  return sf_dissect_after(p, li, in.off + hlen,
                          frame_proto(p->data + in.off + hlen, n - hlen));
}

/* decrypt: with the keys of the Initial's own Destination Connection ID
   (a client's first Initial) */
static int initial_decrypt(sf_pkt *p, int li) { return decrypt_with(p, li, NULL, 0); }

/* decrypt(dcid): with those of the client's first Destination Connection
   ID (a server's Initials, a client's later ones) */
static int initial_decrypt_dcid(sf_pkt *p, int li, const uint8_t *dcid, size_t n) {
  return decrypt_with(p, li, dcid, n);
}

/* encrypt: a built (plain) Initial protected in place with the client's
   keys, as a client sends it; dissected again as the wire form. */
static int initial_encrypt(sf_pkt *p, int li) {
  initial_hdr in;
  qkeys k;
  uint8_t *out, mask[16];
  size_t plain_end, pnl, i, n;
  uint64_t pn = 0;
  int rc, proto = p->layers[li].proto;
  if ((rc = sf_finalize(p)) != SF_OK) return rc;
  if (!initial_of(p, li, &in)) return SF_E_VALUE;
  if (li + 1 < p->nlayers && p->layers[li + 1].proto == id_protected) return SF_E_VALUE;
  pnl = (p->data[in.off] & 3u) + 1;
  if (in.length < 20 || in.length < pnl + 16) return SF_E_VALUE;  /* the sample, the tag */
  plain_end = in.pn_at + (size_t)in.length - 16;
  if (in.off + plain_end > p->len || !initial_keys(in.version, in.dcid, in.dcil, 0, 1, &k))
    return SF_E_VALUE;
  n = plain_end + 16;
  if (in.pn_at + 4 + 16 > n || !(out = malloc(n))) return SF_E_NOMEM;
  memcpy(out, p->data + in.off, in.pn_at + pnl);
  for (i = 0; i < pnl; i++) pn = pn << 8 | out[in.pn_at + i];
  if (!aead(&k, pn, out, in.pn_at + pnl, p->data + in.off + in.pn_at + pnl,
            plain_end - in.pn_at - pnl, out + in.pn_at + pnl, out + plain_end, 1) ||
      !hp_mask(&k, out + in.pn_at + 4, mask)) {
    free(out);
    return SF_E_VALUE;
  }
  out[0] ^= mask[0] & 0x0f;
  for (i = 0; i < pnl; i++) out[in.pn_at + i] ^= mask[1 + i];
  rc = sf_pkt_splice(p, li, in.off, plain_end, out, n);
  free(out);
  if (rc != SF_OK) return rc;
  p->layers[li].end = (uint32_t)(p->layers[li].end < in.off + n ? in.off + n : p->layers[li].end);
  return sf_dissect_after(p, li - 1, in.off, proto);
}

static const sf_method initial_methods[] = {
  {"decrypt", NULL, initial_decrypt, initial_decrypt_dcid},
  {"encrypt", NULL, initial_encrypt, NULL}, {NULL, NULL, NULL, NULL}
};

HEADER(initial, "QUIC_Initial", "QUIC - Initial", "QuicInitial", K_INITIAL, initial_fields,
       initial_tmpl, initial_places, initial_len, long_fixup, initial_ws, initial_methods,
       INITIAL_REFS, LONG_STEPS, S_VAR, S_SIZED, S_VAR, S_PN);
HEADER(zrtt, "QUIC_0RTT", "QUIC - 0-RTT", "Quic0Rtt", K_0RTT, lh_fields, lh0_tmpl,
       zrtt_places, zrtt_len, long_fixup, lh_ws, NULL, LH_REFS, LONG_STEPS, S_VAR, S_PN);
HEADER(handshake, "QUIC_Handshake", "QUIC - Handshake", "QuicHandshake", K_HANDSHAKE,
       lh_fields, lh2_tmpl, hs_places, hs_len, long_fixup, lh_ws, NULL, LH_REFS,
       LONG_STEPS, S_VAR,
       S_PN);

static qdef retry = {
  {.name = "QUIC_Retry", .display = "QUIC - Retry", .kind = "QuicRetry",
   .fields = retry_fields, .nfields = NFIELDS(retry_fields), .minlen = sizeof retry_tmpl,
   .places = retry_places, .ws = "quic", .ws_fields = retry_ws, .hdr_len = retry_len,
   .next = header_next, .fixup = retry_fixup, .dyn = &q_dyn, .deftmpl = retry_tmpl},
  K_RETRY, {S_BITS, S_BITS, S_BITS, S_BITS, S_BITS, S_LEN8, S_SIZED, S_LEN8, S_SIZED,
            S_RTOKEN, S_TAG},
  {-1, -1, -1, -1, -1, -1, 5, -1, 7, -1, -1}, -1, -1, -1
};

static qdef vn = {
  {.name = "QUIC_Version", .display = "QUIC - Version Negotiation", .kind = "QuicVersion",
   .fields = vn_fields, .nfields = NFIELDS(vn_fields), .minlen = sizeof vn_tmpl,
   .places = vn_places, .ws = "quic", .ws_fields = vn_ws, .hdr_len = vn_len,
   .next = header_next, .dyn = &q_dyn, .deftmpl = vn_tmpl},
  K_VN, {S_BITS, S_BITS, S_BITS, S_LEN8, S_SIZED, S_LEN8, S_SIZED, S_REST},
  {-1, -1, -1, -1, 3, -1, 5, -1}, -1, -1, -1
};

static qdef shorth = {
  {.name = "QUIC_1RTT", .display = "QUIC - 1-RTT", .kind = "Quic1Rtt",
   .fields = short_fields, .nfields = NFIELDS(short_fields), .minlen = sizeof short_tmpl,
   .places = short_places, .ws = "quic", .ws_fields = short_ws, .hdr_len = short_len,
   .next = header_next, .dyn = &q_dyn, .deftmpl = short_tmpl},
  K_SHORT, {S_BITS, S_BITS, S_BITS, S_BITS, S_BITS, S_BITS, S_SCID, S_PN},
  {-1, -1, -1, -1, -1, -1, -1, -1}, -1, -1, -1
};

/* ---- the protected payload ------------------------------------------------------------- */

static const sf_field prot_fields[] = {QY("data", NULL)};

static size_t prot_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  int li = p ? sf_layer_before(p, h) : -1, hi = li >= 0 ? header_of(p, li) : -1;
  size_t pos, e;
  if (hi < 0) return n;
  pos = (size_t)(h - p->data);
  e = packet_end(p, hi, 0);
  if (e <= pos) return 0;
  return e - pos < n ? e - pos : n;
}

static void var_all(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 0;
  *len = hlen;
}

static int prot_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  return after_packet(p, l->off + l->hlen, l->end);
}

static const sf_wsfield prot_ws[] = {WS("quic.protected_payload", "data"), WSEND};

static sf_proto prot = {
  .name = "QUIC_Protected", .display = "QUIC - Protected Payload", .kind = "QuicProtected",
  .fields = prot_fields, .nfields = NFIELDS(prot_fields), .minlen = 0,
  .ws_fields = prot_ws, .hdr_len = prot_len, .next = prot_next, .var = var_all,
};

/* ---- frames (RFC 9000 19) ------------------------------------------------------------------ */

static const sf_enum frame_types[] = {
  {0x00, "PADDING"}, {0x01, "PING"}, {0x02, "ACK"}, {0x03, "ACK_ECN"},
  {0x04, "RESET_STREAM"}, {0x05, "STOP_SENDING"}, {0x06, "CRYPTO"}, {0x07, "NEW_TOKEN"},
  {0x08, "STREAM"}, {0x09, "STREAM"}, {0x0a, "STREAM"}, {0x0b, "STREAM"}, {0x0c, "STREAM"},
  {0x0d, "STREAM"}, {0x0e, "STREAM"}, {0x0f, "STREAM"}, {0x10, "MAX_DATA"},
  {0x11, "MAX_STREAM_DATA"}, {0x12, "MAX_STREAMS"}, {0x13, "MAX_STREAMS"},
  {0x14, "DATA_BLOCKED"}, {0x15, "STREAM_DATA_BLOCKED"}, {0x16, "STREAMS_BLOCKED"},
  {0x17, "STREAMS_BLOCKED"}, {0x18, "NEW_CONNECTION_ID"}, {0x19, "RETIRE_CONNECTION_ID"},
  {0x1a, "PATH_CHALLENGE"}, {0x1b, "PATH_RESPONSE"}, {0x1c, "CONNECTION_CLOSE"},
  {0x1d, "CONNECTION_CLOSE"}, {0x1e, "HANDSHAKE_DONE"}, {0, NULL}
};

/* The end of the payload frame li is in (the packet is plain), and of
   the bytes its packet may use (the datagram's). */
static size_t payload_end(const sf_pkt *p, int li, size_t *dgram_end) {
  int hi = header_of(p, li);
  *dgram_end = p->layers[hi >= 0 ? hi : li].end;
  return hi < 0 ? *dgram_end : packet_end(p, hi, 1);
}

/* What follows a frame ending at pos: the next frame, or after the
   payload the next packet. */
static int frame_after(const sf_pkt *p, int li, size_t pos) {
  size_t end, e = payload_end(p, li, &end);
  if (pos < e && pos < end) return frame_proto(p->data + pos, (e < end ? e : end) - pos);
  return after_packet(p, pos, end);
}

static int frame_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  return frame_after(p, li, l->off + l->hlen);
}

/* A frame's room: to the end of its payload. */
static size_t frame_room(const sf_pkt *p, const uint8_t *h, size_t n) {
  int li = p ? sf_layer_before(p, h) : -1;
  size_t pos, e, end;
  if (li < 0) return n;
  pos = (size_t)(h - p->data);
  e = payload_end(p, li, &end);
  return e > pos && e - pos < n ? e - pos : n;
}

static size_t frame_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  const sf_proto *pr;
  sf_span sp[SF_MAX_FIELDS];
  int id = frame_proto(h, n);
  if (id < 0) return 0;
  pr = sf_proto_get(id);
  return lay(qdef_of(pr), h, frame_room(p, h, n), sp);
}

/* A run of PADDING frames is one layer. */
static size_t padding_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  static const uint8_t zeros[64];
  size_t room = frame_room(p, h, n), i = 0;
  while (i + 64 <= room && memcmp(h + i, zeros, 64) == 0) i += 64;  /* a run is long */
  while (i < room && h[i] == 0) i++;
  return i;
}

/* CRYPTO: the TLS message its data holds, when it holds a whole one
   from the stream's start (an Initial's ClientHello or ServerHello). */
static int crypto_next(const sf_pkt *p, int li) {
  static int ch, sh;
  const sf_layer *l = &p->layers[li];
  const uint8_t *d = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  sf_span sp[SF_MAX_FIELDS];
  uint64_t offset, length;
  if (!lay(qdef_of(sf_proto_get(l->proto)), p->data + l->off, l->hlen, sp)) return -2;
  offset = span_value(p->data + l->off, &sp[1]);
  length = span_value(p->data + l->off, &sp[2]);
  if (offset != 0 || length < 4 || n < length || 4 + (size_t)be_get(d + 1, 3) != length)
    return -2;
  if (d[0] == 1) return proto_named(&ch, "TLSClientHello");
  if (d[0] == 2) return proto_named(&sh, "TLSServerHello");
  return -2;
}

static size_t crypto_extent(const uint8_t *h, size_t hlen, size_t n) {
  uint64_t off, len;
  size_t a, b, c;
  (void)n;
  if (!(a = var_get(h, hlen, &off)) || !(b = var_get(h + a, hlen - a, &off)) ||
      !(c = var_get(h + a + b, hlen - a - b, &len)))
    return SF_MAX_LEN;
  return hlen + (size_t)(len < SF_MAX_LEN ? len : SF_MAX_LEN);
}

/* After the data, the frames go on. */
static int crypto_after(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t e = crypto_extent(p->data + l->off, l->hlen, 0) - l->hlen + l->off + l->hlen;
  int next = frame_after(p, li, e);
  return next >= 0 ? next : -1;
}

/* CRYPTO's length: what its data layers hold. */
static void crypto_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t e = l->off + l->hlen;
  int j;
  if (!(l->flags & SF_L_BUILT) && crypto_extent(p->data + l->off, l->hlen, 0) + l->off > l->end)
    return;
  for (j = li + 1; j < p->nlayers; j++) {
    int pr = p->layers[j].proto;
    if (is_frame[pr] || is_header[pr] || pr == SF_PADDING) break;
    if (p->layers[j].off + p->layers[j].hlen > e) e = p->layers[j].off + p->layers[j].hlen;
  }
  put_var(p, li, 2, e - l->off - l->hlen);
}

static const sf_field padding_fields[] = {QU("type", 8, 0, SF_FF_HEX), QY("padding", NULL)};
static const sf_field ping_fields[] = {QUE("type", 62, 1, SF_FF_HEX, frame_types)};
static const sf_field ack_fields[] = {
  QUE("type", 62, 2, SF_FF_HEX, frame_types), QV("largest_acknowledged", 0, 0),
  QV("ack_delay", 0, 0), QV("ack_range_count", 0, SF_FF_AUTO), QV("first_ack_range", 0, 0),
  QY("ack_ranges", NULL), QV("ect0_count", 0, 0), QV("ect1_count", 0, 0),
  QV("ecn_ce_count", 0, 0),
};
static const sf_field crypto_fields[] = {
  QUE("type", 62, 6, SF_FF_HEX, frame_types), QV("offset", 0, 0), QV("length", 0, SF_FF_AUTO),
};
static const sf_field close_fields[] = {
  QUE("type", 62, 0x1c, SF_FF_HEX, frame_types), QV("error_code", 0, 0),
  QV("frame_type", 0, 0), QV("reason_length", 0, SF_FF_AUTO), QY("reason_phrase", "text"),
};
static const sf_field frame_fields[] = {
  QUE("type", 62, 0x1e, SF_FF_HEX, frame_types), QY("data", NULL),
};

static const sf_wsfield padding_ws[] = {WS("quic.frame_type", "type"), WSEND};
static const sf_wsfield ack_ws[] = {
  WS("quic.frame_type", "type"), WS("quic.ack.largest_acknowledged", "largest_acknowledged"),
  WS("quic.ack.ack_delay", "ack_delay"), WS("quic.ack.ack_range_count", "ack_range_count"),
  WS("quic.ack.first_ack_range", "first_ack_range"), WSEND
};
static const sf_wsfield crypto_ws[] = {
  WS("quic.frame_type", "type"), WS("quic.crypto.offset", "offset"),
  WS("quic.crypto.length", "length"), WSEND
};
static const sf_wsfield close_ws[] = {
  WS("quic.frame_type", "type"), WS("quic.cc.error_code", "error_code"),
  WS("quic.cc.frame_type", "frame_type"), WS("quic.cc.reason_phrase.length", "reason_length"),
  WS("quic.cc.reason_phrase", "reason_phrase"), WSEND
};

static const uint8_t padding_tmpl[] = {0};
static const uint8_t ping_tmpl[] = {1};
static const uint8_t ack_tmpl[] = {2, 0, 0, 0, 0};
static const uint8_t crypto_tmpl[] = {6, 0, 0};
static const uint8_t close_tmpl[] = {0x1c, 0, 0, 0};
static const uint8_t frame_tmpl[] = {0x1e};

#define FRAME(id_, cls, disp, knd, flds, tmpl, hl, wsf, refs, ...)                \
  static qdef id_ = {                                                            \
    {.name = (cls), .display = (disp), .kind = (knd), .fields = (flds),          \
     .nfields = NFIELDS(flds), .minlen = sizeof(tmpl), .ws_fields = (wsf),       \
     .hdr_len = (hl), .next = frame_next, .dyn = &q_dyn, .deftmpl = (tmpl)},     \
    -1, {__VA_ARGS__}, refs, -1, -1, -1}
#define NOREFS {-1}
#define ACK_REFS {-1, -1, -1, -1, -1, 3, -1, -1, -1}
#define CLOSE_REFS {-1, -1, -1, -1, 3}

FRAME(padding, "QUIC_PADDING", "QUIC - PADDING", "QuicPadding", padding_fields,
      padding_tmpl, padding_len, padding_ws, NOREFS, S_BITS, S_REST);
FRAME(ping, "QUIC_PING", "QUIC - PING", "QuicPing", ping_fields, ping_tmpl, frame_len,
      padding_ws, NOREFS, S_VAR);
FRAME(ack, "QUIC_ACK", "QUIC - ACK", "QuicAck", ack_fields, ack_tmpl, frame_len, ack_ws,
      ACK_REFS, S_VAR, S_VAR, S_VAR, S_VAR, S_VAR, S_RANGES,
      S_ECN, S_ECN, S_ECN);
FRAME(close_, "QUIC_CONNECTION_CLOSE", "QUIC - CONNECTION_CLOSE", "QuicConnectionClose",
      close_fields, close_tmpl, frame_len, close_ws, CLOSE_REFS, S_VAR, S_VAR,
      S_CCFT, S_VAR, S_SIZED);
FRAME(frame, "QUIC_Frame", "QUIC - Frame", "QuicFrame", frame_fields, frame_tmpl,
      frame_len, padding_ws, NOREFS, S_VAR, S_REST);

static qdef crypto = {
  {.name = "QUIC_CRYPTO", .display = "QUIC - CRYPTO", .kind = "QuicCrypto",
   .fields = crypto_fields, .nfields = NFIELDS(crypto_fields), .minlen = sizeof crypto_tmpl,
   .ws_fields = crypto_ws, .hdr_len = frame_len, .extent = crypto_extent,
   .next = crypto_next, .fixup = crypto_fixup, .after = crypto_after, .dyn = &q_dyn,
   .deftmpl = crypto_tmpl},
  -1, {S_VAR, S_VAR, S_VAR}, {-1, -1, -1}, -1, -1, -1
};

/* ---- detection on any port ------------------------------------------------------------------ */

static int quic_heur(const sf_pkt *p, int li, void *ud) {
  const sf_layer *l = &p->layers[li];
  (void)ud;
  return proto_at(p->data + l->off + l->hlen, l->end - l->off - l->hlen, AT_ANY);
}

/* taken by the registry once UDP's file has registered (after this one) */
static const sf_heur_place quic_heurs[] = {{"UDP", quic_heur}, {NULL, NULL}};

/* ---- registration ------------------------------------------------------------------------------- */

static void note_fields(qdef *d) {
  int i;
  d->pn = -1;
  for (i = 0; i < d->pr.nfields; i++)
    if (d->steps[i] == S_PN) d->pn = (int8_t)i;
  d->pnlen = (int8_t)sf_field_find(&d->pr, "PacketNumberLen");
  d->length = (int8_t)sf_field_find(&d->pr, "Length");
}

static int reg_header(qdef *d) {
  int id;
  note_fields(d);
  id = sf_register(&d->pr);
  if (id >= 0) {
    id_kind[d->kind] = id;
    is_header[id] = (uint8_t)(d->kind + 1);
  }
  return id;
}

static int reg_frame(qdef *d) {
  int id;
  note_fields(d);
  id = sf_register(&d->pr);
  if (id >= 0) is_frame[id] = 1;
  return id;
}

SF_PROTO_FILE(quic) {
  aes_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
  initial.pr.heurs = quic_heurs;  /* long headers on any UDP port */
  reg_header(&initial);
  reg_header(&zrtt);
  reg_header(&handshake);
  reg_header(&retry);
  reg_header(&vn);
  reg_header(&shorth);
  id_protected = sf_register(&prot);
  id_padding = reg_frame(&padding);
  id_ping = reg_frame(&ping);
  id_ack = reg_frame(&ack);
  id_crypto = reg_frame(&crypto);
  id_close = reg_frame(&close_);
  id_frame = reg_frame(&frame);
}
