/*
 * key.c -- a dissected packet's conversation key, read off the engine's
 * layer index: VLAN ids from 802.1Q/802.1ad tags, the first IP header that
 * is not quoted inside an ICMP error, the IPv6 extension headers the
 * dissector already walked, then the transport header.
 */
#include <string.h>

#include "flowpriv.h"

/* Which protocol plays which part comes from the protocols' own facts
   (core/sf.h): VLAN tags, network layers and their extension headers,
   transports and ICMP. */
static int role_of(int proto) {
  const sf_proto *pr = sf_proto_get(proto);
  return pr && pr->facts ? pr->facts->role : SF_ROLE_NONE;
}

/* Field fi of layer li: read straight from the bytes when it is a whole
   big-endian byte, short or word of a fixed header (every field a key
   needs in the built-in protocols), else as sf_lget reads any field. */
static uint64_t lget(const sf_pkt *p, int li, int fi) {
  const sf_layer *l = &p->layers[li];
  const sf_proto *pr = sf_proto_get(l->proto);
  const sf_field *f = &pr->fields[fi];
  const uint8_t *h = p->data + l->off + f->bitoff / 8u;
  if (pr->dyn || (f->bitoff & 7) || (f->flags & (SF_FF_LE | SF_FF_AT | SF_FF_VARINT)) ||
      f->bitoff + f->bits > l->hlen * 8u)
    return sf_lget(p, li, fi);
  switch (f->bits) {
    case 8: return h[0];
    case 16: return (uint64_t)h[0] << 8 | h[1];
    case 32: return (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
    default: return sf_lget(p, li, fi);
  }
}

/* Index of the outer network layer, collecting VLAN ids on the way; -1
   none. */
static int find_ip(const sf_pkt *p, sf_flow_key *k) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    int r = role_of(l->proto);
    if (l->flags & SF_L_QUOTED) return -1;
    if (r == SF_ROLE_NET) return li;
    if (r == SF_ROLE_VLAN && k->nvlan < 2 && sf_field_present(p, li, sf_proto_get(l->proto)->at.vlan))
      k->vlan[k->nvlan++] = (uint16_t)lget(p, li, sf_proto_get(l->proto)->at.vlan);
  }
  return -1;
}

/* An address field of a network header, if the header holds it. */
static const uint8_t *addr_of(const sf_pkt *p, int li, int fi, size_t *n) {
  const sf_layer *l = &p->layers[li];
  const sf_field *f;
  if (fi < 0) return NULL;
  f = &sf_proto_get(l->proto)->fields[fi];
  if ((f->type != SF_T_IP4 && f->type != SF_T_IP6) || f->bitoff % 8 ||
      f->bitoff + f->bits > l->hlen * 8u)
    return NULL;
  *n = f->bits / 8u;
  return p->data + l->off + f->bitoff / 8u;
}

/* Addresses and the protocol number of the last header in the network
   chain (extension headers walked); returns the index of the layer after
   that chain, or -1 if the header lacks its addresses. */
static int read_ip(const sf_pkt *p, int li, sf_flow_key *k, int *tab) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const uint8_t *src, *dst;
  size_t ns = 0, nd = 0;
  src = addr_of(p, li, pr->at.src, &ns);
  dst = addr_of(p, li, pr->at.dst, &nd);
  if (!src || !dst || ns != nd || pr->next_field < 0) return -1;
  k->ipver = ns == 4 ? 4 : 6;
  k->proto = (uint8_t)lget(p, li, pr->next_field);
  memcpy(k->addr[0], src, ns);
  memcpy(k->addr[1], dst, nd);
  *tab = pr->table;
  for (li++; li < p->nlayers && role_of(p->layers[li].proto) == SF_ROLE_NETEXT; li++) {
    const sf_proto *ext = sf_proto_get(p->layers[li].proto);
    if (ext->next_field >= 0) k->proto = (uint8_t)lget(p, li, ext->next_field);
  }
  return li;
}

/* ICMP and ICMPv6: echo keyed by identifier, the rest by type and code.
   The same value on both sides makes the key match either direction. */
static void read_icmp(const sf_pkt *p, int li, const sf_proto *pr, sf_pktinfo *pi) {
  const uint8_t *h = p->data + p->layers[li].off;
  size_t n = p->layers[li].end - p->layers[li].off;
  uint8_t type = h[0], code = n > 1 ? h[1] : 0;
  const sf_facts *f = pr->facts;
  if ((type == f->echo_request || type == f->echo_reply) && n >= 8 &&
      pr->at.id >= 0 && pr->at.seqno >= 0) {
    pi->icmp_echo = type == f->echo_request ? 1 : 2;
    pi->icmp_seq = (uint16_t)lget(p, li, pr->at.seqno);
    pi->key.kind = SF_KIND_ECHO;
    pi->key.port[0] = pi->key.port[1] = (uint16_t)lget(p, li, pr->at.id);
    return;
  }
  pi->key.kind = SF_KIND_ICMP;
  pi->key.port[0] = pi->key.port[1] = (uint16_t)(type << 8 | code);
}

/* The transport layer at li, if it is the one the network chain names
   (its table maps the protocol number to it). */
static void read_l4(const sf_pkt *p, int li, int tab, sf_pktinfo *pi) {
  int want = tab >= 0 ? sf_table_peek(tab, pi->key.proto) : -1, r = role_of(want);
  const sf_proto *pr = sf_proto_get(want);
  const sf_layer *l;
  if (r != SF_ROLE_TRANSPORT && r != SF_ROLE_STREAM && r != SF_ROLE_ICMP) return;
  pi->key.l4role = (uint8_t)r;  /* Other otherwise: addresses and protocol */
  if (li >= p->nlayers || p->layers[li].proto != want ||
      p->layers[li].end <= p->layers[li].off) {
    /* a later fragment (or a cut header): no ports to key it by */
    if (r != SF_ROLE_ICMP) pi->key.kind = SF_KIND_NOPORTS;
    return;
  }
  l = &p->layers[li];
  pi->key.l4id = (uint16_t)(want + 1);
  pi->l4 = p->data + l->off;
  pi->l4len = l->end - l->off;
  pi->l4hlen = l->hlen;
  pi->pay = pi->l4 + l->hlen;
  pi->l4cut = (l->flags & SF_L_TRUNC) != 0;
  if (r == SF_ROLE_ICMP) {
    read_icmp(p, li, pr, pi);
  } else if (pr->at.src >= 0 && pr->at.dst >= 0) {
    pi->key.port[0] = (uint16_t)lget(p, li, pr->at.src);
    pi->key.port[1] = (uint16_t)lget(p, li, pr->at.dst);
  }
}

/* A fixed field of a header the dissector did not reach, read from its
   bytes (n of them) by its descriptor. */
static int field_at(const sf_proto *pr, int fi, const uint8_t *h, size_t n,
                    uint64_t *v) {
  const sf_field *f;
  if (fi < 0 || pr->dyn) return 0;
  f = &pr->fields[fi];
  if (f->type != SF_T_UINT || (f->flags & (SF_FF_AT | SF_FF_VARINT)) ||
      f->bitoff + f->bits > n * 8)
    return 0;
  *v = sf_getbits(h, f->bitoff, f->bits);
  return 1;
}

/* The dissector stops at SF_MAX_LAYERS (the rest is Raw, the packet
   marked cut), and a long chain of IPv6 extension headers can hide the
   transport past that: walk the rest from off by the headers' own
   descriptors (length, next header) to it, and read its ports the same
   way.  1 when found (pi filled as read_l4 would). */
static int past_layers(const sf_pkt *p, int net, size_t off, int tab, sf_pktinfo *pi) {
  size_t end = p->layers[net].end, hl;
  if (end > p->len) end = p->len;
  while (off < end) {
    int id = sf_table_peek(tab, pi->key.proto), r = role_of(id);
    const sf_proto *pr = sf_proto_get(id);
    const uint8_t *h = p->data + off;
    uint64_t a, b;
    if (!pr || !(hl = sf_header_len(pr, p, h, end - off)) || hl > end - off) return 0;
    if (r == SF_ROLE_NETEXT) {
      if (!field_at(pr, pr->next_field, h, end - off, &a)) return 0;
      pi->key.proto = (uint8_t)a;
      if (pr->table >= 0) tab = pr->table;
      off += hl;
      continue;
    }
    if ((r != SF_ROLE_TRANSPORT && r != SF_ROLE_STREAM) ||
        !field_at(pr, pr->at.src, h, hl, &a) || !field_at(pr, pr->at.dst, h, hl, &b))
      return 0;
    pi->key.l4role = (uint8_t)r;
    pi->key.l4id = (uint16_t)(id + 1);
    pi->key.port[0] = (uint16_t)a;
    pi->key.port[1] = (uint16_t)b;
    pi->l4 = h;
    pi->l4len = end - off;
    pi->l4hlen = hl;
    pi->pay = h + hl;
    pi->l4cut = p->layers[net].end > p->len;
    return 1;
  }
  return 0;
}

static int frag_layer(const sf_pkt *p, int li, sf_frag *fr);

/* Is the datagram at network layer net a fragment (its own header says,
   or an extension header after it does)? */
static int is_fragment(const sf_pkt *p, int net, int end) {
  sf_frag fr;
  int li;
  for (li = net; li < end; li++)
    if (frag_layer(p, li, &fr)) return 1;
  return 0;
}

int sf_flow_classify(const sf_pkt *p, sf_pktinfo *pi) {
  int li, net, tab = -1;
  memset(pi, 0, sizeof *pi);
  net = find_ip(p, &pi->key);
  if (net < 0 || (li = read_ip(p, net, &pi->key, &tab)) < 0) {
    memset(&pi->key, 0, sizeof pi->key);
    return 0;
  }
  pi->frag = is_fragment(p, net, li);
  if (li < p->nlayers && li > net + 1 && p->layers[li].proto == SF_RAW &&
      (p->flags & SF_P_TRUNC) && role_of(p->layers[li - 1].proto) == SF_ROLE_NETEXT &&
      past_layers(p, net, p->layers[li].off, tab, pi))
    return 1;
  read_l4(p, li, tab, pi);
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

/* The two sides' addresses summed (either order gives the same), with
   what else every packet of a conversation carries; no ports (a later
   fragment has none; ICMP's are ids), one mix: this runs for every
   packet on every thread. */
int sf_flow_shard_of(const sf_flow_key *k, int n) {
  uint64_t a[2], b[2], h;
  if (n <= 1) return 0;
  memcpy(a, k->addr[0], 16);
  memcpy(b, k->addr[1], 16);
  h = (a[0] ^ a[1] * 0x9e3779b97f4a7c15ULL) + (b[0] ^ b[1] * 0x9e3779b97f4a7c15ULL);
  h ^= (uint64_t)k->ipver << 56 | (uint64_t)k->proto << 48 | (uint64_t)k->nvlan << 40 |
       (uint64_t)k->vlan[0] << 16 | k->vlan[1];
  return (int)((mix(h) >> 32) % (uint64_t)n);
}

int sf_flow_shard(const sf_pkt *p, int n) {
  sf_pktinfo pi;
  if (n <= 1 || !sf_flow_classify(p, &pi)) return 0;
  return sf_flow_shard_of(&pi.key, n);
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

const char *sf_flow_protocol(const sf_flow *f) {
  const sf_proto *pr = sf_proto_get((int)f->key.l4id - 1);
  if (!pr || f->key.kind == SF_KIND_NOPORTS) return "Other";
  if (pr->facts->role == SF_ROLE_ICMP && f->key.kind != SF_KIND_ECHO &&
      f->key.kind != SF_KIND_ICMP)
    return "Other";
  return pr->display;
}

/* ---- what a conversation is ------------------------------------------------ */

int sf_flow_is_tcp(const sf_flow *f) {
  return f->key.l4role == SF_ROLE_STREAM && !f->key.kind;
}

int sf_flow_has_ports(const sf_flow *f) {
  return (f->key.l4role == SF_ROLE_STREAM || f->key.l4role == SF_ROLE_TRANSPORT) &&
         !f->key.kind;
}

int sf_flow_is_icmp(const sf_flow *f) {
  return f->key.kind == SF_KIND_ECHO || f->key.kind == SF_KIND_ICMP;
}

int sf_flow_is_echo(const sf_flow *f) { return f->key.kind == SF_KIND_ECHO; }

void sf_flow_addr(const sf_flow *f, int s, char out[46]) {
  if (f->key.ipver == 4) sf_format_ip4(f->key.addr[s], out);
  else sf_format_ip6(f->key.addr[s], out);
}

/* ---- IP fragments (defrag.c asks these) ------------------------------------ */

static uint16_t rd16(const uint8_t *h) { return (uint16_t)(h[0] << 8 | h[1]); }

static void wr16(uint8_t *h, size_t v) {
  h[0] = (uint8_t)(v >> 8);
  h[1] = (uint8_t)v;
}

/* Is layer li a fragment's header (the network header's own fields, or an
   IPv6 Fragment header)?  Not for an atomic one (offset 0, no more). */
static int frag_layer(const sf_pkt *p, int li, sf_frag *fr) {
  const sf_layer *l = &p->layers[li];
  const sf_proto *pr = sf_proto_get(l->proto);
  return pr && pr->facts && pr->facts->fragment &&
         pr->facts->fragment(p->data + l->off, l->hlen, fr);
}

/* Where the fragment's data starts and how long it is, by byte offsets:
   IPv4 (RFC 791) counts the datagram from its header's total length
   (bytes 2-3); IPv6 (RFC 8200 4.5) from the payload length (bytes 4-5),
   the data following the 8-byte Fragment header. */
static int frag_extent(const sf_pkt *p, int net, int li, sf_fraginfo *fi) {
  const sf_layer *n = &p->layers[net], *l = &p->layers[li];
  const uint8_t *h = p->data + n->off;
  size_t end;
  fi->net = n->off;
  if (fi->key.ipver == 4) {
    fi->data = n->off + n->hlen;
    end = n->off + rd16(h + 2);
  } else {
    if (l->hlen < 8) return 0;
    fi->frag_hdr = l->off;
    fi->data = l->off + 8;
    end = n->off + 40 + (size_t)rd16(h + 4);
  }
  if (end < fi->data || end - fi->data > 0xffff) return 0;
  fi->len = (uint32_t)(end - fi->data);
  fi->cut = end > p->len;  /* the snap length took part of it */
  return 1;
}

int sf_frag_info(const sf_pkt *p, sf_fraginfo *fi) {
  int net, li, tab = -1;
  sf_frag fr;
  memset(fi, 0, sizeof *fi);
  if ((net = find_ip(p, &fi->key)) < 0) return 0;
  li = net;
  if (!frag_layer(p, li, &fr)) {  /* IPv6: the extension headers after it */
    for (li = net + 1; li < p->nlayers && role_of(p->layers[li].proto) == SF_ROLE_NETEXT; li++)
      if (frag_layer(p, li, &fr)) break;
    if (li >= p->nlayers || role_of(p->layers[li].proto) != SF_ROLE_NETEXT) return 0;
  }
  if (read_ip(p, net, &fi->key, &tab) < 0) return 0;
  if (fi->key.ipver == 6) fi->key.proto = p->data[p->layers[li].off];  /* its next header */
  fi->key.kind = SF_KIND_NOPORTS;
  fi->id = fr.id;
  fi->offset = fr.offset;
  fi->more = fr.more;
  return frag_extent(p, net, li, fi);
}

/* The first fragment's headers, followed by the whole data (len bytes), as
   one datagram: lengths set, offset and More Fragments cleared (an IPv6
   Fragment header stays, atomic), IPv4's header checksum redone. */
void sf_frag_whole(uint8_t *d, const sf_fraginfo *first, size_t len) {
  uint8_t *h = d + first->net;
  size_t hl = first->data - first->net;
  if (first->key.ipver == 4) {
    wr16(h + 2, hl + len);
    h[6] &= 0x40;  /* keep Don't Fragment; MF and the offset go */
    h[7] = 0;
    h[10] = h[11] = 0;
    wr16(h + 10, sf_fold(sf_sum16(h, hl, 0)));
  } else {
    wr16(h + 4, hl - 40 + len);
    wr16(d + first->frag_hdr + 2, 0);  /* offset 0, M clear */
  }
}
