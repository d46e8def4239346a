//! A shared token between the sidecar and its verdictd (security review L-8):
//! on a validator's host any local process can reach the loopback port, and
//! without it could fill the job queue or burn the attestor's job ids. The
//! sidecar started with `--token-file` answers only calls that carry
//! `authorization: Bearer <token>`; verdictd sends it (`[attestation]
//! sidecar-token-file`). Compared in constant time.

use std::path::Path;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Shortest token accepted (bytes of the file's first line).
pub const MIN_TOKEN_LEN: usize = 16;

/// The token, as the metadata value it travels in.
#[derive(Clone)]
pub struct Token(MetadataValue<Ascii>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// From the token itself: printable ASCII, at least [`MIN_TOKEN_LEN`] bytes.
    pub fn new(token: &str) -> Result<Token, String> {
        let t = token.trim();
        if t.len() < MIN_TOKEN_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "the sidecar token must be at least {MIN_TOKEN_LEN} printable ASCII characters"
            ));
        }
        MetadataValue::try_from(format!("Bearer {t}"))
            .map(Token)
            .map_err(|e| e.to_string())
    }

    /// The first line of a file (e.g. `config/sidecar_token`).
    pub fn from_file(path: &Path) -> Result<Token, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read sidecar token {}: {e}", path.display()))?;
        Token::new(text.lines().next().unwrap_or_default())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn matches(&self, got: &[u8]) -> bool {
        let want = self.0.as_bytes();
        // Constant time in the token's bytes: no early exit on a mismatch.
        got.len() == want.len() && got.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// The server side: refuses calls without the token.
#[derive(Clone, Debug)]
pub struct Check(pub Option<Token>);

impl Interceptor for Check {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(want) = &self.0 else {
            return Ok(req);
        };
        match req.metadata().get("authorization") {
            Some(v) if want.matches(v.as_bytes()) => Ok(req),
            Some(_) => Err(Status::unauthenticated("wrong sidecar token")),
            None => Err(Status::unauthenticated(
                "this sidecar requires a token (authorization: Bearer …)",
            )),
        }
    }
}

/// The client side: adds the token to every call.
#[derive(Clone, Debug, Default)]
pub struct Bearer(pub Option<Token>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(t) = &self.0 {
            req.metadata_mut().insert("authorization", t.0.clone());
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_whole_and_short_ones_refused() {
        assert!(Token::new("short").is_err());
        assert!(Token::new("has a space inside it").is_err());
        let t = Token::new("0123456789abcdef0123").expect("token");
        let mut check = Check(Some(t.clone()));
        let with = Bearer(Some(t)).call(Request::new(())).expect("bearer");
        assert!(check.call(with).is_ok());
        assert_eq!(
            check.call(Request::new(())).expect_err("none").code(),
            tonic::Code::Unauthenticated
        );
        let other = Token::new("0123456789abcdef0124").expect("token");
        let wrong = Bearer(Some(other)).call(Request::new(())).expect("bearer");
        assert!(check.call(wrong).is_err());
        assert!(
            Check(None).call(Request::new(())).is_ok(),
            "no token set: open"
        );
    }
}
