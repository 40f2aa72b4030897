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

/* The pseudo-header of the network layer below layer li (its addresses,
   as that protocol's facts say), with the upper protocol and length. */
int sf_pseudo_sum(const sf_pkt *p, int li, uint8_t proto, size_t len,
                  uint64_t *acc) {
  int j;
  for (j = li - 1; j >= 0; j--) {
    const sf_facts *f = sf_proto_get(p->layers[j].proto)->facts;
    if (!f || !f->pseudo || !f->pseudo(p, j, li, acc)) continue;
    *acc += (uint64_t)len + proto;
    return 1;
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

/* Set the lower layer's type field from the layer that follows it, by the
   table it reads; a built layer also takes the values of port and other
   bindings (UDP's dport for a protocol bound to a port), and the values
   the upper layer gives it (Scapy's overloaded fields). */
static void fill_next_type(sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto), *up;
  const sf_layer *l = &p->layers[li], *n;
  uint64_t v;
  int fi;
  if (li + 1 >= p->nlayers) return;
  n = &p->layers[li + 1];
  if (n->off != l->off + l->hlen) return;  /* not this layer's payload */
  if (pr->next_field >= 0 && pr->next_field2 < 0 &&
      sf_table_value(pr->table, n->proto, &v))
    sf_lput(p, li, pr->next_field, v);
  else if ((l->flags & SF_L_BUILT) &&
           sf_bind_field_value(l->proto, n->proto, &fi, &v)) {
    sf_lput(p, li, fi, v);
    if (fi == pr->next_field && pr->next_field2 >= 0 &&
        (sf_table_flags(pr->table, n->proto) & SF_PL_BOTH_PORTS))
      sf_lput(p, li, pr->next_field2, v);
  }
  up = sf_proto_get(n->proto);
  if (up->overload && (l->flags & SF_L_BUILT))
    up->overload(p, li, li + 1);
}

/* A checksum as the protocol's facts describe it: over its header (IPv4),
   its extent (ICMP), or its extent and the pseudo-header of the network
   layer below (TCP, UDP, ICMPv6).  Left at 0 when the pseudo-header cannot
   be made (no network layer below). */
static void facts_checksum(sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_facts *f = pr->facts;
  const sf_layer *l = &p->layers[li];
  int fi = pr->at.cksum, ok = 1;
  uint16_t ck;
  if (!f || fi < 0 || f->cksum_cover == SF_CK_NONE || sf_isset(p, li, fi)) return;
  sf_lput(p, li, fi, 0);
  if (f->cksum_cover == SF_CK_HEADER)
    ck = sf_fold(sf_sum16(p->data + l->off, l->hlen, 0));
  else if (f->cksum_cover == SF_CK_EXTENT)
    ck = sf_fold(sf_sum16(p->data + l->off, l->end - l->off, 0));
  else
    ck = sf_l4_checksum(p, li, f->cksum_proto, &ok);
  if (!ok) return;
  if (f->cksum_nonzero && ck == 0) ck = 0xffff;
  sf_lput(p, li, fi, ck);
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
    if (!checksum_frozen(pr, &p->layers[li])) {
      if (pr->checksum) pr->checksum(p, li);
      else facts_checksum(p, li);
    }
    if (pr->dyn && pr->dyn->post_build && !(p->layers[li].flags & FROZEN))
      pr->dyn->post_build(pr, p, li);
  }
  p->flags &= (uint16_t)~SF_P_DIRTY;
  return SF_OK;
}
