//! Typed events, turned into ABCI events in one place with every attribute
//! indexed (CometBFT's kv indexer skips unindexed attributes).

use tendermint_proto::v0_38::abci;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl Event {
    pub fn new(kind: &str) -> Self {
        Event {
            kind: kind.to_string(),
            attributes: vec![],
        }
    }

    pub fn attr(mut self, key: &str, value: impl ToString) -> Self {
        self.attributes.push((key.to_string(), value.to_string()));
        self
    }

    pub fn to_abci(&self) -> abci::Event {
        abci::Event {
            r#type: self.kind.clone(),
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| abci::EventAttribute {
                    key: k.clone(),
                    value: v.clone(),
                    index: true,
                })
                .collect(),
        }
    }
}
