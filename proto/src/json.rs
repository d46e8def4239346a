//! Messages as JSON the way the Cosmos SDK's REST gateway writes them: proto3
//! JSON with the `.proto` field names and every field present (gogo jsonpb with
//! `OrigName` and `EmitDefaults`): 64-bit integers as strings, enums by name,
//! bytes in base64, `Any` as `{"@type": …, fields…}`. Where jsonpb and the
//! proto3 mapping differ, the SDK's choice wins: an unset message field is
//! `null` (or its empty value when gogoproto marks it non-nullable), and empty
//! bytes are `null`. [`Style::Plain`] is the same with 64-bit integers as JSON
//! numbers (the CLI's output).

use prost_reflect::{
    DynamicMessage, Kind, MessageDescriptor, ReflectMessage, SerializeOptions, Value,
};
use serde_json::Value as Json;

/// How 64-bit integers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As strings: the SDK gateway's JSON (the REST answers).
    Sdk,
    /// As numbers: what people and scripts read (the CLI's output).
    Plain,
}

/// `msg` as the SDK's gateway renders it.
pub fn render(msg: &DynamicMessage) -> Result<Json, String> {
    render_as(msg, Style::Sdk)
}

/// `msg` as JSON in `style`.
pub fn render_as(msg: &DynamicMessage, style: Style) -> Result<Json, String> {
    let opts = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(style == Style::Sdk);
    let mut msg = msg.clone();
    qualify_any_urls(&mut msg);
    let mut v = msg
        .serialize_with_options(serde_json::value::Serializer, &opts)
        .map_err(|e| format!("cannot render {}: {e}", msg.descriptor().full_name()))?;
    fill(&msg.descriptor(), &mut v);
    Ok(v)
}

/// The type URL prefix prost-reflect resolves `Any` by; Cosmos URLs are `/…`.
const GOOGLEAPIS: &str = "type.googleapis.com";

/// Every Cosmos-style `Any` URL (`/pkg.Msg`), payloads included, given the
/// prefix the JSON serializer resolves (it is taken off again in [`fill`]).
fn qualify_any_urls(msg: &mut DynamicMessage) {
    let pool = msg.descriptor().parent_pool().clone();
    if msg.descriptor().full_name() == "google.protobuf.Any" {
        let url = match msg.get_field_by_name("type_url").as_deref() {
            Some(Value::String(u)) if u.starts_with('/') => u.clone(),
            _ => return,
        };
        if let Some(desc) = pool.get_message_by_name(&url[1..]) {
            let value = match msg.get_field_by_name("value").as_deref() {
                Some(Value::Bytes(b)) => b.clone(),
                _ => return,
            };
            if let Ok(mut inner) = DynamicMessage::decode(desc, value) {
                qualify_any_urls(&mut inner);
                msg.set_field_by_name(
                    "value",
                    Value::Bytes(prost::Message::encode_to_vec(&inner).into()),
                );
                msg.set_field_by_name("type_url", Value::String(format!("{GOOGLEAPIS}{url}")));
            }
        }
        return;
    }
    for (_, v) in msg.fields_mut() {
        match v {
            Value::Message(m) => qualify_any_urls(m),
            Value::List(items) => items.iter_mut().for_each(|i| {
                if let Value::Message(m) = i {
                    qualify_any_urls(m);
                }
            }),
            Value::Map(entries) => entries.values_mut().for_each(|i| {
                if let Value::Message(m) = i {
                    qualify_any_urls(m);
                }
            }),
            _ => {}
        }
    }
}

/// True when gogoproto marks the field `(gogoproto.nullable) = false`.
fn non_nullable(field: &prost_reflect::FieldDescriptor) -> bool {
    let pool = field.parent_pool();
    let Some(ext) = pool.get_extension_by_name("gogoproto.nullable") else {
        return false;
    };
    let opts = field.options();
    opts.has_extension(&ext) && matches!(*opts.get_extension(&ext), Value::Bool(false))
}

/// True for a `cosmos.Dec` field (gogoproto `LegacyDec`): its wire form is the
/// fixed-point integer with 18 implied decimals, its JSON the decimal.
fn is_legacy_dec(field: &prost_reflect::FieldDescriptor) -> bool {
    let pool = field.parent_pool();
    let opts = field.options();
    let ext_is = |name: &str, want: &[&str]| {
        pool.get_extension_by_name(name).is_some_and(|ext| {
            opts.has_extension(&ext)
                && opts
                    .get_extension(&ext)
                    .as_str()
                    .is_some_and(|v| want.contains(&v))
        })
    };
    ext_is(
        "gogoproto.customtype",
        &[
            "cosmossdk.io/math.LegacyDec",
            "github.com/cosmos/cosmos-sdk/types.Dec",
        ],
    ) || ext_is("cosmos_proto.scalar", &["cosmos.Dec"])
}

/// `LegacyDec`'s JSON of its wire integer: 18 decimals, `0.500000000000000000`
/// for `500000000000000000` (empty: zero). Text that is not an integer is
/// left as it is.
pub fn legacy_dec(int: &str) -> String {
    legacy_dec_checked(int).unwrap_or_else(|| int.to_string())
}

/// `LegacyDec.String()` of its wire integer (the value × 10^18, an optional
/// `-`, empty: zero); `None` when it is not an integer.
pub fn legacy_dec_checked(int: &str) -> Option<String> {
    let (neg, digits) = match int.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, int),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    let padded = format!("{digits:0>19}");
    let (whole, frac) = padded.split_at(padded.len() - 18);
    let sign = if neg && !digits.is_empty() { "-" } else { "" };
    Some(format!("{sign}{whole}.{frac}"))
}

fn is_well_known(desc: &MessageDescriptor) -> bool {
    desc.package_name() == "google.protobuf"
}

/// The fields jsonpb writes and the proto3 mapping leaves out, added in place.
fn fill(desc: &MessageDescriptor, v: &mut Json) {
    let Json::Object(map) = v else {
        return;
    };
    if desc.full_name() == "google.protobuf.Any" {
        if let Some(Json::String(t)) = map.get_mut("@type") {
            if let Some(rest) = t.strip_prefix(GOOGLEAPIS) {
                *t = rest.to_string();
            }
        }
        // The packed message's own fields sit beside "@type".
        let inner = map
            .get("@type")
            .and_then(Json::as_str)
            .and_then(|t| t.rsplit('/').next())
            .and_then(|n| desc.parent_pool().get_message_by_name(n));
        if let Some(inner) = inner.filter(|d| !is_well_known(d)) {
            fill(&inner, v);
        }
        return;
    }
    for field in desc.fields() {
        let name = field.name();
        if !field.is_list() && is_legacy_dec(&field) {
            // Strings hold the integer text; bytes hold it too (as base64 here).
            let text = match (field.kind(), map.get(name)) {
                (Kind::String, Some(Json::String(t))) => Some(t.clone()),
                (Kind::Bytes, Some(Json::String(b))) => {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .ok()
                        .and_then(|v| String::from_utf8(v).ok())
                }
                (Kind::Bytes, Some(Json::Null)) => Some(String::new()),
                _ => None,
            };
            if let Some(t) = text {
                map.insert(name.to_string(), Json::String(legacy_dec(&t)));
                continue;
            }
        }
        match (field.kind(), map.get_mut(name)) {
            (Kind::Bytes, Some(Json::String(s))) if s.is_empty() && !field.is_list() => {
                map.insert(name.to_string(), Json::Null);
            }
            (Kind::Message(m), Some(x))
                if !is_well_known(&m) || m.full_name() == "google.protobuf.Any" =>
            {
                if field.is_map() {
                    continue;
                }
                match x {
                    Json::Array(items) => items.iter_mut().for_each(|i| fill(&m, i)),
                    other => fill(&m, other),
                }
            }
            (Kind::Message(m), None) if field.containing_oneof().is_none() => {
                let value = if non_nullable(&field) {
                    render_as(&DynamicMessage::new(m), Style::Sdk).unwrap_or(Json::Null)
                } else {
                    Json::Null
                };
                map.insert(name.to_string(), value);
            }
            _ => {}
        }
    }
}

/// The descriptor of a gRPC method, by its path (`/pkg.Service/Method`).
pub fn method(path: &str) -> Option<prost_reflect::MethodDescriptor> {
    let (service, name) = path.trim_start_matches('/').split_once('/')?;
    crate::descriptor_pool()
        .get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == name)
}

/// The request bytes of the method at `path` from JSON (proto3 JSON, either
/// field-name form; 64-bit integers as numbers or strings).
pub fn request(path: &str, json: &Json) -> Result<Vec<u8>, String> {
    let m = method(path).ok_or_else(|| format!("unknown method {path}"))?;
    let msg = DynamicMessage::deserialize(m.input(), json)
        .map_err(|e| format!("not a {}: {e}", m.input().full_name()))?;
    Ok(prost::Message::encode_to_vec(&msg))
}

/// The response bytes of the method at `path` as JSON in `style`.
pub fn response(path: &str, bytes: &[u8], style: Style) -> Result<Json, String> {
    let m = method(path).ok_or_else(|| format!("unknown method {path}"))?;
    let msg = DynamicMessage::decode(m.output(), bytes)
        .map_err(|e| format!("not a {}: {e}", m.output().full_name()))?;
    render_as(&msg, style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_decs_have_eighteen_decimals() {
        assert_eq!(legacy_dec("50000000000000000"), "0.050000000000000000");
        assert_eq!(
            legacy_dec("105000000000000000000000000"),
            "105000000.000000000000000000"
        );
        assert_eq!(legacy_dec("0"), "0.000000000000000000");
        assert_eq!(legacy_dec(""), "0.000000000000000000");
        assert_eq!(legacy_dec("-1"), "-0.000000000000000001");
        assert_eq!(legacy_dec("0.5"), "0.5");
    }
    use prost::Message;

    fn dynamic<M: Message>(name: &str, m: &M) -> DynamicMessage {
        let d = crate::descriptor_pool()
            .get_message_by_name(name)
            .expect("test value");
        DynamicMessage::decode(d, m.encode_to_vec().as_slice()).expect("test value")
    }

    #[test]
    fn balances_render_as_the_sdk_gateway_does() {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::QueryAllBalancesResponse;
        use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse;
        use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
        let r = QueryAllBalancesResponse {
            balances: vec![Coin {
                denom: "uverd".into(),
                amount: "100".into(),
            }],
            pagination: Some(PageResponse {
                next_key: vec![],
                total: 1,
            }),
        };
        let v = render(&dynamic("cosmos.bank.v1beta1.QueryAllBalancesResponse", &r))
            .expect("test value");
        assert_eq!(
            v,
            serde_json::json!({
                "balances": [{"denom": "uverd", "amount": "100"}],
                "pagination": {"next_key": null, "total": "1"}
            })
        );
        let empty = QueryAllBalancesResponse::default();
        let v = render(&dynamic(
            "cosmos.bank.v1beta1.QueryAllBalancesResponse",
            &empty,
        ))
        .expect("test value");
        assert_eq!(v, serde_json::json!({"balances": [], "pagination": null}));
    }

    #[test]
    fn non_nullable_messages_render_empty_not_null() {
        use cosmos_sdk_proto::cosmos::staking::v1beta1::Validator;
        let v = render(&dynamic(
            "cosmos.staking.v1beta1.Validator",
            &Validator::default(),
        ))
        .expect("test value");
        // `description` and `commission` are (gogoproto.nullable) = false.
        assert_eq!(v["description"]["moniker"], "");
        assert_eq!(
            v["commission"]["commission_rates"]["rate"],
            "0.000000000000000000"
        );
        assert_eq!(v["delegator_shares"], "0.000000000000000000");
        assert_eq!(v["consensus_pubkey"], Json::Null);
        assert_eq!(v["status"], "BOND_STATUS_UNSPECIFIED");
        assert_eq!(v["tokens"], "");
        assert_eq!(v["unbonding_height"], "0");
    }
}
