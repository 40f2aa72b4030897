#!/usr/bin/env bash
# Install what sflua needs to build and test, from Debian only.
# Idempotent: when everything is present it does nothing (no apt-get update).
set -euo pipefail

PKGS=(build-essential cmake pkg-config liblua5.4-dev lua5.4 libpcap-dev
      libssl-dev lua-lpeg lua-busted libreadline-dev clang libclang-rt-14-dev
      python3 python3-scapy tshark tmux libtins-dev g++ python3-dpkt
      zlib1g-dev tcpflow libndpi-bin hyperfine)

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
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, without a prompt
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  $SUDO debconf-set-selections
$SUDO apt-get update -q </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends "${missing[@]}" </dev/null
