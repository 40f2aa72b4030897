/*
 * test_custom.c -- the custom-protocol layout engine (core/custom/) from C,
 * with no Lua: the protocols of tests/fuzz/custom_defs.h (every field
 * type) laid out from bytes, rebuilt from values, their lengths and
 * counts, values that are no length (error building, truncated parsing),
 * a host that is gone, and the registry's limit.
 *
 * Expected bytes are written out by hand from the field definitions, as
 * Scapy would build the same fields_desc (tests/custom/ checks the Lua
 * side against Scapy itself).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"
#include "../fuzz/custom_defs.h"

#include "check.h"

static int id_of(const char *name) {
  int id = sf_proto_find(name);
  if (id < 0) abort();
  return id;
}

static fz_host *host_of(const char *name) {
  int i;
  for (i = 0; i < FZ_NDEFS; i++)
    if (strcmp(fz_defs[i].name, name) == 0) return &fz_hosts[i];
  abort();
}

static int hexeq(const sf_pkt *p, const char *hex) {
  char got[2 * 512 + 1];
  size_t i;
  for (i = 0; i < p->len && i < 512; i++) snprintf(got + 2 * i, 3, "%02x", p->data[i]);
  got[2 * i] = '\0';
  if (strcmp(got, hex) == 0) return 1;
  fprintf(stderr, "  bytes %s\n  want  %s\n", got, hex);
  return 0;
}

static int fi_of(int id, const char *name) { return sf_field_find(sf_proto_get(id), name); }

static int set_u(sf_pkt *p, int li, const char *name, uint64_t u) {
  sf_val v = {u, NULL, 0};
  return sf_field_set(p, li, fi_of(p->layers[li].proto, name), &v);
}

static int set_s(sf_pkt *p, int li, const char *name, const char *s, size_t n) {
  sf_val v = {0, (const uint8_t *)s, n};
  return sf_field_set(p, li, fi_of(p->layers[li].proto, name), &v);
}

static int get(const sf_pkt *p, int li, const char *name, sf_val *v) {
  return sf_field_get(p, li, fi_of(p->layers[li].proto, name), v);
}

static void parse(sf_pkt *p, const char *proto, const void *d, size_t n) {
  sf_pkt_init(p);
  sf_pkt_borrow(p, d, n);
  p->first = id_of(proto) + 1;
  sf_pkt_parse(p);
}

static void built(sf_pkt *p, const char *proto) {
  sf_pkt_init(p);
  if (sf_pkt_new_layer(p, id_of(proto)) != SF_OK) abort();
}

/* ---- tests ---------------------------------------------------------------- */

static void test_defaults(void) {
  sf_pkt p;
  built(&p, "FzFixed");  /* a b c d e f g h|i j|k k2 l m n */
  CHECK(hexeq(&p, "01abcd020104030201fbfffffffe0102030405060708"
                  "45" "0053" "030201" "0a000001" "20010db8000000000000000000000001"
                  "001122334455"));
  sf_pkt_free(&p);
  built(&p, "FzLen");  /* alen: adjust(0) = 2, little-endian */
  CHECK(hexeq(&p, "0000" "00" "0200"));
  sf_pkt_free(&p);
  built(&p, "FzStr");  /* "ab" padded to 4, "x" NUL, mid, rest */
  CHECK(hexeq(&p, "61620000" "7800" "00"));
  sf_pkt_free(&p);
  built(&p, "FzPad");  /* "ab\0" padded to 4, 9 padded to 4, z, ln, v, last */
  CHECK(hexeq(&p, "61620000" "09000000" "0102" "00" "03"));
  sf_pkt_free(&p);
}

static void test_parse(void) {
  static const uint8_t tlv[] = {5, 3, 'a', 'b', 'c', 'X', 'Y'};
  static const uint8_t len[] = {0, 2, 1, 5, 0, 'h', 'i', 0, 7, 'x', 'y', 'z'};
  sf_pkt p;
  sf_val v;
  parse(&p, "FzTlv", tlv, sizeof tlv);
  CHECK_EQ(p.nlayers, 2);
  CHECK_EQ(p.layers[0].hlen, 5);
  CHECK_EQ(p.layers[1].proto, SF_RAW);
  CHECK(get(&p, 0, "v", &v) == SF_OK && v.n == 3 && memcmp(v.p, "abc", 3) == 0);
  sf_pkt_free(&p);
  /* len 2, one item, alen 5 (LE): data2 is 3 bytes */
  parse(&p, "FzLen", len, sizeof len);
  CHECK_EQ(p.layers[0].proto, id_of("FzLen"));
  CHECK_EQ(p.layers[0].hlen, sizeof len);
  CHECK(get(&p, 0, "items", &v) == SF_OK && v.n == 2 && v.p[1] == 7);
  CHECK(get(&p, 0, "data2", &v) == SF_OK && v.n == 3 && memcmp(v.p, "xyz", 3) == 0);
  CHECK(get(&p, 0, "alen", &v) == SF_OK && v.u == 5);
  CHECK(!(p.flags & SF_P_TRUNC));
  sf_pkt_free(&p);
}

/* Issue 10 item 8: variable fields after a condition are kept. */
static void test_rebuild_with_conditions(void) {
  sf_pkt p;
  sf_val v;
  built(&p, "FzCond");
  CHECK(hexeq(&p, "00" "00" "00"));  /* op, ln, pc; rest empty */
  CHECK_EQ(set_u(&p, 0, "op", 1), SF_OK);  /* x comes in with its default */
  CHECK(hexeq(&p, "01" "00" "00000007" "00"));
  CHECK_EQ(set_s(&p, 0, "s", "hi", 2), SF_OK);  /* after x: kept, ln follows */
  CHECK(hexeq(&p, "01" "02" "00000007" "6869" "00"));
  CHECK_EQ(set_u(&p, 0, "op", 1 | 2 | 4 | 8 | 32), SF_OK);
  CHECK(hexeq(&p, "2f" "02" "00000007" "6869" "00" "0002" "0000" "00" "666600"));
  CHECK_EQ(set_s(&p, 0, "pk", "\x01\x01z\x02\x00", 5), SF_OK);  /* two TLVs */
  CHECK_EQ(set_s(&p, 0, "rest", "end", 3), SF_OK);
  CHECK(hexeq(&p, "2f" "02" "00000007" "6869" "00" "0002" "0000" "02" "01017a0200"
                  "666600" "656e64"));
  CHECK_EQ(set_u(&p, 0, "op", 2), SF_OK);  /* x, w, pk, f go; the rest stays */
  CHECK(hexeq(&p, "02" "02" "6869" "00" "00" "656e64"));  /* pc: no items now */
  CHECK(get(&p, 0, "x", &v) == SF_E_ABSENT);
  CHECK(get(&p, 0, "rest", &v) == SF_OK && v.n == 3);
  sf_finalize(&p);
  CHECK(hexeq(&p, "02" "02" "6869" "00" "00" "656e64"));
  sf_pkt_free(&p);
}

static void test_lengths_and_padding(void) {
  sf_pkt p;
  built(&p, "FzLen");
  CHECK_EQ(set_s(&p, 0, "data", "hello", 5), SF_OK);
  CHECK_EQ(set_s(&p, 0, "items", "\x00\x01\x00\x02", 4), SF_OK);
  CHECK_EQ(set_s(&p, 0, "data2", "xyz", 3), SF_OK);
  CHECK(hexeq(&p, "0005" "02" "0500" "68656c6c6f" "00010002" "78797a"));
  sf_pkt_free(&p);
  built(&p, "FzPad");
  CHECK_EQ(set_s(&p, 0, "s", "abcd", 4), SF_OK);  /* 5 with its NUL: to 8 */
  CHECK_EQ(set_s(&p, 0, "v", "123", 3), SF_OK);   /* 3: to 8 */
  CHECK(hexeq(&p, "6162636400000000" "09000000" "0102" "03" "3132330000000000" "03"));
  sf_pkt_free(&p);
  built(&p, "FzPkts");  /* a length the user set larger than the data */
  CHECK_EQ(set_u(&p, 0, "blen", 9), SF_OK);
  CHECK_EQ(set_s(&p, 0, "more", "\x01\x01q", 3), SF_OK);
  CHECK_EQ(set_u(&p, 0, "trailer", 0x1234), SF_OK);  /* keeps its bytes */
  CHECK(hexeq(&p, "00" "0009" "010171" "00" "1234"));
  sf_pkt_free(&p);
}

static void test_hooks(void) {
  static const uint8_t two[] = {1, 0, 'a', 'b', 7, 1, 'z'};
  sf_pkt p;
  sf_val v;
  built(&p, "FzHooks");
  CHECK_EQ(set_s(&p, 0, "body", "ab", 2), SF_OK);
  p.flags |= SF_P_DIRTY;
  sf_finalize(&p);
  CHECK(hexeq(&p, "01" "03" "6162"));  /* 'a' ^ 'b' */
  sf_pkt_free(&p);
  parse(&p, "FzHooks", two, sizeof two);
  CHECK_EQ(p.nlayers, 2);
  CHECK_EQ(p.layers[1].proto, id_of("FzTlv"));
  CHECK(get(&p, 1, "v", &v) == SF_OK && v.n == 1 && v.p[0] == 'z');
  sf_pkt_free(&p);
}

/* Issue 10 item 9: what a length or count callback gives is checked. */
static void test_bad_numbers(void) {
  static const uint8_t neg[] = {0, 0, 0, 1, 0};  /* alen 1: data2 -1 */
  static const uint8_t big[] = {0, 9, 0, 2, 0, 'a'};  /* len 9, 1 byte */
  fz_host *h = host_of("FzLen");
  sf_pkt p;
  sf_val v;
  unsigned errors = h->errors;
  parse(&p, "FzLen", neg, sizeof neg);  /* parsing: malformed, quietly */
  CHECK_EQ(p.layers[0].proto, SF_RAW);
  CHECK(p.flags & SF_P_TRUNC);
  sf_pkt_free(&p);
  parse(&p, "FzLen", big, sizeof big);  /* cut short */
  CHECK_EQ(p.layers[0].proto, SF_RAW);
  CHECK(p.flags & SF_P_TRUNC);
  sf_pkt_free(&p);
  CHECK_EQ(h->errors, errors);
  built(&p, "FzLen");  /* building: reported, naming layer, field, value */
  CHECK_EQ(set_u(&p, 0, "alen", 1), SF_OK);
  CHECK(get(&p, 0, "data2", &v) == SF_E_ABSENT);
  CHECK_EQ(h->errors, errors + 1);
  CHECK(strstr(h->err, "FzLen.data2: length_from returned -1") != NULL);
  CHECK(set_s(&p, 0, "data2", "x", 1) != SF_OK);
  sf_pkt_free(&p);
}

/* A host that is gone is never called: its layouts fail, fixed ones work. */
static void test_killed(void) {
  static const uint8_t tlv[] = {1, 2, 'a', 'b'};
  static fz_host kh = {"FzKill", NULL, 0, 0, ""};
  sf_cdef d;
  sf_custom *c;
  sf_pkt p;
  char err[200];
  int id;
  memset(&d, 0, sizeof d);
  kh.rules = fz_tlv_r;
  d.name = "FzKill";
  d.nfields = 3;
  d.fields = fz_tlv_f;
  d.cf = fz_tlv_c;
  d.ops = &fz_ops;
  d.host = &kh;
  c = sf_custom_new(&d, err, sizeof err);
  CHECK(c != NULL);
  if (!c) return;
  CHECK((id = sf_custom_register(c)) >= 0);
  parse(&p, "FzKill", tlv, sizeof tlv);
  CHECK_EQ(p.layers[0].proto, id);
  CHECK(kh.calls > 0);
  sf_pkt_free(&p);
  sf_custom_kill(c);
  kh.calls = 0;
  CHECK_EQ(sf_proto_find("FzKill"), -1);  /* retired: its name is free */
  sf_pkt_init(&p);  /* a packet told to start with it parses it as Raw */
  sf_pkt_borrow(&p, tlv, sizeof tlv);
  p.first = id + 1;
  sf_pkt_parse(&p);
  CHECK_EQ(p.layers[0].proto, SF_RAW);
  CHECK_EQ(kh.calls, 0);
  sf_pkt_free(&p);
}

/* Definitions the engine refuses, with the reason. */
static void test_refused(void) {
  static const sf_field f[] = {FZ_U("a", 8, 0), FZ_U("a2", 65, 0)};
  static const sf_cfield cf[] = {FZ_LENOF(0), FZ_NONE};
  sf_cdef d;
  char err[200];
  memset(&d, 0, sizeof d);
  d.name = "FzBad";
  d.fields = f;
  d.cf = cf;
  d.ops = &fz_ops;
  d.nfields = 1;  /* measuring itself */
  CHECK(sf_custom_new(&d, err, sizeof err) == NULL);
  CHECK(strstr(err, "FzBad.a: length_of names no other field") != NULL);
  d.nfields = 2;
  d.cf = fz_fixed_c;  /* 65 bits */
  CHECK(sf_custom_new(&d, err, sizeof err) == NULL);
  CHECK(strstr(err, "FzBad.a2: a width of 1 to 64 bits") != NULL);
}

/* Issue 10 item 9: the registry holds SF_MAX_PROTOS protocols, and one it
   refuses is freed by its owner (ASan's leak check sees the rest). */
static void test_registry_limit(void) {
  int n = 0, before = sf_proto_count(), rc = 0;
  char err[200];
  while (n < 2 * SF_MAX_PROTOS) {
    sf_cdef d;
    sf_custom *c;
    char name[32];
    memset(&d, 0, sizeof d);
    snprintf(name, sizeof name, "FzMany%d", n);
    d.name = name;
    d.nfields = 3;
    d.fields = fz_tlv_f;
    d.cf = fz_tlv_c;
    d.ops = &fz_ops;
    d.host = host_of("FzTlv");
    if (!(c = sf_custom_new(&d, err, sizeof err))) break;
    if ((rc = sf_custom_register(c)) < 0) {
      sf_custom_free(c);
      break;
    }
    n++;
  }
  CHECK_EQ(rc, SF_E_TOOBIG);
  CHECK_EQ(before + n, SF_MAX_PROTOS);
  CHECK(n > 1700);  /* the built-ins take the rest: 252 with QUIC */
}

int main(void) {
  char err[256];
  sf_init();
  if (fz_define_all(err, sizeof err) != 0) {
    fprintf(stderr, "defining the protocols: %s\n", err);
    return 1;
  }
  test_defaults();
  test_parse();
  test_rebuild_with_conditions();
  test_lengths_and_padding();
  test_hooks();
  test_bad_numbers();
  test_killed();
  test_refused();
  test_registry_limit();  /* last: it fills the registry */
  return check_report("test_custom");
}
