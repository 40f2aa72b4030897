#!/usr/bin/python3
"""wireless_oracle.py: Scapy's side of the wireless cross-check.

Reads gen_wireless.lua's lines on stdin (Scapy expression TAB Lua
expression TAB link type), builds each Scapy expression with Debian's
python3-scapy 2.5 and writes the golden lines (Lua expression TAB Scapy's
bytes in hex TAB link type) that tests/lua/wireless_scapy_spec.lua checks
sflua against.

  wireless_oracle.py OUT.tsv < cases

Exit status 0, or 77 when Scapy cannot be imported.
"""
import sys

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import *  # noqa: F401,F403
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


def main():
    out = open(sys.argv[1], "w")
    out.write("# golden: Lua expression, Scapy 2.5's bytes, link type "
              "(tests/interop/gen_wireless.lua | wireless_oracle.py)\n")
    n = 0
    for line in sys.stdin:
        py, lua, lt = line.rstrip("\n").split("\t")
        pkt = eval(py)
        out.write("%s\t%s\t%s\n" % (lua, bytes(pkt).hex(), lt))
        n += 1
    print("%d cases" % n, file=sys.stderr)


main()
