//! Who sent a request: the client's IP address and whether it reached us over HTTPS.
//!
//! The socket's peer is the only address nobody can forge. Behind a reverse proxy that peer is
//! the proxy, so the admin lists the proxies in `trusted_proxies` and their forwarding headers
//! are read. From any other peer those headers are ignored entirely: a spoofed
//! `X-Forwarded-For` must neither hide an attacker nor create a fresh rate-limit bucket.
//!
//! `X-Forwarded-For` is read from the right, because each proxy appends the address it saw:
//! the right-most entries were written by our own proxies, and everything left of the first
//! address outside `trusted_proxies` was written by the client and proves nothing.
//! `X-Forwarded-Proto` is read from the left, because the first proxy, the one facing the
//! client, is the only one that sees the client's scheme; proxies behind it append their own
//! hop's scheme.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;
use onesheet_domain::FieldError;

/// Most `X-Forwarded-For` entries read from the right. Real chains have one to three.
const MAX_FORWARDED_HOPS: usize = 16;

/// Networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parses CIDR ranges such as `10.0.0.0/8` or single addresses such as `::1`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, FieldError> {
        Ok(Self {
            networks: parse_networks("trusted_proxies", entries)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|network| network.contains(&ip))
    }
}

/// Parses a list of CIDR ranges or single addresses for the configuration key `key`.
pub(super) fn parse_networks<S: AsRef<str>>(
    key: &str,
    entries: &[S],
) -> Result<Vec<IpNet>, FieldError> {
    entries
        .iter()
        .map(|entry| {
            let entry = entry.as_ref().trim();
            IpNet::from_str(entry)
                .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                .map(canonical_network)
                .map_err(|_| {
                    FieldError::new(
                        key,
                        format!(
                            "{entry:?} is not an IP address or a CIDR range such as 10.0.0.0/8 or 192.168.1.10"
                        ),
                    )
                })
        })
        .collect()
}

/// Writes an IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as the IPv4 range it means, because
/// client addresses are compared in their IPv4 form (see [`canonical`]).
fn canonical_network(network: IpNet) -> IpNet {
    let IpNet::V6(v6) = network else {
        return network;
    };
    match (v6.addr().to_ipv4_mapped(), v6.prefix_len().checked_sub(96)) {
        (Some(v4), Some(prefix)) => ipnet::Ipv4Net::new(v4, prefix).map_or(network, IpNet::V4),
        _ => network,
    }
}

/// The client as far as this server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    pub ip: IpAddr,
    /// True when the client's own connection used HTTPS: ours directly, or the proxy's when a
    /// trusted proxy reports it.
    pub https: bool,
    /// True when the address came from a trusted proxy's header rather than the socket.
    pub forwarded: bool,
    /// False when a trusted proxy forwarded the request without naming its client in a form
    /// that can be read (no `X-Forwarded-For`, or an entry that is not an address). `ip` is
    /// then the last proxy seen, which must not be taken for the client where that matters.
    pub known: bool,
}

impl ClientAddress {
    /// Resolves the client of a request that arrived from `peer`, over TLS when `tls` is true.
    pub fn resolve(
        peer: SocketAddr,
        tls: bool,
        headers: &HeaderMap,
        trusted: &TrustedProxies,
    ) -> Self {
        let peer_ip = canonical(peer.ip());
        let direct = Self {
            ip: peer_ip,
            https: tls,
            forwarded: false,
            known: true,
        };
        if !trusted.contains(peer_ip) {
            return direct;
        }

        let (ip, known) = match forwarded_client(headers, trusted) {
            Forwarded::Client(ip) => (ip, true),
            Forwarded::Unreadable { last_trusted } => (last_trusted.unwrap_or(peer_ip), false),
            Forwarded::Missing => (peer_ip, false),
        };
        let https = tls || forwarded_https(headers);
        Self {
            ip,
            https,
            forwarded: ip != peer_ip,
            known,
        }
    }
}

/// The client named by a trusted proxy's `X-Forwarded-For`, when it names one.
enum Forwarded {
    /// The client's address.
    Client(IpAddr),
    /// An entry that is not an address came before any untrusted one, so nothing left of it can
    /// be believed and the client is unknown.
    Unreadable { last_trusted: Option<IpAddr> },
    /// No `X-Forwarded-For` at all.
    Missing,
}

/// Walks `X-Forwarded-For` from the right and returns the first address outside the trusted
/// networks. When every entry is trusted, the left-most one is the client.
fn forwarded_client(headers: &HeaderMap, trusted: &TrustedProxies) -> Forwarded {
    // Several header lines are one list in order (RFC 9110, section 5.3). Entries are split on
    // the raw bytes: a client can put any byte into the part of the line it writes, and that
    // must not hide the entries our proxy appended after it.
    let entries: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
        .collect();
    if entries.is_empty() {
        return Forwarded::Missing;
    }

    let mut last_trusted = None;
    for entry in entries.iter().rev().take(MAX_FORWARDED_HOPS) {
        let ip = std::str::from_utf8(entry)
            .ok()
            .and_then(|entry| parse_forwarded_ip(entry.trim()));
        let Some(ip) = ip else {
            return Forwarded::Unreadable { last_trusted };
        };
        if !trusted.contains(ip) {
            return Forwarded::Client(ip);
        }
        last_trusted = Some(ip);
    }
    match last_trusted {
        Some(ip) => Forwarded::Client(ip),
        None => Forwarded::Missing,
    }
}

/// Reads an `X-Forwarded-For` entry: a bare address, or one with a port (`1.2.3.4:5678`,
/// `[::1]:5678`), as some proxies write it.
fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(entry) {
        return Some(canonical(ip));
    }
    if let Ok(socket) = SocketAddr::from_str(entry) {
        return Some(canonical(socket.ip()));
    }
    None
}

/// True when the left-most `X-Forwarded-Proto` value is `https`.
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|scheme| scheme.trim().eq_ignore_ascii_case("https"))
}

/// Maps IPv4-mapped IPv6 addresses (`::ffff:10.0.0.2`), which a dual-stack socket reports for
/// IPv4 peers, to plain IPv4, so `10.0.0.0/8` matches them.
pub(super) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn trusted() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8", "::1"]).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn resolve(peer: &str, pairs: &[(&'static str, &str)]) -> ClientAddress {
        ClientAddress::resolve(peer.parse().unwrap(), false, &headers(pairs), &trusted())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_headers_are_ignored() {
        let client = resolve(
            "192.0.2.50:4000",
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https"),
            ],
        );
        assert_eq!(client.ip, ip("192.0.2.50"));
        assert!(!client.https);
        assert!(!client.forwarded);
    }

    #[test]
    fn trusted_proxy_gives_the_right_most_untrusted_entry() {
        // The client wrote 1.1.1.1 itself; 198.51.100.7 is what our proxy at 10.0.0.3 saw.
        let client = resolve(
            "10.0.0.2:4000",
            &[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.0.0.3")],
        );
        assert_eq!(client.ip, ip("198.51.100.7"));
        assert!(client.forwarded);
    }

    #[test]
    fn several_header_lines_form_one_list() {
        let client = resolve(
            "10.0.0.2:4000",
            &[
                ("x-forwarded-for", "1.1.1.1"),
                ("x-forwarded-for", "198.51.100.7"),
            ],
        );
        assert_eq!(client.ip, ip("198.51.100.7"));
    }

    #[test]
    fn garbage_entry_leaves_the_client_unknown() {
        let client = resolve(
            "10.0.0.2:4000",
            &[("x-forwarded-for", "1.1.1.1, not-an-ip, 10.0.0.3")],
        );
        assert_eq!(client.ip, ip("10.0.0.3"));
        assert!(!client.known);

        let client = resolve("10.0.0.2:4000", &[("x-forwarded-for", "garbage")]);
        assert_eq!(client.ip, ip("10.0.0.2"));
        assert!(!client.forwarded);
        assert!(!client.known);
    }

    #[test]
    fn proxy_without_header_unknown_client() {
        let client = resolve("10.0.0.2:4000", &[("x-real-ip", "198.51.100.7")]);
        assert_eq!(client.ip, ip("10.0.0.2"));
        assert!(!client.known);

        let direct = resolve("192.0.2.50:4000", &[]);
        assert!(direct.known);
    }

    #[test]
    fn non_ascii_client_part_keeps_the_proxy_entry() {
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff, 203.0.113.9").unwrap(),
        );
        let client = ClientAddress::resolve(
            "10.0.0.2:4000".parse().unwrap(),
            false,
            &headers,
            &trusted(),
        );
        assert_eq!(client.ip, ip("203.0.113.9"));
        assert!(client.known);
    }

    #[test]
    fn all_trusted_chain_gives_the_left_most_entry() {
        let client = resolve(
            "10.0.0.2:4000",
            &[("x-forwarded-for", "10.1.1.1, 10.0.0.3")],
        );
        assert_eq!(client.ip, ip("10.1.1.1"));
    }

    #[test]
    fn ports_and_brackets_are_accepted() {
        let client = resolve("[::1]:4000", &[("x-forwarded-for", "[2001:db8::5]:443")]);
        assert_eq!(client.ip, ip("2001:db8::5"));
        let client = resolve("[::1]:4000", &[("x-forwarded-for", "203.0.113.4:5555")]);
        assert_eq!(client.ip, ip("203.0.113.4"));
    }

    #[test]
    fn scheme_comes_from_the_left_most_proto_of_a_trusted_proxy() {
        assert!(resolve("10.0.0.2:1", &[("x-forwarded-proto", "https, http")]).https);
        assert!(resolve("10.0.0.2:1", &[("x-forwarded-proto", "HTTPS")]).https);
        assert!(!resolve("10.0.0.2:1", &[("x-forwarded-proto", "http, https")]).https);
        assert!(!resolve("10.0.0.2:1", &[]).https);
    }

    #[test]
    fn direct_tls_is_https_whoever_the_peer_is() {
        let client = ClientAddress::resolve(
            "192.0.2.50:4000".parse().unwrap(),
            true,
            &HeaderMap::new(),
            &trusted(),
        );
        assert!(client.https);
    }

    #[test]
    fn mapped_ipv4_matches_ipv4_ranges() {
        let client = resolve(
            "[::ffff:10.0.0.2]:4000",
            &[("x-forwarded-for", "198.51.100.7")],
        );
        assert_eq!(client.ip, ip("198.51.100.7"));
    }

    #[test]
    fn long_chains_are_read_only_sixteen_hops_deep() {
        let mut chain = vec!["203.0.113.1"];
        chain.extend(std::iter::repeat_n("10.0.0.9", 20));
        let client = resolve("10.0.0.2:1", &[("x-forwarded-for", &chain.join(", "))]);
        assert_eq!(client.ip, ip("10.0.0.9"));
    }

    #[test]
    fn mapped_entries_match_plain_ipv4_clients() {
        let proxies = TrustedProxies::parse(&["::ffff:127.0.0.1", "::ffff:10.0.0.0/104"]).unwrap();
        assert!(proxies.contains(ip("127.0.0.1")));
        assert!(proxies.contains(ip("10.20.30.40")));
        assert!(!proxies.contains(ip("11.0.0.1")));
    }

    #[test]
    fn parse_names_the_bad_entry() {
        let error = TrustedProxies::parse(&["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err();
        assert_eq!(error.field, "trusted_proxies");
        assert!(error.message.contains("10.0.0.0/33"), "{}", error.message);
        assert!(TrustedProxies::parse(&["192.168.1.10", "fd00::/8"]).is_ok());
    }
}
