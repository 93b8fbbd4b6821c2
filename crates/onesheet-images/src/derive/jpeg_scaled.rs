//! JPEG decoding at a reduced DCT scale, with CMYK handled here rather than by the decoders.
//!
//! A JPEG stores 8×8 blocks of DCT coefficients. A decoder can run an M×M inverse DCT on each
//! block to get the picture at M/8 of its size, for much less work than decoding it whole and
//! resizing. Entropy decoding still reads every coefficient whatever the scale, and it is most
//! of the cost of a scaled decode. Three decoders are used:
//!
//! - `zune-jpeg` (the `image` crate's decoder) for full-size grey and colour images. It has no
//!   DCT scaling but is the fastest at full size.
//! - libjpeg-turbo (see [`libjpeg`]) for every scaled decode, for CMYK and YCCK images at any
//!   scale, and for arithmetic-coded files, which neither Rust decoder reads.
//! - `jpeg-decoder` for lossless frames and for samples of more than 8 bits, which this build of
//!   libjpeg-turbo does not decode. These are decoded at full size.
//!
//! Decode times of the benchmark's noisy quality-90 4:4:4 JPEGs, without resizing, in ms: the
//! median CPU time of 21 runs on one core of an AMD EPYC, release build, with the decoders
//! called directly. Each scaled column uses the scale that decoder gets for the benchmark's
//! output width: `jpeg-decoder`, which did the scaled decodes before, offers only 1/2, 1/4 and
//! 1/8.
//!
//! | original | `zune-jpeg` full size | `jpeg-decoder` scaled | libjpeg-turbo scaled | libjpeg-turbo full size |
//! | --- | ---: | ---: | ---: | ---: |
//! | 1000×1500 | 10.3 | 16.4 at 1/2 | 10.4 at 4/8 | 16.7 |
//! | 2000×3000 | 39.9 | 55.5 at 1/2 | 40.5 at 4/8, 29.7 at 3/8 | 63.6 |
//! | 6000×9000 | 465 | 342 at 1/4 | 271 at 2/8 | 708 |
//!
//! # CMYK
//!
//! Adobe software writes CMYK JPEGs with inverted values (255 is no ink) and marks them with an
//! APP14 segment whose transform byte is 0 (CMYK) or 2 (YCCK). No standard says how to read CMYK
//! without that segment; browsers take it as inverted too, and so does this module, so a poster
//! looks as it does in a browser. libjpeg-turbo converts YCCK to CMYK and returns the stored
//! values, so [`libjpeg::decode`] inverts all three cases to true ink values (0 is no ink). That
//! is what an ICC CMYK profile expects, and [`color::cmyk_to_rgb`] converts them. `zune-jpeg`
//! 0.5 also gets all three right, but converts straight to RGB, which leaves no way to apply the
//! profile.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use super::color;
use super::decode::{Decoded, check_budget, check_pixels, decode_error, swaps_axes};
use super::libjpeg;
use super::{DecodeLimits, DeriveError, DeriveWarning};

const FORMAT: image::ImageFormat = image::ImageFormat::Jpeg;

/// Segments walked before giving up on finding the frame header, or the first scan after it.
const MAX_SEGMENTS: usize = 1024;

/// Numerators M of the M/8 scales used below full size, smallest picture first. libjpeg-turbo
/// also decodes at 5/8 to 7/8, but those scales are left out. Decoding at 6/8 and resizing was
/// not reliably faster than a full decode with `zune-jpeg` and the same resize. It took 65
/// against 78 ms for 2000×3000 to 1280 wide, but 318 against 281 ms for 4000×6000 to 2560
/// wide, timed as in the module's table. At 5/8 with 1.04× left to resize, the landscape
/// photo of [`ScaleRule::BeforeResize`] came out at only 37.3 dB PSNR.
const SCALE_NUMERATORS: [u8; 4] = [1, 2, 3, 4];

/// Numerator of the full-size scale, 8/8.
const FULL_SIZE: u8 = 8;

/// Margin the chosen DCT scale keeps above the minimum size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScaleRule {
    /// The smallest scale that covers the minimum, for callers that want a small image fast.
    Smallest,
    /// For an image that is resized afterwards. The 1/8 scale keeps only the average of each
    /// 8×8 block, which looks blocky unless the resize that follows at least halves it, so it
    /// is used only when it covers twice the minimum. The scales from 2/8 to 4/8 keep enough of
    /// each block to be resized by any factor.
    ///
    /// The rule comes from a comparison with a full decode resized by the same Lanczos3 filter,
    /// on three camera photos of 2268×1512 to 4256×2832 (the sample JPEGs of the
    /// `jpeg-decoder` 0.3.2, `webp` 0.3.1 and `rust-embed` 8.14 crates), decoded by
    /// libjpeg-turbo, PSNR over RGB. The worst of them, a detailed landscape, reached only
    /// 34.9 dB at 1/8 scale with 1.04× left to resize, and 38.2 dB with 2.2× left. An earlier
    /// check with `jpeg-decoder`'s 1/8 scale found the first case blocky at 2× zoom. At 2/8, 3/8
    /// and 4/8 with 1.04× left the landscape reached 39.5, 43.7 and 44.8 dB, and the other two
    /// photos 45.1 dB or more at every scale from 2/8 up.
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
    /// True for lossless frames (SOF3, SOF7, SOF11 and SOF15), which have no DCT to scale.
    pub lossless: bool,
    /// True for arithmetic-coded frames (SOF9 to SOF15).
    pub arithmetic: bool,
    /// Components in the first scan, or `None` if the file ends or breaks before it. A first
    /// scan with fewer components than the frame means the components come in separate scans.
    pub first_scan_components: Option<u8>,
    /// Horizontal and vertical sampling factors of each component.
    pub sampling: Vec<(u8, u8)>,
    pub orientation: Orientation,
    /// The ICC profile reassembled from its APP2 chunks, if all of them are present.
    pub icc: Option<Vec<u8>>,
    /// A profile that was present but could not be reassembled.
    pub icc_problem: Option<String>,
}

/// The library that decodes a JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JpegLibrary {
    ZuneJpeg,
    LibjpegTurbo,
    JpegDecoder,
}

impl JpegHeader {
    /// Estimates the bytes a decode at `numerator`/8 of the size needs at its peak. All
    /// decoders need the output buffer. Beyond it:
    ///
    /// - `zune-jpeg` converts one row of blocks at a time. For a progressive frame it keeps the
    ///   DCT coefficients of the whole image, 2 bytes each, until the last scan.
    /// - libjpeg-turbo keeps the coefficients of the whole image, padded to whole blocks, when
    ///   the frame is progressive or its components come in separate scans. Otherwise it works
    ///   a few rows of blocks at a time, and those row buffers are not counted. For CMYK and
    ///   YCCK the conversion to RGB allocates an RGB copy after libjpeg has freed its memory.
    /// - `jpeg-decoder` runs only at full size. It fills component planes before converting
    ///   colours, and keeps coefficients like `zune-jpeg`.
    fn decode_bytes(&self, numerator: u8, decoder: JpegLibrary) -> u64 {
        let bytes_per_sample: u64 = if self.precision > 8 { 2 } else { 1 };
        let pixels = u64::from(scaled_side(self.width, numerator))
            * u64::from(scaled_side(self.height, numerator));
        let channels: u64 = match self.components {
            1 => 1,
            4 => 4,
            _ => 3,
        };
        let output = pixels * channels * bytes_per_sample;

        let progressive_coefficients = if self.progressive {
            self.component_samples() * 2
        } else {
            0
        };
        match decoder {
            JpegLibrary::ZuneJpeg => output + progressive_coefficients,
            JpegLibrary::JpegDecoder => {
                output + self.component_samples() * bytes_per_sample + progressive_coefficients
            }
            JpegLibrary::LibjpegTurbo => {
                let coefficients = if self.has_multiple_scans() {
                    self.coefficient_buffer_bytes()
                } else {
                    0
                };
                let rgb_copy = if self.components == 4 { pixels * 3 } else { 0 };
                output + coefficients.max(rgb_copy)
            }
        }
    }

    /// Returns true when libjpeg must keep every coefficient until the last scan.
    fn has_multiple_scans(&self) -> bool {
        self.progressive
            || self
                .first_scan_components
                .is_none_or(|count| count < self.components)
    }

    /// Counts the samples of all components at full size, from their sampling factors.
    fn component_samples(&self) -> u64 {
        self.component_sizes()
            .map(|(columns, rows, _, _)| columns * rows)
            .sum()
    }

    /// Sizes libjpeg's whole-image coefficient arrays: for each component, its blocks rounded up
    /// to a multiple of its sampling factors, at 64 coefficients of 2 bytes per block.
    fn coefficient_buffer_bytes(&self) -> u64 {
        self.component_sizes()
            .map(|(columns, rows, horizontal, vertical)| {
                let block_columns = columns.div_ceil(8).next_multiple_of(horizontal);
                let block_rows = rows.div_ceil(8).next_multiple_of(vertical);
                block_columns * block_rows * 128
            })
            .sum()
    }

    /// Returns each component's columns and rows at full size, and its sampling factors.
    fn component_sizes(&self) -> impl Iterator<Item = (u64, u64, u64, u64)> + '_ {
        let max_horizontal = self.sampling.iter().map(|&(h, _)| h).max().unwrap_or(1);
        let max_vertical = self.sampling.iter().map(|&(_, v)| v).max().unwrap_or(1);
        self.sampling.iter().map(move |&(horizontal, vertical)| {
            let columns = (u64::from(self.width) * u64::from(horizontal))
                .div_ceil(u64::from(max_horizontal.max(1)));
            let rows = (u64::from(self.height) * u64::from(vertical))
                .div_ceil(u64::from(max_vertical.max(1)));
            (columns, rows, u64::from(horizontal), u64::from(vertical))
        })
    }

    fn check_budget(
        &self,
        numerator: u8,
        decoder: JpegLibrary,
        limits: &DecodeLimits,
    ) -> Result<(), DeriveError> {
        let needed = self.decode_bytes(numerator, decoder);
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

    let mut warnings = Vec::new();
    if let Some(problem) = &header.icc_problem {
        warnings.push(DeriveWarning::IccProfileIgnored {
            reason: problem.clone(),
        });
    }

    let image = match choose_decoder(&header) {
        JpegLibrary::LibjpegTurbo => {
            let numerator =
                scale_numerator(header.width, header.height, min_width, min_height, rule);
            // `zune-jpeg` is faster at full size, but it cannot hand CMYK to the profile
            // conversion and it does not read arithmetic coding.
            let zune_reads_it = header.components != 4 && !header.arithmetic;
            if numerator == FULL_SIZE && zune_reads_it {
                header.check_budget(FULL_SIZE, JpegLibrary::ZuneJpeg, limits)?;
                decode_full_with_zune(original, limits)?
            } else {
                header.check_budget(numerator, JpegLibrary::LibjpegTurbo, limits)?;
                libjpeg::decode(
                    original,
                    header.components,
                    numerator,
                    header.icc.as_deref(),
                    &mut warnings,
                )?
            }
        }
        JpegLibrary::JpegDecoder => {
            header.check_budget(FULL_SIZE, JpegLibrary::JpegDecoder, limits)?;
            match decode_with_jpeg_decoder(original, &header, limits, &mut warnings) {
                // Features `jpeg-decoder` lacks, such as 12-bit DCT samples, may still be within
                // reach of the other decoder.
                Err(JpegDecoderError::Unsupported(_)) if header.components != 4 => {
                    header.check_budget(FULL_SIZE, JpegLibrary::ZuneJpeg, limits)?;
                    decode_full_with_zune(original, limits)?
                }
                Err(JpegDecoderError::Unsupported(error)) => {
                    return Err(decode_error(FORMAT, error));
                }
                Err(JpegDecoderError::Other(error)) => return Err(error),
                Ok(image) => image,
            }
        }
        JpegLibrary::ZuneJpeg => {
            header.check_budget(FULL_SIZE, JpegLibrary::ZuneJpeg, limits)?;
            decode_full_with_zune(original, limits)?
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

/// Picks the decoder from the frame header. 8-bit DCT frames of 1, 3 or 4 components go to
/// libjpeg-turbo, though [`decode`] still hands full-size grey and colour ones to `zune-jpeg`.
/// Other precisions and lossless frames of those component counts go to `jpeg-decoder`. Any
/// other component count goes to `zune-jpeg`, because the other two reject it.
fn choose_decoder(header: &JpegHeader) -> JpegLibrary {
    if !matches!(header.components, 1 | 3 | 4) {
        JpegLibrary::ZuneJpeg
    } else if header.lossless || header.precision != 8 {
        JpegLibrary::JpegDecoder
    } else {
        JpegLibrary::LibjpegTurbo
    }
}

/// Returns the smallest numerator M of [`SCALE_NUMERATORS`] whose M/8 scale, rounded up as the
/// decoders round it, still covers `min_width`×`min_height` as `rule` requires, or 8 for full
/// size.
pub(super) fn scale_numerator(
    width: u32,
    height: u32,
    min_width: u32,
    min_height: u32,
    rule: ScaleRule,
) -> u8 {
    SCALE_NUMERATORS
        .into_iter()
        .find(|&numerator| {
            let margin = if rule == ScaleRule::BeforeResize && numerator == 1 {
                2
            } else {
                1
            };
            scaled_side(width, numerator) >= min_width.saturating_mul(margin)
                && scaled_side(height, numerator) >= min_height.saturating_mul(margin)
        })
        .unwrap_or(FULL_SIZE)
}

/// Returns `side` at `numerator`/8 scale, rounded up as libjpeg rounds it.
fn scaled_side(side: u32, numerator: u8) -> u32 {
    let scaled = (u64::from(side) * u64::from(numerator)).div_ceil(u64::from(FULL_SIZE));
    u32::try_from(scaled).unwrap_or(u32::MAX)
}

fn decode_full_with_zune(
    original: &[u8],
    limits: &DecodeLimits,
) -> Result<DynamicImage, DeriveError> {
    let max_side = usize::try_from(limits.max_side).unwrap_or(usize::MAX);
    // NOTE: with strict mode off, a file cut short and then ended with FFD9 passes the probe
    // and decodes with its missing blocks filled in grey instead of failing. libjpeg-turbo
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

enum JpegDecoderError {
    /// A JPEG feature `jpeg-decoder` does not implement, such as 12-bit DCT samples.
    Unsupported(jpeg_decoder::Error),
    Other(DeriveError),
}

impl From<DeriveError> for JpegDecoderError {
    fn from(error: DeriveError) -> Self {
        Self::Other(error)
    }
}

/// Decodes with `jpeg-decoder` at full size. Only for one, three or four components:
/// `jpeg-decoder` panics when asked about any other count.
fn decode_with_jpeg_decoder(
    original: &[u8],
    header: &JpegHeader,
    limits: &DecodeLimits,
    warnings: &mut Vec<DeriveWarning>,
) -> Result<DynamicImage, JpegDecoderError> {
    let jpeg_error = |error: jpeg_decoder::Error| match error {
        jpeg_decoder::Error::Unsupported(_) => JpegDecoderError::Unsupported(error),
        other => JpegDecoderError::Other(decode_error(FORMAT, other)),
    };
    let mut decoder = jpeg_decoder::Decoder::new(original);
    // The budget was checked against the header's estimate already; this backs it up.
    let max_bytes = limits.memory_budget();
    decoder.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));

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

fn to_u32(side: usize) -> Result<u32, DeriveError> {
    u32::try_from(side).map_err(|_| decode_error(FORMAT, "decoded side does not fit in 32 bits"))
}

/// One marker segment of the header.
struct Segment<'a> {
    marker: u8,
    /// The bytes after the length field. Empty for the end-of-image marker, which has no length.
    payload: &'a [u8],
    /// Offset of the byte after the segment.
    end: usize,
}

/// Reads the segment whose marker starts at `offset`, skipping fill bytes and the markers that
/// have no length (TEM and RST0 to RST7).
fn next_segment(bytes: &[u8], mut offset: usize) -> Result<Segment<'_>, DeriveError> {
    let truncated = || decode_error(FORMAT, "the file ends inside the header");
    loop {
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
            0x01 | 0xD0..=0xD7 => {
                offset += 2;
                continue;
            }
            0xD9 => {
                return Ok(Segment {
                    marker,
                    payload: &[],
                    end: offset + 2,
                });
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
        return Ok(Segment {
            marker,
            payload,
            end: offset + 2 + length,
        });
    }
}

/// Walks the segments from the start-of-image marker to the first frame header (SOFn),
/// collecting the EXIF orientation and the ICC profile on the way, then on to the first scan
/// header for its component count.
pub(super) fn read_header(bytes: &[u8]) -> Result<JpegHeader, DeriveError> {
    let mut orientation = None;
    let mut icc_chunks: Vec<(u8, u8, &[u8])> = Vec::new();
    let mut offset = 2;

    for _ in 0..MAX_SEGMENTS {
        let Segment {
            marker,
            payload,
            end,
        } = next_segment(bytes, offset)?;
        match marker {
            0xD9 | 0xDA => {
                return Err(decode_error(
                    FORMAT,
                    "no frame header before the image data",
                ));
            }
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
                    lossless: matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF),
                    arithmetic: marker >= 0xC9,
                    first_scan_components: first_scan_components(bytes, end),
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
        offset = end;
    }

    Err(decode_error(
        FORMAT,
        format!("no frame header in the first {MAX_SEGMENTS} segments"),
    ))
}

/// Walks the segments from `offset` to the first scan header (SOS) and returns the number of
/// components it names. Returns `None` if the file ends or breaks before one.
fn first_scan_components(bytes: &[u8], mut offset: usize) -> Option<u8> {
    for _ in 0..MAX_SEGMENTS {
        let segment = next_segment(bytes, offset).ok()?;
        match segment.marker {
            0xDA => return segment.payload.first().copied(),
            0xD9 => return None,
            _ => offset = segment.end,
        }
    }
    None
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
    fn numerator_keeps_both_sides_covered() {
        let smallest = |width, height, min_width, min_height| {
            scale_numerator(width, height, min_width, min_height, ScaleRule::Smallest)
        };
        assert_eq!(smallest(1000, 1500, 480, 720), 4);
        assert_eq!(smallest(1000, 1500, 501, 720), 8);
        assert_eq!(smallest(2000, 3000, 720, 1080), 3);
        assert_eq!(smallest(2000, 3000, 751, 1080), 4);
        assert_eq!(smallest(6000, 9000, 1280, 1920), 2);
        assert_eq!(smallest(6000, 9000, 64, 64), 1);
        assert_eq!(smallest(100, 100, u32::MAX, u32::MAX), 8);
        // 1001 / 8 rounds up to 126, as the decoder rounds it.
        assert_eq!(smallest(1001, 1001, 126, 126), 1);
        // 1001 × 3 / 8 rounds up to 376.
        assert_eq!(smallest(1001, 1001, 376, 376), 3);
        assert_eq!(smallest(1001, 1001, 377, 376), 4);
    }

    #[test]
    fn eighth_scale_before_resize_needs_a_halving() {
        let before_resize = |width, height, min_width, min_height| {
            scale_numerator(
                width,
                height,
                min_width,
                min_height,
                ScaleRule::BeforeResize,
            )
        };
        assert_eq!(before_resize(4000, 2250, 480, 270), 2);
        assert_eq!(before_resize(4000, 2250, 250, 140), 1);
        assert_eq!(before_resize(4000, 2250, 251, 140), 2);
        assert_eq!(before_resize(6000, 9000, 1280, 1920), 2);
        assert_eq!(before_resize(2000, 3000, 720, 1080), 3);
        assert_eq!(before_resize(1000, 1500, 480, 720), 4);
    }

    #[test]
    fn scaled_side_rounds_up() {
        assert_eq!(scaled_side(2000, 3), 750);
        assert_eq!(scaled_side(2001, 3), 751);
        assert_eq!(scaled_side(1, 1), 1);
        assert_eq!(scaled_side(65_535, 8), 65_535);
    }

    fn header(components: u8, sampling: Vec<(u8, u8)>, progressive: bool) -> JpegHeader {
        JpegHeader {
            width: 1000,
            height: 800,
            components,
            precision: 8,
            progressive,
            lossless: false,
            arithmetic: false,
            first_scan_components: Some(if progressive { 1 } else { components }),
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
        assert_eq!(baseline.decode_bytes(8, JpegLibrary::ZuneJpeg), pixels * 3);
        // Luma at full size and two chroma planes at a quarter each.
        assert_eq!(
            baseline.decode_bytes(8, JpegLibrary::JpegDecoder),
            pixels * 3 + pixels * 3 / 2
        );
        // libjpeg works a few rows at a time on a single-scan file.
        assert_eq!(
            baseline.decode_bytes(2, JpegLibrary::LibjpegTurbo),
            250 * 200 * 3
        );

        let progressive = header(3, vec![(1, 1); 3], true);
        assert_eq!(
            progressive.decode_bytes(8, JpegLibrary::ZuneJpeg),
            pixels * 3 + pixels * 3 * 2
        );
        // 125 × 100 blocks of 128 bytes for each component, whatever the scale.
        assert_eq!(
            progressive.decode_bytes(1, JpegLibrary::LibjpegTurbo),
            125 * 100 * 3 + 125 * 100 * 128 * 3
        );

        let cmyk = header(4, vec![(1, 1); 4], false);
        assert_eq!(cmyk.decode_bytes(8, JpegLibrary::JpegDecoder), pixels * 8);
        // The CMYK output, then the RGB copy made from it.
        assert_eq!(cmyk.decode_bytes(8, JpegLibrary::LibjpegTurbo), pixels * 7);
        assert_eq!(
            cmyk.decode_bytes(3, JpegLibrary::LibjpegTurbo),
            375 * 300 * 7
        );
    }

    #[test]
    fn libjpeg_coefficients_are_padded_to_whole_blocks() {
        // 4:2:0 at 1001×801. Luma: 126 × 101 blocks, rounded up to 126 × 102 for its 2×2
        // sampling. Chroma: 501×401 samples, 63 × 51 blocks.
        let mut odd = header(3, vec![(2, 2), (1, 1), (1, 1)], true);
        odd.width = 1001;
        odd.height = 801;
        let blocks = 126 * 102 + 2 * 63 * 51;
        assert_eq!(odd.coefficient_buffer_bytes(), blocks * 128);
    }

    #[test]
    fn separate_scans_need_the_coefficient_buffer() {
        let mut baseline = header(3, vec![(1, 1); 3], false);
        assert!(!baseline.has_multiple_scans());

        baseline.first_scan_components = Some(1);
        assert!(baseline.has_multiple_scans());
        assert_eq!(
            baseline.decode_bytes(2, JpegLibrary::LibjpegTurbo),
            250 * 200 * 3 + 125 * 100 * 128 * 3
        );

        baseline.first_scan_components = None;
        assert!(baseline.has_multiple_scans());

        let grey = header(1, vec![(1, 1)], false);
        assert!(!grey.has_multiple_scans());
    }

    /// Appends a marker segment with its length.
    fn push_segment(bytes: &mut Vec<u8>, marker: u8, payload: &[u8]) {
        bytes.extend_from_slice(&[0xFF, marker]);
        bytes.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(payload);
    }

    /// Builds a JPEG header up to its first scan header: a 16×16 frame of three components
    /// whose first scan names `scan_components` of them. No image data follows.
    fn header_up_to_scan(frame_marker: u8, scan_components: u8) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        let mut frame = vec![8, 0, 16, 0, 16, 3];
        for id in 1..=3 {
            frame.extend_from_slice(&[id, 0x11, 0]);
        }
        push_segment(&mut bytes, frame_marker, &frame);
        // A restart interval and a fill byte between the frame and the scan.
        push_segment(&mut bytes, 0xDD, &[0, 0]);
        bytes.push(0xFF);
        let mut scan = vec![scan_components];
        for id in 1..=scan_components {
            scan.extend_from_slice(&[id, 0]);
        }
        scan.extend_from_slice(&[0, 63, 0]);
        push_segment(&mut bytes, 0xDA, &scan);
        bytes
    }

    #[test]
    fn header_reads_first_scan_components() {
        let interleaved = read_header(&header_up_to_scan(0xC0, 3)).unwrap();
        assert_eq!(interleaved.first_scan_components, Some(3));
        assert!(!interleaved.has_multiple_scans());

        let separate = read_header(&header_up_to_scan(0xC0, 1)).unwrap();
        assert_eq!(separate.first_scan_components, Some(1));
        assert!(separate.has_multiple_scans());

        let bytes = header_up_to_scan(0xC0, 3);
        let frame_end = 2 + 2 + 2 + 15;
        let cut = read_header(&bytes[..frame_end + 3]).unwrap();
        assert_eq!(cut.first_scan_components, None);
    }

    #[test]
    fn header_tells_coding_processes_apart() {
        for (marker, progressive, lossless, arithmetic) in [
            (0xC0, false, false, false),
            (0xC1, false, false, false),
            (0xC2, true, false, false),
            (0xC3, false, true, false),
            (0xC9, false, false, true),
            (0xCA, true, false, true),
            (0xCB, false, true, true),
        ] {
            let header = read_header(&header_up_to_scan(marker, 3)).unwrap();
            assert_eq!(header.progressive, progressive, "SOF {marker:X}");
            assert_eq!(header.lossless, lossless, "SOF {marker:X}");
            assert_eq!(header.arithmetic, arithmetic, "SOF {marker:X}");
        }
    }

    #[test]
    fn decoder_follows_precision_and_process() {
        let mut frame = header(3, vec![(1, 1); 3], false);
        assert_eq!(choose_decoder(&frame), JpegLibrary::LibjpegTurbo);

        frame.precision = 12;
        assert_eq!(choose_decoder(&frame), JpegLibrary::JpegDecoder);

        frame.precision = 8;
        frame.lossless = true;
        assert_eq!(choose_decoder(&frame), JpegLibrary::JpegDecoder);

        let two_components = header(2, vec![(1, 1); 2], false);
        assert_eq!(choose_decoder(&two_components), JpegLibrary::ZuneJpeg);
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
