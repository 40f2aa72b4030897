/*
 * iface.c -- the machine's interfaces: what libpcap can open, with each
 * one's flags, MTU, MAC and addresses (asked of the kernel by ioctl).
 */
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"

/* The link type a capture on an interface of this hardware type gets. */
static int linktype_of(int arphrd) {
  switch (arphrd) {
    case ARPHRD_ETHER: case ARPHRD_LOOPBACK: return DLT_EN10MB;
    case ARPHRD_NONE: case ARPHRD_TUNNEL: case ARPHRD_TUNNEL6: return DLT_RAW;
    case ARPHRD_IEEE80211_RADIOTAP: return DLT_IEEE802_11_RADIO;
    case ARPHRD_PPP: return DLT_LINUX_SLL;
    default: return -1;
  }
}

/* index, flags, MTU, MAC of name through one datagram socket */
static int ask_kernel(int s, const char *name, sf_iface *out) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
  out->flags = (unsigned)(unsigned short)ifr.ifr_flags;
  out->index = if_nametoindex(name);
  out->mtu = ioctl(s, SIOCGIFMTU, &ifr) < 0 ? -1 : ifr.ifr_mtu;
  out->linktype = -1;
  if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0) {
    out->linktype = linktype_of(ifr.ifr_hwaddr.sa_family);
    if (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
      out->has_mac = 1;
      memcpy(out->mac, ifr.ifr_hwaddr.sa_data, 6);
    }
  }
  return 0;
}

int sf_iface_get(const char *name, sf_iface *out, char *err, size_t errlen) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name);
  rc = s < 0 ? -1 : ask_kernel(s, name, out);
  if (s >= 0) close(s);
  if (rc) snprintf(err, errlen, "no such interface: %s", name);
  return rc;
}

static int prefix_len(const uint8_t *m, size_t n) {
  int bits = 0;
  size_t i;
  for (i = 0; i < n; i++) bits += __builtin_popcount(m[i]);
  return bits;
}

/* an address libpcap lists, in the engine's form; 0 if it is one we keep */
static int convert_addr(const pcap_addr_t *a, sf_ifaddr *o) {
  const struct sockaddr *sa = a->addr;
  memset(o, 0, sizeof *o);
  if (!sa) return -1;
  o->family = sa->sa_family;
  if (sa->sa_family == AF_INET) {
    memcpy(o->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    if (a->netmask)
      memcpy(o->mask, &((const struct sockaddr_in *)(const void *)a->netmask)->sin_addr, 4);
    o->prefixlen = prefix_len(o->mask, 4);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    memcpy(o->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    if (a->netmask)
      memcpy(o->mask, &((const struct sockaddr_in6 *)(const void *)a->netmask)->sin6_addr, 16);
    o->prefixlen = prefix_len(o->mask, 16);
    return 0;
  }
  return -1;  /* AF_PACKET: the MAC comes from the kernel */
}

static int fill_iface(int s, const pcap_if_t *d, sf_iface *o) {
  const pcap_addr_t *a;
  int n = 0;
  memset(o, 0, sizeof *o);
  snprintf(o->name, sizeof o->name, "%s", d->name);
  if (d->description) o->description = strdup(d->description);
  if (ask_kernel(s, d->name, o)) {  /* "any" and pseudo devices */
    o->mtu = -1;
    o->linktype = -1;
    o->flags = (d->flags & PCAP_IF_UP ? IFF_UP : 0) |
               (d->flags & PCAP_IF_RUNNING ? IFF_RUNNING : 0) |
               (d->flags & PCAP_IF_LOOPBACK ? IFF_LOOPBACK : 0);
  }
  for (a = d->addresses; a; a = a->next) n++;
  o->addrs = n ? calloc((size_t)n, sizeof *o->addrs) : NULL;
  if (n && !o->addrs) return -1;
  for (a = d->addresses; a; a = a->next)
    if (convert_addr(a, &o->addrs[o->naddrs]) == 0) o->naddrs++;
  return 0;
}

int sf_ifaces(sf_iface **out, char *err, size_t errlen) {
  pcap_if_t *all, *d;
  char ebuf[PCAP_ERRBUF_SIZE];
  int n = 0, i = 0, s;
  *out = NULL;
  if (pcap_findalldevs(&all, ebuf)) {
    snprintf(err, errlen, "cannot list interfaces: %s", ebuf);
    return -1;
  }
  for (d = all; d; d = d->next) n++;
  s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  *out = calloc(n ? (size_t)n : 1, sizeof **out);
  for (d = all; *out && d; d = d->next, i++)
    if (fill_iface(s, d, &(*out)[i])) break;
  if (s >= 0) close(s);
  pcap_freealldevs(all);
  if (!*out || i < n) {
    sf_ifaces_free(*out, i);
    *out = NULL;
    snprintf(err, errlen, "not enough memory");
    return -1;
  }
  return n;
}

void sf_ifaces_free(sf_iface *v, int n) {
  int i;
  if (!v) return;
  for (i = 0; i < n; i++) {
    free(v[i].description);
    free(v[i].addrs);
  }
  free(v);
}

int sf_iface_addr(const char *name, int family, uint8_t out[16]) {
  pcap_if_t *all, *d;
  pcap_addr_t *a;
  char ebuf[PCAP_ERRBUF_SIZE];
  int found = -1;
  if (pcap_findalldevs(&all, ebuf)) return -1;
  for (d = all; d && found; d = d->next) {
    if (strcmp(d->name, name)) continue;
    for (a = d->addresses; a && found; a = a->next) {
      sf_ifaddr fa;
      if (convert_addr(a, &fa) == 0 && fa.family == family) {
        memcpy(out, fa.addr, family == AF_INET ? 4 : 16);
        found = 0;
      }
    }
  }
  pcap_freealldevs(all);
  return found;
}
