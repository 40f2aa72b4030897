/*
 * custom.h -- protocols defined at run time from a list of fields, the way
 * Scapy's fields_desc defines them: the layout engine behind CustomLayer.
 *
 * A host (the Lua binding, a C program, the fuzz target) describes each
 * field -- an sf_field as the built-in protocols have, plus an sf_cfield
 * saying how the field is sized -- and answers, through sf_custom_ops,
 * what only it knows: a length_from or count_from value, a condition, an
 * adjust, post_build, guess_payload.  The engine lays headers out from
 * their bytes (parsing, reading a field) and again from their values
 * (setting a field: the header is rebuilt as Scapy builds one, so no value
 * is lost when a condition brings a field in or a length changes), fills
 * length and count fields, and registers the result as an sf_proto that
 * parses, builds and binds like a built-in one.
 *
 * The engine keeps no state outside its protocols.  Every callback gets
 * the host pointer given at definition; a host that needs to know which
 * of its threads is running (Lua) keeps that itself, and keeps its own
 * errors.  A callback returns SF_OK, SF_E_VALUE for a number that is no
 * length or count (its text in `bad`), or another negative code once it
 * has kept an error of its own: the engine then gives up the layout.
 *
 * Bad numbers (negative, not an integer, past SF_MAX_LEN) from length_from
 * or count_from are errors reported through ops->error while building (a
 * layer made by a constructor); while parsing they make the header
 * malformed, so the rest of the packet is Raw and the packet is marked
 * truncated.  A length past the bytes present is a header cut short when
 * parsing; when building it takes the bytes there, as Scapy builds a
 * length field the user set larger than its data.
 */
#ifndef SF_CUSTOM_H
#define SF_CUSTOM_H

#include "../sf.h"

/* How a field finds its size. */
typedef enum sf_ckind {
  SF_CK_FIXED,   /* integers and addresses: sf_field.bits */
  SF_CK_REST,    /* the rest of the header's bytes (StrField) */
  SF_CK_FIXLEN,  /* exactly sf_cfield.bytes bytes (StrFixedLenField) */
  SF_CK_NULL,    /* up to a NUL, which follows the value (StrNullField) */
  SF_CK_VAR      /* sized by the host: length_from, or count_from times the
                    item size, or count_from items of sub_proto; with
                    neither, the rest */
} sf_ckind;

/* What the host answers for a field (sf_cfield.hooks) ... */
#define SF_CH_LENGTH 0x01  /* length_from: the field's length in bytes */
#define SF_CH_COUNT  0x02  /* count_from: the number of items */
#define SF_CH_COND   0x04  /* ConditionalField: is the field there? */
#define SF_CH_ADJUST 0x08  /* FieldLenField's adjust(pkt, x) */
/* ... and for the protocol (sf_cdef.hooks) */
#define SF_CH_POST_BUILD 0x10
#define SF_CH_GUESS      0x20

/* number(): which question */
#define SF_CQ_LENGTH 1
#define SF_CQ_COUNT  2

/* What a custom field adds to its sf_field. */
typedef struct sf_cfield {
  uint8_t kind;            /* sf_ckind */
  uint8_t hooks;           /* SF_CH_LENGTH, _COUNT, _COND, _ADJUST */
  int16_t len_of;          /* FieldLenField: the field whose length it is */
  int16_t count_of;        /* ... or whose items it counts; -1: neither */
  int sub_proto;           /* PacketListField: the items' protocol, or -1 */
  uint32_t bytes;          /* SF_CK_FIXLEN: the length */
  uint32_t item_bytes;     /* FieldListField: the size of an item, or 0 */
  uint32_t align;          /* PadField: zeros after the field up to a
                              multiple of align of its own length */
  const uint8_t *defbytes; /* SF_T_BYTES: the default value */
  size_t ndef;
} sf_cfield;

/* The header as laid out so far, for a callback: fields 0 .. upto-1 have
   their spans (SF_ABSENT: a condition left the field out). */
typedef struct sf_cview {
  const sf_proto *pr;
  const uint8_t *h;
  size_t n;                /* bytes at h */
  const sf_span *spans;
  int upto;
  /* 1 while the header is rebuilt from values (a set, the default
     header): the fields from upto on are not there yet, and a length
     field still holds its old value (it is measured last), so a
     condition must not judge by it; 0 when laid out from bytes */
  int rebuilding;
  /* the byte where the field asked about starts (laying out from bytes:
     a text protocol's length_from reads on from there) */
  size_t at;
} sf_cview;

/* Field fi's value in a view: SF_OK, or SF_E_ABSENT (not laid out yet, or
   left out).  Integers come in host order (little-endian ones swapped). */
int sf_cview_get(const sf_cview *v, int fi, sf_val *out);

typedef struct sf_custom_ops {
  /* length_from or count_from of field fi (what: SF_CQ_*) */
  int (*number)(void *host, const sf_cview *v, int fi, int what,
                int64_t *out, char *bad, size_t badlen);
  /* ConditionalField: *holds = is field fi there? */
  int (*cond)(void *host, const sf_cview *v, int fi, int *holds);
  /* FieldLenField fi measured x: *out is what it holds (v: the header) */
  int (*adjust)(void *host, const sf_cview *v, int fi, int64_t x,
                int64_t *out, char *bad, size_t badlen);
  /* the layer's bytes (header and payload, n of them) once built, to be
     rewritten in place (a custom checksum); v: the header */
  int (*post_build)(void *host, const sf_cview *v, uint8_t *layer, size_t n);
  /* guess_payload: *next = the protocol that follows, or -1 (the
     dissector tables decide) */
  int (*guess)(void *host, const sf_cview *v, int *next);
  /* a value the engine refuses while building, as a message naming the
     layer and the field */
  void (*error)(void *host, const char *msg);
  /* who would answer a callback on this thread now: the engine remembers
     a thread's last layouts from bytes (length_from, count_from and cond
     answers) under this key, and lays a header out again only when its
     bytes, or the key, differ -- so the answers must depend on the header
     alone.  NULL (or no such op): nobody can answer, nothing is kept. */
  const void *(*answerer)(void *host);
} sf_custom_ops;

typedef struct sf_cdef {
  const char *name;        /* constructor name */
  const char *display;     /* summary name; NULL: the name */
  int nfields;
  const sf_field *fields;  /* name, type, flags (HEX, LE, SIGNED), bits of
                              fixed fields, default, enums, codec */
  const sf_cfield *cf;     /* nfields of them */
  unsigned hooks;          /* SF_CH_POST_BUILD, SF_CH_GUESS */
  const sf_custom_ops *ops;
  void *host;              /* passed to every callback */
} sf_cdef;

typedef struct sf_custom sf_custom;

/* A protocol from its definition, copied (names, defaults: the host may
   free its own).  Laying the default header out may call the host.  NULL
   with a message in err when the definition is wrong. */
sf_custom *sf_custom_new(const sf_cdef *d, char *err, size_t errlen);
/* A protocol file defining a built-in protocol through the engine gives it
   what a descriptor declares beyond its fields (core/sf.h): LayerKind name,
   places, next_table and next_keys, next hook, aliases, variants, facts,
   Wireshark names, record, parts, methods, computed values, and a hdr_len
   that says what the layout would (dissecting then skips the layout);
   before registering.  A like->dyn with a layout replaces the engine's
   for parsing and reading (a hand-written one, for speed: it must give
   the engine's spans, which sf_custom_proto(c)->dyn->layout still gives
   before this call); setting a field still lays the header out the
   engine's way. */
void sf_custom_describe(sf_custom *c, const sf_proto *like);
/* Enter it in the registry: its id, or < 0 (SF_E_TOOBIG: SF_MAX_PROTOS
   reached), and then it is still the caller's to free. */
int sf_custom_register(sf_custom *c);
const sf_proto *sf_custom_proto(const sf_custom *c);
/* The host pointer a run-time protocol was defined with (sf_cdef.host),
   or NULL: not one, or dead.  A host with several states of its own
   finds a protocol another of them defined by it (lua/lcustom.c: Lua
   states of a WorkerPool). */
void *sf_custom_host_of(const sf_proto *pr);
/* The host is gone: the engine never calls it again.  Layouts that needed
   it fail (the layer parses as Raw); fixed layouts go on working. */
void sf_custom_kill(sf_custom *c);
/* Free a protocol that is not registered (a registered one stays: the
   registry and packets point at it). */
void sf_custom_free(sf_custom *c);

#endif
