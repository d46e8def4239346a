//! Storage views that nest and meter.
//!
//! A block's writes live in an [`Overlay`] over committed state; a transaction
//! writes into its own overlay over the block's, merged only if it succeeds. All
//! overlays are `BTreeMap`s, so iteration order never depends on insertion order.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;

use cosmwasm_std::{Order, Record, Storage};

use crate::gas::{cost, GasMeter};

/// Pending writes: `None` is a delete.
pub type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

type BaseIter<'b> = Peekable<Box<dyn Iterator<Item = Record> + 'b>>;
type OverBox<'b> = Box<dyn Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> + 'b>;

/// `base` seen through `overlay`.
pub struct Layered<'a> {
    base: &'a dyn Storage,
    overlay: &'a mut Overlay,
}

impl<'a> Layered<'a> {
    pub fn new(base: &'a dyn Storage, overlay: &'a mut Overlay) -> Self {
        Layered { base, overlay }
    }
}

/// Ordered range over an overlay and a base scan: the overlay wins on equal keys
/// and its deletions hide base entries.
pub fn merged_range<'b>(
    base: Box<dyn Iterator<Item = Record> + 'b>,
    overlay: &'b Overlay,
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    order: Order,
) -> Box<dyn Iterator<Item = Record> + 'b> {
    if let (Some(l), Some(h)) = (start, end) {
        if l >= h {
            return Box::new(std::iter::empty());
        }
    }
    let descending = matches!(order, Order::Descending);
    let bounds = (
        start.map_or(Bound::Unbounded, |s| Bound::Included(s.to_vec())),
        end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec())),
    );
    let it = overlay
        .range::<Vec<u8>, _>(bounds)
        .map(|(k, v)| (k.clone(), v.clone()));
    let over: OverBox<'b> = if descending {
        Box::new(it.rev())
    } else {
        Box::new(it)
    };
    Box::new(Merge {
        base: base.peekable(),
        over: over.peekable(),
        descending,
    })
}

impl Storage for Layered<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.overlay.get(key) {
            Some(v) => v.clone(),
            None => self.base.get(key),
        }
    }

    fn range<'b>(
        &'b self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'b> {
        merged_range(
            self.base.range(start, end, order),
            self.overlay,
            start,
            end,
            order,
        )
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.overlay.insert(key.to_vec(), Some(value.to_vec()));
    }

    fn remove(&mut self, key: &[u8]) {
        self.overlay.insert(key.to_vec(), None);
    }
}

struct Merge<'b> {
    base: BaseIter<'b>,
    over: Peekable<OverBox<'b>>,
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

/// Charges the SDK's KV gas for every access, and stops at the limit: once the
/// meter has crossed it, reads find nothing, iteration ends and writes are
/// dropped, so a message out of gas does no more work than the gas it paid
/// for (the SDK panics at that point; the tx fails out of gas either way and
/// its writes are discarded by the caller).
pub struct Metered<'a> {
    inner: &'a mut dyn Storage,
    meter: &'a GasMeter,
}

impl<'a> Metered<'a> {
    pub fn new(inner: &'a mut dyn Storage, meter: &'a GasMeter) -> Self {
        Metered { inner, meter }
    }

    fn out_of_gas(&self) -> bool {
        self.meter.check().is_err()
    }
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Storage for Metered<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if self.meter.consume(cost::READ_FLAT, "ReadFlat").is_err() {
            return None;
        }
        let v = self.inner.get(key);
        let bytes = len_u64(key.len()).saturating_add(len_u64(v.as_ref().map_or(0, Vec::len)));
        self.meter
            .consume(cost::READ_PER_BYTE.saturating_mul(bytes), "ReadPerByte")
            .ok()
            .and(v)
    }

    fn range<'b>(
        &'b self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'b> {
        if self.out_of_gas() {
            return Box::new(std::iter::empty());
        }
        let meter = self.meter;
        Box::new(
            self.inner
                .range(start, end, order)
                .map_while(move |(k, v)| {
                    let bytes = len_u64(k.len()).saturating_add(len_u64(v.len()));
                    meter.consume(cost::ITER_NEXT_FLAT, "IterNextFlat").ok()?;
                    meter
                        .consume(cost::READ_PER_BYTE.saturating_mul(bytes), "ReadPerByte")
                        .ok()?;
                    Some((k, v))
                }),
        )
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        let bytes = len_u64(key.len()).saturating_add(len_u64(value.len()));
        let charged = self
            .meter
            .consume(cost::WRITE_FLAT, "WriteFlat")
            .and_then(|()| {
                self.meter
                    .consume(cost::WRITE_PER_BYTE.saturating_mul(bytes), "WritePerByte")
            });
        if charged.is_ok() {
            self.inner.set(key, value);
        }
    }

    fn remove(&mut self, key: &[u8]) {
        if self.meter.consume(cost::DELETE, "Delete").is_ok() {
            self.inner.remove(key);
        }
    }
}

/// Charges `meter` the KV gas of writing `ov` (what [`Metered`] charges for
/// each entry), for writes made in an overlay that is then dropped: work done
/// for a failed sub-transaction is paid all the same. Past the limit the meter
/// stays exceeded, so the transaction fails out of gas.
pub fn charge_writes(meter: &GasMeter, ov: &Overlay) {
    for (k, v) in ov {
        let _ = match v {
            Some(v) => meter.consume(cost::WRITE_FLAT, "WriteFlat").and_then(|()| {
                let bytes = len_u64(k.len()).saturating_add(len_u64(v.len()));
                meter.consume(cost::WRITE_PER_BYTE.saturating_mul(bytes), "WritePerByte")
            }),
            None => meter.consume(cost::DELETE, "Delete"),
        };
    }
}

/// Counts the entries read (gets and range items) and written through it:
/// tests of how much work an operation does (gas stops, per-block work).
pub struct Counting<S> {
    pub inner: S,
    pub reads: std::cell::Cell<usize>,
    pub writes: std::cell::Cell<usize>,
}

impl<S> Counting<S> {
    pub fn new(inner: S) -> Self {
        Counting {
            inner,
            reads: 0.into(),
            writes: 0.into(),
        }
    }
}

impl<S: Storage> Storage for Counting<S> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.reads.set(self.reads.get().saturating_add(1));
        self.inner.get(key)
    }
    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a> {
        Box::new(self.inner.range(start, end, order).inspect(|_| {
            self.reads.set(self.reads.get().saturating_add(1));
        }))
    }
    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.writes.set(self.writes.get().saturating_add(1));
        self.inner.set(key, value)
    }
    fn remove(&mut self, key: &[u8]) {
        self.writes.set(self.writes.get().saturating_add(1));
        self.inner.remove(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage as MemoryStorage;

    #[test]
    fn nested_overlays_merge_and_discard() {
        let mut base = MemoryStorage::new();
        base.set(b"a", b"1");
        base.set(b"b", b"2");
        let mut block = Overlay::new();
        {
            let mut l = Layered::new(&base, &mut block);
            l.set(b"c", b"3");
            let mut tx = Overlay::new();
            {
                let mut t = Layered::new(&l, &mut tx);
                t.remove(b"a");
                t.set(b"d", b"4");
                let all: Vec<_> = t.range(None, None, Order::Ascending).map(|r| r.0).collect();
                assert_eq!(all, vec![b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]);
            }
            // tx discarded: the block view is unchanged.
            assert_eq!(l.get(b"a"), Some(b"1".to_vec()));
            assert_eq!(l.get(b"d"), None);
        }
        assert_eq!(block.len(), 1);
    }

    #[test]
    fn metered_storage_charges_the_sdk_schedule() {
        let mut base = MemoryStorage::new();
        let meter = GasMeter::new(1_000_000);
        let mut m = Metered::new(&mut base, &meter);
        m.set(b"ab", b"xyz");
        assert_eq!(meter.used(), 2000 + 30 * 5);
        let _ = m.get(b"ab");
        assert_eq!(meter.used(), 2150 + 1000 + 3 * 5);
        let tight = GasMeter::new(100);
        let mut m = Metered::new(&mut base, &tight);
        m.set(b"k", b"v");
        assert!(tight.check().is_err());
    }

    #[test]
    fn running_out_of_gas_stops_reads_writes_and_iteration_at_once() {
        // Security review M-1: crossing the limit used to be recorded only, and
        // the handler went on reading and writing to its end.
        let mut base = Counting::new(MemoryStorage::new());
        for i in 0..1000u32 {
            base.inner.set(&i.to_be_bytes(), b"v");
        }
        // Room for about three writes.
        let meter = GasMeter::new(3 * (cost::WRITE_FLAT + 10 * cost::WRITE_PER_BYTE));
        {
            let mut m = Metered::new(&mut base, &meter);
            for i in 0..1000u32 {
                m.set(&(i + 5000).to_be_bytes(), b"x");
            }
            assert!(m.range(None, None, Order::Ascending).count() == 0);
            assert_eq!(m.get(b"\0\0\0\x01"), None);
        }
        assert!(meter.check().is_err());
        assert!(base.writes.get() <= 3, "{} writes", base.writes.get());
        assert_eq!(base.reads.get(), 0);

        // A range that crosses the limit stops at the crossing.
        // Each item: a 4-byte key and a 1-byte value; room for ten.
        let meter = GasMeter::new(10 * (cost::ITER_NEXT_FLAT + 5 * cost::READ_PER_BYTE));
        let n = Metered::new(&mut base, &meter)
            .range(None, None, Order::Ascending)
            .count();
        assert!(n <= 10, "{n} items after the limit");
        assert!(base.reads.get() <= 11, "{} reads", base.reads.get());
    }
}
