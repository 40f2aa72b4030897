/*
 * flowpriv.h -- the flow table's insides, shared by the files of core/flow only.
 */
#ifndef SF_FLOWPRIV_H
#define SF_FLOWPRIV_H

#include "flow.h"

/* Timeout classes: each has one LRU list, oldest first, so expiry looks
   at list heads only (O(1) per packet). */
enum { SF_LRU_UDP, SF_LRU_EST, SF_LRU_HALF, SF_LRU_WAIT, SF_NLRU };

/* A segment held past a hole.  Its bytes stay in the packet when the
   input is stable, else they are copied after the header. */
typedef struct sf_seg {
  int64_t off;           /* stream offset of its first byte */
  uint64_t arrival;      /* order of arrival: the overlap rule's tie-break */
  uint32_t len;
  uint8_t owned;         /* p points at data (a copy) */
  const uint8_t *p;
  uint8_t data[];
} sf_seg;

/* A binary heap of held segments. */
typedef struct sf_segheap {
  sf_seg **v;
  uint32_t n, cap;
} sf_segheap;

/* Reassembly of one direction, made on its first payload.

   Offsets are 64-bit, counted from the direction's isn and unwrapped
   around the next expected byte.  Until the stream's start is known (its
   SYN seen), nothing is delivered: every segment waits, so data captured
   before its handshake (capture order is not sending order) keeps its
   place; the start is then the SYN's, or, past the reorder window or the
   caps or at the end, the lowest offset seen.

   The overlap rule is tshark's "Follow TCP Stream": bytes delivered are
   never replaced; a segment reaching the next expected byte is delivered
   at once; held segments are taken when the stream reaches them, the
   earliest to arrive first among those starting at or before that byte.
   Two heaps make that O(log n) per segment: `wait` by offset (then
   arrival) for those past the next byte, `ready` by arrival for those it
   has reached. */
struct sf_reasm {
  sf_stream data;        /* what was delivered */
  int64_t next;          /* next expected offset (once started) */
  int64_t origin;        /* offset of the stream's first byte */
  uint8_t pending;       /* the start is not known yet: all waits */
  int64_t pending_since; /* capture time the first of them came */
  sf_segheap wait, ready;
  size_t held;           /* bytes held */
  uint64_t arrivals;
  int64_t last_off;      /* the last segment held: its retransmissions */
  uint32_t last_len;     /* are not held again */
  sf_gap *gaps;
  uint32_t ngaps, capgaps;
  int64_t charge;        /* its own heap bytes in the budget (struct, gaps) */
};

/* A frame of a fragmented datagram, for the conversation it will count in. */
typedef struct sf_fragframe {
  uint64_t index;
  int64_t time_ns;
  uint32_t wirelen;
} sf_fragframe;

typedef struct sf_fragq sf_fragq;  /* a datagram being put together (defrag.c) */

struct sf_flows {
  sf_flow_config c;
  char err[256];         /* why the last stream read failed */
  sf_flow **slots;       /* open addressing, linear probing */
  size_t cap, n;         /* cap is a power of two */
  sf_flow *lru_head[SF_NLRU], *lru_tail[SF_NLRU];
  sf_flow *done_head, *done_tail;
  uint64_t index;        /* packets offered so far */
  uint8_t phase;         /* SF_END_*: what the packet's handling is at */
  uint64_t seq;          /* flows created so far */
  uint64_t bytes;
  /* the budget: heap bytes of streams (spillable), and of the rest it
     covers: held segments, live conversations' records and packet
     indices, the hash slots (never spilled: past the budget, the
     conversations idle the longest are ended early) */
  uint64_t mem, mem_fixed;
  uint64_t limit;        /* what they may reach: 15/16 of memory_budget (the
                            rest is for the allocator's slack and buffers
                            outside the table); 0 = no budget */
  uint64_t evicted;      /* conversations ended early by the budget */
  uint64_t spilled;      /* bytes in spill files */
  uint64_t spills, dropped;
  uint64_t dropped_cap, dropped_late, dropped_snaplen;
  uint64_t gaps, gap_bytes, gaps_forced;
  uint64_t reasm_steps;
  int spill_fd;          /* the spill file (unlinked), -1 until needed */
  uint32_t spill_blocks; /* blocks in the file */
  uint32_t *free_blocks; /* blocks given back, reused first */
  uint32_t nfree, capfree;
  sf_pkt pkt;            /* scratch for dissection */
  int pkt_stable;        /* this packet's bytes outlive the table */
  /* fragments (defrag.c): datagrams by key and id, and oldest first */
  sf_fragq **fq;
  size_t fqcap, fqn;
  sf_fragq *fq_oldest, *fq_newest;
  uint64_t frag_bytes;   /* fragment data held */
  uint64_t frag_whole, frag_overlaps, frag_timeouts, frag_capped, frag_bad;
  sf_pkt dgram;          /* the last datagram made whole, dissected */
  uint8_t *dgram_buf;
  size_t dgram_cap;
  sf_fragframe *dgram_frames;  /* and its frames */
  uint32_t dgram_nframes, dgram_capframes;
  uint64_t dgram_wire;
};

/* what a packet says about its conversation (key.c) */
typedef struct sf_pktinfo {
  sf_flow_key key;       /* side 0 = this packet's sender */
  const uint8_t *l4;     /* transport header, or NULL */
  const uint8_t *pay;    /* its payload (l4 + l4hlen, where the packet has
                            it: l4 may point at a copy of the header) */
  size_t l4len;          /* bytes of it (header + payload) */
  size_t l4hlen;
  int l4cut;             /* the payload was cut by the snaplen */
  int icmp_echo;         /* 1 request, 2 reply, 0 not echo */
  int frag;              /* an IP fragment (not an atomic one) */
  uint16_t icmp_seq;
} sf_pktinfo;

int sf_flow_classify(const sf_pkt *p, sf_pktinfo *pi);
/* table.c: a packet whose facts are known (sf_flows_add_pkt classifies,
   then calls this): pi NULL when it has no conversation; p, dissected,
   is needed only for a fragment (pi->frag).  now: its time; wirelen:
   at least its captured length. */
sf_flow *sf_flows_add_info(sf_flows *t, const sf_pkt *p, const sf_pktinfo *pi,
                           int64_t now, uint32_t wirelen, int *dir);
/* table.c: n packets of another table's in a row, the latest of their
   times given: what they end is ended, as sf_flows_pass would one by one
   except for the index stamped on it (for a host that sorts by start) */
void sf_flows_pass_many(sf_flows *t, int64_t latest, uint64_t n, uint64_t bytes);
/* key.c: sf_flow_shard for a key sf_flow_classify gave */
int sf_flow_shard_of(const sf_flow_key *k, int n);

/* An IP fragment as its headers describe it (key.c reads them by byte
   offsets, RFC 791 and RFC 8200). */
typedef struct sf_fraginfo {
  sf_flow_key key;       /* addresses, VLANs, the datagram's protocol;
                            kind NOPORTS (what an orphan fragment is) */
  uint32_t id;
  uint32_t offset;       /* of this fragment's data in the datagram */
  uint32_t len;          /* bytes of it, as the header says */
  int more;              /* more fragments follow */
  int cut;               /* the capture cut some of them */
  size_t net;            /* byte offset of the IP header in the packet */
  size_t frag_hdr;       /* of the IPv6 Fragment header (0: IPv4) */
  size_t data;           /* of the fragment's data */
} sf_fraginfo;
/* 1 when p is a fragment (not an atomic one) with sane lengths. */
int sf_frag_info(const sf_pkt *p, sf_fraginfo *fi);
/* Make d (first's headers + len bytes of data) one whole datagram. */
void sf_frag_whole(uint8_t *d, const sf_fraginfo *first, size_t len);

/* defrag.c: SF_DEFRAG_NONE (not a fragment: go on with p), HELD (taken:
   nothing to count now), WHOLE (*whole is the datagram it completed; its
   frames in t->dgram_frames) */
enum { SF_DEFRAG_NONE, SF_DEFRAG_HELD, SF_DEFRAG_WHOLE };
int sf_defrag(sf_flows *t, const sf_pkt *p, uint32_t wirelen, const sf_pkt **whole);
void sf_defrag_expire(sf_flows *t, int64_t now);
int sf_defrag_shed(sf_flows *t);    /* give the oldest up; 0 when none */
void sf_defrag_finish(sf_flows *t);
void sf_defrag_free(sf_flows *t);
/* table.c: a frame of a datagram given up counts in conversation k */
void sf_flows_orphan(sf_flows *t, const sf_flow_key *k, const sf_fragframe *fr);
uint64_t sf_flow_hash(const sf_flow_key *k);
int sf_flow_key_dir(const sf_flow_key *have, const sf_flow_key *q);
void sf_flow_key_swap(sf_flow_key *k);

/* move a heap stream to the spill file (stream.c); SF_OK or an error */
int sf_stream_spill(sf_flows *t, sf_stream *s);
/* budget (stream.c): make room for n more heap bytes by spilling streams */
void sf_budget_reserve(sf_flows *t, size_t n);
void sf_budget_fixed(sf_flows *t, int64_t delta);  /* not spillable */

/* now - then without overflow: capture times may be anything. */
static inline int64_t sf_elapsed(int64_t now, int64_t then) {
  if (then < 0 && now > INT64_MAX + then) return INT64_MAX;
  if (then > 0 && now < INT64_MIN + then) return INT64_MIN;
  return now - then;
}

/* What an allocation of n bytes costs on the heap: glibc's chunk (n and a
   size word, rounded up to 16 bytes, 32 at least). */
static inline size_t sf_heap_cost(size_t n) {
  n = (n + 8 + 15) & ~(size_t)15;
  return n < 32 ? 32 : n;
}
void sf_spill_close(sf_flows *t);

#define SF_SPILL_BLOCK ((size_t)256 << 10)

#endif
