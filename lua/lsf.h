/*
 * lsf.h -- shared declarations of the Lua binding ("stackforge.core").
 * The binding is thin: conversions between Lua values and the engine's,
 * and metatables; all packet logic lives in core/.
 *
 * Its files build on one another in this order, never back (the layering
 * test checks it): lhost.c (the ground floor), lvalue.c (field values),
 * lpacket.c (packets and layer views), then the concepts on top of them --
 * lcustom.c, lfilter.c, lpcap.c, lflow.c, lanon.c, ... -- and lcore.c, the module,
 * which opens them all.
 */
#ifndef LSF_H
#define LSF_H

#include <lauxlib.h>
#include <lua.h>

#include "../core/sf.h"

/* ---- type names: every Lua-visible C type's metatable ---------------------- */

#define LSF_PACKET "stackforge.Packet"
#define LSF_LAYER "stackforge.Layer"
#define LSF_CPROTO "stackforge.CustomProto"
#define LSF_HEUR "stackforge.Heuristic"
#define LSF_CVIEW "stackforge.LayerView"  /* pkt in a custom layer's callbacks */
#define LSF_READER "stackforge.PcapReader"
#define LSF_WRITER "stackforge.PcapWriter"
#define LSF_MAPPING "stackforge.mapping"
#define LSF_FLOWRUN "stackforge.flowrun"
#define LSF_FLOWREF "stackforge.flowref"
#define LSF_KEYLOG "stackforge.TLSKeyLog"    /* lflow.c: a loaded key log */
#define LSF_TLSREAD "stackforge.tlsreader"   /* lflow.c: decrypted chunks */
#define LSF_CPAN "stackforge.CryptoPan"
#define LSF_POLICY "stackforge.AnonymizationPolicy"
#define LSF_ANON "stackforge.Anonymizer"
#define LSF_LIVE "stackforge.LiveHandle"    /* lcapture.c: a capture */
#define LSF_SENDER "stackforge.Sender"
#define LSF_BPF "stackforge.Bpf"
#define LSF_TIMER "stackforge.Timer"        /* lloop.c */
#define LSF_FILTER "stackforge.FilterProgram"
#define LSF_POOL "stackforge.WorkerPool"     /* lpool.c */

/* ---- registry keys -------------------------------------------------------------- */

/* The keys table answers every name a packet is indexed with: a method
   (function), a property (integer code) or a field name (a field map:
   userdata of SF_MAX_PROTOS int16, the field's index in each protocol or
   -1).  It is upvalue 1 of the packet and view metamethods.  A method or
   property keeps its name: a field of that name has its map only in the
   field maps table, which lsf_field_map also asks (lvalue.c). */
extern const char lsf_keys_key;
#define LSF_CODECS "stackforge.codecs"  /* codec name -> {encode=, decode=} */
#define LSF_WORKER "stackforge.worker"  /* true in a WorkerPool's states */

/* ---- lhost.c: the ground floor ------------------------------------------------- */

/* An engine call that may run a custom protocol's Lua callbacks (parsing,
   reading or setting a field, building) is made between lsf_enter and
   lsf_leave: the callbacks then run on L, the thread making the call, and
   the first error they raise is kept in h and raised by lsf_raise_kept
   once the engine is done (after lsf_track):
     lsf_host h;
     lsf_enter(L, &h); rc = sf_finalize(p); lsf_leave(&h);
     lsf_track(L, idx, p); lsf_raise_kept(&h);
   Nothing that may raise goes between lsf_enter and lsf_leave. */
typedef struct lsf_host {
  lua_State *L;
  struct lsf_host *prev;  /* the engine call this one is nested in */
  char err[256];
} lsf_host;
void lsf_enter(lua_State *L, lsf_host *h);
void lsf_leave(lsf_host *h);
void lsf_raise_kept(lsf_host *h);
lsf_host *lsf_current(void);  /* this thread's engine call, or NULL */
/* A callback that found no host (an engine call on a thread of C alone)
   counts itself; the count is this thread's. */
void lsf_note_hostless(void);
unsigned long lsf_hostless(void);
/* For the engine's drivers on threads of C (their thread_work hook):
   nonzero at the end (begin 0) when a callback of the work found no
   host, so the driver does it again on the caller's thread. */
int lsf_thread_work(void *ud, int begin);
/* Is L one of a WorkerPool's states (which never write the protocol
   registry: lcustom.c adopts what another state defined)? */
int lsf_is_worker(lua_State *L);

int lsf_proto_arg(lua_State *L, int idx);  /* kind, constructor or name */
/* options tables: unknown keys, times and integer ranges raise errors that
   name the function or field ("Packet.time: bad value inf ...") */
void lsf_check_options(lua_State *L, int idx, const char *fname,
                       const char *const names[]);
int64_t lsf_check_time(lua_State *L, int idx, const char *what);
lua_Integer lsf_check_range(lua_State *L, int idx, const char *what,
                            lua_Integer lo, lua_Integer hi);
/* an engine code as an error naming layer, field and value (p may be NULL) */
int lsf_raise(lua_State *L, int rc, const sf_pkt *p, int li, int fi,
              int validx);
/* {id=, name=, display=, kind=, fields=, variants=, aliases=, ws=, ...} */
void lsf_push_proto_info(lua_State *L, int id);
/* the metatable of a C type: metamethods, methods behind __index, and a
   __tostring naming the type unless meta has one */
void lsf_class(lua_State *L, const char *tname, const luaL_Reg *meta,
               const luaL_Reg *methods);

/* ---- lvalue.c: field values between Lua and the engine ------------------------ */


void lsf_push_field(lua_State *L, const sf_pkt *p, int li, int fi);
void lsf_push_value(lua_State *L, const sf_field *f, const sf_val *v);
int lsf_codec_bytes(lua_State *L, const sf_codec *c, const char *s, size_t n,
                    size_t max);
/* computed value pp of layer li as a string, nil when the layer has none */
void lsf_push_prop(lua_State *L, const sf_pkt *p, int li, const sf_prop *pp);
void lsf_call_codec(lua_State *L, const sf_proto *pr, const sf_field *f,
                    const char *fn);
/* raises for a bad value; returns the engine's code (see lvalue.c) */
int lsf_set_field(lua_State *L, sf_pkt *p, int li, int fi, int validx,
                  lsf_host *h);
int lsf_set_plain(lua_State *L, sf_pkt *p, int li, int fi, int validx);  /* no raise */
int lsf_field_index(lua_State *L, int proto, int keyidx);
const int16_t *lsf_field_map(lua_State *L, int keysidx, int keyidx);
void lsf_add_field_names(lua_State *L, int keysidx, int proto);
int lsf_field_error(lua_State *L, int proto, const char *name);

/* ---- lpacket.c: packets and layer views ---------------------------------------- */

typedef struct lsf_layerview {
  int li;
} lsf_layerview;

sf_pkt *lsf_checkpacket(lua_State *L, int idx);
sf_pkt *lsf_testpacket(lua_State *L, int idx);  /* NULL if not a Packet */
sf_pkt *lsf_newpacket(lua_State *L);  /* bytes on the heap or borrowed */
sf_pkt *lsf_newpacket_store(lua_State *L, size_t cap);  /* + inline bytes */
void lsf_track(lua_State *L, int idx, sf_pkt *p);  /* after engine calls */
sf_pkt *lsf_parsed(lua_State *L, int idx);
void lsf_open_packet(lua_State *L);  /* pushes the methods table; construct */
int lsf_packet_new(lua_State *L);    /* Packet(raw [, opts]) */
int lsf_constructor(lua_State *L);   /* core.constructor(t) */
void lsf_finalize(lua_State *L, int idx, sf_pkt *p);  /* raises */
/* has volatile values to draw at each build (lsf_finalize draws them) */
int lsf_volatile(const sf_pkt *p);
/* ltext.c: Scapy's text -- p:summary("scapy") (over lpacket.c's summary),
   p:sprintf, core.scapy_class, core.scapy_repr, core.scapy_name */
void lsf_open_text(lua_State *L, int mod, int methods);
/* packet comments (pcapng), kept in a weak table */
void lsf_push_comment(lua_State *L, int pidx);
void lsf_set_comment(lua_State *L, int pidx, int vidx);

/* ---- on top: one file per concept, each adding its names to the module -------- */

void lsf_open_custom(lua_State *L);  /* lcustom.c: CustomLayer, bindings */
/* lcustom.c: the heuristics `from` added, for `to` (a worker) to adopt */
void lsf_share_heuristics(lua_State *from, lua_State *to);
/* lfilter.c: compiled display filters (core.filter_load), which readers
   take (PcapReader's filter=) */
struct sf_filter;
void lsf_open_filter(lua_State *L);  /* filter_load, frame_protocols */
struct sf_filter *lsf_checkfilter(lua_State *L, int idx);
void lsf_open_pcap(lua_State *L);    /* lpcap.c: PcapReader, rdpcap, ... */
void lsf_open_plist(lua_State *L);   /* lplist.c: PacketStore */
/* The reader options (strict=) of the table at idx, for every function
   that reads a capture (stackforge.capture.READER_OPTIONS checks them). */
struct sf_ropts;
void lsf_reader_options(lua_State *L, int idx, struct sf_ropts *o);
/* A "mapping" userdata holding a reference to a capture's mapping, and
   the Packet of a record read from it: borrowing its bytes and keeping
   the mapping at mapidx alive (mapidx 0: a transient record, copied). */
struct sf_map;
struct sf_rec;
void lsf_push_mapping(lua_State *L, struct sf_map *map);
sf_pkt *lsf_push_record(lua_State *L, int mapidx, const struct sf_rec *rec);
void lsf_open_flow(lua_State *L);    /* lflow.c: flows_file, flows_packets */
void lsf_open_anon(lua_State *L);    /* lanon.c: CryptoPan, Anonymizer, ... */

/* lpool.c: WorkerPool (pool_new, pool_methods), parse_batch, cpus */
void lsf_open_pool(lua_State *L);

/* lcapture.c (+ lloop.c): sniffing, sending, routes, sr; the loop */
void lsf_open_capture(lua_State *L);  /* adds them to the table on top */

#endif
