#!/usr/bin/env bash
# Records what a real Cosmos SDK chain's REST (LCD) gateway answers, so that
# app/tests/rest_sdk_shape.rs can compare the shape of Verdict's REST JSON with
# it, field by field. The chain is wasmd (a stock Cosmos SDK chain), built once
# into .tools/bin/wasmd (git-ignored) from the Go module proxy.
#
# It starts a throwaway single-validator wasmd chain on ports of its own
# (RPC 23657, P2P 23656, ABCI 23658, gRPC 23090, REST 23317: never those of
# Verdict's local nets), has a genesis account "alice" send to "bob" and
# delegate to the validator, waits a few blocks so rewards accrue, saves the
# gateway's JSON of the paths Verdict serves into
# app/tests/fixtures/sdk_gateway/<name>.json (arrays trimmed to their first two
# elements, pretty-printed), then stops the chain and deletes its home.
#
#   scripts/sdk-gateway-fixtures.sh            # WASMD=/path/to/wasmd to use another build
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASMD_VERSION="v0.70.3"
WASMD="${WASMD:-$ROOT/.tools/bin/wasmd}"
OUT="$ROOT/app/tests/fixtures/sdk_gateway"
CHAIN_ID="sdk-shape"
RPC_PORT=23657 P2P_PORT=23656 ABCI_PORT=23658 GRPC_PORT=23090 API_PORT=23317
API="http://127.0.0.1:$API_PORT"
NODE="tcp://127.0.0.1:$RPC_PORT"

need() { command -v "$1" >/dev/null 2>&1 || { echo "sdk-gateway-fixtures: '$1' is required" >&2; exit 1; }; }
need jq
need curl

# --- wasmd, built once -----------------------------------------------------------
WASMD="$WASMD" WASMD_VERSION="$WASMD_VERSION" "$ROOT/scripts/build-wasmd.sh"

for port in $RPC_PORT $P2P_PORT $ABCI_PORT $GRPC_PORT $API_PORT; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "sdk-gateway-fixtures: port $port is in use" >&2
        exit 1
    fi
done

HOME_DIR="$(mktemp -d -t sdk-shape.XXXXXX)"
PID=""
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$HOME_DIR"
}
trap cleanup EXIT

w() { "$WASMD" --home "$HOME_DIR" "$@"; }
K=(--keyring-backend test)

# --- genesis ---------------------------------------------------------------------
w init shape --chain-id "$CHAIN_ID" >/dev/null 2>&1
w keys add val "${K[@]}" >/dev/null 2>&1
w keys add alice "${K[@]}" >/dev/null 2>&1
w keys add bob "${K[@]}" >/dev/null 2>&1
ALICE="$(w keys show alice -a "${K[@]}")"
BOB="$(w keys show bob -a "${K[@]}")"
VALOPER="$(w keys show val --bech val -a "${K[@]}")"
w genesis add-genesis-account val 1000000000000stake "${K[@]}"
w genesis add-genesis-account alice 1000000000000stake "${K[@]}"
w genesis gentx val 100000000stake --chain-id "$CHAIN_ID" "${K[@]}" >/dev/null 2>&1
w genesis collect-gentxs >/dev/null 2>&1

# --- ports and the API server ------------------------------------------------------
cfg="$HOME_DIR/config/config.toml" app="$HOME_DIR/config/app.toml"
sed -i \
    -e "s#^proxy_app = .*#proxy_app = \"tcp://127.0.0.1:$ABCI_PORT\"#" \
    -e "/^\[rpc\]/,/^\[/ s#^laddr = .*#laddr = \"tcp://127.0.0.1:$RPC_PORT\"#" \
    -e "/^\[p2p\]/,/^\[/ s#^laddr = .*#laddr = \"tcp://127.0.0.1:$P2P_PORT\"#" \
    -e "s#^pprof_laddr = .*#pprof_laddr = \"\"#" \
    -e "s#^timeout_commit = .*#timeout_commit = \"1s\"#" \
    "$cfg"
sed -i \
    -e "s#^minimum-gas-prices = .*#minimum-gas-prices = \"0stake\"#" \
    -e "/^\[api\]/,/^\[/ s#^enable = .*#enable = true#" \
    -e "/^\[api\]/,/^\[/ s#^address = .*#address = \"tcp://127.0.0.1:$API_PORT\"#" \
    -e "/^\[grpc\]/,/^\[/ s#^address = .*#address = \"127.0.0.1:$GRPC_PORT\"#" \
    "$app"

"$WASMD" --home "$HOME_DIR" start >"$HOME_DIR/node.log" 2>&1 &   # not via w(): $! must be wasmd
PID=$!

height() { curl -sf "$API/cosmos/base/tendermint/v1beta1/blocks/latest" | jq -r '.block.header.height // 0' 2>/dev/null || echo 0; }
wait_height() {
    local want=$1
    for _ in $(seq 1 120); do
        [ "$(height)" -ge "$want" ] && return 0
        kill -0 "$PID" 2>/dev/null || { tail -40 "$HOME_DIR/node.log" >&2; exit 1; }
        sleep 0.5
    done
    echo "sdk-gateway-fixtures: the chain did not reach height $want" >&2
    tail -40 "$HOME_DIR/node.log" >&2
    exit 1
}
wait_tx() {
    for _ in $(seq 1 60); do
        if curl -sf "$API/cosmos/tx/v1beta1/txs/$1" >/dev/null; then return 0; fi
        sleep 0.5
    done
    echo "sdk-gateway-fixtures: tx $1 was not included" >&2
    exit 1
}
tx() {
    local out hash
    out="$(w tx "$@" --from alice "${K[@]}" --chain-id "$CHAIN_ID" --node "$NODE" \
        --fees 10000stake --gas 300000 --yes --output json)"
    hash="$(jq -r .txhash <<<"$out")"
    [ "$(jq -r .code <<<"$out")" = "0" ] || { echo "tx failed: $out" >&2; exit 1; }
    wait_tx "$hash"
    echo "$hash"
}

wait_height 2
SEND="$(tx bank send alice "$BOB" 777stake)"
tx staking delegate "$VALOPER" 5000000stake >/dev/null
wait_height $(( $(height) + 3 ))   # rewards accrue to the delegation

# --- fixtures ----------------------------------------------------------------------
mkdir -p "$OUT"
rm -f "$OUT"/*.json
TRIM='walk(if type == "array" then .[:2] else . end)'
save() { # name path [expected HTTP status]
    local name=$1 path=$2 want=${3:-200} body status
    body="$(curl -s -w '\n%{http_code}' "$API$path")"
    status="${body##*$'\n'}"
    body="${body%$'\n'*}"
    if [ "$status" != "$want" ]; then
        echo "sdk-gateway-fixtures: $path answered $status, not $want: $body" >&2
        exit 1
    fi
    jq "$TRIM" <<<"$body" >"$OUT/$name.json"
    echo "  $name.json  <- GET $path ($status)"
}
save auth_account "/cosmos/auth/v1beta1/accounts/$ALICE"
save auth_params "/cosmos/auth/v1beta1/params"
save bank_balances "/cosmos/bank/v1beta1/balances/$ALICE"
save bank_balance_by_denom "/cosmos/bank/v1beta1/balances/$ALICE/by_denom?denom=stake"
save bank_supply "/cosmos/bank/v1beta1/supply"
save staking_validators "/cosmos/staking/v1beta1/validators"
save staking_validator "/cosmos/staking/v1beta1/validators/$VALOPER"
save staking_delegations "/cosmos/staking/v1beta1/delegations/$ALICE"
save staking_params "/cosmos/staking/v1beta1/params"
save staking_pool "/cosmos/staking/v1beta1/pool"
# Not /cosmos/distribution/v1beta1/community_pool: wasmd (SDK 0.53+) runs
# x/protocolpool, and distribution's CommunityPool answers 500 ("external
# community pool is enabled"). Its DecCoin list has the shape of the rewards'.
save distribution_delegation_rewards "/cosmos/distribution/v1beta1/delegators/$ALICE/rewards/$VALOPER"
save slashing_signing_infos "/cosmos/slashing/v1beta1/signing_infos"
save slashing_params "/cosmos/slashing/v1beta1/params"
save node_info "/cosmos/base/tendermint/v1beta1/node_info"
save blocks_latest "/cosmos/base/tendermint/v1beta1/blocks/latest"
save validatorsets_latest "/cosmos/base/tendermint/v1beta1/validatorsets/latest"
save tx "/cosmos/tx/v1beta1/txs/$SEND"
save error_bad_address "/cosmos/bank/v1beta1/balances/wasm1nope" 400

# What this chain's CometBFT RPC answered for the same block: Verdict's gateway
# builds its node-service answers from these (the test replays them).
H="$(jq -r .block.header.height "$OUT/blocks_latest.json")"
rpc() { # name path
    curl -sf "http://127.0.0.1:$RPC_PORT/$2" | jq ".result | $TRIM" >"$OUT/$1.json"
    echo "  $1.json  <- CometBFT RPC /$2"
}
rpc cometbft_status "status"
rpc cometbft_block "block?height=$H"
rpc cometbft_validators "validators?height=$H"

sdk="$(w version --long 2>/dev/null | sed -n 's/^cosmos_sdk_version: //p')"
cat >"$OUT/SOURCE" <<EOF
Written by scripts/sdk-gateway-fixtures.sh: the REST gateway JSON of a
single-validator wasmd $WASMD_VERSION chain (Cosmos SDK ${sdk:-unknown}), after alice sent
777stake to bob and delegated 5000000stake. Arrays trimmed to two elements.
error_bad_address.json is a 400 answer; every other file a 200.
cometbft_*.json: the CometBFT RPC results (status, block and validators at the
height of blocks_latest.json) of the same chain.
EOF
echo "wrote $OUT (wasmd $WASMD_VERSION, Cosmos SDK ${sdk:-unknown})"
