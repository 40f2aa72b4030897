/*
 * reader.c -- opening a capture: the byte source and the format probe.
 *
 * A plain file is mapped whole and read in place (map.c guards the
 * mapping against the file being cut short); anything else (a pipe,
 * stdin, a gzip file) is streamed through a window that grows to the
 * largest block.  The format is decided by the first bytes, never by the
 * file's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopriv.h"

#define WINDOW (256u * 1024u)  /* initial stream window */
#define TOUCH 4096u            /* the smallest page size we know of */

/* ---- the source ----------------------------------------------------------- */

static void src_warn(sf_src *s, const char *msg) {
  if (s->nwarn++ == 0) snprintf(s->warn, sizeof s->warn, "%s", msg);
}

/* Read more stream bytes into the window; 0 at end of input, -1 error. */
static long src_fill(sf_src *s) {
  for (;;) {
    long got;
    if (s->gz) {
      const char *w;
      got = sf_gz_read(s->gz, s->buf + s->hi, s->cap - s->hi);
      if ((w = sf_gz_warning(s->gz))) src_warn(s, w);
      if (got < 0) {
        s->ioerr = EIO;
        s->why = sf_gz_error(s->gz);
      }
      return got;
    }
    got = (long)read(s->fd, s->buf + s->hi, s->cap - s->hi);
    if (got >= 0) return got;
    if (errno == EINTR) continue;
    s->ioerr = errno;
    return -1;
  }
}

/* Make room for n unconsumed bytes in the window. */
static int src_room(sf_src *s, size_t n) {
  if (s->lo > 0) {  /* slide the unconsumed bytes to the front */
    memmove(s->buf, s->buf + s->lo, s->hi - s->lo);
    s->hi -= s->lo;
    s->lo = 0;
  }
  if (n > s->cap) {
    size_t cap = s->cap * 2 > n ? s->cap * 2 : n;
    uint8_t *b = realloc(s->buf, cap);
    if (!b) return -1;
    s->buf = b;
    s->cap = cap;
  }
  return 0;
}

const uint8_t *sf_src_peek(sf_src *s, size_t n, size_t *avail) {
  if (s->map) {
    size_t left = s->map->size - (size_t)s->off;
    if (left >= n) return s->map->base + s->off;
    *avail = left;
    return NULL;
  }
  if (s->hi - s->lo < n) {
    if (src_room(s, n) != 0) {
      s->ioerr = ENOMEM;
      *avail = s->hi - s->lo;
      return NULL;
    }
    while (s->hi < n && !s->ioerr) {
      long got = src_fill(s);
      if (got <= 0) break;
      s->hi += (size_t)got;
    }
  }
  if (s->hi - s->lo >= n) return s->buf + s->lo;
  *avail = s->hi - s->lo;
  return NULL;
}

void sf_src_advance(sf_src *s, size_t n) {
  if (!s->map) s->lo += n;
  s->off += n;
}

/* One read of a byte per page: a page the file no longer has faults
   here, before its bytes are handed out (map.c turns the fault into
   zeros and a note). */
void sf_src_touch(sf_src *s, uint64_t end) {
  const volatile uint8_t *b = s->map->base;
  uint64_t a = s->touched;
  for (; a < end; a += TOUCH) (void)b[a];
  s->touched = a;
}

static void src_close(sf_src *s) {
  sf_map_release(s->map);
  sf_gz_close(s->gz);
  if (s->own_fd) close(s->fd);
  free(s->buf);
  free(s->name);
}

static int is_gzip(const uint8_t *d, size_t n) {
  return n >= 2 && d[0] == 0x1f && d[1] == 0x8b;
}

#ifdef SF_HAVE_ZLIB
/* Inflate from here on: fd (or, fd < 0, the n bytes at d). */
static int src_gzip(sf_src *s, int fd, const uint8_t *d, size_t n) {
  if (!(s->gz = sf_gz_open(fd, d, n, s->strict))) return -1;
  s->lo = s->hi = 0;  /* the window holds inflated bytes from now on */
  return 0;
}
#endif

static int src_window(sf_src *s) {
  if (!(s->buf = malloc(WINDOW))) return -1;
  s->cap = WINDOW;
  return 0;
}

/* Stream s->fd: its first bytes tell a gzip file from any other. */
static int src_stream(sf_src *s) {
  if (src_window(s) != 0) return -1;
  while (s->hi < 2) {  /* a pipe may give one byte at a time */
    long got = src_fill(s);
    if (got <= 0) return 0;  /* the probe reports it */
    s->hi += (size_t)got;
  }
#ifdef SF_HAVE_ZLIB
  if (is_gzip(s->buf, s->hi)) return src_gzip(s, s->fd, s->buf, s->hi);
#endif
  return 0;  /* without zlib, the probe names a gzip file */
}

/* Map a plain file (not a gzip one); 0 on success, else stream it. */
static int src_map(sf_src *s, const struct stat *st) {
  uint8_t magic[2];
  if (pread(s->fd, magic, 2, 0) == 2 && is_gzip(magic, 2)) return -1;
  s->map = sf_map_file(s->fd, (size_t)st->st_size, (uint64_t)st->st_dev,
                       (uint64_t)st->st_ino, s->name);
  if (!s->map) return -1;
  madvise((void *)(uintptr_t)s->map->base, s->map->size, MADV_SEQUENTIAL);
  return 0;
}

/* Open path as a byte source; errno-style failure in err. */
static int src_open(sf_src *s, const char *path, char *err, size_t errlen) {
  struct stat st;
  int stdin_ = strcmp(path, "-") == 0;
  s->fd = stdin_ ? 0 : open(path, O_RDONLY | O_CLOEXEC);
  s->own_fd = !stdin_;
  if (s->fd < 0 || fstat(s->fd, &st) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
    return -1;
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= SIZE_MAX &&
      src_map(s, &st) == 0) {
    s->own_fd = 0;  /* the mapping keeps the descriptor */
    s->fd = -1;
    return 0;
  }
  if (src_stream(s) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
    return -1;
  }
  return 0;
}

/* ---- reports ------------------------------------------------------------------ */

static void report(char *out, size_t outlen, const char *name, uint64_t off,
                   const char *fmt, va_list ap) {
  char what[400];
  vsnprintf(what, sizeof what, fmt, ap);
  snprintf(out, outlen, "%s: %s at byte offset %llu", name, what,
           (unsigned long long)off);
}

/* Damage inside a gzip file may come from the compression: inflate the
   rest to see, and if the gzip data is damaged say so, with both offsets
   (the bytes before it were what the reader saw). */
static void gzip_cause(sf_reader *r) {
  enum { SINK = 64 * 1024 };
  uint8_t *sink;
  long got;
  if (!r->src.gz || r->src.ioerr || !(sink = malloc(SINK))) return;
  while ((got = sf_gz_read(r->src.gz, sink, SINK)) > 0)
    ;
  free(sink);
  if (got < 0) {
    size_t n = strlen(r->err);
    snprintf(r->err + n, sizeof r->err - n, "; the gzip data is damaged: %s",
             sf_gz_error(r->src.gz));
  }
}

/* Damage in bytes of a mapped file that was cut inside the last page we
   looked at: no fault showed the zeros there, the file's size does. */
static int cut_explains(sf_reader *r) {
  uint64_t cut;
  if (!r->src.map || r->src.map->slot < 0) return 0;
  cut = sf_map_recheck(r->src.map);
  return cut != SF_MAP_INTACT && cut < r->src.touched;
}

int sf_rd_fail(sf_reader *r, uint64_t off, const char *fmt, ...) {
  va_list ap;
  if (cut_explains(r)) return sf_rd_cut(r, off);
  va_start(ap, fmt);
  report(r->err, sizeof r->err, r->src.name, off, fmt, ap);
  va_end(ap);
  r->failed = 1;
  gzip_cause(r);
  return SF_IO_ERR;
}

int sf_rd_odd(sf_reader *r, uint64_t off, const char *fmt, ...) {
  char msg[440];
  va_list ap;
  va_start(ap, fmt);
  report(msg, sizeof msg, r->src.name, off, fmt, ap);
  va_end(ap);
  if (r->src.strict) {
    snprintf(r->err, sizeof r->err, "%s (an error because strict=true)", msg);
    r->failed = 1;
    return SF_IO_ERR;
  }
  src_warn(&r->src, msg);
  return SF_OK;
}

int sf_rd_cut(sf_reader *r, uint64_t off) {
  (void)off;
  sf_map_describe_cut(r->src.map, r->err, sizeof r->err);
  r->failed = 1;
  return SF_IO_ERR;
}

int sf_rd_short(sf_reader *r, uint64_t off) {
  sf_src *s = &r->src;
  if (s->map && sf_map_recheck(s->map) != SF_MAP_INTACT) return sf_rd_cut(r, off);
  if (!s->ioerr) return SF_OK;
  if (s->why) {  /* says where itself: compressed and uncompressed offsets */
    snprintf(r->err, sizeof r->err, "%s: %s", s->name, s->why);
    r->failed = 1;
    return SF_IO_ERR;
  }
  return sf_rd_fail(r, off, "read error: %s", strerror(s->ioerr));
}

/* ---- readers -------------------------------------------------------------- */

static const struct {
  const char *name;
  int (*probe)(const uint8_t *h, size_t n);
  int (*open)(sf_reader *r);
} formats[] = {
  {"pcap", sf_pcap_probe, sf_pcap_open},
  {"pcapng", sf_pcapng_probe, sf_pcapng_open},
};

static void not_a_capture(sf_reader *r, const uint8_t *h, size_t n, char *err,
                          size_t errlen) {
  if (is_gzip(h, n))
    snprintf(err, errlen, "%s: a gzip-compressed file, but this sflua was built "
             "without zlib", r->src.name);
  else if (n < 4)
    snprintf(err, errlen, "%s: not a pcap or pcapng file (%s)", r->src.name,
             n ? "shorter than a file header" : "empty");
  else
    snprintf(err, errlen,
             "%s: not a pcap or pcapng file (starts with %02x %02x %02x %02x)",
             r->src.name, h[0], h[1], h[2], h[3]);
}

/* Pick the format by magic; "not mine" from all is "not a capture". */
static int probe(sf_reader *r, char *err, size_t errlen) {
  size_t avail = 0, i;
  const uint8_t *h = sf_src_peek(&r->src, 4, &avail);
  if (!h) {
    if (sf_rd_short(r, avail) != SF_OK) snprintf(err, errlen, "%s", r->err);
    else not_a_capture(r, r->src.map ? r->src.map->base : r->src.buf + r->src.lo,
                       avail, err, errlen);
    return SF_IO_ERR;
  }
  for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].probe(h, 4)) {
      if (formats[i].open(r) == SF_OK) return SF_OK;
      snprintf(err, errlen, "%s", r->err);
      return SF_IO_ERR;
    }
  not_a_capture(r, h, 4, err, errlen);
  return SF_IO_ERR;
}

static sf_reader *reader_new(const char *name) {
  sf_reader *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->src.fd = -1;
  r->linktype = -1;
  r->stop = UINT64_MAX;
  if (!(r->src.name = strdup(name))) {
    free(r);
    return NULL;
  }
  return r;
}

static sf_reader *reader_start(sf_reader *r, char *err, size_t errlen) {
  if (probe(r, err, errlen) == SF_OK) return r;
  sf_reader_close(r);
  return NULL;
}

sf_reader *sf_reader_open(const char *path, char *err, size_t errlen) {
  sf_reader *r = reader_new(strcmp(path, "-") == 0 ? "<stdin>" : path);
  if (!r) {
    snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    return NULL;
  }
  if (src_open(&r->src, path, err, errlen) != 0) {
    sf_reader_close(r);
    return NULL;
  }
  return reader_start(r, err, errlen);
}

/* Memory is read in place, or inflated when it is gzip-compressed. */
sf_reader *sf_reader_open_mem(const uint8_t *d, size_t n, const char *name,
                              char *err, size_t errlen) {
  sf_reader *r = reader_new(name);
  int ok = r != NULL;
#ifdef SF_HAVE_ZLIB
  if (ok && is_gzip(d, n)) ok = src_window(&r->src) == 0 && src_gzip(&r->src, -1, d, n) == 0;
  else
#endif
  if (ok) ok = (r->src.map = sf_map_new(d, n)) != NULL;
  if (!ok) {
    snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
    sf_reader_close(r);
    return NULL;
  }
  return reader_start(r, err, errlen);
}

int sf_reader_next(sf_reader *r, sf_rec *rec) {
  if (r->failed) return SF_IO_ERR;
  if (r->src.off >= r->stop) return SF_IO_EOF;  /* the end of a slice */
  return r->next(r, rec);
}

/* The file-level state is the template's; pcapng's sections and
   interfaces are replayed by the caller (split.c). */
sf_reader *sf_reader_clone_at(const sf_reader *tmpl, uint64_t off, uint64_t stop) {
  sf_reader *r = reader_new(tmpl->src.name);
  if (!r) return NULL;
  r->src.map = sf_map_retain(tmpl->src.map);
  r->src.strict = tmpl->src.strict;
  r->src.off = off;
  r->src.touched = off & ~(uint64_t)(TOUCH - 1);  /* pages before: not ours */
  r->format = tmpl->format;
  r->next = tmpl->next;
  r->big = tmpl->big;
  r->nano = tmpl->nano;
  r->kuznetzov = tmpl->kuznetzov;
  r->snaplen = tmpl->snaplen;
  r->linktype = tmpl->format == SF_FMT_PCAP ? tmpl->linktype : -1;
  r->stop = stop;
  return r;
}

sf_reader *sf_reader_fork(const sf_reader *from, uint64_t off, uint64_t stop) {
  sf_reader *r;
  if (!from->src.map || !(r = sf_reader_clone_at(from, off, stop))) return NULL;
  r->linktype = from->linktype;
  r->id_base = from->id_base;
  r->nifaces = r->capifaces = from->nifaces;
  if (from->nifaces && !(r->ifaces = malloc(from->nifaces * sizeof *r->ifaces))) {
    sf_reader_close(r);
    return NULL;
  }
  if (from->nifaces) memcpy(r->ifaces, from->ifaces, from->nifaces * sizeof *r->ifaces);
  return r;
}

uint64_t sf_reader_offset(const sf_reader *r) { return r->src.off; }

static int same_iface(const sf_iface *a, const sf_iface *b) {
  return a->linktype == b->linktype && a->snaplen == b->snaplen &&
         a->tsoffset_s == b->tsoffset_s && a->units == b->units && a->exp == b->exp &&
         a->pow2 == b->pow2;
}

int sf_reader_same_state(const sf_reader *a, const sf_reader *b) {
  uint32_t i;
  if (a->format != b->format || a->big != b->big) return 0;
  if (a->format != SF_FMT_PCAPNG) return 1;
  if (a->id_base != b->id_base || a->nifaces != b->nifaces) return 0;
  for (i = 0; i < a->nifaces; i++)
    if (!same_iface(&a->ifaces[i], &b->ifaces[i])) return 0;
  return 1;
}

const char *sf_reader_error(const sf_reader *r) { return r->err; }
sf_map *sf_reader_map(const sf_reader *r) { return r->src.map; }
int sf_reader_format(const sf_reader *r) { return r->format; }
int32_t sf_reader_linktype(const sf_reader *r) { return r->linktype; }
int sf_reader_nanosecond(const sf_reader *r) { return r->nano; }
uint32_t sf_reader_snaplen(const sf_reader *r) { return r->snaplen; }

void sf_reader_set_strict(sf_reader *r, int strict) {
  r->src.strict = strict;
  if (r->src.gz) sf_gz_set_strict(r->src.gz, strict);
}

void sf_reader_apply(sf_reader *r, const sf_ropts *o) {
  if (o) sf_reader_set_strict(r, o->strict);
}

uint64_t sf_reader_warnings(const sf_reader *r, const char **first) {
  if (first) *first = r->src.nwarn ? r->src.warn : NULL;
  return r->src.nwarn;
}

void sf_reader_close(sf_reader *r) {
  if (!r) return;
  src_close(&r->src);
  free(r->ifaces);
  free(r);
}

/* ---- what appending needs ------------------------------------------------------ */

int sf_reader_tail(const char *path, sf_tail *t, char *err, size_t errlen) {
  sf_reader *r = sf_reader_open(path, err, errlen);
  sf_rec rec;
  int rc;
  if (!r) return SF_IO_ERR;
  while ((rc = sf_reader_next(r, &rec)) == SF_IO_REC)
    ;
  if (rc == SF_IO_ERR) snprintf(err, errlen, "cannot append to %s", sf_reader_error(r));
  else if (r->src.gz) {
    snprintf(err, errlen, "%s: cannot append to a gzip-compressed capture", path);
    rc = SF_IO_ERR;
  } else if (r->kuznetzov) {
    snprintf(err, errlen, "%s: cannot append to a \"modified\" (Kuznetzov) pcap file", path);
    rc = SF_IO_ERR;
  }
  t->format = r->format;
  t->big = r->big;
  t->nano = r->nano;
  t->kuznetzov = r->kuznetzov;
  t->linktype = r->linktype;
  t->snaplen = r->snaplen;
  t->size = r->src.off;
  sf_reader_close(r);
  return rc == SF_IO_ERR ? SF_IO_ERR : SF_OK;
}

int sf_pkt_of_rec(sf_pkt *p, const sf_rec *rec) {
  int rc = sf_pkt_borrow(p, rec->data, rec->caplen);
  p->linktype = rec->linktype;
  p->time_ns = rec->time_ns;
  p->wirelen = rec->wirelen;
  p->interface_id = rec->interface_id;
  return rc;
}
