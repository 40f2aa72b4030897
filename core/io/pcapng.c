/*
 * pcapng.c -- the pcapng format: a sequence of blocks, each framed by its
 * type and total length (repeated at its end).  A section header block
 * (SHB) starts a section and fixes its byte order; interface description
 * blocks (IDB) declare link types and time resolutions; packets come in
 * enhanced (EPB), simple (SPB) and obsolete (PB) packet blocks.  Every
 * other block is skipped.
 *
 * Reading is a loop over blocks with every length checked against the
 * block before use, in the manner of libpcap's sf-pcapng.c.
 */
#include <stdlib.h>
#include <string.h>

#include "iopriv.h"
#include "sf_version.h"  /* generated: the application name we write */

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u   /* obsolete packet block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BOM 0x1a2b3c4du
#define MAX_BLOCK (SF_IO_MAX_CAPLEN + (1u << 20))

#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

static uint32_t pad4(uint32_t n) { return (n + 3u) & ~3u; }

/* ---- blocks --------------------------------------------------------------- */

typedef struct block {
  uint32_t type, len;
  const uint8_t *body;    /* after type and length */
  uint32_t blen;          /* body length: len - 12 */
  uint64_t off;           /* file offset of the block */
} block;

int sf_pcapng_probe(const uint8_t *h, size_t n) {
  return n >= 4 && sf_get32(h, 0) == BT_SHB;
}

/* A section header's byte-order magic sets the order of its section. */
static int section_order(sf_reader *r, uint64_t off) {
  size_t avail = 0;
  const uint8_t *h = sf_src_peek(&r->src, 12, &avail);
  if (!h) {
    if (sf_rd_short(r, off + avail) != SF_OK) return SF_IO_ERR;
    return sf_rd_fail(r, off, "truncated section header block (%zu of 12 bytes)",
                      avail);
  }
  if (sf_get32(h + 8, 0) == BOM) r->big = 0;
  else if (sf_get32(h + 8, 1) == BOM) r->big = 1;
  else
    return sf_rd_fail(r, off, "section header block has a bad byte-order magic "
                      "0x%08x", sf_get32(h + 8, 1));
  return SF_OK;
}

static int check_length(sf_reader *r, const block *b) {
  if (b->len < 12)
    return sf_rd_fail(r, b->off, "block of type 0x%08x has a length of %u < 12",
                      b->type, b->len);
  if (b->len % 4)
    return sf_rd_fail(r, b->off, "block of type 0x%08x has a length of %u, "
                      "not a multiple of 4", b->type, b->len);
  if (b->len > MAX_BLOCK)
    return sf_rd_fail(r, b->off, "block of type 0x%08x has a length of %u > %u",
                      b->type, b->len, MAX_BLOCK);
  return SF_OK;
}

/* The input gave avail bytes of a block at off: the end of the file when
   that is none at a block's start, else damage. */
static int cut_block(sf_reader *r, const block *b, size_t avail, int start) {
  if (sf_rd_short(r, b->off + avail) != SF_OK) return SF_IO_ERR;
  if (start && avail == 0) return SF_IO_EOF;
  if (start)
    return sf_rd_fail(r, b->off, "truncated block header (%zu of 8 bytes)", avail);
  return sf_rd_fail(r, b->off, "truncated block of type 0x%08x (%u bytes long, "
                    "%zu present)", b->type, b->len, avail);
}

/* The whole block at the cursor, framing checked; SF_IO_EOF at the end. */
static int read_block(sf_reader *r, block *b) {
  size_t avail = 0;
  const uint8_t *h;
  b->off = r->src.off;
  if (!(h = sf_src_peek(&r->src, 8, &avail))) return cut_block(r, b, avail, 1);
  if (sf_src_settle_i(&r->src, b->off + 8) != SF_OK) return sf_rd_cut(r, b->off);
  b->type = sf_get32(h, r->big);
  if (b->type == BT_SHB && section_order(r, b->off) != SF_OK) return SF_IO_ERR;
  if (!(h = sf_src_peek(&r->src, 8, &avail))) return SF_IO_ERR;  /* seen */
  b->len = sf_get32(h + 4, r->big);
  if (check_length(r, b) != SF_OK) return SF_IO_ERR;
  if (!(h = sf_src_peek(&r->src, b->len, &avail))) return cut_block(r, b, avail, 0);
  if (sf_src_settle_i(&r->src, b->off + b->len) != SF_OK) return sf_rd_cut(r, b->off);
  if (sf_get32(h + b->len - 4, r->big) != b->len)
    return sf_rd_fail(r, b->off, "block of type 0x%08x has a trailing length of "
                      "%u != its leading length of %u", b->type,
                      sf_get32(h + b->len - 4, r->big), b->len);
  b->body = h + 8;
  b->blen = b->len - 12;
  sf_src_advance(&r->src, b->len);
  return SF_IO_REC;
}

/* ---- options -------------------------------------------------------------- */

typedef struct opt_cursor {
  const uint8_t *p;
  uint32_t left;
} opt_cursor;

/* Next option: 1 with code/value/len, 0 at the end, SF_IO_ERR if it
   overruns the block. */
static int next_option(sf_reader *r, const block *b, opt_cursor *c,
                       uint16_t *code, const uint8_t **val, uint16_t *len) {
  if (c->left < 4) return 0;  /* options may be absent or end unmarked */
  *code = sf_get16(c->p, r->big);
  *len = sf_get16(c->p + 2, r->big);
  if (*code == OPT_END) return 0;
  if (pad4(*len) > c->left - 4)
    return sf_rd_fail(r, b->off, "option %u of a block of type 0x%08x has a "
                      "length of %u but only %u bytes remain", *code, b->type,
                      *len, c->left - 4);
  *val = c->p + 4;
  c->p += 4 + pad4(*len);
  c->left -= 4 + pad4(*len);
  return 1;
}

static opt_cursor options_at(const block *b, uint32_t start) {
  opt_cursor c = {b->body + start, start <= b->blen ? b->blen - start : 0};
  return c;
}

/* ---- section and interface blocks ----------------------------------------- */

static int on_shb(sf_reader *r, const block *b) {
  unsigned major, minor;
  if (b->blen < 16)
    return sf_rd_fail(r, b->off, "section header block has a length of %u < 28",
                      b->len);
  major = sf_get16(b->body + 4, r->big);
  minor = sf_get16(b->body + 6, r->big);
  if (major != 1)
    return sf_rd_fail(r, b->off, "unsupported pcapng version %u.%u", major, minor);
  r->id_base += r->nifaces;  /* interface numbers restart per section */
  r->nifaces = 0;
  return SF_OK;
}

static int add_iface(sf_reader *r, const sf_iface *f, uint64_t off) {
  if (r->nifaces == r->capifaces) {
    uint32_t cap = r->capifaces ? r->capifaces * 2 : 4;
    sf_iface *n = realloc(r->ifaces, cap * sizeof *n);
    if (!n || cap > (1u << 20))
      return sf_rd_fail(r, off, "too many interfaces (%u)", r->nifaces);
    r->ifaces = n;
    r->capifaces = cap;
  }
  r->ifaces[r->nifaces++] = *f;
  if (r->linktype < 0) {
    r->linktype = f->linktype;
    r->snaplen = f->snaplen;
  }
  return SF_OK;
}

/* if_tsresol: 10^-n or, with the top bit set, 2^-n seconds; any n (the
   finest make every 64-bit time less than a second, exactly). */
static void set_tsresol(sf_iface *f, uint8_t v) {
  unsigned n = v & 0x7fu, i;
  f->exp = (uint8_t)n;
  f->pow2 = (v & 0x80) != 0;
  if (f->pow2) {
    f->units = n < 64 ? (uint64_t)1 << n : 0;
    return;
  }
  for (f->units = 1, i = 0; i < n && f->units; i++)
    f->units = f->units <= UINT64_MAX / 10 ? f->units * 10 : 0;
}

static int idb_options(sf_reader *r, const block *b, sf_iface *f) {
  opt_cursor c = options_at(b, 8);
  uint16_t code, len;
  const uint8_t *v = NULL;
  int rc, resol = 0, offset = 0;
  while ((rc = next_option(r, b, &c, &code, &v, &len)) == 1) {
    if (code == OPT_IF_TSRESOL && len >= 1 && !resol++) {
      set_tsresol(f, v[0]);
    } else if (code == OPT_IF_TSOFFSET && len >= 8 && !offset++) {
      f->tsoffset_s = (int64_t)sf_get64(v, r->big);
    }
  }
  return rc == 0 ? SF_OK : SF_IO_ERR;
}

static int on_idb(sf_reader *r, const block *b) {
  sf_iface f = {0, 0, 0, 1000000, 6, 0};
  if (b->blen < 8)
    return sf_rd_fail(r, b->off, "interface description block has a length of "
                      "%u < 20", b->len);
  f.linktype = sf_get16(b->body, r->big);
  f.snaplen = sf_get32(b->body + 4, r->big);
  if (idb_options(r, b, &f) != SF_OK) return SF_IO_ERR;
  return add_iface(r, &f, b->off);
}

/* ---- packet blocks -------------------------------------------------------- */

/* Whole seconds plus the interface's offset, in 64 bits; -1 when the
   sum is past 2^63 s. */
static int seconds(uint64_t sec, int64_t off, int64_t *out) {
  uint64_t back;
  if (off >= 0) {
    if (sec > (uint64_t)INT64_MAX - (uint64_t)off) return -1;
    *out = (int64_t)(sec + (uint64_t)off);
    return 0;
  }
  back = (uint64_t)-(off + 1) + 1;  /* |off|, without overflowing */
  if (sec >= back) {
    if (sec - back > (uint64_t)INT64_MAX) return -1;
    *out = (int64_t)(sec - back);
  } else {
    *out = back - sec == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)(back - sec);
  }
  return 0;
}

/* floor(x * 10^9 / 2^n) for x < 2^64, any n: split x to stay in 64 bits
   (each half's product is below 2^62). */
static uint64_t ns_of_pow2(uint64_t x, unsigned n) {
  uint64_t hi = (x >> 32) * 1000000000u, lo = (x & 0xffffffffu) * 1000000000u;
  if (n <= 32) return (hi << (32 - n)) + (lo >> n);
  return (n - 32 < 64 ? hi >> (n - 32) : 0) + (n < 64 ? lo >> n : 0);
}

/* The fraction of a second frac (< units) is, in ns, rounding down. */
static uint64_t fraction_ns(const sf_iface *f, uint64_t frac) {
  uint64_t div = 1;
  unsigned i;
  if (f->pow2) return ns_of_pow2(frac, f->exp);
  if (f->exp <= 9) {
    for (i = f->exp; i < 9; i++) div *= 10;
    return frac * div;
  }
  for (i = 9; i < f->exp && div; i++)  /* 10^(n-9), 0 when past 64 bits */
    div = div <= UINT64_MAX / 10 ? div * 10 : 0;
  return div ? frac / div : 0;
}

/* ts / units seconds plus the interface's offset, in ns since the epoch.
   SF_OK, or a counted warning (an error when strict) when that is outside
   what 64-bit nanoseconds hold (1677 to 2262): then the nearest end. */
static int ts_ns(sf_reader *r, const block *b, const sf_iface *f, uint64_t ts,
                 int64_t *out) {
  uint64_t sec = f->units ? ts / f->units : 0, frac = f->units ? ts % f->units : ts;
  int64_t s = 1, t;
  if (seconds(sec, f->tsoffset_s, &s) == 0 &&
      !__builtin_mul_overflow(s, (int64_t)1000000000, &t) &&
      !__builtin_add_overflow(t, (int64_t)fraction_ns(f, frac), &t)) {
    *out = t;
    return SF_OK;
  }
  *out = s < 0 ? INT64_MIN : INT64_MAX;  /* seconds() fails only upwards */
  return sf_rd_odd(r, b->off, "packet block's time (%llu units of %s^-%u s, "
                   "if_tsoffset %lld s) is outside the years 1677 to 2262 that "
                   "sflua holds; it reads as %s", (unsigned long long)ts,
                   f->pow2 ? "2" : "10", f->exp, (long long)f->tsoffset_s,
                   *out < 0 ? "1677-09-21" : "2262-04-11");
}

static const sf_iface *packet_iface(sf_reader *r, const block *b, uint32_t id) {
  if (id < r->nifaces) return &r->ifaces[id];
  if (r->nifaces == 0)
    sf_rd_fail(r, b->off, "packet block of type 0x%08x before any interface "
               "description block", b->type);
  else
    sf_rd_fail(r, b->off, "packet block refers to interface %u but the section "
               "has %u", id, r->nifaces);
  return NULL;
}

static int check_caplen(sf_reader *r, const block *b, const sf_iface *f,
                        uint32_t caplen, uint32_t room) {
  if (caplen > room)
    return sf_rd_fail(r, b->off, "packet block has a captured length of %u but "
                      "only %u bytes of data", caplen, room);
  if (caplen > SF_IO_MAX_CAPLEN)
    return sf_rd_fail(r, b->off, "packet block has a captured length of %u > %u, "
                      "the largest accepted", caplen, (unsigned)SF_IO_MAX_CAPLEN);
  if (f->snaplen && caplen > f->snaplen)
    return sf_rd_odd(r, b->off, "packet block has a captured length of %u > the "
                     "interface's snaplen of %u", caplen, f->snaplen);
  return SF_OK;
}

/* The first opt_comment of a packet block, whose options start at start. */
static int packet_comment(sf_reader *r, const block *b, uint32_t start,
                          sf_rec *rec) {
  opt_cursor c = options_at(b, start);
  uint16_t code, len;
  const uint8_t *v = NULL;
  int rc;
  rec->comment = NULL;
  rec->comment_len = 0;
  while ((rc = next_option(r, b, &c, &code, &v, &len)) == 1)
    if (code == OPT_COMMENT && !rec->comment) {
      rec->comment = (const char *)v;
      rec->comment_len = len;
    }
  return rc == 0 ? SF_OK : SF_IO_ERR;
}

/* EPB: interface, time (2 x 32 bits), caplen, wirelen, data, options.
   PB (obsolete): the same with a 16-bit interface and a drop count. */
static int on_epb(sf_reader *r, const block *b, sf_rec *rec) {
  int obsolete = b->type == BT_PB;
  uint32_t id, caplen;
  const sf_iface *f;
  if (b->blen < 20)
    return sf_rd_fail(r, b->off, "packet block of type 0x%08x has a length of "
                      "%u < 32", b->type, b->len);
  id = obsolete ? sf_get16(b->body, r->big) : sf_get32(b->body, r->big);
  if (!(f = packet_iface(r, b, id))) return SF_IO_ERR;
  caplen = sf_get32(b->body + 12, r->big);
  if (check_caplen(r, b, f, caplen, b->blen - 20) != SF_OK) return SF_IO_ERR;
  rec->data = b->body + 20;
  rec->caplen = caplen;
  rec->wirelen = sf_get32(b->body + 16, r->big);
  if (ts_ns(r, b, f, (uint64_t)sf_get32(b->body + 4, r->big) << 32 |
                        sf_get32(b->body + 8, r->big), &rec->time_ns) != SF_OK)
    return SF_IO_ERR;
  rec->linktype = f->linktype;
  rec->interface_id = r->id_base + id;
  rec->offset = b->off;
  return packet_comment(r, b, 20 + pad4(caplen), rec);
}

/* SPB: wirelen and data; interface 0, captured up to its snaplen, no time. */
static int on_spb(sf_reader *r, const block *b, sf_rec *rec) {
  const sf_iface *f;
  uint32_t caplen;
  if (b->blen < 4)
    return sf_rd_fail(r, b->off, "simple packet block has a length of %u < 16",
                      b->len);
  if (!(f = packet_iface(r, b, 0))) return SF_IO_ERR;
  rec->wirelen = sf_get32(b->body, r->big);
  caplen = rec->wirelen;
  if (f->snaplen && caplen > f->snaplen) caplen = f->snaplen;
  if (check_caplen(r, b, f, caplen, b->blen - 4) != SF_OK) return SF_IO_ERR;
  rec->data = b->body + 4;
  rec->caplen = caplen;
  rec->time_ns = 0;
  rec->linktype = f->linktype;
  rec->interface_id = r->id_base;
  rec->comment = NULL;
  rec->comment_len = 0;
  rec->offset = b->off;
  return SF_OK;
}

static int pcapng_next(sf_reader *r, sf_rec *rec) {
  block b;
  int rc;
  for (;;) {
    if (r->src.off >= r->stop) return SF_IO_EOF;  /* the end of a slice */
    if ((rc = read_block(r, &b)) != SF_IO_REC) break;
    switch (b.type) {
      case BT_EPB: case BT_PB:
        return on_epb(r, &b, rec) == SF_OK ? SF_IO_REC : SF_IO_ERR;
      case BT_SPB:
        return on_spb(r, &b, rec) == SF_OK ? SF_IO_REC : SF_IO_ERR;
      case BT_IDB: rc = on_idb(r, &b); break;
      case BT_SHB: rc = on_shb(r, &b); break;
      default: rc = SF_OK;  /* name resolution, statistics, custom, ... */
    }
    if (rc != SF_OK) return SF_IO_ERR;
  }
  return rc;
}

int sf_pcapng_open(sf_reader *r) {
  block b;
  int rc = read_block(r, &b);  /* the probe saw an SHB type */
  if (rc != SF_IO_REC) return SF_IO_ERR;
  if (on_shb(r, &b) != SF_OK) return SF_IO_ERR;
  r->format = SF_FMT_PCAPNG;
  r->next = pcapng_next;
  return SF_OK;
}

/* ---- splitting (split.c) --------------------------------------------------- */

static int hop_kind(uint32_t type) {
  switch (type) {
    case BT_EPB: case BT_SPB: case BT_PB: return SF_HOP_RECORD;
    case BT_SHB: return SF_HOP_SECTION;
    case BT_IDB: return SF_HOP_IFACE;
    default: return SF_HOP_OTHER;
  }
}

/* A section header's byte order, from its magic at off + 8; -1 neither. */
static int bom_order(const uint8_t *d, uint64_t n, uint64_t off) {
  if (n - off < 12) return -1;
  if (sf_get32(d + off + 8, 0) == BOM) return 0;
  if (sf_get32(d + off + 8, 1) == BOM) return 1;
  return -1;
}

int sf_pcapng_hop(const sf_reader *r, const uint8_t *d, uint64_t n, uint64_t off,
                  const int64_t *ref, int *big, uint64_t *next) {
  uint32_t type, len;
  int order = *big;
  (void)r;
  (void)ref;  /* the trailing length is check enough */
  if (off > n || n - off < 12 || off % 4) return SF_HOP_END;
  type = sf_get32(d + off, order);
  if (type == BT_SHB && (order = bom_order(d, n, off)) < 0) return SF_HOP_END;
  len = sf_get32(d + off + 4, order);
  if (len < 12 || len % 4 || len > MAX_BLOCK || n - off < len ||
      sf_get32(d + off + len - 4, order) != len)
    return SF_HOP_END;
  *big = order;
  *next = off + len;
  return hop_kind(type);
}

int sf_reader_prime(sf_reader *r) {
  const sf_map *m = r->src.map;
  int big = r->big;
  uint64_t next;
  if (r->format != SF_FMT_PCAPNG || !m || r->failed) return r->failed ? SF_IO_ERR : SF_OK;
  for (;;) {
    int kind = sf_pcapng_hop(r, m->base, m->size, r->src.off, NULL, &big, &next);
    if (kind == SF_HOP_END || kind == SF_HOP_RECORD) return SF_OK;
    if (sf_pcapng_replay(r, r->src.off) != SF_OK) return SF_IO_ERR;
  }
}

int sf_pcapng_replay(sf_reader *r, uint64_t off) {
  block b;
  r->src.off = off;
  if (read_block(r, &b) != SF_IO_REC) return SF_IO_ERR;
  if (b.type == BT_SHB) return on_shb(r, &b);
  if (b.type == BT_IDB) return on_idb(r, &b);
  return SF_OK;
}

/* ---- writing ------------------------------------------------------------ */

static int put(sf_writer *w, const void *d, size_t n) {
  if (sf_out_put(&w->out, d, n) != 0)
    return sf_wr_fail(w, "%s", strerror(w->out.err));
  return SF_OK;
}

static int put_padding(sf_writer *w, size_t n) {
  static const uint8_t zero[4];
  return (n % 4) ? put(w, zero, 4 - n % 4) : SF_OK;
}

/* SHB: byte-order magic, version 1.0, unknown section length, our name. */
static int write_shb(sf_writer *w) {
  static const char appl[] = "sflua " SF_VERSION;
  uint32_t alen = (uint32_t)sizeof appl - 1, len = 28 + 4 + pad4(alen) + 4;
  uint8_t h[32];
  sf_put32(h, BT_SHB);
  sf_put32(h + 4, len);
  sf_put32(h + 8, BOM);
  sf_put16(h + 12, 1);
  sf_put16(h + 14, 0);
  memset(h + 16, 0xff, 8);  /* section length: not given */
  sf_put16(h + 24, OPT_SHB_USERAPPL);
  sf_put16(h + 26, (uint16_t)alen);
  if (put(w, h, 28) != SF_OK || put(w, appl, alen) != SF_OK ||
      put_padding(w, alen) != SF_OK)
    return SF_IO_ERR;
  memset(h, 0, 4);      /* opt_endofopt */
  sf_put32(h + 4, len);
  w->started = 1;
  return put(w, h, 8);
}

/* An empty file still gets its section header; nothing is added to a
   file appended to. */
int sf_pcapng_finish(sf_writer *w) {
  return w->started || w->appending ? SF_OK : write_shb(w);
}

/* IDB with if_tsresol when writing nanoseconds (microseconds is the default). */
static int write_idb(sf_writer *w, int32_t linktype) {
  uint8_t h[32];
  uint32_t len = w->o.nanosecond ? 32 : 20;
  if (linktype < 0 || linktype > 0xffff)
    return sf_wr_fail(w, "link type %d does not fit a pcapng interface block",
                      (int)linktype);
  sf_put32(h, BT_IDB);
  sf_put32(h + 4, len);
  sf_put16(h + 8, (uint16_t)linktype);
  sf_put16(h + 10, 0);
  sf_put32(h + 12, w->o.snaplen);
  if (w->o.nanosecond) {
    sf_put16(h + 16, OPT_IF_TSRESOL);
    sf_put16(h + 18, 1);
    sf_put32(h + 20, 9);      /* 10^-9, padded */
    sf_put32(h + 24, OPT_END);
  }
  sf_put32(h + len - 4, len);
  return put(w, h, len);
}

/* Index of the interface block for a (link type, interface) pair,
   writing one when the pair is new; -1 on error.  Built packets are all
   interface 0: one block per link type. */
static long iface_for(sf_writer *w, int32_t linktype, uint32_t id) {
  uint32_t i;
  for (i = 0; i < w->nifs; i++)
    if (w->ifs[i].linktype == linktype && w->ifs[i].id == id) return i;
  if (w->nifs == w->capifs) {
    uint32_t cap = w->capifs ? w->capifs * 2 : 4;
    void *n = realloc(w->ifs, cap * sizeof *w->ifs);
    if (!n) return sf_wr_fail(w, "not enough memory"), -1;
    w->ifs = n;
    w->capifs = cap;
  }
  if (write_idb(w, linktype) != SF_OK) return -1;
  w->ifs[w->nifs].linktype = linktype;
  w->ifs[w->nifs].id = id;
  return w->nifs++;
}

static int check_record(sf_writer *w, const sf_rec *rec, uint32_t caplen) {
  if (rec->time_ns < 0)
    return sf_wr_fail(w, "packet %llu: time %lld ns is before 1970",
                      (unsigned long long)w->count + 1, (long long)rec->time_ns);
  if (rec->comment_len > 0xffff)
    return sf_wr_fail(w, "packet %llu: comment of %zu bytes is longer than 65535",
                      (unsigned long long)w->count + 1, rec->comment_len);
  if (caplen > MAX_BLOCK - 0x20000)
    return sf_wr_fail(w, "packet %llu is too large (%u bytes)",
                      (unsigned long long)w->count + 1, caplen);
  return SF_OK;
}

static int put_comment(sf_writer *w, const sf_rec *rec) {
  uint8_t h[4];
  if (!rec->comment_len) return SF_OK;
  sf_put16(h, OPT_COMMENT);
  sf_put16(h + 2, (uint16_t)rec->comment_len);
  if (put(w, h, 4) != SF_OK || put(w, rec->comment, rec->comment_len) != SF_OK)
    return SF_IO_ERR;
  return put_padding(w, rec->comment_len);
}

int sf_pcapng_write(sf_writer *w, const sf_rec *rec) {
  uint8_t h[28];
  uint32_t caplen = rec->caplen, optlen, len;
  uint64_t ts;
  long ifc;
  if (w->o.snaplen && caplen > w->o.snaplen) caplen = w->o.snaplen;
  if (check_record(w, rec, caplen) != SF_OK) return SF_IO_ERR;
  if (!w->started && write_shb(w) != SF_OK) return SF_IO_ERR;
  if ((ifc = iface_for(w, w->o.linktype >= 0 ? w->o.linktype : rec->linktype,
                      rec->interface_id)) < 0)
    return SF_IO_ERR;
  optlen = rec->comment_len ? 4 + pad4((uint32_t)rec->comment_len) + 4 : 0;
  len = 32 + pad4(caplen) + optlen;
  ts = (uint64_t)rec->time_ns / (w->o.nanosecond ? 1u : 1000u);
  sf_put32(h, BT_EPB);
  sf_put32(h + 4, len);
  sf_put32(h + 8, (uint32_t)ifc);
  sf_put32(h + 12, (uint32_t)(ts >> 32));
  sf_put32(h + 16, (uint32_t)ts);
  sf_put32(h + 20, caplen);
  sf_put32(h + 24, rec->wirelen > rec->caplen ? rec->wirelen : rec->caplen);
  if (put(w, h, 28) != SF_OK || put(w, rec->data, caplen) != SF_OK ||
      put_padding(w, caplen) != SF_OK || put_comment(w, rec) != SF_OK)
    return SF_IO_ERR;
  memset(h, 0, 4);
  sf_put32(h + 4, len);
  return optlen ? put(w, h, 8) : put(w, h + 4, 4);
}
