/*
 * build.c -- automatic fields and checksums.
 *
 * sf_finalize() walks the layers from the innermost out, so that a layer's
 * fixup sees its payload complete: type numbers (generic, from the
 * dissector tables) and the protocol's own lengths.  A second walk fills
 * checksums, which need every length and address final (an IPv6 routing
 * header's last address, neighbour discovery's multicast destination).
 */
#include <string.h>

#include "sf.h"

uint64_t sf_sum16(const uint8_t *d, size_t n, uint64_t acc) {
  while (n >= 4) {
    acc += (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    d += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += (uint32_t)d[0] << 8 | d[1];
    d += 2;
    n -= 2;
  }
  if (n) acc += (uint32_t)d[0] << 8;
  return acc;
}

uint16_t sf_fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)~acc;
}

/* IPv6 upper-layer checksums use the final destination of a routing
   header still to be walked (RFC 8200 section 8.1): the last address of a
   type 0-style list, the first of a segment routing header's list (RFC
   8754, which stores it reversed).  Built headers count their segments
   left only at fixup, which has run: lengths come before checksums. */
static const uint8_t *ipv6_final_dst(const sf_pkt *p, int ip, int li) {
  const uint8_t *dst = p->data + p->layers[ip].off + 24;
  int j;
  for (j = ip + 1; j < li; j++) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    size_t naddr = l->hlen >= 8 ? (l->hlen - 8) / 16 : 0;
    if (l->proto != SF_IPV6_ROUTING || naddr == 0 || h[3] == 0) continue;
    dst = h[2] == 4 ? h + 8 : h + 8 + 16 * (naddr - 1);
    break;  /* the first routing header decides */
  }
  return dst;
}

/* With one loose or strict source route, TCP and UDP checksums use its
   last address: the final destination (RFC 791, RFC 9293 3.1; as Scapy
   and Linux).  With several, the header's destination stays. */
static const uint8_t *ipv4_final_dst(const uint8_t *h, size_t hlen) {
  const uint8_t *last = NULL;
  size_t i = 20;
  int routes = 0;
  while (i < hlen && h[i] != 0) {
    size_t n = h[i] == 1 ? 1 : (i + 1 < hlen ? h[i + 1] : 0);
    if (n < 1 || (h[i] != 1 && n < 2) || i + n > hlen) break;
    if (h[i] == 131 || h[i] == 137) {
      routes++;
      last = n >= 7 ? h + i + n - 4 : NULL;
    }
    i += n;
  }
  return (routes == 1 && last) ? last : h + 16;
}

/* A home address option (RFC 6275 6.3) in a destination options header
   stands for the source in upper-layer checksums. */
static const uint8_t *ipv6_home_src(const sf_pkt *p, int ip, int li) {
  const uint8_t *src = p->data + p->layers[ip].off + 8;
  int j;
  for (j = ip + 1; j < li; j++) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    size_t i = 2;
    if (l->proto != SF_IPV6_DEST) continue;
    while (i < l->hlen) {
      size_t n = h[i] == 0 ? 1 : (i + 1 < l->hlen ? (size_t)h[i + 1] + 2 : 0);
      if (n == 0 || i + n > l->hlen) break;
      if (h[i] == 201 && n == 18) return h + i + 2;
      i += n;
    }
  }
  return src;
}

int sf_pseudo_sum(const sf_pkt *p, int li, uint8_t proto, size_t len,
                  uint64_t *acc) {
  int j;
  for (j = li - 1; j >= 0; j--) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    if (l->proto == SF_IPV4 && l->hlen >= 20) {
      *acc = sf_sum16(h + 12, 4, *acc);
      *acc = sf_sum16(ipv4_final_dst(h, l->hlen), 4, *acc) + proto + len;
      return 1;
    }
    if (l->proto == SF_IPV6 && l->hlen >= 40) {
      *acc = sf_sum16(ipv6_home_src(p, j, li), 16, *acc);
      *acc = sf_sum16(ipv6_final_dst(p, j, li), 16, *acc);
      *acc += (uint32_t)len + proto;
      return 1;
    }
  }
  return 0;
}

uint16_t sf_l4_checksum(const sf_pkt *p, int li, uint8_t proto, int *ok) {
  const sf_layer *l = &p->layers[li];
  uint64_t acc = 0;
  size_t len = l->end - l->off;
  *ok = sf_pseudo_sum(p, li, proto, len, &acc);
  return sf_fold(sf_sum16(p->data + l->off, len, acc));
}

/* Set the lower layer's type field from the layer that follows it; a
   built layer also takes the values of other bindings (UDP's dport for a
   custom protocol bound to it), as Scapy's overloaded fields. */
static void fill_next_type(sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_layer *l = &p->layers[li], *n;
  uint64_t v;
  int fi;
  if (li + 1 >= p->nlayers) return;
  n = &p->layers[li + 1];
  if (n->off != l->off + l->hlen) return;  /* not this layer's payload */
  if (pr->next_field >= 0 && sf_bind_value(l->proto, n->proto, &v))
    sf_lput(p, li, pr->next_field, v);
  else if ((l->flags & SF_L_BUILT) &&
           sf_bind_field_value(l->proto, n->proto, &fi, &v))
    sf_lput(p, li, fi, v);
}

/* Layers whose lengths and checksums are not ours to recompute: quoted in
   an ICMP error, or cut short by the capture (their real length is what
   the header says, and the bytes to sum are missing; a checksum over the
   header alone can still be made). */
#define FROZEN (SF_L_QUOTED | SF_L_TRUNC)

static int checksum_frozen(const sf_proto *pr, const sf_layer *l) {
  if (l->flags & SF_L_QUOTED) return 1;
  return (l->flags & SF_L_TRUNC) && !pr->header_checksum;
}

int sf_finalize(sf_pkt *p) {
  int li, rc;
  if (!(p->flags & SF_P_DIRTY)) return SF_OK;
  if ((rc = sf_pkt_writable(p)) != SF_OK) return rc;
  for (li = p->nlayers - 1; li >= 0; li--) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    if (p->layers[li].flags & FROZEN) continue;
    fill_next_type(p, li);
    if (pr->fixup) pr->fixup(p, li);
    if (pr->dyn && pr->dyn->fixup) pr->dyn->fixup(pr, p, li);
  }
  for (li = p->nlayers - 1; li >= 0; li--) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    if (pr->checksum && !checksum_frozen(pr, &p->layers[li]))
      pr->checksum(p, li);
    if (pr->dyn && pr->dyn->post_build && !(p->layers[li].flags & FROZEN))
      pr->dyn->post_build(pr, p, li);
  }
  p->flags &= (uint16_t)~SF_P_DIRTY;
  return SF_OK;
}
