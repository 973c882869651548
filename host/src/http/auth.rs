//! Bearer-token authentication for the stream routes (`--token`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::problem::Problem;

/// The token every protected request must present as `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct Token(Arc<[u8]>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// Wraps the expected token.
    pub fn new(token: &str) -> Self {
        Self(token.as_bytes().into())
    }

    /// Whether `presented` is the token. The comparison takes the same time whatever
    /// bytes differ (it reveals only whether the lengths differ).
    pub fn matches(&self, presented: &[u8]) -> bool {
        bool::from(self.0.as_ref().ct_eq(presented))
    }
}

/// Refuses a request without the right bearer token with a 401 problem.
pub async fn require_token(State(token): State<Token>, request: Request, next: Next) -> Response {
    let presented = request.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let Some(presented) = presented else {
        return Problem::unauthorized("this route requires an `Authorization: Bearer <token>` header").into_response();
    };
    let credentials = presented
        .split_first_chunk::<7>()
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(b"bearer "))
        .map(|(_, rest)| rest.trim_ascii());
    match credentials {
        Some(credentials) if token.matches(credentials) => next.run(request).await,
        Some(_) => Problem::unauthorized("the bearer token is not the server's token").into_response(),
        None => Problem::unauthorized("the Authorization header must use the Bearer scheme").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn only_the_exact_token_matches() {
        let token = Token::new("s3cret");
        assert!(token.matches(b"s3cret"));
        assert!(!token.matches(b"s3cre"));
        assert!(!token.matches(b"s3cret!"));
        assert!(!token.matches(b"S3cret"));
        assert!(!token.matches(b""));
    }
}
