/*
 * writer.c -- what both writers share: the file, a large output buffer
 * (one write(2) per megabyte), and the dispatch to the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iopriv.h"

#define OUTBUF (1u << 20)

/* ---- the output buffer ----------------------------------------------------- */

static int write_all(sf_out *o, const uint8_t *d, size_t n) {
  while (n > 0) {
    ssize_t k = write(o->fd, d, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return o->err = k < 0 ? errno : EIO;
    d += k;
    n -= (size_t)k;
  }
  return 0;
}

int sf_out_flush(sf_out *o) {
  if (o->err) return o->err;
  if (o->len && write_all(o, o->buf, o->len) != 0) return o->err;
  o->len = 0;
  return 0;
}

int sf_out_put(sf_out *o, const void *d, size_t n) {
  if (o->len + n > o->cap) {
    if (sf_out_flush(o) != 0) return o->err;
    if (n > o->cap) return write_all(o, d, n);  /* larger than the buffer */
  }
  memcpy(o->buf + o->len, d, n);
  o->len += n;
  return 0;
}

/* ---- writers ----------------------------------------------------------------- */

int sf_wr_fail(sf_writer *w, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(w->err, sizeof w->err, "%s: %s", w->name, what);
  return SF_IO_ERR;
}

static void writer_free(sf_writer *w) {
  if (w->out.own_fd && w->out.fd >= 0) close(w->out.fd);
  free(w->out.buf);
  free(w->ifs);
  free(w->name);
  free(w);
}

sf_writer *sf_writer_open(const char *path, const sf_wopts *o, char *err,
                          size_t errlen) {
  int out_ = strcmp(path, "-") == 0;
  sf_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->name = strdup(out_ ? "<stdout>" : path)) ||
      !(w->out.buf = malloc(OUTBUF))) {
    snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    if (w) writer_free(w);
    return NULL;
  }
  w->o = *o;
  w->out.cap = OUTBUF;
  w->out.own_fd = !out_;
  w->out.fd = out_ ? 1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (w->out.fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    writer_free(w);
    return NULL;
  }
  return w;
}

int sf_writer_write(sf_writer *w, const sf_rec *rec) {
  int rc = w->o.format == SF_FMT_PCAPNG ? sf_pcapng_write(w, rec)
                                        : sf_pcap_write(w, rec);
  if (rc == SF_OK) w->count++;
  return rc;
}

int sf_writer_flush(sf_writer *w) {
  if (sf_out_flush(&w->out) != 0)
    return sf_wr_fail(w, "%s", strerror(w->out.err));
  return SF_OK;
}

const char *sf_writer_error(const sf_writer *w) { return w->err; }
uint64_t sf_writer_count(const sf_writer *w) { return w->count; }

/* An empty capture still gets its file header, so that it opens. */
int sf_writer_close(sf_writer *w, char *err, size_t errlen) {
  int rc = w->o.format == SF_FMT_PCAPNG ? sf_pcapng_finish(w) : sf_pcap_finish(w);
  if (rc == SF_OK) rc = sf_writer_flush(w);
  if (w->out.own_fd) {
    if (close(w->out.fd) != 0 && rc == SF_OK) rc = sf_wr_fail(w, "%s", strerror(errno));
    w->out.fd = -1;  /* closed even when that failed */
  }
  if (rc != SF_OK && err) snprintf(err, errlen, "%s", w->err);
  writer_free(w);
  return rc;
}
