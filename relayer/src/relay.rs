//! `verdict relayer start`: the polling loop over a linked path.
//!
//! Each pass reads the new heights of both chains, then delivers, in each
//! direction, everything the destination needs a proof of the source for:
//! MsgRecvPacket for the source's sent packets, MsgAcknowledgement for the
//! acknowledgements the source wrote, and MsgTimeout for the destination's own
//! packets that the source can no longer receive. One tx per direction: the
//! client update, then the packet messages.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use prost::Message;
use verdict_client::keyring::Keyring;
use verdict_ibc::ibc;

use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::proto::v1 as chan;
use ibc::primitives::proto::Any;

use crate::endpoint::{any_of, Endpoint};
use crate::packets::{already_done, decide, scan, AckInfo, Decision, PacketInfo};
use crate::path::{End, PathFile};
use crate::{proof_point, signer_of, ProofPoint};

/// Heights read per chain per pass, so progress is saved regularly on a long catch-up.
const MAX_HEIGHTS_PER_PASS: u64 = 200;

pub fn start(
    file: &Path,
    from: Option<String>,
    once: bool,
    interval: f64,
    kr: &Keyring,
) -> anyhow::Result<()> {
    let mut path = PathFile::load(file)?;
    let key = from.unwrap_or_else(|| path.key.clone());
    let signer = signer_of(kr, &key)?;
    let a = Endpoint::connect(&path.a.node)?;
    let b = Endpoint::connect(&path.b.node)?;
    for (x, end) in [(&a, &path.a), (&b, &path.b)] {
        if x.chain_id != end.chain_id {
            bail!(
                "node {} is on chain {}, the path file says {}",
                end.node,
                x.chain_id,
                end.chain_id
            );
        }
    }
    let ctx = Relay {
        kr,
        key: &key,
        signer: &signer,
    };
    loop {
        let result = ctx.pass(&a, &b, &mut path, file);
        if once {
            return result;
        }
        if let Err(e) = result {
            eprintln!("relayer: {e:#}");
        }
        std::thread::sleep(Duration::from_secs_f64(interval.max(0.1)));
    }
}

struct Relay<'a> {
    kr: &'a Keyring,
    key: &'a str,
    signer: &'a str,
}

/// Which pending entries a delivery settled, by sequence (each set is of one
/// channel end's list).
#[derive(Default)]
struct Settled {
    /// Of the source's `pending_recv`: received on the destination.
    recv: BTreeSet<u64>,
    /// Of the source's `pending_acks`: delivered.
    acks: BTreeSet<u64>,
    /// Of the destination's `pending_recv`: timed out (or otherwise finished).
    timeouts: BTreeSet<u64>,
}

impl Relay<'_> {
    fn pass(
        &self,
        a: &Endpoint,
        b: &Endpoint,
        path: &mut PathFile,
        file: &Path,
    ) -> anyhow::Result<()> {
        read_new_heights(a, &mut path.a)?;
        read_new_heights(b, &mut path.b)?;
        path.save(file)?;
        let r1 = self.deliver(a, &mut path.a, b, &mut path.b);
        path.save(file)?;
        let r2 = self.deliver(b, &mut path.b, a, &mut path.a);
        path.save(file)?;
        r1.and(r2)
    }

    /// Everything `dst` needs a proof of `src` for (see the module doc).
    fn deliver(
        &self,
        src: &Endpoint,
        s: &mut End,
        dst: &Endpoint,
        d: &mut End,
    ) -> anyhow::Result<()> {
        let mut settled = Settled::default();
        let work = pending(src, s, dst, d, &mut settled)?;
        if work.is_empty() {
            self.refresh_client(src, dst, &d.client_id)?;
        } else {
            let pt = proof_point(src, dst, &d.client_id, work.min_height(), self.signer)?;
            let mut items = self.recv_msgs(src, &pt, work.recv, &mut settled)?;
            items.extend(self.ack_msgs(src, &pt, work.acks)?);
            items.extend(self.timeout_msgs(src, &pt, work.timeouts)?);
            if !items.is_empty() {
                self.submit(dst, pt.update, items, &mut settled)?;
            }
        }
        s.pending_recv
            .retain(|p| !settled.recv.contains(&p.sequence));
        s.pending_acks
            .retain(|a| !settled.acks.contains(&a.packet.sequence));
        d.pending_recv
            .retain(|p| !settled.timeouts.contains(&p.sequence));
        Ok(())
    }

    /// MsgRecvPacket for each packet still committed on `src` at `pt`.
    fn recv_msgs(
        &self,
        src: &Endpoint,
        pt: &ProofPoint,
        recv: Vec<PacketInfo>,
        settled: &mut Settled,
    ) -> anyhow::Result<Vec<Item>> {
        let mut items = Vec::new();
        for p in recv {
            let c = src.prove(&p.commitment_path(), pt.h, &pt.app_hash)?;
            if c.value.is_empty() {
                // Acknowledged or timed out in the meantime.
                settled.recv.insert(p.sequence);
                continue;
            }
            let msg = chan::MsgRecvPacket {
                packet: Some(p.to_raw()?),
                proof_commitment: c.proof,
                proof_height: pt.raw_height(),
                signer: self.signer.into(),
            };
            items.push((
                Kind::Recv,
                p.sequence,
                any_of(msg, "/ibc.core.channel.v1.MsgRecvPacket"),
            ));
        }
        Ok(items)
    }

    /// MsgAcknowledgement for each acknowledgement written on `src` by `pt`.
    fn ack_msgs(
        &self,
        src: &Endpoint,
        pt: &ProofPoint,
        acks: Vec<AckInfo>,
    ) -> anyhow::Result<Vec<Item>> {
        let mut items = Vec::new();
        for a in acks {
            let c = src.prove(&a.packet.ack_path(), pt.h, &pt.app_hash)?;
            if c.value.is_empty() {
                continue; // not in this state yet; next pass
            }
            let msg = chan::MsgAcknowledgement {
                packet: Some(a.packet.to_raw()?),
                acknowledgement: hex::decode(&a.ack_hex)?,
                proof_acked: c.proof,
                proof_height: pt.raw_height(),
                signer: self.signer.into(),
            };
            items.push((
                Kind::Ack,
                a.packet.sequence,
                any_of(msg, "/ibc.core.channel.v1.MsgAcknowledgement"),
            ));
        }
        Ok(items)
    }

    /// MsgTimeout for each packet that `src` (its destination) provably never
    /// received by a header past its timeout.
    fn timeout_msgs(
        &self,
        src: &Endpoint,
        pt: &ProofPoint,
        timeouts: Vec<PacketInfo>,
    ) -> anyhow::Result<Vec<Item>> {
        let mut items = Vec::new();
        for p in timeouts {
            // The proof's header must itself be past the timeout.
            if !p.expired_at(pt.proof_height.revision_height(), pt.time_ns) {
                continue;
            }
            let r = src.prove(&p.receipt_path(), pt.h, &pt.app_hash)?;
            if !r.value.is_empty() {
                continue; // received after all: its acknowledgement will come
            }
            let msg = chan::MsgTimeout {
                packet: Some(p.to_raw()?),
                proof_unreceived: r.proof,
                proof_height: pt.raw_height(),
                next_sequence_recv: p.sequence,
                signer: self.signer.into(),
            };
            items.push((
                Kind::Timeout,
                p.sequence,
                any_of(msg, "/ibc.core.channel.v1.MsgTimeout"),
            ));
        }
        Ok(items)
    }

    /// The update and all messages in one tx; when that fails, each message on
    /// its own, so one bad packet does not hold the others back.
    fn submit(
        &self,
        dst: &Endpoint,
        update: Option<Any>,
        items: Vec<Item>,
        settled: &mut Settled,
    ) -> anyhow::Result<()> {
        let msgs: Vec<Any> = update
            .iter()
            .cloned()
            .chain(items.iter().map(|(_, _, m)| m.clone()))
            .collect();
        match self.attempt(dst, msgs) {
            Ok(height) => {
                eprintln!(
                    "relayer: {} packet message(s) on {} in block {height}",
                    items.len(),
                    dst.chain_id,
                );
                for (kind, seq, _) in &items {
                    settled.mark(*kind, *seq);
                }
                return Ok(());
            }
            Err(log) => eprintln!(
                "relayer: batch on {} failed ({log}); trying one by one",
                dst.chain_id
            ),
        }
        if let Some(u) = update {
            dst.submit(self.kr, self.key, vec![u])?;
        }
        for (kind, seq, msg) in items {
            match self.attempt(dst, vec![msg]) {
                Ok(_) => settled.mark(kind, seq),
                Err(log) if already_done(&log) => settled.mark(kind, seq),
                Err(log) => eprintln!(
                    "relayer: {kind:?} of packet {seq} on {} failed: {log}",
                    dst.chain_id
                ),
            }
        }
        Ok(())
    }

    /// One tx: the block height it landed in, or why not (a refusal in
    /// simulation, CheckTx or the block, or an unreachable node).
    fn attempt(&self, dst: &Endpoint, msgs: Vec<Any>) -> Result<u64, String> {
        match dst.try_submit(self.kr, self.key, msgs) {
            Ok(r) if r.is_ok() => Ok(r.height),
            Ok(r) => Err(r.tx_result.log),
            Err(e) => Err(format!("{e:#}")),
        }
    }

    /// Keeps `dst`'s client of `src` from expiring on a quiet channel: updates it
    /// once its newest consensus state is a third of the trusting period old.
    fn refresh_client(
        &self,
        src: &Endpoint,
        dst: &Endpoint,
        client_id: &str,
    ) -> anyhow::Result<()> {
        let cs = dst.client_state(client_id)?;
        let cs = cs.inner();
        let h = cs.latest_height;
        let bytes = dst.ibc_value(&format!(
            "clients/{client_id}/consensusStates/{}-{}",
            h.revision_number(),
            h.revision_height()
        ))?;
        let cons = TmConsensusState::try_from(Any::decode(bytes.as_slice())?)
            .map_err(|e| anyhow!("consensus state of {client_id}: {e}"))?;
        let then = u64::try_from(cons.inner().timestamp.unix_timestamp_nanos()).unwrap_or(0);
        let (src_h, now) = src.latest()?;
        let age = Duration::from_nanos(now.saturating_sub(then));
        if age < cs.trusting_period / 3 || src_h <= h.revision_height() {
            return Ok(());
        }
        let msg = src.update_client_msg(client_id, h, src_h, self.signer)?;
        let r = dst.submit(self.kr, self.key, vec![msg])?;
        eprintln!(
            "relayer: refreshed {client_id} on {} to {} in block {}",
            dst.chain_id, src_h, r.height
        );
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Recv,
    Ack,
    Timeout,
}

impl Settled {
    fn mark(&mut self, kind: Kind, seq: u64) {
        match kind {
            Kind::Recv => self.recv.insert(seq),
            Kind::Ack => self.acks.insert(seq),
            Kind::Timeout => self.timeouts.insert(seq),
        };
    }
}

/// A packet message with what it settles.
type Item = (Kind, u64, Any);

/// What one direction has to deliver.
struct Work {
    /// `src`'s packets to receive on `dst`.
    recv: Vec<PacketInfo>,
    /// Acknowledgements written on `src` to deliver to `dst`.
    acks: Vec<AckInfo>,
    /// `dst`'s own packets that `src` can no longer receive.
    timeouts: Vec<PacketInfo>,
}

impl Work {
    fn is_empty(&self) -> bool {
        self.recv.is_empty() && self.acks.is_empty() && self.timeouts.is_empty()
    }

    /// The height from which `src`'s state proves every packet and ack here.
    fn min_height(&self) -> u64 {
        self.recv
            .iter()
            .map(|p| p.height)
            .chain(self.acks.iter().map(|a| a.packet.height))
            .max()
            .unwrap_or(0)
    }
}

/// Sorts the pending entries of `s` (the source end) and `d` (the destination
/// end) by what the two chains' latest state says: already settled (into
/// `settled`), to deliver now (the [`Work`]), or to leave for a later pass.
fn pending(
    src: &Endpoint,
    s: &End,
    dst: &Endpoint,
    d: &End,
    settled: &mut Settled,
) -> anyhow::Result<Work> {
    let (dst_h, dst_t) = dst.latest()?;
    let (src_h, src_t) = src.latest()?;
    let mut recv = Vec::new();
    for p in &s.pending_recv {
        if !dst.ibc_value(&p.receipt_path())?.is_empty() {
            settled.recv.insert(p.sequence);
        } else if decide(p, dst_h, dst_t) == Decision::Recv {
            recv.push(p.clone());
        }
    }
    let mut acks = Vec::new();
    for a in &s.pending_acks {
        if dst.ibc_value(&a.packet.commitment_path())?.is_empty() {
            settled.acks.insert(a.packet.sequence);
        } else {
            acks.push(a.clone());
        }
    }
    let mut timeouts = Vec::new();
    for p in &d.pending_recv {
        if decide(p, src_h, src_t) == Decision::Timeout {
            if dst.ibc_value(&p.commitment_path())?.is_empty() {
                // Acknowledged or timed out already.
                settled.timeouts.insert(p.sequence);
            } else {
                timeouts.push(p.clone());
            }
        }
    }
    Ok(Work {
        recv,
        acks,
        timeouts,
    })
}

/// Reads the events of `x`'s heights after `end.relayed_height` into its pending lists.
fn read_new_heights(x: &Endpoint, end: &mut End) -> anyhow::Result<()> {
    let (latest, _) = x.latest()?;
    let last = latest.min(end.relayed_height.saturating_add(MAX_HEIGHTS_PER_PASS));
    for h in end.relayed_height.saturating_add(1)..=last {
        let br = match x.block_results(h) {
            Ok(br) => br,
            // CometBFT reports a height in /status a moment before it serves that
            // height's results: read it on the next pass.
            Err(_) if h == latest => break,
            Err(e) => return Err(e),
        };
        let events = br
            .txs_results
            .iter()
            .flatten()
            .flat_map(|t| t.events.iter())
            .chain(br.finalize_block_events.iter());
        let found = scan(events, h, &end.port_id, &end.channel_id);
        for p in found.sent {
            if !end.pending_recv.iter().any(|q| q.sequence == p.sequence) {
                end.pending_recv.push(p);
            }
        }
        for a in found.acks {
            if !end
                .pending_acks
                .iter()
                .any(|q| q.packet.sequence == a.packet.sequence)
            {
                end.pending_acks.push(a);
            }
        }
        end.relayed_height = h;
    }
    Ok(())
}
