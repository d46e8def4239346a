// What a browser wallet does against the REST (LCD) gateway only: chain id from
// node_info, account number and sequence from the auth account, a MsgSend
// signed offline by stock cosmjs (DirectSecp256k1HdWallet), broadcast with
// POST /cosmos/tx/v1beta1/txs, then found by hash and by event search. Prints
// one JSON line; exits non-zero on any failure.
//
//   node rest_wallet.mjs REST_URL MNEMONIC_FILE RECIPIENT
import { readFileSync } from "node:fs";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { SigningStargateClient } from "@cosmjs/stargate";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const [rest, mnemonicFile, recipient] = process.argv.slice(2);
const mnemonic = readFileSync(mnemonicFile, "utf8").trim();
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "verdict" });
const [sender] = await wallet.getAccounts();

async function get(path) {
  const r = await fetch(rest + path);
  const body = await r.json();
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

const info = await get("/cosmos/base/tendermint/v1beta1/node_info");
const chainId = info.default_node_info.network;
const { account } = await get(`/cosmos/auth/v1beta1/accounts/${sender.address}`);
const before = await get(`/cosmos/bank/v1beta1/balances/${recipient}/by_denom?denom=uverd`);

const signer = await SigningStargateClient.offline(wallet);
const signed = await signer.sign(
  sender.address,
  [{
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: { fromAddress: sender.address, toAddress: recipient, amount: [{ denom: "uverd", amount: "4242" }] },
  }],
  { amount: [{ denom: "uverd", amount: "5000" }], gas: "200000" },
  "via REST",
  { accountNumber: Number(account.account_number), sequence: Number(account.sequence), chainId },
);
const txBytes = TxRaw.encode(signed).finish();
const post = await fetch(rest + "/cosmos/tx/v1beta1/txs", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ tx_bytes: Buffer.from(txBytes).toString("base64"), mode: "BROADCAST_MODE_SYNC" }),
});
const broadcast = await post.json();
if (!post.ok || broadcast.tx_response.code !== 0) throw new Error(JSON.stringify(broadcast));
const hash = broadcast.tx_response.txhash;

let found = null;
for (let i = 0; i < 60 && !found; i++) {
  const r = await fetch(`${rest}/cosmos/tx/v1beta1/txs/${hash}`);
  if (r.ok) found = await r.json();
  else await new Promise((ok) => setTimeout(ok, 500));
}
if (!found) throw new Error(`tx ${hash} never found over REST`);
// GetTx reads verdictd's own index, written at Commit; the event search asks
// CometBFT's indexer, which indexes the block a moment later: wait for it.
let search = null;
for (let i = 0; i < 60; i++) {
  search = await get(
    `/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`message.sender='${sender.address}'`)}&limit=100`,
  );
  if (search.tx_responses.some((t) => t.txhash === hash)) break;
  await new Promise((ok) => setTimeout(ok, 500));
}
const after = await get(`/cosmos/bank/v1beta1/balances/${recipient}/by_denom?denom=uverd`);
console.log(JSON.stringify({
  chainId,
  sender: sender.address,
  hash,
  height: found.tx_response.height,
  code: found.tx_response.code,
  memo: found.tx.body.memo,
  msgType: found.tx.body.messages[0]["@type"],
  searchHits: search.tx_responses.map((t) => t.txhash),
  searchTotal: search.total,
  before: before.balance.amount,
  after: after.balance.amount,
}));
