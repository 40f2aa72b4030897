/*
 * flow.h -- conversations from a packet stream: a flow table keyed by
 * (VLAN ids, IP version, protocol, addresses, ports), a TCP state machine
 * per side, TCP reassembly per direction, timeouts, and a memory budget
 * over the reassembly buffers (spilled to unlinked temp files).
 *
 * The host feeds packets in capture order (sf_flows_add) and collects the
 * conversations that ended (sf_flows_pop); sf_flows_finish ends the rest.
 * The engine never calls back into the host: a host with callbacks pops
 * after each packet, which keeps memory flat over any capture length.
 */
#ifndef SF_FLOW_H
#define SF_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "../sf.h"

#define SF_NS 1000000000LL

typedef struct sf_flow_config {
  int64_t tcp_established_timeout_ns;  /* idle established TCP ends */
  int64_t tcp_half_open_timeout_ns;    /* handshake not completed */
  int64_t tcp_time_wait_timeout_ns;    /* closed or reset: tuple kept */
  int64_t udp_timeout_ns;              /* UDP, ICMP, Other */
  size_t max_reassembly_buffer;        /* per direction, in-order bytes */
  uint32_t max_ooo_fragments;          /* per direction, held segments */
  uint64_t memory_budget;              /* 0 = none */
  const char *spill_dir;               /* NULL = $TMPDIR or /tmp */
  int reassemble;                      /* keep TCP payload at all */
  int stable_input;                    /* packet bytes outlive the table
                                          (a mapped file): streams refer
                                          to them instead of copying */
  /* called after a stream that referred to the input was spilled (its
     bytes were read again): a host over a mapping may drop those pages */
  void (*on_spill)(void *ud);
  void *ud;
  int store_packet_indices;
  int track_max_packet_len, track_max_flow_len;
} sf_flow_config;

void sf_flow_config_default(sf_flow_config *c);

/* sf_flow_key.kind: ICMP echo (by identifier), other ICMP (by type and
   code), TCP or UDP without a transport header (later IP fragments) */
enum { SF_KIND_ECHO = 1, SF_KIND_ICMP = 2, SF_KIND_NOPORTS = 3 };
enum { SF_FLOW_FWD = 0, SF_FLOW_REV = 1 };

/* Status of a conversation. */
enum { SF_FS_ACTIVE, SF_FS_HALFCLOSED, SF_FS_CLOSED, SF_FS_RESET,
       SF_FS_TIMEDOUT };

/* TCP states of one side (RFC 9293 names). */
enum { SF_TCP_CLOSED, SF_TCP_LISTEN, SF_TCP_SYN_SENT, SF_TCP_SYN_RECEIVED,
       SF_TCP_ESTABLISHED, SF_TCP_FIN_WAIT_1, SF_TCP_FIN_WAIT_2,
       SF_TCP_CLOSING, SF_TCP_TIME_WAIT, SF_TCP_CLOSE_WAIT, SF_TCP_LAST_ACK };

const char *sf_flow_status_name(int status);
const char *sf_tcp_state_name(int state);

/* A piece of a stream that stays where the capture has it. */
typedef struct sf_ref {
  const uint8_t *p;
  uint32_t n;
  uint32_t owned;        /* p is a heap copy this stream frees */
} sf_ref;

/* A stream of reassembled bytes: on the heap, as references into a mapped
   capture (stable input: no copy), or spilled to blocks of the table's
   spill file. */
typedef struct sf_stream {
  uint8_t *mem;          /* heap buffer (NULL when spilled or empty) */
  size_t len, cap;
  sf_ref *refs;          /* stable input: the pieces, in order */
  uint32_t nrefs, caprefs;
  uint32_t *blocks;      /* spilled: the file blocks holding it, in order */
  uint32_t nblocks, capblocks;
  int spilled;
} sf_stream;

typedef struct sf_seg sf_seg;   /* an out-of-order segment (reasm.c) */

/* TCP state of one direction: its sender's side and its byte stream. */
typedef struct sf_tcp_dir {
  uint32_t isn;          /* sequence number of stream offset 0 */
  uint32_t fin_seq;      /* sequence number of the FIN */
  uint64_t next;         /* next expected stream offset */
  uint8_t base_set;      /* isn known (SYN, or first data mid-stream) */
  uint8_t syn, synack, fin, fin_acked;
  uint32_t nooo;         /* held out-of-order segments */
  size_t ooo_bytes;
  sf_seg *ooo;           /* sorted by offset */
  sf_stream data;
  uint64_t dropped;      /* segments not kept (caps) */
} sf_tcp_dir;

typedef struct sf_flow_key {
  uint8_t ipver;         /* 4 or 6; 0 = no IP */
  uint8_t proto;         /* IP protocol of the transport */
  uint8_t nvlan;
  uint8_t kind;          /* SF_KIND_*; 0 otherwise */
  uint8_t l4role;        /* the transport's SF_ROLE_* (STREAM: TCP), 0 */
  uint16_t l4id;         /* its protocol id + 1 when its header was seen */
  uint16_t vlan[2];
  uint16_t port[2];      /* ICMP echo: {id, 0}; other ICMP: {type, code} */
  uint8_t addr[2][16];   /* IPv4 in the first 4 bytes */
} sf_flow_key;

typedef struct sf_flow sf_flow;
struct sf_flow {
  sf_flow_key key;       /* side 0 is the initiator (src_*) */
  uint64_t hash;
  uint64_t first_index;  /* 0-based index of its first packet */
  uint64_t seq;          /* creation order, for stable sorting */
  int64_t start_ns, end_ns;
  uint64_t packets[2], bytes[2];
  uint32_t max_pkt_len[2];
  uint64_t max_flow_len;
  uint64_t *idx;         /* packet indices, when stored */
  size_t nidx, capidx;
  int status;
  uint8_t tcp_hs[2];     /* handshake state per side */
  uint8_t rst, lru;       /* lru: timeout class, 0xff none */
  uint8_t fin_first;     /* side that sent the first FIN, + 1 */
  sf_tcp_dir dir[2];     /* TCP only */
  uint8_t icmp_type, icmp_code;
  uint16_t icmp_id;
  uint32_t icmp_req, icmp_rep;
  int32_t icmp_last_seq; /* -1 none */
  sf_flow *prev, *next;  /* LRU list of its timeout class; done queue */
};

typedef struct sf_flows sf_flows;

sf_flows *sf_flows_new(const sf_flow_config *c);
void sf_flows_free(sf_flows *t);   /* frees pending and active flows too */

/* One captured frame (dissected here).  Returns its flow or NULL (not IP);
   *dir gets SF_FLOW_FWD or SF_FLOW_REV.  The flow stays valid until the
   next call. */
sf_flow *sf_flows_add(sf_flows *t, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen, int32_t linktype, int64_t time_ns,
                      int *dir);
/* The same, for a packet the host already dissected. */
sf_flow *sf_flows_add_pkt(sf_flows *t, const sf_pkt *p, uint32_t wirelen,
                          int *dir);
/* End every active flow (end of input); they become poppable. */
void sf_flows_finish(sf_flows *t);
/* Next ended conversation, in the order they ended; NULL when none.  The
   caller owns it: sf_flow_free. */
sf_flow *sf_flows_pop(sf_flows *t);
void sf_flow_free(sf_flows *t, sf_flow *f);

/* Sort the ended flows waiting to be popped by start time, ties by first
   packet index (then creation order): deterministic.  SF_E_NOMEM. */
int sf_flows_sort_done(sf_flows *t);

/* Reassembled bytes of direction d (0 forward, 1 reverse): the length,
   and a copy into dst (that many bytes; spilled streams are read back). */
size_t sf_flow_stream_len(const sf_flow *f, int d);
int sf_flow_stream_copy(sf_flows *t, const sf_flow *f, int d, uint8_t *dst);

typedef struct sf_flow_stats {
  uint64_t packets, bytes;      /* offered */
  uint64_t active, total;       /* flows now, flows ever */
  uint64_t buffered;            /* reassembly bytes held (memory + spill) */
  uint64_t in_memory;           /* of which on the heap */
  uint64_t spills, spilled_bytes;
  uint64_t dropped_segments;
} sf_flow_stats;
void sf_flows_stats(const sf_flows *t, sf_flow_stats *s);

/* internal, shared by the files of core/flow/ --------------------------- */
void sf_tcp_packet(sf_flows *t, sf_flow *f, int d, const uint8_t *tcp,
                   size_t hlen, const uint8_t *pay, size_t plen);
int sf_tcp_state(const sf_flow *f, int side);
void sf_reasm_segment(sf_flows *t, sf_flow *f, int d, uint32_t seq,
                      const uint8_t *pay, size_t plen);
void sf_reasm_free(sf_flows *t, sf_tcp_dir *r);
/* streams (stream.c): appends under the table's budget */
/* stable: d outlives the table (a packet of stable input), else copied */
int sf_stream_append(sf_flows *t, sf_stream *s, const uint8_t *d, size_t n,
                     int stable);
void sf_stream_free(sf_flows *t, sf_stream *s);
void sf_stream_init(sf_stream *s);
void sf_budget_charge(sf_flows *t, int64_t delta);  /* ooo bytes */

/* the transport's name ("TCP", "ICMPv6"), or "Other" */
const char *sf_flow_protocol(const sf_flow *f);

#endif
