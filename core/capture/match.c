/*
 * match.c -- which captured packet answers which request, as Scapy's
 * answers() and hashret() decide it, from the protocols' declared facts
 * (core/sf.h): no protocol is named here.
 *
 * Two packets are compared layer by layer from their first layer above
 * the link: a network layer's addresses must be swapped, a transport's
 * ports swapped, an ICMP echo's id and seq equal, TCP's ack must follow
 * the request's seq; an ICMP error answers the request it quotes.  A
 * protocol the host defined (CustomLayer) is asked through a hook.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

typedef struct judge {
  const sf_pkt *resp, *req;
  sf_answers_fn hook;
  void *ud;
  char *why;
  size_t whylen;
} judge;

static const sf_proto *proto_at(const sf_pkt *p, int li) {
  return sf_proto_get(p->layers[li].proto);
}

static int role_at(const sf_pkt *p, int li) {
  const sf_proto *pr = proto_at(p, li);
  return pr && pr->facts ? pr->facts->role : SF_ROLE_NONE;
}

static int quoted(const sf_pkt *p, int li) {
  return li < p->nlayers && (p->layers[li].flags & SF_L_QUOTED);
}

/* A no, with the reason when one is asked for. */
static int no(judge *j, const char *fmt, ...) {
  va_list ap;
  if (!j->why || !j->whylen) return 0;
  va_start(ap, fmt);
  vsnprintf(j->why, j->whylen, fmt, ap);
  va_end(ap);
  return 0;
}

/* a field's value, or 0 with *ok cleared when the header lacks it (an
   ICMP error quotes a transport header cut short) */
static uint64_t get(const sf_pkt *p, int li, int fi, int *ok) {
  sf_val v;
  if (fi < 0 || !sf_field_present(p, li, fi) || sf_field_get(p, li, fi, &v) != SF_OK) {
    *ok = 0;
    return 0;
  }
  return v.u;
}

/* an address field's bytes, NULL if absent */
static const uint8_t *addr(const sf_pkt *p, int li, int fi, size_t *n) {
  sf_val v;
  if (fi < 0 || !sf_field_present(p, li, fi) || sf_field_get(p, li, fi, &v) != SF_OK)
    return NULL;
  *n = v.n;
  return v.p;
}

static int same_addr(const sf_pkt *a, int ai, int af, const sf_pkt *b, int bi, int bf) {
  size_t na = 0, nb = 0;
  const uint8_t *x = addr(a, ai, af, &na), *y = addr(b, bi, bf, &nb);
  return x && y && na == nb && memcmp(x, y, na) == 0;
}

static const char *field_name(const sf_pkt *p, int li, int fi) {
  return fi >= 0 ? proto_at(p, li)->fields[fi].name : "?";
}

/* the first layer above the link layers and tags, -1 if none */
static int above_link(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    int r = role_at(p, li);
    if (r != SF_ROLE_LINK && r != SF_ROLE_VLAN) return li;
  }
  return -1;
}

/* past a network layer and its extension headers */
static int after_net(const sf_pkt *p, int li) {
  for (li++; li < p->nlayers && role_at(p, li) == SF_ROLE_NETEXT; li++) {}
  return li;
}

/* An ICMP error right after the network chain at li, with what it quotes:
   the index of the quoted network layer, else -1. */
static int quote_of(const sf_pkt *p, int li) {
  int ic = after_net(p, li);
  if (ic + 1 < p->nlayers && role_at(p, ic) == SF_ROLE_ICMP && !quoted(p, ic) &&
      quoted(p, ic + 1) && role_at(p, ic + 1) == SF_ROLE_NET)
    return ic + 1;
  return -1;
}

static int answers_at(judge *j, int pi, int ri);

/* ---- one role each ------------------------------------------------------------- */

/* a multicast or broadcast address: answered from a unicast one */
static int group_addr(const uint8_t *a, size_t n) {
  if (n == 4) return a[0] >= 224 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
  return n == 16 && a[0] == 0xff;
}

static int net_answers(judge *j, int pi, int ri) {
  const sf_proto *pr = proto_at(j->req, ri);
  size_t n = 0;
  const uint8_t *qdst = addr(j->req, ri, pr->at.dst, &n);
  if (!(qdst && group_addr(qdst, n)) &&
      !same_addr(j->resp, pi, pr->at.src, j->req, ri, pr->at.dst))
    return no(j, "%s: the answer comes from another address than the request's %s",
              pr->display, field_name(j->req, ri, pr->at.dst));
  if (!same_addr(j->resp, pi, pr->at.dst, j->req, ri, pr->at.src))
    return no(j, "%s: the answer goes to another address than the request's %s",
              pr->display, field_name(j->req, ri, pr->at.src));
  return answers_at(j, after_net(j->resp, pi), after_net(j->req, ri));
}

static int ports_swapped(judge *j, int pi, int ri) {
  const sf_proto *pr = proto_at(j->req, ri);
  int ok = 1;
  uint64_t rs = get(j->resp, pi, pr->at.src, &ok), rd = get(j->resp, pi, pr->at.dst, &ok);
  uint64_t qs = get(j->req, ri, pr->at.src, &ok), qd = get(j->req, ri, pr->at.dst, &ok);
  if (!ok) return no(j, "%s: ports missing", pr->display);
  if (rs != qd)
    return no(j, "%s: the answer's %s %" PRIu64 " is not the request's %s %" PRIu64,
              pr->display, field_name(j->req, ri, pr->at.src), rs,
              field_name(j->req, ri, pr->at.dst), qd);
  if (rd != qs)
    return no(j, "%s: the answer's %s %" PRIu64 " is not the request's %s %" PRIu64,
              pr->display, field_name(j->req, ri, pr->at.dst), rd,
              field_name(j->req, ri, pr->at.src), qs);
  return 1;
}

static uint32_t seq_distance(uint64_t a, uint64_t b) {
  uint32_t d = (uint32_t)(a - b);
  return d > 0x7fffffffu ? (uint32_t)-d : d;
}

/* Scapy's TCP.answers: a SYN is answered by a SYN-ACK only; a RST is never
   answered; the answer's ack follows the request's seq (within 2) unless
   the request was a bare SYN, its seq follows the request's ack. */
static int stream_answers(judge *j, int pi, int ri) {
  const sf_proto *pr = proto_at(j->req, ri);
  const sf_facts *f = pr->facts;
  int ok = 1;
  uint64_t rf = get(j->resp, pi, pr->at.flags, &ok), qf = get(j->req, ri, pr->at.flags, &ok);
  uint64_t rseq = get(j->resp, pi, pr->at.seq, &ok), rack = get(j->resp, pi, pr->at.ack, &ok);
  uint64_t qseq = get(j->req, ri, pr->at.seq, &ok), qack = get(j->req, ri, pr->at.ack, &ok);
  size_t qlen = j->req->layers[ri].end - j->req->layers[ri].off - j->req->layers[ri].hlen;
  if (!ok) return no(j, "%s: header cut short", pr->display);
  if (qf & f->rst_flag) return no(j, "%s: a reset is never answered", pr->display);
  if ((rf & f->syn_flag) && (!(rf & f->ack_flag) || !(qf & f->syn_flag)))
    return no(j, "%s: only a SYN-ACK answers with SYN, and only a SYN", pr->display);
  if (!ports_swapped(j, pi, ri)) return 0;
  if (!((qf & f->syn_flag) && !(qf & f->ack_flag)) && seq_distance(qack, rseq) > 2)
    return no(j, "%s: the answer's seq %" PRIu64 " does not follow the request's ack %" PRIu64,
              pr->display, rseq, qack);
  if ((rf & f->rst_flag) && !(rf & f->ack_flag)) return 1;
  if (seq_distance(qseq, rack) > 2 + qlen)
    return no(j, "%s: the answer's ack %" PRIu64 " does not follow the request's seq %" PRIu64,
              pr->display, rack, qseq);
  return 1;
}

/* The reply type of an ICMP request keyed by id and seq, -1 if none. */
static int reply_type(const sf_facts *f, unsigned t) {
  const uint8_t (*pr)[2];
  if (t == f->echo_request && f->echo_request != f->echo_reply) return f->echo_reply;
  for (pr = f->pairs; pr && (*pr)[0]; pr++)
    if ((*pr)[0] == t) return (*pr)[1];
  return -1;
}

static int is_reply_type(const sf_facts *f, unsigned t) {
  const uint8_t (*pr)[2];
  if (t == f->echo_reply || t == f->echo_request) return 1;
  for (pr = f->pairs; pr && (*pr)[0]; pr++)
    if ((*pr)[0] == t || (*pr)[1] == t) return 1;
  return 0;
}

static int same_bytes(judge *j, int pi, int ri, int fi) {
  size_t a = 0, b = 0;
  const uint8_t *x = addr(j->resp, pi, fi, &a), *y = addr(j->req, ri, fi, &b);
  return fi < 0 || (x && y && a == b && memcmp(x, y, a) == 0) || (!x && !y);
}

static int icmp_answers(judge *j, int pi, int ri) {
  const sf_proto *pr = proto_at(j->req, ri);
  const sf_facts *f = pr->facts;
  const sf_layer *rl = &j->resp->layers[pi], *ql = &j->req->layers[ri];
  unsigned rt = j->resp->data[rl->off], qt = j->req->data[ql->off];
  int want = reply_type(f, qt), ok = 1;
  if (want >= 0) {
    uint64_t a, b;
    if (rt != (unsigned)want)
      return no(j, "%s: type %u is not the reply to type %u (%d)", pr->display, rt, qt, want);
    a = get(j->resp, pi, pr->at.id, &ok);
    b = get(j->req, ri, pr->at.id, &ok);
    if (!ok || a != b)
      return no(j, "%s: the reply's id %" PRIu64 " is not the request's %" PRIu64, pr->display, a, b);
    a = get(j->resp, pi, pr->at.seqno, &ok);
    b = get(j->req, ri, pr->at.seqno, &ok);
    if (!ok || a != b)
      return no(j, "%s: the reply's seq %" PRIu64 " is not the request's %" PRIu64, pr->display, a, b);
    if (!same_bytes(j, pi, ri, pr->at.body))
      return no(j, "%s: the reply's %s is not the request's", pr->display,
                field_name(j->req, ri, pr->at.body));
    return 1;
  }
  if (f->solicit && qt == f->solicit) {
    if (rt != f->advert)
      return no(j, "%s: type %u is not the advertisement (%u)", pr->display, rt, f->advert);
    if (!same_addr(j->resp, pi, pr->at.target, j->req, ri, pr->at.target))
      return no(j, "%s: the advertisement is for another target", pr->display);
    return 1;
  }
  return no(j, "%s: type %u is not a request sflua knows the answer of", pr->display, qt);
}

static int resolve_answers(judge *j, int pi, int ri) {
  const sf_proto *pr = proto_at(j->req, ri);
  const sf_facts *f = pr->facts;
  int ok = 1;
  uint64_t qop = get(j->req, ri, pr->at.op, &ok), rop = get(j->resp, pi, pr->at.op, &ok);
  if (!ok || qop != f->solicit)
    return no(j, "%s: the request is not a solicitation (%s %u)", pr->display,
              field_name(j->req, ri, pr->at.op), f->solicit);
  if (rop != f->advert)
    return no(j, "%s: %s %" PRIu64 " is not the answer (%u)", pr->display,
              field_name(j->req, ri, pr->at.op), rop, f->advert);
  if (!same_addr(j->resp, pi, pr->at.src, j->req, ri, pr->at.dst))
    return no(j, "%s: the answer's %s is not the address asked for (%s)", pr->display,
              field_name(j->req, ri, pr->at.src), field_name(j->req, ri, pr->at.dst));
  return 1;
}

/* ICMP error at the answer: what it quotes must be the request as sent
   (addresses and ports in the same direction, the same TCP seq, the same
   echo id and seq). */
static int same_fields(judge *j, int qi, int ri) {
  const sf_proto *pr = proto_at(j->req, ri);
  const sf_roles *at = &pr->at;
  int r = role_at(j->req, ri), ok = 1;
  if (r == SF_ROLE_NET)
    return same_addr(j->resp, qi, at->src, j->req, ri, at->src) &&
           same_addr(j->resp, qi, at->dst, j->req, ri, at->dst);
  if (r == SF_ROLE_TRANSPORT || r == SF_ROLE_STREAM) {
    int same = get(j->resp, qi, at->src, &ok) == get(j->req, ri, at->src, &ok) &&
               get(j->resp, qi, at->dst, &ok) == get(j->req, ri, at->dst, &ok);
    if (same && r == SF_ROLE_STREAM) {
      int seq_ok = 1;  /* a quote of 8 bytes still has the seq */
      uint64_t a = get(j->resp, qi, at->seq, &seq_ok);
      same = !seq_ok || a == get(j->req, ri, at->seq, &ok);
    }
    return ok && same;
  }
  if (r == SF_ROLE_ICMP) {  /* type and code, then id and seq if it has them */
    const uint8_t *a = j->resp->data + j->resp->layers[qi].off, *b = j->req->data + j->req->layers[ri].off;
    int idok = 1;
    uint64_t x, y, u, v;
    if (a[0] != b[0] || j->resp->layers[qi].end - j->resp->layers[qi].off < 2 || a[1] != b[1])
      return 0;
    x = get(j->resp, qi, at->id, &idok);
    y = get(j->req, ri, at->id, &idok);
    u = get(j->resp, qi, at->seqno, &idok);
    v = get(j->req, ri, at->seqno, &idok);
    return !idok || (x == y && u == v);
  }
  return 1;
}

static int error_answers(judge *j, int qi, int ri) {
  int li;
  for (li = 0; qi + li < j->resp->nlayers && ri + li < j->req->nlayers; li++) {
    int r = role_at(j->req, ri + li);
    if (j->resp->layers[qi + li].proto != j->req->layers[ri + li].proto) break;
    if (r != SF_ROLE_NET && r != SF_ROLE_NETEXT && r != SF_ROLE_TRANSPORT &&
        r != SF_ROLE_STREAM && r != SF_ROLE_ICMP)
      break;
    if (!same_fields(j, qi + li, ri + li))
      return no(j, "%s: the ICMP error quotes another %s", proto_at(j->req, ri + li)->display,
                proto_at(j->req, ri + li)->display);
  }
  return li > 0 ? 1 : no(j, "the ICMP error quotes another packet");
}

/* The host's verdict on its own protocols, -1 for none. */
static int ask_host(judge *j, int pi, int ri) {
  int v;
  if (!j->hook || !proto_at(j->req, ri)->dyn) return -1;
  v = j->hook(j->ud, j->req, ri, j->resp, pi);
  if (v == 0) no(j, "%s: its answers hook said no", proto_at(j->req, ri)->display);
  return v;
}

/* Does resp's layer pi (and what follows) answer req's layer ri? */
static int answers_at(judge *j, int pi, int ri) {
  int r, v, q;
  if (ri >= j->req->nlayers || pi >= j->resp->nlayers) return 1;
  if (role_at(j->req, ri) == SF_ROLE_NET && role_at(j->resp, pi) == SF_ROLE_NET &&
      (q = quote_of(j->resp, pi)) >= 0 && quote_of(j->req, ri) < 0)
    return error_answers(j, q, ri);
  if ((v = ask_host(j, pi, ri)) >= 0) return v;
  if (j->resp->layers[pi].proto != j->req->layers[ri].proto) {
    if (j->req->layers[ri].proto == SF_RAW || j->req->layers[ri].proto == SF_PADDING)
      return 1;
    return no(j, "%s: the answer has %s here", proto_at(j->req, ri)->display,
              proto_at(j->resp, pi)->display);
  }
  r = role_at(j->req, ri);
  switch (r) {
    case SF_ROLE_NET: return net_answers(j, pi, ri);
    case SF_ROLE_TRANSPORT:
      return ports_swapped(j, pi, ri) && answers_at(j, pi + 1, ri + 1);
    case SF_ROLE_STREAM: return stream_answers(j, pi, ri);
    case SF_ROLE_ICMP: return icmp_answers(j, pi, ri);
    case SF_ROLE_RESOLVE: return resolve_answers(j, pi, ri);
    default: return answers_at(j, pi + 1, ri + 1);  /* as Scapy: same class */
  }
}

/* the same bytes from the first layer above the link: the request seen
   again on the way out (or on lo), not an answer */
static int is_itself(const sf_pkt *resp, int pi, const sf_pkt *req, int ri) {
  size_t a = resp->len - resp->layers[pi].off, b = req->len - req->layers[ri].off;
  return a == b && memcmp(resp->data + resp->layers[pi].off, req->data + req->layers[ri].off, a) == 0;
}

int sf_answers(const sf_pkt *resp, const sf_pkt *req, sf_answers_fn hook,
               void *ud, char *why, size_t whylen) {
  judge j = {resp, req, hook, ud, why, whylen};
  int pi = above_link(resp), ri = above_link(req);
  if (why && whylen) why[0] = 0;
  if (pi < 0 || ri < 0) {
    if (pi < 0 && ri < 0 && resp->nlayers && req->nlayers) return 1;
    return no(&j, "nothing above the link layer to compare");
  }
  if (is_itself(resp, pi, req, ri)) return no(&j, "the request itself");
  return answers_at(&j, pi, ri);
}

/* ---- hashret ---------------------------------------------------------------------- */

static uint64_t mix(uint64_t h) {  /* splitmix64's finaliser */
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

/* a sum that does not care which of two addresses is which */
static uint64_t addr_pair(const sf_pkt *p, int li, int fa, int fb) {
  size_t na = 0, nb = 0, i;
  const uint8_t *a = addr(p, li, fa, &na), *b = addr(p, li, fb, &nb);
  uint64_t x = 0, y = 0;
  for (i = 0; a && i < na; i++) x = x * 131 + a[i];
  for (i = 0; b && i < nb; i++) y = y * 131 + b[i];
  return mix(x) ^ mix(y);
}

/* Addresses, ports and ICMP ids mixed so that a request and its answers
   agree: addresses and ports by a sum that ignores their order; an ICMP
   error by what it quotes; neighbour discovery by its target alone (the
   solicitation goes to a multicast address, the advertisement from a
   unicast one). */
static uint64_t hash_from(const sf_pkt *p, int li) {
  uint64_t h = 0x9e3779b97f4a7c15ULL, net = 0;
  int ok, q;
  while (li >= 0 && li < p->nlayers) {
    const sf_proto *pr = proto_at(p, li);
    int r = role_at(p, li);
    ok = 1;
    if (r == SF_ROLE_NET) {
      if ((q = quote_of(p, li)) >= 0 && !quoted(p, li)) return hash_from(p, q);
      net = mix(net ^ addr_pair(p, li, pr->at.src, pr->at.dst));
      li = after_net(p, li);
      continue;
    }
    if (r == SF_ROLE_TRANSPORT || r == SF_ROLE_STREAM) {
      uint64_t s = get(p, li, pr->at.src, &ok), d = get(p, li, pr->at.dst, &ok);
      return ok ? mix(h ^ net ^ (s ^ d) ^ (s + d) << 17) : mix(h ^ net);
    }
    if (r == SF_ROLE_ICMP) {
      unsigned t = p->data[p->layers[li].off];
      const sf_facts *f = pr->facts;
      if (is_reply_type(f, t) && pr->at.id >= 0) {
        uint64_t id = get(p, li, pr->at.id, &ok), seq = get(p, li, pr->at.seqno, &ok);
        return mix(h ^ net ^ (id << 16 | seq) ^ 0x1c0);
      }
      if (f->solicit && (t == f->solicit || t == f->advert) && pr->at.target >= 0)
        return mix(h ^ addr_pair(p, li, pr->at.target, pr->at.target));
      return mix(h ^ net);
    }
    if (r == SF_ROLE_RESOLVE) return mix(h ^ addr_pair(p, li, pr->at.src, pr->at.dst));
    if (r != SF_ROLE_LINK && r != SF_ROLE_VLAN) return mix(h ^ net);
    li++;
  }
  return mix(h ^ net);
}

uint64_t sf_hashret(const sf_pkt *p) { return hash_from(p, above_link(p)); }

/* ---- requests in flight ------------------------------------------------------------ */

typedef struct entry {
  uint64_t hash;
  const sf_pkt *req;
  uint32_t tag;
  int next;              /* in the bucket's chain, -1 at the end */
  int live;
} entry;

struct sf_match {
  entry *e;
  size_t n, cap;
  int *bucket;           /* first entry of each chain, -1 none */
  size_t nbucket;        /* a power of two */
  size_t live;
  sf_answers_fn hook;
  void *ud;
};

sf_match *sf_match_new(void) {
  sf_match *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->nbucket = 64;
  m->bucket = malloc(m->nbucket * sizeof *m->bucket);
  if (!m->bucket) {
    free(m);
    return NULL;
  }
  memset(m->bucket, 0xff, m->nbucket * sizeof *m->bucket);
  return m;
}

void sf_match_free(sf_match *m) {
  if (!m) return;
  free(m->e);
  free(m->bucket);
  free(m);
}

void sf_match_hook(sf_match *m, sf_answers_fn hook, void *ud) {
  m->hook = hook;
  m->ud = ud;
}

/* chains are kept oldest first: an entry goes to its chain's end */
static void link_entry(sf_match *m, int i) {
  int *at = &m->bucket[m->e[i].hash & (m->nbucket - 1)];
  while (*at >= 0) at = &m->e[*at].next;
  *at = i;
  m->e[i].next = -1;
}

static int rehash(sf_match *m) {
  size_t nb = m->nbucket * 4, i;
  int *b = malloc(nb * sizeof *b);
  if (!b) return SF_E_NOMEM;
  free(m->bucket);
  m->bucket = b;
  m->nbucket = nb;
  memset(b, 0xff, nb * sizeof *b);
  for (i = 0; i < m->n; i++)
    if (m->e[i].live) link_entry(m, (int)i);
  return SF_OK;
}

int sf_match_add(sf_match *m, const sf_pkt *req, uint32_t tag) {
  entry *e;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    entry *ne = realloc(m->e, cap * sizeof *ne);
    if (!ne) return SF_E_NOMEM;
    m->e = ne;
    m->cap = cap;
  }
  if (m->n >= m->nbucket && rehash(m) != SF_OK) return SF_E_NOMEM;
  e = &m->e[m->n];
  e->hash = sf_hashret(req);
  e->req = req;
  e->tag = tag;
  e->live = 1;
  link_entry(m, (int)m->n++);
  m->live++;
  return SF_OK;
}

int sf_match_remove(sf_match *m, uint32_t tag) {
  size_t i;
  for (i = 0; i < m->n; i++)
    if (m->e[i].live && m->e[i].tag == tag) {
      int *at = &m->bucket[m->e[i].hash & (m->nbucket - 1)];
      while (*at != (int)i) at = &m->e[*at].next;
      *at = m->e[i].next;
      m->e[i].live = 0;
      m->live--;
      return SF_OK;
    }
  return SF_E_ABSENT;
}

size_t sf_match_count(const sf_match *m) { return m->live; }

int sf_match_find(sf_match *m, const sf_pkt *resp, uint32_t *tags, int max) {
  uint64_t h = sf_hashret(resp);
  int i = m->bucket[h & (m->nbucket - 1)], n = 0;
  for (; i >= 0 && n < max; i = m->e[i].next)
    if (m->e[i].hash == h && sf_answers(resp, m->e[i].req, m->hook, m->ud, NULL, 0))
      tags[n++] = m->e[i].tag;
  return n;
}

void sf_match_explain(sf_match *m, const sf_pkt *resp, sf_explain_fn fn,
                      void *ud) {
  char why[256];
  size_t i;
  for (i = 0; i < m->n; i++) {
    if (!m->e[i].live) continue;
    if (sf_answers(resp, m->e[i].req, m->hook, m->ud, why, sizeof why))
      fn(ud, m->e[i].tag, NULL);
    else
      fn(ud, m->e[i].tag, why);
  }
}
