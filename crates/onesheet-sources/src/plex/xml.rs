//! Plex's XML response form, converted to the shape of its JSON form.
//!
//! Plex responds with XML unless the request's `Accept` header is exactly `application/json`,
//! and some proxies and older servers respond with XML regardless. The XML carries the same data: each
//! value is an attribute of an element, and each child list is a run of elements. This module
//! turns the document into the JSON value that Plex would have sent, so one set of serde
//! types reads both forms:
//!
//! - attributes become string fields (the model's lenient readers parse numbers and flags);
//! - child elements become arrays named after the element (`<Genre>` into `Genre`), except
//!   `User`, `Player`, `Session` and `TranscodeSession`, which occur once and become objects;
//! - directly under `<MediaContainer>`, the item elements `<Video>`, `<Track>`, `<Photo>`,
//!   `<Playlist>` and `<Metadata>` go into `Metadata`, and so does a `<Directory>` that has a
//!   `ratingKey` (a show, season, artist, album or collection). A `<Directory>` without one is
//!   a library section and goes into `Directory`.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use super::PlexParseError;

/// Maximum element nesting. Plex nests five levels at most (`MediaContainer`, `Video`,
/// `Media`, `Part`, `Stream`). The limit stops a hostile document from making the stack of
/// open elements grow without bound.
const MAX_DEPTH: usize = 16;

/// Elements that occur once inside their parent and are objects in the JSON form.
const SINGLE_CHILDREN: [&str; 4] = ["User", "Player", "Session", "TranscodeSession"];

/// An element whose end tag has not been read yet.
struct OpenElement {
    name: String,
    fields: Map<String, Value>,
}

/// Converts a Plex XML document to the JSON object its `MediaContainer` would be.
pub(super) fn container_to_json(text: &str) -> Result<Map<String, Value>, PlexParseError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<OpenElement> = Vec::new();

    loop {
        let event = reader.read_event().map_err(|error| malformed(&error))?;
        match event {
            Event::Start(start) => {
                let element = open(&start)?;
                if stack.is_empty() {
                    check_root(&element.name)?;
                }
                if stack.len() == MAX_DEPTH {
                    return Err(PlexParseError::Xml(format!(
                        "elements are nested more than {MAX_DEPTH} levels deep"
                    )));
                }
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = open(&start)?;
                match stack.last_mut() {
                    Some(parent) => attach(parent, element),
                    None => {
                        check_root(&element.name)?;
                        return Ok(element.fields);
                    }
                }
            }
            Event::End(_) => {
                // The reader checks that end tags match, so the stack cannot be empty here.
                let Some(element) = stack.pop() else {
                    return Err(PlexParseError::Xml("unexpected end tag".to_owned()));
                };
                match stack.last_mut() {
                    Some(parent) => attach(parent, element),
                    None => return Ok(element.fields),
                }
            }
            Event::Eof => {
                return Err(match stack.first() {
                    Some(_) => PlexParseError::Xml(
                        "the document ends before <MediaContainer> is closed".to_owned(),
                    ),
                    None => PlexParseError::Xml("the document has no root element".to_owned()),
                });
            }
            // Plex puts everything in attributes, so text, comments, the declaration and
            // processing instructions carry nothing Onesheet reads.
            _ => {}
        }
    }
}

fn check_root(name: &str) -> Result<(), PlexParseError> {
    match name {
        "MediaContainer" => Ok(()),
        _ if name.eq_ignore_ascii_case("html") => Err(PlexParseError::Html {
            content_type: "text/html".to_owned(),
        }),
        _ => Err(PlexParseError::Xml(format!(
            "the root element is <{}>, expected <MediaContainer>",
            shorten(name)
        ))),
    }
}

/// Reads an element's name and attributes.
fn open(start: &BytesStart<'_>) -> Result<OpenElement, PlexParseError> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut fields = Map::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| malformed(&error))?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|error| malformed(&error))?;
        fields.insert(key, Value::String(value.into_owned()));
    }
    Ok(OpenElement { name, fields })
}

/// Adds a closed child element to its parent under its JSON name.
fn attach(parent: &mut OpenElement, child: OpenElement) {
    let key = json_key(&parent.name, &child);
    let object = Value::Object(child.fields);

    if SINGLE_CHILDREN.contains(&key.as_str()) {
        parent.fields.entry(key).or_insert(object);
        return;
    }
    match parent.fields.get_mut(&key) {
        Some(Value::Array(list)) => list.push(object),
        // Nothing yet, or an attribute of the same name: the child list wins.
        _ => {
            parent.fields.insert(key, Value::Array(vec![object]));
        }
    }
}

/// Returns the JSON name under which a child element is stored in its parent.
fn json_key(parent: &str, child: &OpenElement) -> String {
    if parent != "MediaContainer" {
        return child.name.clone();
    }
    match child.name.as_str() {
        "Video" | "Track" | "Photo" | "Playlist" | "Metadata" => "Metadata".to_owned(),
        "Directory" if child.fields.contains_key("ratingKey") => "Metadata".to_owned(),
        other => other.to_owned(),
    }
}

fn malformed(error: &dyn std::fmt::Display) -> PlexParseError {
    PlexParseError::Xml(error.to_string())
}

/// Cuts an element name from the response to a length fit for an error message.
fn shorten(name: &str) -> String {
    const MAX_CHARS: usize = 40;
    match name.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_owned(),
    }
}
