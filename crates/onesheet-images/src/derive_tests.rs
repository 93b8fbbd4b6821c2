use std::io::Cursor;

use image::{ImageBuffer, ImageEncoder, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use moxcms::ColorProfile;

use super::*;

const AVIF: &[u8] = include_bytes!("testdata/gradient-12x8.avif");

/// [`marked_image`] at 320×240, quality 90, arithmetic-coded: sequential (SOF9) and progressive
/// (SOF10). Written by the C library of `mozjpeg-sys` 2.2.3 built with its `arith_enc` feature,
/// because neither `image` nor `jpeg-encoder` writes arithmetic coding.
const ARITHMETIC: &[u8] = include_bytes!("testdata/marked-320x240-arithmetic.jpg");
const ARITHMETIC_PROGRESSIVE: &[u8] =
    include_bytes!("testdata/marked-320x240-arithmetic-progressive.jpg");

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

#[test]
fn cmyk_variants_keep_their_colours() {
    let adobe = cmyk_jpeg(960, 480, jpeg_encoder::ColorType::Cmyk);
    let cases = [
        ("CMYK with APP14 transform 0", adobe.clone()),
        ("CMYK without APP14", without_segment(&adobe, 0xEE)),
        (
            "YCCK with APP14 transform 2",
            cmyk_jpeg(960, 480, jpeg_encoder::ColorType::CmykAsYcck),
        ),
    ];
    let limits = DecodeLimits::default();
    for (name, original) in cases {
        let full = decode_upright(&original, &limits).unwrap();
        assert_eq!((full.width(), full.height()), (960, 480), "{name}");
        assert_red(pixel(&full, 100, 240), &format!("{name} at full size"));
        assert_blue(pixel(&full, 800, 240), &format!("{name} at full size"));

        let scaled = decode_upright_at_least(&original, &limits, 200, 100).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (240, 120), "{name}");
        assert_red(pixel(&scaled, 30, 60), &format!("{name} at 1/4 scale"));
        assert_blue(pixel(&scaled, 200, 60), &format!("{name} at 1/4 scale"));

        let derived = derive_png(&original, 360);
        let decoded = image::load_from_memory(&derived.bytes).unwrap();
        assert_red(pixel(&decoded, 40, 90), &format!("{name} derived"));
        assert!(
            derived.warnings.is_empty(),
            "{name}: {:?}",
            derived.warnings
        );
    }
}

#[test]
fn cmyk_and_ycck_at_three_eighths() {
    let cases = [
        ("CMYK", cmyk_jpeg(960, 480, jpeg_encoder::ColorType::Cmyk)),
        (
            "YCCK",
            cmyk_jpeg(960, 480, jpeg_encoder::ColorType::CmykAsYcck),
        ),
    ];
    for (name, original) in cases {
        let scaled = decode_upright_at_least(&original, &DecodeLimits::default(), 360, 1).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (360, 180), "{name}");
        // Magenta and yellow ink give (255, 0, 0) with the plain formula, and cyan and magenta
        // give (0, 0, 255). Quality 95 keeps each channel within a few units.
        for (x, expected) in [(60, [255, 0, 0]), (300, [0, 0, 255])] {
            let actual = pixel(&scaled, x, 90);
            for channel in 0..3 {
                assert!(
                    actual[channel].abs_diff(expected[channel]) <= 6,
                    "{name} at x {x}: {actual:?}, expected {expected:?}"
                );
            }
        }
    }
}

#[test]
fn rgb_profile_on_cmyk_only_warns() {
    let cmyk = cmyk_jpeg(960, 480, jpeg_encoder::ColorType::Cmyk);
    let original = with_icc(&cmyk, &swapped_primaries_profile());
    let derived = derive_png(&original, 360);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 40, 90), "CMYK with an RGB profile");
    assert!(
        matches!(
            derived.warnings.as_slice(),
            [DeriveWarning::IccProfileIgnored { .. }]
        ),
        "{:?}",
        derived.warnings
    );
}

#[test]
fn icc_profile_is_converted_to_srgb() {
    let original = with_icc(&marked_jpeg(600, 400), &swapped_primaries_profile());
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    // The profile gives the first channel the blue primary, so the red quarter is blue in sRGB.
    assert_blue(pixel(&decoded, 40, 40), "converted red quarter");
    assert_red(pixel(&decoded, 200, 120), "converted blue area");
    assert!(derived.warnings.is_empty(), "{:?}", derived.warnings);

    // The same conversion at full size, through the unscaled decoder.
    let full = decode_upright(&original, &DecodeLimits::default()).unwrap();
    assert_blue(pixel(&full, 100, 100), "converted at full size");
}

#[test]
fn display_p3_colours_become_more_saturated() {
    let colour = [200, 80, 80];
    let image = RgbImage::from_pixel(300, 200, Rgb(colour));
    let plain = encode_as(DynamicImage::ImageRgb8(image), ImageFormat::Png);
    let mut tagged = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut tagged);
    encoder
        .set_icc_profile(ColorProfile::new_display_p3().encode().unwrap())
        .unwrap();
    encoder
        .write_image(
            RgbImage::from_pixel(300, 200, Rgb(colour)).as_raw(),
            300,
            200,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();

    let untagged = pixel(
        &image::load_from_memory(&derive_png(&plain, 240).bytes).unwrap(),
        100,
        100,
    );
    assert_eq!(untagged, colour);
    let converted = pixel(
        &image::load_from_memory(&derive_png(&tagged, 240).bytes).unwrap(),
        100,
        100,
    );
    // Display P3's red primary lies outside sRGB's, so the same numbers mean a stronger red.
    assert!(converted[0] > colour[0] + 5, "{converted:?}");
    assert!(converted[1] < colour[1] - 5, "{converted:?}");
}

#[test]
fn srgb_profile_changes_nothing() {
    let plain = marked_jpeg(600, 400);
    let tagged = with_icc(&plain, &ColorProfile::new_srgb().encode().unwrap());
    let without = derive_png(&plain, 240);
    let with = derive_png(&tagged, 240);
    assert_eq!(with.bytes, without.bytes);
    assert!(with.warnings.is_empty(), "{:?}", with.warnings);
}

#[test]
fn invalid_icc_profile_only_warns() {
    let original = with_icc(&marked_jpeg(600, 400), b"definitely not an ICC profile");
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 40, 40), "red quarter");
    assert!(
        matches!(
            derived.warnings.as_slice(),
            [DeriveWarning::IccProfileIgnored { .. }]
        ),
        "{:?}",
        derived.warnings
    );

    // A profile whose second chunk is missing is reported the same way.
    let mut payload = b"ICC_PROFILE\0\x01\x02".to_vec();
    payload.extend_from_slice(&swapped_primaries_profile());
    let incomplete = with_segment(&marked_jpeg(600, 400), 0xE2, &payload);
    let derived = derive_png(&incomplete, 240);
    assert_eq!(derived.warnings.len(), 1, "{:?}", derived.warnings);
}

#[test]
fn grey_jpeg_stays_grey_at_every_scale() {
    let grey = ImageBuffer::from_fn(960, 480, |x, _| Luma([if x < 480 { 40u8 } else { 200 }]));
    let mut original = Vec::new();
    jpeg_encoder::Encoder::new(&mut original, 95)
        .encode(grey.as_raw(), 960, 480, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let limits = DecodeLimits::default();

    for (min_width, expected_width) in [(u32::MAX, 960), (200, 240)] {
        let image = decode_upright_at_least(&original, &limits, min_width, 1).unwrap();
        assert_eq!(image.width(), expected_width);
        assert!(matches!(image, DynamicImage::ImageLuma8(_)));
        let dark = image.to_luma8().get_pixel(expected_width / 4, 10)[0];
        let light = image.to_luma8().get_pixel(expected_width * 3 / 4, 10)[0];
        assert!(
            dark.abs_diff(40) <= 3,
            "dark {dark} at width {expected_width}"
        );
        assert!(
            light.abs_diff(200) <= 3,
            "light {light} at width {expected_width}"
        );
    }
}

#[test]
fn progressive_jpeg_decodes_at_every_scale() {
    let image = marked_image(960, 480);
    let mut original = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut original, 90);
    encoder.set_progressive(true);
    encoder
        .encode(image.as_raw(), 960, 480, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let limits = DecodeLimits::default();

    let full = decode_upright(&original, &limits).unwrap();
    assert_eq!((full.width(), full.height()), (960, 480));
    assert_red(pixel(&full, 100, 100), "full size");
    let scaled = decode_upright_at_least(&original, &limits, 120, 60).unwrap();
    assert_eq!((scaled.width(), scaled.height()), (120, 60));
    assert_red(pixel(&scaled, 20, 10), "1/8 scale");
    assert_blue(pixel(&scaled, 100, 50), "1/8 scale");
}

/// Draws a diagonal sine wave in red, one along y in green and a checkerboard of 150-pixel
/// squares in blue, for detail at every scale and edges that fall inside blocks.
fn waves_image(width: u32, height: u32) -> RgbImage {
    let wave = |position: f32, period: f32| {
        let phase = position / period * std::f32::consts::TAU;
        (127.5 + 127.5 * phase.sin()) as u8
    };
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let square = if (x / 150 + y / 150) % 2 == 0 {
            40
        } else {
            210
        };
        Rgb([wave(fx + 0.5 * fy, 97.0), wave(fy, 61.0), square])
    })
}

/// Returns the peak signal-to-noise ratio of `actual` against `expected` over RGB, in dB.
fn psnr(expected: &DynamicImage, actual: &DynamicImage) -> f64 {
    let (expected, actual) = (expected.to_rgb8(), actual.to_rgb8());
    assert_eq!(expected.dimensions(), actual.dimensions());
    let squared_error: f64 = expected
        .as_raw()
        .iter()
        .zip(actual.as_raw())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    let mean = squared_error / expected.as_raw().len() as f64;
    10.0 * (255.0 * 255.0 / mean).log10()
}

#[test]
fn scaled_decode_matches_full_decode_resized() {
    let original = encode_as(
        DynamicImage::ImageRgb8(waves_image(1920, 1280)),
        ImageFormat::Jpeg,
    );
    let limits = DecodeLimits::default();
    let full = decode_upright(&original, &limits).unwrap();

    // Measured: 37.8, 40.8, 43.6 and 45.1 dB. The 1/8 scale averages each block, which a
    // Lanczos3 resize does not quite do.
    for (numerator, min_psnr) in [(1, 35.0), (2, 38.0), (3, 40.0), (4, 42.0)] {
        let width = 1920 * numerator / 8;
        let scaled = decode_upright_at_least(&original, &limits, width, 1).unwrap();
        assert_eq!(
            (scaled.width(), scaled.height()),
            (width, 1280 * numerator / 8)
        );

        let reference =
            resize(full.clone(), scaled.width(), scaled.height(), Fit::Contain).unwrap();
        let psnr = psnr(&reference, &scaled);
        assert!(psnr > min_psnr, "{numerator}/8: {psnr:.1} dB");
    }
}

#[test]
fn arithmetic_coded_jpegs_decode() {
    let limits = DecodeLimits::default();
    for (name, original) in [
        ("sequential", ARITHMETIC),
        ("progressive", ARITHMETIC_PROGRESSIVE),
    ] {
        let full = decode_upright(original, &limits).unwrap();
        assert_eq!((full.width(), full.height()), (320, 240), "{name}");
        assert_red(pixel(&full, 40, 40), &format!("{name} at full size"));
        assert_blue(pixel(&full, 280, 200), &format!("{name} at full size"));

        let scaled = decode_upright_at_least(original, &limits, 80, 60).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (80, 60), "{name}");
        assert_red(pixel(&scaled, 10, 10), &format!("{name} at 2/8 scale"));
        assert_blue(pixel(&scaled, 70, 50), &format!("{name} at 2/8 scale"));
    }
}

#[test]
fn palette_png_decodes() {
    let derived = derive_png(&palette_png(40, 20), 240);
    assert_eq!((derived.width, derived.height), (40, 20));
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_eq!(pixel(&decoded, 5, 5), RED);
    assert_eq!(pixel(&decoded, 35, 5), BLUE);
}

#[test]
fn deep_and_grey_inputs_become_8_bit_jpeg() {
    let deep: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(400, 600, |x, y| {
        Rgb([(x * 100) as u16, (y * 100) as u16, 30_000])
    });
    let grey = ImageBuffer::from_fn(400, 600, |x, _| Luma([(x % 256) as u8]));
    for original in [
        encode_as(DynamicImage::ImageRgb16(deep), ImageFormat::Png),
        encode_as(DynamicImage::ImageLuma8(grey), ImageFormat::Jpeg),
    ] {
        let derived = derive(
            &original,
            &request(240, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap();
        assert_eq!(derived.format.mime(), "image/jpeg");
        let decoded = image::load_from_memory(&derived.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (240, 360));
    }
}

#[test]
fn sixteen_bit_png_keeps_its_colour() {
    // 30000 of 65535 is 116.7 of 255.
    let deep: ImageBuffer<Rgb<u16>, Vec<u16>> =
        ImageBuffer::from_pixel(300, 200, Rgb([65535, 0, 30_000]));
    let original = encode_as(DynamicImage::ImageRgb16(deep), ImageFormat::Png);
    let decoded = decode_upright(&original, &DecodeLimits::default()).unwrap();
    assert!(matches!(decoded, DynamicImage::ImageRgb8(_)));
    assert_eq!(pixel(&decoded, 10, 10), [255, 0, 117]);
}

#[test]
fn png_output_keeps_alpha() {
    let image = ImageBuffer::from_fn(400, 200, |x, _| Rgba([200, 30, 30, (x % 256) as u8]));
    let original = encode_as(DynamicImage::ImageRgba8(image), ImageFormat::Png);
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert!(decoded.color().has_alpha());
    assert_eq!((decoded.width(), decoded.height()), (240, 120));
}

#[test]
fn webp_output_is_lossy_and_keeps_alpha() {
    let opaque = derive(
        &marked_jpeg(600, 400),
        &request(360, None, Fit::Cover, OutputFormat::Webp),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(crate::sniff(&opaque.bytes), Some(crate::ImageFormat::Webp));
    assert_eq!(&opaque.bytes[12..16], b"VP8 ", "lossy bitstream");
    let decoded = image::load_from_memory(&opaque.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (360, 240));
    assert_red(pixel(&decoded, 40, 40), "lossy WebP");

    let logo = RgbaImage::from_fn(400, 200, |x, _| {
        Rgba([200, 30, 30, if x < 200 { 0 } else { 255 }])
    });
    let original = encode_as(DynamicImage::ImageRgba8(logo), ImageFormat::Png);
    let derived = derive(
        &original,
        &request(240, None, Fit::Contain, OutputFormat::Webp),
        &DecodeLimits::default(),
    )
    .unwrap();
    let decoded = image::load_from_memory(&derived.bytes).unwrap().to_rgba8();
    assert_eq!(decoded.get_pixel(20, 60)[3], 0, "transparent half");
    assert_eq!(decoded.get_pixel(220, 60)[3], 255, "opaque half");
}

#[test]
fn animated_gif_gives_its_first_frame() {
    let mut original = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut original);
        let frames = [RED, BLUE].map(|[r, g, b]| {
            image::Frame::new(RgbaImage::from_pixel(300, 200, Rgba([r, g, b, 255])))
        });
        encoder.encode_frames(frames).unwrap();
    }
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 100, 50), "first GIF frame");
}

#[test]
fn animated_webp_gives_its_first_frame() {
    let frames = [RED, BLUE].map(|[r, g, b]| RgbaImage::from_pixel(300, 200, Rgba([r, g, b, 255])));
    let mut config = webp::WebPConfig::new().unwrap();
    config.lossless = 1;
    let mut encoder = webp::AnimEncoder::new(300, 200, &config);
    for (index, frame) in frames.iter().enumerate() {
        encoder.add_frame(webp::AnimFrame::from_rgba(
            frame.as_raw(),
            300,
            200,
            index as i32 * 100,
        ));
    }
    let original = encoder.try_encode().unwrap().to_vec();

    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 100, 50), "first WebP frame");
}

#[test]
fn declared_bombs_are_rejected_without_allocating() {
    let mut jpeg_bomb = marked_jpeg(64, 64);
    let sof = jpeg_bomb
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .unwrap();
    jpeg_bomb[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
    let bombs = [
        ("PNG", png_declaring(100_000, 100_000), 100_000),
        ("JPEG", jpeg_bomb, 30_000),
    ];

    // Resets the peak (Linux 4.0 and later) so the check below measures only this test's
    // allocations. Without the reset the check is weaker but still valid.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let peak_before = peak_rss_bytes();
    for (name, bomb, side) in bombs {
        let error = derive(
            &bomb,
            &request(480, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(error, DeriveError::TooManyPixels { width, .. } if width == side),
            "{name}: {error}"
        );
    }
    let growth = peak_rss_bytes().saturating_sub(peak_before);
    assert!(
        growth < 200 * 1024 * 1024,
        "peak RSS grew by {growth} bytes"
    );
}

#[test]
fn oversized_input_is_rejected() {
    let limits = DecodeLimits {
        max_input_bytes: 100,
        ..DecodeLimits::default()
    };
    let error = derive(
        &marked_jpeg(60, 40),
        &request(240, None, Fit::Contain, OutputFormat::Jpeg),
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(error, DeriveError::InputTooLarge { .. }),
        "{error}"
    );
}

#[test]
fn broken_inputs_give_distinct_errors() {
    let jpeg = marked_jpeg(300, 200);

    let derive_bytes = |bytes: &[u8]| {
        derive(
            bytes,
            &request(240, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
    };
    let html = derive_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>");
    assert!(matches!(html, Err(DeriveError::UnknownFormat)), "{html:?}");
    let empty = derive_bytes(b"");
    assert!(
        matches!(empty, Err(DeriveError::Invalid(crate::ProbeError::Empty))),
        "{empty:?}"
    );
    let truncated = derive_bytes(&jpeg[..jpeg.len() / 3]);
    assert!(
        matches!(
            truncated,
            Err(DeriveError::Invalid(crate::ProbeError::Truncated { .. }))
        ),
        "{truncated:?}"
    );
    let unsupported = derive_bytes(AVIF);
    assert!(
        matches!(
            unsupported,
            Err(DeriveError::Unsupported {
                format: crate::ImageFormat::Avif
            })
        ),
        "{unsupported:?}"
    );
    let mut lying = marked_jpeg(16, 16);
    let sof = lying
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .unwrap();
    lying[sof + 5..sof + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);
    let too_small = derive_bytes(&lying);
    assert!(
        matches!(
            too_small,
            Err(DeriveError::Invalid(
                crate::ProbeError::TooSmallForSize { .. }
            ))
        ),
        "{too_small:?}"
    );

    // Damage inside the entropy-coded data passes the probe and reaches the decoders. They
    // must fail or produce an image, and never panic.
    let mut damaged = jpeg.clone();
    let middle = damaged.len() / 2;
    damaged[middle..middle + 64].fill(0xFF);
    let _ = derive_bytes(&damaged);
    let _ = decode_upright_at_least(&damaged, &DecodeLimits::default(), 64, 64);
}

#[test]
fn broken_scan_header_is_a_decode_error() {
    let mut original = marked_jpeg(1200, 800);
    let sos = original
        .windows(2)
        .position(|pair| pair == [0xFF, 0xDA])
        .unwrap();
    // A scan header that names 0 components, which libjpeg rejects.
    original[sos + 4] = 0;

    // 240 wide is a scaled decode, through libjpeg.
    let result = derive(
        &original,
        &request(240, None, Fit::Contain, OutputFormat::Jpeg),
        &DecodeLimits::default(),
    );

    assert!(matches!(result, Err(DeriveError::Decode(_))), "{result:?}");
}

/// Builds a bottom-up 24-bit BMP whose left half is red and right half blue.
fn marked_bmp(width: u32, height: u32) -> Vec<u8> {
    let stride = (width * 3).div_ceil(4) * 4;
    let pixel_bytes = stride * height;
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&(54 + pixel_bytes).to_le_bytes());
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&width.to_le_bytes());
    bmp.extend_from_slice(&height.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    for _ in 0..height {
        let mut row = Vec::with_capacity(stride as usize);
        for x in 0..width {
            let [r, g, b] = if x < width / 2 { RED } else { BLUE };
            row.extend_from_slice(&[b, g, r]);
        }
        row.resize(stride as usize, 0);
        bmp.extend_from_slice(&row);
    }
    bmp
}

#[test]
fn bmp_originals_are_decoded() {
    let derived = derive(
        &marked_bmp(600, 900),
        &request(240, None, Fit::Contain, OutputFormat::Jpeg),
        &DecodeLimits::default(),
    )
    .unwrap();

    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (240, 360));
    assert_red(pixel(&decoded, 40, 180), "left half");
    assert_blue(pixel(&decoded, 200, 180), "right half");
}

/// Draws a 600×900 RGBA poster: the left half is magenta at alpha 0, the right half opaque
/// blue, and the bottom rows white at half opacity.
fn hidden_colour_png() -> Vec<u8> {
    let image = RgbaImage::from_fn(600, 900, |x, y| {
        if y >= 800 {
            Rgba([255, 255, 255, 128])
        } else if x < 300 {
            Rgba([255, 0, 254, 0])
        } else {
            Rgba([0, 0, 255, 255])
        }
    });
    encode_as(DynamicImage::ImageRgba8(image), ImageFormat::Png)
}

#[test]
fn jpeg_composites_alpha_over_black_at_every_size() {
    let original = hidden_colour_png();
    // 720 is wider than the original, so it keeps its size and is not resized.
    for width in [720, 240] {
        let derived = derive(
            &original,
            &request(width, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap();
        let decoded = image::load_from_memory(&derived.bytes).unwrap();
        // Maps a point of the original to the output, whatever its size.
        let at = |x: u32, y: u32| {
            pixel(
                &decoded,
                x * decoded.width() / 600,
                y * decoded.height() / 900,
            )
        };

        let hidden = at(100, 400);
        assert!(
            hidden.iter().all(|&channel| channel < 12),
            "transparent half at width {width}: {hidden:?}"
        );
        assert_blue(at(450, 400), &format!("opaque half at width {width}"));
        let translucent = at(450, 860);
        assert!(
            translucent
                .iter()
                .all(|&channel| channel.abs_diff(128) < 12),
            "half-transparent white at width {width}: {translucent:?}"
        );
    }
}

#[test]
fn decode_over_memory_budget_is_too_large() {
    let image = marked_image(400, 300);
    let encode = |progressive: bool| {
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 90);
        encoder.set_progressive(progressive);
        encoder
            .encode(image.as_raw(), 400, 300, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        bytes
    };
    // Exactly the original's pixels, so only the budget of 4 bytes per pixel can reject it.
    let limits = DecodeLimits {
        max_pixels: 400 * 300,
        ..DecodeLimits::default()
    };
    let jpeg_request = request(240, None, Fit::Contain, OutputFormat::Jpeg);

    // A baseline decode needs 3 bytes per pixel. A progressive one also keeps 2 bytes of DCT
    // coefficients per sample of its three full-resolution components: 9 bytes per pixel.
    assert!(derive(&encode(false), &jpeg_request, &limits).is_ok());
    let error = derive(&encode(true), &jpeg_request, &limits).unwrap_err();

    assert!(
        matches!(
            error,
            DeriveError::OverMemoryBudget {
                width: 400,
                height: 300,
                needed: 1_080_000,
                budget: 480_000,
            }
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("raise images.max_pixels"), "{message}");
    assert!(message.contains("lower its resolution"), "{message}");
}

#[test]
fn scaled_progressive_decode_counts_coefficients() {
    let image = marked_image(400, 300);
    let mut original = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut original, 90);
    encoder.set_progressive(true);
    encoder
        .encode(image.as_raw(), 400, 300, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let limits = DecodeLimits {
        max_pixels: 400 * 300,
        ..DecodeLimits::default()
    };

    // A quarter-size decode writes 100×75 RGB pixels, but libjpeg still keeps the coefficients
    // of all 50×38 blocks of each of the three components, at 128 bytes a block.
    let error = decode_upright_at_least(&original, &limits, 100, 75).unwrap_err();

    assert!(
        matches!(
            error,
            DeriveError::OverMemoryBudget {
                needed: 752_100,
                budget: 480_000,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn deep_png_fits_budget_at_pixel_limit() {
    // As 16-bit samples this is 8 bytes per pixel, twice the budget, so it must be cut to
    // 8 bits while it is decoded.
    let deep: ImageBuffer<Rgba<u16>, Vec<u16>> =
        ImageBuffer::from_pixel(300, 200, Rgba([65535, 0, 30_000, 65535]));
    let original = encode_as(DynamicImage::ImageRgba16(deep), ImageFormat::Png);
    let limits = DecodeLimits {
        max_pixels: 300 * 200,
        ..DecodeLimits::default()
    };

    let decoded = decode_upright(&original, &limits).unwrap();

    assert!(matches!(decoded, DynamicImage::ImageRgba8(_)));
    assert_eq!(decoded.to_rgba8().get_pixel(10, 10).0, [255, 0, 117, 255]);
}

#[test]
fn grey_alpha_png_becomes_rgba() {
    let image = ImageBuffer::from_fn(40, 20, |x, _| {
        image::LumaA([200u8, if x < 20 { 0 } else { 255 }])
    });
    let original = encode_as(DynamicImage::ImageLumaA8(image), ImageFormat::Png);

    let decoded = decode_upright(&original, &DecodeLimits::default()).unwrap();

    let DynamicImage::ImageRgba8(rgba) = decoded else {
        panic!("expected RGBA, got {:?}", decoded.color());
    };
    assert_eq!(rgba.get_pixel(5, 5).0, [200, 200, 200, 0]);
    assert_eq!(rgba.get_pixel(35, 5).0, [200, 200, 200, 255]);
}
