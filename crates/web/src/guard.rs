//! What protects every request: error bodies (JSON for the API, never a stack trace), CSRF
//! tokens for forms, the per-IP submission rate limit, and security headers (CSP and friends).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Site;

/// Largest request body the API and forms accept (a question is at most 2,000 characters).
pub const MAX_BODY: usize = 16 * 1024;

/// An error answered to a client: the status and a message safe to show.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// A storage failure: logged, and answered without its details.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; try again later",
        )
    }
}

impl From<factually_store::StoreError> for ApiError {
    fn from(e: factually_store::StoreError) -> Self {
        match e {
            factually_store::StoreError::UnknownCheck(_) => Self::not_found("check"),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({
            "error": {"code": self.code, "message": self.message}
        }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

/// Maps an extractor's refusal (malformed JSON, a body over the limit, a wrong content type)
/// to a JSON error with the same status.
pub fn rejection(status: StatusCode, message: String) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "bad_request",
    };
    ApiError::new(status, code, message)
}

/// Per-IP limit on check submissions.
pub struct SubmissionLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl SubmissionLimiter {
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Counts a submission from `ip`; an error when over the limit.
    pub fn admit(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.0.retain_recent();
        self.0.check_key(&ip).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many checks from your address; wait a minute and try again",
            )
        })
    }
}

/// The client's address: the connection's, or the first `X-Forwarded-For` hop when the site
/// is configured to sit behind a proxy.
pub fn client_ip(site: &Site, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
    if site.config.trust_forwarded_for {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.map(|p| p.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// The peer address, when the server was started with connection info (tests of the router
/// alone have none).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// Name of the cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "factually_csrf";

fn sign(secret: &[u8], nonce: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(b"csrf:");
    mac.update(nonce.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Random bytes as hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system has randomness");
    hex::encode(buf)
}

/// The visitor's CSRF token (from their cookie when it is valid, else a new one) and the
/// `Set-Cookie` value to send when it is new. Forms carry the token in a hidden field; a post
/// is accepted only when field and cookie agree and the server's signature checks.
pub fn csrf_token(site: &Site, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(token) = cookie(headers, CSRF_COOKIE).filter(|t| csrf_valid(site, t)) {
        return (token, None);
    }
    let nonce = random_hex(16);
    let token = format!("{nonce}.{}", sign(&site.secret, &nonce));
    let cookie = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    (token, Some(cookie))
}

fn csrf_valid(site: &Site, token: &str) -> bool {
    let Some((nonce, signature)) = token.split_once('.') else {
        return false;
    };
    nonce.len() == 32
        && constant_time_eq(sign(&site.secret, nonce).as_bytes(), signature.as_bytes())
}

/// Checks a form post's CSRF token against the cookie.
pub fn check_csrf(site: &Site, headers: &HeaderMap, field: &str) -> Result<(), ApiError> {
    let cookie = cookie(headers, CSRF_COOKIE).unwrap_or_default();
    if csrf_valid(site, field) && constant_time_eq(cookie.as_bytes(), field.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form has expired or did not come from this site; reload the page and try again",
        ))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The Content Security Policy: nothing but this site's own scripts, styles and requests.
/// JSON-LD blocks are data, not scripts, so they need no exception.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds security headers to every response.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The answer to an unknown address: JSON under `/api/`, a page elsewhere.
pub async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return ApiError::not_found("resource").into_response();
    }
    crate::pages::error_page(StatusCode::NOT_FOUND, "This page does not exist.")
}

/// A handler that panicked: a plain 500, with nothing of the panic in the body.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal("panic").into_response()
}

/// An HTML page answer with a status.
pub fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; factually_csrf=x.y; b=2"),
        );
        assert_eq!(cookie(&h, CSRF_COOKIE).as_deref(), Some("x.y"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn equal_bytes_compare_equal() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
