//! ADR-020: a signed tx carries no field its decoder does not know, at any
//! depth (inside every `Any` whose type the node knows), so nothing is signed
//! that the chain would silently drop.
//!
//! The check reads the protobuf wire format directly against the descriptor
//! pool: a field's number is looked up, a message field is entered, every
//! other value is skipped by its wire type. Nothing is decoded into values
//! (the typed decoders that run next do that). A singular message field that
//! occurs more than once is checked as protobuf merges it, the concatenation
//! of its occurrences. Nesting is limited to 100 levels, across Anys too, and
//! groups (wire types 3, 4) are refused. It was a `prost_reflect::DynamicMessage`
//! decode and walk, ~15 % of verdictd's CPU under load (issue 18's profile),
//! which skipped the fields of an Any's own envelope.

use prost_reflect::{Kind, MessageDescriptor};

/// How deep messages may nest (prost's own recursion limit).
const MAX_DEPTH: u32 = 100;

const ANY: &str = "google.protobuf.Any";

/// Why a message was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not a well-formed protobuf message for its descriptor.
    Malformed(String),
    /// A field number the descriptor does not have, in the message at `path`.
    Unknown { number: u32, path: String },
}

/// Where a refusal was found, built on the way out (only when refusing).
struct Fail {
    malformed: Option<String>,
    number: u32,
    /// Path segments, innermost first.
    trail: Vec<String>,
}

impl Fail {
    fn malformed(why: impl Into<String>) -> Self {
        Fail {
            malformed: Some(why.into()),
            number: 0,
            trail: Vec::new(),
        }
    }

    fn unknown(number: u32) -> Self {
        Fail {
            malformed: None,
            number,
            trail: Vec::new(),
        }
    }

    fn within(mut self, segment: String) -> Self {
        self.trail.push(segment);
        self
    }
}

/// Checks `bytes` as a `desc` message. In the top message only, when
/// `non_critical_ok`, unknown fields with bit 11 set (numbers with 1024 in
/// them) pass: a TxBody's non-critical extensions, as in the SDK.
pub(super) fn check(
    desc: &MessageDescriptor,
    bytes: &[u8],
    non_critical_ok: bool,
) -> Result<(), Refusal> {
    scan(desc, bytes, non_critical_ok, 0).map_err(|f| {
        let mut path = desc.full_name().to_string();
        for seg in f.trail.iter().rev() {
            path.push_str(seg);
        }
        match f.malformed {
            Some(why) => Refusal::Malformed(format!("{path}: {why}")),
            None => Refusal::Unknown {
                number: f.number,
                path,
            },
        }
    })
}

fn scan(
    desc: &MessageDescriptor,
    mut bytes: &[u8],
    non_critical_ok: bool,
    depth: u32,
) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::malformed("recursion limit reached"));
    }
    let any = desc.full_name() == ANY;
    let (mut type_url, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut singular: Vec<(prost_reflect::FieldDescriptor, Vec<&[u8]>)> = Vec::new();
    while !bytes.is_empty() {
        let tag = varint(&mut bytes)?;
        let number = u32::try_from(tag >> 3)
            .ok()
            .filter(|n| (1..=0x1fff_ffff).contains(n))
            .ok_or_else(|| Fail::malformed(format!("invalid field number in tag {tag}")))?;
        let wire = tag & 7;
        let payload = skip(&mut bytes, wire)?;
        let Some(field) = desc.get_field(number) else {
            if non_critical_ok && number & 1024 != 0 {
                continue;
            }
            return Err(Fail::unknown(number));
        };
        if any {
            // Its payload is checked below, as its own type; both fields are
            // length-delimited (this check does not lean on prost's).
            let Some(p) = payload else {
                return Err(Fail::malformed(format!(
                    "field {} of an Any has wire type {wire}",
                    field.name()
                )));
            };
            match number {
                1 => type_url = p,
                _ => value = p,
            }
            continue;
        }
        if let Kind::Message(inner) = field.kind() {
            let Some(inner_bytes) = payload else {
                return Err(Fail::malformed(format!(
                    "message field {} has wire type {wire}",
                    field.name()
                )));
            };
            if field.is_list() || field.is_map() {
                scan(&inner, inner_bytes, false, depth + 1)
                    .map_err(|f| f.within(format!(".{}", field.name())))?;
            } else {
                // A singular message given more than once is the merge of
                // its occurrences (their concatenation): checked as that, or
                // an Any's type_url from one and value from another would
                // each pass alone (review of 82ae977).
                match singular.iter_mut().find(|(f, _)| f.number() == number) {
                    Some((_, parts)) => parts.push(inner_bytes),
                    None => singular.push((field, vec![inner_bytes])),
                }
            }
        }
    }
    scan_merged(singular, depth)?;
    if any {
        // A type the node does not know is refused later, by the message
        // decoders; a type_url that is not UTF-8 cannot name a known one.
        let url = std::str::from_utf8(type_url).unwrap_or_default();
        if let Some(inner) =
            verdict_proto::descriptor_pool().get_message_by_name(url.trim_start_matches('/'))
        {
            scan(&inner, value, false, depth + 1).map_err(|f| f.within(format!(" ({url})")))?;
        }
    }
    Ok(())
}

/// The singular message fields of one message, each as the merge of its
/// occurrences.
fn scan_merged(
    singular: Vec<(prost_reflect::FieldDescriptor, Vec<&[u8]>)>,
    depth: u32,
) -> Result<(), Fail> {
    for (field, parts) in singular {
        let Kind::Message(inner) = field.kind() else {
            continue;
        };
        let merged;
        let bytes = match parts.as_slice() {
            [one] => *one,
            many => {
                merged = many.concat();
                merged.as_slice()
            }
        };
        scan(&inner, bytes, false, depth + 1)
            .map_err(|f| f.within(format!(".{}", field.name())))?;
    }
    Ok(())
}

/// Reads one base-128 varint (at most ten bytes).
fn varint(bytes: &mut &[u8]) -> Result<u64, Fail> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some((&b, rest)) = bytes.split_first() else {
            return Err(Fail::malformed("truncated varint"));
        };
        *bytes = rest;
        if i == 9 && b > 1 {
            return Err(Fail::malformed("varint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Fail::malformed("varint longer than ten bytes"))
}

/// Skips one value of wire type `wire`; a length-delimited one is returned.
fn skip<'a>(bytes: &mut &'a [u8], wire: u64) -> Result<Option<&'a [u8]>, Fail> {
    let len = match wire {
        0 => {
            varint(bytes)?;
            return Ok(None);
        }
        1 => 8,
        2 => usize::try_from(varint(bytes)?).unwrap_or(usize::MAX),
        5 => 4,
        // Groups (3, 4) are in no message the chain knows; 6 and 7 do not exist.
        other => return Err(Fail::malformed(format!("unsupported wire type {other}"))),
    };
    if len > bytes.len() {
        return Err(Fail::malformed("truncated value"));
    }
    let (value, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok((wire == 2).then_some(value))
}

#[cfg(test)]
mod tests;
