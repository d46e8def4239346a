//! One transaction view shared by ibc-rs's core context and the applications
//! during one dispatch.
//!
//! ibc-rs gives its handlers the core context (`IbcContext`) and the router of
//! applications as two separate `&mut` values, but ICS-20 moves tokens in the
//! very callbacks that run while the core context writes packets, receipts and
//! acknowledgements, and `send_transfer` takes both contexts at once. Both sides
//! therefore hold a [`SharedStore`] over one `RefCell` of the transaction's
//! (gas-metered) view. Every call borrows the view only for its own duration and
//! calls nothing back while it holds it, so no borrow ever overlaps another;
//! an iterator re-borrows for each step (one `range(..).next()` per item,
//! resuming after the last key), so nothing stays borrowed between steps.

use std::cell::RefCell;

use cosmwasm_std::{Order, Record, Storage};

/// The cell both contexts share.
pub type StoreCell<'s> = RefCell<&'s mut dyn Storage>;

/// A handle on a [`StoreCell`] that is itself a `Storage`.
#[derive(Clone, Copy)]
pub struct SharedStore<'c, 's> {
    cell: &'c StoreCell<'s>,
}

impl<'c, 's> SharedStore<'c, 's> {
    pub fn new(cell: &'c StoreCell<'s>) -> Self {
        SharedStore { cell }
    }
}

impl Storage for SharedStore<'_, '_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.cell.borrow().get(key)
    }

    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a> {
        Box::new(Steps {
            cell: self.cell,
            lo: start.map(<[u8]>::to_vec),
            hi: end.map(<[u8]>::to_vec),
            order,
            done: false,
        })
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.cell.borrow_mut().set(key, value)
    }

    fn remove(&mut self, key: &[u8]) {
        self.cell.borrow_mut().remove(key)
    }
}

/// A range walked one item per borrow.
struct Steps<'c, 's> {
    cell: &'c StoreCell<'s>,
    /// Inclusive lower bound.
    lo: Option<Vec<u8>>,
    /// Exclusive upper bound.
    hi: Option<Vec<u8>>,
    order: Order,
    done: bool,
}

impl Iterator for Steps<'_, '_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.done {
            return None;
        }
        let item = self
            .cell
            .borrow()
            .range(self.lo.as_deref(), self.hi.as_deref(), self.order)
            .next();
        let Some((k, v)) = item else {
            self.done = true;
            return None;
        };
        match self.order {
            Order::Ascending => {
                let mut after = k.clone();
                after.push(0);
                self.lo = Some(after);
            }
            Order::Descending => self.hi = Some(k.clone()),
        }
        Some((k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[test]
    fn two_handles_see_each_others_writes_and_ranges_match_the_inner_store() {
        let mut inner = MockStorage::new();
        for k in [&b"a"[..], b"b", b"b\0", b"ba", b"c"] {
            inner.set(k, k);
        }
        let want_asc: Vec<Record> = inner
            .range(Some(b"b"), Some(b"c"), Order::Ascending)
            .collect();
        let want_desc: Vec<Record> = inner.range(None, Some(b"c"), Order::Descending).collect();
        let cell: StoreCell<'_> = RefCell::new(&mut inner);
        let mut a = SharedStore::new(&cell);
        let b = SharedStore::new(&cell);
        a.set(b"z", b"1");
        assert_eq!(b.get(b"z"), Some(b"1".to_vec()));
        a.remove(b"z");
        assert_eq!(b.get(b"z"), None);
        let asc: Vec<Record> = b.range(Some(b"b"), Some(b"c"), Order::Ascending).collect();
        assert_eq!(asc, want_asc);
        let desc: Vec<Record> = b.range(None, Some(b"c"), Order::Descending).collect();
        assert_eq!(desc, want_desc);
        // A write between steps is seen by the rest of the walk, and no borrow
        // is held across steps (this would panic otherwise).
        let mut it = b.range(None, None, Order::Ascending);
        assert_eq!(it.next().map(|r| r.0), Some(b"a".to_vec()));
        a.set(b"aa", b"x");
        assert_eq!(it.next().map(|r| r.0), Some(b"aa".to_vec()));
    }
}
