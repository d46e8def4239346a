//! SIGN_MODE_LEGACY_AMINO_JSON: the `StdSignDoc` bytes a Keplr, Ledger or
//! cosmjs amino signer signs, built the way the Cosmos SDK's x/tx `aminojson`
//! encoder builds them, from the message descriptors (no JSON written by hand
//! per message):
//!
//! ```text
//! {"account_number":"7","chain_id":"…","fee":{"amount":[…],"gas":"200000"},
//!  "memo":"…","msgs":[{"type":"cosmos-sdk/MsgSend","value":{…}}],"sequence":"3"}
//! ```
//!
//! - objects with their keys sorted, compact, and `<`, `>`, `&` written as
//!   `\u003c`, `\u003e`, `\u0026` (cosmjs' `serializeSignDoc`, Go's
//!   `json.Marshal`);
//! - each message as `{"type": its amino.name, "value": …}`; a message without
//!   an `amino.name` cannot be signed this way;
//! - a field under its proto name (or `amino.field_name`), left out when it is
//!   empty (zero, "", no elements, unset message) unless `amino.dont_omitempty`;
//! - 64-bit integers as decimal strings, 32-bit ones and enums as numbers,
//!   bytes as standard base64, bools as bools;
//! - `google.protobuf.Any` as `{"type": amino name (else "/" + full name),
//!   "value": …}`; messages with `amino.message_encoding = "key_field"` (public
//!   keys) as their key's base64;
//! - `amino.encoding = "legacy_coins"`: an empty coin list as `[]`;
//!   `cosmos_proto.scalar = "cosmos.Int"`: "" as "0"; `"cosmos.Dec"` and
//!   `amino.encoding = "cosmos_dec_bytes"`: the stored LegacyDec integer
//!   (value × 10^18) written as the decimal with 18 places ("0.100000000000000000").
//!
//! What none of the messages this chain accepts needs is refused instead of
//! guessed (maps, floats, oneofs, timestamps, durations, `inline_json`), as is
//! any field the descriptor does not know (the signature would not cover it).
//!
//! Deterministic: objects are `BTreeMap`s, no floats, no clock.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::tx::v1beta1::Fee;
use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    ReflectMessage, Value,
};
use verdict_core::module::Any;

/// A JSON value as the sign doc holds it: objects sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    /// An integer, as its decimal digits.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// Compact JSON, keys sorted, `<`, `>`, `&` escaped.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write(&mut out);
        out.into_bytes()
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_str(s, out),
            Json::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string as `JSON.stringify` writes it, then with `&`, `<`, `>`
/// escaped as cosmjs' `escapeCharacters` does: what Keplr, Ledger's apps and
/// cosmjs sign. (Go's `json.Marshal` also escapes U+2028 and U+2029; wallets do
/// not, and neither does this.)
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What a legacy amino signer signs, besides the messages.
pub struct SignDocInput<'a> {
    pub chain_id: &'a str,
    pub account_number: u64,
    pub sequence: u64,
    pub timeout_height: u64,
    pub memo: &'a str,
    pub msgs: &'a [Any],
    pub fee: &'a Fee,
}

/// The `StdSignDoc` bytes of SIGN_MODE_LEGACY_AMINO_JSON. An error names what
/// cannot be amino-signed (a message without an amino name, an unknown type,
/// a field the encoding does not support).
pub fn sign_bytes(doc: &SignDocInput<'_>) -> Result<Vec<u8>, String> {
    let msgs = doc
        .msgs
        .iter()
        .map(msg_json)
        .collect::<Result<Vec<_>, _>>()?;
    let mut o = BTreeMap::new();
    o.insert(
        "account_number".into(),
        Json::str(doc.account_number.to_string()),
    );
    o.insert("chain_id".into(), Json::str(doc.chain_id));
    o.insert("fee".into(), fee_json(doc.fee));
    o.insert("memo".into(), Json::str(doc.memo));
    o.insert("msgs".into(), Json::Arr(msgs));
    o.insert("sequence".into(), Json::str(doc.sequence.to_string()));
    if doc.timeout_height != 0 {
        o.insert(
            "timeout_height".into(),
            Json::str(doc.timeout_height.to_string()),
        );
    }
    Ok(Json::Obj(o).to_bytes())
}

/// `{"amount":[coins],"gas":"N"}`, with `payer` and `granter` only when set
/// (the SDK's `AminoSignFee`: amount and gas are never omitted).
fn fee_json(fee: &Fee) -> Json {
    let mut o = BTreeMap::new();
    o.insert(
        "amount".into(),
        Json::Arr(fee.amount.iter().map(coin_json).collect()),
    );
    o.insert("gas".into(), Json::str(fee.gas_limit.to_string()));
    if !fee.payer.is_empty() {
        o.insert("payer".into(), Json::str(fee.payer.as_str()));
    }
    if !fee.granter.is_empty() {
        o.insert("granter".into(), Json::str(fee.granter.as_str()));
    }
    Json::Obj(o)
}

/// `cosmos.base.v1beta1.Coin`: `amount` is a never-omitted `cosmos.Int` ("" is
/// "0"), `denom` is omitted when empty.
fn coin_json(c: &ProtoCoin) -> Json {
    let mut o = BTreeMap::new();
    let amount = if c.amount.is_empty() { "0" } else { &c.amount };
    o.insert("amount".into(), Json::str(amount));
    if !c.denom.is_empty() {
        o.insert("denom".into(), Json::str(c.denom.as_str()));
    }
    Json::Obj(o)
}

/// The amino name a message type is signed under, if it has one.
pub fn amino_name(type_url: &str) -> Option<String> {
    let desc = descriptor_of(type_url).ok()?;
    string_option(&desc.options(), &exts().ok()?.name)
}

/// A tx message as `{"type": amino name, "value": amino JSON}`.
pub fn msg_json(any: &Any) -> Result<Json, String> {
    let desc = descriptor_of(&any.type_url)?;
    let name = string_option(&desc.options(), &exts()?.name).ok_or_else(|| {
        format!(
            "{} has no amino name, so it cannot be signed with SIGN_MODE_LEGACY_AMINO_JSON; sign it with SIGN_MODE_DIRECT",
            any.type_url
        )
    })?;
    let m = decode(desc, &any.value, &any.type_url)?;
    Ok(typed(name, message_json(&m)?))
}

fn typed(name: String, value: Json) -> Json {
    let mut o = BTreeMap::new();
    o.insert("type".into(), Json::Str(name));
    o.insert("value".into(), value);
    Json::Obj(o)
}

fn descriptor_of(type_url: &str) -> Result<MessageDescriptor, String> {
    type_url
        .strip_prefix('/')
        .and_then(|n| pool().get_message_by_name(n))
        .ok_or_else(|| format!("unknown message type {type_url:?}"))
}

fn decode(desc: MessageDescriptor, bytes: &[u8], type_url: &str) -> Result<DynamicMessage, String> {
    DynamicMessage::decode(desc, bytes).map_err(|e| format!("bad {type_url}: {e}"))
}

fn pool() -> &'static DescriptorPool {
    verdict_proto::descriptor_pool()
}

/// The option extensions the encoding reads.
struct Exts {
    name: ExtensionDescriptor,
    message_encoding: ExtensionDescriptor,
    encoding: ExtensionDescriptor,
    field_name: ExtensionDescriptor,
    dont_omitempty: ExtensionDescriptor,
    scalar: ExtensionDescriptor,
}

fn exts() -> Result<&'static Exts, String> {
    static EXTS: OnceLock<Option<Exts>> = OnceLock::new();
    EXTS.get_or_init(|| {
        let p = pool();
        Some(Exts {
            name: p.get_extension_by_name("amino.name")?,
            message_encoding: p.get_extension_by_name("amino.message_encoding")?,
            encoding: p.get_extension_by_name("amino.encoding")?,
            field_name: p.get_extension_by_name("amino.field_name")?,
            dont_omitempty: p.get_extension_by_name("amino.dont_omitempty")?,
            scalar: p.get_extension_by_name("cosmos_proto.scalar")?,
        })
    })
    .as_ref()
    .ok_or_else(|| "the descriptor pool lacks the amino options".to_string())
}

fn string_option(opts: &DynamicMessage, ext: &ExtensionDescriptor) -> Option<String> {
    if !opts.has_extension(ext) {
        return None;
    }
    opts.get_extension(ext).as_str().map(str::to_string)
}

/// A message's amino JSON (without its `{"type","value"}` wrapper).
fn message_json(m: &DynamicMessage) -> Result<Json, String> {
    let desc = m.descriptor();
    if m.unknown_fields().next().is_some() {
        return Err(format!(
            "{} has fields its descriptor does not know; an amino signature would not cover them",
            desc.full_name()
        ));
    }
    match desc.full_name() {
        "google.protobuf.Any" => return any_json(m),
        "google.protobuf.Timestamp" | "google.protobuf.Duration" => {
            return Err(unsupported(desc.full_name()))
        }
        _ => {}
    }
    let e = exts()?;
    match string_option(&desc.options(), &e.message_encoding).as_deref() {
        None => {}
        Some("key_field") => return key_field(m),
        Some(other) => return Err(unsupported(&format!("message encoding {other:?}"))),
    }
    let mut o = BTreeMap::new();
    for f in desc.fields() {
        if let Some((name, v)) = field_entry(m, &f, e)? {
            o.insert(name, v);
        }
    }
    Ok(Json::Obj(o))
}

/// One field as `(key, value)`, or `None` when it is empty and omitted.
fn field_entry(
    m: &DynamicMessage,
    f: &FieldDescriptor,
    e: &Exts,
) -> Result<Option<(String, Json)>, String> {
    if f.containing_oneof().is_some() || f.is_map() {
        return Err(unsupported(&format!(
            "field {} (oneof or map)",
            f.full_name()
        )));
    }
    let fopts = f.options();
    let name = string_option(&fopts, &e.field_name).unwrap_or_else(|| f.name().to_string());
    if !m.has_field(f) {
        let keep = fopts.has_extension(&e.dont_omitempty)
            && fopts.get_extension(&e.dont_omitempty).as_bool() == Some(true);
        if !keep {
            return Ok(None);
        }
        if matches!(f.kind(), Kind::Message(_)) && !f.is_list() {
            return Err(format!(
                "{} must be set (amino.dont_omitempty on a message field)",
                f.full_name()
            ));
        }
    }
    let value = m.get_field(f);
    Ok(Some((name, field_json(f, &value, e)?)))
}

/// A field's value: its `amino.encoding` or `cosmos_proto.scalar` encoder
/// first, else the value's own encoding.
fn field_json(f: &FieldDescriptor, v: &Value, e: &Exts) -> Result<Json, String> {
    let fopts = f.options();
    match string_option(&fopts, &e.encoding).as_deref() {
        Some("legacy_coins") => {
            return match v {
                Value::List(items) => Ok(Json::Arr(list(items)?)),
                _ => Err(unsupported(&format!("legacy_coins on {}", f.full_name()))),
            }
        }
        Some("cosmos_dec_bytes") => return dec_json(v),
        Some("inline_json") => return Err(unsupported("inline_json")),
        // Unknown encodings fall through, as in the SDK's encoder.
        _ => {}
    }
    match string_option(&fopts, &e.scalar).as_deref() {
        Some("cosmos.Dec") => dec_json(v),
        Some("cosmos.Int") => int_json(v),
        _ => match v {
            // An empty repeated field kept by dont_omitempty: Go's invalid list.
            Value::List(items) if items.is_empty() => Ok(Json::Null),
            _ => value_json(v),
        },
    }
}

fn list(items: &[Value]) -> Result<Vec<Json>, String> {
    items.iter().map(value_json).collect()
}

fn value_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::I32(n) | Value::EnumNumber(n) => Json::Num(n.to_string()),
        Value::U32(n) => Json::Num(n.to_string()),
        Value::I64(n) => Json::Str(n.to_string()),
        Value::U64(n) => Json::Str(n.to_string()),
        Value::String(s) => Json::Str(s.clone()),
        Value::Bytes(b) => Json::Str(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Message(m) => message_json(m)?,
        Value::List(items) => Json::Arr(list(items)?),
        Value::F32(_) | Value::F64(_) => return Err(unsupported("floating-point fields")),
        Value::Map(_) => return Err(unsupported("map fields")),
    })
}

/// `google.protobuf.Any`: `{"type": amino name or "/" + full name, "value": …}`.
fn any_json(m: &DynamicMessage) -> Result<Json, String> {
    let url = m.get_field_by_name("type_url");
    let url = url.as_deref().and_then(Value::as_str).unwrap_or_default();
    let value = m.get_field_by_name("value");
    let bytes = value
        .as_deref()
        .and_then(Value::as_bytes)
        .cloned()
        .unwrap_or_default();
    let desc = descriptor_of(url)?;
    let name = string_option(&desc.options(), &exts()?.name)
        .unwrap_or_else(|| format!("/{}", desc.full_name()));
    let inner = decode(desc, &bytes, url)?;
    Ok(typed(name, message_json(&inner)?))
}

/// `key_field`: the message is its `key` bytes, base64 (null when empty).
fn key_field(m: &DynamicMessage) -> Result<Json, String> {
    let key = m
        .get_field_by_name("key")
        .ok_or_else(|| format!("{} has no key field", m.descriptor().full_name()))?;
    match key.as_bytes() {
        Some(b) if b.is_empty() => Ok(Json::Null),
        Some(b) => Ok(Json::Str(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
        None => Err(format!("{}: key is not bytes", m.descriptor().full_name())),
    }
}

/// `cosmos.Int`: the string as it is, "" as "0".
fn int_json(v: &Value) -> Result<Json, String> {
    match v {
        Value::String(s) if s.is_empty() => Ok(Json::str("0")),
        Value::String(s) => Ok(Json::str(s.as_str())),
        _ => Err(unsupported("cosmos.Int that is not a string")),
    }
}

/// `cosmos.Dec` (a string) or `cosmos_dec_bytes` (bytes): the LegacyDec
/// integer (value × 10^18) as the SDK's `LegacyDec.String()` writes it;
/// empty is "0".
fn dec_json(v: &Value) -> Result<Json, String> {
    let raw = match v {
        Value::String(s) => s.as_bytes(),
        Value::Bytes(b) => b.as_ref(),
        _ => return Err(unsupported("cosmos.Dec that is neither a string nor bytes")),
    };
    if raw.is_empty() {
        return Ok(Json::str("0"));
    }
    let s = std::str::from_utf8(raw).map_err(|_| "a cosmos.Dec is not UTF-8".to_string())?;
    legacy_dec_string(s).map(Json::Str)
}

/// `LegacyDec.String()` of the integer `atomics` (value × 10^18): "0.5" is
/// stored as "500000000000000000" and written "0.500000000000000000".
pub fn legacy_dec_string(atomics: &str) -> Result<String, String> {
    let digits = atomics.strip_prefix('-').unwrap_or(atomics);
    // The SDK's limit is 316 bits (about 96 digits); 100 digits bound the work.
    (!digits.is_empty() && digits.len() <= 100)
        .then(|| verdict_proto::json::legacy_dec_checked(atomics))
        .flatten()
        .ok_or_else(|| format!("{atomics:?} is not a LegacyDec (an integer: the value × 10^18)"))
}

fn unsupported(what: &str) -> String {
    format!("{what} cannot be encoded as legacy amino JSON on this chain")
}

#[cfg(test)]
#[path = "amino_tests.rs"]
mod tests;
