/*
 * fuzz_lua_imap.c -- libFuzzer target for IMAP's LPeg grammar
 * (stdlib/stackforge/protocols/imap.lua): hostile bytes parsed as IMAP and
 * over TCP 143, every field read, what parsed rebuilt from its values,
 * the bytes split in two as a session's streams (imap_session).
 */
#define FUZZ_HARNESS \
  "return function(bytes)\n" \
  "  bytes = bytes:sub(1, 2048)  -- a few messages: longer inputs only cost time\n" \
  "  local p = sf.Packet(bytes, {proto = 'IMAP'})\n" \
  "  visit(p)\n" \
  "  rebuild(p, sf.IMAP)\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{dport = 143} / bytes):bytes()))\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = 143} / bytes):bytes()))\n" \
  "  local half = #bytes // 2\n" \
  "  sf.imap_session(bytes:sub(1, half), bytes:sub(half + 1))\n" \
  "end\n"
#include "lua_harness.h"
