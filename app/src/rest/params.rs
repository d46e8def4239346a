//! Request messages from a REST call: path variables and query parameters set
//! fields by (dotted) name, as grpc-gateway does (`pagination.limit=10`,
//! `events=a&events=b` for a repeated field), or the JSON body for `body: "*"`.

use base64::Engine;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};

/// Sets `dotted` (e.g. `pagination.limit`, by proto or JSON field name) to the
/// text `raw`; a repeated field gets one more element.
pub fn set(msg: &mut DynamicMessage, dotted: &str, raw: &str) -> Result<(), String> {
    let (head, tail) = match dotted.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (dotted, None),
    };
    let field = find(&msg.descriptor(), head)
        .ok_or_else(|| format!("{} has no field {head:?}", msg.descriptor().full_name()))?;
    match tail {
        Some(rest) => {
            let Kind::Message(_) = field.kind() else {
                return Err(format!("field {head:?} is not a message"));
            };
            if field.is_list() || field.is_map() {
                return Err(format!(
                    "field {head:?}: nested repeated fields are not settable"
                ));
            }
            let inner = msg.get_field_mut(&field);
            match inner {
                Value::Message(m) => set(m, rest, raw),
                _ => Err(format!("field {head:?} is not a message")),
            }
        }
        None => {
            if field.is_map() {
                return Err(format!("map field {head:?} cannot be set from a query"));
            }
            let v = scalar(&field, raw)?;
            if field.is_list() {
                if let Value::List(l) = msg.get_field_mut(&field) {
                    l.push(v);
                }
                Ok(())
            } else {
                msg.set_field(&field, v);
                Ok(())
            }
        }
    }
}

fn find(desc: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    desc.get_field_by_name(name)
        .or_else(|| desc.get_field_by_json_name(name))
}

fn scalar(field: &FieldDescriptor, raw: &str) -> Result<Value, String> {
    let bad = |what: &str| format!("field {:?}: {raw:?} is not {what}", field.name());
    Ok(match field.kind() {
        Kind::String => Value::String(raw.to_string()),
        Kind::Bool => match raw {
            "true" | "1" => Value::Bool(true),
            "false" | "0" | "" => Value::Bool(false),
            _ => return Err(bad("a bool")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(raw.parse().map_err(|_| bad("an int32"))?)
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64(raw.parse().map_err(|_| bad("an int64"))?)
        }
        Kind::Uint32 | Kind::Fixed32 => Value::U32(raw.parse().map_err(|_| bad("a uint32"))?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(raw.parse().map_err(|_| bad("a uint64"))?),
        Kind::Float | Kind::Double => return Err(bad("accepted: no float fields are served")),
        Kind::Bytes => {
            // grpc-gateway takes standard or URL-safe base64, padded or not.
            let e = base64::engine::general_purpose::STANDARD;
            let u = base64::engine::general_purpose::URL_SAFE;
            let trimmed = raw.trim_end_matches('=');
            let v = e
                .decode(raw)
                .or_else(|_| u.decode(raw))
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
                .map_err(|_| bad("base64"))?;
            Value::Bytes(v.into())
        }
        Kind::Enum(e) => {
            let n = match e.get_value_by_name(raw) {
                Some(v) => v.number(),
                None => raw.parse().map_err(|_| bad("a value of the enum"))?,
            };
            Value::EnumNumber(n)
        }
        Kind::Message(m) => {
            return Err(format!(
                "field {:?} is a message ({}); set its fields with dots",
                field.name(),
                m.full_name()
            ))
        }
    })
}

/// The request message from a JSON body (proto3 JSON, either field-name form).
pub fn from_json(desc: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(desc.clone()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let m = DynamicMessage::deserialize(desc.clone(), &mut de)
        .map_err(|e| format!("body is not a {} in JSON: {e}", desc.full_name()))?;
    de.end()
        .map_err(|e| format!("trailing data after the JSON body: {e}"))?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn desc(name: &str) -> MessageDescriptor {
        verdict_proto::descriptor_pool()
            .get_message_by_name(name)
            .expect("test value")
    }

    #[test]
    #[allow(deprecated)] // `events`: deprecated in SDK 0.50, still sent
    fn query_parameters_set_nested_and_repeated_fields() {
        let mut m = DynamicMessage::new(desc("cosmos.bank.v1beta1.QueryAllBalancesRequest"));
        set(&mut m, "address", "verdict1abc").expect("test value");
        set(&mut m, "pagination.limit", "5").expect("test value");
        set(&mut m, "pagination.countTotal", "true").expect("test value");
        set(&mut m, "pagination.key", "AAE=").expect("test value");
        let typed = cosmrs::proto::cosmos::bank::v1beta1::QueryAllBalancesRequest::decode(
            m.encode_to_vec().as_slice(),
        )
        .expect("test value");
        assert_eq!(typed.address, "verdict1abc");
        let p = typed.pagination.expect("test value");
        assert_eq!((p.limit, p.count_total, p.key), (5, true, vec![0, 1]));

        let mut ev = DynamicMessage::new(desc("cosmos.tx.v1beta1.GetTxsEventRequest"));
        set(&mut ev, "events", "a.b='1'").expect("test value");
        set(&mut ev, "events", "c.d='2'").expect("test value");
        set(&mut ev, "order_by", "ORDER_BY_DESC").expect("test value");
        let typed = cosmrs::proto::cosmos::tx::v1beta1::GetTxsEventRequest::decode(
            ev.encode_to_vec().as_slice(),
        )
        .expect("test value");
        assert_eq!(typed.events, vec!["a.b='1'", "c.d='2'"]);
        assert_eq!(typed.order_by, 2);
    }

    #[test]
    fn bad_parameters_are_clear_errors() {
        let mut m = DynamicMessage::new(desc("cosmos.bank.v1beta1.QueryAllBalancesRequest"));
        assert!(set(&mut m, "nope", "1")
            .expect_err("test error")
            .contains("no field"));
        assert!(set(&mut m, "pagination.limit", "x")
            .expect_err("test error")
            .contains("uint64"));
        assert!(set(&mut m, "pagination", "1")
            .expect_err("test error")
            .contains("dots"));
        assert!(set(&mut m, "address.x", "1").is_err());
        let d = desc("cosmos.tx.v1beta1.SimulateRequest");
        assert!(from_json(&d, b"{\"tx_bytes\": 5}").is_err());
        assert!(from_json(&d, b"{} x").is_err());
        assert!(from_json(&d, b"").is_ok());
    }
}
