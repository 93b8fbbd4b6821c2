//! Media files made in code: every odd kind of image a real poster folder holds, good and bad.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, RgbImage, Rgba};

/// One file of the fixture folder and what the server must do with it.
pub struct Fixture {
    /// Path below `media/posters`.
    pub name: &'static str,
    /// Title the catalog shows for a good file; `None` for a file that must be skipped.
    pub title: Option<&'static str>,
    /// MIME type the image endpoint must send, from the bytes.
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

/// Writes the fixture set below `media_dir/posters` and returns it.
pub fn write_mixed_posters(media_dir: &Path) -> Vec<Fixture> {
    let fixtures = mixed_posters();
    for fixture in &fixtures {
        let path = media_dir.join("posters").join(fixture.name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fixture.bytes).unwrap();
    }
    fixtures
}

pub fn mixed_posters() -> Vec<Fixture> {
    let jpeg = gradient_jpeg(60, 90);
    vec![
        good("Alien (1979).jpg", "Alien", "image/jpeg", jpeg.clone()),
        good(
            "Rotated (2001).jpg",
            "Rotated",
            "image/jpeg",
            with_exif_orientation(&gradient_jpeg(90, 60), 6),
        ),
        good(
            "Progressive (2002).jpg",
            "Progressive",
            "image/jpeg",
            encoded_jpeg(60, 90, jpeg_encoder::ColorType::Rgb, true),
        ),
        good(
            "Print Shop (2003).jpg",
            "Print Shop",
            "image/jpeg",
            encoded_jpeg(60, 90, jpeg_encoder::ColorType::Cmyk, false),
        ),
        good(
            "Deep Colour (2004).png",
            "Deep Colour",
            "image/png",
            png_16_bit(60, 90),
        ),
        good(
            "See Through (2005).png",
            "See Through",
            "image/png",
            png_alpha(60, 90),
        ),
        good(
            "Lossless (2006).webp",
            "Lossless",
            "image/webp",
            webp(60, 90),
        ),
        // A PNG saved under a JPEG name: the type comes from the bytes.
        good(
            "Misnamed (2007).jpg",
            "Misnamed",
            "image/png",
            png_alpha(60, 90),
        ),
        good(
            "Blade Runner (1982)/poster.jpg",
            "Blade Runner",
            "image/jpeg",
            jpeg.clone(),
        ),
        bad("Truncated (2010).jpg", jpeg[..jpeg.len() / 2].to_vec()),
        bad("Empty (2011).jpg", Vec::new()),
        bad(
            "Login Page (2012).jpg",
            b"<!DOCTYPE html><html><body>Sign in</body></html>".to_vec(),
        ),
        bad(
            "Notes (2013).png",
            b"just some text, not a picture".to_vec(),
        ),
    ]
}

fn good(name: &'static str, title: &'static str, mime: &'static str, bytes: Vec<u8>) -> Fixture {
    Fixture {
        name,
        title: Some(title),
        mime,
        bytes,
    }
}

fn bad(name: &'static str, bytes: Vec<u8>) -> Fixture {
    Fixture {
        name,
        title: None,
        mime: "",
        bytes,
    }
}

fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    })
}

pub fn gradient_jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(gradient(width, height)),
        ImageFormat::Jpeg,
    )
}

fn encoded_jpeg(
    width: u16,
    height: u16,
    color: jpeg_encoder::ColorType,
    progressive: bool,
) -> Vec<u8> {
    let channels = if matches!(color, jpeg_encoder::ColorType::Rgb) {
        3
    } else {
        4
    };
    let pixels: Vec<u8> = (0..usize::from(width) * usize::from(height) * channels)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    encoder.encode(&pixels, width, height, color).unwrap();
    out
}

/// Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());

    let mut segment = b"Exif\0\0".to_vec();
    segment.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend(segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn png_16_bit(width: u32, height: u32) -> Vec<u8> {
    let image: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x * 1000) as u16, (y * 700) as u16, 40_000])
    });
    encode(DynamicImage::ImageRgb16(image), ImageFormat::Png)
}

fn png_alpha(width: u32, height: u32) -> Vec<u8> {
    let image = ImageBuffer::from_fn(width, height, |x, _| Rgba([200, 30, 30, (x * 4) as u8]));
    encode(DynamicImage::ImageRgba8(image), ImageFormat::Png)
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(gradient(width, height)),
        ImageFormat::WebP,
    )
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}
