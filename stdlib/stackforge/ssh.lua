-- ssh.lua: the Lua half of SSH (the engine parses and builds the layers,
-- and computes hassh): the fingerprints as functions of a packet, and the
-- messages of a reassembled stream.  docs/ssh.md says how to use them.
local core = require("stackforge.core")
local options = require("stackforge.options")

local M = {}

local sunpack = string.unpack

-- hassh(pkt) -> MD5 hex, the algorithms string (kex;enc;mac;comp, client
-- to server) of the first KEXINIT; nil when pkt has none
M.hassh = options.fingerprint("hassh", "hassh", "hassh_algorithms")
-- hassh_server(pkt) -> the same with the server-to-client lists
M.hassh_server = options.fingerprint("hassh_server", "hassh_server", "hassh_server_algorithms")

-- The messages of one direction of a reassembled SSH stream, one Packet
-- each with its offset in the stream: the version line (SSHVersion), the
-- binary packets sent in the clear (SSH / SSHKexInit / SSHPadding, ...),
-- and after NEWKEYS the rest as one SSHEncrypted (its lengths are
-- encrypted).  A packet cut by the stream's end comes last, truncated.
--   for m, off in ssh_messages(conv.reassembled_forward) do ... end
function M.ssh_messages(src)
  local next_chunk = options.chunks_of("ssh_messages", src)
  local buf, pos, base, eof, state = "", 1, 0, false, "version"
  local function take(n, proto)
    local m, off = buf:sub(pos, pos + n - 1), base + pos - 1
    pos = pos + n
    return core.packet(m, {proto = proto}), off
  end
  return function()
    while true do
      local avail = #buf - pos + 1
      if state == "version" and avail > 0 then
        local lf = buf:find("\n", pos, true)
        if lf then
          state = "packets"
          return take(lf - pos + 1, buf:sub(pos, pos + 3) == "SSH-" and "SSHVersion" or "Raw")
        end
      elseif state == "packets" and avail >= 6 then
        local len = sunpack(">I4", buf, pos)
        if len > 35000 then state = "encrypted" end
        if state == "packets" and avail >= 4 + len then
          if buf:byte(pos + 5) == 21 then state = "encrypted" end  -- NEWKEYS
          return take(4 + len, "SSH")
        end
      elseif state == "encrypted" and eof and avail > 0 then
        return take(avail, "SSHEncrypted")
      end
      if eof then
        if avail <= 0 then return nil end
        local was = state
        state = "done"
        return take(avail, was == "version" and "SSHVersion" or "SSH")
      end
      local c = next_chunk()
      if c == nil then
        eof = true
      else
        base = base + pos - 1
        buf = buf:sub(pos) .. c
        pos = 1
      end
    end
  end
end

return M
