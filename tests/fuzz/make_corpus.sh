#!/usr/bin/env bash
# make_corpus.sh OUTDIR [CAPTURE_DIR] [MAX_PER_CAPTURE]
#
# Splits the pcap / pcapng captures (gzip'd ones too) under CAPTURE_DIR
# (default: ../shared/captures beside the repository) into one fuzz input
# per packet: a link-type selector byte (index into fuzz_dissect.c's table
# {1, 101, 228, 229, 0, 113, 127}) followed by the packet bytes.  Each
# file is named CAPTUREPATH-FRAMENUMBER (the frame number tshark shows).  Packets
# of other link types are skipped.  Python 3 standard library only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: make_corpus.sh OUTDIR [CAPTURE_DIR] [MAX_PER_CAPTURE]}
src=${2:-$root/../shared/captures}
max=${3:-20}
mkdir -p "$out"
if [[ ! -d "$src" ]]; then
  echo "make_corpus: no capture dir $src; nothing added" >&2
  exit 0
fi
exec python3 - "$out" "$src" "$max" <<'PY'
import gzip, hashlib, os, struct, sys

out, src, maxper = sys.argv[1], sys.argv[2], int(sys.argv[3])
LINKTYPES = [1, 101, 228, 229, 0, 113, 127]

def read_pcap(b):
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    if len(b) < 24:
        return
    lt = struct.unpack(e + "I", b[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(b):
        incl = struct.unpack(e + "I", b[off + 8:off + 12])[0]
        off += 16
        if incl > len(b) - off:
            break
        yield lt, b[off:off + incl]
        off += incl

def read_pcapng(b):
    off, e, ifaces = 0, "<", []
    while off + 12 <= len(b):
        btype = struct.unpack(e + "I", b[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order, new interfaces
            bom = b[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", b[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(b):
            break
        body = b[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 2:
            ifaces.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            ifid, _, _, cap, _ = struct.unpack(e + "IIIII", body[:20])
            if ifid < len(ifaces):
                yield ifaces[ifid], body[20:20 + cap]
        elif btype == 3 and len(body) >= 4 and ifaces:
            orig = struct.unpack(e + "I", body[:4])[0]
            yield ifaces[0], body[4:4 + orig]
        off += blen

total = 0
seen = set()
for dirpath, _, files in sorted(os.walk(src)):
    for name in sorted(files):
        if not any(name.endswith(s) for s in (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz")):
            continue
        path = os.path.join(dirpath, name)
        try:
            with open(path, "rb") as f:
                b = f.read()
            if b[:2] == b"\x1f\x8b":
                b = gzip.decompress(b)
        except (OSError, EOFError):
            continue
        reader = read_pcapng if b[:4] == b"\x0a\x0d\x0d\x0a" else read_pcap
        stem = os.path.relpath(path, src).replace(os.sep, "_")
        n = 0
        try:
            for frameno, (lt, pkt) in enumerate(reader(b), 1):
                if lt not in LINKTYPES or n >= maxper:
                    continue
                data = bytes([LINKTYPES.index(lt)]) + pkt
                h = hashlib.sha1(data).hexdigest()
                if h in seen:
                    continue
                seen.add(h)
                with open(os.path.join(out, "%s-%04d" % (stem, frameno)), "wb") as f:
                    f.write(data)
                n += 1
        except struct.error:
            pass
        total += n
print("make_corpus: %d inputs in %s" % (total, out))
PY
