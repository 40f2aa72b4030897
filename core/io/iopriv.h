/*
 * iopriv.h -- what the capture formats share: the byte source (a mapping
 * or a stream), the reader's state, error reporting and the output buffer.
 */
#ifndef SF_IOPRIV_H
#define SF_IOPRIV_H

#include <stdarg.h>

#include "io.h"

/* ---- byte sources ------------------------------------------------------- */

struct sf_map {
  uint32_t refs;
  int mapped;             /* munmap on release (else memory not ours) */
  const uint8_t *base;
  size_t size;
};

typedef struct sf_src {
  char *name;             /* for messages */
  sf_map *map;            /* whole input in memory; NULL when streaming */
  int fd, own_fd;
  void *gz;               /* gzFile when the stream is gzip-compressed */
  uint8_t *buf;           /* stream window: bytes [lo, hi) not yet consumed */
  size_t cap, lo, hi;
  uint64_t off;           /* file offset of the cursor */
  int ioerr;              /* errno of a failed read, 0 none */
} sf_src;

/* n bytes at the cursor without consuming them; NULL when fewer than n
   remain (*avail says how many).  Valid until the next peek. */
const uint8_t *sf_src_peek(sf_src *s, size_t n, size_t *avail);
void sf_src_advance(sf_src *s, size_t n);  /* n <= the last peek's n */

/* The same, inline for a mapped source: what each record of a capture
   read in place costs. */
static inline const uint8_t *sf_src_peek_i(sf_src *s, size_t n, size_t *avail) {
  if (s->map && s->map->size - (size_t)s->off >= n) return s->map->base + s->off;
  return sf_src_peek(s, n, avail);
}

static inline void sf_src_advance_i(sf_src *s, size_t n) {
  if (!s->map) s->lo += n;
  s->off += n;
}

/* ---- readers ------------------------------------------------------------ */

typedef struct sf_iface {
  int32_t linktype;
  uint32_t snaplen;
  int64_t tsoffset_s;     /* if_tsoffset: seconds added to every time */
  uint64_t units;         /* time units per second (10^n or 2^n) */
  uint8_t pow2_exp;       /* units == 2^pow2_exp, 0 when a power of ten */
} sf_iface;

struct sf_reader {
  sf_src src;
  int format;             /* SF_FMT_* */
  int (*next)(sf_reader *r, sf_rec *rec);
  int failed;             /* errors are sticky */
  int lenient;            /* caplen > snaplen is accepted */
  char err[512];
  /* pcap */
  int big;                /* the file (or section) is big-endian */
  int nano;
  int kuznetzov;          /* "modified" pcap: 24-byte record headers */
  uint32_t snaplen;
  int32_t linktype;
  /* pcapng */
  sf_iface *ifaces;       /* this section's interfaces */
  uint32_t nifaces, capifaces;
  uint32_t id_base;       /* global id of this section's interface 0 */
  uint32_t first_linktype_set;
};

/* Record a damage report: "<file>: <what> at byte offset N". */
int sf_rd_fail(sf_reader *r, uint64_t off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Each format: does the start of the input look like mine (1), and if so,
   read the file header and set r->next (SF_OK or SF_IO_ERR). */
int sf_pcap_probe(const uint8_t *h, size_t n);
int sf_pcap_open(sf_reader *r);
int sf_pcapng_probe(const uint8_t *h, size_t n);
int sf_pcapng_open(sf_reader *r);

static inline uint16_t sf_get16(const uint8_t *p, int big) {
  return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t sf_get32(const uint8_t *p, int big) {
  return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
             : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t sf_get64(const uint8_t *p, int big) {
  return big ? (uint64_t)sf_get32(p, 1) << 32 | sf_get32(p + 4, 1)
             : (uint64_t)sf_get32(p + 4, 0) << 32 | sf_get32(p, 0);
}

/* ---- writers ------------------------------------------------------------ */

typedef struct sf_out {
  int fd, own_fd;
  uint8_t *buf;
  size_t len, cap;
  int err;                /* errno of a failed write, sticky */
} sf_out;

int sf_out_put(sf_out *o, const void *d, size_t n);  /* 0 or errno */
int sf_out_flush(sf_out *o);

/* little-endian stores: we write files in little-endian order */
static inline void sf_put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void sf_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

struct sf_writer {
  sf_out out;
  sf_wopts o;
  char *name;
  char err[512];
  uint64_t count;
  int started;            /* file header written */
  /* pcapng: (linktype, interface_id) of each interface block written */
  struct { int32_t linktype; uint32_t id; } *ifs;
  uint32_t nifs, capifs;
};

int sf_pcap_write(sf_writer *w, const sf_rec *rec);
int sf_pcapng_write(sf_writer *w, const sf_rec *rec);
int sf_pcap_finish(sf_writer *w);    /* header of an empty file */
int sf_pcapng_finish(sf_writer *w);
int sf_wr_fail(sf_writer *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
