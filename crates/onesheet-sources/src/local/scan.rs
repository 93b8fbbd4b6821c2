//! The blocking scan: walk the category folders, probe new or changed images, read NFOs,
//! and hand the valid files to [`items`](super::items).
//!
//! File names are logged with `?` (Debug) formatting, which escapes newlines and control
//! characters, so a crafted name cannot forge or hide log lines.
//!
//! Probe and NFO results are cached by key and [`FileStamp`], so a rescan of an unchanged
//! library costs one directory walk and one `stat` per file. A problem with a file is logged
//! once and then again only after the file changes.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::{fs, io, thread};

use onesheet_domain::{MediaItem, SourceId};
use onesheet_images::{ImageFormat, ProbeError, ProbeInfo, probe_file};
use tracing::{debug, warn};
use walkdir::WalkDir;

use super::items::{ArtFile, ImageFile, build_items};
use super::nfo::{NfoData, read_nfo};
use super::paths::{self, CATEGORY_FOLDERS, FileStamp};
use crate::SourceError;
use crate::source::same_but_appearance;

/// Fewer files than this are probed on the calling thread; thread start-up would cost more.
const PARALLEL_PROBE_MIN_FILES: usize = 64;

/// Most probe threads. Probing mostly waits for the disk, so a few threads help even on one
/// core, and more than this only adds seeks.
const MAX_PROBE_THREADS: usize = 8;

/// Probe results, NFO data and reported problems, kept between scans.
#[derive(Debug, Default)]
pub(crate) struct ScanState {
    probes: HashMap<String, CachedProbe>,
    nfos: HashMap<String, CachedNfo>,
    /// Items of the last scan by upstream key, to hand back unchanged ones as the same `Arc`.
    items: HashMap<String, Arc<MediaItem>>,
    warnings: WarnOnce,
}

#[derive(Debug)]
struct CachedProbe {
    stamp: FileStamp,
    valid: bool,
}

#[derive(Debug)]
struct CachedNfo {
    stamp: FileStamp,
    data: Option<Arc<NfoData>>,
}

/// Counts from one scan, for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanStats {
    pub image_files: usize,
    pub probed: usize,
    pub rejected: usize,
    pub items: usize,
}

/// Problems seen in the previous scan, so that one still present is not logged again.
#[derive(Debug, Default)]
struct WarnOnce {
    previous: HashSet<String>,
    current: HashSet<String>,
}

impl WarnOnce {
    /// Records a problem and returns true when the previous scan did not have it.
    fn is_new(&mut self, problem: String) -> bool {
        let new = !self.previous.contains(&problem);
        self.current.insert(problem);
        new
    }

    fn finish_scan(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

/// Image and NFO files found by the walk.
#[derive(Debug, Default)]
struct Walked {
    images: Vec<ImageFile>,
    /// NFO files by folder key, a slash and the lower-cased file name.
    nfos: HashMap<String, NfoFile>,
}

#[derive(Debug)]
struct NfoFile {
    key: String,
    path: PathBuf,
    stamp: FileStamp,
}

/// Scans the media folder at `root` and returns its items, sorted by title, then key.
impl ScanState {
    /// Puts items from the catalog (restored from an earlier run, or given palettes since) into
    /// the item cache in place of those with the same key, so a scan that finds the same files
    /// reuses them. The next scan drops the entries of files that are gone.
    pub(crate) fn adopt(&mut self, items: &[Arc<MediaItem>]) {
        self.items.extend(
            items
                .iter()
                .map(|item| (item.upstream_key.clone(), Arc::clone(item))),
        );
    }
}

pub(crate) fn scan(
    source: &SourceId,
    root: &Path,
    state: &mut ScanState,
) -> Result<(Vec<Arc<MediaItem>>, ScanStats), SourceError> {
    let canonical_root = check_root(source, root)?;
    state.warnings.current.clear();

    let walked = walk(root, &canonical_root, &mut state.warnings);
    let mut stats = ScanStats {
        image_files: walked.images.len(),
        ..ScanStats::default()
    };

    let valid = probe_images(walked.images, &mut state.probes, &mut stats);
    let files: Vec<ArtFile> = valid.into_iter().filter_map(ArtFile::classify).collect();

    let mut nfo_cache = std::mem::take(&mut state.nfos);
    let mut used_nfos = HashMap::new();
    // Items equal to last scan's keep their allocation, and each new copy is dropped as soon as
    // it has been compared, so a rescan never keeps the whole catalog in memory twice. A cached
    // item may have gained palettes in the catalog since, which a fresh copy lacks.
    let previous = std::mem::take(&mut state.items);
    let mut current = HashMap::with_capacity(previous.len());
    let share = |item: MediaItem| {
        let shared = match previous.get(&item.upstream_key) {
            Some(old) if same_but_appearance(old, &item) => Arc::clone(old),
            _ => Arc::new(item),
        };
        current.insert(shared.upstream_key.clone(), Arc::clone(&shared));
        shared
    };
    let items = build_items(
        source,
        &files,
        |file| {
            let nfo = find_nfo(file, &walked.nfos)?;
            let data = load_nfo(nfo, &mut nfo_cache);
            used_nfos.insert(
                nfo.key.clone(),
                CachedNfo {
                    stamp: nfo.stamp,
                    data: data.clone(),
                },
            );
            data
        },
        share,
    );
    state.nfos = used_nfos;
    state.items = current;
    state.warnings.finish_scan();

    stats.items = items.len();
    Ok((items, stats))
}

fn check_root(source: &SourceId, root: &Path) -> Result<PathBuf, SourceError> {
    let unavailable = |reason: String| SourceError::Unavailable {
        source_id: source.clone(),
        reason,
    };

    match fs::metadata(root) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(unavailable(format!(
                "media folder {} is not a folder: point the local source at a folder that \
                 contains posters/, backgrounds/ and logos/",
                root.display()
            )));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(unavailable(format!(
                "media folder {} does not exist: create it and put images in its posters/, \
                 backgrounds/ and logos/ subfolders",
                root.display()
            )));
        }
        Err(error) => {
            return Err(unavailable(format!(
                "failed to read media folder {}: {error}",
                root.display()
            )));
        }
    }

    root.canonicalize().map_err(|error| {
        unavailable(format!(
            "failed to resolve media folder {}: {error}",
            root.display()
        ))
    })
}

fn walk(root: &Path, canonical_root: &Path, warnings: &mut WarnOnce) -> Walked {
    let mut walked = Walked::default();

    for (folder_name, folder_artwork) in CATEGORY_FOLDERS {
        let folder = root.join(folder_name);
        if !folder.exists() {
            debug!(folder = ?folder, "category folder is missing; nothing to scan");
            continue;
        }

        // Following links lets walkdir detect loops, which it reports as errors.
        let mut entries = WalkDir::new(&folder).follow_links(true).into_iter();
        while let Some(next) = entries.next() {
            let entry = match next {
                Ok(entry) => entry,
                Err(error) => {
                    report_walk_error(&error, warnings);
                    continue;
                }
            };
            let is_dir = entry.file_type().is_dir();

            if entry.depth() > 0 && paths::is_skipped_name(entry.file_name(), is_dir) {
                if is_dir {
                    entries.skip_current_dir();
                }
                continue;
            }

            if entry.path_is_symlink() && !paths::resolves_inside(entry.path(), canonical_root) {
                let path = entry.path().display().to_string();
                if warnings.is_new(format!("outside:{path}")) {
                    warn!(
                        path = ?path,
                        "skipping symbolic link that points outside the media folder"
                    );
                }
                if is_dir {
                    entries.skip_current_dir();
                }
                continue;
            }

            if entry.file_type().is_file() {
                add_file(root, entry.path(), folder_artwork, &mut walked, warnings);
            }
        }
    }

    walked
}

fn add_file(
    root: &Path,
    path: &Path,
    folder: super::names::Artwork,
    walked: &mut Walked,
    warnings: &mut WarnOnce,
) {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    let is_nfo = extension.as_deref() == Some("nfo");
    let is_image = extension
        .as_deref()
        .and_then(ImageFormat::from_extension)
        .is_some();
    if !is_nfo && !is_image {
        return;
    }

    let key = match paths::key_for(root, path) {
        Ok(key) => key,
        Err(error) => {
            let shown = path.display().to_string();
            if warnings.is_new(format!("key:{shown}")) {
                warn!(path = ?shown, %error, "skipping file");
            }
            return;
        }
    };

    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            if warnings.is_new(format!("stat:{key}")) {
                warn!(file = ?key, %error, "skipping file that cannot be read");
            }
            return;
        }
    };
    let stamp = FileStamp::from_metadata(&metadata);

    if is_nfo {
        let (dir, name) = key.rsplit_once('/').unwrap_or(("", key.as_str()));
        let lookup = format!("{dir}/{}", name.to_lowercase());
        walked.nfos.insert(
            lookup,
            NfoFile {
                key,
                path: path.to_owned(),
                stamp,
            },
        );
    } else {
        walked.images.push(ImageFile {
            key,
            path: path.to_owned(),
            folder,
            stamp,
        });
    }
}

fn report_walk_error(error: &walkdir::Error, warnings: &mut WarnOnce) {
    let path = error
        .path()
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    if !warnings.is_new(format!("walk:{path}")) {
        return;
    }

    if let Some(ancestor) = error.loop_ancestor() {
        warn!(
            path = ?path,
            ancestor = ?ancestor,
            "skipping symbolic link that loops back to a parent folder"
        );
    } else if error
        .io_error()
        .is_some_and(|io| io.kind() == io::ErrorKind::NotFound)
    {
        warn!(path = ?path, "skipping broken symbolic link");
    } else {
        warn!(path = ?path, %error, "skipping entry that cannot be read");
    }
}

/// Probes files that are new or changed since the last scan and returns the valid ones.
/// The cache keeps only the keys seen in this scan.
fn probe_images(
    images: Vec<ImageFile>,
    cache: &mut HashMap<String, CachedProbe>,
    stats: &mut ScanStats,
) -> Vec<ImageFile> {
    let mut previous = std::mem::take(cache);
    let mut known = Vec::with_capacity(images.len());
    let mut unknown = Vec::new();

    for image in images {
        match previous.remove(&image.key) {
            Some(cached) if cached.stamp == image.stamp => known.push((image, cached.valid)),
            _ => unknown.push(image),
        }
    }

    let paths: Vec<&Path> = unknown.iter().map(|image| image.path.as_path()).collect();
    let results = probe_in_parallel(&paths);
    stats.probed = unknown.len();

    for (image, result) in unknown.into_iter().zip(results) {
        if let Err(error) = &result {
            warn!(file = ?image.key, %error, "skipping image that failed the validity check");
        }
        known.push((image, result.is_ok()));
    }

    let mut valid = Vec::with_capacity(known.len());
    for (image, is_valid) in known {
        cache.insert(
            image.key.clone(),
            CachedProbe {
                stamp: image.stamp,
                valid: is_valid,
            },
        );
        if is_valid {
            valid.push(image);
        } else {
            stats.rejected += 1;
        }
    }
    valid
}

fn probe_in_parallel(paths: &[&Path]) -> Vec<Result<ProbeInfo, ProbeError>> {
    let probe_all = |part: &[&Path]| -> Vec<Result<ProbeInfo, ProbeError>> {
        part.iter().map(|path| probe_file(path)).collect()
    };

    let threads = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(2, MAX_PROBE_THREADS);
    if paths.len() < PARALLEL_PROBE_MIN_FILES {
        return probe_all(paths);
    }

    let chunk_len = paths.len().div_ceil(threads);
    thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk_len)
            .map(|part| (part, scope.spawn(move || probe_all(part))))
            .collect();

        // A worker that panicked has its share probed again here, so the results stay in
        // step with `paths`.
        workers
            .into_iter()
            .flat_map(|(part, worker)| worker.join().unwrap_or_else(|_| probe_all(part)))
            .collect()
    })
}

/// Finds the NFO for an item's main file: `<stem>.nfo`, then `<stem without Kodi suffix>.nfo`,
/// then `movie.nfo` and `tvshow.nfo` in the same folder.
fn find_nfo<'a>(file: &ArtFile, nfos: &'a HashMap<String, NfoFile>) -> Option<&'a NfoFile> {
    let dir = &file.dir;
    [
        format!("{dir}/{}.nfo", file.stem.to_lowercase()),
        format!("{dir}/{}.nfo", file.base.to_lowercase()),
        format!("{dir}/movie.nfo"),
        format!("{dir}/tvshow.nfo"),
    ]
    .iter()
    .find_map(|name| nfos.get(name))
}

/// Returns the parsed NFO from the cache when the file is unchanged, else parses it, logging
/// one warning when it cannot be used.
fn load_nfo(nfo: &NfoFile, cache: &mut HashMap<String, CachedNfo>) -> Option<Arc<NfoData>> {
    let cached = cache
        .get(&nfo.key)
        .filter(|cached| cached.stamp == nfo.stamp);
    if let Some(cached) = cached {
        return cached.data.clone();
    }

    let data = match read_nfo(&nfo.path) {
        Ok(Some(data)) => Some(Arc::new(data)),
        Ok(None) => {
            debug!(
                file = ?nfo.key,
                "ignoring NFO without a movie, tvshow or episodedetails element"
            );
            None
        }
        Err(error) => {
            warn!(file = ?nfo.key, %error, "ignoring NFO file");
            None
        }
    };
    cache.insert(
        nfo.key.clone(),
        CachedNfo {
            stamp: nfo.stamp,
            data: data.clone(),
        },
    );
    data
}

#[cfg(test)]
mod tests;
