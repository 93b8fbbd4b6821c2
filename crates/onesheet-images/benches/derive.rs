//! Cold derivations: decode, orient, resize and encode one original per iteration.
//!
//! Run with `taskset -c 1 cargo bench -p onesheet-images --bench derive` to hold every case to
//! one core, as the recorded figures were measured. The JPEG decoders these cases use,
//! `zune-jpeg` and libjpeg-turbo, run on the calling thread.
//!
//! The sources are noisy gradients encoded at quality 90 with 4:4:4 chroma, so they compress and
//! decode like detailed photographs rather than flat colour. Entropy decoding is the larger part
//! of every decode of them, and DCT scaling cannot skip it. Each size also has a
//! `baseline` case, a full-size decode of the same file through the `image` crate with no
//! resize or encode, so results from different machines can be compared as ratios.
//!
//! The `typical` cases use sources closer to the posters that media servers serve: 4:2:0 chroma
//! at quality 85 with light grain. They show what a screen usually waits for, and the noisy
//! cases show the worst case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{ImageEncoder, Rgb, RgbImage};
use onesheet_images::derive::{
    DecodeLimits, DeriveRequest, Fit, OutputFormat, decode_upright_at_least, derive,
};

fn photo_like_image(width: u32, height: u32) -> RgbImage {
    grained_image(width, height, 24)
}

/// Builds a gradient with grain of up to `grain` levels on every pixel.
fn grained_image(width: u32, height: u32, grain: u32) -> RgbImage {
    let mut seed = 0x2545_f491_u32;
    RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % grain) as u8;
        Rgb([
            ((x * 255 / width) as u8).saturating_add(noise),
            ((y * 255 / height) as u8).saturating_add(noise),
            128u8.saturating_add(noise),
        ])
    })
}

fn photo_like_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = photo_like_image(width, height);
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 90)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

/// Encodes a poster as media servers usually store one: 4:2:0 chroma, quality 85, light grain.
fn typical_poster_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = grained_image(width, height, 6);
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 85);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder
        .encode(
            image.as_raw(),
            width as u16,
            height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    bytes
}

fn jpeg_request(width: u32) -> DeriveRequest {
    DeriveRequest {
        width,
        height: None,
        fit: Fit::Contain,
        format: OutputFormat::Jpeg,
    }
}

fn bench_derive(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let cases = [(1000, 1500, 480), (2000, 3000, 720), (6000, 9000, 1280)];
    let mut group = c.benchmark_group("derive");
    group.sample_size(10);
    for (width, height, target) in cases {
        let original = photo_like_jpeg(width, height);
        let request = jpeg_request(target);
        group.bench_function(format!("{width}x{height} to {target} wide"), |b| {
            b.iter(|| derive(&original, &request, &limits).unwrap());
        });
        group.bench_function(format!("{width}x{height} baseline full decode"), |b| {
            b.iter(|| image::load_from_memory(&original).unwrap());
        });

        let typical = typical_poster_jpeg(width, height);
        group.bench_function(format!("{width}x{height} typical to {target} wide"), |b| {
            b.iter(|| derive(&typical, &request, &limits).unwrap());
        });
        group.bench_function(
            format!("{width}x{height} typical baseline full decode"),
            |b| {
                b.iter(|| image::load_from_memory(&typical).unwrap());
            },
        );
    }

    let original = photo_like_jpeg(2000, 3000);
    for format in [OutputFormat::Webp, OutputFormat::Png] {
        let request = DeriveRequest {
            format,
            ..jpeg_request(720)
        };
        group.bench_function(format!("2000x3000 to 720 wide as {format:?}"), |b| {
            b.iter(|| derive(&original, &request, &limits).unwrap());
        });
    }
    group.bench_function("2000x3000 decoded at least 64x64", |b| {
        b.iter(|| decode_upright_at_least(&original, &limits, 64, 64).unwrap());
    });
    group.finish();
}

/// Compares the two JPEG encoders at the quality derived images use, on a 720×1080 image.
fn bench_jpeg_encoders(c: &mut Criterion) {
    let image = photo_like_image(720, 1080);
    let mut group = c.benchmark_group("encode 720x1080 at quality 85");
    group.bench_function("image JpegEncoder", |b| {
        b.iter(|| {
            let mut bytes = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
                .write_image(image.as_raw(), 720, 1080, image::ExtendedColorType::Rgb8)
                .unwrap();
            bytes
        });
    });
    for (name, sampling) in [
        ("jpeg-encoder 4:4:4", jpeg_encoder::SamplingFactor::F_1_1),
        ("jpeg-encoder 4:2:0", jpeg_encoder::SamplingFactor::F_2_2),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut bytes = Vec::new();
                let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 85);
                encoder.set_sampling_factor(sampling);
                encoder
                    .encode(image.as_raw(), 720, 1080, jpeg_encoder::ColorType::Rgb)
                    .unwrap();
                bytes
            });
        });
    }
    group.finish();
}

/// Builds a PNG of a few dozen bytes whose header declares `width`×`height` RGBA pixels.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    for (length, chunk) in [(13u32, ihdr), (0, b"IEND".to_vec())] {
        png.extend_from_slice(&length.to_be_bytes());
        png.extend_from_slice(&chunk);
        // The probe does not check CRCs, except IEND's, which is fixed.
        let crc: [u8; 4] = if chunk == b"IEND" {
            [0xAE, 0x42, 0x60, 0x82]
        } else {
            [0; 4]
        };
        png.extend_from_slice(&crc);
    }
    png
}

/// Builds a JPEG of a few hundred bytes whose frame header declares `width`×`height`.
fn jpeg_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = photo_like_jpeg(16, 16);
    let sof = jpeg
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

fn bench_bomb_rejection(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let request = jpeg_request(480);
    let mut group = c.benchmark_group("reject declared bomb");
    for (name, bomb) in [
        ("PNG 100000x100000", png_declaring(100_000, 100_000)),
        ("JPEG 30000x30000", jpeg_declaring(30_000, 30_000)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| derive(&bomb, &request, &limits).unwrap_err());
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_derive,
    bench_jpeg_encoders,
    bench_bomb_rejection
);
criterion_main!(benches);
