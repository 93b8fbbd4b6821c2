//! Encoding the resized image as JPEG, WebP or PNG.
//!
//! JPEG uses `jpeg-encoder`: at quality 85 with 4:4:4 chroma it writes 720×1080 in 8.9 ms
//! where the `image` crate's encoder takes 18.6 ms, at the same PSNR (43.5 dB) and a size within
//! 6%. 4:2:0 chroma would be faster still, but it blurs the coloured edges of poster lettering
//! (PSNR 34.9 dB on a test poster), so chroma stays at full resolution.
//!
//! WebP is lossy, through libwebp, because the `image` crate writes only lossless WebP, which is
//! several times larger than JPEG for photographs. Encoding effort (`method`) is 2 of 0 to 6: on
//! a 720×1080 poster it takes 14 ms where the default 4 takes 47 ms, for a file 15% larger.

use image::codecs::png::PngEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageError};

use super::{DeriveError, OutputFormat};

/// JPEG quality of derived images. 85 is a common choice for photos at screen size; not tuned
/// against posters yet.
const JPEG_QUALITY: u8 = 85;

/// WebP quality, 0 to 100. 80 gives about the PSNR of JPEG at 85 on posters.
const WEBP_QUALITY: f32 = 80.0;

/// libwebp's speed and size trade-off, 0 (fastest) to 6.
const WEBP_METHOD: i32 = 2;

/// Encodes an 8-bit grey, RGB or RGBA image. WebP and PNG keep alpha. JPEG has none, so
/// transparent and translucent pixels are composited over black, the colour display pages
/// show around a poster, whether or not the image was resized before.
pub(super) fn encode(image: &DynamicImage, format: OutputFormat) -> Result<Vec<u8>, DeriveError> {
    match format {
        OutputFormat::Jpeg => encode_jpeg(image),
        OutputFormat::Webp => encode_webp(image),
        OutputFormat::Png => encode_png(image),
    }
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, DeriveError> {
    let (width, height) = (side(image.width())?, side(image.height())?);
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, JPEG_QUALITY);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);

    let encoded = match image {
        DynamicImage::ImageLuma8(grey) => {
            encoder.encode(grey.as_raw(), width, height, jpeg_encoder::ColorType::Luma)
        }
        DynamicImage::ImageRgb8(rgb) => {
            encoder.encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        }
        other => {
            let rgb = over_black(other);
            encoder.encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        }
    };
    encoded.map_err(|error| encode_error(image::ImageFormat::Jpeg, error))?;
    Ok(bytes)
}

/// Returns the RGB bytes of `image` composited over black: each channel times alpha / 255,
/// rounded. The pixel's colour under alpha 0 never shows, so it cannot depend on whether a
/// resize (which leaves such pixels black) ran first.
fn over_black(image: &DynamicImage) -> Vec<u8> {
    let converted;
    let rgba = match image {
        DynamicImage::ImageRgba8(rgba) => rgba,
        other => {
            converted = other.to_rgba8();
            &converted
        }
    };
    let mut rgb = Vec::with_capacity(rgba.as_raw().len() / 4 * 3);
    for pixel in rgba.as_raw().chunks_exact(4) {
        let alpha = u32::from(pixel[3]);
        for &channel in &pixel[..3] {
            // Rounded division by 255; the product is at most 255 × 255.
            rgb.push(((u32::from(channel) * alpha + 127) / 255) as u8);
        }
    }
    rgb
}

fn encode_webp(image: &DynamicImage) -> Result<Vec<u8>, DeriveError> {
    let mut config = webp::WebPConfig::new().map_err(|()| {
        encode_error(
            image::ImageFormat::WebP,
            "libwebp rejected its default configuration",
        )
    })?;
    config.quality = WEBP_QUALITY;
    config.method = WEBP_METHOD;

    let (width, height) = (image.width(), image.height());
    let rgba;
    let rgb;
    // `Encoder::new` panics when the buffer is shorter than the size, so the buffers come from
    // `image` types whose length matches their size by construction.
    let encoder = match image {
        DynamicImage::ImageRgb8(pixels) => webp::Encoder::from_rgb(pixels.as_raw(), width, height),
        DynamicImage::ImageRgba8(pixels) => {
            webp::Encoder::from_rgba(pixels.as_raw(), width, height)
        }
        other if other.color().has_alpha() => {
            rgba = other.to_rgba8();
            webp::Encoder::from_rgba(rgba.as_raw(), width, height)
        }
        other => {
            rgb = other.to_rgb8();
            webp::Encoder::from_rgb(rgb.as_raw(), width, height)
        }
    };
    let encoded = encoder.encode_advanced(&config).map_err(|error| {
        encode_error(
            image::ImageFormat::WebP,
            format!("libwebp failed: {error:?}"),
        )
    })?;
    Ok(encoded.to_vec())
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, DeriveError> {
    let color = match image {
        DynamicImage::ImageLuma8(_) => ExtendedColorType::L8,
        DynamicImage::ImageRgb8(_) => ExtendedColorType::Rgb8,
        _ => ExtendedColorType::Rgba8,
    };
    let rgba;
    let pixels: &[u8] = match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => {
            image.as_bytes()
        }
        other => {
            rgba = other.to_rgba8();
            rgba.as_raw()
        }
    };

    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(pixels, image.width(), image.height(), color)
        .map_err(DeriveError::Encode)?;
    Ok(bytes)
}

/// Converts a side to the 16 bits JPEG allows. Derived images are at most 3840 wide and never
/// taller than the original, so this fails only when `DecodeLimits::max_side` is above 65535.
fn side(value: u32) -> Result<u16, DeriveError> {
    u16::try_from(value).map_err(|_| {
        encode_error(
            image::ImageFormat::Jpeg,
            format!("{value} pixels is over the JPEG limit of 65535"),
        )
    })
}

fn encode_error(
    format: image::ImageFormat,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> DeriveError {
    DeriveError::Encode(ImageError::Encoding(image::error::EncodingError::new(
        image::error::ImageFormatHint::Exact(format),
        error,
    )))
}
