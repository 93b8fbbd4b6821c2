//! Output size and resampling.

use fast_image_resize::{FilterType, MulDiv, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use super::{DeriveError, Fit};

/// Computes the output size. `Contain` scales to fit inside `width`×`height`; `Cover` takes the
/// box itself. Neither scales up beyond the original.
pub(super) fn target_size(
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

/// Resizes an 8-bit grey, RGB or RGBA image with a Lanczos3 filter, cropping evenly for `Cover`.
/// RGBA is resized with premultiplied alpha, so transparent pixels do not bleed their colour.
/// The alpha is multiplied into `image` in place, where the resizer would premultiply into a
/// full-size copy of the source.
///
/// A DCT-scaled JPEG is at most twice the output size on its longer side, but it can be a few
/// pixels off the original's aspect ratio because the decoder rounds each side up. `Contain`
/// stretches over that difference, which is below one output pixel.
pub(super) fn resize(
    mut image: DynamicImage,
    width: u32,
    height: u32,
    fit: Fit,
) -> Result<DynamicImage, DeriveError> {
    if image.width() == width && image.height() == height {
        return Ok(image);
    }
    let resize_error = |error: &dyn std::fmt::Display| DeriveError::Resize(error.to_string());

    let has_alpha = image.color().has_alpha();
    let alpha = MulDiv::default();
    if has_alpha {
        alpha
            .multiply_alpha_inplace(&mut image)
            .map_err(|error| resize_error(&error))?;
    }

    let mut target = DynamicImage::new(width, height, image.color());
    let mut options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(false);
    if fit == Fit::Cover {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    Resizer::new()
        .resize(&image, &mut target, &options)
        .map_err(|error| resize_error(&error))?;
    drop(image);

    if has_alpha {
        alpha
            .divide_alpha_inplace(&mut target)
            .map_err(|error| resize_error(&error))?;
    }
    Ok(target)
}
