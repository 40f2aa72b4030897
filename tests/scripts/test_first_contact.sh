#!/usr/bin/env bash
# The scripts a new user runs first (scripts/quickstart.sh, scripts/setup.sh,
# scripts/test.sh), tried in a copy of the tree with a stand-in for
# setup.sh that records how it was called instead of installing.
# usage: test_first_contact.sh SOURCE_DIR
set -u

SRC=${1:?usage: test_first_contact.sh SOURCE_DIR}
SRC=$(cd "$SRC" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sflua-first.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# ---- setup.sh: what running needs, and the test tools apart ---------------
run_pkgs=$(bash "$SRC/scripts/setup.sh" --list 2>&1)
test_pkgs=$(bash "$SRC/scripts/setup.sh" --list --test 2>&1)
extra=""
for p in lua-busted tshark python3-scapy clang tcpflow; do
  grep -qx "$p" <<<"$run_pkgs" && extra+=" $p"
  grep -qx "$p" <<<"$test_pkgs" || extra+=" (missing from --test: $p)"
done
for p in cmake liblua5.4-dev libssl-dev libreadline-dev; do
  grep -qx "$p" <<<"$run_pkgs" || extra+=" (missing from the run set: $p)"
done
if [[ -z $extra ]]; then ok "setup.sh: the run set has no test tools; --test adds them"
else fail "setup.sh package sets:$extra"; fi

# ---- a copy whose setup.sh only records its arguments ------------------------
copy=$tmp/src
mkdir -p "$copy"
for f in "$SRC"/* "$SRC"/.[!.]*; do
  case ${f##*/} in build*|.git) continue ;; esac
  cp -R "$f" "$copy/"
done
cat >"$copy/scripts/setup.sh" <<EOF
echo "setup.sh called with [\$*]" >>"$tmp/setup-calls"
EOF

# the engine does not compile: quickstart.sh must say why (and it fails
# fast, before a whole build)
printf '#error broken on purpose by test_first_contact.sh\n' | cat - "$SRC/core/sf.h" >"$copy/core/sf.h"
out=$(bash "$copy/scripts/quickstart.sh" 2>&1 </dev/null); rc=$?
calls=$(cat "$tmp/setup-calls" 2>/dev/null)
if [[ $calls == "setup.sh called with []" ]]; then ok "quickstart.sh installs only what running needs"
else fail "quickstart.sh called: $(printf %q "$calls")"; fi
if [[ $rc != 0 && $out == *"broken on purpose"* ]]; then ok "quickstart.sh shows the compiler's error when the build fails"
else fail "broken build: rc=$rc, output: $(printf %q "${out: -600}")"; fi

rm -f "$tmp/setup-calls"
SFLUA_CI_STAGES=none bash "$copy/scripts/test.sh" >/dev/null 2>&1 </dev/null
calls=$(cat "$tmp/setup-calls" 2>/dev/null)
if [[ $calls == "setup.sh called with [--test]" ]]; then ok "test.sh installs the test tools"
else fail "test.sh called: $(printf %q "$calls")"; fi

rm -rf "$copy/build"
cp "$SRC/core/sf.h" "$copy/core/sf.h"
# a package CMake does not find: which one is said on CMake's stdout
sed -i 's/pkg_check_modules(LUA REQUIRED lua5.4)/pkg_check_modules(LUA REQUIRED lua5.4-not-installed)/' \
  "$copy/CMakeLists.txt"
out=$(bash "$copy/scripts/quickstart.sh" 2>&1 </dev/null); rc=$?
if [[ $rc != 0 && $out == *"'lua5.4-not-installed'"* ]]; then ok "quickstart.sh shows which package CMake did not find"
else fail "broken configure: rc=$rc, output: $(printf %q "${out: -600}")"; fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
