#!/usr/bin/env bash
# Builds wasmd (a stock Cosmos SDK chain: the throughput anchor of `make bench`
# and the SDK gateway of `make sdk-fixtures`) once into .tools/bin/wasmd
# (git-ignored) from the Go module proxy. Several minutes on 2 cores; never
# part of `make test`.
#   scripts/build-wasmd.sh            # WASMD=/path/to/wasmd to build elsewhere
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WASMD="${WASMD:-$ROOT/.tools/bin/wasmd}"
WASMD_VERSION="${WASMD_VERSION:-v0.70.3}"
STAMP="$WASMD.version"
[ -x "$WASMD" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WASMD_VERSION" ] && exit 0
for c in go jq; do command -v "$c" >/dev/null || { echo "build-wasmd: $c is needed" >&2; exit 1; }; done
echo "building wasmd $WASMD_VERSION into $WASMD (several minutes)"
dir="$(go mod download -json "github.com/CosmWasm/wasmd@$WASMD_VERSION" | jq -r .Dir)"
src="$ROOT/.tools/src/wasmd"
rm -rf "$src" && mkdir -p "$(dirname "$src")" "$(dirname "$WASMD")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
# `go install` refuses wasmd's replace directives; `go build` in its module does not.
(cd "$src" && go build -o "$WASMD" ./cmd/wasmd)
echo "$WASMD_VERSION" > "$STAMP"
