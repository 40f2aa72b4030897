#!/usr/bin/python3
# scapy_hex.py SEED COUNT: Scapy's hexdiff, hexstr, linehexdump, chexdump
# and import_hexcap on random cases, one a line (tab-separated, texts with
# \n and \\ escaped):
#   hexdiff   A_HEX  B_HEX  SCAPY_TEXT
#   hexstr    X_HEX  ONLYASC ONLYHEX  SCAPY_TEXT      (also linehexdump, chexdump, hexdump)
#   hexcap    FORMAT DUMP_TEXT  SCAPY_BYTES_HEX       (FORMAT: hexdump, tcpdump, tshark,
#                                                      wireshark: the dump's writer)
# tcpdump -xx and tshark -x write their dumps of a capture of the random
# packets when they are installed.  check_hex.lua compares sflua.
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout
import logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import hexdiff, hexstr, linehexdump, chexdump, hexdump, import_hexcap  # noqa: E402
from scapy.all import wrpcap, Ether, Raw, conf  # noqa: E402
from scapy.themes import NoTheme  # noqa: E402
conf.color_theme = NoTheme()

seed, count = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)


def esc(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def randbytes(n):
    # mostly text-like runs and repeats, so that alignments are not trivial
    pool = [bytes([rnd.randrange(256)]) for _ in range(rnd.randint(1, 40))]
    return b"".join(rnd.choice(pool) for _ in range(n))


def mutate(a):
    b = bytearray(a)
    for _ in range(rnd.randint(0, 6)):
        k = rnd.randint(0, 3)
        at = rnd.randint(0, len(b))
        n = rnd.randint(1, 20)
        if k == 0:
            b[at:at] = randbytes(n)
        elif k == 1:
            del b[at:at + n]
        elif k == 2:
            b[at:at + n] = randbytes(n)
        else:
            b[at:at + 1] = bytes([rnd.randrange(256)])
    return bytes(b)


def printed(fn, *args):
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            fn(*args)
    except IndexError:  # Scapy's hexdiff fails on some alignments
        return "!IndexError"
    return out.getvalue()


def line(*cols):
    print("\t".join(cols))


packets = []
for _ in range(count):
    a = randbytes(rnd.randint(0, 200))
    b = mutate(a) if rnd.random() < 0.9 else randbytes(rnd.randint(0, 200))
    line("hexdiff", a.hex(), b.hex(), esc(printed(hexdiff, a, b)))
    x = randbytes(rnd.randint(0, 60))
    oa, oh = rnd.randint(0, 1), rnd.randint(0, 1)
    line("hexstr", x.hex(), str(oa), str(oh), esc(hexstr(x, onlyasc=oa, onlyhex=oh)))
    line("linehexdump", x.hex(), str(oa), str(oh), esc(linehexdump(x, onlyasc=oa, onlyhex=oh, dump=True)))
    line("chexdump", x.hex(), "0", "0", esc(chexdump(x, dump=True)))
    line("hexdump", x.hex(), "0", "0", esc(hexdump(x, dump=True)))
    p = randbytes(rnd.randint(1, 120))
    d = hexdump(p, dump=True)
    line("hexcap", "hexdump", esc(d), import_hexcap(d).hex())
    # Wireshark's "Copy as Hex Dump": three spaces after the offset
    w = "\n".join("%04x   %s  %s" % (i, " ".join("%02x" % c for c in p[i:i + 16]).ljust(47),
                                       "".join(chr(c) if 32 <= c < 127 else "." for c in p[i:i + 16]))
                  for i in range(0, len(p), 16))
    line("hexcap", "wireshark", esc(w), import_hexcap(w).hex())
    packets.append(Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01", type=0x88b5) / Raw(p))

tmp = tempfile.mkdtemp()
try:
    path = os.path.join(tmp, "p.pcap")
    wrpcap(path, packets)
    tools = {"tcpdump": ["tcpdump", "-n", "-xx", "-r", path],
             "tshark": ["tshark", "-x", "-r", path]}
    for name, cmd in tools.items():
        if not shutil.which(cmd[0]):
            continue
        text = subprocess.run(cmd, capture_output=True, text=True).stdout
        # one dump a packet: tcpdump's are the lines under each packet's
        # line, tshark's are blocks separated by empty lines
        if name == "tcpdump":
            dumps, cur = [], []
            for ln in text.splitlines():
                if ln.startswith("\t"):
                    cur.append(ln)
                else:
                    if cur:
                        dumps.append("\n".join(cur))
                    cur = []
            if cur:
                dumps.append("\n".join(cur))
        else:
            dumps = [blk for blk in text.split("\n\n") if blk.strip()]
        for dmp in dumps:
            line("hexcap", name, esc(dmp), import_hexcap(dmp).hex())
finally:
    shutil.rmtree(tmp)
