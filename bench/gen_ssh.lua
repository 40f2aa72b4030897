-- gen_ssh.lua: a capture of SSH KEXINIT packets for the hassh benchmarks
-- (bench/ssh_bench.sh): N frames Ether/IPv4/TCP(22)/SSH/SSHKexInit/
-- SSHPadding, clients and servers alternating, with the algorithm lists of
-- four OpenSSH- and libssh-like peers, written as a pcap (for Lua and
-- tshark) and as gen_mix.lua's record file (for the C loop).
--   sflua bench/gen_ssh.lua OUT.pcap OUT.mix [N]
local sf = require("stackforge")
local pcap, mixf, n = arg[1], arg[2], tonumber(arg[3] or 100000)

local KEX = {
  "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,ext-info-c",
  "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
  "curve25519-sha256@libssh.org,ecdh-sha2-nistp521,diffie-hellman-group18-sha512,diffie-hellman-group1-sha1",
  "diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1",
}
local ENC = {"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
  "aes256-gcm@openssh.com,aes128-ctr", "aes128-cbc,3des-cbc", "aes256-ctr"}
local MAC = {"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
  "hmac-sha2-256", "hmac-sha1,hmac-md5", "hmac-sha2-512-etm@openssh.com"}

local w <close> = sf.PcapWriter(pcap)
local m = assert(io.open(mixf, "wb"))
for i = 1, n do
  local k = i % 4 + 1
  local client = i % 2 == 0
  local tcp = client and sf.TCP{sport = 40000 + i % 20000, dport = 22, flags = "PA"}
    or sf.TCP{sport = 22, dport = 40000 + i % 20000, flags = "PA"}
  local p = (sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / tcp / sf.SSH()
    / sf.SSHKexInit{cookie = string.pack(">I4", i):rep(4), kex_algorithms = KEX[k],
      server_host_key_algorithms = "ssh-ed25519,rsa-sha2-512",
      encryption_algorithms_client_to_server = ENC[k], encryption_algorithms_server_to_client = ENC[k],
      mac_algorithms_client_to_server = MAC[k], mac_algorithms_server_to_client = MAC[k],
      compression_algorithms_client_to_server = "none,zlib@openssh.com",
      compression_algorithms_server_to_client = "none,zlib@openssh.com"}
    / sf.SSHPadding()):build()
  w:write(p)
  local b = p:bytes()
  m:write(string.pack("<I4", #b), b)
end
m:close()
