//! Hostile and oversized inputs: declared bombs, broken files, memory budgets and odd layouts.

use super::*;

#[test]
fn declared_bombs_are_rejected_without_allocating() {
    let mut jpeg_bomb = marked_jpeg(64, 64);
    let sof = jpeg_bomb
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .unwrap();
    jpeg_bomb[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
    let bombs = [
        ("PNG", png_declaring(100_000, 100_000), 100_000),
        ("JPEG", jpeg_bomb, 30_000),
    ];

    // Resets the peak (Linux 4.0 and later) so the check below measures only this test's
    // allocations. Without the reset the check is weaker but still valid.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let peak_before = peak_rss_bytes();
    for (name, bomb, side) in bombs {
        let error = derive(
            &bomb,
            &request(480, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(error, DeriveError::TooManyPixels { width, .. } if width == side),
            "{name}: {error}"
        );
    }
    let growth = peak_rss_bytes().saturating_sub(peak_before);
    assert!(
        growth < 200 * 1024 * 1024,
        "peak RSS grew by {growth} bytes"
    );
}

#[test]
fn oversized_input_is_rejected() {
    let limits = DecodeLimits {
        max_input_bytes: 100,
        ..DecodeLimits::default()
    };
    let error = derive(
        &marked_jpeg(60, 40),
        &request(240, None, Fit::Contain, OutputFormat::Jpeg),
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(error, DeriveError::InputTooLarge { .. }),
        "{error}"
    );
}

#[test]
fn broken_inputs_give_distinct_errors() {
    let jpeg = marked_jpeg(300, 200);

    let derive_bytes = |bytes: &[u8]| {
        derive(
            bytes,
            &request(240, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
    };
    let html = derive_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>");
    assert!(matches!(html, Err(DeriveError::UnknownFormat)), "{html:?}");
    let empty = derive_bytes(b"");
    assert!(
        matches!(empty, Err(DeriveError::Invalid(crate::ProbeError::Empty))),
        "{empty:?}"
    );
    let truncated = derive_bytes(&jpeg[..jpeg.len() / 3]);
    assert!(
        matches!(
            truncated,
            Err(DeriveError::Invalid(crate::ProbeError::Truncated { .. }))
        ),
        "{truncated:?}"
    );
    let unsupported = derive_bytes(AVIF);
    assert!(
        matches!(
            unsupported,
            Err(DeriveError::Unsupported {
                format: crate::ImageFormat::Avif
            })
        ),
        "{unsupported:?}"
    );
    let mut lying = marked_jpeg(16, 16);
    let sof = lying
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .unwrap();
    lying[sof + 5..sof + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);
    let too_small = derive_bytes(&lying);
    assert!(
        matches!(
            too_small,
            Err(DeriveError::Invalid(
                crate::ProbeError::TooSmallForSize { .. }
            ))
        ),
        "{too_small:?}"
    );

    // Damage inside the entropy-coded data passes the probe and reaches the decoders. They
    // must fail or produce an image, and never panic.
    let mut damaged = jpeg.clone();
    let middle = damaged.len() / 2;
    damaged[middle..middle + 64].fill(0xFF);
    let _ = derive_bytes(&damaged);
    let _ = decode_upright_at_least(&damaged, &DecodeLimits::default(), 64, 64);
}

#[test]
fn broken_scan_header_is_a_decode_error() {
    let mut original = marked_jpeg(1200, 800);
    let sos = original
        .windows(2)
        .position(|pair| pair == [0xFF, 0xDA])
        .unwrap();
    // A scan header that names 0 components, which libjpeg rejects.
    original[sos + 4] = 0;

    // 240 wide is a scaled decode, through libjpeg.
    let result = derive(
        &original,
        &request(240, None, Fit::Contain, OutputFormat::Jpeg),
        &DecodeLimits::default(),
    );

    assert!(matches!(result, Err(DeriveError::Decode(_))), "{result:?}");
}

/// Builds a bottom-up 24-bit BMP whose left half is red and right half blue.
fn marked_bmp(width: u32, height: u32) -> Vec<u8> {
    let stride = (width * 3).div_ceil(4) * 4;
    let pixel_bytes = stride * height;
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&(54 + pixel_bytes).to_le_bytes());
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&width.to_le_bytes());
    bmp.extend_from_slice(&height.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    for _ in 0..height {
        let mut row = Vec::with_capacity(stride as usize);
        for x in 0..width {
            let [r, g, b] = if x < width / 2 { RED } else { BLUE };
            row.extend_from_slice(&[b, g, r]);
        }
        row.resize(stride as usize, 0);
        bmp.extend_from_slice(&row);
    }
    bmp
}

#[test]
fn bmp_originals_are_decoded() {
    let derived = derive(
        &marked_bmp(600, 900),
        &request(240, None, Fit::Contain, OutputFormat::Jpeg),
        &DecodeLimits::default(),
    )
    .unwrap();

    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (240, 360));
    assert_red(pixel(&decoded, 40, 180), "left half");
    assert_blue(pixel(&decoded, 200, 180), "right half");
}

/// Draws a 600×900 RGBA poster: the left half is magenta at alpha 0, the right half opaque
/// blue, and the bottom rows white at half opacity.
fn hidden_colour_png() -> Vec<u8> {
    let image = RgbaImage::from_fn(600, 900, |x, y| {
        if y >= 800 {
            Rgba([255, 255, 255, 128])
        } else if x < 300 {
            Rgba([255, 0, 254, 0])
        } else {
            Rgba([0, 0, 255, 255])
        }
    });
    encode_as(DynamicImage::ImageRgba8(image), ImageFormat::Png)
}

#[test]
fn jpeg_composites_alpha_over_black_at_every_size() {
    let original = hidden_colour_png();
    // 720 is wider than the original, so it keeps its size and is not resized.
    for width in [720, 240] {
        let derived = derive(
            &original,
            &request(width, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap();
        let decoded = image::load_from_memory(&derived.bytes).unwrap();
        // Maps a point of the original to the output, whatever its size.
        let at = |x: u32, y: u32| {
            pixel(
                &decoded,
                x * decoded.width() / 600,
                y * decoded.height() / 900,
            )
        };

        let hidden = at(100, 400);
        assert!(
            hidden.iter().all(|&channel| channel < 12),
            "transparent half at width {width}: {hidden:?}"
        );
        assert_blue(at(450, 400), &format!("opaque half at width {width}"));
        let translucent = at(450, 860);
        assert!(
            translucent
                .iter()
                .all(|&channel| channel.abs_diff(128) < 12),
            "half-transparent white at width {width}: {translucent:?}"
        );
    }
}

#[test]
fn decode_over_memory_budget_is_too_large() {
    let image = marked_image(400, 300);
    let encode = |progressive: bool| {
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 90);
        encoder.set_progressive(progressive);
        encoder
            .encode(image.as_raw(), 400, 300, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        bytes
    };
    // Exactly the original's pixels, so only the budget of 4 bytes per pixel can reject it.
    let limits = DecodeLimits {
        max_pixels: 400 * 300,
        ..DecodeLimits::default()
    };
    let jpeg_request = request(240, None, Fit::Contain, OutputFormat::Jpeg);

    // A baseline decode needs 3 bytes per pixel. A progressive one also keeps 2 bytes of DCT
    // coefficients per sample of its three full-resolution components: 9 bytes per pixel.
    assert!(derive(&encode(false), &jpeg_request, &limits).is_ok());
    let error = derive(&encode(true), &jpeg_request, &limits).unwrap_err();

    assert!(
        matches!(
            error,
            DeriveError::OverMemoryBudget {
                width: 400,
                height: 300,
                needed: 1_080_000,
                budget: 480_000,
            }
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("raise images.max_pixels"), "{message}");
    assert!(message.contains("lower its resolution"), "{message}");
}

#[test]
fn scaled_progressive_decode_counts_coefficients() {
    let image = marked_image(400, 300);
    let mut original = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut original, 90);
    encoder.set_progressive(true);
    encoder
        .encode(image.as_raw(), 400, 300, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let limits = DecodeLimits {
        max_pixels: 400 * 300,
        ..DecodeLimits::default()
    };

    // A quarter-size decode writes 100×75 RGB pixels, but libjpeg still keeps the coefficients
    // of all 50×38 blocks of each of the three components, at 128 bytes a block.
    let error = decode_upright_at_least(&original, &limits, 100, 75).unwrap_err();

    assert!(
        matches!(
            error,
            DeriveError::OverMemoryBudget {
                needed: 752_100,
                budget: 480_000,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn deep_png_fits_budget_at_pixel_limit() {
    // As 16-bit samples this is 8 bytes per pixel, twice the budget, so it must be cut to
    // 8 bits while it is decoded.
    let deep: ImageBuffer<Rgba<u16>, Vec<u16>> =
        ImageBuffer::from_pixel(300, 200, Rgba([65535, 0, 30_000, 65535]));
    let original = encode_as(DynamicImage::ImageRgba16(deep), ImageFormat::Png);
    let limits = DecodeLimits {
        max_pixels: 300 * 200,
        ..DecodeLimits::default()
    };

    let decoded = decode_upright(&original, &limits).unwrap();

    assert!(matches!(decoded, DynamicImage::ImageRgba8(_)));
    assert_eq!(decoded.to_rgba8().get_pixel(10, 10).0, [255, 0, 117, 255]);
}

#[test]
fn grey_alpha_png_becomes_rgba() {
    let image = ImageBuffer::from_fn(40, 20, |x, _| {
        image::LumaA([200u8, if x < 20 { 0 } else { 255 }])
    });
    let original = encode_as(DynamicImage::ImageLumaA8(image), ImageFormat::Png);

    let decoded = decode_upright(&original, &DecodeLimits::default()).unwrap();

    let DynamicImage::ImageRgba8(rgba) = decoded else {
        panic!("expected RGBA, got {:?}", decoded.color());
    };
    assert_eq!(rgba.get_pixel(5, 5).0, [200, 200, 200, 0]);
    assert_eq!(rgba.get_pixel(35, 5).0, [200, 200, 200, 255]);
}
