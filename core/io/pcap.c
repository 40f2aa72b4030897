/*
 * pcap.c -- the classic libpcap format: a 24-byte file header, then
 * records of a 16-byte header and the captured bytes.  Either byte order,
 * microsecond or nanosecond magic, and the "modified" (Kuznetzov) variant
 * whose record headers carry 8 more bytes.
 *
 * We write little-endian files, microsecond unless asked for nanoseconds.
 */
#include <stdio.h>
#include <string.h>

#include "iopriv.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define MAGIC_KUZ 0xa1b2cd34u  /* "modified" pcap, microseconds */
#define FILE_HDR 24
#define LT_MASK 0x03ffffffu   /* upper bits carry FCS information */
#define DEFAULT_SNAPLEN 262144u

/* ---- reading ----------------------------------------------------------- */

static int known_magic(uint32_t m) {
  return m == MAGIC_US || m == MAGIC_NS || m == MAGIC_KUZ;
}

int sf_pcap_probe(const uint8_t *h, size_t n) {
  return n >= 4 && (known_magic(sf_get32(h, 0)) || known_magic(sf_get32(h, 1)));
}

static int pcap_next(sf_reader *r, sf_rec *rec);

int sf_pcap_open(sf_reader *r) {
  size_t avail = 0;
  const uint8_t *h = sf_src_peek(&r->src, FILE_HDR, &avail);
  uint32_t magic;
  unsigned major, minor;
  if (!h) {
    if (sf_rd_short(r, avail) != SF_OK) return SF_IO_ERR;
    return sf_rd_fail(r, avail, "truncated pcap file header (%zu of %d bytes)",
                      avail, FILE_HDR);
  }
  r->big = known_magic(sf_get32(h, 1));
  magic = sf_get32(h, r->big);
  major = sf_get16(h + 4, r->big);
  minor = sf_get16(h + 6, r->big);
  if (major != 2)
    return sf_rd_fail(r, 4, "unsupported pcap version %u.%u", major, minor);
  r->format = SF_FMT_PCAP;
  r->nano = magic == MAGIC_NS;
  r->kuznetzov = magic == MAGIC_KUZ;
  r->snaplen = sf_get32(h + 16, r->big);
  r->linktype = (int32_t)(sf_get32(h + 20, r->big) & LT_MASK);
  r->next = pcap_next;
  sf_src_advance(&r->src, FILE_HDR);
  return SF_OK;
}

/* Captured lengths above the snaplen: libpcap and tshark read them. */
static int check_snaplen(sf_reader *r, uint64_t off, uint32_t caplen) {
  if (!r->snaplen || caplen <= r->snaplen) return SF_OK;
  return sf_rd_odd(r, off, "packet record has a captured length of %u > the "
                   "file's snaplen of %u", caplen, r->snaplen);
}

/* A fraction of a second of 1 s or more: tshark shows it as it is
   ("1000.1500000000"); we carry it into the seconds (the sum below). */
static int check_fraction(sf_reader *r, uint64_t off, uint32_t frac) {
  if (frac < (r->nano ? 1000000000u : 1000000u)) return SF_OK;
  return sf_rd_odd(r, off, "packet record's fraction of a second is %u %s, "
                   "1 s or more (carried into the seconds)", frac,
                   r->nano ? "ns" : "us");
}

/* The input gave avail bytes of a record at off: the end of the file
   when that is none at a record's start, else damage. */
static int cut_record(sf_reader *r, uint64_t off, size_t avail, int start,
                      const char *what) {
  if (sf_rd_short(r, off + avail) != SF_OK) return SF_IO_ERR;
  if (start && avail == 0) return SF_IO_EOF;
  return sf_rd_fail(r, off, "%s", what);
}

static int pcap_next(sf_reader *r, sf_rec *rec) {
  size_t hl = r->kuznetzov ? 24 : 16, avail = 0;
  uint64_t off = r->src.off;
  const uint8_t *h = sf_src_peek_i(&r->src, hl, &avail);
  uint32_t sec, frac, caplen;
  char what[120];
  if (!h) {
    snprintf(what, sizeof what, "truncated packet record header (%zu of %zu bytes)",
             avail, hl);
    return cut_record(r, off, avail, 1, what);
  }
  caplen = sf_get32(h + 8, r->big);
  if (caplen > SF_IO_MAX_CAPLEN)
    return sf_rd_fail(r, off, "packet record has a captured length of %u > %u, "
                      "the largest accepted", caplen, (unsigned)SF_IO_MAX_CAPLEN);
  if (!(h = sf_src_peek_i(&r->src, hl + caplen, &avail))) {
    snprintf(what, sizeof what, "truncated packet record (%u bytes captured, "
             "%zu present)", caplen, avail - hl);
    return cut_record(r, off, avail, 0, what);
  }
  if (sf_src_settle_i(&r->src, off + hl + caplen) != SF_OK) return sf_rd_cut(r, off);
  sec = sf_get32(h, r->big);
  frac = sf_get32(h + 4, r->big);
  if (check_snaplen(r, off, caplen) != SF_OK || check_fraction(r, off, frac) != SF_OK)
    return SF_IO_ERR;
  rec->data = h + hl;
  rec->caplen = caplen;
  rec->wirelen = sf_get32(h + 12, r->big);
  rec->time_ns = (int64_t)sec * 1000000000 + (int64_t)frac * (r->nano ? 1 : 1000);
  rec->linktype = r->linktype;
  rec->interface_id = 0;
  rec->comment = NULL;
  rec->comment_len = 0;
  rec->offset = off;
  sf_src_advance_i(&r->src, hl + caplen);
  /* the next record's header and first bytes: fetched while the caller
     works on this one (the first touch of each record is a cache miss) */
  __builtin_prefetch(h + hl + caplen);
  __builtin_prefetch(h + hl + caplen + 64);
  return SF_IO_REC;
}

/* ---- splitting (split.c) --------------------------------------------------- */

/* What a real record holds, beyond its framing: some bytes, a fraction
   of a second below 1 s, a captured length within the snaplen and the
   length on the wire, a time near ref's. */
static int plausible(const sf_reader *r, const uint8_t *h, uint32_t caplen,
                     int64_t ref) {
  int64_t sec = sf_get32(h, r->big);
  uint32_t frac = sf_get32(h + 4, r->big);
  return caplen > 0 && frac < (r->nano ? 1000000000u : 1000000u) &&
         (!r->snaplen || caplen <= r->snaplen) && sf_get32(h + 12, r->big) >= caplen &&
         sec - ref < 366 * 86400 && ref - sec < 366 * 86400;
}

int sf_pcap_hop(const sf_reader *r, const uint8_t *d, uint64_t n, uint64_t off,
                const int64_t *ref, int *big, uint64_t *next) {
  uint64_t hl = r->kuznetzov ? 24 : 16;
  uint32_t caplen;
  (void)big;  /* one byte order for the whole file */
  if (off > n || n - off < hl) return SF_HOP_END;
  caplen = sf_get32(d + off + 8, r->big);
  if (caplen > SF_IO_MAX_CAPLEN || n - off - hl < caplen) return SF_HOP_END;
  if (ref && !plausible(r, d + off, caplen, *ref)) return SF_HOP_END;
  *next = off + hl + caplen;
  return SF_HOP_RECORD;
}

/* ---- writing ------------------------------------------------------------- */

static uint32_t snaplen(const sf_writer *w) {
  return w->o.snaplen ? w->o.snaplen : DEFAULT_SNAPLEN;
}

/* Stores in the file's byte order (ours is little-endian; an appended-to
   file keeps its own). */
static void put16o(const sf_writer *w, uint8_t *p, uint16_t v) {
  if (!w->big) sf_put16(p, v);
  else p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put32o(const sf_writer *w, uint8_t *p, uint32_t v) {
  if (!w->big) sf_put32(p, v);
  else put16o(w, p, (uint16_t)(v >> 16)), put16o(w, p + 2, (uint16_t)v);
}

static int write_header(sf_writer *w, int32_t linktype) {
  uint8_t h[FILE_HDR];
  sf_put32(h, w->o.nanosecond ? MAGIC_NS : MAGIC_US);
  sf_put16(h + 4, 2);
  sf_put16(h + 6, 4);
  sf_put32(h + 8, 0);   /* thiszone: times are UTC */
  sf_put32(h + 12, 0);  /* sigfigs */
  sf_put32(h + 16, snaplen(w));
  sf_put32(h + 20, (uint32_t)linktype);
  w->linktype = linktype;
  w->started = 1;
  if (sf_out_put(&w->out, h, sizeof h) != 0)
    return sf_wr_fail(w, "%s", strerror(w->out.err));
  return SF_OK;
}

int sf_pcap_finish(sf_writer *w) {
  if (w->started) return SF_OK;
  return write_header(w, w->o.linktype >= 0 ? w->o.linktype : 1);
}

/* pcap times are unsigned 32-bit seconds: 1970 to 2106. */
static int check_time(sf_writer *w, int64_t t) {
  if (t < 0 || t / 1000000000 > (int64_t)UINT32_MAX)
    return sf_wr_fail(w, "packet %llu: time %lld ns does not fit a pcap file "
                      "(1970..2106; use pcapng)", (unsigned long long)w->count + 1,
                      (long long)t);
  return SF_OK;
}

int sf_pcap_write(sf_writer *w, const sf_rec *rec) {
  uint8_t h[16];
  uint32_t caplen = rec->caplen < snaplen(w) ? rec->caplen : snaplen(w);
  int32_t lt = w->o.linktype >= 0 ? w->o.linktype : rec->linktype;
  int64_t t = rec->time_ns;
  if (!w->started && write_header(w, lt) != SF_OK) return SF_IO_ERR;
  if (lt != w->linktype)
    return sf_wr_fail(w, "packet %llu has link type %d but the file's is %d: a "
                      "pcap file holds one link type (write pcapng to mix them)",
                      (unsigned long long)w->count + 1, (int)lt, (int)w->linktype);
  if (check_time(w, t) != SF_OK) return SF_IO_ERR;
  put32o(w, h, (uint32_t)(t / 1000000000));
  put32o(w, h + 4, (uint32_t)(w->o.nanosecond ? t % 1000000000 : t % 1000000000 / 1000));
  put32o(w, h + 8, caplen);
  put32o(w, h + 12, rec->wirelen > rec->caplen ? rec->wirelen : rec->caplen);
  if (sf_out_put(&w->out, h, sizeof h) != 0 ||
      sf_out_put(&w->out, rec->data, caplen) != 0)
    return sf_wr_fail(w, "%s", strerror(w->out.err));
  return SF_OK;
}
