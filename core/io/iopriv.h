/*
 * iopriv.h -- what the capture formats share: the byte source (a mapping
 * or a stream), the reader's state, error reporting and the output buffer.
 */
#ifndef SF_IOPRIV_H
#define SF_IOPRIV_H

#include <stdarg.h>
#include <stdatomic.h>

#include "io.h"

/* ---- byte sources ------------------------------------------------------- */

struct sf_map {
  atomic_uint refs;       /* atomic: the readers of one capture split over
                             threads (split.c) share its mapping */
  int mapped;             /* munmap on release (else memory not ours) */
  int slot;               /* in map.c's table of guarded mappings, -1 none */
  int fd;                 /* the mapped file, kept open for fstat; -1 none */
  const uint8_t *base;
  size_t size;
  char *name;             /* for messages */
};

/* An unguarded view of memory that is not ours (sf_reader_open_mem). */
sf_map *sf_map_new(const uint8_t *base, size_t size);
/* Map a plain file, guarded against it being cut short (map.c). */
sf_map *sf_map_file(int fd, size_t size, uint64_t dev, uint64_t ino,
                    const char *name);
/* Ask the file's size again: the cut offset, or SF_MAP_INTACT. */
uint64_t sf_map_recheck(const sf_map *m);
void sf_map_describe_cut(const sf_map *m, char *err, size_t errlen);
/* Is this file (device, inode) mapped by us right now? */
int sf_map_file_mapped(uint64_t dev, uint64_t ino);
/* Mappings found cut so far, in the whole process: one load tells the
   common case (none) apart. */
extern atomic_uint sf_map_ncuts_;

/* gzip.c: one gzip file, inflated (NULL-safe close). */
typedef struct sf_gz sf_gz;
/* fd >= 0: read from fd after the n bytes at d, which were read from it
   already (copied); fd < 0: inflate the n bytes at d (not copied). */
sf_gz *sf_gz_open(int fd, const uint8_t *d, size_t n, int strict);
long sf_gz_read(sf_gz *g, uint8_t *dst, size_t n);  /* > 0, 0 end, -1 */
const char *sf_gz_error(const sf_gz *g);  /* with both offsets */
const char *sf_gz_warning(sf_gz *g);      /* once; NULL if none */
void sf_gz_set_strict(sf_gz *g, int strict);
void sf_gz_close(sf_gz *g);

typedef struct sf_src {
  char *name;             /* for messages */
  sf_map *map;            /* whole input in memory; NULL when streaming */
  int fd, own_fd;
  sf_gz *gz;              /* the stream is gzip-compressed */
  uint8_t *buf;           /* stream window: bytes [lo, hi) not yet consumed */
  size_t cap, lo, hi;
  uint64_t off;           /* file offset of the cursor */
  uint64_t touched;       /* mapped: pages touched below this offset */
  int ioerr;              /* errno of a failed read, 0 none */
  const char *why;        /* what failed, when more than ioerr says (gzip) */
  int strict;             /* oddities are errors, not warnings */
  uint64_t nwarn;         /* warnings counted */
  char warn[512];         /* the first one */
} sf_src;

/* n bytes at the cursor without consuming them; NULL when fewer than n
   remain (*avail says how many).  Valid until the next peek. */
const uint8_t *sf_src_peek(sf_src *s, size_t n, size_t *avail);
void sf_src_advance(sf_src *s, size_t n);  /* n <= the last peek's n */
void sf_src_touch(sf_src *s, uint64_t end);

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

/* Before bytes of a mapped file up to offset end are handed out: touch
   their pages (a file cut short faults here, see map.c) and check that
   the file still holds them.  SF_OK, or SF_IO_ERR when it was cut. */
static inline int sf_src_settle_i(sf_src *s, uint64_t end) {
  if (!s->map) return SF_OK;
  if (end > s->touched) sf_src_touch(s, end);
  if (atomic_load_explicit(&sf_map_ncuts_, memory_order_relaxed) &&
      end > sf_map_cut(s->map))
    return SF_IO_ERR;
  return SF_OK;
}

/* ---- readers ------------------------------------------------------------ */

typedef struct sf_iface {
  int32_t linktype;
  uint32_t snaplen;
  int64_t tsoffset_s;     /* if_tsoffset: seconds added to every time */
  uint64_t units;         /* time units per second (10^n or 2^n); 0 when
                             more than 64 bits hold: every time < 1 s */
  uint8_t exp;            /* n */
  uint8_t pow2;           /* units are 2^-n s, else 10^-n s */
} sf_iface;

struct sf_reader {
  sf_src src;
  int format;             /* SF_FMT_* */
  int (*next)(sf_reader *r, sf_rec *rec);
  int failed;             /* errors are sticky */
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
  uint64_t stop;          /* no record starts at or past this offset (a
                             slice of the capture, split.c); UINT64_MAX */
};

/* Record a damage report: "<file>: <what> at byte offset N". */
int sf_rd_fail(sf_reader *r, uint64_t off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Something tshark reads without a word (a captured length above the
   snaplen, a fraction of a second >= 1 s): a counted warning, SF_OK, or
   with strict an error, SF_IO_ERR. */
int sf_rd_odd(sf_reader *r, uint64_t off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The input gave fewer bytes than asked for at off: SF_OK when it truly
   ends there, else SF_IO_ERR with why (a read error, damaged gzip data, a
   mapped file cut short under us). */
int sf_rd_short(sf_reader *r, uint64_t off);
/* The bytes of a record at off were found cut (sf_src_settle_i). */
int sf_rd_cut(sf_reader *r, uint64_t off);

/* Each format: does the start of the input look like mine (1), and if so,
   read the file header and set r->next (SF_OK or SF_IO_ERR). */
int sf_pcap_probe(const uint8_t *h, size_t n);
int sf_pcap_open(sf_reader *r);
int sf_pcapng_probe(const uint8_t *h, size_t n);
int sf_pcapng_open(sf_reader *r);

/* ---- splitting (split.c) ---------------------------------------------------- */

/* What a unit of a mapped capture is: a packet record (pcap's record,
   pcapng's packet blocks), a section header, an interface description,
   another block; SF_HOP_END: none starts there (the end of the input, or
   damage the reader will report). */
enum { SF_HOP_END, SF_HOP_RECORD, SF_HOP_SECTION, SF_HOP_IFACE, SF_HOP_OTHER };
/* The unit at offset off of the n bytes at d, framed in byte order *big
   (a section header sets it): its kind, and where the next one starts.
   Only the framing is checked (lengths, and pcapng's trailing length);
   with ref (the seconds of the file's first record), also what a real
   record would hold: a length, a fraction of a second below 1 s, a
   captured length within the snaplen and the length on the wire, a time
   within a year of ref -- for telling records from payload bytes that
   happen to frame like them (zeros do). */
int sf_pcap_hop(const sf_reader *r, const uint8_t *d, uint64_t n, uint64_t off,
                const int64_t *ref, int *big, uint64_t *next);
int sf_pcapng_hop(const sf_reader *r, const uint8_t *d, uint64_t n, uint64_t off,
                  const int64_t *ref, int *big, uint64_t *next);
/* A reader of tmpl's mapped capture from offset off on, stopping before
   stop, with tmpl's file header (pcap); NULL when out of memory. */
sf_reader *sf_reader_clone_at(const sf_reader *tmpl, uint64_t off, uint64_t stop);
/* pcapng: read the section header or interface block at off into r's
   state (the blocks before a slice of the capture); SF_OK or SF_IO_ERR. */
int sf_pcapng_replay(sf_reader *r, uint64_t off);

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

/* little-endian stores: we write files in little-endian order (but
   append to a big-endian pcap in its order: sf_pcap_write) */
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
  char *name;             /* as given, for messages */
  char *final;            /* replaced by temp on close; NULL: written in place */
  char *temp;             /* the file written until then */
  char err[512];
  uint64_t count;
  int started;            /* file header written */
  int32_t linktype;       /* pcap: the file's, once known; -1 before */
  int big;                /* pcap appended to: the file's byte order */
  int appending;          /* writing after an existing file's end */
  uint64_t old_size;      /* appending: what to cut back to on failure */
  /* pcapng: (linktype, interface_id) of each interface block written */
  struct { int32_t linktype; uint32_t id; } *ifs;
  uint32_t nifs, capifs;
};

/* What appending needs to know of the file there (writer.c reads it). */
typedef struct sf_tail {
  int format, big, nano, kuznetzov;
  int32_t linktype;
  uint32_t snaplen;
  uint64_t size;
} sf_tail;

/* Read the whole capture at path to learn how to append to it: SF_OK, or
   SF_IO_ERR with why (damaged, compressed) in err. */
int sf_reader_tail(const char *path, sf_tail *t, char *err, size_t errlen);

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
