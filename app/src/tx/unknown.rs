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

/// What was found.
enum Found {
    Malformed(String),
    Unknown(u32),
}

/// Where a refusal was found, built on the way out (only when refusing).
struct Fail {
    found: Found,
    /// Path segments, innermost first.
    trail: Vec<String>,
}

impl Fail {
    fn malformed(why: impl Into<String>) -> Self {
        Fail {
            found: Found::Malformed(why.into()),
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
        match f.found {
            Found::Malformed(why) => Refusal::Malformed(format!("{path}: {why}")),
            Found::Unknown(number) => Refusal::Unknown { number, path },
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
    let mut nested: Vec<Nested> = Vec::new();
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
            return Err(Fail {
                found: Found::Unknown(number),
                trail: Vec::new(),
            });
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
            // Each element of a list or map is a message of its own; a
            // singular message given more than once is the merge of its
            // occurrences (their concatenation) and is checked as that, or an
            // Any's type_url from one and value from another would each pass
            // alone (review of 82ae977).
            let merges = !(field.is_list() || field.is_map());
            match nested
                .iter_mut()
                .find(|n| merges && n.field.number() == number)
            {
                Some(n) => n.more.push(inner_bytes),
                None => nested.push(Nested {
                    field,
                    desc: inner,
                    first: inner_bytes,
                    more: Vec::new(),
                }),
            }
        }
    }
    for n in nested {
        n.scan(depth + 1)?;
    }
    if any {
        scan_any_value(type_url, value, depth + 1)?;
    }
    Ok(())
}

/// An Any's value, as the type its type_url names. A type the node does not
/// know is refused later, by the message decoders; a type_url that is not
/// UTF-8 cannot name a known one.
fn scan_any_value(type_url: &[u8], value: &[u8], depth: u32) -> Result<(), Fail> {
    let url = std::str::from_utf8(type_url).unwrap_or_default();
    match verdict_proto::descriptor_pool().get_message_by_name(url.trim_start_matches('/')) {
        Some(inner) => scan(&inner, value, false, depth).map_err(|f| f.within(format!(" ({url})"))),
        None => Ok(()),
    }
}

/// A message inside the one being scanned: a list or map element, or a
/// singular field with all its occurrences.
struct Nested<'a> {
    field: prost_reflect::FieldDescriptor,
    desc: MessageDescriptor,
    first: &'a [u8],
    /// Later occurrences of a singular field (none, the common case, allocates
    /// nothing).
    more: Vec<&'a [u8]>,
}

impl Nested<'_> {
    fn scan(self, depth: u32) -> Result<(), Fail> {
        let merged;
        let bytes = if self.more.is_empty() {
            self.first
        } else {
            let mut all = self.first.to_vec();
            self.more.iter().for_each(|p| all.extend_from_slice(p));
            merged = all;
            merged.as_slice()
        };
        scan(&self.desc, bytes, false, depth)
            .map_err(|f| f.within(format!(".{}", self.field.name())))
    }
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
