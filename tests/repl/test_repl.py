#!/usr/bin/env python3
"""Drive the sflua REPL through a pseudo-terminal.

usage: test_repl.py path/to/sflua

Checks expression printing, multi-line input, Ctrl-C (in a running chunk
and at the prompt), tab completion, Ctrl-D and the history file. Standard
library only; every wait has a timeout, so it cannot hang.
"""

import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time

TIMEOUT = 10.0  # seconds, for any single wait

# terminal control sequences readline writes (cursor moves, bracketed paste)
ANSI = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>])")


class Failure(Exception):
    pass


class Repl:
    """An sflua process on the slave side of a pty."""

    def __init__(self, exe, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the pty is its controlling terminal
            try:
                os.execve(exe, [exe], env)
            finally:
                os._exit(127)
        self.raw = b""
        self.pos = 0  # where the next 'expect' starts looking
        self.status = None

    def text(self):
        """Output so far, without control sequences, carriage returns and
        bells."""
        cleaned = ANSI.sub(b"", self.raw).replace(b"\r", b"").replace(b"\x07", b"")
        return cleaned.decode("utf-8", "replace")

    def read_some(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        self.raw += data
        return bool(data)

    def expect(self, pattern, what, timeout=TIMEOUT):
        """Wait for 'pattern' (a multiline regex) after the last match."""
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                tail = self.text()[self.pos:][-600:]
                raise Failure(f"timed out waiting for {what} ({pattern!r});"
                              f" output since last match:\n{tail}")
            if not self.read_some(min(left, 0.2)) and self.exited():
                tail = self.text()[self.pos:][-600:]
                raise Failure(f"sflua exited while waiting for {what};"
                              f" output:\n{tail}")

    def send(self, data):
        os.write(self.fd, data.encode())

    def line(self, text):
        self.send(text + "\r")

    def prompt(self):
        self.expect(r"sf> $", "the prompt 'sf> '")

    def statement(self, *lines):
        """One statement over several lines: 'sf>> ' after all but the last."""
        for text in lines[:-1]:
            self.line(text)
            self.expect(r"sf>> $", "the continuation prompt")
        self.line(lines[-1])
        self.prompt()

    def tab(self, typed, rest, pattern, what):
        """Type 'typed', TAB, then 'rest' and Enter; expect 'pattern'."""
        self.send(typed)
        time.sleep(0.2)
        self.send("\t")
        time.sleep(0.2)
        self.line(rest)
        self.expect(pattern, what)
        self.prompt()

    def check_listing(self, typed, wanted, unwanted):
        """Two TABs after 'typed' list every word of 'wanted' and no word
        containing one of 'unwanted'."""
        shown = self.listing(typed)
        for want in wanted:
            if want not in shown:
                raise Failure(f"{typed}<TAB><TAB> lacks {want}: {shown!r}")
        for word in unwanted:
            if any(word in w for w in shown):
                raise Failure(f"{typed}<TAB><TAB> offers {word}: {shown!r}")

    def listing(self, typed):
        """What two TABs after 'typed' list; the line is then discarded."""
        self.send(typed + "\t\t")
        self.expect(re.escape(typed) + r"$", f"the listing for {typed!r}")
        start = self.pos
        self.expect(r"^sf> " + re.escape(typed) + r"$",
                    f"the prompt redrawn after the listing for {typed!r}")
        shown = self.text()[start:self.pos]
        self.send("\x03")
        self.prompt()
        return shown.split()

    def exited(self):
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid != 0:
                self.status = status
        return self.status is not None

    def wait_exit(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                raise Failure("sflua did not exit")
            self.read_some(0.1)
        return os.waitstatus_to_exitcode(self.status)

    def kill(self):
        if not self.exited():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.status = 0
        os.close(self.fd)


def run_recalled(repl, keys, what):
    """Recall a history entry with 'keys', run it, then check that it
    defined g (a 'return' line alone would not)."""
    repl.send(keys)
    time.sleep(0.3)
    repl.send("\r")
    repl.prompt()
    repl.line("print(g())")
    repl.expect(r"^multi$", what)
    repl.prompt()


def tests(repl, histfile):
    """The checks, in order; each yields its name when it has passed."""
    repl.expect(r"^sflua \S+ \(Lua 5\.4", "the banner")
    repl.prompt()
    yield "banner and prompt"

    repl.line("1+1")
    repl.expect(r"^2$", "the value 2")
    repl.prompt()
    yield "bare expression prints its value"

    repl.line('return 1, "a", nil')
    repl.expect(r"^1\ta\tnil$", "tab-separated values")
    repl.prompt()
    yield "all return values printed"

    repl.statement("function f(x)", "return x*2", "end")
    repl.line("f(21)")
    repl.expect(r"^42$", "f(21) == 42")
    repl.prompt()
    yield "multi-line input"

    repl.statement("function g()", "  return 'multi'", "end")
    repl.line("g = nil")
    repl.prompt()
    # Up twice: all of g's definition, if it is one entry
    run_recalled(repl, "\x1b[A\x1b[A", "g() after recalling its definition with Up Up")
    yield "a multi-line entry is one history entry"

    repl.line("x = 5")
    repl.prompt()
    repl.line("x")
    repl.expect(r"^5$", "the value of x")
    repl.prompt()
    yield "statement, then global"

    repl.line("error('oops')")
    repl.expect(r"oops", "the error message")
    repl.prompt()
    yield "error keeps the REPL alive"

    repl.line('print("looping") while true do end')
    repl.expect(r"^looping$", "the loop to start")
    time.sleep(0.2)
    repl.send("\x03")
    repl.expect(r"interrupted!", "'interrupted!'")
    repl.prompt()
    repl.line('print("alive")')
    repl.expect(r"^alive$", "'alive'")
    repl.prompt()
    yield "Ctrl-C interrupts a running chunk"

    repl.send("garbage (")
    time.sleep(0.2)
    repl.send("\x03")
    repl.prompt()
    repl.line('print("fresh")')
    repl.expect(r"^fresh$", "'fresh'")
    repl.prompt()
    yield "Ctrl-C at the prompt discards the line"

    repl.tab("pri", '("tab-ok")',
             r"^tab-ok$", "'tab-ok' (pri<TAB> -> print)")
    yield "tab completes a global"

    repl.line("tbl = {alpha=1}")
    repl.prompt()
    repl.tab("tbl.al", "",
             r"^1$", "the value of tbl.alpha (tbl.al<TAB>)")
    yield "tab completes a table field"

    repl.line("s = 'x'")
    repl.prompt()
    repl.tab("s:up", ")",
             r"^X$", "'X' (s:up<TAB> -> s:upper()")
    yield "tab completes a method, opening its call"

    repl.line("p = Ether() / IP() / TCP{dport=80}")
    repl.prompt()
    repl.tab("p:su", ")",
             r"^Ethernet / IPv4 / TCP$", "the summary (p:su<TAB> -> p:summary()")
    yield "p:su<TAB> completes a packet method as p:summary("

    # (p.sh would be ambiguous: show and show2)
    repl.tab("p.spr", '"%TCP.dport%")',
             r"^http$", "p.spr<TAB> -> p:sprintf(")
    yield "p.spr<TAB> (a method, no such field) becomes p:sprintf("

    repl.tab("p.dp", "",
             r"^80$", "the value of p.dport (p.dp<TAB>)")
    repl.tab("p[TCP].dp", "",
             r"^80$", "the value of p[TCP].dport (p[TCP].dp<TAB>)")
    yield "tab completes packet and layer fields"

    repl.check_listing("p.", ("p.dport", "p.ttl", "p.layer_count", "p.time"),
                       ("show", "summary"))
    repl.check_listing("p:", ("p:show(", "p:summary(", "p:bytes(", "p:has_layer("),
                       ("dport", "layer_count"))
    yield "p. lists fields and properties, p: lists methods as p:name("

    # Scapy's habits at the prompt: a packet list's repr, help(), lsc()
    http = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "http.pcap")
    repl.line(f'pl = rdpcap("{http}")')
    repl.prompt()
    repl.line("pl")
    repl.expect(r"^<http\.pcap: TCP:41 UDP:2 ICMP:0 Other:0>$", "the PacketList repr")
    repl.prompt()
    repl.line("pl:slice(1, 3)")
    repl.expect(r"^<mod http\.pcap: TCP:3 UDP:0 ICMP:0 Other:0>$", "a slice's repr")
    repl.prompt()
    yield "a PacketList prints as Scapy's repr"

    repl.line("help(UDP)")
    repl.expect(r"^UDP .* UDP\{\.\.\.\}, LayerKind\.Udp$", "help(UDP)'s first line")
    repl.expect(r"^dport +: uint16 += 53$", "help(UDP)'s dport line")
    repl.prompt()
    repl.line('help("dport")')
    repl.expect(r"^  TCP\.dport: uint16 = 80$", "help(\"dport\") naming TCP's")
    repl.prompt()
    repl.line("help(fragment)")
    repl.expect(r"^fragment\(pkt \[, size=1480\]\) -> PacketList", "help(fragment) from its comment")
    repl.prompt()
    repl.line("lsc()")
    repl.expect(r"^hexdiff +: hexdiff\(a, b\) -> text", "lsc() listing hexdiff")
    repl.prompt()
    yield "help, lsc in the REPL"

    for weird in ['"abc".', "1.", "((", "a..b.", "t[[", "x[1].", "f().x"]:
        repl.send(weird + "\t\t")
        time.sleep(0.1)
        repl.send("\x03")
        repl.prompt()
    repl.line('print("still-here")')
    repl.expect(r"^still-here$", "'still-here' after odd completions")
    repl.prompt()
    yield "completion survives odd input"

    repl.send("\x04")
    code = repl.wait_exit()
    if code != 0:
        raise Failure(f"Ctrl-D: exit status {code}, expected 0")
    yield "Ctrl-D exits with status 0"

    try:
        with open(histfile, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise Failure(f"history file: {e}")
    if "1+1" not in lines or "x = 5" not in lines:
        raise Failure(f"history file lacks '1+1' or 'x = 5': {lines!r}")
    yield "history file written"


def tests_next_session(repl):
    """A second session, on the first one's history file."""
    repl.prompt()
    # Ctrl-R: search the history back for 'multi'; all of g's definition
    run_recalled(repl, "\x12multi", "g() after Ctrl-R found its definition")
    yield "the history file gives a multi-line entry back whole"
    repl.send("\x04")
    repl.wait_exit()


def main():
    if len(sys.argv) != 2:
        print("usage: test_repl.py path/to/sflua", file=sys.stderr)
        return 2
    exe = os.path.abspath(sys.argv[1])
    if not os.access(exe, os.X_OK):
        print(f"FAIL: {exe} is not an executable", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="sflua-repl-")
    histfile = os.path.join(tmp, "history")
    env = dict(os.environ, HOME=tmp, SFLUA_HISTORY=histfile,
               TERM="xterm", INPUTRC="/dev/null", LC_ALL="C")
    env.pop("LUA_INIT", None)
    env.pop("LUA_INIT_5_4", None)
    passed = failed = 0
    try:
        for session in (lambda r: tests(r, histfile), tests_next_session):
            repl = Repl(exe, env)
            try:
                for name in session(repl):
                    passed += 1
                    print(f"ok   {name}")
            finally:
                repl.kill()
    except Failure as e:
        failed += 1
        print(f"FAIL {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
