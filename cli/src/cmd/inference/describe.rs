//! How `verdict` prints inference answers as text: jobs, models, remote
//! requests.

use serde_json::Value;

pub fn describe_job(j: &Value) -> String {
    let r = &j["result"];
    let mut s = format!(
        "job {}  model {}  status {}",
        j["id"],
        j["model_id"].as_str().unwrap_or("?"),
        j["status"].as_str().unwrap_or("?")
    );
    if !r.is_null() {
        s.push_str(&format!(
            "\nfinalized at height {}  latency {} ms (median of agreeing)\nagreeing ({}/{} power): {}",
            r["finalized_height"],
            r["latency_ms"],
            r["agreeing_power"],
            r["committee_power"],
            join(&r["agreeing"])
        ));
        let faults: Vec<String> = r["faults"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        format!(
                            "{} ({})",
                            f["address"].as_str().unwrap_or("?"),
                            join(&f["kinds"])
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "\nfaulty: {}",
            if faults.is_empty() {
                "none".into()
            } else {
                faults.join(", ")
            }
        ));
        if let Some(m) = r["missing"].as_array().filter(|m| !m.is_empty()) {
            s.push_str(&format!("\nmissing: {}", join(&Value::Array(m.clone()))));
        }
    }
    if let Some(out) = j["output"].as_array().filter(|o| !o.is_empty()) {
        s.push_str(&format!(
            "\noutput (±{}): [{}]",
            j["tolerance"].as_str().unwrap_or("?"),
            out.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}

/// `query inference model`: its identity, where its bytes are, who serves it.
pub fn describe_model(m: &Value) -> String {
    let size = m["size_bytes"]
        .as_u64()
        .map_or_else(|| "unknown".to_string(), |n| format!("{n} bytes"));
    let mut s = format!(
        "model {}  {}\nsize {size}  registered at height {}",
        m["id"].as_str().unwrap_or("?"),
        m["name"].as_str().unwrap_or("?"),
        m["registered_height"]
    );
    for u in m["uris"].as_array().into_iter().flatten() {
        s.push_str(&format!("\n  uri {}", u.as_str().unwrap_or("?")));
    }
    let servers = m["servers"].as_array().map_or(&[][..], Vec::as_slice);
    s.push_str(&format!(
        "\nserved by {} validator{}",
        servers.len(),
        if servers.len() == 1 { "" } else { "s" }
    ));
    for v in servers {
        s.push_str(&format!(
            "\n  {} (power {})",
            v["operator"].as_str().unwrap_or("?"),
            v["power"]
        ));
    }
    s.push_str(&format!(
        "\n{}",
        serde_json::to_string_pretty(m).unwrap_or_default()
    ));
    s
}

fn join(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub fn describe_remote(r: &Value) -> String {
    let mut s = format!(
        "request {} on {}  model {}  status {}",
        r["sequence"],
        r["channel_id"].as_str().unwrap_or("?"),
        r["model_id"].as_str().unwrap_or("?"),
        r["status"].as_str().unwrap_or("?")
    );
    if let Some(res) = r.get("result").filter(|v| !v.is_null()) {
        s.push_str(&format!(
            "\n  output {}  agreeing power {}/{}  finalized at height {} of the serving chain",
            r["output_values"],
            res["agreeing_power"],
            res["committee_power"],
            res["finalized_height"]
        ));
    }
    if let Some(e) = r["error"].as_str().filter(|e| !e.is_empty()) {
        s.push_str(&format!("\n  error: {e}"));
    }
    s
}
