/*
 * defrag.c -- IPv4 and IPv6 fragments made whole before the flow table
 * classifies them, so a fragmented datagram counts in its TCP or UDP
 * conversation (as one packet: tshark's conversation tables count it so,
 * as do Zeek's), with the bytes of all its frames.
 *
 * Rules (Linux's since 4.19 for both versions, RFC 5722 for IPv6):
 *   - a fragment that repeats another exactly (same offset and length) is
 *     a duplicate: its frame counts, its bytes are not used;
 *   - any other overlap discards the whole datagram, so no overlap trick
 *     (RFC 1858's tiny and overlapping fragments) can make the flows see
 *     other bytes than the receiver would;
 *   - a datagram not complete within fragment_timeout of its first
 *     fragment, longer than 65,535 bytes, of more than 1,024 fragments,
 *     with a non-final fragment not a multiple of 8 bytes, two different
 *     ends, or cut by the snap length, is discarded too;
 *   - held fragment bytes count in the memory budget and are capped at
 *     max_reassembly_buffer; past either, the oldest datagrams go first.
 * A discarded datagram's frames are not lost: each counts, with its own
 * time and index, in an "Other" conversation of its protocol between the
 * two addresses (what they were before fragments were reassembled).
 *
 * Fragments are read through key.c (sf_frag_info, sf_frag_whole), which
 * knows the headers' byte offsets; nothing here names a protocol.
 */
#include <stdlib.h>
#include <string.h>

#include "flowpriv.h"

#define MAX_PIECES 1024
#define MAX_DATAGRAM 65535u

struct sf_fragq {
  sf_fragq *hnext;       /* hash chain */
  sf_fragq *prev, *next; /* by age, oldest first */
  sf_flow_key key;
  uint32_t id;
  uint64_t hash;
  int64_t first_ns;      /* its first fragment's time */
  uint32_t total;        /* data length, once the last fragment came */
  uint32_t have;         /* data bytes held */
  uint8_t *head;         /* the offset-0 fragment's bytes before its data */
  sf_fraginfo first;     /* and where things are in them */
  int32_t linktype, firstproto;
  struct piece { uint32_t off, len; uint8_t *data; } *pieces;
  uint32_t npieces, cappieces;
  sf_fragframe *frames;
  uint32_t nframes, capframes;
  uint64_t wire;         /* the frames' bytes on the wire */
  int64_t charge;        /* heap bytes in the budget */
};

static void charge(sf_flows *t, sf_fragq *q, int64_t n) {
  q->charge += n;
  sf_budget_fixed(t, n);
}

/* ---- the table of datagrams: chained hash, and an age list -------------------- */

static uint64_t qhash(const sf_flow_key *k, uint32_t id) {
  return sf_flow_hash(k) ^ (id * 0x9e3779b97f4a7c15ULL);
}

static int same(const sf_fragq *q, const sf_flow_key *k, uint32_t id) {
  return q->id == id && sf_flow_key_dir(&q->key, k) == SF_FLOW_FWD;
}

static sf_fragq **bucket(sf_flows *t, uint64_t h) { return &t->fq[h & (t->fqcap - 1)]; }

static int grow(sf_flows *t) {
  size_t cap = t->fqcap ? t->fqcap * 2 : 64, i;
  sf_fragq **v, *q;
  if (t->fqn < t->fqcap) return SF_OK;
  if (!(v = calloc(cap, sizeof *v))) return SF_E_NOMEM;
  sf_budget_fixed(t, (int64_t)(sf_heap_cost(cap * sizeof *v) -
                               (t->fqcap ? sf_heap_cost(t->fqcap * sizeof *v) : 0)));
  for (i = 0; i < t->fqcap; i++)
    while ((q = t->fq[i]) != NULL) {
      t->fq[i] = q->hnext;
      q->hnext = v[q->hash & (cap - 1)];
      v[q->hash & (cap - 1)] = q;
    }
  free(t->fq);
  t->fq = v;
  t->fqcap = cap;
  return SF_OK;
}

static sf_fragq *lookup(sf_flows *t, const sf_fraginfo *fi, uint64_t h) {
  sf_fragq *q;
  if (!t->fqcap) return NULL;
  for (q = *bucket(t, h); q; q = q->hnext)
    if (q->hash == h && same(q, &fi->key, fi->id)) return q;
  return NULL;
}

static sf_fragq *create(sf_flows *t, const sf_fraginfo *fi, uint64_t h, int64_t now) {
  sf_fragq *q;
  if (grow(t) != SF_OK || !(q = calloc(1, sizeof *q))) return NULL;
  charge(t, q, (int64_t)sf_heap_cost(sizeof *q));
  q->key = fi->key;
  q->id = fi->id;
  q->hash = h;
  q->first_ns = now;
  q->hnext = *bucket(t, h);
  *bucket(t, h) = q;
  q->prev = t->fq_newest;
  if (t->fq_newest) t->fq_newest->next = q;
  else t->fq_oldest = q;
  t->fq_newest = q;
  t->fqn++;
  return q;
}

/* Out of the hash and the age list, and freed (its frames handed out by
   the caller first). */
static void destroy(sf_flows *t, sf_fragq *q) {
  sf_fragq **pp = bucket(t, q->hash);
  uint32_t i;
  while (*pp != q) pp = &(*pp)->hnext;
  *pp = q->hnext;
  if (q->prev) q->prev->next = q->next;
  else t->fq_oldest = q->next;
  if (q->next) q->next->prev = q->prev;
  else t->fq_newest = q->prev;
  t->fqn--;
  t->frag_bytes -= q->have;
  for (i = 0; i < q->npieces; i++) free(q->pieces[i].data);
  free(q->pieces);
  free(q->frames);
  free(q->head);
  sf_budget_fixed(t, -q->charge);
  free(q);
}

/* Give a datagram up: each of its frames counts in the "Other"
   conversation of its fragments, then it goes. */
static void discard(sf_flows *t, sf_fragq *q, uint64_t *why) {
  uint32_t i;
  (*why)++;
  for (i = 0; i < q->nframes; i++) sf_flows_orphan(t, &q->key, &q->frames[i]);
  destroy(t, q);
}

/* ---- one fragment ------------------------------------------------------------------- */

static int add_frame(sf_flows *t, sf_fragq *q, uint32_t wirelen, int64_t now) {
  if (q->nframes == q->capframes) {
    uint32_t cap = q->capframes ? q->capframes * 2 : 4;
    sf_fragframe *v = realloc(q->frames, cap * sizeof *v);
    if (!v) return SF_E_NOMEM;
    charge(t, q, (int64_t)(sf_heap_cost(cap * sizeof *v) -
                           (q->capframes ? sf_heap_cost(q->capframes * sizeof *v) : 0)));
    q->frames = v;
    q->capframes = cap;
  }
  q->frames[q->nframes].index = t->index;
  q->frames[q->nframes].time_ns = now;
  q->frames[q->nframes++].wirelen = wirelen;
  q->wire += wirelen;
  return SF_OK;
}

/* Where a piece at off goes among the sorted pieces (binary search). */
static uint32_t place(const sf_fragq *q, uint32_t off) {
  uint32_t lo = 0, hi = q->npieces;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (q->pieces[mid].off < off) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

enum { PIECE_NEW, PIECE_DUP, PIECE_OVERLAP };

static int overlaps(const sf_fragq *q, uint32_t i, uint32_t off, uint32_t len) {
  if (i < q->npieces && q->pieces[i].off == off && q->pieces[i].len == len) return PIECE_DUP;
  if (i > 0 && q->pieces[i - 1].off + q->pieces[i - 1].len > off) return PIECE_OVERLAP;
  if (i < q->npieces && off + len > q->pieces[i].off) return PIECE_OVERLAP;
  return PIECE_NEW;
}

static int insert(sf_flows *t, sf_fragq *q, uint32_t i, const sf_fraginfo *fi,
                  const uint8_t *d) {
  uint8_t *copy;
  if (q->npieces == q->cappieces) {
    uint32_t cap = q->cappieces ? q->cappieces * 2 : 4;
    struct piece *v = realloc(q->pieces, cap * sizeof *v);
    if (!v) return SF_E_NOMEM;
    charge(t, q, (int64_t)(sf_heap_cost(cap * sizeof *v) -
                           (q->cappieces ? sf_heap_cost(q->cappieces * sizeof *v) : 0)));
    q->pieces = v;
    q->cappieces = cap;
  }
  sf_budget_reserve(t, sf_heap_cost(fi->len));
  if (!(copy = malloc(fi->len ? fi->len : 1))) return SF_E_NOMEM;
  memcpy(copy, d + fi->data, fi->len);
  charge(t, q, (int64_t)sf_heap_cost(fi->len));
  memmove(q->pieces + i + 1, q->pieces + i, (q->npieces - i) * sizeof *q->pieces);
  q->pieces[i].off = fi->offset;
  q->pieces[i].len = fi->len;
  q->pieces[i].data = copy;
  q->npieces++;
  q->have += fi->len;
  t->frag_bytes += fi->len;
  return SF_OK;
}

/* The offset-0 fragment's headers: the whole datagram is built on them. */
static int keep_head(sf_flows *t, sf_fragq *q, const sf_pkt *p, const sf_fraginfo *fi) {
  if (q->head || fi->offset) return SF_OK;
  if (!(q->head = malloc(fi->data))) return SF_E_NOMEM;
  memcpy(q->head, p->data, fi->data);
  charge(t, q, (int64_t)sf_heap_cost(fi->data));
  q->first = *fi;
  q->linktype = p->linktype;
  q->firstproto = p->first;
  return SF_OK;
}

/* Is the fragment acceptable at all, and consistent with the end known? */
static int sane(const sf_fragq *q, const sf_fraginfo *fi) {
  uint32_t end = fi->offset + fi->len;
  if (fi->cut || end > MAX_DATAGRAM || q->npieces >= MAX_PIECES) return 0;
  if (fi->more && (fi->len % 8 || !fi->len)) return 0;
  if (!fi->more && q->total && q->total != end) return 0;  /* two ends */
  if (q->total && end > q->total) return 0;
  if (!fi->more && q->npieces && q->pieces[q->npieces - 1].off +
                                 q->pieces[q->npieces - 1].len > end) return 0;
  return 1;
}

/* The whole datagram, dissected, in the table's scratch packet. */
static const sf_pkt *build(sf_flows *t, sf_fragq *q, int64_t now) {
  size_t n = q->first.data + q->total, at = q->first.data;
  uint32_t i;
  sf_pkt *d = &t->dgram;
  if (n > t->dgram_cap) {
    uint8_t *b = realloc(t->dgram_buf, n);
    if (!b) return NULL;
    t->dgram_buf = b;
    t->dgram_cap = n;
  }
  memcpy(t->dgram_buf, q->head, q->first.data);
  for (i = 0; i < q->npieces; i++, at += q->pieces[i - 1].len)
    memcpy(t->dgram_buf + at, q->pieces[i].data, q->pieces[i].len);
  sf_frag_whole(t->dgram_buf, &q->first, q->total);
  sf_pkt_borrow(d, t->dgram_buf, n);
  d->linktype = q->linktype;
  d->first = q->firstproto;
  d->time_ns = now;
  sf_pkt_parse(d);
  return d;
}

/* Keep the completed datagram's frames for the table to count. */
static int take_frames(sf_flows *t, sf_fragq *q) {
  if (q->nframes > t->dgram_capframes) {
    sf_fragframe *v = realloc(t->dgram_frames, q->nframes * sizeof *v);
    if (!v) return SF_E_NOMEM;
    t->dgram_frames = v;
    t->dgram_capframes = q->nframes;
  }
  memcpy(t->dgram_frames, q->frames, q->nframes * sizeof *q->frames);
  t->dgram_nframes = q->nframes;
  t->dgram_wire = q->wire;
  return SF_OK;
}

/* Held fragment bytes stay under max_reassembly_buffer: oldest out first. */
static void cap_held(sf_flows *t, const sf_fragq *keep) {
  while (t->frag_bytes > t->c.max_reassembly_buffer && t->fq_oldest &&
         t->fq_oldest != keep)
    discard(t, t->fq_oldest, &t->frag_capped);
}

int sf_defrag(sf_flows *t, const sf_pkt *p, uint32_t wirelen, const sf_pkt **whole) {
  sf_fraginfo fi;
  sf_fragq *q;
  uint64_t h;
  uint32_t i;
  int kind;
  if (!sf_frag_info(p, &fi)) return SF_DEFRAG_NONE;
  h = qhash(&fi.key, fi.id);
  if (!(q = lookup(t, &fi, h)) && !(q = create(t, &fi, h, p->time_ns))) {
    sf_fragframe one = {t->index, p->time_ns, wirelen};
    sf_flows_orphan(t, &fi.key, &one);
    return SF_DEFRAG_HELD;
  }
  if (add_frame(t, q, wirelen, p->time_ns) != SF_OK) {
    sf_fragframe one = {t->index, p->time_ns, wirelen};
    sf_flows_orphan(t, &fi.key, &one);
    discard(t, q, &t->frag_bad);
    return SF_DEFRAG_HELD;
  }
  if (!sane(q, &fi)) {
    discard(t, q, &t->frag_bad);
    return SF_DEFRAG_HELD;
  }
  i = place(q, fi.offset);
  kind = overlaps(q, i, fi.offset, fi.len);
  if (kind == PIECE_OVERLAP) {
    discard(t, q, &t->frag_overlaps);
    return SF_DEFRAG_HELD;
  }
  if (kind == PIECE_NEW &&
      (insert(t, q, i, &fi, p->data) != SF_OK || keep_head(t, q, p, &fi) != SF_OK)) {
    discard(t, q, &t->frag_bad);
    return SF_DEFRAG_HELD;
  }
  if (!fi.more) q->total = fi.offset + fi.len;
  cap_held(t, q);
  if (!q->total || q->have != q->total || !q->head) return SF_DEFRAG_HELD;
  if (take_frames(t, q) != SF_OK || !(*whole = build(t, q, p->time_ns))) {
    discard(t, q, &t->frag_bad);
    return SF_DEFRAG_HELD;
  }
  t->frag_whole++;
  destroy(t, q);
  return SF_DEFRAG_WHOLE;
}

void sf_defrag_expire(sf_flows *t, int64_t now) {
  while (t->fq_oldest && sf_elapsed(now, t->fq_oldest->first_ns) > t->c.fragment_timeout_ns)
    discard(t, t->fq_oldest, &t->frag_timeouts);
}

int sf_defrag_shed(sf_flows *t) {
  if (!t->fq_oldest) return 0;
  discard(t, t->fq_oldest, &t->frag_capped);
  return 1;
}

void sf_defrag_finish(sf_flows *t) {
  while (t->fq_oldest) discard(t, t->fq_oldest, &t->frag_timeouts);
}

void sf_defrag_free(sf_flows *t) {
  while (t->fq_oldest) destroy(t, t->fq_oldest);
  if (t->fqcap) sf_budget_fixed(t, -(int64_t)sf_heap_cost(t->fqcap * sizeof *t->fq));
  free(t->fq);
  free(t->dgram_buf);
  free(t->dgram_frames);
  sf_pkt_free(&t->dgram);
}
