use serde::{Deserialize, Serialize};

/// The SDK's auth params and their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthParams {
    pub max_memo_characters: u64,
    pub tx_sig_limit: u64,
    pub tx_size_cost_per_byte: u64,
    pub sig_verify_cost_secp256k1: u64,
}

impl Default for AuthParams {
    fn default() -> Self {
        AuthParams {
            max_memo_characters: 256,
            tx_sig_limit: 7,
            tx_size_cost_per_byte: 10,
            sig_verify_cost_secp256k1: 1000,
        }
    }
}

impl AuthParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.tx_sig_limit == 0 {
            return Err("auth.params.tx_sig_limit must be positive".into());
        }
        Ok(())
    }
}
