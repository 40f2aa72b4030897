#!/usr/bin/python3
"""scapy_dns.py: Scapy 2.5's side of the DNS cross-check.  Reads lines from
gen_dns.lua (Scapy expression, Lua expression, sflua's hex; tab-separated),
builds each Scapy expression and compares its bytes with sflua's.  With
--golden OUT writes "Lua expression<TAB>Scapy's hex" lines, the committed
reference tests/lua/dns_spec.lua checks without Scapy.  Exit 0 when all
agree, 1 otherwise, 77 without Scapy."""
import sys
try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import *  # noqa: F401,F403
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)

golden = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--golden" else None
ok = bad = 0
out = []
for n, line in enumerate(sys.stdin, 1):
    pyx, luax, sfhex = line.rstrip("\n").split("\t")
    try:
        raw = bytes(eval(pyx))  # noqa: S307 - our own generated expressions
    except Exception as e:
        bad += 1
        print("case %d: Scapy failed: %r\n  %s" % (n, e, pyx), file=sys.stderr)
        continue
    out.append("%s\t%s" % (luax, raw.hex()))
    if raw.hex() == sfhex:
        ok += 1
    else:
        bad += 1
        if bad <= 5:
            at = next((i for i in range(0, min(len(sfhex), 2 * len(raw)), 2)
                       if sfhex[i:i + 2] != raw.hex()[i:i + 2]), None)
            print("case %d: bytes differ at offset %s\n  scapy: %s\n  sflua: %s\n  %s"
                  % (n, at if at is None else at // 2, raw.hex(), sfhex, pyx), file=sys.stderr)
if golden and bad == 0:
    with open(golden, "w") as f:
        f.write("\n".join(out) + "\n")
print("DNS bytes: %d equal to Scapy %s's, %d differ" % (ok, conf.version, bad))
sys.exit(0 if bad == 0 else 1)
