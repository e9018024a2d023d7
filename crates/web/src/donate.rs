//! The donation campaign: the banner ("Keep factually independent", goal, amount raised, time
//! left) and the payment provider's webhook that records what was given.
//!
//! The webhook follows Stripe's scheme: the `Stripe-Signature` header carries a timestamp `t`
//! and one or more `v1` signatures, each the hex HMAC-SHA256 of `"{t}.{raw body}"` under the
//! endpoint's signing secret. An event is counted only when a signature matches and `t` is
//! within five minutes of now (an old captured request cannot be replayed later), and at
//! most once per event id (the provider retries deliveries). Counted: `checkout.session.completed`
//! with `payment_status` `paid` (Stripe Checkout and Payment Links send one per payment;
//! counting `payment_intent.succeeded` or `charge.succeeded` too would count a payment twice).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::guard::{constant_time_eq, ApiError};
use crate::Site;

/// How far a signed timestamp may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// The `[site.campaign]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// The goal, in whole units of `currency`.
    pub goal: u64,
    /// ISO 4217 code, lower case as the provider sends it (default `usd`).
    #[serde(default = "usd")]
    pub currency: String,
    /// First day counted, `YYYY-MM-DD`.
    pub starts: String,
    /// Last day of the campaign, `YYYY-MM-DD`; the banner hides after it.
    pub ends: String,
    /// Where the banner's button leads (the provider's payment page).
    pub donate_url: Option<String>,
}

fn usd() -> String {
    "usd".into()
}

/// What the banner shows.
#[derive(Debug, Clone, Serialize)]
pub struct Banner {
    pub raised: String,
    pub goal: String,
    /// 0..=100.
    pub percent: u64,
    pub time_left: String,
    pub donate_url: Option<String>,
}

fn money(cents: i64, currency: &str) -> String {
    let units = cents / 100;
    let grouped = units
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",");
    match currency {
        "usd" => format!("${grouped}"),
        "eur" => format!("€{grouped}"),
        "gbp" => format!("£{grouped}"),
        other => format!("{grouped} {}", other.to_uppercase()),
    }
}

fn date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The banner for now, or `None` when no campaign runs.
pub async fn banner(site: &Site) -> Option<Banner> {
    let c = site.config.campaign.as_ref()?;
    let (starts, ends) = (date(&c.starts)?, date(&c.ends)?);
    let today = time::OffsetDateTime::now_utc().date();
    if today < starts || today > ends {
        return None;
    }
    let raised = site
        .store
        .donations_since(&format!("{starts}T00:00:00Z"))
        .await
        .ok()?;
    let goal_cents = (c.goal as i64).saturating_mul(100).max(1);
    let days = (ends - today).whole_days() + 1;
    Some(Banner {
        raised: money(raised, &c.currency),
        goal: money(goal_cents, &c.currency),
        percent: (raised.max(0) as u64 * 100 / goal_cents as u64).min(100),
        time_left: if days == 1 {
            "last day".into()
        } else {
            format!("{days} days left")
        },
        donate_url: c.donate_url.clone(),
    })
}

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/api/donations/webhook", post(webhook))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
}

/// The parts of a provider event that matter here.
#[derive(Debug, Deserialize)]
struct ProviderEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: Option<i64>,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// Checks a `Stripe-Signature` header against the raw body; `now` in unix seconds.
pub fn verify_signature(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), String> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s.to_string()),
            _ => {}
        }
    }
    let t = timestamp.ok_or("the signature header has no timestamp")?;
    if (now - t).abs() > TOLERANCE_SECS {
        return Err("the signature's timestamp is outside the tolerance".into());
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    if signatures
        .iter()
        .any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes()))
    {
        Ok(())
    } else {
        Err("no signature matches".into())
    }
}

fn bad_event(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_event", message)
}

async fn webhook(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let secret = site
        .config
        .stripe_webhook_secret
        .as_deref()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_configured",
                "donations are not configured on this site",
            )
        })?;
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad_event("missing Stripe-Signature header"))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    verify_signature(secret, header, &body, now).map_err(bad_event)?;
    let event: ProviderEvent =
        serde_json::from_slice(&body).map_err(|e| bad_event(format!("malformed event: {e}")))?;
    let object = &event.data.object;
    let paid = event.kind == "checkout.session.completed"
        && object["payment_status"].as_str() == Some("paid");
    let amount = object["amount_total"].as_i64().filter(|a| *a > 0);
    let (Some(amount), true) = (amount, paid) else {
        return Ok(Json(
            serde_json::json!({"received": true, "counted": false}),
        ));
    };
    let at = time::OffsetDateTime::from_unix_timestamp(event.created.unwrap_or(now))
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let new = site
        .store
        .record_donation(factually_store::Donation {
            event_id: event.id,
            amount_cents: amount,
            currency: object["currency"].as_str().unwrap_or("usd").to_lowercase(),
            at,
        })
        .await?;
    if new {
        site.forget_pages(None);
    }
    Ok(Json(
        serde_json::json!({"received": true, "counted": new, "duplicate": !new}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn signatures_are_checked_like_stripe_does() {
        let body = r#"{"id":"evt_1"}"#;
        let good = sign("whsec_x", 1000, body);
        let check =
            |header: String, now: i64| verify_signature("whsec_x", &header, body.as_bytes(), now);
        assert_eq!(check(format!("t=1000,v1={good}"), 1000), Ok(()));
        assert_eq!(
            check(format!("t=1000,v1=00,v1={good}"), 1100),
            Ok(()),
            "any v1 may match"
        );
        assert!(
            check(format!("t=1000,v1={good}"), 1000 + TOLERANCE_SECS + 1).is_err(),
            "too old"
        );
        assert!(
            check(format!("t=1001,v1={good}"), 1001).is_err(),
            "timestamp is signed"
        );
        assert!(check(format!("v1={good}"), 1000).is_err());
        assert!(check("t=1000".into(), 1000).is_err());
        let other = sign("whsec_other", 1000, body);
        assert!(
            check(format!("t=1000,v1={other}"), 1000).is_err(),
            "wrong secret"
        );
    }

    #[test]
    fn amounts_read_as_money() {
        assert_eq!(money(123_456_700, "usd"), "$1,234,567");
        assert_eq!(money(50_000, "eur"), "€500");
        assert_eq!(money(0, "chf"), "0 CHF");
    }
}
