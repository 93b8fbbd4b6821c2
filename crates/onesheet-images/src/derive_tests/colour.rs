//! Colour handling of derived images: CMYK and YCCK, ICC profiles, grey and progressive JPEGs.

use super::*;

#[test]
fn cmyk_variants_keep_their_colours() {
    let adobe = cmyk_jpeg(960, 480, jpeg_encoder::ColorType::Cmyk);
    let cases = [
        ("CMYK with APP14 transform 0", adobe.clone()),
        ("CMYK without APP14", without_segment(&adobe, 0xEE)),
        (
            "YCCK with APP14 transform 2",
            cmyk_jpeg(960, 480, jpeg_encoder::ColorType::CmykAsYcck),
        ),
    ];
    let limits = DecodeLimits::default();
    for (name, original) in cases {
        let full = decode_upright(&original, &limits).unwrap();
        assert_eq!((full.width(), full.height()), (960, 480), "{name}");
        assert_red(pixel(&full, 100, 240), &format!("{name} at full size"));
        assert_blue(pixel(&full, 800, 240), &format!("{name} at full size"));

        let scaled = decode_upright_at_least(&original, &limits, 200, 100).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (240, 120), "{name}");
        assert_red(pixel(&scaled, 30, 60), &format!("{name} at 1/4 scale"));
        assert_blue(pixel(&scaled, 200, 60), &format!("{name} at 1/4 scale"));

        let derived = derive_png(&original, 360);
        let decoded = image::load_from_memory(&derived.bytes).unwrap();
        assert_red(pixel(&decoded, 40, 90), &format!("{name} derived"));
        assert!(
            derived.warnings.is_empty(),
            "{name}: {:?}",
            derived.warnings
        );
    }
}

#[test]
fn cmyk_and_ycck_at_three_eighths() {
    let cases = [
        ("CMYK", cmyk_jpeg(960, 480, jpeg_encoder::ColorType::Cmyk)),
        (
            "YCCK",
            cmyk_jpeg(960, 480, jpeg_encoder::ColorType::CmykAsYcck),
        ),
    ];
    for (name, original) in cases {
        let scaled = decode_upright_at_least(&original, &DecodeLimits::default(), 360, 1).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (360, 180), "{name}");
        // Magenta and yellow ink give (255, 0, 0) with the plain formula, and cyan and magenta
        // give (0, 0, 255). Quality 95 keeps each channel within a few units.
        for (x, expected) in [(60, [255, 0, 0]), (300, [0, 0, 255])] {
            let actual = pixel(&scaled, x, 90);
            for channel in 0..3 {
                assert!(
                    actual[channel].abs_diff(expected[channel]) <= 6,
                    "{name} at x {x}: {actual:?}, expected {expected:?}"
                );
            }
        }
    }
}

#[test]
fn rgb_profile_on_cmyk_only_warns() {
    let cmyk = cmyk_jpeg(960, 480, jpeg_encoder::ColorType::Cmyk);
    let original = with_icc(&cmyk, &swapped_primaries_profile());
    let derived = derive_png(&original, 360);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 40, 90), "CMYK with an RGB profile");
    assert!(
        matches!(
            derived.warnings.as_slice(),
            [DeriveWarning::IccProfileIgnored { .. }]
        ),
        "{:?}",
        derived.warnings
    );
}

#[test]
fn icc_profile_is_converted_to_srgb() {
    let original = with_icc(&marked_jpeg(600, 400), &swapped_primaries_profile());
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    // The profile gives the first channel the blue primary, so the red quarter is blue in sRGB.
    assert_blue(pixel(&decoded, 40, 40), "converted red quarter");
    assert_red(pixel(&decoded, 200, 120), "converted blue area");
    assert!(derived.warnings.is_empty(), "{:?}", derived.warnings);

    // The same conversion at full size, through the unscaled decoder.
    let full = decode_upright(&original, &DecodeLimits::default()).unwrap();
    assert_blue(pixel(&full, 100, 100), "converted at full size");
}

#[test]
fn display_p3_colours_become_more_saturated() {
    let colour = [200, 80, 80];
    let image = RgbImage::from_pixel(300, 200, Rgb(colour));
    let plain = encode_as(DynamicImage::ImageRgb8(image), ImageFormat::Png);
    let mut tagged = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut tagged);
    encoder
        .set_icc_profile(ColorProfile::new_display_p3().encode().unwrap())
        .unwrap();
    encoder
        .write_image(
            RgbImage::from_pixel(300, 200, Rgb(colour)).as_raw(),
            300,
            200,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();

    let untagged = pixel(
        &image::load_from_memory(&derive_png(&plain, 240).bytes).unwrap(),
        100,
        100,
    );
    assert_eq!(untagged, colour);
    let converted = pixel(
        &image::load_from_memory(&derive_png(&tagged, 240).bytes).unwrap(),
        100,
        100,
    );
    // Display P3's red primary lies outside sRGB's, so the same numbers mean a stronger red.
    assert!(converted[0] > colour[0] + 5, "{converted:?}");
    assert!(converted[1] < colour[1] - 5, "{converted:?}");
}

#[test]
fn srgb_profile_changes_nothing() {
    let plain = marked_jpeg(600, 400);
    let tagged = with_icc(&plain, &ColorProfile::new_srgb().encode().unwrap());
    let without = derive_png(&plain, 240);
    let with = derive_png(&tagged, 240);
    assert_eq!(with.bytes, without.bytes);
    assert!(with.warnings.is_empty(), "{:?}", with.warnings);
}

#[test]
fn invalid_icc_profile_only_warns() {
    let original = with_icc(&marked_jpeg(600, 400), b"definitely not an ICC profile");
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 40, 40), "red quarter");
    assert!(
        matches!(
            derived.warnings.as_slice(),
            [DeriveWarning::IccProfileIgnored { .. }]
        ),
        "{:?}",
        derived.warnings
    );

    // A profile whose second chunk is missing is reported the same way.
    let mut payload = b"ICC_PROFILE\0\x01\x02".to_vec();
    payload.extend_from_slice(&swapped_primaries_profile());
    let incomplete = with_segment(&marked_jpeg(600, 400), 0xE2, &payload);
    let derived = derive_png(&incomplete, 240);
    assert_eq!(derived.warnings.len(), 1, "{:?}", derived.warnings);
}

#[test]
fn grey_jpeg_stays_grey_at_every_scale() {
    let grey = ImageBuffer::from_fn(960, 480, |x, _| Luma([if x < 480 { 40u8 } else { 200 }]));
    let mut original = Vec::new();
    jpeg_encoder::Encoder::new(&mut original, 95)
        .encode(grey.as_raw(), 960, 480, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let limits = DecodeLimits::default();

    for (min_width, expected_width) in [(u32::MAX, 960), (200, 240)] {
        let image = decode_upright_at_least(&original, &limits, min_width, 1).unwrap();
        assert_eq!(image.width(), expected_width);
        assert!(matches!(image, DynamicImage::ImageLuma8(_)));
        let dark = image.to_luma8().get_pixel(expected_width / 4, 10)[0];
        let light = image.to_luma8().get_pixel(expected_width * 3 / 4, 10)[0];
        assert!(
            dark.abs_diff(40) <= 3,
            "dark {dark} at width {expected_width}"
        );
        assert!(
            light.abs_diff(200) <= 3,
            "light {light} at width {expected_width}"
        );
    }
}

#[test]
fn progressive_jpeg_decodes_at_every_scale() {
    let image = marked_image(960, 480);
    let mut original = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut original, 90);
    encoder.set_progressive(true);
    encoder
        .encode(image.as_raw(), 960, 480, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let limits = DecodeLimits::default();

    let full = decode_upright(&original, &limits).unwrap();
    assert_eq!((full.width(), full.height()), (960, 480));
    assert_red(pixel(&full, 100, 100), "full size");
    let scaled = decode_upright_at_least(&original, &limits, 120, 60).unwrap();
    assert_eq!((scaled.width(), scaled.height()), (120, 60));
    assert_red(pixel(&scaled, 20, 10), "1/8 scale");
    assert_blue(pixel(&scaled, 100, 50), "1/8 scale");
}
