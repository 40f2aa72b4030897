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
   header still to be walked (RFC 8200 section 8.1). */
static const uint8_t *ipv6_final_dst(const sf_pkt *p, int ip, int li) {
  const uint8_t *dst = p->data + p->layers[ip].off + 24;
  int j;
  for (j = ip + 1; j < li; j++) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    if (l->proto == SF_IPV6_ROUTING && l->hlen >= 8 && h[3] > 0 &&
        l->hlen >= 8u + 16u * (h[1] / 2u) && h[1] >= 2)
      dst = h + 8 + 16 * (h[1] / 2u - 1);
  }
  return dst;
}

int sf_pseudo_sum(const sf_pkt *p, int li, uint8_t proto, size_t len,
                  uint64_t *acc) {
  int j;
  for (j = li - 1; j >= 0; j--) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    if (l->proto == SF_IPV4 && l->hlen >= 20) {
      *acc = sf_sum16(h + 12, 8, *acc) + proto + len;
      return 1;
    }
    if (l->proto == SF_IPV6 && l->hlen >= 40) {
      *acc = sf_sum16(h + 8, 16, *acc);
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

/* Set the lower layer's type field from the layer that follows it. */
static void fill_next_type(sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_layer *l = &p->layers[li], *n;
  uint64_t v;
  if (pr->next_field < 0 || li + 1 >= p->nlayers) return;
  n = &p->layers[li + 1];
  if (n->off != l->off + l->hlen) return;  /* not this layer's payload */
  if (sf_bind_value(l->proto, n->proto, &v))
    sf_lput(p, li, pr->next_field, v);
}

int sf_finalize(sf_pkt *p) {
  int li, rc;
  if (!(p->flags & SF_P_DIRTY)) return SF_OK;
  if ((rc = sf_pkt_writable(p)) != SF_OK) return rc;
  for (li = p->nlayers - 1; li >= 0; li--) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    if (p->layers[li].flags & SF_L_QUOTED) continue;
    fill_next_type(p, li);
    if (pr->fixup) pr->fixup(p, li);
  }
  for (li = p->nlayers - 1; li >= 0; li--) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    if (pr->checksum && !(p->layers[li].flags & SF_L_QUOTED))
      pr->checksum(p, li);
  }
  p->flags &= (uint16_t)~SF_P_DIRTY;
  return SF_OK;
}
