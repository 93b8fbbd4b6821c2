//! Credential transports each flavour reads.
//!
//! Jellyfin (`AuthorizationContext` since 10.11) always reads the `Authorization` header with
//! the `MediaBrowser` scheme and the `ApiKey` query parameter. The other transports, inherited
//! from Emby, are read only while `EnableLegacyAuthorization` is on: `X-Emby-Authorization`,
//! the `Emby` scheme, `X-Emby-Token`, `X-MediaBrowser-Token` and `api_key`. Jellyfin 12 turns it
//! off by default. A transport the server does not read is ignored, so the request counts as
//! anonymous and gets 401.

use axum::http::HeaderMap;

use super::Flavour;
use super::query::Params;

/// Returns whether the request carries `key` in a transport that `flavour` reads.
pub(super) fn is_authorised(
    flavour: Flavour,
    legacy: bool,
    key: &str,
    headers: &HeaderMap,
    params: &Params,
) -> bool {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let matches = |candidate: Option<String>| candidate.as_deref() == Some(key);

    match flavour {
        Flavour::Jellyfin => {
            let modern = matches(header("authorization").and_then(|value| token(value, false)))
                || params.get("ApiKey") == Some(key);
            let legacy_accepted = legacy
                && (matches(header("authorization").and_then(|value| token(value, true)))
                    || matches(
                        header("x-emby-authorization").and_then(|value| token(value, true)),
                    )
                    || header("x-emby-token") == Some(key)
                    || header("x-mediabrowser-token") == Some(key)
                    || params.get("api_key") == Some(key));
            modern || legacy_accepted
        }
        Flavour::Emby => {
            header("x-emby-token") == Some(key)
                || header("x-mediabrowser-token") == Some(key)
                || params.get("api_key") == Some(key)
                || matches(header("x-emby-authorization").and_then(|value| token(value, true)))
                || matches(header("authorization").and_then(|value| token(value, true)))
        }
    }
}

/// Extracts the `Token` parameter of a `MediaBrowser` header value such as
/// `MediaBrowser Client="app", Token="KEY"`. With `emby_scheme`, the `Emby` scheme is read too.
/// Values may be quoted and percent-encoded; names and schemes ignore case.
pub(super) fn token(value: &str, emby_scheme: bool) -> Option<String> {
    let value = value.trim();
    let (scheme, parameters) = value.split_once(char::is_whitespace)?;
    let scheme_accepted = scheme.eq_ignore_ascii_case("MediaBrowser")
        || (emby_scheme && scheme.eq_ignore_ascii_case("Emby"));
    if !scheme_accepted {
        return None;
    }

    parameters.split(',').find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("Token") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(value);
        let decoded: String = url::form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .map(|(_, decoded)| decoded.into_owned())
            .unwrap_or_default();
        Some(decoded)
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn token_parses_quoted_unquoted_and_other_parameters() {
        assert_eq!(
            token(r#"MediaBrowser Client="Onesheet", Token="KEY_A""#, false).as_deref(),
            Some("KEY_A")
        );
        assert_eq!(
            token("mediabrowser token=KEY_A", false).as_deref(),
            Some("KEY_A")
        );
        assert_eq!(token(r#"Emby Token="KEY_A""#, false), None);
        assert_eq!(
            token(r#"Emby Token="KEY_A""#, true).as_deref(),
            Some("KEY_A")
        );
        assert_eq!(token("Bearer KEY_A", true), None);
    }

    #[test]
    fn modern_jellyfin_ignores_legacy_transports() {
        let params = Params::parse(Some("api_key=KEY_A"));
        let legacy_headers = headers(&[("x-emby-token", "KEY_A")]);
        assert!(!is_authorised(
            Flavour::Jellyfin,
            false,
            "KEY_A",
            &legacy_headers,
            &params
        ));
        assert!(is_authorised(
            Flavour::Jellyfin,
            true,
            "KEY_A",
            &legacy_headers,
            &params
        ));

        let modern = headers(&[("authorization", r#"MediaBrowser Token="KEY_A""#)]);
        assert!(is_authorised(
            Flavour::Jellyfin,
            false,
            "KEY_A",
            &modern,
            &Params::default()
        ));
        assert!(is_authorised(
            Flavour::Jellyfin,
            false,
            "KEY_A",
            &HeaderMap::new(),
            &Params::parse(Some("ApiKey=KEY_A"))
        ));
        assert!(!is_authorised(
            Flavour::Jellyfin,
            false,
            "KEY_B",
            &modern,
            &Params::default()
        ));
    }

    #[test]
    fn emby_reads_its_own_transports() {
        let with_header = headers(&[("x-emby-token", "KEY_A")]);
        assert!(is_authorised(
            Flavour::Emby,
            false,
            "KEY_A",
            &with_header,
            &Params::default()
        ));
        assert!(is_authorised(
            Flavour::Emby,
            false,
            "KEY_A",
            &HeaderMap::new(),
            &Params::parse(Some("api_key=KEY_A"))
        ));
        assert!(!is_authorised(
            Flavour::Emby,
            false,
            "KEY_A",
            &HeaderMap::new(),
            &Params::default()
        ));
    }
}
