//! verdictd's Prometheus metrics (`verdictd start --metrics ADDR`, `GET /metrics`):
//! block and commit timings, txs by result code (blocks and CheckTx), vote
//! extensions (bytes, rejections), inference jobs by outcome, faults and
//! slashes by kind, the attestor's sidecar round trips, and the store's size.
//!
//! Observability only: nothing here is read by consensus code, so the wall
//! clock and locks are fine. One process-wide registry ([`metrics`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use verdict_sidecar::metrics::Histogram;

#[derive(Default)]
pub struct Metrics {
    height: AtomicU64,
    finalize: Mutex<Histogram>,
    commit: Mutex<Histogram>,
    block_txs: Mutex<BTreeMap<u32, u64>>,
    check_txs: Mutex<BTreeMap<(&'static str, u32), u64>>,
    vote_ext_bytes: AtomicU64,
    vote_ext_made: AtomicU64,
    vote_ext_rejected: AtomicU64,
    events: Mutex<BTreeMap<(&'static str, String), u64>>,
    sidecar: Mutex<Histogram>,
    sidecar_errors: AtomicU64,
    store_bytes: AtomicU64,
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::default)
}

fn bump<K: Ord>(m: &Mutex<BTreeMap<K, u64>>, k: K) {
    bump_all(m, [k]);
}

/// [`bump`] for each of `ks`, under one lock.
fn bump_all<K: Ord>(m: &Mutex<BTreeMap<K, u64>>, ks: impl IntoIterator<Item = K>) {
    if let Ok(mut m) = m.lock() {
        for k in ks {
            let e = m.entry(k).or_insert(0);
            *e = e.saturating_add(1);
        }
    }
}

/// The metrics name of an event type that is counted (None: not counted).
pub fn counted_event(kind: &str) -> Option<&'static str> {
    match kind {
        "inference_job_result" => Some("job_result"),
        "inference_fault" => Some("fault"),
        "slash" => Some("slash"),
        _ => None,
    }
}

fn observe(h: &Mutex<Histogram>, d: Duration) {
    if let Ok(mut h) = h.lock() {
        h.observe(d.as_secs_f64());
    }
}

impl Metrics {
    /// A finalized block: its time, its txs' result codes, and its events as
    /// (type, label); only job results, faults and slashes are counted.
    pub fn finalized<'a>(
        &self,
        took: Duration,
        codes: impl IntoIterator<Item = u32>,
        events: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) {
        observe(&self.finalize, took);
        bump_all(&self.block_txs, codes);
        bump_all(
            &self.events,
            events.into_iter().filter_map(|(kind, label)| {
                counted_event(kind).map(|key| (key, label.unwrap_or("").to_string()))
            }),
        );
    }

    pub fn committed(&self, height: u64, took: Duration, store_bytes: Option<u64>) {
        self.height.store(height, Ordering::Relaxed);
        observe(&self.commit, took);
        if let Some(b) = store_bytes {
            self.store_bytes.store(b, Ordering::Relaxed);
        }
    }

    /// True once the store's size has been sampled.
    pub fn has_store_size(&self) -> bool {
        self.store_bytes.load(Ordering::Relaxed) > 0
    }

    pub fn check_tx(&self, recheck: bool, code: u32) {
        bump(
            &self.check_txs,
            (if recheck { "recheck" } else { "new" }, code),
        );
    }

    pub fn vote_extension(&self, bytes: usize) {
        self.vote_ext_made.fetch_add(1, Ordering::Relaxed);
        self.vote_ext_bytes
            .fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn vote_extension_rejected(&self) {
        self.vote_ext_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// One attestor call to the sidecar and whether it failed.
    pub fn sidecar_call(&self, took: Duration, ok: bool) {
        observe(&self.sidecar, took);
        if !ok {
            self.sidecar_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let scalars = [
            (
                "verdictd_block_height",
                "gauge",
                "Last committed height.",
                load(&self.height),
            ),
            (
                "verdictd_store_bytes",
                "gauge",
                "Size of the state store on disk.",
                load(&self.store_bytes),
            ),
            (
                "verdictd_vote_extensions_total",
                "counter",
                "Vote extensions this node made.",
                load(&self.vote_ext_made),
            ),
            (
                "verdictd_vote_extension_bytes_total",
                "counter",
                "Bytes of the vote extensions this node made.",
                load(&self.vote_ext_bytes),
            ),
            (
                "verdictd_vote_extensions_rejected_total",
                "counter",
                "Vote extensions of others this node rejected.",
                load(&self.vote_ext_rejected),
            ),
            (
                "verdictd_sidecar_errors_total",
                "counter",
                "Attestor calls to the sidecar that failed.",
                load(&self.sidecar_errors),
            ),
        ];
        for (name, kind, help, v) in scalars {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        let histograms = [
            (
                "verdictd_finalize_block_seconds",
                "FinalizeBlock duration.",
                &self.finalize,
            ),
            ("verdictd_commit_seconds", "Commit duration.", &self.commit),
            (
                "verdictd_sidecar_call_seconds",
                "Attestor round trips to the sidecar.",
                &self.sidecar,
            ),
        ];
        for (name, help, h) in histograms {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            if let Ok(h) = h.lock() {
                h.render(&mut out, name, "");
            }
        }
        self.render_labelled(&mut out);
        out
    }

    /// The counters with labels: txs by code, CheckTx by type and code, events by kind.
    fn render_labelled(&self, out: &mut String) {
        let head = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        head(
            out,
            "verdictd_block_txs_total",
            "Txs in finalized blocks by result code.",
        );
        if let Ok(m) = self.block_txs.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(out, "verdictd_block_txs_total{{code=\"{code}\"}} {n}");
            }
        }
        head(
            out,
            "verdictd_check_txs_total",
            "CheckTx calls by kind and result code.",
        );
        if let Ok(m) = self.check_txs.lock() {
            for ((kind, code), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "verdictd_check_txs_total{{type=\"{kind}\",code=\"{code}\"}} {n}"
                );
            }
        }
        head(
            out,
            "verdictd_events_total",
            "Job results by status, inference faults and slashes by kind.",
        );
        if let Ok(m) = self.events.lock() {
            for ((kind, label), n) in m.iter() {
                let label = label.replace('"', "'");
                let _ = writeln!(
                    out,
                    "verdictd_events_total{{event=\"{kind}\",kind=\"{label}\"}} {n}"
                );
            }
        }
    }
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                metrics().render(),
            )
        }),
    );
    axum::serve(listener, router).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_recorded() {
        let m = Metrics::default();
        m.finalized(
            Duration::from_millis(3),
            [0, 0, 5],
            [
                ("inference_job_result", Some("completed")),
                ("slash", Some("wrong_output")),
                ("transfer", None),
            ],
        );
        m.committed(7, Duration::from_millis(1), Some(4096));
        m.check_tx(false, 0);
        m.vote_extension(120);
        let text = m.render();
        for line in [
            "verdictd_block_height 7",
            "verdictd_store_bytes 4096",
            "verdictd_block_txs_total{code=\"0\"} 2",
            "verdictd_block_txs_total{code=\"5\"} 1",
            "verdictd_check_txs_total{type=\"new\",code=\"0\"} 1",
            "verdictd_vote_extension_bytes_total 120",
            "verdictd_events_total{event=\"job_result\",kind=\"completed\"} 1",
            "verdictd_events_total{event=\"slash\",kind=\"wrong_output\"} 1",
            "verdictd_finalize_block_seconds_count{} 1",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("transfer"));
    }
}
