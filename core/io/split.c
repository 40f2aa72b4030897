/*
 * split.c -- a capture cut into chunks of whole records, so that threads
 * can read it side by side: a chunk's reader hands out exactly the
 * records a reader of the whole file would have for that stretch, with
 * their times, interfaces and errors, and the chunk knows the index of
 * its first record in the file.
 *
 * Where records start is known only by reading their headers in order
 * (pcap has no sync marks), but that scan is parallel too: each thread
 * scans 1/n of the file from a guessed start -- the first offset from
 * which several records (pcapng: blocks, whose trailing length repeats the
 * leading one) frame one another -- and each guess is checked when the
 * scans are joined: the scan before it must have ended exactly there, in
 * the same byte order.  A wrong guess (a payload that frames like
 * records: a capture of a capture being copied) costs that part a second,
 * serial scan from where the one before ended, never a wrong answer.
 *
 * The scan checks framing only.  Damage it stops at stays in the last
 * chunk, whose reader runs on to the end and reports it as a reader of
 * the whole file would; a record the readers refuse (strict) fails in
 * its chunk, and the drivers stop there (nothing after it is used).
 *
 * A capture that is not a mapped file (stdin, a pipe, gzip) is one
 * chunk, read by the reader that opened it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../par/par.h"
#include "iopriv.h"

#define CHAIN 8  /* units that must frame one another after a guessed start */
#define SEARCH ((uint64_t)8 << 20)  /* how far a start is looked for */

typedef struct cut {     /* a chunk as scanned */
  uint64_t start, count;
} cut;

typedef struct mark {    /* pcapng: a section header or interface block */
  uint64_t off;
  int kind;              /* SF_HOP_SECTION or SF_HOP_IFACE */
} mark;

/* One thread's share of the scan. */
typedef struct region {
  uint64_t from, to;     /* nominal: units starting in [from, to) */
  uint64_t start;        /* where the scan began; UINT64_MAX: no start found */
  uint64_t end;          /* the first unit boundary >= to, or where it stopped */
  int stopped;           /* no unit at end: the input ends, or damage */
  int big0, big1;        /* byte order at start and at end */
  int oom;
  double cpu;            /* seconds its thread spent on it */
  cut *cuts;
  size_t ncuts, capcuts;
  mark *marks;
  size_t nmarks, capmarks;
} region;

typedef int (*hop_fn)(const sf_reader *r, const uint8_t *d, uint64_t n,
                      uint64_t off, const int64_t *ref, int *big, uint64_t *next);

struct sf_split {
  sf_reader *base;       /* opened the file: the template of chunk readers */
  char *name;            /* the file's, for messages */
  int handed;            /* a stream: base went to the one chunk's reader */
  sf_chunk *chunks;
  size_t n;
  mark *marks;           /* pcapng: every section and interface, in order */
  uint64_t *ifaces_before;  /* for each mark: interface blocks before it */
  size_t nmarks;
  double cpu_sum, cpu_max;  /* the scan's threads: all, and the longest */
  /* while scanning */
  const uint8_t *d;
  uint64_t size, chunk_bytes;
  hop_fn hop;
  region *regions;
};

/* ---- growing lists ------------------------------------------------------------ */

static int grow(void **v, size_t *cap, size_t n, size_t size) {
  size_t c;
  void *nv;
  if (n < *cap) return 0;
  c = *cap ? *cap * 2 : 16;
  if (!(nv = realloc(*v, c * size))) return -1;
  *v = nv;
  *cap = c;
  return 0;
}

static void add_cut(region *g, uint64_t start, uint64_t count) {
  if (grow((void **)&g->cuts, &g->capcuts, g->ncuts, sizeof *g->cuts) != 0) {
    g->oom = 1;
    return;
  }
  g->cuts[g->ncuts].start = start;
  g->cuts[g->ncuts++].count = count;
}

static void add_mark(region *g, uint64_t off, int kind) {
  if (grow((void **)&g->marks, &g->capmarks, g->nmarks, sizeof *g->marks) != 0) {
    g->oom = 1;
    return;
  }
  g->marks[g->nmarks].off = off;
  g->marks[g->nmarks++].kind = kind;
}

static void region_reset(region *g) {
  free(g->cuts);
  free(g->marks);
  g->cuts = NULL;
  g->marks = NULL;
  g->ncuts = g->capcuts = g->nmarks = g->capmarks = 0;
  g->stopped = g->oom = 0;
}

/* ---- the scan ------------------------------------------------------------------ */

/* Scan g's units from off (a unit boundary, byte order big) up to the
   first boundary at or past g->to, cutting a chunk every chunk_bytes. */
static void scan(const sf_split *s, region *g, uint64_t off, int big) {
  uint64_t cstart = off, count = 0, next = 0;
  g->start = off;
  g->big0 = big;
  while (off < g->to) {
    int kind = s->hop(s->base, s->d, s->size, off, NULL, &big, &next);
    if (kind == SF_HOP_END) {
      g->stopped = 1;
      break;
    }
    if (kind == SF_HOP_RECORD) {
      if (count && off - cstart >= s->chunk_bytes) {
        add_cut(g, cstart, count);
        cstart = off;
        count = 0;
      }
      count++;
    } else if (kind == SF_HOP_SECTION || kind == SF_HOP_IFACE) {
      add_mark(g, off, kind);
    }
    off = next;
  }
  add_cut(g, cstart, count);
  g->end = off;
  g->big1 = big;
}

/* What a guess needs to know of a capture. */
typedef struct guesser {
  const sf_reader *r;
  const uint8_t *d;
  uint64_t size;
  hop_fn hop;
  int64_t ref;           /* pcap: the first record's seconds */
} guesser;

static guesser guesser_of(const sf_reader *r) {
  guesser g;
  const sf_map *m = r->src.map;
  g.r = r;
  g.d = m->base;
  g.size = m->size;
  g.hop = r->format == SF_FMT_PCAPNG ? sf_pcapng_hop : sf_pcap_hop;
  g.ref = r->format == SF_FMT_PCAP && m->size >= 28 ? sf_get32(m->base + 24, r->big) : 0;
  return g;
}

/* Do CHAIN units (or fewer ending exactly at the end of the file) frame
   one another from off, each looking like a real one? */
static int frames(const guesser *g, uint64_t off, int big) {
  uint64_t next = 0;
  int i;
  for (i = 0; i < CHAIN; i++) {
    if (off == g->size) return i > 0;
    if (g->hop(g->r, g->d, g->size, off, &g->ref, &big, &next) == SF_HOP_END) return 0;
    off = next;
  }
  return 1;
}

/* The first offset in [from, to) that frames (pcapng blocks lie on
   4-byte boundaries); UINT64_MAX when none does. */
static uint64_t guess(const guesser *g, uint64_t from, uint64_t to) {
  uint64_t step = g->r->format == SF_FMT_PCAPNG ? 4 : 1, off;
  if (to - from > SEARCH) to = from + SEARCH;  /* then the stretch is read again */
  for (off = (from + step - 1) / step * step; off < to; off += step)
    if (frames(g, off, g->r->big)) return off;
  return UINT64_MAX;
}

uint64_t sf_reader_guess(const sf_reader *r, uint64_t from, uint64_t to) {
  guesser g;
  if (!r->src.map) return UINT64_MAX;
  g = guesser_of(r);
  return guess(&g, from, to > g.size ? g.size : to);
}

static double thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void scan_region(void *ud, int i) {
  sf_split *s = (sf_split *)ud;
  region *g = &s->regions[i];
  double t0 = thread_cpu();
  uint64_t start = i == 0 ? g->from : sf_reader_guess(s->base, g->from, g->to);
  if (start == UINT64_MAX) g->start = UINT64_MAX;
  else scan(s, g, start, s->base->big);
  g->cpu = thread_cpu() - t0;
}

/* ---- joining the scans ------------------------------------------------------------ */

static int take_region(sf_split *s, const region *g, uint64_t *first,
                       size_t *capchunks, size_t *capmarks) {
  size_t i;
  for (i = 0; i < g->ncuts; i++) {
    sf_chunk *c;
    if (!g->cuts[i].count) continue;  /* its units go to the chunk before */
    if (grow((void **)&s->chunks, capchunks, s->n, sizeof *s->chunks) != 0) return -1;
    c = &s->chunks[s->n++];
    c->start = g->cuts[i].start;
    c->first = *first;
    c->count = g->cuts[i].count;
    *first += c->count;
  }
  for (i = 0; i < g->nmarks; i++) {
    if (grow((void **)&s->marks, capmarks, s->nmarks, sizeof *s->marks) != 0) return -1;
    s->marks[s->nmarks++] = g->marks[i];
  }
  return 0;
}

/* Each region's guessed start checked against where the one before
   ended; a wrong one scanned again from there.  Regions after damage or
   the end are dropped. */
static int join(sf_split *s, int nregions) {
  size_t capchunks = 0, capmarks = 0;
  uint64_t first = 0;
  int k;
  region *prev = &s->regions[0];
  if (prev->oom || take_region(s, prev, &first, &capchunks, &capmarks) != 0) return -1;
  for (k = 1; k < nregions && !prev->stopped; k++) {
    region *g = &s->regions[k];
    if (g->start != prev->end || g->big0 != prev->big1 || g->oom) {
      double t0 = thread_cpu();
      region_reset(g);
      scan(s, g, prev->end, prev->big1);
      s->cpu_max += thread_cpu() - t0;  /* serial: on the critical path */
      s->cpu_sum += thread_cpu() - t0;
    }
    if (g->oom || take_region(s, g, &first, &capchunks, &capmarks) != 0) return -1;
    prev = g;
  }
  return 0;
}

/* Chunk ends, and for pcapng the interface blocks before each mark. */
static int finish(sf_split *s) {
  size_t i;
  uint64_t ifaces = 0;
  if (s->n == 0) {  /* no record at all: one empty chunk, for the errors */
    if (!(s->chunks = calloc(1, sizeof *s->chunks))) return -1;
    s->chunks[0].start = s->base->src.off;
    s->n = 1;
  }
  s->chunks[0].start = s->base->format == SF_FMT_PCAPNG ? 0 : s->base->src.off;
  for (i = 0; i < s->n; i++)
    s->chunks[i].end = i + 1 < s->n ? s->chunks[i + 1].start : UINT64_MAX;
  if (s->nmarks && !(s->ifaces_before = malloc(s->nmarks * sizeof *s->ifaces_before)))
    return -1;
  for (i = 0; i < s->nmarks; i++) {
    s->ifaces_before[i] = ifaces;
    if (s->marks[i].kind == SF_HOP_IFACE) ifaces++;
  }
  return 0;
}

/* ---- the split ---------------------------------------------------------------------- */

/* A stream: one chunk, the reader that opened it. */
static sf_split *one_stream(sf_split *s) {
  if (!(s->chunks = calloc(1, sizeof *s->chunks))) {
    sf_split_close(s);
    return NULL;
  }
  s->chunks[0].end = UINT64_MAX;
  s->chunks[0].count = UINT64_MAX;  /* not known before it is read */
  s->n = 1;
  return s;
}

/* Regions for t threads: equal stretches of the bytes after the file
   header (pcapng: from 0, its first section header a mark too). */
static void plan(sf_split *s, int t) {
  uint64_t from = s->base->format == SF_FMT_PCAPNG ? 0 : s->base->src.off;
  uint64_t span = s->size - from;
  int k;
  for (k = 0; k < t; k++) {
    s->regions[k].from = from + span / (uint64_t)t * (uint64_t)k;
    s->regions[k].to = k + 1 < t ? from + span / (uint64_t)t * (uint64_t)(k + 1)
                                 : UINT64_MAX;
  }
}

/* Scan with t threads (the caller's alone when t is 1 or threads cannot
   be made: the answer is the same). */
static int scan_all(sf_split *s, int t) {
  sf_gang *g = NULL;
  int k, rc;
  if (!(s->regions = calloc((size_t)t, sizeof *s->regions))) return -1;
  plan(s, t);
  if (t > 1 && (g = sf_gang_start(t, scan_region, s)) != NULL) {
    sf_gang_join(g);
  } else {
    for (k = 1; k < t; k++) s->regions[k].start = UINT64_MAX;  /* join scans them */
    scan_region(s, 0);
  }
  for (k = 0; k < t; k++) {
    s->cpu_sum += s->regions[k].cpu;
    if (s->regions[k].cpu > s->cpu_max) s->cpu_max = s->regions[k].cpu;
  }
  rc = join(s, t);
  for (k = 0; k < t; k++) region_reset(&s->regions[k]);
  free(s->regions);
  s->regions = NULL;
  return rc == 0 ? finish(s) : -1;
}

static int threads_for(const sf_split *s, int threads) {
  uint64_t most = s->size / (s->chunk_bytes ? s->chunk_bytes : 1) + 1;
  if (threads < 1) threads = sf_par_cpus();
  return (uint64_t)threads > most ? (int)most : threads;
}

sf_split *sf_split_open(const char *path, const sf_ropts *ro, int threads,
                        uint64_t chunk_bytes, char *err, size_t errlen) {
  sf_split *s = calloc(1, sizeof *s);
  sf_map *m;
  if (!s) {
    snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    return NULL;
  }
  if (!(s->base = sf_reader_open(path, err, errlen))) {
    free(s);
    return NULL;
  }
  sf_reader_apply(s->base, ro);
  if (!(s->name = strdup(s->base->src.name))) {
    snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    sf_split_close(s);
    return NULL;
  }
  if (!(m = sf_reader_map(s->base))) return one_stream(s);
  s->d = m->base;
  s->size = m->size;
  s->chunk_bytes = chunk_bytes ? chunk_bytes : SF_SPLIT_CHUNK;
  s->hop = s->base->format == SF_FMT_PCAPNG ? sf_pcapng_hop : sf_pcap_hop;
  if (scan_all(s, threads_for(s, threads)) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    sf_split_close(s);
    return NULL;
  }
  return s;
}

size_t sf_split_count(const sf_split *s) { return s->n; }
const sf_chunk *sf_split_chunk(const sf_split *s, size_t i) { return &s->chunks[i]; }
const sf_reader *sf_split_base(const sf_split *s) { return s->handed ? NULL : s->base; }
int sf_split_mapped(const sf_split *s) { return s->d != NULL; }

double sf_split_scan_cpu(const sf_split *s, double *longest) {
  if (longest) *longest = s->cpu_max;
  return s->cpu_sum;
}

/* pcapng: the state at off -- the last section header before it and the
   interface blocks after that one -- read again into r. */
static void replay(const sf_split *s, sf_reader *r, uint64_t off) {
  size_t i, shb = s->nmarks;
  for (i = 0; i < s->nmarks && s->marks[i].off < off; i++)
    if (s->marks[i].kind == SF_HOP_SECTION) shb = i;
  if (shb == s->nmarks) return;
  r->id_base = (uint32_t)s->ifaces_before[shb];
  r->nifaces = 0;
  for (i = shb; i < s->nmarks && s->marks[i].off < off; i++)
    if (sf_pcapng_replay(r, s->marks[i].off) != SF_OK) break;  /* its chunk fails first */
  r->src.off = off;
}

sf_reader *sf_split_reader(sf_split *s, size_t i, char *err, size_t errlen) {
  const sf_chunk *c = &s->chunks[i];
  sf_reader *r;
  if (!s->d) {
    if (s->handed) {
      snprintf(err, errlen, "%s: a stream is read once", s->name);
      return NULL;
    }
    s->handed = 1;
    return s->base;
  }
  if (!(r = sf_reader_clone_at(s->base, c->start, c->end))) {
    snprintf(err, errlen, "%s: %s", s->name, strerror(ENOMEM));
    return NULL;
  }
  if (r->format == SF_FMT_PCAPNG) replay(s, r, c->start);
  return r;
}

void sf_split_close(sf_split *s) {
  if (!s) return;
  if (!s->handed) sf_reader_close(s->base);
  free(s->name);
  free(s->chunks);
  free(s->marks);
  free(s->ifaces_before);
  free(s);
}
