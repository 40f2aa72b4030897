/*
 * table.c -- the flow table: lookup, creation, per-packet accounting,
 * timeouts, and the queue of ended conversations.
 *
 * Flows live in an open-addressing hash table (linear probing, deletion
 * by backward shift, so no tombstones slow lookups after churn) and in one
 * LRU list per timeout class.  Expiry looks at list heads only.
 */
#include <stdlib.h>
#include <string.h>

#include "flowpriv.h"

void sf_flow_config_default(sf_flow_config *c) {
  memset(c, 0, sizeof *c);
  c->tcp_established_timeout_ns = 86400 * SF_NS;
  c->tcp_half_open_timeout_ns = 5 * SF_NS;
  c->tcp_time_wait_timeout_ns = 120 * SF_NS;
  c->udp_timeout_ns = 120 * SF_NS;
  c->max_reassembly_buffer = 16u << 20;
  c->max_ooo_fragments = 1024;
  c->reorder_window_ns = SF_NS;
  c->fragment_timeout_ns = 30 * SF_NS;  /* Linux's ipfrag_time */
  c->reassemble = 1;
  c->store_packet_indices = 1;
  c->progress_interval = 100000;
}

sf_flows *sf_flows_new(const sf_flow_config *c) {
  sf_flows *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->c = *c;
  t->limit = c->memory_budget - c->memory_budget / 16;
  t->cap = 1024;
  t->slots = calloc(t->cap, sizeof *t->slots);
  if (!t->slots) {
    free(t);
    return NULL;
  }
  sf_pkt_init(&t->pkt);
  sf_pkt_init(&t->dgram);
  t->spill_fd = -1;
  sf_budget_fixed(t, (int64_t)(t->cap * sizeof *t->slots));
  return t;
}

/* ---- LRU lists and the done queue (both through prev/next) ------------- */

static void list_unlink(sf_flow **head, sf_flow **tail, sf_flow *f) {
  if (f->prev) f->prev->next = f->next;
  else *head = f->next;
  if (f->next) f->next->prev = f->prev;
  else *tail = f->prev;
  f->prev = f->next = NULL;
}

static void list_append(sf_flow **head, sf_flow **tail, sf_flow *f) {
  f->prev = *tail;
  f->next = NULL;
  if (*tail) (*tail)->next = f;
  else *head = f;
  *tail = f;
}

static int lru_class(const sf_flow *f) {
  if (!sf_flow_is_tcp(f)) return SF_LRU_UDP;
  if (f->rst || (f->dir[0].fin && f->dir[1].fin)) return SF_LRU_WAIT;
  if (f->tcp_hs[0] == SF_TCP_ESTABLISHED) return SF_LRU_EST;
  return SF_LRU_HALF;
}

static int64_t class_timeout(const sf_flows *t, int cls) {
  switch (cls) {
    case SF_LRU_EST: return t->c.tcp_established_timeout_ns;
    case SF_LRU_HALF: return t->c.tcp_half_open_timeout_ns;
    case SF_LRU_WAIT: return t->c.tcp_time_wait_timeout_ns;
    default: return t->c.udp_timeout_ns;
  }
}

/* Move f to the tail of its class's list: it was just seen (a frame
   given up by the defragmenter while time passed, or a packet of its own
   after that). */
static void lru_touch(sf_flows *t, sf_flow *f) {
  int cls = lru_class(f);
  f->touched = t->index * 2 + (t->phase != SF_END_TIMEOUT);
  list_unlink(&t->lru_head[f->lru], &t->lru_tail[f->lru], f);
  f->lru = (uint8_t)cls;
  list_append(&t->lru_head[cls], &t->lru_tail[cls], f);
}

/* ---- the hash table ---------------------------------------------------- */

static size_t slot_of(const sf_flows *t, uint64_t h) { return h & (t->cap - 1); }

/* The flow with key k and its direction, or NULL. */
static sf_flow *table_find(const sf_flows *t, const sf_flow_key *k,
                           uint64_t h, int *dir) {
  size_t i = slot_of(t, h);
  sf_flow *f;
  for (; (f = t->slots[i]) != NULL; i = (i + 1) & (t->cap - 1)) {
    if (f->hash == h && (*dir = sf_flow_key_dir(&f->key, k)) >= 0) return f;
  }
  return NULL;
}

static void table_put(sf_flows *t, sf_flow *f) {
  size_t i = slot_of(t, f->hash);
  while (t->slots[i]) i = (i + 1) & (t->cap - 1);
  t->slots[i] = f;
  t->n++;
}

/* Double the table when 3/4 full; 0 or SF_E_NOMEM. */
static int table_grow(sf_flows *t) {
  sf_flow **old = t->slots;
  size_t oldcap = t->cap, i;
  if ((t->n + 1) * 4 < t->cap * 3) return SF_OK;
  t->slots = calloc(oldcap * 2, sizeof *t->slots);
  if (!t->slots) {
    t->slots = old;
    return SF_E_NOMEM;
  }
  t->cap = oldcap * 2;
  t->n = 0;
  sf_budget_fixed(t, (int64_t)(oldcap * sizeof *t->slots));
  for (i = 0; i < oldcap; i++)
    if (old[i]) table_put(t, old[i]);
  free(old);
  return SF_OK;
}

/* Remove f, shifting back the entries its slot displaced (Knuth's
   algorithm R), so probes never cross a hole they should not. */
static void table_remove(sf_flows *t, sf_flow *f) {
  size_t i = slot_of(t, f->hash), j, home, mask = t->cap - 1;
  while (t->slots[i] != f) i = (i + 1) & mask;
  t->slots[i] = NULL;
  for (j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
    home = slot_of(t, t->slots[j]->hash);
    if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
      t->slots[i] = t->slots[j];
      t->slots[j] = NULL;
      i = j;
    }
  }
  t->n--;
}

/* ---- ending and freeing ------------------------------------------------ */

/* Why a conversation ends: the input ended (or its tuple restarts), it
   was idle past its timeout, or the budget needed its room. */
enum { END_INPUT, END_TIMEOUT, END_EVICTED };

static int final_status(const sf_flow *f, int why) {
  int cut = why == END_TIMEOUT ? SF_FS_TIMEDOUT
          : why == END_EVICTED ? SF_FS_EVICTED : SF_FS_ACTIVE;
  if (!sf_flow_is_tcp(f)) return cut;
  if (f->rst) return SF_FS_RESET;
  if (f->dir[0].fin && f->dir[1].fin) return SF_FS_CLOSED;
  if (cut != SF_FS_ACTIVE) return cut;
  return (f->dir[0].fin || f->dir[1].fin) ? SF_FS_HALFCLOSED : SF_FS_ACTIVE;
}

/* Take f out of the table into the done queue.  Its record leaves the
   budget: it is the host's now (on_flow frees it; a list keeps it). */
static void flow_end(sf_flows *t, sf_flow *f, int why) {
  f->end_index = t->index;
  f->end_phase = t->phase;
  f->end_class = f->lru;
  if (sf_flow_is_tcp(f)) sf_reasm_finish(t, f);
  table_remove(t, f);
  list_unlink(&t->lru_head[f->lru], &t->lru_tail[f->lru], f);
  f->lru = 0xff;
  f->status = final_status(f, why);
  sf_budget_fixed(t, -(int64_t)f->charge);
  f->charge = 0;
  list_append(&t->done_head, &t->done_tail, f);
}

void sf_flow_free(sf_flows *t, sf_flow *f) {
  int d;
  if (!f) return;
  for (d = 0; d < 2; d++) sf_reasm_free(t, &f->dir[d]);
  free(f->idx);
  free(f);
}

static void free_list(sf_flows *t, sf_flow *f) {
  while (f) {
    sf_flow *next = f->next;
    sf_flow_free(t, f);
    f = next;
  }
}

void sf_flows_free(sf_flows *t) {
  int c;
  if (!t) return;
  for (c = 0; c < SF_NLRU; c++) free_list(t, t->lru_head[c]);
  free_list(t, t->done_head);
  sf_defrag_free(t);
  free(t->slots);
  sf_pkt_free(&t->pkt);
  sf_spill_close(t);
  free(t);
}

/* End the flows idle longer than their class allows at time now. */
static void expire(sf_flows *t, int64_t now) {
  int c;
  t->phase = SF_END_TIMEOUT;
  if (t->fqn) sf_defrag_expire(t, now);
  for (c = 0; c < SF_NLRU; c++) {
    int64_t to = class_timeout(t, c);
    sf_flow *f;
    while ((f = t->lru_head[c]) != NULL && sf_elapsed(now, f->end_ns) > to)
      flow_end(t, f, c != SF_LRU_WAIT ? END_TIMEOUT : END_INPUT);
  }
}

void sf_flows_pass(sf_flows *t, int64_t time_ns, uint32_t wirelen) {
  expire(t, time_ns);
  t->index++;
  t->bytes += wirelen;
}

void sf_flows_pass_many(sf_flows *t, int64_t latest, uint64_t n, uint64_t bytes) {
  expire(t, latest);
  t->index += n;
  t->bytes += bytes;
}

void sf_flows_finish(sf_flows *t) {
  int c;
  t->phase = SF_END_FINISH;
  sf_defrag_finish(t);
  for (c = 0; c < SF_NLRU; c++)
    while (t->lru_head[c]) flow_end(t, t->lru_head[c], END_INPUT);
}

sf_flow *sf_flows_pop(sf_flows *t) {
  sf_flow *f = t->done_head;
  if (f) list_unlink(&t->done_head, &t->done_tail, f);
  return f;
}

/* ---- creation and accounting --------------------------------------------- */

/* Who initiated: the SYN sender; the requester of an echo; else the
   sender.  Returns 1 when the packet's receiver is the initiator. */
static int receiver_initiated(const sf_pktinfo *pi) {
  if (pi->key.l4role == SF_ROLE_STREAM && pi->l4 && pi->l4len >= 14)
    return (pi->l4[13] & 0x12) == 0x12;  /* SYN+ACK: the SYN was missed */
  return pi->icmp_echo == 2;
}

static sf_flow *flow_new(sf_flows *t, const sf_pktinfo *pi, uint64_t h,
                         int64_t now, uint64_t index, int *dir) {
  sf_flow *f;
  if (table_grow(t) != SF_OK || !(f = calloc(1, sizeof *f))) return NULL;
  f->key = pi->key;
  *dir = SF_FLOW_FWD;
  if (receiver_initiated(pi)) {
    sf_flow_key_swap(&f->key);
    *dir = SF_FLOW_REV;
  }
  f->hash = h;
  f->first_index = index;
  f->seq = t->seq++;
  f->start_ns = f->end_ns = now;
  f->icmp_last_seq = -1;
  f->charge = sf_heap_cost(sizeof *f);
  sf_budget_fixed(t, (int64_t)f->charge);
  table_put(t, f);
  f->lru = SF_LRU_UDP;
  list_append(&t->lru_head[SF_LRU_UDP], &t->lru_tail[SF_LRU_UDP], f);
  return f;
}

static int push_index(sf_flows *t, sf_flow *f, uint64_t i) {
  if (f->nidx == f->capidx) {
    size_t cap = f->capidx ? f->capidx * 2 : 4;
    size_t grew = sf_heap_cost(cap * sizeof *f->idx) -
                  (f->capidx ? sf_heap_cost(f->capidx * sizeof *f->idx) : 0);
    uint64_t *v = realloc(f->idx, cap * sizeof *v);
    if (!v) return SF_E_NOMEM;
    f->idx = v;
    f->capidx = cap;
    f->charge += grew;
    sf_budget_fixed(t, (int64_t)grew);
  }
  f->idx[f->nidx++] = i;
  return SF_OK;
}

/* One packet for f: its bytes, and the index of each frame it came in
   (one, or the fragments of a datagram). */
static void count(sf_flows *t, sf_flow *f, int d, uint32_t wirelen, int64_t now,
                  const sf_fragframe *frames, uint32_t nframes) {
  uint32_t i;
  f->packets[d]++;
  f->bytes[d] += wirelen;
  if (now > f->end_ns) f->end_ns = now;
  if (t->c.track_max_packet_len && wirelen > f->max_pkt_len[d])
    f->max_pkt_len[d] = wirelen;
  if (t->c.track_max_flow_len && f->bytes[0] + f->bytes[1] > f->max_flow_len)
    f->max_flow_len = f->bytes[0] + f->bytes[1];
  if (!t->c.store_packet_indices) return;
  if (!frames) push_index(t, f, t->index);
  for (i = 0; frames && i < nframes; i++) push_index(t, f, frames[i].index);
}

static void icmp_packet(sf_flow *f, const sf_pktinfo *pi) {
  if (!pi->l4) return;
  f->icmp_type = pi->l4[0];
  f->icmp_code = pi->l4len > 1 ? pi->l4[1] : 0;
  if (!pi->icmp_echo) return;
  f->icmp_id = pi->key.port[0];
  if (pi->icmp_echo == 1) f->icmp_req++;
  else f->icmp_rep++;
  f->icmp_last_seq = pi->icmp_seq;
}

/* A SYN (without ACK) on a tuple whose conversation is over starts anew. */
static int starts_over(const sf_flow *f, const sf_pktinfo *pi) {
  return pi->key.l4role == SF_ROLE_STREAM && pi->l4 && pi->l4len >= 14 &&
         (pi->l4[13] & 0x12) == 0x02 && f->lru == SF_LRU_WAIT;
}

#define SWAP(T, a, b) do { T tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

/* Side 0 becomes side 1 and the other way round: every per-side fact. */
static void swap_sides(sf_flow *f) {
  sf_flow_key_swap(&f->key);
  SWAP(uint64_t, f->packets[0], f->packets[1]);
  SWAP(uint64_t, f->bytes[0], f->bytes[1]);
  SWAP(uint32_t, f->max_pkt_len[0], f->max_pkt_len[1]);
  SWAP(uint8_t, f->tcp_hs[0], f->tcp_hs[1]);
  SWAP(sf_tcp_dir, f->dir[0], f->dir[1]);
  if (f->fin_first) f->fin_first = (uint8_t)(3 - f->fin_first);
}

/* A handshake packet that comes after others of its conversation, from
   the side taken for the other role (capture order strayed from sending
   order: the first packets seen were not the SYN), before any other
   handshake packet: the SYN from side 1, or the SYN+ACK from side 0. */
static int late_handshake(const sf_flow *f, int d, uint8_t flags) {
  if ((flags & 0x02) == 0 || f->dir[0].syn || f->dir[0].synack ||
      f->dir[1].syn || f->dir[1].synack)
    return 0;
  return (flags & 0x10) ? d == SF_FLOW_FWD : d == SF_FLOW_REV;
}

static void transport(sf_flows *t, sf_flow *f, int *d, const sf_pktinfo *pi,
                      int64_t now) {
  if (sf_flow_is_tcp(f) && pi->l4 && pi->l4len >= 20) {
    size_t plen = pi->l4len - pi->l4hlen;
    if (late_handshake(f, *d, pi->l4[13])) {  /* src stays the initiator */
      swap_sides(f);
      *d = !*d;
    }
    sf_tcp_packet(t, f, *d, pi->l4, pi->l4hlen, pi->l4cut ? NULL : pi->pay,
                  plen, now);
  } else if (f->key.kind == SF_KIND_ECHO || f->key.kind == SF_KIND_ICMP) {
    icmp_packet(f, pi);
  }
}

/* The live conversation idle the longest, other than keep; NULL none. */
static sf_flow *idlest(sf_flows *t, const sf_flow *keep) {
  sf_flow *best = NULL, *f;
  int c;
  for (c = 0; c < SF_NLRU; c++) {
    f = t->lru_head[c] == keep && keep ? keep->next : t->lru_head[c];
    if (f && (!best || f->end_ns < best->end_ns)) best = f;
  }
  return best;
}

/* Past the limit after a packet: spill streams if that is enough, else
   end the idlest conversations (Zeek's and Suricata's memcaps) until a
   sixteenth of the budget is free, so it does not happen every packet.
   The current packet's conversation stays. */
static void make_room(sf_flows *t, const sf_flow *keep) {
  uint64_t goal = t->limit - t->c.memory_budget / 16;
  sf_flow *f;
  t->phase = SF_END_BUDGET;
  sf_budget_reserve(t, 0);
  if (t->mem + t->mem_fixed <= t->limit) return;
  while (t->mem + t->mem_fixed > goal && sf_defrag_shed(t)) {}
  while (t->mem + t->mem_fixed > goal && (f = idlest(t, keep)) != NULL) {
    flow_end(t, f, END_EVICTED);
    t->evicted++;
  }
}

/* The conversation of key pi->key, found or made, and the direction of
   the packet in it. */
static sf_flow *lookup(sf_flows *t, const sf_pktinfo *pi, int64_t now,
                       uint64_t index, int *dir) {
  uint64_t h = sf_flow_hash(&pi->key);
  sf_flow *f = table_find(t, &pi->key, h, dir);
  if (f && starts_over(f, pi)) flow_end(t, f, END_INPUT);
  if (!f || f->lru == 0xff) f = flow_new(t, pi, h, now, index, dir);
  return f;
}

void sf_flows_orphan(sf_flows *t, const sf_flow_key *k, const sf_fragframe *fr) {
  sf_pktinfo pi;
  sf_flow *f;
  int dir;
  memset(&pi, 0, sizeof pi);
  pi.key = *k;
  if ((f = lookup(t, &pi, fr->time_ns, fr->index, &dir)) != NULL) {
    count(t, f, dir, fr->wirelen, fr->time_ns, fr, 1);
    lru_touch(t, f);
  }
}

sf_flow *sf_flows_add_info(sf_flows *t, const sf_pkt *p, const sf_pktinfo *pi,
                           int64_t now, uint32_t wirelen, int *dir) {
  sf_pktinfo whole;
  sf_flow *f = NULL;
  const sf_fragframe *frames = NULL;
  uint32_t nframes = 0, wire = wirelen;
  expire(t, now);
  t->phase = SF_END_RESTART;  /* what ends now is this packet's doing */
  t->pkt_stable = t->c.stable_input;
  if (!pi) goto done;
  if (pi->frag) {  /* a fragment: counted once its datagram is whole */
    switch (sf_defrag(t, p, wirelen, &p)) {
      case SF_DEFRAG_HELD: goto done;
      case SF_DEFRAG_WHOLE:
        frames = t->dgram_frames;
        nframes = t->dgram_nframes;
        wire = (uint32_t)t->dgram_wire;
        t->pkt_stable = 0;  /* its bytes are the table's, rebuilt */
        if (!sf_flow_classify(p, &whole)) goto done;
        pi = &whole;
        break;
      default: break;
    }
  }
  if ((f = lookup(t, pi, now, frames ? frames[0].index : t->index, dir)) != NULL) {
    count(t, f, *dir, wire, now, frames, nframes);
    transport(t, f, dir, pi, now);
    lru_touch(t, f);
  }
done:
  if (t->limit && t->mem + t->mem_fixed > t->limit) make_room(t, f);
  t->index++;
  t->bytes += wirelen;
  return f;
}

sf_flow *sf_flows_add_pkt(sf_flows *t, const sf_pkt *p, uint32_t wirelen,
                          int *dir) {
  sf_pktinfo pi;
  int ip = sf_flow_classify(p, &pi);
  if (wirelen < p->len) wirelen = (uint32_t)p->len;
  if (p->frame) t->index = p->frame - 1;  /* read from a capture: its place there */
  return sf_flows_add_info(t, p, ip ? &pi : NULL, p->time_ns, wirelen, dir);
}

sf_flow *sf_flows_add(sf_flows *t, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen, int32_t linktype, int64_t time_ns,
                      int *dir) {
  sf_pkt *p = &t->pkt;
  sf_pkt_borrow(p, data, caplen);
  p->linktype = linktype;
  p->time_ns = time_ns;
  sf_pkt_parse(p);
  return sf_flows_add_pkt(t, p, wirelen, dir);
}

/* ---- results ------------------------------------------------------------ */

static int by_start(const void *a, const void *b) {
  const sf_flow *x = *(sf_flow *const *)a, *y = *(sf_flow *const *)b;
  if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
  if (x->first_index != y->first_index) return x->first_index < y->first_index ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sf_flows_sort_done(sf_flows *t) {
  size_t n = 0, i;
  sf_flow *f, **v;
  for (f = t->done_head; f; f = f->next) n++;
  if (n < 2) return SF_OK;
  if (!(v = malloc(n * sizeof *v))) return SF_E_NOMEM;
  for (i = 0, f = t->done_head; f; f = f->next) v[i++] = f;
  qsort(v, n, sizeof *v, by_start);
  t->done_head = t->done_tail = NULL;
  for (i = 0; i < n; i++) list_append(&t->done_head, &t->done_tail, v[i]);
  free(v);
  return SF_OK;
}

void sf_flows_stats(const sf_flows *t, sf_flow_stats *s) {
  memset(s, 0, sizeof *s);
  s->packets = t->index;
  s->bytes = t->bytes;
  s->active = t->n;
  s->total = t->seq;
  s->in_memory = t->mem + t->mem_fixed;
  s->buffered = t->mem + t->spilled;
  s->evicted = t->evicted;
  s->frag_whole = t->frag_whole;
  s->frag_overlaps = t->frag_overlaps;
  s->frag_timeouts = t->frag_timeouts;
  s->frag_capped = t->frag_capped;
  s->frag_bad = t->frag_bad;
  s->frag_discarded = t->frag_overlaps + t->frag_timeouts + t->frag_capped + t->frag_bad;
  s->spills = t->spills;
  s->spilled_bytes = t->spilled;
  s->dropped_segments = t->dropped;
  s->dropped_cap = t->dropped_cap;
  s->dropped_late = t->dropped_late;
  s->dropped_snaplen = t->dropped_snaplen;
  s->gaps = t->gaps;
  s->gap_bytes = t->gap_bytes;
  s->gaps_forced = t->gaps_forced;
  s->reasm_steps = t->reasm_steps;
}

const char *sf_flow_status_name(int status) {
  static const char *const names[] = {"Active", "HalfClosed", "Closed",
                                      "Reset", "TimedOut", "Evicted"};
  return (unsigned)status < 6 ? names[status] : "Active";
}

const char *sf_tcp_state_name(int state) {
  static const char *const names[] = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
    "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT",
    "LAST_ACK"};
  return (unsigned)state < 11 ? names[state] : "CLOSED";
}
