/*
 * dns.c -- DNS (RFC 1035) over UDP 53, mDNS (RFC 6762) on 5353, LLMNR
 * (RFC 4795) on 5355 and DNS over TCP 53 (RFC 7766: a two-byte length
 * first), with Scapy 2.5's classes and field names.
 *
 * DNS (and LLMNRQuery) is the message header.  Its records are layers of
 * their own after it: DNSQR for the questions, then the answer, authority
 * and additional records, found by the header's counts (the header's
 * `parts`: p[DNS].an lists the answers).  A resource record's class comes
 * from its type, as Scapy's DNSRR_DISPATCHER picks it: DNSRRMX, DNSRRSOA,
 * DNSRRSRV, DNSRROPT (EDNS0), DNSRRDS, DNSRRDLV, DNSRRRSIG, DNSRRNSEC,
 * DNSRRNSEC3, DNSRRNSEC3PARAM, DNSRRDNSKEY, DNSRRTSIG, and DNSRRCAA and
 * DNSRRHINFO, which Scapy has not (named in its style here); DNSRR for
 * any other type, its rdata an IPv4 address (A), an IPv6 address (AAAA),
 * a name (NS, MD, MF, CNAME, PTR, DNAME), a list of strings (TXT) or
 * bytes, as Scapy's MultipleTypeField.
 *
 * Records are defined through the layout engine (core/custom/): a name's
 * wire length, rdlen and the length fields are answered here in C, so a
 * record is laid out again from its values whenever a field is set (a
 * longer name moves what follows, rdlen follows).  Names read as text
 * through the "dns_name" codec, which follows compression pointers into
 * the enclosing message with loop and bounds protection; a built name is
 * written uncompressed, as Scapy 2.5 writes it, and dns_compress(pkt)
 * compresses as Scapy's does.
 *
 * Over TCP the header starts with Scapy's `length` field: the header is
 * 14 bytes there and 12 elsewhere, and each header field has a variant at
 * each offset (present() tells them apart by the header's length).  A DNS
 * built on TCP gets its length bytes when the packet is finalized.
 * Several messages in one TCP segment are parsed one after another.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../summary.h"
#include "../custom/custom.h"

/* ---- value names ------------------------------------------------------------ */

#define DNS_TYPES \
  {1, "A"}, {2, "NS"}, {3, "MD"}, {4, "MF"}, {5, "CNAME"}, {6, "SOA"}, \
  {7, "MB"}, {8, "MG"}, {9, "MR"}, {10, "NULL"}, {11, "WKS"}, {12, "PTR"}, \
  {13, "HINFO"}, {14, "MINFO"}, {15, "MX"}, {16, "TXT"}, {17, "RP"}, \
  {18, "AFSDB"}, {19, "X25"}, {20, "ISDN"}, {21, "RT"}, {22, "NSAP"}, \
  {23, "NSAP-PTR"}, {24, "SIG"}, {25, "KEY"}, {26, "PX"}, {27, "GPOS"}, \
  {28, "AAAA"}, {29, "LOC"}, {30, "NXT"}, {31, "EID"}, {32, "NIMLOC"}, \
  {33, "SRV"}, {34, "ATMA"}, {35, "NAPTR"}, {36, "KX"}, {37, "CERT"}, \
  {38, "A6"}, {39, "DNAME"}, {40, "SINK"}, {41, "OPT"}, {42, "APL"}, \
  {43, "DS"}, {44, "SSHFP"}, {45, "IPSECKEY"}, {46, "RRSIG"}, {47, "NSEC"}, \
  {48, "DNSKEY"}, {49, "DHCID"}, {50, "NSEC3"}, {51, "NSEC3PARAM"}, \
  {52, "TLSA"}, {53, "SMIMEA"}, {55, "HIP"}, {56, "NINFO"}, {57, "RKEY"}, \
  {58, "TALINK"}, {59, "CDS"}, {60, "CDNSKEY"}, {61, "OPENPGPKEY"}, \
  {62, "CSYNC"}, {63, "ZONEMD"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"}, \
  {100, "UINFO"}, {101, "UID"}, {102, "GID"}, {103, "UNSPEC"}, {104, "NID"}, \
  {105, "L32"}, {106, "L64"}, {107, "LP"}, {108, "EUI48"}, {109, "EUI64"}, \
  {249, "TKEY"}, {250, "TSIG"}, {256, "URI"}, {257, "CAA"}, {258, "AVC"}, \
  {259, "DOA"}, {260, "AMTRELAY"}, {32768, "TA"}, {32769, "DLV"}, \
  {65535, "RESERVED"}

static const sf_enum rr_types[] = {{0, "ANY"}, DNS_TYPES, {0, NULL}};
static const sf_enum q_types[] = {
  {0, "ANY"}, DNS_TYPES, {251, "IXFR"}, {252, "AXFR"}, {253, "MAILB"},
  {254, "MAILA"}, {255, "ALL"}, {0, NULL}
};
static const sf_enum classes[] = {
  {1, "IN"}, {2, "CS"}, {3, "CH"}, {4, "HS"}, {255, "ANY"}, {0, NULL}
};
static const sf_enum opcodes[] = {
  {0, "QUERY"}, {1, "IQUERY"}, {2, "STATUS"}, {0, NULL}
};
static const sf_enum rcodes[] = {
  {0, "ok"}, {1, "format-error"}, {2, "server-failure"}, {3, "name-error"},
  {4, "not-implemented"}, {5, "refused"}, {0, NULL}
};
static const sf_enum algorithms[] = {
  {0, "Reserved"}, {1, "RSA/MD5"}, {2, "Diffie-Hellman"}, {3, "DSA/SHA-1"},
  {5, "RSA/SHA-1"}, {6, "DSA-NSEC3-SHA1"}, {7, "RSASHA1-NSEC3-SHA1"},
  {8, "RSA/SHA-256"}, {10, "RSA/SHA-512"}, {12, "GOST R 34.10-2001"},
  {13, "ECDSA Curve P-256 with SHA-256"}, {14, "ECDSA Curve P-384 with SHA-384"},
  {15, "Ed25519"}, {16, "Ed448"},
  {252, "Reserved for Indirect Keys"}, {253, "Private algorithms - domain name"},
  {254, "Private algorithms - OID"}, {255, "Reserved"}, {0, NULL}
};
static const sf_enum digests[] = {
  {0, "Reserved"}, {1, "SHA-1"}, {2, "SHA-256"}, {3, "GOST R 34.11-94"},
  {4, "SHA-384"}, {0, NULL}
};
static const sf_enum edns0_types[] = {
  {0, "Reserved"}, {1, "LLQ"}, {2, "UL"}, {3, "NSID"}, {4, "Reserved"},
  {5, "PING"}, {8, "edns-client-subnet"}, {10, "COOKIE"},
  {11, "edns-tcp-keepalive"}, {12, "Padding"}, {15, "Extended DNS Error"},
  {0, NULL}
};
static const sf_enum opt_z[] = {{32768, "D0"}, {0, NULL}};
static const sf_enum nsec3_flags[] = {{1, "Opt-Out"}, {0, NULL}};
static const sf_enum dnskey_flags[] = {{0, "S"}, {8, "Z"}, {0, NULL}};

/* ---- names on the wire ---------------------------------------------------------- */

#define NAME_MAX_WIRE 255   /* RFC 1035 3.1 */
#define MAX_JUMPS 64        /* compression pointers followed in one name */

/* Bytes a name takes where it is written: labels up to the root label or
   a pointer.  0 when it runs past n or uses a label type that is not a
   length or a pointer (0x40, 0x80: RFC 6891 retired them). */
static size_t name_wire_len(const uint8_t *h, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = h[i];
    if (c == 0) return i + 1;
    if ((c & 0xc0) == 0xc0) return i + 2 <= n ? i + 2 : 0;
    if (c & 0xc0) return 0;
    i += 1 + c;
  }
  return 0;
}

/* Append label byte c as text: '.' and '\' escaped, bytes outside
   printable ASCII as \DDD (RFC 1035 5.1, as dig writes them). */
static size_t put_label_byte(char *out, size_t w, size_t cap, uint8_t c) {
  char esc[5];
  size_t k, n;
  if (c == '.' || c == '\\') n = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
  else if (c <= 0x20 || c >= 0x7f) n = (size_t)snprintf(esc, sizeof esc, "\\%03u", c);
  else esc[0] = (char)c, n = 1;
  for (k = 0; k < n; k++)
    if (w + k + 1 < cap) out[w + k] = esc[k];
  return w + n;
}

/* The text of the name whose bytes are d[0..n), pointers into the message
   msg[0..mlen) (NULL: none can be followed).  Its length, or < 0 when it
   is cut short, loops or points outside the message. */
static int name_text(const uint8_t *d, size_t n, const uint8_t *msg,
                     size_t mlen, char *out, size_t cap) {
  const uint8_t *cur = d;
  size_t curlen = n, i = 0, w = 0, wire = 0;
  int jumps = 0;
  for (;;) {
    unsigned c;
    if (i >= curlen) return -1;
    c = cur[i];
    if (c == 0) break;
    if ((c & 0xc0) == 0xc0) {
      size_t to;
      if (i + 1 >= curlen || !msg || ++jumps > MAX_JUMPS) return -1;
      to = (size_t)(c & 0x3f) << 8 | cur[i + 1];
      if (to >= mlen) return -1;
      cur = msg;
      curlen = mlen;
      i = to;
      continue;
    }
    if ((c & 0xc0) || i + 1 + c > curlen || (wire += 1 + c) > NAME_MAX_WIRE)
      return -1;
    for (size_t k = 0; k < c; k++) w = put_label_byte(out, w, cap, cur[i + 1 + k]);
    if (w + 1 < cap) out[w] = '.';
    w++;
    i += 1 + c;
  }
  if (w == 0) {  /* the root */
    if (cap > 1) out[0] = '.';
    w = 1;
  }
  if (w >= cap) return SF_E_TOOBIG;
  out[w] = '\0';
  return (int)w;
}

/* Scapy's test for a value that is a name's bytes already (dns_compress
   writes such values): no dot, and it ends with the root or a pointer. */
static int is_wire_form(const uint8_t *s, size_t n) {
  return n && !memchr(s, '.', n) &&
         (s[n - 1] == 0 || (n >= 2 && (s[n - 2] & 0xc0) == 0xc0)) &&
         name_wire_len(s, n) == n;
}

/* One escaped byte of a name's text at s[*i]: "\." "\\" "\DDD". */
static int text_byte(const char *s, size_t n, size_t *i) {
  unsigned v;
  if (s[*i] != '\\') return (uint8_t)s[(*i)++];
  if (*i + 1 >= n) return -1;
  if (s[*i + 1] >= '0' && s[*i + 1] <= '9') {
    if (*i + 3 >= n + 0 || sscanf(s + *i + 1, "%3u", &v) != 1 || v > 255 ||
        !(s[*i + 2] >= '0' && s[*i + 2] <= '9' && s[*i + 3] >= '0' && s[*i + 3] <= '9'))
      return -1;
    *i += 4;
    return (int)v;
  }
  *i += 2;
  return (uint8_t)s[*i - 1];
}

/* "www.example.com" (a final dot optional, "." or "" the root) as
   uncompressed labels, as Scapy 2.5 encodes it. */
static int name_from_text(const char *s, size_t n, uint8_t *out, size_t cap) {
  size_t i = 0, w = 0;
  if (is_wire_form((const uint8_t *)s, n)) {
    if (n > cap) return SF_E_TOOBIG;
    memcpy(out, s, n);
    return (int)n;
  }
  if (n == 1 && s[0] == '.') n = 0;
  while (i < n) {
    size_t lab = w++;
    if (w > cap) return SF_E_VALUE;
    while (i < n && s[i] != '.') {
      int c = text_byte(s, n, &i);
      if (c < 0 || w >= cap) return SF_E_VALUE;
      out[w++] = (uint8_t)c;
    }
    if (w - lab - 1 == 0 || w - lab - 1 > 63) return SF_E_VALUE;  /* empty or long */
    out[lab] = (uint8_t)(w - lab - 1);
    if (i < n) i++;  /* the dot */
  }
  if (w + 1 > NAME_MAX_WIRE || w + 1 > cap) return SF_E_VALUE;
  out[w++] = 0;
  return (int)w;
}

/* ---- the message a record belongs to ------------------------------------------ */

static int dns_id = -1, llmnr_id = -1;

static int is_header(int proto) { return proto == dns_id || proto == llmnr_id; }

/* The header layer of the message that layer li is part of (li itself
   when it is one), or -1. */
static int message_of(const sf_pkt *p, int li) {
  while (li >= 0 && sf_proto_get(p->layers[li].proto)->record) li--;
  return li >= 0 && is_header(p->layers[li].proto) ? li : -1;
}

/* The message's bytes, from its header on (after TCP's length), to the
   end of what the header layer spans. */
static const uint8_t *message_bytes(const sf_pkt *p, int m, size_t *len) {
  const sf_layer *l = &p->layers[m];
  size_t skip = l->hlen >= 14 ? 2 : 0;
  *len = l->end - l->off - skip;
  return p->data + l->off + skip;
}

static int dns_name_text(const sf_pkt *p, int li, int fi, const uint8_t *d,
                         size_t n, char *out, size_t cap) {
  const uint8_t *msg = NULL;
  size_t mlen = 0;
  int m = p ? message_of(p, li) : -1;
  (void)fi;
  if (m >= 0) msg = message_bytes(p, m, &mlen);
  return name_text(d, n, msg, mlen, out, cap);
}

/* Wireshark writes names without the final dot, and the root as <Root>. */
static int dns_name_ws(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                       char *out, size_t cap) {
  int k = dns_name_text(p, li, fi, d, n, out, cap);
  if (k == 1 && out[0] == '.') return snprintf(out, cap, "<Root>");
  if (k > 1 && out[k - 1] == '.') out[--k] = '\0';
  return k;
}

static const sf_codec dns_name_codec = {
  "dns_name", dns_name_text, name_from_text,
  "a domain name like \"www.example.com\"", dns_name_ws
};

/* ---- records: fields and how they are sized ------------------------------------ */

/* how a field of a record finds its length */
enum { Z_FIXED, Z_NAME, Z_RDLEN, Z_REST, Z_REF };
/* which rdata a generic DNSRR has, by its type */
enum { K_ALWAYS, K_A, K_AAAA, K_NS, K_CNAME, K_PTR, K_DNAME, K_TXT, K_BYTES };

typedef struct rec_field {
  sf_field f;
  uint8_t size;          /* Z_* */
  int8_t ref;            /* Z_REF: the length field; a length field: what it measures */
  uint8_t cond;          /* K_* */
  const char *def;       /* variable fields: default bytes */
  uint8_t ndef;
} rec_field;

#define RF_U(n, bits, d, en) {{(n), SF_T_UINT, 0, 0, 0, 0, (bits), (d), NULL, (en), NULL, NULL}, Z_FIXED, -1, K_ALWAYS, NULL, 0}
#define RF_FLAGS(n, bits, d, en) {{(n), SF_T_FLAGS, 0, 0, 0, 0, (bits), (d), NULL, (en), NULL, NULL}, Z_FIXED, -1, K_ALWAYS, NULL, 0}
/* a length field measuring field m */
#define RF_LEN(n, bits, m) {{(n), SF_T_UINT, 0, 0, 0, 0, (bits), 0, NULL, NULL, NULL, NULL}, Z_FIXED, (m), K_ALWAYS, NULL, 0}
#define RF_NAME(n, d, nd) {{(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, "dns_name", NULL}, Z_NAME, -1, K_ALWAYS, (d), (nd)}
#define RF_BYTES(n, z, ref, codec) {{(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, (codec), NULL}, (z), (ref), K_ALWAYS, NULL, 0}
#define RF_HEX(n, bits, d) {{(n), SF_T_UINT, SF_FF_HEX, 0, 0, 0, (bits), (d), NULL, NULL, NULL, NULL}, Z_FIXED, -1, K_ALWAYS, NULL, 0}

#define ROOT "\0", 1
#define RF_ROOTNAME(n) RF_NAME(n, "\0", 1)
#define F_RRNAME 0
#define F_RDLEN 4
/* rrname type rclass ttl rdlen: every resource record starts so; rdlen
   measures what follows it (ref RD_ALL: the rest of the record) */
#define RD_ALL 127
#define RR_HEAD(type) \
  RF_ROOTNAME("rrname"), RF_U("type", 16, (type), rr_types), \
  RF_U("rclass", 16, 1, classes), RF_U("ttl", 32, 0, NULL), \
  RF_LEN("rdlen", 16, RD_ALL)

static const rec_field qr_fields[] = {
  RF_NAME("qname", "\3www\7example\3com", 17),
  RF_U("qtype", 16, 1, q_types), RF_U("qclass", 16, 1, classes),
};

static const rec_field rr_fields[] = {
  RR_HEAD(1),
  {{"rdata", SF_T_IP4, 0, 0, 0, 0, 32, 0, "0.0.0.0", NULL, NULL, NULL}, Z_FIXED, -1, K_A, NULL, 0},
  {{"rdata", SF_T_IP6, 0, 0, 0, 0, 128, 0, "::", NULL, NULL, NULL}, Z_FIXED, -1, K_AAAA, NULL, 0},
  /* a name, one alternative per type so each has its Wireshark name */
  {{"rdata", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, "dns_name", NULL}, Z_RDLEN, -1, K_NS, ROOT},
  {{"rdata", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, "dns_name", NULL}, Z_RDLEN, -1, K_CNAME, ROOT},
  {{"rdata", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, "dns_name", NULL}, Z_RDLEN, -1, K_PTR, ROOT},
  {{"rdata", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, "dns_name", NULL}, Z_RDLEN, -1, K_DNAME, ROOT},
  {{"rdata", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, "dns_txt", NULL}, Z_RDLEN, -1, K_TXT, NULL, 0},
  {{"rdata", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL}, Z_RDLEN, -1, K_BYTES, NULL, 0},
};

static const rec_field mx_fields[] = {
  RR_HEAD(15), RF_U("preference", 16, 0, NULL), RF_ROOTNAME("exchange"),
};

static const rec_field soa_fields[] = {
  RR_HEAD(6), RF_ROOTNAME("mname"), RF_ROOTNAME("rname"),
  RF_U("serial", 32, 0, NULL), RF_U("refresh", 32, 0, NULL),
  RF_U("retry", 32, 0, NULL), RF_U("expire", 32, 0, NULL),
  RF_U("minimum", 32, 0, NULL),
};

static const rec_field srv_fields[] = {
  RR_HEAD(33), RF_U("priority", 16, 0, NULL), RF_U("weight", 16, 0, NULL),
  RF_U("port", 16, 0, NULL), RF_ROOTNAME("target"),
};

static const rec_field rrsig_fields[] = {
  RR_HEAD(46), RF_U("typecovered", 16, 1, rr_types),
  RF_U("algorithm", 8, 5, algorithms), RF_U("labels", 8, 0, NULL),
  RF_U("originalttl", 32, 0, NULL), RF_U("expiration", 32, 0, NULL),
  RF_U("inception", 32, 0, NULL), RF_U("keytag", 16, 0, NULL),
  RF_ROOTNAME("signersname"), RF_BYTES("signature", Z_REST, -1, NULL),
};

static const rec_field nsec_fields[] = {
  RR_HEAD(47), RF_ROOTNAME("nextname"),
  RF_BYTES("typebitmaps", Z_REST, -1, "dns_typebitmaps"),
};

static const rec_field dnskey_fields[] = {
  RR_HEAD(48), RF_FLAGS("flags", 16, 256, dnskey_flags),
  RF_U("protocol", 8, 3, NULL), RF_U("algorithm", 8, 5, algorithms),
  RF_BYTES("publickey", Z_REST, -1, NULL),
};

static const rec_field ds_fields[] = {
  RR_HEAD(43), RF_U("keytag", 16, 0, NULL), RF_U("algorithm", 8, 5, algorithms),
  RF_U("digesttype", 8, 5, digests), RF_BYTES("digest", Z_REST, -1, NULL),
};

static const rec_field dlv_fields[] = {
  RR_HEAD(32769), RF_U("keytag", 16, 0, NULL), RF_U("algorithm", 8, 5, algorithms),
  RF_U("digesttype", 8, 5, digests), RF_BYTES("digest", Z_REST, -1, NULL),
};

static const rec_field nsec3_fields[] = {
  RR_HEAD(50), RF_U("hashalg", 8, 0, NULL), RF_U("flags", 8, 0, nsec3_flags),
  RF_U("iterations", 16, 0, NULL), RF_LEN("saltlength", 8, 9),
  RF_BYTES("salt", Z_REF, 8, NULL), RF_LEN("hashlength", 8, 11),
  RF_BYTES("nexthashedownername", Z_REF, 10, NULL),
  RF_BYTES("typebitmaps", Z_REST, -1, "dns_typebitmaps"),
};

static const rec_field nsec3param_fields[] = {
  RR_HEAD(51), RF_U("hashalg", 8, 0, NULL), RF_U("flags", 8, 0, NULL),
  RF_U("iterations", 16, 0, NULL), RF_LEN("saltlength", 8, 9),
  RF_BYTES("salt", Z_REF, 8, NULL),
};

static const rec_field tsig_fields[] = {
  RR_HEAD(250), RF_NAME("algo_name", "\011hmac-sha1", 11),
  RF_U("time_signed", 48, 0, NULL), RF_U("fudge", 16, 0, NULL),
  RF_LEN("mac_len", 16, 9), RF_BYTES("mac_data", Z_REF, 8, NULL),
  RF_U("original_id", 16, 0, NULL), RF_U("error", 16, 0, NULL),
  RF_LEN("other_len", 16, 13), RF_BYTES("other_data", Z_REF, 12, NULL),
};

static const rec_field opt_fields[] = {
  RF_ROOTNAME("rrname"), RF_U("type", 16, 41, rr_types),
  RF_U("rclass", 16, 4096, NULL), RF_U("extrcode", 8, 0, NULL),
  RF_U("version", 8, 0, NULL), RF_U("z", 16, 32768, opt_z),
  RF_LEN("rdlen", 16, 7), RF_BYTES("rdata", Z_REF, 6, "dns_edns_options"),
};

/* RFC 8659; Scapy 2.5 has no class for it */
static const rec_field caa_fields[] = {
  RR_HEAD(257), RF_U("flags", 8, 0, NULL), RF_LEN("taglength", 8, 7),
  RF_BYTES("tag", Z_REF, 6, NULL), RF_BYTES("value", Z_REST, -1, NULL),
};

/* RFC 1035 3.3.2; Scapy 2.5 has no class for it */
static const rec_field hinfo_fields[] = {
  RR_HEAD(13), RF_LEN("cpulength", 8, 6), RF_BYTES("cpu", Z_REF, 5, NULL),
  RF_LEN("oslength", 8, 8), RF_BYTES("os", Z_REF, 7, NULL),
};

static const rec_field edns0_fields[] = {
  RF_U("optcode", 16, 0, edns0_types), RF_LEN("optlen", 16, 2),
  RF_BYTES("optdata", Z_REF, 1, NULL),
};

/* ---- the layout engine's questions, answered ------------------------------------- */

typedef struct rec_def {
  const char *name, *display, *kind;
  const rec_field *fields;
  int nfields;
  uint16_t type;         /* the record type it is chosen for (0: none) */
  int record;            /* a record of a message (EDNS0TLV is not) */
  int id;                /* once registered */
} rec_def;

static int field_value(const sf_cview *v, int fi, uint64_t *out) {
  sf_val val;
  if (fi < 0 || sf_cview_get(v, fi, &val) != SF_OK) return 0;
  *out = val.u;
  return 1;
}

/* Where field fi starts: past the field before it (absent fields keep
   their position). */
static size_t field_pos(const sf_cview *v, int fi) {
  const sf_span *s;
  if (fi == 0) return 0;
  s = &v->spans[fi - 1];
  return (s->bits == SF_ABSENT ? s->bitoff : s->bitoff + s->bits) / 8u;
}

static int rec_number(void *host, const sf_cview *v, int fi, int what,
                      int64_t *out, char *bad, size_t badlen) {
  const rec_def *d = host;
  const rec_field *rf = &d->fields[fi];
  size_t pos = field_pos(v, fi);
  uint64_t x = 0;
  (void)what;
  switch (rf->size) {
    case Z_NAME:
      *out = pos < v->n ? (int64_t)name_wire_len(v->h + pos, v->n - pos) : 0;
      if (*out) return SF_OK;
      snprintf(bad, badlen, "no name (labels cut short or of an unknown type)");
      return SF_E_VALUE;
    case Z_RDLEN:
      field_value(v, F_RDLEN, &x);
      *out = (int64_t)x;
      return SF_OK;
    case Z_REF:
      field_value(v, rf->ref, &x);
      *out = (int64_t)x;
      return SF_OK;
    default: {  /* Z_REST: what rdlen leaves */
      size_t start = (size_t)(v->spans[F_RDLEN].bitoff / 8u) + 2;
      field_value(v, F_RDLEN, &x);
      *out = (int64_t)(start + x) - (int64_t)pos;
      return SF_OK;
    }
  }
}

/* A 16-bit field of the record laid out so far, read straight (conditions
   are asked for every rdata alternative of every record parsed). */
static unsigned head16(const sf_cview *v, int fi) {
  size_t at = v->spans[fi].bitoff / 8u;
  if (fi >= v->upto || v->spans[fi].bits != 16 || at + 2 > v->n) return 0;
  return rd16(v->h + at);
}

static int rec_cond(void *host, const sf_cview *v, int fi, int *holds) {
  const rec_def *d = host;
  unsigned type = head16(v, 1), rdlen = head16(v, F_RDLEN);
  int k = d->fields[fi].cond;
  /* an address is there when rdlen says so; built, rdlen follows it */
  if (k == K_BYTES || k == K_A || k == K_AAAA) {
    int a = type == 1 && (v->rebuilding || rdlen == 4);
    int aaaa = type == 28 && (v->rebuilding || rdlen == 16);
    int named = type == 2 || type == 3 || type == 4 || type == 5 ||
                type == 12 || type == 39;
    *holds = k == K_A ? a : k == K_AAAA ? aaaa : !a && !aaaa && !named && type != 16;
    return SF_OK;
  }
  switch (k) {
    case K_NS: *holds = type == 2 || type == 3 || type == 4; break;  /* and MD, MF */
    case K_CNAME: *holds = type == 5; break;
    case K_PTR: *holds = type == 12; break;
    case K_DNAME: *holds = type == 39; break;
    default: *holds = k != K_TXT || type == 16;
  }
  return SF_OK;
}

/* rdlen: the bytes after it, whichever rdata the record has */
static int rec_adjust(void *host, const sf_cview *v, int fi, int64_t x,
                      int64_t *out, char *bad, size_t badlen) {
  size_t start = v->spans[fi].bitoff / 8u + 2;
  (void)host;
  (void)x;
  (void)bad;
  (void)badlen;
  *out = v->n > start ? (int64_t)(v->n - start) : 0;
  return SF_OK;
}

static void rec_error(void *host, const char *msg) {
  (void)host;
  (void)msg;  /* built records take values checked by their codecs */
}

static const sf_custom_ops rec_ops = {
  rec_number, rec_cond, rec_adjust, NULL, NULL, rec_error, NULL
};

/* ---- records: what follows each -------------------------------------------------- */

enum { R_QR, R_RR, R_MX, R_SOA, R_SRV, R_RRSIG, R_NSEC, R_DNSKEY, R_DS, R_DLV,
       R_NSEC3, R_NSEC3PARAM, R_TSIG, R_OPT, R_CAA, R_HINFO, R_EDNS0, NREC };

#define REC(name, display, kind, f, type, record) \
  {(name), (display), (kind), (f), NFIELDS(f), (type), (record), -1}

static rec_def recs[NREC] = {
  REC("DNSQR", "DNS Question Record", "DnsQr", qr_fields, 0, 1),
  REC("DNSRR", "DNS Resource Record", "DnsRr", rr_fields, 0, 1),
  REC("DNSRRMX", "DNS MX Resource Record", "DnsRrMx", mx_fields, 15, 1),
  REC("DNSRRSOA", "DNS SOA Resource Record", "DnsRrSoa", soa_fields, 6, 1),
  REC("DNSRRSRV", "DNS SRV Resource Record", "DnsRrSrv", srv_fields, 33, 1),
  REC("DNSRRRSIG", "DNS RRSIG Resource Record", "DnsRrRrsig", rrsig_fields, 46, 1),
  REC("DNSRRNSEC", "DNS NSEC Resource Record", "DnsRrNsec", nsec_fields, 47, 1),
  REC("DNSRRDNSKEY", "DNS DNSKEY Resource Record", "DnsRrDnskey", dnskey_fields, 48, 1),
  REC("DNSRRDS", "DNS DS Resource Record", "DnsRrDs", ds_fields, 43, 1),
  REC("DNSRRDLV", "DNS DLV Resource Record", "DnsRrDlv", dlv_fields, 32769, 1),
  REC("DNSRRNSEC3", "DNS NSEC3 Resource Record", "DnsRrNsec3", nsec3_fields, 50, 1),
  REC("DNSRRNSEC3PARAM", "DNS NSEC3PARAM Resource Record", "DnsRrNsec3Param",
      nsec3param_fields, 51, 1),
  REC("DNSRRTSIG", "DNS TSIG Resource Record", "DnsRrTsig", tsig_fields, 250, 1),
  REC("DNSRROPT", "DNS OPT Resource Record", "DnsRrOpt", opt_fields, 41, 1),
  REC("DNSRRCAA", "DNS CAA Resource Record", "DnsRrCaa", caa_fields, 257, 1),
  REC("DNSRRHINFO", "DNS HINFO Resource Record", "DnsRrHinfo", hinfo_fields, 13, 1),
  REC("EDNS0TLV", "DNS EDNS0 TLV", "DnsEdns0Tlv", edns0_fields, 0, 0),
};

static int count_at(const sf_pkt *p, int m, int k) {
  const sf_layer *l = &p->layers[m];
  size_t at = (l->hlen >= 14 ? 6 : 4) + 2u * (unsigned)k;
  return at + 2 <= l->hlen ? rd16(p->data + l->off + at) : 0;
}

/* The class of the resource record at h (n bytes): by its type, as
   Scapy's dispatcher; a typed record whose fields do not fill exactly
   its rdata reads as a DNSRR (its rdata bytes), so one bad record does
   not throw the next ones off. */
static int rr_class(const uint8_t *h, size_t n) {
  size_t nl = name_wire_len(h, n), hl;
  sf_span sp[SF_MAX_FIELDS];
  const sf_proto *pr;
  unsigned type;
  int r;
  if (!nl || nl + 10 > n) return recs[R_RR].id;
  type = rd16(h + nl);
  for (r = R_MX; r < R_EDNS0; r++)
    if (recs[r].type == type) break;
  if (r == R_EDNS0) return recs[R_RR].id;
  pr = sf_proto_get(recs[r].id);  /* its layout, not its hdr_len */
  hl = pr->dyn->layout(pr, h, n, sp, 0);
  return hl == nl + 10 + rd16(h + nl + 8) ? recs[r].id : recs[R_RR].id;
}

/* Is the header at layer m (a DNS) carried by a byte stream (TCP)? */
static int over_stream_below(const sf_pkt *p, int li) {
  for (; li >= 0; li--) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    if (pr->record || is_header(pr->id)) continue;
    return pr->facts && pr->facts->role == SF_ROLE_STREAM;
  }
  return 0;
}

/* What follows layer li of message m: its next record, by the counts;
   after the last one over TCP, the next message; else the rest is Raw. */
static int next_in_message(const sf_pkt *p, int li, int m) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  int seen = li - m, qd = count_at(p, m, 0);
  long total = (long)qd + count_at(p, m, 1) + count_at(p, m, 2) + count_at(p, m, 3);
  if (seen < total) return seen < qd ? recs[R_QR].id : rr_class(h, n);
  if (p->layers[m].proto == dns_id && p->layers[m].hlen >= 14 && n >= 14)
    return dns_id;  /* another message in the same segment */
  return -2;
}

static int rec_next(const sf_pkt *p, int li) {
  int m = message_of(p, li);
  return m >= 0 ? next_in_message(p, li, m) : -2;
}

/* ---- the header ------------------------------------------------------------------- */

enum { C_UDP = 1, C_TCP };

#define HDR(off, c) \
  UINTF("id", (off), 16, 0, 0, NULL, c), \
  UINTF("qr", (off) + 16, 1, 0, 0, NULL, c), \
  UINTF("opcode", (off) + 17, 4, 0, 0, opcodes, c), \
  UINTF("aa", (off) + 21, 1, 0, 0, NULL, c), \
  UINTF("tc", (off) + 22, 1, 0, 0, NULL, c), \
  UINTF("rd", (off) + 23, 1, 1, 0, NULL, c), \
  UINTF("ra", (off) + 24, 1, 0, 0, NULL, c), \
  UINTF("z", (off) + 25, 1, 0, 0, NULL, c), \
  UINTF("ad", (off) + 26, 1, 0, 0, NULL, c), \
  UINTF("cd", (off) + 27, 1, 0, 0, NULL, c), \
  UINTF("rcode", (off) + 28, 4, 0, 0, rcodes, c), \
  UINTF("qdcount", (off) + 32, 16, 0, SF_FF_AUTO, NULL, c), \
  UINTF("ancount", (off) + 48, 16, 0, SF_FF_AUTO, NULL, c), \
  UINTF("nscount", (off) + 64, 16, 0, 0, NULL, c), \
  UINTF("arcount", (off) + 80, 16, 0, 0, NULL, c)

#define NHDR 15          /* fields of one variant */
#define F_LENGTH 0
#define F_UDP 1          /* the first field of each variant */
#define F_TCP (F_UDP + NHDR)

static const sf_field dns_fields[] = {
  UINTF("length", 0, 16, 0, SF_FF_AUTO, NULL, C_TCP),
  HDR(0, C_UDP),
  HDR(16, C_TCP),
};

/* Over TCP the header is 14 bytes (the length first), else 12. */
static int dns_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)h;
  return cond == C_TCP ? hlen >= 14 : hlen < 14;
}

static size_t dns_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  if (p && over_stream_below(p, sf_layer_before(p, h))) {
    /* RFC 7766: a message of at least a header after the length */
    return n >= 14 && rd16(h) >= 12 ? 14 : 0;
  }
  return n >= 12 ? 12 : 0;
}

static int dns_next(const sf_pkt *p, int li) { return next_in_message(p, li, li); }

/* A built header moves its user-set bits along when it changes variant. */
static void move_set_bits(sf_layer *l, int from, int to) {
  uint64_t mask = ((UINT64_C(1) << NHDR) - 1) << from, moved = (l->set & mask) >> from;
  l->set = (l->set & ~mask) | (moved << to);
}

/* A DNS on TCP has the length first; elsewhere it has not.  A header
   built on one and stacked on the other is mended here. */
static int fit_carrier(sf_pkt *p, int li) {
  sf_layer *l = &p->layers[li];
  int tcp = over_stream_below(p, li - 1);
  if (tcp && l->hlen == 12) {
    if (sf_pkt_splice(p, li, l->off, 0, NULL, 2) != SF_OK) return 0;
    move_set_bits(&p->layers[li], F_UDP, F_TCP);
  } else if (!tcp && l->hlen == 14) {
    if (sf_pkt_splice(p, li, l->off, 2, NULL, 0) != SF_OK) return 0;
    move_set_bits(&p->layers[li], F_TCP, F_UDP);
    p->layers[li].set &= ~(UINT64_C(1) << F_LENGTH);
  }
  return 1;
}

/* The records right after the header, up to the next message. */
static int records_after(const sf_pkt *p, int li) {
  int k = li + 1;
  while (k < p->nlayers && sf_proto_get(p->layers[k].proto)->record) k++;
  return k - li - 1;
}

/* Counts of a built message: the questions, and the answers are what the
   authority and additional counts leave (DNS{...} sets the counts of the
   parts it is given; plain stacking, DNS()/DNSQR()/DNSRR(), counts the
   records that follow). */
static void fill_counts(sf_pkt *p, int li, int nrec) {
  int base = p->layers[li].hlen >= 14 ? F_TCP : F_UDP, k, qd = 0;
  long an;
  for (k = li + 1; k <= li + nrec; k++)
    if (p->layers[k].proto == recs[R_QR].id) qd++;
  sf_lput(p, li, base + 11, (uint64_t)qd);
  an = (long)nrec - (long)sf_lget(p, li, base + 11) - (long)sf_lget(p, li, base + 13) -
       (long)sf_lget(p, li, base + 14);
  sf_lput(p, li, base + 12, an > 0 ? (uint64_t)an : 0);
}

static void dns_fixup(sf_pkt *p, int li) {
  const sf_layer *l;
  int nrec;
  if (p->layers[li].proto == dns_id && !fit_carrier(p, li)) return;
  l = &p->layers[li];
  nrec = records_after(p, li);
  if (l->flags & SF_L_BUILT) fill_counts(p, li, nrec);
  if (l->hlen >= 14) {  /* TCP: the message's length, records included */
    const sf_layer *last = &p->layers[li + nrec];
    sf_lput(p, li, F_LENGTH, last->off + last->hlen - l->off - 2);
  }
}

/* ---- compression, as Scapy's dns_compress --------------------------------------- */

#define MAX_NAMES 512

/* A name already written: where in the message, and its labels. */
typedef struct seen_name {
  size_t at;             /* offset of its first label in the message */
  const uint8_t *wire;   /* its uncompressed labels */
  size_t len;
} seen_name;

/* The offset in the message of a known suffix equal to labels w[0..n), or
   -1.  Offsets past 0x3fff cannot be pointed at. */
static long find_suffix(const seen_name *s, int ns, const uint8_t *w, size_t n) {
  int i;
  for (i = 0; i < ns; i++) {
    size_t off = 0;
    while (off < s[i].len && s[i].len - off > n) off += 1u + s[i].wire[off];
    if (s[i].len - off == n && memcmp(s[i].wire + off, w, n) == 0 &&
        s[i].at + off <= 0x3fff)
      return (long)(s[i].at + off);
  }
  return -1;
}

/* The compressed form of uncompressed name w (n bytes) into out: the
   longest suffix already seen becomes a pointer. */
static size_t compress_name(const seen_name *s, int ns, const uint8_t *w,
                            size_t n, uint8_t *out) {
  size_t off = 0;
  while (off < n && w[off]) {
    long at = find_suffix(s, ns, w + off, n - off);
    if (at >= 0) {
      memcpy(out, w, off);
      out[off] = (uint8_t)(0xc0 | at >> 8);
      out[off + 1] = (uint8_t)at;
      return off + 2;
    }
    off += 1u + w[off];
  }
  memcpy(out, w, n);
  return n;
}

/* Expand the name of field fi of layer li to its uncompressed labels. */
static int expanded(const sf_pkt *p, int li, int fi, uint8_t *out, size_t cap) {
  char text[1100];
  sf_val v;
  if (sf_field_get(p, li, fi, &v) != SF_OK) return -1;
  if (dns_name_text(p, li, fi, v.p, v.n, text, sizeof text) < 0) return -1;
  return name_from_text(text, strlen(text), out, cap);
}

typedef struct name_ref {
  int layer, field;
  uint8_t wire[NAME_MAX_WIRE + 1];  /* uncompressed */
  size_t len;
} name_ref;

static int is_name_field(const sf_field *f) {
  return f->codec && strcmp(f->codec, "dns_name") == 0;
}

/* Every name of the records of message li, uncompressed (read before
   anything moves: pointers are into the bytes as they are); *n of them. */
static name_ref *collect_names(const sf_pkt *p, int li, int nrec, int *n) {
  name_ref *r = malloc(MAX_NAMES * sizeof *r);
  int k, fi, len;
  *n = 0;
  for (k = li + 1; r && k <= li + nrec; k++) {
    const sf_proto *pr = sf_proto_get(p->layers[k].proto);
    for (fi = 0; fi < pr->nfields && *n < MAX_NAMES; fi++) {
      if (!is_name_field(&pr->fields[fi]) ||
          (len = expanded(p, k, fi, r[*n].wire, sizeof r[*n].wire)) < 0)
        continue;
      r[*n].layer = k;
      r[*n].field = fi;
      r[*n].len = (size_t)len;
      (*n)++;
    }
  }
  return r;
}

/* Each name in order, its longest suffix written before made a pointer
   to it (Scapy's dns_compress); a name compressed before is written anew.
   Names before the one being written no longer move, so the offsets kept
   are those of the final bytes. */
static int dns_compress(sf_pkt *p, int li) {
  seen_name seen[MAX_NAMES];
  name_ref *names;
  int n, i, ns = 0, rc;
  size_t base;
  if ((rc = sf_finalize(p)) != SF_OK) return rc;
  if (!(names = collect_names(p, li, records_after(p, li), &n))) return SF_E_NOMEM;
  base = p->layers[li].off + (p->layers[li].hlen >= 14 ? 2 : 0);
  for (i = 0, rc = SF_OK; i < n && rc == SF_OK; i++) {
    uint8_t c[NAME_MAX_WIRE + 1];
    size_t bitoff, bits;
    int k = names[i].layer, fi = names[i].field;
    sf_val v = {0, c, 0};
    v.n = compress_name(seen, ns, names[i].wire, names[i].len, c);
    if ((rc = sf_field_set(p, k, fi, &v)) != SF_OK) break;
    p->layers[k].set &= ~(UINT64_C(1) << fi);  /* the same name, written anew */
    if (sf_field_span(p, k, fi, &bitoff, &bits)) {
      seen[ns].wire = names[i].wire;
      seen[ns].len = names[i].len;
      seen[ns++].at = p->layers[k].off + bitoff / 8u - base;
    }
  }
  free(names);
  return rc == SF_OK ? sf_finalize(p) : rc;
}

/* ---- Scapy's summary ---------------------------------------------------------------- */

/* rdata of the resource record at layer k as Scapy's DNSRR holds it,
   formatted with "%s": an address as text, a name or other bytes as
   Python's bytes repr, TXT's strings as a list of them. */
static int rdata_text(const sf_pkt *p, int m, int k, char *out, size_t cap) {
  const sf_layer *l = &p->layers[k];
  const uint8_t *h = p->data + l->off, *msg;
  sf_val name;
  size_t nl, rdlen, mlen, w, i;
  unsigned type;
  char tmp[1024];
  int tl;
  if (sf_field_get(p, k, 0, &name) != SF_OK) return -1;
  nl = name.n;
  if (nl + 10 > l->hlen) return -1;
  type = rd16(h + nl);
  rdlen = rd16(h + nl + 8);
  if (nl + 10 + rdlen > l->hlen) rdlen = l->hlen - nl - 10;
  h += nl + 10;
  if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
    char a[64];
    inet_ntop(type == 1 ? AF_INET : AF_INET6, h, a, sizeof a);
    return snprintf(out, cap, "%s", a);
  }
  if (type == 2 || type == 5 || type == 12 || type == 39) {
    msg = message_bytes(p, m, &mlen);
    tl = name_text(h, rdlen, msg, mlen, tmp, sizeof tmp);
    if (tl < 0 || (size_t)tl >= sizeof tmp) return -1;
    return (int)sf_scapy_pybytes((const uint8_t *)tmp, (size_t)tl, out, cap);
  }
  if (type != 16) return (int)sf_scapy_pybytes(h, rdlen, out, cap);
  w = (size_t)snprintf(out, cap, "[");
  for (i = 0; i < rdlen; i += 1u + h[i]) {
    size_t n = h[i] < rdlen - i - 1 ? h[i] : rdlen - i - 1;
    if (i) w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, ", ");
    w += sf_scapy_pybytes(h + i + 1, n, out + (w < cap ? w : cap), w < cap ? cap - w : 0);
  }
  w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, "]");
  return (int)w;
}

/* Scapy's DNS.mysummary names the first question of a query and the
   rdata of the first answer of a response, when the header counts one
   and it is of the plain class (DNSQR, DNSRR): the text "name". */
static int dns_text(const sf_pkt *p, int li, const char *what, char *out,
                    size_t cap) {
  const sf_layer *l = &p->layers[li];
  size_t skip = l->hlen >= 14 ? 2 : 0, mlen;
  const uint8_t *msg;
  int qr, first, k;
  sf_val name;
  char tmp[1024];
  if (strcmp(what, "name") != 0 || l->hlen < skip + 12) return -1;
  qr = p->data[l->off + skip + 2] >> 7;
  if (!count_at(p, li, qr) || sf_part_layers(p, li, qr, &first) < 1) return -1;
  if (p->layers[first].proto != recs[qr ? R_RR : R_QR].id) return -1;
  if (qr) return rdata_text(p, li, first, out, cap);
  if (sf_field_get(p, first, 0, &name) != SF_OK) return -1;
  msg = message_bytes(p, li, &mlen);
  k = name_text(name.p, name.n, msg, mlen, tmp, sizeof tmp);
  if (k < 0 || (size_t)k >= sizeof tmp) return -1;
  return (int)sf_scapy_pybytes((const uint8_t *)tmp, (size_t)k, out, cap);
}

static const sf_scapy dns_scapy = {
  .fmt = "DNS {qr:Ans}{!qr:Qry}{$name: \"%$name%\"} ", .text = dns_text
};

/* ---- registration -------------------------------------------------------------------- */

static const sf_part dns_parts[] = {
  {"qd", "qdcount"}, {"an", "ancount"}, {"ns", "nscount"}, {"ar", "arcount"},
  {NULL, NULL}
};

static const sf_method dns_methods[] = {
  {"compress", "dns_compress", dns_compress, NULL}, {NULL, NULL, NULL, NULL}
};

/* 53 is what builders write; mDNS and port 53 over TCP parse too */
static const sf_place dns_places[] = {
  {"udp.port", 53, 0, NULL},
  {"udp.port", 5353, SF_PL_PARSE_ONLY, NULL},
  {"tcp.port", 53, 0, NULL},
  {NULL, 0, 0, NULL}
};

#define WS_HDR(c) \
  {"dns.id", "id#" #c, NULL, 0, 0, 4}, {"dns.flags.response", "qr#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.opcode", "opcode#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.authoritative", "aa#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.truncated", "tc#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.recdesired", "rd#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.recavail", "ra#" #c, NULL, 0, 0, 0}, {"dns.flags.z", "z#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.authenticated", "ad#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.checkdisable", "cd#" #c, NULL, 0, 0, 0}, \
  {"dns.flags.rcode", "rcode#" #c, NULL, 0, 0, 0}, \
  {"dns.count.queries", "qdcount#" #c, NULL, 0, 0, 0}, \
  {"dns.count.answers", "ancount#" #c, NULL, 0, 0, 0}, \
  {"dns.count.auth_rr", "nscount#" #c, NULL, 0, 0, 0}, \
  {"dns.count.add_rr", "arcount#" #c, NULL, 0, 0, 0}

static const sf_wsfield dns_ws[] = {
  {"dns.length", "length", NULL, 0, 0, 0}, WS_HDR(1), WS_HDR(2),
  {NULL, NULL, NULL, 0, 0, 0}
};

static sf_proto dns = {
  .name = "DNS", .display = "DNS", .kind = "Dns",
  .fields = dns_fields, .nfields = NFIELDS(dns_fields), .minlen = 12,
  .places = dns_places, .ws = "dns", .ws_fields = dns_ws,
  .parts = dns_parts, .methods = dns_methods,
  .hdr_len = dns_hdr_len, .next = dns_next, .fixup = dns_fixup,
  .present = dns_present, .scapy = &dns_scapy,
};

/* LLMNR (RFC 4795): DNS's format with its own flags, UDP 5355 both ways */
static const sf_field llmnr_fields[] = {
  UINTF("id", 0, 16, 0, 0, NULL, 0),
  UINTF("qr", 16, 1, 0, 0, NULL, 0),
  UINTF("opcode", 17, 4, 0, 0, opcodes, 0),
  UINTF("c", 21, 1, 0, 0, NULL, 0),
  UINTF("tc", 22, 2, 0, 0, NULL, 0),
  UINTF("z", 24, 4, 0, 0, NULL, 0),
  UINTF("rcode", 28, 4, 0, 0, rcodes, 0),
  UINTF("qdcount", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  UINTF("ancount", 48, 16, 0, SF_FF_AUTO, NULL, 0),
  UINTF("nscount", 64, 16, 0, 0, NULL, 0),
  UINTF("arcount", 80, 16, 0, 0, NULL, 0),
};

static size_t llmnr_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 12 ? 12 : 0;
}

/* the counts' fields as fill_counts finds them (UDP variant numbering) */
static void llmnr_fixup(sf_pkt *p, int li) {
  int nrec = records_after(p, li), k, qd = 0;
  long an;
  if (!(p->layers[li].flags & SF_L_BUILT)) return;
  for (k = li + 1; k <= li + nrec; k++)
    if (p->layers[k].proto == recs[R_QR].id) qd++;
  sf_lput(p, li, 7, (uint64_t)qd);
  an = (long)nrec - (long)sf_lget(p, li, 7) - (long)sf_lget(p, li, 9) - (long)sf_lget(p, li, 10);
  sf_lput(p, li, 8, an > 0 ? (uint64_t)an : 0);
}

static const sf_place llmnr_places[] = {
  {"udp.port", 5355, SF_PL_BOTH_PORTS, NULL}, {NULL, 0, 0, NULL}
};

static const sf_variant llmnr_variants[] = {
  {"response", "LLMNRResponse", "qr", 1}, {NULL, NULL, NULL, 0}
};

static const sf_wsfield llmnr_ws[] = {
  {"dns.id", "id", NULL, 0, 0, 4}, {"dns.flags.response", "qr", NULL, 0, 0, 0},
  {"dns.flags.opcode", "opcode", NULL, 0, 0, 0}, {"dns.flags.conflict", "c", NULL, 0, 0, 0},
  {"dns.flags.rcode", "rcode", NULL, 0, 0, 0}, {"dns.count.queries", "qdcount", NULL, 0, 0, 0},
  {"dns.count.answers", "ancount", NULL, 0, 0, 0}, {"dns.count.auth_rr", "nscount", NULL, 0, 0, 0},
  {"dns.count.add_rr", "arcount", NULL, 0, 0, 0}, {NULL, NULL, NULL, 0, 0, 0}
};

static sf_proto llmnr = {
  .name = "LLMNRQuery", .display = "LLMNR", .kind = "Llmnr",
  .fields = llmnr_fields, .nfields = NFIELDS(llmnr_fields), .minlen = 12,
  .places = llmnr_places, .ws = "llmnr", .ws_fields = llmnr_ws,
  .variants = llmnr_variants, .parts = dns_parts, .scapy = &dns_scapy,
  .hdr_len = llmnr_hdr_len, .next = dns_next, .fixup = llmnr_fixup,
};

/* Wireshark's names of the records' fields */
static const sf_wsfield qr_ws[] = {
  {"dns.qry.name", "qname", NULL, 0, 0, 0}, {"dns.qry.type", "qtype", NULL, 0, 0, 0},
  {"dns.qry.class", "qclass", NULL, 0, 0, 4}, {NULL, NULL, NULL, 0, 0, 0}
};

#define WS_RR \
  {"dns.resp.name", "rrname", NULL, 0, 0, 0}, {"dns.resp.type", "type", NULL, 0, 0, 0}, \
  {"dns.resp.ttl", "ttl", NULL, 0, 0, 0}, {"dns.resp.len", "rdlen", NULL, 0, 0, 0}
#define WS_END {NULL, NULL, NULL, 0, 0, 0}

static const sf_wsfield rr_ws[] = {
  WS_RR, {"dns.resp.class", "rclass", NULL, 0, 0, 4}, {"dns.a", "rdata#1", NULL, 0, 0, 0},
  {"dns.aaaa", "rdata#2", NULL, 0, 0, 0}, {"dns.ns", "rdata#3", NULL, 0, 0, 0},
  {"dns.cname", "rdata#4", NULL, 0, 0, 0}, {"dns.ptr.domain_name", "rdata#5", NULL, 0, 0, 0},
  {"dns.dname", "rdata#6", NULL, 0, 0, 0}, {"dns.txt", "rdata#7", NULL, 0, 0, 0}, WS_END
};
#define WS_CLASS {"dns.resp.class", "rclass", NULL, 0, 0, 4}
static const sf_wsfield mx_ws[] = {
  WS_RR, WS_CLASS, {"dns.mx.preference", "preference", NULL, 0, 0, 0},
  {"dns.mx.mail_exchange", "exchange", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield soa_ws[] = {
  WS_RR, WS_CLASS, {"dns.soa.mname", "mname", NULL, 0, 0, 0}, {"dns.soa.rname", "rname", NULL, 0, 0, 0},
  {"dns.soa.serial_number", "serial", NULL, 0, 0, 0},
  {"dns.soa.refresh_interval", "refresh", NULL, 0, 0, 0},
  {"dns.soa.retry_interval", "retry", NULL, 0, 0, 0},
  {"dns.soa.expire_limit", "expire", NULL, 0, 0, 0},
  {"dns.soa.minimum_ttl", "minimum", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield srv_ws[] = {
  WS_RR, WS_CLASS, {"dns.srv.priority", "priority", NULL, 0, 0, 0},
  {"dns.srv.weight", "weight", NULL, 0, 0, 0}, {"dns.srv.port", "port", NULL, 0, 0, 0},
  {"dns.srv.target", "target", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield rrsig_ws[] = {
  WS_RR, WS_CLASS, {"dns.rrsig.type_covered", "typecovered", NULL, 0, 0, 0},
  {"dns.rrsig.algorithm", "algorithm", NULL, 0, 0, 0}, {"dns.rrsig.labels", "labels", NULL, 0, 0, 0},
  {"dns.rrsig.original_ttl", "originalttl", NULL, 0, 0, 0},
  {"dns.rrsig.key_tag", "keytag", NULL, 0, 0, 0},
  {"dns.rrsig.signers_name", "signersname", NULL, 0, 0, 0},
  {"dns.rrsig.signature", "signature", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield nsec_ws[] = {
  WS_RR, WS_CLASS, {"dns.nsec.next_domain_name", "nextname", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield dnskey_ws[] = {
  WS_RR, WS_CLASS, {"dns.dnskey.flags", "flags", NULL, 0, 0, 0},
  {"dns.dnskey.flags.zone_key", "flags", NULL, 0x100, 0, 0},
  {"dns.dnskey.flags.secure_entry_point", "flags", NULL, 0x1, 0, 0},
  {"dns.dnskey.protocol", "protocol", NULL, 0, 0, 0},
  {"dns.dnskey.algorithm", "algorithm", NULL, 0, 0, 0},
  {"dns.dnskey.public_key", "publickey", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield ds_ws[] = {
  WS_RR, WS_CLASS, {"dns.ds.key_id", "keytag", NULL, 0, 0, 0},
  {"dns.ds.algorithm", "algorithm", NULL, 0, 0, 0},
  {"dns.ds.digest_type", "digesttype", NULL, 0, 0, 0}, {"dns.ds.digest", "digest", NULL, 0, 0, 0},
  WS_END
};
static const sf_wsfield nsec3_ws[] = {
  WS_RR, WS_CLASS, {"dns.nsec3.algo", "hashalg", NULL, 0, 0, 0},
  {"dns.nsec3.flags", "flags", NULL, 0, 0, 0}, {"dns.nsec3.iterations", "iterations", NULL, 0, 0, 0},
  {"dns.nsec3.salt_length", "saltlength", NULL, 0, 0, 0},
  {"dns.nsec3.salt_value", "salt", NULL, 0, 0, 0},
  {"dns.nsec3.hash_length", "hashlength", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield nsec3param_ws[] = {
  WS_RR, WS_CLASS, {"dns.nsec3.algo", "hashalg", NULL, 0, 0, 0},
  {"dns.nsec3.flags", "flags", NULL, 0, 0, 0}, {"dns.nsec3.iterations", "iterations", NULL, 0, 0, 0},
  {"dns.nsec3.salt_length", "saltlength", NULL, 0, 0, 0},
  {"dns.nsec3.salt_value", "salt", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield tsig_ws[] = {
  WS_RR, WS_CLASS, {"dns.tsig.algorithm_name", "algo_name", NULL, 0, 0, 0},
  {"dns.tsig.fudge", "fudge", NULL, 0, 0, 0}, {"dns.tsig.mac_size", "mac_len", NULL, 0, 0, 0},
  {"dns.tsig.original_id", "original_id", NULL, 0, 0, 0}, {"dns.tsig.error", "error", NULL, 0, 0, 0},
  {"dns.tsig.other_len", "other_len", NULL, 0, 0, 0},
  {"dns.tsig.other_data", "other_data", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield opt_ws[] = {
  {"dns.resp.name", "rrname", NULL, 0, 0, 0}, {"dns.resp.type", "type", NULL, 0, 0, 0},
  {"dns.rr.udp_payload_size", "rclass", NULL, 0, 0, 0},
  {"dns.resp.ext_rcode", "extrcode", NULL, 0, 0, 0},
  {"dns.resp.edns0_version", "version", NULL, 0, 0, 0}, {"dns.resp.z", "z", NULL, 0, 0, 0},
  {"dns.resp.z.do", "z", NULL, 0x8000, 0, 0}, {"dns.resp.len", "rdlen", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield caa_ws[] = {
  WS_RR, WS_CLASS, {"dns.caa.flags", "flags", NULL, 0, 0, 0},
  {"dns.caa.tag_length", "taglength", NULL, 0, 0, 0}, {"dns.caa.tag", "tag", NULL, 0, 0, 0},
  {"dns.caa.value", "value", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield hinfo_ws[] = {
  WS_RR, WS_CLASS, {"dns.hinfo.cpu_length", "cpulength", NULL, 0, 0, 0},
  {"dns.hinfo.cpu", "cpu", NULL, 0, 0, 0}, {"dns.hinfo.os_length", "oslength", NULL, 0, 0, 0},
  {"dns.hinfo.os", "os", NULL, 0, 0, 0}, WS_END
};
static const sf_wsfield edns0_ws[] = {
  {"dns.opt.code", "optcode", NULL, 0, 0, 0}, {"dns.opt.len", "optlen", NULL, 0, 0, 0},
  {"dns.opt.data", "optdata", NULL, 0, 0, 0}, WS_END
};

static const sf_wsfield *const rec_ws[NREC] = {
  qr_ws, rr_ws, mx_ws, soa_ws, srv_ws, rrsig_ws, nsec_ws, dnskey_ws, ds_ws, ds_ws,
  nsec3_ws, nsec3param_ws, tsig_ws, opt_ws, caa_ws, hinfo_ws, edns0_ws
};

/* A question's length: its name and type and class. */
static size_t qr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t nl = name_wire_len(h, n);
  (void)p;
  return nl && nl + 4 <= n ? nl + 4 : 0;
}

/* A resource record's length: its name, ten bytes, rdlen's rdata.  What
   the layout says too: rdata alternatives are rdlen long (an address only
   when rdlen is its size), and a typed record is chosen only when its
   fields fill its rdata (rr_class). */
static size_t rr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t nl = name_wire_len(h, n), len;
  (void)p;
  if (!nl || nl + 10 > n) return 0;
  len = nl + 10 + rd16(h + nl + 8);
  return len <= n ? len : 0;
}

/* One record protocol through the layout engine. */
static void define_record(rec_def *d, const sf_wsfield *ws) {
  sf_field fields[SF_MAX_FIELDS];
  sf_cfield cf[SF_MAX_FIELDS];
  sf_proto like;
  sf_cdef def;
  sf_custom *c;
  char err[160];
  int i, last_bytes = -1;
  for (i = 0; i < d->nfields; i++)
    if (d->fields[i].f.type == SF_T_BYTES) last_bytes = i;
  for (i = 0; i < d->nfields; i++) {
    const rec_field *rf = &d->fields[i];
    memset(&cf[i], 0, sizeof cf[i]);
    fields[i] = rf->f;
    cf[i].len_of = cf[i].count_of = -1;
    cf[i].sub_proto = -1;
    cf[i].kind = rf->f.type == SF_T_BYTES ? SF_CK_VAR : SF_CK_FIXED;
    if (rf->size != Z_FIXED) cf[i].hooks |= SF_CH_LENGTH;
    if (rf->cond != K_ALWAYS) cf[i].hooks |= SF_CH_COND;
    if (rf->size == Z_FIXED && rf->ref >= 0) {  /* a length field */
      cf[i].len_of = (int16_t)(rf->ref == RD_ALL ? last_bytes : rf->ref);
      if (rf->ref == RD_ALL) cf[i].hooks |= SF_CH_ADJUST;
    }
    cf[i].defbytes = (const uint8_t *)rf->def;
    cf[i].ndef = rf->ndef;
  }
  memset(&def, 0, sizeof def);
  def.name = d->name;
  def.display = d->display;
  def.nfields = d->nfields;
  def.fields = fields;
  def.cf = cf;
  def.ops = &rec_ops;
  def.host = d;
  if (!(c = sf_custom_new(&def, err, sizeof err))) return;
  memset(&like, 0, sizeof like);
  like.kind = d->kind;
  like.ws = "dns";
  like.ws_fields = ws;
  like.record = (uint8_t)d->record;
  like.next = d->record ? rec_next : NULL;
  if (d->record) like.hdr_len = d == &recs[R_QR] ? qr_len : rr_len;
  sf_custom_describe(c, &like);
  if ((d->id = sf_custom_register(c)) < 0) sf_custom_free(c);
}

SF_PROTO_FILE(dns) {
  int r;
  sf_codec_add(&dns_name_codec);
  dns_id = sf_register(&dns);
  llmnr_id = sf_register(&llmnr);
  for (r = 0; r < NREC; r++) define_record(&recs[r], rec_ws[r]);
}
