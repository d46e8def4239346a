// SIGN_MODE_LEGACY_AMINO_JSON with stock cosmjs, the way Keplr and Ledger sign:
// `Secp256k1HdWallet` (an amino-only signer) + `SigningStargateClient`, with
// AminoTypes = cosmjs' default converters + Verdict's (verdict_amino.mjs). It
// sends tokens, delegates, and submits an inference job, each with gas "auto"
// (Simulate) and checks that every tx went in as LEGACY_AMINO_JSON. Then it
// signs a job under a wrong amino type name ("verdict/MsgSubmitJobX"): the
// chain checks the signature against its own encoding, so that tx is refused.
// Prints one JSON line; exits non-zero on any failure.
//
//   node amino.mjs RPC_URL MNEMONIC_FILE RECIPIENT VALOPER MODEL_ID INPUT_JSON
//
// INPUT_JSON is the CLI's input form: {"x": {"dtype": "float32", "shape": [1, 16],
// "data": [...]}} (little-endian element bytes in row-major order on the wire).
import { readFileSync } from "node:fs";
import { Secp256k1HdWallet } from "@cosmjs/amino";
import { Registry, decodeTxRaw } from "@cosmjs/proto-signing";
import {
  AminoTypes,
  GasPrice,
  SigningStargateClient,
  StargateClient,
  assertIsDeliverTxSuccess,
  createDefaultAminoConverters,
  defaultRegistryTypes,
} from "@cosmjs/stargate";
import { BinaryReader } from "cosmjs-types/binary";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { createVerdictAminoConverters, verdictRegistryTypes } from "./verdict_amino.mjs";

const [rpc, mnemonicFile, recipient, valoper, modelId, inputFile] = process.argv.slice(2);
const mnemonic = readFileSync(mnemonicFile, "utf8").trim();
const wallet = await Secp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "verdict" });
const [sender] = await wallet.getAccounts();

const registry = new Registry([...defaultRegistryTypes, ...verdictRegistryTypes]);
const converters = { ...createDefaultAminoConverters(), ...createVerdictAminoConverters() };
const options = { registry, gasPrice: GasPrice.fromString("0.025uverd") };
const client = await SigningStargateClient.connectWithSigner(rpc, wallet, {
  ...options,
  aminoTypes: new AminoTypes(converters),
});
const reader = await StargateClient.connect(rpc);

/** The CLI's tensor JSON as Verdict Tensors: little-endian bytes, row-major. */
function tensors(json) {
  return Object.entries(json).map(([name, t]) => {
    const arrays = {
      float32: Float32Array, float64: Float64Array, int32: Int32Array,
      int64: (xs) => BigInt64Array.from(xs.map(BigInt)),
    };
    const make = arrays[t.dtype];
    const typed = t.dtype === "int64" ? make(t.data) : make.from(t.data);
    return { name, dtype: t.dtype, shape: t.shape.map(BigInt), data: new Uint8Array(typed.buffer) };
  });
}

const submitJob = {
  typeUrl: "/verdict.inference.v1.MsgSubmitJob",
  value: {
    requester: sender.address,
    modelId,
    inputs: tensors(JSON.parse(readFileSync(inputFile, "utf8"))),
    maxLatencyMs: 2000,
    fee: { denom: "uverd", amount: "10000" },
  },
};

const send = await client.signAndBroadcast(sender.address, [{
  typeUrl: "/cosmos.bank.v1beta1.MsgSend",
  value: { fromAddress: sender.address, toAddress: recipient, amount: [{ denom: "uverd", amount: "777" }] },
}], "auto", "amino <send> & co");
assertIsDeliverTxSuccess(send);

const delegate = await client.signAndBroadcast(sender.address, [{
  typeUrl: "/cosmos.staking.v1beta1.MsgDelegate",
  value: { delegatorAddress: sender.address, validatorAddress: valoper, amount: { denom: "uverd", amount: "3000000" } },
}], "auto", "amino delegate");
assertIsDeliverTxSuccess(delegate);

const job = await client.signAndBroadcast(sender.address, [submitJob], "auto", "amino job");
assertIsDeliverTxSuccess(job);
const [resp] = job.msgResponses;
if (resp.typeUrl !== "/verdict.inference.v1.MsgSubmitJobResponse") throw new Error(resp.typeUrl);
const r = new BinaryReader(resp.value);
let jobId = null;
while (r.pos < r.len) {
  const tag = r.uint32();
  if (tag === 8) jobId = r.uint64().toString();
  else r.skipType(tag & 7);
}

/** Each tx as the chain has it: its sign mode and memo. */
const onChain = await Promise.all([send, delegate, job].map(async (t) => {
  const tx = decodeTxRaw((await reader.getTx(t.transactionHash)).tx);
  return { mode: tx.authInfo.signerInfos[0].modeInfo.single.mode, memo: tx.body.memo };
}));
const modes = onChain.map((t) => t.mode);
const amino = modes.every((m) => m === SignMode.SIGN_MODE_LEGACY_AMINO_JSON);

// A converter whose amino name is not the chain's: cosmjs signs a document the
// chain does not make, so the signature does not verify (CheckTx, code 4).
const wrong = await SigningStargateClient.connectWithSigner(rpc, wallet, {
  ...options,
  aminoTypes: new AminoTypes({
    ...converters,
    "/verdict.inference.v1.MsgSubmitJob": {
      ...converters["/verdict.inference.v1.MsgSubmitJob"],
      aminoType: "verdict/MsgSubmitJobX",
    },
  }),
});
let wrongName = { refused: false, log: "" };
try {
  const res = await wrong.signAndBroadcast(sender.address, [submitJob],
    { amount: [{ denom: "uverd", amount: "20000" }], gas: "800000" }, "wrong name");
  wrongName = { refused: res.code !== 0, log: res.rawLog ?? "", code: res.code };
} catch (e) {
  wrongName = { refused: true, log: String(e.message ?? e) };
}

console.log(JSON.stringify({
  sender: sender.address,
  sendHeight: send.height,
  delegateHeight: delegate.height,
  jobHeight: job.height,
  jobId,
  modes,
  amino,
  memos: onChain.map((t) => t.memo),
  recipientBalance: (await reader.getBalance(recipient, "uverd")).amount,
  wrongName,
}));
client.disconnect();
wrong.disconnect();
reader.disconnect();
