//! Real image files for the fakes' image endpoints: gradients in one of eight colours, encoded
//! once per size and colour and then served from memory.
//!
//! The cache is shared by every fake in the process, because a 2400 × 3600 JPEG takes about half
//! a second to encode (measured in a debug build on a loaded 2-core machine) and a test binary
//! starts many fakes.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{LazyLock, Mutex};

use bytes::Bytes;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgba, RgbaImage};

/// Largest width or height the fakes render. Requests for more are clamped, so a client asking
/// for `width=100000` gets a large image rather than an allocation of gigabytes.
pub const MAX_SIDE: u32 = 8000;

/// Encoded images kept in memory before the cache starts over. Fakes render few distinct sizes,
/// so this only bounds a test that requests thousands of sizes.
const MAX_CACHED: usize = 256;

static CACHE: LazyLock<Mutex<HashMap<CacheKey, Bytes>>> = LazyLock::new(Mutex::default);

/// Colours of the generated images; an item's key picks one.
const PALETTE: [[u8; 3]; 8] = [
    [176, 42, 48],
    [34, 96, 168],
    [38, 140, 84],
    [212, 150, 32],
    [110, 60, 150],
    [20, 130, 140],
    [200, 90, 40],
    [70, 70, 80],
];

/// Encoding of a generated image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageEncoding {
    Jpeg,
    /// PNG with a transparent background, as clear logos are.
    Png,
}

impl ImageEncoding {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageEncoding::Jpeg => "image/jpeg",
            ImageEncoding::Png => "image/png",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("encoding a {width}x{height} test JPEG failed: {source}")]
    Jpeg {
        width: u32,
        height: u32,
        #[source]
        source: jpeg_encoder::EncodingError,
    },
    #[error("encoding a {width}x{height} test PNG failed: {source}")]
    Png {
        width: u32,
        height: u32,
        #[source]
        source: image::ImageError,
    },
    #[error("the image encoding task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CacheKey {
    width: u32,
    height: u32,
    colour: usize,
    encoding: ImageEncoding,
}

/// Returns the encoded image of `width` × `height` (each clamped to 1..=[`MAX_SIDE`]) in the
/// colour that `colour_seed` picks. Encoding runs on the blocking pool, so a large original
/// does not stall the runtime the test client shares.
pub async fn render(
    width: u32,
    height: u32,
    colour_seed: u64,
    encoding: ImageEncoding,
) -> Result<Bytes, RenderError> {
    let key = CacheKey {
        width: width.clamp(1, MAX_SIDE),
        height: height.clamp(1, MAX_SIDE),
        colour: (colour_seed % PALETTE.len() as u64) as usize,
        encoding,
    };
    if let Some(bytes) = lock_cache().get(&key) {
        return Ok(bytes.clone());
    }

    // Two requests for the same missing image may both encode it; both results are equal.
    let encoded = tokio::task::spawn_blocking(move || encode(key)).await??;

    let mut cache = lock_cache();
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    cache.insert(key, encoded.clone());
    Ok(encoded)
}

fn lock_cache() -> std::sync::MutexGuard<'static, HashMap<CacheKey, Bytes>> {
    // A panic while holding the lock leaves the map intact, so a poisoned lock is still
    // usable.
    CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn encode(key: CacheKey) -> Result<Bytes, RenderError> {
    let CacheKey {
        width,
        height,
        colour,
        encoding,
    } = key;
    let [red, green, blue] = PALETTE[colour];
    match encoding {
        ImageEncoding::Jpeg => {
            // A vertical gradient from the colour to a darker shade, so the image is not flat
            // and palette extraction has something to find. Rows are uniform, which keeps a
            // 2400 × 3600 original cheap to build in a debug build.
            let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
            for y in 0..height {
                let shade = 255 - (u64::from(y) * 120 / u64::from(height)) as u16;
                let pixel = [scale(red, shade), scale(green, shade), scale(blue, shade)];
                let row_start = pixels.len();
                pixels.extend_from_slice(&pixel);
                while pixels.len() - row_start < width as usize * 3 {
                    let filled = pixels.len() - row_start;
                    let copy = filled.min(width as usize * 3 - filled);
                    pixels.extend_from_within(row_start..row_start + copy);
                }
            }
            let mut bytes = Vec::new();
            // `MAX_SIDE` is below `u16::MAX`, so the casts keep the size.
            jpeg_encoder::Encoder::new(&mut bytes, 85)
                .encode(
                    &pixels,
                    width as u16,
                    height as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .map_err(|source| RenderError::Jpeg {
                    width,
                    height,
                    source,
                })?;
            Ok(Bytes::from(bytes))
        }
        ImageEncoding::Png => {
            // A solid band across the middle third on a transparent background.
            let image = RgbaImage::from_fn(width, height, |_, y| {
                if y >= height / 3 && y < height - height / 3 {
                    Rgba([red, green, blue, 255])
                } else {
                    Rgba([0, 0, 0, 0])
                }
            });
            let mut buffer = Cursor::new(Vec::new());
            PngEncoder::new(&mut buffer)
                .write_image(image.as_raw(), width, height, ExtendedColorType::Rgba8)
                .map_err(|source| RenderError::Png {
                    width,
                    height,
                    source,
                })?;
            Ok(Bytes::from(buffer.into_inner()))
        }
    }
}

/// Multiplies a channel by `shade / 255`.
fn scale(channel: u8, shade: u16) -> u8 {
    (u16::from(channel) * shade / 255) as u8
}

/// Fits `original` into the box `max_width` × `max_height` (either may be absent), keeping the
/// aspect ratio and never enlarging. Both results are at least 1.
pub fn fit_within(
    original: (u32, u32),
    max_width: Option<u32>,
    max_height: Option<u32>,
) -> (u32, u32) {
    let (width, height) = (f64::from(original.0), f64::from(original.1));
    let mut factor: f64 = 1.0;
    if let Some(max_width) = max_width.filter(|value| *value > 0) {
        factor = factor.min(f64::from(max_width) / width);
    }
    if let Some(max_height) = max_height.filter(|value| *value > 0) {
        factor = factor.min(f64::from(max_height) / height);
    }
    (
        ((width * factor).round() as u32).max(1),
        ((height * factor).round() as u32).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jpeg_has_requested_size() {
        let bytes = render(30, 45, 3, ImageEncoding::Jpeg).await.unwrap();
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (30, 45));
        assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
    }

    #[tokio::test]
    async fn png_is_transparent_outside_band() {
        let bytes = render(20, 9, 1, ImageEncoding::Png).await.unwrap();
        let decoded = image::load_from_memory(&bytes).unwrap().to_rgba8();
        assert_eq!(decoded.get_pixel(0, 0)[3], 0);
        assert_eq!(decoded.get_pixel(10, 4)[3], 255);
    }

    #[test]
    fn fit_within_keeps_ratio_and_never_enlarges() {
        assert_eq!(fit_within((2400, 3600), Some(600), None), (600, 900));
        assert_eq!(fit_within((2400, 3600), Some(600), Some(600)), (400, 600));
        assert_eq!(fit_within((200, 300), Some(600), None), (200, 300));
        assert_eq!(fit_within((200, 300), None, None), (200, 300));
    }
}
