// Stock cosmjs against Verdict's redelegation and rewards: signs a
// MsgBeginRedelegate (SRC → DST, 1 VERD) and a MsgWithdrawDelegatorReward with
// SigningStargateClient, and reads rewards with the distribution query
// extension. Prints one JSON line; exits non-zero on any failure.
//
//   node distribution.mjs RPC_URL MNEMONIC_FILE SRC_VALOPER DST_VALOPER
import { readFileSync } from "node:fs";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import {
  GasPrice,
  QueryClient,
  SigningStargateClient,
  assertIsDeliverTxSuccess,
  setupDistributionExtension,
} from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";

const [rpc, mnemonicFile, src, dst] = process.argv.slice(2);
const mnemonic = readFileSync(mnemonicFile, "utf8").trim();
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "verdict" });
const [me] = await wallet.getAccounts();
const signer = await SigningStargateClient.connectWithSigner(rpc, wallet, {
  gasPrice: GasPrice.fromString("0.025uverd"),
});

const red = await signer.signAndBroadcast(me.address, [{
  typeUrl: "/cosmos.staking.v1beta1.MsgBeginRedelegate",
  value: {
    delegatorAddress: me.address,
    validatorSrcAddress: src,
    validatorDstAddress: dst,
    amount: { denom: "uverd", amount: "1000000" },
  },
}], "auto", "cosmjs redelegate");
assertIsDeliverTxSuccess(red);

const comet = await connectComet(rpc);
const q = QueryClient.withExtensions(comet, setupDistributionExtension);
// Wait one block so the redelegation's fee is allocated too.
const h0 = (await comet.status()).syncInfo.latestBlockHeight;
while ((await comet.status()).syncInfo.latestBlockHeight < h0 + 2) {
  await new Promise((r) => setTimeout(r, 200));
}
const rewards = await q.distribution.delegationRewards(me.address, dst);
const withdraw = await signer.withdrawRewards(me.address, dst, "auto", "cosmjs withdraw");
assertIsDeliverTxSuccess(withdraw);
console.log(JSON.stringify({
  redelegateTypes: red.msgResponses.map((m) => m.typeUrl),
  rewards: rewards.rewards.map((c) => ({ denom: c.denom, amount: c.amount })),
  withdrawTypes: withdraw.msgResponses.map((m) => m.typeUrl),
}));
comet.disconnect();
signer.disconnect();
