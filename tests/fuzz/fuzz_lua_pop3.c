/*
 * fuzz_lua_pop3.c -- libFuzzer target for POP3's LPeg grammar
 * (stdlib/stackforge/protocols/pop3.lua): hostile bytes parsed as POP3 and
 * over TCP 110, every field read, what parsed rebuilt from its values,
 * the bytes split in two as a session's streams (pop3_session).
 */
#define FUZZ_HARNESS \
  "return function(bytes)\n" \
  "  bytes = bytes:sub(1, 2048)  -- a few messages: longer inputs only cost time\n" \
  "  local p = sf.Packet(bytes, {proto = 'POP3'})\n" \
  "  visit(p)\n" \
  "  rebuild(p, sf.POP3)\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{dport = 110} / bytes):bytes()))\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = 110} / bytes):bytes()))\n" \
  "  local half = #bytes // 2\n" \
  "  sf.pop3_session(bytes:sub(1, half), bytes:sub(half + 1))\n" \
  "end\n"
#include "lua_harness.h"
