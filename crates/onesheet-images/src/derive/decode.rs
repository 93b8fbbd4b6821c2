//! Limit checks and decoding to 8-bit grey, RGB or RGBA in the stored orientation.

use std::io::Cursor;

use image::error::{DecodingError, ImageFormatHint};
use image::metadata::Orientation;
use image::{
    ColorType, DynamicImage, GrayImage, ImageDecoder, ImageError, ImageReader, RgbImage, RgbaImage,
};

use super::color::{self, PendingConversion};
use super::jpeg_scaled::{self, ScaleRule};
use super::{DecodeLimits, DeriveError, DeriveWarning};
use crate::{ImageFormat, ProbeError};

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
    let probe = match crate::probe_bytes(original) {
        Ok(probe) => probe,
        Err(ProbeError::NotAnImage) => return Err(DeriveError::UnknownFormat),
        Err(ProbeError::Unsupported { format }) => {
            return Err(DeriveError::Unsupported { format });
        }
        // A header over the pixel limit is reported as such even when the file is also too
        // short for it, because the limit names the fix more directly.
        Err(error @ ProbeError::TooSmallForSize { width, height, .. }) => {
            check_pixels(width, height, limits)?;
            return Err(DeriveError::Invalid(error));
        }
        Err(other) => return Err(DeriveError::Invalid(other)),
    };
    check_pixels(probe.width, probe.height, limits)?;

    match probe.format {
        ImageFormat::Jpeg => jpeg_scaled::decode(original, limits, min_size, rule),
        ImageFormat::Png => decode_png(original, limits),
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

/// Rejects a decode whose buffers, `needed` bytes as estimated from the header, would not fit
/// in the memory budget.
pub(super) fn check_budget(
    width: u32,
    height: u32,
    needed: u64,
    limits: &DecodeLimits,
) -> Result<(), DeriveError> {
    let budget = limits.memory_budget();
    if needed > budget {
        return Err(DeriveError::OverMemoryBudget {
            width,
            height,
            needed,
            budget,
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

/// Decodes a PNG with the `png` crate, straight to 8 bits per sample: 16-bit samples are cut
/// to their high byte row by row, palettes are expanded, and grey with alpha is widened to
/// RGBA inside the same buffer. The `image` crate's decoder returns 16-bit samples as they
/// are, and converting them needs a second full buffer: 12 bytes per RGBA pixel at the peak
/// where this takes 4.
fn decode_png(original: &[u8], limits: &DecodeLimits) -> Result<Decoded, DeriveError> {
    const FORMAT: image::ImageFormat = image::ImageFormat::Png;
    let png_error = |error: png::DecodingError| decode_error(FORMAT, error);

    // The crate's own limit covers its row buffers and metadata; the pixel buffer below is
    // checked against the budget before it is allocated.
    let png_limits = png::Limits {
        bytes: usize::try_from(limits.memory_budget()).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(original), png_limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (width, height) = reader.info().size();
    check_pixels(width, height, limits)?;

    let (color_type, _) = reader.output_color_type();
    let channels: u8 = match color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::Rgb => 3,
        png::ColorType::GrayscaleAlpha | png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(decode_error(FORMAT, "the palette was not expanded"));
        }
    };
    let pixels = u64::from(width) * u64::from(height);
    let needed = pixels * u64::from(channels);
    check_budget(width, height, needed, limits)?;

    let too_large = || decode_error(FORMAT, "the image does not fit in memory");
    let len = usize::try_from(needed).map_err(|_| too_large())?;
    let decoded_len = reader.output_buffer_size().ok_or_else(too_large)?;
    let mut buffer = vec![0; len.max(decoded_len)];
    reader.next_frame(&mut buffer).map_err(png_error)?;
    if color_type == png::ColorType::GrayscaleAlpha {
        widen_grey_alpha(&mut buffer, len / 4);
    }
    buffer.truncate(len);

    let info = reader.info();
    let orientation = info
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let icc = info.icc_profile.as_deref().map(<[u8]>::to_vec);

    let mismatch = || decode_error(FORMAT, "decoded buffer does not match the dimensions");
    let image = match channels {
        1 => GrayImage::from_raw(width, height, buffer).map(DynamicImage::ImageLuma8),
        3 => RgbImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgb8),
        _ => RgbaImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgba8),
    }
    .ok_or_else(mismatch)?;
    Ok(finish(image, orientation, icc.as_deref()))
}

/// Turns `pixels` grey-with-alpha pairs at the start of `buffer` into RGBA quadruples that
/// fill it. Working from the last pixel backwards, every write lands at or after the pair it
/// reads, so no pair is overwritten before it is read.
fn widen_grey_alpha(buffer: &mut [u8], pixels: usize) {
    for index in (0..pixels).rev() {
        let (grey, alpha) = (buffer[2 * index], buffer[2 * index + 1]);
        buffer[4 * index..4 * index + 4].copy_from_slice(&[grey, grey, grey, alpha]);
    }
}

/// Decodes WebP, GIF and BMP through the `image` crate. Animated GIF and WebP files give their
/// first frame.
fn decode_with_image_crate(original: &[u8], limits: &DecodeLimits) -> Result<Decoded, DeriveError> {
    let reader = ImageReader::new(Cursor::new(original))
        .with_guessed_format()
        .map_err(|error| DeriveError::Decode(ImageError::IoError(error)))?;
    if reader.format().is_none() {
        return Err(DeriveError::UnknownFormat);
    }
    let mut decoder = reader.into_decoder().map_err(|error| match error {
        // A variant the decoder does not implement, such as a BMP that embeds a JPEG.
        ImageError::Unsupported(_) => DeriveError::UnknownFormat,
        other => DeriveError::Decode(other),
    })?;

    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // The buffer the decoder fills, plus the 8-bit copy for the colour types the rest of the
    // pipeline does not take. None of these formats decodes to such a type today.
    let pixels = u64::from(width) * u64::from(height);
    let conversion = match decoder.color_type() {
        ColorType::L8 | ColorType::Rgb8 | ColorType::Rgba8 => 0,
        other if other.has_alpha() => pixels * 4,
        _ => pixels * 3,
    };
    check_budget(width, height, decoder.total_bytes() + conversion, limits)?;

    // The decoder's own allocation cap backs the estimate up.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.memory_budget());
    decoder
        .set_limits(decoder_limits)
        .map_err(DeriveError::Decode)?;

    let orientation = decoder.orientation().map_err(DeriveError::Decode)?;
    let icc = decoder.icc_profile().map_err(DeriveError::Decode)?;
    let image = DynamicImage::from_decoder(decoder).map_err(DeriveError::Decode)?;
    Ok(finish(to_8_bit(image), orientation, icc.as_deref()))
}

/// Prepares the colour conversion and records the upright size.
fn finish(image: DynamicImage, orientation: Orientation, icc: Option<&[u8]>) -> Decoded {
    let mut warnings = Vec::new();
    let color = color::prepare(icc, color::pixels_of(&image), &mut warnings);
    let (width, height) = (image.width(), image.height());
    let (upright_width, upright_height) = if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Decoded {
        image,
        orientation,
        color,
        warnings,
        upright_width,
        upright_height,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_alpha_widens_in_place() {
        let mut buffer = vec![0; 12];
        buffer[..6].copy_from_slice(&[10, 255, 20, 128, 30, 0]);

        widen_grey_alpha(&mut buffer, 3);

        assert_eq!(buffer, [10, 10, 10, 255, 20, 20, 20, 128, 30, 30, 30, 0]);
    }
}
