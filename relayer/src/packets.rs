//! Packet relaying decisions that need no node: reading `send_packet` and
//! `write_acknowledgement` events (ibc-go attribute names), building the wire
//! packet back from them, and deciding whether a pending packet is received,
//! timed out, or left to wait.

use serde::{Deserialize, Serialize};
use tendermint::abci::Event;
use verdict_ibc::ibc::core::channel::types::proto::v1 as chan;
use verdict_ibc::ibc::core::client::types::proto::v1::Height as RawHeight;

/// A packet as its `send_packet` / `write_acknowledgement` event describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketInfo {
    pub sequence: u64,
    pub src_port: String,
    pub src_channel: String,
    pub dst_port: String,
    pub dst_channel: String,
    pub data_hex: String,
    /// `revision-height`, `0-0` for none (the event's form).
    pub timeout_height: String,
    /// Unix nanoseconds, 0 for none.
    pub timeout_timestamp: u64,
    /// Height of the block whose event announced it: proofs must be from here on.
    pub height: u64,
}

/// An acknowledgement written on the packet's destination, to bring back to its source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckInfo {
    pub packet: PacketInfo,
    pub ack_hex: String,
}

/// What a block says about one channel end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Packets sent from the end (to receive on the counterparty).
    pub sent: Vec<PacketInfo>,
    /// Acknowledgements written by the end (to bring back to the counterparty).
    pub acks: Vec<AckInfo>,
}

fn attr<'e>(ev: &'e Event, key: &str) -> Option<&'e str> {
    ev.attributes
        .iter()
        .find(|a| a.key_str().ok() == Some(key))
        .and_then(|a| a.value_str().ok())
}

fn packet_of(ev: &Event, height: u64) -> Option<PacketInfo> {
    Some(PacketInfo {
        sequence: attr(ev, "packet_sequence")?.parse().ok()?,
        src_port: attr(ev, "packet_src_port")?.into(),
        src_channel: attr(ev, "packet_src_channel")?.into(),
        dst_port: attr(ev, "packet_dst_port")?.into(),
        dst_channel: attr(ev, "packet_dst_channel")?.into(),
        data_hex: attr(ev, "packet_data_hex")?.into(),
        timeout_height: attr(ev, "packet_timeout_height").unwrap_or("0-0").into(),
        timeout_timestamp: attr(ev, "packet_timeout_timestamp")
            .unwrap_or("0")
            .parse()
            .ok()?,
        height,
    })
}

/// The packets sent from, and acknowledgements written by, `port`/`channel` in
/// the events of block `height` (its txs' events and FinalizeBlock's, in order).
pub fn scan<'e>(
    events: impl IntoIterator<Item = &'e Event>,
    height: u64,
    port: &str,
    channel: &str,
) -> Found {
    let mut found = Found::default();
    for ev in events {
        match ev.kind.as_str() {
            "send_packet" => {
                if let Some(p) = packet_of(ev, height) {
                    if p.src_port == port && p.src_channel == channel {
                        found.sent.push(p);
                    }
                }
            }
            "write_acknowledgement" => {
                let Some(p) = packet_of(ev, height) else {
                    continue;
                };
                let Some(ack) = attr(ev, "packet_ack_hex") else {
                    continue;
                };
                if p.dst_port == port && p.dst_channel == channel {
                    found.acks.push(AckInfo {
                        packet: p,
                        ack_hex: ack.into(),
                    });
                }
            }
            _ => {}
        }
    }
    found
}

/// `revision-height` as (revision, height); `0-0` is (0, 0).
pub fn parse_height(s: &str) -> anyhow::Result<(u64, u64)> {
    let (r, h) = s
        .split_once('-')
        .ok_or_else(|| anyhow::anyhow!("height {s:?} is not revision-height"))?;
    Ok((r.parse()?, h.parse()?))
}

impl PacketInfo {
    /// The wire packet (the commitment hashes exactly these fields).
    pub fn to_raw(&self) -> anyhow::Result<chan::Packet> {
        let (revision_number, revision_height) = parse_height(&self.timeout_height)?;
        Ok(chan::Packet {
            sequence: self.sequence,
            source_port: self.src_port.clone(),
            source_channel: self.src_channel.clone(),
            destination_port: self.dst_port.clone(),
            destination_channel: self.dst_channel.clone(),
            data: hex::decode(&self.data_hex)?,
            timeout_height: Some(RawHeight {
                revision_number,
                revision_height,
            }),
            timeout_timestamp: self.timeout_timestamp,
        })
    }

    pub fn commitment_path(&self) -> String {
        format!(
            "commitments/ports/{}/channels/{}/sequences/{}",
            self.src_port, self.src_channel, self.sequence
        )
    }

    pub fn receipt_path(&self) -> String {
        format!(
            "receipts/ports/{}/channels/{}/sequences/{}",
            self.dst_port, self.dst_channel, self.sequence
        )
    }

    pub fn ack_path(&self) -> String {
        format!(
            "acks/ports/{}/channels/{}/sequences/{}",
            self.dst_port, self.dst_channel, self.sequence
        )
    }

    /// Whether the destination at a header of `height` and `time_ns` no longer
    /// accepts the packet: ibc-rs's rule (strictly past the timeout height or
    /// timestamp), which a timeout proof at that header must satisfy.
    pub fn expired_at(&self, height: u64, time_ns: u64) -> bool {
        let by_height = match parse_height(&self.timeout_height) {
            Ok((_, 0)) | Err(_) => false,
            Ok((_, th)) => height > th,
        };
        let by_time = self.timeout_timestamp != 0 && time_ns > self.timeout_timestamp;
        by_height || by_time
    }
}

/// What to do with a packet not yet received on its destination.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Decision {
    /// Deliver it with MsgRecvPacket.
    Recv,
    /// Prove on the destination that it never arrived; MsgTimeout to the source.
    Timeout,
    /// Too close to its timeout to deliver safely, not yet past it: look again later.
    Wait,
}

/// Blocks and nanoseconds of margin before a timeout within which a MsgRecvPacket
/// would likely land too late.
pub const HEIGHT_MARGIN: u64 = 2;
pub const TIME_MARGIN_NS: u64 = 10_000_000_000;

/// Decides from the destination's latest header (`height`, `time_ns`).
pub fn decide(p: &PacketInfo, height: u64, time_ns: u64) -> Decision {
    if p.expired_at(height, time_ns) {
        return Decision::Timeout;
    }
    let soon = p.expired_at(
        height.saturating_add(HEIGHT_MARGIN),
        time_ns.saturating_add(TIME_MARGIN_NS),
    );
    if soon {
        Decision::Wait
    } else {
        Decision::Recv
    }
}

/// Whether a chain's refusal means the message had already been done by
/// someone (another relayer, or this one before a restart).
pub fn already_done(log: &str) -> bool {
    let l = log.to_ascii_lowercase();
    l.contains("already") || l.contains("no-op") || l.contains("noop")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, attrs: &[(&str, &str)]) -> Event {
        Event::new(kind, attrs.iter().map(|(k, v)| (*k, *v)))
    }

    fn send(seq: &str, chan: &str) -> Event {
        ev(
            "send_packet",
            &[
                ("packet_data_hex", "7b7d"),
                ("packet_timeout_height", "1-100"),
                ("packet_timeout_timestamp", "1700000000000000000"),
                ("packet_sequence", seq),
                ("packet_src_port", "inference"),
                ("packet_src_channel", chan),
                ("packet_dst_port", "inference"),
                ("packet_dst_channel", "channel-7"),
                ("packet_channel_ordering", "ORDER_UNORDERED"),
                ("packet_connection", "connection-0"),
            ],
        )
    }

    #[test]
    fn send_packet_and_write_acknowledgement_events_of_our_channel_are_found() {
        let ack = ev(
            "write_acknowledgement",
            &[
                ("packet_data_hex", "aa"),
                ("packet_ack_hex", "7b22726573756c74223a317d"),
                ("packet_timeout_height", "0-0"),
                ("packet_timeout_timestamp", "0"),
                ("packet_sequence", "4"),
                ("packet_src_port", "inference"),
                ("packet_src_channel", "channel-7"),
                ("packet_dst_port", "inference"),
                ("packet_dst_channel", "channel-0"),
                ("packet_connection", "connection-0"),
            ],
        );
        let events = [
            send("1", "channel-0"),
            send("2", "channel-9"), // another channel: not ours
            ev("transfer", &[("amount", "1")]),
            ack,
            ev("send_packet", &[("packet_sequence", "x")]), // malformed: skipped
        ];
        let found = scan(&events, 12, "inference", "channel-0");
        assert_eq!(found.sent.len(), 1);
        let p = &found.sent[0];
        assert_eq!(
            (p.sequence, p.height, p.dst_channel.as_str()),
            (1, 12, "channel-7")
        );
        assert_eq!(p.timeout_timestamp, 1_700_000_000_000_000_000);
        assert_eq!(found.acks.len(), 1);
        assert_eq!(found.acks[0].packet.sequence, 4);
        assert_eq!(found.acks[0].ack_hex, "7b22726573756c74223a317d");
        assert_eq!(
            found.acks[0].packet.ack_path(),
            "acks/ports/inference/channels/channel-0/sequences/4"
        );

        let raw = p.to_raw().expect("raw packet");
        assert_eq!(raw.data, b"{}");
        assert_eq!(raw.timeout_height.expect("h").revision_height, 100);
        assert_eq!(
            p.commitment_path(),
            "commitments/ports/inference/channels/channel-0/sequences/1"
        );
        assert_eq!(
            p.receipt_path(),
            "receipts/ports/inference/channels/channel-7/sequences/1"
        );
    }

    #[test]
    fn a_packet_is_received_while_far_from_its_timeout_and_timed_out_strictly_after_it() {
        let mut p = scan(&[send("1", "channel-0")], 3, "inference", "channel-0").sent[0].clone();
        let t = p.timeout_timestamp;
        assert_eq!(decide(&p, 50, t - 60_000_000_000), Decision::Recv);
        // Within the margin of the height or the time: wait.
        assert_eq!(decide(&p, 99, t - 60_000_000_000), Decision::Wait);
        assert_eq!(decide(&p, 50, t - 1_000_000_000), Decision::Wait);
        // At the timeout itself ibc-rs still accepts it; only past it is a timeout provable.
        assert_eq!(decide(&p, 100, t - 60_000_000_000), Decision::Wait);
        assert_eq!(decide(&p, 101, t - 60_000_000_000), Decision::Timeout);
        assert_eq!(decide(&p, 50, t + 1), Decision::Timeout);
        // No timeouts at all: always received.
        p.timeout_height = "0-0".into();
        p.timeout_timestamp = 0;
        assert_eq!(decide(&p, u64::MAX - 1, u64::MAX - 1), Decision::Recv);
    }

    #[test]
    fn refusals_for_work_already_done_are_recognised() {
        assert!(already_done("packet sequence 1 already received"));
        assert!(already_done("acknowledgement: no-op"));
        assert!(!already_done("ICS23 verification failed"));
    }
}
