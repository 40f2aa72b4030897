/*
 * route.c -- the kernel's routes: one lookup asked over netlink (what `ip
 * route get` asks: the output interface, the source address the kernel
 * would pick, the gateway), the table read from /proc/net, and the ARP
 * cache.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

static size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

/* RTM_GETROUTE for one address, as `ip route get` sends it */
typedef struct route_req {
  struct nlmsghdr h;
  struct rtmsg r;
  char attrs[64];
} route_req;

static void add_attr(struct nlmsghdr *h, int type, const void *d, size_t n) {
  struct rtattr *a = (struct rtattr *)(void *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(n);
  memcpy(RTA_DATA(a), d, n);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int ask(int s, int family, const uint8_t *dst, uint32_t seq) {
  route_req q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.h.nlmsg_type = RTM_GETROUTE;
  q.h.nlmsg_flags = NLM_F_REQUEST;
  q.h.nlmsg_seq = seq;
  q.r.rtm_family = (unsigned char)family;
  q.r.rtm_dst_len = (unsigned char)(addr_len(family) * 8);
  add_attr(&q.h, RTA_DST, dst, addr_len(family));
  return send(s, &q, q.h.nlmsg_len, 0) < 0 ? -1 : 0;
}

static void read_attrs(const struct nlmsghdr *h, sf_route *r) {
  const struct rtmsg *m = NLMSG_DATA(h);
  const struct rtattr *a = RTM_RTA(m);
  int left = (int)RTM_PAYLOAD(h);
  size_t n = addr_len(r->family);
  for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4) {
      memcpy(&r->ifindex, RTA_DATA(a), 4);
    } else if (a->rta_type == RTA_PREFSRC && RTA_PAYLOAD(a) >= n) {
      memcpy(r->src, RTA_DATA(a), n);
      r->has_src = 1;
    } else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= n) {
      memcpy(r->gw, RTA_DATA(a), n);
      r->has_gw = 1;
    }
  }
}

/* the answer to query seq (older ones, after a timeout, are skipped), or
   the kernel's error number */
/* the next message of a reply (NLMSG_NEXT, without its signed sizes), or
   NULL at the end */
static const struct nlmsghdr *next_msg(const struct nlmsghdr *h, size_t *left) {
  size_t step = NLMSG_ALIGN(h->nlmsg_len);
  if (step > *left) return NULL;
  *left -= step;
  h = (const struct nlmsghdr *)(const void *)((const char *)h + step);
  return *left >= sizeof *h && h->nlmsg_len >= sizeof *h && h->nlmsg_len <= *left ? h : NULL;
}

/* the answer to query seq (older ones, after a timeout, are skipped), or
   the kernel's error number */
static int answer(int s, uint32_t seq, sf_route *r) {
  char buf[8192];
  for (;;) {
    ssize_t got = recv(s, buf, sizeof buf, 0);
    const struct nlmsghdr *h = (const struct nlmsghdr *)(void *)buf;
    size_t left = got < 0 ? 0 : (size_t)got;
    if (got < 0) return errno;
    if (left < sizeof *h || h->nlmsg_len < sizeof *h || h->nlmsg_len > left) continue;
    for (; h; h = next_msg(h, &left)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error ? -e->error : EINVAL;
      }
      if (h->nlmsg_type == RTM_NEWROUTE) {
        read_attrs(h, r);
        return 0;
      }
    }
  }
}

/* One routing socket per thread, kept open: a lookup is then one message
   each way (sr1 asks for every packet). */
static _Thread_local int nl_fd = -1;
static _Thread_local uint32_t nl_seq;

static int routing_socket(void) {
  struct timeval tv = {1, 0};
  if (nl_fd >= 0) return nl_fd;
  nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl_fd >= 0) setsockopt(nl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return nl_fd;
}

static int lookup(int family, const uint8_t *dst, sf_route *r) {
  int s = routing_socket(), e;
  uint32_t seq = ++nl_seq;
  if (s < 0) return errno;
  e = ask(s, family, dst, seq) ? errno : answer(s, seq, r);
  if (e == EAGAIN || e == EBADF || e == ENOTSOCK) {  /* start afresh next time */
    close(nl_fd);
    nl_fd = -1;
  }
  return e;
}

/* The last answers, reused for 50 ms: sr1 in a loop asks the same
   question each time, and the kernel's answer costs more than the round
   trip it serves on a fast link. */
#define ROUTE_CACHE 8
#define ROUTE_TTL_NS 50000000

typedef struct cached {
  int64_t at;
  int family;
  uint8_t dst[16];
  sf_route r;
} cached;

static _Thread_local cached route_cache[ROUTE_CACHE];
static _Thread_local unsigned route_next;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int from_cache(int family, const uint8_t *dst, sf_route *r, int64_t now) {
  int i;
  for (i = 0; i < ROUTE_CACHE; i++) {
    const cached *c = &route_cache[i];
    if (c->family == family && now - c->at < ROUTE_TTL_NS &&
        memcmp(c->dst, dst, addr_len(family)) == 0) {
      *r = c->r;
      return 1;
    }
  }
  return 0;
}

static void to_cache(int family, const uint8_t *dst, const sf_route *r, int64_t now) {
  cached *c = &route_cache[route_next++ % ROUTE_CACHE];
  c->at = now;
  c->family = family;
  memcpy(c->dst, dst, addr_len(family));
  c->r = *r;
}

int sf_route_get(int family, const uint8_t *dst, sf_route *r, char *err,
                 size_t errlen) {
  char text[INET6_ADDRSTRLEN] = "?";
  int64_t now = mono_ns();
  int e;
  if (from_cache(family, dst, r, now)) return 0;
  memset(r, 0, sizeof *r);
  r->family = family;
  e = lookup(family, dst, r);
  if (!e && (!r->ifindex || !if_indextoname(r->ifindex, r->iface))) e = ENODEV;
  if (e) {
    inet_ntop(family, dst, text, sizeof text);
    snprintf(err, errlen, "no route to %s: %s", text, strerror(e));
    return -1;
  }
  if (!r->has_src)  /* no preferred source: the interface's address */
    r->has_src = sf_iface_addr(r->iface, family, r->src) == 0;
  to_cache(family, dst, r, now);
  return 0;
}

/* ---- the table, from /proc/net ------------------------------------------------ */

static int grow(sf_route_entry **v, int n, int *cap) {
  sf_route_entry *nv;
  if (n < *cap) return 0;
  *cap = *cap ? *cap * 2 : 16;
  nv = realloc(*v, (size_t)*cap * sizeof **v);
  if (!nv) return -1;
  *v = nv;
  return 0;
}

/* /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask
   (addresses as host-order hex of network-order words) */
static int read_v4(sf_route_entry **v, int *n, int *cap) {
  FILE *f = fopen("/proc/net/route", "r");
  char line[512], name[64];
  unsigned dst, gw, flags, metric, mask, refcnt, use;
  if (!f) return 0;
  if (!fgets(line, sizeof line, f)) line[0] = 0;  /* the header */
  while (fgets(line, sizeof line, f)) {
    sf_route_entry *e;
    if (sscanf(line, "%63s %x %x %x %u %u %u %x", name, &dst, &gw, &flags,
               &refcnt, &use, &metric, &mask) != 8 || !(flags & 1))
      continue;  /* RTF_UP */
    if (grow(v, *n, cap)) break;
    e = &(*v)[(*n)++];
    memset(e, 0, sizeof *e);
    e->family = AF_INET;
    memcpy(e->dst, &dst, 4);
    memcpy(e->gw, &gw, 4);
    e->has_gw = (flags & 2) != 0;  /* RTF_GATEWAY */
    e->prefixlen = __builtin_popcount(mask);
    e->metric = metric;
    snprintf(e->iface, sizeof e->iface, "%s", name);
  }
  fclose(f);
  return 0;
}

static void hex_bytes(const char *s, uint8_t *out, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned b = 0;
    sscanf(s + 2 * i, "%2x", &b);
    out[i] = (uint8_t)b;
  }
}

/* /proc/net/ipv6_route: dst dstlen src srclen gw metric refcnt use flags
   iface; local and unreachable routes are skipped */
static int read_v6(sf_route_entry **v, int *n, int *cap) {
  FILE *f = fopen("/proc/net/ipv6_route", "r");
  char dst[33], src[33], gw[33], name[64];
  unsigned dlen, slen, metric, refcnt, use, flags;
  if (!f) return 0;
  while (fscanf(f, "%32s %x %32s %x %32s %x %x %x %x %63s", dst, &dlen, src,
                &slen, gw, &metric, &refcnt, &use, &flags, name) == 10) {
    sf_route_entry *e;
    static const uint8_t zero[16];
    if (!(flags & 1) || (flags & 0x200) || !strcmp(name, "lo"))
      continue;  /* RTF_UP; RTF_REJECT; local addresses */
    if (grow(v, *n, cap)) break;
    e = &(*v)[(*n)++];
    memset(e, 0, sizeof *e);
    e->family = AF_INET6;
    hex_bytes(dst, e->dst, 16);
    hex_bytes(gw, e->gw, 16);
    e->has_gw = memcmp(e->gw, zero, 16) != 0;
    e->prefixlen = (int)dlen;
    e->metric = metric;
    snprintf(e->iface, sizeof e->iface, "%s", name);
  }
  fclose(f);
  return 0;
}

int sf_route_table(sf_route_entry **out, char *err, size_t errlen) {
  int n = 0, cap = 0;
  *out = NULL;
  read_v4(out, &n, &cap);
  read_v6(out, &n, &cap);
  if (n == 0 && !*out) {
    *out = calloc(1, sizeof **out);
    if (!*out) {
      snprintf(err, errlen, "not enough memory");
      return -1;
    }
  }
  return n;
}

/* /proc/net/arp: IP address, HW type, Flags, HW address, Mask, Device */
int sf_neigh_get(int family, const uint8_t *addr, unsigned ifindex,
                 uint8_t mac[6]) {
  FILE *f;
  char line[256], ip[64], hw[32], dev[64], want[INET_ADDRSTRLEN], ifname[IF_NAMESIZE] = "";
  unsigned type, flags, m[6];
  int found = -1;
  if (family != AF_INET || !(f = fopen("/proc/net/arp", "r"))) return -1;
  inet_ntop(AF_INET, addr, want, sizeof want);
  if (ifindex) if_indextoname(ifindex, ifname);
  if (!fgets(line, sizeof line, f)) line[0] = 0;  /* the header */
  while (found && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%63s %x %x %31s %*s %63s", ip, &type, &flags, hw, dev) != 5 ||
        strcmp(ip, want) || !(flags & 2) || (*ifname && strcmp(dev, ifname)))
      continue;  /* ATF_COM: complete */
    if (sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
      int i;
      for (i = 0; i < 6; i++) mac[i] = (uint8_t)m[i];
      found = 0;
    }
  }
  fclose(f);
  return found;
}
