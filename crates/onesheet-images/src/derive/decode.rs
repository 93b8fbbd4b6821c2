//! Limit checks and decoding to 8-bit grey, RGB or RGBA in the stored orientation.

use std::io::Cursor;

use image::error::{DecodingError, ImageFormatHint};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader};

use super::color::{self, PendingConversion};
use super::jpeg_scaled::{self, ScaleRule};
use super::{DecodeLimits, DeriveError, DeriveWarning};
use crate::ImageFormat;

/// A decoded original, not yet turned upright or converted to sRGB.
pub(super) struct Decoded {
    /// 8-bit grey, RGB or RGBA, possibly smaller than the original for a DCT-scaled JPEG.
    pub image: DynamicImage,
    /// The EXIF orientation still to apply.
    pub orientation: Orientation,
    pub color: PendingConversion,
    pub warnings: Vec<DeriveWarning>,
    /// Size of the original as displayed, that is after the orientation.
    pub upright_width: u32,
    pub upright_height: u32,
}

/// Returns true for the orientations that turn the picture by 90 or 270 degrees.
pub(super) fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Checks the limits against the file size and the header, then decodes. `min_size` maps the
/// upright size of the original to the smallest upright size the caller can use. Only JPEG
/// decoding uses it, within `rule`.
pub(super) fn decode(
    original: &[u8],
    limits: &DecodeLimits,
    min_size: impl Fn(u32, u32) -> (u32, u32),
    rule: ScaleRule,
) -> Result<Decoded, DeriveError> {
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

    match probe.format {
        ImageFormat::Jpeg => jpeg_scaled::decode(original, limits, min_size, rule),
        _ => decode_with_image_crate(original, limits),
    }
}

pub(super) fn check_pixels(
    width: u32,
    height: u32,
    limits: &DecodeLimits,
) -> Result<(), DeriveError> {
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

/// Wraps a decoder's message in the error type [`DeriveError::Decode`] carries.
pub(super) fn decode_error(
    format: image::ImageFormat,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> DeriveError {
    DeriveError::Decode(ImageError::Decoding(DecodingError::new(
        ImageFormatHint::Exact(format),
        error,
    )))
}

/// Decodes PNG, WebP and GIF through the `image` crate. Animated GIF and WebP files give their
/// first frame.
fn decode_with_image_crate(original: &[u8], limits: &DecodeLimits) -> Result<Decoded, DeriveError> {
    let reader = ImageReader::new(Cursor::new(original))
        .with_guessed_format()
        .map_err(|error| DeriveError::Decode(ImageError::IoError(error)))?;
    if reader.format().is_none() {
        return Err(DeriveError::UnknownFormat);
    }
    let mut decoder = reader.into_decoder().map_err(|error| match error {
        // AVIF and BMP pass the probe, but this build has no decoder for them.
        ImageError::Unsupported(_) => DeriveError::UnknownFormat,
        other => DeriveError::Decode(other),
    })?;

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
    let icc = decoder.icc_profile().map_err(DeriveError::Decode)?;
    let image = DynamicImage::from_decoder(decoder).map_err(DeriveError::Decode)?;
    let image = to_8_bit(image);

    let mut warnings = Vec::new();
    let color = color::prepare(icc.as_deref(), color::pixels_of(&image), &mut warnings);
    let (upright_width, upright_height) = if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(Decoded {
        image,
        orientation,
        color,
        warnings,
        upright_width,
        upright_height,
    })
}

/// Converts to the three types the rest of the pipeline handles: 8-bit grey, RGB and RGBA.
/// Grey with alpha becomes RGBA, 16-bit and float images become 8-bit.
fn to_8_bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => {
            image
        }
        image if image.color().has_alpha() => DynamicImage::ImageRgba8(image.to_rgba8()),
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        image => DynamicImage::ImageRgb8(image.to_rgb8()),
    }
}
