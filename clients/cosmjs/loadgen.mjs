// Pre-signed load for `make bench-wasmd`, made by one client for every chain:
// stock cosmjs funds ACCOUNTS senders (HD accounts 1..ACCOUNTS of the funder's
// mnemonic) with one MsgMultiSend, then signs PER_ACCOUNT MsgSends of 1 DENOM
// from each back to the funder (SIGN_MODE_DIRECT, sequences 0..PER_ACCOUNT-1,
// fee FEE DENOM for GAS gas), written round-robin (every sender's txs in
// sequence order) as one hex TxRaw per line. The same script feeds Verdict and
// wasmd, so both get the same tx type, size class and client.
//
//   node loadgen.mjs RPC_URL MNEMONIC_FILE PREFIX DENOM ACCOUNTS PER_ACCOUNT FEE GAS OUT
import { readFileSync, writeFileSync } from "node:fs";
import { toHex } from "@cosmjs/encoding";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { makeCosmoshubPath } from "@cosmjs/amino";
import { SigningStargateClient, StargateClient, assertIsDeliverTxSuccess } from "@cosmjs/stargate";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const [rpc, mnemonicFile, prefix, denom, accountsArg, perArg, feeArg, gasArg, out] =
  process.argv.slice(2);
const accounts = Number(accountsArg);
const perAccount = Number(perArg);
const mnemonic = readFileSync(mnemonicFile, "utf8").trim();
// One wallet per account: an HD wallet derives every one of its paths' keys at
// each signature, so one wallet of 201 paths signs 200 times slower.
const walletOf = (i) =>
  DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix, hdPaths: [makeCosmoshubPath(i)] });
const wallet = await walletOf(0);
const [funder] = await wallet.getAccounts();
const senderWallets = [];
const senders = [];
for (let i = 1; i <= accounts; i++) {
  const w = await walletOf(i);
  senderWallets.push(await SigningStargateClient.offline(w));
  senders.push((await w.getAccounts())[0]);
}
const client = await SigningStargateClient.connectWithSigner(rpc, wallet);
const reader = await StargateClient.connect(rpc);
const chainId = await reader.getChainId();

// Fund: 10 000 000 DENOM each, one MsgMultiSend, fee by the same price as the load.
const each = "10000000";
const multiGas = 100000 + 40000 * accounts;
const funded = await client.signAndBroadcast(
  funder.address,
  [
    {
      typeUrl: "/cosmos.bank.v1beta1.MsgMultiSend",
      value: {
        inputs: [
          { address: funder.address, coins: [{ denom, amount: String(BigInt(each) * BigInt(accounts)) }] },
        ],
        outputs: senders.map((s) => ({ address: s.address, coins: [{ denom, amount: each }] })),
      },
    },
  ],
  {
    amount: [{ denom, amount: String(Math.ceil((Number(feeArg) * multiGas) / Number(gasArg))) }],
    gas: String(multiGas),
  },
);
assertIsDeliverTxSuccess(funded);

const numbers = [];
for (const s of senders) {
  const acc = await reader.getAccount(s.address);
  if (!acc) throw new Error(`sender ${s.address} was not funded`);
  numbers.push(acc.accountNumber);
}
const fee = { amount: [{ denom, amount: feeArg }], gas: gasArg };
const lines = [];
for (let seq = 0; seq < perAccount; seq++) {
  for (let i = 0; i < senders.length; i++) {
    const msg = {
      typeUrl: "/cosmos.bank.v1beta1.MsgSend",
      value: { fromAddress: senders[i].address, toAddress: funder.address, amount: [{ denom, amount: "1" }] },
    };
    const raw = await senderWallets[i].sign(senders[i].address, [msg], fee, "", {
      accountNumber: numbers[i],
      sequence: seq,
      chainId,
    });
    lines.push(toHex(TxRaw.encode(raw).finish()));
  }
}
writeFileSync(out, lines.join("\n") + "\n");
console.log(JSON.stringify({ chainId, funder: funder.address, txs: lines.length }));
