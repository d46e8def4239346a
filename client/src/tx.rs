//! Submitting transactions: gas (given or simulated), fees, a funds check,
//! signing, broadcasting, and waiting for the block.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmrs::Any;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::{self, Coin};

use crate::query::{account, balance, chain_id, query};
use crate::response::{BroadcastResponse, TxResponse};
use crate::rpc::Rpc;
use crate::txbuild::{sign_tx, simulate_tx, AccountKey, TxSpec};

/// Gas limit of a tx that is not simulated.
pub const DEFAULT_GAS: &str = "200000";
/// What a simulated gas use is multiplied by.
pub const DEFAULT_GAS_ADJUSTMENT: &str = "1.3";
/// Price per unit of gas of the default fee.
pub const DEFAULT_GAS_PRICES: &str = "0.025uverd";
/// How long [`submit`] waits for the tx to be in a block.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// How a tx is signed and sent (the CLI's tx flags).
#[derive(Clone, Debug)]
pub struct TxOptions {
    /// Chain id (default: asked from the node's `/status`).
    pub chain_id: Option<String>,
    /// Fee, e.g. `5000uverd` (default: gas × `gas_prices`).
    pub fees: Option<String>,
    /// Gas limit, or `auto` to simulate (default: [`default_gas`]).
    pub gas: Option<String>,
    /// Decimal multiplier of a simulated gas use.
    pub gas_adjustment: String,
    /// Decimal price with its denom, e.g. `0.025uverd`.
    pub gas_prices: String,
    pub memo: String,
    /// Return after CheckTx, without waiting for inclusion.
    pub no_wait: bool,
}

impl Default for TxOptions {
    fn default() -> Self {
        TxOptions {
            chain_id: None,
            fees: None,
            gas: None,
            gas_adjustment: DEFAULT_GAS_ADJUSTMENT.into(),
            gas_prices: DEFAULT_GAS_PRICES.into(),
            memo: String::new(),
            no_wait: false,
        }
    }
}

/// What [`submit`] got to.
#[derive(Clone, Debug)]
pub enum Submitted {
    /// Accepted by CheckTx, not waited for (`no_wait`): the tx hash.
    Pending(String),
    /// In a block, with its result (which may be a failure).
    Committed(TxResponse),
}

/// The gas a tx of `msgs` gets without `--gas`: simulated for inference
/// messages (whose gas grows with the input), [`DEFAULT_GAS`] for the others.
pub fn default_gas(msgs: &[Any]) -> &'static str {
    if msgs
        .iter()
        .any(|m| m.type_url.starts_with("/verdict.inference."))
    {
        "auto"
    } else {
        DEFAULT_GAS
    }
}

/// `ceil(gas × price)` with the price as a decimal string, in integers only.
pub fn fee_for(gas: u64, price: &str) -> anyhow::Result<Coin> {
    let split = price
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| anyhow!("--gas-prices {price:?}: want e.g. 0.025uverd"))?;
    let (num, denom) = price.split_at(split);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let scale = 10u128.pow(u32::try_from(frac.len()).unwrap_or(0));
    let units: u128 = format!("{int}{frac}")
        .parse()
        .context("--gas-prices amount")?;
    let amount = u128::from(gas).saturating_mul(units).div_ceil(scale.max(1));
    Ok(Coin::new(amount, denom))
}

/// Signs `msgs` (built for the signer's address) with `key`, chooses gas and
/// fee, checks that `spend` + fee is affordable, broadcasts, and (unless
/// `no_wait`) waits for the block.
pub fn submit(
    rpc: &Rpc,
    key: &AccountKey,
    msgs: impl FnOnce(&Addr) -> anyhow::Result<Vec<Any>>,
    spend: &[Coin],
    opts: &TxOptions,
) -> anyhow::Result<Submitted> {
    let chain_id = match &opts.chain_id {
        Some(c) => c.clone(),
        None => chain_id(rpc)?,
    };
    let acc = account(rpc, &key.address())?.ok_or_else(|| {
        anyhow!(
            "account {} does not exist on chain {chain_id} yet: it must receive tokens first",
            key.address()
        )
    })?;
    let mut spec = TxSpec {
        msgs: msgs(&key.address())?,
        memo: opts.memo.clone(),
        timeout_height: 0,
        fee: vec![],
        gas_limit: 0,
    };
    spec.gas_limit = gas_limit(rpc, &spec, key, acc.sequence, opts)?;
    spec.fee = match &opts.fees {
        Some(f) => coin::parse_coins(f).map_err(|e| anyhow!("--fees: {e}"))?,
        None => vec![fee_for(spec.gas_limit, &opts.gas_prices)?],
    };
    check_funds(rpc, &key.address(), spend, &spec.fee)?;
    let tx = sign_tx(&spec, key, &chain_id, acc.account_number, acc.sequence);
    let hash = broadcast(rpc, &tx)?;
    if opts.no_wait {
        return Ok(Submitted::Pending(hash));
    }
    Ok(Submitted::Committed(wait_for_tx(
        rpc,
        &hash,
        INCLUSION_TIMEOUT,
    )?))
}

/// `opts.gas`, its default, or with `auto` the simulated gas × adjustment.
fn gas_limit(
    rpc: &Rpc,
    spec: &TxSpec,
    key: &AccountKey,
    sequence: u64,
    opts: &TxOptions,
) -> anyhow::Result<u64> {
    let gas = opts
        .gas
        .as_deref()
        .unwrap_or_else(|| default_gas(&spec.msgs));
    if gas != "auto" {
        return gas
            .parse()
            .map_err(|_| anyhow!("--gas must be a number or `auto`, got {gas:?}"));
    }
    let sim = query::<SimulateResponse>(
        rpc,
        "/cosmos.tx.v1beta1.Service/Simulate",
        &SimulateRequest {
            tx_bytes: simulate_tx(spec, key, sequence),
            ..Default::default()
        },
    )?
    .map_err(|e| anyhow!("simulation failed (code {}): {}", e.code, e.log))?;
    let used = sim.gas_info.map(|g| g.gas_used).unwrap_or(0);
    // gas × adjustment, rounded up, with the same integer decimal math as fees.
    let adj = fee_for(used, &format!("{}gas", opts.gas_adjustment))?
        .amount
        .u128();
    Ok(u64::try_from(adj).unwrap_or(u64::MAX))
}

/// Fails, naming both amounts, when `addr` cannot pay `spend` + `fee` in the
/// fee denom, so that nothing is sent that would fail for it.
fn check_funds(rpc: &Rpc, addr: &Addr, spend: &[Coin], fee: &[Coin]) -> anyhow::Result<()> {
    let need: u128 = spend
        .iter()
        .chain(fee.iter())
        .filter(|c| c.denom == FEE_DENOM)
        .map(|c| c.amount.u128())
        .sum();
    let have = balance(rpc, addr, FEE_DENOM)?;
    if have < need {
        bail!(
            "insufficient funds: {addr} has {have}{FEE_DENOM}, needs {need}{FEE_DENOM} ({} + {} fee)",
            if spend.is_empty() {
                "0uverd".to_string()
            } else {
                coin::display(spend)
            },
            coin::display(fee)
        );
    }
    Ok(())
}

/// Broadcasts and returns the tx hash (hex, upper case); a CheckTx failure is an
/// error carrying the chain's code and log.
pub fn broadcast(rpc: &Rpc, tx: &[u8]) -> anyhow::Result<String> {
    let r: BroadcastResponse =
        rpc.get_as(&format!("broadcast_tx_sync?tx=0x{}", hex::encode(tx)))?;
    if r.code != 0 {
        bail!(
            "transaction rejected (code {}, {}): {}",
            r.code,
            r.codespace,
            r.log
        );
    }
    Ok(r.hash)
}

/// A node that indexes no txs at all: CometBFT's indexer is off and so is the
/// app's (`index-txs = false`). Waiting on it cannot end.
#[derive(Debug)]
pub struct NoTxIndex {
    pub node: String,
    pub log: String,
}

impl std::fmt::Display for NoTxIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} indexes no txs (CometBFT: indexing is disabled; app: {}): ask a node that \
             does with --node",
            self.node, self.log
        )
    }
}

impl std::error::Error for NoTxIndex {}

/// The tx with `hash` from the node's app (GetTx over ABCI query): `Ok(None)`
/// when the app has not indexed it, [`NoTxIndex`] when it keeps no index, an
/// error when the node cannot answer.
fn from_app_index(rpc: &Rpc, hash: &str) -> anyhow::Result<Option<TxResponse>> {
    let req = cosmrs::proto::cosmos::tx::v1beta1::GetTxRequest { hash: hash.into() };
    let r: Result<cosmrs::proto::cosmos::tx::v1beta1::GetTxResponse, _> =
        query(rpc, "/cosmos.tx.v1beta1.Service/GetTx", &req)?;
    match r {
        Ok(r) => Ok(r.tx_response.as_ref().map(TxResponse::from_sdk)),
        Err(e) if e.code == u64::from(verdict_core::codes::NOT_FOUND) => Ok(None),
        Err(e) if e.code == u64::from(verdict_core::codes::UNKNOWN_REQUEST) => Err(NoTxIndex {
            node: rpc.url().to_string(),
            log: e.log,
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// The committed tx with `hash` (hex): CometBFT's `/tx`, or, on a node whose
/// CometBFT indexes nothing (a pruning validator, `indexer = "null"`), the
/// app's own index through GetTx. `Ok(None)`: not found.
pub fn find_tx(rpc: &Rpc, hash: &str) -> anyhow::Result<Option<TxResponse>> {
    match rpc.get(&format!("tx?hash=0x{hash}")) {
        Ok(r) => serde_json::from_value(r)
            .map(Some)
            .with_context(|| format!("{} /tx of {hash}: unexpected reply", rpc.url())),
        // Only the node's own answer says "not found"; a transport error
        // ("host not found") is an error.
        Err(e) => match e.downcast_ref::<crate::rpc::RpcError>() {
            Some(r) if r.says("indexing is disabled") => from_app_index(rpc, hash),
            Some(r) if r.says("not found") => Ok(None),
            _ => Err(e),
        },
    }
}

/// Polls `/tx` (or, where CometBFT indexes nothing, the app's GetTx) until the transaction is in a block, with a spinner on a terminal.
pub fn wait_for_tx(rpc: &Rpc, hash: &str, timeout: Duration) -> anyhow::Result<TxResponse> {
    let start = Instant::now();
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let tty = std::io::stderr().is_terminal();
    let mut i = 0usize;
    loop {
        // Not found yet, or a failed look (the node busy): tried again; a node
        // that indexes nothing never finds it.
        match find_tx(rpc, hash) {
            Ok(Some(r)) => {
                if tty {
                    eprint!("\r\x1b[2K");
                }
                return Ok(r);
            }
            Err(e) if e.is::<NoTxIndex>() => {
                if tty {
                    eprintln!();
                }
                return Err(e.context(format!("cannot wait for tx {hash}")));
            }
            _ => {}
        }
        if start.elapsed() > timeout {
            if tty {
                eprintln!();
            }
            bail!(
                "tx {hash} was not included within {} s; it may still be in the mempool",
                timeout.as_secs()
            );
        }
        if tty {
            eprint!(
                "\r{} waiting for inclusion of {}… {:.0}s",
                frames[i % frames.len()],
                &hash[..12.min(hash.len())],
                start.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
        i = i.wrapping_add(1);
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node whose CometBFT and app both index nothing: `/tx` says indexing is
    /// disabled, GetTx says the app keeps no index (as verdictd with
    /// `index-txs = false`). Serves `replies` connections.
    fn node_without_indexes(replies: usize) -> String {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        std::thread::spawn(move || {
            for _ in 0..replies {
                let Ok((mut s, _)) = l.accept() else { return };
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let (status, body) = if req.starts_with("GET /tx?") {
                    ("500 Internal", r#"{"jsonrpc":"2.0","id":-1,"error":{"code":-32603,"message":"Internal error","data":"transaction indexing is disabled"}}"#.to_string())
                } else {
                    ("200 OK", r#"{"jsonrpc":"2.0","id":-1,"result":{"response":{"code":6,"log":"this node keeps no tx index (index-txs = false in app.toml)"}}}"#.to_string())
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn waiting_on_a_node_that_indexes_nothing_stops_at_once_and_says_why() {
        let rpc = Rpc::new(&node_without_indexes(2));
        // A minute of patience would end in "not included"; this must not wait.
        let e = wait_for_tx(&rpc, "AB12", Duration::from_secs(60)).expect_err("cannot wait");
        let text = format!("{e:#}");
        assert!(text.contains("indexes no txs"), "{text}");
        assert!(text.contains("index-txs = false"), "{text}");
        assert!(!text.contains("mempool"), "{text}");
    }

    fn any(url: &str) -> Any {
        Any {
            type_url: url.into(),
            value: vec![],
        }
    }

    #[test]
    fn fees_round_up_in_integer_decimal_math() {
        assert_eq!(
            fee_for(200_000, "0.025uverd").expect("fee"),
            Coin::new(5000, "uverd")
        );
        assert_eq!(
            fee_for(1, "0.025uverd").expect("fee"),
            Coin::new(1, "uverd")
        );
        assert_eq!(
            fee_for(35_570, "1.3gas").expect("adj").amount.u128(),
            46_241
        );
        assert_eq!(fee_for(10, "2uverd").expect("fee"), Coin::new(20, "uverd"));
        assert!(fee_for(10, "0.025").is_err());
    }

    #[test]
    fn inference_txs_simulate_gas_by_default() {
        assert_eq!(
            default_gas(&[any("/cosmos.bank.v1beta1.MsgSend")]),
            "200000"
        );
        assert_eq!(
            default_gas(&[any("/verdict.inference.v1.MsgSubmitJob")]),
            "auto"
        );
    }
}
