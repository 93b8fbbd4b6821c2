//! Input and output formats: scaled decodes, arithmetic coding, PNG, WebP, GIF and alpha.

use super::*;

/// Draws a diagonal sine wave in red, one along y in green and a checkerboard of 150-pixel
/// squares in blue, for detail at every scale and edges that fall inside blocks.
fn waves_image(width: u32, height: u32) -> RgbImage {
    let wave = |position: f32, period: f32| {
        let phase = position / period * std::f32::consts::TAU;
        (127.5 + 127.5 * phase.sin()) as u8
    };
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let square = if (x / 150 + y / 150) % 2 == 0 {
            40
        } else {
            210
        };
        Rgb([wave(fx + 0.5 * fy, 97.0), wave(fy, 61.0), square])
    })
}

/// Returns the peak signal-to-noise ratio of `actual` against `expected` over RGB, in dB.
fn psnr(expected: &DynamicImage, actual: &DynamicImage) -> f64 {
    let (expected, actual) = (expected.to_rgb8(), actual.to_rgb8());
    assert_eq!(expected.dimensions(), actual.dimensions());
    let squared_error: f64 = expected
        .as_raw()
        .iter()
        .zip(actual.as_raw())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    let mean = squared_error / expected.as_raw().len() as f64;
    10.0 * (255.0 * 255.0 / mean).log10()
}

#[test]
fn scaled_decode_matches_full_decode_resized() {
    let original = encode_as(
        DynamicImage::ImageRgb8(waves_image(1920, 1280)),
        ImageFormat::Jpeg,
    );
    let limits = DecodeLimits::default();
    let full = decode_upright(&original, &limits).unwrap();

    // Measured: 37.8, 40.8, 43.6 and 45.1 dB. The 1/8 scale averages each block, which a
    // Lanczos3 resize does not quite do.
    for (numerator, min_psnr) in [(1, 35.0), (2, 38.0), (3, 40.0), (4, 42.0)] {
        let width = 1920 * numerator / 8;
        let scaled = decode_upright_at_least(&original, &limits, width, 1).unwrap();
        assert_eq!(
            (scaled.width(), scaled.height()),
            (width, 1280 * numerator / 8)
        );

        let reference =
            resize(full.clone(), scaled.width(), scaled.height(), Fit::Contain).unwrap();
        let psnr = psnr(&reference, &scaled);
        assert!(psnr > min_psnr, "{numerator}/8: {psnr:.1} dB");
    }
}

#[test]
fn arithmetic_coded_jpegs_decode() {
    let limits = DecodeLimits::default();
    for (name, original) in [
        ("sequential", ARITHMETIC),
        ("progressive", ARITHMETIC_PROGRESSIVE),
    ] {
        let full = decode_upright(original, &limits).unwrap();
        assert_eq!((full.width(), full.height()), (320, 240), "{name}");
        assert_red(pixel(&full, 40, 40), &format!("{name} at full size"));
        assert_blue(pixel(&full, 280, 200), &format!("{name} at full size"));

        let scaled = decode_upright_at_least(original, &limits, 80, 60).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (80, 60), "{name}");
        assert_red(pixel(&scaled, 10, 10), &format!("{name} at 2/8 scale"));
        assert_blue(pixel(&scaled, 70, 50), &format!("{name} at 2/8 scale"));
    }
}

#[test]
fn palette_png_decodes() {
    let derived = derive_png(&palette_png(40, 20), 240);
    assert_eq!((derived.width, derived.height), (40, 20));
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_eq!(pixel(&decoded, 5, 5), RED);
    assert_eq!(pixel(&decoded, 35, 5), BLUE);
}

#[test]
fn deep_and_grey_inputs_become_8_bit_jpeg() {
    let deep: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(400, 600, |x, y| {
        Rgb([(x * 100) as u16, (y * 100) as u16, 30_000])
    });
    let grey = ImageBuffer::from_fn(400, 600, |x, _| Luma([(x % 256) as u8]));
    for original in [
        encode_as(DynamicImage::ImageRgb16(deep), ImageFormat::Png),
        encode_as(DynamicImage::ImageLuma8(grey), ImageFormat::Jpeg),
    ] {
        let derived = derive(
            &original,
            &request(240, None, Fit::Contain, OutputFormat::Jpeg),
            &DecodeLimits::default(),
        )
        .unwrap();
        assert_eq!(derived.format.mime(), "image/jpeg");
        let decoded = image::load_from_memory(&derived.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (240, 360));
    }
}

#[test]
fn sixteen_bit_png_keeps_its_colour() {
    // 30000 of 65535 is 116.7 of 255.
    let deep: ImageBuffer<Rgb<u16>, Vec<u16>> =
        ImageBuffer::from_pixel(300, 200, Rgb([65535, 0, 30_000]));
    let original = encode_as(DynamicImage::ImageRgb16(deep), ImageFormat::Png);
    let decoded = decode_upright(&original, &DecodeLimits::default()).unwrap();
    assert!(matches!(decoded, DynamicImage::ImageRgb8(_)));
    assert_eq!(pixel(&decoded, 10, 10), [255, 0, 117]);
}

#[test]
fn png_output_keeps_alpha() {
    let image = ImageBuffer::from_fn(400, 200, |x, _| Rgba([200, 30, 30, (x % 256) as u8]));
    let original = encode_as(DynamicImage::ImageRgba8(image), ImageFormat::Png);
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert!(decoded.color().has_alpha());
    assert_eq!((decoded.width(), decoded.height()), (240, 120));
}

#[test]
fn webp_output_is_lossy_and_keeps_alpha() {
    let opaque = derive(
        &marked_jpeg(600, 400),
        &request(360, None, Fit::Cover, OutputFormat::Webp),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(crate::sniff(&opaque.bytes), Some(crate::ImageFormat::Webp));
    assert_eq!(&opaque.bytes[12..16], b"VP8 ", "lossy bitstream");
    let decoded = image::load_from_memory(&opaque.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (360, 240));
    assert_red(pixel(&decoded, 40, 40), "lossy WebP");

    let logo = RgbaImage::from_fn(400, 200, |x, _| {
        Rgba([200, 30, 30, if x < 200 { 0 } else { 255 }])
    });
    let original = encode_as(DynamicImage::ImageRgba8(logo), ImageFormat::Png);
    let derived = derive(
        &original,
        &request(240, None, Fit::Contain, OutputFormat::Webp),
        &DecodeLimits::default(),
    )
    .unwrap();
    let decoded = image::load_from_memory(&derived.bytes).unwrap().to_rgba8();
    assert_eq!(decoded.get_pixel(20, 60)[3], 0, "transparent half");
    assert_eq!(decoded.get_pixel(220, 60)[3], 255, "opaque half");
}

#[test]
fn animated_gif_gives_its_first_frame() {
    let mut original = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut original);
        let frames = [RED, BLUE].map(|[r, g, b]| {
            image::Frame::new(RgbaImage::from_pixel(300, 200, Rgba([r, g, b, 255])))
        });
        encoder.encode_frames(frames).unwrap();
    }
    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 100, 50), "first GIF frame");
}

#[test]
fn animated_webp_gives_its_first_frame() {
    let frames = [RED, BLUE].map(|[r, g, b]| RgbaImage::from_pixel(300, 200, Rgba([r, g, b, 255])));
    let mut config = webp::WebPConfig::new().unwrap();
    config.lossless = 1;
    let mut encoder = webp::AnimEncoder::new(300, 200, &config);
    for (index, frame) in frames.iter().enumerate() {
        encoder.add_frame(webp::AnimFrame::from_rgba(
            frame.as_raw(),
            300,
            200,
            index as i32 * 100,
        ));
    }
    let original = encoder.try_encode().unwrap().to_vec();

    let derived = derive_png(&original, 240);
    let decoded = image::load_from_memory(&derived.bytes).unwrap();
    assert_red(pixel(&decoded, 100, 50), "first WebP frame");
}
