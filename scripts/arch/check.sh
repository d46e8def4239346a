#!/usr/bin/env bash
# The architecture's measurable rules (docs/ARCHITECTURE.md §2):
#  - no non-test source file over 600 lines, in any crate;
#  - no function over 80 lines on the consensus path (core, app, modules);
#  - storage tables (Item/Map) declared only in keys.rs/state.rs files;
#  - no import cycle between the modules of any crate (a module with its own
#    submodules is one node; test code is left out: it may use anything).
# Exits non-zero on the first broken rule; prints what broke.
set -uo pipefail
cd "$(dirname "$0")/../.."
here=scripts/arch
fail=0
consensus="core/src app/src $(ls -d modules/*/src)"
others="proto/src cli/src client/src relayer/src sidecar/src sim/src"
for d in $consensus; do
  out=$(python3 $here/fnlen.py "$d" 80)
  if ! grep -q "^problems: 0" <<<"$out"; then
    echo "== $d"; grep -E "over 600|fn .* lines \(>" <<<"$out" -B1 | grep -v "^--"; fail=1
  fi
done
for d in $others; do
  [ -d "$d" ] || continue
  out=$(python3 $here/fnlen.py "$d" 100000)
  if ! grep -q "^problems: 0" <<<"$out"; then
    echo "== $d"; grep -B1 "over 600" <<<"$out" | grep -v "^--"; fail=1
  fi
done
for d in $consensus $others; do
  [ -d "$d" ] || continue
  if ! out=$(python3 $here/usegraph.py --modules "$d"); then
    echo "== $d: import cycle"; tail -2 <<<"$out"; fail=1
  fi
done
# Sealed state: a module's tables are declared only in its keys/state files.
stray=$(grep -rlE '(Item|Map|Deque)::new\("' modules/*/src app/src core/src \
          | grep -vE '(^|/)(keys|state)\.rs$' | grep -vE '(^|/)tests?(\.rs|/)' || true)
if [ -n "$stray" ]; then
  echo "== storage tables declared outside a keys.rs/state.rs file:"; echo "$stray"; fail=1
fi
[ $fail = 0 ] && echo "architecture rules hold: files <= 600 lines, consensus functions <= 80 lines, no import cycles"
exit $fail
