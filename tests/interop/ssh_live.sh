#!/bin/bash
# ssh_live.sh SFLUA [--update]: Debian's ssh against a throwaway sshd (a
# host key and a config generated under a temp dir, a high port, in a
# network and mount namespace of their own that go with the script; port
# 22 of that namespace, where nothing else listens: binary packets are
# read as SSH on port 22, and on other ports only the version line is), recorded with
# tcpdump and read by tshark and by sflua: every SSH field ws_tshark.sh
# lists must agree, frame by frame -- the version lines, the KEXINIT
# name-lists, the (EC)DH values, hassh and hasshServer.  The client fails
# to log in (BatchMode, no key): the key exchange is all we need.
# --update keeps the recording and tshark's reading in tests/data
# (ssh_openssh.pcap, ssh_openssh.pcap.tsv) for tests/lua/ssh_spec.lua.
# Exit 77 (skip) without root, unshare, sshd, ssh, tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1") mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in /usr/sbin/sshd ssh ssh-keygen tcpdump tshark unshare ip; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
if [[ -z ${SSH_LIVE_NS:-} ]]; then
  [[ $(id -u) == 0 ]] || { echo "SKIP: a network namespace needs root"; exit 77; }
  SSH_LIVE_NS=1 exec unshare --net --mount bash "$0" "$sflua" "$mode"
fi
ip link set lo up
# sshd wants its privilege separation directory: a /run of this mount
# namespace's own, gone with it
mount -t tmpfs sflua-run /run && mkdir -p /run/sshd || { echo "SKIP: cannot make /run/sshd"; exit 77; }
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; [[ -n ${SSH_LIVE_KEEP:-} ]] && cp -r "$tmp" /tmp/ssh_live_kept; rm -rf "$tmp"' EXIT
cd "$tmp"
ssh-keygen -q -t ed25519 -N '' -f host_ed25519 || exit 1
cat >sshd_config <<CONF
Port 22
ListenAddress 127.0.0.1
HostKey $tmp/host_ed25519
PidFile $tmp/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
CONF
tcpdump -i lo -U --immediate-mode -s 0 -w ssh.pcap tcp port 22 2>tcpdump.log & pids+=($!)
/usr/sbin/sshd -D -e -f sshd_config >sshd.log 2>&1 & pids+=($!)
for _ in $(seq 100); do  # both listening
  grep -q "listening on" tcpdump.log 2>/dev/null && ss -ltn | grep -q ':22 ' && break
  sleep 0.05
done
client() {  # the client gives up at authentication: exit status 255
  timeout 15 ssh -p 22 -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o IdentityFile=none -o IdentitiesOnly=yes \
    -F /dev/null "$@" nobody@127.0.0.1 true >>client.log 2>&1
}
# key exchanges Wireshark 4.0 dissects, ciphers with encrypted lengths
client -o KexAlgorithms=curve25519-sha256 -o Ciphers=chacha20-poly1305@openssh.com
client -o KexAlgorithms=ecdh-sha2-nistp256 -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256
client  # OpenSSH's defaults (sntrup761x25519: tshark leaves its values undissected)
sleep 0.3
kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
status=0
bash "$here/ws_tshark.sh" ssh ssh.pcap >ssh.tsv || exit 1
"$sflua" "$here/ws_compare.lua" ssh.pcap ssh.tsv || status=1
for want in curve25519-sha256 ecdh-sha2-nistp256 SSH-2.0-OpenSSH; do
  grep -q -- "$want" ssh.tsv || { echo "FAIL: tshark saw no $want"; status=1; }
done
n=$(cut -f23 ssh.tsv | grep -c '[0-9a-f]\{32\}')
[[ $n -ge 3 ]] || { echo "FAIL: $n client KEXINITs with a hassh in tshark's reading"; status=1; }
# the committed captures, read by today's tshark
for pcap in "$root"/tests/data/ssh_*.pcap; do
  bash "$here/ws_tshark.sh" ssh "$pcap" >today.tsv || exit 1
  "$sflua" "$here/ws_compare.lua" "$pcap" today.tsv || status=1
done
if [[ $mode == --update && $status == 0 ]]; then
  cp ssh.pcap "$root/tests/data/ssh_openssh.pcap"
  cp ssh.tsv "$root/tests/data/ssh_openssh.pcap.tsv"
  echo "wrote tests/data/ssh_openssh.pcap and its tshark reading"
fi
exit $status
