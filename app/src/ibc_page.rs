//! SDK pagination for IBC core's list queries, which ibc-query answers whole
//! ("no support for pagination yet"): the answer's one list is cut to the page
//! the request asks for, through the method's descriptors, and `pagination`
//! says where the next page starts (the position of its first item, 8 bytes
//! big-endian: lists are short and ordered the same way each time).

use prost::Message;
use prost_reflect::{DynamicMessage, Value};
use verdict_core::codes;
use verdict_core::module::QueryError;

/// `response` of the IBC method `path`, cut to the page `request` asks for;
/// answers without a list and a `pagination` field are returned as they are.
pub fn paginate(path: &str, request: &[u8], response: Vec<u8>) -> Result<Vec<u8>, QueryError> {
    let Some(method) = verdict_proto::json::method(path) else {
        return Ok(response);
    };
    let output = method.output();
    let (Some(page_field), Some(list_field)) = (
        output.get_field_by_name("pagination"),
        output.fields().find(|f| f.is_list()),
    ) else {
        return Ok(response);
    };
    let bad = |e: String| QueryError::new(codes::INVALID_REQUEST, e);
    let req = DynamicMessage::decode(method.input(), request).map_err(|e| bad(e.to_string()))?;
    let page_req = match req.get_field_by_name("pagination").as_deref() {
        Some(Value::Message(m)) => Some(
            cosmrs::proto::cosmos::base::query::v1beta1::PageRequest::decode(
                m.encode_to_vec().as_slice(),
            )
            .map_err(|e| bad(e.to_string()))?,
        ),
        _ => None,
    };
    let mut resp = DynamicMessage::decode(output, response.as_slice())
        .map_err(|e| QueryError::new(1, format!("ibc answer: {e}")))?;
    let items: Vec<(Vec<u8>, Value)> = match resp.get_field(&list_field).as_ref() {
        Value::List(l) => l
            .iter()
            .enumerate()
            .map(|(i, v)| ((i as u64).to_be_bytes().to_vec(), v.clone()))
            .collect(),
        _ => return Ok(response),
    };
    let (page, info) = verdict_core::page::paginate(items, page_req.as_ref()).map_err(bad)?;
    resp.set_field(&list_field, Value::List(page));
    let prost_reflect::Kind::Message(page_desc) = page_field.kind() else {
        return Ok(response);
    };
    let info = DynamicMessage::decode(page_desc, info.encode_to_vec().as_slice())
        .map_err(|e| QueryError::new(1, e.to_string()))?;
    resp.set_field(&page_field, Value::Message(info));
    Ok(resp.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmrs::proto::cosmos::base::query::v1beta1::PageRequest;
    use verdict_ibc::ibc::core::channel::types::proto::v1::{
        IdentifiedChannel, QueryChannelsRequest, QueryChannelsResponse,
    };

    const PATH: &str = "/ibc.core.channel.v1.Query/Channels";

    fn all(n: usize) -> Vec<u8> {
        QueryChannelsResponse {
            channels: (0..n)
                .map(|i| IdentifiedChannel {
                    channel_id: format!("channel-{i}"),
                    port_id: "inference".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    fn ask(key: Vec<u8>, limit: u64) -> Vec<u8> {
        QueryChannelsRequest {
            pagination: Some(PageRequest {
                key,
                limit,
                count_total: true,
                ..Default::default()
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn ibc_lists_page_through_their_items() {
        let first = QueryChannelsResponse::decode(
            paginate(PATH, &ask(vec![], 2), all(3))
                .expect("page")
                .as_slice(),
        )
        .expect("decode");
        let ids: Vec<_> = first
            .channels
            .iter()
            .map(|c| c.channel_id.as_str())
            .collect();
        assert_eq!(ids, ["channel-0", "channel-1"]);
        let p = first.pagination.expect("pagination");
        assert_eq!(p.total, 3);
        let second = QueryChannelsResponse::decode(
            paginate(PATH, &ask(p.next_key, 2), all(3))
                .expect("page")
                .as_slice(),
        )
        .expect("decode");
        assert_eq!(second.channels.len(), 1);
        assert_eq!(second.channels[0].channel_id, "channel-2");
        assert!(second.pagination.expect("pagination").next_key.is_empty());
        // No pagination asked: the default page (100) holds everything.
        let whole = QueryChannelsResponse::decode(
            paginate(
                PATH,
                &QueryChannelsRequest::default().encode_to_vec(),
                all(3),
            )
            .expect("page")
            .as_slice(),
        )
        .expect("decode");
        assert_eq!(whole.channels.len(), 3);
        // A method without a list answers as it was.
        let one = b"\x0a\x01x".to_vec();
        assert_eq!(
            paginate("/ibc.core.channel.v1.Query/Channel", &[], one.clone()).expect("as is"),
            one
        );
    }
}
