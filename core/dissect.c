/*
 * dissect.c -- bytes -> layer index, without copying.
 *
 * Each step asks the current protocol for its header length and for the
 * extent its header claims; bytes past the extent become Padding (placed
 * after the inner layers, as Scapy does), bytes that do not parse become
 * Raw and the packet is marked truncated.  Nothing is ever read past
 * p->len: every hook receives the number of bytes available.
 */
#include "sf.h"

#define PAD_DEPTH 64  /* nested layers whose extent ends before their bytes do */

/* What a capture's link type carries: the "linktype" table, which the
   link-layer protocols (and raw IP) fill; Raw when nothing claims it. */
int sf_linktype_proto(int linktype, const uint8_t *d, size_t n) {
  static int linktypes = -1;
  int proto;
  if (linktypes < 0) linktypes = sf_table("linktype");
  proto = linktypes >= 0 ? sf_table_lookup(linktypes, (uint64_t)(uint32_t)linktype, NULL, -1, d, n) : -1;
  return proto >= 0 ? proto : SF_RAW;
}

/* The value of key k (0: next_field, 1: next_field2) of layer li. */
static inline int key_value(const sf_pkt *p, int li, const sf_proto *pr, int k,
                            uint64_t *v) {
  const sf_layer *l = &p->layers[li];
  int fi = k ? pr->next_field2 : pr->next_field;
  if (pr->key_bytes[k]) {  /* EtherType, IP protocol, ports */
    const uint8_t *h = p->data + l->off + pr->key_off[k];
    if ((size_t)pr->key_off[k] + pr->key_bytes[k] > l->hlen) return 0;
    *v = pr->key_bytes[k] == 2 ? (uint64_t)(h[0] << 8 | h[1]) : h[0];
    return 1;
  }
  if (fi < 0 || !sf_field_present(p, li, fi)) return 0;
  *v = sf_lget(p, li, fi);
  return 1;
}

static inline int by_key(const sf_pkt *p, int li, const sf_proto *pr, int k) {
  const sf_layer *l = &p->layers[li];
  uint64_t v;
  int next;
  if (!key_value(p, li, pr, k, &v)) return -1;
  if ((next = sf_table_fast(pr->table, v)) != -2) return next;
  return sf_table_lookup(pr->table, v, p, li, p->data + l->off + l->hlen,
                         l->end - l->off - l->hlen - pr->trailer);
}

/* The common case read straight: a plain first key whose value the table
   maps directly to one protocol; -1 when the general way must decide. */
static inline int direct_hit(const sf_pkt *p, const sf_layer *l, const sf_proto *pr) {
  unsigned v, off = pr->key_off[0];
  const uint8_t *h = p->data + l->off + off;
  int d;
  if (pr->key_bytes[0] == 2 && off + 2u <= l->hlen) v = (unsigned)(h[0] << 8 | h[1]);
  else if (pr->key_bytes[0] == 1 && off + 1u <= l->hlen) v = h[0];
  else return -1;
  if (v >= sf_table_dlen_[pr->table]) return -1;
  d = sf_table_direct_[pr->table][v];
  return d > 0 ? d - 1 : -1;
}

static inline int lookup_next(const sf_pkt *p, int li, const sf_proto *pr) {
  int next = -1;
  if (pr->table >= 0 && (next = direct_hit(p, &p->layers[li], pr)) >= 0) return next;
  if (pr->table >= 0 && (sf_table_dlen_[pr->table] || sf_table_big_[pr->table])) {
    next = by_key(p, li, pr, 0);
    if (next < 0 && pr->next_field2 >= 0) next = by_key(p, li, pr, 1);
  }
  if (next < 0 && pr->more) next = sf_lookup_more(p, li);
  return next;
}

int sf_lookup_next(const sf_pkt *p, int li) {
  return lookup_next(p, li, sf_proto_get(p->layers[li].proto));
}

/* Which protocol follows layer li (of protocol pr), or SF_RAW: the
   header's own say, then the tables, bindings and heuristics. */
static int next_proto(const sf_pkt *p, int li, const sf_proto *pr, int *quoted) {
  int next = -1;
  if (pr->dyn && pr->dyn->next) next = pr->dyn->next(pr, p, li);
  else if (pr->next) next = pr->next(p, li);
  if (next >= 0 && (next & SF_NEXT_QUOTED)) {
    *quoted = SF_L_QUOTED;
    next &= ~SF_NEXT_QUOTED;
  }
  if (next == -1) next = lookup_next(p, li, pr);
  return next < 0 ? SF_RAW : next;
}

/* A run-time protocol's header is what its layout covers, unless its
   definer can say it more cheaply (hdr_len: DNS's records). */
static inline size_t header_len(const sf_proto *pr, const sf_pkt *p,
                                const uint8_t *h, size_t n) {
  sf_span sp[SF_MAX_FIELDS];
  if (pr->hdr_len) return pr->hdr_len(p, h, n);
  return pr->dyn->layout(pr, h, n, sp, 0);
}

size_t sf_header_len(const sf_proto *pr, const sf_pkt *p, const uint8_t *h, size_t n) {
  return header_len(pr, p, h, n);
}

int sf_layer_before(const sf_pkt *p, const uint8_t *h) {
  int li;
  if (!p || h < p->data || h > p->data + p->len) return -1;
  for (li = p->nlayers - 1; li >= 0; li--)
    if (p->data + p->layers[li].off + p->layers[li].hlen == h) return li;
  return -1;
}

/* sf_pkt_push_layer, inlined for the common case of room to spare. */
static inline void push(sf_pkt *p, int proto, size_t off, size_t hlen,
                        size_t end, int flags) {
  sf_layer *l;
  if (p->nlayers >= p->cap) {
    sf_pkt_push_layer(p, proto, off, hlen, end, flags);
    return;
  }
  l = &p->layers[p->nlayers++];
  l->proto = (uint16_t)proto;
  l->flags = (uint16_t)flags;
  l->off = (uint32_t)off;
  l->hlen = (uint32_t)hlen;
  l->end = (uint32_t)end;
  l->set = 0;
}

/* A trailer (FCS) is not in the bytes of a packet the capture cut short. */
static inline int cut_short(const sf_pkt *p, const sf_proto *pr) {
  return pr->trailer && p->wirelen > p->len;
}

/* Room for the Raw and Padding layers that may still be needed. */
static int room(const sf_pkt *p, int npad) {
  return p->nlayers + npad + 2 < SF_MAX_LAYERS;
}

/* A protocol a port chose for bytes its header refuses (SMTP's port after
   STARTTLS: TLS records) gives way to what the heuristics of the layer
   below recognise in them, as Wireshark tries its heuristic dissectors;
   -1 when none does. */
static int heuristic_instead(const sf_pkt *p, int proto) {
  int li = p->nlayers - 1, alt;
  if (li < 0 || !(sf_proto_get(p->layers[li].proto)->more & 2)) return -1;
  alt = sf_heur_run(p, li);
  return alt >= 0 && alt != proto ? alt : -1;
}

int sf_pkt_parse(sf_pkt *p) {
  if (p->first > 0) return sf_dissect(p, p->first - 1);
  return sf_dissect(p, sf_linktype_proto(p->linktype, p->data, p->len));
}

/* The protocol that takes the bytes past the extent of layer li, instead
   of Padding (frames after a QUIC CRYPTO frame's data), or -1. */
static int after_extent(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int next = pr && pr->after ? pr->after(p, li) : -1;
  return next >= 0 ? next : -1;
}

/* Dissect bytes [off, end) from protocol proto, appending layers. */
static void dissect_run(sf_pkt *p, int proto, size_t off, size_t end) {
  size_t pad_from[PAD_DEPTH], pad_to[PAD_DEPTH];
  int pad_owner[PAD_DEPTH];
  int npad = 0, quoted = 0, cut = 0;  /* sticky: inner layers inherit */
  int alt, tried = 0;  /* heuristics asked at this offset */
  for (;;) {
    const sf_proto *pr;
    size_t hl, ext, lend;
    int flags = quoted | cut;
    if (off >= end) {  /* a level ends: its container may go on after it */
      int next;
      if (npad == 0 || (next = after_extent(p, pad_owner[npad - 1])) < 0) break;
      npad--;
      off = pad_from[npad];
      end = pad_to[npad];
      proto = next;
      continue;
    }
    pr = sf_proto_get(proto);
    if (!pr || proto == SF_RAW || proto == SF_PADDING || !room(p, npad)) {
      int full = !room(p, npad);
      if (pr && proto != SF_RAW && proto != SF_PADDING && full) p->flags |= SF_P_TRUNC;  /* no room */
      push(p, SF_RAW, off, end - off, end, quoted);
      if (full) break;
      off = end;
      continue;
    }
    hl = header_len(pr, p, p->data + off, end - off);
    if (hl == 0 && !quoted && !tried && (alt = heuristic_instead(p, proto)) >= 0) {
      proto = alt;
      tried = 1;
      continue;
    }
    if (hl == 0 || hl + pr->trailer > end - off) {  /* cut short or malformed */
      /* An ICMP error quotes only the start of a header (RFC 792: 8 bytes
         of it): keep it as that protocol, its missing fields absent, as
         Scapy's TCPerror does.  Elsewhere the rest becomes Raw. */
      push(p, quoted ? proto : SF_RAW, off, end - off, end,
                        quoted | SF_L_TRUNC);
      if (!quoted) p->flags |= SF_P_TRUNC;
      off = end;
      continue;
    }
    ext = pr->extent ? pr->extent(p->data + off, hl, end - off) : (size_t)-1;
    if (ext < hl + pr->trailer) ext = hl + pr->trailer;
    if (ext != (size_t)-1 && ext > end - off) {  /* snaplen cut it */
      cut = SF_L_TRUNC;
      flags |= cut;
      if (!quoted) p->flags |= SF_P_TRUNC;
    }
    lend = (ext == (size_t)-1 || ext > end - off) ? end : off + ext;
    if (lend < end && npad == PAD_DEPTH) {  /* no room to keep its padding */
      p->flags |= SF_P_TRUNC;
      lend = end;
    }
    if (lend < end) {
      pad_from[npad] = lend;
      pad_owner[npad] = p->nlayers;
      pad_to[npad++] = end;
    }
    push(p, proto, off, hl, lend, flags);
    tried = 0;
    proto = next_proto(p, p->nlayers - 1, pr, &quoted);
    off += hl;
    /* an FCS after the payload is the layer's, unless the capture cut it */
    if (!cut_short(p, pr)) end = lend - pr->trailer;
    else p->layers[p->nlayers - 1].flags |= SF_L_TRUNC;
  }
  while (npad-- > 0)  /* innermost padding first: it comes first in bytes */
    if (pad_to[npad] > pad_from[npad])
      push(p, SF_PADDING, pad_from[npad],
                        pad_to[npad] - pad_from[npad], pad_to[npad], 0);
}

int sf_dissect(sf_pkt *p, int proto) {
  p->nlayers = 0;
  p->flags = (uint16_t)((p->flags & ~(SF_P_TRUNC | SF_P_DIRTY)) | SF_P_PARSED);
  dissect_run(p, proto, 0, p->len);
  return SF_OK;
}

/* Keep layers 0..li, drop those after it within its extent, and dissect
   the bytes from off to the end of that extent as proto; the Padding of
   the layers around it stays after the new layers. */
int sf_dissect_after(sf_pkt *p, int li, size_t off, int proto) {
  sf_layer keep[PAD_DEPTH];
  size_t end;
  int i, n = 0;
  if (li < -1 || li >= p->nlayers) return SF_E_VALUE;
  end = li < 0 ? p->len : p->layers[li].end;
  if ((li >= 0 && off < p->layers[li].off) || off > end) return SF_E_VALUE;
  for (i = li + 1; i < p->nlayers && n < PAD_DEPTH; i++)
    if (p->layers[i].off >= end) keep[n++] = p->layers[i];
  p->nlayers = (uint16_t)(li + 1);
  if (li < 0) p->flags = (uint16_t)((p->flags & ~SF_P_TRUNC) | SF_P_PARSED);
  dissect_run(p, proto, off, end);
  for (i = 0; i < n; i++)
    push(p, keep[i].proto, keep[i].off, keep[i].hlen, keep[i].end, keep[i].flags);
  return SF_OK;
}
