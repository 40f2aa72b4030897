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

#define SF_VERSION "0.1.0"

/* ---- errors ---------------------------------------------------------- */

enum {
  SF_OK = 0,
  SF_E_RANGE = -1,      /* integer does not fit the field */
  SF_E_VALUE = -2,      /* text value does not parse (address, flag name) */
  SF_E_ABSENT = -3,     /* field does not apply to this layer's variant */
  SF_E_NOMEM = -4,
  SF_E_TOOBIG = -5,     /* packet or header would exceed engine limits */
  SF_E_TYPE = -6        /* wrong kind of value for the field */
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
} sf_field;

/* ---- packets ------------------------------------------------------------ */

/* layer flags */
#define SF_L_BUILT   0x01  /* made by a constructor (defaults may be overloaded) */
#define SF_L_QUOTED  0x02  /* inside an ICMP error: never auto-fixed */
#define SF_L_TRUNC   0x04  /* header or payload cut short */

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
#define SF_MAX_LAYERS 64
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

/* Hooks of a protocol defined by the host (Lua's CustomLayer).  Each is
   optional; ud is the host's. */
typedef struct sf_dyn {
  void *ud;
  /* spans of every field of the header at h (n available); returns the
     header length, 0 when malformed.  NULL: the fields' static offsets. */
  size_t (*layout)(const sf_proto *pr, const uint8_t *h, size_t n,
                   sf_span *spans);
  /* the next protocol, as sf_proto.next, from the host's guess */
  int (*next)(const sf_proto *pr, const sf_pkt *p, int li);
  /* fill in length and count fields the user did not set */
  void (*fixup)(const sf_proto *pr, sf_pkt *p, int li);
  /* variable field fi now holds n bytes (it held oldn) at byte off of the
     layer: its length and count fields, and its padding, must follow
     before the layout is asked */
  void (*resized)(const sf_proto *pr, sf_pkt *p, int li, int fi, size_t off,
                  size_t oldn, size_t n);
  /* a field changed: fields whose conditions now differ from `before`
     (the layout before the change) need their bytes added or removed */
  void (*changed)(const sf_proto *pr, sf_pkt *p, int li, const sf_span *before);
  /* last word on the layer's bytes (a custom checksum) */
  void (*post_build)(const sf_proto *pr, sf_pkt *p, int li);
} sf_dyn;

struct sf_proto {
  const char *name;      /* constructor name, Scapy's: "TCP" */
  const char *display;   /* summary/show name: "TCP", "IPv4", "Ethernet" */
  const char *kind;      /* LayerKind member: "Tcp" */
  const sf_field *fields;
  uint16_t nfields;
  uint16_t minlen;       /* default header length built by constructors */
  int next_field;        /* field keying the dissector table, -1 none */
  /* header length of the bytes at h (n available), 0 when malformed */
  size_t (*hdr_len)(const uint8_t *h, size_t n);
  /* length of header + payload claimed by the header; SIZE_MAX = all */
  size_t (*extent)(const uint8_t *h, size_t hlen, size_t n);
  /* next protocol decided by the header itself: >= 0 proto id,
     -1 consult the dissector table, -2 the payload is Raw */
  int (*next)(const sf_pkt *p, int li);
  /* fill in automatic lengths and such of layer li (inner layers done) */
  void (*fixup)(sf_pkt *p, int li);
  /* fill in the checksum of layer li, once every length is final */
  void (*checksum)(sf_pkt *p, int li);
  int header_checksum;   /* the checksum covers the header only (IPv4) */
  /* does conditional field fi apply to this header? */
  int (*present)(const uint8_t *h, size_t hlen, int cond);
  /* header length a header of this variant should have (SHAPE changes) */
  size_t (*shape_len)(const uint8_t *h, size_t hlen);
  /* where variable field fi lives in the header */
  void (*var)(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len);
  const sf_dyn *dyn;     /* run-time protocols: layout and hooks */
  const uint8_t *deftmpl;  /* run-time protocols: default header bytes */
  /* set by the registry */
  int id;
  uint8_t *tmpl;         /* default header bytes, minlen long */
  int8_t *alt;           /* next field with the same name, -1 none */
};

/* built-in protocol ids; registration order */
enum {
  SF_RAW, SF_PADDING, SF_ETHER, SF_DOT1Q, SF_DOT1AD, SF_ARP, SF_IPV4, SF_IPV6,
  SF_IPV6_HOP, SF_IPV6_ROUTING, SF_IPV6_FRAG, SF_IPV6_DEST, SF_TCP, SF_UDP,
  SF_ICMP, SF_ICMPV6, SF_NDOPT, SF_SLL, SF_SLL2, SF_LOOPBACK, SF_LOOPBACK_BE,
  SF_NBUILTIN
};

#define SF_MAX_PROTOS 256

int sf_register(sf_proto *pr);           /* returns id, or < 0 */
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
void sf_init(void);                       /* registers the built-ins once */

/* dissector tables: (lower proto, value of its next_field) -> upper */
int sf_bind(int lower, uint64_t value, int upper);
/* bindings on another field than next_field (UDP and TCP ports): tried
   after the next_field table, in the order the fields were first bound */
int sf_bind_field(int lower, int fi, uint64_t value, int upper);
int sf_unbind(int lower, int fi, uint64_t value, int upper);  /* -1: any */
int sf_lookup_field(int lower, int fi, uint64_t value);
int sf_bound_fields(int lower, int *fis, int max);
int sf_bind_field_value(int lower, int upper, int *fi, uint64_t *value);
/* content-based detection (the host's heuristics), asked when no table
   answers for a lower protocol that has heuristics: proto id or -1 */
extern int (*sf_heuristic)(const sf_pkt *p, int li);
void sf_set_heuristic_flag(int lower, int on);
int sf_has_heuristic(int lower);
/* bit 0: lower has bindings on fields other than next_field; bit 1: it has
   heuristics.  Read once per layer parsed: built-ins pay one load. */
extern uint8_t sf_more_[SF_MAX_PROTOS];
int sf_lookup(int lower, uint64_t value);        /* -1 if unbound */
int sf_bind_value(int lower, int upper, uint64_t *value);  /* reverse */

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
/* parse p->data from its first protocol (p->first) or, without one, from
   what its link type carries: the one parse entry */
int sf_pkt_parse(sf_pkt *p);
/* header length of protocol pr at h (n bytes there), 0 when malformed */
size_t sf_header_len(const sf_proto *pr, const uint8_t *h, size_t n);
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
int sf_field_default(sf_pkt *p, int li, int fi);  /* back to default, auto */
uint64_t sf_field_max(const sf_field *f);

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

/* ---- checksums -------------------------------------------------------------- */

uint64_t sf_sum16(const uint8_t *d, size_t n, uint64_t acc);
uint16_t sf_fold(uint64_t acc);
/* pseudo-header sum of the IP layer enclosing layer li, 0 if none */
int sf_pseudo_sum(const sf_pkt *p, int li, uint8_t proto, size_t len,
                  uint64_t *acc);
/* checksum of layer li's extent with the pseudo-header (TCP, UDP, ICMPv6) */
uint16_t sf_l4_checksum(const sf_pkt *p, int li, uint8_t proto, int *ok);

#endif
