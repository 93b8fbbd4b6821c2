//! Derived images: decode an original within limits, turn it upright, fit it to a box and encode
//! it for a screen.
//!
//! Every size and allocation limit is checked from the header before a pixel buffer exists, so a
//! small file that declares 100000×100000 pixels is rejected without allocating. Widths snap to
//! [`WIDTH_LADDER`], which keeps the number of variants of one image small whatever clients ask.
//!
//! The steps, in order:
//!
//! 1. The header is probed and checked against the limits, then the original is decoded. A JPEG
//!    is decoded at the smallest DCT scale (1/8, 2/8, 3/8 or 4/8) that still covers the output
//!    box, which skips most of the inverse DCT and colour conversion work for large originals.
//!    The 1/8 scale is used only when it covers twice the box (see `ScaleRule`).
//! 2. Resizing runs in the stored orientation, and the EXIF rotation is applied to the small
//!    result, because rotating the full-size image would copy every pixel once more.
//! 3. An embedded ICC profile is converted to sRGB after resizing, for the same reason. Profiles
//!    that fail to parse are ignored and reported in [`Derived::warnings`].
//! 4. The result is encoded as JPEG (`jpeg-encoder`), lossy WebP (libwebp) or PNG.
//!
//! This is a blocking, CPU-bound function: the caller runs it on a bounded blocking pool.
//!
//! # Memory
//!
//! Each decode has a budget of [`DecodeLimits::memory_budget`], 4 bytes per pixel of
//! `max_pixels` (400 MB at the defaults, 100 megapixels of 8-bit RGBA). Before any pixel
//! buffer exists, the bytes the decoder will need are estimated from the header. The estimate
//! is width × height × channels × bytes per sample, plus what the JPEG decoder keeps beside the
//! output. For a progressive JPEG that includes the DCT coefficients of the whole image, which
//! libjpeg-turbo also keeps when the components come in separate scans. `jpeg-decoder` adds its
//! component planes, and a CMYK JPEG its RGB copy. An original over the budget fails with
//! [`DeriveError::OverMemoryBudget`]. PNG is decoded straight to 8 bits per sample,
//! so a 16-bit PNG never exists as a 16-bit copy beside its 8-bit one.
//!
//! The peak of one worker is then about the decoded image (at most the budget) plus the
//! resize's intermediate buffer (source width × output height) and its output, which the box
//! bounds at 3840 pixels wide. RGBA is premultiplied in place rather than copied. A
//! 10000×10000 RGBA original resized to 3840×3840 takes about 400 + 154 + 59 MB, so the
//! worst case per worker is about 1.5 times the budget, and the whole pool about `workers`
//! times that.
//!
//! NOTE: working memory inside the `image` crate's decoders is not counted. Lossy WebP, for
//! one, keeps its YUV and alpha planes beside the output, an estimated 2.5 bytes per pixel.

mod color;
mod decode;
mod encode;
mod jpeg_scaled;
mod libjpeg;
mod resize;

use image::DynamicImage;

use self::decode::Decoded;
use self::jpeg_scaled::ScaleRule;
use self::resize::{resize, target_size};

/// Widths a derived image may have, in pixels. A request snaps up to the next step, or down to
/// the last one.
pub const WIDTH_LADDER: [u32; 9] = [240, 360, 480, 720, 960, 1280, 1920, 2560, 3840];

/// Version of the decode, resize and encode steps. Cache keys include it, so it must change
/// whenever the same original and request could produce different output bytes.
///
/// 2: DCT-scaled JPEG decoding, ICC conversion to sRGB, `jpeg-encoder` for JPEG, lossy WebP,
/// and PNG written in the decoded colour type rather than always RGBA.
/// 3: transparency composited over black for JPEG, 16-bit PNG cut to 8 bits by the `png`
/// crate, and BMP decoded.
/// 4: scaled JPEG decodes by libjpeg-turbo instead of `jpeg-decoder`, with 3/8 added to the
/// scales.
pub const PIPELINE_VERSION: u32 = 4;

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

impl DecodeLimits {
    /// Returns the maximum bytes one decode may use: 4 per pixel of `max_pixels`, the size of
    /// the largest accepted image as 8-bit RGBA.
    pub fn memory_budget(&self) -> u64 {
        self.max_pixels.saturating_mul(4)
    }
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
    /// Lossy WebP, with a lossless alpha plane when the original has transparency.
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
    /// Problems that did not stop the derivation but may have changed its colours, for the
    /// caller to log.
    pub warnings: Vec<DeriveWarning>,
}

/// A problem with an original that the derivation worked around.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveWarning {
    /// The embedded ICC profile was unusable, so the pixels were taken as sRGB (or, for CMYK,
    /// converted with a plain formula).
    #[error("the embedded ICC profile was ignored: {reason}")]
    IccProfileIgnored { reason: String },
}

/// Reason a derivation failed. `InputTooLarge`, `TooManyPixels` and `OverMemoryBudget` are
/// limits, `UnknownFormat`, `Unsupported` and `Invalid` describe the file before any decoding,
/// `Decode` is a decoder failure, and `Resize` and `Encode` are internal errors that no
/// original should cause.
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
    /// Decoding would need more than [`DecodeLimits::memory_budget`] bytes, as estimated from
    /// the header.
    #[error(
        "decoding the {width}×{height} original needs about {needed} bytes, over the budget of {budget} (4 bytes per pixel of images.max_pixels); lower its resolution or raise images.max_pixels"
    )]
    OverMemoryBudget {
        width: u32,
        height: u32,
        needed: u64,
        budget: u64,
    },
    /// Not an image in any format the probe recognises.
    #[error("the original is not an image in a supported format")]
    UnknownFormat,
    /// A recognised format with no decoder in this build (AVIF).
    #[error(
        "{format} originals cannot be decoded by this version of Onesheet; convert the file to JPEG or WebP"
    )]
    Unsupported { format: crate::ImageFormat },
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
    let width = snap_width(request.width);
    let fit_box = |source_width, source_height| {
        target_size(
            source_width,
            source_height,
            width,
            request.height,
            request.fit,
        )
    };
    let Decoded {
        image,
        orientation,
        color,
        mut warnings,
        upright_width,
        upright_height,
    } = decode::decode(original, limits, fit_box, ScaleRule::BeforeResize)?;
    let (target_width, target_height) = fit_box(upright_width, upright_height);

    // Resize in the stored orientation, then rotate the small result.
    let (stored_width, stored_height) = if decode::swaps_axes(orientation) {
        (target_height, target_width)
    } else {
        (target_width, target_height)
    };
    let mut resized = resize(image, stored_width, stored_height, request.fit)?;
    resized.apply_orientation(orientation);
    color::apply(&mut resized, color, &mut warnings);

    let bytes = encode::encode(&resized, request.format)?;
    Ok(Derived {
        bytes,
        format: request.format,
        width: resized.width(),
        height: resized.height(),
        warnings,
    })
}

/// Decodes within `limits`, checking the declared size before any pixel buffer is allocated,
/// and returns the full-size image upright, in sRGB, as 8-bit grey, RGB or RGBA.
pub fn decode_upright(original: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, DeriveError> {
    decode_upright_at_least(original, limits, u32::MAX, u32::MAX)
}

/// Like [`decode_upright`], but a JPEG may be decoded at 1/8, 2/8, 3/8 or 4/8 of its size: the
/// smallest of those scales whose upright result is still at least `min_width`×`min_height`.
/// Other formats, and JPEGs smaller than the minimum, are decoded at full size.
///
/// The result is upright, so for EXIF orientations 5 to 8 `min_width` bounds the stored height.
pub fn decode_upright_at_least(
    original: &[u8],
    limits: &DecodeLimits,
    min_width: u32,
    min_height: u32,
) -> Result<DynamicImage, DeriveError> {
    let Decoded {
        mut image,
        orientation,
        color,
        mut warnings,
        ..
    } = decode::decode(
        original,
        limits,
        |_, _| (min_width, min_height),
        ScaleRule::Smallest,
    )?;
    image.apply_orientation(orientation);
    color::apply(&mut image, color, &mut warnings);
    Ok(image)
}

#[cfg(test)]
#[path = "derive_tests/mod.rs"]
mod tests;
