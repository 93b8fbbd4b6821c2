//! Turning valid artwork files into media items.
//!
//! Every poster is an item. Backgrounds and logos join the item with the same title key, and
//! the same year when both sides have one. A background that joins nothing becomes an item of
//! its own, and a logo that joins nothing is dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use onesheet_domain::{ImageRef, MediaItem, SourceId};
use tracing::debug;

use super::names::{Artwork, ParsedTitle, StemKind, classify_stem, parse_title, title_key};
use super::nfo::NfoData;
use super::paths::FileStamp;

/// An image file that passed the probe, as the walk found it.
#[derive(Debug, Clone)]
pub(crate) struct ImageFile {
    pub key: String,
    pub path: PathBuf,
    /// The artwork of the category folder the file is in.
    pub folder: Artwork,
    pub stamp: FileStamp,
}

/// An image file with its role and title worked out.
#[derive(Debug, Clone)]
pub(crate) struct ArtFile {
    pub file: ImageFile,
    pub artwork: Artwork,
    pub parsed: ParsedTitle,
    pub title_key: String,
    /// The key of the folder holding the file.
    pub dir: String,
    /// The file name without its extension.
    pub stem: String,
    /// The stem without a Kodi role suffix.
    pub base: String,
}

impl ArtFile {
    /// Works out role and title, or returns `None` for artwork Onesheet does not use.
    pub(crate) fn classify(file: ImageFile) -> Option<Self> {
        let (dir, name) = file.key.rsplit_once('/')?;
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);

        let StemKind::Art {
            base,
            role,
            generic,
        } = classify_stem(stem)
        else {
            debug!(file = ?file.key, "skipping artwork type that has no slot");
            return None;
        };

        // A generic name such as `poster.jpg` takes its title from the folder, unless the
        // folder is the category folder itself, whose name is no title.
        let folder_name = dir.rsplit_once('/').map(|(_, last)| last);
        let title_source = match folder_name {
            Some(folder) if generic => folder,
            _ => base,
        };
        let parsed = parse_title(title_source);

        Some(Self {
            artwork: role.unwrap_or(file.folder),
            title_key: title_key(&parsed.title),
            parsed,
            dir: dir.to_owned(),
            stem: stem.to_owned(),
            base: base.to_owned(),
            file,
        })
    }

    fn image_ref(&self) -> ImageRef {
        ImageRef {
            key: self.file.key.clone(),
            version: self.file.stamp.version(),
            appearance: None,
        }
    }
}

/// Builds the items, with `nfo_for` supplying the NFO data of an item's main file. The
/// result is sorted by title, then key.
pub(crate) fn build_items(
    source: &SourceId,
    files: &[ArtFile],
    mut nfo_for: impl FnMut(&ArtFile) -> Option<Arc<NfoData>>,
    mut share: impl FnMut(MediaItem) -> Arc<MediaItem>,
) -> Vec<Arc<MediaItem>> {
    let indices_of = |artwork: Artwork| -> Vec<usize> {
        (0..files.len())
            .filter(|&index| files[index].artwork == artwork)
            .collect()
    };
    let posters = indices_of(Artwork::Poster);
    let backgrounds = indices_of(Artwork::Background);
    let logos = indices_of(Artwork::Logo);

    let background_index = index_by_title(files, &backgrounds);
    let logo_index = index_by_title(files, &logos);

    // Each planned item: its main file, and the background it shows.
    let mut planned: Vec<(usize, Option<usize>)> = Vec::with_capacity(posters.len());
    let mut background_used = vec![false; files.len()];
    for &poster in &posters {
        let background = best_match(files, poster, &background_index);
        if let Some(background) = background {
            background_used[background] = true;
        }
        planned.push((poster, background));
    }
    for &background in &backgrounds {
        if !background_used[background] {
            planned.push((background, Some(background)));
        }
    }

    let mut logo_used = vec![false; files.len()];
    let mut items = Vec::with_capacity(planned.len());
    for (main, background) in planned {
        let logo = best_match(files, main, &logo_index);
        if let Some(logo) = logo {
            logo_used[logo] = true;
        }

        let mut item = new_item(
            &files[main],
            background.map(|b| &files[b]),
            logo.map(|l| &files[l]),
        );
        if let Some(nfo) = nfo_for(&files[main]) {
            nfo.apply_to(&mut item);
        }
        item.assign_identity(source);
        items.push(share(item));
    }

    for &logo in &logos {
        if !logo_used[logo] {
            debug!(
                file = ?files[logo].file.key,
                "ignoring logo that matches no poster or background"
            );
        }
    }

    items.sort_by_cached_key(|item| (item.title.to_lowercase(), item.upstream_key.clone()));
    items
}

fn new_item(main: &ArtFile, background: Option<&ArtFile>, logo: Option<&ArtFile>) -> MediaItem {
    let mut item = MediaItem {
        upstream_key: main.file.key.clone(),
        title: main.parsed.title.clone(),
        year: main.parsed.year,
        added_at: Some(main.file.stamp.modified_secs()),
        ..MediaItem::default()
    };
    if main.artwork == Artwork::Poster {
        item.images.poster = Some(main.image_ref());
    }
    item.images.background = background.map(ArtFile::image_ref);
    item.images.logo = logo.map(ArtFile::image_ref);
    item
}

fn index_by_title<'a>(files: &'a [ArtFile], indices: &[usize]) -> HashMap<&'a str, Vec<usize>> {
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for &position in indices {
        index
            .entry(files[position].title_key.as_str())
            .or_default()
            .push(position);
    }
    index
}

/// Picks the candidate with the same title key and a compatible year. Preferred, in order:
/// the same folder as `target`, the same year (rather than a missing one), the smallest key.
fn best_match(
    files: &[ArtFile],
    target: usize,
    index: &HashMap<&str, Vec<usize>>,
) -> Option<usize> {
    let target = &files[target];
    let candidates = index.get(target.title_key.as_str())?;

    candidates
        .iter()
        .copied()
        .filter(|&candidate| years_compatible(target.parsed.year, files[candidate].parsed.year))
        .min_by_key(|&candidate| {
            let file = &files[candidate];
            let other_folder = file.dir != target.dir;
            let year_missing = file.parsed.year.is_none() || target.parsed.year.is_none();
            (other_folder, year_missing, file.file.key.as_str())
        })
}

/// Years must agree only when both sides have one.
fn years_compatible(a: Option<u16>, b: Option<u16>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(key: &str) -> ArtFile {
        let folder = match key.split('/').next() {
            Some("backgrounds") => Artwork::Background,
            Some("logos") => Artwork::Logo,
            _ => Artwork::Poster,
        };
        ArtFile::classify(ImageFile {
            key: key.to_owned(),
            path: PathBuf::from(key),
            folder,
            stamp: FileStamp {
                size: 1,
                modified_ns: 0,
                inode: 0,
            },
        })
        .unwrap()
    }

    fn build(keys: &[&str]) -> Vec<Arc<MediaItem>> {
        let files: Vec<ArtFile> = keys.iter().map(|key| art(key)).collect();
        build_items(&SourceId::new("local").unwrap(), &files, |_| None, Arc::new)
    }

    fn image_key(image: &Option<ImageRef>) -> Option<&str> {
        image.as_ref().map(|image| image.key.as_str())
    }

    #[test]
    fn classify_generic_name_uses_folder() {
        let file = art("posters/Blade Runner (1982)/poster.jpg");
        assert_eq!(file.parsed.title, "Blade Runner");
        assert_eq!(file.parsed.year, Some(1982));
        assert_eq!(file.artwork, Artwork::Poster);

        let top_level = art("posters/poster.jpg");
        assert_eq!(top_level.parsed.title, "poster");
    }

    #[test]
    fn classify_suffix_overrides_folder() {
        let file = art("posters/Heat (1995)-fanart.jpg");
        assert_eq!(file.artwork, Artwork::Background);
        assert_eq!(file.parsed.title, "Heat");
        assert_eq!(file.base, "Heat (1995)");
        assert_eq!(file.stem, "Heat (1995)-fanart");
    }

    #[test]
    fn background_and_logo_join_poster() {
        let items = build(&[
            "posters/Blade Runner (1982).jpg",
            "backgrounds/Blade.Runner.1982.1080p.jpg",
            "logos/blade runner.png",
        ]);

        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.title, "Blade Runner");
        assert_eq!(
            image_key(&item.images.poster),
            Some("posters/Blade Runner (1982).jpg")
        );
        assert_eq!(
            image_key(&item.images.background),
            Some("backgrounds/Blade.Runner.1982.1080p.jpg")
        );
        assert_eq!(image_key(&item.images.logo), Some("logos/blade runner.png"));
    }

    #[test]
    fn years_must_agree_when_both_present() {
        let items = build(&[
            "posters/Dune (1984).jpg",
            "posters/Dune (2021).jpg",
            "backgrounds/Dune (2021).jpg",
            "logos/Dune.png",
        ]);

        assert_eq!(items.len(), 2);
        let by_year = |year| items.iter().find(|item| item.year == Some(year)).unwrap();
        assert_eq!(image_key(&by_year(1984).images.background), None);
        assert_eq!(
            image_key(&by_year(2021).images.background),
            Some("backgrounds/Dune (2021).jpg")
        );
        assert_eq!(
            image_key(&by_year(1984).images.logo),
            Some("logos/Dune.png")
        );
        assert_eq!(
            image_key(&by_year(2021).images.logo),
            Some("logos/Dune.png")
        );
    }

    #[test]
    fn unmatched_background_becomes_item_and_logo_follows() {
        let items = build(&[
            "backgrounds/Heat (1995).jpg",
            "logos/Heat (1995).png",
            "logos/Nothing Matches.png",
        ]);

        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.upstream_key, "backgrounds/Heat (1995).jpg");
        assert_eq!(item.images.poster, None);
        assert!(item.images.is_displayable());
        assert_eq!(image_key(&item.images.logo), Some("logos/Heat (1995).png"));
    }

    #[test]
    fn same_folder_is_preferred() {
        let items = build(&[
            "posters/Alien (1979)/poster.jpg",
            "posters/Alien (1979)/fanart.jpg",
            "backgrounds/Alien (1979).jpg",
        ]);

        let poster_item = items
            .iter()
            .find(|item| item.upstream_key == "posters/Alien (1979)/poster.jpg")
            .unwrap();
        assert_eq!(
            image_key(&poster_item.images.background),
            Some("posters/Alien (1979)/fanart.jpg")
        );
        // The other background matched nothing and became an item of its own.
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn items_sorted_by_title_then_key() {
        let items = build(&[
            "posters/b/Zodiac (2007).jpg",
            "posters/alien (1979).jpg",
            "posters/a/Zodiac (2007).jpg",
            "posters/Brazil (1985).jpg",
        ]);
        let keys: Vec<&str> = items
            .iter()
            .map(|item| item.upstream_key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "posters/alien (1979).jpg",
                "posters/Brazil (1985).jpg",
                "posters/a/Zodiac (2007).jpg",
                "posters/b/Zodiac (2007).jpg",
            ]
        );
        assert!(items.iter().all(|item| item.id.is_some()));
    }
}
