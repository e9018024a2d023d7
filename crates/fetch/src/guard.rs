//! SSRF protection: which URLs and addresses the fetcher may reach.
//!
//! The fetcher runs on servers and fetches URLs that come from search results, from users and
//! from redirects chosen by arbitrary web sites. Without a guard, a page that redirects to
//! `http://169.254.169.254/latest/meta-data/` would make factually read a cloud provider's
//! credentials and, worse, quote them in a public report. So every hop is checked twice:
//!
//! * the **URL** (scheme, port, IP-literal host) before the request and on every redirect
//!   ([`Policy::check_url`]);
//! * every **address a host name resolves to**, inside the HTTP client's own resolver
//!   ([`GuardedResolver`]), so the address checked is the address connected to: there is no
//!   window between a check and a second lookup for DNS rebinding to exploit.
//!
//! Environment proxies are ignored by the client (a proxy would resolve names itself and
//! bypass the resolver check).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Which non-public addresses may be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PrivateAccess {
    /// Only public unicast addresses (the default, and what servers must use).
    #[default]
    Deny,
    /// Any address, on any port (`--allow-private-hosts`: a self-hosted setup or tests).
    AllowAll,
    /// These addresses only, besides public ones (an internal host an operator trusts).
    Allow(Vec<IpAddr>),
}

/// Why a URL or address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only http and https URLs are fetched, not {0}:")]
    Scheme(String),
    #[error("port {0} is not a standard web port (80, 443)")]
    Port(u16),
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL carries a user name or password")]
    Credentials,
    #[error("{addr} is a {class} address")]
    Address { addr: IpAddr, class: &'static str },
    #[error("{0} did not resolve to any address")]
    Unresolved(String),
}

/// The rules the fetcher applies to every hop.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub private: PrivateAccess,
    /// Ports allowed besides 80 and 443.
    pub extra_ports: Vec<u16>,
}

impl Policy {
    /// Checks what can be checked without DNS: scheme, credentials, port, IP-literal hosts.
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(Refusal::Scheme(scheme.to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let standard = port == 80 || port == 443;
        if !standard && self.private != PrivateAccess::AllowAll && !self.extra_ports.contains(&port)
        {
            return Err(Refusal::Port(port));
        }
        match url.host() {
            None => Err(Refusal::NoHost),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain("")) => Err(Refusal::NoHost),
            Some(Host::Domain(_)) => Ok(()),
        }
    }

    /// Refuses an address that is not public unicast, unless the policy allows it.
    pub fn check_ip(&self, addr: IpAddr) -> Result<(), Refusal> {
        let Some(class) = non_public_class(addr) else {
            return Ok(());
        };
        match &self.private {
            PrivateAccess::AllowAll => Ok(()),
            PrivateAccess::Allow(allowed) if allowed.contains(&addr) => Ok(()),
            _ => Err(Refusal::Address { addr, class }),
        }
    }
}

/// The class of an address that is not public unicast, or `None` for a public one.
///
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible, NAT64, 6to4 and Teredo addresses are refused
/// as a class of their own: they are ways of writing (or tunnelling to) an IPv4 address, and
/// stacks disagree about how to route them.
pub fn non_public_class(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (0, _, _) => "\"this network\" (0.0.0.0/8)",
        (10, _, _) => "private (10.0.0.0/8)",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (127, _, _) => "loopback (127.0.0.0/8)",
        (169, 254, _) => "link-local (169.254.0.0/16)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignment (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast (192.88.99.0/24)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast (224.0.0.0/4)",
        (240..=255, _, _) => "reserved or broadcast (240.0.0.0/4)",
        _ => return None,
    };
    Some(class)
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let class = if ip.is_unspecified() {
        "unspecified (::)"
    } else if ip.is_loopback() {
        "loopback (::1)"
    } else if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        "IPv4-mapped IPv6 (::ffff:0:0/96)"
    } else if s[..6] == [0, 0, 0, 0, 0, 0] {
        "IPv4-compatible IPv6 (::/96)"
    } else if s[0] == 0x64 && s[1] == 0xff9b {
        "NAT64 (64:ff9b::/96)"
    } else if s[0] & 0xfe00 == 0xfc00 {
        "unique-local (fc00::/7)"
    } else if s[0] & 0xffc0 == 0xfe80 {
        "link-local (fe80::/10)"
    } else if s[0] & 0xffc0 == 0xfec0 {
        "site-local (fec0::/10)"
    } else if s[0] & 0xff00 == 0xff00 {
        "multicast (ff00::/8)"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "documentation (2001:db8::/32)"
    } else if s[0] == 0x2002 {
        "6to4 (2002::/16)"
    } else if s[0] == 0x2001 && s[1] == 0 {
        "Teredo (2001::/32)"
    } else if s[0] & 0xe000 != 0x2000 {
        "not global unicast (outside 2000::/3)"
    } else {
        return None;
    };
    Some(class)
}

/// The HTTP client's resolver: resolves a name, then refuses it unless every address passes
/// the policy (one bad address refuses the name: a host that answers with both a public and a
/// private address is an attack, not a configuration).
///
/// `overrides` pins names to addresses, like curl's `--resolve`; the policy still applies to
/// them.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<Policy>,
    overrides: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<Policy>, overrides: HashMap<String, Vec<IpAddr>>) -> Self {
        Self {
            policy,
            overrides: Arc::new(overrides),
        }
    }

    /// The addresses a host name may be connected to, or why it may not.
    pub async fn resolve_checked(&self, host: &str) -> Result<Vec<SocketAddr>, Refusal> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let addrs: Vec<SocketAddr> = match self.overrides.get(&host) {
            Some(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
            None => tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Refusal::Unresolved(host.clone()))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(Refusal::Unresolved(host));
        }
        for a in &addrs {
            self.policy.check_ip(a.ip())?;
        }
        Ok(addrs)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.resolve_checked(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, policy: &Policy) -> Result<(), Refusal> {
        policy.check_url(&Url::parse(url).unwrap())
    }

    #[test]
    fn public_urls_pass_and_private_literals_do_not() {
        let deny = Policy::default();
        for ok in [
            "https://example.org/a",
            "http://93.184.216.34/",
            "http://[2606:4700::1111]/",
        ] {
            assert_eq!(check(ok, &deny), Ok(()), "{ok}");
        }
        for bad in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0.0.0.0/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "ftp://example.org/",
            "file:///etc/passwd",
            "gopher://example.org/",
            "http://example.org:8080/",
            "http://example.org:22/",
            "http://user:pw@example.org/",
        ] {
            assert!(check(bad, &deny).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn private_access_is_explicit() {
        let all = Policy {
            private: PrivateAccess::AllowAll,
            ..Policy::default()
        };
        assert_eq!(check("http://127.0.0.1:8080/", &all), Ok(()));
        let one = Policy {
            private: PrivateAccess::Allow(vec!["127.0.0.1".parse().unwrap()]),
            extra_ports: vec![8080],
        };
        assert_eq!(check("http://127.0.0.1:8080/", &one), Ok(()));
        assert!(check("http://127.0.0.2:8080/", &one).is_err());
        assert!(check("http://127.0.0.1:8081/", &one).is_err());
    }

    #[test]
    fn every_resolved_address_must_pass() {
        let resolver = GuardedResolver::new(
            Arc::new(Policy::default()),
            HashMap::from([
                (
                    "public.test".to_string(),
                    vec!["93.184.216.34".parse().unwrap()],
                ),
                (
                    "mixed.test".to_string(),
                    vec![
                        "93.184.216.34".parse().unwrap(),
                        "10.0.0.1".parse().unwrap(),
                    ],
                ),
            ]),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(rt.block_on(resolver.resolve_checked("public.test")).is_ok());
        assert!(rt
            .block_on(resolver.resolve_checked("PUBLIC.test."))
            .is_ok());
        assert!(matches!(
            rt.block_on(resolver.resolve_checked("mixed.test")),
            Err(Refusal::Address { .. })
        ));
        assert!(rt.block_on(resolver.resolve_checked("localhost")).is_err());
    }
}
