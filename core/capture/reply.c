/*
 * reply.c -- a packet turned around: what an answer to it starts from.
 *
 * Source and destination swap at the link, network and transport layers
 * (the fields each protocol's facts name), and an ICMP-like request whose
 * reply has the same layout (echo, and the pairs the facts list: timestamp,
 * information, address mask) becomes that reply.  The first transport or
 * ICMP layer ends the walk: what it carries (the payload, a quoted
 * datagram) stays as it is.  Lengths and checksums are left to
 * sf_finalize.  Answering machines make most of their replies this way.
 */
#include <string.h>

#include "capture.h"

/* exchange the values of two fields of one width in layer li; 0 if the
   layer lacks one of them or they differ in width */
static int swap_fields(sf_pkt *p, int li, int a, int b) {
  size_t ao, aw, bo, bw;
  uint8_t *h = (uint8_t *)p->data + p->layers[li].off, tmp[16];  /* writable */
  if (a < 0 || b < 0 || !sf_field_present(p, li, a) || !sf_field_present(p, li, b) ||
      !sf_field_span(p, li, a, &ao, &aw) || !sf_field_span(p, li, b, &bo, &bw) || aw != bw)
    return 0;
  if (aw <= 64) {
    uint64_t x = sf_getbits(h, (unsigned)ao, (unsigned)aw);
    sf_setbits(h, (unsigned)ao, (unsigned)aw, sf_getbits(h, (unsigned)bo, (unsigned)bw));
    sf_setbits(h, (unsigned)bo, (unsigned)bw, x);
    return 1;
  }
  if (ao % 8 || bo % 8 || aw % 8 || aw > 8 * sizeof tmp) return 0;
  memcpy(tmp, h + ao / 8, aw / 8);
  memmove(h + ao / 8, h + bo / 8, aw / 8);
  memcpy(h + bo / 8, tmp, aw / 8);
  return 1;
}

/* the reply type of an ICMP-like request type, or -1 */
static int reply_type(const sf_facts *f, unsigned type) {
  const uint8_t (*pr)[2];
  if (f->echo_request != f->echo_reply && type == f->echo_request) return f->echo_reply;
  for (pr = f->pairs; pr && (*pr)[0]; pr++)
    if ((*pr)[0] == type) return (*pr)[1];
  return -1;
}

int sf_reverse(sf_pkt *p) {
  int li;
  if (!(p->flags & SF_P_PARSED)) sf_pkt_parse(p);
  if (sf_pkt_writable(p) != SF_OK) return SF_E_NOMEM;
  for (li = 0; li < p->nlayers && !(p->layers[li].flags & SF_L_QUOTED); li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    int role = pr && pr->facts ? pr->facts->role : SF_ROLE_NONE;
    if (role == SF_ROLE_LINK || role == SF_ROLE_NET) {
      swap_fields(p, li, pr->at.src, pr->at.dst);
    } else if (role == SF_ROLE_TRANSPORT || role == SF_ROLE_STREAM) {
      swap_fields(p, li, pr->at.src, pr->at.dst);
      break;
    } else if (role == SF_ROLE_ICMP) {
      uint8_t *h = (uint8_t *)p->data + p->layers[li].off;
      int t = p->layers[li].hlen > 0 ? reply_type(pr->facts, h[0]) : -1;
      if (t >= 0) h[0] = (uint8_t)t;
      break;
    } else if (role != SF_ROLE_VLAN && role != SF_ROLE_NETEXT) {
      break;
    }
  }
  p->flags |= SF_P_DIRTY;
  return SF_OK;
}
