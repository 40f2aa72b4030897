/*
 * tlsflow.c -- a conversation's TLS, decrypted from its reassembled
 * streams with a key log (core/crypto/tlsdec.c does the TLS).
 *
 * The hellos are read from the first bytes of each stream; then each
 * direction is read in pieces and walked record by record, so a stream
 * of any length (spilled to disk included) decrypts in bounded memory:
 * a piece of ciphertext, one record, its plaintext not yet taken.  A hole
 * the capture never filled stops its direction (the records after it
 * cannot be placed in the key's sequence).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "../crypto/tlsdec.h"

#define PIECE 65536                 /* ciphertext read at a time: most records
                                       lie whole inside, and are not copied */
#define HELLO_BYTES 65536           /* the hellos are looked for in these */
#define HANDSHAKE_CAP (256 * 1024)  /* handshake plaintext kept per direction */

typedef struct tls_side {
  sf_tls_dir *w;
  uint64_t coff;                    /* stream bytes fed so far */
  int done;
  uint8_t *pend;                    /* application data not yet read */
  int discard;                      /* read with no buffer: only counted */
  size_t npend, pos, cap;
  uint8_t *hs;                      /* handshake messages, up to the cap */
  size_t nhs, caphs;
  int nomem;
  char cut[200];                    /* the walk ended well, the stream did not */
} tls_side;

struct sf_flow_tls {
  sf_tls_session s;
  int client;                       /* the flow direction of the client */
  tls_side side[2];                 /* by flow direction */
  uint8_t piece[PIECE];             /* ciphertext being fed */
};

static int grow(uint8_t **buf, size_t *cap, size_t need) {
  size_t c = *cap ? *cap : 4096;
  uint8_t *nb;
  if (need <= *cap) return 0;
  while (c < need) c *= 2;
  if (!(nb = realloc(*buf, c))) return -1;
  *buf = nb;
  *cap = c;
  return 0;
}

/* The walker's sink: application data to read (counted only when no one
   reads it), handshake kept (capped). */
static void sink(void *ud, int type, const uint8_t *p, size_t n) {
  tls_side *sd = (tls_side *)ud;
  if (type == SF_TLS_APPDATA && sd->discard) {
    sd->npend += n;
  } else if (type == SF_TLS_APPDATA) {
    if (sd->pos == sd->npend) sd->pos = sd->npend = 0;
    if (grow(&sd->pend, &sd->cap, sd->npend + n) < 0) { sd->nomem = 1; return; }
    memcpy(sd->pend + sd->npend, p, n);
    sd->npend += n;
  } else if (type == SF_TLS_HANDSHAKE) {
    if (n > HANDSHAKE_CAP - sd->nhs) n = HANDSHAKE_CAP - sd->nhs;
    if (grow(&sd->hs, &sd->caphs, sd->nhs + n) < 0) { sd->nomem = 1; return; }
    memcpy(sd->hs + sd->nhs, p, n);
    sd->nhs += n;
  }
}

/* The first bytes of direction d (up to HELLO_BYTES) into a new buffer. */
static uint8_t *head(sf_flows *t, const sf_flow *f, int d, size_t *n) {
  size_t len = sf_flow_stream_len(f, d);
  uint8_t *b;
  long long r;
  if (len > HELLO_BYTES) len = HELLO_BYTES;
  if (!(b = malloc(len ? len : 1))) return NULL;
  r = sf_flow_stream_read(t, f, d, 0, b, len);
  *n = r < 0 ? 0 : (size_t)r;
  return b;
}

sf_flow_tls *sf_flow_tls_open(sf_flows *t, const sf_flow *f, const sf_keylog *kl) {
  sf_flow_tls *x;
  uint8_t *h[2] = {NULL, NULL};
  size_t n[2] = {0, 0};
  int d, ok = 1;
  if (!sf_flow_is_tcp(f)) return NULL;
  for (d = 0; d < 2; d++)
    if (!(h[d] = head(t, f, d, &n[d]))) ok = 0;
  x = ok ? calloc(1, sizeof *x) : NULL;
  if (x) x->client = sf_tls_is_client_start(h[0], n[0]) ? 0
                   : sf_tls_is_client_start(h[1], n[1]) ? 1 : -1;
  if (x && x->client >= 0) {
    sf_tls_session_init(&x->s, kl, h[x->client], n[x->client], h[!x->client], n[!x->client]);
    for (d = 0; d < 2; d++)
      if ((x->side[d].w = malloc(sizeof *x->side[d].w)))
        sf_tls_dir_init(x->side[d].w, &x->s, d == x->client);
    if (!x->side[0].w || !x->side[1].w) x->client = -1;
  }
  free(h[0]);
  free(h[1]);
  if (x && x->client < 0) {
    sf_flow_tls_free(x);
    x = NULL;
  }
  return x;
}

void sf_flow_tls_free(sf_flow_tls *x) {
  int d;
  if (!x) return;
  for (d = 0; d < 2; d++) {
    if (x->side[d].w) sf_tls_dir_free(x->side[d].w);
    free(x->side[d].w);
    free(x->side[d].pend);
    free(x->side[d].hs);
  }
  free(x);
}

const sf_tls_session *sf_flow_tls_session(const sf_flow_tls *x) { return &x->s; }
int sf_flow_tls_client(const sf_flow_tls *x) { return x->client; }

/* Where the first gap starts (the walk stops there), UINT64_MAX when
   there is none. */
static uint64_t first_gap(const sf_flow *f, int d, uint64_t *glen) {
  size_t n;
  const sf_gap *g = sf_flow_gaps(f, d, &n);
  if (!n) return UINT64_MAX;
  *glen = g[0].len;
  return g[0].off;
}

/* Segments the flow table did not keep leave no gap in the stream: under
   encryption the next record fails to open, but in the plaintext
   handshake or at the end nothing shows it, so it is said here. */
static void note_dropped(tls_side *sd, uint64_t n) {
  snprintf(sd->cut, sizeof sd->cut, "%llu TCP segments of this direction were not kept "
           "(max_reassembly_buffer, the snap length, or data after a skipped gap): "
           "its plaintext may lack their records", (unsigned long long)n);
}

/* Feed the walker one more piece of ciphertext (or end the direction);
   -1 when the stream cannot be read back. */
static int feed_piece(sf_flows *t, const sf_flow *f, int d, sf_flow_tls *x) {
  tls_side *sd = &x->side[d];
  uint8_t *buf = x->piece;
  uint64_t len = sf_flow_stream_len(f, d), glen = 0, stop = first_gap(f, d, &glen);
  size_t want;
  long long r;
  if (stop != UINT64_MAX && sd->coff >= stop) {
    sf_tls_dir_gap(sd->w, glen);
    sd->done = 1;
    return 0;
  }
  if (stop > len) stop = len;
  if (sd->coff >= stop) {
    sf_tls_dir_end(sd->w);
    sd->done = 1;
    if (!sd->w->error && f->dir[d].dropped) note_dropped(sd, f->dir[d].dropped);
    return 0;
  }
  want = stop - sd->coff < PIECE ? (size_t)(stop - sd->coff) : PIECE;
  if ((r = sf_flow_stream_read(t, f, d, sd->coff, buf, want)) <= 0) return -1;
  sd->coff += (uint64_t)r;
  if (sf_tls_dir_feed(sd->w, buf, (size_t)r, sink, sd) < 0) sd->done = 1;
  return 0;
}

long long sf_flow_tls_read(sf_flows *t, const sf_flow *f, sf_flow_tls *x, int d,
                           uint8_t *dst, size_t n) {
  tls_side *sd = &x->side[d];
  size_t got = 0;
  sd->discard = dst == NULL;
  while (got < n) {
    size_t take = sd->npend - sd->pos;
    if (take) {
      if (take > n - got) take = n - got;
      if (dst) memcpy(dst + got, sd->pend + sd->pos, take);
      sd->pos += take;
      got += take;
      continue;
    }
    if (sd->nomem) return -1;
    if (sd->done || sd->w->error) break;
    if (feed_piece(t, f, d, x) < 0) return -1;
  }
  return (long long)got;
}

const char *sf_flow_tls_error(const sf_flow_tls *x, int d) {
  const tls_side *sd = &x->side[d];
  if (sd->nomem) return "not enough memory";
  return sd->w->error ? sd->w->error : sd->cut[0] ? sd->cut : NULL;
}

uint64_t sf_flow_tls_records(const sf_flow_tls *x, int d, uint64_t *decrypted) {
  *decrypted = x->side[d].w->decrypted;
  return x->side[d].w->records;
}

const uint8_t *sf_flow_tls_handshake(const sf_flow_tls *x, int d, size_t *n) {
  *n = x->side[d].nhs;
  return x->side[d].hs;
}
