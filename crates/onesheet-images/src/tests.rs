//! Probe tests on images encoded in code, plus three small files from the reference encoders.
//!
//! The files in `testdata/` were made from generated gradients: the WebP ones with cwebp 1.2.4
//! (`-q 50` and `-q 40` with an alpha channel), the AVIF one with avifenc 0.11.1 (`-s 10`).

use std::io::{Cursor, Read, Seek, SeekFrom};

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder};

use crate::jpeg::orientation_segment;
use crate::probe::probe_reader;
use crate::{ImageFormat, ProbeError, ProbeInfo, probe_bytes, probe_file};

const LOSSY_WEBP: &[u8] = include_bytes!("testdata/gradient-12x8-lossy.webp");
const ALPHA_WEBP: &[u8] = include_bytes!("testdata/alpha-10x6-lossy.webp");
const AVIF: &[u8] = include_bytes!("testdata/gradient-12x8.avif");

fn pixels(width: u32, height: u32, channels: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(width as usize * height as usize * channels);
    for y in 0..height {
        for x in 0..width {
            for c in 0..channels {
                data.push(((x * 7 + y * 13 + c as u32 * 50) % 256) as u8);
            }
        }
    }
    data
}

fn jpeg_rgb(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80)
        .write_image(
            &pixels(width, height, 3),
            width,
            height,
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn jpeg_with(
    width: u16,
    height: u16,
    color: jpeg_encoder::ColorType,
    progressive: bool,
) -> Vec<u8> {
    let channels = match color {
        jpeg_encoder::ColorType::Luma => 1,
        jpeg_encoder::ColorType::Rgb => 3,
        _ => 4,
    };
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    encoder
        .encode(
            &pixels(u32::from(width), u32::from(height), channels),
            width,
            height,
            color,
        )
        .unwrap();
    out
}

fn png(width: u32, height: u32, color: ExtendedColorType) -> Vec<u8> {
    let bytes_per_pixel = usize::from(color.bits_per_pixel() / 8);
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            &pixels(width, height, bytes_per_pixel),
            width,
            height,
            color,
        )
        .unwrap();
    out
}

fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(
            &pixels(width, height, 4),
            width,
            height,
            ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

fn gif(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    GifEncoder::new(&mut out)
        .encode(
            &pixels(width, height, 4),
            width,
            height,
            ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

/// Builds a bottom-up 24-bit BMP with a 40-byte info header.
fn bmp(width: u32, height: u32) -> Vec<u8> {
    let stride = (width * 3).div_ceil(4) * 4;
    let pixel_bytes = stride * height;
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&(54 + pixel_bytes).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    out.extend(std::iter::repeat_n(0x80, pixel_bytes as usize));
    out
}

fn assert_probe(bytes: &[u8], format: ImageFormat, width: u32, height: u32) {
    let info = probe_bytes(bytes).unwrap_or_else(|e| panic!("{format} {width}x{height}: {e}"));
    assert_eq!(
        info,
        ProbeInfo {
            format,
            width,
            height,
            bytes: bytes.len() as u64
        }
    );
}

fn assert_truncated(bytes: &[u8], label: &str) {
    let result = probe_bytes(bytes);
    assert!(
        matches!(result, Err(ProbeError::Truncated { .. })),
        "{label}: {result:?}"
    );
}

#[test]
fn jpeg_variants_probe_ok() {
    use jpeg_encoder::ColorType;

    assert_probe(&jpeg_rgb(40, 30), ImageFormat::Jpeg, 40, 30);
    assert_probe(
        &jpeg_with(33, 17, ColorType::Luma, false),
        ImageFormat::Jpeg,
        33,
        17,
    );
    assert_probe(
        &jpeg_with(40, 30, ColorType::Cmyk, false),
        ImageFormat::Jpeg,
        40,
        30,
    );
    assert_probe(
        &jpeg_with(40, 30, ColorType::CmykAsYcck, false),
        ImageFormat::Jpeg,
        40,
        30,
    );
    assert_probe(
        &jpeg_with(64, 48, ColorType::Rgb, true),
        ImageFormat::Jpeg,
        64,
        48,
    );
    assert_probe(
        &jpeg_with(64, 48, ColorType::Cmyk, true),
        ImageFormat::Jpeg,
        64,
        48,
    );
}

#[test]
fn jpeg_fixtures_decode() {
    use jpeg_encoder::ColorType;

    // The probe never decodes, so this confirms that the generated files are real JPEGs of
    // the kinds they claim to be.
    for bytes in [
        jpeg_with(40, 30, ColorType::Cmyk, false),
        jpeg_with(64, 48, ColorType::Rgb, true),
    ] {
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert!(decoded.width() > 0);
    }
    let progressive = jpeg_with(64, 48, ColorType::Rgb, true);
    assert!(progressive.windows(2).any(|w| w == [0xFF, 0xC2]));
}

#[test]
fn jpeg_exif_orientation_swaps_dimensions() {
    for (orientation, expected) in [(1, (40, 30)), (3, (40, 30)), (6, (30, 40)), (8, (30, 40))] {
        let plain = jpeg_rgb(40, 30);
        let mut bytes = plain[..2].to_vec();
        bytes.extend(orientation_segment(orientation));
        bytes.extend_from_slice(&plain[2..]);

        let info = probe_bytes(&bytes).unwrap();

        assert_eq!(
            (info.width, info.height),
            expected,
            "orientation {orientation}"
        );
    }
}

#[test]
fn jpeg_large_header_segments_are_skipped() {
    // Three 60 KiB APP2 segments, like a big ICC profile, before the frame header.
    let plain = jpeg_rgb(40, 30);
    let mut bytes = plain[..2].to_vec();
    for _ in 0..3 {
        bytes.extend_from_slice(&[0xFF, 0xE2]);
        bytes.extend_from_slice(&(60_000u16 + 2).to_be_bytes());
        bytes.extend(std::iter::repeat_n(0x11, 60_000));
    }
    bytes.extend_from_slice(&plain[2..]);

    let mut reader = CountingReader::new(&bytes);
    let info = probe_reader(&mut reader, bytes.len() as u64).unwrap();

    assert_eq!((info.width, info.height), (40, 30));
    assert!(
        reader.bytes_read < 8 * 1024,
        "read {} bytes",
        reader.bytes_read
    );
}

#[test]
fn jpeg_zero_padding_is_tolerated() {
    let mut bytes = jpeg_rgb(40, 30);
    bytes.extend_from_slice(&[0; 7]);
    assert_probe(&bytes, ImageFormat::Jpeg, 40, 30);
}

#[test]
fn jpeg_truncations_are_rejected() {
    let full = jpeg_with(64, 48, jpeg_encoder::ColorType::Rgb, true);
    assert_truncated(&full[..full.len() / 2], "cut in half");
    assert_truncated(&full[..full.len() - 1], "last byte missing");
    assert_truncated(&full[..300.min(full.len() - 2)], "cut inside the header");

    // An interrupted download into a preallocated file: the end is all zeros.
    let mut preallocated = full[..full.len() / 2].to_vec();
    preallocated.resize(full.len() + 4096, 0);
    assert_truncated(&preallocated, "zero-filled tail");
}

/// Returns the offset of the first frame header (SOF0 or SOF2) of a JPEG.
fn frame_header_offset(jpeg: &[u8]) -> usize {
    jpeg.windows(2)
        .position(|pair| pair == [0xFF, 0xC0] || pair == [0xFF, 0xC2])
        .unwrap()
}

#[test]
fn jpeg_too_small_for_its_size_is_rejected() {
    // 16×16 pixels of real data under a header that declares 10000×10000.
    let mut bytes = jpeg_rgb(16, 16);
    let sof = frame_header_offset(&bytes);
    bytes[sof + 5..sof + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);

    let result = probe_bytes(&bytes);

    // 1250 × 1250 blocks for each of three components, one bit each at the least.
    assert!(
        matches!(
            result,
            Err(ProbeError::TooSmallForSize {
                width: 10_000,
                height: 10_000,
                min_bytes: 585_938,
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn flat_jpegs_pass_the_size_check() {
    // A flat colour is the smallest a real encoder makes a file, most of all progressive with
    // optimised tables and subsampled chroma, which needs about one bit per block.
    for (sampling, progressive) in [
        (jpeg_encoder::SamplingFactor::F_2_2, true),
        (jpeg_encoder::SamplingFactor::F_2_2, false),
        (jpeg_encoder::SamplingFactor::F_1_1, true),
    ] {
        let (width, height) = (2048u16, 1536u16);
        let flat = vec![0u8; usize::from(width) * usize::from(height) * 3];
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 10);
        encoder.set_sampling_factor(sampling);
        encoder.set_progressive(progressive);
        encoder.set_optimized_huffman_tables(true);
        encoder
            .encode(&flat, width, height, jpeg_encoder::ColorType::Rgb)
            .unwrap();

        let result = probe_bytes(&bytes);

        assert!(
            result.is_ok(),
            "{sampling:?}, progressive {progressive}, {} bytes: {result:?}",
            bytes.len()
        );
    }
}

#[test]
fn jpeg_with_bad_sampling_factor_is_invalid() {
    let mut bytes = jpeg_rgb(16, 16);
    let sof = frame_header_offset(&bytes);
    // The first component's sampling byte follows the count and the component id.
    bytes[sof + 11] = 0x05;

    let result = probe_bytes(&bytes);

    assert!(
        matches!(result, Err(ProbeError::InvalidHeader { .. })),
        "{result:?}"
    );
}

#[test]
fn png_variants_probe_ok() {
    assert_probe(
        &png(20, 10, ExtendedColorType::Rgb8),
        ImageFormat::Png,
        20,
        10,
    );
    assert_probe(
        &png(20, 10, ExtendedColorType::Rgba8),
        ImageFormat::Png,
        20,
        10,
    );
    assert_probe(
        &png(20, 10, ExtendedColorType::Rgb16),
        ImageFormat::Png,
        20,
        10,
    );
    assert_probe(
        &png(20, 10, ExtendedColorType::Rgba16),
        ImageFormat::Png,
        20,
        10,
    );
    assert_probe(&png(9, 3, ExtendedColorType::L16), ImageFormat::Png, 9, 3);
}

#[test]
fn png_truncations_are_rejected() {
    let full = png(20, 10, ExtendedColorType::Rgb8);
    assert_truncated(&full[..full.len() - 12], "IEND missing");
    assert_truncated(&full[..full.len() / 2], "cut in half");
    assert_truncated(&full[..20], "cut inside IHDR");
}

#[test]
fn png_zero_width_is_rejected() {
    let mut bytes = png(20, 10, ExtendedColorType::Rgb8);
    bytes[16..20].copy_from_slice(&0u32.to_be_bytes());
    let result = probe_bytes(&bytes);
    assert!(
        matches!(
            result,
            Err(ProbeError::ZeroDimensions {
                width: 0,
                height: 10,
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn webp_variants_probe_ok() {
    assert_probe(&webp_lossless(21, 13), ImageFormat::Webp, 21, 13);
    assert_probe(LOSSY_WEBP, ImageFormat::Webp, 12, 8);
    assert_probe(ALPHA_WEBP, ImageFormat::Webp, 10, 6);
    assert!(
        ALPHA_WEBP[12..16] == *b"VP8X",
        "fixture should use the extended format"
    );

    for bytes in [LOSSY_WEBP, ALPHA_WEBP] {
        image::load_from_memory(bytes).unwrap();
    }
}

#[test]
fn webp_length_mismatch_is_rejected() {
    let full = webp_lossless(21, 13);
    assert_truncated(&full[..full.len() - 1], "one byte short");
    assert_truncated(&LOSSY_WEBP[..40], "lossy cut");

    let mut longer = full.clone();
    longer.extend_from_slice(b"junk");
    let result = probe_bytes(&longer);
    assert!(
        matches!(result, Err(ProbeError::InvalidHeader { .. })),
        "{result:?}"
    );
}

#[test]
fn gif_probe_and_trailer() {
    let full = gif(16, 9);
    assert_probe(&full, ImageFormat::Gif, 16, 9);
    assert_truncated(&full[..full.len() - 1], "trailer missing");
}

#[test]
fn avif_is_unsupported_with_a_fix() {
    let result = probe_bytes(AVIF);
    assert!(
        matches!(
            result,
            Err(ProbeError::Unsupported {
                format: ImageFormat::Avif
            })
        ),
        "{result:?}"
    );
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("convert the file to JPEG or WebP"),
        "{message}"
    );

    // The header walk still runs first, so damage is reported as such.
    assert_truncated(&AVIF[..AVIF.len() - 10], "mdat cut");
    assert_truncated(&AVIF[..100], "meta cut");
}

#[test]
fn bmp_probe_and_truncation() {
    let full = bmp(5, 4);
    assert_probe(&full, ImageFormat::Bmp, 5, 4);
    assert_truncated(&full[..full.len() - 3], "pixels cut");
}

#[test]
fn empty_and_disguised_files_are_rejected() {
    assert!(matches!(probe_bytes(&[]), Err(ProbeError::Empty)));

    let html = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>\n";
    assert!(matches!(probe_bytes(html), Err(ProbeError::NotAnImage)));

    assert!(matches!(
        probe_bytes(&[0xFF, 0xD8]),
        Err(ProbeError::NotAnImage)
    ));
}

#[test]
fn probe_file_reads_from_disk() {
    let dir = tempfile::tempdir().unwrap();

    let good = dir.path().join("poster.jpg");
    std::fs::write(&good, jpeg_rgb(40, 30)).unwrap();
    let info = probe_file(&good).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (ImageFormat::Jpeg, 40, 30)
    );

    let html = dir.path().join("html.jpg");
    std::fs::write(&html, "<html>Not found</html>").unwrap();
    assert!(matches!(probe_file(&html), Err(ProbeError::NotAnImage)));

    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(probe_file(&empty), Err(ProbeError::Empty)));

    assert!(matches!(probe_file(dir.path()), Err(ProbeError::NotAFile)));
    assert!(matches!(
        probe_file(&dir.path().join("missing.jpg")),
        Err(ProbeError::Io(_))
    ));
}

#[test]
fn error_messages_name_the_reason() {
    let full = png(20, 10, ExtendedColorType::Rgb8);
    let message = probe_bytes(&full[..full.len() - 12])
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "truncated PNG file: no IEND chunk at the end of the file"
    );
}

/// A reader that counts the bytes handed out, to check that the probe stays cheap.
struct CountingReader<'a> {
    inner: Cursor<&'a [u8]>,
    bytes_read: usize,
}

impl<'a> CountingReader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            inner: Cursor::new(bytes),
            bytes_read: 0,
        }
    }
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.bytes_read += count;
        Ok(count)
    }
}

impl Seek for CountingReader<'_> {
    fn seek(&mut self, position: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(position)
    }
}
