/*
 * stream.c -- reassembled byte streams and the memory budget.
 *
 * A stream grows on the heap until the budget would be exceeded; then the
 * largest heap streams move to the table's spill file and take later
 * appends there.  The file is one per table, unlinked as soon as created
 * (so it vanishes when closed or when the process dies, Ctrl-C included),
 * and cut into fixed blocks that streams own in order: one file instead of
 * one per stream, because creating thousands of files costs more than the
 * writes.  Reading back is pread into the caller's buffer, which keeps
 * spilled bytes in the page cache and out of our resident set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowpriv.h"
#include "../io/io.h"

#define BS SF_SPILL_BLOCK

void sf_stream_init(sf_stream *s) { memset(s, 0, sizeof *s); }

void sf_budget_charge(sf_flows *t, int64_t delta) {
  t->mem = (uint64_t)((int64_t)t->mem + delta);
}

void sf_budget_fixed(sf_flows *t, int64_t delta) {
  t->mem_fixed = (uint64_t)((int64_t)t->mem_fixed + delta);
}

/* ---- the spill file -------------------------------------------------------- */

static int open_spill(sf_flows *t) {
  const char *dir = t->c.spill_dir ? t->c.spill_dir : getenv("TMPDIR");
  char path[4096];
  if (t->spill_fd >= 0) return SF_OK;
  if (!dir || !*dir) dir = "/tmp";
  if (snprintf(path, sizeof path, "%s/sflua-spill-XXXXXX", dir) >= (int)sizeof path)
    return SF_E_NOMEM;
  t->spill_fd = mkstemp(path);
  if (t->spill_fd < 0) return SF_E_NOMEM;
  unlink(path);  /* nothing to clean up, whatever happens next */
  return SF_OK;
}

void sf_spill_close(sf_flows *t) {
  if (t->spill_fd >= 0) close(t->spill_fd);
  t->spill_fd = -1;
  free(t->free_blocks);
  t->free_blocks = NULL;
  t->nfree = t->capfree = 0;
}

static int pwrite_all(int fd, const uint8_t *d, size_t n, off_t at) {
  while (n) {
    ssize_t w = pwrite(fd, d, n, at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return SF_E_NOMEM;
    d += w;
    n -= (size_t)w;
    at += w;
  }
  return SF_OK;
}

static int pread_all(int fd, uint8_t *d, size_t n, off_t at) {
  while (n) {
    ssize_t r = pread(fd, d, n, at);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return SF_E_NOMEM;
    d += r;
    n -= (size_t)r;
    at += r;
  }
  return SF_OK;
}

/* A block for s: a freed one, else a new one at the end of the file. */
static int add_block(sf_flows *t, sf_stream *s) {
  if (s->nblocks == s->capblocks) {
    uint32_t cap = s->capblocks ? s->capblocks * 2 : 4;
    uint32_t *b = realloc(s->blocks, cap * sizeof *b);
    if (!b) return SF_E_NOMEM;
    s->blocks = b;
    s->capblocks = cap;
  }
  if (t->nfree) s->blocks[s->nblocks++] = t->free_blocks[--t->nfree];
  else if (t->spill_blocks < UINT32_MAX) s->blocks[s->nblocks++] = t->spill_blocks++;
  else return SF_E_TOOBIG;
  return SF_OK;
}

/* Append n bytes to a spilled stream, block by block. */
static int spill_write(sf_flows *t, sf_stream *s, const uint8_t *d, size_t n) {
  while (n) {
    size_t in = s->len % BS, k = BS - in;
    if (in == 0 && s->len / BS == s->nblocks && add_block(t, s) != SF_OK)
      return SF_E_NOMEM;
    if (k > n) k = n;
    if (pwrite_all(t->spill_fd, d, k,
                   (off_t)s->blocks[s->len / BS] * (off_t)BS + (off_t)in) != SF_OK)
      return SF_E_NOMEM;
    s->len += k;
    t->spilled += k;
    d += k;
    n -= k;
  }
  return SF_OK;
}

static void free_refs(sf_flows *t, sf_stream *s) {
  uint32_t i;
  for (i = 0; i < s->nrefs; i++)
    if (s->refs[i].owned) {
      sf_budget_charge(t, -(int64_t)s->refs[i].n);
      free((void *)s->refs[i].p);
    }
  sf_budget_charge(t, -(int64_t)(s->caprefs * sizeof *s->refs));
  free(s->refs);
  s->refs = NULL;
  s->nrefs = s->caprefs = 0;
}

/* Write what s holds (len heap bytes, or pieces) to its blocks. */
static int spill_content(sf_flows *t, sf_stream *s, size_t len) {
  uint32_t i;
  if (!s->refs) return len ? spill_write(t, s, s->mem, len) : SF_OK;
  for (i = 0; i < s->nrefs; i++)
    if (spill_write(t, s, s->refs[i].p, s->refs[i].n) != SF_OK) return SF_E_NOMEM;
  return SF_OK;
}

/* Move s to the spill file; SF_OK or an error (s unchanged but for
   blocks it may have gained). */
static int spill(sf_flows *t, sf_stream *s) {
  size_t len = s->len;
  int reread;
  if (open_spill(t) != SF_OK) return SF_E_NOMEM;
  s->len = 0;
  s->spilled = 1;
  if (spill_content(t, s, len) != SF_OK) {
    t->spilled -= s->len;
    s->len = len;
    s->spilled = 0;
    return SF_E_NOMEM;
  }
  sf_budget_charge(t, -(int64_t)s->cap);
  free(s->mem);
  s->mem = NULL;
  s->cap = 0;
  reread = s->refs != NULL;
  free_refs(t, s);
  t->spills++;
  if (reread && t->c.on_spill) t->c.on_spill(t->c.ud);
  return SF_OK;
}

int sf_stream_spill(sf_flows *t, sf_stream *s) { return spill(t, s); }

/* ---- choosing what to spill -------------------------------------------------- */

#define SPILL_BATCH 64

/* The up to SPILL_BATCH largest heap streams, largest first. */
typedef struct batch {
  sf_stream *s[SPILL_BATCH];
  int n;
} batch;

/* Heap bytes a stream holds: its buffer, or its pieces' table. */
static size_t weight(const sf_stream *s) {
  return s->refs ? s->caprefs * sizeof *s->refs : s->cap;
}

static void consider(batch *b, sf_stream *s) {
  int i;
  size_t w = weight(s);
  if (s->spilled || !w) return;
  if (b->n == SPILL_BATCH && w <= weight(b->s[SPILL_BATCH - 1])) return;
  i = b->n < SPILL_BATCH ? b->n++ : SPILL_BATCH - 1;
  for (; i > 0 && weight(b->s[i - 1]) < w; i--) b->s[i] = b->s[i - 1];
  b->s[i] = s;
}

static void consider_list(batch *b, sf_flow *f) {
  for (; f; f = f->next) {
    if (f->dir[0].r) consider(b, &f->dir[0].r->data);
    if (f->dir[1].r) consider(b, &f->dir[1].r->data);
  }
}

/* One pass over live and ended conversations. */
static void largest(sf_flows *t, batch *b) {
  int c;
  b->n = 0;
  for (c = 0; c < SF_NLRU; c++) consider_list(b, t->lru_head[c]);
  consider_list(b, t->done_head);
}

static void spill_list(sf_flows *t, sf_flow *f) {
  int d;
  for (; f; f = f->next)
    for (d = 0; d < 2; d++) {
      sf_stream *s = f->dir[d].r ? &f->dir[d].r->data : NULL;
      if (s && !s->spilled && weight(s)) spill(t, s);
    }
}

/* Every heap stream, in one pass: when the rest of what the budget covers
   leaves streams (almost) no room. */
static void spill_all(sf_flows *t) {
  int c;
  for (c = 0; c < SF_NLRU; c++) spill_list(t, t->lru_head[c]);
  spill_list(t, t->done_head);
}

/* Before n more heap bytes: when they would pass the budget, streams may
   keep half the room the rest (records, held segments) leaves them.  The
   largest spill first, a batch per pass, so the pass (linear in the
   number of conversations) runs rarely. */
void sf_budget_reserve(sf_flows *t, size_t n) {
  uint64_t budget = t->limit, fixed = t->mem_fixed + n, goal;
  batch b;
  int i;
  if (!budget || t->mem + fixed <= budget) return;
  goal = budget > fixed ? (budget - fixed) / 2 : 0;
  if (goal < t->mem / 4) {  /* most must go: no need to choose */
    spill_all(t);
    return;
  }
  do {
    largest(t, &b);
    for (i = 0; i < b.n && t->mem > goal; i++)
      if (spill(t, b.s[i]) != SF_OK) return;
  } while (b.n == SPILL_BATCH && t->mem > goal);
}

/* ---- streams ------------------------------------------------------------------- */

static int grow(sf_flows *t, sf_stream *s, size_t need) {
  size_t cap = s->cap ? s->cap : 256;
  uint8_t *m;
  while (cap < need) cap *= 2;
  sf_budget_reserve(t, cap - s->cap);
  if (s->spilled) return SF_OK;  /* spilled while making room */
  if (!(m = realloc(s->mem, cap))) return SF_E_NOMEM;
  sf_budget_charge(t, (int64_t)(cap - s->cap));
  s->mem = m;
  s->cap = cap;
  return SF_OK;
}

static int add_ref(sf_flows *t, sf_stream *s, const uint8_t *d, size_t n,
                   int stable) {
  uint8_t *copy = NULL;
  if (s->nrefs == s->caprefs) {
    uint32_t cap = s->caprefs ? s->caprefs * 2 : 8;
    sf_ref *v;
    sf_budget_reserve(t, (cap - s->caprefs) * sizeof *v);
    if (s->spilled) return spill_write(t, s, d, n);  /* spilled making room */
    if (!(v = realloc(s->refs, cap * sizeof *v))) return SF_E_NOMEM;
    sf_budget_charge(t, (int64_t)((cap - s->caprefs) * sizeof *v));
    s->refs = v;
    s->caprefs = cap;
  }
  if (!stable) {  /* a held segment about to be freed: keep a copy */
    if (!(copy = malloc(n))) return SF_E_NOMEM;
    memcpy(copy, d, n);
    sf_budget_charge(t, (int64_t)n);
  }
  s->refs[s->nrefs].p = copy ? copy : d;
  s->refs[s->nrefs].n = (uint32_t)n;
  s->refs[s->nrefs++].owned = copy != NULL;
  s->len += n;
  return SF_OK;
}

int sf_stream_append(sf_flows *t, sf_stream *s, const uint8_t *d, size_t n,
                     int stable) {
  if (s->spilled) return spill_write(t, s, d, n);
  if (n > UINT32_MAX) return SF_E_TOOBIG;
  if (t->c.stable_input) return add_ref(t, s, d, n, stable);
  if (s->len + n > s->cap && grow(t, s, s->len + n) != SF_OK) return SF_E_NOMEM;
  if (s->spilled) return spill_write(t, s, d, n);
  memcpy(s->mem + s->len, d, n);
  s->len += n;
  return SF_OK;
}

/* Give the blocks back for other streams to reuse. */
static void free_blocks(sf_flows *t, sf_stream *s) {
  uint32_t need = t->nfree + s->nblocks;
  if (need > t->capfree) {
    uint32_t cap = t->capfree ? t->capfree : 64, *v;
    while (cap < need) cap *= 2;
    if (!(v = realloc(t->free_blocks, cap * sizeof *v))) return;  /* leaked in the file only */
    t->free_blocks = v;
    t->capfree = cap;
  }
  memcpy(t->free_blocks + t->nfree, s->blocks, s->nblocks * sizeof *s->blocks);
  t->nfree = need;
}

void sf_stream_free(sf_flows *t, sf_stream *s) {
  if (s->spilled) {
    free_blocks(t, s);
    t->spilled -= s->len;
  } else {
    sf_budget_charge(t, -(int64_t)s->cap);
  }
  free_refs(t, s);
  free(s->mem);
  free(s->blocks);
  sf_stream_init(s);
}

static const sf_stream *stream_of(const sf_flow *f, int d) {
  return f->dir[d].r ? &f->dir[d].r->data : NULL;
}

size_t sf_flow_stream_len(const sf_flow *f, int d) {
  const sf_stream *s = stream_of(f, d);
  return s ? s->len : 0;
}

/* n bytes from off of a stream made of pieces; returns how many, or -1
   when the capture they lie in was cut short under its mapping (the
   reason in t->err). */
static long long read_refs(sf_flows *t, const sf_stream *s, uint64_t off,
                           uint8_t *dst, size_t n) {
  size_t done = 0;
  uint32_t i;
  uint64_t at = 0;
  for (i = 0; i < s->nrefs && done < n; at += s->refs[i++].n) {
    uint64_t k, from;
    if (at + s->refs[i].n <= off) continue;
    from = off > at ? off - at : 0;
    k = s->refs[i].n - from;
    if (k > n - done) k = n - done;
    if (sf_map_copy(dst + done, s->refs[i].p + from, (size_t)k, t->err, sizeof t->err) != SF_OK)
      return -1;
    done += (size_t)k;
  }
  return (long long)done;
}

/* n bytes from off of a spilled stream, block by block. */
static int read_spilled(const sf_flows *t, const sf_stream *s, uint64_t off,
                        uint8_t *dst, size_t n) {
  while (n) {
    size_t in = (size_t)(off % BS), k = BS - in;
    if (k > n) k = n;
    if (pread_all(t->spill_fd, dst, k,
                  (off_t)s->blocks[off / BS] * (off_t)BS + (off_t)in) != SF_OK)
      return SF_E_NOMEM;
    dst += k;
    off += k;
    n -= k;
  }
  return SF_OK;
}

long long sf_flow_stream_read(sf_flows *t, const sf_flow *f, int d,
                              uint64_t off, uint8_t *dst, size_t n) {
  const sf_stream *s = stream_of(f, d);
  if (!s || off >= s->len) return 0;
  if (n > s->len - off) n = (size_t)(s->len - off);
  if (s->refs) return read_refs(t, s, off, dst, n);
  if (!s->spilled) {
    memcpy(dst, s->mem + off, n);
    return (long long)n;
  }
  if (read_spilled(t, s, off, dst, n) == SF_OK) return (long long)n;
  snprintf(t->err, sizeof t->err, "cannot read a spilled stream back: %s", strerror(errno));
  return -1;
}

int sf_flow_stream_copy(sf_flows *t, const sf_flow *f, int d, uint8_t *dst) {
  size_t n = sf_flow_stream_len(f, d);
  return sf_flow_stream_read(t, f, d, 0, dst, n) == (long long)n ? SF_OK : SF_E_NOMEM;
}

const char *sf_flows_error(const sf_flows *t) { return t->err; }
