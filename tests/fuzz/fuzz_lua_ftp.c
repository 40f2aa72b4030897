/*
 * fuzz_lua_ftp.c -- libFuzzer target for FTP's LPeg grammar
 * (stdlib/stackforge/protocols/ftp.lua): hostile bytes parsed as FTP and
 * over TCP 21, every field read, what parsed rebuilt from its values,
 * PASV/EPSV/PORT/EPRT read from every message (ftp_data_endpoint).
 */
#define FUZZ_HARNESS \
  "return function(bytes)\n" \
  "  bytes = bytes:sub(1, 2048)  -- a few messages: longer inputs only cost time\n" \
  "  local p = sf.Packet(bytes, {proto = 'FTP'})\n" \
  "  visit(p)\n" \
  "  rebuild(p, sf.FTP)\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{dport = 21} / bytes):bytes()))\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = 21} / bytes):bytes()))\n" \
  "  for i = 1, p.layer_count do\n" \
  "    if p:layer(i).kind == sf.FTP.kind then sf.ftp_data_endpoint(p:layer(i)); sf.ftp_reply_lines(p:layer(i)) end\n" \
  "  end\n" \
  "end\n"
#include "lua_harness.h"
