//! Derived images: decode an original within limits, turn it upright, fit it to a box and encode
//! it for a screen.
//!
//! Every size and allocation limit is checked from the header before a pixel buffer exists, so a
//! small file that declares 100000×100000 pixels is rejected without allocating. Widths snap to
//! [`WIDTH_LADDER`], which keeps the number of variants of one image small whatever clients ask.
//!
//! This is a blocking, CPU-bound function: the caller runs it on a bounded blocking pool.

use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader};

/// Widths a derived image may have, in pixels. A request snaps up to the next step, or down to
/// the last one.
pub const WIDTH_LADDER: [u32; 9] = [240, 360, 480, 720, 960, 1280, 1920, 2560, 3840];

/// JPEG quality of derived images. 85 is a common choice for photos at screen size; not tuned
/// against posters yet.
const JPEG_QUALITY: u8 = 85;

/// Bounds on the originals a derivation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Maximum width times height.
    pub max_pixels: u64,
    /// Maximum width or height.
    pub max_side: u32,
    /// Maximum original file size, in bytes.
    pub max_input_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
            max_side: 20_000,
            max_input_bytes: 50 * 1024 * 1024,
        }
    }
}

/// Rule for filling the requested box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The whole image fits inside the box; one side may be shorter.
    Contain,
    /// The image fills the box; the excess is cropped evenly from both sides.
    Cover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jpeg,
    Webp,
    /// Keeps transparency, for clear logos.
    Png,
}

impl OutputFormat {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Png => "image/png",
        }
    }
}

/// A requested derived image: size, fit and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeriveRequest {
    /// Requested width; snapped with [`snap_width`].
    pub width: u32,
    /// Requested height; `None` keeps the aspect ratio.
    pub height: Option<u32>,
    pub fit: Fit,
    pub format: OutputFormat,
}

/// An encoded derived image.
#[derive(Debug, Clone)]
pub struct Derived {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    #[error("the original is {bytes} bytes, over the limit of {max}")]
    InputTooLarge { bytes: u64, max: u64 },
    #[error(
        "the original declares {width}×{height} pixels, over the limit of {max_pixels} pixels or {max_side} per side"
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
        max_side: u32,
    },
    #[error("the original is not an image in a supported format")]
    UnknownFormat,
    /// Empty, truncated or otherwise broken, as found by the header probe.
    #[error("the original is not a usable image: {0}")]
    Invalid(#[source] crate::ProbeError),
    #[error("the original cannot be decoded: {0}")]
    Decode(#[source] image::ImageError),
    #[error("resizing failed: {0}")]
    Resize(String),
    #[error("encoding failed: {0}")]
    Encode(#[source] image::ImageError),
}

/// Returns the ladder width for a requested width: the smallest step at least as wide, or the
/// widest step.
pub fn snap_width(requested: u32) -> u32 {
    WIDTH_LADDER
        .into_iter()
        .find(|&step| step >= requested)
        .unwrap_or(WIDTH_LADDER[WIDTH_LADDER.len() - 1])
}

/// Decodes `original`, applies its EXIF orientation, fits it to the request and encodes it.
/// Never upscales: an original smaller than the box keeps its size.
pub fn derive(
    original: &[u8],
    request: &DeriveRequest,
    limits: &DecodeLimits,
) -> Result<Derived, DeriveError> {
    let image = decode_upright(original, limits)?;

    let width = snap_width(request.width);
    let (target_width, target_height) = target_size(
        image.width(),
        image.height(),
        width,
        request.height,
        request.fit,
    );
    let resized = resize(&image, target_width, target_height, request.fit)?;
    encode(resized, request.format)
}

/// Decodes within `limits`, checking the declared size before any pixel buffer is allocated,
/// and returns the image turned upright.
pub fn decode_upright(original: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, DeriveError> {
    let bytes = original.len() as u64;
    if bytes > limits.max_input_bytes {
        return Err(DeriveError::InputTooLarge {
            bytes,
            max: limits.max_input_bytes,
        });
    }

    // The probe reads only the header and the end, and rejects truncated files that decoders
    // would otherwise fill with grey.
    let probe = crate::probe_bytes(original).map_err(|error| match error {
        crate::ProbeError::NotAnImage => DeriveError::UnknownFormat,
        other => DeriveError::Invalid(other),
    })?;
    check_pixels(probe.width, probe.height, limits)?;

    let reader = ImageReader::new(Cursor::new(original))
        .with_guessed_format()
        .map_err(|error| DeriveError::Decode(image::ImageError::IoError(error)))?;
    if reader.format().is_none() {
        return Err(DeriveError::UnknownFormat);
    }
    let mut decoder = reader.into_decoder().map_err(DeriveError::Decode)?;

    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // The decoder's own allocation cap backs the header check up: 16-bit RGBA is 8 bytes per
    // pixel, the most any supported format needs.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    decoder
        .set_limits(decoder_limits)
        .map_err(DeriveError::Decode)?;

    let orientation = decoder.orientation().map_err(DeriveError::Decode)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(DeriveError::Decode)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn check_pixels(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DeriveError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width.max(height) > limits.max_side || pixels == 0 {
        return Err(DeriveError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
            max_side: limits.max_side,
        });
    }
    Ok(())
}

/// Computes the output size. `Contain` scales to fit inside `width`×`height`; `Cover` takes the
/// box itself. Neither scales up beyond the original.
fn target_size(
    source_width: u32,
    source_height: u32,
    width: u32,
    height: Option<u32>,
    fit: Fit,
) -> (u32, u32) {
    let (source_width_f, source_height_f) = (f64::from(source_width), f64::from(source_height));
    let height = height
        .unwrap_or_else(|| (f64::from(width) * source_height_f / source_width_f).round() as u32);
    let (width, height) = (width.max(1), height.max(1));

    match fit {
        Fit::Contain => {
            let scale = (f64::from(width) / source_width_f)
                .min(f64::from(height) / source_height_f)
                .min(1.0);
            (
                ((source_width_f * scale).round() as u32).max(1),
                ((source_height_f * scale).round() as u32).max(1),
            )
        }
        Fit::Cover => {
            // Shrink the box by the same factor when the original is too small to fill it.
            let scale = (source_width_f / f64::from(width))
                .min(source_height_f / f64::from(height))
                .min(1.0);
            (
                ((f64::from(width) * scale).round() as u32).max(1),
                ((f64::from(height) * scale).round() as u32).max(1),
            )
        }
    }
}

/// Converts to 8-bit RGB or RGBA and resizes with a Lanczos filter, cropping evenly for `Cover`.
fn resize(
    image: &DynamicImage,
    width: u32,
    height: u32,
    fit: Fit,
) -> Result<DynamicImage, DeriveError> {
    let source = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    if source.width() == width && source.height() == height {
        return Ok(source);
    }

    let mut target = DynamicImage::new(width, height, source.color());
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if fit == Fit::Cover {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    Resizer::new()
        .resize(&source, &mut target, &options)
        .map_err(|error| DeriveError::Resize(error.to_string()))?;
    Ok(target)
}

fn encode(image: DynamicImage, format: OutputFormat) -> Result<Derived, DeriveError> {
    let (width, height) = (image.width(), image.height());
    let mut bytes = Vec::new();
    let encoded = match format {
        OutputFormat::Jpeg => {
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY).write_image(
                rgb.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgb8,
            )
        }
        OutputFormat::Webp => {
            // The image crate encodes lossless WebP only; still smaller than PNG for photos.
            let rgba = image.to_rgba8();
            WebPEncoder::new_lossless(&mut bytes).write_image(
                rgba.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
        }
        OutputFormat::Png => {
            let rgba = image.to_rgba8();
            PngEncoder::new(&mut bytes).write_image(
                rgba.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
        }
    };
    encoded.map_err(DeriveError::Encode)?;
    Ok(Derived {
        bytes,
        format,
        width,
        height,
    })
}

#[cfg(test)]
#[path = "derive_tests.rs"]
mod tests;
