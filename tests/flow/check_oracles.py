#!/usr/bin/env python3
"""check_oracles.py SFLUA [--no-tcpflow] CAPTURE...: sflua's conversations
against tshark's conversation tables (packets and bytes per direction:
conv,tcp and conv,udp per stream, conv,ipv6 per address pair) and tcpflow's
reassembled streams (byte for byte).  Exit 0 when all agree; prints each
difference.

Fragmented datagrams: tshark reassembles them and counts each as one frame
of its conversation, the frame that completed it; sflua counts it as one
packet too, with the bytes of all its frames, so here a completing frame
weighs the frame lengths its ip.fragment / ipv6.fragment list names."""
import collections, json, os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def sflua_flows(sflua, cap, tmp):
    out = os.path.join(tmp, "flows.jsonl")
    subprocess.run([sflua, os.path.join(HERE, "dump_flows.lua"), cap, out], check=True)
    with open(out) as f:
        return [json.loads(line) for line in f]


def tshark_fields(cap, fields, filt):
    cmd = ["tshark", "-r", cap, "-n", "-Y", filt, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return [line.split("\t") for line in res.stdout.splitlines()]


def frame_lengths(cap):
    """{frame number: frame.len}, and the frames each reassembled datagram
    took: {completing frame: [frame numbers]}."""
    lens, took = {}, {}
    for num, flen, f4, f6 in tshark_fields(cap, ["frame.number", "frame.len", "ip.fragment",
                                                 "ipv6.fragment"], "frame"):
        lens[int(num)] = int(flen)
        frags = [int(x) for x in (f4 or f6).split(",") if x]
        if frags:
            took[int(num)] = frags
    return lens, took


def weight(num, lens, took):
    """A frame's bytes: its own, or all of its datagram's frames'."""
    return sum(lens[f] for f in took[num]) if num in took else lens[num]


def tshark_streams(cap, proto, lens, took):
    """{stream: {(addr, port): [packets, bytes]}} from frame lengths."""
    # packets quoted inside ICMP errors are not the conversation's
    rows = tshark_fields(cap, ["frame.number", "%s.stream" % proto, "ip.src", "ipv6.src",
                               "%s.srcport" % proto],
                         "%s and not icmp and not icmpv6" % proto)
    streams = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    for num, stream, ip4, ip6, port in rows:
        src = (ip4 or ip6).split(",")[0], int(port.split(",")[0])
        s = streams[int(stream.split(",")[0])][src]
        s[0] += 1
        s[1] += weight(int(num), lens, took)
    return streams


def conv_frames(cap, table):
    """The frame columns of `tshark -q -z conv,<table>`: multiset of
    (sorted endpoints, {endpoint: frames sent})."""
    res = subprocess.run(["tshark", "-r", cap, "-n", "-q", "-z", "conv," + table],
                         check=True, capture_output=True, text=True)
    rows = collections.Counter()
    for line in res.stdout.splitlines():
        m = re.match(r"(\S+)\s+<->\s+(\S+)\s+(\d+)\s.*?\|?\s*", line)
        if not m:
            continue
        a, b = m.group(1), m.group(2)
        nums = re.findall(r"(\d+) (?:bytes|kB|MB|GB)", line)
        frames = re.findall(r"(?:^|\s)(\d+)\s+\d+(?:\s|,)?\s*(?:bytes|kB|MB|GB)", line)
        if len(frames) < 2:
            continue
        # columns: <- frames (b to a), -> frames (a to b)
        rows[tuple(sorted([(a, int(frames[1])), (b, int(frames[0]))]))] += 1
    return rows


def ours_by_stream(flows, proto):
    got = collections.Counter()
    for f in flows:
        if f["protocol"] != proto:
            continue
        a = (f["src_addr"], f["src_port"])
        b = (f["dst_addr"], f["dst_port"])
        got[tuple(sorted([(a, f["forward_packets"], f["forward_bytes"]),
                          (b, f["reverse_packets"], f["reverse_bytes"])]))] += 1
    return got


def theirs_by_stream(streams):
    got = collections.Counter()
    for eps in streams.values():
        items = [(ep, v[0], v[1]) for ep, v in eps.items()]
        if len(items) == 1:  # one-way: the silent side as zeros
            items.append(None)
        got[tuple(sorted(items, key=lambda x: (x is None, x)))] += 1
    return got


def normalise(counter):
    """Put the silent side as (None...) so one-way flows compare."""
    out = collections.Counter()
    for key, n in counter.items():
        live = [x for x in key if x is not None and x[1] > 0]
        out[tuple(sorted(live))] += n
    return out


def compare(name, ours, theirs, norm=True):
    if norm:
        ours, theirs = normalise(ours), normalise(theirs)
    if ours == theirs:
        print("ok   %s: %d conversations agree" % (name, sum(ours.values())))
        return True
    print("FAIL %s: ours %d, theirs %d" % (name, sum(ours.values()), sum(theirs.values())))
    for k in list((ours - theirs).keys())[:5]:
        print("  only ours:  ", k)
    for k in list((theirs - ours).keys())[:5]:
        print("  only theirs:", k)
    return False


def ipv6_pairs(flows):
    got = collections.defaultdict(lambda: [0, 0])
    for f in flows:
        if f["ip_version"] != 6:
            continue
        key = tuple(sorted([f["src_addr"], f["dst_addr"]]))
        got[key][0] += f["total_packets"]
        got[key][1] += f["total_bytes"]
    return collections.Counter({(k, v[0], v[1]): 1 for k, v in got.items()})


def tshark_ipv6_pairs(cap, took):
    """Frames per address pair; a datagram's fragments count as one (the
    frame that completed it), their bytes all."""
    rows = tshark_fields(cap, ["frame.number", "ipv6.src", "ipv6.dst", "frame.len"], "ipv6")
    inside = {f for num, frames in took.items() for f in frames if f != num}
    got = collections.defaultdict(lambda: [0, 0])
    for num, src, dst, flen in rows:
        key = tuple(sorted([src.split(",")[0], dst.split(",")[0]]))
        got[key][0] += int(num) not in inside
        got[key][1] += int(flen)
    return collections.Counter({(k, v[0], v[1]): 1 for k, v in got.items()})


def tcpflow_name(addr, port):
    if ":" in addr:
        return "%s.%05d" % (addr, port)
    return "%s.%05d" % (".".join("%03d" % int(x) for x in addr.split(".")), port)


def check_tcpflow(cap, flows, tmp):
    out = os.path.join(tmp, "tcpflow")
    os.mkdir(out)
    subprocess.run(["tcpflow", "-r", cap, "-o", out, "-Fk"], check=True,
                   capture_output=True)
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            if "-" in n and not n.endswith(".xml"):
                files[n] = os.path.join(root, n)
    bad = quirks = 0
    seen = collections.Counter()
    for f in flows:
        if f["protocol"] != "TCP":
            continue
        a = tcpflow_name(f["src_addr"], f["src_port"])
        b = tcpflow_name(f["dst_addr"], f["dst_port"])
        vlan = "--%d" % f["vlan"][-1] if f.get("vlan") else ""  # innermost tag
        for name, hexdata in (("%s-%s%s" % (a, b, vlan), f.get("reassembled_forward", "")),
                              ("%s-%s%s" % (b, a, vlan), f.get("reassembled_reverse", ""))):
            k = seen[name]
            seen[name] += 1
            data = bytes.fromhex(hexdata or "")
            path = files.get(name if k == 0 else "%sc%d" % (name, k))  # port reuse
            want = open(path, "rb").read() if path else b""
            if data == want:
                continue
            # tcpflow 1.6 writes the Ethernet padding of a short FIN segment
            # (frame.len 60, ip.len 40) as stream bytes: NULs past our end
            if want.startswith(data) and len(want) - len(data) < 60 and \
                    not want[len(data):].strip(b"\0"):
                quirks += 1
                continue
            bad += 1
            if bad <= 5:
                print("  stream %s: ours %d bytes, tcpflow %d" % (name, len(data), len(want)))
    if quirks:
        print("note tcpflow: %d streams carry Ethernet padding as trailing NULs" % quirks)
    if bad:
        print("FAIL tcpflow: %d streams differ" % bad)
        return False
    print("ok   tcpflow: %d streams byte-identical" % sum(seen.values()))
    return True


def main():
    sflua, caps = sys.argv[1], sys.argv[2:]
    tcpflow = "--no-tcpflow" not in caps
    caps = [c for c in caps if c != "--no-tcpflow"]
    ok = True
    for cap in caps:
        print("==", cap)
        tmp = tempfile.mkdtemp(prefix="sflua-flow-")
        try:
            flows = sflua_flows(sflua, cap, tmp)
            lens, took = frame_lengths(cap)
            for proto in ("tcp", "udp"):
                ok &= compare("conv,%s per stream" % proto, ours_by_stream(flows, proto.upper()),
                              theirs_by_stream(tshark_streams(cap, proto, lens, took)))
            ok &= compare("conv,ipv6", ipv6_pairs(flows), tshark_ipv6_pairs(cap, took), False)
            if tcpflow and shutil.which("tcpflow"):
                ok &= check_tcpflow(cap, flows, tmp)
        finally:
            shutil.rmtree(tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
