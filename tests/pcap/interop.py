#!/usr/bin/env python3
"""Interop checks of sflua's capture readers and writers, with Wireshark's
tools as the oracles (issue 3, item 5).

    interop.py SFLUA DATADIR CONFORMANCE_DIR [captures] [conformance]

1. read: every capture tshark opens, sflua reads with the same packets
   (MD5 of the bytes), times (ns), captured and wire lengths, link types,
   comments -- including the pcapng conformance suite (le/ and be/).
2. editcap -F pcapng / -F nsecpcap and mergecap (two link types) outputs
   are read the same way.
3. write: files sflua writes (pcap us/ns, pcapng us/ns) open in capinfos
   without a warning, and tshark sees in them what it saw in the source.
4. fields: a mixed capture (TCP, UDP, ICMP, IPv6, VLAN) built and written
   by sflua has the field values tshark reports, on every packet.
5. damage: a capture cut short delivers tshark's good packets, then an
   error naming the file and a byte offset.
6. issue 10: files written over themselves keep tshark's packets; packets
   without Ethernet are written with the link type tshark dissects them
   by (one pcapng interface per link type); appended pcap and pcapng files
   read back in full in tshark and capinfos; a gzip file whose only damage
   is its CRC gives tshark's packets, then an error about the trailer.
"conformance" runs the reads of the conformance suite, "captures" the rest
(both by default; ctest runs them as two tests, pcap_interop and
pcap_interop_conformance).  Reads cover every capture and every conformance
test (in le/ or be/, both folders each run); editcap and write checks cover
every output format, write variant and kind of source at least once, the
rest of the combinations in a rotating sample (tests/sampling.py:
SFLUA_TEST_SEED, SFLUA_TEST_EXHAUSTIVE).  tshark and sflua read each file
(each content) once.
Exit status 77 (skipped) without tshark.
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import sampling  # noqa: E402

SFLUA, DATA, CONF = sys.argv[1], sys.argv[2], sys.argv[3]
PARTS = sys.argv[4:] or ["captures", "conformance"]
HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = []
ROOT_WARNING = 'Running as user "root"'

# first dissector tshark names -> link types it may come from
FIRST_PROTO = {"eth": {1}, "null": {0, 108}, "sll": {113, 276}, "raw": {101, 228, 229},
               "ipv6": {229, 101}, "ip": {228, 101}, "radiotap": {127}, "wlan": {105},
               "wpan": {195, 230}}


def fail(what):
    FAILS.append(what)
    print("FAIL", what)


def clean_stderr(s):
    return "\n".join(l for l in s.splitlines() if l.strip() and ROOT_WARNING not in l)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def content(path):
    """What a reading depends on: the path and the bytes there now (files
    are written over in place)."""
    with open(path, "rb") as fh:
        return path, hashlib.sha256(fh.read()).digest()


TSHARK_ROWS = {}  # content(path) -> tshark_rows(path)


def tshark_rows(path):
    """tshark's packets: [md5, time, caplen, len, protocols, comment]."""
    key = content(path) if os.path.exists(path) else None
    if key is None or key not in TSHARK_ROWS:
        rows = read_tshark_rows(path)
        if key is None:
            return rows
        TSHARK_ROWS[key] = rows
    return TSHARK_ROWS[key]


def read_tshark_rows(path):
    r = run(["tshark", "-n", "-r", path, "-o", "frame.generate_md5_hash:TRUE",
             "-T", "fields", "-E", "separator=/t", "-e", "frame.md5_hash",
             "-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len",
             "-e", "frame.interface_id", "-e", "frame.protocols", "-e", "frame.comment"])
    rows = []
    for line in r.stdout.splitlines():
        c = line.split("\t")
        c += [""] * (7 - len(c))
        # pcapng custom and decryption-secrets blocks show up as records
        # without an interface; they are not packets
        if path.endswith(".pcapng") and c[4] == "" and c[5] == "data":
            continue
        rows.append(c)
    return rows, clean_stderr(r.stderr)


SFLUA_ROWS = {}  # (content(path), strict) -> read_sflua_rows(path, strict)


def sflua_rows(path, strict=False, warnings=None):
    """sflua's packets (dump.lua) and its error if it stopped; the warnings
    it counted go to the list WARNINGS."""
    key = (content(path), strict) if os.path.exists(path) else None
    if key is None or key not in SFLUA_ROWS:
        got = read_sflua_rows(path, strict)
        if key is None:
            return sflua_rows_with(got, warnings)
        SFLUA_ROWS[key] = got
    return sflua_rows_with(SFLUA_ROWS[key], warnings)


def sflua_rows_with(got, warnings):
    rows, err, warned = got
    if warnings is not None:
        warnings.extend(warned)
    return rows, err


def read_sflua_rows(path, strict):
    r = run([SFLUA, os.path.join(HERE, "dump.lua"), path] + (["strict"] if strict else []))
    rows, err, warned = [], None, []
    for line in r.stdout.splitlines():
        c = line.split("\t")
        if c[0] == "ERROR":
            err = c[1]
            continue
        if c[0] == "WARNINGS":
            warned.append("%s warning(s), the first: %s" % (c[1], c[2]))
            continue
        t = int(c[0])
        rows.append({"time": "%d.%09d" % (t // 10**9, t % 10**9), "caplen": c[1],
                     "len": c[2], "iface": c[3], "linktype": int(c[4]),
                     "md5": hashlib.md5(bytes.fromhex(c[5])).hexdigest(),
                     "comment": c[6] if len(c) > 6 else ""})
    if r.returncode != 0:
        err = err or clean_stderr(r.stderr) or "exit %d" % r.returncode
    return rows, err, warned


def same_time(ts, ours, precision_ns=1):
    if ts == "":
        return ours == "0.000000000"  # simple packet blocks carry no time
    sec, _, frac = ts.partition(".")
    want = int(sec) * 10**9 + int((frac + "000000000")[:9])
    osec, _, ofrac = ours.partition(".")
    got = int(osec) * 10**9 + int(ofrac)
    return want // precision_ns == got // precision_ns


def compare(path, label=None, precision_ns=1, expect_error=False):
    """sflua reads path as tshark does."""
    label = label or path
    want, terr = tshark_rows(path)
    warned = []
    got, err = sflua_rows(path, warnings=warned)
    if warned:  # what tshark reads without a word (caplen > snaplen): counted
        print("ok  %s: %s" % (label, warned[0]))
    # a capture cut short as it came to us (Scapy's test suite has one):
    # both deliver the good packets, both say so
    cut_as_shipped = err and "truncated" in err and "cut short" in (terr or "")
    if cut_as_shipped:
        print("ok  %s: cut short, as tshark says too: %s" % (label, err))
    if err and not expect_error and not cut_as_shipped:
        return fail("%s: sflua error: %s" % (label, err))
    if len(got) != len(want):
        return fail("%s: %d packets, tshark has %d" % (label, len(got), len(want)))
    for i, (w, g) in enumerate(zip(want, got), 1):
        md5, ts, caplen, wlen, _, protos, comment = w[:7]
        first = protos.split(":")[0]
        problems = []
        if md5 != g["md5"]:
            problems.append("bytes differ")
        if not same_time(ts, g["time"], precision_ns):
            problems.append("time %s != tshark %s" % (g["time"], ts))
        if caplen != g["caplen"] or wlen != g["len"]:
            problems.append("lengths %s/%s != tshark %s/%s" % (g["caplen"], g["len"], caplen, wlen))
        if first in FIRST_PROTO and g["linktype"] not in FIRST_PROTO[first]:
            problems.append("link type %d but tshark dissects %s" % (g["linktype"], first))
        if comment.split(",")[0] != g["comment"] and "," not in g["comment"]:
            problems.append("comment %r != tshark %r" % (g["comment"], comment))
        if problems:
            return fail("%s packet %d: %s" % (label, i, "; ".join(problems)))
    print("ok  read %s (%d packets)" % (label, len(got)))
    return got


def captures():
    files = sorted(glob.glob(os.path.join(DATA, "*.pcap")) +
                   glob.glob(os.path.join(DATA, "*.pcapng")) +
                   glob.glob(os.path.join(DATA, "*.pcap.gz")) +
                   glob.glob(os.path.join(DATA, "*.pcapng.gz")))
    return [f for f in files if "damaged" not in f]


def whole_captures():
    """The captures that read to their end: the sources of conversions
    and writes (one of Scapy's test captures comes cut short; its read is
    checked, as tshark's, by check_reads)."""
    return [f for f in captures() if sflua_rows(f)[1] is None]


def conformance():
    return sorted(glob.glob(os.path.join(CONF, "*", "*", "*.pcapng")))


def check_reads(files):
    for f in files:
        compare(f, os.path.relpath(f, os.path.dirname(DATA)))


def check_conformance():
    check_reads(sampling.cover("conformance", conformance(), os.path.basename,
                               os.path.dirname))


def container(path):
    """pcap, pcapng, pcap.gz or pcapng.gz."""
    return next(ext for ext in ("pcapng.gz", "pcap.gz", "pcapng", "pcap")
                if path.endswith("." + ext))


def link_types(path):
    return {r["linktype"] for r in sflua_rows(path)[0]}


def check_editcap(tmp):
    cases = [(fmt, f) for f in whole_captures() for fmt in ("pcapng", "nsecpcap")
             # pcap holds one link type: editcap refuses, rightly
             if fmt == "pcapng" or len(link_types(f)) <= 1]
    for fmt, f in sampling.cover("editcap", cases, lambda c: c[0],
                                 lambda c: container(c[1])):
        base = os.path.basename(f)
        out = os.path.join(tmp, "%s.%s" % (base, fmt))
        r = run(["editcap", "-F", fmt, f, out])
        if r.returncode != 0:
            fail("editcap -F %s %s: %s" % (fmt, base, clean_stderr(r.stderr)))
            continue
        compare(out, "editcap -F %s %s" % (fmt, base))
    merged = os.path.join(tmp, "merged.pcapng")
    srcs = [os.path.join(DATA, n) for n in ("http.pcap", "LINKTYPE_IPV6.pcap", "quic_handshake.pcap")]
    r = run(["mergecap", "-w", merged] + srcs)
    if r.returncode != 0:
        return fail("mergecap: %s" % clean_stderr(r.stderr))
    got = compare(merged, "mergecap http+LINKTYPE_IPV6+quic_handshake")
    if got and len({g["linktype"] for g in got}) != 3:
        fail("mergecap: expected three link types, got %s" % {g["linktype"] for g in got})


def sflua_convert(src, dst, opts):
    code = ("local sf = require('stackforge'); "
            "sf.wrpcap(arg[2], sf.PcapReader(arg[1]), %s)" % opts)
    script = os.path.join(os.path.dirname(dst), "convert.lua")
    with open(script, "w") as fh:
        fh.write(code)
    return run([SFLUA, script, src, dst])


WRITE_VARIANTS = [("pcap", "{nanosecond=false}", 1000), ("pcap", "{nanosecond=true}", 1),
                  ("pcapng", "{nanosecond=true}", 1), ("pcapng", "{nanosecond=false}", 1000)]


def write_sources(tmp):
    """{source: (link types, has a time past 2106, kind)} of the files
    written back."""
    sources = [f for f in whole_captures() if not f.endswith(".gz")]
    sources += [os.path.join(tmp, "merged.pcapng")]
    sources += [c for c in conformance() if os.path.basename(c) in
                ("test202.pcapng", "test009.pcapng", "test006.pcapng")]
    info = {}
    for src in sources:
        if os.path.exists(src):
            got_src, _ = sflua_rows(src)
            lts = {g["linktype"] for g in got_src}
            info[src] = (lts, any(int(g["time"].split(".")[0]) >= 2**32 for g in got_src),
                         source_kind(src, got_src, lts))
    return info


def source_kind(path, rows, lts):
    """What a source brings to a write: each conformance test is its own
    kind; other files by format, time resolution, link types, and whether
    packets are cut short or there are none."""
    if path.startswith(CONF):
        return os.path.basename(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    resolution = "ns" if magic in (b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1") else "us"
    cut = any(int(g["caplen"]) < int(g["len"]) for g in rows)
    return (container(path), resolution, tuple(sorted(lts)), cut, len(rows) == 0)


def write_kind(info, case):
    """What a write case exercises beyond its format: a time past 2106
    (refused by pcap), several link types (pcapng only), or neither."""
    lts, late, _ = info[case[0]]
    return (WRITE_VARIANTS[case[1]][0], "late" if late else "multi" if len(lts) > 1 else "plain")


def check_writes(tmp):
    info = write_sources(tmp)
    cases = [(src, i) for src in info for i, (ext, _, _) in enumerate(WRITE_VARIANTS)
             if ext == "pcapng" or len(info[src][0]) <= 1]  # one link type per pcap file
    for src, i in sampling.cover("writes", cases, lambda c: info[c[0]][2], lambda c: c[1],
                                 lambda c: write_kind(info, c)):
        check_write(tmp, src, i, info[src][1])


def check_write(tmp, src, i, late):
    """sflua rewrites src in WRITE_VARIANTS[i]; capinfos and tshark agree."""
    ext, opts, prec = WRITE_VARIANTS[i]
    want, _ = tshark_rows(src)
    out = os.path.join(tmp, "w%d_%s.%s" % (i, os.path.basename(src), ext))
    label = "write %s %s -> %s" % (ext, opts, os.path.basename(src))
    r = sflua_convert(src, out, opts)
    if ext == "pcap" and late:  # past 2106: pcap cannot hold it
        if r.returncode == 0 or "does not fit" not in r.stderr:
            fail("%s: no error for a time past 2106" % label)
        else:
            print("ok  %s: refused, time past 2106" % label)
        return
    if r.returncode != 0:
        return fail("%s: %s" % (label, clean_stderr(r.stderr)))
    ci = run(["capinfos", out])
    if ci.returncode != 0 or clean_stderr(ci.stderr):
        return fail("%s: capinfos: %s" % (label, clean_stderr(ci.stderr) or ci.returncode))
    got, err = tshark_rows(out)
    if err:
        return fail("%s: tshark: %s" % (label, err))
    if len(got) != len(want):
        return fail("%s: tshark sees %d packets, source has %d" % (label, len(got), len(want)))
    bad = [n for n, (w, g) in enumerate(zip(want, got), 1)
           if w[0] != g[0] or w[2:4] != g[2:4] or
           not same_time(w[1] or "0.000000000", (g[1] + ".")[:g[1].find(".") + 10]
                         if g[1] else "0.000000000", prec) or
           (ext == "pcapng" and w[6] != g[6])]
    if bad:
        n = bad[0]
        fail("%s: packet %d differs: %s vs %s" % (label, n, want[n - 1], got[n - 1]))
    else:
        print("ok  %s (%d packets)" % (label, len(got)))


def check_fields(tmp):
    cap = os.path.join(tmp, "mixed.pcap")
    r = run([SFLUA, os.path.join(HERE, "gen_mixed.lua"), cap])
    if r.returncode != 0:
        return fail("gen_mixed.lua: %s" % clean_stderr(r.stderr))
    fields = ["frame.len", "frame.time_epoch", "eth.src", "ip.src", "ip.dst", "ipv6.src",
              "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.flags", "udp.length"]
    args = ["tshark", "-n", "-r", cap, "-T", "fields", "-E", "separator=/t",
            "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    want = run(args).stdout.splitlines()
    got = run([SFLUA, os.path.join(HERE, "fields.lua"), cap]).stdout.splitlines()
    if len(want) != len(got) or len(got) < 50:
        return fail("fields: %d packets vs tshark %d" % (len(got), len(want)))
    for i, (w, g) in enumerate(zip(want, got), 1):
        if w.split("\t") != g.split("\t"):
            diff = [(f, a, b) for f, a, b in zip(fields, w.split("\t"), g.split("\t")) if a != b]
            return fail("fields: packet %d: %s" % (i, diff))
    print("ok  fields of %d mixed packets equal tshark's" % len(got))


def check_damage(tmp):
    src = os.path.join(DATA, "http.pcap")
    data = open(src, "rb").read()
    for cut in (len(data) - 7, len(data) - 200, 24 + 10):
        out = os.path.join(tmp, "cut%d.pcap" % cut)
        open(out, "wb").write(data[:cut])
        want, _ = tshark_rows(out)
        got, err = sflua_rows(out)
        label = "damage: http.pcap cut at %d" % cut
        if not err or "byte offset" not in err or out not in err:
            fail("%s: error %r lacks the file and offset" % (label, err))
        elif [g["md5"] for g in got] != [w[0] for w in want]:
            fail("%s: %d good packets, tshark has %d" % (label, len(got), len(want)))
        else:
            print("ok  %s: %d good packets, then %s" % (label, len(got), err))


def sflua_script(tmp, name, code, *args):
    script = os.path.join(tmp, name)
    with open(script, "w") as fh:
        fh.write("local sf = require('stackforge')\n" + code)
    return run([SFLUA, script] + list(args))


def md5s(rows):
    return [r[0] for r in rows]


def check_over_self(tmp):
    for ext in ("pcap", "pcapng"):
        path = os.path.join(tmp, "self." + ext)
        shutil.copy(os.path.join(DATA, "http.pcap"), path) if ext == "pcap" else \
            run(["editcap", "-F", "pcapng", os.path.join(DATA, "http.pcap"), path])
        want, _ = tshark_rows(path)
        r = sflua_script(tmp, "self.lua", "sf.wrpcap(arg[1], sf.rdpcap(arg[1]))\n"
                         "sf.wrpcap(arg[1], sf.PcapReader(arg[1]))\n", path)
        got, err = tshark_rows(path)
        label = "write over itself (%s)" % ext
        if r.returncode != 0 or err:
            fail("%s: %s %s" % (label, clean_stderr(r.stderr), err))
        elif md5s(got) != md5s(want) or len(got) != 43:
            fail("%s: tshark sees %d packets, had %d" % (label, len(got), len(want)))
        else:
            print("ok  %s: tshark sees the same %d packets" % (label, len(got)))


LINKTYPE_CASES = """
local pkts = {sf.IP{dst='192.0.2.1'} / sf.UDP{dport=53} / 'x', sf.Ether() / sf.IP() / sf.TCP(),
  sf.IPv6() / sf.UDP{dport=123}, sf.CookedLinux() / sf.IP() / sf.UDP(),
  sf.CookedLinuxV2() / sf.IPv6() / sf.TCP(), sf.Loopback() / sf.IP() / sf.ICMP(),
  sf.LoopbackBE() / sf.IPv6() / sf.UDP()}
sf.wrpcap(arg[1] .. '/lt.pcapng', pkts)
sf.wrpcap(arg[1] .. '/raw4.pcap', {pkts[1], sf.IP() / sf.TCP()})
sf.wrpcap(arg[1] .. '/raw6.pcap', {pkts[3]})
sf.wrpcap(arg[1] .. '/ipv4.pcap', {pkts[1]}, {linktype = 228})
"""
LINKTYPE_WANT = {"lt.pcapng": ["raw", "eth", "raw", "sll", "sll", "null", "null"],
                 "raw4.pcap": ["raw", "raw"], "raw6.pcap": ["raw"], "ipv4.pcap": ["ip"]}


def check_linktypes(tmp):
    r = sflua_script(tmp, "lt.lua", LINKTYPE_CASES, tmp)
    if r.returncode != 0:
        return fail("link types: %s" % clean_stderr(r.stderr))
    for name, want in sorted(LINKTYPE_WANT.items()):
        path = os.path.join(tmp, name)
        rows, err = tshark_rows(path)
        first = [row[5].split(":")[0] for row in rows]
        ci = run(["capinfos", path])
        if err or ci.returncode != 0 or clean_stderr(ci.stderr):
            fail("link types %s: %s %s" % (name, err, clean_stderr(ci.stderr)))
        elif first != want or any("malformed" in row[5] for row in rows):
            fail("link types %s: tshark dissects %s, want %s" % (name, first, want))
        elif name.endswith(".pcapng") and "Number of interfaces in file: 6" not in ci.stdout:
            fail("link types %s: not one interface per link type: %s" % (name, ci.stdout))
        else:
            print("ok  link types %s: tshark dissects %s" % (name, " ".join(first)))


APPEND = """
sf.wrpcap(arg[2], sf.rdpcap(arg[1]))
sf.wrpcap(arg[2], sf.PcapReader(arg[1]), {append = true})
sf.wrpcap(arg[2], sf.rdpcap(arg[3]), {append = true})
"""


def check_append(tmp):
    src, other = os.path.join(DATA, "http.pcap"), os.path.join(DATA, "LINKTYPE_IPV6.pcap")
    want, _ = tshark_rows(src)
    more, _ = tshark_rows(other)
    for ext in ("pcap", "pcapng"):
        out = os.path.join(tmp, "appended." + ext)
        r = sflua_script(tmp, "append.lua", APPEND, src, out, other)
        label = "append (%s)" % ext
        if ext == "pcap":  # a second link type: refused, the file as it was
            if "link type 229 but the file's is 1" not in r.stderr:
                fail("%s: no error for a second link type: %s" % (label, r.stderr))
            expect = md5s(want) * 2
        else:
            if r.returncode != 0:
                fail("%s: %s" % (label, clean_stderr(r.stderr)))
            expect = md5s(want) * 2 + md5s(more)
        got, err = tshark_rows(out)
        ci = run(["capinfos", out])
        if err or clean_stderr(ci.stderr):
            fail("%s: %s %s" % (label, err, clean_stderr(ci.stderr)))
        elif md5s(got) != expect:
            fail("%s: tshark reads %d packets, want %d" % (label, len(got), len(expect)))
        else:
            print("ok  %s: tshark and capinfos read all %d packets" % (label, len(got)))


def check_gzip_crc(tmp):
    import gzip
    data = open(os.path.join(DATA, "http.pcap"), "rb").read()
    z = bytearray(gzip.compress(data, mtime=0))
    z[-8] ^= 1
    path = os.path.join(tmp, "badcrc.pcap.gz")
    open(path, "wb").write(bytes(z))
    want, _ = tshark_rows(path)
    got, err = sflua_rows(path)
    if [g["md5"] for g in got] != md5s(want) or len(got) != 43:
        fail("gzip bad CRC: %d packets, tshark %d" % (len(got), len(want)))
    elif not err or "CRC-32" not in err or "uncompressed byte offset" not in err:
        fail("gzip bad CRC: error %r" % err)
    else:
        print("ok  gzip bad CRC: tshark's %d packets, then %s" % (len(got), err))


def main():
    if not shutil.which("tshark"):
        print("tshark not installed: skipped")
        return 77
    sampling.announce("pcap interop (%s)" % " and ".join(PARTS))
    tmp = tempfile.mkdtemp(prefix="sflua-pcap-")
    try:
        if "captures" in PARTS:
            check_reads(captures())
            check_editcap(tmp)
            check_writes(tmp)
            check_fields(tmp)
            check_damage(tmp)
            check_over_self(tmp)
            check_linktypes(tmp)
            check_append(tmp)
            check_gzip_crc(tmp)
        if "conformance" in PARTS:
            check_conformance()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
