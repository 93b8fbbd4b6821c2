//! The rule for loading display pages, the display API and images, and the extractor that
//! enforces it.
//!
//! Those routes show the whole catalog and what people are watching, so a server reachable from
//! the internet must not serve them to anyone who finds it. A request may use them when its
//! client address is on loopback or inside `display_networks`, when `public_displays` opens them
//! to everybody, or when it carries a paired device's credential (the `X-Onesheet-Device` header
//! or the `onesheet_device` cookie) from any address. A request with an admin session or API
//! token may use them too, so an admin can preview a screen from anywhere. A device credential
//! opens these routes only: the admin extractors never look at it.
//!
//! The default networks are the private ranges a home or venue LAN uses. A reverse proxy on the
//! same host would make every client look like loopback, so a request with forwarding headers
//! is refused unless the proxy is in `trusted_proxies` and names the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;
use onesheet_domain::FieldError;

use super::ClientAddress;
use super::client::{canonical, parse_networks};
use crate::auth::AdminAccess;
use crate::devices::DeviceCredential;
use crate::error::ApiError;
use crate::state::AppState;

/// Networks that may use display routes when `display_networks` is not configured: the IPv4
/// private ranges, IPv6 unique local addresses, and link-local addresses of both families.
pub const DEFAULT_DISPLAY_NETWORKS: [&str; 6] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

/// The rule that decides whether a client address may use display routes on its own.
#[derive(Debug, Clone)]
pub struct DisplayAccess {
    networks: Vec<IpNet>,
    public: bool,
}

impl Default for DisplayAccess {
    /// Loopback only, the safe choice for a state built without configuration.
    fn default() -> Self {
        Self {
            networks: Vec::new(),
            public: false,
        }
    }
}

impl DisplayAccess {
    /// Builds the rule from `display_networks` entries (CIDR ranges or single addresses) and the
    /// `public_displays` switch.
    pub fn parse<S: AsRef<str>>(networks: &[S], public: bool) -> Result<Self, FieldError> {
        Ok(Self {
            networks: parse_networks("display_networks", networks)?,
            public,
        })
    }

    /// Returns true when a client at `ip` may use display routes without further proof.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.public || ip.is_loopback() || self.networks.iter().any(|network| network.contains(&ip))
    }

    /// Returns true when display routes are open to every address.
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// Returns a configured network that covers every address of its family, such as
    /// `0.0.0.0/0`, which opens display routes as widely as `public_displays` does.
    pub fn open_network(&self) -> Option<IpNet> {
        self.networks
            .iter()
            .find(|network| network.prefix_len() == 0)
            .copied()
    }
}

/// Proof that a request may use display routes: take it as a handler argument, so a display
/// handler cannot run for a client that [`DisplayAccess`] rejects. Paired devices and admins
/// pass from anywhere.
#[derive(Debug, Clone, Copy)]
pub struct DisplayViewer;

impl FromRequestParts<AppState> for DisplayViewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Without a client address (no socket behind the request) nothing is admitted by network.
        let client = parts.extensions.get::<ClientAddress>().copied();
        let refusal = if came_through_unknown_proxy(parts, state) {
            DisplayRefusal::UnknownProxy
        } else if client.is_some_and(|client| !client.known) && !state.display_access.is_public() {
            DisplayRefusal::ClientNotNamed
        } else if client.is_some_and(|client| state.display_access.allows(client.ip)) {
            return Ok(Self);
        } else {
            DisplayRefusal::OutsideNetworks(client.map(|client| client.ip))
        };

        // A paired screen's credential admits it from any network, through any proxy.
        if let Some(devices) = &state.devices
            && let Some(credential) = DeviceCredential::from_headers(&parts.headers)
            && devices
                .verify_credential(client.map(|client| client.ip), &credential)
                .await
                .is_ok()
        {
            return Ok(Self);
        }
        if AdminAccess::from_request_parts(parts, state).await.is_ok() {
            return Ok(Self);
        }
        Err(ApiError::DisplayRefused(refusal))
    }
}

/// The reason a display route was rejected. Each message names the setting that changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayRefusal {
    /// The client's address is outside loopback and `display_networks`.
    OutsideNetworks(Option<IpAddr>),
    /// A peer not in `trusted_proxies` forwarded the request for someone else.
    UnknownProxy,
    /// A trusted proxy forwarded the request without a readable `X-Forwarded-For`.
    ClientNotNamed,
}

impl std::fmt::Display for DisplayRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OutsideNetworks(ip) => {
                let client = ip.map_or_else(|| "this client".to_owned(), |ip| ip.to_string());
                write!(
                    f,
                    "display access refused for {client}: add the screen's network to display_networks (ONESHEET_DISPLAY_NETWORKS), or set public_displays = true, in the server's configuration"
                )
            }
            Self::UnknownProxy => f.write_str(
                "display access refused: the request came through a proxy that is not in trusted_proxies, so the screen's address is unknown; add the proxy's address to trusted_proxies (ONESHEET_TRUSTED_PROXIES)",
            ),
            Self::ClientNotNamed => f.write_str(
                "display access refused: the trusted proxy did not name the screen in a readable X-Forwarded-For header; configure the proxy to send X-Forwarded-For",
            ),
        }
    }
}

/// Headers a reverse proxy adds to name the client it forwards for.
const FORWARDING_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// Returns true when an untrusted peer forwarded the request for someone else. A reverse proxy
/// on the server's own machine would otherwise pass every internet client off as loopback, so
/// such a request is judged by nobody's address until the proxy is listed in `trusted_proxies`.
/// A client that adds these headers itself only gets itself rejected.
fn came_through_unknown_proxy(parts: &Parts, state: &AppState) -> bool {
    let forwarded = FORWARDING_HEADERS
        .iter()
        .any(|name| parts.headers.contains_key(*name));
    if state.display_access.is_public() || !forwarded {
        return false;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_none_or(|peer| !state.trusted_proxies.contains(peer.0.ip()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn defaults_admit_private_and_loopback_only() {
        let access = DisplayAccess::parse(&DEFAULT_DISPLAY_NETWORKS, false).unwrap();
        for allowed in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "::ffff:192.168.1.20",
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.5",
            "fd12:3456::1",
            "fe80::1",
        ] {
            assert!(access.allows(ip(allowed)), "{allowed} must be allowed");
        }
        for refused in [
            "203.0.113.7",
            "172.32.0.1",
            "100.64.0.1",
            "8.8.8.8",
            "2001:db8::1",
            "::ffff:203.0.113.7",
        ] {
            assert!(!access.allows(ip(refused)), "{refused} must be refused");
        }
    }

    #[test]
    fn empty_list_keeps_loopback() {
        let access = DisplayAccess::parse::<&str>(&[], false).unwrap();
        assert!(access.allows(ip("127.0.0.1")));
        assert!(!access.allows(ip("192.168.1.2")));
    }

    #[test]
    fn zero_prefix_is_reported_as_open() {
        let open = DisplayAccess::parse(&["192.168.1.0/24", "0.0.0.0/0"], false).unwrap();
        assert_eq!(open.open_network(), Some("0.0.0.0/0".parse().unwrap()));

        let closed = DisplayAccess::parse(&DEFAULT_DISPLAY_NETWORKS, false).unwrap();
        assert_eq!(closed.open_network(), None);
    }

    #[test]
    fn public_admits_everybody() {
        let access = DisplayAccess::parse::<&str>(&[], true).unwrap();
        assert!(access.allows(ip("203.0.113.7")));
        assert!(access.is_public());
    }

    #[test]
    fn bad_entry_names_the_key_and_value() {
        let error = DisplayAccess::parse(&["192.168.1.0/33"], false).unwrap_err();
        assert_eq!(error.field, "display_networks");
        assert!(
            error.message.contains("192.168.1.0/33"),
            "{}",
            error.message
        );
    }
}
