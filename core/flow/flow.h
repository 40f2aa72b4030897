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
#include <stdio.h>

#include "../sf.h"

struct sf_ropts;

#define SF_NS 1000000000LL

typedef struct sf_flow_config {
  int64_t tcp_established_timeout_ns;  /* idle established TCP ends */
  int64_t tcp_half_open_timeout_ns;    /* handshake not completed */
  int64_t tcp_time_wait_timeout_ns;    /* closed or reset: tuple kept */
  int64_t udp_timeout_ns;              /* UDP, ICMP, Other */
  int64_t fragment_timeout_ns;         /* an IP datagram's fragments wait
                                          this long for the rest */
  int64_t reorder_window_ns;           /* how far capture order may stray
                                          from sending order: data seen
                                          before its direction's SYN waits
                                          this long for it */
  size_t max_reassembly_buffer;        /* per direction: bytes in memory
                                          (past it a stream spills under a
                                          budget, is cut without one) and
                                          bytes held past a hole */
  uint32_t max_ooo_fragments;          /* per direction, held segments;
                                          past either cap the hole is
                                          skipped as a gap */
  uint64_t memory_budget;              /* heap bytes the table may hold
                                          (streams spill, the idlest
                                          conversations end); 0 = none */
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
  /* the driver's (run.c); the table ignores them */
  int verbose;                         /* progress lines on the log */
  uint64_t progress_interval;          /* packets between them */
} sf_flow_config;

/* The defaults, the only place they are written (FlowConfig reads them). */
void sf_flow_config_default(sf_flow_config *c);

/* sf_flow_key.kind: ICMP echo (by identifier), other ICMP (by type and
   code), TCP or UDP without a transport header (later IP fragments) */
enum { SF_KIND_ECHO = 1, SF_KIND_ICMP = 2, SF_KIND_NOPORTS = 3 };
enum { SF_FLOW_FWD = 0, SF_FLOW_REV = 1 };

/* Status of a conversation. */
enum { SF_FS_ACTIVE, SF_FS_HALFCLOSED, SF_FS_CLOSED, SF_FS_RESET,
       SF_FS_TIMEDOUT,
       SF_FS_EVICTED };   /* ended early: memory_budget needed the room */

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

/* A hole in a stream the capture never filled: skipped, the data after it
   kept (Zeek's content gaps).  off counts from the stream's first byte,
   earlier gaps' bytes included. */
typedef struct sf_gap {
  uint64_t off, len;
} sf_gap;

typedef struct sf_reasm sf_reasm;  /* a direction's reassembly (reasm.c) */

/* TCP state of one direction: its sender's side and its byte stream. */
typedef struct sf_tcp_dir {
  uint32_t isn;          /* sequence number that stream offsets count from */
  uint32_t fin_seq;      /* sequence number of the FIN */
  uint8_t base_set;      /* isn set (by the SYN, or by the first data) */
  uint8_t syn_origin;    /* the SYN set it: the stream's start is known */
  uint8_t syn, synack, fin, fin_acked;
  uint64_t dropped;      /* segments not kept (caps, snaplen, too late) */
  sf_reasm *r;           /* made on the first payload, NULL before */
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
  size_t charge;         /* heap bytes counted in the budget while live */
  int status;
  uint8_t tcp_hs[2];     /* handshake state per side */
  uint8_t rst, lru;       /* lru: timeout class, 0xff none */
  uint8_t fin_first;     /* side that sent the first FIN, + 1 */
  uint8_t end_phase;     /* SF_END_*: what ended it (below: shard.c) */
  uint8_t end_class;     /* its timeout class then */
  uint8_t shard;         /* the thread's table it lives in (threads=) */
  sf_tcp_dir dir[2];     /* TCP only */
  uint8_t icmp_type, icmp_code;
  uint16_t icmp_id;
  uint32_t icmp_req, icmp_rep;
  int32_t icmp_last_seq; /* -1 none */
  sf_flow *prev, *next;  /* LRU list of its timeout class; done queue */
  /* when it was last seen and when it ended, as a table working alone
     would order them: threads that each track some conversations merge
     what they deliver by these (shard.c) */
  uint64_t touched;      /* packet index * 2, + 1 past that packet's expiry */
  uint64_t end_index;    /* the packet whose handling ended it */
};

/* What ended a conversation, in the order a packet's handling does it:
   the timeouts its time passed, its tuple starting over, the budget, and
   at last the end of the input. */
enum { SF_END_TIMEOUT, SF_END_RESTART, SF_END_BUDGET, SF_END_FINISH };

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
/* A packet another table tracks (threads=): its time passes here too,
   and it counts in the packet indices. */
void sf_flows_pass(sf_flows *t, int64_t time_ns, uint32_t wirelen);
/* Which of n tables owns the conversations of dissected packet p: a
   hash of what all their packets carry, fragments included (addresses
   either way round, IP version and protocol, VLAN ids); 0 when p has
   none (not IP). */
int sf_flow_shard(const sf_pkt *p, int n);
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
   a copy into dst (that many bytes; spilled streams are read back), or n
   bytes from offset off (fewer at the end; the count, or -1 when a
   spilled stream cannot be read back). */
size_t sf_flow_stream_len(const sf_flow *f, int d);
int sf_flow_stream_copy(sf_flows *t, const sf_flow *f, int d, uint8_t *dst);
/* why the last stream read failed (a spill file, a capture cut short) */
const char *sf_flows_error(const sf_flows *t);
long long sf_flow_stream_read(sf_flows *t, const sf_flow *f, int d,
                              uint64_t off, uint8_t *dst, size_t n);
/* The gaps of direction d's stream, in order (*n of them). */
const sf_gap *sf_flow_gaps(const sf_flow *f, int d, size_t *n);

/* What a conversation is (key.c): a TCP conversation with ports (whose
   streams are reassembled), one with ports (TCP, UDP), ICMP or ICMPv6
   (echo or other), and its transport's name ("TCP", "UDP", "ICMP",
   "ICMPv6"; "Other" for the rest).  Hosts ask these instead of comparing
   numbers. */
int sf_flow_is_tcp(const sf_flow *f);
int sf_flow_has_ports(const sf_flow *f);
int sf_flow_is_icmp(const sf_flow *f);
int sf_flow_is_echo(const sf_flow *f);
const char *sf_flow_protocol(const sf_flow *f);
/* Side s's address as text (IPv4 dotted, IPv6 RFC 5952) into out. */
void sf_flow_addr(const sf_flow *f, int s, char out[46]);

typedef struct sf_flow_stats {
  uint64_t packets, bytes;      /* offered */
  uint64_t active, total;       /* flows now, flows ever */
  uint64_t buffered;            /* reassembly bytes held (memory + spill) */
  uint64_t in_memory;           /* of which on the heap */
  uint64_t spills, spilled_bytes;
  uint64_t dropped_segments;    /* all of these: */
  uint64_t dropped_cap;         /* streams past max_reassembly_buffer, no budget */
  uint64_t dropped_late;        /* arrived after their hole was skipped */
  uint64_t dropped_snaplen;     /* payload cut by the capture's snap length */
  uint64_t gaps, gap_bytes;     /* holes skipped, bytes never seen */
  uint64_t gaps_forced;         /* of which skipped early by the caps */
  uint64_t evicted;             /* conversations ended early (Evicted) */
  uint64_t frag_whole;          /* IP datagrams made whole from fragments */
  uint64_t frag_discarded;      /* given up (all of these): */
  uint64_t frag_overlaps, frag_timeouts, frag_capped, frag_bad;
  uint64_t reasm_steps;         /* held-segment heap steps (a cost meter) */
} sf_flow_stats;
void sf_flows_stats(const sf_flows *t, sf_flow_stats *s);

/* ---- the driver (run.c): packets in, conversations out ------------------

   One loop for every host: a capture file (or an open reader) or the
   host's own packets go through the anonymizer when one is given, into
   the table; ended conversations and per-packet events go to the host's
   callbacks.  Progress lines (config.verbose) and warnings (data the caps
   dropped, always) are written to the log.

   A callback may leave by a longjmp (a Lua error): the run keeps no state
   on the C stack, so it can still be freed, and nothing leaks. */

typedef struct sf_flow_run sf_flow_run;
struct sf_anon;
struct sf_reader;

typedef struct sf_flow_hooks {
  void *ud;
  /* A conversation ended; the host owns it (sf_flow_free with the run's
     table).  hold = 0: called as they end (a conversation that ended is
     delivered before the packet whose time ended it), the rest at the end
     sorted by start; hold = 1: all at the end, sorted. */
  void (*on_flow)(void *ud, sf_flow *f);
  int hold;
  /* A packet joined f (dir SF_FLOW_*); p is what the table saw (the
     anonymized copy when anonymizing), valid during the call.  NULL: none. */
  void (*on_packet)(void *ud, const sf_pkt *p, sf_flow *f, int dir);
  /* Called every 65,536 packets: a host's chance to interrupt.  Optional. */
  void (*tick)(void *ud);
  /* Called with 1 before and 0 after the engine's own work on a packet
   (dissecting it, anonymizing it, the table), never around a callback:
   a host whose protocols call back into it installs itself there, and
   may leave by longjmp on the 0 call.  Optional. */
  void (*work)(void *ud, int begin);
  /* The same, on the driver's own threads (sf_flow_run_threads), where
   the host cannot be called: it answers on the 0 call whether the work
   wanted it (a protocol whose layout asks the host), and then the
   driver reads the capture again on the caller's thread.  Optional. */
  int (*thread_work)(void *ud, int begin);
  FILE *log;             /* progress and warnings; NULL: stderr */
} sf_flow_hooks;

/* A host's packet source: fills *p with the next packet (dissected or not;
   it stays valid until the next call) and returns 1, or 0 at the end. */
typedef int (*sf_flow_source)(void *ud, sf_pkt **p);

/* NULL: no memory.  The config is copied (spill_dir must outlive the run). */
sf_flow_run *sf_flow_run_new(const sf_flow_config *c, const sf_flow_hooks *h);
/* Rewrite every packet with a before the table sees it (a outlives the run). */
void sf_flow_run_anonymize(sf_flow_run *r, struct sf_anon *a);
/* Track a capture file with n threads (0: one per CPU): each reads it
   all, keeps the time and the packet count, and tracks the conversations
   sf_flow_shard gives it; what they deliver is merged into the order one
   thread would have delivered it in (on_flow still runs on the caller's
   thread, after the capture was read).  Conversations are the same as
   one thread's unless the memory budget, shared out among the threads,
   ends some early.  Not for on_packet (ignored: one thread), nor for
   streams (stdin, pipes, gzip: one thread). */
void sf_flow_run_threads(sf_flow_run *r, int n);
/* CPU seconds the threads of the last run took, all and the longest
   (0 when it ran on one); for benchmarks. */
double sf_flow_run_thread_cpu(const sf_flow_run *r, double *longest);
/* Run over a capture file ("-": stdin), a reader the host opened (not
   closed here), or the host's packets (stable: their bytes outlive the
   run, so streams may refer to them).  SF_OK, or -1 with the reason in
   sf_flow_run_error (every packet before the damage was delivered). */
/* ro: the reader's options (strict), NULL for the defaults */
int sf_flow_run_file(sf_flow_run *r, const char *path, const struct sf_ropts *ro);
int sf_flow_run_reader(sf_flow_run *r, struct sf_reader *rd);
int sf_flow_run_source(sf_flow_run *r, sf_flow_source next, void *ud,
                       int stable);
const char *sf_flow_run_error(const sf_flow_run *r);
/* The table: for reading streams of delivered conversations and freeing
   them.  It lives as long as the run.  With threads, each conversation's
   own table (sf_flow_run_table_of); the first thread's otherwise. */
sf_flows *sf_flow_run_table(sf_flow_run *r);
sf_flows *sf_flow_run_table_of(sf_flow_run *r, const sf_flow *f);
/* Frees the table too: every conversation the host still holds must have
   been freed first. */
void sf_flow_run_free(sf_flow_run *r);

/* ---- TLS decrypted (tlsflow.c) ---------------------------------------------

   A TCP conversation whose stream starts with a ClientHello, decrypted
   with a key log (core/crypto/tlsdec.h): each direction's application
   data read in pieces, in bounded memory, and why a direction stopped. */
typedef struct sf_flow_tls sf_flow_tls;
struct sf_keylog;
struct sf_tls_session;
/* NULL when f is no TLS conversation (or memory ran out).  f's streams
   must stay readable while it is used. */
sf_flow_tls *sf_flow_tls_open(sf_flows *t, const sf_flow *f, const struct sf_keylog *kl);
void sf_flow_tls_free(sf_flow_tls *x);
/* the hellos' facts and the session's error (no key, suite, ...) */
const struct sf_tls_session *sf_flow_tls_session(const sf_flow_tls *x);
int sf_flow_tls_client(const sf_flow_tls *x);   /* SF_FLOW_FWD or _REV */
/* Up to n bytes of direction d's application data plaintext, from where
   the last read stopped: the count (0 at the end), -1 when the stream
   cannot be read back or memory ran out.  dst NULL: walked and counted,
   not copied (to learn how the direction ends). */
long long sf_flow_tls_read(sf_flows *t, const sf_flow *f, sf_flow_tls *x, int d,
                           uint8_t *dst, size_t n);
/* Why direction d stopped short (so far), NULL while it has not. */
const char *sf_flow_tls_error(const sf_flow_tls *x, int d);
/* records walked so far, and how many were decrypted */
uint64_t sf_flow_tls_records(const sf_flow_tls *x, int d, uint64_t *decrypted);
/* the handshake messages of direction d met so far, plaintext and
   decrypted, joined (the first 256 KiB) */
const uint8_t *sf_flow_tls_handshake(const sf_flow_tls *x, int d, size_t *n);

/* internal, shared by the files of core/flow/ --------------------------- */
void sf_tcp_packet(sf_flows *t, sf_flow *f, int d, const uint8_t *tcp,
                   size_t hlen, const uint8_t *pay, size_t plen, int64_t now);
int sf_tcp_state(const sf_flow *f, int side);
void sf_reasm_segment(sf_flows *t, sf_flow *f, int d, uint32_t seq,
                      const uint8_t *pay, size_t plen, int64_t now);
/* the SYN of direction d: its stream starts at seq + 1 */
void sf_reasm_syn(sf_flows *t, sf_flow *f, int d, uint32_t seq);
/* time passes: a direction waiting for its start gives up past the window */
void sf_reasm_tick(sf_flows *t, sf_flow *f, int64_t now);
/* the conversation ends: what is held is delivered, holes become gaps */
void sf_reasm_finish(sf_flows *t, sf_flow *f);
void sf_reasm_free(sf_flows *t, sf_tcp_dir *r);
/* streams (stream.c): appends under the table's budget */
/* stable: d outlives the table (a packet of stable input), else copied */
int sf_stream_append(sf_flows *t, sf_stream *s, const uint8_t *d, size_t n,
                     int stable);
void sf_stream_free(sf_flows *t, sf_stream *s);
void sf_stream_init(sf_stream *s);
void sf_budget_charge(sf_flows *t, int64_t delta);  /* ooo bytes */

#endif
