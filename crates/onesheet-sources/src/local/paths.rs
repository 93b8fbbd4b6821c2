//! Image keys and file stamps.
//!
//! A key is the path of an image relative to the media root, with `/` separators. Keys go into
//! the catalog at scan time and come back when a screen requests the image. The file may have
//! been replaced by a symlink in between, so a key is checked again before it becomes a path.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::names::Artwork;

/// The folders below the root and the artwork their files fill unless a name says otherwise.
pub(crate) const CATEGORY_FOLDERS: [(&str, Artwork); 3] = [
    ("posters", Artwork::Poster),
    ("backgrounds", Artwork::Background),
    ("logos", Artwork::Logo),
];

/// Reason a file below the root has no usable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("the path is not valid UTF-8")]
    NotUtf8,
    #[error("the file name contains a backslash, which image keys do not allow")]
    Backslash,
    #[error("the path is not below the media folder")]
    OutsideRoot,
}

/// Builds the key of `path`, which must lie below `root` (both as the walk saw them, before
/// symlinks are resolved).
pub(crate) fn key_for(root: &Path, path: &Path) -> Result<String, KeyError> {
    let relative = path.strip_prefix(root).map_err(|_| KeyError::OutsideRoot)?;

    let mut segments = Vec::new();
    for component in relative.components() {
        let Component::Normal(segment) = component else {
            return Err(KeyError::OutsideRoot);
        };
        let segment = segment.to_str().ok_or(KeyError::NotUtf8)?;
        if segment.contains('\\') {
            return Err(KeyError::Backslash);
        }
        segments.push(segment);
    }

    if segments.is_empty() {
        return Err(KeyError::OutsideRoot);
    }
    Ok(segments.join("/"))
}

/// Checks the shape of a key: relative, `/`-separated, no empty, `.`, `..` or hidden segments,
/// no NUL or backslash, and starting with one of the category folders.
pub(crate) fn is_valid_key(key: &str) -> bool {
    if key.is_empty() || key.contains('\0') || key.contains('\\') {
        return false;
    }

    let segments: Vec<&str> = key.split('/').collect();
    let segments_ok = segments
        .iter()
        .all(|segment| !segment.is_empty() && !segment.starts_with('.'));
    let folder_ok = CATEGORY_FOLDERS
        .iter()
        .any(|(folder, _)| segments.first() == Some(folder));
    if !segments_ok || !folder_ok || segments.len() < 2 {
        return false;
    }

    // On Windows a segment such as `C:` would turn into a path prefix, so the rebuilt path
    // must consist of plain names only.
    let relative: PathBuf = segments.iter().collect();
    relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
        && relative.components().count() == segments.len()
}

/// Turns a key back into the canonical path of a regular file inside the canonical root, or
/// `None` when the key is malformed, the file is gone, or it resolves outside the root.
///
/// NOTE: the file can still be swapped between this check and the moment the server opens
/// the returned path. The window is short, and the returned path has no symlinks left in it.
pub(crate) fn resolve_key(root: &Path, key: &str) -> Option<PathBuf> {
    if !is_valid_key(key) {
        return None;
    }

    let canonical_root = root.canonicalize().ok()?;
    let mut path = canonical_root.clone();
    for segment in key.split('/') {
        path.push(segment);
    }

    let resolved = path.canonicalize().ok()?;
    if !resolved.starts_with(&canonical_root) {
        return None;
    }

    let metadata = fs::metadata(&resolved).ok()?;
    metadata.is_file().then_some(resolved)
}

/// True when `path`, a symlink found by the walk, resolves to somewhere inside the canonical
/// root. A broken link counts as outside.
pub(crate) fn resolves_inside(path: &Path, canonical_root: &Path) -> bool {
    path.canonicalize()
        .is_ok_and(|target| target.starts_with(canonical_root))
}

/// Names the walk skips quietly: hidden files and folders, and the folders that NAS systems
/// and Kodi add (Synology thumbnails and recycle bins, Kodi's extra artwork).
pub(crate) fn is_skipped_name(name: &OsStr, is_dir: bool) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    if name.starts_with('.') {
        return true;
    }
    is_dir
        && matches!(
            name,
            "@eaDir" | "#recycle" | "#snapshot" | "extrafanart" | "extrathumbs"
        )
}

/// The facts about a file that change when its content may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileStamp {
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (negative before it).
    pub modified_ns: i128,
    /// Inode number on Unix, 0 elsewhere.
    pub inode: u64,
}

impl FileStamp {
    pub(crate) fn from_metadata(metadata: &Metadata) -> Self {
        let modified_ns =
            metadata
                .modified()
                .map_or(0, |modified| match modified.duration_since(UNIX_EPOCH) {
                    Ok(after) => after.as_nanos() as i128,
                    Err(before) => -(before.duration().as_nanos() as i128),
                });

        Self {
            size: metadata.len(),
            modified_ns,
            inode: inode(metadata),
        }
    }

    /// Modification time in whole seconds since the Unix epoch.
    pub(crate) fn modified_secs(&self) -> i64 {
        (self.modified_ns.div_euclid(1_000_000_000)) as i64
    }

    /// 16 hex digits of SHA-256 over size, modification time and inode. It becomes the
    /// image's ETag, so any of the three changing gives a new value.
    pub(crate) fn version(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.size.to_le_bytes());
        hasher.update(self.modified_ns.to_le_bytes());
        hasher.update(self.inode.to_le_bytes());
        let digest = hasher.finalize();

        let mut first_eight = [0u8; 8];
        first_eight.copy_from_slice(&digest[..8]);
        format!("{:016x}", u64::from_be_bytes(first_eight))
    }
}

#[cfg(unix)]
fn inode(metadata: &Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    metadata.ino()
}

#[cfg(not(unix))]
fn inode(_metadata: &Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_keys() {
        for key in [
            "posters/Blade Runner (1982).jpg",
            "backgrounds/a/b/c.png",
            "logos/Star Wars: A New Hope (1977).png",
            "posters/Am\u{e9}lie/poster.jpg",
        ] {
            assert!(is_valid_key(key), "{key:?}");
        }
    }

    #[test]
    fn rejected_keys() {
        for key in [
            "",
            "/etc/passwd",
            "posters/../../etc/passwd",
            "posters/./a.jpg",
            "posters//a.jpg",
            "posters/a.jpg/",
            "posters\\a.jpg",
            "posters/a\0.jpg",
            "posters/.hidden.jpg",
            "posters",
            "secrets/a.jpg",
            "../posters/a.jpg",
        ] {
            assert!(!is_valid_key(key), "{key:?}");
        }
    }

    #[test]
    fn key_for_joins_with_slashes() {
        let root = Path::new("/media");
        let key = key_for(root, &root.join("posters").join("sub").join("a.jpg")).unwrap();
        assert_eq!(key, "posters/sub/a.jpg");
        assert_eq!(
            key_for(root, Path::new("/elsewhere/a.jpg")),
            Err(KeyError::OutsideRoot)
        );
        assert_eq!(
            key_for(root, &root.join("posters").join("a\\b.jpg")),
            Err(KeyError::Backslash)
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_for_rejects_non_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let root = Path::new("/media");
        let name = OsStr::from_bytes(b"caf\xe9.jpg");
        assert_eq!(
            key_for(root, &root.join("posters").join(name)),
            Err(KeyError::NotUtf8)
        );
    }

    #[test]
    fn version_changes_with_each_field() {
        let stamp = FileStamp {
            size: 1000,
            modified_ns: 1_700_000_000_000_000_000,
            inode: 42,
        };
        let version = stamp.version();
        assert_eq!(version.len(), 16);
        assert!(version.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(version, stamp.version());

        for changed in [
            FileStamp {
                size: 1001,
                ..stamp
            },
            FileStamp {
                modified_ns: stamp.modified_ns + 1,
                ..stamp
            },
            FileStamp { inode: 43, ..stamp },
        ] {
            assert_ne!(changed.version(), version, "{changed:?}");
        }
    }

    #[test]
    fn modified_secs_rounds_down() {
        let stamp = FileStamp {
            size: 0,
            modified_ns: 1_500_000_000,
            inode: 0,
        };
        assert_eq!(stamp.modified_secs(), 1);
        let before_epoch = FileStamp {
            modified_ns: -1,
            ..stamp
        };
        assert_eq!(before_epoch.modified_secs(), -1);
    }

    #[test]
    fn skipped_names() {
        assert!(is_skipped_name(OsStr::new(".DS_Store"), false));
        assert!(is_skipped_name(OsStr::new(".git"), true));
        assert!(is_skipped_name(OsStr::new("@eaDir"), true));
        assert!(!is_skipped_name(OsStr::new("@eaDir"), false));
        assert!(!is_skipped_name(OsStr::new("Alien (1979)"), true));
    }
}
