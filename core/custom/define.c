/*
 * define.c -- a custom protocol from its definition: the definition
 * copied and checked, each field's default value, the default header,
 * registration and release.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpriv.h"

struct chunk {
  chunk *next;
  max_align_t data[];
};

/* n zeroed bytes that live as long as c (NULL when out of memory). */
static void *own(sf_custom *c, size_t n) {
  chunk *k = calloc(1, sizeof *k + (n ? n : 1));
  if (!k) return NULL;
  k->next = c->mem;
  c->mem = k;
  return k->data;
}

static const char *own_str(sf_custom *c, const char *s) {
  char *d;
  if (!s) return NULL;
  if ((d = own(c, strlen(s) + 1))) memcpy(d, s, strlen(s) + 1);
  return d;
}

static const sf_enum *own_enums(sf_custom *c, const sf_enum *e) {
  sf_enum *d;
  size_t n = 0, i;
  if (!e) return NULL;
  while (e[n].name) n++;
  if (!(d = own(c, (n + 1) * sizeof *d))) return NULL;
  for (i = 0; i < n; i++) {
    d[i].value = e[i].value;
    if (!(d[i].name = own_str(c, e[i].name))) return NULL;
  }
  return d;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- checking a definition ------------------------------------------------ */

static int check_fixed(const sf_cdef *d, int i, char *err, size_t errlen) {
  const sf_field *f = &d->fields[i];
  const sf_cfield *cf = &d->cf[i];
  static const uint16_t width[] = {0, 0, 48, 32, 128};
  if (cf->kind != SF_CK_FIXED)
    return fail(err, errlen, "%s.%s: only a string or a list can have a "
                "variable size", d->name, f->name);
  if (f->type <= SF_T_FLAGS && (f->bits < 1 || f->bits > 64))
    return fail(err, errlen, "%s.%s: a width of 1 to 64 bits is needed",
                d->name, f->name);
  if (f->type > SF_T_FLAGS && f->bits != width[f->type])
    return fail(err, errlen, "%s.%s: an address of %u bits, not %u", d->name,
                f->name, width[f->type], f->bits);
  if ((f->flags & SF_FF_LE) && f->bits % 8)
    return fail(err, errlen, "%s.%s: a little-endian field has whole bytes",
                d->name, f->name);
  return 0;
}

static int check_var(const sf_cdef *d, int i, char *err, size_t errlen) {
  const sf_field *f = &d->fields[i];
  const sf_cfield *cf = &d->cf[i];
  if (cf->kind == SF_CK_FIXED || cf->kind > SF_CK_VAR)
    return fail(err, errlen, "%s.%s: a string or a list needs a size kind",
                d->name, f->name);
  if ((cf->hooks & (SF_CH_LENGTH | SF_CH_COUNT)) && cf->kind != SF_CK_VAR)
    return fail(err, errlen, "%s.%s: length_from or count_from only size a "
                "variable field", d->name, f->name);
  if ((cf->hooks & SF_CH_COUNT) && !(cf->hooks & SF_CH_LENGTH) &&
      !cf->item_bytes && cf->sub_proto < 0)
    return fail(err, errlen, "%s.%s: count_from needs fixed-size items or "
                "packets", d->name, f->name);
  if (cf->sub_proto >= 0 && !sf_proto_get(cf->sub_proto))
    return fail(err, errlen, "%s.%s: no protocol %d for the items", d->name,
                f->name, cf->sub_proto);
  if (cf->ndef && !cf->defbytes)
    return fail(err, errlen, "%s.%s: a default of %zu bytes, but none given",
                d->name, f->name, cf->ndef);
  if (cf->kind == SF_CK_FIXLEN && cf->bytes > SF_MAX_LEN)
    return fail(err, errlen, "%s.%s: a fixed length of at most %u bytes",
                d->name, f->name, (unsigned)SF_MAX_LEN);
  return 0;
}

/* The field a FieldLenField measures, as given (-1: none). */
static int check_ref(const sf_cdef *d, int i, int ref, const char *what,
                     char *err, size_t errlen) {
  const sf_cfield *t;
  if (ref < 0) return 0;
  if (ref >= d->nfields || ref == i)
    return fail(err, errlen, "%s.%s: %s names no other field", d->name,
                d->fields[i].name, what);
  if (d->fields[i].type != SF_T_UINT)
    return fail(err, errlen, "%s.%s: %s needs an integer field", d->name,
                d->fields[i].name, what);
  t = &d->cf[ref];
  if (ref == d->cf[i].count_of && !t->item_bytes && t->sub_proto < 0)
    return fail(err, errlen, "%s.%s: count_of names %s, which is no list",
                d->name, d->fields[i].name, d->fields[ref].name);
  if (ref == d->cf[i].len_of && d->fields[ref].type != SF_T_BYTES)
    return fail(err, errlen, "%s.%s: length_of names %s, which is not a "
                "string or a list", d->name, d->fields[i].name,
                d->fields[ref].name);
  return 0;
}

static int check_ops(const sf_cdef *d, int i, char *err, size_t errlen) {
  const sf_custom_ops *o = d->ops;
  unsigned h = d->cf[i].hooks;
  if (((h & (SF_CH_LENGTH | SF_CH_COUNT)) && !(o && o->number)) ||
      ((h & SF_CH_COND) && !(o && o->cond)) ||
      ((h & SF_CH_ADJUST) && !(o && o->adjust)))
    return fail(err, errlen, "%s.%s: the host answers none of its callbacks",
                d->name, d->fields[i].name);
  return 0;
}

static int check_def(const sf_cdef *d, char *err, size_t errlen) {
  int i;
  if (!d->name || !*d->name) return fail(err, errlen, "a protocol needs a name");
  if (d->nfields < 0 || d->nfields > SF_MAX_FIELDS)
    return fail(err, errlen, "%s: %d fields (at most %d)", d->name,
                d->nfields, SF_MAX_FIELDS);
  if (((d->hooks & SF_CH_POST_BUILD) && !(d->ops && d->ops->post_build)) ||
      ((d->hooks & SF_CH_GUESS) && !(d->ops && d->ops->guess)))
    return fail(err, errlen, "%s: the host answers none of its hooks", d->name);
  for (i = 0; i < d->nfields; i++) {
    const sf_field *f = &d->fields[i];
    const sf_cfield *cf = &d->cf[i];
    if (!f->name || f->type > SF_T_BYTES)
      return fail(err, errlen, "%s: field %d needs a name and a type",
                  d->name, i + 1);
    if ((f->type == SF_T_BYTES ? check_var(d, i, err, errlen)
                               : check_fixed(d, i, err, errlen)) ||
        check_ref(d, i, cf->len_of, "length_of", err, errlen) ||
        check_ref(d, i, cf->count_of, "count_of", err, errlen) ||
        check_ops(d, i, err, errlen))
      return -1;
    if (cf->len_of >= 0 && cf->count_of >= 0)
      return fail(err, errlen, "%s.%s: length_of or count_of, not both",
                  d->name, f->name);
    if (cf->align > 4096)
      return fail(err, errlen, "%s.%s: an alignment of at most 4096 bytes",
                  d->name, f->name);
  }
  return 0;
}

/* ---- copying it ------------------------------------------------------------- */

static int copy_field(sf_custom *c, const sf_cdef *d, int i) {
  sf_field *f = &c->fields[i];
  sf_cfield *cf = &c->cf[i];
  *f = d->fields[i];
  *cf = d->cf[i];
  f->flags &= SF_FF_HEX | SF_FF_LE | SF_FF_SIGNED;
  f->cond = 0;
  f->pad = 0;
  f->bitoff = 0;
  if (cf->len_of >= 0 || cf->count_of >= 0) f->flags |= SF_FF_AUTO;
  if (f->type == SF_T_BYTES)  /* sf_field.bits: a fixed length, if any */
    f->bits = (uint16_t)(cf->kind == SF_CK_FIXLEN && cf->bytes < 8192
                         ? cf->bytes * 8 : 0);
  if (!(f->name = own_str(c, f->name))) return -1;
  if (f->defstr && !(f->defstr = own_str(c, f->defstr))) return -1;
  if (f->codec && !(f->codec = own_str(c, f->codec))) return -1;
  if (f->names && !(f->names = own_str(c, f->names))) return -1;
  if (f->enums && !(f->enums = own_enums(c, f->enums))) return -1;
  if (cf->ndef) {
    uint8_t *b = own(c, cf->ndef);
    if (!b) return -1;
    memcpy(b, cf->defbytes, cf->ndef);
    cf->defbytes = b;
  }
  return 0;
}

/* ---- default values -------------------------------------------------------- */

static int parse_addr(const sf_field *f, uint8_t *out) {
  if (!f->defstr) return SF_OK;  /* all zeros */
  if (f->type == SF_T_MAC) return sf_parse_mac(f->defstr, out);
  if (f->type == SF_T_IP4) return sf_parse_ip4(f->defstr, out);
  return sf_parse_ip6(f->defstr, out);
}

/* An integer's bits as a header holds them, left-aligned in out. */
static void int_bits(const sf_field *f, uint64_t v, uint8_t *out) {
  unsigned i, nb = (f->bits + 7u) / 8u;
  v &= sf_field_max(f);
  if (f->flags & SF_FF_LE) {
    for (i = 0; i < nb; i++) out[i] = (uint8_t)(v >> (8 * i));
    return;
  }
  sf_setbits(out, 0, f->bits, v);
}

/* Field i's default value bits: what a field a condition brings in, or
   the default header, starts with. */
static int default_value(sf_custom *c, int i, char *err, size_t errlen) {
  const sf_field *f = &c->fields[i];
  const sf_cfield *cf = &c->cf[i];
  size_t n = f->type == SF_T_BYTES ? cf->ndef : (f->bits + 7u) / 8u;
  if (cf->kind == SF_CK_FIXLEN) n = cf->bytes;  /* cut, or NUL padded */
  if (!(c->defv[i] = own(c, n))) return -1;
  c->defbits[i] = (uint32_t)(f->type == SF_T_BYTES ? n * 8 : f->bits);
  if (f->type <= SF_T_FLAGS) {
    int_bits(f, f->def, c->defv[i]);
  } else if (f->type != SF_T_BYTES) {
    if (parse_addr(f, c->defv[i]) != SF_OK)
      return fail(err, errlen, "%s.%s: bad default %s", c->proto.name,
                  f->name, f->defstr);
  } else if (cf->ndef) {
    memcpy(c->defv[i], cf->defbytes, cf->ndef < n ? cf->ndef : n);
  }
  return 0;
}

/* What the fields after each one take at least: the fixed and fixed-length
   ones no condition can drop, and the NUL of a string that ends in one.  A
   built header keeps that much for them when a length runs long. */
static void bytes_after(sf_custom *c) {
  uint64_t bits = 0;
  int i;
  for (i = c->proto.nfields - 1; i >= 0; i--) {
    const sf_cfield *cf = &c->cf[i];
    c->after[i] = (uint32_t)((bits + 7) / 8);
    if (cf->hooks & SF_CH_COND) continue;
    if (cf->kind == SF_CK_FIXED) bits += c->fields[i].bits;
    else if (cf->kind == SF_CK_FIXLEN) bits += 8 * (uint64_t)cf->bytes;
    else if (cf->kind == SF_CK_NULL) bits += 8;
  }
}

/* ---- the protocol ------------------------------------------------------------- */

/* Fixed fields, unconditional, unpadded, measuring nothing: static offsets
   and no host at all. */
static int is_static(const sf_custom *c) {
  int i;
  for (i = 0; i < c->proto.nfields; i++)
    if (c->cf[i].kind != SF_CK_FIXED || c->cf[i].hooks || c->cf[i].align ||
        c->cf[i].len_of >= 0 || c->cf[i].count_of >= 0)
      return 0;
  return 1;
}

static void static_offsets(sf_custom *c) {
  unsigned bit = 0;
  int i;
  for (i = 0; i < c->proto.nfields; i++) {
    c->fields[i].bitoff = (uint16_t)bit;
    bit += c->fields[i].bits;
  }
}

/* The default header: every field's default, laid out as a build would. */
static int default_header(sf_custom *c, char *err, size_t errlen) {
  sf_tbuf out = {NULL, 0, 0, 0};
  sf_span sp[SF_MAX_FIELDS];
  uint8_t *t;
  size_t n;
  if (sf_custom_relay(c, NULL, NULL, -1, NULL, 0, &out, sp) != SF_OK) {
    sf_tb_free(&out);
    return fail(err, errlen, "%s: the default values cannot be laid out",
                c->proto.name);
  }
  n = (out.bits + 7) / 8;
  if (out.bits % 8 || n > UINT16_MAX) {
    sf_tb_free(&out);
    return fail(err, errlen, "%s: the default header is %zu bits, not whole "
                "bytes under 64 KiB", c->proto.name, out.bits);
  }
  if ((t = own(c, n))) memcpy(t, out.d, n);
  sf_tb_free(&out);
  c->proto.deftmpl = t;
  c->proto.minlen = (uint16_t)n;
  return t ? 0 : -1;
}

static int copy_def(sf_custom *c, const sf_cdef *d, char *err, size_t errlen) {
  int i, n = d->nfields;
  c->fields = own(c, ((size_t)n + 1) * sizeof *c->fields);
  c->cf = own(c, ((size_t)n + 1) * sizeof *c->cf);
  c->defv = own(c, ((size_t)n + 1) * sizeof *c->defv);
  c->defbits = own(c, ((size_t)n + 1) * sizeof *c->defbits);
  c->after = own(c, ((size_t)n + 1) * sizeof *c->after);
  c->proto.name = own_str(c, d->name);
  c->proto.display = own_str(c, d->display ? d->display : d->name);
  if (!c->fields || !c->cf || !c->defv || !c->defbits || !c->after || !c->proto.name ||
      !c->proto.display)
    return fail(err, errlen, "%s: not enough memory", d->name);
  c->proto.kind = c->proto.name;
  c->proto.fields = c->fields;
  c->proto.nfields = (uint16_t)n;
  c->proto.next_field = -1;
  for (i = 0; i < n; i++) {
    if (copy_field(c, d, i))
      return fail(err, errlen, "%s: not enough memory", d->name);
    if (default_value(c, i, err, errlen)) return -1;
  }
  bytes_after(c);
  return 0;
}

sf_custom *sf_custom_new(const sf_cdef *d, char *err, size_t errlen) {
  sf_custom *c;
  if (check_def(d, err, errlen)) return NULL;
  if (!(c = calloc(1, sizeof *c))) {
    fail(err, errlen, "%s: not enough memory", d->name);
    return NULL;
  }
  c->ops = d->ops;
  c->host = d->host;
  c->serial = sf_custom_next_serial();
  c->hooks = d->hooks & (SF_CH_POST_BUILD | SF_CH_GUESS);
  if (copy_def(c, d, err, errlen)) {
    sf_custom_free(c);
    return NULL;
  }
  if (is_static(c)) static_offsets(c);
  sf_custom_hooks(c, is_static(c));
  if (default_header(c, err, errlen)) {
    sf_custom_free(c);
    return NULL;
  }
  return c;
}

int sf_custom_register(sf_custom *c) {
  int id = sf_register(&c->proto);
  if (id >= 0) c->registered = 1;
  return id;
}

const sf_proto *sf_custom_proto(const sf_custom *c) { return &c->proto; }

void *sf_custom_host_of(const sf_proto *pr) {
  const sf_custom *c;
  if (!pr || !pr->dyn || !pr->dyn->ud) return NULL;
  c = (const sf_custom *)pr->dyn->ud;
  return c->dead ? NULL : c->host;
}

void sf_custom_describe(sf_custom *c, const sf_proto *like) {
  sf_proto *pr = &c->proto;
  if (like->kind) pr->kind = like->kind;
  pr->next_table = like->next_table;
  pr->next_keys[0] = like->next_keys[0];
  pr->next_keys[1] = like->next_keys[1];
  pr->places = like->places;
  pr->aliases = like->aliases;
  pr->variants = like->variants;
  pr->facts = like->facts;
  pr->ws = like->ws;
  pr->ws_fields = like->ws_fields;
  pr->record = like->record;
  pr->parts = like->parts;
  pr->methods = like->methods;
  pr->props = like->props;
  if (like->scapy) pr->scapy = like->scapy;
  if (like->next && !(c->hooks & SF_CH_GUESS)) pr->next = like->next;
  if (like->fixup) pr->fixup = like->fixup;
  /* the header's length, as its layout would say it, more cheaply */
  if (like->hdr_len) pr->hdr_len = like->hdr_len;
  if (like->dyn && like->dyn->layout) c->dyn.layout = like->dyn->layout;
}

void sf_custom_kill(sf_custom *c) {
  c->dead = 1;
  c->host = NULL;
  if (c->registered) sf_retire(c->proto.id);
}

void sf_custom_free(sf_custom *c) {
  chunk *k, *next;
  if (!c || c->registered) return;
  for (k = c->mem; k; k = next) {
    next = k->next;
    free(k);
  }
  free(c);
}

void sf_custom_report(const sf_custom *c, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  if (c->dead || !c->ops || !c->ops->error) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->ops->error(c->host, msg);
}
