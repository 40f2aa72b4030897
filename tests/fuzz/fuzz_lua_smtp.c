/*
 * fuzz_lua_smtp.c -- libFuzzer target for SMTP's LPeg grammar
 * (stdlib/stackforge/protocols/smtp.lua): hostile bytes parsed as SMTP and
 * over TCP 25, every field read, what parsed rebuilt from its values,
 * the bytes split in two as a session's streams (smtp_session).
 */
#define FUZZ_HARNESS \
  "return function(bytes)\n" \
  "  bytes = bytes:sub(1, 2048)  -- a few messages: longer inputs only cost time\n" \
  "  local p = sf.Packet(bytes, {proto = 'SMTP'})\n" \
  "  visit(p)\n" \
  "  rebuild(p, sf.SMTP)\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{dport = 25} / bytes):bytes()))\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = 25} / bytes):bytes()))\n" \
  "  local half = #bytes // 2\n" \
  "  sf.smtp_session(bytes:sub(1, half), bytes:sub(half + 1))\n" \
  "end\n"
#include "lua_harness.h"
