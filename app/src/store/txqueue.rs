//! The tx index, written off Commit's path (issue 18).
//!
//! Writing a block's tx index entries (a TxResponse per tx, with its events)
//! took as long as the state commit itself for a block of 1 000 txs
//! (`cargo bench --bench store_commit`), and it is not consensus state. So
//! Commit hands a block's entries to one writer thread and returns; the
//! writer writes them, then prunes below CometBFT's retain height, in block
//! order. Until an entry is written, GetTx answers it from the queue, so a
//! client that saw the block sees its txs. At most [`QUEUE`] blocks wait:
//! beyond that, Commit waits for the writer. Dropping the store, and a halt
//! height, write what is queued first. A crash or a kill loses what was
//! queued (the writer keeps up, so normally the last block or nothing), unless
//! the state write of that block was lost too (`super::flight`): CometBFT then
//! replays the block and its txs are indexed again (entries are keyed by tx
//! hash, so a replay rewrites the same ones). Not consensus, and CometBFT's
//! own index (`/tx`) still has those txs.
//!
//! `index-txs = false` (app.toml, `--index-txs=false`) keeps no index: a
//! validator that serves no GetTx saves the index's work (a fifth of
//! verdictd's CPU under load, bench/RESULTS.md); GetTx and GetTxsEvent then
//! answer that this node keeps none. Entries written before stay, pruned as
//! before below CometBFT's retain height (`min-retain-blocks` > 0); turned on
//! again, the index has a gap: the txs committed while it was off.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;

use super::error::StoreError;
use super::txindex::{IndexedTx, TxIndex};

/// Blocks that may wait for the writer before Commit waits.
const QUEUE: usize = 16;

enum Job {
    /// A committed block's entries, then what to prune: (retain, limit).
    Block(Arc<Vec<IndexedTx>>, Option<(u64, usize)>),
    /// Answered once every job before it is done.
    Sync(mpsc::Sender<()>),
}

/// Blocks handed to the writer and not yet written, oldest first.
type Waiting = Arc<Mutex<VecDeque<Arc<Vec<IndexedTx>>>>>;

pub(super) struct TxQueue {
    /// Whether committed blocks' txs are indexed (`index-txs`).
    on: bool,
    index: Arc<TxIndex>,
    waiting: Waiting,
    jobs: Option<SyncSender<Job>>,
    writer: Option<JoinHandle<()>>,
}

impl TxQueue {
    pub(super) fn new(index: TxIndex) -> Result<Self, StoreError> {
        let index = Arc::new(index);
        let waiting: Waiting = Arc::default();
        let (jobs, rx) = mpsc::sync_channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name("tx-index".into())
            .spawn({
                let (index, waiting) = (index.clone(), waiting.clone());
                move || write_jobs(&index, &waiting, rx)
            })
            .map_err(|e| StoreError::Tree(format!("starting the tx index writer: {e}")))?;
        Ok(TxQueue {
            on: true,
            index,
            waiting,
            jobs: Some(jobs),
            writer: Some(writer),
        })
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| StoreError::Tree("the tx index writer has stopped".into()))
    }

    /// Queues a committed block's entries, and a prune below `retain` of at
    /// most `limit` entries after them.
    pub(super) fn push(
        &self,
        txs: Vec<IndexedTx>,
        prune: Option<(u64, usize)>,
    ) -> Result<(), StoreError> {
        let txs = Arc::new(txs);
        if !txs.is_empty() {
            lock(&self.waiting).push_back(txs.clone());
        }
        let sent = self.send(Job::Block(txs.clone(), prune));
        if sent.is_err() {
            // No writer will take it off.
            written(&self.waiting, &txs);
        }
        sent
    }

    /// Returns once everything queued before the call is written.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let (done, wait) = mpsc::channel();
        self.send(Job::Sync(done))?;
        wait.recv()
            .map_err(|_| StoreError::Tree("the tx index writer has stopped".into()))
    }

    /// The entry of `hash`: the newest queued one, else the written one.
    pub(super) fn read(&self, hash: &[u8]) -> Result<Option<TxResponse>, StoreError> {
        let queued = lock(&self.waiting).iter().rev().find_map(|block| {
            block
                .iter()
                .rev()
                .find(|t| t.hash.as_slice() == hash)
                .map(|t| t.response.clone())
        });
        match queued {
            Some(r) => Ok(Some(r)),
            None => self.index.read(hash),
        }
    }

    /// The index itself, once everything queued is written.
    pub(super) fn synced(&self) -> Result<&TxIndex, StoreError> {
        self.sync()?;
        Ok(&self.index)
    }
}

impl Drop for TxQueue {
    fn drop(&mut self) {
        // Closing the channel ends the writer once it has written the queue.
        self.jobs = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes `block` off the waiting list (by identity: callers on two threads
/// may queue in one order and send in the other).
fn written(waiting: &Mutex<VecDeque<Arc<Vec<IndexedTx>>>>, block: &Arc<Vec<IndexedTx>>) {
    let mut w = lock(waiting);
    if let Some(i) = w.iter().position(|b| Arc::ptr_eq(b, block)) {
        w.remove(i);
    }
}

/// The writer thread: each job in order; a failure is logged (not consensus).
fn write_jobs(index: &TxIndex, waiting: &Mutex<VecDeque<Arc<Vec<IndexedTx>>>>, rx: Receiver<Job>) {
    for job in rx {
        match job {
            Job::Block(txs, prune) => {
                if !txs.is_empty() {
                    if let Err(e) = index.write(&txs) {
                        tracing::error!(error = %e, "writing the tx index failed");
                    }
                    written(waiting, &txs);
                }
                if let Some((retain, limit)) = prune {
                    if let Err(e) = index.prune_below(retain, limit) {
                        tracing::error!(retain, error = %e, "pruning the tx index failed");
                    }
                }
            }
            Job::Sync(done) => {
                let _ = done.send(());
            }
        }
    }
}

impl super::Store {
    /// Indexes committed txs (`true`, the default) or keeps no index.
    pub fn with_tx_index(mut self, on: bool) -> Self {
        self.txs.on = on;
        self
    }

    /// Whether committed txs are indexed (`index-txs`).
    pub fn tx_index_on(&self) -> bool {
        self.txs.on
    }

    /// Hands a committed block's tx index entries to the writer, and a prune
    /// of at most `limit` entries below `retain` (CometBFT's retain height)
    /// after them; returns before they are written. With the index off,
    /// FinalizeBlock builds no entries: only the prune.
    pub fn index_txs(
        &self,
        txs: Vec<IndexedTx>,
        prune: Option<(u64, usize)>,
    ) -> Result<(), StoreError> {
        self.txs.push(txs, prune)
    }

    /// Drops the tx index entries of blocks below `retain`, at most `limit`,
    /// once what is queued is written; returns how many went.
    pub fn prune_tx_index(&self, retain: u64, limit: usize) -> Result<usize, StoreError> {
        self.txs.synced()?.prune_below(retain, limit)
    }

    /// Returns once every tx index entry queued so far is written.
    pub fn sync_tx_index(&self) -> Result<(), StoreError> {
        self.txs.sync()
    }

    /// How many txs the index holds (by hash, by height), once what is
    /// queued is written.
    pub fn tx_index_len(&self) -> Result<(usize, usize), StoreError> {
        Ok(self.txs.synced()?.len())
    }

    /// The indexed result of the tx with `hash`, if any (queued or written);
    /// [`StoreError::TxIndexOff`] when this node keeps no index.
    pub fn indexed_tx(&self, hash: &[u8]) -> Result<Option<TxResponse>, StoreError> {
        if !self.txs.on {
            return Err(StoreError::TxIndexOff);
        }
        self.txs.read(hash)
    }
}
