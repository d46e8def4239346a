// Client compatibility, with code nobody in this project wrote: stock cosmjs signs
// a MsgSend with DirectSecp256k1HdWallet, broadcasts it with SigningStargateClient
// (gas "auto" → Simulate, then an explicit fee), and reads balances, the account
// and the tx back with StargateClient. Prints one JSON line; exits non-zero on
// any failure.
//
//   node send.mjs RPC_URL MNEMONIC_FILE RECIPIENT
import { readFileSync } from "node:fs";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import {
  SigningStargateClient,
  StargateClient,
  GasPrice,
  assertIsDeliverTxSuccess,
} from "@cosmjs/stargate";

const [rpc, mnemonicFile, recipient] = process.argv.slice(2);
const mnemonic = readFileSync(mnemonicFile, "utf8").trim();
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "verdict" });
const [sender] = await wallet.getAccounts();

const signer = await SigningStargateClient.connectWithSigner(rpc, wallet, {
  gasPrice: GasPrice.fromString("0.025uverd"),
});
const reader = await StargateClient.connect(rpc);
const chainId = await reader.getChainId();
const before = await reader.getBalance(recipient, "uverd");

const msg = (amount) => ({
  typeUrl: "/cosmos.bank.v1beta1.MsgSend",
  value: { fromAddress: sender.address, toAddress: recipient, amount: [{ denom: "uverd", amount }] },
});

const auto = await signer.signAndBroadcast(sender.address, [msg("12345")], "auto", "cosmjs auto gas");
assertIsDeliverTxSuccess(auto);
const explicit = await signer.signAndBroadcast(
  sender.address,
  [msg("1000")],
  { amount: [{ denom: "uverd", amount: "5000" }], gas: "200000" },
  "cosmjs explicit fee",
);
assertIsDeliverTxSuccess(explicit);

const after = await reader.getBalance(recipient, "uverd");
const account = await reader.getAccount(sender.address);
const [fresh] = await (await DirectSecp256k1HdWallet.generate(24, { prefix: "verdict" })).getAccounts();
const nobody = await reader.getAccount(fresh.address);
const tx = await reader.getTx(auto.transactionHash);
const searched = await reader.searchTx(`transfer.recipient='${recipient}'`);

console.log(JSON.stringify({
  chainId,
  sender: sender.address,
  before: before.amount,
  after: after.amount,
  autoHeight: auto.height,
  autoGasUsed: String(auto.gasUsed),
  autoGasWanted: String(auto.gasWanted),
  explicitHeight: explicit.height,
  msgResponses: auto.msgResponses.map((r) => r.typeUrl),
  accountNumber: account.accountNumber,
  sequence: account.sequence,
  hasPubkey: account.pubkey !== null,
  nobodyIsNull: nobody === null,
  txFound: tx !== null && tx.code === 0,
  searchHits: searched.length,
}, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
signer.disconnect();
reader.disconnect();
