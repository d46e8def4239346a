//! The REST paths of gRPC methods, read from their `google.api.http` options
//! (the same annotations the Cosmos SDK's grpc-gateway is generated from), and
//! the matching of a request path against them.

use prost_reflect::{DynamicMessage, MethodDescriptor, Value};

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{field}` or `{field=*}`: one segment into the (possibly dotted) field.
    Var(String),
    /// `{field=**}`: one or more segments, slashes included (up to the
    /// literal segments that may follow it, as in ibc-go's
    /// `/denoms/{denom=**}/total_escrow`).
    Rest(String),
}

/// A path template such as `/cosmos/bank/v1beta1/balances/{address}/by_denom`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
    /// Text the last segment must end with after a `:` (`/x/{name}:verb`).
    verb: Option<String>,
    raw: String,
}

impl Template {
    /// Parses a google.api.http path template; `None` for a form it does not serve.
    pub fn parse(raw: &str) -> Option<Template> {
        let body = raw.strip_prefix('/')?;
        let (body, verb) = match body.rsplit_once(':') {
            Some((b, v)) if !v.contains('/') && !v.contains('}') => (b, Some(v.to_string())),
            _ => (body, None),
        };
        let mut segments = Vec::new();
        for part in body.split('/') {
            let seg = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(var) => match var.split_once('=') {
                    None | Some((_, "*")) => Segment::Var(var.split('=').next()?.to_string()),
                    Some((name, "**")) => Segment::Rest(name.to_string()),
                    Some(_) => return None,
                },
                None if part.contains('{') || part.contains('}') => return None,
                None => Segment::Literal(part.to_string()),
            };
            segments.push(seg);
        }
        // After a `**`, only literal segments.
        if let Some(i) = segments.iter().position(|s| matches!(s, Segment::Rest(_))) {
            if segments[i + 1..]
                .iter()
                .any(|s| !matches!(s, Segment::Literal(_)))
            {
                return None;
            }
        }
        Some(Template {
            segments,
            verb,
            raw: raw.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The path with every variable replaced by `value(field)`.
    pub fn fill(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Var(f) | Segment::Rest(f) => out.push_str(&value(f)),
            }
        }
        if let Some(v) = &self.verb {
            out.push(':');
            out.push_str(v);
        }
        out
    }

    /// Literal segments first, then fewer variables: how specific the template
    /// is, so `/txs/{hash}` never hides `/txs/block/{height}`.
    pub fn specificity(&self) -> (usize, usize) {
        let lit = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (lit, self.segments.len())
    }

    /// The field values bound by `path` (percent-decoded), or `None` when it
    /// does not match.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let body = path.strip_prefix('/')?;
        let body = match &self.verb {
            Some(v) => body.strip_suffix(v.as_str())?.strip_suffix(':')?,
            None => body,
        };
        let parts: Vec<&str> = body.split('/').collect();
        let mut bound = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Var(f) => {
                    let p = parts.get(i)?;
                    if p.is_empty() {
                        return None;
                    }
                    bound.push((f.clone(), percent_decode(p)?));
                }
                Segment::Rest(f) => {
                    let tail = &self.segments[i + 1..];
                    let end = parts.len().checked_sub(tail.len())?;
                    for (seg, part) in tail.iter().zip(parts.get(end..)?) {
                        if !matches!(seg, Segment::Literal(l) if l == part) {
                            return None;
                        }
                    }
                    let rest = parts.get(i..end)?.join("/");
                    if rest.is_empty() {
                        return None;
                    }
                    bound.push((f.clone(), percent_decode(&rest)?));
                    return Some(bound);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(bound)
    }
}

/// `%XX` escapes decoded (and `+` kept: it is not a space in a path).
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// HTTP verb, path template and body rule of one binding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub verb: http::Method,
    pub template: Template,
    /// `Some("*")`: the whole request message is the JSON body.
    pub body: Option<String>,
}

/// Every binding of `method`'s `google.api.http` option (the rule and its
/// `additional_bindings`).
pub fn bindings(method: &MethodDescriptor) -> Vec<Binding> {
    let pool = method.parent_pool();
    let Some(ext) = pool.get_extension_by_name("google.api.http") else {
        return vec![];
    };
    let opts = method.options();
    if !opts.has_extension(&ext) {
        return vec![];
    }
    let rule = opts.get_extension(&ext);
    let Some(rule) = rule.as_message() else {
        return vec![];
    };
    let mut out = Vec::new();
    rule_bindings(rule, &mut out);
    if let Some(Value::List(extra)) = rule.get_field_by_name("additional_bindings").as_deref() {
        for r in extra.iter().filter_map(Value::as_message) {
            rule_bindings(r, &mut out);
        }
    }
    out
}

fn rule_bindings(rule: &DynamicMessage, out: &mut Vec<Binding>) {
    let verbs = [
        ("get", http::Method::GET),
        ("post", http::Method::POST),
        ("put", http::Method::PUT),
        ("delete", http::Method::DELETE),
        ("patch", http::Method::PATCH),
    ];
    for (field, verb) in verbs {
        if !rule.has_field_by_name(field) {
            continue;
        }
        let path = rule.get_field_by_name(field);
        let Some(path) = path.as_deref().and_then(Value::as_str) else {
            continue;
        };
        if let Some(template) = Template::parse(path) {
            let body = rule
                .get_field_by_name("body")
                .as_deref()
                .and_then(Value::as_str)
                .filter(|b| !b.is_empty())
                .map(str::to_string);
            out.push(Binding {
                verb,
                template,
                body,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_bind_fields() {
        let t = Template::parse("/cosmos/bank/v1beta1/balances/{address}/by_denom")
            .expect("test value");
        assert_eq!(
            t.matches("/cosmos/bank/v1beta1/balances/verdict1xyz/by_denom"),
            Some(vec![("address".into(), "verdict1xyz".into())])
        );
        assert_eq!(t.matches("/cosmos/bank/v1beta1/balances/verdict1xyz"), None);
        assert_eq!(t.matches("/cosmos/bank/v1beta1/balances//by_denom"), None);

        let t =
            Template::parse("/cosmos/bank/v1beta1/denoms_metadata/{denom=**}").expect("test value");
        assert_eq!(
            t.matches("/cosmos/bank/v1beta1/denoms_metadata/ibc/AB%2FCD"),
            Some(vec![("denom".into(), "ibc/AB/CD".into())])
        );
        let t = Template::parse("/ibc/core/channel/v1/channels/{channel_id}/ports/{port_id}")
            .expect("test value");
        assert_eq!(
            t.matches("/ibc/core/channel/v1/channels/channel-0/ports/transfer"),
            Some(vec![
                ("channel_id".into(), "channel-0".into()),
                ("port_id".into(), "transfer".into())
            ])
        );
        assert!(Template::parse("no/leading/slash").is_none());
        assert!(Template::parse("/a/{x=**}/{y}").is_none());
        let t = Template::parse("/ibc/apps/transfer/v1/denoms/{denom=**}/total_escrow")
            .expect("a literal after **");
        assert_eq!(
            t.matches("/ibc/apps/transfer/v1/denoms/ibc/AB12/total_escrow"),
            Some(vec![("denom".into(), "ibc/AB12".into())])
        );
        assert_eq!(
            t.matches("/ibc/apps/transfer/v1/denoms/uverd/total_escrow"),
            Some(vec![("denom".into(), "uverd".into())])
        );
        assert!(t
            .matches("/ibc/apps/transfer/v1/denoms/total_escrow")
            .is_none());
        assert!(t
            .matches("/ibc/apps/transfer/v1/denoms/uverd/other")
            .is_none());
        assert!(percent_decode("%zz").is_none());
    }

    #[test]
    fn bank_balances_has_its_sdk_path() {
        let pool = verdict_proto::descriptor_pool();
        let m = pool
            .get_service_by_name("cosmos.bank.v1beta1.Query")
            .and_then(|s| s.methods().find(|m| m.name() == "AllBalances"))
            .expect("test value");
        let b = bindings(&m);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].verb, http::Method::GET);
        assert_eq!(
            b[0].template.as_str(),
            "/cosmos/bank/v1beta1/balances/{address}"
        );
        let sim = pool
            .get_service_by_name("cosmos.tx.v1beta1.Service")
            .and_then(|s| s.methods().find(|m| m.name() == "Simulate"))
            .expect("test value");
        let b = bindings(&sim);
        assert_eq!(b[0].verb, http::Method::POST);
        assert_eq!(b[0].body.as_deref(), Some("*"));
    }
}
