#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// One accepted input: host, base path, https, default port, then the expected scheme, host,
/// port and base path.
type Accepted = (
    &'static str,
    Option<&'static str>,
    Option<bool>,
    Option<u16>,
    Scheme,
    &'static str,
    u16,
    &'static str,
);

#[test]
fn parse_accepts_common_forms() {
    use Scheme::{Http, Https};
    let cases: &[Accepted] = &[
        (
            "https://media.example.org/jellyfin/",
            None,
            None,
            Some(8096),
            Https,
            "media.example.org",
            443,
            "/jellyfin",
        ),
        (
            "media.example.org:8920",
            None,
            Some(true),
            None,
            Https,
            "media.example.org",
            8920,
            "",
        ),
        (
            "media.example.org:8920",
            None,
            None,
            Some(8096),
            Http,
            "media.example.org",
            8920,
            "",
        ),
        (
            "media.example.org",
            Some("jellyfin"),
            None,
            Some(8096),
            Http,
            "media.example.org",
            8096,
            "/jellyfin",
        ),
        (
            "media.example.org",
            Some("/jellyfin/"),
            Some(true),
            None,
            Https,
            "media.example.org",
            443,
            "/jellyfin",
        ),
        (
            "media.example.org",
            None,
            None,
            None,
            Http,
            "media.example.org",
            80,
            "",
        ),
        ("[::1]:8096", None, None, None, Http, "[::1]", 8096, ""),
        ("::1", None, None, Some(32400), Http, "[::1]", 32400, ""),
        (
            "http://[fe80::1]/plex",
            None,
            None,
            None,
            Http,
            "[fe80::1]",
            80,
            "/plex",
        ),
        (
            "192.168.1.20:32400",
            None,
            None,
            None,
            Http,
            "192.168.1.20",
            32400,
            "",
        ),
        (
            "  media.example.org/  ",
            Some("  "),
            None,
            None,
            Http,
            "media.example.org",
            80,
            "",
        ),
        (
            "HTTPS://Media.Example.ORG//emby//",
            None,
            Some(true),
            None,
            Https,
            "media.example.org",
            443,
            "/emby",
        ),
        (
            "https://media.example.org/jellyfin",
            Some("/jellyfin"),
            Some(true),
            None,
            Https,
            "media.example.org",
            443,
            "/jellyfin",
        ),
        (
            "media.example.org",
            Some("media/jelly fin/"),
            None,
            None,
            Http,
            "media.example.org",
            80,
            "/media/jelly%20fin",
        ),
        (
            "http://media.example.org:8096/",
            Some("/"),
            Some(false),
            Some(1),
            Http,
            "media.example.org",
            8096,
            "",
        ),
        (
            "localhost:8096",
            None,
            None,
            None,
            Http,
            "localhost",
            8096,
            "",
        ),
    ];

    for &(host, base_path, https, default_port, scheme, expected_host, port, expected_base) in cases
    {
        let address = ServerAddress::parse(host, base_path, https, default_port)
            .unwrap_or_else(|error| panic!("{host:?} + {base_path:?}: {error}"));
        assert_eq!(address.scheme(), scheme, "scheme of {host:?}");
        assert_eq!(address.host(), expected_host, "host of {host:?}");
        assert_eq!(address.port(), port, "port of {host:?}");
        assert_eq!(
            address.base_path(),
            expected_base,
            "base path of {host:?} + {base_path:?}"
        );
    }
}

#[test]
fn parse_rejects_contradictions_and_naming_field() {
    let cases: &[(&str, Option<&str>, Option<bool>, &str)] = &[
        ("", None, None, "host"),
        ("   ", None, None, "host"),
        ("https://media.example.org", None, Some(false), "https"),
        ("http://media.example.org", None, Some(true), "https"),
        (
            "https://media.example.org/jellyfin",
            Some("emby"),
            None,
            "base_path",
        ),
        (
            "https://admin:hunter2@media.example.org",
            None,
            None,
            "host",
        ),
        ("https://admin@media.example.org", None, None, "host"),
        ("media.example.org/?X-Plex-Token=abc", None, None, "host"),
        ("media.example.org/#top", None, None, "host"),
        ("media.example.org:99999", None, None, "host"),
        ("media.example.org:port", None, None, "host"),
        ("media.example.org:0", None, None, "host"),
        ("ftp://media.example.org", None, None, "host"),
        ("https://", None, None, "host"),
        ("media example.org", None, None, "host"),
        (
            "media.example.org",
            Some("/jellyfin?x=1"),
            None,
            "base_path",
        ),
        (
            "media.example.org",
            Some("https://other.example.org/jellyfin"),
            None,
            "base_path",
        ),
    ];

    for &(host, base_path, https, field) in cases {
        let error = ServerAddress::parse(host, base_path, https, None)
            .expect_err(&format!("{host:?} + {base_path:?} should be rejected"));
        assert_eq!(
            error.field, field,
            "field for {host:?} + {base_path:?}: {error}"
        );
    }
}

#[test]
fn errors_do_not_repeat_secrets() {
    let inputs = [
        "https://admin:hunter2@media.example.org",
        "https://admin:hunter2@media example.org",
        "media.example.org/?X-Plex-Token=hunter2",
        "media.example.org:99999/?X-Plex-Token=hunter2",
    ];

    for input in inputs {
        let error = ServerAddress::parse(input, None, None, None).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{input}: {error}");
    }
}

#[test]
fn errors_quote_plain_input() {
    let error = ServerAddress::parse("media.example.org:port", None, None, None).unwrap_err();

    assert!(
        error.to_string().contains("\"media.example.org:port\""),
        "{error}"
    );
}

#[test]
fn url_joins_base_path_and_path() {
    let address =
        ServerAddress::parse("https://media.example.org/jellyfin/", None, None, None).unwrap();
    let root = ServerAddress::parse("media.example.org:8096", None, None, None).unwrap();

    let cases: &[(&ServerAddress, &str, &str)] = &[
        (
            &address,
            "/Items",
            "https://media.example.org/jellyfin/Items",
        ),
        (
            &address,
            "Items",
            "https://media.example.org/jellyfin/Items",
        ),
        (
            &address,
            "//Items/abc",
            "https://media.example.org/jellyfin/Items/abc",
        ),
        (&address, "", "https://media.example.org/jellyfin/"),
        (
            &address,
            "Items/",
            "https://media.example.org/jellyfin/Items/",
        ),
        (
            &address,
            "Items/a b",
            "https://media.example.org/jellyfin/Items/a%20b",
        ),
        (
            &address,
            "Items/a?b#c",
            "https://media.example.org/jellyfin/Items/a%3Fb%23c",
        ),
        (
            &root,
            "/library/sections",
            "http://media.example.org:8096/library/sections",
        ),
        (&root, "", "http://media.example.org:8096/"),
    ];

    for &(address, path, expected) in cases {
        assert_eq!(address.url(path, &[]).as_str(), expected, "path {path:?}");
    }
}

#[test]
fn url_encodes_query_values() {
    let address =
        ServerAddress::parse("media.example.org", Some("plex"), Some(true), None).unwrap();

    let url = address.url(
        "/library/sections/1/all",
        &[
            ("X-Plex-Token", "a&b=c d"),
            ("title", "Amélie"),
            ("sort", "titleSort:asc"),
        ],
    );

    assert_eq!(
        url.as_str(),
        "https://media.example.org/plex/library/sections/1/all?X-Plex-Token=a%26b%3Dc+d&title=Am%C3%A9lie&sort=titleSort%3Aasc"
    );
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs[0], ("X-Plex-Token".to_owned(), "a&b=c d".to_owned()));
}

#[test]
fn url_keeps_ipv6_host() {
    let address = ServerAddress::parse("[::1]:8096", None, None, None).unwrap();

    assert_eq!(
        address.url("/System/Info", &[]).as_str(),
        "http://[::1]:8096/System/Info"
    );
}

#[test]
fn display_omits_default_port() {
    let proxied =
        ServerAddress::parse("https://media.example.org/jellyfin/", None, None, None).unwrap();
    let direct = ServerAddress::parse("media.example.org", None, None, Some(8096)).unwrap();

    assert_eq!(proxied.to_string(), "https://media.example.org/jellyfin");
    assert_eq!(direct.to_string(), "http://media.example.org:8096");
}

#[test]
fn parse_rejects_mistyped_schemes() {
    let inputs = [
        "http:/127.0.0.1:8096",
        "http//127.0.0.1:8096",
        "https:media.example.org",
        "https:/media.example.org/jellyfin",
        "https//media.example.org",
        "HTTP:/media.example.org",
        "http:8096",
    ];

    for input in inputs {
        let error = ServerAddress::parse(input, None, None, Some(8096))
            .expect_err(&format!("{input:?} should be rejected"));
        assert_eq!(error.field, "host", "field for {input:?}: {error}");
        assert!(
            error.message.contains("mistyped scheme"),
            "{input:?}: {error}"
        );
        assert!(
            error.message.contains("https://media.example.org"),
            "{input:?} has no example: {error}"
        );
    }
}

#[test]
fn parse_rejects_backslashes() {
    let inputs = [
        "127.0.0.1:8096\\evil",
        "http://media.example.org\\jellyfin",
        "media.example.org\\",
        "http:\\\\media.example.org",
    ];

    for input in inputs {
        let error = ServerAddress::parse(input, None, None, None)
            .expect_err(&format!("{input:?} should be rejected"));
        assert_eq!(error.field, "host", "field for {input:?}: {error}");
        assert!(error.message.contains("backslash"), "{input:?}: {error}");
        assert!(
            error.message.contains("https://media.example.org/jellyfin"),
            "{input:?} has no example: {error}"
        );
    }
}

#[test]
fn parse_rejects_host_named_like_scheme() {
    let inputs = [
        "http",
        "https://http/jellyfin",
        "HTTPS:8920",
        "http://https:8096",
    ];

    for input in inputs {
        let error = ServerAddress::parse(input, None, None, None)
            .expect_err(&format!("{input:?} should be rejected"));
        assert_eq!(error.field, "host", "field for {input:?}: {error}");
        assert!(error.message.contains("scheme"), "{input:?}: {error}");
        assert!(
            error.message.contains("https://media.example.org"),
            "{input:?} has no example: {error}"
        );
    }
}

#[test]
fn parse_accepts_hosts_starting_with_http() {
    let cases = [
        ("http.example.org", "http.example.org", 80),
        ("httpbin.local:8080", "httpbin.local", 8080),
        ("https-gateway.local:8920", "https-gateway.local", 8920),
        ("http://http.example.org", "http.example.org", 80),
        ("https://httpd:8443/emby", "httpd", 8443),
    ];

    for (input, host, port) in cases {
        let address = ServerAddress::parse(input, None, None, None)
            .unwrap_or_else(|error| panic!("{input:?}: {error}"));
        assert_eq!(address.host(), host, "host of {input:?}");
        assert_eq!(address.port(), port, "port of {input:?}");
    }
}
