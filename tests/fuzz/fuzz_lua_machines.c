/*
 * fuzz_lua_machines.c -- libFuzzer target for the answering machines'
 * request handlers, through a Lua state running the stdlib: ARP, ND,
 * ICMP echo, TCP reset, DHCP and DNS machines (stackforge.machines.*).
 *
 * Input: a selector byte (which machine), then a frame, handed to the
 * machine as a capture would hand it (am:handle: is_request, then
 * make_reply; the replies are returned, not sent).  A machine must not
 * raise, must not count an error in its own callbacks (a malformed
 * request is logged and ignored, never an error), and every reply it
 * makes must build.  The DHCP server keeps its lease table across inputs,
 * so sequences of requests are explored too.  Every input is also turned
 * around (p:reversed(), the machines' way to start a reply): as many
 * bytes come out as went in.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int luaopen_stackforge_core(lua_State *L);

static const char *const setup_code =
  "local stdlib = ...\n"
  "package.path = stdlib .. '/?.lua;' .. stdlib .. '/?/init.lua;' .. package.path\n"
  "local sf = require('stackforge')\n"
  "local last = {}\n"
  "local function log(line) last[1] = line end\n"
  "local mac = '02:00:00:00:00:aa'\n"
  "local machines = {\n"
  "  sf.ArpResponderAM{addresses = {'10.0.0.5', '10.0.1.0/24'}, mac = mac, log = log},\n"
  "  sf.NdpResponderAM{addresses = {'fd00::5', 'fe80::/64'}, mac = mac, log = log},\n"
  "  sf.IcmpEchoAM{addresses = {'10.0.0.7', 'fd00::7'}, mac = mac, resolve = true, log = log},\n"
  "  sf.TcpRstAM{log = log},\n"
  "  sf.DhcpServerAM(sf.DhcpPoolConfig{pool_start = '10.0.0.100', pool_end = '10.0.0.140',\n"
  "    server_ip = '10.0.0.1', gateway = '10.0.0.1', dns_servers = {'10.0.0.53'},\n"
  "    domain = 'fuzz.test', lease_time = 600, reservations = {['02:00:00:00:00:01'] = '10.0.0.9'}},\n"
  "    {server_mac = mac, answer_arp = true, log = log}),\n"
  "  sf.DnsServerAM{records = {['www.lab.test'] = {A = {'10.0.0.80', '10.0.0.81'}, AAAA = 'fd00::80',\n"
  "    TXT = 'hi'}, ['mail.lab.test'] = {CNAME = 'www.lab.test'}}, reverse = true,\n"
  "    addresses = {'10.0.0.53', 'fd00::53'}, answer_arp = true, mac = mac, log = log},\n"
  "}\n"
  "return function(data)\n"
  "  local m = machines[data:byte(1) % #machines + 1]\n"
  "  local before = m.errors\n"
  "  local p = sf.Packet(data:sub(2))\n"
  "  assert(#p:reversed():bytes() == #data - 1, 'reversed changed the length')\n"
  "  local replies = m:handle(p)\n"
  "  if m.errors ~= before then\n"
  "    error(m.name .. ' counted an error: ' .. tostring(last[1]))\n"
  "  end\n"
  "  for _, r in ipairs(replies) do\n"
  "    local p = type(r) == 'string' and sf.Packet(r) or r\n"
  "    assert(#p:bytes() > 0, 'an empty reply')\n"
  "  end\n"
  "end\n";

static lua_State *L;

static void setup(void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "stackforge.core", luaopen_stackforge_core, 0);
  lua_pop(L, 1);
  if (luaL_loadstring(L, setup_code) != LUA_OK) goto fail;
  lua_pushstring(L, SFLUA_STDLIB_DIR);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) goto fail;
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz_machines");
  return;
fail:
  fprintf(stderr, "fuzz_lua_machines: setup: %s\n", lua_tostring(L, -1));
  abort();  /* the harness's own code */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!L) setup();
  if (size < 1) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_machines");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_lua_machines: %s\n", lua_tostring(L, -1));
    abort();
  }
  return 0;
}
