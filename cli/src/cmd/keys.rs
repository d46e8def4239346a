//! `verdict keys …`: the local file keyring.

use std::io::BufRead;

use anyhow::{anyhow, bail};
use clap::Subcommand;
use serde_json::{json, Value};
use verdict_client::keyring::{self, read_passphrase, KeyInfo, Keyring};
use verdict_client::txbuild::AccountKey;

use super::Ctx;
use crate::output::{print, Output};

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Create a key from a new 24-word mnemonic (shown once).
    Add {
        name: String,
        /// Seal the key with a passphrase ($VERDICT_KEYRING_PASSPHRASE or prompted).
        #[arg(long)]
        encrypt: bool,
    },
    /// Restore a key from a mnemonic read from standard input.
    Recover {
        name: String,
        #[arg(long)]
        encrypt: bool,
    },
    List,
    Show {
        name: String,
        /// Print only the address.
        #[arg(long, short = 'a')]
        address: bool,
    },
    Delete {
        name: String,
    },
}

pub fn run(ctx: &Ctx, kr: &Keyring, cmd: KeysCmd) -> anyhow::Result<()> {
    let out = ctx.out;
    match cmd {
        KeysCmd::Add { name, encrypt } => add(kr, &name, encrypt, out),
        KeysCmd::Recover { name, encrypt } => recover(kr, &name, encrypt, out),
        KeysCmd::List => list(kr, out),
        KeysCmd::Show { name, address } => {
            let i = kr.show(&name)?;
            if address {
                println!("{}", i.address);
            } else {
                print(
                    out,
                    &info_json(&i),
                    format!(
                        "- name: {}\n  address: {}\n  pubkey: {}",
                        i.name, i.address, i.pubkey
                    ),
                );
            }
            Ok(())
        }
        KeysCmd::Delete { name } => {
            kr.delete(&name)?;
            print(
                out,
                &json!({"deleted": name}),
                format!("deleted key {name:?}"),
            );
            Ok(())
        }
    }
}

fn info_json(i: &KeyInfo) -> Value {
    json!({"name": i.name, "address": i.address, "pubkey": i.pubkey, "encrypted": i.encrypted})
}

/// The passphrase to seal a new key with, when `encrypt`.
fn new_passphrase(encrypt: bool) -> anyhow::Result<Option<String>> {
    Ok(if encrypt {
        Some(read_passphrase("passphrase")?)
    } else {
        None
    })
}

fn add(kr: &Keyring, name: &str, encrypt: bool, out: Output) -> anyhow::Result<()> {
    let mnemonic = keyring::new_mnemonic();
    let key = AccountKey::from_mnemonic(&mnemonic, "").map_err(|e| anyhow!(e))?;
    let pass = new_passphrase(encrypt)?;
    let info = kr.add(name, &key, pass.as_deref())?;
    let mut v = info_json(&info);
    v["mnemonic"] = json!(mnemonic);
    print(
        out,
        &v,
        format!(
            "- name: {}\n  address: {}\n\n**Write this mnemonic down and keep it safe; it is the only way to recover the key:**\n\n{mnemonic}",
            info.name, info.address
        ),
    );
    Ok(())
}

fn recover(kr: &Keyring, name: &str, encrypt: bool, out: Output) -> anyhow::Result<()> {
    let mut phrase = String::new();
    std::io::stdin().lock().read_line(&mut phrase)?;
    let words = phrase.split_whitespace().count();
    if words != 24 {
        bail!("a mnemonic has 24 words; read {words} from standard input");
    }
    let key = AccountKey::from_mnemonic(&phrase, "").map_err(|e| anyhow!(e))?;
    let pass = new_passphrase(encrypt)?;
    let info = kr.add(name, &key, pass.as_deref())?;
    print(
        out,
        &info_json(&info),
        format!("- name: {}\n  address: {}", info.name, info.address),
    );
    Ok(())
}

fn list(kr: &Keyring, out: Output) -> anyhow::Result<()> {
    let all = kr.list()?;
    let v = json!(all.iter().map(info_json).collect::<Vec<_>>());
    let text = all
        .iter()
        .map(|i| {
            format!(
                "{:<16} {}{}",
                i.name,
                i.address,
                if i.encrypted { "  (encrypted)" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    print(
        out,
        &v,
        if text.is_empty() {
            "no keys".into()
        } else {
            text
        },
    );
    Ok(())
}
