//! `/admin/reports`: the error reports readers send from fact-check pages, for the site's
//! operator, newest first, each with the report version the reader saw.
//!
//! Why a token and no accounts: one operator needs one page, and a site without an admin token
//! (`admin_token` in `[site]`, or `FACTUALLY_ADMIN_TOKEN`) has no such page at all: the route
//! is not even registered, so it answers like any unknown address. With a token, a request
//! must carry it as `Authorization: Bearer <token>`, or as the password of HTTP Basic
//! authentication (any user name), which is what a browser asks for after a 401.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use minijinja::context;

use crate::guard::{constant_time_eq, html};
use crate::pages::{error_page, render};
use crate::{names, Site};

/// Reports shown on the page.
const SHOWN: u32 = 500;

pub fn routes() -> Router<Arc<Site>> {
    Router::new().route("/admin/reports", get(reports))
}

/// The token a request carries: the bearer token, or the password of Basic authentication.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(token.trim().to_string());
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (_, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(password.to_string())
}

async fn reports(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let Some(token) = site.config.admin_token.as_deref() else {
        return error_page(StatusCode::NOT_FOUND, "There is no page at this address.");
    };
    let allowed = presented(&headers)
        .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes()));
    if !allowed {
        let mut response = error_page(
            StatusCode::UNAUTHORIZED,
            "This page needs the site's admin token.",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"factually admin\", charset=\"UTF-8\""),
        );
        return response;
    }
    let reports = match site.store.error_reports(SHOWN).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("the error reports could not be read: {e}");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The error reports could not be read.",
            );
        }
    };
    let reports: Vec<minijinja::Value> = reports
        .iter()
        .map(|r| {
            context! {
                path => names::check_path(&r.topic, &r.slug, &r.check_id),
                input => r.input,
                version => r.version,
                message => r.message,
                at => r.at,
            }
        })
        .collect();
    let mut response = html(
        StatusCode::OK,
        render("admin_reports.html", context! { reports => reports }),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.into_response()
}
