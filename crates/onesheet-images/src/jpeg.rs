//! JPEG header walk: frame size, EXIF orientation and the end-of-image marker.
//!
//! The walk follows the segment lengths from the start-of-image marker to the first frame
//! header (SOFn) and seeks over everything else, so a 500 KiB ICC profile costs one seek and
//! not a read. Baseline, progressive, lossless and arithmetic-coded frames are all accepted,
//! whatever the number of components (grey, YCbCr, CMYK).
//!
//! A Huffman-coded file must also be long enough for the size its frame header declares (see
//! [`min_data_bytes`]). A few hundred bytes that claim 10000×10000 pixels are rejected here,
//! where decoding them would cost seconds and produce only a flat picture.

use std::io::{Read, Seek};

use crate::format::ImageFormat;
use crate::probe::{FileWindow, ProbeError};

const FORMAT: ImageFormat = ImageFormat::Jpeg;

/// Segments walked before giving up. Real files have fewer than 30 before the frame header.
const MAX_SEGMENTS: usize = 1024;

/// Standard EXIF tag number of the orientation field.
const EXIF_ORIENTATION_TAG: u16 = 0x0112;

/// Returns the displayed width and height, after checking for the end-of-image marker.
pub(crate) fn probe<R: Read + Seek>(window: &mut FileWindow<R>) -> Result<(u32, u32), ProbeError> {
    // The end check comes first: a truncated file usually still has a complete header.
    // NOTE: files with data appended after the end marker (motion photos with an embedded
    // video, some camera trailers) are rejected here too, although browsers show them.
    if !window.tail_without_padding().ends_with(&[0xFF, 0xD9]) {
        return Err(ProbeError::truncated(
            FORMAT,
            "no end-of-image marker (FFD9) at the end of the file",
        ));
    }

    let (frame, orientation) = read_frame_header(window)?;
    let (width, height) = (frame.width, frame.height);

    if let Some(min_bytes) = min_data_bytes(&frame)
        && window.len() < min_bytes
    {
        return Err(ProbeError::TooSmallForSize {
            format: FORMAT,
            bytes: window.len(),
            width,
            height,
            min_bytes,
        });
    }

    // Orientations 5 to 8 rotate the picture by 90 or 270 degrees (with or without a mirror),
    // and browsers apply them, so the displayed width is the stored height.
    if matches!(orientation, Some(5..=8)) {
        Ok((height, width))
    } else {
        Ok((width, height))
    }
}

/// The parts of a frame header (SOFn) the probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    marker: u8,
    width: u32,
    height: u32,
    /// Horizontal and vertical sampling factors of each component, 1 to 4 each.
    sampling: Vec<(u8, u8)>,
}

fn read_frame_header<R: Read + Seek>(
    window: &mut FileWindow<R>,
) -> Result<(Frame, Option<u16>), ProbeError> {
    let too_short = || ProbeError::truncated(FORMAT, "the file ends inside the header");
    let mut orientation = None;
    let mut offset: u64 = 2;

    for _ in 0..MAX_SEGMENTS {
        let mut marker = [0u8; 2];
        if !window.read_at(offset, &mut marker)? {
            return Err(too_short());
        }
        if marker[0] != 0xFF {
            return Err(ProbeError::invalid(
                FORMAT,
                format!("expected a marker at byte {offset}"),
            ));
        }

        match marker[1] {
            // Fill byte before a marker: step over it.
            0xFF => {
                offset += 1;
                continue;
            }
            // Markers that stand alone, without a length.
            0x01 | 0xD0..=0xD7 => {
                offset += 2;
                continue;
            }
            0xD9 => {
                return Err(ProbeError::invalid(
                    FORMAT,
                    "end of image before any frame header",
                ));
            }
            0xDA => {
                return Err(ProbeError::invalid(
                    FORMAT,
                    "scan data before any frame header",
                ));
            }
            _ => {}
        }

        let mut length_bytes = [0u8; 2];
        if !window.read_at(offset + 2, &mut length_bytes)? {
            return Err(too_short());
        }
        let length = u16::from_be_bytes(length_bytes);
        if length < 2 {
            return Err(ProbeError::invalid(
                FORMAT,
                format!("segment length {length} at byte {offset}"),
            ));
        }
        let payload_offset = offset + 4;
        let payload_len = usize::from(length - 2);

        if is_frame_header(marker[1]) {
            let mut payload = vec![0u8; payload_len];
            if !window.read_at(payload_offset, &mut payload)? {
                return Err(too_short());
            }
            let frame = parse_frame(marker[1], &payload)?;
            return Ok((frame, orientation));
        }

        if marker[1] == 0xE1 && orientation.is_none() {
            let mut payload = vec![0u8; payload_len];
            if !window.read_at(payload_offset, &mut payload)? {
                return Err(too_short());
            }
            orientation = payload.strip_prefix(b"Exif\0\0").and_then(exif_orientation);
        }

        offset = payload_offset + payload_len as u64;
    }

    Err(ProbeError::invalid(
        FORMAT,
        format!("no frame header in the first {MAX_SEGMENTS} segments"),
    ))
}

/// Parses a frame header payload: precision (1 byte), height (2), width (2), component count
/// (1), then per component its id (1), sampling factors (1, horizontal in the high four bits)
/// and quantisation table (1).
fn parse_frame(marker: u8, payload: &[u8]) -> Result<Frame, ProbeError> {
    let &[_precision, h1, h2, w1, w2, count, ref components @ ..] = payload else {
        return Err(ProbeError::invalid(FORMAT, "frame header too short"));
    };
    if count == 0 {
        return Err(ProbeError::invalid(
            FORMAT,
            "frame header lists no components",
        ));
    }
    let Some(components) = components.get(..usize::from(count) * 3) else {
        return Err(ProbeError::invalid(
            FORMAT,
            format!("frame header too short for its {count} components"),
        ));
    };

    let mut sampling = Vec::with_capacity(usize::from(count));
    for component in components.chunks_exact(3) {
        let (horizontal, vertical) = (component[1] >> 4, component[1] & 0x0F);
        if !(1..=4).contains(&horizontal) || !(1..=4).contains(&vertical) {
            return Err(ProbeError::invalid(
                FORMAT,
                format!(
                    "component {} has sampling factors {horizontal}×{vertical}; each must be 1 to 4",
                    component[0]
                ),
            ));
        }
        sampling.push((horizontal, vertical));
    }

    Ok(Frame {
        marker,
        width: u32::from(u16::from_be_bytes([w1, w2])),
        height: u32::from(u16::from_be_bytes([h1, h2])),
        sampling,
    })
}

/// Returns the fewest bytes a file with this frame can have, or `None` when no useful bound
/// is known.
///
/// In Huffman-coded frames (SOF0 to SOF3) every 8×8 block of every component is coded with at
/// least one bit. A baseline block needs a DC code and an end-of-block code, and a progressive
/// file codes each block's DC coefficient in its first scans. A component's block count
/// follows from the frame size and its sampling factors, so chroma at 4:2:0 counts a quarter
/// of the luma blocks. Arithmetic-coded and hierarchical frames can code a flat picture in far
/// less than a bit per block, so they get no bound.
fn min_data_bytes(frame: &Frame) -> Option<u64> {
    if !matches!(frame.marker, 0xC0..=0xC3) {
        return None;
    }
    let max_horizontal = frame.sampling.iter().map(|&(h, _)| h).max()?;
    let max_vertical = frame.sampling.iter().map(|&(_, v)| v).max()?;

    let blocks: u64 = frame
        .sampling
        .iter()
        .map(|&(horizontal, vertical)| {
            let columns = (u64::from(frame.width) * u64::from(horizontal))
                .div_ceil(u64::from(max_horizontal))
                .div_ceil(8);
            let rows = (u64::from(frame.height) * u64::from(vertical))
                .div_ceil(u64::from(max_vertical))
                .div_ceil(8);
            columns * rows
        })
        .sum();
    Some(blocks.div_ceil(8))
}

/// Returns true for the frame header markers SOF0 to SOF15 (C0 to CF). DHT (C4), JPG (C8) and
/// DAC (CC) lie in the same range but are other segment types.
fn is_frame_header(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Reads the orientation (1 to 8) from the first image directory of an EXIF TIFF structure.
/// Any malformed field returns `None`, because a missing orientation only costs a rotation.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let read_u16 = |at: usize| -> Option<u16> {
        let bytes: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    };
    let read_u32 = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    };

    if read_u16(2)? != 42 {
        return None;
    }
    let directory = usize::try_from(read_u32(4)?).ok()?;
    let entry_count = usize::from(read_u16(directory)?);

    // Each entry: tag (2), type (2), count (4), value or offset (4).
    (0..entry_count)
        .map(|index| directory + 2 + index * 12)
        .find(|&entry| read_u16(entry) == Some(EXIF_ORIENTATION_TAG))
        .and_then(|entry| read_u16(entry + 8))
        .filter(|value| (1..=8).contains(value))
}

/// Builds an EXIF TIFF block whose first directory holds ImageWidth and then Orientation.
#[cfg(test)]
fn tiff_with_orientation(big_endian: bool, orientation: u16) -> Vec<u8> {
    let u16_bytes = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32_bytes = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };

    let mut tiff = if big_endian {
        b"MM".to_vec()
    } else {
        b"II".to_vec()
    };
    tiff.extend_from_slice(&u16_bytes(42));
    tiff.extend_from_slice(&u32_bytes(8));
    tiff.extend_from_slice(&u16_bytes(2));

    // An unrelated entry first (ImageWidth), then the orientation as a SHORT.
    tiff.extend_from_slice(&u16_bytes(0x0100));
    tiff.extend_from_slice(&u16_bytes(3));
    tiff.extend_from_slice(&u32_bytes(1));
    tiff.extend_from_slice(&u16_bytes(640));
    tiff.extend_from_slice(&[0, 0]);

    tiff.extend_from_slice(&u16_bytes(EXIF_ORIENTATION_TAG));
    tiff.extend_from_slice(&u16_bytes(3));
    tiff.extend_from_slice(&u32_bytes(1));
    tiff.extend_from_slice(&u16_bytes(orientation));
    tiff.extend_from_slice(&[0, 0]);

    tiff.extend_from_slice(&u32_bytes(0));
    tiff
}

/// Builds an APP1 segment holding an EXIF block with the given orientation.
#[cfg(test)]
pub(crate) fn orientation_segment(orientation: u16) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff_with_orientation(true, orientation));
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(&payload);
    segment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_orientation_reads_both_byte_orders() {
        assert_eq!(exif_orientation(&tiff_with_orientation(true, 6)), Some(6));
        assert_eq!(exif_orientation(&tiff_with_orientation(false, 8)), Some(8));
    }

    #[test]
    fn exif_orientation_ignores_garbage() {
        assert_eq!(exif_orientation(&tiff_with_orientation(false, 9)), None);
        assert_eq!(exif_orientation(b"II*\0\xff\xff\xff\xff"), None);
        assert_eq!(exif_orientation(b"XX"), None);
        assert_eq!(exif_orientation(&[]), None);
    }

    #[test]
    fn frame_header_markers() {
        for marker in [0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA, 0xCF] {
            assert!(is_frame_header(marker), "{marker:02X}");
        }
        for marker in [0xC4, 0xC8, 0xCC, 0xDB, 0xE0] {
            assert!(!is_frame_header(marker), "{marker:02X}");
        }
    }
}
