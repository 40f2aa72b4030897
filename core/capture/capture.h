/*
 * capture.h -- live traffic: libpcap capture handles, injection at layer 2,
 * raw sockets at layer 3, the kernel's routes and interfaces, and the
 * engine that matches answers to the requests sent (sr, sr1).
 *
 * Nothing here runs an event loop: a capture handle offers a file
 * descriptor to poll and a non-blocking read; the host (the Lua binding,
 * over libuv) decides when to read.  Errors are returned, with a message
 * that names the interface and says what to do ("needs CAP_NET_RAW").
 */
#ifndef SF_CAPTURE_H
#define SF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "../sf.h"

#define SF_CAP_ERRLEN 384

/* ---- capture handles (libpcap) ------------------------------------------- */

enum { SF_DIR_INOUT, SF_DIR_IN, SF_DIR_OUT };

typedef struct sf_live_opts {
  const char *iface;     /* NULL: "any" */
  const char *filter;    /* BPF, or NULL */
  int snaplen;           /* 0: 262144 */
  int promisc, monitor, immediate;
  int buffer_size;       /* bytes; 0: libpcap's default */
  int timeout_ms;        /* how long the kernel holds packets to batch them */
  int direction;         /* SF_DIR_* */
} sf_live_opts;

typedef struct sf_live sf_live;

/* One captured packet, valid during the callback only. */
typedef void (*sf_live_fn)(void *ud, const uint8_t *data, uint32_t caplen,
                           uint32_t wirelen, int64_t time_ns);

typedef struct sf_live_stats {
  uint64_t received;     /* seen by the filter */
  uint64_t dropped;      /* dropped by the kernel: no room in the buffer */
  uint64_t if_dropped;   /* dropped by the interface or its driver */
} sf_live_stats;

sf_live *sf_live_open(const sf_live_opts *o, char *err, size_t errlen);
/* a descriptor that polls readable when packets wait (non-blocking) */
int sf_live_fd(const sf_live *h);
int sf_live_linktype(const sf_live *h);
const char *sf_live_iface(const sf_live *h);
/* deliver up to max waiting packets (max <= 0: all); never blocks.
   Returns how many, or -1 (sf_live_error). */
int sf_live_read(sf_live *h, int max, sf_live_fn fn, void *ud);
int sf_live_setfilter(sf_live *h, const char *expr);          /* 0 or -1 */
int sf_live_stats_get(sf_live *h, sf_live_stats *st);         /* 0 or -1 */
const char *sf_live_error(const sf_live *h);
void sf_live_close(sf_live *h);

/* Compile expr for a link type without a device (a dead handle): 0, or
   -1 with libpcap's message in err. */
int sf_filter_check(const char *expr, int linktype, char *err, size_t errlen);

/* A compiled filter applied to bytes in memory (sniff{offline=}). */
typedef struct sf_bpf sf_bpf;
sf_bpf *sf_bpf_new(const char *expr, int linktype, char *err, size_t errlen);
int sf_bpf_match(const sf_bpf *b, const uint8_t *d, uint32_t caplen,
                 uint32_t wirelen);
void sf_bpf_free(sf_bpf *b);

/* ---- interfaces -------------------------------------------------------------- */

typedef struct sf_ifaddr {
  int family;            /* AF_INET, AF_INET6, AF_PACKET */
  uint8_t addr[16], mask[16];
  int prefixlen;
} sf_ifaddr;

typedef struct sf_iface {
  char name[64];
  char *description;     /* NULL if none */
  unsigned index;
  unsigned flags;        /* IFF_* */
  int mtu;               /* -1 unknown */
  int linktype;          /* DLT_*, -1 unknown */
  int has_mac;
  uint8_t mac[6];
  sf_ifaddr *addrs;
  int naddrs;
} sf_iface;

/* every interface libpcap can open; free with sf_ifaces_free */
int sf_ifaces(sf_iface **out, char *err, size_t errlen);
void sf_ifaces_free(sf_iface *v, int n);
/* one interface's index, flags, MTU and MAC; -1 with a message if none */
int sf_iface_get(const char *name, sf_iface *out, char *err, size_t errlen);
/* its first address of a family (AF_INET, AF_INET6); 0 if it has one */
int sf_iface_addr(const char *name, int family, uint8_t out[16]);

/* ---- routes --------------------------------------------------------------------- */

typedef struct sf_route {
  int family;            /* AF_INET or AF_INET6 */
  char iface[64];
  unsigned ifindex;
  int has_src, has_gw;
  uint8_t src[16];       /* the source address the kernel would use */
  uint8_t gw[16];
} sf_route;

/* The kernel's answer for dst (as `ip route get`): 0, or -1 with the
   reason ("network is unreachable") in err. */
int sf_route_get(int family, const uint8_t *dst, sf_route *r, char *err,
                 size_t errlen);

typedef struct sf_route_entry {
  int family;
  uint8_t dst[16];
  int prefixlen;
  uint8_t gw[16];
  int has_gw;
  char iface[64];
  unsigned metric;
} sf_route_entry;

/* The main routing table, IPv4 then IPv6 (from /proc/net): count, or -1. */
int sf_route_table(sf_route_entry **out, char *err, size_t errlen);

/* The kernel's neighbour cache entry (ARP/ND) for addr on ifindex: 0 and
   the MAC, or -1 if it has none that is usable. */
int sf_neigh_get(int family, const uint8_t *addr, unsigned ifindex,
                 uint8_t mac[6]);

/* ---- sending ---------------------------------------------------------------------- */

/* A packet socket bound to iface that sends whole frames and captures
   nothing.  -1 with the reason in err. */
int sf_l2_open(const char *iface, char *err, size_t errlen);
/* A raw socket sending whole IPv4 or IPv6 datagrams the kernel routes
   (iface NULL: any).  -1 with the reason in err. */
int sf_l3_open(int family, const char *iface, char *err, size_t errlen);

typedef struct sf_sendbuf {
  const uint8_t *d;
  size_t n;
  int family;            /* 0: a frame; AF_INET/AF_INET6: a datagram */
  unsigned scope;        /* IPv6 link-local: the interface's index */
} sf_sendbuf;

/* Send n buffers in as few system calls as the kernel allows; how many
   went (fewer: errno says why). */
int sf_send_batch(int fd, const sf_sendbuf *b, int n);

/* What sending a packet needs to know and fill (Scapy fills these when it
   builds a packet to send): the first network layer, the route to its
   destination, and whether its source (built and not set by the user)
   takes the route's. */
typedef struct sf_prep {
  int net;               /* the network layer's index, -1 none */
  int family;
  sf_route route;
  int fill_src;          /* the network layer's src should be route.src */
  int fill_lsrc, fill_ldst;  /* the link layer's src/dst (layer 2 sends) */
  uint8_t lsrc[6], ldst[6];
} sf_prep;

/* Look at p for sending at layer 3 (l2 = 0: p must start with its
   network layer) or 2 on iface: 0, or -1 with the reason.  A packet no
   constructor made is sent as it is: its route is looked up only if
   need_route (sr() listens where the route leaves). */
int sf_prep_look(const sf_pkt *p, int l2, const char *iface, int need_route,
                 sf_prep *pr, char *err, size_t errlen);
/* does the look ask for a change of p? */
int sf_prep_changes(const sf_prep *pr);
/* make the changes (p writable: a copy of the user's packet) */
int sf_prep_apply(sf_pkt *p, const sf_prep *pr);
/* A message for a send that failed with errno e ("message too long:
   the packet of 1600 bytes exceeds the MTU of veth0 (1500)"). */
void sf_send_error(int e, size_t n, const char *iface, char *err,
                   size_t errlen);

/* ---- turning a packet around ---------------------------------------------------- */

/* Turn a parsed packet around in place (its bytes made writable): source
   and destination swapped at the link, network and transport layers, an
   ICMP-like request (echo, timestamp, ...) made its reply; what the first
   transport or ICMP layer carries is kept.  Lengths and checksums are
   recomputed at the next sf_finalize.  SF_OK, or SF_E_NOMEM. */
int sf_reverse(sf_pkt *p);

/* ---- matching answers to requests --------------------------------------------- */

/* A layer the engine cannot judge (a protocol defined by the host): does
   resp's layer pli answer req's layer rli?  1 yes, 0 no, -1 no opinion. */
typedef int (*sf_answers_fn)(void *ud, const sf_pkt *req, int rli,
                             const sf_pkt *resp, int pli);

/* Does resp answer req, by each protocol's facts (addresses swapped,
   ports swapped, ICMP echo id and seq, TCP seq/ack, an ICMP error
   quoting req, ARP who-has/is-at, ND solicitation/advertisement)?  Both
   must be parsed.  On no, why says which fact differs, if asked. */
int sf_answers(const sf_pkt *resp, const sf_pkt *req, sf_answers_fn hook,
               void *ud, char *why, size_t whylen);
/* The same value for a request and its answers (Scapy's hashret). */
uint64_t sf_hashret(const sf_pkt *p);

/* Requests in flight, found by hashret: adding and matching are O(1)
   for any number in flight. */
typedef struct sf_match sf_match;
sf_match *sf_match_new(void);
void sf_match_free(sf_match *m);
void sf_match_hook(sf_match *m, sf_answers_fn hook, void *ud);
/* req must stay alive and unchanged while it is in m; tag is the host's */
int sf_match_add(sf_match *m, const sf_pkt *req, uint32_t tag);
int sf_match_remove(sf_match *m, uint32_t tag);
size_t sf_match_count(const sf_match *m);
/* The tags of the requests resp answers, oldest first: how many (at most
   max). */
int sf_match_find(sf_match *m, const sf_pkt *resp, uint32_t *tags, int max);
/* Every request in m against resp, for debugging: fn(tag, why) with why
   NULL for an answer. */
typedef void (*sf_explain_fn)(void *ud, uint32_t tag, const char *why);
void sf_match_explain(sf_match *m, const sf_pkt *resp, sf_explain_fn fn,
                      void *ud);

#endif
