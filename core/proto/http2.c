/*
 * http2.c -- HTTP/2 (RFC 9113): the client preface and the ten frame
 * types, with the class and field names of Scapy's contrib h2
 * (scapy.contrib.http2: H2Frame's len type flags reserved stream_id,
 * H2DataFrame's data, H2HeadersFrame's padlen exclusive stream_dependency
 * weight hdrs padding, ...); HPACK (RFC 7541) decoded and encoded by
 * libnghttp2, the reference implementation curl uses.
 *
 * One frame is one layer: its nine-byte header and its payload, since
 * what the payload holds depends on the header's flags (PADDED brings a
 * pad length and padding, PRIORITY a dependency and weight).  Scapy stacks
 * H2Frame()/H2DataFrame(); here H2DataFrame{flags="ES", stream_id=1,
 * data="..."} is the same bytes.  H2Frame is a frame of a type RFC 9113
 * does not define (its payload follows as Raw).  Frames follow each other
 * in a segment, each a layer; one longer than the segment keeps what is
 * there.  The payload's fields are laid out in order (sf_dyn), and a set
 * writes the frame again, so a flag brings its fields in and the lengths
 * (len, padlen) follow unless the user set them.
 *
 * Header blocks (`hdrs`) read as a list of {name, value} through the
 * h2_headers codec (stdlib/stackforge/codecs/http2.lua), which calls this
 * file's engine codecs: "hpack" (one block, a fresh decoder: a block
 * that refers to an earlier block's table entries stays bytes) and
 * "hpack_seq" (the blocks of one direction of a connection in order, one
 * decoder for them all, as stream helpers need).  Their text is binary:
 * names and values as string.pack(">s4s4").
 *
 * Detection: the client preface on any TCP port, then frames; frames by
 * their sanity (a known type, its flags, stream id and length rules, and
 * the frames after it the same) on any TCP port: h2c with prior
 * knowledge, and bytes decrypted from TLS; after an HTTP/1 101 response
 * (h2c upgrade), the "http.upgrade" table's SETTINGS frame.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

#include "common.h"

#define HDR 9
#define MAX_SANE 16384       /* SETTINGS_MAX_FRAME_SIZE's default */
#define MAX_CHAIN 64         /* frames checked by the heuristic */

enum { T_DATA, T_HEADERS, T_PRIORITY, T_RST, T_SETTINGS, T_PUSH, T_PING,
       T_GOAWAY, T_WINDOW, T_CONT, NTYPES };

#define FL_ES 0x01
#define FL_ACK 0x01
#define FL_EH 0x04
#define FL_P 0x08
#define FL_PRIO 0x20

enum { C_PAD = 1, C_PRIO };  /* conditions: the flags that bring fields in */
enum { F_LEN, F_TYPE, F_FLAGS, F_RESERVED, F_STREAM, F_FIRST };

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

static uint32_t rd24(const uint8_t *p) {
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t rd31(const uint8_t *p) {
  return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) &
         0x7fffffffu;
}

/* ---- value names ---------------------------------------------------------- */

static const sf_enum frame_types[] = {
  {0, "DataFrm"}, {1, "HdrsFrm"}, {2, "PrioFrm"}, {3, "RstFrm"},
  {4, "SetFrm"}, {5, "PushFrm"}, {6, "PingFrm"}, {7, "GoawayFrm"},
  {8, "WinFrm"}, {9, "ContFrm"}, {0, NULL}
};

static const sf_enum error_codes[] = {
  {0, "No error"}, {1, "Protocol error"}, {2, "Internal error"},
  {3, "Flow control error"}, {4, "Settings timeout"}, {5, "Stream closed"},
  {6, "Frame size error"}, {7, "Refused stream"}, {8, "Cancel"},
  {9, "Compression error"}, {10, "Control error"}, {11, "Enhance your calm"},
  {12, "Inadequate security"}, {13, "HTTP/1.1 required"}, {0, NULL}
};

/* Scapy's short flag names, bit by bit */
static const sf_enum data_flags[] = {{0, "ES"}, {3, "P"}, {0, NULL}};
static const sf_enum hdrs_flags[] = {{0, "ES"}, {2, "EH"}, {3, "P"}, {5, "PR"}, {0, NULL}};
static const sf_enum ack_flags[] = {{0, "A"}, {0, NULL}};
static const sf_enum push_flags[] = {{2, "EH"}, {3, "P"}, {0, NULL}};
static const sf_enum cont_flags[] = {{2, "EH"}, {0, NULL}};

/* ---- fields ------------------------------------------------------------------- */

/* the frame header; a type that defines no flag has them as a number */
#define FRAME_HEAD_F(type, flags_field)                                   \
  UINTF("len", 0, 24, 0, SF_FF_AUTO, NULL, 0),                            \
  UINTF("type", 24, 8, type, 0, frame_types, 0),                          \
  flags_field,                                                             \
  UINTF("reserved", 40, 1, 0, 0, NULL, 0),                                \
  UINTF("stream_id", 41, 31, 0, 0, NULL, 0)
#define FRAME_HEAD(type, flagnames)                                       \
  FRAME_HEAD_F(type, FLAGF("flags", 32, 8, 0, flagnames, 0))
#define FRAME_HEAD0(type)                                                 \
  FRAME_HEAD_F(type, UINTF("flags", 32, 8, 0, SF_FF_HEX, NULL, 0))

/* Payload fields are laid out in order from byte 9 (bitoff unused);
   a bytes field called "padding" lies at the end, the others reach it. */
#define PADLEN UINTF("padlen", 0, 8, 0, SF_FF_AUTO, NULL, C_PAD)
#define PADDING BYTESF("padding", 0, 0, NULL, NULL, C_PAD)
#define PRIORITY(c)                                                       \
  UINTF("exclusive", 0, 1, 0, 0, NULL, c),                                \
  UINTF("stream_dependency", 0, 31, 0, 0, NULL, c),                       \
  UINTF("weight", 0, 8, 0, 0, NULL, c)

static const sf_field data_fields[] = {
  FRAME_HEAD(0, data_flags), PADLEN, BYTESF("data", 0, 0, NULL, NULL, 0), PADDING
};
static const sf_field hdrs_fields[] = {
  FRAME_HEAD(1, hdrs_flags), PADLEN, PRIORITY(C_PRIO),
  BYTESF("hdrs", 0, 0, "h2_headers", NULL, 0), PADDING
};
static const sf_field prio_fields[] = {FRAME_HEAD0(2), PRIORITY(0)};
static const sf_field rst_fields[] = {
  FRAME_HEAD0(3), UINTF("error", 0, 32, 0, 0, error_codes, 0)
};
static const sf_field set_fields[] = {
  FRAME_HEAD(4, ack_flags), BYTESF("settings", 0, 0, "h2_settings", NULL, 0)
};
static const sf_field push_fields[] = {
  FRAME_HEAD(5, push_flags), PADLEN, UINTF("reserved2", 0, 1, 0, 0, NULL, 0),
  UINTF("promised_stream_id", 0, 31, 0, 0, NULL, 0),
  BYTESF("hdrs", 0, 0, "h2_headers", NULL, 0), PADDING
};
static const sf_field ping_fields[] = {
  FRAME_HEAD(6, ack_flags), UINTF("opaque", 0, 64, 0, SF_FF_HEX, NULL, 0)
};
static const sf_field goaway_fields[] = {
  FRAME_HEAD0(7), UINTF("reserved2", 0, 1, 0, 0, NULL, 0),
  UINTF("last_stream_id", 0, 31, 0, 0, NULL, 0),
  UINTF("error", 0, 32, 0, 0, error_codes, 0),
  BYTESF("additional_data", 0, 0, NULL, NULL, 0)
};
static const sf_field window_fields[] = {
  FRAME_HEAD0(8), UINTF("reserved2", 0, 1, 0, 0, NULL, 0),
  UINTF("win_size_incr", 0, 31, 0, 0, NULL, 0)
};
static const sf_field cont_fields[] = {
  FRAME_HEAD(9, cont_flags), BYTESF("hdrs", 0, 0, "h2_headers", NULL, 0)
};
static const sf_field unknown_fields[] = {FRAME_HEAD0(10)};

/* ---- layout -------------------------------------------------------------------- */

static int holds(const sf_field *f, unsigned flags) {
  if (f->cond == C_PAD) return (flags & FL_P) != 0;
  if (f->cond == C_PRIO) return (flags & FL_PRIO) != 0;
  return 1;
}

static int is_padding(const sf_field *f) { return strcmp(f->name, "padding") == 0; }

/* Where the payload's data ends and its padding starts: before padlen
   bytes of padding when the frame is whole (or, while it is built, its
   len not filled yet), at the bytes' end when the frame is cut. */
static size_t data_end(const uint8_t *h, size_t n, size_t start) {
  size_t total = HDR + (size_t)rd24(h), pad = 0;
  if ((h[4] & FL_P) && n > HDR && h[3] != T_SETTINGS) pad = h[HDR];
  if (total > n) return n;
  return n - start >= pad ? n - pad : start;
}

static size_t h2_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                        sf_span *sp, int build) {
  size_t bit = HDR * 8, end;
  int i;
  (void)build;
  if (n < HDR) return 0;
  for (i = 0; i < F_FIRST; i++) {
    sp[i].bitoff = pr->fields[i].bitoff;
    sp[i].bits = pr->fields[i].bits;
  }
  for (i = F_FIRST; i < pr->nfields; i++) {
    const sf_field *f = &pr->fields[i];
    sp[i].bits = SF_ABSENT;
    if (!holds(f, h[4])) continue;
    if (f->type != SF_T_BYTES) {
      if (bit + f->bits > n * 8) continue;  /* cut short */
      sp[i].bitoff = (uint32_t)bit;
      sp[i].bits = f->bits;
      bit += f->bits;
      continue;
    }
    end = data_end(h, n, bit / 8);
    if (is_padding(f)) {
      if (HDR + (size_t)rd24(h) > n) continue;  /* cut: the padding is not here */
      sp[i].bitoff = (uint32_t)(end * 8);
      sp[i].bits = (uint32_t)((n - end) * 8);
    } else {
      sp[i].bitoff = (uint32_t)bit;
      sp[i].bits = bit / 8 < end ? (uint32_t)((end - bit / 8) * 8) : 0;
      bit = end * 8 > bit ? end * 8 : bit;
    }
  }
  return n;
}

/* ---- writing a frame again ----------------------------------------------------- */

typedef struct frame_out {
  uint8_t *d;
  size_t len, cap;
} frame_out;

static int grow(frame_out *o, size_t more) {
  uint8_t *d;
  size_t cap;
  if (o->len + more <= o->cap) return 1;
  cap = (o->len + more) * 2 + 32;
  if (!(d = realloc(o->d, cap))) return 0;
  memset(d + o->cap, 0, cap - o->cap);
  o->d = d;
  o->cap = cap;
  return 1;
}

/* The field's value after the change: the new one, the old, the default. */
static void old_or_new(const sf_proto *pr, const uint8_t *h, const sf_span *sp,
                       int i, int fi, const sf_val *v, sf_val *out) {
  const sf_field *f = &pr->fields[i];
  out->u = f->def;
  out->p = (const uint8_t *)"";
  out->n = 0;
  if (i == fi) {
    if (v) *out = *v;
  } else if (sp[i].bits != SF_ABSENT) {
    if (f->type == SF_T_BYTES) {
      out->p = h + sp[i].bitoff / 8;
      out->n = sp[i].bits / 8;
    } else {
      out->u = sf_getbits(h, sp[i].bitoff, sp[i].bits);
    }
  }
}

static int h2_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  sf_span sp[SF_MAX_FIELDS];
  frame_out o = {NULL, 0, 0};
  size_t bit = 0, padlen_at = 0, pad = 0;
  unsigned flags;
  int i, rc, has_padlen = 0;
  sf_val x;
  if (!h2_layout(pr, h, l->hlen, sp, 1)) return SF_E_VALUE;
  old_or_new(pr, h, sp, F_FLAGS, fi, v, &x);
  flags = (unsigned)x.u;
  if (!grow(&o, HDR)) return SF_E_NOMEM;
  o.len = HDR;
  for (i = 0; i < pr->nfields; i++) {
    const sf_field *f = &pr->fields[i];
    if (i >= F_FIRST && !holds(f, flags)) continue;
    old_or_new(pr, h, sp, i, fi, v, &x);
    if (f->type == SF_T_BYTES) {
      if (!grow(&o, x.n)) { free(o.d); return SF_E_NOMEM; }
      memcpy(o.d + o.len, x.p, x.n);
      o.len += x.n;
      bit = o.len * 8;
      if (is_padding(f)) pad = x.n;
      continue;
    }
    if (i < F_FIRST) {
      sf_setbits(o.d, f->bitoff, f->bits, x.u);
      continue;
    }
    if (!grow(&o, (f->bits + 7) / 8 + 1)) { free(o.d); return SF_E_NOMEM; }
    if (bit < HDR * 8) bit = HDR * 8;
    if (strcmp(f->name, "padlen") == 0) {
      padlen_at = bit / 8;
      has_padlen = !(fi == i || sf_isset(p, li, i));
    }
    sf_setbits(o.d, (unsigned)bit, f->bits, x.u);
    bit += f->bits;
    o.len = (bit + 7) / 8;
  }
  if (o.len < HDR) o.len = HDR;
  if (has_padlen && padlen_at) o.d[padlen_at] = (uint8_t)(pad > 255 ? 255 : pad);
  if (fi != F_LEN && !sf_isset(p, li, F_LEN)) sf_setbits(o.d, 0, 24, o.len - HDR);
  rc = o.len - HDR > 0xffffff ? SF_E_TOOBIG : sf_pkt_splice(p, li, l->off, l->hlen, o.d, o.len);
  free(o.d);
  return rc;
}

/* ---- detection -------------------------------------------------------------------- */

static const uint8_t allowed_flags[NTYPES] = {
  FL_ES | FL_P, FL_ES | FL_EH | FL_P | FL_PRIO, 0, 0, FL_ACK,
  FL_EH | FL_P, FL_ACK, 0, 0, FL_EH
};

/* Does a frame header at h (n bytes) keep RFC 9113's rules: a known type,
   its flags only, the stream id its type needs, a length its type allows
   (up to the default maximum)? */
static int sane_header(const uint8_t *h, size_t n) {
  uint32_t len, sid;
  unsigned t;
  if (n < HDR) return 0;
  len = rd24(h);
  t = h[3];
  sid = rd31(h + 5);
  if (t >= NTYPES || len > MAX_SANE || (h[4] & ~allowed_flags[t]) || (h[5] & 0x80))
    return 0;
  switch (t) {
    case T_SETTINGS: return sid == 0 && len % 6 == 0 && (!(h[4] & FL_ACK) || len == 0);
    case T_PING: return sid == 0 && len == 8;
    case T_GOAWAY: return sid == 0 && len >= 8;
    case T_WINDOW: return len == 4;
    case T_PRIORITY: return sid != 0 && len == 5;
    case T_RST: return sid != 0 && len == 4;
    case T_PUSH: return sid != 0 && len >= 4;
    default: return sid != 0;  /* DATA, HEADERS, CONTINUATION */
  }
}

/* Frames back to back to the bytes' end (the last may run past it). */
static int sane_chain(const uint8_t *h, size_t n) {
  size_t at = 0;
  int k;
  for (k = 0; k < MAX_CHAIN && at < n; k++) {
    if (!sane_header(h + at, n - at)) return 0;
    at += HDR + rd24(h + at);
  }
  return 1;
}

static int id_type[NTYPES], id_unknown = -1, id_preface = -1;

static int frame_proto(const uint8_t *h, size_t n) {
  if (n < HDR) return -2;
  return h[3] < NTYPES ? id_type[h[3]] : id_unknown;
}

static int is_preface(const uint8_t *h, size_t n) {
  return n >= PREFACE_LEN && memcmp(h, preface, PREFACE_LEN) == 0;
}

static int h2_heur(const sf_pkt *p, int li, void *ud) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  (void)ud;
  if (is_preface(h, n)) return id_preface;
  return n >= HDR && sane_chain(h, n) ? frame_proto(h, n) : -1;
}

/* After a 101 response: the server's SETTINGS frame. */
static int upgrade_accept(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return n >= HDR && h[3] == T_SETTINGS && sane_header(h, n);
}

/* ---- hooks of every frame ------------------------------------------------------------ */

static size_t frame_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t total;
  (void)p;
  if (n < HDR) return 0;
  total = HDR + (size_t)rd24(h);
  return total < n ? total : n;
}

/* The next frame, when the bytes after this one start a sane one;
   H2Frame's payload (a type RFC 9113 does not define) is Raw. */
static int frame_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t pos = l->off + l->hlen;
  if (l->proto == (unsigned)id_unknown || pos >= l->end) return -2;
  return sane_header(p->data + pos, l->end - pos) ? frame_proto(p->data + pos, l->end - pos)
                                                  : -2;
}

static size_t unknown_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= HDR ? HDR : 0;
}

/* A built frame's len: its payload's length (a set keeps it already;
   stacking Raw after an H2Frame does not). */
static void unknown_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, F_LEN, l->end - l->off - HDR);
}

/* ---- the preface ---------------------------------------------------------------------- */

static const sf_field preface_fields[] = {
  {"magic", SF_T_BYTES, 0, 0, 0, 0, PREFACE_LEN * 8, 0, NULL, NULL, "text", NULL},
};

static void preface_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 0;
  *len = hlen;
}

static size_t preface_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return is_preface(h, n) ? PREFACE_LEN : 0;
}

static int preface_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t pos = l->off + l->hlen;
  if (pos >= l->end || !sane_header(p->data + pos, l->end - pos)) return -2;
  return frame_proto(p->data + pos, l->end - pos);
}

static sf_proto preface_pr = {
  .name = "H2Preface", .display = "HTTP/2 Preface", .kind = "Http2Preface",
  .fields = preface_fields, .nfields = NFIELDS(preface_fields), .minlen = PREFACE_LEN,
  .ws = "http2", .hdr_len = preface_len, .next = preface_next, .var = preface_var,
  .deftmpl = (const uint8_t *)preface,
};

/* ---- the frames ------------------------------------------------------------------------- */

static const sf_dyn h2_dyn = {.layout = h2_layout, .set = h2_set};

#define WS_HEAD                                                            \
  WS("http2.length", "len"), WS("http2.type", "type"),                    \
  WSX("http2.flags", "flags", 2), WS("http2.streamid", "stream_id")
#define WS_PAD WS("http2.pad_length", "padlen"), WS("http2.padding", "padding")
#define WS_PRIO                                                            \
  WS("http2.exclusive", "exclusive"),                                      \
  WS("http2.stream_dependency", "stream_dependency"),                      \
  WS("http2.headers.weight", "weight")

static const sf_wsfield data_pr_ws[] = {WS_HEAD, WS_PAD, WS("http2.data.data", "data"), WSEND};
static const sf_wsfield hdrs_pr_ws[] = {WS_HEAD, WS_PAD, WS_PRIO, WSEND};
static const sf_wsfield prio_pr_ws[] = {WS_HEAD, WS_PRIO, WSEND};
static const sf_wsfield rst_pr_ws[] = {WS_HEAD, WS("http2.rst_stream.error", "error"), WSEND};
static const sf_wsfield set_pr_ws[] = {WS_HEAD, WSEND};
static const sf_wsfield push_pr_ws[] = {
  WS_HEAD, WS_PAD, WS("http2.push_promise.promised_stream_id", "promised_stream_id"), WSEND
};
static const sf_wsfield ping_pr_ws[] = {WS_HEAD, WS("http2.ping", "opaque"), WSEND};
static const sf_wsfield goaway_pr_ws[] = {
  WS_HEAD, WS("http2.goaway.last_stream_id", "last_stream_id"),
  WS("http2.goaway.error", "error"), WS("http2.goaway.addata", "additional_data"), WSEND
};
static const sf_wsfield window_pr_ws[] = {
  WS_HEAD, WS("http2.window_update.window_size_increment", "win_size_incr"), WSEND
};
static const sf_wsfield cont_pr_ws[] = {WS_HEAD, WSEND};
static const sf_wsfield unknown_ws[] = {WS_HEAD, WSEND};

#define WSNAME(var) var##_ws
#define FRAME(var, nm, disp, knd, flds, t, size)                           \
  static const uint8_t var##_tmpl[HDR + size] = {0, 0, size, t};          \
  static sf_proto var = {                                                  \
    .name = nm, .display = disp, .kind = knd, .fields = flds,              \
    .nfields = NFIELDS(flds), .minlen = HDR + size, .ws = "http2",         \
    .ws_fields = WSNAME(var), .hdr_len = frame_len, .next = frame_next,    \
    .dyn = &h2_dyn, .deftmpl = var##_tmpl,                                 \
  }

/* the fixed payloads' sizes are in the templates: a built frame has them */
FRAME(data_pr, "H2DataFrame", "HTTP/2 DATA", "Http2Data", data_fields, 0, 0);
FRAME(hdrs_pr, "H2HeadersFrame", "HTTP/2 HEADERS", "Http2Headers", hdrs_fields, 1, 0);
FRAME(prio_pr, "H2PriorityFrame", "HTTP/2 PRIORITY", "Http2Priority", prio_fields, 2, 5);
FRAME(rst_pr, "H2ResetFrame", "HTTP/2 RST_STREAM", "Http2Reset", rst_fields, 3, 4);
FRAME(set_pr, "H2SettingsFrame", "HTTP/2 SETTINGS", "Http2Settings", set_fields, 4, 0);
FRAME(push_pr, "H2PushPromiseFrame", "HTTP/2 PUSH_PROMISE", "Http2PushPromise", push_fields, 5, 4);
FRAME(ping_pr, "H2PingFrame", "HTTP/2 PING", "Http2Ping", ping_fields, 6, 8);
FRAME(goaway_pr, "H2GoAwayFrame", "HTTP/2 GOAWAY", "Http2GoAway", goaway_fields, 7, 8);
FRAME(window_pr, "H2WindowUpdateFrame", "HTTP/2 WINDOW_UPDATE", "Http2WindowUpdate",
      window_fields, 8, 4);
FRAME(cont_pr, "H2ContinuationFrame", "HTTP/2 CONTINUATION", "Http2Continuation",
      cont_fields, 9, 0);

static const uint8_t unknown_tmpl[HDR] = {0, 0, 0, 10, 0, 0, 0, 0, 0};
static sf_proto unknown_pr = {
  .name = "H2Frame", .display = "HTTP/2 Frame", .kind = "Http2",
  .fields = unknown_fields, .nfields = NFIELDS(unknown_fields), .minlen = HDR,
  .ws = "http2", .ws_fields = unknown_ws, .hdr_len = unknown_len, .next = frame_next,
  .fixup = unknown_fixup, .deftmpl = unknown_tmpl,
};

static const sf_place upgrade_places[] = {
  {"http.upgrade", 2, SF_PL_PARSE_ONLY, upgrade_accept}, {NULL, 0, 0, NULL}
};

/* ---- how Scapy prints it ---------------------------------------------------------------- */

/* Scapy 2.5 (load_layer("http") brings scapy.contrib.http2) makes one
   H2Frame of the first frame and Padding of the frames after it, and
   only where its HTTP layer hands the bytes on as frames: on TCP ports
   80 and 8080 when every byte to the segment's end is whole frames (its
   HTTP.dispatch_hook), or after a message saying "Connection: Upgrade".
   Elsewhere the bytes are Scapy's Raw ("HTTP / Raw" on its ports). */
static int is_h2(const sf_pkt *p, int li) {
  int id = p->layers[li].proto, t;
  if (id == id_unknown || id == id_preface) return 1;
  for (t = 0; t < NTYPES; t++)
    if (id == id_type[t]) return 1;
  return 0;
}

/* the first HTTP/2 layer of the run li is in */
static int run_start(const sf_pkt *p, int li) {
  while (li > 0 && is_h2(p, li - 1)) li--;
  return li;
}

/* HTTP.dispatch_hook's test: whole frames of known types to the end */
static int whole_frames(const uint8_t *h, size_t n) {
  while (n) {
    size_t len;
    if (n < HDR || h[3] >= NTYPES || (h[5] & 0x80)) return 0;
    len = HDR + ((size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2]);
    if (len > n) return 0;
    h += len, n -= len;
  }
  return 1;
}

static int upgrading(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi = sf_field_lookup(pr, "Connection");
  size_t i;
  sf_val v;
  if (fi < 0 || (fi = sf_field_resolve(p, li, fi)) < 0 || sf_field_get(p, li, fi, &v) != SF_OK)
    return 0;
  for (i = 0; i + 7 <= v.n; i++)
    if (memcmp(v.p + i, "Upgrade", 7) == 0) return 1;
  return 0;
}

/* Does Scapy read the run starting at layer first as frames? */
static int scapy_frames(const sf_pkt *p, int first) {
  int below = first - 1;
  const sf_layer *l = &p->layers[first];
  if (below < 0) return 0;
  if (strncmp(sf_proto_get(p->layers[below].proto)->name, "HTTP", 4) == 0)
    return upgrading(p, below);
  return (on_port(p, below, 80) || on_port(p, below, 8080)) &&
         whole_frames(p->data + l->off, p->layers[below].end - l->off);
}

/* Scapy's class of the first frame's payload, by type and flags */
static const char *frame_class(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  static const char *const plain[NTYPES] = {
    "H2DataFrame", "H2HeadersFrame", "H2PriorityFrame", "H2ResetFrame", "H2SettingsFrame",
    "H2PushPromiseFrame", "H2PingFrame", "H2GoAwayFrame", "H2WindowUpdateFrame",
    "H2ContinuationFrame"
  };
  int padded = h[4] & 0x08, prio = h[4] & 0x20;
  if (h[3] == 0 && padded) return "H2PaddedDataFrame";
  if (h[3] == 1 && padded) return prio ? "H2PaddedPriorityHeadersFrame" : "H2PaddedHeadersFrame";
  if (h[3] == 1 && prio) return "H2PriorityHeadersFrame";
  if (h[3] == 5 && padded) return "H2PaddedPushPromiseFrame";
  return plain[h[3]];
}

/* Is layer li the first frame, as Scapy's H2Frame with a payload? */
static int framed(const sf_pkt *p, int li) {
  const uint8_t *h = p->data + p->layers[li].off;
  return li == run_start(p, li) && p->layers[li].proto != id_preface &&
         p->layers[li].hlen >= HDR && h[3] < NTYPES && (h[0] | h[1] | h[2]) &&
         scapy_frames(p, li);
}

static const char *h2_added(const sf_pkt *p, int li, int after) {
  return !after && framed(p, li) ? "H2Frame" : NULL;
}

static const char *h2_cls(const sf_pkt *p, int li) {
  int first = run_start(p, li);
  if (!scapy_frames(p, first)) return scapy_payload_class(p, first - 1);
  if (li == first) return framed(p, li) ? frame_class(p, li) : "H2Frame";
  return "Padding";
}

/* what follows the first frame is one Padding (or all of it Scapy's Raw) */
static int h2_keeps(const sf_pkt *p, int li, int j) {
  int first = run_start(p, li);
  return scapy_keepable(p, j) && (!scapy_frames(p, first) || j > first + 1 || !is_h2(p, j));
}

static const char *const h2_names[] = {"len", "hex", NULL};  /* X3BytesField */
static const sf_scapy h2_scapy = {.names = h2_names, .cls = h2_cls, .inner = 1,
                                  .keeps = h2_keeps, .added = h2_added};

/* ---- HPACK through libnghttp2 ----------------------------------------------------------- */

typedef struct buf {
  char *out;
  size_t cap, len;
} buf;

static void put(buf *b, const void *d, size_t n) {
  if (b->len + n < b->cap) memcpy(b->out + b->len, d, n);
  b->len += n;
}

static void put32(buf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  put(b, x, 4);
}

/* One header block through the decoder: its fields as ">s4s4" pairs into
   b; the number of fields, or -1 when the block does not decode. */
static long inflate_block(nghttp2_hd_inflater *inf, const uint8_t *d, size_t n, buf *b) {
  long count = 0;
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, d, n, 1);
    if (r < 0) return -1;
    d += r;
    n -= (size_t)r;
    if (flags & NGHTTP2_HD_INFLATE_EMIT) {
      put32(b, (uint32_t)nv.namelen);
      put(b, nv.name, nv.namelen);
      put32(b, (uint32_t)nv.valuelen);
      put(b, nv.value, nv.valuelen);
      count++;
    }
    if (flags & NGHTTP2_HD_INFLATE_FINAL) break;
    if (r == 0 && n == 0) return -1;  /* no progress */
  }
  nghttp2_hd_inflate_end_headers(inf);
  return n == 0 ? count : -1;
}

/* "hpack": one block, a fresh decoder (table size 4096). */
static int hpack_to(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                    char *out, size_t cap) {
  nghttp2_hd_inflater *inf;
  buf b = {out, cap, 0};
  long k;
  (void)p;
  (void)li;
  (void)fi;
  if (nghttp2_hd_inflate_new(&inf) != 0) return -1;
  k = inflate_block(inf, d, n, &b);
  nghttp2_hd_inflate_del(inf);
  if (k < 0 || b.len > (size_t)0x7fffffff) return -1;
  if (b.len < cap) out[b.len] = '\0';
  return (int)b.len;
}

static uint32_t get32(const uint8_t *d) {
  return (uint32_t)d[0] << 24 | rd24(d + 1);
}

/* A ">s4" string at d[*at..n): its bytes and length; 0 when cut. */
static int get_s4(const uint8_t *d, size_t n, size_t *at, const uint8_t **s, size_t *len) {
  if (n - *at < 4 || n - *at - 4 < get32(d + *at)) return 0;
  *len = get32(d + *at);
  *s = d + *at + 4;
  *at += 4 + *len;
  return 1;
}

/* The ">s4s4" pairs of s (n bytes) as name/value pairs in nva: their
   number, or -1 when s is not such a list. */
static long read_pairs(const char *s, size_t n, nghttp2_nv **nva) {
  const uint8_t *d = (const uint8_t *)s;
  size_t at = 0, k = 0, cap = 16;
  nghttp2_nv *v = malloc(cap * sizeof *v);
  if (!v) return -1;
  while (at < n) {
    const uint8_t *name, *value;
    size_t ln, lv;
    if (!get_s4(d, n, &at, &name, &ln) || !get_s4(d, n, &at, &value, &lv)) break;
    if (k == cap) {
      nghttp2_nv *w = realloc(v, (cap *= 2) * sizeof *v);
      if (!w) break;
      v = w;
    }
    v[k].name = (uint8_t *)(uintptr_t)name;
    v[k].namelen = ln;
    v[k].value = (uint8_t *)(uintptr_t)value;
    v[k].valuelen = lv;
    v[k].flags = NGHTTP2_NV_FLAG_NONE;
    k++;
  }
  if (at != n) {
    free(v);
    return -1;
  }
  *nva = v;
  return (long)k;
}

/* One block's fields encoded by def into out: the length, or < 0. */
static long deflate_block(nghttp2_hd_deflater *def, const char *s, size_t n,
                          uint8_t *out, size_t cap) {
  nghttp2_nv *nva;
  long k = read_pairs(s, n, &nva);
  ssize_t r;
  if (k < 0) return SF_E_VALUE;
  if (nghttp2_hd_deflate_bound(def, nva, (size_t)k) > cap) {
    free(nva);
    return SF_E_TOOBIG;
  }
  r = nghttp2_hd_deflate_hd(def, out, cap, nva, (size_t)k);
  free(nva);
  return r < 0 ? SF_E_VALUE : (long)r;
}

/* "hpack" encoding: the fields (">s4s4" pairs) as one block, a fresh
   encoder (table size 4096). */
static int hpack_from(const char *s, size_t n, uint8_t *out, size_t cap) {
  nghttp2_hd_deflater *def;
  long r;
  if (nghttp2_hd_deflate_new(&def, 4096) != 0) return SF_E_NOMEM;
  r = deflate_block(def, s, n, out, cap);
  nghttp2_hd_deflate_del(def);
  return (int)r;
}

/* A decoder whose context starts with a table of size bytes, as when
   both sides agreed on SETTINGS_HEADER_TABLE_SIZE before the first block
   (RFC 7541 C.5): nghttp2 wants a smaller size confirmed by a dynamic
   table size update, which we give it (RFC 7541 6.3). */
static int start_table(nghttp2_hd_inflater *inf, uint32_t size) {
  uint8_t upd[8];
  size_t n = 0;
  nghttp2_nv nv;
  int flags = 0;
  if (size == 4096) return 1;
  if (nghttp2_hd_inflate_change_table_size(inf, size) != 0) return 0;
  if (size < 31) {
    upd[n++] = (uint8_t)(0x20 | size);
  } else {
    uint32_t rest = size - 31;
    upd[n++] = 0x3f;
    while (rest >= 128) {
      upd[n++] = (uint8_t)(0x80 | (rest & 0x7f));
      rest >>= 7;
    }
    upd[n++] = (uint8_t)rest;
  }
  if (nghttp2_hd_inflate_hd2(inf, &nv, &flags, upd, n, 1) != (ssize_t)n) return 0;
  nghttp2_hd_inflate_end_headers(inf);
  return 1;
}

/* "hpack_seq": ">I4" the decoder's table size, then header blocks as
   ">s4", decoded in order by one decoder; for each block ">i4" the
   number of fields (-1: it does not decode, and the rest are not tried)
   and its fields. */
static int hpack_seq_to(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                        char *out, size_t cap) {
  nghttp2_hd_inflater *inf;
  buf b = {out, cap, 0};
  size_t at = 4;
  (void)p;
  (void)li;
  (void)fi;
  if (n < 4 || nghttp2_hd_inflate_new(&inf) != 0) return -1;
  if (!start_table(inf, get32(d))) {
    nghttp2_hd_inflate_del(inf);
    return -1;
  }
  while (at + 4 <= n) {
    size_t len = get32(d + at), mark = b.len;
    long k;
    if (len > n - at - 4) break;
    put32(&b, 0);
    k = inflate_block(inf, d + at + 4, len, &b);
    if (k < 0) {
      b.len = mark;
      put32(&b, 0xffffffffu);
      break;
    }
    if (mark + 4 <= cap) {
      uint8_t *m = (uint8_t *)out + mark;
      m[0] = (uint8_t)(k >> 24);
      m[1] = (uint8_t)(k >> 16);
      m[2] = (uint8_t)(k >> 8);
      m[3] = (uint8_t)k;
    }
    at += 4 + len;
  }
  nghttp2_hd_inflate_del(inf);
  if (b.len > (size_t)0x7fffffff) return -1;
  if (b.len < cap) out[b.len] = '\0';
  return (int)b.len;
}

/* "hpack_seq" encoding: ">I4" the encoder's table size, then for each
   block ">I4" its byte length of ">s4s4" pairs and the pairs; out: the
   blocks as ">s4", encoded in order by one encoder. */
static int hpack_seq_from(const char *s, size_t n, uint8_t *out, size_t cap) {
  const uint8_t *d = (const uint8_t *)s;
  nghttp2_hd_deflater *def;
  size_t at = 4, o = 0;
  if (n < 4 || nghttp2_hd_deflate_new(&def, get32(d)) != 0) return SF_E_VALUE;
  while (at + 4 <= n) {
    size_t len = get32(d + at);
    long r;
    if (len > n - at - 4) break;
    if (cap - o < 4) {
      nghttp2_hd_deflate_del(def);
      return SF_E_TOOBIG;
    }
    r = deflate_block(def, s + at + 4, len, out + o + 4, cap - o - 4);
    if (r < 0) {
      nghttp2_hd_deflate_del(def);
      return (int)r;
    }
    out[o] = (uint8_t)(r >> 24);
    out[o + 1] = (uint8_t)(r >> 16);
    out[o + 2] = (uint8_t)(r >> 8);
    out[o + 3] = (uint8_t)r;
    o += 4 + (size_t)r;
    at += 4 + len;
  }
  nghttp2_hd_deflate_del(def);
  return at == n ? (int)o : SF_E_VALUE;
}

static const sf_codec hpack_codec = {
  "hpack", hpack_to, hpack_from, "a list of {name, value}", NULL
};
static const sf_codec hpack_seq_codec = {
  "hpack_seq", hpack_seq_to, hpack_seq_from, "header blocks", NULL
};

/* ---- registration ------------------------------------------------------------------------ */

SF_PROTO_FILE(http2) {
  static sf_proto *const frames[NTYPES] = {
    &data_pr, &hdrs_pr, &prio_pr, &rst_pr, &set_pr, &push_pr, &ping_pr,
    &goaway_pr, &window_pr, &cont_pr
  };
  int t;
  set_pr.places = upgrade_places;
  for (t = 0; t < NTYPES; t++) frames[t]->scapy = &h2_scapy;
  unknown_pr.scapy = preface_pr.scapy = &h2_scapy;
  for (t = 0; t < NTYPES; t++) id_type[t] = sf_register(frames[t]);
  id_unknown = sf_register(&unknown_pr);
  id_preface = sf_register(&preface_pr);
  sf_codec_add(&hpack_codec);
  sf_codec_add(&hpack_seq_codec);
  if (id_preface >= 0) sf_heur_add_named("TCP", h2_heur, NULL);
}
