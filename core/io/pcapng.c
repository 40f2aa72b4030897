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
  if (!h)
    return sf_rd_fail(r, off, "truncated section header block (%zu of 12 bytes)",
                      avail);
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

/* The whole block at the cursor, framing checked; SF_IO_EOF at the end. */
static int read_block(sf_reader *r, block *b) {
  size_t avail = 0;
  const uint8_t *h;
  b->off = r->src.off;
  if (!(h = sf_src_peek(&r->src, 8, &avail))) {
    if (r->src.ioerr) return sf_rd_fail(r, b->off + avail, "read error: %s",
                                        strerror(r->src.ioerr));
    if (avail == 0) return SF_IO_EOF;
    return sf_rd_fail(r, b->off, "truncated block header (%zu of 8 bytes)", avail);
  }
  b->type = sf_get32(h, r->big);
  if (b->type == BT_SHB && section_order(r, b->off) != SF_OK) return SF_IO_ERR;
  if (!(h = sf_src_peek(&r->src, 8, &avail))) return SF_IO_ERR;  /* seen */
  b->len = sf_get32(h + 4, r->big);
  if (check_length(r, b) != SF_OK) return SF_IO_ERR;
  if (!(h = sf_src_peek(&r->src, b->len, &avail))) {
    if (r->src.ioerr) return sf_rd_fail(r, b->off + avail, "read error: %s",
                                        strerror(r->src.ioerr));
    return sf_rd_fail(r, b->off, "truncated block of type 0x%08x (%u bytes long, "
                      "%zu present)", b->type, b->len, avail);
  }
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

/* if_tsresol: 10^-n or, with the top bit set, 2^-n seconds. */
static int set_tsresol(sf_reader *r, const block *b, sf_iface *f, uint8_t v) {
  unsigned n = v & 0x7fu, i;
  if (v & 0x80) {
    if (n > 63) return sf_rd_fail(r, b->off, "if_tsresol of 2^-%u is too fine", n);
    f->units = (uint64_t)1 << n;
    f->pow2_exp = (uint8_t)n;
    return SF_OK;
  }
  if (n > 19) return sf_rd_fail(r, b->off, "if_tsresol of 10^-%u is too fine", n);
  for (f->units = 1, i = 0; i < n; i++) f->units *= 10;
  f->pow2_exp = 0;
  return SF_OK;
}

static int idb_options(sf_reader *r, const block *b, sf_iface *f) {
  opt_cursor c = options_at(b, 8);
  uint16_t code, len;
  const uint8_t *v;
  int rc, resol = 0, offset = 0;
  while ((rc = next_option(r, b, &c, &code, &v, &len)) == 1) {
    if (code == OPT_IF_TSRESOL && len >= 1 && !resol++) {
      if (set_tsresol(r, b, f, v[0]) != SF_OK) return SF_IO_ERR;
    } else if (code == OPT_IF_TSOFFSET && len >= 8 && !offset++) {
      f->tsoffset_s = (int64_t)sf_get64(v, r->big);
    }
  }
  return rc == 0 ? SF_OK : SF_IO_ERR;
}

static int on_idb(sf_reader *r, const block *b) {
  sf_iface f = {0, 0, 0, 1000000, 0};
  if (b->blen < 8)
    return sf_rd_fail(r, b->off, "interface description block has a length of "
                      "%u < 20", b->len);
  f.linktype = sf_get16(b->body, r->big);
  f.snaplen = sf_get32(b->body + 4, r->big);
  if (idb_options(r, b, &f) != SF_OK) return SF_IO_ERR;
  return add_iface(r, &f, b->off);
}

/* ---- packet blocks -------------------------------------------------------- */

/* ts / units seconds in ns, rounding down, plus the interface's offset. */
static int64_t ts_ns(const sf_iface *f, uint64_t ts) {
  uint64_t sec = ts / f->units, frac = ts % f->units, ns;
  if (f->units <= 1000000000u && 1000000000u % f->units == 0) {
    ns = frac * (1000000000u / f->units);
  } else if (f->pow2_exp) {  /* frac < 2^n: split to stay within 64 bits */
    unsigned n = f->pow2_exp;
    uint64_t hi = frac >> 32, lo = frac & 0xffffffffu;
    ns = n >= 32 ? ((hi * 1000000000u) >> (n - 32)) + ((lo * 1000000000u) >> n)
                 : (frac * 1000000000u) >> n;
  } else {  /* 10^n, n > 9 */
    ns = frac / (f->units / 1000000000u);
  }
  /* unsigned arithmetic: absurd times wrap instead of overflowing */
  return (int64_t)(sec * 1000000000u + ns + (uint64_t)f->tsoffset_s * 1000000000u);
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
  if (f->snaplen && caplen > f->snaplen && !r->lenient)
    return sf_rd_fail(r, b->off, "packet block has a captured length of %u > the "
                      "interface's snaplen of %u (read it with strict=false)",
                      caplen, f->snaplen);
  return SF_OK;
}

/* The first opt_comment of a packet block, whose options start at start. */
static int packet_comment(sf_reader *r, const block *b, uint32_t start,
                          sf_rec *rec) {
  opt_cursor c = options_at(b, start);
  uint16_t code, len;
  const uint8_t *v;
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
  rec->time_ns = ts_ns(f, (uint64_t)sf_get32(b->body + 4, r->big) << 32 |
                              sf_get32(b->body + 8, r->big));
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
  while ((rc = read_block(r, &b)) == SF_IO_REC) {
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

int sf_pcapng_finish(sf_writer *w) {
  return w->started ? SF_OK : write_shb(w);
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

/* Index of the interface block for the record's (link type, interface),
   writing one when the pair is new; -1 on error. */
static long iface_for(sf_writer *w, const sf_rec *rec) {
  uint32_t i;
  for (i = 0; i < w->nifs; i++)
    if (w->ifs[i].linktype == rec->linktype && w->ifs[i].id == rec->interface_id)
      return i;
  if (w->nifs == w->capifs) {
    uint32_t cap = w->capifs ? w->capifs * 2 : 4;
    void *n = realloc(w->ifs, cap * sizeof *w->ifs);
    if (!n) return sf_wr_fail(w, "not enough memory"), -1;
    w->ifs = n;
    w->capifs = cap;
  }
  if (write_idb(w, rec->linktype) != SF_OK) return -1;
  w->ifs[w->nifs].linktype = rec->linktype;
  w->ifs[w->nifs].id = rec->interface_id;
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
  if ((ifc = iface_for(w, rec)) < 0) return SF_IO_ERR;
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
