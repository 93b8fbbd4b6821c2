//! Layout of the files under the cache's root folder.
//!
//! ```text
//! <root>/00/ … <root>/ff/   entry files named by the key's 64 hex digits, sharded by the
//!                            first two, so each folder has about 1/256 of the entries
//! <root>/tmp/               files being written, renamed into a shard when complete
//! <root>/index              the persisted index
//! <root>/cleared            a token that `onesheet cache clear` rewrites each time it runs,
//!                            so a running server notices and re-reads the folder
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CacheKey, DiskCacheError};

const TEMP_FOLDER: &str = "tmp";
const INDEX_FILE: &str = "index";
const CLEAR_MARKER: &str = "cleared";

#[derive(Debug)]
pub(super) struct Layout {
    root: PathBuf,
    temp_folder: PathBuf,
    index_path: PathBuf,
    clear_marker: PathBuf,
    /// Sequence number that makes temporary names unique within this process. The process id
    /// in the name separates processes.
    temp_counter: AtomicU64,
}

impl Layout {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            temp_folder: root.join(TEMP_FOLDER),
            index_path: root.join(INDEX_FILE),
            clear_marker: root.join(CLEAR_MARKER),
            temp_counter: AtomicU64::new(0),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    pub fn temp_folder(&self) -> &Path {
        &self.temp_folder
    }

    /// Returns the token of the last clear by another process, or `None` when there was none
    /// or the marker cannot be read.
    pub fn read_clear_marker(&self) -> Option<String> {
        fs::read_to_string(&self.clear_marker).ok()
    }

    /// Writes a new clear token: the process id and the time in nanoseconds, which no earlier
    /// clear can have written.
    pub fn write_clear_marker(&self) -> Result<(), DiskCacheError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let token = format!("{} {nanos}\n", std::process::id());
        fs::write(&self.clear_marker, token).map_err(|source| DiskCacheError::WriteMarker {
            path: self.clear_marker.clone(),
            source,
        })
    }

    pub fn shard_path(&self, shard: u8) -> PathBuf {
        self.root.join(format!("{shard:02x}"))
    }

    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        let hex = key.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }

    /// Returns a fresh name in the temporary folder. `label` only helps a reader of the folder.
    pub fn temp_path(&self, label: &str) -> PathBuf {
        let sequence = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        self.temp_folder
            .join(format!("{label}.{}.{sequence}.tmp", std::process::id()))
    }

    /// Creates the root, the temporary folder and the 256 shard folders.
    pub fn create_folders(&self) -> Result<(), DiskCacheError> {
        create_folder(&self.root)?;
        create_folder(&self.temp_folder)?;
        for shard in 0..=u8::MAX {
            create_folder(&self.shard_path(shard))?;
        }
        Ok(())
    }

    /// Recreates the shard folder of `key`, which another process may have removed.
    pub fn recreate_shard(&self, key: &CacheKey) -> io::Result<()> {
        fs::create_dir_all(self.root.join(&key.to_hex()[..2]))?;
        fs::create_dir_all(&self.temp_folder)
    }

    /// Deletes the files that writes cut short by a crash or kill left in the temporary folder,
    /// and returns how many there were.
    pub fn remove_temp_files(&self) -> Result<usize, DiskCacheError> {
        let read_error = |source| DiskCacheError::ReadFolder {
            path: self.temp_folder.clone(),
            source,
        };
        let mut removed = 0;
        for item in fs::read_dir(&self.temp_folder).map_err(read_error)? {
            let item = item.map_err(read_error)?;
            if item.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            let path = item.path();
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(DiskCacheError::Remove { path, source }),
            }
        }
        Ok(removed)
    }
}

fn create_folder(path: &Path) -> Result<(), DiskCacheError> {
    fs::create_dir_all(path).map_err(|source| DiskCacheError::CreateFolder {
        path: path.to_path_buf(),
        source,
    })
}
