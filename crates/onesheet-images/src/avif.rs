//! AVIF header walk over the ISO-BMFF boxes: dimensions from `ispe`, rotation from `irot`, and
//! a completeness check from the box sizes.
//!
//! Top-level boxes are visited by seeking from one size field to the next, so the check that the
//! last box ends exactly at the end of the file costs one small read per box.

use std::io::{Read, Seek};

use crate::format::ImageFormat;
use crate::probe::{FileWindow, ProbeError};

const FORMAT: ImageFormat = ImageFormat::Avif;

/// Top-level boxes visited before giving up. Still images have four or five.
const MAX_TOP_LEVEL_BOXES: usize = 64;

/// Largest `meta` box read into memory. Real ones are under a few KiB because the image data
/// and EXIF blocks live in `mdat`.
const MAX_META_BYTES: u64 = 256 * 1024;

pub(crate) fn probe<R: Read + Seek>(window: &mut FileWindow<R>) -> Result<(u32, u32), ProbeError> {
    let mut offset = 0u64;
    let mut properties = None;
    let mut has_media_data = false;

    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if offset == window.len() {
            break;
        }

        let header = read_box_header(window, offset)?;
        let box_end = match header.size {
            0 => window.len(),
            size => offset.checked_add(size).ok_or_else(|| {
                ProbeError::invalid(FORMAT, format!("box size overflow at byte {offset}"))
            })?,
        };
        if box_end < offset + header.header_len {
            return Err(ProbeError::invalid(
                FORMAT,
                format!("box size smaller than its header at byte {offset}"),
            ));
        }
        if box_end > window.len() {
            return Err(ProbeError::truncated(
                FORMAT,
                format!(
                    "box {:?} at byte {offset} runs past the end of the file",
                    String::from_utf8_lossy(&header.kind)
                ),
            ));
        }

        match &header.kind {
            b"meta" if properties.is_none() => {
                let content_len = box_end - offset - header.header_len;
                if content_len > MAX_META_BYTES {
                    return Err(ProbeError::invalid(
                        FORMAT,
                        format!("meta box of {content_len} bytes is larger than {MAX_META_BYTES}"),
                    ));
                }
                let mut content = vec![0u8; content_len as usize];
                if !window.read_at(offset + header.header_len, &mut content)? {
                    return Err(ProbeError::truncated(
                        FORMAT,
                        "the file ends inside the meta box",
                    ));
                }
                properties = Some(read_meta(&content));
            }
            b"mdat" => has_media_data = true,
            _ => {}
        }

        offset = box_end;
    }

    if offset != window.len() {
        return Err(ProbeError::invalid(
            FORMAT,
            format!("more than {MAX_TOP_LEVEL_BOXES} top-level boxes"),
        ));
    }
    let Some(properties) = properties else {
        return Err(ProbeError::invalid(FORMAT, "no meta box"));
    };
    let Some((width, height)) = properties.size else {
        return Err(ProbeError::invalid(FORMAT, "no image size (ispe) property"));
    };
    if !has_media_data {
        return Err(ProbeError::truncated(FORMAT, "no media data (mdat) box"));
    }

    // Rotations by 90 or 270 degrees swap the displayed width and height.
    if properties.quarter_turns % 2 == 1 {
        Ok((height, width))
    } else {
        Ok((width, height))
    }
}

struct BoxHeader {
    /// Total box size including the header; 0 means "to the end of the file".
    size: u64,
    kind: [u8; 4],
    header_len: u64,
}

fn read_box_header<R: Read + Seek>(
    window: &mut FileWindow<R>,
    offset: u64,
) -> Result<BoxHeader, ProbeError> {
    let too_short = || ProbeError::truncated(FORMAT, "the file ends inside a box header");

    let mut header = [0u8; 8];
    if !window.read_at(offset, &mut header)? {
        return Err(too_short());
    }
    let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let kind = [header[4], header[5], header[6], header[7]];

    if size != 1 {
        return Ok(BoxHeader {
            size: u64::from(size),
            kind,
            header_len: 8,
        });
    }

    // Size 1 means a 64-bit size follows the type.
    let mut large_size = [0u8; 8];
    if !window.read_at(offset + 8, &mut large_size)? {
        return Err(too_short());
    }
    Ok(BoxHeader {
        size: u64::from_be_bytes(large_size),
        kind,
        header_len: 16,
    })
}

#[derive(Debug, Default, PartialEq, Eq)]
struct ItemProperties {
    size: Option<(u32, u32)>,
    quarter_turns: u8,
}

/// Collects the image size and rotation from `meta/iprp/ipco`.
///
/// NOTE: this takes the largest `ispe` and the first `irot` in the property container instead
/// of following `pitm` and `ipma` to the primary item. In files from common encoders the
/// primary item (or grid) is the largest, while thumbnails are smaller, so the result agrees.
fn read_meta(content: &[u8]) -> ItemProperties {
    let mut properties = ItemProperties::default();

    // `meta` is a full box: 4 bytes of version and flags before its children.
    let Some(children) = content.get(4..) else {
        return properties;
    };
    let Some(iprp) = find_child(children, b"iprp") else {
        return properties;
    };
    let Some(ipco) = find_child(iprp, b"ipco") else {
        return properties;
    };

    let mut rotation_seen = false;
    for (kind, body) in child_boxes(ipco) {
        match &kind {
            // Full box: version and flags, then width and height as 32-bit integers.
            b"ispe" if body.len() >= 12 => {
                let width = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                let height = u32::from_be_bytes([body[8], body[9], body[10], body[11]]);
                let area = u64::from(width) * u64::from(height);
                let larger = properties
                    .size
                    .is_none_or(|(w, h)| area > u64::from(w) * u64::from(h));
                if larger {
                    properties.size = Some((width, height));
                }
            }
            // Anticlockwise rotation in quarter turns, in the low two bits.
            b"irot" if !rotation_seen && !body.is_empty() => {
                properties.quarter_turns = body[0] & 0b11;
                rotation_seen = true;
            }
            _ => {}
        }
    }

    properties
}

fn find_child<'a>(content: &'a [u8], wanted: &[u8; 4]) -> Option<&'a [u8]> {
    child_boxes(content)
        .find(|(kind, _)| kind == wanted)
        .map(|(_, body)| body)
}

/// Iterates over the boxes packed in `content`, stopping at the first malformed size.
fn child_boxes(content: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = content;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(rest.get(0..4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = rest.get(4..8)?.try_into().ok()?;
        if size < 8 || size > rest.len() {
            return None;
        }
        let body = &rest[8..size];
        rest = &rest[size..];
        Some((kind, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn ispe(width: u32, height: u32) -> Vec<u8> {
        let mut body = vec![0; 4];
        body.extend_from_slice(&width.to_be_bytes());
        body.extend_from_slice(&height.to_be_bytes());
        boxed(b"ispe", &body)
    }

    #[test]
    fn meta_takes_largest_size_and_rotation() {
        let mut ipco_body = ispe(160, 90);
        ipco_body.extend(ispe(1920, 1080));
        ipco_body.extend(boxed(b"irot", &[3]));
        let iprp = boxed(b"iprp", &boxed(b"ipco", &ipco_body));
        let mut meta = vec![0; 4];
        meta.extend(boxed(b"hdlr", &[0; 20]));
        meta.extend(iprp);

        let properties = read_meta(&meta);

        assert_eq!(properties.size, Some((1920, 1080)));
        assert_eq!(properties.quarter_turns, 3);
    }

    #[test]
    fn meta_without_properties_is_empty() {
        assert_eq!(read_meta(&[0, 0, 0, 0]), ItemProperties::default());
        assert_eq!(read_meta(&[]), ItemProperties::default());
        assert_eq!(
            read_meta(&[0, 0, 0, 0, 0xFF, 0xFF]),
            ItemProperties::default()
        );
    }
}
