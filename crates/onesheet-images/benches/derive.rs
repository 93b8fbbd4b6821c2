//! Cold derivations: decode, orient, resize and encode one original per iteration, on one core.
//!
//! Run with `cargo bench -p onesheet-images --bench derive`. The sources are noisy gradients
//! encoded at quality 90, so they compress and decode like photographs rather than flat colour.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{ImageEncoder, Rgb, RgbImage};
use onesheet_images::derive::{DecodeLimits, DeriveRequest, Fit, OutputFormat, derive};

fn photo_like_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let image = RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as u8;
        Rgb([
            ((x * 255 / width) as u8).saturating_add(noise),
            ((y * 255 / height) as u8).saturating_add(noise),
            128u8.saturating_add(noise),
        ])
    });
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

fn bench_derive(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let cases = [
        ("1000x1500 to 480 wide", 1000, 1500, 480),
        ("2000x3000 to 720 wide", 2000, 3000, 720),
    ];
    let mut group = c.benchmark_group("derive");
    group.sample_size(20);
    for (name, width, height, target) in cases {
        let original = photo_like_jpeg(width, height);
        let request = DeriveRequest {
            width: target,
            height: None,
            fit: Fit::Contain,
            format: OutputFormat::Jpeg,
        };
        group.bench_function(name, |b| {
            b.iter(|| derive(&original, &request, &limits).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, bench_derive);
criterion_main!(benches);
