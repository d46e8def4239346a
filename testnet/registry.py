"""Wallet and explorer metadata of a generated net: a chain-registry
`chain.json` and `assetlist.json` (github.com/cosmos/chain-registry schema) and
the ChainInfo Keplr's `window.keplr.experimentalSuggestChain` takes
(`keplr.json`), all pointing at node 0's RPC, REST and gRPC (or every node's,
for nets on separate hosts)."""

from __future__ import annotations

import json
from pathlib import Path

DENOM, DISPLAY, DECIMALS = "uverd", "VERD", 6
ACCOUNT_PREFIX = "verdict"
COIN_TYPE = 118  # the Cosmos SLIP-44 coin type: keys derive at m/44'/118'/0'/0/0
GAS_PRICE = 0.025  # the local nets' min_gas_price (homes.default_app_state)


def _bech32_config() -> dict:
    p = ACCOUNT_PREFIX
    return {"bech32PrefixAccAddr": p, "bech32PrefixAccPub": p + "pub",
            "bech32PrefixValAddr": p + "valoper", "bech32PrefixValPub": p + "valoperpub",
            "bech32PrefixConsAddr": p + "valcons", "bech32PrefixConsPub": p + "valconspub"}


def chain_json(chain_id: str, endpoints: list[dict]) -> dict:
    return {
        "$schema": "../chain.schema.json",
        "chain_name": "verdictlocal",
        "chain_type": "cosmos",
        "status": "live",
        "network_type": "devnet",
        "pretty_name": f"Verdict ({chain_id})",
        "chain_id": chain_id,
        "bech32_prefix": ACCOUNT_PREFIX,
        "slip44": COIN_TYPE,
        "key_algos": ["secp256k1"],
        "fees": {"fee_tokens": [{"denom": DENOM, "fixed_min_gas_price": GAS_PRICE,
                                 "low_gas_price": GAS_PRICE, "average_gas_price": GAS_PRICE * 2,
                                 "high_gas_price": GAS_PRICE * 4}]},
        "staking": {"staking_tokens": [{"denom": DENOM}]},
        "codebase": {"cosmos_sdk_version": "v0.50 (wire-compatible, Rust)",
                     "consensus": {"type": "cometbft", "version": "0.38"}},
        "apis": {
            "rpc": [{"address": e["rpc"], "provider": e["name"]} for e in endpoints],
            "rest": [{"address": e["rest"], "provider": e["name"]} for e in endpoints],
            "grpc": [{"address": e["grpc"], "provider": e["name"]} for e in endpoints],
        },
    }


def assetlist_json() -> dict:
    return {
        "$schema": "../assetlist.schema.json",
        "chain_name": "verdictlocal",
        "assets": [{
            "description": "The staking and fee token of Verdict.",
            "denom_units": [{"denom": DENOM, "exponent": 0},
                            {"denom": DISPLAY.lower(), "exponent": DECIMALS}],
            "base": DENOM, "name": "Verdict", "display": DISPLAY.lower(), "symbol": DISPLAY,
            "type_asset": "sdk.coin",
        }],
    }


def keplr_json(chain_id: str, endpoint: dict) -> dict:
    currency = {"coinDenom": DISPLAY, "coinMinimalDenom": DENOM, "coinDecimals": DECIMALS}
    return {
        "chainId": chain_id,
        "chainName": f"Verdict ({chain_id})",
        "rpc": endpoint["rpc"],
        "rest": endpoint["rest"],
        "bip44": {"coinType": COIN_TYPE},
        "bech32Config": _bech32_config(),
        "currencies": [currency],
        "feeCurrencies": [{**currency, "gasPriceStep": {
            "low": GAS_PRICE, "average": GAS_PRICE * 2, "high": GAS_PRICE * 4}}],
        "stakeCurrency": currency,
        "features": [],
    }


def write(out: Path, chain_id: str, endpoints: list[dict]) -> None:
    """`endpoints`: one {"name", "rpc", "rest", "grpc"} per node."""
    (out / "chain.json").write_text(json.dumps(chain_json(chain_id, endpoints), indent=2) + "\n")
    (out / "assetlist.json").write_text(json.dumps(assetlist_json(), indent=2) + "\n")
    (out / "keplr.json").write_text(json.dumps(keplr_json(chain_id, endpoints[0]), indent=2) + "\n")
