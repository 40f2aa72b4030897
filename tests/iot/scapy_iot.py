#!/usr/bin/python3
"""scapy_iot.py: Scapy 2.5's side of the MQTT, MQTT-SN and Modbus cross-check,
and of TFTP's (tests/textproto/run_scapy.sh; SCAPY_LABEL names the protocols
in the last line).
Reads lines from gen_iot.lua (Scapy expression, Lua expression, sflua's hex;
tab-separated), builds each Scapy expression with scapy.contrib's mqtt,
mqttsn and modbus loaded and compares its bytes with sflua's.  With
--golden OUT writes "Lua expression<TAB>Scapy's hex" lines, the committed
reference tests/lua/iot_golden_spec.lua checks without Scapy.  Exit 0 when
all agree, 1 otherwise, 77 without Scapy."""
import os
import sys
try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import *  # noqa: F401,F403
    from scapy.contrib.mqtt import *  # noqa: F401,F403
    from scapy.contrib.mqttsn import *  # noqa: F401,F403
    from scapy.contrib.modbus import *  # noqa: F401,F403
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)

def digest(raw):
    """What the golden file keeps of Scapy's bytes: their hex, or for long
    packets their length and FNV-1a 64 (tests/lua/iot_golden_spec.lua
    computes the same)."""
    if len(raw) <= 1024:
        return raw.hex()
    h = 0xcbf29ce484222325
    for b in raw:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "len%d:fnv%016x" % (len(raw), h)


golden = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--golden" else None
ok = bad = 0
out = []
for n, line in enumerate(sys.stdin, 1):
    pyx, luax, sfhex = line.rstrip("\n").split("\t")
    if len(luax) > 4096:
        print("case %d: the Lua expression is too long for the golden file" % n, file=sys.stderr)
    try:
        raw = bytes(eval(pyx))  # noqa: S307 - our own generated expressions
    except Exception as e:
        bad += 1
        print("case %d: Scapy failed: %r\n  %s" % (n, e, pyx), file=sys.stderr)
        continue
    out.append("%s\t%s" % (luax, digest(raw)))
    if raw.hex() == sfhex:
        ok += 1
    else:
        bad += 1
        if bad <= 8:
            at = next((i for i in range(0, min(len(sfhex), 2 * len(raw)), 2)
                       if sfhex[i:i + 2] != raw.hex()[i:i + 2]), None)
            print("case %d: bytes differ at offset %s\n  scapy: %s\n  sflua: %s\n  %s"
                  % (n, at if at is None else at // 2, raw.hex()[:200], sfhex[:200], pyx[:300]),
                  file=sys.stderr)
if golden and bad == 0:
    with open(golden, "w") as f:
        f.write("\n".join(out) + "\n")
label = os.environ.get("SCAPY_LABEL", "MQTT, MQTT-SN and Modbus")
print("%s bytes: %d equal to Scapy %s's, %d differ" % (label, ok, conf.version, bad))
sys.exit(0 if bad == 0 else 1)
