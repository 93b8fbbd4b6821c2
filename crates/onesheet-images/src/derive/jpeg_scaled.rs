//! JPEG decoding at a reduced DCT scale, with CMYK handled here rather than by the decoders.
//!
//! A JPEG stores 8×8 blocks of DCT coefficients. A decoder can run a 4×4, 2×2 or 1×1 inverse
//! DCT on each block to get the picture at 1/2, 1/4 or 1/8 of its size, for much less work than
//! decoding it whole and resizing. `zune-jpeg` (the `image` crate's decoder) has no
//! such option, so two decoders are used:
//!
//! - `zune-jpeg` for full-size grey and colour images. It is the faster of the two at full
//!   size: 33 ms against 50 ms for the benchmark's 2000×3000 JPEG, on one core.
//! - `jpeg-decoder` (`Decoder::scale`) for every scaled decode, and for all CMYK and YCCK images
//!   whatever the scale.
//!
//! # CMYK
//!
//! Adobe software writes CMYK JPEGs with inverted values (255 is no ink) and marks them with an
//! APP14 segment whose transform byte is 0 (CMYK) or 2 (YCCK). No standard says how to read CMYK
//! without that segment; browsers take it as inverted too, and so does this module, so a poster
//! looks as it does in a browser. `jpeg-decoder` 0.3 follows the same convention and returns true
//! ink values (0 is no ink) for all three cases, which is what an ICC CMYK profile expects, and
//! [`color::cmyk_to_rgb`] converts them. `zune-jpeg` 0.5 also gets all three right, but converts
//! straight to RGB, which leaves no way to apply the profile.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use super::color;
use super::decode::{Decoded, check_budget, check_pixels, decode_error, swaps_axes};
use super::{DecodeLimits, DeriveError, DeriveWarning};

const FORMAT: image::ImageFormat = image::ImageFormat::Jpeg;

/// Segments walked before giving up on finding the frame header.
const MAX_SEGMENTS: usize = 1024;

/// DCT scale denominators `jpeg-decoder` supports below full size, smallest picture first.
const SCALE_DENOMINATORS: [u32; 3] = [8, 4, 2];

/// Margin the chosen DCT scale keeps above the minimum size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScaleRule {
    /// The smallest scale that covers the minimum, for callers that want a small image fast.
    Smallest,
    /// For an image that is resized afterwards. The 1/8 scale keeps only the average of each
    /// 8×8 block, which looks blocky unless the resize that follows at least halves it, so it
    /// is used only when it covers twice the minimum. The 1/4 and 1/2 scales keep enough of
    /// each block to be resized by any factor.
    ///
    /// The rule comes from a comparison with a full decode resized by the same Lanczos3 filter,
    /// on three camera photos from 2268×1512 to 4256×2832. At 1/8 scale with 1.04× left to
    /// resize, a detailed landscape reached only 34.7 dB PSNR and looked blocky at 2× zoom.
    /// At 1/8 with 2.2× left it reached 52.6 dB, and at 1/4 or 1/2 with 1.2× to 1.7× left,
    /// 41.5 to 53.5 dB.
    BeforeResize,
}

/// Frame header and metadata segments, read before choosing a decoder.
#[derive(Debug)]
pub(super) struct JpegHeader {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    /// Bits per sample: 8 for nearly all files, up to 16 for lossless ones.
    pub precision: u8,
    /// True for progressive frames, whose decoders keep every DCT coefficient until the last
    /// scan.
    pub progressive: bool,
    /// Horizontal and vertical sampling factors of each component.
    pub sampling: Vec<(u8, u8)>,
    pub orientation: Orientation,
    /// The ICC profile reassembled from its APP2 chunks, if all of them are present.
    pub icc: Option<Vec<u8>>,
    /// A profile that was present but could not be reassembled.
    pub icc_problem: Option<String>,
}

/// The decoder that runs, for the memory estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JpegDecoder {
    Zune,
    JpegDecoder,
}

impl JpegHeader {
    /// Estimates the bytes a decode at `1/denominator` needs at its peak: the output buffer,
    /// the component planes that `jpeg-decoder` fills before converting colours, and for a
    /// progressive frame the DCT coefficients of the whole image at 2 bytes each, which both
    /// decoders keep until the last scan whatever the scale. `zune-jpeg` converts one row of
    /// blocks at a time, so it needs no planes.
    fn decode_bytes(&self, denominator: u32, decoder: JpegDecoder) -> u64 {
        let bytes_per_sample: u64 = if self.precision > 8 { 2 } else { 1 };
        let scaled = |side: u32| u64::from(side.div_ceil(denominator));
        let channels: u64 = match self.components {
            1 => 1,
            4 => 4,
            _ => 3,
        };
        let output = scaled(self.width) * scaled(self.height) * channels * bytes_per_sample;

        let samples = self.component_samples();
        let scale_area = u64::from(denominator) * u64::from(denominator);
        let planes = match decoder {
            JpegDecoder::JpegDecoder => samples.div_ceil(scale_area) * bytes_per_sample,
            JpegDecoder::Zune => 0,
        };
        let coefficients = if self.progressive { samples * 2 } else { 0 };
        output + planes + coefficients
    }

    /// Counts the samples of all components at full size, from their sampling factors.
    fn component_samples(&self) -> u64 {
        let max_horizontal = self.sampling.iter().map(|&(h, _)| h).max().unwrap_or(1);
        let max_vertical = self.sampling.iter().map(|&(_, v)| v).max().unwrap_or(1);
        self.sampling
            .iter()
            .map(|&(horizontal, vertical)| {
                let columns = (u64::from(self.width) * u64::from(horizontal))
                    .div_ceil(u64::from(max_horizontal.max(1)));
                let rows = (u64::from(self.height) * u64::from(vertical))
                    .div_ceil(u64::from(max_vertical.max(1)));
                columns * rows
            })
            .sum()
    }

    fn check_budget(
        &self,
        denominator: u32,
        decoder: JpegDecoder,
        limits: &DecodeLimits,
    ) -> Result<(), DeriveError> {
        let needed = self.decode_bytes(denominator, decoder);
        check_budget(self.width, self.height, needed, limits)
    }
}

/// Decodes at the smallest DCT scale whose upright result is at least `min_size(upright
/// width, upright height)`, within `rule`.
pub(super) fn decode(
    original: &[u8],
    limits: &DecodeLimits,
    min_size: impl Fn(u32, u32) -> (u32, u32),
    rule: ScaleRule,
) -> Result<Decoded, DeriveError> {
    let header = read_header(original)?;
    check_pixels(header.width, header.height, limits)?;

    let swaps = swaps_axes(header.orientation);
    let (upright_width, upright_height) = if swaps {
        (header.height, header.width)
    } else {
        (header.width, header.height)
    };
    let (min_upright_width, min_upright_height) = min_size(upright_width, upright_height);
    let (min_width, min_height) = if swaps {
        (min_upright_height, min_upright_width)
    } else {
        (min_upright_width, min_upright_height)
    };
    let denominator = scale_denominator(header.width, header.height, min_width, min_height, rule);

    let mut warnings = Vec::new();
    if let Some(problem) = &header.icc_problem {
        warnings.push(DeriveWarning::IccProfileIgnored {
            reason: problem.clone(),
        });
    }

    let use_zune = denominator == 1 && header.components != 4;
    let image = if use_zune || !matches!(header.components, 1 | 3 | 4) {
        header.check_budget(1, JpegDecoder::Zune, limits)?;
        decode_full_with_zune(original, limits)?
    } else {
        header.check_budget(denominator, JpegDecoder::JpegDecoder, limits)?;
        match decode_with_jpeg_decoder(original, &header, limits, denominator, &mut warnings) {
            // Features `jpeg-decoder` lacks may still be within reach of the other decoder.
            Err(ScaledError::Unsupported(_)) if header.components != 4 => {
                header.check_budget(1, JpegDecoder::Zune, limits)?;
                decode_full_with_zune(original, limits)?
            }
            Err(ScaledError::Unsupported(error)) => return Err(decode_error(FORMAT, error)),
            Err(ScaledError::Other(error)) => return Err(error),
            Ok(image) => image,
        }
    };

    // CMYK was converted with its profile above. Grey and RGB are converted after resizing.
    let color = if header.components == 4 {
        color::PendingConversion::default()
    } else {
        color::prepare(
            header.icc.as_deref(),
            color::pixels_of(&image),
            &mut warnings,
        )
    };
    Ok(Decoded {
        image,
        orientation: header.orientation,
        color,
        warnings,
        upright_width,
        upright_height,
    })
}

/// Returns the largest denominator (8, 4 or 2) whose scaled size, rounded up as the decoder
/// rounds it, still covers `min_width`×`min_height` as `rule` requires, or 1 for full size.
pub(super) fn scale_denominator(
    width: u32,
    height: u32,
    min_width: u32,
    min_height: u32,
    rule: ScaleRule,
) -> u32 {
    SCALE_DENOMINATORS
        .into_iter()
        .find(|&denominator| {
            let margin = if rule == ScaleRule::BeforeResize && denominator == 8 {
                2
            } else {
                1
            };
            width.div_ceil(denominator) >= min_width.saturating_mul(margin)
                && height.div_ceil(denominator) >= min_height.saturating_mul(margin)
        })
        .unwrap_or(1)
}

fn decode_full_with_zune(
    original: &[u8],
    limits: &DecodeLimits,
) -> Result<DynamicImage, DeriveError> {
    let max_side = usize::try_from(limits.max_side).unwrap_or(usize::MAX);
    // NOTE: with strict mode off, a file cut short and then ended with FFD9 passes the probe
    // and decodes with its missing blocks filled in grey instead of failing. `jpeg-decoder`
    // does the same for scaled decodes. Strict mode would also reject files with minor
    // defects that browsers show.
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(max_side)
        .set_max_height(max_side);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(original), options);
    decoder
        .decode_headers()
        .map_err(|error| decode_error(FORMAT, error.to_string()))?;

    let output = match decoder.input_colorspace() {
        Some(ColorSpace::Luma) => ColorSpace::Luma,
        Some(ColorSpace::YCbCr | ColorSpace::RGB) => ColorSpace::RGB,
        other => {
            return Err(decode_error(
                FORMAT,
                format!("unsupported JPEG colour space {other:?}"),
            ));
        }
    };
    decoder.set_options(options.jpeg_set_out_colorspace(output));
    let pixels = decoder
        .decode()
        .map_err(|error| decode_error(FORMAT, error.to_string()))?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| decode_error(FORMAT, "no dimensions after decoding"))?;
    let (width, height) = (to_u32(width)?, to_u32(height)?);

    let image = if output == ColorSpace::Luma {
        GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
    } else {
        RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| decode_error(FORMAT, "decoded buffer does not match the dimensions"))
}

enum ScaledError {
    /// A JPEG feature `jpeg-decoder` does not implement, such as arithmetic coding.
    Unsupported(jpeg_decoder::Error),
    Other(DeriveError),
}

impl From<DeriveError> for ScaledError {
    fn from(error: DeriveError) -> Self {
        Self::Other(error)
    }
}

/// Decodes with `jpeg-decoder` at `1/denominator` of the size. Only for one, three or four
/// components: `jpeg-decoder` panics when asked about any other count.
fn decode_with_jpeg_decoder(
    original: &[u8],
    header: &JpegHeader,
    limits: &DecodeLimits,
    denominator: u32,
    warnings: &mut Vec<DeriveWarning>,
) -> Result<DynamicImage, ScaledError> {
    let jpeg_error = |error: jpeg_decoder::Error| match error {
        jpeg_decoder::Error::Unsupported(_) => ScaledError::Unsupported(error),
        other => ScaledError::Other(decode_error(FORMAT, other)),
    };
    let new_decoder = || {
        let mut decoder = jpeg_decoder::Decoder::new(original);
        // The budget was checked against the header's estimate already; this backs it up.
        let max_bytes = limits.memory_budget();
        decoder.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));
        decoder
    };

    let mut decoder = new_decoder();
    if denominator > 1 {
        let requested_width = scaled_side(header.width, denominator)?;
        let requested_height = scaled_side(header.height, denominator)?;
        let (width, height) = decoder
            .scale(requested_width, requested_height)
            .map_err(jpeg_error)?;
        // The decoder picks the scale from whichever side fits first. For very narrow images the
        // other side can then come out smaller than requested, so those are decoded whole.
        if width < requested_width || height < requested_height {
            header.check_budget(1, JpegDecoder::JpegDecoder, limits)?;
            decoder = new_decoder();
        }
    }

    let pixels = decoder.decode().map_err(jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| decode_error(FORMAT, "no frame information after decoding"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let mismatch = || decode_error(FORMAT, "decoded buffer does not match the dimensions");

    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => GrayImage::from_raw(width, height, pixels)
            .map(DynamicImage::ImageLuma8)
            .ok_or_else(mismatch)?,
        jpeg_decoder::PixelFormat::L16 => {
            let maximum = (1u32 << header.precision.clamp(2, 16)) - 1;
            let grey = pixels
                .chunks_exact(2)
                .map(|sample| {
                    let value = u32::from(u16::from_ne_bytes([sample[0], sample[1]]));
                    ((value.min(maximum) * 255 + maximum / 2) / maximum) as u8
                })
                .collect();
            GrayImage::from_raw(width, height, grey)
                .map(DynamicImage::ImageLuma8)
                .ok_or_else(mismatch)?
        }
        jpeg_decoder::PixelFormat::RGB24 => RgbImage::from_raw(width, height, pixels)
            .map(DynamicImage::ImageRgb8)
            .ok_or_else(mismatch)?,
        jpeg_decoder::PixelFormat::CMYK32 => {
            let rgb = color::cmyk_to_rgb(&pixels, width, height, header.icc.as_deref(), warnings);
            rgb.map(DynamicImage::ImageRgb8).ok_or_else(mismatch)?
        }
    };
    Ok(image)
}

fn scaled_side(side: u32, denominator: u32) -> Result<u16, DeriveError> {
    u16::try_from(side.div_ceil(denominator))
        .map_err(|_| decode_error(FORMAT, "JPEG sides are at most 65535 pixels"))
}

fn to_u32(side: usize) -> Result<u32, DeriveError> {
    u32::try_from(side).map_err(|_| decode_error(FORMAT, "decoded side does not fit in 32 bits"))
}

/// Walks the segments from the start-of-image marker to the first frame header (SOFn),
/// collecting the EXIF orientation and the ICC profile on the way.
pub(super) fn read_header(bytes: &[u8]) -> Result<JpegHeader, DeriveError> {
    let truncated = || decode_error(FORMAT, "the file ends inside the header");
    let mut orientation = None;
    let mut icc_chunks: Vec<(u8, u8, &[u8])> = Vec::new();
    let mut offset = 2;

    for _ in 0..MAX_SEGMENTS {
        let marker = *bytes.get(offset + 1).ok_or_else(truncated)?;
        if bytes[offset] != 0xFF {
            return Err(decode_error(
                FORMAT,
                format!("expected a marker at byte {offset}"),
            ));
        }
        match marker {
            // A fill byte before a marker.
            0xFF => {
                offset += 1;
                continue;
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                offset += 2;
                continue;
            }
            0xD9 | 0xDA => {
                return Err(decode_error(
                    FORMAT,
                    "no frame header before the image data",
                ));
            }
            _ => {}
        }

        let length_bytes = bytes.get(offset + 2..offset + 4).ok_or_else(truncated)?;
        let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
        if length < 2 {
            return Err(decode_error(
                FORMAT,
                format!("segment length {length} at byte {offset}"),
            ));
        }
        let payload = bytes
            .get(offset + 4..offset + 2 + length)
            .ok_or_else(truncated)?;

        match marker {
            // Frame headers SOF0 to SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // Precision (1 byte), height (2), width (2), component count (1), then per
                // component its id, sampling factors and quantisation table (1 byte each).
                let &[precision, h1, h2, w1, w2, components, ref specs @ ..] = payload else {
                    return Err(decode_error(FORMAT, "frame header too short"));
                };
                let sampling = specs
                    .chunks_exact(3)
                    .take(usize::from(components))
                    .map(|spec| ((spec[1] >> 4).max(1), (spec[1] & 0x0F).max(1)))
                    .collect();
                let (icc, icc_problem) = assemble_icc(icc_chunks);
                return Ok(JpegHeader {
                    width: u32::from(u16::from_be_bytes([w1, w2])),
                    height: u32::from(u16::from_be_bytes([h1, h2])),
                    components,
                    precision,
                    progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                    sampling,
                    orientation: orientation.unwrap_or(Orientation::NoTransforms),
                    icc,
                    icc_problem,
                });
            }
            0xE1 if orientation.is_none() => {
                orientation = payload
                    .strip_prefix(b"Exif\0\0")
                    .and_then(Orientation::from_exif_chunk);
            }
            // ICC.1:2010 annex B.4: "ICC_PROFILE\0", sequence number from 1, chunk count.
            0xE2 => {
                if let Some([sequence, count, data @ ..]) = payload.strip_prefix(b"ICC_PROFILE\0") {
                    icc_chunks.push((*sequence, *count, data));
                }
            }
            _ => {}
        }
        offset += 2 + length;
    }

    Err(decode_error(
        FORMAT,
        format!("no frame header in the first {MAX_SEGMENTS} segments"),
    ))
}

/// Joins ICC chunks in sequence order. Returns the profile, or a reason it cannot be used.
fn assemble_icc(mut chunks: Vec<(u8, u8, &[u8])>) -> (Option<Vec<u8>>, Option<String>) {
    let Some(&(_, count, _)) = chunks.first() else {
        return (None, None);
    };
    chunks.sort_by_key(|&(sequence, _, _)| sequence);
    let complete = chunks.len() == usize::from(count)
        && chunks
            .iter()
            .enumerate()
            .all(|(index, &(sequence, chunk_count, _))| {
                usize::from(sequence) == index + 1 && chunk_count == count
            });
    if !complete {
        return (
            None,
            Some(format!(
                "its APP2 chunks are incomplete: {} present, {count} announced",
                chunks.len()
            )),
        );
    }
    let profile = chunks
        .iter()
        .flat_map(|&(_, _, data)| data)
        .copied()
        .collect();
    (Some(profile), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denominator_keeps_both_sides_covered() {
        let smallest = |width, height, min_width, min_height| {
            scale_denominator(width, height, min_width, min_height, ScaleRule::Smallest)
        };
        assert_eq!(smallest(1000, 1500, 480, 720), 2);
        assert_eq!(smallest(1000, 1500, 501, 720), 1);
        assert_eq!(smallest(6000, 9000, 1280, 1920), 4);
        assert_eq!(smallest(6000, 9000, 64, 64), 8);
        assert_eq!(smallest(100, 100, u32::MAX, u32::MAX), 1);
        // 1001 / 8 rounds up to 126, as the decoder rounds it.
        assert_eq!(smallest(1001, 1001, 126, 126), 8);
    }

    #[test]
    fn eighth_scale_before_resize_needs_a_halving() {
        let before_resize = |width, height, min_width, min_height| {
            scale_denominator(
                width,
                height,
                min_width,
                min_height,
                ScaleRule::BeforeResize,
            )
        };
        assert_eq!(before_resize(4000, 2250, 480, 270), 4);
        assert_eq!(before_resize(4000, 2250, 250, 140), 8);
        assert_eq!(before_resize(6000, 9000, 1280, 1920), 4);
        assert_eq!(before_resize(1000, 1500, 480, 720), 2);
    }

    fn header(components: u8, sampling: Vec<(u8, u8)>, progressive: bool) -> JpegHeader {
        JpegHeader {
            width: 1000,
            height: 800,
            components,
            precision: 8,
            progressive,
            sampling,
            orientation: Orientation::NoTransforms,
            icc: None,
            icc_problem: None,
        }
    }

    #[test]
    fn decode_estimate_counts_planes_and_coefficients() {
        let pixels = 1000 * 800;
        let baseline = header(3, vec![(2, 2), (1, 1), (1, 1)], false);
        assert_eq!(baseline.decode_bytes(1, JpegDecoder::Zune), pixels * 3);
        // Luma at full size and two chroma planes at a quarter each.
        assert_eq!(
            baseline.decode_bytes(1, JpegDecoder::JpegDecoder),
            pixels * 3 + pixels * 3 / 2
        );
        assert_eq!(
            baseline.decode_bytes(4, JpegDecoder::JpegDecoder),
            250 * 200 * 3 + pixels * 3 / 2 / 16
        );

        let progressive = header(3, vec![(1, 1); 3], true);
        assert_eq!(
            progressive.decode_bytes(8, JpegDecoder::JpegDecoder),
            125 * 100 * 3 + 125 * 100 * 3 + pixels * 3 * 2
        );

        let cmyk = header(4, vec![(1, 1); 4], false);
        assert_eq!(cmyk.decode_bytes(1, JpegDecoder::JpegDecoder), pixels * 8);
    }

    #[test]
    fn icc_chunks_join_in_sequence_order() {
        let chunks = vec![(2, 2, &b"world"[..]), (1, 2, &b"hello "[..])];
        assert_eq!(assemble_icc(chunks), (Some(b"hello world".to_vec()), None));

        let missing = vec![(1, 3, &b"a"[..]), (3, 3, &b"c"[..])];
        let (profile, problem) = assemble_icc(missing);
        assert!(profile.is_none());
        assert!(problem.is_some());
    }
}
