//! One chain as the relayer sees it: CometBFT RPC replies parsed with
//! `tendermint-rpc`'s response types, IBC state and proofs from `store/ibc/key`,
//! light-client headers from `/commit` and `/validators`, and txs signed and
//! sent with `verdict-client`.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use prost::Message;
use tendermint::block::signed_header::SignedHeader;
use tendermint::validator;
use tendermint_rpc::endpoint::{abci_query, block_results, commit, status, validators};
use verdict_client::keyring::Keyring;
use verdict_client::response::TxResponse;
use verdict_client::rpc::Rpc;
use verdict_client::tx::{submit, Submitted, TxOptions};
use verdict_ibc::ibc;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::types::Header as TmHeader;
use ibc::core::client::types::msgs::MsgUpdateClient;
use ibc::core::client::types::Height;
use ibc::core::commitment_types::merkle::MerkleProof;
use ibc::core::host::types::identifiers::{ChainId, ClientId};
use ibc::primitives::proto::{Any, Protobuf};

pub struct Endpoint {
    pub rpc: Rpc,
    pub node: String,
    pub chain_id: String,
    pub revision: u64,
}

/// A value of the IBC store at a height, with its `MerkleProof` bytes.
pub struct Proven {
    pub value: Vec<u8>,
    pub proof: Vec<u8>,
}

impl Endpoint {
    pub fn connect(node: &str) -> anyhow::Result<Endpoint> {
        let rpc = Rpc::new(node);
        let st: status::Response = rpc.get_as("status")?;
        let chain_id = st.node_info.network.to_string();
        let revision = ChainId::new(&chain_id)
            .map_err(|e| anyhow!("chain id {chain_id:?}: {e}"))?
            .revision_number();
        Ok(Endpoint {
            rpc,
            node: node.to_string(),
            chain_id,
            revision,
        })
    }

    pub fn height(&self, h: u64) -> anyhow::Result<Height> {
        Height::new(self.revision, h).map_err(|e| anyhow!("height {h}: {e}"))
    }

    /// Latest committed height and its block time (Unix ns).
    pub fn latest(&self) -> anyhow::Result<(u64, u64)> {
        let st: status::Response = self.rpc.get_as("status")?;
        let ns = st.sync_info.latest_block_time.unix_timestamp_nanos();
        Ok((
            st.sync_info.latest_block_height.value(),
            u64::try_from(ns).unwrap_or(0),
        ))
    }

    /// Waits until the chain has committed height `min`; returns the latest height.
    pub fn wait_for_height(&self, min: u64) -> anyhow::Result<u64> {
        let start = Instant::now();
        loop {
            let (h, _) = self.latest()?;
            if h >= min {
                return Ok(h);
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!("{} did not reach height {min} (at {h})", self.chain_id);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn signed_header(&self, h: u64) -> anyhow::Result<SignedHeader> {
        let c: commit::Response = self.rpc.get_as(&format!("commit?height={h}"))?;
        Ok(c.signed_header)
    }

    /// The validator set of height `h` (all pages), with `proposer` marked.
    pub fn validator_set(
        &self,
        h: u64,
        proposer: Option<tendermint::account::Id>,
    ) -> anyhow::Result<validator::Set> {
        let mut all = Vec::new();
        for page in 1.. {
            let v: validators::Response = self
                .rpc
                .get_as(&format!("validators?height={h}&page={page}&per_page=100"))?;
            let n = v.validators.len();
            all.extend(v.validators);
            if n == 0 || all.len() >= usize::try_from(v.total).unwrap_or(0) {
                break;
            }
        }
        let proposer = proposer.and_then(|p| all.iter().find(|v| v.address == p).cloned());
        Ok(validator::Set::new(all, proposer))
    }

    pub fn block_results(&self, h: u64) -> anyhow::Result<block_results::Response> {
        self.rpc.get_as(&format!("block_results?height={h}"))
    }

    fn abci_query(
        &self,
        path: &str,
        data: &[u8],
        height: Option<u64>,
        prove: bool,
    ) -> anyhow::Result<abci_query::AbciQuery> {
        let height = height.map(|h| format!("&height={h}")).unwrap_or_default();
        let r: abci_query::Response = self.rpc.get_as(&format!(
            "abci_query?path=%22{path}%22&data=0x{}{height}&prove={prove}",
            hex::encode(data)
        ))?;
        if r.response.code.is_err() {
            bail!(
                "{}: query {path} {:?} failed (code {}): {}",
                self.chain_id,
                String::from_utf8_lossy(data),
                r.response.code.value(),
                r.response.log
            );
        }
        Ok(r.response)
    }

    /// The latest value of an ICS-24 path (empty when absent).
    pub fn ibc_value(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .abci_query("store/ibc/key", path.as_bytes(), None, false)?
            .value)
    }

    /// The value of `path` in the state committed at `h`, with its proof, checked
    /// here against the app hash of header `h+1` (`app_hash`) with ibc-rs's
    /// verifier before any counterparty sees it.
    pub fn prove(&self, path: &str, h: u64, app_hash: &[u8]) -> anyhow::Result<Proven> {
        let r = self.abci_query("store/ibc/key", path.as_bytes(), Some(h), true)?;
        let ops = r
            .proof
            .ok_or_else(|| anyhow!("{}: no proof for {path} at {h}", self.chain_id))?
            .ops;
        let proofs = ops
            .iter()
            .map(|op| ics23::CommitmentProof::decode(op.data.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{}: proof of {path} at {h}", self.chain_id))?;
        let proof = MerkleProof { proofs };
        let checked = if r.value.is_empty() {
            verdict_ibc::verify_non_membership(&proof, app_hash, path.as_bytes())
        } else {
            verdict_ibc::verify_membership(&proof, app_hash, path.as_bytes(), &r.value)
        };
        checked.map_err(|e| {
            anyhow!(
                "{}: proof of {path} at {h} does not verify against header {}: {e}",
                self.chain_id,
                h.saturating_add(1)
            )
        })?;
        Ok(Proven {
            value: r.value,
            proof: Protobuf::<ibc::core::commitment_types::proto::v1::MerkleProof>::encode_vec(
                proof,
            ),
        })
    }

    /// The 07-tendermint client `client_id` hosted here.
    pub fn client_state(&self, client_id: &str) -> anyhow::Result<TmClientState> {
        let bytes = self.ibc_value(&format!("clients/{client_id}/clientState"))?;
        if bytes.is_empty() {
            bail!("{}: no client {client_id}", self.chain_id);
        }
        let any = Any::decode(bytes.as_slice())?;
        TmClientState::try_from(any).map_err(|e| anyhow!("client {client_id}: {e}"))
    }

    /// Unbonding period from `cosmos.staking.v1beta1.Query/Params` (the one a
    /// client of this chain must carry), or the SDK default when not served.
    pub fn unbonding_period(&self) -> Duration {
        use cosmrs::proto::cosmos::staking::v1beta1::{QueryParamsRequest, QueryParamsResponse};
        let served = verdict_client::query::query::<QueryParamsResponse>(
            &self.rpc,
            "/cosmos.staking.v1beta1.Query/Params",
            &QueryParamsRequest {},
        );
        match served {
            Ok(Ok(r)) => r
                .params
                .and_then(|p| p.unbonding_time)
                .and_then(|d| u64::try_from(d.seconds).ok())
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_UNBONDING),
            _ => DEFAULT_UNBONDING,
        }
    }

    /// Signs `msgs` with `key` (gas simulated), broadcasts, waits for the block,
    /// and fails with the chain's log when the tx failed.
    pub fn submit(&self, kr: &Keyring, key: &str, msgs: Vec<Any>) -> anyhow::Result<TxResponse> {
        let r = self.try_submit(kr, key, msgs)?;
        if !r.is_ok() {
            bail!(
                "{}: tx {} failed (code {}): {}",
                self.chain_id,
                r.hash,
                r.tx_result.code,
                r.tx_result.log
            );
        }
        Ok(r)
    }

    /// Like [`Endpoint::submit`], returning a failed tx's result instead of an error.
    pub fn try_submit(
        &self,
        kr: &Keyring,
        key: &str,
        msgs: Vec<Any>,
    ) -> anyhow::Result<TxResponse> {
        let opts = TxOptions {
            chain_id: Some(self.chain_id.clone()),
            fees: None,
            gas: Some("auto".into()),
            gas_adjustment: "1.5".into(),
            gas_prices: "0.025uverd".into(),
            memo: "verdict relayer".into(),
            no_wait: false,
        };
        let msgs = msgs
            .into_iter()
            .map(|a| cosmrs::Any {
                type_url: a.type_url,
                value: a.value,
            })
            .collect();
        let signing_key = kr.unlock(key)?;
        match submit(&self.rpc, &signing_key, |_| Ok(msgs), &[], &opts)? {
            Submitted::Committed(r) => Ok(r),
            Submitted::Pending(_) => bail!("no tx result"),
        }
    }

    /// A MsgUpdateClient for `client_id` (a client of this chain hosted on the
    /// counterparty, currently at `trusted`) to this chain's header `target`:
    /// the signed header, its validator set, and the validators of
    /// `trusted + 1` (what the trusted consensus state's next-validators hash names).
    pub fn update_client_msg(
        &self,
        client_id: &str,
        trusted: Height,
        target: u64,
        signer: &str,
    ) -> anyhow::Result<Any> {
        let signed_header = self.signed_header(target)?;
        let validator_set =
            self.validator_set(target, Some(signed_header.header.proposer_address))?;
        let trusted_next = self.validator_set(trusted.revision_height().saturating_add(1), None)?;
        let header = TmHeader {
            signed_header,
            validator_set,
            trusted_height: trusted,
            trusted_next_validator_set: trusted_next,
        };
        let msg = MsgUpdateClient {
            client_id: client_id
                .parse::<ClientId>()
                .map_err(|e| anyhow!("client id {client_id}: {e}"))?,
            client_message: header.into(),
            signer: signer.to_string().into(),
        };
        Ok(Any {
            type_url: "/ibc.core.client.v1.MsgUpdateClient".into(),
            value: msg.encode_vec(),
        })
    }
}

/// The Cosmos SDK's default unbonding period.
pub const DEFAULT_UNBONDING: Duration = Duration::from_secs(21 * 24 * 3600);

/// `msg` as an `Any` with its type URL.
pub fn any_of(msg: impl Message, type_url: &str) -> Any {
    Any {
        type_url: type_url.into(),
        value: msg.encode_to_vec(),
    }
}
