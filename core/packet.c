/*
 * packet.c -- refcounted bytes and the layer index.
 *
 * Bytes are either borrowed (the host keeps them alive, e.g. a Lua string)
 * or owned by a refcounted sf_buf that several packets may share.  Any
 * change goes through sf_pkt_writable(), which copies once when shared.
 */
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static sf_buf *buf_new(size_t cap) {
  sf_buf *b = malloc(sizeof(sf_buf) + (cap ? cap : 1));
  if (b) {
    b->refs = 1;
    b->cap = cap;
  }
  return b;
}

static void buf_release(sf_buf *b) {
  if (b && --b->refs == 0) free(b);
}

void sf_pkt_init(sf_pkt *p) {
  memset(p, 0, offsetof(sf_pkt, inl));
  p->layers = p->inl;
  p->cap = SF_INLINE_LAYERS;
  p->linktype = 1;
  p->data = (const uint8_t *)"";
}

void sf_pkt_free(sf_pkt *p) {
  buf_release(p->buf);
  p->buf = NULL;
  if (p->layers != p->inl) free(p->layers);
  p->layers = p->inl;
  p->cap = SF_INLINE_LAYERS;
  p->nlayers = 0;
  p->data = (const uint8_t *)"";
  p->len = 0;
}

int sf_pkt_borrow(sf_pkt *p, const uint8_t *data, size_t len) {
  if (len > SF_MAX_LEN) return SF_E_TOOBIG;
  buf_release(p->buf);
  p->buf = NULL;
  p->data = data;
  p->len = len;
  p->nlayers = 0;
  p->flags = 0;
  return SF_OK;
}

static int reserve_layers(sf_pkt *p, size_t n) {
  sf_layer *nl;
  size_t cap;
  if (n <= p->cap) return SF_OK;
  if (n > SF_MAX_LAYERS) return SF_E_TOOBIG;
  cap = p->cap * 2 < n ? n : p->cap * 2;
  if (cap > SF_MAX_LAYERS) cap = SF_MAX_LAYERS;
  nl = malloc(cap * sizeof *nl);
  if (!nl) return SF_E_NOMEM;
  memcpy(nl, p->layers, p->nlayers * sizeof *nl);
  if (p->layers != p->inl) free(p->layers);
  p->layers = nl;
  p->cap = (uint16_t)cap;
  return SF_OK;
}

int sf_pkt_copy(sf_pkt *dst, const sf_pkt *src) {
  int rc;
  sf_pkt_init(dst);
  if ((rc = reserve_layers(dst, src->nlayers)) != SF_OK) return rc;
  memcpy(dst->layers, src->layers, src->nlayers * sizeof(sf_layer));
  dst->nlayers = src->nlayers;
  dst->flags = src->flags;
  dst->linktype = src->linktype;
  dst->time_ns = src->time_ns;
  dst->wirelen = src->wirelen;
  dst->data = src->data;
  dst->len = src->len;
  dst->buf = src->buf;
  if (dst->buf) dst->buf->refs++;
  return SF_OK;
}

/* Give p bytes of its own, with room for `extra` more. */
static int own_bytes(sf_pkt *p, size_t extra) {
  sf_buf *b;
  if (p->buf && p->buf->refs == 1 && p->len + extra <= p->buf->cap)
    return SF_OK;
  if (p->len + extra > SF_MAX_LEN) return SF_E_TOOBIG;
  b = buf_new(p->len + extra + 64);
  if (!b) return SF_E_NOMEM;
  memcpy(b->data, p->data, p->len);
  buf_release(p->buf);
  p->buf = b;
  p->data = b->data;
  return SF_OK;
}

int sf_pkt_writable(sf_pkt *p) { return own_bytes(p, 0); }

int sf_pkt_push_layer(sf_pkt *p, int proto, size_t off, size_t hlen,
                      size_t end, int flags) {
  sf_layer *l;
  if (reserve_layers(p, (size_t)p->nlayers + 1) != SF_OK) return SF_E_TOOBIG;
  l = &p->layers[p->nlayers++];
  l->proto = (uint16_t)proto;
  l->flags = (uint16_t)flags;
  l->off = (uint32_t)off;
  l->hlen = (uint32_t)hlen;
  l->end = (uint32_t)end;
  l->set = 0;
  return SF_OK;
}

int sf_pkt_new_layer(sf_pkt *p, int proto) {
  const sf_proto *pr = sf_proto_get(proto);
  int rc;
  if (!pr) return SF_E_VALUE;
  sf_pkt_free(p);
  if ((rc = own_bytes(p, pr->minlen)) != SF_OK) return rc;
  memcpy(p->buf->data, pr->tmpl, pr->minlen);
  p->len = pr->minlen;
  p->flags = SF_P_PARSED | SF_P_DIRTY;
  return sf_pkt_push_layer(p, proto, 0, pr->minlen, pr->minlen, SF_L_BUILT);
}

/* a / b: b's layers become the payload of a's innermost layers. */
int sf_pkt_concat(sf_pkt *dst, const sf_pkt *a, const sf_pkt *b) {
  size_t n = (size_t)a->nlayers + b->nlayers, i;
  sf_buf *buf;
  int rc;
  sf_pkt_init(dst);
  if (a->len + b->len > SF_MAX_LEN) return SF_E_TOOBIG;
  if ((rc = reserve_layers(dst, n)) != SF_OK) return rc;
  buf = buf_new(a->len + b->len + 64);
  if (!buf) return SF_E_NOMEM;
  memcpy(buf->data, a->data, a->len);
  memcpy(buf->data + a->len, b->data, b->len);
  dst->buf = buf;
  dst->data = buf->data;
  dst->len = a->len + b->len;
  for (i = 0; i < a->nlayers; i++) {
    dst->layers[i] = a->layers[i];
    if (dst->layers[i].end == a->len) dst->layers[i].end = (uint32_t)dst->len;
  }
  for (i = 0; i < b->nlayers; i++) {
    sf_layer *l = &dst->layers[a->nlayers + i];
    *l = b->layers[i];
    l->off += (uint32_t)a->len;
    l->end += (uint32_t)a->len;
  }
  dst->nlayers = (uint16_t)n;
  dst->flags = SF_P_PARSED | SF_P_DIRTY;
  dst->linktype = a->linktype;
  dst->time_ns = a->time_ns;
  return SF_OK;
}

/*
 * Replace bytes [off, off+oldlen) of layer li's header with newlen bytes,
 * moving everything behind them and adjusting every layer's offsets.
 */
int sf_pkt_splice(sf_pkt *p, int li, size_t off, size_t oldlen,
                  const uint8_t *data, size_t newlen) {
  size_t tail, i;
  uint8_t *d;
  long delta = (long)newlen - (long)oldlen;
  int rc;
  if ((rc = own_bytes(p, newlen > oldlen ? newlen - oldlen : 0)) != SF_OK)
    return rc;
  d = p->buf->data;
  tail = p->len - (off + oldlen);
  memmove(d + off + newlen, d + off + oldlen, tail);
  if (data) memcpy(d + off, data, newlen);
  else memset(d + off, 0, newlen);
  p->len = (size_t)((long)p->len + delta);
  for (i = 0; i < p->nlayers; i++) {
    sf_layer *l = &p->layers[i];
    if ((int)i == li) {
      l->hlen = (uint32_t)((long)l->hlen + delta);
      l->end = (uint32_t)((long)l->end + delta);
    } else if (l->off >= off + oldlen && (int)i > li) {
      l->off = (uint32_t)((long)l->off + delta);
      l->end = (uint32_t)((long)l->end + delta);
    } else if (l->end >= off + oldlen) {
      l->end = (uint32_t)((long)l->end + delta);  /* an enclosing layer */
    }
  }
  p->flags |= SF_P_DIRTY;
  return SF_OK;
}
