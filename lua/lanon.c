/*
 * lanon.c -- anonymization in Lua: CryptoPan, the policy object behind
 * AnonymizationPolicy, Anonymizer (a policy made ready, for packets and
 * single values) and anonymize_pcap.  The algorithms live in core/anon;
 * this file converts.
 *
 * A policy is immutable once made: a run can be repeated by passing the
 * same policy (or its crypto_pan_key and hash_salt) again.
 */
#include <stdio.h>
#include <string.h>

#include "../core/anon/anon.h"
#include "../core/anon/cryptopan.h"
#include "../core/filter/filter.h"
#include "../core/io/io.h"
#include "lsf.h"


/* ---- helpers ------------------------------------------------------------ */

/* 32 bytes from a 32-byte string or 64 hex digits; raises otherwise. */
static void check_key(lua_State *L, int idx, const char *what, uint8_t out[32]) {
  size_t n, i;
  const char *s = luaL_checklstring(L, idx, &n);
  if (n == 32) {
    memcpy(out, s, 32);
    return;
  }
  if (n == 64) {
    for (i = 0; i < 32; i++) {
      unsigned v;
      if (sscanf(s + 2 * i, "%2x", &v) != 1) break;
      out[i] = (uint8_t)v;
    }
    if (i == 32) return;
  }
  luaL_error(L, "%s must be 32 bytes (or 64 hex digits), got %d bytes", what, (int)n);
}

/* Text address at idx into a (4 or 16 bytes); raises on a bad one. */
static size_t check_addr(lua_State *L, int idx, uint8_t a[16]) {
  const char *s = luaL_checkstring(L, idx);
  if (sf_parse_ip4(s, a) == SF_OK) return 4;
  if (sf_parse_ip6(s, a) == SF_OK) return 16;
  return (size_t)luaL_argerror(L, idx, lua_pushfstring(L,
      "bad address %s (expected IPv4 like \"192.0.2.1\" or IPv6 like \"2001:db8::1\")", s));
}

static void push_addr(lua_State *L, const uint8_t *a, size_t n) {
  char out[46];
  if (n == 4) sf_format_ip4(a, out);
  else sf_format_ip6(a, out);
  lua_pushstring(L, out);
}

/* ---- CryptoPan ------------------------------------------------------------ */

static sf_cpan *checkcpan(lua_State *L) {
  sf_cpan **c = (sf_cpan **)luaL_checkudata(L, 1, LSF_CPAN);
  if (!*c) luaL_error(L, "attempt to use a closed CryptoPan");
  return *c;
}

/* CryptoPan(key32) */
static int cpan_new(lua_State *L) {
  uint8_t key[32];
  sf_cpan **c;
  check_key(L, 1, "CryptoPan key", key);
  c = (sf_cpan **)lua_newuserdatauv(L, sizeof *c, 0);
  *c = NULL;
  luaL_setmetatable(L, LSF_CPAN);
  if (!(*c = sf_cpan_new(key))) return luaL_error(L, "CryptoPan: OpenSSL's AES-128 is not available");
  return 1;
}

static int cpan_anonymize(lua_State *L) {
  sf_cpan *c = checkcpan(L);
  uint8_t a[16], out[16];
  size_t n = check_addr(L, 2, a);
  if (n == 4) sf_cpan_anon4(c, a, out);
  else sf_cpan_anon6(c, a, out);
  push_addr(L, out, n);
  return 1;
}

static int cpan_deanonymize(lua_State *L) {
  sf_cpan *c = checkcpan(L);
  uint8_t a[16], out[16];
  size_t n = check_addr(L, 2, a);
  if (n == 4) sf_cpan_deanon4(c, a, out);
  else sf_cpan_deanon6(c, a, out);
  push_addr(L, out, n);
  return 1;
}

/* close(), __close and __gc: a second close is harmless */
static int cpan_close(lua_State *L) {
  sf_cpan **c = (sf_cpan **)luaL_checkudata(L, 1, LSF_CPAN);
  sf_cpan_free(*c);
  *c = NULL;
  return 0;
}

static int cpan_tostring(lua_State *L) {
  sf_cpan **c = (sf_cpan **)luaL_checkudata(L, 1, LSF_CPAN);
  lua_pushstring(L, *c ? "CryptoPan" : "CryptoPan (closed)");
  return 1;
}

/* ---- policies ----------------------------------------------------------------- */

static const char *const policy_keys[] = {
  "ip_mode", "mac_mode", "port_mode", "timestamp_mode", "tcp_seq_mode",
  "payload_mode", "timestamp_jitter_ms", "payload_truncate_bytes",
  "payload_rewrite_lengths", "crypto_pan_key", "hash_salt", NULL
};
#define KEY_LIST "ip_mode, mac_mode, port_mode, timestamp_mode, tcp_seq_mode, " \
  "payload_mode, timestamp_jitter_ms, payload_truncate_bytes, " \
  "payload_rewrite_lengths, crypto_pan_key, hash_salt"

static sf_anon_policy *checkpolicy(lua_State *L, int idx) {
  return (sf_anon_policy *)luaL_checkudata(L, idx, LSF_POLICY);
}

/* A whole number in [0, max] at idx: an integer, or a float that is one
   (256.0); NaN, infinities, fractions, strings and the out of range are
   errors naming the option and what it takes. */
static uint32_t check_count(lua_State *L, int idx, const char *name,
                            lua_Integer max, const char *unit) {
  lua_Integer v = 0;
  int ok = lua_type(L, idx) == LUA_TNUMBER;
  if (ok && !lua_isinteger(L, idx)) {
    lua_Number n = lua_tonumber(L, idx);
    ok = n >= 0 && n <= (lua_Number)max && lua_numbertointeger(n, &v) && (lua_Number)v == n;
  } else if (ok) {
    v = lua_tointeger(L, idx);
  }
  if (!ok || v < 0 || v > max) {
    const char *got = lua_type(L, idx) == LUA_TNUMBER ? luaL_tolstring(L, idx, NULL)
                                                      : luaL_typename(L, idx);
    luaL_error(L, "AnonymizationPolicy.%s: expected a whole number of %s from 0 to %I, got %s",
               name, unit, max, got);
  }
  return (uint32_t)v;
}

/* The mode named by the value on top: a name, or false (pass-through,
   the seed's None: a key set to nil is no key in a Lua table). */
static void set_mode(lua_State *L, sf_anon_policy *p, int s) {
  const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                  : lua_isboolean(L, -1) && !lua_toboolean(L, -1) ? "none" : NULL;
  int m = v ? sf_anon_mode_find(s, v) : -1;
  if (!v)
    luaL_error(L, "AnonymizationPolicy.%s: expected a mode name or false, got %s (valid: %s)",
               sf_anon_setting_name(s), luaL_typename(L, -1), sf_anon_mode_list(s));
  if (m < 0)
    luaL_error(L, "AnonymizationPolicy.%s: unknown mode '%s' (valid: %s; false passes through)",
               sf_anon_setting_name(s), v, sf_anon_mode_list(s));
  sf_anon_policy_set_mode(p, s, m);
}

/* One option, its value on top. */
static void set_option(lua_State *L, sf_anon_policy *p, const char *k) {
  int s;
  for (s = 0; s < SF_AN_NSETTINGS; s++)
    if (strcmp(k, sf_anon_setting_name(s)) == 0) {
      set_mode(L, p, s);
      return;
    }
  if (strcmp(k, "timestamp_jitter_ms") == 0)
    p->timestamp_jitter_ms = check_count(L, -1, k, SF_ANON_MAX_JITTER_MS, "milliseconds");
  else if (strcmp(k, "payload_truncate_bytes") == 0)
    p->payload_truncate_bytes = check_count(L, -1, k, SF_ANON_MAX_TRUNCATE, "bytes");
  else if (strcmp(k, "payload_rewrite_lengths") == 0) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "AnonymizationPolicy.%s: expected true or false, got %s", k, luaL_typename(L, -1));
    p->payload_rewrite_lengths = lua_toboolean(L, -1);
  }
  else if (strcmp(k, "crypto_pan_key") == 0) check_key(L, -1, "AnonymizationPolicy.crypto_pan_key", p->crypto_pan_key);
  else if (strcmp(k, "hash_salt") == 0) check_key(L, -1, "AnonymizationPolicy.hash_salt", p->hash_salt);
}

/* Every key of the table at idx is an option. */
static void check_keys(lua_State *L, int idx) {
  int i;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "AnonymizationPolicy: option names are strings (options: " KEY_LIST ")");
    for (i = 0; policy_keys[i] && strcmp(policy_keys[i], lua_tostring(L, -1)) != 0; i++) continue;
    if (!policy_keys[i])
      luaL_error(L, "AnonymizationPolicy has no option '%s' (options: " KEY_LIST ")", lua_tostring(L, -1));
  }
}

/* core.anon_policy([t [, preset]]) -> a policy: the preset's modes (or the
   defaults), a fresh key and salt, then t's options over them, in the
   order of policy_keys (a mode before the numbers it brings). */
static int policy_new(lua_State *L) {
  const char *preset = luaL_optstring(L, 2, "default");
  sf_anon_policy *p;
  char err[200];
  int i;
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  p = (sf_anon_policy *)lua_newuserdatauv(L, sizeof *p, 0);
  luaL_setmetatable(L, LSF_POLICY);
  if (sf_anon_policy_init(p) != SF_OK) return luaL_error(L, "AnonymizationPolicy: no random bytes for the key");
  if (sf_anon_policy_preset(p, preset) != SF_OK) return luaL_argerror(L, 2, "unknown preset");
  if (lua_istable(L, 1)) {
    check_keys(L, 1);
    for (i = 0; policy_keys[i]; i++) {
      if (lua_getfield(L, 1, policy_keys[i]) != LUA_TNIL) set_option(L, p, policy_keys[i]);
      lua_pop(L, 1);
    }
  }
  if (sf_anon_policy_check(p, err, sizeof err) != SF_OK)
    return luaL_error(L, "AnonymizationPolicy.%s", err);
  return 1;
}

static int policy_options(lua_State *L);

static int policy_index(lua_State *L) {
  sf_anon_policy *p = checkpolicy(L, 1);
  const char *k = luaL_checkstring(L, 2);
  int s;
  if (strcmp(k, "options") == 0) {  /* the one method */
    lua_pushcfunction(L, policy_options);
    return 1;
  }
  for (s = 0; s < SF_AN_NSETTINGS; s++)
    if (strcmp(k, sf_anon_setting_name(s)) == 0) {
      lua_pushstring(L, sf_anon_mode_name(s, p->mode[s]));
      return 1;
    }
  if (strcmp(k, "timestamp_jitter_ms") == 0) lua_pushinteger(L, p->timestamp_jitter_ms);
  else if (strcmp(k, "payload_truncate_bytes") == 0) lua_pushinteger(L, p->payload_truncate_bytes);
  else if (strcmp(k, "payload_rewrite_lengths") == 0) lua_pushboolean(L, p->payload_rewrite_lengths);
  else if (strcmp(k, "crypto_pan_key") == 0) lua_pushlstring(L, (const char *)p->crypto_pan_key, 32);
  else if (strcmp(k, "hash_salt") == 0) lua_pushlstring(L, (const char *)p->hash_salt, 32);
  else return luaL_error(L, "AnonymizationPolicy has no option '%s' (options: " KEY_LIST ")", k);
  return 1;
}

static int policy_newindex(lua_State *L) {
  return luaL_error(L, "AnonymizationPolicy is read-only (make a new one: AnonymizationPolicy{...})");
}

/* policy:options() -> a table that AnonymizationPolicy{} turns back into it */
static int policy_options(lua_State *L) {
  int i;
  checkpolicy(L, 1);
  lua_newtable(L);
  for (i = 0; policy_keys[i]; i++) {
    lua_pushstring(L, policy_keys[i]);
    lua_pushcfunction(L, policy_index);
    lua_pushvalue(L, 1);
    lua_pushstring(L, policy_keys[i]);
    lua_call(L, 2, 1);
    lua_rawset(L, -3);
  }
  return 1;
}

static int policy_tostring(lua_State *L) {
  sf_anon_policy *p = checkpolicy(L, 1);
  luaL_Buffer b;
  int s;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "AnonymizationPolicy{");
  for (s = 0; s < SF_AN_NSETTINGS; s++) {
    lua_pushfstring(L, "%s%s=\"%s\"", s ? ", " : "", sf_anon_setting_name(s),
                    sf_anon_mode_name(s, p->mode[s]));
    luaL_addvalue(&b);
  }
  lua_pushfstring(L, ", timestamp_jitter_ms=%I, payload_truncate_bytes=%I, "
                  "payload_rewrite_lengths=%s}", (lua_Integer)p->timestamp_jitter_ms,
                  (lua_Integer)p->payload_truncate_bytes,
                  p->payload_rewrite_lengths ? "true" : "false");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  return 1;
}

/* ---- Anonymizer: a policy ready to use -------------------------------------------- */

static sf_anon *checkanon(lua_State *L) {
  sf_anon **a = (sf_anon **)luaL_checkudata(L, 1, LSF_ANON);
  if (!*a) luaL_error(L, "attempt to use a closed Anonymizer");
  return *a;
}

/* core.Anonymizer(policy) */
static int anon_new(lua_State *L) {
  sf_anon_policy *p = checkpolicy(L, 1);
  sf_anon **a = (sf_anon **)lua_newuserdatauv(L, sizeof *a, 0);
  *a = NULL;
  luaL_setmetatable(L, LSF_ANON);
  if (!(*a = sf_anon_new(p))) return luaL_error(L, "Anonymizer: cannot set up OpenSSL");
  return 1;
}

/* a:packet(p) -> p, rewritten in place (with its timestamp) */
static int anon_packet(lua_State *L) {
  sf_anon *a = checkanon(L);
  sf_pkt *p = lsf_parsed(L, 2);
  lsf_host h;
  int rc;
  lsf_enter(L, &h);  /* custom protocols' callbacks run on L */
  rc = sf_anon_packet(a, p);
  lsf_leave(&h);
  lsf_track(L, 2, p);
  lsf_raise_kept(&h);
  if (rc != SF_OK) lsf_raise(L, rc, NULL, 0, -1, 0);
  lua_settop(L, 2);
  return 1;
}

static int anon_ip(lua_State *L) {
  sf_anon *a = checkanon(L);
  uint8_t in[16], out[16];
  size_t n = check_addr(L, 2, in);
  if (n == 4) sf_anon_ip4(a, in, out);
  else sf_anon_ip6(a, in, out);
  push_addr(L, out, n);
  return 1;
}

static int anon_mac(lua_State *L) {
  sf_anon *a = checkanon(L);
  const char *s = luaL_checkstring(L, 2);
  uint8_t in[6], out[6];
  char txt[18];
  if (sf_parse_mac(s, in) != SF_OK)
    return luaL_argerror(L, 2, lua_pushfstring(L, "bad MAC %s (expected \"00:11:22:33:44:55\")", s));
  sf_anon_mac(a, in, out);
  sf_format_mac(out, txt);
  lua_pushstring(L, txt);
  return 1;
}

static int anon_port(lua_State *L) {
  sf_anon *a = checkanon(L);
  lua_Integer port = luaL_checkinteger(L, 2);
  luaL_argcheck(L, port >= 0 && port <= 65535, 2, "port out of range (0..65535)");
  lua_pushinteger(L, sf_anon_port(a, (uint16_t)port));
  return 1;
}

static int anon_close(lua_State *L) {
  sf_anon **a = (sf_anon **)luaL_checkudata(L, 1, LSF_ANON);
  sf_anon_free(*a);
  *a = NULL;
  return 0;
}

/* ---- anonymize_pcap ------------------------------------------------------------- */

/* The options anon.lua passes: threads (0: one per CPU) and, with a
   filter, one program per thread (a program runs on one at a time). */
typedef struct anonopts {
  sf_anon_run run;
  sf_ropts ro;
  sf_filter *filters[256];
} anonopts;

static void anon_options(lua_State *L, int idx, anonopts *o) {
  int i, n;
  memset(o, 0, sizeof *o);
  lsf_reader_options(L, idx, &o->ro);
  o->run.ro = &o->ro;
  o->run.threads = 1;
  if (!lua_istable(L, idx)) return;
  if (lua_getfield(L, idx, "threads") != LUA_TNIL)
    o->run.threads = (int)lsf_check_range(L, -1, "anonymize_pcap: threads", 0, 255);
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "filters") == LUA_TTABLE) {
    n = (int)luaL_len(L, -1);
    luaL_argcheck(L, n >= 1 && n <= 256, idx, "filters: 1 to 256 programs");
    for (i = 0; i < n; i++) {
      lua_geti(L, -1, i + 1);
      o->filters[i] = lsf_checkfilter(L, -1);
      lua_pop(L, 1);  /* the options table keeps it */
    }
    o->run.filters = o->filters;
    if (o->run.threads == 0 || o->run.threads > n) o->run.threads = n;
  }
  lua_pop(L, 1);
}

static int noop(lua_State *L) { (void)L; return 0; }

/* While the threads work: a pending Ctrl-C (sflua's hook fires on a
   call) stops them. */
static int tick(void *ud) {
  lua_State *L = (lua_State *)ud;
  lua_pushcfunction(L, noop);
  if (lua_pcall(L, 0, 0, 0) == LUA_OK) return 0;
  lua_pop(L, 1);
  return 1;
}

/* anonymize_pcap(in, out, policy [, {strict=, threads=, filters=}]) ->
   {packets=, bytes_in=, bytes_out=, timestamps_clamped=}, or nil,
   message naming the file (anon.lua raises it at its caller's line) */
static int anonymize_pcap(lua_State *L) {
  const char *in = luaL_checkstring(L, 1), *out = luaL_checkstring(L, 2);
  sf_anon_policy *p = checkpolicy(L, 3);
  sf_anon_stats st = {0};
  anonopts o;
  char err[700];
  lsf_host h;
  int rc;
  anon_options(L, 4, &o);
  o.run.thread_work = lsf_thread_work;
  o.run.tick = tick;
  o.run.ud = L;
  lsf_enter(L, &h);  /* parsing: custom protocols' callbacks run on L */
  rc = sf_anon_pcap_run(in, out, p, &o.run, &st, err, sizeof err);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  if (rc != SF_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)st.times_clamped);
  lua_setfield(L, -2, "timestamps_clamped");
  lua_pushinteger(L, (lua_Integer)st.packets);
  lua_setfield(L, -2, "packets");
  lua_pushinteger(L, (lua_Integer)st.bytes_in);
  lua_setfield(L, -2, "bytes_in");
  lua_pushinteger(L, (lua_Integer)st.bytes_out);
  lua_setfield(L, -2, "bytes_out");
  return 1;
}

/* ---- registration ------------------------------------------------------------------ */

static int anon_tostring(lua_State *L) {
  sf_anon **a = (sf_anon **)luaL_checkudata(L, 1, LSF_ANON);
  lua_pushstring(L, *a ? "Anonymizer" : "Anonymizer (closed)");
  return 1;
}

void lsf_open_anon(lua_State *L) {
  static const luaL_Reg policy_meta[] = {
    {"__index", policy_index}, {"__newindex", policy_newindex},
    {"__tostring", policy_tostring}, {NULL, NULL}
  };
  static const luaL_Reg cpan_meta[] = {
    {"__gc", cpan_close}, {"__close", cpan_close}, {"__tostring", cpan_tostring},
    {NULL, NULL}
  };
  static const luaL_Reg cpan_methods[] = {
    {"anonymize", cpan_anonymize}, {"deanonymize", cpan_deanonymize},
    {"close", cpan_close}, {NULL, NULL}
  };
  static const luaL_Reg anon_meta[] = {
    {"__gc", anon_close}, {"__close", anon_close}, {"__tostring", anon_tostring},
    {NULL, NULL}
  };
  static const luaL_Reg anon_methods[] = {
    {"packet", anon_packet}, {"ip", anon_ip}, {"mac", anon_mac},
    {"port", anon_port}, {"close", anon_close}, {NULL, NULL}
  };
  static const luaL_Reg funcs[] = {
    {"CryptoPan", cpan_new}, {"anon_policy", policy_new},
    {"Anonymizer", anon_new},
    {"anonymize_pcap", anonymize_pcap}, {NULL, NULL}
  };
  lsf_class(L, LSF_CPAN, cpan_meta, cpan_methods);
  lsf_class(L, LSF_ANON, anon_meta, anon_methods);
  lsf_class(L, LSF_POLICY, policy_meta, NULL);
  luaL_setfuncs(L, funcs, 0);
}
