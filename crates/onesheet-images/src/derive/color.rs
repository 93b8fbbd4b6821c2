//! Colour: embedded ICC profiles to sRGB, and CMYK to RGB.
//!
//! Profiles are parsed and applied with `moxcms`, a pure-Rust colour management library that
//! handles matrix-shaper RGB, grey and LUT-based CMYK profiles (the kinds found in posters
//! exported from print tools). An sRGB profile, which most camera and web images carry, is
//! recognised from its primaries and tone curves and skipped, so the common case costs nothing.
//! A profile that fails to parse, or that does not match the pixels (an RGB profile on a grey
//! image, say), is ignored and reported as a [`DeriveWarning`]: the image is still produced, as
//! browsers do.

use image::{DynamicImage, RgbImage, RgbaImage};
use moxcms::{ColorProfile, DataColorSpace, Layout, ToneReprCurve, TransformOptions, Xyzd};

use super::DeriveWarning;

/// An ICC conversion to sRGB that is still to be applied. Deferring it lets [`super::derive`]
/// convert the resized image instead of the full-size one.
#[derive(Default)]
pub(super) struct PendingConversion {
    profile: Option<ColorProfile>,
}

/// The kind of pixels a profile is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pixels {
    Grey,
    /// RGB with or without alpha.
    Rgb,
}

/// Parses `icc` and decides whether the pixels need converting. Returns no conversion for a
/// missing profile, an sRGB profile, or an unusable one; the last also returns a warning.
pub(super) fn prepare(
    icc: Option<&[u8]>,
    pixels: Pixels,
    warnings: &mut Vec<DeriveWarning>,
) -> PendingConversion {
    let Some(icc) = icc else {
        return PendingConversion::default();
    };
    let profile = match ColorProfile::new_from_slice(icc) {
        Ok(profile) => profile,
        Err(error) => {
            warnings.push(ignored(format!("failed to parse it: {error}")));
            return PendingConversion::default();
        }
    };

    let usable = match (profile.color_space, pixels) {
        (DataColorSpace::Rgb, Pixels::Rgb) => !is_srgb(&profile),
        (DataColorSpace::Gray, Pixels::Grey) => true,
        (space, pixels) => {
            warnings.push(ignored(format!(
                "it describes {space:?} colours but the pixels are {pixels:?}"
            )));
            false
        }
    };
    PendingConversion {
        profile: usable.then_some(profile),
    }
}

/// Converts `image` to sRGB in place. A grey image with a grey profile becomes RGB, because
/// the profile's tone curve need not be the sRGB one.
pub(super) fn apply(
    image: &mut DynamicImage,
    pending: PendingConversion,
    warnings: &mut Vec<DeriveWarning>,
) {
    let Some(profile) = pending.profile else {
        return;
    };
    let srgb = ColorProfile::new_srgb();
    let (width, height) = (image.width(), image.height());

    let converted = match image {
        DynamicImage::ImageRgb8(pixels) => {
            transform(&profile, Layout::Rgb, &srgb, Layout::Rgb, pixels, 3)
                .and_then(|raw| RgbImage::from_raw(width, height, raw).map(DynamicImage::from))
        }
        DynamicImage::ImageRgba8(pixels) => {
            transform(&profile, Layout::Rgba, &srgb, Layout::Rgba, pixels, 4)
                .and_then(|raw| RgbaImage::from_raw(width, height, raw).map(DynamicImage::from))
        }
        DynamicImage::ImageLuma8(pixels) => {
            transform(&profile, Layout::Gray, &srgb, Layout::Rgb, pixels, 3)
                .and_then(|raw| RgbImage::from_raw(width, height, raw).map(DynamicImage::from))
        }
        // NOTE: grey with alpha was widened to RGBA before this point, so its grey profile no
        // longer matches and the pixels are kept as they are.
        _ => return,
    };

    match converted {
        Some(converted) => *image = converted,
        None => warnings.push(ignored(
            "the colour transform could not be built from it".to_owned(),
        )),
    }
}

/// Converts CMYK ink values (0 is no ink, 255 is full ink, as ICC profiles define them) to RGB.
/// Uses the embedded CMYK profile when there is a usable one, and otherwise the plain formula
/// `R = (1 - C) × (1 - K)`, which is what browsers show for CMYK JPEGs without a profile.
pub(super) fn cmyk_to_rgb(
    ink: &[u8],
    width: u32,
    height: u32,
    icc: Option<&[u8]>,
    warnings: &mut Vec<DeriveWarning>,
) -> Option<RgbImage> {
    if let Some(icc) = icc {
        match ColorProfile::new_from_slice(icc) {
            Ok(profile) if profile.color_space == DataColorSpace::Cmyk => {
                let srgb = ColorProfile::new_srgb();
                // CMYK uses the four-channel RGBA layout in moxcms.
                // NOTE: no test covers this branch, because a CMYK LUT profile is hard to build
                // in code. It was checked by hand with Ghostscript 10.0's default_cmyk.icc, which
                // turns full magenta and yellow ink into RGB (238, 51, 56).
                match transform(&profile, Layout::Rgba, &srgb, Layout::Rgb, ink, 3) {
                    Some(raw) => return RgbImage::from_raw(width, height, raw),
                    None => warnings.push(ignored(
                        "the colour transform could not be built from it".to_owned(),
                    )),
                }
            }
            Ok(profile) => warnings.push(ignored(format!(
                "it describes {:?} colours but the pixels are CMYK",
                profile.color_space
            ))),
            Err(error) => warnings.push(ignored(format!("failed to parse it: {error}"))),
        }
    }

    let mut rgb = Vec::with_capacity(ink.len() / 4 * 3);
    for pixel in ink.chunks_exact(4) {
        let white = 255 - u32::from(pixel[3]);
        for &colorant in &pixel[..3] {
            let value = (255 - u32::from(colorant)) * white;
            // Rounded division by 255; the value is at most 255 × 255.
            rgb.push(((value + 127) / 255) as u8);
        }
    }
    RgbImage::from_raw(width, height, rgb)
}

/// Runs one 8-bit transform. Returns `None` when moxcms cannot build or run it; the caller
/// reports that as an ignored profile.
fn transform(
    source: &ColorProfile,
    source_layout: Layout,
    target: &ColorProfile,
    target_layout: Layout,
    pixels: &[u8],
    target_channels: usize,
) -> Option<Vec<u8>> {
    let source_channels = match source_layout {
        Layout::Gray => 1,
        Layout::GrayAlpha => 2,
        Layout::Rgb => 3,
        _ => 4,
    };
    let executor = source
        .create_transform_8bit(
            source_layout,
            target,
            target_layout,
            TransformOptions::default(),
        )
        .ok()?;
    let mut output = vec![0; pixels.len() / source_channels * target_channels];
    executor.transform(pixels, &mut output).ok()?;
    Some(output)
}

fn ignored(reason: String) -> DeriveWarning {
    DeriveWarning::IccProfileIgnored { reason }
}

/// Checks whether an RGB profile is sRGB: the sRGB primaries (as D50-adapted colorants) and the
/// sRGB tone curve on every channel. Matches the common v2 profile with 1024-entry curves and
/// the v4 profiles with parametric ones.
fn is_srgb(profile: &ColorProfile) -> bool {
    /// Largest colorant difference still taken as sRGB. Published sRGB profiles differ from each
    /// other by about 0.0005 because of rounding to the ICC fixed-point format.
    const COLORANT_TOLERANCE: f64 = 0.002;
    /// Largest tone curve difference, in linear light from 0 to 1; well under one 8-bit step.
    const CURVE_TOLERANCE: f64 = 0.001;

    if !profile.is_matrix_shaper() {
        return false;
    }
    let reference = ColorProfile::new_srgb();
    let close = |a: Xyzd, b: Xyzd| {
        (a.x - b.x).abs() < COLORANT_TOLERANCE
            && (a.y - b.y).abs() < COLORANT_TOLERANCE
            && (a.z - b.z).abs() < COLORANT_TOLERANCE
    };
    if !(close(profile.red_colorant, reference.red_colorant)
        && close(profile.green_colorant, reference.green_colorant)
        && close(profile.blue_colorant, reference.blue_colorant))
    {
        return false;
    }

    [&profile.red_trc, &profile.green_trc, &profile.blue_trc]
        .into_iter()
        .all(|curve| {
            curve.as_ref().is_some_and(|curve| {
                (0..=32).all(|step| {
                    let encoded = f64::from(step) / 32.0;
                    evaluate_curve(curve, encoded).is_some_and(|linear| {
                        (linear - srgb_to_linear(encoded)).abs() < CURVE_TOLERANCE
                    })
                })
            })
        })
}

/// The sRGB transfer function (IEC 61966-2-1), encoded value to linear light.
fn srgb_to_linear(encoded: f64) -> f64 {
    if encoded <= 0.040_45 {
        encoded / 12.92
    } else {
        ((encoded + 0.055) / 1.055).powf(2.4)
    }
}

/// Evaluates an ICC tone curve (`curv` table or `para` function, ICC.1:2010 section 10.5 and
/// 10.18) at `x` from 0 to 1. Returns `None` for a parameter count the standard does not define.
fn evaluate_curve(curve: &ToneReprCurve, x: f64) -> Option<f64> {
    match curve {
        ToneReprCurve::Lut(table) => match table.as_slice() {
            [] => Some(x),
            // A single entry is a gamma in unsigned 8.8 fixed point.
            [gamma] => Some(x.powf(f64::from(*gamma) / 256.0)),
            table => {
                let position = x * (table.len() - 1) as f64;
                let index = (position.floor() as usize).min(table.len() - 2);
                let fraction = position - index as f64;
                let low = f64::from(table[index]);
                let high = f64::from(table[index + 1]);
                Some((low + (high - low) * fraction) / 65535.0)
            }
        },
        ToneReprCurve::Parametric(parameters) => {
            let p: Vec<f64> = parameters.iter().map(|&v| f64::from(v)).collect();
            let power = |a: f64, b: f64, g: f64| (a * x + b).max(0.0).powf(g);
            match p.as_slice() {
                [g] => Some(x.powf(*g)),
                [g, a, b] => Some(if x >= -b / a { power(*a, *b, *g) } else { 0.0 }),
                [g, a, b, c] => Some(if x >= -b / a {
                    power(*a, *b, *g) + c
                } else {
                    *c
                }),
                [g, a, b, c, d] => Some(if x >= *d { power(*a, *b, *g) } else { c * x }),
                [g, a, b, c, d, e, f] => Some(if x >= *d {
                    power(*a, *b, *g) + e
                } else {
                    c * x + f
                }),
                _ => None,
            }
        }
    }
}

/// Returns the grey, RGB and RGBA buffers' kind for [`prepare`].
pub(super) fn pixels_of(image: &DynamicImage) -> Pixels {
    match image {
        DynamicImage::ImageLuma8(_) => Pixels::Grey,
        _ => Pixels::Rgb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_profiles_are_recognised() {
        let bytes = ColorProfile::new_srgb().encode().unwrap();
        let srgb = ColorProfile::new_from_slice(&bytes).unwrap();
        assert!(is_srgb(&srgb));
        assert!(!is_srgb(&ColorProfile::new_display_p3()));
    }

    #[test]
    fn table_curve_matches_srgb() {
        let table: Vec<u16> = (0..1024)
            .map(|i| (srgb_to_linear(f64::from(i) / 1023.0) * 65535.0).round() as u16)
            .collect();
        let curve = ToneReprCurve::Lut(table);
        for x in [0.0, 0.02, 0.3, 0.71, 1.0] {
            let value = evaluate_curve(&curve, x).unwrap();
            assert!((value - srgb_to_linear(x)).abs() < 0.0005, "{x}: {value}");
        }
    }

    #[test]
    fn cmyk_formula_without_profile() {
        let mut warnings = Vec::new();
        // No ink is white, full black is black, full magenta and yellow is red.
        let ink = [0, 0, 0, 0, 0, 0, 0, 255, 0, 255, 255, 0];
        let rgb = cmyk_to_rgb(&ink, 3, 1, None, &mut warnings).unwrap();
        assert_eq!(rgb.as_raw(), &[255, 255, 255, 0, 0, 0, 255, 0, 0]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn unparsable_profile_is_reported() {
        let mut warnings = Vec::new();
        let pending = prepare(Some(b"not a profile"), Pixels::Rgb, &mut warnings);
        assert!(pending.profile.is_none());
        assert_eq!(warnings.len(), 1);
    }
}
