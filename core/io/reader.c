/*
 * reader.c -- opening a capture: the byte source and the format probe.
 *
 * A plain file is mapped whole and read in place; anything else (a pipe,
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
#ifdef SF_HAVE_ZLIB
#include <zlib.h>
#endif

#include "iopriv.h"

#define WINDOW (256u * 1024u)  /* initial stream window */

/* ---- mappings ----------------------------------------------------------- */

static sf_map *map_new(const uint8_t *base, size_t size, int mapped) {
  sf_map *m = malloc(sizeof *m);
  if (!m) return NULL;
  m->refs = 1;
  m->mapped = mapped;
  m->base = base;
  m->size = size;
  return m;
}

sf_map *sf_map_retain(sf_map *m) {
  if (m) m->refs++;
  return m;
}

void sf_map_release(sf_map *m) {
  if (!m || --m->refs > 0) return;
  if (m->mapped) munmap((void *)(uintptr_t)m->base, m->size);
  free(m);
}

/* ---- the source ----------------------------------------------------------- */

/* Read more stream bytes into the window; 0 at end of input, -1 error. */
static long src_fill(sf_src *s) {
  for (;;) {
    long got;
#ifdef SF_HAVE_ZLIB
    if (s->gz) {
      int e;
      got = gzread((gzFile)s->gz, s->buf + s->hi, (unsigned)(s->cap - s->hi));
      if (got < 0) {
        const char *msg = gzerror((gzFile)s->gz, &e);
        s->ioerr = e == Z_ERRNO ? errno : EIO;
        (void)msg;
      }
      return got;
    }
#endif
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
    while (s->hi < n) {
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

static void src_close(sf_src *s) {
  sf_map_release(s->map);
#ifdef SF_HAVE_ZLIB
  if (s->gz) gzclose((gzFile)s->gz);
  else
#endif
  if (s->own_fd) close(s->fd);
  free(s->buf);
  free(s->name);
}

/* Map a plain file; 0 on success, else leave s to be streamed. */
static int src_map(sf_src *s, size_t size) {
  void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, s->fd, 0);
  if (base == MAP_FAILED) return -1;
  if (size >= 2 && ((uint8_t *)base)[0] == 0x1f && ((uint8_t *)base)[1] == 0x8b) {
    munmap(base, size);  /* gzip: stream it through zlib */
    return -1;
  }
  madvise(base, size, MADV_SEQUENTIAL);
  if (!(s->map = map_new(base, size, 1))) {
    munmap(base, size);
    return -1;
  }
  return 0;
}

static int src_stream(sf_src *s) {
  if (!(s->buf = malloc(WINDOW))) return -1;
  s->cap = WINDOW;
#ifdef SF_HAVE_ZLIB
  {
    /* zlib reads uncompressed input unchanged; dup so that gzclose
       leaves stdin open */
    int fd = s->own_fd ? s->fd : dup(s->fd);
    if (fd < 0) return -1;
    if (!(s->gz = gzdopen(fd, "rb"))) {
      if (!s->own_fd) close(fd);
      return -1;
    }
    if (s->own_fd) s->own_fd = 0;  /* gzclose closes it */
    gzbuffer((gzFile)s->gz, WINDOW);
  }
#endif
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
      src_map(s, (size_t)st.st_size) == 0) {
    if (s->own_fd) close(s->fd);  /* the mapping needs no descriptor */
    s->own_fd = 0;
    s->fd = -1;
    return 0;
  }
  if (src_stream(s) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
    return -1;
  }
  return 0;
}

/* ---- readers -------------------------------------------------------------- */

int sf_rd_fail(sf_reader *r, uint64_t off, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(r->err, sizeof r->err, "%s: %s at byte offset %llu", r->src.name,
           what, (unsigned long long)off);
  r->failed = 1;
  return SF_IO_ERR;
}

static const struct {
  const char *name;
  int (*probe)(const uint8_t *h, size_t n);
  int (*open)(sf_reader *r);
} formats[] = {
  {"pcap", sf_pcap_probe, sf_pcap_open},
  {"pcapng", sf_pcapng_probe, sf_pcapng_open},
};

/* Pick the format by magic; "not mine" from all is "not a capture". */
static int probe(sf_reader *r, char *err, size_t errlen) {
  size_t avail = 0, i;
  const uint8_t *h = sf_src_peek(&r->src, 4, &avail);
  if (!h) {
    if (r->src.ioerr)
      snprintf(err, errlen, "%s: %s", r->src.name, strerror(r->src.ioerr));
    else
      snprintf(err, errlen, "%s: not a pcap or pcapng file (%s)", r->src.name,
               avail ? "shorter than a file header" : "empty");
    return SF_IO_ERR;
  }
  for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].probe(h, 4)) {
      if (formats[i].open(r) == SF_OK) return SF_OK;
      snprintf(err, errlen, "%s", r->err);
      return SF_IO_ERR;
    }
  snprintf(err, errlen,
           "%s: not a pcap or pcapng file (starts with %02x %02x %02x %02x)",
           r->src.name, h[0], h[1], h[2], h[3]);
  return SF_IO_ERR;
}

static sf_reader *reader_new(const char *name) {
  sf_reader *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->src.fd = -1;
  r->linktype = -1;
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

sf_reader *sf_reader_open_mem(const uint8_t *d, size_t n, const char *name,
                              char *err, size_t errlen) {
  sf_reader *r = reader_new(name);
  if (!r || !(r->src.map = map_new(d, n, 0))) {
    snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
    sf_reader_close(r);
    return NULL;
  }
  return reader_start(r, err, errlen);
}

int sf_reader_next(sf_reader *r, sf_rec *rec) {
  if (r->failed) return SF_IO_ERR;
  return r->next(r, rec);
}

const char *sf_reader_error(const sf_reader *r) { return r->err; }
sf_map *sf_reader_map(const sf_reader *r) { return r->src.map; }
int sf_reader_format(const sf_reader *r) { return r->format; }
int32_t sf_reader_linktype(const sf_reader *r) { return r->linktype; }
int sf_reader_nanosecond(const sf_reader *r) { return r->nano; }
uint32_t sf_reader_snaplen(const sf_reader *r) { return r->snaplen; }

void sf_reader_set_strict(sf_reader *r, int strict) { r->lenient = !strict; }

void sf_reader_close(sf_reader *r) {
  if (!r) return;
  src_close(&r->src);
  free(r->ifaces);
  free(r);
}
