//! MCP over streamable HTTP at `/mcp` (`factually serve --mcp`): the same tools as `factually
//! mcp` on stdio (`factually_mcp`), plus the site's finished checks as resources
//! (`factually://checks/<id>`), read from the database the pages read.
//!
//! What guards it: rmcp's `Host` check (loopback names, plus the host of `base_url`, so a
//! page elsewhere cannot reach a local server by DNS rebinding); the server's bound on checks
//! running at once (a tool call waits for a place rather than starting another); and the
//! site's security headers and panic guard, which wrap `/mcp` like every route. It has no
//! submission rate limit: offer it to the assistants you mean to serve (behind your proxy's
//! authentication on a public host).

use std::sync::Arc;

use axum::Router;
use factually_mcp::{ArchivedCheck, Factually};
use factually_store::{Status, Store};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::Site;

/// The path the MCP endpoint is served at.
pub const PATH: &str = "/mcp";

/// The site's database as the MCP server's archive.
struct StoredChecks(Arc<dyn Store>);

#[async_trait::async_trait]
impl factually_mcp::Archive for StoredChecks {
    async fn recent(&self, limit: u32) -> Result<Vec<ArchivedCheck>, String> {
        let recent = self.0.recent(limit).await.map_err(|e| e.to_string())?;
        Ok(recent
            .into_iter()
            .filter(|c| c.status == Status::Done || c.label.is_some())
            .map(|c| ArchivedCheck {
                id: c.id,
                input: c.input,
                label: c.label,
                checked_at: c.checked_at,
            })
            .collect())
    }

    async fn report(&self, id: &str) -> Result<Option<String>, String> {
        Ok(self
            .0
            .report(id, None)
            .await
            .map_err(|e| e.to_string())?
            .map(|r| r.json))
    }
}

/// The names a request's `Host` may carry: loopback, and the site's public host.
fn allowed_hosts(base_url: &str) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .map(String::from)
        .to_vec();
    if let Some(authority) = base_url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .filter(|a| !a.is_empty())
    {
        hosts.push(authority.to_string());
        // The host without its port: `[v6]:port` or `name:port`.
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(h, _)| format!("[{h}]")),
            None => authority.split(':').next().map(String::from),
        };
        hosts.extend(host.filter(|h| !h.is_empty()));
    }
    hosts.sort();
    hosts.dedup();
    hosts
}

/// The `/mcp` route: `server` with the site's archive as its resources. Cancelling `stop`
/// ends every MCP session (the site is shutting down).
pub fn routes(site: &Arc<Site>, server: Factually, stop: CancellationToken) -> Router<Arc<Site>> {
    let server = server.with_archive(Arc::new(StoredChecks(site.store.clone())));
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts(&site.base_url))
        .with_cancellation_token(stop);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new().nest_service(PATH, service)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(base_url: &str, want: &[&str]) {
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(allowed_hosts(base_url), want, "{base_url}");
    }

    #[test]
    fn the_public_host_is_allowed_besides_loopback() {
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"];
        check(
            "http://127.0.0.1:8080",
            &[&loopback[..], &["127.0.0.1:8080"]].concat(),
        );
        check(
            "https://factually.example",
            &[&loopback[..], &["factually.example"]].concat(),
        );
        check(
            "https://factually.example:8443/base",
            &[
                &loopback[..],
                &["factually.example:8443", "factually.example"],
            ]
            .concat(),
        );
        check(
            "http://[::1]:8080",
            &[&loopback[..], &["[::1]:8080"]].concat(),
        );
        check(
            "http://[2001:db8::1]",
            &[&loopback[..], &["[2001:db8::1]"]].concat(),
        );
        check("not a url", &loopback);
    }
}
