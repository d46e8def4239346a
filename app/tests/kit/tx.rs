//! Signed transactions on a test net.

use tendermint_proto::v0_38::abci::ExecTxResult;
use verdict_app::tx::amino::{sign_bytes, SignDocInput};
use verdict_app::txbuild::{sign_tx, sign_tx_amino, AccountKey, TxSpec};
use verdict_core::coin::Coin;

use super::keys::user;
use super::net::TestNet;
use super::query::account_of;

impl TestNet {
    /// `msgs` with the net's user fee and gas limit, no memo.
    pub fn spec(&self, msgs: Vec<cosmrs::Any>) -> TxSpec {
        TxSpec {
            msgs,
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(self.fee, "uverd")],
            gas_limit: self.gas,
        }
    }

    /// `spec` signed by `key` for this chain.
    pub fn sign(&self, spec: &TxSpec, key: &AccountKey, account: u64, sequence: u64) -> Vec<u8> {
        sign_tx(spec, key, &self.chain_id, account, sequence)
    }

    /// `spec` signed by `key` for this chain in SIGN_MODE_LEGACY_AMINO_JSON,
    /// over the sign doc of the app's amino encoder.
    pub fn sign_amino(
        &self,
        spec: &TxSpec,
        key: &AccountKey,
        account: u64,
        sequence: u64,
    ) -> Vec<u8> {
        sign_tx_amino(spec, key, sequence, |body, fee| {
            sign_bytes(&SignDocInput {
                chain_id: &self.chain_id,
                account_number: account,
                sequence,
                timeout_height: body.timeout_height,
                memo: &body.memo,
                msgs: &body.messages,
                fee,
            })
            .expect("an amino sign doc")
        })
    }

    /// The user's next transaction, amino-signed.
    pub fn user_tx_amino(&mut self, msgs: Vec<cosmrs::Any>) -> Vec<u8> {
        let tx = self.sign_amino(&self.spec(msgs), &user(), 1, self.user_seq);
        self.user_seq += 1;
        tx
    }

    /// The user's next transaction (account 1, sequences counted by the net).
    pub fn user_tx(&mut self, msgs: Vec<cosmrs::Any>) -> Vec<u8> {
        let tx = self.sign(&self.spec(msgs), &user(), 1, self.user_seq);
        self.user_seq += 1;
        tx
    }

    /// A transaction of `key`'s account, with its number and sequence as
    /// node 0 has them committed.
    pub fn tx_by(&self, key: &AccountKey, msgs: Vec<cosmrs::Any>) -> Vec<u8> {
        let (number, sequence) = account_of(self.app(), &key.address()).expect("account");
        self.sign(&self.spec(msgs), key, number, sequence)
    }

    /// One height holding `tx` (after tx[0], if any); its result.
    pub fn run_tx(&mut self, tx: Vec<u8>) -> ExecTxResult {
        let r = self.run_height(vec![tx]);
        r.tx_results.into_iter().last().expect("the tx's result")
    }
}
