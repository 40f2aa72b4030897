/*
 * test_text.c -- text forms of field values (core/field.c): addresses and
 * flags, as constructors and field reads use them.
 *
 * IPv4 and IPv6 text is checked against the C library's inet_pton/inet_ntop over
 * every string of a generated set (the engine parses and formats it
 * itself, for speed); MAC text against fixed cases and round trips; flag
 * text against a formatter written here with snprintf, and round trips
 * through the parser.  Python's repr of bytes (Scapy's texts show bytes
 * values so) against python3's own for fixed cases, and against a
 * formatter written here with snprintf over random bytes.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sf.h"
#include "summary.h"

#include "check.h"

static uint64_t lcg_state = 12345;

static unsigned lcg(unsigned n) {
  lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
  return (unsigned)(lcg_state >> 33) % n;
}

/* A string that is often almost an IPv4 address. */
static void gen_ip4ish(char *s, size_t cap) {
  static const char alpha[] = "0123456789..........0125x -+";
  size_t n = lcg(18), i;
  if (n >= cap) n = cap - 1;
  for (i = 0; i < n; i++) s[i] = alpha[lcg(sizeof alpha - 1)];
  s[n] = '\0';
}

static void test_ip4_parse(void) {
  static const char *const cases[] = {
    "0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3.4", "01.2.3.4",
    "1.2.3.04", "1.2.3.00", "256.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3.4",
    "1..2.3", "1.2.3.4.5", "1234.1.1.1", "", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4",
    "0x1.2.3.4", "1.2.3.-4", "999.0.0.0", "100.200.250.249", "1.2.3.4a",
  };
  char s[32];
  size_t i;
  int accepted = 0;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t a[4] = {0}, b[4] = {0};
    int ours = sf_parse_ip4(cases[i], a) == SF_OK;
    int libc = inet_pton(AF_INET, cases[i], b) == 1;
    CHECK_EQ(ours, libc);
    if (ours && libc) CHECK(memcmp(a, b, 4) == 0);
  }
  for (i = 0; i < 300000; i++) {
    uint8_t a[4] = {0}, b[4] = {0};
    int ours, libc;
    gen_ip4ish(s, sizeof s);
    ours = sf_parse_ip4(s, a) == SF_OK;
    libc = inet_pton(AF_INET, s, b) == 1;
    accepted += libc;
    if (ours != libc || (ours && memcmp(a, b, 4) != 0)) {
      fprintf(stderr, "sf_parse_ip4 and inet_pton differ on \"%s\"\n", s);
      CHECK(0);
      return;
    }
  }
  CHECK(accepted > 100);  /* the generator does reach valid addresses */
  passed++;
}

static void test_ip4_format(void) {
  uint8_t a[4];
  char ours[16], libc[16];
  unsigned i, j;
  for (i = 0; i < 200000; i++) {
    for (j = 0; j < 4; j++) a[j] = (uint8_t)(i < 256 ? i : lcg(256));
    sf_format_ip4(a, ours);
    inet_ntop(AF_INET, a, libc, sizeof libc);
    if (strcmp(ours, libc) != 0) {
      fprintf(stderr, "sf_format_ip4 %s, inet_ntop %s\n", ours, libc);
      CHECK(0);
      return;
    }
  }
  passed++;
}

static void test_mac(void) {
  static const struct { const char *s; int ok; } cases[] = {
    {"00:11:22:33:44:55", 1}, {"AA:bb:Cc:dD:ee:FF", 1}, {"00-11-22-33-44-55", 1},
    {"00:11-22:33-44:55", 1}, {"00:11:22:33:44", 0}, {"00:11:22:33:44:5", 0},
    {"00:11:22:33:44:55:", 0}, {"00:11:22:33:44:556", 0}, {"0:11:22:33:44:55", 0},
    {"00.11.22.33.44.55", 0}, {"g0:11:22:33:44:55", 0}, {"001122334455", 0},
    {"", 0}, {"00:11:22:33:44:5g", 0}, {"00:11:22:33:44 55", 0},
  };
  uint8_t m[6], back[6];
  char text[18];
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECK_EQ(sf_parse_mac(cases[i].s, m) == SF_OK, cases[i].ok);
  CHECK_EQ(sf_parse_mac("AA:bb:Cc:dD:ee:FF", m), SF_OK);
  sf_format_mac(m, text);
  CHECK(strcmp(text, "aa:bb:cc:dd:ee:ff") == 0);
  for (i = 0; i < 10000; i++) {
    size_t j;
    for (j = 0; j < 6; j++) m[j] = (uint8_t)lcg(256);
    sf_format_mac(m, text);
    if (sf_parse_mac(text, back) != SF_OK || memcmp(m, back, 6) != 0) {
      fprintf(stderr, "MAC round trip fails for %s\n", text);
      CHECK(0);
      return;
    }
  }
  passed++;
}

/* The flag text as the engine wrote it with snprintf before: names of the
   set bits in descriptor order ("+" between words), leftover bits as hex. */
static size_t ref_flags(const sf_field *f, uint64_t v, char *out, size_t n) {
  const sf_enum *e;
  size_t w = 0;
  int letters = 1;
  for (e = f->enums; e && e->name; e++)
    if (strlen(e->name) != 1) letters = 0;
  out[0] = '\0';
  for (e = f->enums; e && e->name; e++) {
    if (!((v >> e->value) & 1)) continue;
    w += (size_t)snprintf(out + w, w < n ? n - w : 0, "%s%s",
                          (!letters && w) ? "+" : "", e->name);
    v &= ~(UINT64_C(1) << e->value);
  }
  if (v) w += (size_t)snprintf(out + w, w < n ? n - w : 0, "%s0x%llx",
                               w ? "+" : "", (unsigned long long)v);
  return w;
}

static const sf_field *field_of(const char *proto, const char *name) {
  const sf_proto *pr = sf_proto_get(ID(proto));
  return &pr->fields[sf_field_find(pr, name)];
}

static void test_flags(void) {
  const sf_field *fields[2];
  char ours[64], ref[64];
  int k;
  fields[0] = field_of("TCP", "flags");  /* letters: "SA" */
  fields[1] = field_of("IP", "flags");   /* words: "MF+DF" */
  for (k = 0; k < 2; k++) {
    const sf_field *f = fields[k];
    uint64_t v, back, max = f->bits >= 16 ? 0xffff : (UINT64_C(1) << f->bits) - 1;
    for (v = 0; v <= max; v++) {
      size_t n, cut;
      n = sf_format_flags(f, v, ours, sizeof ours);
      CHECK_EQ(n, ref_flags(f, v, ref, sizeof ref));
      if (strcmp(ours, ref) != 0) {
        fprintf(stderr, "flags 0x%llx: \"%s\", before \"%s\"\n",
                (unsigned long long)v, ours, ref);
        CHECK(0);
      }
      CHECK(sf_parse_flags(f, ours, &back) == SF_OK && back == v);
      for (cut = 1; cut < 6; cut++) {  /* a short buffer: cut, NUL-ended */
        char small[6];
        CHECK_EQ(sf_format_flags(f, v, small, cut), n);
        CHECK(strlen(small) == (n < cut - 1 ? n : cut - 1));
        CHECK(strncmp(small, ours, strlen(small)) == 0);
      }
    }
  }
  {
    uint64_t v;
    CHECK_EQ(sf_parse_flags(fields[0], "SA", &v), SF_OK);
    CHECK_EQ(v, 0x12);
    CHECK_EQ(sf_parse_flags(fields[0], "SXQ", &v), SF_E_VALUE);
    CHECK_EQ(sf_parse_flags(fields[1], "MF+DF", &v), SF_OK);
    CHECK_EQ(v, 3);
    CHECK_EQ(sf_parse_flags(fields[1], "DF", &v), SF_OK);
    CHECK_EQ(v, 2);
    CHECK_EQ(sf_parse_flags(fields[1], "D", &v), SF_E_VALUE);  /* not a prefix */
    CHECK_EQ(sf_parse_flags(fields[1], "DFX", &v), SF_E_VALUE);
  }
}

/* IPv6 text is inet_ntop's (which Scapy's too goes through) for addresses
   with zero runs of every length and place, embedded IPv4 included. */
static void test_ip6_format(void) {
  static const uint8_t fixed[][16] = {
    {0}, {[15] = 1}, {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1},
    {[12] = 1, [13] = 2, [14] = 3, [15] = 4}, {[11] = 1, [12] = 1},
    {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, {0xfe, 0x80, [8] = 0x02, [15] = 0xff},
    {[0] = 1, [4] = 1, [8] = 1, [12] = 1}, {[2] = 1, [6] = 1, [10] = 1, [14] = 1},
  };
  size_t k;
  int i, bad = 0;
  for (k = 0; k < sizeof fixed / sizeof fixed[0] + 200000; k++) {
    uint8_t a[16];
    char mine[46], libc[46];
    if (k < sizeof fixed / sizeof fixed[0]) {
      memcpy(a, fixed[k], 16);
    } else {
      for (i = 0; i < 8; i++) {  /* words zero often, small or full */
        unsigned w = lcg(3) ? 0 : lcg(2) ? lcg(16) : lcg(65536);
        a[2 * i] = (uint8_t)(w >> 8);
        a[2 * i + 1] = (uint8_t)w;
      }
      if (lcg(8) == 0) { memset(a, 0, 10); a[10] = a[11] = 0xff; }
    }
    sf_format_ip6(a, mine);
    inet_ntop(AF_INET6, a, libc, sizeof libc);
    if (strcmp(mine, libc) != 0 && bad++ < 5)
      printf("ip6 %s, inet_ntop %s\n", mine, libc);
  }
  CHECK_EQ(bad, 0);
}

/* Python's repr, one byte at a time with snprintf (what the engine spells out) */
static size_t ref_pybytes(const uint8_t *d, size_t n, char *out, size_t cap) {
  int dq = memchr(d, '\'', n) && !memchr(d, '"', n);
  char q = dq ? '"' : '\'';
  size_t w = 0, i;
  w += (size_t)snprintf(out + w, cap - w, "b%c", q);
  for (i = 0; i < n; i++) {
    unsigned c = d[i];
    if (c == '\\' || c == (unsigned)q) w += (size_t)snprintf(out + w, cap - w, "\\%c", c);
    else if (c == '\t') w += (size_t)snprintf(out + w, cap - w, "\\t");
    else if (c == '\n') w += (size_t)snprintf(out + w, cap - w, "\\n");
    else if (c == '\r') w += (size_t)snprintf(out + w, cap - w, "\\r");
    else if (c < 32 || c >= 127) w += (size_t)snprintf(out + w, cap - w, "\\x%02x", c);
    else w += (size_t)snprintf(out + w, cap - w, "%c", c);
  }
  return w + (size_t)snprintf(out + w, cap - w, "%c", q);
}

static void test_pybytes(void) {
  static const struct { const char *in; size_t n; const char *py; } fixed[] = {
    /* python3 -c 'print(repr(b"..."))' */
    {"", 0, "b''"}, {"abc", 3, "b'abc'"}, {"it's", 4, "b\"it's\""},
    {"say \"hi\"", 8, "b'say \"hi\"'"}, {"it's \"x\"", 8, "b'it\\'s \"x\"'"},
    {"back\\slash", 10, "b'back\\\\slash'"},
    {"\t\n\r\0\x1f\x7f\x80\xff", 8, "b'\\t\\n\\r\\x00\\x1f\\x7f\\x80\\xff'"},
    {"www.example.com", 15, "b'www.example.com'"}, {"'", 1, "b\"'\""},
    {"\"'", 2, "b'\"\\''"},
  };
  char out[1024], ref[1024], small[7];
  uint8_t d[64];
  size_t k, i, n;
  int bad = 0;
  for (k = 0; k < sizeof fixed / sizeof fixed[0]; k++) {
    CHECK_EQ(sf_scapy_pybytes((const uint8_t *)fixed[k].in, fixed[k].n, out, sizeof out),
             strlen(fixed[k].py));
    CHECK(strcmp(out, fixed[k].py) == 0);
  }
  for (k = 0; k < 20000; k++) {  /* printable runs, escapes and quotes mixed */
    n = lcg(sizeof d);
    for (i = 0; i < n; i++) d[i] = (uint8_t)(lcg(3) ? 32 + lcg(95) : lcg(256));
    if (sf_scapy_pybytes(d, n, out, sizeof out) != ref_pybytes(d, n, ref, sizeof ref) ||
        strcmp(out, ref) != 0) {
      if (bad++ < 5) printf("pybytes %s, reference %s\n", out, ref);
    }
    /* cut as snprintf cuts: the whole length returned, the start kept */
    CHECK_EQ(sf_scapy_pybytes(d, n, small, sizeof small), strlen(ref));
    CHECK(strncmp(small, ref, sizeof small - 1) == 0);
  }
  CHECK_EQ(bad, 0);
}

int main(void) {
  sf_init();
  test_ip4_parse();
  test_ip4_format();
  test_ip6_format();
  test_mac();
  test_flags();
  test_pybytes();
  return check_report("test_text");
}
