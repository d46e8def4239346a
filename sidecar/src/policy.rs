//! The operator's serve policy (`serve --serve all|none|FILE`): which models
//! this sidecar will load at all, whether from the models directory at start or
//! through LoadModel. A refused model is never fetched and never loaded; it is
//! reported as `refused_by_policy`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::SidecarError;

/// Which models may be loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ServePolicy {
    /// Every model (the default).
    #[default]
    All,
    /// No model at all: the sidecar answers, but serves nothing.
    None,
    /// Only the listed sha256 hashes (lower-case hex), read from `file`.
    Only {
        file: PathBuf,
        hashes: BTreeSet<String>,
    },
}

impl ServePolicy {
    /// `all`, `none`, or the path of a file with one sha256 per line. In the
    /// file, `#` starts a comment and anything after the hash on a line is
    /// ignored, so a `sha256sum` listing (`SHA256SUMS`) works as it is.
    pub fn parse(arg: &str) -> Result<ServePolicy, SidecarError> {
        match arg {
            "all" => Ok(ServePolicy::All),
            "none" => Ok(ServePolicy::None),
            path => {
                let path = Path::new(path);
                let text = std::fs::read_to_string(path).map_err(|source| SidecarError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                ServePolicy::from_text(path, &text)
            }
        }
    }

    /// Parses the list file's text; `file` is only used in messages and reports.
    pub fn from_text(file: &Path, text: &str) -> Result<ServePolicy, SidecarError> {
        let mut hashes = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some(hash) = line.split_whitespace().next() else {
                continue;
            };
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SidecarError::InvalidRequest(format!(
                    "--serve {}: line {}: `{hash}` is not a sha256 (64 hex digits)",
                    file.display(),
                    i + 1
                )));
            }
            hashes.insert(hash.to_ascii_lowercase());
        }
        Ok(ServePolicy::Only {
            file: file.to_path_buf(),
            hashes,
        })
    }

    pub fn allows(&self, sha256: &str) -> bool {
        match self {
            ServePolicy::All => true,
            ServePolicy::None => false,
            ServePolicy::Only { hashes, .. } => hashes.contains(&sha256.to_ascii_lowercase()),
        }
    }

    /// Why a model is refused, for ListModels' `last_error`.
    pub fn refusal(&self) -> String {
        match self {
            ServePolicy::All => "allowed".into(),
            ServePolicy::None => "the operator's policy is `--serve none`".into(),
            ServePolicy::Only { file, .. } => {
                format!("not listed in the operator's `--serve {}`", file.display())
            }
        }
    }
}

impl std::fmt::Display for ServePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServePolicy::All => f.write_str("all"),
            ServePolicy::None => f.write_str("none"),
            ServePolicy::Only { file, hashes } => {
                write!(f, "{} ({} models)", file.display(), hashes.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_none_and_a_list_file() {
        let a = "d314a04eacd41b4e02fa9d89d5ab913db15ab8c50faf4db94a1b3ea2d9210200";
        let b = "DBA292EB8B6384C4BE52A1E185D3C737DB7DDB1A641CBB7A55E98047E35E0EE7";
        assert!(ServePolicy::parse("all").expect("all").allows(a));
        assert!(!ServePolicy::parse("none").expect("none").allows(a));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("serve.txt");
        std::fs::write(
            &file,
            format!("# models we serve\n\n{a}  mlp_classifier.onnx\n  {b} # the cnn\n"),
        )
        .expect("write");
        let p = ServePolicy::parse(&file.to_string_lossy()).expect("file");
        assert!(p.allows(a) && p.allows(&b.to_ascii_lowercase()) && p.allows(b));
        assert!(!p.allows(&"0".repeat(64)));
        assert!(p.refusal().contains("serve.txt"), "{}", p.refusal());
        assert!(p.to_string().contains("(2 models)"));

        std::fs::write(&file, format!("{a}\nnot-a-hash\n")).expect("write");
        let e = ServePolicy::parse(&file.to_string_lossy()).expect_err("bad line");
        assert!(e.to_string().contains("line 2: `not-a-hash`"), "{e}");
        let e = ServePolicy::parse("/no/such/serve.txt").expect_err("missing");
        assert!(matches!(e, SidecarError::Io { .. }), "{e}");
        // An empty list serves nothing.
        std::fs::write(&file, "# nothing yet\n").expect("write");
        let p = ServePolicy::parse(&file.to_string_lossy()).expect("empty");
        assert!(!p.allows(a));
    }
}
