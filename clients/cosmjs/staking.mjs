// cosmjs's staking query extension against a Verdict node: prints the bonded
// validators (operator, tokens, jailed) and the staking params as one JSON line.
//
//   node staking.mjs RPC_URL
import { QueryClient, setupStakingExtension } from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";

const [rpc] = process.argv.slice(2);
const comet = await connectComet(rpc);
const q = QueryClient.withExtensions(comet, setupStakingExtension);
const { validators } = await q.staking.validators("BOND_STATUS_BONDED");
const { params } = await q.staking.params();
console.log(JSON.stringify({
  validators: validators.map((v) => ({
    operator: v.operatorAddress,
    tokens: v.tokens,
    jailed: v.jailed,
    moniker: v.description?.moniker,
  })),
  unbondingSeconds: params.unbondingTime.seconds,
  bondDenom: params.bondDenom,
}, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
comet.disconnect();
