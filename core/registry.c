/*
 * registry.c -- protocols by name, named dissector tables, bindings and
 * heuristics.
 *
 * A protocol registers itself (sf_register) with everything about it in
 * its descriptor: its fields, the tables it reads to find what follows
 * it (next_table), and the places it takes in the tables of the layers
 * below it.  Ids come from registration; other code finds a protocol by
 * its name or by a table ("ethertype" 0x0800), never by a number fixed in
 * advance.  Tables are created by the first protocol that names them, so
 * the order protocols register in does not matter.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sf.h"

sf_proto *sf_protos_[SF_MAX_PROTOS];
int sf_nprotos_;

/* ---- tables ------------------------------------------------------------- */

#define MAX_TABLES SF_MAX_TABLES

int16_t *sf_table_direct_[SF_MAX_TABLES];
uint32_t sf_table_dlen_[SF_MAX_TABLES];
uint8_t sf_table_big_[SF_MAX_TABLES];

typedef struct table {
  char *name;
} table;

static table tables[MAX_TABLES];
static int ntables;

/* An entry: in table tab, value means upper follows (if accept agrees).
   Entries with the same (tab, value) are chained, newest first, so a
   later binding (a user's) shadows an earlier one until removed. */
typedef struct entry {
  uint64_t value;
  uint16_t tab, upper;
  int8_t fi;             /* field builders fill (-1: the table's first) */
  uint8_t flags;         /* SF_PL_* */
  int32_t next;          /* the entry it shadows, -1 */
  sf_accept_fn accept;
} entry;

static entry *entries;   /* in order added */
static size_t nentries, capentries;

/* Two open-addressing hashes, at most half full, rebuilt whenever entries
   change (rare: registration).  (tab, value) -> the newest entry, asked on
   every layer parsed, keeps its key in the slot so a probe reads one cache
   line; (tab, upper) -> the entry whose value builders write holds entry
   indices + 1 (0: empty). */
typedef struct slot {
  uint64_t value;
  uint32_t tab;
  uint32_t at;           /* entry index + 1; 0: empty */
} slot;

static slot *fwd;
static uint32_t *rev;
static size_t nslots;

static size_t hash2(uint64_t a, uint64_t b) {
  uint64_t k = a ^ (b << 40) ^ (b >> 24);
  return (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (nslots - 1);
}

static inline int find_fwd(int tab, uint64_t value) {
  size_t i;
  if (!nslots) return -1;
  for (i = hash2(value, (uint64_t)tab); fwd[i].at; i = (i + 1) & (nslots - 1))
    if (fwd[i].value == value && fwd[i].tab == (uint32_t)tab) return (int)fwd[i].at - 1;
  return -1;
}

static int find_rev(int tab, int upper) {
  size_t i;
  if (!nslots) return -1;
  for (i = hash2((uint64_t)upper, (uint64_t)tab + 0x10000); rev[i];
       i = (i + 1) & (nslots - 1)) {
    const entry *e = &entries[rev[i] - 1];
    if (e->tab == tab && e->upper == upper) return (int)rev[i] - 1;
  }
  return -1;
}

/* The direct map of table t (sf_table_direct_), made again from its
   entries' chains: sized to the largest value below 65536. */
static int remap(int t) {
  uint32_t n = 0;
  size_t i;
  int16_t *d;
  sf_table_big_[t] = 0;
  for (i = 0; i < nentries; i++) {
    if (entries[i].tab != t) continue;
    if (entries[i].value > 0xffff) sf_table_big_[t] = 1;
    else if (entries[i].value + 1 > n) n = (uint32_t)entries[i].value + 1;
  }
  d = n ? calloc(n, sizeof *d) : NULL;
  if (n && !d) return SF_E_NOMEM;
  for (i = 0; i < nentries; i++) {
    const entry *e = &entries[i];
    int at;
    if (e->tab != t || e->value > 0xffff) continue;
    at = find_fwd(t, e->value);  /* the chain's newest */
    d[e->value] = (entries[at].accept || entries[at].next >= 0)
                      ? -1 : (int16_t)(entries[at].upper + 1);
  }
  free(sf_table_direct_[t]);
  sf_table_direct_[t] = d;
  sf_table_dlen_[t] = n;
  return SF_OK;
}

/* Index every entry again: chains newest first, the first buildable entry
   of each (tab, upper) for builders. */
static int reindex(int changed) {
  size_t want = 256, i;
  slot *f;
  uint32_t *r;
  int t;
  while (want < 2 * nentries) want *= 2;
  f = calloc(want, sizeof *f);
  r = calloc(want, sizeof *r);
  if (!f || !r) {
    free(f);
    free(r);
    return SF_E_NOMEM;
  }
  free(fwd);
  free(rev);
  fwd = f;
  rev = r;
  nslots = want;
  for (i = 0; i < nentries; i++) {
    entry *e = &entries[i];
    size_t s;
    int prev = find_fwd(e->tab, e->value);
    e->next = prev;
    for (s = hash2(e->value, e->tab); fwd[s].at; s = (s + 1) & (nslots - 1))
      if (fwd[s].tab == e->tab && fwd[s].value == e->value) break;
    fwd[s].value = e->value;
    fwd[s].tab = e->tab;
    fwd[s].at = (uint32_t)i + 1;  /* the newest of the chain */
    if (!(e->flags & SF_PL_PARSE_ONLY) && find_rev(e->tab, e->upper) < 0) {
      for (s = hash2((uint64_t)e->upper, (uint64_t)e->tab + 0x10000); rev[s];
           s = (s + 1) & (nslots - 1)) {}
      rev[s] = (uint32_t)i + 1;
    }
  }
  for (t = 0; t < ntables; t++)
    if ((changed < 0 || t == changed) && remap(t) != SF_OK) return SF_E_NOMEM;
  return SF_OK;
}

int sf_table_find(const char *name) {
  int t;
  for (t = 0; t < ntables; t++)
    if (strcmp(tables[t].name, name) == 0) return t;
  return -1;
}

int sf_table(const char *name) {
  int t = sf_table_find(name);
  if (t >= 0) return t;
  t = ntables;
  if (ntables == MAX_TABLES) return SF_E_TOOBIG;
  if (!(tables[t].name = strdup(name))) return SF_E_NOMEM;
  return ntables++;
}

const char *sf_table_name(int tab) {
  return tab >= 0 && tab < ntables ? tables[tab].name : NULL;
}

static int add_entry(int tab, uint64_t value, int upper, int fi, int flags,
                     sf_accept_fn accept) {
  size_t i;
  entry *e;
  if (tab < 0 || tab >= ntables || upper < 0 || upper >= SF_MAX_PROTOS)
    return SF_E_VALUE;
  for (i = 0; i < nentries; i++)  /* the same binding twice: once */
    if (entries[i].tab == tab && entries[i].value == value &&
        entries[i].upper == upper && entries[i].accept == accept)
      return SF_OK;
  if (nentries == capentries) {
    size_t cap = capentries ? capentries * 2 : 128;
    if (!(e = realloc(entries, cap * sizeof *e))) return SF_E_NOMEM;
    entries = e;
    capentries = cap;
  }
  e = &entries[nentries++];
  e->value = value;
  e->tab = (uint16_t)tab;
  e->upper = (uint16_t)upper;
  e->fi = (int8_t)fi;
  e->flags = (uint8_t)flags;
  e->accept = accept;
  return reindex(tab);
}

int sf_table_add(int tab, uint64_t value, int upper, int flags,
                 sf_accept_fn accept) {
  return add_entry(tab, value, upper, -1, flags, accept);
}

int sf_table_remove(int tab, uint64_t value, int upper) {
  size_t i, j = 0;
  for (i = 0; i < nentries; i++) {
    const entry *e = &entries[i];
    int match = e->tab == tab && e->upper == upper &&
                (value == UINT64_MAX || e->value == value);
    if (!match) entries[j++] = *e;
  }
  nentries = j;
  return reindex(tab);
}

int sf_table_lookup(int tab, uint64_t value, const sf_pkt *p, int li,
                    const uint8_t *h, size_t n) {
  int at;
  int fast = sf_table_fast(tab, value);
  if (fast != -2) return fast;
  for (at = find_fwd(tab, value); at >= 0; at = entries[at].next)
    if (!entries[at].accept || entries[at].accept(p, li, h, n)) return entries[at].upper;
  return -1;
}

int sf_table_peek(int tab, uint64_t value) {
  int at = tab >= 0 && tab < ntables ? find_fwd(tab, value) : -1;
  return at >= 0 ? entries[at].upper : -1;
}

int sf_table_next(int tab, size_t *cursor, uint64_t *value, int *upper) {
  while (*cursor < nentries) {
    const entry *e = &entries[(*cursor)++];
    if (e->tab != tab) continue;
    *value = e->value;
    *upper = e->upper;
    return 1;
  }
  return 0;
}

static int table_entry(int tab, int upper) {
  return tab >= 0 ? find_rev(tab, upper) : -1;
}

int sf_table_flags(int tab, int upper) {
  int at = table_entry(tab, upper);
  return at >= 0 ? entries[at].flags : 0;
}

int sf_table_value(int tab, int upper, uint64_t *value) {
  int at = table_entry(tab, upper);
  if (at < 0) return 0;
  *value = entries[at].value;
  return 1;
}

/* ---- protocols ------------------------------------------------------------ */

static void plain_key(sf_proto *pr, int k, int fi);

static int hexdigit(int c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* A variable field's default is hex text placed at its bit offset. */
static void hex_default(sf_proto *pr, const sf_field *f) {
  size_t i, n = f->defstr ? strlen(f->defstr) / 2 : 0;
  for (i = 0; i < n && f->bitoff / 8u + i < pr->minlen; i++)
    pr->tmpl[f->bitoff / 8u + i] =
        (uint8_t)(hexdigit(f->defstr[2 * i]) << 4 | hexdigit(f->defstr[2 * i + 1]));
}

static void uint_default(sf_proto *pr, const sf_field *f) {
  if (f->flags & SF_FF_LE) {
    unsigned b;
    for (b = 0; b < f->bits / 8u; b++)
      pr->tmpl[f->bitoff / 8u + b] = (uint8_t)(f->def >> (8 * b));
  } else {
    sf_setbits(pr->tmpl, f->bitoff, f->bits, f->def);
  }
}

static void addr_default(sf_proto *pr, const sf_field *f) {
  uint8_t addr[16];
  int ok = f->defstr &&
           (f->type == SF_T_MAC ? sf_parse_mac(f->defstr, addr)
            : f->type == SF_T_IP4 ? sf_parse_ip4(f->defstr, addr)
                                  : sf_parse_ip6(f->defstr, addr)) == SF_OK;
  if (ok) memcpy(pr->tmpl + f->bitoff / 8u, addr, f->bits / 8u);
}

/* Build the default header from the field defaults. */
static int make_template(sf_proto *pr) {
  int i;
  pr->tmpl = calloc(1, pr->minlen ? pr->minlen : 1);
  if (!pr->tmpl) return SF_E_NOMEM;
  if (pr->deftmpl) {  /* run-time protocols bring their own, and those
                         with integers after variable parts */
    memcpy(pr->tmpl, pr->deftmpl, pr->minlen);
    return SF_OK;
  }
  for (i = 0; i < pr->nfields; i++) {
    const sf_field *f = &pr->fields[i];
    if (f->type == SF_T_BYTES) {
      hex_default(pr, f);
      continue;
    }
    if (f->flags & (SF_FF_AT | SF_FF_VARINT)) continue;  /* deftmpl has them */
    if (f->bitoff + f->bits > pr->minlen * 8u || (f->flags & SF_FF_TRAIL)) continue;
    if (f->cond && pr->present && !pr->present(NULL, pr->tmpl, pr->minlen, f->cond))
      continue;
    if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) uint_default(pr, f);
    else addr_default(pr, f);
  }
  return SF_OK;
}

/* Fields sharing a name (variants of ICMP, say) are chained. */
static int link_alternates(sf_proto *pr) {
  int i, j;
  pr->alt = malloc(pr->nfields ? pr->nfields : 1);
  if (!pr->alt) return SF_E_NOMEM;
  for (i = 0; i < pr->nfields; i++) {
    pr->alt[i] = -1;
    for (j = i + 1; j < pr->nfields; j++)
      if (strcmp(pr->fields[i].name, pr->fields[j].name) == 0) {
        pr->alt[i] = (int8_t)j;
        break;
      }
  }
  return SF_OK;
}

/* A fact's field name as an index; a name the protocol lacks is a bug in
   its descriptor, caught by the registry's test. */
static int8_t role_field(const sf_proto *pr, const char *name, int *bad) {
  int fi;
  if (!name) return -1;
  fi = sf_field_find(pr, name);
  if (fi < 0) *bad = 1;
  return (int8_t)fi;
}

static int resolve_facts(sf_proto *pr) {
  const sf_facts *f = pr->facts;
  sf_roles *r = &pr->at;
  int bad = 0;
  static const sf_facts none;
  if (!f) f = &none;
  r->src = role_field(pr, f->src, &bad);
  r->dst = role_field(pr, f->dst, &bad);
  r->vlan = role_field(pr, f->vlan, &bad);
  r->seq = role_field(pr, f->seq, &bad);
  r->ack = role_field(pr, f->ack, &bad);
  r->flags = role_field(pr, f->flags, &bad);
  r->options = role_field(pr, f->options, &bad);
  r->id = role_field(pr, f->id, &bad);
  r->seqno = role_field(pr, f->seqno, &bad);
  r->cksum = role_field(pr, f->cksum, &bad);
  r->body = role_field(pr, f->body, &bad);
  r->lladdr = role_field(pr, f->lladdr, &bad);
  r->lladdr_len = role_field(pr, f->lladdr_len, &bad);
  r->target = role_field(pr, f->target, &bad);
  r->op = role_field(pr, f->op, &bad);
  r->lsrc = role_field(pr, f->lsrc, &bad);
  pr->header_checksum = f->cksum_cover == SF_CK_HEADER;
  return bad ? SF_E_VALUE : SF_OK;
}

/* A field as an sf_wsfield names it: "O", or "O#2", the second field
   named O. */
static int ws_field_exists(const sf_proto *pr, const char *name) {
  const char *hash = strchr(name, '#');
  int i, nth, seen = 0;
  if (!hash) return sf_field_find(pr, name) >= 0;
  nth = atoi(hash + 1);
  for (i = 0; i < pr->nfields; i++)
    if (strlen(pr->fields[i].name) == (size_t)(hash - name) &&
        strncmp(pr->fields[i].name, name, (size_t)(hash - name)) == 0 && ++seen == nth)
      return 1;
  return 0;
}

static int check_names(const sf_proto *pr) {
  const sf_alias *a;
  const sf_variant *v;
  const sf_wsfield *w;
  const sf_part *pt;
  for (w = pr->ws_fields; w && w->name; w++)
    if (!ws_field_exists(pr, w->field) || (w->field2 && !ws_field_exists(pr, w->field2)))
      return SF_E_VALUE;
  for (a = pr->aliases; a && a->alias; a++)
    if (sf_field_find(pr, a->field) < 0) return SF_E_VALUE;
  for (v = pr->variants; v && v->name; v++)
    if (sf_field_find(pr, v->field) < 0) return SF_E_VALUE;
  for (pt = pr->parts; pt && pt->name; pt++)
    if (sf_field_find(pr, pt->count) < 0) return SF_E_VALUE;
  return SF_OK;
}

/* Take the places the protocol declares in its lower layers' tables. */
static int take_places(sf_proto *pr) {
  const sf_place *pl;
  int rc;
  for (pl = pr->places; pl && pl->table; pl++) {
    int tab = sf_table(pl->table);
    if (tab < 0) return tab;
    if ((rc = sf_table_add(tab, pl->value, pr->id, pl->flags, pl->accept)) != SF_OK)
      return rc;
  }
  return SF_OK;
}

/* Remove every entry that leads to upper. */
static void drop_upper(int upper) {
  size_t i, j = 0;
  for (i = 0; i < nentries; i++)
    if (entries[i].upper != upper) entries[j++] = entries[i];
  nentries = j;
  reindex(-1);
}

static void release(sf_proto *pr) {
  free(pr->tmpl);
  free(pr->alt);
  pr->tmpl = NULL;
  pr->alt = NULL;
}

static void heur_pending_for(const sf_proto *pr);

int sf_register(sf_proto *pr) {
  int rc;
  if (sf_nprotos_ >= SF_MAX_PROTOS || pr->nfields > SF_MAX_FIELDS)
    return SF_E_TOOBIG;
  pr->table = -1;
  pr->more = 0;
  pr->next_field = pr->next_keys[0] ? sf_field_find(pr, pr->next_keys[0]) : -1;
  pr->next_field2 = pr->next_keys[1] ? sf_field_find(pr, pr->next_keys[1]) : -1;
  if ((pr->next_keys[0] && pr->next_field < 0) ||
      (pr->next_keys[1] && pr->next_field2 < 0) ||
      (pr->next_keys[0] && !pr->next_table))
    return SF_E_VALUE;
  plain_key(pr, 0, pr->next_field);
  plain_key(pr, 1, pr->next_field2);
  if ((rc = check_names(pr)) != SF_OK || (rc = resolve_facts(pr)) != SF_OK)
    return rc;
  if (pr->next_table && (pr->table = sf_table(pr->next_table)) < 0)
    return pr->table;
  if (make_template(pr) != SF_OK || link_alternates(pr) != SF_OK) {
    release(pr);
    return SF_E_NOMEM;
  }
  pr->id = sf_nprotos_;
  sf_protos_[sf_nprotos_++] = pr;
  if ((rc = take_places(pr)) != SF_OK) {  /* not registered after all */
    drop_upper(pr->id);
    sf_nprotos_--;
    release(pr);
    return rc;
  }
  heur_pending_for(pr);
  return pr->id;
}

void sf_retire(int id) {
  if (!sf_proto_get(id)) return;
  drop_upper(id);
  sf_protos_[id]->retired = 1;
}

int sf_proto_count(void) { return sf_nprotos_; }

int sf_proto_find(const char *name) {
  int i;
  for (i = 0; i < sf_nprotos_; i++)
    if (sf_protos_[i]->retired) continue;
    else if (strcmp(sf_protos_[i]->name, name) == 0 ||
        strcasecmp(sf_protos_[i]->display, name) == 0 ||
        strcmp(sf_protos_[i]->kind, name) == 0)
      return i;
  return -1;
}

/* First field by that name (callers follow alt for variants). */
int sf_field_find(const sf_proto *pr, const char *name) {
  int i;
  for (i = 0; i < pr->nfields; i++)
    if (strcmp(pr->fields[i].name, name) == 0) return i;
  return -1;
}

int sf_field_lookup(const sf_proto *pr, const char *name) {
  const sf_alias *a;
  int fi = sf_field_find(pr, name);
  for (a = pr->aliases; fi < 0 && a && a->alias; a++)
    if (strcmp(a->alias, name) == 0) fi = sf_field_find(pr, a->field);
  return fi;
}

/* ---- bindings on any field ----------------------------------------------------- */

/* Tables of fields that key no table of their own (bind_layers(IP, X,
   {tos=...})): per lower protocol, consulted after its own table. */
#define MAX_BOUND 4
typedef struct bound_field {
  int8_t fi;
  int16_t tab;
} bound_field;

static bound_field bound[SF_MAX_PROTOS][MAX_BOUND];
static uint8_t nbound[SF_MAX_PROTOS];

static int keys_table(const sf_proto *pr, int fi) {
  return pr->table >= 0 && (fi == pr->next_field || fi == pr->next_field2);
}

int sf_field_table(int lower, int fi) {
  sf_proto *pr = sf_protos_[lower];
  char name[160];
  int i, tab;
  if (!sf_proto_get(lower) || fi < 0 || fi >= pr->nfields) return SF_E_VALUE;
  if (keys_table(pr, fi)) return pr->table;
  for (i = 0; i < nbound[lower]; i++)
    if (bound[lower][i].fi == fi) return bound[lower][i].tab;
  if (nbound[lower] == MAX_BOUND) return SF_E_TOOBIG;
  if (strlen(pr->name) + strlen(pr->fields[fi].name) + 2 > sizeof name)
    return SF_E_TOOBIG;
  strcpy(name, pr->name);
  strcat(name, ".");
  strcat(name, pr->fields[fi].name);
  if ((tab = sf_table(name)) < 0) return tab;
  bound[lower][nbound[lower]].fi = (int8_t)fi;
  bound[lower][nbound[lower]++].tab = (int16_t)tab;
  pr->more |= 1;
  return tab;
}

int sf_bind_field(int lower, int fi, uint64_t value, int upper) {
  int tab = sf_field_table(lower, fi);
  if (tab < 0) return tab;
  return add_entry(tab, value, upper, fi, 0, NULL);
}

int sf_unbind(int lower, int fi, uint64_t value, int upper) {
  int tab = sf_field_table(lower, fi);
  if (tab < 0) return tab;
  return sf_table_remove(tab, value, upper);
}

/* The field and value a built lower layer takes for upper, from a
   binding on a field other than its table's first: UDP's dport for a
   protocol bound to a port, or a bind_layers field. */
int sf_bind_field_value(int lower, int upper, int *fi, uint64_t *value) {
  const sf_proto *pr = sf_proto_get(lower);
  int i, at;
  if (!pr) return 0;
  if (pr->next_field2 >= 0 && (at = table_entry(pr->table, upper)) >= 0) {
    *fi = entries[at].fi >= 0 ? entries[at].fi : pr->next_field;
    *value = entries[at].value;
    return 1;
  }
  for (i = 0; i < nbound[lower]; i++)
    if ((at = table_entry(bound[lower][i].tab, upper)) >= 0) {
      *fi = bound[lower][i].fi;
      *value = entries[at].value;
      return 1;
    }
  return 0;
}

/* ---- heuristics ---------------------------------------------------------------- */

typedef struct heur {
  sf_heur_fn fn;
  void *ud;
} heur;

static heur *heurs[SF_MAX_PROTOS];
static uint8_t nheurs[SF_MAX_PROTOS];

int sf_heur_add(int lower, sf_heur_fn fn, void *ud) {
  heur *h;
  int i;
  if (!sf_proto_get(lower)) return SF_E_VALUE;
  for (i = 0; i < nheurs[lower]; i++)
    if (heurs[lower][i].fn == fn && heurs[lower][i].ud == ud) return SF_OK;
  if (nheurs[lower] == UINT8_MAX) return SF_E_TOOBIG;
  h = realloc(heurs[lower], (nheurs[lower] + 1u) * sizeof *h);
  if (!h) return SF_E_NOMEM;
  heurs[lower] = h;
  h[nheurs[lower]].fn = fn;
  h[nheurs[lower]++].ud = ud;
  sf_protos_[lower]->more |= 2;
  return SF_OK;
}

/* Heuristics on a protocol not registered yet (a file of core/proto
   registers before the TCP it sits on: files go in name order), added
   when it registers. */
#define MAX_PENDING 32

static struct {
  const char *lower;
  sf_heur_fn fn;
  void *ud;
} pending[MAX_PENDING];
static int npending;

int sf_heur_add_named(const char *lower, sf_heur_fn fn, void *ud) {
  int id = sf_proto_find(lower);
  if (id >= 0) return sf_heur_add(id, fn, ud);
  if (npending == MAX_PENDING) return SF_E_TOOBIG;
  pending[npending].lower = lower;
  pending[npending].fn = fn;
  pending[npending++].ud = ud;
  return SF_OK;
}

static void heur_pending_for(const sf_proto *pr) {
  int i, j = 0;
  for (i = 0; i < npending; i++) {
    if (strcmp(pending[i].lower, pr->name) == 0) sf_heur_add(pr->id, pending[i].fn, pending[i].ud);
    else pending[j++] = pending[i];
  }
  npending = j;
}

int sf_heur_remove(int lower, sf_heur_fn fn, void *ud) {
  int i, j = 0;
  if (!sf_proto_get(lower)) return SF_E_VALUE;
  for (i = 0; i < nheurs[lower]; i++)
    if (heurs[lower][i].fn != fn || heurs[lower][i].ud != ud)
      heurs[lower][j++] = heurs[lower][i];
  nheurs[lower] = (uint8_t)j;
  if (!j) sf_protos_[lower]->more &= (uint8_t)~2;
  return SF_OK;
}

int sf_heur_run(const sf_pkt *p, int li) {
  int lower = p->layers[li].proto, i, next;
  for (i = 0; i < nheurs[lower]; i++)
    if ((next = heurs[lower][i].fn(p, li, heurs[lower][i].ud)) >= 0) return next;
  return -1;
}

/* ---- what follows a layer ------------------------------------------------------ */

/* A keying field read straight from the header when it is a plain
   byte-aligned 8- or 16-bit integer (EtherType, IP protocol, ports), so
   the dissector need not ask the descriptor (sf_key_value). */
static void plain_key(sf_proto *pr, int k, int fi) {
  const sf_field *f = fi >= 0 ? &pr->fields[fi] : NULL;
  pr->key_bytes[k] = 0;
  if (!f || f->cond || pr->dyn || f->type != SF_T_UINT || (f->bitoff & 7) ||
      (f->flags & (SF_FF_LE | SF_FF_AT | SF_FF_VARINT)) || (f->bits != 8 && f->bits != 16))
    return;
  pr->key_off[k] = (uint16_t)(f->bitoff / 8u);
  pr->key_bytes[k] = (uint8_t)(f->bits / 8u);
}

static int by_field(const sf_pkt *p, int li, int fi, int tab) {
  const sf_layer *l = &p->layers[li];
  uint64_t v;
  if (!sf_field_present(p, li, fi)) return -1;
  v = sf_lget(p, li, fi);
  return sf_table_lookup(tab, v, p, li, p->data + l->off + l->hlen,
                         l->end - l->off - l->hlen);
}

int sf_lookup_more(const sf_pkt *p, int li) {
  int lower = p->layers[li].proto, i, next;
  for (i = 0; i < nbound[lower]; i++)
    if ((next = by_field(p, li, bound[lower][i].fi, bound[lower][i].tab)) >= 0)
      return next;
  return (sf_protos_[lower]->more & 2) ? sf_heur_run(p, li) : -1;
}

/* ---- codecs ------------------------------------------------------------------- */

#define MAX_CODECS 64

static const sf_codec *codecs[MAX_CODECS];
static int ncodecs;

int sf_codec_add(const sf_codec *c) {
  if (sf_codec_find(c->name)) return SF_OK;
  if (ncodecs == MAX_CODECS) return SF_E_TOOBIG;
  codecs[ncodecs++] = c;
  return SF_OK;
}

const sf_codec *sf_codec_find(const char *name) {
  int i;
  for (i = 0; name && i < ncodecs; i++)
    if (strcmp(codecs[i]->name, name) == 0) return codecs[i];
  return NULL;
}

/* Bytes that are text (a host name): shown, taken and filtered as text,
   as Wireshark's string fields are. */
static int text_to(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                   char *out, size_t cap) {
  (void)p;
  (void)li;
  (void)fi;
  if (n >= cap) return -1;
  memcpy(out, d, n);
  out[n] = '\0';
  return (int)n;
}

static int text_from(const char *s, size_t n, uint8_t *out, size_t cap) {
  if (n > cap) return SF_E_VALUE;
  memcpy(out, s, n);
  return (int)n;
}

static const sf_codec text_codec = {"text", text_to, text_from, "a string", NULL};

/* ---- built-ins ---------------------------------------------------------------- */

void sf_register_raw(void);

#define SF_PROTO_FILE_ENTRY(name) SF_PROTO_FILE(name);
#include "sf_protofiles.h"
#undef SF_PROTO_FILE_ENTRY

/* The entries carriers make for the protocols they carry, and the
   heuristics protocols offer on lower ones, once every protocol file has
   registered (a carrier may register before what it carries, SSH before
   TCP). */
static void take_named(void) {
  int i;
  for (i = 0; i < sf_nprotos_; i++) {
    const sf_proto *pr = sf_protos_[i];
    const sf_carry *c;
    const sf_heur_place *h;
    for (c = pr->carries; pr->table >= 0 && c && c->upper; c++) {
      int up = sf_proto_find(c->upper);
      if (up >= 0) sf_table_add(pr->table, c->value, up, c->flags, NULL);
    }
    for (h = pr->heurs; h && h->lower; h++) {
      int low = sf_proto_find(h->lower);
      if (low >= 0) sf_heur_add(low, h->fn, NULL);
    }
  }
}

void sf_init(void) {
  static int done;
  if (done) return;
  done = 1;
  sf_codec_add(&text_codec);
  sf_register_raw();  /* ids SF_RAW and SF_PADDING */
#define SF_PROTO_FILE_ENTRY(name) sf_proto_file_##name();
#include "sf_protofiles.h"
#undef SF_PROTO_FILE_ENTRY
  take_named();
}
