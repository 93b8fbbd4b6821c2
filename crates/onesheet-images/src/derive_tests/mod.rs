use std::io::Cursor;

use image::{ImageBuffer, ImageEncoder, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use moxcms::ColorProfile;

use super::*;

mod colour;
mod formats;
mod limits;

const AVIF: &[u8] = include_bytes!("../testdata/gradient-12x8.avif");

/// [`marked_image`] at 320×240, quality 90, arithmetic-coded: sequential (SOF9) and progressive
/// (SOF10). Written by the C library of `mozjpeg-sys` 2.2.3 built with its `arith_enc` feature,
/// because neither `image` nor `jpeg-encoder` writes arithmetic coding.
const ARITHMETIC: &[u8] = include_bytes!("../testdata/marked-320x240-arithmetic.jpg");
const ARITHMETIC_PROGRESSIVE: &[u8] =
    include_bytes!("../testdata/marked-320x240-arithmetic-progressive.jpg");

const RED: [u8; 3] = [230, 20, 20];
const BLUE: [u8; 3] = [20, 20, 230];

fn encode_as(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// Draws an image whose top-left quarter is red and the rest blue.
fn marked_image(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if x < width / 2 && y < height / 2 {
            Rgb(RED)
        } else {
            Rgb(BLUE)
        }
    })
}

fn marked_jpeg(width: u32, height: u32) -> Vec<u8> {
    encode_as(
        DynamicImage::ImageRgb8(marked_image(width, height)),
        ImageFormat::Jpeg,
    )
}

/// Inserts a marker segment right after the SOI marker.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Removes every segment with the given marker from the header.
fn without_segment(jpeg: &[u8], marker: u8) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut offset = 2;
    loop {
        let code = jpeg[offset + 1];
        if code == 0xDA {
            out.extend_from_slice(&jpeg[offset..]);
            return out;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[offset + 2], jpeg[offset + 3]]));
        if code != marker {
            out.extend_from_slice(&jpeg[offset..offset + 2 + length]);
        }
        offset += 2 + length;
    }
}

/// Inserts an EXIF APP1 segment with the given orientation.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    with_segment(jpeg, 0xE1, &tiff)
}

/// Embeds an ICC profile as a single APP2 chunk.
fn with_icc(jpeg: &[u8], profile: &[u8]) -> Vec<u8> {
    let mut payload = b"ICC_PROFILE\0\x01\x01".to_vec();
    payload.extend_from_slice(profile);
    with_segment(jpeg, 0xE2, &payload)
}

/// Builds the sRGB profile with the red and blue primaries swapped, so that a conversion to sRGB
/// turns red into blue.
fn swapped_primaries_profile() -> Vec<u8> {
    let mut profile = ColorProfile::new_srgb();
    std::mem::swap(&mut profile.red_colorant, &mut profile.blue_colorant);
    profile.encode().unwrap()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut chunk = kind.to_vec();
    chunk.extend_from_slice(data);
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
}

/// Builds a PNG of a few dozen bytes whose header declares `width`×`height` RGBA pixels.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01");
    png_chunk(&mut png, b"IEND", b"");
    png
}

/// Builds an indexed-colour PNG: the left half uses palette entry 0 (red), the right half
/// entry 1 (blue). The image data is stored uncompressed.
fn palette_png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0); // Filter type None.
        raw.extend((0..width).map(|x| u8::from(x >= width / 2)));
    }
    // A zlib stream with one stored deflate block, then the Adler-32 of the data.
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]);
    let mut palette = RED.to_vec();
    palette.extend_from_slice(&BLUE);

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"PLTE", &palette);
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", b"");
    png
}

/// Encodes CMYK ink values (0 is no ink) with `jpeg-encoder`, which writes them inverted with
/// an Adobe APP14 segment, as Photoshop does.
fn cmyk_jpeg(width: u32, height: u32, color_type: jpeg_encoder::ColorType) -> Vec<u8> {
    // Left half: magenta and yellow ink, which prints red. Right half: cyan and magenta, blue.
    let mut ink = Vec::new();
    for _ in 0..height {
        for x in 0..width {
            if x < width / 2 {
                ink.extend_from_slice(&[0, 255, 255, 0]);
            } else {
                ink.extend_from_slice(&[255, 255, 0, 0]);
            }
        }
    }
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 95)
        .encode(&ink, width as u16, height as u16, color_type)
        .unwrap();
    bytes
}

fn request(width: u32, height: Option<u32>, fit: Fit, format: OutputFormat) -> DeriveRequest {
    DeriveRequest {
        width,
        height,
        fit,
        format,
    }
}

fn derive_png(original: &[u8], width: u32) -> Derived {
    derive(
        original,
        &request(width, None, Fit::Contain, OutputFormat::Png),
        &DecodeLimits::default(),
    )
    .unwrap()
}

fn pixel(image: &DynamicImage, x: u32, y: u32) -> [u8; 3] {
    image.to_rgb8().get_pixel(x, y).0
}

fn assert_red(color: [u8; 3], context: &str) {
    assert!(
        color[0] > 180 && color[1] < 80 && color[2] < 80,
        "{context}: expected red, got {color:?}"
    );
}

fn assert_blue(color: [u8; 3], context: &str) {
    assert!(
        color[2] > 150 && color[0] < 80,
        "{context}: expected blue, got {color:?}"
    );
}

/// Returns the process's peak resident set size in bytes, from /proc/self/status.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[test]
fn width_snaps_to_the_ladder() {
    for (requested, snapped) in [
        (1, 240),
        (240, 240),
        (241, 360),
        (1000, 1280),
        (3840, 3840),
        (9999, 3840),
    ] {
        assert_eq!(snap_width(requested), snapped, "{requested}");
    }
}

#[test]
fn contain_fits_inside_and_never_upscales() {
    assert_eq!(
        target_size(2000, 3000, 480, Some(480), Fit::Contain),
        (320, 480)
    );
    assert_eq!(target_size(2000, 3000, 480, None, Fit::Contain), (480, 720));
    assert_eq!(target_size(100, 150, 480, None, Fit::Contain), (100, 150));
}

#[test]
fn cover_fills_the_box() {
    assert_eq!(
        target_size(2000, 3000, 480, Some(480), Fit::Cover),
        (480, 480)
    );
    // Too small to fill 480×480: the box shrinks, keeping its shape.
    assert_eq!(
        target_size(200, 300, 480, Some(480), Fit::Cover),
        (200, 200)
    );
}

#[test]
fn orientation_six_turns_the_image_upright() {
    let original = with_orientation(&marked_jpeg(600, 400), 6);
    let derived = derive_png(&original, 240);

    assert_eq!((derived.width, derived.height), (240, 360));
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    // Rotating 90° clockwise moves the red top-left quarter to the top-right.
    assert_red(pixel(&decoded, 200, 40), "top right");
    assert_blue(pixel(&decoded, 40, 40), "top left");
}

/// Where the red top-left quarter of the stored image ends up after each EXIF orientation, as
/// (right half, bottom half).
const RED_QUARTER_AFTER: [(u16, bool, bool); 8] = [
    (1, false, false),
    (2, true, false),
    (3, true, true),
    (4, false, true),
    (5, false, false),
    (6, true, false),
    (7, true, true),
    (8, false, true),
];

#[test]
fn orientations_upright_at_every_scale() {
    // 1200×800 to a 240 box is decoded at 1/4 scale, and to a 1280 box at full size.
    for (box_side, scale) in [(240, "1/4 scale"), (1280, "full size")] {
        for (orientation, right, bottom) in RED_QUARTER_AFTER {
            let original = with_orientation(&marked_jpeg(1200, 800), orientation);
            let derived = derive(
                &original,
                &request(box_side, Some(box_side), Fit::Contain, OutputFormat::Png),
                &DecodeLimits::default(),
            )
            .unwrap();
            let context = format!("orientation {orientation} at {scale}");

            let long = box_side.min(1200);
            let short = long * 2 / 3;
            let expected = if orientation >= 5 {
                (short, long)
            } else {
                (long, short)
            };
            assert_eq!((derived.width, derived.height), expected, "{context}");

            let decoded = image::load_from_memory(&derived.bytes).unwrap();
            let (width, height) = (decoded.width(), decoded.height());
            let red_x = if right { width * 3 / 4 } else { width / 4 };
            let red_y = if bottom { height * 3 / 4 } else { height / 4 };
            assert_red(pixel(&decoded, red_x, red_y), &context);
            let blue_x = if right { width / 4 } else { width * 3 / 4 };
            assert_blue(pixel(&decoded, blue_x, red_y), &context);
        }
    }
}

#[test]
fn at_least_picks_smallest_covering_scale() {
    let limits = DecodeLimits::default();
    let original = marked_jpeg(2000, 1000);
    let tiny = decode_upright_at_least(&original, &limits, 64, 64).unwrap();
    assert_eq!((tiny.width(), tiny.height()), (250, 125));

    let half = decode_upright_at_least(&original, &limits, 1000, 500).unwrap();
    assert_eq!((half.width(), half.height()), (1000, 500));

    let full = decode_upright_at_least(&original, &limits, 1001, 10).unwrap();
    assert_eq!((full.width(), full.height()), (2000, 1000));
}

#[test]
fn at_least_swaps_minimum_when_rotated() {
    let limits = DecodeLimits::default();
    // Stored 2000×1000, displayed 1000×2000. An upright minimum of 300×100 needs a stored
    // height of 300, which 3/8 scale is the smallest to give.
    let original = with_orientation(&marked_jpeg(2000, 1000), 6);
    let image = decode_upright_at_least(&original, &limits, 300, 100).unwrap();
    assert_eq!((image.width(), image.height()), (375, 750));
    assert_red(pixel(&image, 300, 75), "upright top right");
}
