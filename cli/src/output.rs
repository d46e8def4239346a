//! How results are shown: `--output text` (for people) or `--output json` (one
//! JSON document on a line, for scripts).

use clap::ValueEnum;
use serde_json::{json, Value};
use verdict_client::response::TxResponse;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Prints `v` (JSON) or `text`, as `out` asks.
pub fn print(out: Output, v: &Value, text: String) {
    match out {
        Output::Json => println!("{v}"),
        Output::Text => println!("{text}"),
    }
}

/// Rows as text, one per line.
pub fn lines(rows: impl IntoIterator<Item = String>) -> String {
    rows.into_iter().collect::<Vec<_>>().join("\n")
}

/// A committed tx: hash, height, code, gas. A failed tx (code ≠ 0) also
/// shows its log, and the process exits with status 1.
pub fn report_tx(r: &TxResponse, out: Output) -> anyhow::Result<()> {
    let (v, text) = tx_report(r);
    print(out, &v, text);
    if r.tx_result.code != 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// [`report_tx`]'s JSON and text.
fn tx_report(r: &TxResponse) -> (Value, String) {
    let res = &r.tx_result;
    let v = json!({
        "txhash": r.hash,
        "height": r.height.to_string(),
        "code": res.code,
        "codespace": res.codespace,
        "gas_wanted": res.gas_wanted.to_string(),
        "gas_used": res.gas_used.to_string(),
        "log": res.log,
    });
    let mut text = format!(
        "txhash {}\nheight {}  code {}  gas used {} of {}",
        r.hash, r.height, res.code, res.gas_used, res.gas_wanted,
    );
    if res.code != 0 {
        text.push_str(&format!("\nfailed: {}", res.log));
    }
    (v, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_reports_keep_their_json_and_text_form() {
        let r: TxResponse = serde_json::from_str(
            r#"{"hash": "E6BF903B3015F6DD1FE15F608234478A71B65B1738645F25FBDE1A5AA57624DD",
                "height": "10", "index": 1, "tx_result": {"code": 0, "data": "", "log": "",
                "info": "", "gas_wanted": "200000", "gas_used": "35570", "events": [],
                "codespace": ""}}"#,
        )
        .expect("tx");
        let (v, text) = tx_report(&r);
        // As the CLI printed it before the typed reply (captured from a node).
        assert_eq!(
            v.to_string(),
            r#"{"code":0,"codespace":"","gas_used":"35570","gas_wanted":"200000","height":"10","log":"","txhash":"E6BF903B3015F6DD1FE15F608234478A71B65B1738645F25FBDE1A5AA57624DD"}"#
        );
        assert_eq!(
            text,
            "txhash E6BF903B3015F6DD1FE15F608234478A71B65B1738645F25FBDE1A5AA57624DD\nheight 10  code 0  gas used 35570 of 200000"
        );
        let mut failed = r;
        failed.tx_result.code = 5;
        failed.tx_result.codespace = "sdk".into();
        failed.tx_result.log = "insufficient funds".into();
        let (v, text) = tx_report(&failed);
        assert_eq!(
            (v["code"].as_u64(), v["codespace"].as_str()),
            (Some(5), Some("sdk"))
        );
        assert!(text.ends_with("code 5  gas used 35570 of 200000\nfailed: insufficient funds"));
    }
}
