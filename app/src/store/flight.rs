//! A committed block on its way to disk (issue 18, commit time).
//!
//! [`super::Store::commit`] returns once the block is hashed and hands it to
//! one writer thread, which builds its sled batch, applies and flushes it,
//! then prunes. Until it is on disk, the block is *in flight*: every read of the
//! latest state, of its height, app hash, values and preimages consults it
//! first (its nodes are in the node cache from the moment of the commit). At
//! most one block is in flight: the next commit waits for the previous write
//! (not the pruning after it, which runs while the next block is in flight).
//! For 1 000 writes that write is 80–130 ms here, so at a block interval of a
//! second it is done before the next Commit; with `timeout_commit` 0 and
//! large blocks, Commit waits for what is left.
//!
//! A crash loses at most the block in flight. The store then reopens at the
//! height before it, CometBFT's handshake sees the app one block behind its
//! own state and replays that block (FinalizeBlock and Commit), which gives
//! the same app hash: a state transition is a function of the block. A
//! failed write is never retried: the block stays visible, the error is kept,
//! and the next commit returns it, which halts the node.

use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use jmt::KeyHash;

use super::error::StoreError;
use super::layout::{P_IBC_VALUE, P_VALUE};
use super::{write, PendingCommit};

/// A flat key and what a block writes there (`None`: deletes it).
pub(super) type Write = (Vec<u8>, Option<Vec<u8>>);

/// A block committed but perhaps not yet on disk, and what reads need of it.
pub(super) struct Inflight {
    pub(super) pending: PendingCommit,
}

impl Inflight {
    pub(super) fn height(&self) -> u64 {
        self.pending.height
    }

    /// The block's write of the flat key `key`: `Some(None)` when it deletes
    /// it, `None` when the block leaves it alone.
    pub(super) fn latest(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.pending.changes.get(key).map(Option::as_deref)
    }

    /// The block's writes of flat keys in `[start, end)`, ascending.
    pub(super) fn latest_range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Vec<Write> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let lo = start.map_or(Unbounded, Included);
        let hi = end.map_or(Unbounded, Excluded);
        if let (Included(s), Excluded(e)) = (lo, hi) {
            if s >= e {
                return Vec::new(); // BTreeMap::range panics on it
            }
        }
        self.pending
            .changes
            .range::<[u8], _>((lo, hi))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The value of `key_hash` the block writes in the tree whose values live
    /// under `values` (`Some(None)`: deleted), when a read at `max_version`
    /// sees this block.
    pub(super) fn value(
        &self,
        values: u8,
        max_version: u64,
        key_hash: KeyHash,
    ) -> Option<Option<Vec<u8>>> {
        if max_version < self.pending.height {
            return None;
        }
        let batch = match values {
            P_VALUE => &self.pending.tree_batch,
            P_IBC_VALUE => &self.pending.ibc_batch,
            _ => return None,
        };
        batch
            .node_batch
            .values()
            .get(&(self.pending.height, key_hash))
            .cloned()
    }

    pub(super) fn preimage(&self, key_hash: KeyHash) -> Option<Vec<u8>> {
        self.pending.preimages.get(&key_hash.0).cloned()
    }
}

/// What the writer thread writes with: handles on the same sled files as the
/// store's, and what only it reads and updates.
pub(super) struct Disk {
    pub(super) tree: sled::Tree,
    pub(super) db: sled::Db,
    /// The newest version of the keys the last commits wrote (`prune::record_stale`).
    pub(super) latest: super::cache::LatestVersions,
}

struct Job {
    flight: Arc<Inflight>,
    /// The store's first block: it marks where the history starts.
    first: bool,
    /// Prune to this version once the block is on disk.
    prune_to: Option<u64>,
}

#[derive(Default)]
struct State {
    flight: Option<Arc<Inflight>>,
    failed: Option<String>,
    /// The writer is pruning after the last block it wrote.
    pruning: bool,
    /// Tests: the writer waits while this is set.
    held: bool,
    /// Tests: the writer drops blocks instead of writing them (a crash).
    discard: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is a single assignment: a panic elsewhere
        // cannot leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Tests of a real node: every write waits this many milliseconds first, so a
/// test can kill the process with a block in flight (a crash's worst moment,
/// which is otherwise a few milliseconds wide). Never set in production.
const WRITE_DELAY_ENV: &str = "VERDICT_STORE_WRITE_DELAY_MS";

/// The writer thread and the block it is writing.
pub(super) struct Writer {
    shared: Arc<Shared>,
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(super) fn new(disk: Disk) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared::default());
        let (jobs, rx) = mpsc::sync_channel::<Job>(1);
        let delay = std::env::var(WRITE_DELAY_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(std::time::Duration::from_millis);
        if let Some(d) = delay {
            tracing::warn!(
                ?d,
                "{WRITE_DELAY_ENV} is set: every block write waits (tests only)"
            );
        }
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("store-writer".into())
                .spawn(move || {
                    for job in rx {
                        if let Some(d) = delay {
                            std::thread::sleep(d);
                        }
                        write_job(&disk, &shared, job);
                    }
                })
                .map_err(|e| StoreError::Tree(format!("cannot start the store writer: {e}")))?
        };
        Ok(Writer {
            shared,
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// The block in flight, if any.
    pub(super) fn flight(&self) -> Option<Arc<Inflight>> {
        self.shared.lock().flight.clone()
    }

    /// Waits until no block is in flight (it may still be pruning after the
    /// last one); the error of a failed write.
    pub(super) fn wait(&self) -> Result<(), StoreError> {
        self.wait_for(|s| s.flight.is_none())
    }

    /// Waits until the writer has nothing left to do: no block in flight and
    /// no pruning; the error of a failed write.
    pub(super) fn idle(&self) -> Result<(), StoreError> {
        self.wait_for(|s| s.flight.is_none() && !s.pruning)
    }

    fn wait_for(&self, done: impl Fn(&State) -> bool) -> Result<(), StoreError> {
        let mut state = self.shared.lock();
        loop {
            if let Some(e) = &state.failed {
                return Err(StoreError::WriteFailed(e.clone()));
            }
            if done(&state) {
                return Ok(());
            }
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Hands a block to the writer; it is in flight from now on. The caller
    /// has waited for the previous one.
    pub(super) fn send(
        &self,
        pending: PendingCommit,
        prune_to: Option<u64>,
        first: bool,
    ) -> Result<(), StoreError> {
        let flight = Arc::new(Inflight { pending });
        self.shared.lock().flight = Some(Arc::clone(&flight));
        let sent = self.jobs.as_ref().map(|jobs| {
            jobs.send(Job {
                flight,
                first,
                prune_to,
            })
        });
        if !matches!(sent, Some(Ok(()))) {
            let msg = "the store writer has stopped".to_string();
            self.shared.lock().failed = Some(msg.clone());
            return Err(StoreError::WriteFailed(msg));
        }
        Ok(())
    }

    /// Tests: holds (or releases) the writer before its next write.
    #[cfg(test)]
    pub(super) fn hold(&self, held: bool) {
        self.shared.lock().held = held;
        self.shared.changed.notify_all();
    }

    /// Tests: makes the writer drop blocks unwritten, as a crash would.
    #[cfg(test)]
    pub(super) fn discard(&self) {
        self.shared.lock().discard = true;
        self.shared.changed.notify_all();
    }
}

fn write_job(disk: &Disk, shared: &Shared, job: Job) {
    let discard = {
        let mut state = shared.lock();
        while state.held {
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.discard
    };
    let height = job.flight.height();
    let written = if discard {
        Ok(())
    } else {
        // A panic below (sled's own) must not leave `wait` waiting forever.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write::block(disk, &job.flight.pending, job.first)
        }))
        .unwrap_or_else(|_| Err(StoreError::WriteFailed("the store writer panicked".into())))
    };
    let prune_to = job.prune_to.filter(|_| written.is_ok() && !discard);
    {
        let mut state = shared.lock();
        match written {
            Ok(()) => {
                // Landed: the next Commit may go on while this one prunes.
                if state
                    .flight
                    .as_ref()
                    .is_some_and(|f| Arc::ptr_eq(f, &job.flight))
                {
                    state.flight = None;
                }
                state.pruning = prune_to.is_some();
            }
            Err(e) => {
                tracing::error!(height, error = %e, "writing a committed block failed");
                state.failed = Some(format!("height {height}: {e}"));
            }
        }
    }
    shared.changed.notify_all();
    if let Some(oldest) = prune_to {
        // Pruning is not consensus: a panic in it is logged, not kept.
        let pruned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write::prune(disk, height, oldest)
        }));
        if pruned.is_err() {
            tracing::error!(height, oldest, "pruning panicked");
        }
        shared.lock().pruning = false;
        shared.changed.notify_all();
    }
}

impl Drop for Writer {
    /// Writes out the block in flight before the store closes.
    fn drop(&mut self) {
        self.shared.lock().held = false;
        self.shared.changed.notify_all();
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The latest state in key order: `base` (what is on disk) with the block in
/// flight's writes (`over`, ascending) laid over it; a deletion hides the key.
/// Both inputs run in the same direction, descending when `descending`.
pub(super) fn merged<I>(
    base: I,
    mut over: Vec<Write>,
    descending: bool,
) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)>
where
    I: Iterator<Item = (Vec<u8>, Vec<u8>)>,
{
    if descending {
        over.reverse();
    }
    Merged {
        base: base.peekable(),
        over: over.into_iter().peekable(),
        descending,
    }
}

struct Merged<I: Iterator<Item = (Vec<u8>, Vec<u8>)>> {
    base: std::iter::Peekable<I>,
    over: std::iter::Peekable<std::vec::IntoIter<Write>>,
    descending: bool,
}

impl<I: Iterator<Item = (Vec<u8>, Vec<u8>)>> Iterator for Merged<I> {
    type Item = (Vec<u8>, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        use std::cmp::Ordering::*;
        loop {
            let order = match (self.base.peek(), self.over.peek()) {
                (None, None) => return None,
                (Some(_), None) => Less,
                (None, Some(_)) => Greater,
                (Some((b, _)), Some((o, _))) if self.descending => o.cmp(b),
                (Some((b, _)), Some((o, _))) => b.cmp(o),
            };
            match order {
                Less => return self.base.next(),
                Equal | Greater => {
                    if order == Equal {
                        self.base.next();
                    }
                    if let Some((k, Some(v))) = self.over.next() {
                        return Some((k, v));
                    }
                }
            }
        }
    }
}
