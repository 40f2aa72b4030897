/*
 * tcp.c -- the TCP state machine, as an observer sees it.
 *
 * We keep only facts (who sent SYN, SYN+ACK, FIN, which FIN was acked,
 * whether a RST was seen) and derive each side's RFC 9293 state from them
 * when asked: facts cannot get out of step the way a transition table fed
 * by a lossy capture does.
 */
#include "flowpriv.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Handshake progress of each side (tcp_hs holds SF_TCP_* values). */
static void handshake(sf_flow *f, int d, uint8_t flags) {
  uint8_t *hs = f->tcp_hs;
  if (flags & TH_SYN) {
    hs[d] = (flags & TH_ACK) ? SF_TCP_SYN_RECEIVED : SF_TCP_SYN_SENT;
    if ((flags & TH_ACK) && hs[!d] == SF_TCP_CLOSED) hs[!d] = SF_TCP_SYN_SENT;
  } else if (hs[d] == SF_TCP_CLOSED && hs[!d] == SF_TCP_CLOSED) {
    hs[0] = hs[1] = SF_TCP_ESTABLISHED;  /* joined mid-stream */
  } else if ((flags & TH_ACK) && hs[d] == SF_TCP_SYN_SENT &&
             hs[!d] == SF_TCP_SYN_RECEIVED) {
    hs[0] = hs[1] = SF_TCP_ESTABLISHED;  /* the third packet */
  } else if (hs[d] == SF_TCP_SYN_RECEIVED && hs[!d] == SF_TCP_ESTABLISHED) {
    hs[d] = SF_TCP_ESTABLISHED;
  } else if (f->packets[0] && f->packets[1] && hs[0] != SF_TCP_ESTABLISHED) {
    /* both sides talk past the handshake, part of which the capture
       missed: established, or a 5 s pause would split a live connection */
    hs[0] = hs[1] = SF_TCP_ESTABLISHED;
  }
}

static void closing(sf_flow *f, int d, uint8_t flags, uint32_t seq,
                    uint32_t ack, size_t plen) {
  sf_tcp_dir *me = &f->dir[d], *peer = &f->dir[!d];
  if (flags & TH_RST) f->rst = 1;
  if ((flags & TH_FIN) && !me->fin) {
    me->fin = 1;
    me->fin_seq = seq + (uint32_t)plen + ((flags & TH_SYN) ? 1u : 0u);
    if (!f->fin_first) f->fin_first = (uint8_t)(d + 1);
  }
  if ((flags & TH_ACK) && peer->fin && ack == peer->fin_seq + 1)
    peer->fin_acked = 1;
}

void sf_tcp_packet(sf_flows *t, sf_flow *f, int d, const uint8_t *tcp,
                   size_t hlen, const uint8_t *pay, size_t plen, int64_t now) {
  uint8_t flags = tcp[13];
  uint32_t seq = rd32(tcp + 4), ack = rd32(tcp + 8);
  sf_tcp_dir *me = &f->dir[d];
  (void)hlen;
  handshake(f, d, flags);
  if (flags & TH_SYN) {
    /* the stream's start; data seen before it (capture order) moves back */
    if (t->c.reassemble) sf_reasm_syn(t, f, d, seq);
    if (flags & TH_ACK) me->synack = 1;
    else me->syn = 1;
    seq++;  /* SYN data starts after the SYN's own number */
  }
  closing(f, d, flags, seq - ((flags & TH_SYN) ? 1u : 0u), ack, plen);
  if (plen && !(flags & TH_RST) && t->c.reassemble) {
    if (!pay) {  /* cut by the snaplen */
      me->dropped++;
      t->dropped++;
      t->dropped_snaplen++;
    } else {
      sf_reasm_segment(t, f, d, seq, pay, plen, now);
    }
  }
  if ((f->dir[0].r || f->dir[1].r) && t->c.reassemble) sf_reasm_tick(t, f, now);
}

/* State of side s (0 initiator, 1 responder), derived from the facts. */
int sf_tcp_state(const sf_flow *f, int s) {
  const sf_tcp_dir *me = &f->dir[s], *peer = &f->dir[!s];
  if (f->rst) return SF_TCP_CLOSED;
  if (!me->fin && !peer->fin) {
    if (f->tcp_hs[s] == SF_TCP_CLOSED && f->tcp_hs[!s] == SF_TCP_SYN_SENT)
      return SF_TCP_LISTEN;
    return f->tcp_hs[s];
  }
  if (!me->fin) return SF_TCP_CLOSE_WAIT;
  if (!peer->fin) return me->fin_acked ? SF_TCP_FIN_WAIT_2 : SF_TCP_FIN_WAIT_1;
  if (f->fin_first == s + 1) {  /* closed first */
    if (peer->fin_acked) return SF_TCP_TIME_WAIT;
    return me->fin_acked ? SF_TCP_FIN_WAIT_2 : SF_TCP_CLOSING;
  }
  return me->fin_acked ? SF_TCP_CLOSED : SF_TCP_LAST_ACK;
}
