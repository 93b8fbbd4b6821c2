use std::io::Cursor;

use image::{ImageFormat, Rgba, RgbaImage};

use super::*;

const RED: Rgb = Rgb::new(200, 30, 40);
const BLUE: Rgb = Rgb::new(20, 40, 180);

fn rgba(color: Rgb) -> Rgba<u8> {
    Rgba([color.r, color.g, color.b, 255])
}

/// Paints an image whose top `top_rows` rows are `top` and the rest `bottom`.
fn two_bands(width: u32, height: u32, top_rows: u32, top: Rgb, bottom: Rgb) -> DynamicImage {
    let image = RgbaImage::from_fn(width, height, |_, y| {
        if y < top_rows {
            rgba(top)
        } else {
            rgba(bottom)
        }
    });
    DynamicImage::ImageRgba8(image)
}

fn decoded_thumbhash(appearance: &ImageAppearance) -> Vec<u8> {
    BASE64.decode(&appearance.thumbhash).unwrap()
}

#[test]
fn two_colours_come_in_order_of_area() {
    let image = two_bands(40, 40, 12, BLUE, RED);
    assert_eq!(appearance(&image).palette, [RED, BLUE]);

    let image = two_bands(40, 40, 28, BLUE, RED);
    assert_eq!(appearance(&image).palette, [BLUE, RED]);
}

#[test]
fn two_colours_survive_the_shrink() {
    // 900 rows shrink to 100, so one output row may blend the two colours at the border.
    let image = two_bands(600, 900, 630, RED, BLUE);
    let palette = appearance(&image).palette;
    assert_eq!(&palette[..2], [RED, BLUE]);
}

#[test]
fn solid_image_gives_one_colour() {
    let image = two_bands(30, 50, 50, RED, RED);
    assert_eq!(appearance(&image).palette, [RED]);
}

#[test]
fn transparent_pixels_are_ignored() {
    // Three quarters are fully transparent green, which must not count, even where the shrink
    // of the larger copy averages the two halves together.
    for side in [40, 400] {
        let image = RgbaImage::from_fn(side, side, |x, _| {
            if x < side * 3 / 4 {
                Rgba([0, 255, 0, 0])
            } else {
                rgba(RED)
            }
        });
        let palette = appearance(&DynamicImage::ImageRgba8(image)).palette;
        assert_eq!(palette, [RED], "{side}×{side}");
    }
}

#[test]
fn other_pixel_types_are_shrunk_too() {
    let grey = image::ImageBuffer::from_pixel(300, 200, image::Luma([0x8080u16]));
    let palette = appearance(&DynamicImage::ImageLuma16(grey)).palette;
    assert_eq!(palette, [Rgb::new(128, 128, 128)]);
}

#[test]
fn fully_transparent_image_has_empty_palette() {
    let image = DynamicImage::ImageRgba8(RgbaImage::new(20, 20));
    let appearance = appearance(&image);
    assert!(appearance.palette.is_empty());
    assert!(!appearance.thumbhash.is_empty());
}

#[test]
fn palette_keeps_at_most_five_colours() {
    let stripes = [
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (255, 255, 0),
        (0, 255, 255),
        (255, 0, 255),
        (255, 255, 255),
        (0, 0, 0),
    ];
    // Stripe i is i + 1 columns wide, so the widest stripes should win.
    let mut columns = Vec::new();
    for (index, &(r, g, b)) in stripes.iter().enumerate() {
        columns.extend(std::iter::repeat_n(Rgb::new(r, g, b), index + 1));
    }
    let image = RgbaImage::from_fn(columns.len() as u32, 10, |x, _| rgba(columns[x as usize]));
    let palette = appearance(&DynamicImage::ImageRgba8(image)).palette;

    let widest: Vec<Rgb> = columns.iter().rev().fold(Vec::new(), |mut seen, color| {
        if !seen.contains(color) {
            seen.push(*color);
        }
        seen
    });
    assert_eq!(palette, widest[..PALETTE_COLORS]);
}

#[test]
fn same_image_gives_same_appearance() {
    let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(300, 200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
    }));
    let first = appearance(&image);
    let second = appearance(&image);
    assert_eq!(first, second);
    assert!(!first.palette.is_empty());
    assert!(first.palette.len() <= PALETTE_COLORS);
}

#[test]
fn thumbhash_decodes_to_the_average_colour() {
    // Average: 0.7 × RED + 0.3 × BLUE.
    let image = two_bands(300, 300, 210, RED, BLUE);
    let hash = decoded_thumbhash(&appearance(&image));

    let (r, g, b, a) = thumbhash::thumb_hash_to_average_rgba(&hash).unwrap();
    let expected = |top: u8, bottom: u8| (0.7 * f32::from(top) + 0.3 * f32::from(bottom)) / 255.0;
    // The format keeps the average in 6 bits per component.
    let tolerance = 0.04;
    assert!((r - expected(RED.r, BLUE.r)).abs() < tolerance, "red {r}");
    assert!((g - expected(RED.g, BLUE.g)).abs() < tolerance, "green {g}");
    assert!((b - expected(RED.b, BLUE.b)).abs() < tolerance, "blue {b}");
    assert_eq!(a, 1.0);

    let (width, height, pixels) = thumbhash::thumb_hash_to_rgba(&hash).unwrap();
    assert_eq!(pixels.len(), width * height * 4);
    assert_eq!(width, height, "a square image has a square placeholder");
}

#[test]
fn thumbhash_keeps_the_aspect_ratio() {
    let image = two_bands(400, 600, 300, RED, BLUE);
    let hash = decoded_thumbhash(&appearance(&image));
    let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap();
    assert!((ratio - 400.0 / 600.0).abs() < 0.15, "ratio {ratio}");
}

#[test]
fn extreme_shapes_do_not_panic() {
    for (width, height) in [(1, 1), (1, 3000), (3000, 1), (101, 100), (100, 101)] {
        let image = two_bands(width, height, height / 2, RED, BLUE);
        let appearance = appearance(&image);
        assert!(!appearance.palette.is_empty(), "{width}×{height}");
        assert!(
            appearance.thumbhash.len() <= onesheet_domain::media::MAX_THUMBHASH_CHARS,
            "{width}×{height}"
        );
    }
    let empty = appearance(&DynamicImage::new_rgba8(0, 0));
    assert!(empty.palette.is_empty());
}

#[test]
fn appearance_of_decodes_an_encoded_image() {
    let mut png = Vec::new();
    two_bands(60, 90, 90, BLUE, BLUE)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let appearance = appearance_of(&png, &DecodeLimits::default()).unwrap();
    assert_eq!(appearance.palette, [BLUE]);
}

#[test]
fn appearance_of_rejects_what_is_not_an_image() {
    let result = appearance_of(b"plain text, not pixels", &DecodeLimits::default());
    assert!(
        matches!(result, Err(DeriveError::UnknownFormat)),
        "{result:?}"
    );
}
