#!/usr/bin/env bash
# Install the Debian packages sflua needs, from Debian only.
#   bash scripts/setup.sh          to build and run sflua (scripts/quickstart.sh)
#   bash scripts/setup.sh --test   also the test and benchmark tools (scripts/test.sh)
#   bash scripts/setup.sh --list [--test]   print the packages, install nothing
# Idempotent: when everything is present it does nothing (no apt-get update).
# Root installs directly; another user through sudo.
set -euo pipefail

# building and running: a C compiler, CMake, Lua 5.4, OpenSSL's libcrypto
# (Crypto-PAn), readline (the REPL), zlib (gzip captures), libpcap (live
# capture), libuv and luv (the event loop, shared with require("luv")),
# PCRE2 and LPeg (display filters), libnghttp2 (HTTP/2's HPACK)
RUN_PKGS=(build-essential cmake pkg-config liblua5.4-dev libssl-dev
          libreadline-dev zlib1g-dev libpcap-dev libuv1-dev lua-luv lua-luv-dev
          libpcre2-dev lua-lpeg libnghttp2-dev)
# testing: busted and stock lua5.4, clang (sanitizers, libFuzzer), the
# oracles (Scapy and its TLS layers' python3-cryptography, tshark, tcpflow;
# for live traffic in namespaces iproute2, tcpdump, ping, traceroute, nc,
# capsh/setpriv; DHCP clients and a server: busybox's udhcpc, ISC dhclient,
# dnsmasq; DNS: dig against dnsmasq, lua-socket for Lua's own queries; TLS:
# openssl s_client and s_server; QUIC: ngtcp2's example client and server,
# gtlsclient and gtlsserver; SSH: ssh against a throwaway sshd; L2TP:
# xl2tpd as LAC and LNS; MQTT and Modbus: mosquitto and its clients,
# pymodbus; FTP, TFTP and mail: vsftpd, tftpd-hpa and tftp-hpa,
# python3-aiosmtpd, swaks (with Net::SSLeay for STARTTLS), dovecot's POP3
# and IMAP servers; the answering machines' clients: arping, ndisc6,
# udhcpc, and Graphviz's dot for the automata's graphs; HTTP: curl against
# python3's http.server, nghttp against nghttpd; GNU parallel: the mapper
# recipe of docs/scale.md), and the benchmarks' anchors (libtins, libpcap,
# dpkt, nDPI, tcpreplay)
TEST_PKGS=(lua5.4 lua-busted lua-lpeg clang libclang-rt-14-dev python3
           python3-scapy tshark tcpflow tmux libtins-dev g++ libpcap-dev
           python3-dpkt libndpi-bin hyperfine iproute2 tcpdump iputils-ping
           traceroute netcat-openbsd libcap2-bin util-linux tcpreplay
           busybox isc-dhcp-client dnsmasq-base dnsutils lua-socket
           openssl python3-cryptography ngtcp2-client ngtcp2-server
           mosquitto mosquitto-clients python3-pymodbus
           vsftpd tftpd-hpa tftp-hpa python3-aiosmtpd swaks libnet-ssleay-perl
           dovecot-pop3d dovecot-imapd
           iputils-arping ndisc6 udhcpc graphviz gnuplot-nox
           openssh-client openssh-server xl2tpd
           curl nghttp2-client nghttp2-server parallel)

test=0 list=0
for a in "$@"; do
  case $a in
    --test) test=1 ;;
    --list) list=1 ;;
    *) echo "usage: setup.sh [--test] [--list]" >&2; exit 2 ;;
  esac
done
PKGS=("${RUN_PKGS[@]}")
((test)) && PKGS+=("${TEST_PKGS[@]}")
if ((list)); then
  printf '%s\n' "${PKGS[@]}"
  exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$st" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "setup: not root and no sudo; as root, run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, without a prompt
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -q </dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends "${missing[@]}" </dev/null
