//! Crash-safe file writes: write a temporary file in the same folder, flush it to disk, rename it
//! over the target, then flush the folder. A crash at any point leaves either the old file or the
//! new one, never a truncated mix.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::StoreError;

/// Replaces `path` with `bytes` atomically. Blocking: call it from a blocking thread.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_with(path, |writer| writer.write_all(bytes))
}

/// Replaces `path` atomically with whatever `write` produces, streamed through a buffer so a
/// large document never has to exist in memory as a whole. Blocking: call it from a blocking
/// thread.
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let to_error = |error| StoreError::File {
        path: path.to_path_buf(),
        error,
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(folder).map_err(to_error)?;

    let (temporary, file) = tempfile_in(folder, path).map_err(to_error)?;
    let result = (|| {
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        // The rename is durable only once the folder entry itself reaches the disk.
        File::open(folder)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(to_error)
}

/// Creates a uniquely named temporary file next to `target`; the name starts with a dot so
/// folder scanners skip it.
fn tempfile_in(folder: &Path, target: &Path) -> std::io::Result<(std::path::PathBuf, File)> {
    let stem = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pid = std::process::id();
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let candidate = folder.join(format!(".{stem}.{pid}.{nanos}.{attempt}.tmp"));
        match File::options()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temporary file name after 100 attempts",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("catalog.json");
        write_file(&target, b"first").unwrap();
        write_file(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn failed_write_keeps_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("catalog.json");
        write_file(&target, b"old").unwrap();
        let result = write_with(&target, |writer| {
            writer.write_all(b"half")?;
            Err(std::io::Error::other("serialiser failed"))
        });
        assert!(result.is_err());
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_creates_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/c.bin");
        write_file(&target, b"x").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"x");
    }
}
