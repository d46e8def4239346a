//! The block overlay and the `cosmwasm_std::Storage` view modules write through.

use std::collections::BTreeMap;
use std::iter::Peekable;

use cosmwasm_std::{Order, Record, Storage};

use super::Store;

/// Uncommitted writes of one block (or of one CheckTx pass): `None` is a delete.
/// A `BTreeMap` so iteration order, and with it the app hash, never depends on
/// insertion order.
pub type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Committed state seen through an overlay of pending writes.
pub struct StateView<'a> {
    store: &'a Store,
    overlay: &'a mut Overlay,
}

impl<'a> StateView<'a> {
    pub fn new(store: &'a Store, overlay: &'a mut Overlay) -> Self {
        StateView { store, overlay }
    }
}

impl Storage for StateView<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.overlay.get(key) {
            Some(v) => v.clone(),
            // An I/O failure here cannot be turned into a wrong answer: halt.
            None => self.store.get(key).expect("state database read failed"),
        }
    }

    fn range<'b>(
        &'b self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'b> {
        let descending = matches!(order, Order::Descending);
        let lo = start.map(<[u8]>::to_vec);
        let hi = end.map(<[u8]>::to_vec);
        if let (Some(l), Some(h)) = (&lo, &hi) {
            if l >= h {
                return Box::new(std::iter::empty());
            }
        }
        let bounds = (
            lo.clone()
                .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Included),
            hi.clone()
                .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
        );
        let over: OverBox<'b> = {
            let it = self
                .overlay
                .range::<Vec<u8>, _>(bounds)
                .map(|(k, v)| (k.clone(), v.clone()));
            if descending {
                Box::new(it.rev())
            } else {
                Box::new(it)
            }
        };
        let base: Box<dyn Iterator<Item = (Vec<u8>, Vec<u8>)> + 'b> = Box::new(
            self.store
                .range_latest(lo.as_deref(), hi.as_deref(), descending),
        );
        Box::new(Merge {
            base: base.peekable(),
            over: over.peekable(),
            descending,
        })
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.overlay.insert(key.to_vec(), Some(value.to_vec()));
    }

    fn remove(&mut self, key: &[u8]) {
        self.overlay.insert(key.to_vec(), None);
    }
}

type BaseIter<'b> = Peekable<Box<dyn Iterator<Item = (Vec<u8>, Vec<u8>)> + 'b>>;
type OverBox<'b> = Box<dyn Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> + 'b>;
type OverIter<'b> = Peekable<OverBox<'b>>;

/// Merges the committed scan with the overlay: the overlay wins on equal keys and
/// its deletions hide committed entries.
struct Merge<'b> {
    base: BaseIter<'b>,
    over: OverIter<'b>,
    descending: bool,
}

impl Iterator for Merge<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            let take_over = match (self.base.peek(), self.over.peek()) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((bk, _)), Some((ok, _))) => {
                    if bk == ok {
                        // Shadowed by the overlay.
                        self.base.next();
                        true
                    } else {
                        (ok < bk) != self.descending
                    }
                }
            };
            if take_over {
                match self.over.next() {
                    Some((k, Some(v))) => return Some((k, v)),
                    Some((_, None)) => continue,
                    None => return None,
                }
            }
            return self.base.next();
        }
    }
}
