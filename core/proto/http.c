/*
 * http.c -- HTTP/1.x messages (RFC 9112): the request or status line, the
 * header lines and the body, with Scapy's classes and field names
 * (scapy.layers.http: HTTPRequest, HTTPResponse, Method, Path,
 * Http_Version, Status_Code, Reason_Phrase, and one field per header
 * Scapy names: Host, User_Agent, Content_Length, ...).
 *
 * A message's header is text whose lines come in any order, so its
 * layout is computed (sf_dyn): the first line's words, `headers` (every
 * header line, in order, as sent: a list through the http_headers codec
 * of stdlib/stackforge/codecs/http.lua), and each named header's value
 * wherever its line is (the first line of that name, matched without
 * regard to case, '-' and '_' alike, as Scapy matches).  Setting a field
 * writes the header again: a named header replaces its line's value, or
 * gets a line of its own placed as Scapy builds (named headers sorted,
 * other ones after them); `headers` replaces every line.  The body is
 * the payload (Raw), as in Scapy.
 *
 * Written in C, not as an LPeg grammar in Lua: every TCP payload on every
 * port is asked whether it starts a message (a heuristic), and a capture's
 * request lines and Host are read at the engine's speed (bench/).
 *
 * Detection: TCP ports 80, 8080, 8000, 8008 and 8888 when the bytes start
 * a request line (a known method, a target, "HTTP/1.x") or a status line
 * ("HTTP/1.x NNN"); any TCP port by the same test.  A body's middle
 * segment stays Raw.  A 101 response upgrading to h2c followed by bytes
 * hands them to the "http.upgrade" table (HTTP/2 places itself there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MAX_LINE 8192    /* a first line longer than this is not HTTP */
#define MAX_HEADER (1u << 20)

/* ---- the named headers, as Scapy 2.5 lists them (sorted) ---------------- */

static const char *const req_names[] = {
  "A-IM", "Accept", "Accept-Charset", "Accept-Datetime", "Accept-Encoding",
  "Accept-Language", "Access-Control-Request-Headers",
  "Access-Control-Request-Method", "Authorization", "Cache-Control",
  "Connection", "Content-Length", "Content-MD5", "Content-Type", "Cookie",
  "DNT", "Date", "Expect", "Forwarded", "From", "Front-End-Https",
  "HTTP2-Settings", "Host", "If-Match", "If-Modified-Since", "If-None-Match",
  "If-Range", "If-Unmodified-Since", "Keep-Alive", "Max-Forwards", "Origin",
  "Permanent", "Pragma", "Proxy-Authorization", "Proxy-Connection", "Range",
  "Referer", "Save-Data", "TE", "Upgrade", "Upgrade-Insecure-Requests",
  "User-Agent", "Via", "Warning", "X-ATT-DeviceId", "X-Correlation-ID",
  "X-Csrf-Token", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
  "X-Http-Method-Override", "X-Request-ID", "X-Requested-With", "X-UIDH",
  "X-Wap-Profile", NULL
};

/* Scapy's list less "Status" (a CGI header, never on the wire): a layer
   has at most 64 fields */
static const char *const resp_names[] = {
  "Accept-Patch", "Accept-Ranges", "Access-Control-Allow-Credentials",
  "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
  "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
  "Access-Control-Max-Age", "Age", "Allow", "Alt-Svc", "Cache-Control",
  "Connection", "Content-Disposition", "Content-Encoding", "Content-Language",
  "Content-Length", "Content-Location", "Content-MD5", "Content-Range",
  "Content-Security-Policy", "Content-Type", "Date", "Delta-Base", "ETag",
  "Expires", "IM", "Keep-Alive", "Last-Modified", "Link", "Location", "P3P",
  "Permanent", "Pragma", "Proxy-Authenticate", "Public-Key-Pins", "Refresh",
  "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security",
  "Timing-Allow-Origin", "Tk", "Trailer", "Transfer-Encoding", "Upgrade",
  "Vary", "Via", "WWW-Authenticate", "Warning", "X-Content-Duration",
  "X-Content-Security-Policy", "X-Content-Type-Options", "X-Correlation-ID",
  "X-Frame-Options", "X-Powered-By", "X-Request-ID", "X-UA-Compatible",
  "X-WebKit-CSP", "X-XSS-Protection", NULL
};

#define NREQ ((int)(sizeof req_names / sizeof *req_names) - 1)
#define NRESP ((int)(sizeof resp_names / sizeof *resp_names) - 1)
#define FIRST_NAMED 4    /* three words of the first line, then headers */
#define F_HEADERS 3

/* Field names: Scapy's ('-' as '_'), made once from the lists above. */
static char req_fnames[sizeof req_names / sizeof *req_names][40],
    resp_fnames[sizeof resp_names / sizeof *resp_names][40];
static sf_field req_fields[FIRST_NAMED + sizeof req_names / sizeof *req_names],
    resp_fields[FIRST_NAMED + sizeof resp_names / sizeof *resp_names];

/* A message kind: its names, fields, first line's defaults. */
typedef struct kind {
  const char *const *names;
  int nnamed;
  sf_field *fields;
  const char *defs[3];
  int response;
} kind;

static const kind req_kind = {req_names, NREQ, req_fields,
                              {"GET", "/", "HTTP/1.1"}, 0};
static const kind resp_kind = {resp_names, NRESP, resp_fields,
                               {"HTTP/1.1", "200", "OK"}, 1};

static const kind *kind_of(const sf_proto *pr) {
  return pr->fields == req_fields ? &req_kind : &resp_kind;
}

/* ---- text helpers ----------------------------------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Does a header name (n bytes) equal a Scapy name, regardless of case,
   '-' and '_' being one? */
static int name_is(const uint8_t *s, size_t n, const char *name) {
  size_t i;
  for (i = 0; i < n; i++) {
    int a = s[i] == '_' ? '-' : lower(s[i]), b = (unsigned char)name[i];
    if (!b || a != (b == '_' ? '-' : lower(b))) return 0;
  }
  return name[n] == '\0';
}

/* The named headers by their first letter (lower case) and length, so a
   line's name is compared with one or two names, not all of them: a
   list per letter of indices, ended by -1. */
#define PER_LETTER 16
typedef struct name_index {
  int8_t first[26][PER_LETTER];
  uint8_t len[64];
} name_index;

static name_index req_index, resp_index;

static void index_names(const char *const *names, name_index *x) {
  int i, n[26] = {0};
  memset(x->first, -1, sizeof x->first);
  for (i = 0; names[i]; i++) {
    int c = lower((unsigned char)names[i][0]) - 'a';
    x->len[i] = (uint8_t)strlen(names[i]);
    if (c >= 0 && c < 26 && n[c] < PER_LETTER - 1) x->first[c][n[c]++] = (int8_t)i;
  }
}

/* The named field (index into names) a header name is, or -1. */
static int named_index(const kind *k, const uint8_t *s, size_t n) {
  const name_index *x = k->response ? &resp_index : &req_index;
  int c = lower(s[0]) - 'a', j;
  if (c < 0 || c >= 26) return -1;
  for (j = 0; x->first[c][j] >= 0; j++) {
    int i = x->first[c][j];
    if (x->len[i] == n && name_is(s, n, k->names[i])) return i;
  }
  return -1;
}

/* The end of the line at h[at..n) (at its CR), or n when it has none. */
static size_t line_end(const uint8_t *h, size_t n, size_t at) {
  const uint8_t *cr;
  while (at < n && (cr = memchr(h + at, '\r', n - at)) != NULL) {
    size_t i = (size_t)(cr - h);
    if (i + 1 < n && h[i + 1] == '\n') return i;
    at = i + 1;
  }
  return n;
}

static int is_space(int c) { return c == ' ' || c == '\t'; }

/* ---- detection ---------------------------------------------------------------- */

static const char *const methods[] = {
  "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT",
  "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK",
  "UNLOCK", "SEARCH", "REPORT", "MKCALENDAR", "NOTIFY", "SUBSCRIBE",
  "UNSUBSCRIBE", NULL
};

/* The length of the known method h starts with, followed by a space, or
   0.  Every TCP payload is asked (the heuristic), so the word is found
   first: methods are capital letters, and most payloads have none. */
static size_t method_len(const uint8_t *h, size_t n) {
  const char *const *m;
  size_t ml = 0;
  while (ml < n && ml < 12 && h[ml] >= 'A' && h[ml] <= 'Z') ml++;
  if (ml < 3 || ml >= n || h[ml] != ' ') return 0;
  for (m = methods; *m; m++)
    if (strlen(*m) == ml && memcmp(h, *m, ml) == 0) return ml;
  return 0;
}

/* "HTTP/1.x" at h (n bytes available) */
static int version_at(const uint8_t *h, size_t n) {
  return n >= 8 && memcmp(h, "HTTP/1.", 7) == 0 && h[7] >= '0' && h[7] <= '9';
}

/* A request line: a known method, a space, a target, " HTTP/1.x", CRLF
   (or the bytes end before the line does). */
static int looks_like_request(const uint8_t *h, size_t n) {
  size_t ml = method_len(h, n), end, i;
  if (!ml) return 0;
  end = line_end(h, n < MAX_LINE ? n : MAX_LINE, ml + 1);
  if (end == (n < MAX_LINE ? n : MAX_LINE) && end != n) return 0;  /* too long */
  if (end == n) return 1;  /* cut before the line ends: the method says enough */
  for (i = ml + 1; i < end; i++)
    if (h[i] == ' ') break;
  return i > ml + 1 && i + 9 == end && version_at(h + i + 1, end - i - 1);
}

/* A status line: "HTTP/1.x NNN" and a space or the line's end. */
static int looks_like_response(const uint8_t *h, size_t n) {
  return n >= 12 && version_at(h, n) && h[8] == ' ' &&
         h[9] >= '1' && h[9] <= '5' && h[10] >= '0' && h[10] <= '9' &&
         h[11] >= '0' && h[11] <= '9' && (n == 12 || h[12] == ' ' || h[12] == '\r');
}

static int request_accept(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return looks_like_request(h, n);
}

static int response_accept(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return looks_like_response(h, n);
}

/* ---- layout ----------------------------------------------------------------- */

/* The header's length: through the empty line, or all of n when the bytes
   end first (the lines present are read); 0 when no first line ends. */
static size_t http_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t e;
  (void)p;
  if (n > MAX_HEADER) n = MAX_HEADER;
  e = line_end(h, n, 0);
  if (e == n) return 0;
  while (e < n) {
    size_t next = e + 2, le = line_end(h, n, next);
    if (le == next) return next + 2;  /* the empty line */
    if (le == n) return n;
    e = le;
  }
  return n;
}

static void span(sf_span *sp, size_t from, size_t to) {
  sp->bitoff = (uint32_t)(from * 8);
  sp->bits = (uint32_t)((to - from) * 8);
}

/* The first line's three words: two spaces split it (the last part may
   hold spaces: a reason phrase; a request's target is between the first
   and the last space). */
static void first_line(const kind *k, const uint8_t *h, size_t e, sf_span *sp) {
  const uint8_t *s1 = memchr(h, ' ', e), *s2;
  size_t a, b;
  if (!s1) {
    span(&sp[0], 0, e);
    return;
  }
  a = (size_t)(s1 - h);
  if (k->response) {
    s2 = memchr(h + a + 1, ' ', e - a - 1);
    b = s2 ? (size_t)(s2 - h) : e;
  } else {
    for (b = e; b > a + 1 && h[b - 1] != ' '; b--) {}
    b = b > a + 1 ? b - 1 : e;
  }
  span(&sp[0], 0, a);
  span(&sp[1], a + 1, b);
  if (b < e) span(&sp[2], b + 1, e);
  else span(&sp[2], e, e);
}

/* One header line h[at..e): its named field's value span, if first. */
static void header_line(const kind *k, const uint8_t *h, size_t at, size_t e,
                        sf_span *sp) {
  const uint8_t *colon = memchr(h + at, ':', e - at);
  size_t nl, v, ve;
  int i;
  if (!colon || colon == h + at) return;
  nl = (size_t)(colon - h) - at;
  while (nl > 0 && is_space(h[at + nl - 1])) nl--;
  if (nl == 0 || (i = named_index(k, h + at, nl)) < 0) return;
  if (sp[FIRST_NAMED + i].bits != SF_ABSENT) return;  /* the first one counts */
  for (v = (size_t)(colon - h) + 1; v < e && is_space(h[v]); v++) {}
  for (ve = e; ve > v && is_space(h[ve - 1]); ve--) {}
  span(&sp[FIRST_NAMED + i], v, ve);
}

/* One pass over the lines: the first line's words, each header line's
   named field, `headers` from the second line to the empty one (or to
   the last whole line, when the bytes end first). */
static size_t http_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                          sf_span *sp, int build) {
  const kind *k = kind_of(pr);
  size_t e, at, hl = 0;
  int i;
  (void)build;
  for (i = 0; i < pr->nfields; i++) sp[i].bits = SF_ABSENT;
  if (n > MAX_HEADER) n = MAX_HEADER;
  if ((e = line_end(h, n, 0)) == n) return 0;
  first_line(k, h, e, sp);
  for (at = e + 2; at < n; at = e + 2) {
    if ((e = line_end(h, n, at)) == at) {  /* the empty line */
      hl = at + 2;
      break;
    }
    if (e == n) break;  /* a line cut short */
    header_line(k, h, at, e, sp);
  }
  span(&sp[F_HEADERS], line_end(h, n, 0) + 2, at < n ? at : n);
  return hl ? hl : n;
}

/* ---- writing the header again ----------------------------------------------- */

typedef struct out {
  uint8_t *d;
  size_t len, cap;
  int err;
} out;

static void put(out *o, const void *s, size_t n) {
  if (o->err) return;
  if (o->len + n > o->cap) {
    size_t cap = (o->len + n) * 2 + 64;
    uint8_t *d = realloc(o->d, cap);
    if (!d) {
      o->err = SF_E_NOMEM;
      return;
    }
    o->d = d;
    o->cap = cap;
  }
  memcpy(o->d + o->len, s, n);
  o->len += n;
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

/* The header now: the old bytes and their layout, and the change. */
typedef struct change {
  const uint8_t *h;
  const sf_span *sp;
  int fi;
  const sf_val *v;     /* NULL: back to the default */
} change;

/* Field i's bytes after the change (word defaults for the first line). */
static void value_of(const kind *k, const change *c, int i, const uint8_t **d, size_t *n) {
  if (i == c->fi) {
    if (c->v) {
      *d = c->v->p;
      *n = c->v->n;
    } else {
      *d = (const uint8_t *)(i < 3 ? k->defs[i] : "");
      *n = strlen((const char *)*d);
    }
  } else if (c->sp[i].bits != SF_ABSENT) {
    *d = c->h + c->sp[i].bitoff / 8;
    *n = c->sp[i].bits / 8;
  } else {
    *d = (const uint8_t *)(i < 3 ? k->defs[i] : "");
    *n = i < 3 ? strlen(k->defs[i]) : 0;
  }
}

/* The first line as Scapy writes it: each non-empty word and its
   separator (a space, or CRLF after the last). */
static void write_first(const kind *k, const change *c, out *o) {
  int i;
  for (i = 0; i < 3; i++) {
    const uint8_t *d;
    size_t n;
    value_of(k, c, i, &d, &n);
    if (!n) continue;
    put(o, d, n);
    put(o, i < 2 ? " " : "\r\n", i < 2 ? 1 : 2);
  }
}

static void write_line(out *o, const char *name, const uint8_t *v, size_t n) {
  puts_(o, name);
  put(o, ": ", 2);
  put(o, v, n);
  put(o, "\r\n", 2);
}

/* The named field a header line at h[at..e) is (its index past
   FIRST_NAMED), -1 for another name. */
static int line_field(const kind *k, const uint8_t *h, size_t at, size_t e) {
  const uint8_t *colon = memchr(h + at, ':', e - at);
  size_t nl;
  if (!colon) return -1;
  nl = (size_t)(colon - h) - at;
  while (nl > 0 && is_space(h[at + nl - 1])) nl--;
  return nl ? named_index(k, h + at, nl) : -1;
}

/* The header lines with named field `named` changed (set, inserted in
   Scapy's order, or removed when c->v is NULL). */
static void write_lines(const kind *k, const change *c, const uint8_t *b,
                        size_t n, int named, out *o) {
  size_t at = 0;
  int done = 0;
  while (at < n) {
    size_t le = line_end(b, n, at), next = le + 2 < n ? le + 2 : n;
    int f = line_field(k, b, at, le);
    if (!done && c->v && (f < 0 || f > named)) {  /* its place, as Scapy orders */
      write_line(o, k->names[named], c->v->p, c->v->n);
      done = 1;
    }
    if (f == named) {
      if (c->v && !done) write_line(o, k->names[named], c->v->p, c->v->n);
      done = 1;  /* later lines of the name go: one value */
    } else {
      put(o, b + at, next - at);
    }
    at = next;
  }
  if (!done && c->v) write_line(o, k->names[named], c->v->p, c->v->n);
}

static void write_header(const kind *k, const change *c, out *o) {
  const uint8_t *b;
  size_t n;
  write_first(k, c, o);
  if (c->fi == F_HEADERS) {
    value_of(k, c, F_HEADERS, &b, &n);
    put(o, b, n);
  } else {
    b = c->h + c->sp[F_HEADERS].bitoff / 8;
    n = c->sp[F_HEADERS].bits / 8;
    if (c->fi >= FIRST_NAMED) write_lines(k, c, b, n, c->fi - FIRST_NAMED, o);
    else put(o, b, n);
  }
  put(o, "\r\n", 2);
}

static int http_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_layer *l = &p->layers[li];
  const kind *k = kind_of(pr);
  sf_span sp[SF_MAX_FIELDS];
  change c;
  out o = {NULL, 0, 0, 0};
  int rc;
  c.h = p->data + l->off;
  c.sp = sp;
  c.fi = fi;
  c.v = v && (v->n || fi < FIRST_NAMED) ? v : NULL;  /* as Scapy: "" sends no line */
  if (!http_layout(pr, c.h, l->hlen, sp, 1)) return SF_E_VALUE;
  if (v && fi >= FIRST_NAMED && (memchr(v->p, '\r', v->n) || memchr(v->p, '\n', v->n)))
    return SF_E_VALUE;  /* a value would end its line */
  write_header(k, &c, &o);
  rc = o.err ? o.err : o.len > MAX_HEADER ? SF_E_TOOBIG
                     : sf_pkt_splice(p, li, l->off, l->hlen, o.d, o.len);
  free(o.d);
  return rc;
}

/* ---- lengths, what follows ----------------------------------------------------- */

static int field_of(const kind *k, const char *name) {
  int i;
  for (i = 0; i < k->nnamed; i++)
    if (strcmp(k->names[i], name) == 0) return FIRST_NAMED + i;
  return -1;
}

/* A built message with a body says how long it is (Content-Length), unless
   the user set one or chose chunked transfer; a parsed one keeps its own
   (its body may go on in later segments). */
static void http_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  const sf_proto *pr = sf_proto_get(l->proto);
  const kind *k = kind_of(pr);
  int cl = field_of(k, "Content-Length"), te = field_of(k, "Transfer-Encoding");
  size_t body = l->end - l->off - l->hlen;
  char num[24];
  sf_val v;
  uint64_t set = l->set;
  if (!(l->flags & SF_L_BUILT) || sf_isset(p, li, cl)) return;
  if (te >= 0 && sf_field_present(p, li, te)) return;
  if (!body && !sf_field_present(p, li, cl)) return;  /* as Scapy: none */
  v.n = (size_t)snprintf(num, sizeof num, "%zu", body);
  v.p = (const uint8_t *)num;
  v.u = 0;
  if (sf_pkt_writable(p) == SF_OK) http_set(pr, p, li, cl, &v);
  p->layers[li].set = set;
}

/* A 101 response switching to h2c: what follows is HTTP/2. */
static int http_next(const sf_pkt *p, int li) {
  static int tab = -1;
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  size_t pos = l->off + l->hlen;
  if (pos >= l->end) return -2;
  if (kind_of(sf_proto_get(l->proto))->response && l->hlen >= 12 &&
      memcmp(h + 9, "101", 3) == 0) {
    if (tab < 0) tab = sf_table("http.upgrade");
    int next = sf_table_lookup(tab, 2, p, li, p->data + pos, l->end - pos);
    return next >= 0 ? next : -2;
  }
  return -2;
}

/* ---- descriptors ------------------------------------------------------------------ */

/* port 80 builds; the others parse (the accept predicate: a first line) */
#define HTTP_PLACES(accept)                                                 \
  {{"tcp.port", 80, 0, accept},                                             \
   {"tcp.port", 8080, SF_PL_PARSE_ONLY, accept},                            \
   {"tcp.port", 8000, SF_PL_PARSE_ONLY, accept},                            \
   {"tcp.port", 8008, SF_PL_PARSE_ONLY, accept},                            \
   {"tcp.port", 8888, SF_PL_PARSE_ONLY, accept},                            \
   {NULL, 0, 0, NULL}}

static const sf_place req_places[] = HTTP_PLACES(request_accept);
static const sf_place resp_places[] = HTTP_PLACES(response_accept);

static const sf_wsfield req_ws[] = {
  WS("http.request.method", "Method"), WS("http.request.uri", "Path"),
  WS("http.request.version", "Http_Version"), WS("http.host", "Host"),
  WS("http.user_agent", "User_Agent"), WS("http.accept", "Accept"),
  WS("http.content_length_header", "Content_Length"),
  WS("http.content_type", "Content_Type"), WS("http.connection", "Connection"),
  WS("http.cookie", "Cookie"), WS("http.referer", "Referer"),
  WS("http.authorization", "Authorization"), WSEND
};

static const sf_wsfield resp_ws[] = {
  WS("http.response.version", "Http_Version"), WS("http.response.code", "Status_Code"),
  WS("http.response.phrase", "Reason_Phrase"), WS("http.server", "Server"),
  WS("http.content_length_header", "Content_Length"),
  WS("http.content_type", "Content_Type"), WS("http.connection", "Connection"),
  WS("http.location", "Location"), WS("http.set_cookie", "Set_Cookie"),
  WS("http.date", "Date"), WSEND
};

static const uint8_t req_default[] = "GET / HTTP/1.1\r\n\r\n";
static const uint8_t resp_default[] = "HTTP/1.1 200 OK\r\n\r\n";

static const sf_dyn http_dyn = {.layout = http_layout, .set = http_set};

/* Scapy's HTTPRequest and HTTPResponse (mysummary), under its HTTP layer,
   every field a StrField; only where Scapy binds HTTP: TCP ports 80 and
   8080 (elsewhere the message is the Raw, or what Scapy binds there). */
static int scapy_binds(const sf_pkt *p, int li) {
  return on_port(p, li - 1, 80) || on_port(p, li - 1, 8080);
}

static int http_scapy_text(const sf_pkt *p, int li, const char *what, char *out, size_t cap) {
  if (strcmp(what, "bound") != 0 || !scapy_binds(p, li)) return -1;
  if (cap) out[0] = '\0';
  return 0;
}

static const char *http_added(const sf_pkt *p, int li, int after) {
  return !after && scapy_binds(p, li) ? "HTTP" : NULL;
}

static const char *http_cls(const sf_pkt *p, int li) {
  return scapy_binds(p, li) ? NULL : scapy_payload_class(p, li - 1);
}

/* elsewhere Scapy's Raw holds the body too */
static int http_keeps(const sf_pkt *p, int li, int j) {
  return scapy_keepable(p, j) && !scapy_binds(p, li);
}

static const char *const http_scapy_names[] = {"*", "str", NULL};
static const sf_scapy req_scapy = {
  .fmt = "{$bound:%Method% %Path% %Http_Version%}", .names = http_scapy_names,
  .text = http_scapy_text, .cls = http_cls, .keeps = http_keeps, .added = http_added,
};
static const sf_scapy resp_scapy = {
  .fmt = "{$bound:%Http_Version% %Status_Code% %Reason_Phrase%}", .names = http_scapy_names,
  .text = http_scapy_text, .cls = http_cls, .keeps = http_keeps, .added = http_added,
};

static sf_proto request = {
  .name = "HTTPRequest", .display = "HTTP Request", .kind = "Http",
  .fields = req_fields, .nfields = FIRST_NAMED + NREQ,
  .minlen = sizeof req_default - 1, .places = req_places, .ws = "http",
  .ws_fields = req_ws, .hdr_len = http_len, .next = http_next,
  .fixup = http_fixup, .dyn = &http_dyn, .deftmpl = req_default, .scapy = &req_scapy,
  .dyn_adds = 1,  /* a header absent from the bytes is set all the same: a line */
};

static sf_proto response = {
  .name = "HTTPResponse", .display = "HTTP Response", .kind = "HttpResponse",
  .fields = resp_fields, .nfields = FIRST_NAMED + NRESP,
  .minlen = sizeof resp_default - 1, .places = resp_places, .ws = "http",
  .ws_fields = resp_ws, .hdr_len = http_len, .next = http_next,
  .fixup = http_fixup, .dyn = &http_dyn, .deftmpl = resp_default, .scapy = &resp_scapy,
  .dyn_adds = 1,
};

static int id_request = -1, id_response = -1;

/* Any TCP port: a request or status line. */
static int http_heur(const sf_pkt *p, int li, void *ud) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  (void)ud;
  if (looks_like_response(h, n)) return id_response;
  return looks_like_request(h, n) ? id_request : -1;
}

static void make_fields(const kind *k, char (*fnames)[40], const char *const first[3]) {
  int i;
  size_t j;
  for (i = 0; i < 3; i++) {
    sf_field f = BYTESF(first[i], 0, 0, NULL, NULL, 0);
    k->fields[i] = f;
  }
  {
    sf_field f = BYTESF("headers", 0, 0, "http_headers", NULL, 0);
    k->fields[F_HEADERS] = f;
  }
  for (i = 0; i < k->nnamed; i++) {
    sf_field f = BYTESF(fnames[i], 0, 0, NULL, NULL, 0);
    for (j = 0; k->names[i][j] && j + 1 < sizeof fnames[i]; j++)
      fnames[i][j] = k->names[i][j] == '-' ? '_' : k->names[i][j];
    fnames[i][j] = '\0';
    k->fields[FIRST_NAMED + i] = f;
  }
}

SF_PROTO_FILE(http) {
  static const char *const req_first[3] = {"Method", "Path", "Http_Version"};
  static const char *const resp_first[3] = {"Http_Version", "Status_Code", "Reason_Phrase"};
  make_fields(&req_kind, req_fnames, req_first);
  make_fields(&resp_kind, resp_fnames, resp_first);
  index_names(req_names, &req_index);
  index_names(resp_names, &resp_index);
  id_request = sf_register(&request);
  id_response = sf_register(&response);
  if (id_request >= 0 && id_response >= 0) sf_heur_add_named("TCP", http_heur, NULL);
}
