//! A shared token guarding a branch that listens beyond loopback.
//!
//! When branches run as separate processes on several machines, anyone who
//! can reach a branch's port could deposit, reset or watch it. An optional
//! shared secret (`--token`, or the `BANK_TOKEN` environment variable, or
//! `token` in the cluster file) closes that door: every call must carry the
//! metadata header `authorization: Bearer <token>`.
//!
//! * [`RequireToken`] is the server side, a tonic interceptor in front of
//!   each of a branch's services (`Customer`, `Replica` and `Admin`: customer,
//!   peer and control calls alike).
//! * [`AddToken`] is the client side, an interceptor on every channel a
//!   branch or a driver opens (see [`crate::net::transport::BankChannel`]).
//!
//! A token is not encryption: without TLS it crosses the network in clear
//! text. It keeps strangers out of a lab network; use TLS as well on a
//! network you do not trust.
//!
//! In-process clusters (`bank run`, the labs of `bank serve`) guard their
//! loopback ports with a [`Token::random`] of their own, made per run and
//! never shown: other programs on the machine cannot call their branches.

use std::fmt;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The environment variable read when `--token` is not given.
pub const TOKEN_ENV: &str = "BANK_TOKEN";

/// The metadata key the token travels in.
const AUTHORIZATION: &str = "authorization";

/// A shared secret. Its `Debug` output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// `Bearer <token>`, ready to send.
    header: MetadataValue<Ascii>,
}

/// Why a token was refused when it was configured.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token may only hold visible ASCII characters (no spaces)")]
    NotVisibleAscii,
    #[error("cannot make a random token: the system gives no randomness ({0})")]
    NoRandomness(String),
}

/// How many random bytes a [`Token::random`] holds (128 bits).
const RANDOM_TOKEN_BYTES: usize = 16;

impl Token {
    pub fn new(secret: &str) -> Result<Token, TokenError> {
        if secret.is_empty() {
            return Err(TokenError::Empty);
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::NotVisibleAscii);
        }
        let header = format!("Bearer {secret}").parse().map_err(|_| TokenError::NotVisibleAscii)?;
        Ok(Token { header })
    }

    /// A fresh secret of 128 random bits from the operating system, as hex.
    pub fn random() -> Result<Token, TokenError> {
        let mut bytes = [0u8; RANDOM_TOKEN_BYTES];
        getrandom::getrandom(&mut bytes).map_err(|e| TokenError::NoRandomness(e.to_string()))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Token::new(&hex)
    }

    /// `--token` if given, else `BANK_TOKEN` if set, else `from_file`.
    pub fn from_sources(
        flag: Option<&str>,
        from_file: Option<&str>,
    ) -> Result<Option<Token>, TokenError> {
        let env = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty());
        match flag.map(str::to_owned).or(env).or(from_file.map(str::to_owned)) {
            Some(secret) => Token::new(&secret).map(Some),
            None => Ok(None),
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<secret>)")
    }
}

/// Server side: lets a call through only if it carries the token (or if no
/// token is configured).
#[derive(Clone, Debug, Default)]
pub struct RequireToken {
    expected: Option<Token>,
}

impl RequireToken {
    pub fn new(expected: Option<Token>) -> Self {
        RequireToken { expected }
    }
}

impl Interceptor for RequireToken {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(request);
        };
        match request.metadata().get(AUTHORIZATION) {
            None => Err(Status::unauthenticated(
                "this branch requires a token: give the same --token (or BANK_TOKEN, or `token` in the cluster file) to every branch and driver",
            )),
            Some(given) if same_bytes(given.as_bytes(), expected.header.as_bytes()) => Ok(request),
            Some(_) => Err(Status::unauthenticated("wrong token: this branch was started with a different --token")),
        }
    }
}

/// Client side: adds the token, if there is one, to every call.
#[derive(Clone, Debug, Default)]
pub struct AddToken {
    token: Option<Token>,
}

impl AddToken {
    pub fn new(token: Option<Token>) -> Self {
        AddToken { token }
    }
}

impl Interceptor for AddToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(token) = &self.token {
            request.metadata_mut().insert(AUTHORIZATION, token.header.clone());
        }
        Ok(request)
    }
}

/// Compares two secrets without stopping at the first difference, so the
/// time taken says nothing about how much of a guess was right.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(require: Option<&str>, send: Option<&str>) -> Result<(), Status> {
        let mut request = Request::new(());
        if let Some(secret) = send {
            request = AddToken::new(Some(Token::new(secret).unwrap())).call(request).unwrap();
        }
        RequireToken::new(require.map(|s| Token::new(s).unwrap())).call(request).map(|_| ())
    }

    #[test]
    fn the_right_token_passes_and_no_token_is_needed_when_none_is_set() {
        assert!(call(Some("s3cret"), Some("s3cret")).is_ok());
        assert!(call(None, None).is_ok());
        assert!(call(None, Some("anything")).is_ok());
    }

    #[test]
    fn a_missing_or_wrong_token_is_unauthenticated_with_a_clear_message() {
        let missing = call(Some("s3cret"), None).unwrap_err();
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        assert!(missing.message().contains("requires a token"), "{}", missing.message());
        let wrong = call(Some("s3cret"), Some("guess")).unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        assert!(wrong.message().contains("wrong token"), "{}", wrong.message());
    }

    #[test]
    fn random_tokens_differ_and_only_their_own_passes() {
        let (a, b) = (Token::random().unwrap(), Token::random().unwrap());
        assert_ne!(a, b);
        // "Bearer " and 32 hex digits.
        assert_eq!(a.header.len(), 7 + 2 * RANDOM_TOKEN_BYTES);
        let sent = AddToken::new(Some(a.clone())).call(Request::new(())).unwrap();
        assert!(RequireToken::new(Some(a)).call(sent).is_ok());
        let sent = AddToken::new(Some(b)).call(Request::new(())).unwrap();
        assert!(RequireToken::new(Some(Token::random().unwrap())).call(sent).is_err());
    }

    #[test]
    fn tokens_must_be_visible_ascii_and_never_print() {
        assert!(matches!(Token::new(""), Err(TokenError::Empty)));
        assert!(matches!(Token::new("two words"), Err(TokenError::NotVisibleAscii)));
        assert!(matches!(Token::new("café"), Err(TokenError::NotVisibleAscii)));
        assert_eq!(format!("{:?}", Token::new("s3cret").unwrap()), "Token(<secret>)");
    }
}
