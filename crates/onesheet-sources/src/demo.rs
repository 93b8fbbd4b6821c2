//! The built-in demo library: invented titles with generated artwork.
//!
//! A fresh install has no media yet, and a screen that shows nothing looks broken. The demo
//! source fills that gap: the catalog shows its items only while every real source is empty, and
//! each item carries `demo: true` so pages can mark it. Artwork is painted on first request
//! (gradients, a sun and layered hills in the item's palette) and kept under the data directory,
//! so nothing licensed ships in the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use image::{ImageEncoder, Rgb, RgbImage};
use onesheet_domain::{ImageRef, ItemImages, MediaItem, MediaKind, Ratings, SourceId};
use tracing::{debug, instrument};

use crate::source::{ImageBody, MediaSource, SourceError};

/// Value of [`MediaSource::kind`] for this source; the catalog uses it to hold demo items back
/// while real ones exist.
pub const KIND: &str = "demo";

/// Bumped whenever the painting code changes, so cached files and browser caches refresh.
const ART_VERSION: &str = "demo-1";

const POSTER_SIZE: (u32, u32) = (600, 900);
const BACKGROUND_SIZE: (u32, u32) = (1280, 720);

struct DemoTitle {
    title: &'static str,
    year: u16,
    genres: &'static [&'static str],
    tagline: &'static str,
    rating: f32,
    runtime: u32,
    content_rating: &'static str,
    /// Sky top, sky bottom, sun, near hills.
    palette: [[u8; 3]; 4],
}

const TITLES: &[DemoTitle] = &[
    DemoTitle {
        title: "The Lighthouse at Vell",
        year: 1987,
        genres: &["Drama", "Mystery"],
        tagline: "Some lights guide you home.",
        rating: 7.8,
        runtime: 118,
        content_rating: "PG-13",
        palette: [[18, 32, 71], [233, 120, 80], [255, 214, 120], [22, 24, 40]],
    },
    DemoTitle {
        title: "Copper Horizon",
        year: 2019,
        genres: &["Science Fiction"],
        tagline: "The last colony looks west.",
        rating: 7.1,
        runtime: 131,
        content_rating: "PG-13",
        palette: [[40, 12, 48], [214, 96, 44], [255, 190, 90], [38, 16, 20]],
    },
    DemoTitle {
        title: "Midnight Tram",
        year: 1974,
        genres: &["Thriller"],
        tagline: "Last stop: nowhere.",
        rating: 7.4,
        runtime: 102,
        content_rating: "R",
        palette: [[6, 10, 28], [40, 60, 120], [230, 230, 210], [8, 10, 16]],
    },
    DemoTitle {
        title: "Orchard of Glass",
        year: 2003,
        genres: &["Fantasy", "Drama"],
        tagline: "Every tree remembers.",
        rating: 6.9,
        runtime: 124,
        content_rating: "PG",
        palette: [
            [70, 140, 120],
            [230, 220, 160],
            [255, 250, 220],
            [30, 70, 50],
        ],
    },
    DemoTitle {
        title: "Salt and Thunder",
        year: 1962,
        genres: &["Adventure"],
        tagline: "Seven sailors. One storm.",
        rating: 7.6,
        runtime: 140,
        content_rating: "G",
        palette: [[20, 40, 60], [120, 160, 170], [240, 240, 230], [10, 30, 40]],
    },
    DemoTitle {
        title: "The Quiet Archive",
        year: 2011,
        genres: &["Mystery"],
        tagline: "Nothing is ever truly filed away.",
        rating: 7.2,
        runtime: 109,
        content_rating: "PG-13",
        palette: [[50, 40, 30], [180, 150, 100], [250, 230, 180], [30, 24, 18]],
    },
    DemoTitle {
        title: "Neon Harbour",
        year: 2024,
        genres: &["Crime", "Thriller"],
        tagline: "The city never sleeps. Neither does she.",
        rating: 7.0,
        runtime: 115,
        content_rating: "R",
        palette: [[20, 0, 40], [200, 30, 120], [80, 240, 255], [10, 0, 20]],
    },
    DemoTitle {
        title: "A Summer in Aldmoor",
        year: 1995,
        genres: &["Romance", "Comedy"],
        tagline: "Some holidays last forever.",
        rating: 6.8,
        runtime: 97,
        content_rating: "PG",
        palette: [
            [120, 190, 230],
            [250, 220, 170],
            [255, 240, 150],
            [70, 120, 60],
        ],
    },
    DemoTitle {
        title: "Iron Meridian",
        year: 1981,
        genres: &["Western"],
        tagline: "The railroad stops here.",
        rating: 7.3,
        runtime: 126,
        content_rating: "PG",
        palette: [[90, 40, 20], [230, 170, 90], [255, 230, 160], [60, 30, 15]],
    },
    DemoTitle {
        title: "Beneath the Pale Moon",
        year: 1958,
        genres: &["Horror"],
        tagline: "Do not answer the knock.",
        rating: 7.5,
        runtime: 88,
        content_rating: "PG-13",
        palette: [[10, 14, 20], [60, 70, 90], [220, 225, 235], [5, 6, 10]],
    },
    DemoTitle {
        title: "Paper Kites",
        year: 2015,
        genres: &["Family", "Animation"],
        tagline: "Dreams fly higher together.",
        rating: 7.9,
        runtime: 94,
        content_rating: "G",
        palette: [
            [100, 180, 240],
            [250, 200, 220],
            [255, 250, 200],
            [60, 150, 90],
        ],
    },
    DemoTitle {
        title: "The Cartographer",
        year: 1999,
        genres: &["Drama", "History"],
        tagline: "He mapped the world. It changed him.",
        rating: 7.7,
        runtime: 137,
        content_rating: "PG-13",
        palette: [[60, 50, 40], [200, 170, 120], [250, 220, 160], [40, 35, 25]],
    },
    DemoTitle {
        title: "Static Bloom",
        year: 2021,
        genres: &["Science Fiction", "Mystery"],
        tagline: "The signal is growing.",
        rating: 6.7,
        runtime: 111,
        content_rating: "PG-13",
        palette: [[10, 30, 30], [40, 160, 140], [200, 255, 220], [5, 20, 20]],
    },
    DemoTitle {
        title: "Harvest of Stars",
        year: 1977,
        genres: &["Drama"],
        tagline: "One last season on the farm.",
        rating: 7.2,
        runtime: 121,
        content_rating: "PG",
        palette: [[20, 20, 60], [150, 90, 140], [255, 220, 150], [40, 30, 20]],
    },
    DemoTitle {
        title: "Velvet Getaway",
        year: 1968,
        genres: &["Crime", "Comedy"],
        tagline: "The perfect heist. Almost.",
        rating: 7.0,
        runtime: 104,
        content_rating: "PG",
        palette: [[80, 10, 30], [220, 80, 80], [255, 210, 120], [50, 5, 20]],
    },
    DemoTitle {
        title: "North of Silence",
        year: 2008,
        genres: &["Thriller", "Adventure"],
        tagline: "The ice keeps its secrets.",
        rating: 7.1,
        runtime: 118,
        content_rating: "R",
        palette: [
            [30, 60, 90],
            [200, 220, 235],
            [255, 255, 255],
            [60, 80, 100],
        ],
    },
    DemoTitle {
        title: "The Ninth Lantern",
        year: 1991,
        genres: &["Fantasy", "Adventure"],
        tagline: "Light all nine. Wake the mountain.",
        rating: 7.4,
        runtime: 129,
        content_rating: "PG",
        palette: [[30, 10, 60], [180, 80, 40], [255, 200, 80], [20, 10, 30]],
    },
    DemoTitle {
        title: "Rooftop Symphony",
        year: 2013,
        genres: &["Music", "Romance"],
        tagline: "Every city has a song.",
        rating: 6.9,
        runtime: 101,
        content_rating: "PG-13",
        palette: [[40, 30, 90], [240, 140, 120], [255, 230, 200], [25, 20, 50]],
    },
    DemoTitle {
        title: "Dust of Andara",
        year: 1984,
        genres: &["Science Fiction", "Adventure"],
        tagline: "Across the red desert lies the truth.",
        rating: 7.0,
        runtime: 133,
        content_rating: "PG",
        palette: [[90, 30, 20], [240, 150, 80], [255, 240, 200], [70, 25, 15]],
    },
    DemoTitle {
        title: "The Glass Garden",
        year: 1949,
        genres: &["Drama", "Romance"],
        tagline: "Love, fragile and bright.",
        rating: 7.6,
        runtime: 99,
        content_rating: "G",
        palette: [[30, 60, 50], [170, 210, 180], [250, 250, 230], [20, 40, 30]],
    },
    DemoTitle {
        title: "Last Train to Sorrel",
        year: 2006,
        genres: &["Drama"],
        tagline: "Some journeys only go one way.",
        rating: 7.3,
        runtime: 112,
        content_rating: "PG-13",
        palette: [[50, 40, 70], [220, 130, 100], [255, 220, 160], [30, 25, 40]],
    },
    DemoTitle {
        title: "Wolves of the Low Fen",
        year: 1971,
        genres: &["Horror", "Thriller"],
        tagline: "The marsh is hungry.",
        rating: 6.6,
        runtime: 91,
        content_rating: "R",
        palette: [[20, 30, 20], [90, 110, 80], [220, 230, 200], [10, 15, 10]],
    },
    DemoTitle {
        title: "Clockwork Autumn",
        year: 2017,
        genres: &["Animation", "Fantasy"],
        tagline: "Time is a tinkerer.",
        rating: 7.8,
        runtime: 96,
        content_rating: "PG",
        palette: [[70, 30, 10], [230, 140, 40], [255, 220, 120], [50, 25, 10]],
    },
    DemoTitle {
        title: "Signal from Tharsis",
        year: 2026,
        genres: &["Science Fiction", "Drama"],
        tagline: "Someone answered.",
        rating: 7.5,
        runtime: 142,
        content_rating: "PG-13",
        palette: [[5, 5, 20], [120, 40, 40], [255, 160, 120], [40, 15, 15]],
    },
];

pub struct DemoSource {
    id: SourceId,
    folder: PathBuf,
    /// Built once: the demo titles never change.
    items: Vec<Arc<MediaItem>>,
}

impl DemoSource {
    /// Creates the source; artwork files are painted into `folder` when first requested.
    pub fn new(folder: PathBuf) -> Result<Self, onesheet_domain::FieldError> {
        let id = SourceId::new(KIND)?;
        let items = TITLES
            .iter()
            .enumerate()
            .map(|(index, title)| Arc::new(demo_item(&id, index, title)))
            .collect();
        Ok(Self { id, folder, items })
    }
}

#[async_trait]
impl MediaSource for DemoSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        Ok(self.items.clone())
    }

    #[instrument(skip_all, fields(source.id = %self.id, image.key = %image.key))]
    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        let not_found = || SourceError::ImageNotFound {
            source_id: self.id.clone(),
        };
        let (index, wide) = parse_key(&image.key).ok_or_else(not_found)?;
        let path = self.folder.join(format!(
            "{ART_VERSION}-{index:02}-{}.jpg",
            if wide { "background" } else { "poster" }
        ));
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(ImageBody::File(path));
        }

        let target = path.clone();
        let painted = tokio::task::spawn_blocking(move || paint_to_file(index, wide, &target))
            .await
            .map_err(|error| SourceError::Unavailable {
                source_id: self.id.clone(),
                reason: format!("painting demo artwork stopped: {error}"),
            })?;
        painted.map_err(|error| SourceError::Io {
            source_id: self.id.clone(),
            error,
        })?;
        debug!(path = %path.display(), "painted demo artwork");
        Ok(ImageBody::File(path))
    }
}

fn demo_item(source: &SourceId, index: usize, title: &DemoTitle) -> MediaItem {
    let image = |kind: &str| ImageRef {
        key: format!("{index:02}/{kind}"),
        version: format!("{ART_VERSION}-{index:02}"),
        appearance: None,
    };
    let mut item = MediaItem {
        upstream_key: format!("demo/{index:02}"),
        kind: MediaKind::Movie,
        title: title.title.to_owned(),
        year: Some(title.year),
        tagline: Some(title.tagline.to_owned()),
        overview: Some(format!(
            "{} is part of Onesheet's demo library, an invented title shown until you add your own media.",
            title.title
        )),
        genres: title.genres.iter().map(|g| (*g).to_owned()).collect(),
        content_rating: Some(title.content_rating.to_owned()),
        ratings: Ratings {
            audience: Some(title.rating),
            critic: None,
        },
        runtime_minutes: Some(title.runtime),
        images: ItemImages {
            poster: Some(image("poster")),
            background: Some(image("background")),
            ..ItemImages::default()
        },
        library: Some("Demo".to_owned()),
        demo: true,
        ..MediaItem::default()
    };
    item.assign_identity(source);
    item
}

/// Parses `NN/poster` or `NN/background` into the title index and whether it is the wide image.
fn parse_key(key: &str) -> Option<(usize, bool)> {
    let (index, kind) = key.split_once('/')?;
    let index: usize = index.parse().ok().filter(|&i| i < TITLES.len())?;
    match kind {
        "poster" => Some((index, false)),
        "background" => Some((index, true)),
        _ => None,
    }
}

fn paint_to_file(index: usize, wide: bool, path: &Path) -> std::io::Result<()> {
    let (width, height) = if wide { BACKGROUND_SIZE } else { POSTER_SIZE };
    let canvas = paint(&TITLES[index].palette, width, height, index as u32);

    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .write_image(
            canvas.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(std::io::Error::other)?;
    onesheet_store::atomic::write_file(path, &bytes).map_err(std::io::Error::other)
}

/// Paints a sky gradient, a sun with a soft halo and three ranges of hills, each darker and
/// nearer than the last. `seed` varies the hill shapes between titles.
fn paint(palette: &[[u8; 3]; 4], width: u32, height: u32, seed: u32) -> RgbImage {
    let [sky_top, sky_bottom, sun, hills] = palette.map(|c| c.map(f32::from));
    let w = width as f32;
    let h = height as f32;
    let phase = seed as f32 * 1.7;
    let sun_x = w * (0.3 + 0.4 * ((seed * 37 % 100) as f32 / 100.0));
    let sun_y = h * 0.42;
    let sun_radius = w.min(h) * 0.16;

    // Hill ridge heights as a fraction of the height, for ranges far, middle and near.
    let ridge = |x: f32, layer: f32| {
        let base = 0.58 + layer * 0.11;
        let t = x / w * std::f32::consts::TAU;
        base - 0.05 * (t * (1.0 + layer) + phase).sin()
            - 0.03 * (t * (2.3 + layer) + phase * 0.5).sin()
    };

    RgbImage::from_fn(width, height, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let t = yf / h;
        let mut color = mix(sky_top, sky_bottom, t.min(1.0));

        let distance = ((xf - sun_x).powi(2) + (yf - sun_y).powi(2)).sqrt();
        if distance < sun_radius {
            color = sun;
        } else {
            let glow = (1.0 - (distance - sun_radius) / (sun_radius * 2.5)).clamp(0.0, 1.0);
            color = mix(color, sun, glow * glow * 0.6);
        }

        for layer in 0..3 {
            let layer_f = layer as f32;
            if t > ridge(xf, layer_f) {
                let shade = 0.55 + 0.2 * (2.0 - layer_f);
                color = mix(hills, sky_bottom, shade * 0.5 * (2.0 - layer_f) / 2.0);
            }
        }
        Rgb(color.map(|c| c.clamp(0.0, 255.0) as u8))
    })
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_has_enough_marked_items() {
        let dir = tempfile::tempdir().unwrap();
        let source = DemoSource::new(dir.path().to_path_buf()).unwrap();
        let items = source.fetch_items().await.unwrap();
        assert!(items.len() >= 24);
        assert!(items.iter().all(|item| item.demo));
        assert!(
            items
                .iter()
                .all(|item| item.images.poster.is_some() && item.images.background.is_some())
        );
        let mut ids: Vec<_> = items.iter().map(|item| item.id.clone().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), items.len());
    }

    #[tokio::test]
    async fn demo_artwork_is_sized_jpeg() {
        let dir = tempfile::tempdir().unwrap();
        let source = DemoSource::new(dir.path().to_path_buf()).unwrap();
        let items = source.fetch_items().await.unwrap();
        let poster = items[0].images.poster.clone().unwrap();
        let ImageBody::File(path) = source.open_image(&poster).await.unwrap() else {
            unreachable!("demo images are files")
        };
        let decoded = image::open(&path).unwrap();
        assert_eq!((decoded.width(), decoded.height()), POSTER_SIZE);

        // A second request reuses the painted file.
        let ImageBody::File(again) = source.open_image(&poster).await.unwrap() else {
            unreachable!("demo images are files")
        };
        assert_eq!(again, path);
    }

    #[tokio::test]
    async fn unknown_demo_key_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let source = DemoSource::new(dir.path().to_path_buf()).unwrap();
        for key in ["99/poster", "00/logo", "../etc", "", "00"] {
            let image = ImageRef {
                key: key.into(),
                version: "x".into(),
                appearance: None,
            };
            assert!(matches!(
                source.open_image(&image).await,
                Err(SourceError::ImageNotFound { .. })
            ));
        }
    }
}
