/*
 * mixfile.h -- load the packet mix written by gen_mix.lua (records of a
 * little-endian u32 length + bytes) and a monotonic clock; shared by the
 * sfcore benchmark and the libtins anchor so both read the same packets.
 */
#ifndef BENCH_MIXFILE_H
#define BENCH_MIXFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct mix {
  uint8_t *data;      /* the whole file */
  size_t npkts;
  size_t *off, *len;  /* packet i is data[off[i] .. off[i]+len[i]) */
  size_t bytes;       /* sum of len[] */
} mix;

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int mix_load(mix *m, const char *path) {
  FILE *f = fopen(path, "rb");
  long size;
  size_t pos = 0, n = 0, cap = 1024;
  if (!f) return perror(path), -1;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  m->data = (uint8_t *)malloc((size_t)size + 1);
  m->off = (size_t *)malloc(cap * sizeof(size_t));
  m->len = (size_t *)malloc(cap * sizeof(size_t));
  m->bytes = 0;
  if (!m->data || !m->off || !m->len ||
      fread(m->data, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    return fprintf(stderr, "%s: read failed\n", path), -1;
  }
  fclose(f);
  while (pos + 4 <= (size_t)size) {
    const uint8_t *h = m->data + pos;
    size_t l = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 |
               (size_t)h[3] << 24;
    if (pos + 4 + l > (size_t)size)
      return fprintf(stderr, "%s: record at byte %zu overruns the file\n",
                     path, pos), -1;
    if (n == cap) {
      cap *= 2;
      m->off = (size_t *)realloc(m->off, cap * sizeof(size_t));
      m->len = (size_t *)realloc(m->len, cap * sizeof(size_t));
      if (!m->off || !m->len) return fprintf(stderr, "out of memory\n"), -1;
    }
    m->off[n] = pos + 4;
    m->len[n++] = l;
    m->bytes += l;
    pos += 4 + l;
  }
  m->npkts = n;
  if (n == 0) return fprintf(stderr, "%s: no packets\n", path), -1;
  return 0;
}

#endif
