/*
 * writer.c -- what both writers share: the file, a large output buffer
 * (one write(2) per megabyte), and the dispatch to the format.
 *
 * A regular file is never truncated in place: the writer fills a
 * temporary file in the same folder (".NAME.sflua-PID-N") and renames it
 * over NAME when it is closed.  Readers that still map the old file keep
 * reading the old inode (wrpcap("x.pcap", rdpcap("x.pcap")) is safe), and
 * a failed or abandoned write leaves the old file as it was.  Appending
 * writes after the file's end and cuts it back on failure.  Devices,
 * pipes and standard output are written directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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

/* ---- where the bytes go ------------------------------------------------------ */

static int os_error(char *err, size_t errlen, const char *path, const char *what) {
  int e = errno;
  snprintf(err, errlen, "%s: %s%s", path, what, strerror(e));
  errno = e;
  return -1;
}

/* ".NAME.sflua-PID-N" beside final, created with the permissions a new
   file would get (mode & ~umask), or the old file's mode. */
static int open_temp(sf_writer *w, const struct stat *old, char *err, size_t errlen) {
  static atomic_uint serial;
  const char *slash = strrchr(w->final, '/');
  size_t dirlen = slash ? (size_t)(slash - w->final) + 1 : 0;
  size_t n = strlen(w->final) + 48;
  int tries, fd = -1;
  if (!(w->temp = malloc(n))) return errno = ENOMEM, os_error(err, errlen, w->name, "");
  for (tries = 0; tries < 100 && fd < 0; tries++) {
    snprintf(w->temp, n, "%.*s.%s.sflua-%ld-%u", (int)dirlen, w->final,
             w->final + dirlen, (long)getpid(), atomic_fetch_add(&serial, 1));
    fd = open(w->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    free(w->temp);
    w->temp = NULL;
    return -1;  /* errno says why */
  }
  if (old && fchmod(fd, old->st_mode & 07777) != 0) {
    /* best effort, as cp: the new file keeps the default mode */
  }
  w->out.fd = fd;
  return 0;
}

/* The file the temporary one replaces: a symbolic link's target, so the
   link stays a link. */
static int set_final(sf_writer *w, const char *path, int exists) {
  char real[PATH_MAX];
  w->final = strdup(exists && realpath(path, real) ? real : path);
  return w->final ? 0 : -1;
}

/* No temporary file can be made beside path (a folder we may not write
   in): write in place, unless we are reading that very file. */
static int open_in_place(sf_writer *w, const char *path, const struct stat *old,
                         char *err, size_t errlen) {
  int e = errno;
  if (old && sf_map_file_mapped((uint64_t)old->st_dev, (uint64_t)old->st_ino)) {
    snprintf(err, errlen, "%s: cannot replace a file that is being read without "
             "a temporary file beside it (%s)", path, strerror(e));
    return -1;
  }
  free(w->final);
  w->final = NULL;
  w->out.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  return w->out.fd < 0 ? os_error(err, errlen, path, "") : 0;
}

static int open_replacing(sf_writer *w, const char *path, char *err, size_t errlen) {
  struct stat st;
  int exists = stat(path, &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) return errno = EISDIR, os_error(err, errlen, path, "");
  if (exists && !S_ISREG(st.st_mode)) {  /* a device or a pipe */
    w->out.fd = open(path, O_WRONLY | O_CLOEXEC);
    return w->out.fd < 0 ? os_error(err, errlen, path, "") : 0;
  }
  if (set_final(w, path, exists) != 0) return errno = ENOMEM, os_error(err, errlen, path, "");
  if (open_temp(w, exists ? &st : NULL, err, errlen) == 0) return 0;
  if (errno == EACCES || errno == EPERM || errno == EROFS || errno == ENAMETOOLONG)
    return open_in_place(w, path, exists ? &st : NULL, err, errlen);
  return os_error(err, errlen, path, "cannot create a temporary file beside it: ");
}

/* Take on an existing capture's format, byte order and link type, and
   write after its end. */
static int open_appending(sf_writer *w, const char *path, char *err, size_t errlen) {
  sf_tail t;
  if (sf_reader_tail(path, &t, err, errlen) != SF_OK) return -1;
  if (w->o.format && w->o.format != t.format) {
    snprintf(err, errlen, "%s: cannot append %s to a %s file", path,
             w->o.format == SF_FMT_PCAPNG ? "pcapng" : "pcap",
             t.format == SF_FMT_PCAPNG ? "pcapng" : "pcap");
    return -1;
  }
  w->o.format = t.format;
  if (t.format == SF_FMT_PCAP) {
    if (w->o.linktype >= 0 && w->o.linktype != t.linktype) {
      snprintf(err, errlen, "%s: cannot append link type %d to a pcap file of "
               "link type %d", path, (int)w->o.linktype, (int)t.linktype);
      return -1;
    }
    w->linktype = t.linktype;
    w->o.nanosecond = t.nano;
    w->o.snaplen = t.snaplen;
    w->big = t.big;
    w->started = 1;
  }
  w->appending = 1;
  w->old_size = t.size;
  if ((w->out.fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
      lseek(w->out.fd, (off_t)t.size, SEEK_SET) < 0)
    return os_error(err, errlen, path, "");
  return 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int open_output(sf_writer *w, const char *path, char *err, size_t errlen) {
  struct stat st;
  if (strcmp(path, "-") == 0) {
    w->out.fd = 1;
    w->out.own_fd = 0;
    return 0;
  }
  w->out.own_fd = 1;
  if (w->o.append && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    return open_appending(w, path, err, errlen);
  return open_replacing(w, path, err, errlen);
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
  free(w->temp);
  free(w->final);
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
  w->out.fd = -1;
  w->linktype = -1;
  if (open_output(w, path, err, errlen) != 0) {
    sf_writer_abort(w);
    return NULL;
  }
  if (!w->o.format) w->o.format = ends_with(path, ".pcapng") ? SF_FMT_PCAPNG : SF_FMT_PCAP;
  if (w->o.nanosecond < 0) w->o.nanosecond = w->o.format == SF_FMT_PCAPNG;  /* exact */
  return w;
}

/* Bytes borrowed from a mapped file that was cut short read as zeros:
   refuse them rather than write zeros (one load when no file was cut). */
static int check_bytes(sf_writer *w, const sf_rec *rec) {
  char msg[400];
  if (!atomic_load_explicit(&sf_map_ncuts_, memory_order_relaxed) ||
      sf_map_check(rec->data, rec->caplen, msg, sizeof msg) == SF_OK)
    return SF_OK;
  return sf_wr_fail(w, "packet %llu: %s", (unsigned long long)w->count + 1, msg);
}

int sf_writer_write(sf_writer *w, const sf_rec *rec) {
  int rc = check_bytes(w, rec);
  if (rc == SF_OK)
    rc = w->o.format == SF_FMT_PCAPNG ? sf_pcapng_write(w, rec) : sf_pcap_write(w, rec);
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

/* Close the file and put it in place. */
static int commit(sf_writer *w) {
  int fd = w->out.fd;
  w->out.fd = -1;
  if (w->out.own_fd && close(fd) != 0) return sf_wr_fail(w, "%s", strerror(errno));
  if (w->temp) {
    if (rename(w->temp, w->final) != 0)
      return sf_wr_fail(w, "cannot put the new file in place: %s", strerror(errno));
    free(w->temp);
    w->temp = NULL;  /* nothing to remove any more */
  }
  return SF_OK;
}

/* An empty capture still gets its file header, so that it opens. */
int sf_writer_close(sf_writer *w, char *err, size_t errlen) {
  int rc = w->o.format == SF_FMT_PCAPNG ? sf_pcapng_finish(w) : sf_pcap_finish(w);
  if (rc == SF_OK) rc = sf_writer_flush(w);
  if (rc == SF_OK) rc = commit(w);
  if (rc != SF_OK) {
    if (err) snprintf(err, errlen, "%s", w->err);
    sf_writer_abort(w);
    return rc;
  }
  writer_free(w);
  return SF_OK;
}

void sf_writer_abort(sf_writer *w) {
  if (!w) return;
  if (w->appending && w->out.fd >= 0 && ftruncate(w->out.fd, (off_t)w->old_size) != 0) {
    /* nothing more to try: the message already says the write failed */
  }
  if (w->temp) unlink(w->temp);
  writer_free(w);
}
