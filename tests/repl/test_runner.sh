#!/usr/bin/env bash
# Non-interactive modes of sflua: -e, scripts and 'arg', stdin, errors, -v.
# usage: test_runner.sh path/to/sflua
set -u

SFLUA=${1:?usage: test_runner.sh path/to/sflua}
if [[ ! -x $SFLUA ]]; then
  echo "FAIL: '$SFLUA' is not an executable" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sflua-runner.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset LUA_INIT LUA_INIT_5_4

passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# expect NAME EXPECTED ACTUAL
expect() {
  if [[ $3 == "$2" ]]; then ok "$1"
  else fail "$1: expected $(printf %q "$2"), got $(printf %q "$3")"; fi
}

# run CMD...: sets $out, $err, $rc; stdin is empty unless redirected
run() {
  out=$(timeout 10 "$@" 2>"$tmp/stderr" </dev/null); rc=$?
  err=$(<"$tmp/stderr")
}

run "$SFLUA" -e 'print(1+1)'
expect "-e prints" "2" "$out"

run "$SFLUA" -e 'a = 20' -e 'print(a + 1)'
expect "-e repeated" "21" "$out"

cat >"$tmp/args.lua" <<'EOF'
print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)
EOF
run "$SFLUA" "$tmp/args.lua" one two
expect "script sees arg and ..." "$tmp/args.lua	one	two	2	2	one	two" "$out"

cat >"$tmp/neg.lua" <<'EOF'
print(arg[-3], arg[-2], arg[-1], arg[0], arg[1], #arg)
EOF
run "$SFLUA" -e 'x = 1' "$tmp/neg.lua" z
expect "negative arg indices" "$SFLUA	-e	x = 1	$tmp/neg.lua	z	1" "$out"

out=$(echo 'print(7)' | timeout 10 "$SFLUA" -); rc=$?
expect "'-' runs stdin" "7" "$out"

out=$(echo 'print(8, arg[0] ~= nil)' | timeout 10 "$SFLUA"); rc=$?
expect "no args + pipe runs stdin" "8	true" "$out"

out=$(printf 'print(9)\n' | timeout 10 "$SFLUA" -i "$tmp/args.lua" 2>&1); rc=$?
if [[ $rc == 0 && $out == *9* ]]; then ok "-i runs the REPL after the script"
else fail "-i: rc=$rc out=$(printf %q "$out")"; fi

cat >"$tmp/boom.lua" <<'EOF'
local function inner() error("boom-123") end
inner()
EOF
run "$SFLUA" "$tmp/boom.lua"
expect "runtime error exits 1" "1" "$rc"
if [[ $err == *boom-123* && $err == *"stack traceback"* ]]; then ok "error message and traceback on stderr"
else fail "stderr lacks message/traceback: $(printf %q "$err")"; fi
expect "nothing on stdout after error" "" "$out"

# errors the stdlib raises name the script's line, not sflua's files
cat >"$tmp/where.lua" <<'EOF'
local path = "/no/such/capture.pcap"
local convs = extract_flows(path)
EOF
run "$SFLUA" "$tmp/where.lua"
first=${err%%$'\n'*}
expect "a stdlib error names the script's line" \
  "$SFLUA: $tmp/where.lua:2: /no/such/capture.pcap: No such file or directory" "$first"
printf 'local p = IP() / TCP()\np[TCP].options = {{"NOP"}, {"Bogus", 1}}\n' >"$tmp/where2.lua"
run "$SFLUA" "$tmp/where2.lua"
first=${err%%$'\n'*}
if [[ $first == "$SFLUA: $tmp/where2.lua:2: TCP.options: unknown TCP option 'Bogus'"* ]]; then ok "an option codec's error names the script's line, the layer and the field"
else fail "codec error: $(printf %q "$first")"; fi

printf 'x = = 1\n' >"$tmp/syntax.lua"
run "$SFLUA" "$tmp/syntax.lua"
expect "syntax error exits 1" "1" "$rc"

run "$SFLUA" "$tmp/does-not-exist.lua"
expect "missing script exits 1" "1" "$rc"

run "$SFLUA" -e 'error({})'
if [[ $rc == 1 && $err == *"error object is a table value"* ]]; then ok "non-string error object"
else fail "error({}): rc=$rc err=$(printf %q "$err")"; fi

run "$SFLUA" -e 'os.exit(3)'
expect "os.exit status" "3" "$rc"

run "$SFLUA" -v
if [[ $rc == 0 && $out =~ ^sflua\ [^\ ]+\ \(Lua\ 5\.4\.[0-9]+\)$ ]]; then ok "-v prints the version"
else fail "-v: rc=$rc out=$(printf %q "$out")"; fi

run "$SFLUA" -h
if [[ $rc == 0 && $out == *usage:* ]]; then ok "-h prints usage"
else fail "-h: rc=$rc out=$(printf %q "$out")"; fi

run "$SFLUA" -Z
if [[ $rc == 1 && $err == *"unrecognized option '-Z'"* ]]; then ok "bad option exits 1"
else fail "-Z: rc=$rc err=$(printf %q "$err")"; fi

run "$SFLUA" -e
if [[ $rc == 1 && $err == *"needs argument"* ]]; then ok "-e without code exits 1"
else fail "-e: rc=$rc err=$(printf %q "$err")"; fi

run "$SFLUA" -e 'print(type(stackforge), type(print), type(type), type(string))'
expect "stackforge global, standard globals kept" "table	function	function	table" "$out"

run "$SFLUA" -e '
  for k, v in pairs(stackforge) do
    if type(k) == "string" and rawget(_G, k) == nil then error("not a global: " .. k) end
  end
  assert(package.searchpath("stackforge", package.path), "stdlib not on package.path")
  assert(package.loaded["stackforge.core"], "stackforge.core not loaded")
  print("ok")'
expect "public names are globals" "ok" "$out"

run "$SFLUA" -l sf=stackforge -e 'print(sf == stackforge)'
expect "-l g=mod" "true" "$out"

SFLUA_STDLIB="$tmp/none" run "$SFLUA" -e 'print("fallback")'
expect "missing \$SFLUA_STDLIB falls back" "fallback" "$out"

mkdir -p "$tmp/badlib/stackforge"
echo 'error("broken stdlib")' >"$tmp/badlib/stackforge/init.lua"
SFLUA_STDLIB="$tmp/badlib" run "$SFLUA" -e 'print("unreachable")'
if [[ $rc == 1 && $err == *"broken stdlib"* && -z $out ]]; then ok "failing require exits 1"
else fail "broken stdlib: rc=$rc out=$(printf %q "$out") err=$(printf %q "$err")"; fi

# no 'timeout' here: it would forward the signal twice (to the process
# and to its group); a watchdog kills sflua if SIGINT does not stop it
"$SFLUA" -e 'io.stderr:write("looping\n") while true do end' 2>"$tmp/stderr" & pid=$!
for _ in $(seq 100); do  # until the loop runs (at most 10 s)
  grep -q looping "$tmp/stderr" 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
for _ in $(seq 100); do  # until it exits (at most 10 s)
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
wait "$pid"; rc=$?
err=$(<"$tmp/stderr")
if [[ $rc == 1 && $err == *"interrupted!"* ]]; then ok "SIGINT interrupts a script"
else fail "SIGINT: rc=$rc err=$(printf %q "$err")"; fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
