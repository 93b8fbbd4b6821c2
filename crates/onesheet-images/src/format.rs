//! Image formats a screen can display, recognised by their magic bytes.
//!
//! The extension of a file is never trusted: an HTML error page saved as `poster.jpg` is common
//! when a download fails, and it must not reach a screen.

use std::fmt;

/// A raster format that browsers display natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Avif,
    Bmp,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 6] = [
        Self::Jpeg,
        Self::Png,
        Self::Webp,
        Self::Gif,
        Self::Avif,
        Self::Bmp,
    ];

    /// Returns the media type for the `Content-Type` header.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Avif => "image/avif",
            Self::Bmp => "image/bmp",
        }
    }

    /// Returns the format's usual name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
            Self::Avif => "AVIF",
            Self::Bmp => "BMP",
        }
    }

    /// Returns false for a format that is recognised but has no decoder in this build: AVIF,
    /// because no pure-Rust AVIF decoder is built in. Files in it are rejected by the probe.
    pub fn is_decodable(self) -> bool {
        self != Self::Avif
    }

    /// Maps a file extension (without the dot, any case) to the format it usually holds.
    ///
    /// Scanners use this only to pick which files to probe; the probe itself sniffs the bytes.
    pub fn from_extension(extension: &str) -> Option<Self> {
        let lower = extension.to_ascii_lowercase();
        match lower.as_str() {
            "jpg" | "jpeg" | "jpe" | "jfif" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "gif" => Some(Self::Gif),
            "avif" => Some(Self::Avif),
            "bmp" => Some(Self::Bmp),
            _ => None,
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Sizes of the BMP info headers in use (core, V1 to V5 and the OS/2 and Adobe variants), so
/// that text which merely starts with "BM" is not taken for a bitmap.
const BMP_INFO_HEADER_SIZES: [u32; 7] = [12, 40, 52, 56, 64, 108, 124];

/// Detects the format from the first bytes of a file. 32 bytes are enough for every format;
/// a shorter slice may return `None` for a real image.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageFormat::Jpeg);
    }

    if bytes.starts_with(PNG_SIGNATURE) {
        return Some(ImageFormat::Png);
    }

    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(ImageFormat::Gif);
    }

    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some(ImageFormat::Webp);
    }

    if is_avif(bytes) {
        return Some(ImageFormat::Avif);
    }

    if is_bmp(bytes) {
        return Some(ImageFormat::Bmp);
    }

    None
}

/// Checks for an ISO-BMFF `ftyp` box whose major or compatible brands include `avif` (still
/// image) or `avis` (image sequence). HEIC files use the same container with other brands, so
/// they are not matched.
fn is_avif(bytes: &[u8]) -> bool {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return false;
    }

    let box_size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let brands_end = box_size.min(bytes.len());
    let is_avif_brand = |brand: &[u8]| brand == b"avif" || brand == b"avis";

    if is_avif_brand(&bytes[8..12]) {
        return true;
    }

    // Compatible brands follow the major brand and the 4-byte minor version.
    bytes
        .get(16..brands_end)
        .is_some_and(|brands| brands.chunks_exact(4).any(is_avif_brand))
}

fn is_bmp(bytes: &[u8]) -> bool {
    if bytes.len() < 18 || !bytes.starts_with(b"BM") {
        return false;
    }
    let info_header_size = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
    BMP_INFO_HEADER_SIZES.contains(&info_header_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_recognises_magic_bytes() {
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());

        let cases: [(&[u8], ImageFormat); 7] = [
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], ImageFormat::Jpeg),
            (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", ImageFormat::Png),
            (b"GIF89a\x01\0\x01\0", ImageFormat::Gif),
            (b"GIF87a\x01\0\x01\0", ImageFormat::Gif),
            (b"RIFF\x24\0\0\0WEBPVP8 ", ImageFormat::Webp),
            (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", ImageFormat::Avif),
            (&bmp, ImageFormat::Bmp),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff(bytes), Some(expected), "{expected}");
        }
    }

    #[test]
    fn sniff_finds_avif_in_compatible_brands() {
        let bytes = b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf";
        assert_eq!(sniff(bytes), Some(ImageFormat::Avif));
    }

    #[test]
    fn sniff_rejects_heic_and_text() {
        let cases: [&[u8]; 8] = [
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            b"<!DOCTYPE html><html><head><title>404 Not Found</title>",
            b"<html><body>Access denied</body></html>",
            b"BMW 3 series brochure, page one of twelve",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"",
            &[0xFF, 0xD8],
            b"\x89PNG",
        ];
        for bytes in cases {
            assert_eq!(sniff(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn mime_and_extension_agree() {
        for format in ImageFormat::ALL {
            assert!(format.mime().starts_with("image/"));
        }
        assert_eq!(ImageFormat::from_extension("JPG"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_extension("webp"), Some(ImageFormat::Webp));
        assert_eq!(ImageFormat::from_extension("nfo"), None);
    }
}
