//! CometBFT's replies about transactions as types: `/broadcast_tx_sync` (the
//! CheckTx verdict) and `/tx` (a committed tx and its result), as CometBFT 0.38
//! writes them: 64-bit integers as strings, event attributes as plain strings.

use anyhow::anyhow;
use base64::Engine;
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use prost::Message;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// `/broadcast_tx_sync`: CheckTx's result and the tx hash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct BroadcastResponse {
    #[serde(default)]
    pub code: u32,
    #[serde(default, deserialize_with = "or_default")]
    pub codespace: String,
    #[serde(default, deserialize_with = "or_default")]
    pub log: String,
    /// Base64.
    #[serde(default, deserialize_with = "or_default")]
    pub data: String,
    /// Hex, upper case.
    #[serde(default, deserialize_with = "or_default")]
    pub hash: String,
}

/// `/tx`: a transaction in a block, with its result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct TxResponse {
    /// Hex, upper case.
    pub hash: String,
    #[serde(deserialize_with = "int")]
    pub height: u64,
    #[serde(default)]
    pub index: u32,
    pub tx_result: TxResult,
}

/// FinalizeBlock's `ExecTxResult` of one tx.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct TxResult {
    /// 0 is success.
    #[serde(default)]
    pub code: u32,
    #[serde(default, deserialize_with = "or_default")]
    pub codespace: String,
    #[serde(default, deserialize_with = "or_default")]
    pub log: String,
    #[serde(default, deserialize_with = "or_default")]
    pub info: String,
    /// Base64 of the encoded `TxMsgData`.
    #[serde(default, deserialize_with = "or_default")]
    pub data: String,
    #[serde(default, deserialize_with = "int")]
    pub gas_wanted: i64,
    #[serde(default, deserialize_with = "int")]
    pub gas_used: i64,
    #[serde(default, deserialize_with = "or_default")]
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "or_default")]
    pub attributes: Vec<EventAttribute>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EventAttribute {
    #[serde(default, deserialize_with = "or_default")]
    pub key: String,
    #[serde(default, deserialize_with = "or_default")]
    pub value: String,
    #[serde(default)]
    pub index: bool,
}

impl TxResponse {
    /// The SDK's `TxResponse` (GetTx, from the node's own tx index) in `/tx`'s
    /// shape, for nodes whose CometBFT indexes nothing (`indexer = "null"`).
    /// The tx's index in its block is not in it: 0.
    pub fn from_sdk(r: &cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse) -> Self {
        let data = hex::decode(&r.data).unwrap_or_default();
        TxResponse {
            hash: r.txhash.clone(),
            height: u64::try_from(r.height).unwrap_or(0),
            index: 0,
            tx_result: TxResult {
                code: r.code,
                codespace: r.codespace.clone(),
                log: r.raw_log.clone(),
                info: r.info.clone(),
                data: base64::engine::general_purpose::STANDARD.encode(data),
                gas_wanted: r.gas_wanted,
                gas_used: r.gas_used,
                events: r
                    .events
                    .iter()
                    .map(|e| Event {
                        kind: e.r#type.clone(),
                        attributes: e
                            .attributes
                            .iter()
                            .map(|a| EventAttribute {
                                key: a.key.clone(),
                                value: a.value.clone(),
                                index: a.index,
                            })
                            .collect(),
                    })
                    .collect(),
            },
        }
    }

    pub fn is_ok(&self) -> bool {
        self.tx_result.code == 0
    }

    /// The first value of attribute `key` in the tx's events of type `kind`.
    pub fn event_attr(&self, kind: &str, key: &str) -> Option<&str> {
        self.tx_result
            .events
            .iter()
            .filter(|e| e.kind == kind)
            .flat_map(|e| e.attributes.iter())
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

impl TxResult {
    /// The messages' responses (`TxMsgData` in `data`).
    pub fn msg_data(&self) -> anyhow::Result<TxMsgData> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(&self.data)?;
        Ok(TxMsgData::decode(bytes.as_slice())?)
    }

    /// The response of the tx's first message, decoded as `R`.
    pub fn first_msg_response<R: Message + Default>(&self) -> anyhow::Result<R> {
        let msg_data = self.msg_data()?;
        let any = msg_data
            .msg_responses
            .first()
            .ok_or_else(|| anyhow!("the tx has no message response"))?;
        Ok(R::decode(any.value.as_slice())?)
    }
}

/// `null` as the type's default (Go writes empty slices as `null`).
fn or_default<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An integer written as a JSON string (CometBFT's 64-bit integers) or number.
fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + DeserializeOwned,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString<T> {
        Int(T),
        Str(String),
    }
    match IntOrString::<T>::deserialize(d)? {
        IntOrString::Int(n) => Ok(n),
        IntOrString::Str(s) => s.parse().map_err(D::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from a CometBFT 0.38 `/tx` reply of a Verdict node.
    const TX: &str = r#"{"hash": "E6BF903B3015F6DD1FE15F608234478A71B65B1738645F25FBDE1A5AA57624DD",
        "height": "10", "index": 1, "tx_result": {"code": 0,
        "data": "EiYKJC9jb3Ntb3MuYmFuay52MWJldGExLk1zZ1NlbmRSZXNwb25zZQ==", "log": "", "info": "",
        "gas_wanted": "200000", "gas_used": "35570", "events": [{"type": "tx", "attributes":
        [{"key": "fee", "value": "5000uverd", "index": true}]}, {"type": "message", "attributes":
        [{"key": "action", "value": "/cosmos.bank.v1beta1.MsgSend", "index": true}]}],
        "codespace": ""}, "tx": "CpIBCo8BChwvY29z"}"#;

    #[test]
    fn a_tx_reply_parses_with_string_integers_and_plain_attributes() {
        let r: TxResponse = serde_json::from_str(TX).expect("parse");
        assert!(r.is_ok());
        assert_eq!((r.height, r.index), (10, 1));
        assert_eq!(
            (r.tx_result.gas_wanted, r.tx_result.gas_used),
            (200_000, 35_570)
        );
        assert_eq!(r.event_attr("tx", "fee"), Some("5000uverd"));
        assert_eq!(
            r.event_attr("message", "action"),
            Some("/cosmos.bank.v1beta1.MsgSend")
        );
        assert_eq!(r.event_attr("message", "sender"), None);
        let md = r.tx_result.msg_data().expect("TxMsgData");
        assert_eq!(
            md.msg_responses[0].type_url,
            "/cosmos.bank.v1beta1.MsgSendResponse"
        );
    }

    #[test]
    fn omitted_and_null_fields_take_defaults() {
        let r: TxResponse = serde_json::from_str(
            r#"{"hash": "AB", "height": 7, "tx_result": {"code": 5, "log": "out of gas",
                "codespace": "sdk", "events": null, "data": null}}"#,
        )
        .expect("parse");
        assert!(!r.is_ok());
        assert_eq!(r.tx_result.codespace, "sdk");
        assert_eq!(r.tx_result.gas_used, 0);
        assert!(r.tx_result.events.is_empty());
        assert!(r.tx_result.first_msg_response::<TxMsgData>().is_err());
        let b: BroadcastResponse = serde_json::from_str(
            r#"{"code":2,"data":"","log":"tx parse error","codespace":"sdk","hash":"6E34"}"#,
        )
        .expect("parse");
        assert_eq!(
            (b.code, b.codespace.as_str(), b.hash.as_str()),
            (2, "sdk", "6E34")
        );
    }

    #[test]
    fn an_sdk_tx_response_reads_as_the_tx_reply_of_the_same_tx() {
        use cosmrs::proto::tendermint::v0_38::abci::{Event as AbciEvent, EventAttribute as Attr};
        let cometbft: TxResponse = serde_json::from_str(TX).expect("parse");
        let sdk = cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse {
            height: 10,
            txhash: cometbft.hash.clone(),
            data: hex::encode_upper(
                base64::engine::general_purpose::STANDARD
                    .decode(&cometbft.tx_result.data)
                    .expect("b64"),
            ),
            gas_wanted: 200_000,
            gas_used: 35_570,
            events: vec![
                AbciEvent {
                    r#type: "tx".into(),
                    attributes: vec![Attr {
                        key: "fee".into(),
                        value: "5000uverd".into(),
                        index: true,
                    }],
                },
                AbciEvent {
                    r#type: "message".into(),
                    attributes: vec![Attr {
                        key: "action".into(),
                        value: "/cosmos.bank.v1beta1.MsgSend".into(),
                        index: true,
                    }],
                },
            ],
            ..Default::default()
        };
        let r = TxResponse::from_sdk(&sdk);
        assert_eq!(r.tx_result, cometbft.tx_result);
        assert_eq!((r.hash, r.height), (cometbft.hash, 10));
    }
}
