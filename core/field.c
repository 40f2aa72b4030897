/*
 * field.c -- generic field access over descriptors, and text forms.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

/* ---- bits --------------------------------------------------------------- */

uint64_t sf_getbits(const uint8_t *h, unsigned bitoff, unsigned bits) {
  uint64_t v = 0;
  unsigned first = bitoff >> 3, last = (bitoff + bits - 1) >> 3, i;
  if ((bitoff & 7) == 0 && (bits & 7) == 0) {  /* byte aligned: common */
    for (i = first; i <= last; i++) v = (v << 8) | h[i];
    return v;
  }
  for (i = first; i <= last; i++) v = (v << 8) | h[i];
  v >>= (8 - ((bitoff + bits) & 7)) & 7;
  return bits == 64 ? v : v & ((UINT64_C(1) << bits) - 1);
}

void sf_setbits(uint8_t *h, unsigned bitoff, unsigned bits, uint64_t v) {
  unsigned end = bitoff + bits, i = (end - 1) >> 3;
  unsigned shift = (8 - (end & 7)) & 7;  /* bits right of the field */
  while (bits) {  /* from the last byte backwards */
    unsigned take = 8 - shift < bits ? 8 - shift : bits;
    uint8_t mask = (uint8_t)(((1u << take) - 1) << shift);
    h[i] = (uint8_t)((h[i] & ~mask) | ((v << shift) & mask));
    v >>= take;
    bits -= take;
    shift = 0;
    i--;
  }
}

static void setbytes_be(uint8_t *h, unsigned byteoff, unsigned n, uint64_t v) {
  while (n--) {
    h[byteoff + n] = (uint8_t)v;
    v >>= 8;
  }
}

/* ---- base-128 integers ------------------------------------------------- */

size_t sf_varint_get(const uint8_t *d, size_t n, uint64_t *v) {
  uint64_t x = 0;
  size_t i;
  for (i = 0; i < n && i < 10; i++) {
    x |= (uint64_t)(d[i] & 0x7f) << (7 * i);
    if (!(d[i] & 0x80)) {
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

size_t sf_varint_put(uint64_t v, uint8_t out[10]) {
  size_t i = 0;
  do {
    out[i] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) out[i] |= 0x80;
    i++;
  } while (v);
  return i;
}

uint64_t sf_field_max(const sf_field *f) {
  return f->bits >= 64 ? UINT64_MAX : (UINT64_C(1) << f->bits) - 1;
}

/* ---- descriptor-level access ------------------------------------------- */

static const sf_proto *lproto(const sf_pkt *p, int li) {
  return sf_proto_get(p->layers[li].proto);
}

static void var_span(const sf_pkt *p, int li, int fi, size_t *off,
                     size_t *len) {
  const sf_layer *l = &p->layers[li];
  const sf_proto *pr = lproto(p, li);
  *off = 0;
  *len = 0;
  if (pr->var) pr->var(p->data + l->off, l->hlen, fi, off, len);
  if (*off > l->hlen) *off = l->hlen;  /* a partial (quoted) header */
  if (*len > l->hlen - *off) *len = l->hlen - *off;  /* no overflow */
}

/* A run-time protocol's field, from its layout of this header. */
static int dyn_span(const sf_pkt *p, int li, int fi, size_t *bitoff,
                    size_t *bits) {
  const sf_proto *pr = lproto(p, li);
  const sf_layer *l = &p->layers[li];
  sf_span sp[SF_MAX_FIELDS];
  if (!pr->dyn->layout(pr, p->data + l->off, l->hlen, sp,
                       (l->flags & (SF_L_BUILT | SF_L_TRUNC)) == SF_L_BUILT) &&
      l->hlen != 0)  /* an empty header (a built list with no items yet)
                        lays out: its spans say which fields it has */
    return 0;  /* bytes its layout refuses (a length set past them) */
  if (sp[fi].bits == SF_ABSENT ||
      (size_t)sp[fi].bitoff + sp[fi].bits > (size_t)l->hlen * 8)
    return 0;
  *bitoff = sp[fi].bitoff;
  *bits = sp[fi].bits;
  return 1;
}

/* A field of the trailer (an FCS): from the trailer's start, which is
   the layer's extent less its trailer. */
static int trail_span(const sf_pkt *p, int li, const sf_field *f,
                      size_t *bitoff, size_t *bits) {
  const sf_layer *l = &p->layers[li];
  size_t t = lproto(p, li)->trailer;
  if ((size_t)l->end - l->off < l->hlen + t || f->bitoff + f->bits > t * 8u ||
      (l->flags & SF_L_TRUNC))  /* the capture cut it off */
    return 0;
  *bitoff = ((size_t)l->end - l->off - t) * 8u + f->bitoff;
  *bits = f->bits;
  return 1;
}

/* Where field fi lies in layer li (a variable field's width is its length
   in bytes times 8); 0 when it is not there: a variant without it, or a
   header cut short. */
int sf_field_span(const sf_pkt *p, int li, int fi, size_t *bitoff,
                  size_t *bits) {
  const sf_proto *pr = lproto(p, li);
  const sf_layer *l = &p->layers[li];
  const sf_field *f = &pr->fields[fi];
  if (f->flags & SF_FF_TRAIL) return trail_span(p, li, f, bitoff, bits);
  if (pr->dyn && pr->dyn->layout) return dyn_span(p, li, fi, bitoff, bits);
  if (f->cond && pr->present &&
      !pr->present(p, p->data + l->off, l->hlen, f->cond))
    return 0;
  if (f->type == SF_T_BYTES || (f->flags & (SF_FF_AT | SF_FF_VARINT))) {
    size_t off, len;
    var_span(p, li, fi, &off, &len);
    if (f->flags & SF_FF_AT) {  /* an integer at that place, if it fits */
      if ((size_t)f->bitoff + f->bits > len * 8) return 0;
      *bitoff = off * 8 + f->bitoff;
      *bits = f->bits;
      return 1;
    }
    if ((f->flags & SF_FF_VARINT) && len == 0) return 0;
    *bitoff = off * 8;
    *bits = len * 8;
    return 1;
  }
  if ((size_t)(f->bitoff + f->bits) > l->hlen * 8u) return 0;
  *bitoff = f->bitoff;
  *bits = f->bits;
  return 1;
}

int sf_field_present(const sf_pkt *p, int li, int fi) {
  size_t off, bits;
  return sf_field_span(p, li, fi, &off, &bits);
}

/* A run-time protocol's alternatives from one layout. */
static int dyn_resolve(const sf_pkt *p, int li, int fi) {
  const sf_proto *pr = lproto(p, li);
  const sf_layer *l = &p->layers[li];
  sf_span sp[SF_MAX_FIELDS];
  int f;
  pr->dyn->layout(pr, p->data + l->off, l->hlen, sp,
                  (l->flags & (SF_L_BUILT | SF_L_TRUNC)) == SF_L_BUILT);
  for (f = fi; f >= 0; f = pr->alt[f])
    if (sp[f].bits != SF_ABSENT &&
        (size_t)sp[f].bitoff + sp[f].bits <= (size_t)l->hlen * 8)
      return f;
  return -1;
}

int sf_field_resolve(const sf_pkt *p, int li, int fi) {
  const sf_proto *pr = lproto(p, li);
  int f;
  if (pr->dyn && pr->dyn->layout && pr->alt[fi] >= 0) return dyn_resolve(p, li, fi);
  for (f = fi; f >= 0; f = pr->alt[f])
    if (sf_field_present(p, li, f)) return f;
  return pr->dyn && pr->dyn->set && pr->dyn_adds ? fi : -1;
}

static uint64_t le_value(uint64_t be, unsigned bytes) {
  uint64_t le = 0;
  unsigned i;
  for (i = 0; i < bytes; i++, be >>= 8) le = (le << 8) | (be & 0xff);
  return le;
}

int sf_field_get(const sf_pkt *p, int li, int fi, sf_val *v) {
  const sf_field *f = &lproto(p, li)->fields[fi];
  const uint8_t *h = p->data + p->layers[li].off;
  size_t bitoff, bits;
  if (!sf_field_span(p, li, fi, &bitoff, &bits)) return SF_E_ABSENT;
  v->u = 0;
  v->p = NULL;
  v->n = 0;
  if (f->flags & SF_FF_VARINT)
    return sf_varint_get(h + bitoff / 8u, bits / 8u, &v->u) ? SF_OK : SF_E_ABSENT;
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) {
    v->u = sf_getbits(h, (unsigned)bitoff, (unsigned)bits);
    if (f->flags & SF_FF_LE) v->u = le_value(v->u, (unsigned)bits / 8u);
  } else {  /* addresses and variable bytes */
    v->p = h + bitoff / 8u;
    v->n = bits / 8u;
  }
  return SF_OK;
}

/* Which conditional fields apply now (bit per field). */
static uint64_t present_mask(const sf_pkt *p, int li) {
  const sf_proto *pr = lproto(p, li);
  uint64_t m = 0;
  int i;
  for (i = 0; i < pr->nfields && i < 64; i++)
    if (sf_field_present(p, li, i)) m |= UINT64_C(1) << i;
  return m;
}

static int resize_header(sf_pkt *p, int li) {
  const sf_proto *pr = lproto(p, li);
  sf_layer *l = &p->layers[li];
  size_t want = pr->shape_len(p->data + l->off, l->hlen);
  if (want > l->hlen)
    return sf_pkt_splice(p, li, l->off + l->hlen, 0, NULL, want - l->hlen);
  if (want < l->hlen)
    return sf_pkt_splice(p, li, l->off + want, l->hlen - want, NULL, 0);
  return SF_OK;
}

/* A new variant (ICMP type, say): resize the header and give the fields
   that now apply their defaults, keeping those that applied before. */
static int reshape(sf_pkt *p, int li, uint64_t before) {
  const sf_proto *pr = lproto(p, li);
  uint64_t now;
  int i, rc;
  if (!pr->shape_len) return SF_OK;
  if ((rc = resize_header(p, li)) != SF_OK) return rc;
  now = present_mask(p, li) & ~before;
  for (i = 0; i < pr->nfields && i < 64; i++)
    if (((now >> i) & 1) && !sf_isset(p, li, i) &&
        pr->fields[i].type != SF_T_BYTES &&
        (rc = sf_field_default(p, li, i)) != SF_OK)
      return rc;
  return SF_OK;
}

/* Variable bytes: splice them in, padded as the field asks. */
static int set_var(sf_pkt *p, int li, int fi, const sf_val *v,
                   size_t bitoff, size_t bits) {
  const sf_field *f = &lproto(p, li)->fields[fi];
  size_t n = v->n, padded = v->n;
  uint8_t stackbuf[256], *tmp = stackbuf;
  int rc;
  if (f->pad > 1) padded = (n + f->pad - 1) / f->pad * f->pad;
  if (f->bits) {  /* a fixed-length field: cut, or padded with NULs */
    if (n > f->bits / 8u) n = f->bits / 8u;
    padded = f->bits / 8u;
  }
  if (padded > sizeof stackbuf && !(tmp = malloc(padded))) return SF_E_NOMEM;
  memcpy(tmp, v->p, n);
  memset(tmp + n, 0, padded - n);  /* zero padding, as Scapy's EOL padding */
  rc = sf_pkt_splice(p, li, p->layers[li].off + bitoff / 8u, bits / 8u, tmp,
                     padded);
  if (tmp != stackbuf) free(tmp);
  return rc;
}

/* A base-128 integer in place of the bytes [bitoff, bitoff + bits) of
   layer li: the header grows or shrinks with its length. */
static int put_varint(sf_pkt *p, int li, size_t bitoff, size_t bits,
                      uint64_t u) {
  uint8_t enc[10];
  size_t n = sf_varint_put(u, enc);
  return sf_pkt_splice(p, li, p->layers[li].off + bitoff / 8u, bits / 8u, enc, n);
}

/* Does v fit the integer field f? */
static int fits(const sf_field *f, uint64_t u) {
  if (f->flags & SF_FF_SIGNED) {
    int64_t s = (int64_t)u, lim = f->bits >= 64 ? INT64_MAX : (INT64_C(1) << (f->bits - 1)) - 1;
    return s <= lim && s >= -lim - 1;
  }
  return u <= sf_field_max(f);
}

static void put_uint(uint8_t *h, const sf_field *f, size_t bitoff,
                     size_t bits, uint64_t u) {
  u &= sf_field_max(f);  /* two's complement of signed values */
  if (!(f->flags & SF_FF_LE) && (bitoff & 7) == 0 && bits <= 16) {
    h += bitoff / 8u;  /* the usual 8- and 16-bit fields, without a loop */
    if (bits == 8) { h[0] = (uint8_t)u; return; }
    if (bits == 16) { h[0] = (uint8_t)(u >> 8); h[1] = (uint8_t)u; return; }
    h -= bitoff / 8u;
  }
  if (f->flags & SF_FF_LE) {
    unsigned i;
    for (i = 0; i < bits / 8u; i++) h[bitoff / 8u + i] = (uint8_t)(u >> (8 * i));
  } else if ((bitoff & 7) == 0 && (bits & 7) == 0) {
    setbytes_be(h, (unsigned)bitoff / 8u, (unsigned)bits / 8u, u);
  } else {
    sf_setbits(h, (unsigned)bitoff, (unsigned)bits, u);
  }
}

/* A run-time protocol lays its header out again from its values (and
   says whether the field is there). */
static int set_dyn(sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_proto *pr = lproto(p, li);
  int rc = sf_pkt_writable(p);
  if (rc == SF_OK) rc = pr->dyn->set(pr, p, li, fi, v);
  if (rc == SF_OK) p->flags |= SF_P_DIRTY;
  return rc;
}

/* Does v fit field f? */
static int value_fits(const sf_field *f, const sf_val *v) {
  if ((f->type == SF_T_UINT || f->type == SF_T_FLAGS) && !fits(f, v->u))
    return SF_E_RANGE;
  if ((f->type == SF_T_MAC || f->type == SF_T_IP4 || f->type == SF_T_IP6) &&
      v->n != f->bits / 8u)
    return SF_E_VALUE;
  return SF_OK;
}

/* The common case, kept short: a field at the same place in every header
   of a protocol defined in C (no layout to ask, no variant to reshape). */
static int set_fixed(sf_pkt *p, int li, int fi, const sf_field *f,
                     const sf_val *v) {
  uint8_t *h;
  int rc;
  if ((size_t)(f->bitoff + f->bits) > p->layers[li].hlen * 8u)
    return SF_E_ABSENT;  /* a header cut short */
  if ((rc = value_fits(f, v)) != SF_OK) return rc;
  if ((!p->store || p->data != p->store) && (rc = sf_pkt_writable(p)) != SF_OK)
    return rc;  /* (bytes in the packet's own store are writable) */
  p->layers[li].set |= UINT64_C(1) << (fi & 63);
  p->flags |= SF_P_DIRTY;
  h = (uint8_t *)p->data + p->layers[li].off;
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS)
    put_uint(h, f, f->bitoff, f->bits, v->u);
  else
    memcpy(h + f->bitoff / 8u, v->p, v->n);
  return SF_OK;
}

/* An integer after variable parts that its header does not hold yet (an
   optional trailing reason code): room is made at its place. */
static int room_for(sf_pkt *p, int li, int fi) {
  const sf_proto *pr = lproto(p, li);
  const sf_field *f = &pr->fields[fi];
  const sf_layer *l = &p->layers[li];
  size_t off, len, need = ((size_t)f->bitoff + f->bits + 7) / 8;
  if (f->cond && pr->present && !pr->present(p, p->data + l->off, l->hlen, f->cond))
    return SF_OK;  /* not this variant's: absent */
  var_span(p, li, fi, &off, &len);
  if (len >= need) return SF_OK;
  return sf_pkt_splice(p, li, l->off + off + len, 0, NULL, need - len);
}

int sf_field_set(sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_proto *pr = lproto(p, li);
  const sf_field *f = &pr->fields[fi];
  uint64_t before = 0;
  size_t bitoff, bits;
  uint8_t *h;
  int rc;
  if (!pr->dyn && !f->cond &&
      !(f->flags & (SF_FF_SHAPE | SF_FF_TRAIL | SF_FF_AT | SF_FF_VARINT)) &&
      f->type != SF_T_BYTES)
    return set_fixed(p, li, fi, f, v);
  if (pr->dyn && pr->dyn->set && !(f->flags & SF_FF_TRAIL)) {
    if ((rc = value_fits(f, v)) == SF_OK && (rc = set_dyn(p, li, fi, v)) == SF_OK)
      p->layers[li].set |= UINT64_C(1) << (fi & 63);
    return rc;
  }
  if ((f->flags & SF_FF_AT) &&
      ((rc = value_fits(f, v)) != SF_OK || (rc = sf_pkt_writable(p)) != SF_OK ||
       (rc = room_for(p, li, fi)) != SF_OK))
    return rc;
  if (!sf_field_span(p, li, fi, &bitoff, &bits)) return SF_E_ABSENT;
  if ((rc = value_fits(f, v)) != SF_OK) return rc;
  p->layers[li].set |= UINT64_C(1) << (fi & 63);
  if ((rc = sf_pkt_writable(p)) != SF_OK) return rc;
  if (f->flags & SF_FF_SHAPE) before = present_mask(p, li);
  p->flags |= SF_P_DIRTY;
  if (f->type == SF_T_BYTES) return set_var(p, li, fi, v, bitoff, bits);
  if (f->flags & SF_FF_VARINT) return put_varint(p, li, bitoff, bits, v->u);
  h = (uint8_t *)p->data + p->layers[li].off;
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS)
    put_uint(h, f, bitoff, bits, v->u);
  else
    memcpy(h + bitoff / 8u, v->p, v->n);
  if (f->flags & SF_FF_SHAPE) return reshape(p, li, before);
  return SF_OK;
}

/* Back to the descriptor's default and automatic again (Scapy's `del`). */
int sf_field_default(sf_pkt *p, int li, int fi) {
  const sf_proto *pr = lproto(p, li);
  const sf_field *f = &pr->fields[fi];
  sf_val v = {0, NULL, 0};
  uint8_t addr[16];
  int rc;
  if (pr->dyn && pr->dyn->set && !(f->flags & SF_FF_TRAIL)) {  /* it knows its defaults */
    p->layers[li].set &= ~(UINT64_C(1) << (fi & 63));  /* automatic again */
    return set_dyn(p, li, fi, NULL);
  }
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) v.u = f->def;
  else if (f->type == SF_T_MAC) { sf_parse_mac(f->defstr, addr); v.p = addr; v.n = 6; }
  else if (f->type == SF_T_IP4) { sf_parse_ip4(f->defstr, addr); v.p = addr; v.n = 4; }
  else if (f->type == SF_T_IP6) { sf_parse_ip6(f->defstr, addr); v.p = addr; v.n = 16; }
  else { v.p = (const uint8_t *)""; v.n = 0; }
  rc = sf_field_set(p, li, fi, &v);
  p->layers[li].set &= ~(UINT64_C(1) << (fi & 63));
  return rc;
}

/* ---- raw accessors used by protocol fixups ---------------------------- */

/* Where an automatic field is, or 0: run-time protocols lay out. */
static int auto_span(const sf_pkt *p, int li, int fi, size_t *bitoff,
                     size_t *bits) {
  const sf_proto *pr = lproto(p, li);
  const sf_field *f = &pr->fields[fi];
  if (f->flags & SF_FF_TRAIL) return trail_span(p, li, f, bitoff, bits);
  if (pr->dyn && pr->dyn->layout) return dyn_span(p, li, fi, bitoff, bits);
  if (f->flags & (SF_FF_AT | SF_FF_VARINT)) return sf_field_span(p, li, fi, bitoff, bits);
  *bitoff = f->bitoff;
  *bits = f->bits;
  return (size_t)(f->bitoff + f->bits) <= p->layers[li].hlen * 8u;
}

uint64_t sf_lget(const sf_pkt *p, int li, int fi) {
  const sf_field *f = &lproto(p, li)->fields[fi];
  size_t bitoff, bits;
  uint64_t v;
  if (!auto_span(p, li, fi, &bitoff, &bits)) return 0;
  if (f->flags & SF_FF_VARINT)
    return sf_varint_get(p->data + p->layers[li].off + bitoff / 8u, bits / 8u, &v) ? v : 0;
  v = sf_getbits(p->data + p->layers[li].off, (unsigned)bitoff, (unsigned)bits);
  return (f->flags & SF_FF_LE) ? le_value(v, (unsigned)bits / 8u) : v;
}

int sf_isset(const sf_pkt *p, int li, int fi) {
  return (p->layers[li].set >> (fi & 63)) & 1;
}

/* Write an automatic value unless the user set the field.  The packet is
   already writable: sf_finalize makes it so.  A base-128 integer may
   change the header's length (its bytes move: hold no pointer into them). */
void sf_lput(sf_pkt *p, int li, int fi, uint64_t v) {
  const sf_proto *pr = lproto(p, li);
  const sf_field *f = &pr->fields[fi];
  size_t bitoff = f->bitoff, bits = f->bits;
  if ((p->layers[li].set >> (fi & 63)) & 1) return;  /* the user's */
  if ((pr->dyn && pr->dyn->layout) || (f->flags & (SF_FF_TRAIL | SF_FF_AT | SF_FF_VARINT))
          ? !auto_span(p, li, fi, &bitoff, &bits)
          : bitoff + bits > p->layers[li].hlen * 8u)
    return;
  if (f->flags & SF_FF_VARINT) {
    put_varint(p, li, bitoff, bits, v);
    return;
  }
  put_uint((uint8_t *)p->data + p->layers[li].off, f, bitoff, bits, v);
}

const sf_prop *sf_prop_find(const sf_proto *pr, const char *name) {
  const sf_prop *pp;
  for (pp = pr->props; pp && pp->name; pp++)
    if (strcmp(pp->name, name) == 0) return pp;
  return NULL;
}

/* ---- text forms ---------------------------------------------------------- */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;  /* ASCII lower case */
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int sf_parse_mac(const char *s, uint8_t out[6]) {
  int i;
  for (i = 0; i < 6; i++, s += 3) {
    int hi = hexval((unsigned char)s[0]), lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
    if (lo < 0 || (i < 5 && s[2] != ':' && s[2] != '-')) return SF_E_VALUE;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return s[-1] ? SF_E_VALUE : SF_OK;
}

/* Dotted decimal as inet_pton takes it (RFC 4001's "dotted quad"): four
   numbers 0-255 without leading zeros, so that the text of an address is
   unique and sf_format_ip4 gives it back.  Spelled out here: this runs
   for every address a built packet gets, and inet_pton costs 3x. */
int sf_parse_ip4(const char *s, uint8_t out[4]) {
  int i;
  for (i = 0; i < 4; i++) {
    unsigned v;
    if (*s < '0' || *s > '9') return SF_E_VALUE;
    v = (unsigned)(*s++ - '0');
    if (v && *s >= '0' && *s <= '9') {
      v = v * 10 + (unsigned)(*s++ - '0');
      if (*s >= '0' && *s <= '9') v = v * 10 + (unsigned)(*s++ - '0');
    }
    if (v > 255 || (*s >= '0' && *s <= '9')) return SF_E_VALUE;
    out[i] = (uint8_t)v;
    if (i < 3 && *s++ != '.') return SF_E_VALUE;
  }
  return *s ? SF_E_VALUE : SF_OK;
}

int sf_parse_ip6(const char *s, uint8_t out[16]) {
  return inet_pton(AF_INET6, s, out) == 1 ? SF_OK : SF_E_VALUE;
}

void sf_format_mac(const uint8_t *m, char out[18]) {
  static const char hx[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 6; i++) {
    out[i * 3] = hx[m[i] >> 4];
    out[i * 3 + 1] = hx[m[i] & 15];
    out[i * 3 + 2] = i < 5 ? ':' : '\0';
  }
}

void sf_format_ip4(const uint8_t *a, char out[16]) {
  int i;
  for (i = 0; i < 4; i++) {
    unsigned v = a[i];
    if (v >= 100) *out++ = (char)('0' + v / 100);
    if (v >= 10) *out++ = (char)('0' + v / 10 % 10);
    *out++ = (char)('0' + v % 10);
    *out++ = i < 3 ? '.' : '\0';
  }
}

/* The longest run of two or more zero words (the first of equal ones):
   its start in *base, its length returned (0: none), as RFC 5952 and
   glibc's inet_ntop choose the one "::" replaces. */
static int zero_run(const unsigned w[8], int *base) {
  int i, cur = -1, len = 0, best = 0;
  *base = -1;
  for (i = 0; i <= 8; i++) {
    if (i < 8 && w[i] == 0) {
      if (cur < 0) cur = i, len = 0;
      len++;
    } else if (cur >= 0) {
      if (len > best) best = len, *base = cur;
      cur = -1;
    }
  }
  if (best < 2) *base = -1;
  return best < 2 ? 0 : best;
}

/* inet_ntop's text, spelled out: summaries and show() format an address
   for every IPv6 packet, and inet_ntop goes through sprintf per word.
   Like glibc's, an address with 96 zero bits (or ::ffff: before 32) ends
   in dotted IPv4. */
void sf_format_ip6(const uint8_t *a, char out[46]) {
  static const char hex[] = "0123456789abcdef";
  unsigned w[8];
  int i, base, len;
  for (i = 0; i < 8; i++) w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
  len = zero_run(w, &base);
  for (i = 0; i < 8; i++) {
    if (base >= 0 && i >= base && i < base + len) {
      if (i == base) *out++ = ':';
      continue;
    }
    if (i) *out++ = ':';
    if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff))) {
      sf_format_ip4(a + 12, out);
      return;
    }
    if (w[i] >= 0x1000) *out++ = hex[w[i] >> 12];
    if (w[i] >= 0x100) *out++ = hex[(w[i] >> 8) & 15];
    if (w[i] >= 0x10) *out++ = hex[(w[i] >> 4) & 15];
    *out++ = hex[w[i] & 15];
  }
  if (base >= 0 && base + len == 8) *out++ = ':';
  *out = '\0';
}

/* Flag names are single letters ("FSRPAUECN") or words joined by '+'. */
static int flags_are_letters(const sf_field *f) {
  const sf_enum *e;
  for (e = f->enums; e && e->name; e++)
    if (!e->name[0] || e->name[1]) return 0;
  return 1;
}

/* The bit named by the n bytes at s (names are NUL-ended, s is not). */
static int flag_bit(const sf_field *f, const char *s, size_t n, uint64_t *bit) {
  const sf_enum *e;
  for (e = f->enums; e && e->name; e++)
    if (e->name[0] == s[0] && strncmp(e->name, s, n) == 0 && !e->name[n]) {
      *bit = UINT64_C(1) << e->value;
      return 1;
    }
  return 0;
}

int sf_parse_flags(const sf_field *f, const char *s, uint64_t *out) {
  uint64_t v = 0, bit;
  char *end;
  if (isdigit((unsigned char)*s)) {
    *out = strtoull(s, &end, 0);
    return *end ? SF_E_VALUE : SF_OK;
  }
  if (flags_are_letters(f)) {
    for (; *s; s++) {
      if (!flag_bit(f, s, 1, &bit)) return SF_E_VALUE;
      v |= bit;
    }
  } else {
    while (*s) {
      size_t n = strcspn(s, "+|, ");
      if (n && !flag_bit(f, s, n, &bit)) return SF_E_VALUE;
      if (n) v |= bit;
      s += n;
      if (*s) s++;
    }
  }
  *out = v;
  return SF_OK;
}

/* Append s to out (n bytes) at w, as snprintf would: cut, NUL ended. */
static size_t put_text(char *out, size_t n, size_t w, const char *s) {
  size_t len = strlen(s);
  if (w < n) {
    size_t k = len < n - w - 1 ? len : n - w - 1;
    memcpy(out + w, s, k);
    out[w + k] = '\0';
  }
  return w + len;
}

/* put_text of a one-letter name */
static size_t put_char(char *out, size_t n, size_t w, char c) {
  if (w + 1 < n) out[w] = c, out[w + 1] = '\0';
  return w + 1;
}

/* Summaries format TCP's flags for every segment: the names are looked
   at only while bits are left, and whether they are letters only when a
   second one comes. */
size_t sf_format_flags(const sf_field *f, uint64_t v, char *out, size_t n) {
  const sf_enum *e;
  size_t w = 0;
  int letters = -1;
  if (n) out[0] = '\0';
  for (e = f->enums; v && e && e->name; e++) {
    if (!((v >> e->value) & 1)) continue;
    if (w && letters < 0) letters = flags_are_letters(f);
    if (w && !letters) w = put_text(out, n, w, "+");
    if (e->name[0] && !e->name[1]) w = put_char(out, n, w, e->name[0]);
    else w = put_text(out, n, w, e->name);
    v &= ~(UINT64_C(1) << e->value);
  }
  if (v) {
    char rest[24];
    snprintf(rest, sizeof rest, "%s0x%llx", w ? "+" : "", (unsigned long long)v);
    w = put_text(out, n, w, rest);
  }
  return w;
}

int sf_enum_value(const sf_field *f, const char *s, uint64_t *out) {
  const sf_enum *e;
  for (e = f->enums; e && e->name; e++)
    if (strcmp(e->name, s) == 0) {
      *out = e->value;
      return SF_OK;
    }
  return SF_E_VALUE;
}

const char *sf_enum_name(const sf_field *f, uint64_t v) {
  const sf_enum *e;
  if (f->type != SF_T_UINT) return NULL;
  for (e = f->enums; e && e->name; e++)
    if (e->value == v) return e->name;
  return NULL;
}

/* Port tables are not names: UDP's dport reads as a number. */
int sf_field_names_table(const sf_proto *pr, int fi) {
  const sf_field *f = &pr->fields[fi];
  if (f->type != SF_T_UINT) return -1;
  if (f->names) return sf_table_find(f->names);
  if (pr->table >= 0 && fi == pr->next_field && pr->next_field2 < 0)
    return pr->table;
  return -1;
}

int sf_field_value_named(const sf_proto *pr, int fi, const char *s,
                         uint64_t *out) {
  int tab, id;
  if (sf_enum_value(&pr->fields[fi], s, out) == SF_OK) return SF_OK;
  tab = sf_field_names_table(pr, fi);
  id = tab >= 0 ? sf_proto_find(s) : -1;
  return id >= 0 && sf_table_value(tab, id, out) ? SF_OK : SF_E_VALUE;
}

/* ---- option lists ------------------------------------------------------- */

int sf_opt_next(const uint8_t *h, size_t n, size_t *pos, int style, sf_opt *o) {
  size_t i = *pos, len;
  if (i >= n) return 0;
  if (style == SF_OPT_IP && h[i] == 0) return 0;  /* end of list */
  if ((style == SF_OPT_IP && h[i] == 1) || (style == SF_OPT_IPV6 && h[i] == 0)) {
    len = 1;  /* no-op, Pad1 */
  } else {
    if (i + 1 >= n) return 0;
    len = style == SF_OPT_IP ? h[i + 1] : (size_t)h[i + 1] + 2;
    if (len < 2) return 0;
  }
  if (len > n - i) return 0;
  o->kind = h[i];
  o->off = i;
  o->len = len;
  *pos = i + len;
  return 1;
}
