/*
 * capframes.h -- every frame of a capture held in memory, for the C
 * benchmarks that time dissection over one (tls_bench, quic_bench,
 * wireless_bench), and their clocks: the wall clock, and this thread's
 * CPU time (the rate with the machine to itself, when others load it;
 * the wall-clock figure is the one compared).
 */
#ifndef BENCH_CAPFRAMES_H
#define BENCH_CAPFRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/io.h"

typedef struct frames {
  uint8_t *data;      /* the frames, one after another */
  size_t *off, *len;  /* frame i is data[off[i] .. off[i]+len[i]) */
  size_t n, bytes;
  int linktype;       /* the capture's */
} frames;

static inline double clock_now(clockid_t which) {
  struct timespec ts;
  clock_gettime(which, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double mono_now(void) { return clock_now(CLOCK_MONOTONIC); }
static inline double cpu_now(void) { return clock_now(CLOCK_THREAD_CPUTIME_ID); }

/* Append a frame; room doubles, so loading a large capture is quick. */
static inline int frames_add(frames *f, size_t *room, size_t *cap, const uint8_t *d,
                             size_t len) {
  if (f->n == *cap) {
    *cap = *cap ? 2 * *cap : 1024;
    f->off = realloc(f->off, *cap * sizeof *f->off);
    f->len = realloc(f->len, *cap * sizeof *f->len);
    if (!f->off || !f->len) return -1;
  }
  while (f->bytes + len > *room) {
    *room = *room ? 2 * *room : (size_t)1 << 20;
    if (!(f->data = realloc(f->data, *room))) return -1;
  }
  memcpy(f->data + f->bytes, d, len);
  f->off[f->n] = f->bytes;
  f->len[f->n++] = len;
  f->bytes += len;
  return 0;
}

/* Every record of the capture at path; -1, said on stderr, when it cannot
   be read or holds no frame. */
static inline int frames_load(frames *f, const char *path) {
  char err[256];
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  size_t room = 0, cap = 0;
  sf_rec rec;
  int rc, full = 0;
  if (!r) return fprintf(stderr, "%s\n", err), -1;
  memset(f, 0, sizeof *f);
  f->linktype = sf_reader_linktype(r);
  while (!full && (rc = sf_reader_next(r, &rec)) == SF_IO_REC)
    full = frames_add(f, &room, &cap, rec.data, rec.caplen) != 0;
  if (full) fprintf(stderr, "%s: out of memory\n", path);
  else if (rc == SF_IO_ERR) fprintf(stderr, "%s\n", sf_reader_error(r));
  else if (!f->n) fprintf(stderr, "%s: no frames\n", path);
  sf_reader_close(r);
  return full || rc == SF_IO_ERR || !f->n ? -1 : 0;
}

#endif
