/*
 * summary.c -- Scapy's text for packets (summary.h): Packet.summary(),
 * sprintf() and field values as Scapy shows them, from the protocols'
 * sf_scapy declarations.  Names of EtherTypes, IP protocols and ports
 * come from the system's files, read once and as Scapy 2.5 reads them
 * (scapy/data.py: load_ethertypes, load_protocols, load_services).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "summary.h"

/* ---- output --------------------------------------------------------------- */

typedef struct obuf {
  char *s;
  size_t cap, n;  /* n: the whole length, even past cap */
} obuf;

static void put(obuf *b, const char *s, size_t n) {
  if (b->n + 1 < b->cap) {
    size_t room = b->cap - 1 - b->n;
    memcpy(b->s + b->n, s, n < room ? n : room);
  }
  b->n += n;
}

static void puts_(obuf *b, const char *s) { put(b, s, strlen(s)); }

static size_t finish(obuf *b) {
  if (b->cap) b->s[b->n < b->cap ? b->n : b->cap - 1] = '\0';
  return b->n;
}

/* ---- names from the system's files ------------------------------------------ */

enum { DB_ETHER, DB_TCP, DB_UDP, DB_PROTO, DB_N };

/* value -> offset of its name in pool (0: none) */
static struct {
  uint32_t *map[DB_N];
  char *pool;
  size_t n, cap;
} db;

static pthread_once_t db_once = PTHREAD_ONCE_INIT;

/* Scapy's fixname: what is not a letter or digit becomes '_', and a name
   that starts with a digit gets "n_" before it. */
static uint32_t add_name(const char *s, size_t len, int fix) {
  size_t need = len + 3, i, at;
  if (db.n + need > db.cap) {
    size_t cap = db.cap ? db.cap * 2 : 4096;
    char *np;
    while (cap < db.n + need) cap *= 2;
    if (!(np = realloc(db.pool, cap))) return 0;
    db.pool = np;
    db.cap = cap;
  }
  if (db.n == 0) db.pool[db.n++] = '\0';  /* offset 0 means none */
  at = db.n;
  if (fix && isdigit((unsigned char)s[0])) {
    db.pool[db.n++] = 'n';
    db.pool[db.n++] = '_';
  }
  for (i = 0; i < len; i++)
    db.pool[db.n++] = !fix || isalnum((unsigned char)s[i]) ? s[i] : '_';
  db.pool[db.n++] = '\0';
  return (uint32_t)at;
}

/* fix: the name is a file's, made an attribute name as Scapy does */
static void set_name(int which, unsigned long v, const char *s, size_t len,
                     int fix) {
  size_t size = which == DB_PROTO ? 256 : 65536;
  uint32_t at;
  if (v >= size || !db.map[which]) return;
  if ((at = add_name(s, len, fix))) db.map[which][v] = at;
}

/* A whole token as a number in base, or -1. */
static long number(const char *s, size_t len, int base) {
  char tmp[32], *end;
  long v;
  if (len == 0 || len >= sizeof tmp) return -1;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  v = strtol(tmp, &end, base);
  return *end || v < 0 ? -1 : v;
}

/* The first two whitespace-separated tokens of a line, comments cut. */
static int tokens(char *line, const char **t0, size_t *l0, const char **t1,
                  size_t *l1) {
  char *hash = strchr(line, '#'), *s = line;
  if (hash) *hash = '\0';
  while (isspace((unsigned char)*s)) s++;
  *t0 = s;
  while (*s && !isspace((unsigned char)*s)) s++;
  *l0 = (size_t)(s - *t0);
  while (isspace((unsigned char)*s)) s++;
  *t1 = s;
  while (*s && !isspace((unsigned char)*s)) s++;
  *l1 = (size_t)(s - *t1);
  return *l0 && *l1;
}

/* "name number" lines (protocols, ethertypes) */
static void load_numbers(const char *path, int which, int base) {
  char line[1024];
  FILE *f = fopen(path, "r");
  const char *t0, *t1;
  size_t l0, l1;
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (tokens(line, &t0, &l0, &t1, &l1)) {
      long v = number(t1, l1, base);
      if (v >= 0) set_name(which, (unsigned long)v, t0, l0, 1);
    }
  fclose(f);
}

/* "name port/proto" lines, a port also as a range "a-b" */
static void load_services(const char *path) {
  char line[1024];
  FILE *f = fopen(path, "r");
  const char *t0, *t1, *slash, *dash;
  size_t l0, l1;
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    long a, b;
    int which;
    if (!tokens(line, &t0, &l0, &t1, &l1) || !(slash = memchr(t1, '/', l1))) continue;
    if ((size_t)(t1 + l1 - slash - 1) == 3 && strncmp(slash + 1, "tcp", 3) == 0) which = DB_TCP;
    else if ((size_t)(t1 + l1 - slash - 1) == 3 && strncmp(slash + 1, "udp", 3) == 0) which = DB_UDP;
    else continue;
    dash = memchr(t1, '-', (size_t)(slash - t1));
    a = number(t1, (size_t)((dash ? dash : slash) - t1), 10);
    b = dash ? number(dash + 1, (size_t)(slash - dash - 1), 10) : a;
    for (; a >= 0 && a <= b && a < 65536; a++) set_name(which, (unsigned long)a, t0, l0, 1);
  }
  fclose(f);
}

/* Names Scapy's own modules give EtherTypes over /etc/ethertypes'
   (scapy/layers/l2.py's Dot1AD, layers/eap.py's MACsec, 6LoWPAN). */
static const struct { unsigned v; const char *name; } scapy_ethertypes[] = {
  {0x88a8, "802_AD"}, {0x88e5, "802_1AE"}, {0xa0ed, "6LoWPAN"}, {0, NULL}
};

static void load_db(void) {
  int i;
  for (i = 0; i < DB_N; i++)
    db.map[i] = calloc(i == DB_PROTO ? 256 : 65536, sizeof(uint32_t));
  load_numbers("/etc/ethertypes", DB_ETHER, 16);
  for (i = 0; scapy_ethertypes[i].name; i++)
    set_name(DB_ETHER, scapy_ethertypes[i].v, scapy_ethertypes[i].name,
             strlen(scapy_ethertypes[i].name), 0);
  load_numbers("/etc/protocols", DB_PROTO, 10);
  load_services("/etc/services");
}

static int db_of(const char *source) {
  if (source[0] == 's' && strcmp(source, "services/tcp") == 0) return DB_TCP;
  if (strcmp(source, "ethertypes") == 0) return DB_ETHER;
  if (strcmp(source, "protocols") == 0) return DB_PROTO;
  if (strcmp(source, "services/tcp") == 0) return DB_TCP;
  if (strcmp(source, "services/udp") == 0) return DB_UDP;
  return -1;
}

static const char *name_in(int which, uint64_t value) {
  uint32_t at;
  if (which < 0 || value >= (which == DB_PROTO ? 256u : 65536u)) return NULL;
  pthread_once(&db_once, load_db);
  if (!db.map[which] || !(at = db.map[which][value])) return NULL;
  return db.pool + at;
}

const char *sf_scapy_name(const char *source, uint64_t value) {
  return name_in(db_of(source), value);
}

/* ---- layers and fields ----------------------------------------------------- */

static const sf_proto *proto_at(const sf_pkt *p, int li) {
  return sf_proto_get(p->layers[li].proto);
}

/* Names in formats are found once: a per-thread cache from the name's
   address (a format is a protocol's constant, or the user's string while
   it is formatted) and the protocol to the field. */
#define NAME_CACHE 256
static _Thread_local struct {
  const char *name;
  int proto, fi;
  size_t len;
} name_cache[NAME_CACHE];

static int lookup_cached(const sf_proto *pr, const char *name, size_t len) {
  unsigned h = (unsigned)((((uintptr_t)name >> 1) * 31u + (unsigned)pr->id) % NAME_CACHE);
  char tmp[64];
  int fi;
  if (name_cache[h].name == name && name_cache[h].proto == pr->id &&
      name_cache[h].len == len)
    return name_cache[h].fi;
  if (len == 0 || len >= sizeof tmp) return -1;
  memcpy(tmp, name, len);
  tmp[len] = '\0';
  fi = sf_field_lookup(pr, tmp);
  name_cache[h].name = name;
  name_cache[h].proto = pr->id;
  name_cache[h].len = len;
  name_cache[h].fi = fi;
  return fi;
}

static int as_is(const sf_proto *pr, int fi);

/* Field called name (len bytes) of layer li, present there (or one read
   as it is, as_is), or -1. */
static int field_named(const sf_pkt *p, int li, const char *name, size_t len) {
  const sf_proto *pr;
  int fi;
  if (li < 0 || li >= p->nlayers) return -1;
  if ((fi = lookup_cached(pr = proto_at(p, li), name, len)) < 0) return -1;
  return as_is(pr, fi) ? fi : sf_field_resolve(p, li, fi);
}

static int uint_of(const sf_pkt *p, int li, int fi, uint64_t *v) {
  sf_val val;
  const sf_field *f = &proto_at(p, li)->fields[fi];
  if ((f->type != SF_T_UINT && f->type != SF_T_FLAGS) ||
      sf_field_get(p, li, fi, &val) != SF_OK)
    return 0;
  *v = val.u;
  return 1;
}

/* Scapy's class(es) for a Raw at layer li, as the layer below says
   ("HTTP / Raw" on port 80), or NULL */
static const char *raw_class(const sf_pkt *p, int li) {
  const sf_proto *below = li > 0 ? proto_at(p, li - 1) : NULL;
  if (p->layers[li].proto != SF_RAW || !below || !below->scapy || !below->scapy->raw_cls)
    return NULL;
  return below->scapy->raw_cls(p, li - 1);
}

const char *sf_scapy_class(const sf_pkt *p, int li) {
  const sf_proto *pr = proto_at(p, li);
  const sf_variant *v;
  uint64_t x;
  const char *c;
  if ((p->layers[li].flags & SF_L_QUOTED) && pr->scapy && pr->scapy->quoted)
    return pr->scapy->quoted;
  if (pr->scapy && pr->scapy->cls && (c = pr->scapy->cls(p, li)) != NULL) return c;
  if ((c = raw_class(p, li)) != NULL) return c;
  for (v = pr->variants; v && v->name; v++) {
    int fi = v->cls ? field_named(p, li, v->field, strlen(v->field)) : -1;
    if (fi >= 0 && uint_of(p, li, fi, &x) && x == v->value) return v->cls;
  }
  return pr->name;
}

/* Does the names entry e ("res", or "res#3": the third field called res)
   name field fi of pr? */
static int names_field(const sf_proto *pr, int fi, const char *e) {
  const char *name = pr->fields[fi].name, *hash = strchr(e, '#');
  size_t n = hash ? (size_t)(hash - e) : strlen(e);
  int nth = 1, i;
  if (strlen(name) != n || memcmp(name, e, n) != 0) return 0;
  if (!hash) return 1;
  for (i = 0; i < fi; i++) nth += strcmp(pr->fields[i].name, name) == 0;
  return nth == atoi(hash + 1);
}

/* How Scapy shows field fi of pr's values: by the text() hook, in
   decimal, by name from one of the system's files (DB_*), or as sflua
   does.  Looked up once per field and thread: summaries ask it for every
   field they print, and the names list is text to compare. */
enum { SRC_OWN = -1, SRC_TEXT = -2, SRC_DECIMAL = -3, SRC_STR = -4, SRC_HEX = -5 };

static int source_uncached(const sf_proto *pr, int fi) {
  const char *const *n;
  if (!pr->scapy || !pr->scapy->names) return SRC_OWN;
  for (n = pr->scapy->names; n[0]; n += 2)
    if (strcmp(n[0], "*") == 0 || names_field(pr, fi, n[0])) {
      if (strcmp(n[1], "$") == 0) return SRC_TEXT;
      if (strcmp(n[1], "decimal") == 0) return SRC_DECIMAL;
      if (strcmp(n[1], "str") == 0) return SRC_STR;
      if (strcmp(n[1], "hex") == 0) return SRC_HEX;
      return db_of(n[1]) >= 0 ? db_of(n[1]) : SRC_OWN;
    }
  return SRC_OWN;
}

#define SOURCE_CACHE 512
static _Thread_local struct {
  const sf_proto *pr;
  int fi, src;
} source_cache[SOURCE_CACHE];

static int names_source(const sf_proto *pr, int fi) {
  unsigned h = ((unsigned)pr->id * 64u + (unsigned)fi) % SOURCE_CACHE;
  if (source_cache[h].pr != pr || source_cache[h].fi != fi) {
    source_cache[h].src = source_uncached(pr, fi);
    source_cache[h].fi = fi;
    source_cache[h].pr = pr;
  }
  return source_cache[h].src;
}

/* Is field fi of pr read as it is, not resolved first?  One with no
   alternatives, of a protocol its descriptors lay out: reading it says
   whether it is there (resolving asked the same once more: summaries read
   several fields a packet), and every reader here shows "??" or nothing
   for one not there.  Not a field a text hook shows: it shows text even
   for a field the header lacks. */
static int as_is(const sf_proto *pr, int fi) {
  return !pr->dyn && pr->alt[fi] < 0 && names_source(pr, fi) != SRC_TEXT;
}

/* A byte Python's repr of bytes shows as itself (q: the quote used) */
static int printable(unsigned c, char q) {
  return c >= 32 && c < 127 && c != '\\' && c != (unsigned char)q;
}

/* Python's repr of bytes: b'..' */
static void put_pybytes(obuf *b, const uint8_t *d, size_t n) {
  static const char hex[] = "0123456789abcdef";
  int dq = memchr(d, '\'', n) && !memchr(d, '"', n);
  char q = dq ? '"' : '\'', tmp[4] = {'\\'};
  size_t i, run;
  put(b, "b", 1);
  put(b, &q, 1);
  for (i = 0; i < n; i += run) {
    unsigned c = d[i];
    for (run = 0; i + run < n && printable(d[i + run], q); run++) {}
    if (run) {  /* as they are: most bytes of a name */
      put(b, (const char *)d + i, run);
      continue;
    }
    run = 1;
    if (c == '\\' || c == (unsigned)q) tmp[1] = (char)c, put(b, tmp, 2);
    else if (c == '\t') put(b, "\\t", 2);
    else if (c == '\n') put(b, "\\n", 2);
    else if (c == '\r') put(b, "\\r", 2);
    else tmp[1] = 'x', tmp[2] = hex[c >> 4], tmp[3] = hex[c & 15], put(b, tmp, 4);
  }
  put(b, &q, 1);
}

/* The code point of a valid UTF-8 sequence at d (n bytes), its length in
   *len; -1 when the bytes are none (Python's decoder rejects them). */
static long utf8_at(const uint8_t *d, size_t n, size_t *len) {
  unsigned c = d[0];
  long cp, min;
  size_t k, i;
  if (c < 0x80) return *len = 1, (long)c;
  if (c >= 0xc2 && c <= 0xdf) k = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) k = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) k = 4, cp = c & 0x07, min = 0x10000;
  else return -1;
  if (n < k) return -1;
  for (i = 1; i < k; i++) {
    if ((d[i] & 0xc0) != 0x80) return -1;
    cp = cp << 6 | (d[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  *len = k;
  return cp;
}

/* Python's str.isprintable for a code point past ASCII: controls,
   format characters, separators but the space, private use. */
static int py_printable(long c) {
  return !(c <= 0xa0 || c == 0xad || c == 0x1680 || (c >= 0x2000 && c <= 0x200f) ||
           (c >= 0x2028 && c <= 0x202f) || (c >= 0x205f && c <= 0x2064) ||
           c == 0x3000 || c == 0xfeff || (c >= 0xe000 && c <= 0xf8ff) ||
           (c >= 0xfff9 && c <= 0xfffb) || c >= 0xf0000);
}

/* Python's repr of the bytes decoded as UTF-8 with "backslashreplace":
   Scapy's StrField.i2repr, repr(plain_str(x)). */
static void put_pystr(obuf *b, const uint8_t *d, size_t n) {
  size_t i, len;
  int sq = 0, dq = 0;
  char q, tmp[24];  /* (room for any long: gcc checks the formats by type) */
  for (i = 0; i < n; i++) sq |= d[i] == '\'', dq |= d[i] == '"';
  q = sq && !dq ? '"' : '\'';
  put(b, &q, 1);
  for (i = 0; i < n; i += len) {
    long c = utf8_at(d + i, n - i, &len);
    if (c < 0) {  /* "\xNN" in the text: its backslash escaped by repr */
      snprintf(tmp, sizeof tmp, "\\\\x%02x", d[i]);
      len = 1;
    } else if (c == '\\' || c == q) snprintf(tmp, sizeof tmp, "\\%c", (int)c);
    else if (c == '\t') strcpy(tmp, "\\t");
    else if (c == '\n') strcpy(tmp, "\\n");
    else if (c == '\r') strcpy(tmp, "\\r");
    else if (c < 0x20 || c == 0x7f) snprintf(tmp, sizeof tmp, "\\x%02lx", c);
    else if (c < 0x80 || py_printable(c)) {
      put(b, (const char *)d + i, len);
      continue;
    } else if (c <= 0xff) snprintf(tmp, sizeof tmp, "\\x%02lx", c);
    else if (c <= 0xffff) snprintf(tmp, sizeof tmp, "\\u%04lx", c);
    else snprintf(tmp, sizeof tmp, "\\U%08lx", c);
    puts_(b, tmp);
  }
  put(b, &q, 1);
}

/* Python's str of bytes decoded as UTF-8 with backslashreplace (Scapy's
   plain_str, not its repr): whole UTF-8 sequences as they are, other
   bytes \\xNN. */
size_t sf_scapy_pystr(const uint8_t *d, size_t n, char *out, size_t cap) {
  obuf b = {out, cap, 0};
  size_t i = 0, len;
  char tmp[8];
  while (i < n) {
    if (utf8_at(d + i, n - i, &len) >= 0) {
      put(&b, (const char *)d + i, len);
      i += len;
    } else {
      snprintf(tmp, sizeof tmp, "\\x%02x", d[i++]);
      puts_(&b, tmp);
    }
  }
  return finish(&b);
}

size_t sf_scapy_pybytes(const uint8_t *d, size_t n, char *out, size_t cap) {
  obuf b = {out, cap, 0};
  put_pybytes(&b, d, n);
  return finish(&b);
}

/* v in decimal (a hot path: ports, lengths) */
static void put_decimal(obuf *b, uint64_t v) {
  char tmp[24], *e = tmp + sizeof tmp, *s = e;
  do *--s = (char)('0' + v % 10); while ((v /= 10) != 0);
  put(b, s, (size_t)(e - s));
}

static void put_number(obuf *b, const sf_field *f, uint64_t v) {
  char tmp[32];
  if (f->flags & SF_FF_SIGNED && f->bits < 64 && (v >> (f->bits - 1)) & 1) {
    snprintf(tmp, sizeof tmp, "%lld", (long long)(v | ~((UINT64_C(1) << f->bits) - 1)));
    puts_(b, tmp);
  } else if (f->flags & SF_FF_HEX) {
    snprintf(tmp, sizeof tmp, "0x%llx", (unsigned long long)v);
    puts_(b, tmp);
  } else {
    put_decimal(b, v);
  }
}

/* An integer as Scapy shows it: a name, else the number. */
static void put_uint(obuf *b, const sf_pkt *p, int li, int fi, int src,
                     uint64_t v) {
  const sf_proto *pr = proto_at(p, li);
  const sf_field *f = &pr->fields[fi];
  const char *name = NULL;
  char tmp[128];
  if (src == SRC_TEXT) {
    if (pr->scapy->text && pr->scapy->text(p, li, f->name, tmp, sizeof tmp) >= 0) {
      puts_(b, tmp);
      return;
    }
  } else if (src == SRC_DECIMAL) {
    put_decimal(b, v);  /* Scapy's plain field where ours is hexadecimal */
    return;
  } else if (src == SRC_HEX) {
    snprintf(tmp, sizeof tmp, "0x%llx", (unsigned long long)v);  /* Scapy's X...Field */
    puts_(b, tmp);
    return;
  } else if (src >= 0) {
    name = name_in(src, v);
  } else {
    name = sf_enum_name(f, v);
  }
  if (name) puts_(b, name);
  else put_number(b, f, v);
}

/* Field fi of layer li as Scapy shows it; src: its names_source. */
static void put_value(obuf *b, const sf_pkt *p, int li, int fi, int src) {
  const sf_proto *pr = proto_at(p, li);
  const sf_field *f = &pr->fields[fi];
  char tmp[128];
  sf_val v;
  if (src == SRC_TEXT && f->type != SF_T_UINT && pr->scapy->text &&
      pr->scapy->text(p, li, f->name, tmp, sizeof tmp) >= 0) {
    puts_(b, tmp);  /* Scapy's own text for it (BOOTP's chaddr) */
    return;
  }
  if (sf_field_get(p, li, fi, &v) != SF_OK) {
    puts_(b, "??");
    return;
  }
  switch (f->type) {
    case SF_T_UINT: put_uint(b, p, li, fi, src, v.u); return;
    case SF_T_FLAGS: sf_format_flags(f, v.u, tmp, sizeof tmp); break;
    case SF_T_MAC: sf_format_mac(v.p, tmp); break;
    case SF_T_IP4: sf_format_ip4(v.p, tmp); break;
    case SF_T_IP6: sf_format_ip6(v.p, tmp); break;
    default:
      if (names_source(pr, fi) == SRC_STR) put_pystr(b, v.p, v.n);
      else put_pybytes(b, v.p, v.n);
      return;
  }
  puts_(b, tmp);
}

static void put_repr(obuf *b, const sf_pkt *p, int li, int fi) {
  put_value(b, p, li, fi, names_source(proto_at(p, li), fi));
}

size_t sf_scapy_repr(const sf_pkt *p, int li, int fi, char *out, size_t cap) {
  obuf b = {out, cap, 0};
  put_repr(&b, p, li, fi);
  return finish(&b);
}

/* ---- a protocol's format ------------------------------------------------------------ */

/* The end of the directive or condition that starts at s (at '%' or
   '{'), within end: the byte after it, or NULL when it is not closed. */
static const char *skip_item(const char *s, const char *end) {
  int depth = 0;
  do {
    if (*s == '%') {
      if (s + 1 < end && strchr("%()", s[1])) s += 2;
      else {
        const char *c = memchr(s + 1, '%', (size_t)(end - s - 1));
        if (!c) return NULL;
        s = c + 1;
      }
      if (!depth) return s;
      continue;
    }
    if (*s == '{') depth++;
    else if (*s == '}') depth--;
    s++;
  } while (depth > 0 && s < end);
  return depth ? NULL : s;
}

static int hook_text(const sf_pkt *p, int li, const char *what, size_t len,
                     char *out, size_t cap) {
  const sf_proto *pr = proto_at(p, li);
  char name[32];
  if (!pr->scapy || !pr->scapy->text || len >= sizeof name) return -1;
  memcpy(name, what, len);
  name[len] = '\0';
  return pr->scapy->text(p, li, name, out, cap);
}

/* ---- compiled formats ------------------------------------------------------ */

/* A protocol's format is compiled once into ops: text, fields, hook
   texts and conditions that jump past their text when false. */
enum { OP_LIT, OP_FIELD, OP_HOOK, OP_IF };
enum { C_FIELD, C_EQ, C_BIT, C_BELOW, C_NET, C_HOOK };

typedef struct fop {
  uint8_t op, cond, neg, below, raw;
  const char *s;         /* text, or the name of a field, hook or protocol */
  size_t n;
  const char *arg;       /* C_BIT: the flag's name */
  size_t an;
  long value;            /* C_EQ */
  int next;              /* OP_IF: the op after its text */
  int fi;                /* a field of the protocol itself: its index, or -1 */
  int src;               /* and its names_source */
  int as_is;             /* and whether it is read as it is (as_is) */
} fop;

typedef struct fprog {
  const char *fmt;
  int n;
  fop ops[];
} fprog;

static void add_op(fprog *pg, const fop *o) { pg->ops[pg->n++] = *o; }

static void compile_cond(fop *o, const char *c, size_t n) {
  const char *op;
  if (n && c[0] == '!') o->neg = 1, c++, n--;
  if (n && c[0] == '$') {
    o->cond = C_HOOK, o->s = c + 1, o->n = n - 1;
    return;
  }
  if (n == 5 && memcmp(c, "^@net", 5) == 0) {
    o->cond = C_NET;
    return;
  }
  if (n && c[0] == '^') {
    o->cond = C_BELOW, o->s = c + 1, o->n = n - 1;
    return;
  }
  for (op = c; op < c + n && *op != '=' && *op != '&'; op++) {}
  o->s = c, o->n = (size_t)(op - c), o->cond = C_FIELD;
  if (op == c + n) return;
  if (*op == '=') {
    o->cond = C_EQ;
    o->value = number(op + 1, (size_t)(c + n - op - 1), 0);
  } else {
    o->cond = C_BIT, o->arg = op + 1, o->an = (size_t)(c + n - op - 1);
  }
}

static void compile_range(fprog *pg, const char *s, const char *end) {
  while (s < end) {
    const char *lit = s, *next;
    fop o;
    memset(&o, 0, sizeof o);
    while (s < end && *s != '%' && *s != '{') s++;
    if (s > lit) o.op = OP_LIT, o.s = lit, o.n = (size_t)(s - lit), add_op(pg, &o);
    if (s >= end || !(next = skip_item(s, end))) return;
    memset(&o, 0, sizeof o);
    if (*s == '%' && next == s + 2 && (s[1] == '%' || s[1] == '(' || s[1] == ')')) {
      o.op = OP_LIT, o.n = 1, o.s = s[1] == '%' ? "%" : s[1] == '(' ? "{" : "}";
      add_op(pg, &o);
    } else if (*s == '%') {
      const char *d = s + 1;
      size_t n = (size_t)(next - s - 2);
      if (n && d[0] == '$') {
        o.op = OP_HOOK, o.s = d + 1, o.n = n - 1;
      } else {
        o.op = OP_FIELD;
        if (n >= 2 && d[0] == 'r' && d[1] == ',') o.raw = 1, d += 2, n -= 2;
        if (n && d[0] == '^') o.below = 1, d++, n--;
        o.s = d, o.n = n;
      }
      add_op(pg, &o);
    } else {
      const char *colon = memchr(s, ':', (size_t)(next - s));
      int at = pg->n;
      if (colon) {
        o.op = OP_IF;
        compile_cond(&o, s + 1, (size_t)(colon - s - 1));
        add_op(pg, &o);
        compile_range(pg, colon + 1, next - 1);
        pg->ops[at].next = pg->n;
      }
    }
    s = next;
  }
}

/* The format of pr compiled, with the indices of pr's own fields it
   names found once (a field of the layer below depends on that layer). */
static fprog *compile(const sf_proto *pr, const char *fmt) {
  size_t len = strlen(fmt);
  fprog *pg = malloc(sizeof *pg + (len + 1) * sizeof(fop));
  int i;
  if (!pg) return NULL;
  pg->fmt = fmt;
  pg->n = 0;
  compile_range(pg, fmt, fmt + len);
  for (i = 0; i < pg->n; i++) {
    fop *o = &pg->ops[i];
    int named = o->op == OP_FIELD || (o->op == OP_IF && o->cond != C_HOOK &&
                                      o->cond != C_NET && o->cond != C_BELOW);
    o->fi = named && !o->below ? lookup_cached(pr, o->s, o->n) : -1;
    if (o->fi >= 0) o->src = names_source(pr, o->fi), o->as_is = as_is(pr, o->fi);
  }
  return pg;
}

/* The field op o names in layer li, present there (or read as it is), or -1. */
static int op_field(const sf_pkt *p, int li, const fop *o) {
  if (o->fi >= 0 && li >= 0 && li < p->nlayers)
    return o->as_is ? o->fi : sf_field_resolve(p, li, o->fi);
  return field_named(p, li, o->s, o->n);
}

/* compiled formats by protocol id, made on first use: a protocol's
   mysummary and that of the class it adds after its layer (added_fmt) */
static _Atomic(fprog *) progs[2][SF_MAX_PROTOS];
static pthread_mutex_t progs_lock = PTHREAD_MUTEX_INITIALIZER;

static const fprog *prog_of(const sf_proto *pr, int after) {
  const char *fmt = after ? pr->scapy->added_fmt : pr->scapy->fmt;
  _Atomic(fprog *) *slot = &progs[after][pr->id];
  fprog *pg = atomic_load_explicit(slot, memory_order_acquire);
  if (pg && pg->fmt == fmt) return pg;
  pthread_mutex_lock(&progs_lock);
  pg = atomic_load_explicit(slot, memory_order_relaxed);
  if (!pg || pg->fmt != fmt) {
    fprog *old = pg;
    pg = compile(pr, fmt);
    atomic_store_explicit(slot, pg, memory_order_release);
    (void)old;  /* a format replaced (an id reused): the old one may be in use */
  }
  pthread_mutex_unlock(&progs_lock);
  return pg;
}

/* Does the condition of op o hold for layer li? */
static int holds(const sf_pkt *p, int li, const fop *o) {
  char tmp[128];
  uint64_t v;
  int fi, yes = 0;
  const sf_proto *below = li > 0 ? proto_at(p, li - 1) : NULL;
  switch (o->cond) {
    case C_HOOK: yes = hook_text(p, li, o->s, o->n, tmp, sizeof tmp) >= 0; break;
    case C_NET: yes = below && below->facts && below->facts->role == SF_ROLE_NET; break;
    case C_BELOW:
      yes = below && strlen(below->name) == o->n && memcmp(below->name, o->s, o->n) == 0;
      break;
    default:
      if ((fi = op_field(p, li, o)) < 0 || !uint_of(p, li, fi, &v)) break;
      if (o->cond == C_FIELD) yes = v != 0;
      else if (o->cond == C_EQ) yes = (long)v == o->value;
      else {  /* field&NAME: the flag bit of that name */
        const sf_enum *e;
        for (e = proto_at(p, li)->fields[fi].enums; e && e->name; e++)
          if (strlen(e->name) == o->an && memcmp(e->name, o->arg, o->an) == 0) {
            yes = (v >> e->value) & 1;
            break;
          }
      }
  }
  return yes != o->neg;
}

static void field_op(obuf *b, const sf_pkt *p, int li, const fop *o) {
  uint64_t v;
  int fi;
  if (o->below) li--;
  if ((fi = op_field(p, li, o)) < 0) puts_(b, "??");
  else if (o->raw && uint_of(p, li, fi, &v)) put_decimal(b, v);
  else if (fi == o->fi) put_value(b, p, li, fi, o->src);
  else put_repr(b, p, li, fi);
}

/* The text() hook's text into b, however long (a TLS record names each
   of its messages). */
static void hook_op(obuf *b, const sf_pkt *p, int li, const fop *o) {
  char tmp[256], *big;
  int n = hook_text(p, li, o->s, o->n, tmp, sizeof tmp);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    put(b, tmp, (size_t)n);
    return;
  }
  if ((big = malloc((size_t)n + 1)) == NULL) return;
  if (hook_text(p, li, o->s, o->n, big, (size_t)n + 1) == n) put(b, big, (size_t)n);
  free(big);
}

static void run(obuf *b, const sf_pkt *p, int li, const fprog *pg) {
  int i = 0;
  while (i < pg->n) {
    const fop *o = &pg->ops[i];
    switch (o->op) {
      case OP_LIT: put(b, o->s, o->n); i++; break;
      case OP_FIELD: field_op(b, p, li, o); i++; break;
      case OP_HOOK: hook_op(b, p, li, o); i++; break;
      default: i = holds(p, li, o) ? i + 1 : o->next;
    }
  }
}

/* Layer li's mysummary into b (nothing when it has none); after: that
   of the class Scapy has after it (sf_scapy.added). */
static void mysummary(obuf *b, const sf_pkt *p, int li, int after) {
  const sf_proto *pr = proto_at(p, li);
  const fprog *pg;
  if (!pr->scapy || !(after ? pr->scapy->added_fmt : pr->scapy->fmt) ||
      (!after && (p->layers[li].flags & SF_L_QUOTED) && pr->scapy->quoted))
    return;
  if ((pg = prog_of(pr, after))) run(b, p, li, pg);
}

/* ---- Scapy's layers of a packet -------------------------------------------------- */

/* Scapy's layers are sflua's but for those hidden (records of a message,
   layers a layer before them keeps: sf_scapy.keeps), layers Scapy has
   none of (cls ""), and classes Scapy has and sflua not (sf_scapy.added,
   before or after a layer).  A layer's units: the class before it, the
   layer, the class after it. */
enum { U_BEFORE, U_LAYER, U_AFTER };

/* What the summary knows of each layer (a byte each): bit k, unit k said
   its text on the way in; HIDDEN, the layer is none of Scapy's. */
#define HIDDEN 0x80

static int is_inner(const sf_proto *pr) { return pr->scapy && pr->scapy->inner; }

/* Which of p's layers are none of Scapy's: st[li] is HIDDEN or 0.  A
   record of the message before it, or a layer the keeper keeps: the last
   layer before it with a keeps hook that is Scapy's, across the inner
   layers, records and layers it keeps after it.  Returns whether the
   summary can take the short way: no layer adds classes or needs
   another's text. */
static int hidden_layers(const sf_pkt *p, uint8_t *st) {
  int li, keeper = -1, plain = 1;
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = proto_at(p, li);
    const sf_scapy *sc = pr->scapy;
    st[li] = HIDDEN;
    if (pr->record && li && !(sc && sc->layer)) continue;
    if (keeper >= 0 && proto_at(p, keeper)->scapy->keeps(p, keeper, li)) continue;
    st[li] = 0;
    if (sc && (sc->needs || sc->added)) plain = 0;
    if (sc && sc->keeps) keeper = li;
    else if (!is_inner(pr) && !pr->record) keeper = -1;
  }
  return plain;
}

/* The class Scapy has right before (after 0) or after layer li that
   sflua has no layer for, or NULL */
static const char *added_class(const sf_pkt *p, int li, int after) {
  const sf_scapy *sc = proto_at(p, li)->scapy;
  return sc && sc->added ? sc->added(p, li, after) : NULL;
}

/* The class of unit k of layer li, or NULL when it is none of Scapy's. */
static const char *unit_class(const sf_pkt *p, const uint8_t *st, int li, int k) {
  const char *c;
  if (st[li] & HIDDEN) return NULL;
  if (k != U_LAYER) return added_class(p, li, k == U_AFTER);
  c = sf_scapy_class(p, li);
  return *c ? c : NULL;
}

/* Is unit k of layer li one of Scapy's layers?  (unit_class without
   naming it: the way in asks it of layers whose class it does not need) */
static int unit_is(const sf_pkt *p, const uint8_t *st, int li, int k) {
  const sf_proto *pr = proto_at(p, li);
  const char *c;
  if (k != U_LAYER || (st[li] & HIDDEN)) return unit_class(p, st, li, k) != NULL;
  if ((p->layers[li].flags & SF_L_QUOTED) || !pr->scapy || !pr->scapy->cls) return 1;
  return !(c = pr->scapy->cls(p, li)) || *c;
}

/* Are there units of classes sflua has no layer for around layer li to
   visit?  Only when the protocol declares such. */
static int adds(const sf_pkt *p, int li) {
  const sf_scapy *sc = proto_at(p, li)->scapy;
  return sc && sc->added;
}

#define MAX_NEEDED 8
#define MAX_KEPT 8

/* The state of a summary on its way in: what the layers inside have
   said (their texts, the units that said them: st) and which classes
   they need to say theirs. */
typedef struct inward {
  obuf t;
  uint8_t *st;
  const char *needed[MAX_NEEDED];
  int nneeded, found, nkept;
  struct { int li, k; size_t at, n; } kept[MAX_KEPT];
} inward;

/* Unit k of layer li's mysummary into b: the layer's, or that of the
   class Scapy has after it (a class before has none) */
static void unit_summary(obuf *b, const sf_pkt *p, int li, int k) {
  if (k != U_BEFORE) mysummary(b, p, li, k == U_AFTER);
}

/* Unit k of layer li says its mysummary, if it has one to say: noted,
   and the text kept for the way out.  Did it? */
static int say(const sf_pkt *p, int li, int k, inward *w) {
  size_t at = w->t.n;
  unit_summary(&w->t, p, li, k);
  if (w->t.n == at) return 0;
  w->found = 1;
  w->st[li] |= (uint8_t)(1u << k);
  if (w->nkept < MAX_KEPT && w->t.n < w->t.cap) {
    w->kept[w->nkept].li = li, w->kept[w->nkept].k = k;
    w->kept[w->nkept].at = at, w->kept[w->nkept].n = w->t.n - at;
    w->nkept++;
  }
  return 1;
}

/* A unit on the way in: its mysummary when nothing inside it said
   something or a text inside needs its class. */
static void take_in(const sf_pkt *p, int li, int k, inward *w) {
  const sf_scapy *sc = proto_at(p, li)->scapy;
  const char *c;
  int want = !w->found, i;
  if (!want && (c = unit_class(p, w->st, li, k)) != NULL)
    for (i = 0; i < w->nneeded && !want; i++) want = strcmp(w->needed[i], c) == 0;
  if (!want || !unit_is(p, w->st, li, k) || !say(p, li, k, w)) return;
  if (k == U_LAYER && sc->needs && w->nneeded < MAX_NEEDED) w->needed[w->nneeded++] = sc->needs;
}

/* The way in when no layer adds classes or needs another's text (the
   short way: most packets): the innermost layer that says something. */
static void take_innermost(const sf_pkt *p, inward *w) {
  int li;
  for (li = p->nlayers - 1; li >= 0; li--)
    if (unit_is(p, w->st, li, U_LAYER) && say(p, li, U_LAYER, w)) return;
}

/* The way in otherwise: from the innermost unit out, until one has said
   something and no text said needs a class further out. */
static void take_all(const sf_pkt *p, inward *w) {
  int li, around;
  for (li = p->nlayers - 1; li >= 0 && (!w->found || w->nneeded); li--) {
    if ((around = adds(p, li))) take_in(p, li, U_AFTER, w);
    take_in(p, li, U_LAYER, w);
    if (around) take_in(p, li, U_BEFORE, w);
  }
}

/* The text unit k of layer li said on the way in (w). */
static void put_said(obuf *b, const sf_pkt *p, int li, int k, const inward *w) {
  int i;
  for (i = 0; i < w->nkept; i++)
    if (w->kept[i].li == li && w->kept[i].k == k) {
      put(b, w->t.s + w->kept[i].at, w->kept[i].n);
      return;
    }
  unit_summary(b, p, li, k);  /* (not kept: made again) */
}

/* The way out: every unit of Scapy's of layers from to to - 1, " / "
   between them, as the text it said on the way in (w; st says which
   did) or its class name.  plain: no layer adds classes (hidden_layers). */
static void put_units(obuf *b, const sf_pkt *p, const uint8_t *st, int plain,
                      const inward *w, int from, int to) {
  const char *c = NULL;
  int li, k, lo, hi, first = 1, said;
  for (li = from; li < to; li++) {
    lo = hi = U_LAYER;
    if (!plain && adds(p, li)) lo = U_BEFORE, hi = U_AFTER;
    for (k = lo; k <= hi; k++) {
      said = st[li] >> k & 1;
      if (!said && !(c = unit_class(p, st, li, k))) continue;  /* (one that said is one) */
      if (!first) put(b, " / ", 3);
      first = 0;
      if (said) put_said(b, p, li, k, w);
      else puts_(b, c);
    }
  }
}

long sf_scapy_units(const sf_pkt *p, int li, char *out, size_t cap) {
  obuf b = {out, cap, 0};
  uint8_t st[SF_MAX_LAYERS];
  size_t n;
  put_units(&b, p, st, hidden_layers(p, st), NULL, li, li + 1);  /* (no unit said a text) */
  n = finish(&b);
  return n ? (long)n : -1;
}

/* Scapy's _do_summary: from the innermost layer out, a layer gives its
   mysummary when no layer inside it has said something, or when one
   that did needs its class; every other layer is its class name.  The
   texts said are kept for the way out (the first MAX_KEPT; others are
   made again). */
size_t sf_scapy_summary(const sf_pkt *p, char *out, size_t cap) {
  obuf b = {out, cap, 0};
  char tmp[1024];
  uint8_t st[SF_MAX_LAYERS];
  inward w;
  int plain;
  if (p->nlayers == 0) return finish(&b);
  plain = hidden_layers(p, st);
  w.t.s = tmp, w.t.cap = sizeof tmp, w.t.n = 0;
  w.st = st;
  w.nneeded = w.found = w.nkept = 0;
  if (plain) take_innermost(p, &w);
  else take_all(p, &w);
  put_units(&b, p, st, plain, &w, 0, p->nlayers);
  return finish(&b);
}

/* ---- sprintf ------------------------------------------------------------------------ */

typedef struct spx {
  const sf_pkt *p;
  char *err;
  size_t errcap;
  int bad;
} spx;

static int fail(spx *x, const char *what, const char *d, size_t n) {
  if (!x->bad && x->errcap)
    snprintf(x->err, x->errcap, "%s [%%%.*s%%]", what, (int)(n > 40 ? 40 : n), d);
  x->bad = 1;
  return -1;
}

/* Is layer li of class name?  Scapy's class, or the protocol's name
   unless the layer is quoted (an IP layer in an ICMP error is IPerror,
   not IP, as in Scapy; ICMPv6 names every ICMPv6 message). */
static int is_class(const sf_pkt *p, int li, const char *name, size_t n) {
  const char *c = sf_scapy_class(p, li), *pn = proto_at(p, li)->name;
  if (strlen(c) == n && memcmp(c, name, n) == 0) return 1;
  if (p->layers[li].flags & SF_L_QUOTED) return 0;
  return strlen(pn) == n && memcmp(pn, name, n) == 0;
}

static int has_class(const sf_pkt *p, const char *name, size_t n) {
  int li;
  for (li = 0; li < p->nlayers; li++)
    if (is_class(p, li, name, n)) return 1;
  return 0;
}

/* A printf conversion Scapy's ("%" + f) % val would make: flags, width,
   precision and one of s d i x X o c.  0 if f is not one. */
static int conversion(const char *f, size_t n, char *spec, char *conv) {
  size_t i = 0;
  if (n == 0 || n > 12) return 0;
  while (i < n - 1 && strchr("-+ #0123456789.", f[i])) i++;
  if (i != n - 1 || !strchr("sdixXoc", f[n - 1])) return 0;
  spec[0] = '%';
  memcpy(spec + 1, f, n);
  spec[n + 1] = '\0';
  *conv = f[n - 1];
  return 1;
}

static void put_time(obuf *b, int64_t ns) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  char tmp[64];
  localtime_r(&t, &tm);
  strftime(tmp, sizeof tmp, "%H:%M:%S", &tm);
  puts_(b, tmp);
  snprintf(tmp, sizeof tmp, ".%06d", (int)((ns % 1000000000) / 1000));
  puts_(b, tmp);
}

/* The field called fld of layer li's protocol, present in this header
   or not (-1: no such name). */
static int field_any(const sf_pkt *p, int li, const char *fld, size_t fn) {
  char tmp[64];
  if (fn == 0 || fn >= sizeof tmp) return -1;
  memcpy(tmp, fld, fn);
  tmp[fn] = '\0';
  return sf_field_lookup(proto_at(p, li), tmp);
}

/* The layer a sprintf directive names, as Scapy finds it: the num-th
   layer of class cls (NULL: the outermost layer, whose class Scapy
   assumes) that has the field or has a layer after it with the field
   (Scapy's attribute lookup goes on into the payload).  Returns the
   layer with the field (*from: the layer named; Scapy shows the value as
   a number unless the two are the same) and *any, the field's index; *fi
   is the field present in that header, or -1 when the header lacks it:
   Scapy then shows the field's default. */
static int find_target(const sf_pkt *p, const char *cls, size_t cn, int num,
                       const char *fld, size_t fn, int *fi, int *any,
                       int *from) {
  int li, lj;
  for (li = 0; li < p->nlayers; li++) {
    if (cls ? !is_class(p, li, cls, cn) : li > 0) continue;
    for (lj = li; lj < p->nlayers; lj++)
      if ((*any = field_any(p, lj, fld, fn)) >= 0) break;
    if (lj == p->nlayers) {
      if (!cls) cls = sf_scapy_class(p, 0), cn = strlen(cls);  /* then any such */
      continue;
    }
    if (--num == 0) {
      *fi = sf_field_resolve(p, lj, *any);
      *from = li;
      return lj;
    }
  }
  return -1;
}

/* A field's default as Scapy shows it (a conditional field absent here). */
static void put_default(obuf *b, const sf_pkt *p, int li, int fi) {
  const sf_field *f = &proto_at(p, li)->fields[fi];
  if (f->type == SF_T_UINT) put_uint(b, p, li, fi, names_source(proto_at(p, li), fi), f->def);
  else if (f->type == SF_T_FLAGS) {
    char tmp[64];
    sf_format_flags(f, f->def, tmp, sizeof tmp);
    puts_(b, tmp);
  } else if (f->type == SF_T_BYTES) puts_(b, "b''");
  else puts_(b, f->defstr ? f->defstr : "None");
}

/* One %...% directive of a user's sprintf. */
static void user_directive(spx *x, obuf *b, const char *d, size_t n) {
  const char *comma = memchr(d, ',', n), *cf = d, *dot, *colon;
  char spec[16], conv = 's', tmp[512];
  size_t fl = 1, cn = 0;
  int raw = 0, num = 1, li, fi = -1, any = 0, from = 0;
  const char *cls = NULL;
  if (comma) {
    fl = (size_t)(comma - d);
    if (fl && d[fl - 1] == 'r') raw = 1, fl--;
    cf = comma + 1;
  }
  if (!comma) strcpy(spec, "%s");
  else if (fl == 0) strcpy(spec, "%s");
  else if (!conversion(d, fl, spec, &conv)) {
    fail(x, "bad format string", d, n);
    return;
  }
  dot = memchr(cf, '.', (size_t)(d + n - cf));
  if (dot) {
    cls = cf;
    cn = (size_t)(dot - cf);
    if ((colon = memchr(cf, ':', cn))) {
      long v = number(colon + 1, (size_t)(dot - colon - 1), 10);
      if (v < 1) {
        fail(x, "bad format string", d, n);
        return;
      }
      num = (int)v;
      cn = (size_t)(colon - cf);
    }
    cf = dot + 1;
    if (cn == 0) cls = NULL;
  }
  if (cls == NULL && dot && (size_t)(d + n - cf) == 4 && memcmp(cf, "time", 4) == 0) {
    obuf t = {tmp, sizeof tmp, 0};
    char out[600];
    put_time(&t, x->p->time_ns);
    finish(&t);
    snprintf(out, sizeof out, conv == 's' ? spec : "%s", tmp);
    puts_(b, out);
    return;
  }
  li = find_target(x->p, cls, cn, num, cf, (size_t)(d + n - cf), &fi, &any, &from);
  if (li >= 0 && li != from && !raw && conv == 's') raw = 1;  /* Scapy's getattr */
  if (li < 0) {
    puts_(b, "??");
    return;
  }
  if (fi < 0) {  /* not in this header: its default */
    obuf t = {tmp, sizeof tmp, 0};
    char out[600];
    put_default(&t, x->p, li, any);
    finish(&t);
    snprintf(out, sizeof out, conv == 's' ? spec : "%s", tmp);
    puts_(b, out);
    return;
  }
  if (raw || strchr("dixXoc", conv)) {
    uint64_t v;
    if (conv == 's' && proto_at(x->p, li)->fields[fi].type == SF_T_FLAGS) {
      raw = 0;  /* Scapy's "%s" of a FlagValue is its names */
    } else if (!uint_of(x->p, li, fi, &v)) {
      if (conv != 's') {
        fail(x, "a number conversion of a field that is no number", d, n);
        return;
      }
      raw = 0;
    } else if (conv == 's') {
      snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
      {
        char out[600];
        snprintf(out, sizeof out, spec, tmp);
        puts_(b, out);
      }
      return;
    } else {
      char out[600];
      snprintf(out, sizeof out, spec, (unsigned long long)v);
      puts_(b, out);
      return;
    }
  }
  if (!raw && conv != 's') {
    fail(x, "a number conversion needs the raw value (r)", d, n);
    return;
  }
  {
    obuf t = {tmp, sizeof tmp, 0};
    char out[600];
    put_repr(&t, x->p, li, fi);
    finish(&t);
    snprintf(out, sizeof out, spec, tmp);
    puts_(b, out);
  }
}

static void user_eval(spx *x, obuf *b, const char *s, const char *end) {
  while (s < end && !x->bad) {
    const char *lit = s, *next;
    while (s < end && *s != '%' && *s != '{') s++;
    put(b, lit, (size_t)(s - lit));
    if (s >= end) return;
    if (!(next = skip_item(s, end))) {
      fail(x, *s == '%' ? "unclosed directive" : "unclosed condition", s + 1,
           (size_t)(end - s - 1));
      return;
    }
    if (*s == '%' && next == s + 2 && strchr("%()", s[1])) {
      put(b, s[1] == '%' ? "%" : s[1] == '(' ? "{" : "}", 1);
    } else if (*s == '%') {
      user_directive(x, b, s + 1, (size_t)(next - s - 2));
    } else {
      const char *c = s + 1, *colon = memchr(s, ':', (size_t)(next - s));
      int neg;
      if (!colon) {
        fail(x, "bad condition (expected {layer:text})", s + 1, (size_t)(next - s - 2));
        return;
      }
      neg = *c == '!';
      c += neg;
      if (has_class(x->p, c, (size_t)(colon - c)) != neg)
        user_eval(x, b, colon + 1, next - 1);
    }
    s = next;
  }
}

long sf_scapy_sprintf(const sf_pkt *p, const char *fmt, char *out, size_t cap,
                      char *err, size_t errcap) {
  spx x = {p, err, errcap, 0};
  obuf b = {out, cap, 0};
  user_eval(&x, &b, fmt, fmt + strlen(fmt));
  finish(&b);
  return x.bad ? -1 : (long)b.n;
}
