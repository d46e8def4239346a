//! SDK pagination (`cosmos.base.query.v1beta1.PageRequest`) over a list that is
//! ordered by its store keys: `key` (start at this key), `offset`, `limit`
//! (default 100, at most [`MAX_LIMIT`]), `count_total` and `reverse`, and the
//! `PageResponse` with the key of the next page.

use cosmrs::proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};

/// Items of a page when the request names no limit (the SDK's default).
pub const DEFAULT_LIMIT: u64 = 100;
/// The most items one page holds, whatever the request asks.
pub const MAX_LIMIT: u64 = 1000;

/// One page of `items` (ascending by their keys, each key unique) as `req`
/// asks; a request with both `key` and `offset` is refused, as in the SDK.
pub fn paginate<T>(
    mut items: Vec<(Vec<u8>, T)>,
    req: Option<&PageRequest>,
) -> Result<(Vec<T>, PageResponse), String> {
    let req = req.cloned().unwrap_or_default();
    if !req.key.is_empty() && req.offset > 0 {
        return Err("invalid request, either offset or key is expected, got both".into());
    }
    let total = items.len() as u64;
    if req.reverse {
        items.reverse();
    }
    let start = if !req.key.is_empty() {
        items
            .iter()
            .position(|(k, _)| {
                if req.reverse {
                    k.as_slice() <= req.key.as_slice()
                } else {
                    k.as_slice() >= req.key.as_slice()
                }
            })
            .unwrap_or(items.len())
    } else {
        usize::try_from(req.offset)
            .unwrap_or(usize::MAX)
            .min(items.len())
    };
    let limit = match req.limit {
        0 => DEFAULT_LIMIT,
        l => l.min(MAX_LIMIT),
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut rest = items.into_iter().skip(start);
    let page: Vec<T> = rest.by_ref().take(limit).map(|(_, v)| v).collect();
    let next_key = rest.next().map(|(k, _)| k).unwrap_or_default();
    Ok((
        page,
        PageResponse {
            next_key,
            total: if req.count_total { total } else { 0 },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u8) -> Vec<(Vec<u8>, u8)> {
        (0..n).map(|i| (vec![i], i)).collect()
    }

    fn req(key: &[u8], offset: u64, limit: u64, count: bool, reverse: bool) -> PageRequest {
        PageRequest {
            key: key.to_vec(),
            offset,
            limit,
            count_total: count,
            reverse,
        }
    }

    #[test]
    fn pages_follow_next_keys_to_the_end() {
        let mut got = Vec::new();
        let mut key = Vec::new();
        loop {
            let (page, resp) =
                paginate(items(7), Some(&req(&key, 0, 3, false, false))).expect("page");
            got.extend(page);
            if resp.next_key.is_empty() {
                break;
            }
            key = resp.next_key;
        }
        assert_eq!(got, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn offset_limit_total_and_reverse() {
        let (p, r) = paginate(items(7), Some(&req(&[], 2, 2, true, false))).expect("page");
        assert_eq!((p, r.next_key, r.total), (vec![2, 3], vec![4], 7));
        let (p, r) = paginate(items(7), Some(&req(&[], 0, 3, false, true))).expect("page");
        assert_eq!((p, r.next_key, r.total), (vec![6, 5, 4], vec![3], 0));
        let (p, _) = paginate(items(7), Some(&req(&[3], 0, 2, false, true))).expect("page");
        assert_eq!(p, vec![3, 2]);
        let (p, r) = paginate(items(3), None).expect("page");
        assert_eq!((p.len(), r.next_key.is_empty()), (3, true));
        let (p, _) = paginate(items(3), Some(&req(&[], 9, 0, false, false))).expect("page");
        assert!(p.is_empty());
        assert!(paginate(items(3), Some(&req(&[1], 1, 0, false, false))).is_err());
        let many: Vec<(Vec<u8>, u32)> = (0..2000u32)
            .map(|i| (i.to_be_bytes().to_vec(), i))
            .collect();
        let (p, _) = paginate(many, Some(&req(&[], 0, 5000, false, false))).expect("page");
        assert_eq!(p.len() as u64, MAX_LIMIT);
    }
}
