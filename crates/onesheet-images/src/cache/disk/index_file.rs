//! The persisted index: entries in least-recently-used order, so a restart keeps recency.
//!
//! | bytes  | field                                                            |
//! | ------ | ---------------------------------------------------------------- |
//! | 4      | magic `OSDI`                                                     |
//! | 4      | format version, little-endian `u32`, currently 1                 |
//! | 8      | entry count, little-endian `u64`                                 |
//! | 40 × n | per entry: 32-byte key, file size as little-endian `u64`         |
//! | 4      | CRC-32 (IEEE) of all bytes before it, little-endian `u32`        |
//!
//! The file is written to a temporary name, synced and renamed, so a reader sees either the
//! previous index or the new one. A file that fails any check is ignored, and `open` rebuilds
//! the index from the folder.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::CacheKey;
use super::index::IndexEntry;

const MAGIC: [u8; 4] = *b"OSDI";
const VERSION: u32 = 1;
const PREAMBLE_LEN: usize = 16;
const ENTRY_LEN: usize = 40;
const CHECKSUM_LEN: usize = 4;

/// Reasons a persisted index is ignored.
#[derive(Debug, thiserror::Error)]
pub(super) enum LoadError {
    #[error("reading failed: {0}")]
    Io(#[source] io::Error),
    #[error("the file is not a cache index of a supported version")]
    Format,
    #[error("the file is {actual} bytes but its entry count needs {expected}")]
    Length { expected: u64, actual: u64 },
    #[error("the checksum does not match")]
    Checksum,
}

/// Writes `entries` (least recently used first) to `path` through the temporary file
/// `temp_path`, which is removed again when any step fails.
pub(super) fn save(path: &Path, temp_path: &Path, entries: &[IndexEntry]) -> io::Result<()> {
    let result = write_and_rename(path, temp_path, &encode(entries));
    if result.is_err() {
        let _ = fs::remove_file(temp_path);
    }
    result
}

fn write_and_rename(path: &Path, temp_path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp_path)?;
    file.write_all(bytes)?;
    // Unlike entries, the index is written rarely and a lost one costs all recency, so it is
    // synced before the rename makes it current.
    file.sync_all()?;
    fs::rename(temp_path, path)
}

fn encode(entries: &[IndexEntry]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(PREAMBLE_LEN + entries.len() * ENTRY_LEN + CHECKSUM_LEN);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for entry in entries {
        bytes.extend_from_slice(entry.key.as_bytes());
        bytes.extend_from_slice(&entry.file_len.to_le_bytes());
    }
    let checksum = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

/// Reads the index at `path`: `Ok(None)` when there is none.
pub(super) fn load(path: &Path) -> Result<Option<Vec<IndexEntry>>, LoadError> {
    match fs::read(path) {
        Ok(bytes) => decode(&bytes).map(Some),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(LoadError::Io(error)),
    }
}

fn decode(bytes: &[u8]) -> Result<Vec<IndexEntry>, LoadError> {
    let (preamble, rest) = bytes
        .split_at_checked(PREAMBLE_LEN)
        .ok_or(LoadError::Format)?;
    let (magic, rest_of_preamble) = preamble.split_at(4);
    let (version, count) = rest_of_preamble.split_at(4);
    if magic != MAGIC || version != VERSION.to_le_bytes() {
        return Err(LoadError::Format);
    }

    let count = u64::from_le_bytes(count.try_into().map_err(|_| LoadError::Format)?);
    let expected = count
        .checked_mul(ENTRY_LEN as u64)
        .and_then(|len| len.checked_add((PREAMBLE_LEN + CHECKSUM_LEN) as u64))
        .ok_or(LoadError::Format)?;
    if expected != bytes.len() as u64 {
        return Err(LoadError::Length {
            expected,
            actual: bytes.len() as u64,
        });
    }

    let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let checksum = u32::from_le_bytes(checksum.try_into().map_err(|_| LoadError::Format)?);
    if crc32fast::hash(body) != checksum {
        return Err(LoadError::Checksum);
    }

    rest[..rest.len() - CHECKSUM_LEN]
        .chunks_exact(ENTRY_LEN)
        .map(|record| {
            let (key, file_len) = record.split_at(32);
            let key: [u8; 32] = key.try_into().map_err(|_| LoadError::Format)?;
            let file_len: [u8; 8] = file_len.try_into().map_err(|_| LoadError::Format)?;
            Ok(IndexEntry {
                key: CacheKey::from_bytes(key),
                file_len: u64::from_le_bytes(file_len),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(count: u32) -> Vec<IndexEntry> {
        (0..count)
            .map(|n| IndexEntry {
                key: CacheKey::from_parts(&[&n.to_le_bytes()]),
                file_len: u64::from(n) * 7 + 52,
            })
            .collect()
    }

    #[test]
    fn saved_index_loads_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("index");
        let temp = folder.path().join("index.tmp");

        save(&path, &temp, &entries(50)).unwrap();

        assert_eq!(load(&path).unwrap(), Some(entries(50)));
        assert!(!temp.exists());
    }

    #[test]
    fn empty_index_round_trips() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("index");

        save(&path, &folder.path().join("index.tmp"), &[]).unwrap();

        assert_eq!(load(&path).unwrap(), Some(Vec::new()));
    }

    #[test]
    fn missing_index_is_none() {
        let folder = tempfile::tempdir().unwrap();

        assert_eq!(load(&folder.path().join("index")).unwrap(), None);
    }

    #[test]
    fn damaged_index_is_rejected() {
        let good = encode(&entries(3));

        let mut flipped = good.clone();
        flipped[PREAMBLE_LEN + 5] ^= 0x10;
        assert!(matches!(decode(&flipped), Err(LoadError::Checksum)));

        assert!(matches!(
            decode(&good[..good.len() - 1]),
            Err(LoadError::Length { .. })
        ));
        assert!(matches!(decode(&good[..10]), Err(LoadError::Format)));
        assert!(matches!(
            decode(b"not an index at all"),
            Err(LoadError::Format)
        ));

        let mut huge_count = good.clone();
        huge_count[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(decode(&huge_count), Err(LoadError::Format)));
    }
}
