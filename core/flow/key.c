/*
 * key.c -- a dissected packet's conversation key, read off the engine's
 * layer index: VLAN ids from 802.1Q/802.1ad tags, the first IP header that
 * is not quoted inside an ICMP error, the IPv6 extension headers the
 * dissector already walked, then the transport header.
 */
#include <string.h>

#include "flowpriv.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int is_ext6(int proto) {
  return proto == SF_IPV6_HOP || proto == SF_IPV6_ROUTING ||
         proto == SF_IPV6_FRAG || proto == SF_IPV6_DEST;
}

/* Index of the outer IP layer, collecting VLAN ids on the way; -1 none. */
static int find_ip(const sf_pkt *p, sf_flow_key *k) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    if (l->flags & SF_L_QUOTED) return -1;
    if (l->proto == SF_IPV4 || l->proto == SF_IPV6) return li;
    if ((l->proto == SF_DOT1Q || l->proto == SF_DOT1AD) && l->hlen >= 2 &&
        k->nvlan < 2)
      k->vlan[k->nvlan++] = rd16(p->data + l->off) & 0x0fff;
  }
  return -1;
}

/* Addresses and the protocol number of the last header in the IP chain;
   returns the index of the layer after that chain. */
static int read_ip(const sf_pkt *p, int li, sf_flow_key *k) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  if (l->proto == SF_IPV4) {  /* the dissector checked hlen >= 20 */
    k->ipver = 4;
    k->proto = h[9];
    memcpy(k->addr[0], h + 12, 4);
    memcpy(k->addr[1], h + 16, 4);
    return li + 1;
  }
  k->ipver = 6;
  k->proto = h[6];
  memcpy(k->addr[0], h + 8, 16);
  memcpy(k->addr[1], h + 24, 16);
  for (li++; li < p->nlayers && is_ext6(p->layers[li].proto); li++)
    k->proto = p->data[p->layers[li].off];  /* its next header */
  return li;
}

/* ICMP and ICMPv6: echo keyed by identifier, the rest by type and code.
   The same value on both sides makes the key match either direction. */
static void read_icmp(const uint8_t *h, size_t n, int v6, sf_pktinfo *pi) {
  uint8_t type = h[0], code = n > 1 ? h[1] : 0;
  uint8_t req = v6 ? 128 : 8, rep = v6 ? 129 : 0;
  if ((type == req || type == rep) && n >= 8) {
    pi->icmp_echo = type == req ? 1 : 2;
    pi->icmp_seq = rd16(h + 6);
    pi->key.kind = SF_KIND_ECHO;
    pi->key.port[0] = pi->key.port[1] = rd16(h + 4);
    return;
  }
  pi->key.kind = SF_KIND_ICMP;
  pi->key.port[0] = pi->key.port[1] = (uint16_t)(type << 8 | code);
}

/* The transport layer at li, if it is the one the IP chain names. */
static void read_l4(const sf_pkt *p, int li, sf_pktinfo *pi) {
  const sf_layer *l;
  int want;
  if (li >= p->nlayers) return;
  l = &p->layers[li];
  switch (pi->key.proto) {
    case 6: want = SF_TCP; break;
    case 17: want = SF_UDP; break;
    case 1: want = SF_ICMP; break;
    case 58: want = SF_ICMPV6; break;
    default: return;  /* Other: addresses and protocol only */
  }
  if (l->proto != want || l->end <= l->off) {
    /* a later fragment (or a cut header): no ports to key it by */
    if (want == SF_TCP || want == SF_UDP) pi->key.kind = SF_KIND_NOPORTS;
    return;
  }
  pi->l4 = p->data + l->off;
  pi->l4len = l->end - l->off;
  pi->l4hlen = l->hlen;
  pi->l4cut = (l->flags & SF_L_TRUNC) != 0;
  if (want == SF_TCP || want == SF_UDP) {
    pi->key.port[0] = rd16(pi->l4);
    pi->key.port[1] = rd16(pi->l4 + 2);
  } else if (pi->l4len >= 1) {
    read_icmp(pi->l4, pi->l4len, want == SF_ICMPV6, pi);
  }
}

int sf_flow_classify(const sf_pkt *p, sf_pktinfo *pi) {
  int li;
  memset(pi, 0, sizeof *pi);
  li = find_ip(p, &pi->key);
  if (li < 0) return 0;
  li = read_ip(p, li, &pi->key);
  read_l4(p, li, pi);
  return 1;
}

static uint64_t mix(uint64_t h) {  /* splitmix64's finaliser */
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

static uint64_t side_hash(const sf_flow_key *k, int s) {
  uint64_t a, b;
  memcpy(&a, k->addr[s], 8);
  memcpy(&b, k->addr[s] + 8, 8);
  return mix(a ^ mix(b ^ k->port[s]));
}

/* Symmetric in the two sides, so both directions land on one slot. */
uint64_t sf_flow_hash(const sf_flow_key *k) {
  uint64_t h = side_hash(k, 0) + side_hash(k, 1);
  return mix(h ^ ((uint64_t)k->ipver << 56 | (uint64_t)k->proto << 48 |
                  (uint64_t)k->kind << 40 | (uint64_t)k->vlan[0] << 16 |
                  k->vlan[1]) ^ k->nvlan);
}

/* SF_FLOW_FWD if q is have's direction, SF_FLOW_REV if the opposite, -1. */
int sf_flow_key_dir(const sf_flow_key *have, const sf_flow_key *q) {
  if (have->ipver != q->ipver || have->proto != q->proto ||
      have->kind != q->kind || have->nvlan != q->nvlan ||
      have->vlan[0] != q->vlan[0] || have->vlan[1] != q->vlan[1])
    return -1;
  if (have->port[0] == q->port[0] && have->port[1] == q->port[1] &&
      memcmp(have->addr, q->addr, 32) == 0)
    return SF_FLOW_FWD;
  if (have->port[0] == q->port[1] && have->port[1] == q->port[0] &&
      memcmp(have->addr[0], q->addr[1], 16) == 0 &&
      memcmp(have->addr[1], q->addr[0], 16) == 0)
    return SF_FLOW_REV;
  return -1;
}

void sf_flow_key_swap(sf_flow_key *k) {
  uint8_t a[16];
  uint16_t port = k->port[0];
  memcpy(a, k->addr[0], 16);
  memcpy(k->addr[0], k->addr[1], 16);
  memcpy(k->addr[1], a, 16);
  k->port[0] = k->port[1];
  k->port[1] = port;
}
