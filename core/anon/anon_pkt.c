/*
 * anon_pkt.c -- apply a policy to one dissected packet.
 *
 * Every change goes through the engine (sf_field_set), so copy-on-write,
 * lengths and checksums work as for a user's change; sf_finalize then
 * recomputes lengths and checksums of every layer it owns.  It leaves
 * alone the layers whose checksums it cannot recompute: those quoted in an
 * ICMP error and those the capture cut short.  For those we update the
 * checksum incrementally (RFC 1624) by the exact change we made, so a
 * quoted header whose checksum was right stays right and one that was
 * wrong stays as wrong as it was.
 */
#include <string.h>

#include "anonpriv.h"

/* per-packet state */
typedef struct rw {
  sf_anon *a;
  sf_pkt *p;
  int64_t d[SF_MAX_LAYERS];  /* ones'-complement change of each layer's bytes */
  uint8_t src[16], dst[16];  /* original addresses of the latest IP layer */
  size_t alen;               /* 0 before any IP layer */
} rw;

static const sf_proto *lproto(const rw *w, int li) {
  return sf_proto_get(w->p->layers[li].proto);
}

static int role(const sf_proto *pr) {
  return pr->facts ? pr->facts->role : SF_ROLE_NONE;
}

int sf_anon_fields_init(sf_anon *a) {
  memset(&a->f, 0, sizeof a->f);
  sf_init();
  return 1;
}

/* ---- changing bytes, remembering the checksum delta ------------------------- */

/* The Internet checksum is a sum mod 0xffff of big-endian words, so a byte
   at an even offset weighs 256 and one at an odd offset 1. */
static void note(rw *w, int li, size_t off, const uint8_t *old,
                 const uint8_t *nv, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    w->d[li] += ((int64_t)nv[i] - old[i]) * (((off + i) & 1) ? 1 : 256);
}

/* Set field fi of layer li to n bytes (same length as now). */
static int set_bytes(rw *w, int li, int fi, const uint8_t *nv, size_t n) {
  sf_val v;
  const uint8_t *h = w->p->data + w->p->layers[li].off;
  if (sf_field_get(w->p, li, fi, &v) != SF_OK || v.n != n) return SF_OK;
  if (memcmp(v.p, nv, n) == 0) return SF_OK;
  note(w, li, (size_t)(v.p - h), v.p, nv, n);
  v.p = nv;
  return sf_field_set(w->p, li, fi, &v);
}

/* Set a byte-aligned integer field of 16 or 32 bits. */
static int set_uint(rw *w, int li, int fi, uint64_t nv) {
  const sf_field *f = &sf_proto_get(w->p->layers[li].proto)->fields[fi];
  uint8_t ob[4], nb[4];
  unsigned i, n = f->bits / 8u;
  sf_val v;
  if (sf_field_get(w->p, li, fi, &v) != SF_OK || v.u == nv) return SF_OK;
  for (i = 0; i < n; i++) {
    ob[i] = (uint8_t)(v.u >> (8 * (n - 1 - i)));
    nb[i] = (uint8_t)(nv >> (8 * (n - 1 - i)));
  }
  note(w, li, f->bitoff / 8u, ob, nb, n);
  v.u = nv;
  return sf_field_set(w->p, li, fi, &v);
}

static uint64_t get_uint(rw *w, int li, int fi, int *ok) {
  sf_val v;
  *ok = sf_field_get(w->p, li, fi, &v) == SF_OK;
  return *ok ? v.u : 0;
}

/* ---- addresses -------------------------------------------------------------- */

/* The address fields of a protocol, listed once: most fields are not. */
static void list_addresses(sf_anon_fields *f, int proto) {
  const sf_proto *pr = sf_proto_get(proto);
  int fi;
  f->naddr[proto] = 0;
  for (fi = 0; pr && fi < pr->nfields && fi < 256 && f->naddr[proto] < 8; fi++) {
    int t = pr->fields[fi].type;
    if (t == SF_T_MAC || t == SF_T_IP4 || t == SF_T_IP6)
      f->addr[proto][f->naddr[proto]++] = (uint8_t)fi;
  }
  f->addr_known[proto] = 1;
}

/* Every MAC, IPv4 and IPv6 field of the layer: Ethernet, ARP, IP, ICMP's
   gateway, neighbour discovery's target and link-layer options, ... */
static int addresses(rw *w, int li) {
  sf_anon_fields *f = &w->a->f;
  int proto = w->p->layers[li].proto, i, rc;
  if ((unsigned)proto >= SF_MAX_PROTOS) return SF_OK;
  if (!f->addr_known[proto]) list_addresses(f, proto);
  for (i = 0; i < f->naddr[proto]; i++) {
    int fi = f->addr[proto][i];
    int t = sf_proto_get(proto)->fields[fi].type;
    uint8_t out[16];
    sf_val v;
    if (sf_field_get(w->p, li, fi, &v) != SF_OK) continue;  /* absent */
    if (t == SF_T_MAC) sf_anon_mac(w->a, v.p, out);
    else if (t == SF_T_IP4) sf_anon_ip4(w->a, v.p, out);
    else sf_anon_ip6(w->a, v.p, out);
    if ((rc = set_bytes(w, li, fi, out, v.n)) != SF_OK) return rc;
  }
  return SF_OK;
}

/* Remember the original addresses: TCP offsets are keyed by them. */
static void remember_ip(rw *w, int li) {
  const sf_proto *pr = lproto(w, li);
  sf_val s, d;
  w->alen = 0;
  if (pr->at.src < 0 || pr->at.dst < 0 ||
      sf_field_get(w->p, li, pr->at.src, &s) != SF_OK ||
      sf_field_get(w->p, li, pr->at.dst, &d) != SF_OK || s.n != d.n || s.n > 16)
    return;
  memcpy(w->src, s.p, s.n);
  memcpy(w->dst, d.p, d.n);
  w->alen = s.n;
}

/* Change n bytes at byte off of layer li's header in place. */
static int set_span(rw *w, int li, size_t off, const uint8_t *nv, size_t n) {
  int rc;
  if ((rc = sf_pkt_writable(w->p)) != SF_OK) return rc;
  off += w->p->layers[li].off;
  note(w, li, off - w->p->layers[li].off, w->p->data + off, nv, n);
  memcpy((uint8_t *)w->p->data + off, nv, n);
  w->p->flags |= SF_P_DIRTY;
  return SF_OK;
}

/* Whole IPv6 addresses the header lists (a routing header's). */
static int addr_list(rw *w, int li) {
  const sf_proto *pr = lproto(w, li);
  const sf_layer *l = &w->p->layers[li];
  uint8_t buf[16 * 128];
  size_t off, n, i;
  if (!pr->facts || !pr->facts->addr_list ||
      !pr->facts->addr_list(w->p->data + l->off, l->hlen, &off, &n))
    return SF_OK;
  if (n > sizeof buf || off + n > l->hlen) return SF_OK;
  for (i = 0; i + 16 <= n; i += 16) sf_anon_ip6(w->a, w->p->data + l->off + off + i, buf + i);
  return set_span(w, li, off, buf, i);
}

/* A link-layer address of some length (Linux cooked captures' sender):
   a MAC when 6 bytes long. */
static int lladdr(rw *w, int li) {
  const sf_proto *pr = lproto(w, li);
  uint8_t buf[8];
  sf_val v;
  int ok;
  uint64_t alen = get_uint(w, li, pr->at.lladdr_len, &ok);
  if (!ok || alen != 6 || sf_field_get(w->p, li, pr->at.lladdr, &v) != SF_OK ||
      v.n < 6 || v.n > sizeof buf)
    return SF_OK;
  memcpy(buf, v.p, v.n);
  sf_anon_mac(w->a, v.p, buf);
  return set_bytes(w, li, pr->at.lladdr, buf, v.n);
}

/* ---- transport ----------------------------------------------------------------- */

static int ports(rw *w, int li, int fs, int fd) {
  int ok, rc;
  uint64_t s = get_uint(w, li, fs, &ok);
  if (ok && (rc = set_uint(w, li, fs, sf_anon_port(w->a, (uint16_t)s))) != SF_OK)
    return rc;
  s = get_uint(w, li, fd, &ok);
  if (ok && (rc = set_uint(w, li, fd, sf_anon_port(w->a, (uint16_t)s))) != SF_OK)
    return rc;
  return SF_OK;
}

static void shift32(uint8_t *b, uint32_t off) {
  uint32_t e = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  e += off;
  b[0] = (uint8_t)(e >> 24);
  b[1] = (uint8_t)(e >> 16);
  b[2] = (uint8_t)(e >> 8);
  b[3] = (uint8_t)e;
}

/* SACK edges (RFC 2018, option 5) are the peer's sequence numbers: they
   move by the ack offset.  In place over an option list. */
static void shift_sack(uint8_t *o, size_t n, uint32_t off) {
  size_t pos = 0, j;
  sf_opt opt;
  while (sf_opt_next(o, n, &pos, SF_OPT_IP, &opt))
    for (j = opt.off + 2; opt.kind == 5 && j + 4 <= opt.off + opt.len; j += 4)
      shift32(o + j, off);
}

static int sack(rw *w, int li, int fi, uint32_t off) {
  uint8_t buf[40];
  sf_val v;
  if (fi < 0 || sf_field_get(w->p, li, fi, &v) != SF_OK) return SF_OK;
  if (v.n == 0 || v.n > sizeof buf) return SF_OK;
  memcpy(buf, v.p, v.n);
  shift_sack(buf, v.n, off);
  return set_bytes(w, li, fi, buf, v.n);
}

/* Sequence numbers move by their direction's offset, acks (when the ACK
   flag says the field means something) and SACK edges by the other's. */
static int tcp_seq(rw *w, int li, uint16_t sp, uint16_t dp) {
  const sf_proto *pr = lproto(w, li);
  const sf_roles *r = &pr->at;
  uint32_t fwd, rev;
  uint64_t v;
  int ok, rc;
  if (w->a->pol.mode[SF_AN_SEQ] == SF_SEQ_PRESERVE || !w->alen) return SF_OK;
  fwd = sf_anon_seq_offset(w->a, w->src, w->dst, w->alen, sp, dp);
  rev = sf_anon_seq_offset(w->a, w->dst, w->src, w->alen, dp, sp);
  v = get_uint(w, li, r->seq, &ok);
  if (ok && (rc = set_uint(w, li, r->seq, (uint32_t)(v + fwd))) != SF_OK)
    return rc;
  if (!(get_uint(w, li, r->flags, &ok) & pr->facts->ack_flag) || !ok) return SF_OK;
  v = get_uint(w, li, r->ack, &ok);
  if (ok && (rc = set_uint(w, li, r->ack, (uint32_t)(v + rev))) != SF_OK)
    return rc;
  return sack(w, li, r->options, rev);
}

static int transport(rw *w, int li) {
  const sf_roles *r = &lproto(w, li)->at;
  int ok1, ok2, rc;
  uint16_t sp = (uint16_t)get_uint(w, li, r->src, &ok1);
  uint16_t dp = (uint16_t)get_uint(w, li, r->dst, &ok2);
  if ((rc = ports(w, li, r->src, r->dst)) != SF_OK) return rc;
  if (role(lproto(w, li)) != SF_ROLE_STREAM) return SF_OK;
  return (ok1 && ok2) ? tcp_seq(w, li, sp, dp) : SF_OK;
}

static int rewrite_layer(rw *w, int li) {
  const sf_proto *pr = lproto(w, li);
  int rc, r = role(pr);
  if (r == SF_ROLE_NET) remember_ip(w, li);
  if ((rc = addresses(w, li)) != SF_OK || (rc = addr_list(w, li)) != SF_OK)
    return rc;
  if (pr->at.lladdr >= 0 && pr->at.lladdr_len >= 0 && (rc = lladdr(w, li)) != SF_OK)
    return rc;
  if ((r == SF_ROLE_TRANSPORT || r == SF_ROLE_STREAM) && pr->at.src >= 0 &&
      pr->at.dst >= 0)
    return transport(w, li);
  return SF_OK;
}

/* ---- payloads ------------------------------------------------------------------ */

static int frozen(const sf_layer *l) {
  const sf_proto *pr = sf_proto_get(l->proto);
  if (l->flags & SF_L_QUOTED) return 1;
  return (l->flags & SF_L_TRUNC) && !pr->header_checksum;
}

/* The transport layer whose payload the policy governs: the first
   transport or (non-error) ICMP layer outside any quotation; -1 if none. */
static int payload_owner(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    int r = role(sf_proto_get(l->proto));
    if (l->flags & SF_L_QUOTED) return -1;
    if (r == SF_ROLE_TRANSPORT || r == SF_ROLE_STREAM) return li;
    if (r == SF_ROLE_ICMP)
      return (li + 1 < p->nlayers && (p->layers[li + 1].flags & SF_L_QUOTED)) ? -1 : li;
  }
  return -1;
}

static void drop_layer(sf_pkt *p, int li) {
  memmove(&p->layers[li], &p->layers[li + 1],
          (size_t)(p->nlayers - li - 1) * sizeof(sf_layer));
  p->nlayers--;
}

/* Cut the payload [start, end) of layer t to keep bytes.  What follows
   the transport header becomes one Raw layer first, so that the engine's
   splice shrinks it and every enclosing length follows. */
static int truncate_payload(rw *w, int t, size_t start, size_t end, size_t keep) {
  sf_pkt *p = w->p;
  int li = t + 1, rc;
  if (p->layers[li].off != start) return SF_OK;  /* not what we expect */
  while (li + 1 < p->nlayers && p->layers[li + 1].off < end) drop_layer(p, li + 1);
  p->layers[li].proto = SF_RAW;
  p->layers[li].off = (uint32_t)start;
  p->layers[li].hlen = (uint32_t)(end - start);
  p->layers[li].end = (uint32_t)end;
  p->layers[li].set = 0;
  if ((rc = sf_pkt_splice(p, li, start + keep, end - start - keep, NULL, 0)) != SF_OK)
    return rc;
  if (p->layers[li].hlen == 0) drop_layer(p, li);
  return SF_OK;
}

/* ICMPv6 echo data lives in the ICMPv6 header itself. */
static int body_data(rw *w, int t, int fi, size_t keep, int zero) {
  uint8_t buf[2048];
  sf_val v;
  if (sf_field_get(w->p, t, fi, &v) != SF_OK) return SF_OK;
  if (!zero && v.n <= keep) return SF_OK;
  if (zero && v.n > sizeof buf) keep = sizeof buf;
  else if (zero) keep = v.n;
  memset(buf, 0, keep < sizeof buf ? keep : sizeof buf);
  if (!zero) memcpy(buf, v.p, keep);
  v.p = buf;
  v.n = keep;
  return sf_field_set(w->p, t, fi, &v);
}

/* How many payload bytes the policy keeps, or -1 when it cuts none. */
static long kept_bytes(const sf_anon_policy *pol) {
  if (pol->mode[SF_AN_PAYLOAD] == SF_PL_TRUNCATE) return (long)pol->payload_truncate_bytes;
  return pol->mode[SF_AN_PAYLOAD] == SF_PL_DROP ? 0 : -1;
}

/* The payload [*start, *end) of layer t: its data field, for a protocol
   whose payload is a field of its own header (ICMPv6 echo), else what
   follows its header.  0 when there is none. */
static int payload_span(const sf_pkt *p, int t, size_t *start, size_t *end) {
  const sf_proto *pr = sf_proto_get(p->layers[t].proto);
  sf_val v;
  if (pr->at.body >= 0) {
    if (sf_field_get(p, t, pr->at.body, &v) != SF_OK) return 0;
    *start = (size_t)(v.p - p->data);
    *end = *start + v.n;
    return 1;
  }
  *start = p->layers[t].off + p->layers[t].hlen;
  *end = p->layers[t].end;
  return *end > *start;
}

/* Cut the payload as a snap length cuts a capture (tcpdump -s): the bytes
   end after the kept part of the payload, the headers and the record keep
   their lengths.  The packet is then dissected again, as a reader would
   dissect the cut record: its layers are marked truncated, so their
   lengths stay and their checksums are updated by exactly our changes
   (fix_frozen) instead of being computed over bytes that are gone. */
static int snap_cut(rw *w) {
  sf_pkt *p = w->p;
  long keep = kept_bytes(&w->a->pol);
  int t = payload_owner(p), rc;
  size_t start, end;
  if (keep < 0 || t < 0 || w->a->pol.payload_rewrite_lengths ||
      !payload_span(p, t, &start, &end) || end - start <= (size_t)keep)
    return SF_OK;
  if ((p->flags & SF_P_DIRTY) && (rc = sf_finalize(p)) != SF_OK) return rc;
  if (!p->wirelen || p->wirelen < p->len) p->wirelen = (uint32_t)p->len;
  p->len = start + (size_t)keep;
  return sf_dissect(p, p->layers[0].proto);
}

/* What is left to do to the payload once the headers are rewritten:
   zeroing, or a cut that rewrites the lengths (payload_rewrite_lengths). */
static int payload(rw *w) {
  sf_pkt *p = w->p;
  const sf_anon_policy *pol = &w->a->pol;
  int mode = pol->mode[SF_AN_PAYLOAD], t = payload_owner(p), rc;
  long keep = kept_bytes(pol);
  size_t start, end;
  uint8_t *d;
  if (mode == SF_PL_PRESERVE || t < 0) return SF_OK;
  if (sf_proto_get(p->layers[t].proto)->at.body >= 0)
    return body_data(w, t, sf_proto_get(p->layers[t].proto)->at.body,
                     keep < 0 ? 0 : (size_t)keep, mode == SF_PL_ZERO);
  start = p->layers[t].off + p->layers[t].hlen;
  end = p->layers[t].end;
  if (end <= start || t + 1 >= p->nlayers) return SF_OK;
  if (mode != SF_PL_ZERO)
    return end - start > (size_t)keep ? truncate_payload(w, t, start, end, (size_t)keep) : SF_OK;
  if ((rc = sf_pkt_writable(p)) != SF_OK) return rc;
  d = (uint8_t *)p->data;
  for (; start < end; start++) {  /* the delta first, then the bytes */
    w->d[t] -= (int64_t)d[start] * (((start - p->layers[t].off) & 1) ? 1 : 256);
    d[start] = 0;
  }
  p->flags |= SF_P_DIRTY;
  return SF_OK;
}

/* ---- checksums the engine leaves alone ----------------------------------------- */

/* The change to what layer li's checksum covers: its header (IPv4), its
   extent (ICMP), and with a pseudo-header (TCP, UDP, ICMPv6) the change
   to the network layer before it. */
static int64_t covered_delta(const rw *w, int li) {
  const sf_pkt *p = w->p;
  const sf_layer *l = &p->layers[li];
  const sf_facts *f = sf_proto_get(l->proto)->facts;
  int64_t d = w->d[li];
  int j;
  if (f->cksum_cover == SF_CK_HEADER) return d;
  for (j = li + 1; j < p->nlayers; j++)
    if (p->layers[j].off >= l->off && p->layers[j].off < l->end) d += w->d[j];
  if (f->cksum_cover != SF_CK_PSEUDO) return d;
  for (j = li - 1; j >= 0; j--)
    if (role(sf_proto_get(p->layers[j].proto)) == SF_ROLE_NET) return d + w->d[j];
  return d;
}

/* RFC 1624: HC' = ~(~HC + m' - m), in ones'-complement arithmetic. */
static uint16_t adjust(uint16_t ck, int64_t delta) {
  int64_t m = delta % 0xffff;
  uint64_t s;
  if (m < 0) m += 0xffff;
  s = (uint64_t)(uint16_t)~ck + (uint64_t)m;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* Innermost first: a transport checksum needs its IP layer's address
   change without that layer's own checksum change, while an enclosing
   ICMP's checksum covers both. */
static int fix_frozen(rw *w) {
  int li, rc;
  for (li = w->p->nlayers - 1; li >= 0; li--) {
    const sf_layer *l = &w->p->layers[li];
    const sf_proto *pr = sf_proto_get(l->proto);
    int fi = pr->at.cksum, ok, nonzero = pr->facts && pr->facts->cksum_nonzero;
    uint64_t ck;
    uint16_t nck;
    int64_t d;
    if (fi < 0 || !frozen(l) || (d = covered_delta(w, li)) == 0) continue;
    ck = get_uint(w, li, fi, &ok);
    if (!ok || (nonzero && ck == 0)) continue;  /* absent, or none */
    nck = adjust((uint16_t)ck, d);
    if (nonzero && nck == 0) nck = 0xffff;
    if ((rc = set_uint(w, li, fi, nck)) != SF_OK) return rc;
  }
  return SF_OK;
}

/* ---- the packet ---------------------------------------------------------------- */

int sf_anon_packet(sf_anon *a, sf_pkt *p) {
  rw w;
  int li, rc;
  size_t before = p->len;
  memset(&w, 0, sizeof w);
  w.a = a;
  w.p = p;
  if (!(p->flags & SF_P_PARSED)) sf_pkt_parse(p);
  if ((rc = snap_cut(&w)) != SF_OK) return rc;
  for (li = 0; li < p->nlayers; li++)
    if ((rc = rewrite_layer(&w, li)) != SF_OK) return rc;
  if ((rc = payload(&w)) != SF_OK) return rc;
  if ((rc = fix_frozen(&w)) != SF_OK) return rc;
  p->flags |= SF_P_DIRTY;  /* every checksum recomputed, changed or not */
  if ((rc = sf_finalize(p)) != SF_OK) return rc;
  if (a->pol.payload_rewrite_lengths && p->len < before && p->wirelen <= before)
    p->wirelen = (uint32_t)p->len;  /* the record says what is left */
  p->time_ns = sf_anon_time(a, p->time_ns);
  return SF_OK;
}

/* ---- the fast path ------------------------------------------------------------- */

/* The common shapes, rewritten straight into the output buffer: the same
   bytes sf_anon_packet makes (same field rewrites, then what sf_finalize
   would do to these layers: lengths, type numbers, checksums), without
   generic field access, copy-on-write, splicing or a whole-packet copy. */

static int bound16(int lower, int upper, uint16_t *v) {
  const sf_proto *pr = sf_proto_get(lower);
  uint64_t x;
  if (!pr || !sf_table_value(pr->table, upper, &x) || x > 0xffff) return 0;
  *v = (uint16_t)x;
  return 1;
}

/* Does field `role` of the protocol sit where the fast path writes it? */
static int field_at(const sf_proto *pr, int fi, unsigned bitoff, int type) {
  return fi >= 0 && pr->fields[fi].bitoff == bitoff && pr->fields[fi].type == type &&
         !pr->fields[fi].cond;
}

/* The protocols a table names for a value, if they are laid out as the
   fast path assumes (RFC 894, 802.1Q, 791, 8200, 9293, 768). */
static int fast_proto(const char *table, uint64_t value, int r) {
  int tab = sf_table_find(table), id = tab >= 0 ? sf_table_peek(tab, value) : -1;
  const sf_proto *pr = sf_proto_get(id);
  if (!pr || pr->dyn || role(pr) != r) return -1;
  switch (r) {
    case SF_ROLE_LINK:
      return field_at(pr, pr->at.dst, 0, SF_T_MAC) && field_at(pr, pr->at.src, 48, SF_T_MAC) ? id : -1;
    case SF_ROLE_VLAN: return pr->minlen == 4 ? id : -1;
    case SF_ROLE_NET:
      if (field_at(pr, pr->at.src, 96, SF_T_IP4))
        return field_at(pr, pr->at.dst, 128, SF_T_IP4) && pr->header_checksum ? id : -1;
      return field_at(pr, pr->at.src, 64, SF_T_IP6) && field_at(pr, pr->at.dst, 192, SF_T_IP6) ? id : -1;
    case SF_ROLE_STREAM:  /* and the ACK flag is bit 4 of byte 13 */
      return field_at(pr, pr->at.seq, 32, SF_T_UINT) && field_at(pr, pr->at.ack, 64, SF_T_UINT) &&
             field_at(pr, pr->at.cksum, 128, SF_T_UINT) &&
             field_at(pr, pr->at.flags, 103, SF_T_FLAGS) && pr->fields[pr->at.flags].bits == 9 &&
             pr->facts->ack_flag == 0x10 ? id : -1;
    default:
      return field_at(pr, pr->at.src, 0, SF_T_UINT) && field_at(pr, pr->at.cksum, 48, SF_T_UINT) ? id : -1;
  }
}

void sf_anon_fast_init(sf_anon *a) {
  int *id = a->fast_id, i, j, ok;
  uint16_t v = 0;
  id[FAST_ETHER] = fast_proto("linktype", 1, SF_ROLE_LINK);
  id[FAST_VLAN] = fast_proto("ethertype", 0x8100, SF_ROLE_VLAN);
  id[FAST_IP4] = fast_proto("ethertype", 0x0800, SF_ROLE_NET);
  id[FAST_IP6] = fast_proto("ethertype", 0x86dd, SF_ROLE_NET);
  id[FAST_TCP] = fast_proto("ip.proto", 6, SF_ROLE_STREAM);
  id[FAST_UDP] = fast_proto("ip.proto", 17, SF_ROLE_TRANSPORT);
  for (i = 0, ok = 1; i < FAST_N; i++) ok = ok && id[i] >= 0;
  for (j = 0; ok && j < 2; j++) {
    const sf_facts *f = sf_proto_get(id[FAST_TCP + j])->facts;
    a->fast_nonzero[j] = f->cksum_nonzero;
    a->fast_pseudo[j] = f->cksum_proto;
  }
  ok = ok && bound16(id[FAST_ETHER], id[FAST_VLAN], &a->fast_vlan);
  for (i = 0; i < 2; i++) {
    ok = ok && bound16(id[FAST_ETHER], id[FAST_IP4 + i], &a->fast_eth[0][i]) &&
         bound16(id[FAST_VLAN], id[FAST_IP4 + i], &a->fast_eth[1][i]);
    for (j = 0; j < 2; j++) {
      ok = ok && bound16(id[FAST_IP4 + i], id[FAST_TCP + j], &v) && v <= 0xff;
      a->fast_ip[i][j] = (uint8_t)v;
    }
  }
  a->fast_on = ok;
}

static uint16_t rd16b(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void wr16b(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static uint32_t rd32b(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr32b(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t fold16(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint32_t)s;
}

/* The sum of d's big-endian 16-bit words, mod 0xffff (as sf_sum16, folded):
   summed in native order 8 bytes at a time, then swapped (RFC 1071: the
   ones'-complement sum does not care about byte order). */
static uint32_t sum_be(const uint8_t *d, size_t n) {
  static const uint16_t one = 1;
  uint64_t s = 0;
  uint32_t r;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, d, 8);
    s += (w & 0xffffffffu) + (w >> 32);
    d += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t w;
    memcpy(&w, d, 4);
    s += w;
    d += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    memcpy(&w, d, 2);
    s += w;
    d += 2;
    n -= 2;
  }
  if (n) {  /* the high byte of a last big-endian word */
    uint16_t w = 0;
    memcpy(&w, d, 1);
    s += w;
  }
  r = fold16(s);
  if (*(const uint8_t *)&one) r = (r >> 8 | r << 8) & 0xffff;  /* little-endian host */
  return r;
}

/* The transport checksum of a snap-cut packet: the original moved by the
   change to the addresses (its pseudo-header) and to the header, as
   fix_frozen() moves it; "none" (0, where the protocol has it) stays. */
static uint16_t snap_checksum(const sf_anon *a, int udp, const uint8_t *ip_in,
                              const uint8_t *ip_out, int v6, const uint8_t *t_in,
                              const uint8_t *t_out, size_t hlen) {
  size_t ao = v6 ? 8 : 12, an = v6 ? 32 : 8;
  uint16_t ck = rd16b(t_out + (udp ? 6 : 16)), nck;
  int64_t delta;
  if (a->fast_nonzero[udp] && ck == 0) return 0;
  delta = (int64_t)sum_be(ip_out + ao, an) - sum_be(ip_in + ao, an) +
          (int64_t)sum_be(t_out, hlen) - sum_be(t_in, hlen);
  nck = adjust(ck, delta);
  return a->fast_nonzero[udp] && nck == 0 ? 0xffff : nck;
}

int sf_anon_fast(sf_anon *a, const sf_pkt *p, uint8_t *out, size_t cap,
                 size_t *olen, uint32_t *wirelen, int64_t *time_ns) {
  const sf_layer *L = p->layers, *ip, *t;
  const int *id = a->fast_id;
  const sf_anon_policy *pol = &a->pol;
  const uint8_t *d = p->data;
  int v6, udp, vlan = 0, n = p->nlayers, mode = pol->mode[SF_AN_PAYLOAD], snap;
  size_t len = p->len, start, end, ipend, cut, pad, newlen, ipoff, toff, ckoff;
  long keep;
  uint64_t acc;
  uint8_t *h;
  uint32_t ck;

  /* ---- the shape: Ether [/ Dot1Q] / IP / TCP|UDP [/ Raw] [/ Padding] */
  if (!a->fast_on || (p->flags & SF_P_TRUNC) || n < 3 || len > cap) return 0;
  if (L[0].proto != id[FAST_ETHER] || L[0].flags || L[0].off != 0 || L[0].hlen != 14 ||
      L[0].end != len)
    return 0;
  if (L[1].proto == id[FAST_VLAN]) {  /* one VLAN tag */
    if (L[1].flags || L[1].off != 14 || L[1].hlen != 4 || L[1].end != len ||
        rd16b(d + 12) != a->fast_vlan)
      return 0;
    vlan = 1;
  }
  if (n < 3 + vlan || n > 5 + vlan) return 0;
  ip = &L[1 + vlan];
  t = &L[2 + vlan];
  if (ip->proto == id[FAST_IP4] && ip->hlen == 20) v6 = 0;
  else if (ip->proto == id[FAST_IP6] && ip->hlen == 40) v6 = 1;
  else return 0;
  if (rd16b(d + 12 + 4 * vlan) != a->fast_eth[vlan][v6]) return 0;
  if (t->proto == id[FAST_TCP]) udp = 0;
  else if (t->proto == id[FAST_UDP]) udp = 1;
  else return 0;
  ipoff = ip->off;
  toff = t->off;
  ipend = ip->end;
  if (ip->flags || ipoff != 14u + 4u * vlan || t->flags || toff != ipoff + ip->hlen ||
      t->end != ipend || d[ipoff + (v6 ? 6 : 9)] != a->fast_ip[v6][udp])
    return 0;
  start = toff + t->hlen;
  end = ipend;
  {
    int li = 3 + vlan;
    if (li < n && L[li].proto == SF_RAW) {
      if (L[li].flags || L[li].off != start || L[li].end != end || end <= start) return 0;
      li++;
    } else if (end > start) {
      return 0;
    }
    if (li < n && L[li].proto == SF_PADDING) {
      if (L[li].flags || L[li].off != ipend || L[li].end != len) return 0;
      li++;
    } else if (ipend != len) {
      return 0;
    }
    if (li != n) return 0;
  }

  /* ---- the output's layout: payload cut (snap_cut() or payload()),
     padding kept unless a snap cut takes it */
  cut = end;
  keep = kept_bytes(pol);
  if (keep >= 0 && end - start > (size_t)keep) cut = start + (size_t)keep;
  snap = cut < end && !pol->payload_rewrite_lengths;
  pad = snap ? 0 : len - ipend;
  newlen = cut + pad;
  if (cut - ipoff - (v6 ? 40 : 0) > 0xffff) return 0;
  memcpy(out, d, cut);
  if (pad) memcpy(out + cut, d + ipend, pad);
  if (mode == SF_PL_ZERO && end > start) memset(out + start, 0, end - start);

  /* ---- addresses: Ethernet dst then src, IP src then dst */
  sf_anon_mac(a, d, out);
  sf_anon_mac(a, d + 6, out + 6);
  h = out + ipoff;
  if (v6) {
    sf_anon_ip6(a, d + ipoff + 8, h + 8);
    sf_anon_ip6(a, d + ipoff + 24, h + 24);
  } else {
    sf_anon_ip4(a, d + ipoff + 12, h + 12);
    sf_anon_ip4(a, d + ipoff + 16, h + 16);
  }

  /* ---- transport: ports, sequence numbers, SACK */
  {
    const uint8_t *th = d + toff;
    uint8_t *to = out + toff;
    uint16_t sp = rd16b(th), dp = rd16b(th + 2);
    wr16b(to, sf_anon_port(a, sp));
    wr16b(to + 2, sf_anon_port(a, dp));
    if (!udp && pol->mode[SF_AN_SEQ] != SF_SEQ_PRESERVE) {
      size_t alen = v6 ? 16 : 4;
      const uint8_t *src = d + ipoff + (v6 ? 8 : 12), *dst = src + alen;
      uint32_t fwd = sf_anon_seq_offset(a, src, dst, alen, sp, dp);
      uint32_t rev = sf_anon_seq_offset(a, dst, src, alen, dp, sp);
      wr32b(to + 4, rd32b(th + 4) + fwd);
      if (th[13] & 0x10) {  /* ACK (fast_proto checked where it is) */
        wr32b(to + 8, rd32b(th + 8) + rev);
        if (t->hlen > 20) shift_sack(to + 20, t->hlen - 20, rev);
      }
    }
  }

  /* ---- what sf_finalize does: lengths, then checksums; after a snap cut
     (the layers truncated) the lengths stay and the transport checksum
     moves by our change, as fix_frozen() moves it */
  if (!snap && v6) {
    wr16b(h + 4, (uint32_t)(cut - ipoff - 40));
  } else if (!snap) {
    wr16b(h + 2, (uint32_t)(cut - ipoff));
  }
  if (!v6) {
    wr16b(h + 10, 0);
    wr16b(h + 10, ~fold16(sum_be(h, 20)) & 0xffff);
  }
  ckoff = toff + (udp ? 6 : 16);
  if (snap) {
    wr16b(out + ckoff, snap_checksum(a, udp, d + ipoff, h, v6, d + toff, out + toff, t->hlen));
  } else {
    if (udp) wr16b(out + toff + 4, (uint32_t)(cut - toff));
    wr16b(out + ckoff, 0);
    acc = v6 ? sum_be(h + 8, 32) : sum_be(h + 12, 8);
    acc += a->fast_pseudo[udp] + (cut - toff) + sum_be(out + toff, cut - toff);
    ck = ~fold16(acc) & 0xffff;
    if (a->fast_nonzero[udp] && ck == 0) ck = 0xffff;
    wr16b(out + ckoff, ck);
  }

  *olen = newlen;
  if (snap) *wirelen = p->wirelen > len ? p->wirelen : (uint32_t)len;
  else *wirelen = newlen < len && p->wirelen <= len ? (uint32_t)newlen : p->wirelen;
  *time_ns = sf_anon_time(a, p->time_ns);
  return 1;
}
