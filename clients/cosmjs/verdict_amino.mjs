// Verdict's messages for cosmjs: protobuf types for a `Registry` and amino
// converters for `AminoTypes`, so that any cosmjs signer — a direct one, or an
// amino one (`Secp256k1HdWallet`, Keplr's `getOfflineSignerOnlyAmino`, a Ledger) —
// can sign them.
//
// Both come from one field list per message below, a copy of
// proto/verdict/inference/v1/tx.proto (number, proto name, type). The amino
// converter writes exactly what the chain's descriptor-driven encoder
// (app/src/tx/amino.rs, the rules of the Cosmos SDK's x/tx aminojson) writes
// for the same protobuf message, which is what the chain verifies a
// SIGN_MODE_LEGACY_AMINO_JSON signature over:
//
//   - keys are the proto field names (snake_case);
//   - a field is left out when it is empty: "", 0, false, no elements, unset
//     message (none of Verdict's fields is `amino.dont_omitempty`);
//   - uint32 as a JSON number, int64/uint64 as a decimal string, bytes as
//     standard base64, nested messages as objects;
//   - a Coin as {"amount": amount or "0", "denom": denom (left out when "")}
//     (the SDK's Coin: `amount` is a never-omitted cosmos.Int);
//   - the message as {"type": "verdict/<MsgName>", "value": {...}}, the
//     `amino.name` option of the .proto.
//
// fromAmino inverts toAmino, so the protobuf bytes cosmjs puts in the tx body
// (it re-encodes the signed amino messages) encode back to the signed JSON.
//
// Also here: converters for SDK messages the chain accepts that cosmjs 0.39's
// defaults get wrong or lack (see docs/signing.md):
//   - MsgWithdrawValidatorCommission: the SDK registers it as
//     "cosmos-sdk/MsgWithdrawValCommission" (cosmjs says
//     "cosmos-sdk/MsgWithdrawValidatorCommission");
//   - MsgUnjail: "cosmos-sdk/MsgUnjail" with its field named "address"
//     (`amino.field_name`); cosmjs has no converter.
import { BinaryReader, BinaryWriter } from "cosmjs-types/binary";
import { MsgUnjail } from "cosmjs-types/cosmos/slashing/v1beta1/tx";
import { toBase64, fromBase64 } from "@cosmjs/encoding";

const COIN = "Coin";
const TENSOR = "Tensor";
const TENSOR_SPEC = "TensorSpec";

// name → [field number, proto name, type, repeated?]; type is a scalar or a
// message name of this table.
const SCHEMA = {
  Coin: [
    [1, "denom", "string"],
    [2, "amount", "string"],
  ],
  Tensor: [
    [1, "name", "string"],
    [2, "dtype", "string"],
    [3, "shape", "int64", true],
    [4, "data", "bytes"],
  ],
  TensorSpec: [
    [1, "name", "string"],
    [2, "dtype", "string"],
    [3, "shape", "int64", true],
  ],
  MsgRegisterModel: [
    [1, "owner", "string"],
    [2, "model_id", "string"],
    [3, "name", "string"],
    [4, "inputs", TENSOR_SPEC, true],
    [5, "outputs", TENSOR_SPEC, true],
    [6, "tolerance", "string"],
    [7, "max_output_len", "uint32"],
    [8, "rtol", "string"],
    [9, "input_min", "string"],
    [10, "input_max", "string"],
    [11, "uris", "string", true],
    [12, "size_bytes", "uint64"],
  ],
  MsgServeModel: [
    [1, "operator", "string"],
    [2, "model_ids", "string", true],
    [3, "serve", "bool"],
  ],
  MsgSubmitJob: [
    [1, "requester", "string"],
    [2, "model_id", "string"],
    [3, "inputs", TENSOR, true],
    [4, "max_latency_ms", "uint32"],
    [5, "fee", COIN],
    [6, "spec_hash", "string"],
  ],
  MsgRequestRemote: [
    [1, "requester", "string"],
    [2, "channel_id", "string"],
    [3, "model_id", "string"],
    [4, "inputs", TENSOR, true],
    [5, "max_latency_ms", "uint32"],
    [6, "fee", COIN],
    [7, "timeout_seconds", "uint64"],
    [8, "wait_final", "bool"],
  ],
  MsgReclaimRemote: [
    [1, "requester", "string"],
    [2, "channel_id", "string"],
    [3, "sequence", "uint64"],
  ],
  MsgChallengeJob: [
    [1, "challenger", "string"],
    [2, "job_id", "uint64"],
    [3, "bond", COIN],
  ],
};

const MSGS = ["MsgRegisterModel", "MsgServeModel", "MsgSubmitJob", "MsgRequestRemote", "MsgReclaimRemote",
  "MsgChallengeJob"];

const camel = (s) => s.replace(/_([a-z])/g, (_m, c) => c.toUpperCase());
const isMessage = (type) => type in SCHEMA;

function scalarDefault(type) {
  switch (type) {
    case "string": return "";
    case "bool": return false;
    case "uint32": return 0;
    case "int64": case "uint64": return 0n;
    case "bytes": return new Uint8Array();
    default: return undefined; // a message: unset
  }
}

function normScalar(type, v) {
  switch (type) {
    case "string": return String(v);
    case "bool": return Boolean(v);
    case "uint32": return Number(v) >>> 0;
    case "int64": case "uint64": return BigInt(v);
    case "bytes": return typeof v === "string" ? fromBase64(v) : Uint8Array.from(v);
    default: throw new Error(`unknown type ${type}`);
  }
}

/** A full message object (camelCase keys, every field) from a partial one. */
function fromPartial(name, obj = {}) {
  const out = {};
  for (const [, field, type, repeated] of SCHEMA[name]) {
    const key = camel(field);
    const v = obj[key];
    if (repeated) {
      out[key] = (v ?? []).map((x) => (isMessage(type) ? fromPartial(type, x) : normScalar(type, x)));
    } else if (isMessage(type)) {
      out[key] = v == null ? undefined : fromPartial(type, v);
    } else {
      out[key] = v == null ? scalarDefault(type) : normScalar(type, v);
    }
  }
  return out;
}

function isEmpty(type, v) {
  if (v === undefined || v === null) return true;
  if (type === "bytes") return v.length === 0;
  if (type === "int64" || type === "uint64") return BigInt(v) === 0n;
  return !isMessage(type) && v === scalarDefault(type);
}

function writeScalar(w, type, v) {
  switch (type) {
    case "string": return w.string(v);
    case "bool": return w.bool(v);
    case "uint32": return w.uint32(v);
    case "int64": return w.int64(v);
    case "uint64": return w.uint64(v);
    case "bytes": return w.bytes(v);
    default: throw new Error(`unknown type ${type}`);
  }
}

const WIRE = { string: 2, bytes: 2, bool: 0, uint32: 0, int64: 0, uint64: 0 };

function encode(name, msg, w = BinaryWriter.create()) {
  for (const [no, field, type, repeated] of SCHEMA[name]) {
    const v = msg[camel(field)];
    if (isMessage(type)) {
      for (const m of repeated ? v : v === undefined ? [] : [v]) {
        encode(type, m, w.uint32((no << 3) | 2).fork()).ldelim();
      }
    } else if (repeated && WIRE[type] === 0) {
      if (v.length) {
        w.uint32((no << 3) | 2).fork();
        v.forEach((x) => writeScalar(w, type, x));
        w.ldelim();
      }
    } else if (repeated) {
      v.forEach((x) => writeScalar(w.uint32((no << 3) | WIRE[type]), type, x));
    } else if (!isEmpty(type, v)) {
      writeScalar(w.uint32((no << 3) | WIRE[type]), type, v);
    }
  }
  return w;
}

function readScalar(r, type) {
  switch (type) {
    case "string": return r.string();
    case "bool": return r.bool();
    case "uint32": return r.uint32();
    case "int64": return BigInt(r.int64().toString());
    case "uint64": return BigInt(r.uint64().toString());
    case "bytes": return r.bytes();
    default: throw new Error(`unknown type ${type}`);
  }
}

function decode(name, input, length) {
  const r = input instanceof BinaryReader ? input : new BinaryReader(input);
  const end = length === undefined ? r.len : r.pos + length;
  const out = fromPartial(name, {});
  const byNo = new Map(SCHEMA[name].map((f) => [f[0], f]));
  while (r.pos < end) {
    const tag = r.uint32();
    const f = byNo.get(tag >>> 3);
    if (!f) {
      r.skipType(tag & 7);
      continue;
    }
    const [, field, type, repeated] = f;
    const key = camel(field);
    if (isMessage(type)) {
      const m = decode(type, r, r.uint32());
      if (repeated) out[key].push(m);
      else out[key] = m;
    } else if (repeated && WIRE[type] === 0 && (tag & 7) === 2) {
      const stop = r.uint32() + r.pos;
      while (r.pos < stop) out[key].push(readScalar(r, type));
    } else if (repeated) {
      out[key].push(readScalar(r, type));
    } else {
      out[key] = readScalar(r, type);
    }
  }
  return out;
}

// ---- amino JSON ------------------------------------------------------------

function scalarToAmino(type, v) {
  switch (type) {
    case "int64": case "uint64": return BigInt(v).toString();
    case "bytes": return toBase64(v);
    default: return v;
  }
}

function scalarFromAmino(type, v) {
  switch (type) {
    case "int64": case "uint64": return BigInt(v);
    case "bytes": return fromBase64(v);
    default: return v;
  }
}

/** A full message (fromPartial's form) as amino JSON: empty fields left out. */
function toAminoJson(name, msg) {
  if (name === COIN) {
    // cosmos.base.v1beta1.Coin: `amount` is never omitted ("" is "0").
    const out = { amount: msg.amount === "" ? "0" : msg.amount };
    if (msg.denom !== "") out.denom = msg.denom;
    return out;
  }
  const out = {};
  for (const [, field, type, repeated] of SCHEMA[name]) {
    const v = msg[camel(field)];
    if (repeated) {
      if (v.length) out[field] = v.map((x) => (isMessage(type) ? toAminoJson(type, x) : scalarToAmino(type, x)));
    } else if (isMessage(type)) {
      if (v !== undefined) out[field] = toAminoJson(type, v);
    } else if (!isEmpty(type, v)) {
      out[field] = scalarToAmino(type, v);
    }
  }
  return out;
}

function fromAminoJson(name, json) {
  const out = {};
  for (const [, field, type, repeated] of SCHEMA[name]) {
    const v = json[field];
    if (v === undefined) continue;
    const key = camel(field);
    if (repeated) {
      out[key] = v.map((x) => (isMessage(type) ? fromAminoJson(type, x) : scalarFromAmino(type, x)));
    } else {
      out[key] = isMessage(type) ? fromAminoJson(type, v) : scalarFromAmino(type, v);
    }
  }
  return fromPartial(name, out);
}

function generatedType(name) {
  return {
    typeUrl: `/verdict.inference.v1.${name}`,
    encode: (msg, writer) => encode(name, msg, writer),
    decode: (input, length) => decode(name, input, length),
    fromPartial: (obj) => fromPartial(name, obj),
  };
}

/** [typeUrl, type] pairs for `new Registry([...defaultRegistryTypes, ...verdictRegistryTypes])`:
 * Verdict's messages, and MsgUnjail (not among cosmjs' defaults). */
export const verdictRegistryTypes = [
  ...MSGS.map((name) => [`/verdict.inference.v1.${name}`, generatedType(name)]),
  ["/cosmos.slashing.v1beta1.MsgUnjail", MsgUnjail],
];

/** Converters for `new AminoTypes({...createDefaultAminoConverters(), ...createVerdictAminoConverters()})`. */
export function createVerdictAminoConverters() {
  const out = {};
  for (const name of MSGS) {
    out[`/verdict.inference.v1.${name}`] = {
      aminoType: `verdict/${name}`,
      toAmino: (value) => toAminoJson(name, fromPartial(name, value)),
      fromAmino: (json) => fromAminoJson(name, json),
    };
  }
  out["/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission"] = {
    aminoType: "cosmos-sdk/MsgWithdrawValCommission",
    toAmino: ({ validatorAddress }) => ({ validator_address: validatorAddress }),
    fromAmino: ({ validator_address }) => ({ validatorAddress: validator_address }),
  };
  out["/cosmos.slashing.v1beta1.MsgUnjail"] = {
    aminoType: "cosmos-sdk/MsgUnjail",
    // amino.dont_omitempty and amino.field_name = "address" in the SDK's tx.proto.
    toAmino: ({ validatorAddr }) => ({ address: validatorAddr ?? "" }),
    fromAmino: ({ address }) => ({ validatorAddr: address }),
  };
  return out;
}
