#!/usr/bin/env bash
# The architecture's rules (docs/DESIGN.md section 1), checked over a
# source tree:
#   1. core/ never includes the Lua binding or Lua's headers;
#   2. core/proto/* never reaches core/flow, core/io, core/anon or
#      core/capture (live capture and matching use protocols' facts, not
#      the other way round);
#   3. core/io never reaches core/flow; core/crypto (bytes in, plaintext
#      out) reaches neither core/flow nor core/io, core/anon, core/capture
#      or a protocol file (core/flow/tlsflow.c runs it over streams);
#   4. a protocol file of core/proto/ is named nowhere else: no other code
#      mentions the file or calls into it (its protocols are found through
#      the registry), except tests.
# Usage: check_layering.sh [TREE]     (default: this checkout)
#        check_layering.sh --selftest  (each rule, broken on purpose in a
#                                       copy, must be caught)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

check() {  # tree -> prints violations, returns 1 if any
  local tree=$1 bad=0 f name
  cd "$tree" || return 2
  while IFS= read -r line; do
    echo "rule 1 (core/ includes Lua): $line"; bad=1
  done < <(grep -rnE '#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?(lua|lauxlib|lualib|luaconf|lsf)\.h[">]|#[[:space:]]*include[[:space:]]*"[^"]*lua/' core)
  while IFS= read -r line; do
    echo "rule 2 (core/proto reaches flow, io, anon or capture): $line"; bad=1
  done < <(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*(flow|io|anon|capture)/|#[[:space:]]*include[[:space:]]*"(flow|flowpriv|io|iopriv|anon|anonpriv|cryptopan|capture)\.h"|\bsf_(flows?|reader|writer|anon|cpan|live|match|route|prep|l2|l3|iface|ifaces|bpf|send)_[a-z_]+\(|\bsf_(answers|hashret)\(' core/proto)
  while IFS= read -r line; do
    echo "rule 3 (core/io reaches flow): $line"; bad=1
  done < <(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*flow/|#[[:space:]]*include[[:space:]]*"(flow|flowpriv)\.h"|\bsf_flows?_[a-z_]+\(' core/io)
  while IFS= read -r line; do
    echo "rule 3 (core/crypto reaches flow, io, anon, capture or proto): $line"; bad=1
  done < <(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*(flow|io|anon|capture|proto)/|#[[:space:]]*include[[:space:]]*"(flow|flowpriv|io|iopriv|anon|anonpriv|capture)\.h"|\bsf_flows?_[a-z_]+\(' core/crypto 2>/dev/null)
  for f in core/proto/*.c; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .c)
    # its file name, its registration function, or any function it exports
    local syms pat
    syms=$(grep -oE '^[a-z_][a-z0-9_ *]*[ *](sf_[a-z0-9_]+)\(' "$f" | grep -v '^static' |
           grep -oE 'sf_[a-z0-9_]+\($' | tr -d '(' | sort -u | paste -sd'|')
    pat="proto/${name}\\.[ch]\\b|\\b${name}\\.h\\b|sf_proto_file_${name}\\b"
    [[ -n $syms ]] && pat="$pat|\\b($syms)\\b"
    while IFS= read -r line; do
      echo "rule 4 (core/proto/$name.c named outside it): $line"; bad=1
    done < <(grep -rnE "$pat" --include='*.c' --include='*.h' --include='*.lua' \
               --include='*.sh' --include='*.py' --include='CMakeLists.txt' . |
             grep -vE "^\./(core/proto/|tests/|build[^/]*/|\.git/)")
  done
  while IFS= read -r line; do
    echo "rule 5 (lua/ files call each other in a cycle): $line"; bad=1
  done < <(lua_cycles lua)
  return $bad
}

# The binding's files build on one another in one order (lua/lsf.h): print
# any cycle among them, found from which file defines each lsf_ name and
# which files use it.
lua_cycles() {
  python3 - "$1" <<'PY'
import os, re, sys
d = sys.argv[1]
files = sorted(f for f in os.listdir(d) if f.endswith(".c"))
text = {f: open(os.path.join(d, f)).read() for f in files}
owner = {}
for f, s in text.items():
    for m in re.finditer(r"^(?!static)[A-Za-z_][\w \t*]*?\b(lsf_\w+)\s*(?:\(|=)", s, re.M):
        owner[m.group(1)] = f
uses = {f: {owner[n] for n in set(re.findall(r"\b(lsf_\w+)\b", s))
            if n in owner and owner[n] != f} for f, s in text.items()}
seen, stack = {}, []
def visit(f):
    seen[f] = 1
    stack.append(f)
    for g in sorted(uses[f]):
        if seen.get(g) == 1:
            print(" -> ".join(stack[stack.index(g):] + [g]))
            return True
        if not seen.get(g) and visit(g):
            return True
    stack.pop()
    seen[f] = 2
    return False
for f in files:
    if not seen.get(f) and visit(f):
        break
PY
}

selftest() {  # break each rule in a copy of the tree: the check must fail
  local root tmp rc=0 n=0
  root=$(cd "$here/../.." && pwd)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  breakers=(
    'echo "#include <lua.h>" >> core/packet.c'
    'echo "#include \"../flow/flow.h\"" >> core/proto/tcp.c'
    'echo "#include \"../anon/anon.h\"" >> core/proto/ipv4.c'
    'echo "#include \"../capture/capture.h\"" >> core/proto/icmp.c'
    'echo "int x(void) { return sf_hashret(0); }" >> core/proto/udp.c'
    'echo "#include \"../flow/flowpriv.h\"" >> core/io/reader.c'
    'echo "#include \"../flow/flow.h\"" >> core/crypto/tlsdec.c'
    'echo "void x(void) { sf_proto_file_tcp(); }" >> core/dissect.c'
    'echo "/* see core/proto/udp.c */" >> core/flow/key.c'
    'echo "void lsf_x(lua_State *L) { lsf_open_pcap(L); }" >> lua/lvalue.c'
  )
  for b in "${breakers[@]}"; do
    n=$((n + 1))
    rm -rf "$tmp/t"
    mkdir -p "$tmp/t"
    (cd "$root" && tar cf - core CMakeLists.txt lua stdlib 2>/dev/null) | (cd "$tmp/t" && tar xf -)
    (cd "$tmp/t" && eval "$b")
    if (check "$tmp/t" >/dev/null); then
      echo "selftest: not caught: $b"
      rc=1
    fi
  done
  if (check "$root" >/dev/null); then :; else echo "selftest: the tree itself fails"; rc=1; fi
  echo "selftest: $n violations tried, $([[ $rc == 0 ]] && echo all caught || echo some missed)"
  return $rc
}

if [[ ${1:-} == --selftest ]]; then
  selftest
  exit $?
fi
tree=${1:-$(cd "$here/../.." && pwd)}
if check "$tree"; then
  echo "layering: ok"
else
  exit 1
fi
