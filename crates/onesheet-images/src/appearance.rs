//! Dominant colours and blur placeholders of images.
//!
//! Both are computed from one copy of the image shrunk to at most [`THUMBHASH_MAX_SIDE`] pixels a
//! side, so past the shrink they cost the same for any original: at most 10,000 pixels.
//!
//! # Palette
//!
//! The palette is k-means clustering in sRGB, run on a colour histogram instead of on pixels:
//!
//! 1. Each pixel falls into one of 4096 bins (the top 4 bits of each channel). A bin keeps its
//!    weight and the weighted sum of its pixels' colours. A pixel weighs its alpha, so fully
//!    transparent pixels count for nothing and soft edges count for little.
//! 2. Seeds are picked from the bins, heaviest first: a bin becomes a seed when its mean colour is
//!    at least [`SEED_DISTANCE`] from every seed so far, up to [`MAX_CLUSTERS`] seeds. Starting
//!    from the heaviest distinct colours makes the result deterministic and puts the seeds where
//!    most of the area is.
//! 3. Lloyd iterations move every bin to its nearest centroid and every centroid to the weighted
//!    mean of its bins, until no bin moves or [`MAX_ITERATIONS`] is reached.
//! 4. Clusters are sorted by weight, heaviest first. Those under [`MIN_SHARE`] of the total weight
//!    are dropped, except the first, and at most [`PALETTE_COLORS`] are kept.
//!
//! Bins, not pixels, are what is clustered, and there are at most 4096 of them, so the clustering
//! costs the same for any image. A colour is the mean of the real pixel colours in its cluster,
//! not a bin centre, so a flat area comes out as its exact colour.
//!
//! # Placeholder
//!
//! The placeholder is a [ThumbHash](https://evanw.github.io/thumbhash/), encoded by the
//! `thumbhash` crate and stored as standard base64 with padding, which pages decode with `atob`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, RgbaImage};
use onesheet_domain::media::{ImageAppearance, Rgb};

use crate::derive::{DecodeLimits, DeriveError, decode_upright_at_least};

/// Maximum number of colours in a computed palette.
pub const PALETTE_COLORS: usize = 5;

/// Maximum side length of the copy that the palette and the ThumbHash are computed from. The `thumbhash`
/// crate (0.1) panics on a larger input, and its format keeps no more detail than this anyway.
pub const THUMBHASH_MAX_SIDE: u32 = 100;

/// Maximum number of clusters k-means starts with. More than [`PALETTE_COLORS`], so that a colour split
/// across two clusters does not crowd out a third one.
const MAX_CLUSTERS: usize = 8;

/// Minimum distance between two seeds, in sRGB units (0 to 255 per channel, so the cube's
/// diagonal is 441). Closer colours look alike and would split one area into two palette entries.
const SEED_DISTANCE: f32 = 40.0;

/// Maximum number of Lloyd iterations. The seeds already sit on the heaviest colours, so a few suffice.
const MAX_ITERATIONS: usize = 16;

/// Share of the image's weight below which a cluster is left out of the palette.
const MIN_SHARE: f64 = 0.01;

/// Decodes `original` within `limits`, turns it upright and computes its appearance.
///
/// A JPEG is decoded at the smallest DCT scale that still covers [`THUMBHASH_MAX_SIDE`] on both
/// sides, so a large poster costs a fraction of a full decode. Other formats are decoded at
/// full size. This is blocking and CPU-bound, and the decode dominates.
pub fn appearance_of(
    original: &[u8],
    limits: &DecodeLimits,
) -> Result<ImageAppearance, DeriveError> {
    let image = decode_upright_at_least(original, limits, THUMBHASH_MAX_SIDE, THUMBHASH_MAX_SIDE)?;
    Ok(appearance(&image))
}

/// Computes the palette and the ThumbHash of `image`. The same pixels always give the same result.
pub fn appearance(image: &DynamicImage) -> ImageAppearance {
    let small = shrink(image, THUMBHASH_MAX_SIDE);
    ImageAppearance {
        palette: palette(&small),
        thumbhash: thumbhash(&small),
    }
}

/// Returns an RGBA copy of `image` that fits in `max_side`×`max_side`. A smaller image keeps its
/// size.
fn shrink(image: &DynamicImage, max_side: u32) -> RgbaImage {
    let (width, height) = (image.width(), image.height());
    if width == 0 || height == 0 {
        // An empty image becomes one transparent pixel, which the ThumbHash encoder accepts.
        return RgbaImage::new(1, 1);
    }
    if width <= max_side && height <= max_side {
        return image.to_rgba8();
    }

    let scale = f64::from(max_side) / f64::from(width.max(height));
    let target_width = ((f64::from(width) * scale).round() as u32).clamp(1, max_side);
    let target_height = ((f64::from(height) * scale).round() as u32).clamp(1, max_side);
    // Super-sampling picks every n-th pixel down to four times the target size, then averages
    // 4×4 blocks. On a 2000×3000 image that took 0.2 to 0.5 ms, where averaging every source
    // pixel took about 9 ms (release build, 2-core Xeon virtual machine). Colour statistics lose
    // nothing a screen would notice. Alpha is premultiplied while averaging, so transparent
    // pixels do not darken the edges.
    let mut target = DynamicImage::new(target_width, target_height, image.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::SuperSampling(FilterType::Box, 4));
    match Resizer::new().resize(image, &mut target, &options) {
        Ok(()) => target.to_rgba8(),
        // Pixel types that the resizer does not support are averaged by the image crate.
        Err(_) => image.thumbnail(max_side, max_side).to_rgba8(),
    }
}

/// Encodes the ThumbHash of an image that fits in [`THUMBHASH_MAX_SIDE`] pixels a side.
fn thumbhash(small: &RgbaImage) -> String {
    let hash = thumbhash::rgba_to_thumb_hash(
        small.width() as usize,
        small.height() as usize,
        small.as_raw(),
    );
    BASE64.encode(hash)
}

/// Colour totals of one histogram bin, or of one cluster.
#[derive(Debug, Clone, Copy, Default)]
struct Bin {
    /// Sum of the alphas of the pixels in the bin.
    weight: u64,
    /// Sums of alpha times each channel.
    sum: [u64; 3],
}

impl Bin {
    fn add(&mut self, other: &Bin) {
        self.weight += other.weight;
        for (total, part) in self.sum.iter_mut().zip(other.sum) {
            *total += part;
        }
    }

    /// Weighted mean colour. Callers pass only bins with a weight.
    fn mean(&self) -> [f32; 3] {
        let weight = self.weight as f64;
        self.sum.map(|channel| (channel as f64 / weight) as f32)
    }
}

/// Computes the dominant colours, heaviest first, as the module header describes.
fn palette(small: &RgbaImage) -> Vec<Rgb> {
    let bins = histogram(small);
    let total: u64 = bins.iter().map(|bin| bin.weight).sum();
    if total == 0 {
        return Vec::new();
    }

    let means: Vec<[f32; 3]> = bins.iter().map(Bin::mean).collect();
    let mut centroids = seeds(&means);
    let mut assignment = vec![usize::MAX; bins.len()];
    let mut clusters = Vec::new();
    for _ in 0..MAX_ITERATIONS {
        let mut moved = false;
        for (slot, mean) in assignment.iter_mut().zip(&means) {
            let nearest = nearest(&centroids, mean);
            moved |= *slot != nearest;
            *slot = nearest;
        }

        clusters = vec![Bin::default(); centroids.len()];
        for (bin, &cluster) in bins.iter().zip(&assignment) {
            clusters[cluster].add(bin);
        }
        if !moved {
            break;
        }
        // A centroid that lost all its bins stays where it was, and its empty cluster is left
        // out of the result.
        centroids = clusters
            .iter()
            .zip(&centroids)
            .map(|(cluster, &old)| {
                if cluster.weight > 0 {
                    cluster.mean()
                } else {
                    old
                }
            })
            .collect();
    }

    let mut colors: Vec<(u64, Rgb)> = clusters
        .iter()
        .filter(|cluster| cluster.weight > 0)
        .map(|cluster| (cluster.weight, to_rgb(cluster.mean())))
        .collect();
    // Ties are broken by the colour itself, so equal areas still come out in a fixed order.
    colors.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let min_weight = (total as f64 * MIN_SHARE) as u64;
    colors
        .iter()
        .enumerate()
        .filter(|(rank, (weight, _))| *rank == 0 || *weight >= min_weight)
        .map(|(_, (_, color))| *color)
        .take(PALETTE_COLORS)
        .collect()
}

/// Returns the non-empty bins of the 4096-bin histogram, heaviest first, ties by bin number.
fn histogram(small: &RgbaImage) -> Vec<Bin> {
    let mut bins = vec![Bin::default(); 4096];
    for pixel in small.pixels() {
        let [r, g, b, alpha] = pixel.0;
        if alpha == 0 {
            continue;
        }
        let index = usize::from(r >> 4) << 8 | usize::from(g >> 4) << 4 | usize::from(b >> 4);
        let alpha = u64::from(alpha);
        let bin = &mut bins[index];
        bin.weight += alpha;
        bin.sum[0] += alpha * u64::from(r);
        bin.sum[1] += alpha * u64::from(g);
        bin.sum[2] += alpha * u64::from(b);
    }

    // A stable sort keeps bin-number order among equal weights.
    bins.retain(|bin| bin.weight > 0);
    bins.sort_by_key(|bin| std::cmp::Reverse(bin.weight));
    bins
}

/// Picks the seeds among bin means ordered heaviest first, as the module header describes.
fn seeds(means: &[[f32; 3]]) -> Vec<[f32; 3]> {
    let mut seeds: Vec<[f32; 3]> = Vec::with_capacity(MAX_CLUSTERS);
    for mean in means {
        if seeds.len() == MAX_CLUSTERS {
            break;
        }
        let distinct = seeds
            .iter()
            .all(|seed| distance_squared(seed, mean) >= SEED_DISTANCE * SEED_DISTANCE);
        if distinct {
            seeds.push(*mean);
        }
    }
    seeds
}

/// Index of the centroid nearest to `color`; the lowest index wins a tie.
fn nearest(centroids: &[[f32; 3]], color: &[f32; 3]) -> usize {
    let mut best = (0, f32::INFINITY);
    for (index, centroid) in centroids.iter().enumerate() {
        let distance = distance_squared(centroid, color);
        if distance < best.1 {
            best = (index, distance);
        }
    }
    best.0
}

fn distance_squared(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn to_rgb(mean: [f32; 3]) -> Rgb {
    let [r, g, b] = mean.map(|channel| channel.round().clamp(0.0, 255.0) as u8);
    Rgb::new(r, g, b)
}

#[cfg(test)]
#[path = "appearance_tests.rs"]
mod tests;
