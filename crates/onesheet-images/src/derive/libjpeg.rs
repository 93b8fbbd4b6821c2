//! DCT-scaled JPEG decoding with libjpeg-turbo, through the `mozjpeg` crate.
//!
//! `mozjpeg-sys` compiles the C library with `cc` and links it statically, so the build needs a C
//! compiler but neither cmake nor nasm. The SIMD code, which needs nasm on x86, is left out. It
//! would speed up the inverse DCT and colour conversion but not entropy decoding, which is
//! most of the cost of a scaled decode.
//!
//! # Errors
//!
//! libjpeg reports a fatal error through a callback that must not return. The `mozjpeg` crate's
//! callback unwinds with the error message as the payload, through C code built with
//! `-fexceptions`, and [`decode`] catches it and returns it as [`DeriveError::Decode`]. The
//! unwind skips the panic hook, so nothing is printed. Warnings about corrupt data are dropped
//! and decoding goes on, so a damaged file shows what can be read of it, as browsers do. A file
//! cut short gets the rest of its blocks filled in grey.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, GrayImage, RgbImage};
use mozjpeg::{ColorSpace, Decompress};

use super::color;
use super::decode::decode_error;
use super::{DeriveError, DeriveWarning};

// A fatal libjpeg error unwinds into `catch_unwind` below. With `panic = "abort"` it would end
// the process on any corrupt file instead.
#[cfg(panic = "abort")]
compile_error!("onesheet-images needs panic = \"unwind\" to recover from libjpeg errors");

const FORMAT: image::ImageFormat = image::ImageFormat::Jpeg;

/// Pixels as libjpeg returns them, before any CMYK conversion.
struct Scanlines {
    pixels: Vec<u8>,
    width: u32,
    height: u32,
}

/// Decodes an 8-bit JPEG of 1, 3 or 4 components at `numerator`/8 of its size (1 to 8) to grey,
/// RGB or, for CMYK and YCCK, RGB converted with `icc`.
pub(super) fn decode(
    original: &[u8],
    components: u8,
    numerator: u8,
    icc: Option<&[u8]>,
    warnings: &mut Vec<DeriveWarning>,
) -> Result<DynamicImage, DeriveError> {
    let output_space = match components {
        1 => ColorSpace::JCS_GRAYSCALE,
        3 => ColorSpace::JCS_RGB,
        4 => ColorSpace::JCS_CMYK,
        other => {
            return Err(decode_error(
                FORMAT,
                format!("libjpeg is not used for {other} components"),
            ));
        }
    };

    // The decoder and all of its memory are gone once this returns, before the CMYK conversion
    // allocates its output.
    let Scanlines {
        mut pixels,
        width,
        height,
    } = match catch_unwind(AssertUnwindSafe(|| {
        read_scanlines(original, numerator, output_space)
    })) {
        Ok(Ok(scanlines)) => scanlines,
        Ok(Err(error)) => return Err(decode_error(FORMAT, error)),
        Err(payload) => return Err(decode_error(FORMAT, unwind_message(payload.as_ref()))),
    };

    let mismatch = || decode_error(FORMAT, "decoded buffer does not match the dimensions");
    let image = match components {
        1 => GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        3 => RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
        _ => {
            // libjpeg returns the stored values, which Adobe's convention inverts (255 is no
            // ink). The module header of `jpeg_scaled` explains why files without Adobe's
            // segment are read the same way.
            for value in &mut pixels {
                *value = 255 - *value;
            }
            color::cmyk_to_rgb(&pixels, width, height, icc, warnings).map(DynamicImage::ImageRgb8)
        }
    };
    image.ok_or_else(mismatch)
}

/// Runs libjpeg. A fatal error unwinds out of this function.
fn read_scanlines(
    original: &[u8],
    numerator: u8,
    output_space: ColorSpace,
) -> std::io::Result<Scanlines> {
    // NOTE: the `mozjpeg` crate (0.10) does not expose libjpeg's `max_memory_to_use`, so the
    // estimate that `jpeg_scaled` checks before this call is the only bound on libjpeg's memory.
    let mut decompress = Decompress::new_mem(original)?;
    decompress.scale(numerator);
    let mut started = decompress.to_colorspace(output_space)?;
    let (width, height) = (started.width(), started.height());
    let pixels = started.read_scanlines::<u8>()?;

    // `jpeg_finish_decompress` is not called. It would only read on to the end-of-image marker,
    // and it could fail on damage past the last row, which the image does not need.
    drop(started);

    let side = |value: usize| {
        u32::try_from(value).map_err(|_| std::io::Error::other("decoded side over 32 bits"))
    };
    Ok(Scanlines {
        pixels,
        width: side(width)?,
        height: side(height)?,
    })
}

/// Returns the message carried by an unwind from libjpeg, which the `mozjpeg` crate sends as a
/// `String`.
fn unwind_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else {
        "libjpeg stopped with an error that carries no message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{ImageEncoder, Rgb};

    use super::*;

    fn gradient_jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 90)
            .write_image(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        bytes
    }

    #[test]
    fn every_numerator_gives_its_size() {
        let original = gradient_jpeg(203, 101);
        for numerator in 1..=8u8 {
            let image = decode(&original, 3, numerator, None, &mut Vec::new()).unwrap();
            // libjpeg rounds each side up, as `jpeg_scaled::scaled_side` expects.
            let expected = |side: u32| (side * u32::from(numerator)).div_ceil(8);
            assert_eq!(
                (image.width(), image.height()),
                (expected(203), expected(101)),
                "{numerator}/8"
            );
        }
    }

    #[test]
    fn broken_headers_give_errors() {
        let original = gradient_jpeg(64, 48);
        let sos = original
            .windows(2)
            .position(|pair| pair == [0xFF, 0xDA])
            .unwrap();
        let mut bad_table = original.clone();
        // Sets the scan header's length to 0xFFC3, longer than the rest of the file, and its
        // component count to 0.
        bad_table[sos + 2..sos + 6].copy_from_slice(&[0xFF, 0xC3, 0x00, 0x00]);
        let cases = [
            ("no image data", original[..sos].to_vec()),
            (
                "garbage after SOI",
                [&[0xFF, 0xD8][..], &[0x13; 64]].concat(),
            ),
            ("broken scan header", bad_table),
            ("empty", Vec::new()),
        ];
        for (name, bytes) in cases {
            let result = decode(&bytes, 3, 2, None, &mut Vec::new());
            assert!(
                matches!(result, Err(DeriveError::Decode(_))),
                "{name}: {result:?}"
            );
        }
    }

    #[test]
    fn fatal_error_keeps_its_message() {
        // libjpeg converts YCbCr to grey or RGB, but not to CMYK.
        let result = decode(&gradient_jpeg(16, 16), 4, 8, None, &mut Vec::new());
        let message = result.unwrap_err().to_string();
        assert!(message.contains("libjpeg fatal error"), "{message}");
        assert!(message.contains("color conversion"), "{message}");
    }

    #[test]
    fn damaged_data_still_decodes() {
        let mut original = gradient_jpeg(256, 256);
        let middle = original.len() / 2;
        // Random bytes in the entropy-coded data, without marker prefixes.
        let mut seed = 7u32;
        for byte in &mut original[middle..middle + 200] {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *byte = (seed >> 16) as u8 & 0x7F;
        }
        let image = decode(&original, 3, 4, None, &mut Vec::new()).unwrap();
        assert_eq!((image.width(), image.height()), (128, 128));
    }

    #[test]
    fn unwind_message_reads_both_payload_types() {
        assert_eq!(unwind_message(&String::from("owned")), "owned");
        assert_eq!(unwind_message(&"static"), "static");
        assert!(unwind_message(&42u8).contains("no message"));
    }
}
