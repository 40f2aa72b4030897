/*
 * packet.c -- refcounted bytes and the layer index.
 *
 * Bytes are borrowed (the host keeps them alive, e.g. a Lua string), held
 * in the packet's inline store (memory the host allocated along with the
 * packet object, so small built packets need no malloc), or owned by a
 * refcounted sf_buf that several packets may share.  Every change goes
 * through own_bytes(), which copies once when the bytes are not p's own.
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

void sf_pkt_set_store(sf_pkt *p, uint8_t *store, size_t cap) {
  p->store = store;
  p->store_cap = cap;
}

int sf_pkt_on_heap(const sf_pkt *p) {
  return p->buf != NULL || p->layers != p->inl;
}

static int in_store(const sf_pkt *p) {
  return p->store && p->data == p->store;
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

/* Forget bytes, layers and metadata, keeping the store: a fresh packet. */
static void pkt_reset(sf_pkt *p) {
  sf_pkt_free(p);
  p->flags = 0;
  p->linktype = 1;
  p->time_ns = 0;
  p->wirelen = 0;
  p->frame = 0;
  p->first = 0;
}

int sf_pkt_borrow(sf_pkt *p, const uint8_t *data, size_t len) {
  if (len > SF_MAX_LEN) return SF_E_TOOBIG;
  buf_release(p->buf);
  p->buf = NULL;
  p->data = data;
  p->len = len;
  p->nlayers = 0;
  p->flags = 0;
  p->first = 0;  /* new bytes: parsed by their link type unless told */
  return SF_OK;
}

static int reserve_layers(sf_pkt *p, size_t n) {
  sf_layer *nl;
  size_t cap;
  if (n <= p->cap) return SF_OK;
  if (n > SF_MAX_LAYERS) return SF_E_DEPTH;
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

/* Give p bytes of its own with room for `extra` more: in place when they
   are its own already, else in the store when they fit, else on the heap. */
static int own_bytes(sf_pkt *p, size_t extra) {
  size_t need = p->len + extra;
  sf_buf *b;
  if (p->buf && p->buf->refs == 1 && need <= p->buf->cap) return SF_OK;
  if (in_store(p) && need <= p->store_cap) return SF_OK;
  if (need > SF_MAX_LEN) return SF_E_TOOBIG;
  if (p->store && need <= p->store_cap) {
    memmove(p->store, p->data, p->len);
    buf_release(p->buf);
    p->buf = NULL;
    p->data = p->store;
    return SF_OK;
  }
  b = buf_new(need + 64);
  if (!b) return SF_E_NOMEM;
  memcpy(b->data, p->data, p->len);
  buf_release(p->buf);
  p->buf = b;
  p->data = b->data;
  return SF_OK;
}

int sf_pkt_writable(sf_pkt *p) { return own_bytes(p, 0); }

/* dst gets src's layers and metadata; the bytes are shared when they are
   refcounted or borrowed, copied when they live in src's own store. */
int sf_pkt_copy(sf_pkt *dst, const sf_pkt *src) {
  int rc;
  pkt_reset(dst);
  if ((rc = reserve_layers(dst, src->nlayers)) != SF_OK) return rc;
  memcpy(dst->layers, src->layers, src->nlayers * sizeof(sf_layer));
  dst->nlayers = src->nlayers;
  dst->flags = src->flags & (uint16_t)~SF_P_HOST;
  dst->linktype = src->linktype;
  dst->time_ns = src->time_ns;
  dst->wirelen = src->wirelen;
  dst->interface_id = src->interface_id;
  dst->frame = src->frame;
  dst->first = src->first;
  dst->data = src->data;
  dst->len = src->len;
  dst->buf = src->buf;
  if (dst->buf) dst->buf->refs++;
  return in_store(src) ? own_bytes(dst, 0) : SF_OK;
}

int sf_pkt_push_layer(sf_pkt *p, int proto, size_t off, size_t hlen,
                      size_t end, int flags) {
  sf_layer *l;
  int rc = reserve_layers(p, (size_t)p->nlayers + 1);
  if (rc != SF_OK) return rc;
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
  pkt_reset(p);
  if ((rc = own_bytes(p, (size_t)pr->minlen + pr->trailer)) != SF_OK) return rc;
  memcpy((uint8_t *)p->data, pr->tmpl, pr->minlen);
  memset((uint8_t *)p->data + pr->minlen, 0, pr->trailer);  /* filled at build */
  p->len = (size_t)pr->minlen + pr->trailer;
  p->flags = SF_P_PARSED | SF_P_DIRTY;
  return sf_pkt_push_layer(p, proto, 0, pr->minlen, p->len, SF_L_BUILT);
}

/* Where a payload stacked on a goes: at its end, but in front of the
   trailers (FCS) of the layers that end there, outermost first. */
static size_t payload_at(const sf_pkt *a) {
  size_t at = a->len, i;
  for (i = 0; i < a->nlayers; i++) {
    size_t t = sf_proto_get(a->layers[i].proto)->trailer;
    if (t && a->layers[i].end == at && at - a->layers[i].off >= t) at -= t;
  }
  return at;
}

/* a / b: b's layers become the payload of a's innermost layers. */
int sf_pkt_concat(sf_pkt *dst, const sf_pkt *a, const sf_pkt *b) {
  size_t n = (size_t)a->nlayers + b->nlayers, i, at;
  uint8_t *d;
  int rc;
  pkt_reset(dst);
  if (a->len + b->len > SF_MAX_LEN) return SF_E_TOOBIG;
  if ((rc = reserve_layers(dst, n)) != SF_OK) return rc;
  if ((rc = own_bytes(dst, a->len + b->len)) != SF_OK) return rc;
  d = (uint8_t *)dst->data;
  at = payload_at(a);
  memcpy(d, a->data, at);
  memcpy(d + at, b->data, b->len);
  memcpy(d + at + b->len, a->data + at, a->len - at);
  dst->len = a->len + b->len;
  for (i = 0; i < a->nlayers; i++) {  /* padding stays outside */
    sf_layer *l = &dst->layers[i];
    *l = a->layers[i];
    if (l->end > at || (l->end == at && !(b->nlayers && b->layers[0].proto == SF_PADDING)))
      l->end += (uint32_t)b->len;
  }
  for (i = 0; i < b->nlayers; i++) {
    sf_layer *l = &dst->layers[a->nlayers + i];
    *l = b->layers[i];
    l->off += (uint32_t)at;
    l->end += (uint32_t)at;
  }
  dst->nlayers = (uint16_t)n;
  dst->flags = SF_P_PARSED | SF_P_DIRTY;
  dst->linktype = a->linktype;
  dst->time_ns = a->time_ns;
  return SF_OK;
}

/*
 * Replace bytes [off, off+oldlen) of layer li's header with newlen bytes
 * (zeros when data is NULL), moving everything behind them and adjusting
 * every layer's offsets.
 */
int sf_pkt_splice(sf_pkt *p, int li, size_t off, size_t oldlen,
                  const uint8_t *data, size_t newlen) {
  size_t tail, i;
  uint8_t *d;
  long delta = (long)newlen - (long)oldlen;
  int rc;
  if ((rc = own_bytes(p, newlen > oldlen ? newlen - oldlen : 0)) != SF_OK)
    return rc;
  d = (uint8_t *)p->data;
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
