/*
 * proto.c -- the protocol registry and the dissector tables.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sf.h"

sf_proto *sf_protos_[SF_MAX_PROTOS];
int sf_nprotos_;

typedef struct binding {
  uint16_t lower, upper;
  uint64_t value;
} binding;

static binding *bindings;            /* in registration order */
static size_t nbindings, capbindings;

/* The forward direction, asked once per layer of every packet parsed, is
   an open-addressing hash over the bindings (indices + 1; 0 = empty). */
static uint32_t *slots;
static size_t nslots;

static size_t slot_hash(int lower, uint64_t value) {
  uint64_t h = (value ^ ((uint64_t)lower << 40)) * UINT64_C(0x9e3779b97f4a7c15);
  return (size_t)(h >> 32) & (nslots - 1);
}

static void slot_insert(size_t bi) {
  size_t i = slot_hash(bindings[bi].lower, bindings[bi].value);
  while (slots[i]) i = (i + 1) & (nslots - 1);
  slots[i] = (uint32_t)bi + 1;
}

/* Keep the table at most half full. */
static int slots_reserve(size_t n) {
  size_t want = nslots ? nslots : 256, i;
  uint32_t *s;
  while (want < 2 * n) want *= 2;
  if (want == nslots) return SF_OK;
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
  if (sf_nprotos_ >= SF_MAX_PROTOS) return SF_E_TOOBIG;
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

static int find_binding(int lower, uint64_t value) {
  size_t i;
  if (!nslots) return -1;
  for (i = slot_hash(lower, value); slots[i]; i = (i + 1) & (nslots - 1)) {
    const binding *b = &bindings[slots[i] - 1];
    if (b->lower == lower && b->value == value) return (int)slots[i] - 1;
  }
  return -1;
}

int sf_bind(int lower, uint64_t value, int upper) {
  binding *b;
  int at = find_binding(lower, value);
  if (at >= 0) {  /* rebinding replaces */
    bindings[at].upper = (uint16_t)upper;
    return SF_OK;
  }
  if (slots_reserve(nbindings + 1) != SF_OK) return SF_E_NOMEM;
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
  b->value = value;
  slot_insert(nbindings - 1);
  return SF_OK;
}

int sf_lookup(int lower, uint64_t value) {
  int at = find_binding(lower, value);
  return at >= 0 ? bindings[at].upper : -1;
}

/* The value a lower layer's type field takes for a given upper layer;
   the first binding registered wins. */
int sf_bind_value(int lower, int upper, uint64_t *value) {
  size_t i;
  for (i = 0; i < nbindings; i++)
    if (bindings[i].lower == lower && bindings[i].upper == upper) {
      *value = bindings[i].value;
      return 1;
    }
  return 0;
}
