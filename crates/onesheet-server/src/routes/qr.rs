//! QR codes that screens show: beside a poster, leading viewers' phones to the item's trailer or
//! its page on IMDb or TMDB, and on the pairing card, leading an admin's phone to the page that
//! claims the screen. The server draws them as SVG, so screens need no QR library and a weak
//! stick computes nothing.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use onesheet_domain::links::public_link;
use onesheet_domain::{FieldError, ItemId, PairingCode};
use serde::Deserialize;

use crate::error::ApiError;
use crate::security::{ClientAddress, DisplayViewer};
use crate::state::AppState;

/// Maximum characters of a rejected pairing code that an error message repeats.
const MAX_ECHOED_CHARS: usize = 32;

/// Builds the URL of an item's QR code, as the playlist lists it.
pub(super) fn qr_url(base: &str, item: &str) -> String {
    format!("{base}/api/v1/items/{item}/qr")
}

/// Returns the QR code of the item's public page as SVG, or 404 when the item has none.
pub(super) async fn item_qr(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(item) = path.map_err(|rejection| {
        FieldError::new(
            "path",
            format!("invalid item path: {}", rejection.body_text()),
        )
    })?;
    let item_id: ItemId = item.parse()?;

    let snapshot = state.catalog.snapshot();
    let item = snapshot
        .get(&item_id)
        .ok_or(ApiError::NotFound { what: "item" })?;
    let link = public_link(item).ok_or(ApiError::NotFound { what: "link" })?;
    let svg = onesheet_auth::totp::qr_svg(&link).map_err(ApiError::internal)?;

    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    // The link changes only with the item's metadata, so a screen may reuse the code for an
    // hour when the poster comes round again.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PairingQrQuery {
    code: String,
}

/// Returns a QR code, as SVG, of the absolute URL of the page that claims pairing code `code`.
///
/// The code must be a well-formed pairing code, and the URL is built only from it and the
/// server's own address, so the route cannot encode text of the caller's choice. It does not
/// check that the code is pending, which would cost a store lookup per request, because the
/// claim page reports an unknown code anyway.
pub(super) async fn pairing_qr(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<PairingQrQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldError::new(
            "code",
            format!(
                "invalid query string: {}: send code=<the six characters the screen shows>",
                rejection.body_text()
            ),
        )
    })?;
    let code: PairingCode = query.code.parse().map_err(|error| {
        let echoed: String = query.code.chars().take(MAX_ECHOED_CHARS).collect();
        FieldError::new("code", format!("{echoed:?}: {error}"))
    })?;

    let site = match state.public_url.as_deref() {
        Some(public_url) => public_url.to_owned(),
        None => {
            let https = client.is_some_and(|Extension(client)| client.https);
            request_site(&headers, &uri, https, state.base_path.as_str())?
        }
    };
    let svg = onesheet_auth::totp::qr_svg(&claim_url(&site, &code)).map_err(ApiError::internal)?;

    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    // The image depends only on the code and the server's address, and a code lives ten
    // minutes, so a screen that shows the card again reuses it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=600"),
    );
    Ok(response)
}

/// Builds the URL of the page that claims `code`. It matches the `claim_path` of the `pairing`
/// message, prefixed with `site`, the absolute URL of the base path.
fn claim_url(site: &str, code: &PairingCode) -> String {
    format!("{site}/admin/devices/claim?code={code}")
}

/// Returns the absolute URL of the base path as the request reached the server: the scheme of
/// the client's connection, then the `Host` header (or the request target's authority over
/// HTTP/2), then `base_path`. Only a host with an optional port is accepted, so the URL cannot
/// carry a user name, a path or a query of the caller's choice.
fn request_site(
    headers: &HeaderMap,
    uri: &Uri,
    https: bool,
    base_path: &str,
) -> Result<String, FieldError> {
    let host = match headers.get(header::HOST) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None => uri
            .authority()
            .map(|authority| authority.as_str().to_owned()),
    };
    let Some(host) = host else {
        return Err(FieldError::new(
            "Host",
            "missing Host header: send it, or set public_url so links do not depend on it",
        ));
    };
    // An authority may carry `user@`, which a phone would show as the site's name.
    let valid = !host.contains('@') && host.parse::<Authority>().is_ok();
    if !valid {
        let echoed: String = host.chars().take(MAX_ECHOED_CHARS * 4).collect();
        return Err(FieldError::new(
            "Host",
            format!(
                "invalid Host header {echoed:?}: expected a host name or address with an optional port, or set public_url"
            ),
        ));
    }
    let scheme = if https { "https" } else { "http" };
    Ok(format!("{scheme}://{host}{base_path}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn site(host: Option<&str>, uri: &str) -> Result<String, FieldError> {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        }
        request_site(&headers, &uri.parse().unwrap(), false, "/posters")
    }

    #[test]
    fn request_site_takes_host_and_port() {
        assert_eq!(
            site(Some("10.0.0.5:8080"), "/x").unwrap(),
            "http://10.0.0.5:8080/posters"
        );
        assert_eq!(
            site(Some("[::1]:7000"), "/x").unwrap(),
            "http://[::1]:7000/posters"
        );
        assert_eq!(
            site(None, "http://posters.example.com/x").unwrap(),
            "http://posters.example.com/posters"
        );
    }

    #[test]
    fn request_site_rejects_odd_hosts() {
        for host in [
            "",
            "user@evil.example",
            "evil.example/path",
            "evil.example?x=1",
            "evil.example#x",
            "evil example",
        ] {
            let error = site(Some(host), "/x").unwrap_err();
            assert_eq!(error.field, "Host", "host {host:?}");
        }
        assert_eq!(site(None, "/x").unwrap_err().field, "Host");
    }

    #[test]
    fn claim_url_carries_only_the_code() {
        let code: PairingCode = "k7m-2qx".parse().unwrap();
        assert_eq!(
            claim_url("https://posters.example.com", &code),
            "https://posters.example.com/admin/devices/claim?code=K7M2QX"
        );
    }
}
