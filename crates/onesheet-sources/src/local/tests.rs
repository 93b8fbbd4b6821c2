//! Scan and serve tests on a real media folder built in a temporary directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use onesheet_domain::{ImageRef, MediaItem, MediaKind, SourceId};

use super::LocalFolderSource;
use crate::{ImageBody, MediaSource, SourceError};

const AMELIE_NFC: &str = "Am\u{e9}lie (2001)";
const AMELIE_NFD: &str = "Ame\u{301}lie (2001)";

pub(super) fn jpeg_bytes(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80)
        .write_image(&pixels, width, height, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

pub(super) fn png_bytes(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height * 4).map(|i| (i % 253) as u8).collect();
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&pixels, width, height, ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// Writes `bytes` to `root/relative`, creating the folders on the way.
pub(super) fn put(root: &Path, relative: &str, bytes: &[u8]) -> PathBuf {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, bytes).unwrap();
    path
}

pub(super) fn source(root: &Path) -> LocalFolderSource {
    LocalFolderSource::new(SourceId::new("local").unwrap(), root.to_owned())
}

fn find<'a>(items: &'a [Arc<MediaItem>], key: &str) -> &'a MediaItem {
    items
        .iter()
        .find(|item| item.upstream_key == key)
        .unwrap_or_else(|| panic!("no item {key}; keys: {:?}", keys(items)))
}

fn keys(items: &[Arc<MediaItem>]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item.upstream_key.as_str())
        .collect()
}

fn image_key(image: &Option<ImageRef>) -> Option<&str> {
    image.as_ref().map(|image| image.key.as_str())
}

const ALIEN_NFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<movie>
  <title>Alien</title>
  <originaltitle>Alien</originaltitle>
  <year>1979</year>
  <tagline>In space no one can hear you scream.</tagline>
  <plot>The crew of the Nostromo answers a distress call.</plot>
  <genre>Horror</genre><genre>Science Fiction</genre>
  <mpaa>Rated R</mpaa>
  <ratings><rating name="imdb" max="10" default="true"><value>8.5</value></rating></ratings>
  <runtime>117</runtime>
  <studio>Brandywine Productions</studio>
  <director>Ridley Scott</director>
  <actor><name>Sigourney Weaver</name><role>Ripley</role></actor>
  <uniqueid type="imdb" default="true">tt0078748</uniqueid>
  <uniqueid type="tmdb">348</uniqueid>
</movie>
"#;

/// Builds the media folder most tests share, and a folder outside it for escaping symlinks.
fn build_library() -> (tempfile::TempDir, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = media.path();
    let jpeg = jpeg_bytes(20, 30);
    let png = png_bytes(20, 8);

    put(root, "posters/Blade Runner (1982).jpg", &jpeg);
    put(
        root,
        "backgrounds/Blade.Runner.1982.1080p.BluRay.jpg",
        &jpeg,
    );
    put(root, "logos/Blade Runner.png", &png);

    put(root, &format!("posters/{AMELIE_NFC}/poster.jpg"), &jpeg);
    put(root, &format!("posters/{AMELIE_NFD}/poster.jpg"), &jpeg);

    put(root, "posters/Nested/Deeper/Heat (1995).png", &png);

    put(root, "posters/Alien (1979)/poster.jpg", &jpeg);
    put(root, "posters/Alien (1979)/fanart.jpg", &jpeg);
    put(root, "posters/Alien (1979)/clearlogo.png", &png);
    put(root, "posters/Alien (1979)/movie.nfo", ALIEN_NFO.as_bytes());

    put(root, "posters/Twin Peaks/poster.jpg", &jpeg);
    put(
        root,
        "posters/Twin Peaks/tvshow.nfo",
        b"<tvshow><title>Twin Peaks</title><premiered>1990-04-08</premiered></tvshow>",
    );

    put(root, "posters/Kodi/Zodiac (2007)-poster.jpg", &jpeg);
    put(root, "posters/Kodi/Zodiac (2007)-fanart.jpg", &jpeg);
    put(root, "posters/Kodi/Zodiac (2007)-clearlogo.png", &png);
    put(
        root,
        "posters/Kodi/Zodiac (2007).nfo",
        b"<movie><tagline>There's more than one way to lose your life to a killer.</tagline></movie>",
    );

    put(root, "posters/Bad Nfo (2005)/poster.jpg", &jpeg);
    put(
        root,
        "posters/Bad Nfo (2005)/movie.nfo",
        b"<movie><title>Oops</movie>",
    );

    put(root, "backgrounds/Lonely Background (2000).jpg", &jpeg);
    put(root, "logos/Orphan Logo.png", &png);

    put(
        root,
        "posters/broken/truncated.jpg",
        &jpeg[..jpeg.len() / 2],
    );
    put(root, "posters/broken/empty.jpg", b"");
    put(
        root,
        "posters/broken/html.jpg",
        b"<!DOCTYPE html><html><body>404</body></html>",
    );
    put(root, "posters/notes.txt", b"not an image");
    put(root, "posters/.hidden.jpg", &jpeg);
    put(root, "posters/.git/objects/x.jpg", &jpeg);
    put(root, "posters/@eaDir/SYNOFILE_THUMB_M.jpg", &jpeg);
    put(root, "posters/Kodi/season01-poster.jpg", &jpeg);

    put(root, "extra/real.jpg", &jpeg);
    put(outside.path(), "secret.jpg", &jpeg);
    put(outside.path(), "dir/Outside Movie (1999).jpg", &jpeg);

    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(
            root.join("extra/real.jpg"),
            root.join("posters/Linked (2010).jpg"),
        )
        .unwrap();
        symlink(
            outside.path().join("secret.jpg"),
            root.join("posters/Escape (2000).jpg"),
        )
        .unwrap();
        symlink(outside.path().join("dir"), root.join("posters/escape-dir")).unwrap();
        symlink(root.join("posters"), root.join("posters/Nested/loop")).unwrap();
        symlink(
            root.join("missing.jpg"),
            root.join("posters/Dangling (2001).jpg"),
        )
        .unwrap();
    }

    (media, outside)
}

#[tokio::test]
async fn scan_builds_expected_items() {
    let (media, _outside) = build_library();
    let source = source(media.path());

    let items = source.fetch_items().await.unwrap();

    let mut expected = vec![
        "backgrounds/Lonely Background (2000).jpg",
        "posters/Alien (1979)/poster.jpg",
        format!("posters/{AMELIE_NFC}/poster.jpg").leak(),
        format!("posters/{AMELIE_NFD}/poster.jpg").leak(),
        "posters/Bad Nfo (2005)/poster.jpg",
        "posters/Blade Runner (1982).jpg",
        "posters/Nested/Deeper/Heat (1995).png",
        "posters/Twin Peaks/poster.jpg",
        "posters/Kodi/Zodiac (2007)-poster.jpg",
    ];
    if cfg!(unix) {
        expected.push("posters/Linked (2010).jpg");
    }
    let mut actual = keys(&items);
    actual.sort_unstable();
    expected.sort_unstable();
    assert_eq!(actual, expected);

    for item in &items {
        assert_eq!(item.source.as_ref().map(SourceId::as_str), Some("local"));
        assert!(item.id.is_some());
        assert!(item.added_at.is_some_and(|seconds| seconds > 0));
    }
}

#[tokio::test]
async fn scan_matches_artwork_and_reads_nfo() {
    let (media, _outside) = build_library();
    let items = source(media.path()).fetch_items().await.unwrap();

    let blade = find(&items, "posters/Blade Runner (1982).jpg");
    assert_eq!(
        (blade.title.as_str(), blade.year),
        ("Blade Runner", Some(1982))
    );
    assert_eq!(
        image_key(&blade.images.background),
        Some("backgrounds/Blade.Runner.1982.1080p.BluRay.jpg")
    );
    assert_eq!(
        image_key(&blade.images.logo),
        Some("logos/Blade Runner.png")
    );

    let alien = find(&items, "posters/Alien (1979)/poster.jpg");
    assert_eq!(alien.title, "Alien");
    assert_eq!(
        alien.tagline.as_deref(),
        Some("In space no one can hear you scream.")
    );
    assert_eq!(alien.content_rating.as_deref(), Some("R"));
    assert_eq!(alien.ratings.audience, Some(8.5));
    assert_eq!(alien.runtime_minutes, Some(117));
    assert_eq!(alien.cast, ["Sigourney Weaver"]);
    assert_eq!(alien.links.imdb_id.as_deref(), Some("tt0078748"));
    assert_eq!(alien.links.tmdb_id.as_deref(), Some("348"));
    assert_eq!(
        image_key(&alien.images.background),
        Some("posters/Alien (1979)/fanart.jpg")
    );
    assert_eq!(
        image_key(&alien.images.logo),
        Some("posters/Alien (1979)/clearlogo.png")
    );

    let twin_peaks = find(&items, "posters/Twin Peaks/poster.jpg");
    assert_eq!(twin_peaks.kind, MediaKind::Show);
    assert_eq!(twin_peaks.year, Some(1990));

    let zodiac = find(&items, "posters/Kodi/Zodiac (2007)-poster.jpg");
    assert_eq!((zodiac.title.as_str(), zodiac.year), ("Zodiac", Some(2007)));
    assert!(
        zodiac.tagline.is_some(),
        "the <name>.nfo beside a -poster file applies"
    );
    assert_eq!(
        image_key(&zodiac.images.background),
        Some("posters/Kodi/Zodiac (2007)-fanart.jpg")
    );
    assert_eq!(
        image_key(&zodiac.images.logo),
        Some("posters/Kodi/Zodiac (2007)-clearlogo.png")
    );

    let bad_nfo = find(&items, "posters/Bad Nfo (2005)/poster.jpg");
    assert_eq!(
        (bad_nfo.title.as_str(), bad_nfo.year),
        ("Bad Nfo", Some(2005))
    );

    let lonely = find(&items, "backgrounds/Lonely Background (2000).jpg");
    assert_eq!(lonely.images.poster, None);
    assert!(lonely.images.is_displayable());

    let heat = find(&items, "posters/Nested/Deeper/Heat (1995).png");
    assert_eq!((heat.title.as_str(), heat.year), ("Heat", Some(1995)));
}

#[tokio::test]
async fn unicode_twins_are_two_items_with_one_title() {
    let (media, _outside) = build_library();
    let items = source(media.path()).fetch_items().await.unwrap();

    let nfc = find(&items, &format!("posters/{AMELIE_NFC}/poster.jpg"));
    let nfd = find(&items, &format!("posters/{AMELIE_NFD}/poster.jpg"));

    assert_ne!(nfc.id, nfd.id);
    assert_eq!(nfc.title, "Am\u{e9}lie");
    assert_eq!(nfd.title, "Am\u{e9}lie");
}

#[tokio::test]
async fn items_are_sorted_and_stable_across_scans() {
    let (media, _outside) = build_library();
    let source = source(media.path());

    let first = source.fetch_items().await.unwrap();
    let second = source.fetch_items().await.unwrap();

    assert_eq!(first, second);
    let order: Vec<(String, &str)> = first
        .iter()
        .map(|item| (item.title.to_lowercase(), item.upstream_key.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[cfg(unix)]
#[tokio::test]
async fn symlink_inside_root_is_followed() {
    let (media, _outside) = build_library();
    let source = source(media.path());
    let items = source.fetch_items().await.unwrap();

    let linked = find(&items, "posters/Linked (2010).jpg");
    let poster = linked.images.poster.clone().unwrap();
    let ImageBody::File(path) = source.open_image(&poster).await.unwrap() else {
        unreachable!("local images are files")
    };

    let expected = media.path().join("extra/real.jpg").canonicalize().unwrap();
    assert_eq!(path, expected);
}

#[cfg(unix)]
#[tokio::test]
async fn open_image_rejects_escaping_symlink() {
    let (media, _outside) = build_library();
    let source = source(media.path());

    let escape = ImageRef {
        key: "posters/Escape (2000).jpg".to_owned(),
        version: "0".repeat(16),
        appearance: None,
    };
    let result = source.open_image(&escape).await;

    assert!(
        matches!(result, Err(SourceError::ImageNotFound { .. })),
        "{result:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn file_swapped_for_symlink_after_scan_is_refused() {
    let (media, outside) = build_library();
    let source = source(media.path());
    let items = source.fetch_items().await.unwrap();
    let poster = find(&items, "posters/Blade Runner (1982).jpg")
        .images
        .poster
        .clone()
        .unwrap();

    let path = media.path().join("posters/Blade Runner (1982).jpg");
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.jpg"), &path).unwrap();
    let result = source.open_image(&poster).await;

    assert!(
        matches!(result, Err(SourceError::ImageNotFound { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn open_image_rejects_bad_keys() {
    let (media, _outside) = build_library();
    let source = source(media.path());

    for key in [
        "",
        "/etc/passwd",
        "posters/../../../etc/passwd",
        "posters/..",
        "posters//Blade Runner (1982).jpg",
        "posters\\Blade Runner (1982).jpg",
        "posters/Blade Runner (1982).jpg\0",
        "posters/.hidden.jpg",
        "extra/real.jpg",
        "posters/Nested",
        "posters/deleted.jpg",
    ] {
        let image = ImageRef {
            key: key.to_owned(),
            version: "0".repeat(16),
            appearance: None,
        };
        let result = source.open_image(&image).await;
        assert!(
            matches!(result, Err(SourceError::ImageNotFound { .. })),
            "{key:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn open_image_returns_file_inside_root() {
    let (media, _outside) = build_library();
    let source = source(media.path());
    let items = source.fetch_items().await.unwrap();

    for item in &items {
        for image in [
            &item.images.poster,
            &item.images.background,
            &item.images.logo,
        ]
        .into_iter()
        .flatten()
        {
            let ImageBody::File(path) = source.open_image(image).await.unwrap() else {
                unreachable!("local images are files")
            };
            assert!(
                path.starts_with(media.path().canonicalize().unwrap()),
                "{path:?}"
            );
        }
    }
}

#[tokio::test]
async fn version_changes_when_file_changes() {
    let media = tempfile::tempdir().unwrap();
    let path = put(media.path(), "posters/Heat (1995).jpg", &jpeg_bytes(20, 30));
    let source = source(media.path());

    let before = source.fetch_items().await.unwrap();
    fs::write(&path, jpeg_bytes(30, 45)).unwrap();
    let after = source.fetch_items().await.unwrap();

    assert_eq!(before[0].id, after[0].id);
    let version = |items: &[Arc<MediaItem>]| items[0].images.poster.clone().unwrap().version;
    assert_ne!(version(&before), version(&after));
    assert_eq!(version(&after).len(), 16);
}

#[tokio::test]
async fn missing_root_is_unavailable_with_hint() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("media");

    let error = source(&root).fetch_items().await.unwrap_err();

    assert!(
        matches!(error, SourceError::Unavailable { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&root.display().to_string()), "{message}");
    assert!(message.contains("create it"), "{message}");
}

#[tokio::test]
async fn empty_root_has_no_items() {
    let dir = tempfile::tempdir().unwrap();
    let items = source(dir.path()).fetch_items().await.unwrap();
    assert!(items.is_empty());
}

#[test]
fn kind_is_local() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(source(dir.path()).kind(), "local");
}

#[tokio::test]
async fn rescan_shares_unchanged_items() {
    let (media, _outside) = build_library();
    let source = source(media.path());
    let first = source.fetch_items().await.unwrap();

    std::fs::write(
        media.path().join("posters/Fresh (2026).jpg"),
        jpeg_bytes(40, 60),
    )
    .unwrap();
    let second = source.fetch_items().await.unwrap();

    assert_eq!(second.len(), first.len() + 1);
    for old in &first {
        let new = second
            .iter()
            .find(|item| item.upstream_key == old.upstream_key)
            .unwrap();
        assert!(Arc::ptr_eq(old, new), "{} was copied", old.upstream_key);
    }
}

#[tokio::test]
async fn adopted_items_are_returned_without_copies() {
    let (media, _outside) = build_library();
    let restored = source(media.path()).fetch_items().await.unwrap();

    // A new source, as after a restart, seeded with the items of the saved catalog.
    let fresh = source(media.path());
    fresh.adopt(&restored);
    let scanned = fresh.fetch_items().await.unwrap();

    assert_eq!(scanned.len(), restored.len());
    for (new, old) in scanned.iter().zip(&restored) {
        assert!(Arc::ptr_eq(new, old), "{} was copied", old.upstream_key);
    }
}
