//! Plex Media Server: response models, parsing and mapping to catalog items.
//!
//! Parsing and mapping are pure: [`parse_container`] turns a response body into a typed
//! [`MediaContainer`], and the [`map`] functions turn its entries into [`MediaItem`]s,
//! selectable collections and now-playing sessions. [`PlexSource`] makes the HTTP calls that
//! fetch the bodies.
//!
//! [`MediaItem`]: onesheet_domain::MediaItem

mod art;
mod badges;
mod lenient;
pub mod map;
pub mod model;
mod sessions;
mod source;
mod xml;

use serde::Deserialize;

pub use map::{MapContext, MediaSet, SetKind, map_collection, map_container, map_metadata};
pub use model::{
    Directory, Guid, Image, Media, MediaContainer, Metadata, Part, Player, Session, SessionUser,
    Stream, Tag,
};
pub use sessions::{map_session, map_sessions};
pub use source::{PAGE_SIZE, PlexSource};

/// Error reading a Plex response body as a `MediaContainer`.
///
/// None of these is ever turned into an empty container: a body Onesheet cannot read must fail
/// the request, so that a misconfigured server does not look like an empty library.
#[derive(Debug, thiserror::Error)]
pub enum PlexParseError {
    #[error("the Plex response body is empty")]
    Empty,
    /// The body came from a proxy, a login portal or another web server instead of Plex.
    #[error(
        "received an HTML page ({content_type}) instead of a Plex MediaContainer; check that the \
         server address points at Plex Media Server and not at a proxy or login page"
    )]
    Html { content_type: String },
    #[error(
        "the Plex response is neither JSON nor XML (content type {content_type}); expected a \
         MediaContainer"
    )]
    Unrecognised { content_type: String },
    #[error("the Plex response is not valid UTF-8")]
    NotUtf8,
    #[error("invalid Plex JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("invalid Plex XML: {0}")]
    Xml(String),
    /// Well-formed JSON without the envelope, such as Plex's `{"errors": […]}` replies.
    #[error("the Plex response has no MediaContainer")]
    MissingContainer,
}

/// The JSON envelope around every container.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "MediaContainer")]
    media_container: Option<MediaContainer>,
}

/// Parses a Plex response body in either of its forms.
///
/// The body decides the form, because servers and proxies do not always label it: a body
/// starting with `{` is JSON, one starting with `<` is XML (for example `<?xml …>` or
/// `<MediaContainer …>`). `content_type` is the response's `Content-Type` header, if any; it
/// is used to recognise HTML and to name the body in errors.
pub fn parse_container(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<MediaContainer, PlexParseError> {
    let essence = content_type.map(media_type).unwrap_or_default();
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = text.trim_ascii_start();

    if text.is_empty() {
        return Err(PlexParseError::Empty);
    }
    if essence == "text/html" || essence == "application/xhtml+xml" || starts_like_html(text) {
        return Err(PlexParseError::Html {
            content_type: content_type.map_or_else(|| "text/html".to_owned(), shorten),
        });
    }

    match text[0] {
        b'{' => parse_json(text),
        b'<' => parse_xml(text),
        _ => Err(PlexParseError::Unrecognised {
            content_type: content_type.map_or_else(|| "not given".to_owned(), shorten),
        }),
    }
}

fn parse_json(text: &[u8]) -> Result<MediaContainer, PlexParseError> {
    let envelope: Envelope = serde_json::from_slice(text).map_err(PlexParseError::Json)?;
    envelope
        .media_container
        .ok_or(PlexParseError::MissingContainer)
}

fn parse_xml(text: &[u8]) -> Result<MediaContainer, PlexParseError> {
    let text = std::str::from_utf8(text).map_err(|_| PlexParseError::NotUtf8)?;
    let fields = xml::container_to_json(text)?;
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|error| PlexParseError::Xml(error.to_string()))
}

/// Extracts the lower-cased `type/subtype` of a `Content-Type` value, without parameters.
fn media_type(content_type: &str) -> String {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence.trim().to_ascii_lowercase()
}

/// Returns true for a body that opens with an HTML doctype or `<html`, whatever the
/// `Content-Type` header states.
fn starts_like_html(text: &[u8]) -> bool {
    let head = &text[..text.len().min(64)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Cuts a header value from the response to a length fit for an error message.
fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    match value.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests;
