//! Prometheus metrics: per-model run latency histograms, queue depth and wait,
//! job outcomes and errors by kind, and the device in use. Rendered in the text
//! exposition format by a tiny HTTP/1.1 handler on its own loopback port, so a
//! scrape never competes with gRPC traffic.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Upper bounds in seconds; spans a tiny CPU model (100 µs) to a slow GPU job (10 s).
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A Prometheus histogram over [`BUCKETS`] (also used by verdictd's metrics).
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] = self.counts[i].saturating_add(1);
            }
        }
        self.count = self.count.saturating_add(1);
        self.sum += secs;
    }

    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// All sidecar metrics; shared by the job workers and the gRPC handlers.
#[derive(Debug, Default)]
pub struct Metrics {
    queue_depth: AtomicU64,
    queue_capacity: AtomicU64,
    latency: Mutex<BTreeMap<String, Histogram>>,
    queue_wait: Mutex<Histogram>,
    jobs: Mutex<BTreeMap<(String, &'static str), u64>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    devices: Mutex<BTreeMap<String, String>>,
    model_loads: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn new(queue_capacity: usize) -> Self {
        let m = Metrics::default();
        m.queue_capacity
            .store(queue_capacity as u64, Ordering::Relaxed);
        m
    }

    /// The queue's depth counter lives here so the gauge can never disagree with it.
    /// Returns the depth after the increment.
    pub fn queue_inc(&self) -> usize {
        self.queue_depth
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1) as usize
    }

    pub fn queue_dec(&self) {
        let _ = self
            .queue_depth
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some(d.saturating_sub(1))
            });
    }

    pub fn queue_depth(&self) -> usize {
        self.queue_depth.load(Ordering::Relaxed) as usize
    }

    pub fn set_device(&self, model: &str, device: &str) {
        if let Ok(mut d) = self.devices.lock() {
            d.insert(model.to_string(), device.to_string());
        }
    }

    pub fn observe_run(&self, model: &str, run: Duration) {
        if let Ok(mut h) = self.latency.lock() {
            h.entry(model.to_string())
                .or_default()
                .observe(run.as_secs_f64());
        }
    }

    pub fn observe_queue_wait(&self, wait: Duration) {
        if let Ok(mut h) = self.queue_wait.lock() {
            h.observe(wait.as_secs_f64());
        }
    }

    /// `outcome`: done, failed, timed_out.
    pub fn job_finished(&self, model: &str, outcome: &'static str) {
        if let Ok(mut j) = self.jobs.lock() {
            let c = j.entry((model.to_string(), outcome)).or_default();
            *c = c.saturating_add(1);
        }
    }

    /// `kind`: a short stable label (queue_full, invalid_input, ...).
    pub fn error(&self, kind: &'static str) {
        if let Ok(mut e) = self.errors.lock() {
            let c = e.entry(kind).or_default();
            *c = c.saturating_add(1);
        }
    }

    /// A hot-load event; `outcome`: ready, failed, retry, refused_by_policy.
    pub fn model_load(&self, outcome: &'static str) {
        if let Ok(mut m) = self.model_loads.lock() {
            let c = m.entry(outcome).or_default();
            *c = c.saturating_add(1);
        }
    }

    /// The text exposition format.
    pub fn render(&self, ready: bool, fault: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_ready 1 when every model session is created and warmed up."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_ready gauge");
        let _ = writeln!(out, "verdict_sidecar_ready {}", u8::from(ready));
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_fault_mode 1 for the active test-only fault mode."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_fault_mode gauge");
        let _ = writeln!(out, "verdict_sidecar_fault_mode{{fault=\"{fault}\"}} 1");
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_device_info Device each model's session runs on."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_device_info gauge");
        if let Ok(d) = self.devices.lock() {
            for (model, dev) in d.iter() {
                let _ = writeln!(
                    out,
                    "verdict_sidecar_device_info{{model=\"{model}\",device=\"{dev}\"}} 1"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_queue_depth Jobs accepted and not yet started."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_queue_depth gauge");
        let _ = writeln!(
            out,
            "verdict_sidecar_queue_depth {}",
            self.queue_depth.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_queue_capacity gauge");
        let _ = writeln!(
            out,
            "verdict_sidecar_queue_capacity {}",
            self.queue_capacity.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_run_latency_seconds Model run time only, per model (sha256)."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_run_latency_seconds histogram");
        if let Ok(h) = self.latency.lock() {
            for (model, hist) in h.iter() {
                hist.render(
                    &mut out,
                    "verdict_sidecar_run_latency_seconds",
                    &format!("model=\"{model}\""),
                );
            }
        }
        let _ = writeln!(out, "# HELP verdict_sidecar_queue_wait_seconds Time from acceptance to the start of the run.");
        let _ = writeln!(out, "# TYPE verdict_sidecar_queue_wait_seconds histogram");
        if let Ok(h) = self.queue_wait.lock() {
            h.render(&mut out, "verdict_sidecar_queue_wait_seconds", "");
        }
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_jobs_total Finished jobs by model and outcome."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_jobs_total counter");
        if let Ok(j) = self.jobs.lock() {
            for ((model, outcome), n) in j.iter() {
                let _ = writeln!(
                    out,
                    "verdict_sidecar_jobs_total{{model=\"{model}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_errors_total Rejected requests and failed jobs by kind."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_errors_total counter");
        if let Ok(e) = self.errors.lock() {
            for (kind, n) in e.iter() {
                let _ = writeln!(out, "verdict_sidecar_errors_total{{kind=\"{kind}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP verdict_sidecar_model_loads_total LoadModel outcomes: ready, failed, retry, refused_by_policy."
        );
        let _ = writeln!(out, "# TYPE verdict_sidecar_model_loads_total counter");
        if let Ok(m) = self.model_loads.lock() {
            for (outcome, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "verdict_sidecar_model_loads_total{{outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out
    }
}

/// Serves `GET /metrics` (any path, in fact) with `render()` until the listener fails.
pub async fn serve(
    listener: TcpListener,
    render: impl Fn() -> String + Send + Sync + 'static,
) -> std::io::Result<()> {
    let render = std::sync::Arc::new(render);
    loop {
        let (mut sock, _) = listener.accept().await?;
        let render = render.clone();
        tokio::spawn(async move {
            // Read the request head (bounded, with a deadline) and ignore it: there is one resource.
            let mut buf = vec![0u8; 8192];
            let mut n = 0;
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while n < buf.len() {
                    match sock.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(k) => n += k,
                    }
                    if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            })
            .await;
            if read.is_err() {
                return;
            }
            let body = render();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}
