use std::io::Cursor;
use std::time::Instant;

use image::{ImageBuffer, ImageFormat, Luma, Rgb, RgbImage, Rgba};

use super::*;

fn encode_as(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// Encodes a JPEG whose top-left quarter is red and the rest blue.
fn marked_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        if x < width / 2 && y < height / 2 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    encode_as(DynamicImage::ImageRgb8(image), ImageFormat::Jpeg)
}

/// Inserts an EXIF APP1 segment with the given orientation after the SOI marker.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend(tiff);

    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend(segment);
    out.extend_from_slice(&jpeg[2..]);
    out
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

/// Builds a PNG of a few dozen bytes whose header declares `width`×`height` RGBA pixels.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (length, chunk) in [
        (13u32, ihdr),
        (8, b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01".to_vec()),
        (0, b"IEND".to_vec()),
    ] {
        png.extend_from_slice(&length.to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

fn request(width: u32, height: Option<u32>, fit: Fit, format: OutputFormat) -> DeriveRequest {
    DeriveRequest {
        width,
        height,
        fit,
        format,
    }
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
    let derived = derive(
        &original,
        &request(240, None, Fit::Contain, OutputFormat::Png),
        &DecodeLimits::default(),
    )
    .unwrap();

    assert_eq!((derived.width, derived.height), (240, 360));
    let decoded = image::load_from_memory(&derived.bytes).unwrap().to_rgb8();
    // Rotating 90° clockwise moves the red top-left quarter to the top-right.
    let top_right = decoded.get_pixel(200, 40);
    let top_left = decoded.get_pixel(40, 40);
    assert!(
        top_right[0] > 150 && top_right[2] < 100,
        "top right {top_right:?}"
    );
    assert!(
        top_left[2] > 150 && top_left[0] < 100,
        "top left {top_left:?}"
    );
}

#[test]
fn every_orientation_fits_the_box_after_rotation() {
    for orientation in 1..=8u16 {
        let original = with_orientation(&marked_jpeg(600, 400), orientation);
        let derived = derive(
            &original,
            &request(240, Some(240), Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap();
        let expected = if orientation >= 5 {
            (160, 240)
        } else {
            (240, 160)
        };
        assert_eq!(
            (derived.width, derived.height),
            expected,
            "orientation {orientation}"
        );
    }
}

#[test]
fn declared_bomb_is_rejected_before_decoding() {
    let started = Instant::now();
    let error = derive(
        &png_declaring(100_000, 100_000),
        &request(480, None, Fit::Contain, OutputFormat::Jpeg),
        &DecodeLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, DeriveError::TooManyPixels { width: 100_000, .. }),
        "{error}"
    );
    // Generous bound: the check reads a header; decoding would take minutes and gigabytes.
    assert!(started.elapsed().as_millis() < 1000);
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
fn garbage_and_truncated_inputs_are_errors() {
    let jpeg = marked_jpeg(300, 200);
    let cases: [(&str, Vec<u8>); 3] = [
        ("html", b"<!DOCTYPE html><html></html>".to_vec()),
        ("empty", Vec::new()),
        ("truncated", jpeg[..jpeg.len() / 3].to_vec()),
    ];
    for (name, bytes) in cases {
        let result = derive(
            &bytes,
            &request(240, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        );
        assert!(result.is_err(), "{name} was accepted");
    }
}

#[test]
fn png_output_keeps_alpha() {
    let image = ImageBuffer::from_fn(400, 200, |x, _| Rgba([200, 30, 30, (x % 256) as u8]));
    let original = encode_as(DynamicImage::ImageRgba8(image), ImageFormat::Png);
    let derived = derive(
        &original,
        &request(240, None, Fit::Contain, OutputFormat::Png),
        &DecodeLimits::default(),
    )
    .unwrap();
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert!(decoded.color().has_alpha());
    assert_eq!((decoded.width(), decoded.height()), (240, 120));
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
fn webp_output_decodes() {
    let derived = derive(
        &marked_jpeg(600, 400),
        &request(360, None, Fit::Cover, OutputFormat::Webp),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(crate::sniff(&derived.bytes), Some(crate::ImageFormat::Webp));
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (360, 240));
}
