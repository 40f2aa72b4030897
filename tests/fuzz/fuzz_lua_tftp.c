/*
 * fuzz_lua_tftp.c -- libFuzzer target for TFTP (stdlib/stackforge/
 * protocols/tftp.lua, Scapy's classes on CustomLayer): hostile bytes
 * parsed as TFTP and over UDP 69, every field read, what parsed rebuilt
 * from its values, each message class built from the bytes' fields.
 */
#define FUZZ_HARNESS \
  "return function(bytes)\n" \
  "  bytes = bytes:sub(1, 2048)  -- a few messages: longer inputs only cost time\n" \
  "  local p = sf.Packet(bytes, {proto = 'TFTP'})\n" \
  "  visit(p)\n" \
  "  for _, c in ipairs({sf.TFTP, sf.TFTP_RRQ, sf.TFTP_WRQ, sf.TFTP_DATA, sf.TFTP_ACK,\n" \
  "                      sf.TFTP_ERROR, sf.TFTP_Options, sf.TFTP_Option}) do\n" \
  "    rebuild(p, c)\n" \
  "    visit(sf.Packet(bytes, {proto = c.kind}))\n" \
  "  end\n" \
  "  visit(sf.Packet((sf.Ether() / sf.IP() / sf.UDP{dport = 69} / bytes):bytes()))\n" \
  "  sf.tftp_messages({sf.Packet((sf.Ether() / sf.IP() / sf.UDP{dport = 4000} / bytes):bytes())})\n" \
  "end\n"
#include "lua_harness.h"
