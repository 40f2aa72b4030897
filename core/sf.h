/*
 * sf.h -- the sflua engine: packets, layers, field descriptors, protocols.
 *
 * The engine knows nothing about Lua.  A packet is a byte string plus an
 * index of layers (protocol, offset, header length, extent).  Parsing fills
 * the index without copying; building concatenates layers and, when the
 * packet is next serialised, recomputes the automatic fields (lengths, type
 * numbers, checksums) that the user did not set.
 */
#ifndef SF_H
#define SF_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------- */

enum {
  SF_OK = 0,
  SF_E_RANGE = -1,      /* integer does not fit the field */
  SF_E_VALUE = -2,      /* text value does not parse (address, flag name) */
  SF_E_ABSENT = -3,     /* field does not apply to this layer's variant */
  SF_E_NOMEM = -4,
  SF_E_TOOBIG = -5,     /* packet or header would exceed engine limits */
  SF_E_TYPE = -6,       /* wrong kind of value for the field */
  SF_E_DEPTH = -7       /* more layers than SF_MAX_LAYERS */
};

/* ---- field descriptors ------------------------------------------------ */

typedef enum sf_ftype {
  SF_T_UINT,   /* big-endian unsigned bit field, up to 64 bits */
  SF_T_FLAGS,  /* like UINT; names are per bit, least significant first */
  SF_T_MAC,    /* 6 bytes */
  SF_T_IP4,    /* 4 bytes */
  SF_T_IP6,    /* 16 bytes */
  SF_T_BYTES   /* variable length; located by the protocol's var() hook */
} sf_ftype;

/* field flags */
#define SF_FF_AUTO   0x01  /* recomputed at build unless the user set it */
#define SF_FF_SHAPE  0x02  /* changing it changes the header's layout */
#define SF_FF_HEX    0x04  /* displayed in hexadecimal */
#define SF_FF_LE     0x08  /* little-endian integer (byte aligned) */
#define SF_FF_SIGNED 0x10  /* two's complement integer */
#define SF_FF_TRAIL  0x20  /* in the layer's trailer (sf_proto.trailer):
                              bitoff counts from the trailer's start */
#define SF_FF_AT     0x40  /* an integer after variable parts: var() says
                              where (bytes), bitoff counts from there, and
                              a place too short to hold it means absent */
#define SF_FF_VARINT 0x80  /* a base-128 integer in the bytes var() says
                              (sf_varint_get: MQTT's remaining length);
                              bits is the width of its values */

typedef struct sf_enum {
  uint64_t value;
  const char *name;
} sf_enum;  /* arrays end with name == NULL */

typedef struct sf_field {
  const char *name;
  uint8_t type;          /* sf_ftype */
  uint8_t flags;         /* SF_FF_* */
  uint8_t cond;          /* 0 = always present, else asked of proto->present */
  uint8_t pad;           /* BYTES: pad the value to a multiple of this */
  uint16_t bitoff;       /* fixed fields: offset in bits from header start */
  uint16_t bits;         /* fixed fields: width in bits; BYTES: a fixed
                            length (bytes * 8), or 0 for any length */
  uint64_t def;          /* default for UINT/FLAGS */
  const char *defstr;    /* default for addresses, in text form */
  const sf_enum *enums;  /* UINT: value names; FLAGS: bit names (value = bit) */
  const char *codec;     /* BYTES: name of the structured codec, if any */
  const char *names;     /* UINT: value names also from this dissector
                            table (its protocols' names); a field keying
                            its protocol's table has them anyway */
} sf_field;

/* ---- packets ------------------------------------------------------------ */

/* layer flags */
#define SF_L_BUILT   0x01  /* made by a constructor (defaults may be overloaded) */
#define SF_L_QUOTED  0x02  /* inside an ICMP error: never auto-fixed */
#define SF_L_TRUNC   0x04  /* header or payload cut short */
/* a protocol's own record of how a built header is laid out where its
   bytes cannot say (MQTT: a message id or properties left out at build) */
#define SF_L_OWN1    0x08
#define SF_L_OWN2    0x10

typedef struct sf_layer {
  uint16_t proto;
  uint16_t flags;
  uint32_t off;          /* header start */
  uint32_t hlen;         /* header length, variable parts included */
  uint32_t end;          /* end of this layer's extent (payload included) */
  uint64_t set;          /* bit i: field i was set by the user */
} sf_layer;

typedef struct sf_buf {
  uint32_t refs;
  size_t cap;
  uint8_t data[];
} sf_buf;

/* packet flags */
#define SF_P_PARSED  0x01  /* layer index is valid */
#define SF_P_DIRTY   0x02  /* automatic fields need recomputing */
#define SF_P_TRUNC   0x04  /* dissection stopped at malformed bytes */
#define SF_P_HOST    0x8000  /* reserved for the host (the Lua binding) */

#define SF_INLINE_LAYERS 8
#define SF_MAX_LAYERS 1024
#define SF_MAX_LEN (1u << 24)

typedef struct sf_pkt {
  const uint8_t *data;   /* the bytes */
  size_t len;
  sf_buf *buf;           /* owner of data; NULL when borrowed or in store */
  uint8_t *store;        /* inline storage the host gave, never shared */
  size_t store_cap;
  sf_layer *layers;
  uint16_t nlayers, cap;
  uint16_t flags;
  int32_t linktype;      /* link type the bytes were captured with */
  int64_t time_ns;       /* capture timestamp, ns since the epoch */
  uint32_t wirelen;      /* original length on the wire (0 = len) */
  uint32_t interface_id; /* capture interface (pcapng), 0 otherwise */
  uint64_t frame;        /* 1-based number in the capture read, 0: none */
  int32_t first;         /* first protocol's id + 1; 0: by the link type */
  sf_layer inl[SF_INLINE_LAYERS];
} sf_pkt;

/* ---- protocols ------------------------------------------------------------ */

typedef struct sf_proto sf_proto;

/* Where a field lies in one header, for protocols whose layout depends on
   the bytes (defined at run time: lengths from other fields, conditional
   fields).  bits == SF_ABSENT: the field is not in this header. */
typedef struct sf_span {
  uint32_t bitoff, bits;
} sf_span;

#define SF_ABSENT UINT32_MAX

typedef struct sf_val sf_val;  /* a field's value (below) */

/* Hooks of a protocol defined at run time (core/custom/: CustomLayer).
   Each is optional; ud is the definer's. */
typedef struct sf_dyn {
  void *ud;
  /* spans of every field of the header at h (n available); returns the
     header length, 0 when malformed.  build: the layer was made by a
     constructor, so a value that lays nothing out is an error to report
     (parsing: the header is malformed). */
  size_t (*layout)(const sf_proto *pr, const uint8_t *h, size_t n,
                   sf_span *spans, int build);
  /* the next protocol, as sf_proto.next, from the definer's guess */
  int (*next)(const sf_proto *pr, const sf_pkt *p, int li);
  /* fill in length and count fields the user did not set */
  void (*fixup)(const sf_proto *pr, sf_pkt *p, int li);
  /* set field fi to v (NULL: its default) once sf_field_set has checked
     it: the header is laid out again from its values, as Scapy builds */
  int (*set)(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v);
  /* last word on the layer's bytes (a custom checksum) */
  void (*post_build)(const sf_proto *pr, sf_pkt *p, int li);
} sf_dyn;

typedef int (*sf_accept_fn)(const sf_pkt *p, int li, const uint8_t *h, size_t n);

/* Where a protocol sits: one entry it adds to a named dissector table of
   the layers below it, as Wireshark's dissector_add_uint("udp.port", 53,
   h).  The first entry of a protocol in a table is the value a lower
   layer's builder writes for it, unless SF_PL_PARSE_ONLY. */
typedef struct sf_place {
  const char *table;     /* "ethertype", "ip.proto", "udp.port", "linktype" */
  uint64_t value;
  int flags;             /* SF_PL_* */
  /* NULL, or: does the payload at h (n bytes), after layer li of p (p
     NULL when the bytes start a capture), belong to this protocol?
     Several protocols may share a value (raw IP link types), or take it
     only after some layers (IPv6 extension headers) */
  sf_accept_fn accept;
} sf_place;

#define SF_PL_PARSE_ONLY 0x01  /* another value of the same protocol builds */
#define SF_PL_BOTH_PORTS 0x02  /* builders write it to both keying fields
                                  (Scapy's UDP()/VXLAN(): 4789 -> 4789) */

/* A protocol a carrier knows it carries, named: an entry the carrier
   makes in its own next_table for a protocol whose file cannot know of
   it (PPP's 0x0021 is IPv4; IPv4's file does not name PPP).  Made once
   every protocol file has registered, so order does not matter. */
typedef struct sf_carry {
  uint64_t value;
  const char *upper;     /* the carried protocol's name: "IP" */
  int flags;             /* SF_PL_* */
} sf_carry;

/* Content-based detection a protocol offers on a lower protocol, named
   (TCP, for a version line on any port); added once every protocol file
   has registered, as carries are. */
typedef struct sf_heur_place {
  const char *lower;
  int (*fn)(const sf_pkt *p, int li, void *ud);  /* an sf_heur_fn */
} sf_heur_place;

/* Another name for a field: Scapy's older spellings and Stackforge's
   (hop_limit for hlim), accepted wherever the field's name is. */
typedef struct sf_alias {
  const char *alias, *field;
} sf_alias;

/* A field as Wireshark's display filters name it: "tcp.srcport" is sport;
   "tcp.port" is either of sport and dport; "tcp.flags.syn" is the bit
   mask 0x02 of flags; "tcp.hdr_len" is dataofs times 4.  Fields of the
   same name in different message types (conditional fields) are one
   field ("key": wherever the header has it), unless named "O#2": exactly
   the second field named O (ICMPv6's router and neighbour advertisement
   flags). */
typedef struct sf_wsfield {
  const char *name;
  const char *field, *field2;  /* field2: the other side, or NULL */
  uint64_t mask;               /* a bit (or bits) of the field; 0: all */
  unsigned mul;                /* Wireshark's value is ours times this; 0: 1 */
  uint8_t hex;                 /* Wireshark prints it in hexadecimal with
                                  this many digits ("0x0800": 4); 0: decimal */
} sf_wsfield;

/* A value a protocol computes from a layer instead of reading it from one
   field's bytes (a TLS fingerprint, a certificate's subject): read-only,
   asked by name where fields are.  text() writes it into out (cap bytes,
   NUL-terminated, cut short if need be) and returns its full length, or
   < 0 when this layer has none. */
typedef struct sf_prop {
  const char *name;
  int (*text)(const sf_pkt *p, int li, char *out, size_t cap);
  const char *doc;             /* one line, for ls() and the docs */
} sf_prop;

/* A named message of the protocol with one field preset: ICMP.echo_request
   ({type = 8}); cls is Scapy's class name for it, if it has one. */
typedef struct sf_variant {
  const char *name;      /* "echo_request": the constructor's member */
  const char *cls;       /* "ICMPv6EchoRequest", or NULL */
  const char *field;
  uint64_t value;
} sf_variant;

/* A part of a message made of records that follow its header as layers
   of their own, counted by a field of the header (DNS's answers: ancount
   records after the questions).  The parts of a protocol come in the
   order they are declared: part k is the count[k] records after those of
   parts 0 .. k-1. */
typedef struct sf_part {
  const char *name;      /* "an": p[DNS].an lists those records */
  const char *count;     /* the header's field that counts them */
} sf_part;

/* An operation on one layer of a packet, by name (DNS's compress):
   p[DNS]:compress().  global, if not NULL, also names a function that
   applies it to a copy of a packet (Scapy's dns_compress(pkt)). */
typedef struct sf_method {
  const char *name;
  const char *global;
  int (*fn)(sf_pkt *p, int li);  /* SF_OK or an SF_E_* code */
  /* the same given a byte string (p[X]:name(s): the key a QUIC Initial
     is decrypted with), or NULL: the method takes no argument */
  int (*fn_bytes)(sf_pkt *p, int li, const uint8_t *s, size_t n);
} sf_method;
/* How Scapy prints a layer, declared by the protocol and formatted by
   core/summary.c: the layer's part of Packet.summary() (its mysummary) as
   a format in the style of Scapy's sprintf, and how Scapy shows the
   values of some fields (their i2repr).  Format directives (summary.h
   lists them all): %field% a field of this layer as Scapy shows it,
   %^field% one of the layer below, %r,field% a number as it is,
   %$what% a text the protocol's text() hook makes; {cond:text} keeps
   text when cond holds: field, field=N, field&BIT (a flag by name),
   ^NAME (the layer below is that protocol), ^@net (it has the network
   role: IP or IPv6 alike), $what (text() has that text); ! negates. */
typedef struct sf_scapy {
  const char *fmt;       /* mysummary; NULL: none ("", the class name) */
  const char *quoted;    /* Scapy's class in an ICMP error ("TCPerror"),
                            whose mysummary is empty */
  /* value names by field: {"sport", "services/tcp", ..., NULL}, from
     "ethertypes", "protocols", "services/tcp" or "services/udp" (the
     system's files, as Scapy reads them), or "$" (the text() hook
     makes the whole text); "decimal": Scapy shows the number in decimal
     (a field sflua shows in hexadecimal), "hex" in hexadecimal (Scapy's
     X...Field); "str": bytes shown as Scapy's
     StrField shows them (repr(plain_str(x)): 'GET', not b'GET').  "res#2"
     is the second field called res (fields of different messages share
     names); "*" is every field of the layer. */
  const char *const *names;
  /* the text called what for layer li of p into out (cap bytes, NUL
     ended): its whole length (a text longer than cap is asked for again
     with room enough), or -1 when the layer has none (DHCP without a
     message type) */
  int (*text)(const sf_pkt *p, int li, const char *what, char *out,
              size_t cap);
  /* Scapy's class of layer li when its values decide it (an Ether frame
     with an 802.3 length is Scapy's Dot3), NULL for the usual one, or ""
     when Scapy has no layer for it (its bytes are the layer's before) */
  const char *(*cls)(const sf_pkt *p, int li);
  /* Scapy keeps these layers in a field of a layer before them, not as
     layers (a TLS record's msg list): they are no part of Packet.summary()
     and the layer that holds them names them in its own text */
  uint8_t inner;
  /* Does Scapy's class of layer li keep layer j (j > li) inside it, in
     its fields or bytes, so that j is none of Scapy's layers?  The one
     hook for every such case: a TLS record's messages and the Raw of one
     cut short, DHCP's pad options (a Padding), a body Scapy's Raw holds,
     all the bytes after the header (a CCMP frame's data field, a class
     Scapy reads to the frame's end, or fails to read, its bytes then its
     Raw).  Asked of the last layer before j with the hook that is one of
     Scapy's, for each layer after it until one that is not kept and not
     inner nor a record; a hook that keeps only inner layers, Raw and
     Padding asks scapy_keepable (proto/common.h).  NULL: it keeps none */
  int (*keeps)(const sf_pkt *p, int li, int j);
  /* Scapy's class(es) of a Raw right after layer li when Scapy makes more
     of those bytes ("HTTP / Raw": a body's middle on port 80), or NULL */
  const char *(*raw_cls)(const sf_pkt *p, int li);
  /* Scapy's mysummary returning (text, [cls]): when fmt says something,
     the layer below of class needs says its own text too (an SSID
     element makes the 802.11 header's show) */
  const char *needs;
  uint8_t layer;     /* a record that is a layer of its own in Scapy's
                        summary (802.11's elements), not its message's */
  /* The one hook for a class Scapy has next to layer li that sflua has
     no layer for: the class right before it (after 0: HTTP before
     HTTPRequest, H2Frame) or right after it (after 1: a probe request's
     empty body, 802.15.4's Dot15d4Data whose fields are sflua's
     header's), or NULL.  added_fmt is the mysummary of the class after,
     over layer li's fields and text() (those before have none). */
  const char *(*added)(const sf_pkt *p, int li, int after);
  const char *added_fmt;
} sf_scapy;

/* What a protocol is to code that works across protocols (flows,
   anonymization, filters): its role and which of its fields play which
   part, by name.  Declared by the protocol; the registry resolves the
   names into sf_proto.at. */
enum sf_role {
  SF_ROLE_NONE,
  SF_ROLE_LINK,       /* a link layer: src/dst MACs, or lladdr (+ length) */
  SF_ROLE_VLAN,       /* a tag: vlan is its id */
  SF_ROLE_NET,        /* IP: src/dst addresses; next_field the protocol */
  SF_ROLE_NETEXT,     /* an IPv6 extension header: next_field continues */
  SF_ROLE_TRANSPORT,  /* src/dst ports (UDP) */
  SF_ROLE_STREAM,     /* a transport with a byte stream (TCP): ports, seq,
                         ack, flags (ack_flag: the bit that makes ack mean
                         something), options */
  SF_ROLE_ICMP,       /* ICMP-like: first byte its type; echo_request and
                         echo_reply types keyed by id (and seqno) */
  SF_ROLE_RESOLVE     /* address resolution (ARP): op says solicit or
                         advert; src/dst the protocol addresses */
};

/* A fragment of an IP datagram, as its header describes it. */
typedef struct sf_frag {
  uint32_t offset;       /* in bytes */
  uint32_t id;
  int more;              /* more fragments follow */
} sf_frag;

typedef struct sf_facts {
  uint8_t role;          /* SF_ROLE_* */
  uint8_t echo_request, echo_reply;   /* ICMP roles: type values */
  uint8_t cksum_cover;   /* SF_CK_* */
  uint8_t cksum_proto;   /* SF_CK_PSEUDO: the pseudo-header's protocol */
  uint8_t cksum_nonzero; /* a computed 0 is sent as 0xffff (UDP) */
  uint64_t ack_flag;     /* SF_ROLE_STREAM */
  uint64_t syn_flag, rst_flag;        /* SF_ROLE_STREAM: opening, reset */
  /* a question and its answer keyed by a target: ICMP types (neighbour
     solicitation 135 -> advertisement 136, target the address asked
     about) or RESOLVE's op values (who-has 1 -> is-at 2) */
  uint8_t solicit, advert;
  /* ICMP roles: more request/reply types keyed by id and seqno, as
     {request, reply} pairs ending with {0, 0} (timestamp 13 -> 14) */
  const uint8_t (*pairs)[2];
  const char *target, *op;
  const char *lsrc;      /* RESOLVE: the sender's link address (hwsrc) */
  const char *src, *dst; /* addresses (LINK, NET) or ports (transports) */
  const char *vlan, *seq, *ack, *flags, *options, *id, *seqno;
  const char *cksum;     /* the checksum field, computed as cksum_cover says */
  const char *body;      /* a payload kept in a header field (ICMPv6 echo) */
  const char *lladdr, *lladdr_len;    /* LINK: an address of some length */
  /* NET: add the pseudo-header's addresses for upper layer li's checksum
     to *acc, the IP layer being ip; 0 if the header cannot say */
  int (*pseudo)(const sf_pkt *p, int ip, int li, uint64_t *acc);
  /* NET or NETEXT: is the header at h a fragment's?  Fills f if so. */
  int (*fragment)(const uint8_t *h, size_t hlen, sf_frag *f);
  /* byte span of whole IPv6 addresses kept in the header (a routing
     header's list), or 0 */
  int (*addr_list)(const uint8_t *h, size_t hlen, size_t *off, size_t *n);
} sf_facts;

/* what a checksum covers */
enum { SF_CK_NONE, SF_CK_HEADER, SF_CK_EXTENT, SF_CK_PSEUDO };

/* sf_facts' field names resolved to indices (-1: none) */
typedef struct sf_roles {
  int8_t src, dst, vlan, seq, ack, flags, options, id, seqno, cksum, body,
         lladdr, lladdr_len, target, op, lsrc;
} sf_roles;

struct sf_proto {
  const char *name;      /* constructor name, Scapy's: "TCP" */
  const char *display;   /* summary/show name: "TCP", "IPv4", "Ethernet" */
  const char *kind;      /* LayerKind member: "Tcp" */
  const sf_field *fields;
  uint16_t nfields;
  uint16_t minlen;       /* default header length built by constructors */
  /* the named table that says what follows, and the field(s) keying it
     in the order asked: {"type"}, {"dport", "sport"} */
  const char *next_table;
  const char *next_keys[2];
  const sf_place *places;  /* where it sits; ends with table == NULL */
  const sf_carry *carries; /* what it carries, by name; upper == NULL ends */
  const sf_heur_place *heurs;  /* its heuristics on lower layers; lower == NULL ends */
  const sf_alias *aliases; /* ends with alias == NULL */
  const char *ws;          /* Wireshark's name for it ("tcp"), or NULL */
  const sf_wsfield *ws_fields;  /* Wireshark's field names; name == NULL ends */
  const sf_variant *variants;  /* ends with name == NULL */
  const sf_facts *facts;
  const sf_prop *props;    /* computed values; name == NULL ends */
  /* bytes of its own after its payload, at the end of its extent (an
     FCS): inner layers end before them, SF_FF_TRAIL fields live there and
     a payload stacked on a built layer goes in front of them */
  uint8_t trailer;
  const sf_scapy *scapy;   /* how Scapy prints it, or NULL */
  uint8_t record;          /* its layers are records of the message layer
                              before them (DNS answers): a summary names
                              the message, not each record */
  const sf_part *parts;    /* counted parts (records); name == NULL ends */
  const sf_method *methods;  /* name == NULL ends */
  /* header length of the bytes at h (n available), 0 when malformed; p
     is the packet they are in (NULL: no packet), its layer below the one
     whose header ends at h (sf_layer_before), for protocols whose header
     depends on what carries it (DNS over TCP has a length first) */
  size_t (*hdr_len)(const sf_pkt *p, const uint8_t *h, size_t n);
  /* length of header + payload claimed by the header; SIZE_MAX = all */
  size_t (*extent)(const uint8_t *h, size_t hlen, size_t n);
  /* next protocol decided by the header itself: >= 0 proto id,
     -1 consult the dissector table, -2 the payload is Raw */
  int (*next)(const sf_pkt *p, int li);
  /* fill in automatic lengths and such of layer li (inner layers done) */
  void (*fixup)(sf_pkt *p, int li);
  /* values a built layer li gives the built layer below it (Scapy's
     overload_fields): neighbour discovery's hop limit, say */
  void (*overload)(sf_pkt *p, int lower, int li);
  /* fill in the checksum of layer li, once every length is final; NULL:
     as facts->cksum_cover says */
  void (*checksum)(sf_pkt *p, int li);
  /* does conditional field fi apply to this header?  p as for hdr_len */
  int (*present)(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond);
  /* header length a header of this variant should have (SHAPE changes) */
  size_t (*shape_len)(const uint8_t *h, size_t hlen);
  /* where variable field fi lives in the header */
  void (*var)(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len);
  /* what follows the bytes past its extent (which would be Padding), as
     next() says it: the frames after a QUIC CRYPTO frame's data; NULL or
     -1: Padding */
  int (*after)(const sf_pkt *p, int li);
  const sf_dyn *dyn;     /* run-time protocols: layout and hooks */
  /* 1: a field dyn's layout leaves out is still set through dyn->set,
     which brings it in (HTTP's headers: absent until set; read, nil) */
  uint8_t dyn_adds;
  const uint8_t *deftmpl;  /* default header bytes: run-time protocols, and
                              those with AT or VARINT fields */
  /* set by the registry */
  int id;
  int table;             /* next_table's id, -1 none */
  int next_field;        /* next_keys as field indices, -1 none */
  int next_field2;
  /* the keys' byte offset and width (1 or 2) when they are plain
     byte-aligned integers, read straight from the header; 0: generic */
  uint16_t key_off[2];
  uint8_t key_bytes[2];
  uint8_t more;          /* bit 0: bindings on other fields; 1: heuristics */
  uint8_t header_checksum;  /* the checksum covers the header only */
  uint8_t retired;       /* its definer is gone: no table leads to it and
                            its name is free (sf_retire) */
  sf_roles at;           /* facts' fields */
  uint8_t *tmpl;         /* default header bytes, minlen long */
  int8_t *alt;           /* next field with the same name, -1 none */
};

/* Raw and Padding belong to the engine: the dissector falls back on them. */
enum { SF_RAW, SF_PADDING };

/* The registry's one limit: built-in and run-time (custom) protocols
   together.  Tables indexed by protocol id are sized by it. */
#define SF_MAX_PROTOS 2048

/* Protocol files: core/proto/NAME.c defines SF_PROTO_FILE(NAME) { ... },
   which registers its protocols; the build lists the files, so adding one
   needs no other edit. */
#define SF_PROTO_FILE(name) void sf_proto_file_##name(void)

int sf_register(sf_proto *pr);           /* returns id, or < 0 */
/* A protocol whose definer is gone (a Lua state closed): out of every
   table, its name free for a new one; its id stays valid for packets that
   still hold layers of it. */
void sf_retire(int id);
#define SF_MAX_FIELDS 64                  /* per protocol */
/* the registry, read on every field access: inline */
extern sf_proto *sf_protos_[SF_MAX_PROTOS];
extern int sf_nprotos_;
static inline const sf_proto *sf_proto_get(int id) {
  return (unsigned)id < (unsigned)sf_nprotos_ ? sf_protos_[id] : NULL;
}
int sf_proto_count(void);
int sf_proto_find(const char *name);      /* by name, display or kind */
int sf_field_find(const sf_proto *pr, const char *name);
/* a field by name or alias */
int sf_field_lookup(const sf_proto *pr, const char *name);
void sf_init(void);                       /* registers the built-ins once */

/* ---- dissector tables ------------------------------------------------------ */

/* A named table maps a value to the protocol that follows ("ethertype":
   0x0800 -> IPv4).  Protocols read the one their next_field keys; the
   lower layer's builder reads it backwards to fill that field. */
int sf_table(const char *name);           /* its id; created on first use */
int sf_table_find(const char *name);      /* its id, or -1 */
const char *sf_table_name(int tab);
int sf_table_add(int tab, uint64_t value, int upper, int flags,
                 sf_accept_fn accept);
int sf_table_remove(int tab, uint64_t value, int upper);  /* value -1: all */
/* the protocol for value, given the bytes that follow (h, n) layer li of
   p (p NULL: they start a capture) */
int sf_table_lookup(int tab, uint64_t value, const sf_pkt *p, int li,
                    const uint8_t *h, size_t n);
/* the value a builder writes for upper (the first entry not parse-only) */
int sf_table_value(int tab, int upper, uint64_t *value);
/* the flags (SF_PL_*) of the entry builders write for upper, 0 if none */
int sf_table_flags(int tab, int upper);
/* the protocol value names, whatever the bytes (-1: none) */
int sf_table_peek(int tab, uint64_t value);
/* every entry of tab in the order added: *cursor starts at 0 */
int sf_table_next(int tab, size_t *cursor, uint64_t *value, int *upper);

/* Bindings from Lua's bind_layers: lower's field fi having value means the
   upper protocol follows.  On a field that keys a table (EtherType,
   ports) the binding goes into that table; on any other field into a
   table of that field alone, consulted after. */
int sf_bind_field(int lower, int fi, uint64_t value, int upper);
int sf_unbind(int lower, int fi, uint64_t value, int upper);  /* -1: any */
int sf_bind_field_value(int lower, int upper, int *fi, uint64_t *value);
/* the table a lower protocol's field fi keys (created for it if need be) */
int sf_field_table(int lower, int fi);

/* Content-based detection, asked when no table answers: returns the upper
   protocol's id or -1.  Lists per lower protocol, in order added. */
typedef int (*sf_heur_fn)(const sf_pkt *p, int li, void *ud);
int sf_heur_add(int lower, sf_heur_fn fn, void *ud);
/* the same by the lower protocol's name: added when it registers, if it
   has not yet (protocol files register in name order) */
int sf_heur_add_named(const char *lower, sf_heur_fn fn, void *ud);
int sf_heur_remove(int lower, sf_heur_fn fn, void *ud);
int sf_heur_run(const sf_pkt *p, int li);

/* What follows layer li by its tables, bindings and heuristics (the
   dissector's question; -1 if nothing claims it). */
int sf_lookup_next(const sf_pkt *p, int li);
/* the bindings on other fields and the heuristics alone */
int sf_lookup_more(const sf_pkt *p, int li);

/* Each table's values up to its largest below 65536, mapped directly:
   0 nothing, n > 0 protocol n - 1, -1 several or a choice by the bytes
   (ask sf_table_lookup).  Asked on every layer parsed, so inline:
   sf_table_fast says -1 (nothing), -2 (ask), or the protocol. */
#define SF_MAX_TABLES 256
extern int16_t *sf_table_direct_[SF_MAX_TABLES];
extern uint32_t sf_table_dlen_[SF_MAX_TABLES];
extern uint8_t sf_table_big_[SF_MAX_TABLES];  /* values beyond the map */
static inline int sf_table_fast(int tab, uint64_t v) {
  if (v < sf_table_dlen_[tab]) {
    int d = sf_table_direct_[tab][v];
    return d > 0 ? d - 1 : d == 0 ? -1 : -2;
  }
  return sf_table_big_[tab] ? -2 : -1;
}

/* ---- codecs ----------------------------------------------------------------------- */

/* A field whose bytes encode a text (a DNS name) names a codec (its
   sf_field.codec) registered here; the binding shows and takes the text.
   to_text may read the packet around the field: a compressed DNS name
   points back into its message. */
#define SF_CODEC_ROOM 256

typedef struct sf_codec {
  const char *name;
  /* the text of the bytes d[0..n) of field fi of layer li of p, into out
     (cap bytes, NUL-terminated): its length, or < 0 if they do not decode */
  int (*to_text)(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                 char *out, size_t cap);
  /* the bytes of the text s (n bytes) into out (cap): their length, or < 0
     (SF_E_VALUE) if s is not one, SF_E_TOOBIG if they need more than cap
     (callers offer n + SF_CODEC_ROOM bytes first, then more) */
  int (*from_text)(const char *s, size_t n, uint8_t *out, size_t cap);
  const char *expected;    /* what from_text takes, for errors */
  /* the text as Wireshark shows it, where it differs (display filters and
     -T fields: a DNS name without its final dot); NULL: to_text's */
  int (*ws_text)(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                 char *out, size_t cap);
} sf_codec;

int sf_codec_add(const sf_codec *c);
const sf_codec *sf_codec_find(const char *name);

/* ---- parts ------------------------------------------------------------------------ */

/* The layers of part `part` (an index into its protocol's parts) of the
   message whose header is layer li: [*first, *first + return value), as
   far as they were parsed or built (record layers right after li). */
int sf_part_layers(const sf_pkt *p, int li, int part, int *first);

/* ---- option lists ------------------------------------------------------------ */

/* One option of an IPv4 or TCP option list (kind, length counting the
   kind and length bytes; 0 ends the list, 1 is a one-byte no-op) or of an
   IPv6 hop-by-hop/destination list (type, length of the data; 0 is a
   one-byte pad). */
typedef struct sf_opt {
  unsigned kind;
  size_t off, len;       /* the whole option, from the list's start */
} sf_opt;

enum { SF_OPT_IP, SF_OPT_IPV6 };
/* the option at *pos of the list h (n bytes); advances *pos.  0 at the end
   of the list or at a malformed option. */
int sf_opt_next(const uint8_t *h, size_t n, size_t *pos, int style, sf_opt *o);

/* ---- packet operations -------------------------------------------------- */

void sf_pkt_init(sf_pkt *p);
/* give p inline storage (e.g. memory after the host's object) */
void sf_pkt_set_store(sf_pkt *p, uint8_t *store, size_t cap);
void sf_pkt_free(sf_pkt *p);                     /* keeps the store */
int sf_pkt_on_heap(const sf_pkt *p);             /* holds malloc'd memory? */
int sf_pkt_borrow(sf_pkt *p, const uint8_t *data, size_t len);
/* dst of copy and concat must have been through sf_pkt_init (and may have
   a store): its previous contents are released. */
int sf_pkt_copy(sf_pkt *dst, const sf_pkt *src);  /* shares the bytes */
int sf_pkt_writable(sf_pkt *p);                  /* copy-on-write */
int sf_pkt_new_layer(sf_pkt *p, int proto);      /* a fresh built layer */
int sf_pkt_concat(sf_pkt *dst, const sf_pkt *a, const sf_pkt *b);
int sf_pkt_splice(sf_pkt *p, int li, size_t off, size_t oldlen,
                  const uint8_t *data, size_t newlen);
int sf_pkt_push_layer(sf_pkt *p, int proto, size_t off, size_t hlen,
                      size_t end, int flags);

/* parse p->data from protocol first_proto */
int sf_dissect(sf_pkt *p, int first_proto);
/* keep layers 0..li, and dissect again from byte off (within layer li's
   extent; li -1: keep none, to the packet's end) as proto: a layer whose
   bytes were changed in place (a QUIC packet decrypted) */
int sf_dissect_after(sf_pkt *p, int li, size_t off, int proto);
/* parse p->data from its first protocol (p->first) or, without one, from
   what its link type carries: the one parse entry */
int sf_pkt_parse(sf_pkt *p);
/* header length of protocol pr at h (n bytes there) in p (or NULL), 0
   when malformed */
size_t sf_header_len(const sf_proto *pr, const sf_pkt *p, const uint8_t *h, size_t n);
/* the layer of p whose header ends at h (the one below a header at h), -1 */
int sf_layer_before(const sf_pkt *p, const uint8_t *h);
int sf_linktype_proto(int linktype, const uint8_t *d, size_t n);
#define SF_NEXT_QUOTED 0x10000  /* next(): what follows is a quoted packet */
/* recompute automatic fields if the packet is dirty */
int sf_finalize(sf_pkt *p);

/* ---- fields ---------------------------------------------------------------- */

typedef struct sf_val {
  uint64_t u;            /* UINT, FLAGS */
  const uint8_t *p;      /* MAC, IP4, IP6, BYTES */
  size_t n;
} sf_val;

int sf_field_present(const sf_pkt *p, int li, int fi);
/* where field fi is in layer li: bit offset and width (BYTES: len * 8) */
int sf_field_span(const sf_pkt *p, int li, int fi, size_t *bitoff,
                  size_t *bits);
int sf_field_resolve(const sf_pkt *p, int li, int fi);  /* follows alt */
int sf_field_get(const sf_pkt *p, int li, int fi, sf_val *v);
int sf_field_set(sf_pkt *p, int li, int fi, const sf_val *v);
/* the computed value called name of pr (sf_proto.props), or NULL */
const sf_prop *sf_prop_find(const sf_proto *pr, const char *name);
int sf_field_default(sf_pkt *p, int li, int fi);  /* back to default, auto */
uint64_t sf_field_max(const sf_field *f);

/* A base-128 integer at d (n bytes): 7 bits a byte, least significant
   group first, the high bit set while more follow.  Its value in *v and
   its length, or 0 when it does not end within n bytes (or 10). */
size_t sf_varint_get(const uint8_t *d, size_t n, uint64_t *v);
/* v as such an integer in out: its length (1 to 10) */
size_t sf_varint_put(uint64_t v, uint8_t out[10]);

/* bit-level access to a header */
uint64_t sf_getbits(const uint8_t *h, unsigned bitoff, unsigned bits);
void sf_setbits(uint8_t *h, unsigned bitoff, unsigned bits, uint64_t v);
/* raw field accessors for proto code (no checks, layer-relative) */
uint64_t sf_lget(const sf_pkt *p, int li, int fi);
void sf_lput(sf_pkt *p, int li, int fi, uint64_t v);   /* only if unset */
int sf_isset(const sf_pkt *p, int li, int fi);

/* ---- text forms ----------------------------------------------------------- */

int sf_parse_mac(const char *s, uint8_t out[6]);
int sf_parse_ip4(const char *s, uint8_t out[4]);
int sf_parse_ip6(const char *s, uint8_t out[16]);
void sf_format_mac(const uint8_t *m, char out[18]);
void sf_format_ip4(const uint8_t *a, char out[16]);
void sf_format_ip6(const uint8_t *a, char out[46]);
/* flags: "SA" (single-letter names) or "MF+DF"; numbers accepted */
int sf_parse_flags(const sf_field *f, const char *s, uint64_t *out);
size_t sf_format_flags(const sf_field *f, uint64_t v, char *out, size_t n);
int sf_enum_value(const sf_field *f, const char *s, uint64_t *out);
const char *sf_enum_name(const sf_field *f, uint64_t v);
/* The dissector table whose protocols also name field fi's values (an
   EtherType by "IPv4"), or -1. */
int sf_field_names_table(const sf_proto *pr, int fi);
/* A value given by name: the field's own names, then its table's. */
int sf_field_value_named(const sf_proto *pr, int fi, const char *s,
                         uint64_t *out);

/* ---- checksums -------------------------------------------------------------- */

uint64_t sf_sum16(const uint8_t *d, size_t n, uint64_t acc);
uint16_t sf_fold(uint64_t acc);
/* pseudo-header sum of the IP layer enclosing layer li, 0 if none */
int sf_pseudo_sum(const sf_pkt *p, int li, uint8_t proto, size_t len,
                  uint64_t *acc);
/* checksum of layer li's extent with the pseudo-header (TCP, UDP, ICMPv6) */
uint16_t sf_l4_checksum(const sf_pkt *p, int li, uint8_t proto, int *ok);

#endif
