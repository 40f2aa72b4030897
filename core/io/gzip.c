/*
 * gzip.c -- gzip-compressed captures (RFC 1952), inflated with zlib.
 *
 * We read each member's header and trailer ourselves and inflate only the
 * raw deflate data in between, so that every way a file can be damaged is
 * told apart and located: a file cut short anywhere (header, data or
 * trailer) is an error, as are corrupt data and a trailer whose CRC-32 or
 * length disagrees with the data.  Every message gives the compressed and
 * the uncompressed byte offsets.  Bytes inflated before the damage are
 * handed out first, so a reader delivers every good packet before it
 * reports.  Members written one after the other (gzip -c a b > ab) are
 * read in turn; anything else after the last member is a warning, as
 * gzip(1) warns "trailing garbage ignored" (an error when strict).
 *
 * zlib's gzread would hide two of these: it returns a cut trailer as a
 * clean end of file, and it drops the bytes of the call that found the
 * CRC wrong.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iopriv.h"

#ifdef SF_HAVE_ZLIB
#include <limits.h>
#include <zlib.h>

#define INBUF (64u * 1024u)

enum { GZ_HEADER, GZ_DATA, GZ_TRAILER, GZ_NEXT, GZ_END, GZ_FAILED };

/* header flags */
#define FHCRC 0x02
#define FEXTRA 0x04
#define FNAME 0x08
#define FCOMMENT 0x10
#define FRESERVED 0xe0

struct sf_gz {
  z_stream z;
  int fd;                  /* input; -1: memory */
  uint8_t *buf;            /* input window when reading fd */
  size_t cap;
  const uint8_t *p, *e;    /* compressed bytes not yet used */
  int eof;                 /* the input has no more */
  int ioerr;               /* errno of a failed read */
  int state, strict;
  uint64_t in_off;         /* compressed offset of p */
  uint64_t out_off;        /* uncompressed bytes made */
  uint32_t crc, isize;     /* of this member's data */
  char err[400];
  char warn[300];
  int warned;              /* warn holds a message not yet taken */
};

/* ---- input -------------------------------------------------------------- */

/* Make n compressed bytes available if the input has them; how many are. */
static size_t have(sf_gz *g, size_t n) {
  while ((size_t)(g->e - g->p) < n && !g->eof) {
    size_t left = (size_t)(g->e - g->p);
    ssize_t k;
    if (g->fd < 0) {
      g->eof = 1;
      break;
    }
    memmove(g->buf, g->p, left);
    g->p = g->buf;
    g->e = g->buf + left;
    k = read(g->fd, g->buf + left, g->cap - left);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      g->eof = 1;
      if (k < 0) g->ioerr = errno;
      break;
    }
    g->e += k;
  }
  return (size_t)(g->e - g->p);
}

static void consume(sf_gz *g, size_t n, uint32_t *crc) {
  if (crc) *crc = (uint32_t)crc32(*crc, g->p, (uInt)n);
  g->p += n;
  g->in_off += n;
}

/* Damage at compressed offset at: the message, and no more data. */
static int fail(sf_gz *g, uint64_t at, const char *fmt, ...) {
  char what[250];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (g->ioerr) snprintf(what, sizeof what, "read error: %s", strerror(g->ioerr));
  snprintf(g->err, sizeof g->err, "%s at compressed byte offset %llu "
           "(uncompressed byte offset %llu)", what, (unsigned long long)at,
           (unsigned long long)g->out_off);
  g->state = GZ_FAILED;
  return -1;
}

/* ---- a member's header ----------------------------------------------------- */

static int cut_header(sf_gz *g) {
  return fail(g, g->in_off, "the gzip file ends inside a member's header");
}

static int skip_bytes(sf_gz *g, size_t n, uint32_t *crc) {
  while (n > 0) {
    size_t k = have(g, 1);
    if (!k) return cut_header(g);
    if (k > n) k = n;
    consume(g, k, crc);
    n -= k;
  }
  return 0;
}

/* A zero-terminated field: the file name or the comment. */
static int skip_string(sf_gz *g, uint32_t *crc) {
  for (;;) {
    uint8_t c;
    if (!have(g, 1)) return cut_header(g);
    c = *g->p;
    consume(g, 1, crc);
    if (!c) return 0;
  }
}

static int read_header(sf_gz *g) {
  uint64_t at = g->in_off;
  uint32_t hcrc = (uint32_t)crc32(0, NULL, 0);
  uint8_t flg;
  if (have(g, 10) < 10) return cut_header(g);
  if (g->p[2] != 8)
    return fail(g, at, "gzip member uses compression method %u, not deflate",
                g->p[2]);
  if ((flg = g->p[3]) & FRESERVED)
    return fail(g, at, "gzip member header has reserved flags 0x%02x", flg);
  consume(g, 10, &hcrc);
  if (flg & FEXTRA) {
    size_t xlen;
    if (have(g, 2) < 2) return cut_header(g);
    xlen = (size_t)g->p[0] | (size_t)g->p[1] << 8;
    consume(g, 2, &hcrc);
    if (skip_bytes(g, xlen, &hcrc) != 0) return -1;
  }
  if ((flg & FNAME) && skip_string(g, &hcrc) != 0) return -1;
  if ((flg & FCOMMENT) && skip_string(g, &hcrc) != 0) return -1;
  if (flg & FHCRC) {
    unsigned stored;
    if (have(g, 2) < 2) return cut_header(g);
    stored = (unsigned)g->p[0] | (unsigned)g->p[1] << 8;
    if (stored != (hcrc & 0xffffu))
      return fail(g, g->in_off, "gzip header CRC is 0x%04x but the header's is 0x%04x",
                  stored, hcrc & 0xffffu);
    consume(g, 2, NULL);
  }
  inflateReset(&g->z);
  g->crc = (uint32_t)crc32(0, NULL, 0);
  g->isize = 0;
  g->state = GZ_DATA;
  return 0;
}

/* ---- data, trailer, next member --------------------------------------------- */

/* Inflate into dst; bytes made (> 0), or 0 with the state moved on. */
static size_t inflate_into(sf_gz *g, uint8_t *dst, size_t n) {
  uInt out = n > UINT_MAX ? UINT_MAX : (uInt)n;
  for (;;) {
    size_t avail = have(g, 1), made;
    uInt in;
    int ret;
    if (!avail) {
      fail(g, g->in_off, "the gzip file ends inside compressed data");
      return 0;
    }
    in = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
    g->z.next_in = (Bytef *)(uintptr_t)g->p;
    g->z.avail_in = in;
    g->z.next_out = dst;
    g->z.avail_out = out;
    ret = inflate(&g->z, Z_NO_FLUSH);
    made = out - g->z.avail_out;
    consume(g, in - g->z.avail_in, NULL);
    g->crc = (uint32_t)crc32(g->crc, dst, (uInt)made);
    g->isize += (uint32_t)made;
    g->out_off += made;
    if (ret == Z_STREAM_END) g->state = GZ_TRAILER;
    else if (ret != Z_OK && ret != Z_BUF_ERROR)
      fail(g, g->in_off, "corrupt gzip data (%s)", g->z.msg ? g->z.msg : zError(ret));
    if (made || g->state != GZ_DATA) return made;
  }
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void read_trailer(sf_gz *g) {
  size_t n = have(g, 8);
  uint32_t crc, isize;
  if (n < 8) {
    fail(g, g->in_off, "the gzip file ends inside a member's trailer (%zu of 8 bytes)", n);
    return;
  }
  crc = le32(g->p);
  isize = le32(g->p + 4);
  if (crc != g->crc)
    fail(g, g->in_off, "gzip trailer: its CRC-32 is 0x%08x but the data's is 0x%08x",
         crc, g->crc);
  else if (isize != g->isize)
    fail(g, g->in_off, "gzip trailer: its length is %u but the data's is %u (mod 2^32)",
         isize, g->isize);
  else {
    consume(g, 8, NULL);
    g->state = GZ_NEXT;
  }
}

/* After a member: the end, another member, or bytes that are neither. */
static void next_member(sf_gz *g) {
  uint64_t at = g->in_off, junk = 0;
  size_t n = have(g, 2), k;
  if (n == 0) {
    if (g->ioerr) fail(g, at, "read error");
    else g->state = GZ_END;
    return;
  }
  if (n >= 2 && g->p[0] == 0x1f && g->p[1] == 0x8b) {
    g->state = GZ_HEADER;
    return;
  }
  while ((k = have(g, 1)) > 0) {
    junk += k;
    consume(g, k, NULL);
  }
  if (g->strict) {
    fail(g, at, "%llu bytes follow the last gzip member", (unsigned long long)junk);
    return;
  }
  snprintf(g->warn, sizeof g->warn, "%llu bytes after the last gzip member ignored "
           "at compressed byte offset %llu", (unsigned long long)junk,
           (unsigned long long)at);
  g->warned = 1;
  g->state = GZ_END;
}

/* ---- the interface ---------------------------------------------------------- */

sf_gz *sf_gz_open(int fd, const uint8_t *d, size_t n, int strict) {
  sf_gz *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->fd = fd;
  g->strict = strict;
  if (fd >= 0) {
    g->cap = n > INBUF ? n : INBUF;
    if (!(g->buf = malloc(g->cap))) {
      free(g);
      return NULL;
    }
    memcpy(g->buf, d, n);  /* what the probe read already */
    d = g->buf;
  }
  g->p = d;
  g->e = d + n;
  if (inflateInit2(&g->z, -MAX_WBITS) != Z_OK) {  /* raw deflate */
    free(g->buf);
    free(g);
    return NULL;
  }
  return g;
}

long sf_gz_read(sf_gz *g, uint8_t *dst, size_t n) {
  for (;;) {
    size_t made;
    switch (g->state) {
      case GZ_HEADER: read_header(g); break;
      case GZ_DATA:
        if ((made = inflate_into(g, dst, n)) > 0) return (long)made;
        break;
      case GZ_TRAILER: read_trailer(g); break;
      case GZ_NEXT: next_member(g); break;
      case GZ_END: return 0;
      default: return -1;
    }
  }
}

const char *sf_gz_error(const sf_gz *g) { return g->err; }

const char *sf_gz_warning(sf_gz *g) {
  if (!g->warned) return NULL;
  g->warned = 0;
  return g->warn;
}

void sf_gz_set_strict(sf_gz *g, int strict) { g->strict = strict; }

void sf_gz_close(sf_gz *g) {
  if (!g) return;
  inflateEnd(&g->z);
  free(g->buf);
  free(g);
}

#else  /* without zlib: gzip files are recognised, and refused by name */

sf_gz *sf_gz_open(int fd, const uint8_t *d, size_t n, int strict) {
  (void)fd, (void)d, (void)n, (void)strict;
  return NULL;
}
long sf_gz_read(sf_gz *g, uint8_t *dst, size_t n) {
  (void)g, (void)dst, (void)n;
  return -1;
}
const char *sf_gz_error(const sf_gz *g) { return (void)g, "gzip: built without zlib"; }
const char *sf_gz_warning(sf_gz *g) { return (void)g, NULL; }
void sf_gz_set_strict(sf_gz *g, int strict) { (void)g, (void)strict; }
void sf_gz_close(sf_gz *g) { (void)g; }

#endif
