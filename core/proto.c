/*
 * proto.c -- the protocol registry and the dissector tables.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sf.h"

sf_proto *sf_protos_[SF_MAX_PROTOS];
int sf_nprotos_;

/* A binding: lower's field fi (-1: its next_field) having value means the
   upper protocol follows. */
typedef struct binding {
  uint16_t lower, upper;
  int16_t fi;
  uint64_t value;
} binding;

static binding *bindings;            /* in registration order */
static size_t nbindings, capbindings;

/* The forward direction, asked once per layer of every packet parsed, is
   an open-addressing hash over the bindings (indices + 1; 0 = empty). */
static uint32_t *slots;
static size_t nslots;

/* fields other than next_field that have bindings, per lower protocol */
#define MAX_BOUND 4
static int8_t bound[SF_MAX_PROTOS][MAX_BOUND];
static uint8_t nbound[SF_MAX_PROTOS];
static uint8_t heuristic_on[SF_MAX_PROTOS];
uint8_t sf_more_[SF_MAX_PROTOS];
/* Per lower protocol with field bindings, a bitmap of the low 16 bits of
   bound values: most packets' ports are bound to nothing, and this says
   so without hashing (built-in parsing must not slow down). */
static uint64_t *quick[SF_MAX_PROTOS];

static int quick_maybe(int lower, uint64_t value) {
  const uint64_t *q = quick[lower];
  unsigned v = (unsigned)(value & 0xffff);
  return q && ((q[v >> 6] >> (v & 63)) & 1);
}

static void quick_add(int lower, uint64_t value) {
  unsigned v = (unsigned)(value & 0xffff);
  if (!quick[lower] && !(quick[lower] = calloc(1024, sizeof(uint64_t)))) return;
  quick[lower][v >> 6] |= UINT64_C(1) << (v & 63);
}
int (*sf_heuristic)(const sf_pkt *p, int li);

static size_t slot_hash(int lower, int fi, uint64_t value) {
  uint64_t k = value ^ ((uint64_t)lower << 40) ^ ((uint64_t)(fi + 1) << 56);
  return (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (nslots - 1);
}

static void slot_insert(size_t bi) {
  const binding *b = &bindings[bi];
  size_t i = slot_hash(b->lower, b->fi, b->value);
  while (slots[i]) i = (i + 1) & (nslots - 1);
  slots[i] = (uint32_t)bi + 1;
}

/* (Re)build the table at most half full. */
static int slots_rebuild(size_t n) {
  size_t want = 256, i;
  uint32_t *s;
  while (want < 2 * n) want *= 2;
  s = calloc(want, sizeof *s);
  if (!s) return SF_E_NOMEM;
  free(slots);
  slots = s;
  nslots = want;
  for (i = 0; i < nbindings; i++) slot_insert(i);
  return SF_OK;
}

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

/* Build the default header from the field defaults. */
static int make_template(sf_proto *pr) {
  int i;
  pr->tmpl = calloc(1, pr->minlen ? pr->minlen : 1);
  if (!pr->tmpl) return SF_E_NOMEM;
  if (pr->deftmpl) {  /* a run-time protocol brings its own */
    memcpy(pr->tmpl, pr->deftmpl, pr->minlen);
    return SF_OK;
  }
  for (i = 0; i < pr->nfields; i++) {
    const sf_field *f = &pr->fields[i];
    uint8_t addr[16];
    if (f->type == SF_T_BYTES) {
      hex_default(pr, f);
      continue;
    }
    if (f->bitoff + f->bits > pr->minlen * 8u) continue;
    if (f->cond && pr->present && !pr->present(pr->tmpl, pr->minlen, f->cond))
      continue;
    switch (f->type) {
      case SF_T_UINT: case SF_T_FLAGS:
        if (f->flags & SF_FF_LE) {
          unsigned b;
          for (b = 0; b < f->bits / 8u; b++)
            pr->tmpl[f->bitoff / 8u + b] = (uint8_t)(f->def >> (8 * b));
        } else {
          sf_setbits(pr->tmpl, f->bitoff, f->bits, f->def);
        }
        break;
      case SF_T_MAC:
        if (f->defstr && sf_parse_mac(f->defstr, addr) == SF_OK)
          memcpy(pr->tmpl + f->bitoff / 8u, addr, 6);
        break;
      case SF_T_IP4:
        if (f->defstr && sf_parse_ip4(f->defstr, addr) == SF_OK)
          memcpy(pr->tmpl + f->bitoff / 8u, addr, 4);
        break;
      case SF_T_IP6:
        if (f->defstr && sf_parse_ip6(f->defstr, addr) == SF_OK)
          memcpy(pr->tmpl + f->bitoff / 8u, addr, 16);
        break;
    }
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

int sf_register(sf_proto *pr) {
  if (sf_nprotos_ >= SF_MAX_PROTOS || pr->nfields > SF_MAX_FIELDS)
    return SF_E_TOOBIG;
  if (make_template(pr) != SF_OK || link_alternates(pr) != SF_OK)
    return SF_E_NOMEM;
  pr->id = sf_nprotos_;
  sf_protos_[sf_nprotos_++] = pr;
  return pr->id;
}


int sf_proto_count(void) { return sf_nprotos_; }

int sf_proto_find(const char *name) {
  int i;
  for (i = 0; i < sf_nprotos_; i++)
    if (strcmp(sf_protos_[i]->name, name) == 0 ||
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

/* ---- dissector tables ------------------------------------------------- */

static int find_binding(int lower, int fi, uint64_t value) {
  size_t i;
  if (!nslots) return -1;
  for (i = slot_hash(lower, fi, value); slots[i]; i = (i + 1) & (nslots - 1)) {
    const binding *b = &bindings[slots[i] - 1];
    if (b->lower == lower && b->fi == fi && b->value == value)
      return (int)slots[i] - 1;
  }
  return -1;
}

static int note_bound_field(int lower, int fi) {
  int i;
  if (fi < 0) return SF_OK;
  for (i = 0; i < nbound[lower]; i++)
    if (bound[lower][i] == fi) return SF_OK;
  if (nbound[lower] == MAX_BOUND) return SF_E_TOOBIG;
  bound[lower][nbound[lower]++] = (int8_t)fi;
  sf_more_[lower] |= 1;
  return SF_OK;
}

int sf_bind_field(int lower, int fi, uint64_t value, int upper) {
  binding *b;
  int at;
  /* ids, not registered protocols: built-ins bind before all register */
  if (lower < 0 || lower >= SF_MAX_PROTOS || upper < 0 || upper >= SF_MAX_PROTOS)
    return SF_E_VALUE;
  if ((at = find_binding(lower, fi, value)) >= 0) {  /* rebinding replaces */
    bindings[at].upper = (uint16_t)upper;
    return SF_OK;
  }
  if (note_bound_field(lower, fi) != SF_OK) return SF_E_TOOBIG;
  if (nbindings == capbindings) {
    size_t cap = capbindings ? capbindings * 2 : 64;
    b = realloc(bindings, cap * sizeof *b);
    if (!b) return SF_E_NOMEM;
    bindings = b;
    capbindings = cap;
  }
  b = &bindings[nbindings++];
  b->lower = (uint16_t)lower;
  b->upper = (uint16_t)upper;
  b->fi = (int16_t)fi;
  b->value = value;
  if (fi >= 0) quick_add(lower, value);
  if (nbindings * 2 > nslots) return slots_rebuild(nbindings);
  slot_insert(nbindings - 1);
  return SF_OK;
}

int sf_bind(int lower, uint64_t value, int upper) {
  return sf_bind_field(lower, -1, value, upper);
}

/* Remove lower's bindings to upper on field fi (value -1: all values). */
int sf_unbind(int lower, int fi, uint64_t value, int upper) {
  size_t i, j = 0;
  for (i = 0; i < nbindings; i++) {
    const binding *b = &bindings[i];
    int match = b->lower == lower && b->upper == upper && b->fi == fi &&
                (value == UINT64_MAX || b->value == value);
    if (!match) bindings[j++] = *b;
  }
  nbindings = j;
  return slots_rebuild(nbindings);
}

int sf_lookup_field(int lower, int fi, uint64_t value) {
  int at;
  if (fi >= 0 && !quick_maybe(lower, value)) return -1;
  at = find_binding(lower, fi, value);
  return at >= 0 ? bindings[at].upper : -1;
}

int sf_lookup(int lower, uint64_t value) {
  return sf_lookup_field(lower, -1, value);
}

int sf_bound_fields(int lower, int *fis, int max) {
  int i, n = (lower >= 0 && lower < SF_MAX_PROTOS) ? nbound[lower] : 0;
  for (i = 0; i < n && i < max; i++) fis[i] = bound[lower][i];
  return n < max ? n : max;
}

/* The value a lower layer's type field takes for a given upper layer;
   the first binding registered wins. */
int sf_bind_value(int lower, int upper, uint64_t *value) {
  size_t i;
  for (i = 0; i < nbindings; i++)
    if (bindings[i].lower == lower && bindings[i].upper == upper &&
        bindings[i].fi < 0) {
      *value = bindings[i].value;
      return 1;
    }
  return 0;
}

/* The same for bindings on other fields (UDP's dport for a custom layer). */
int sf_bind_field_value(int lower, int upper, int *fi, uint64_t *value) {
  size_t i;
  for (i = 0; i < nbindings; i++)
    if (bindings[i].lower == lower && bindings[i].upper == upper &&
        bindings[i].fi >= 0) {
      *fi = bindings[i].fi;
      *value = bindings[i].value;
      return 1;
    }
  return 0;
}

void sf_set_heuristic_flag(int lower, int on) {
  if (lower < 0 || lower >= SF_MAX_PROTOS) return;
  heuristic_on[lower] = (uint8_t)!!on;
  sf_more_[lower] = (uint8_t)((sf_more_[lower] & ~2) | (on ? 2 : 0));
}

int sf_has_heuristic(int lower) {
  return lower >= 0 && lower < SF_MAX_PROTOS && heuristic_on[lower];
}
