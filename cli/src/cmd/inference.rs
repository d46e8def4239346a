//! `verdict tx inference …` and `verdict query inference …`: models, paid
//! jobs, and jobs requested from another chain over IBC.

mod describe;
mod msgs;
mod wait;

pub use describe::{describe_job, describe_model, describe_remote};
pub use wait::{wait_job, wait_remote, Until};

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use verdict_client::keyring::Keyring;
use verdict_client::rpc::Rpc;

use super::Ctx;
use crate::output::{print, report_tx};
use crate::tx::{one_coin, submit, submit_tx, TxFlags};

#[derive(Subcommand)]
pub enum InferenceTx {
    /// Register a model: its spec (JSON: name, inputs, outputs, tolerance,
    /// max_output_len), where validators fetch its bytes (--uri, one or more),
    /// and either the .onnx file (hashed and measured here) or --model-id and
    /// --size. Validators then fetch it, check the hash, and declare serving it
    /// (`tx inference serve`); jobs on it are accepted once enough do.
    RegisterModel {
        #[arg(long)]
        from: String,
        #[arg(long)]
        spec: PathBuf,
        /// Where the bytes are: http://, https://, file:// or ipfs:// (1–4,
        /// tried in order; repeat the flag). Each sidecar checks sha256 and size,
        /// so a mirror need not be trusted.
        #[arg(long = "uri", value_name = "URI", required = true)]
        uris: Vec<String>,
        /// The .onnx file; its sha256 is the model id and its length the size.
        #[arg(long, conflicts_with_all = ["model_id", "size"])]
        file: Option<PathBuf>,
        /// The file's sha256 (without a local --file).
        #[arg(long, requires = "size")]
        model_id: Option<String>,
        /// The file's size in bytes (with --model-id).
        #[arg(long, requires = "model_id")]
        size: Option<u64>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Declare that the validator of --from (its operator key) serves these
    /// models: its sidecar has them loaded and it accepts committee seats for
    /// their jobs. With --stop, declare it no longer does.
    Serve {
        /// Model ids (sha256 hex).
        #[arg(required = true, value_name = "MODEL_ID")]
        model_ids: Vec<String>,
        /// Stop serving them instead.
        #[arg(long)]
        stop: bool,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Pay for one inference run; with --wait, print the result once settled.
    Submit(SubmitArgs),
    /// Ask the chain at the other end of an IBC `inference` channel to run a
    /// job. The fee is what the serving chain charges (from its payer account of
    /// that channel); the same coin is escrowed here until the acknowledgement:
    /// paid into the community pool on a result, refunded on an error or timeout.
    RequestRemote(RequestRemoteArgs),
    /// Challenge a completed job's result while it is provisional (within the
    /// chain's challenge_window_blocks of settlement). The bond (default: the
    /// smallest the chain takes, the job's fee × challenge_committee_size /
    /// committee_size) pays a re-run by a larger, freshly drawn committee: if
    /// it finds the result wrong, the original agreeing members are slashed
    /// and you get the bond back plus a reward; if it agrees, the bond pays
    /// the members that answered correctly. With --wait, print the job once
    /// the challenge is resolved.
    Challenge {
        job_id: u64,
        #[arg(long)]
        from: String,
        /// e.g. 30000uverd (default: the minimum for this job).
        #[arg(long)]
        bond: Option<String>,
        #[arg(long)]
        wait: bool,
        #[arg(long, default_value_t = 180)]
        wait_seconds: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Close a request sent over IBC that can no longer be answered: past its
    /// timeout, and its channel is no longer open or a day has passed since. Its
    /// fee goes to the community pool (it may have been served); only a relayed
    /// timeout refunds.
    ReclaimRemote {
        #[arg(long)]
        from: String,
        #[arg(long)]
        channel: String,
        #[arg(long)]
        sequence: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
}

// The arguments of `tx inference submit` (its help is the variant's).
#[derive(Args)]
pub struct SubmitArgs {
    #[arg(long)]
    from: String,
    /// Model id (sha256 hex).
    #[arg(long)]
    model: String,
    /// Input JSON: {"NAME": {"dtype", "shape", "data"}, …} (or a file with an
    /// "inputs" object of that form, like models/reference/*.json).
    #[arg(long)]
    input: PathBuf,
    #[arg(long, default_value_t = 2000)]
    max_latency_ms: u32,
    /// Escrowed job fee, paid to the agreeing validators (refunded on failure).
    #[arg(long, default_value = "10000uverd")]
    fee: String,
    /// Wait for the job to settle and print its result.
    #[arg(long)]
    wait: bool,
    /// With --wait: wait until the result is final (its challenge window
    /// closed or its challenge resolved), not just settled.
    #[arg(long, requires = "wait")]
    wait_final: bool,
    /// How long --wait waits for settlement.
    #[arg(long, default_value_t = 120)]
    wait_seconds: u64,
    /// Pin the model's spec: the job is refused unless the model is
    /// registered with exactly this spec hash (`query inference model`).
    #[arg(long)]
    spec_hash: Option<String>,
    #[command(flatten)]
    flags: TxFlags,
}

// The arguments of `tx inference request-remote` (its help is the variant's).
#[derive(Args)]
pub struct RequestRemoteArgs {
    #[arg(long)]
    from: String,
    /// This chain's end of the channel, e.g. channel-0.
    #[arg(long)]
    channel: String,
    /// Model id (sha256 hex) on the serving chain.
    #[arg(long)]
    model: String,
    /// Input JSON as for `submit`. Tensors go in the order of the model's
    /// inputs, read from --serving-node when given, else by name.
    #[arg(long)]
    input: PathBuf,
    /// RPC of a node of the serving chain (to read the model's input order).
    #[arg(long)]
    serving_node: Option<String>,
    #[arg(long, default_value_t = 2000)]
    max_latency_ms: u32,
    #[arg(long, default_value = "10000uverd")]
    fee: String,
    /// Seconds until the request times out (refunded) if not received.
    #[arg(long, default_value_t = 600)]
    timeout_seconds: u64,
    /// Ask the serving chain to acknowledge only a final result (once its
    /// challenge window closed or its challenge resolved).
    #[arg(long)]
    wait_final: bool,
    /// Wait for the acknowledgement (or timeout) and print the outcome.
    #[arg(long)]
    wait: bool,
    #[arg(long, default_value_t = 300)]
    wait_seconds: u64,
    #[command(flatten)]
    flags: TxFlags,
}

#[derive(Subcommand)]
pub enum InferenceQuery {
    /// A request this chain sent over IBC: status, result or error.
    RemoteResult {
        #[arg(long)]
        channel: String,
        sequence: u64,
    },
    /// The requests one account sent over IBC (newest first).
    RemoteResults {
        #[arg(long)]
        requester: String,
    },
    /// The account that pays for jobs requested over a channel (fund it with a
    /// bank send).
    ChannelPayer {
        #[arg(long)]
        channel: String,
    },
    /// A job: status, committee, result, faults.
    Job {
        id: u64,
    },
    /// What a third party needs to check a settled job: model and spec, the
    /// inputs' hash, the committee with its beacon and seed, the heights of
    /// each member's commitment and reveal, the result. With --prove the
    /// stored job comes with an ICS-23 proof, checked against the app hash.
    Provenance {
        id: u64,
        #[arg(long)]
        prove: bool,
        /// Height to read at (0: the latest provable).
        #[arg(long, default_value_t = 0)]
        height: u64,
    },
    /// Jobs, optionally of one requester.
    Jobs {
        #[arg(long)]
        requester: Option<String>,
        #[arg(long)]
        start_after: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// A model: spec, where its bytes are (uris, size_bytes) and the
    /// validators that serve it (servers, with their power).
    Model {
        id: String,
    },
    Models,
    /// Slashed inference faults, optionally of one validator (address or valoper).
    Faults {
        #[arg(long)]
        validator: Option<String>,
    },
    Params,
}

/// The store key of job `id` (the inference module's `inference/jobs` map:
/// a two-byte namespace length, the namespace, the id big-endian).
pub fn job_store_key(id: u64) -> Vec<u8> {
    const NS: &[u8] = b"inference/jobs";
    let mut k = vec![0u8, NS.len() as u8];
    k.extend_from_slice(NS);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// A 20-byte address as state stores it (a JSON array of numbers).
fn addr20(v: &Value) -> Option<verdict_core::address::Addr> {
    let bytes: Vec<u8> = v
        .as_array()?
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect::<Option<_>>()?;
    verdict_core::address::Addr::from_slice(&bytes)
}

/// `query inference provenance`: the stored job, read (and with `prove`
/// proven) from the store, reduced to its provenance.
fn provenance(ctx: &Ctx, id: u64, height: u64, prove: bool) -> anyhow::Result<()> {
    let (height, value, verified) =
        super::query::read_store(ctx, &job_store_key(id), height, prove)?;
    if value.is_empty() {
        bail!(
            "job {id} is not in state at height {height} (unknown, or pruned after its retention)"
        );
    }
    let job: Value = serde_json::from_slice(&value).context("stored job is not JSON")?;
    let result = &job["result"];
    // State keeps addresses as 20 bytes; shown as addresses.
    let committee: Vec<Value> = job["committee"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            if let Some(a) = addr20(&m["operator"]) {
                m["operator"] = json!(a.valoper());
            }
            m
        })
        .collect();
    let v = json!({
        "job_id": id,
        "height": height,
        "status": job["status"],
        "model_id": job["model_id"],
        "requester": addr20(&job["requester"]).map_or(Value::Null, |a| json!(a.bech32())),
        "fee": job["fee"],
        "submitted_height": job["submitted_height"],
        "commit_closed_height": job["commit_closed_height"],
        "provenance": job["provenance"],
        "committee": committee,
        "result": {
            "digest": result["digest"],
            "agreeing": result["agreeing"],
            "faults": result["faults"],
            "finalized_height": result["finalized_height"],
            "incident": result["incident"],
            "compensation": result["compensation"],
        },
        "proof_verified_against": verified,
    });
    let mut text = serde_json::to_string_pretty(&v)?;
    if let Some(h) = &verified {
        text.push_str(&super::query::proof_note(h, height));
    }
    print(ctx.out, &v, text);
    Ok(())
}

pub fn query(ctx: &Ctx, what: InferenceQuery) -> anyhow::Result<()> {
    if let InferenceQuery::Provenance { id, prove, height } = what {
        return provenance(ctx, id, height, prove);
    }
    let is_model = matches!(what, InferenceQuery::Model { .. });
    let v = fetch(&ctx.rpc, what)?;
    let text = if is_model {
        describe_model(&v)
    } else if v.get("committee").is_some() {
        describe_job(&v)
    } else if v.get("sequence").is_some() && v.get("status").is_some() {
        describe_remote(&v)
    } else {
        serde_json::to_string_pretty(&v)?
    };
    print(ctx.out, &v, text);
    Ok(())
}

pub fn tx(ctx: &Ctx, cmd: InferenceTx) -> anyhow::Result<()> {
    let kr = ctx.keyring()?;
    match cmd {
        InferenceTx::RegisterModel {
            from,
            spec,
            uris,
            file,
            model_id,
            size,
            flags,
        } => {
            let src = msgs::ModelSource {
                file: file.as_deref(),
                model_id: model_id.as_deref(),
                size,
                uris: &uris,
            };
            submit(
                ctx,
                &kr,
                &from,
                |me| Ok(vec![msgs::register_msg(me, &spec, &src)?]),
                &[],
                &flags,
            )
        }
        InferenceTx::Serve {
            model_ids,
            stop,
            from,
            flags,
        } => submit(
            ctx,
            &kr,
            &from,
            |me| msgs::serve_msgs(me, &model_ids, !stop),
            &[],
            &flags,
        ),
        InferenceTx::Submit(a) => submit_job(ctx, &kr, a),
        InferenceTx::ReclaimRemote {
            from,
            channel,
            sequence,
            flags,
        } => submit(
            ctx,
            &kr,
            &from,
            |me| Ok(vec![msgs::reclaim_remote_msg(me, &channel, sequence)]),
            &[],
            &flags,
        ),
        InferenceTx::RequestRemote(a) => request_remote(ctx, &kr, a),
        InferenceTx::Challenge {
            job_id,
            from,
            bond,
            wait,
            wait_seconds,
            flags,
        } => {
            let bond = match bond {
                Some(b) => one_coin(&b)?,
                None => msgs::min_bond(&ctx.rpc, job_id)?,
            };
            let msg = |me: &_| Ok(vec![msgs::challenge_msg(me, job_id, &bond)]);
            let Some(r) = submit_tx(ctx, &kr, &from, msg, std::slice::from_ref(&bond), &flags)?
            else {
                return Ok(());
            };
            if !r.is_ok() || !wait {
                return report_tx(&r, ctx.out);
            }
            let limit = Duration::from_secs(wait_seconds);
            let j = wait_job(&ctx.rpc, job_id, Until::Final, limit)?;
            print(ctx.out, &j, describe_job(&j));
            Ok(())
        }
    }
}

/// `tx inference submit`: the job id, or with --wait the settled job (exit
/// status 2 unless it completed).
fn submit_job(ctx: &Ctx, kr: &Keyring, a: SubmitArgs) -> anyhow::Result<()> {
    let SubmitArgs {
        from,
        model,
        input,
        max_latency_ms,
        fee,
        wait,
        wait_final,
        wait_seconds,
        spec_hash,
        flags,
    } = a;
    let fee = one_coin(&fee)?;
    let inputs = msgs::input_tensors(&ctx.rpc, &model, &input)?;
    let msg = |me: &_| {
        let spec_hash = spec_hash.as_deref();
        Ok(vec![msgs::submit_msg(
            me,
            &model,
            inputs,
            max_latency_ms,
            &fee,
            spec_hash,
        )])
    };
    let Some(r) = submit_tx(ctx, kr, &from, msg, std::slice::from_ref(&fee), &flags)? else {
        return Ok(());
    };
    if !r.is_ok() {
        return report_tx(&r, ctx.out);
    }
    let id = msgs::job_id_of(&r)?;
    if !wait {
        print(
            ctx.out,
            &json!({"job_id": id, "txhash": r.hash}),
            format!("job {id} submitted in tx {}", r.hash),
        );
        return Ok(());
    }
    let until = if wait_final {
        Until::Final
    } else {
        Until::Settled
    };
    let j = wait_job(&ctx.rpc, id, until, Duration::from_secs(wait_seconds))?;
    print(ctx.out, &j, describe_job(&j));
    // An overturned job has a result too (the challenge's re-run's).
    if !matches!(j["status"].as_str(), Some("completed" | "overturned")) {
        std::process::exit(2);
    }
    Ok(())
}

/// `tx inference request-remote`: the request's (channel, sequence), or with
/// --wait its outcome (exit status 2 unless it completed).
fn request_remote(ctx: &Ctx, kr: &Keyring, a: RequestRemoteArgs) -> anyhow::Result<()> {
    let RequestRemoteArgs {
        from,
        channel,
        model,
        input,
        serving_node,
        max_latency_ms,
        fee,
        timeout_seconds,
        wait_final,
        wait,
        wait_seconds,
        flags,
    } = a;
    let fee = one_coin(&fee)?;
    let inputs = match serving_node {
        Some(node) => msgs::input_tensors(&Rpc::new(&node), &model, &input)?,
        None => msgs::tensors_from_file(&input, None)?,
    };
    let args = msgs::RemoteRequestArgs {
        channel: &channel,
        model: &model,
        inputs,
        max_latency_ms,
        fee: &fee,
        timeout_seconds,
        wait_final,
    };
    let msg = |me: &_| Ok(vec![msgs::request_remote_msg(me, args)]);
    let Some(r) = submit_tx(ctx, kr, &from, msg, std::slice::from_ref(&fee), &flags)? else {
        return Ok(());
    };
    if !r.is_ok() {
        return report_tx(&r, ctx.out);
    }
    let (ch, seq) = msgs::remote_sequence_of(&r)?;
    if !wait {
        print(
            ctx.out,
            &json!({"channel_id": ch, "sequence": seq, "txhash": r.hash}),
            format!("request {seq} sent on {ch} in tx {}", r.hash),
        );
        return Ok(());
    }
    let v = wait_remote(&ctx.rpc, &ch, seq, Duration::from_secs(wait_seconds))?;
    print(ctx.out, &v, describe_remote(&v));
    if v["status"].as_str() != Some("completed") {
        std::process::exit(2);
    }
    Ok(())
}

/// One `verdict.inference.v1.Query` method: the request from JSON, the
/// protobuf answer as JSON (proto field names, 64-bit integers as numbers).
pub fn query_json(rpc: &Rpc, method: &str, req: &Value) -> anyhow::Result<Value> {
    use verdict_proto::json;
    let path = format!("/verdict.inference.v1.Query/{method}");
    let data = json::request(&path, req).map_err(|e| anyhow::anyhow!("{method}: {e}"))?;
    let r = rpc.get(&format!(
        "abci_query?path=%22{path}%22&data=0x{}",
        hex::encode(data)
    ))?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        bail!(
            "query failed (code {code}): {}",
            resp["log"].as_str().unwrap_or("")
        );
    }
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(resp["value"].as_str().unwrap_or(""))?;
    json::response(&path, &bytes, json::Style::Plain).map_err(|e| anyhow::anyhow!("{method}: {e}"))
}

/// The one message of a single-item answer (`{"job": {...}}` → the job).
pub fn query_one(rpc: &Rpc, method: &str, field: &str, req: &Value) -> anyhow::Result<Value> {
    let mut v = query_json(rpc, method, req)?;
    Ok(v[field].take())
}

/// The answer to an inference query: the item of single-item queries (job,
/// model, remote request), the whole answer (list and pagination) of lists.
fn fetch(rpc: &Rpc, q: InferenceQuery) -> anyhow::Result<Value> {
    match q {
        InferenceQuery::Provenance { .. } => {
            bail!("provenance is read from the store, not fetched")
        }
        InferenceQuery::RemoteResult { channel, sequence } => query_one(
            rpc,
            "RemoteRequest",
            "request",
            &json!({"channel_id": channel, "sequence": sequence}),
        ),
        InferenceQuery::RemoteResults { requester } => {
            query_json(rpc, "RemoteRequests", &json!({ "requester": requester }))
        }
        InferenceQuery::ChannelPayer { channel } => {
            query_json(rpc, "ChannelPayer", &json!({ "channel_id": channel }))
        }
        InferenceQuery::Job { id } => query_one(rpc, "Job", "job", &json!({ "id": id })),
        InferenceQuery::Jobs {
            requester,
            start_after,
            limit,
        } => query_json(
            rpc,
            "Jobs",
            &json!({"requester": requester, "start_after": start_after, "limit": limit}),
        ),
        InferenceQuery::Model { id } => query_one(rpc, "Model", "model", &json!({ "id": id })),
        InferenceQuery::Models => query_json(rpc, "Models", &json!({})),
        InferenceQuery::Faults { validator } => {
            query_json(rpc, "Faults", &json!({ "validator": validator }))
        }
        InferenceQuery::Params => query_json(rpc, "Params", &json!({})),
    }
}
