//! Conversion of a JSON document to XML the way Plex maps its two forms: scalar fields become
//! attributes, nested objects and arrays of objects become child elements.

use std::fmt::Write as _;

use quick_xml::escape::escape;
use serde_json::Value;

/// Chooses the element name for an entry of the array stored under `key`.
pub(crate) type ElementName = fn(key: &str, entry: &Value) -> String;

/// Renders `value` as an XML document. A top-level object with one key becomes that element
/// (Plex's `{"MediaContainer": {...}}`); anything else is wrapped in `<root_name>`.
pub(crate) fn to_xml(value: &Value, root_name: &str, element_name: ElementName) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match value {
        Value::Object(map) if map.len() == 1 => {
            if let Some((key, inner)) = map.iter().next() {
                write_element(&mut out, key, inner, element_name);
            }
        }
        Value::Array(entries) => {
            out.push('<');
            out.push_str(root_name);
            out.push('>');
            for entry in entries {
                write_element(&mut out, &element_name("", entry), entry, element_name);
            }
            let _ = write!(out, "</{root_name}>");
        }
        other => write_element(&mut out, root_name, other, element_name),
    }
    out.push('\n');
    out
}

fn write_element(out: &mut String, name: &str, value: &Value, element_name: ElementName) {
    let Value::Object(map) = value else {
        // A scalar where an element is expected: the text becomes the element's content.
        let _ = write!(out, "<{name}>{}</{name}>", escape(scalar_text(value)));
        return;
    };

    out.push('<');
    out.push_str(name);
    for (key, field) in map {
        if matches!(field, Value::Object(_) | Value::Array(_) | Value::Null) {
            continue;
        }
        let _ = write!(out, " {key}=\"{}\"", escape(scalar_text(field)));
    }

    let has_children = map
        .values()
        .any(|field| matches!(field, Value::Object(_) | Value::Array(_)));
    if !has_children {
        out.push_str(" />");
        return;
    }
    out.push('>');
    for (key, field) in map {
        match field {
            Value::Object(_) => write_element(out, key, field, element_name),
            Value::Array(entries) => {
                for entry in entries {
                    write_element(out, &element_name(key, entry), entry, element_name);
                }
            }
            _ => {}
        }
    }
    let _ = write!(out, "</{name}>");
}

/// Text of a scalar as Plex writes it: booleans as `1` and `0`.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Bool(true) => "1".to_owned(),
        Value::Bool(false) => "0".to_owned(),
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// Element names for documents with no naming rules of their own: the array's key, or `Item`
/// for entries of a top-level array.
pub(crate) fn generic_element_name(key: &str, _entry: &Value) -> String {
    if key.is_empty() {
        "Item".to_owned()
    } else {
        key.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scalars_become_attributes_and_arrays_children() {
        let document = json!({
            "MediaContainer": {
                "size": 1,
                "allowSync": true,
                "title1": "Films & \"Séries\"",
                "Metadata": [{"title": "Amélie", "Genre": [{"tag": "Comedy"}]}],
                "missing": null
            }
        });
        let xml = to_xml(&document, "Response", generic_element_name);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MediaContainer"));
        assert!(xml.contains(" size=\"1\""));
        assert!(xml.contains(" allowSync=\"1\""));
        assert!(xml.contains(" title1=\"Films &amp; &quot;Séries&quot;\""));
        assert!(xml.contains("<Metadata title=\"Amélie\"><Genre tag=\"Comedy\" /></Metadata>"));
        assert!(!xml.contains("missing"));
        assert!(xml.trim_end().ends_with("</MediaContainer>"));
    }

    #[test]
    fn top_level_array_is_wrapped() {
        let xml = to_xml(
            &json!([{"Id": "1"}, {"Id": "2"}]),
            "Response",
            generic_element_name,
        );
        assert!(xml.contains("<Response><Item Id=\"1\" /><Item Id=\"2\" /></Response>"));
    }
}
