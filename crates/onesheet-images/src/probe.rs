//! A cheap validity probe: format, dimensions and an end-of-file check, without decoding pixels.
//!
//! A media scan probes every image file it finds, so the probe reads the first few KiB and the
//! last KiB of the file and seeks past anything else. It catches the failures that show up in real
//! libraries (empty files, HTML saved under an image name, interrupted copies) but not damage
//! in the middle of the compressed data, which only a full decode can find. A file in a format
//! that cannot be decoded here (AVIF) fails the probe too, and the message names the fix:
//! converting the file.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use crate::format::{ImageFormat, sniff};
use crate::{avif, jpeg};

/// Bytes read from the start of every file. They cover the PNG, GIF, WebP and BMP headers and
/// the JPEG and AVIF headers of most files. Larger headers are read with extra seeks.
const HEAD_BYTES: usize = 4096;

/// Bytes read from the end of every file for the end-marker checks.
const TAIL_BYTES: usize = 1024;

/// Format, displayed size and file size of an image that passed the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeInfo {
    pub format: ImageFormat,
    /// Width in pixels as displayed, so a JPEG with EXIF orientation 5 to 8 has its stored width
    /// and height swapped.
    pub width: u32,
    pub height: u32,
    /// File size in bytes.
    pub bytes: u64,
}

/// Reason a file was rejected. The message leaves out the path, so the caller can name the
/// file in its own terms (a key below a media root rather than an absolute path, say).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("failed to read the file: {0}")]
    Io(#[from] io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("the file is empty")]
    Empty,
    #[error("not an image: the first bytes match none of JPEG, PNG, WebP, GIF, AVIF or BMP")]
    NotAnImage,
    #[error("truncated {format} file: {detail}")]
    Truncated { format: ImageFormat, detail: String },
    #[error("unreadable {format} header: {detail}")]
    InvalidHeader { format: ImageFormat, detail: String },
    #[error("{format} header gives zero dimensions ({width}x{height})")]
    ZeroDimensions {
        format: ImageFormat,
        width: u32,
        height: u32,
    },
    /// The header declares more pixels than the file has bytes to code them.
    #[error(
        "the {format} file is {bytes} bytes, too small for the {width}×{height} pixels its header declares (at least {min_bytes} bytes)"
    )]
    TooSmallForSize {
        format: ImageFormat,
        bytes: u64,
        width: u32,
        height: u32,
        min_bytes: u64,
    },
    /// A format that is recognised but that this build cannot decode.
    #[error(
        "{format} images cannot be decoded by this version of Onesheet; convert the file to JPEG or WebP"
    )]
    Unsupported { format: ImageFormat },
}

impl ProbeError {
    pub(crate) fn truncated(format: ImageFormat, detail: impl Into<String>) -> Self {
        Self::Truncated {
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(format: ImageFormat, detail: impl Into<String>) -> Self {
        Self::InvalidHeader {
            format,
            detail: detail.into(),
        }
    }
}

/// Probes an image file on disk. Reads about 5 KiB for most files, plus one seek per JPEG
/// segment or AVIF box that lies beyond the first 4 KiB.
pub fn probe_file(path: &Path) -> Result<ProbeInfo, ProbeError> {
    // Checking the type before opening keeps a FIFO from blocking the open.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(ProbeError::NotAFile);
    }

    let file = File::open(path)?;
    let len = file.metadata()?.len();
    probe_reader(file, len)
}

/// Probes an image held in memory, with the same checks as [`probe_file`].
pub fn probe_bytes(bytes: &[u8]) -> Result<ProbeInfo, ProbeError> {
    probe_reader(Cursor::new(bytes), bytes.len() as u64)
}

pub(crate) fn probe_reader<R: Read + Seek>(reader: R, len: u64) -> Result<ProbeInfo, ProbeError> {
    if len == 0 {
        return Err(ProbeError::Empty);
    }

    let mut window = FileWindow::open(reader, len)?;
    let format = sniff(window.head()).ok_or(ProbeError::NotAnImage)?;

    let (width, height) = match format {
        ImageFormat::Jpeg => jpeg::probe(&mut window)?,
        ImageFormat::Png => probe_png(&window)?,
        ImageFormat::Webp => probe_webp(&window)?,
        ImageFormat::Gif => probe_gif(&window)?,
        ImageFormat::Avif => avif::probe(&mut window)?,
        ImageFormat::Bmp => probe_bmp(&window)?,
    };

    if width == 0 || height == 0 {
        return Err(ProbeError::ZeroDimensions {
            format,
            width,
            height,
        });
    }

    // The header walk still runs first, so a truncated file is reported as truncated.
    if !format.is_decodable() {
        return Err(ProbeError::Unsupported { format });
    }

    Ok(ProbeInfo {
        format,
        width,
        height,
        bytes: len,
    })
}

/// The start and the end of a file held in memory, with seeks for anything in between.
pub(crate) struct FileWindow<R> {
    reader: R,
    len: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl<R: Read + Seek> FileWindow<R> {
    fn open(mut reader: R, len: u64) -> io::Result<Self> {
        let head_len = usize::try_from(len).map_or(HEAD_BYTES, |len| len.min(HEAD_BYTES));
        let mut head = vec![0; head_len];
        reader.seek(SeekFrom::Start(0))?;
        reader.read_exact(&mut head)?;

        let tail_len = usize::try_from(len).map_or(TAIL_BYTES, |len| len.min(TAIL_BYTES));
        let mut tail = vec![0; tail_len];
        reader.seek(SeekFrom::Start(len - tail_len as u64))?;
        reader.read_exact(&mut tail)?;

        Ok(Self {
            reader,
            len,
            head,
            tail,
        })
    }

    /// Fills `buf` from `offset`. Returns `Ok(false)` when the range runs past the end of the
    /// file, which the format probes report as truncation.
    pub(crate) fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<bool> {
        let Some(end) = offset.checked_add(buf.len() as u64) else {
            return Ok(false);
        };
        if end > self.len {
            return Ok(false);
        }

        if end <= self.head.len() as u64 {
            buf.copy_from_slice(&self.head[offset as usize..end as usize]);
            return Ok(true);
        }

        self.reader.seek(SeekFrom::Start(offset))?;
        self.reader.read_exact(buf)?;
        Ok(true)
    }
}

impl<R> FileWindow<R> {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    /// Returns the last bytes of the file without trailing zero bytes, because some writers
    /// pad files to a block size.
    pub(crate) fn tail_without_padding(&self) -> &[u8] {
        let end = self
            .tail
            .iter()
            .rposition(|&byte| byte != 0)
            .map_or(0, |last| last + 1);
        &self.tail[..end]
    }
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u24_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

/// The IEND chunk as it always appears: zero length, type, and its fixed CRC.
const PNG_IEND: &[u8] = b"\0\0\0\0IEND\xAE\x42\x60\x82";

fn probe_png<R>(window: &FileWindow<R>) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Png;
    let head = window.head();

    // The signature is followed by the IHDR chunk: length 13, type, width, height.
    let (Some(width), Some(height)) = (u32_be(head, 16), u32_be(head, 20)) else {
        return Err(ProbeError::truncated(
            format,
            "the file ends inside the IHDR chunk",
        ));
    };
    if u32_be(head, 8) != Some(13) || head.get(12..16) != Some(b"IHDR") {
        return Err(ProbeError::invalid(format, "the first chunk is not IHDR"));
    }

    if !window.tail_without_padding().ends_with(PNG_IEND) {
        return Err(ProbeError::truncated(
            format,
            "no IEND chunk at the end of the file",
        ));
    }

    Ok((width, height))
}

fn probe_gif<R>(window: &FileWindow<R>) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Gif;
    let head = window.head();

    let (Some(width), Some(height)) = (u16_le(head, 6), u16_le(head, 8)) else {
        return Err(ProbeError::truncated(
            format,
            "the file ends inside the screen descriptor",
        ));
    };

    if window.tail_without_padding().last() != Some(&0x3B) {
        return Err(ProbeError::truncated(
            format,
            "no trailer byte (0x3B) at the end of the file",
        ));
    }

    Ok((u32::from(width), u32::from(height)))
}

fn probe_webp<R>(window: &FileWindow<R>) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Webp;
    let head = window.head();

    // The RIFF size counts everything after the 8-byte RIFF header, so a complete file is
    // exactly that much longer.
    let riff_size = u32_le(head, 4).unwrap_or(0);
    let expected_len = u64::from(riff_size) + 8;
    if window.len() < expected_len {
        return Err(ProbeError::truncated(
            format,
            format!(
                "the RIFF header announces {expected_len} bytes but the file has {}",
                window.len()
            ),
        ));
    }
    if window.len() > expected_len {
        return Err(ProbeError::invalid(
            format,
            format!(
                "the RIFF header announces {expected_len} bytes but the file has {}",
                window.len()
            ),
        ));
    }

    let too_short = || ProbeError::truncated(format, "the file ends inside the first chunk");
    match head.get(12..16) {
        // Lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
        Some(b"VP8 ") => {
            if head.get(23..26).ok_or_else(too_short)? != [0x9D, 0x01, 0x2A] {
                return Err(ProbeError::invalid(format, "missing VP8 start code"));
            }
            let width = u16_le(head, 26).ok_or_else(too_short)? & 0x3FFF;
            let height = u16_le(head, 28).ok_or_else(too_short)? & 0x3FFF;
            Ok((u32::from(width), u32::from(height)))
        }

        // Lossless: signature byte 0x2F, then width - 1 and height - 1 in 14 bits each.
        Some(b"VP8L") => {
            if head.get(20) != Some(&0x2F) {
                return Err(ProbeError::invalid(format, "missing VP8L signature"));
            }
            let bits = u32_le(head, 21).ok_or_else(too_short)?;
            Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }

        // Extended: flags, then canvas width - 1 and height - 1 in 24 bits each.
        Some(b"VP8X") => {
            let width = u24_le(head, 24).ok_or_else(too_short)? + 1;
            let height = u24_le(head, 27).ok_or_else(too_short)? + 1;
            Ok((width, height))
        }

        Some(other) => Err(ProbeError::invalid(
            format,
            format!(
                "unknown first chunk {:?}",
                String::from_utf8_lossy(other).trim_end()
            ),
        )),
        None => Err(too_short()),
    }
}

fn probe_bmp<R>(window: &FileWindow<R>) -> Result<(u32, u32), ProbeError> {
    let format = ImageFormat::Bmp;
    let head = window.head();

    let declared_len = u32_le(head, 2).unwrap_or(0);
    let pixel_offset = u32_le(head, 10).unwrap_or(0);
    let info_header_size = u32_le(head, 14).unwrap_or(0);
    let too_short = || ProbeError::truncated(format, "the file ends inside the info header");

    let (width, height) = if info_header_size == 12 {
        let width = u16_le(head, 18).ok_or_else(too_short)?;
        let height = u16_le(head, 20).ok_or_else(too_short)?;
        (u32::from(width), u32::from(height))
    } else {
        // A negative height marks a top-down bitmap; the magnitude is the height.
        let width = u32_le(head, 18).ok_or_else(too_short)? as i32;
        let height = u32_le(head, 22).ok_or_else(too_short)? as i32;
        if width < 0 {
            return Err(ProbeError::invalid(format, "negative width"));
        }
        (width.unsigned_abs(), height.unsigned_abs())
    };

    // Some writers leave the declared file size at zero, so only a non-zero one is checked.
    if declared_len != 0 && window.len() < u64::from(declared_len) {
        return Err(ProbeError::truncated(
            format,
            format!(
                "the header announces {declared_len} bytes but the file has {}",
                window.len()
            ),
        ));
    }
    if window.len() <= u64::from(pixel_offset) {
        return Err(ProbeError::truncated(
            format,
            "the file ends before the pixel data",
        ));
    }

    Ok((width, height))
}
