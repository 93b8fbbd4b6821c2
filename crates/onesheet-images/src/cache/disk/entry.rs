//! File format of one cache entry: a fixed header, then the payload.
//!
//! | offset | bytes | field                                                     |
//! | ------ | ----- | --------------------------------------------------------- |
//! | 0      | 4     | magic `OSDC`                                              |
//! | 4      | 4     | format version, little-endian `u32`, currently 1          |
//! | 8      | 32    | the entry's key, so a file under another name is caught   |
//! | 40     | 8     | payload length in bytes, little-endian `u64`              |
//! | 48     | 4     | CRC-32 (IEEE) of the payload, little-endian `u32`         |
//!
//! CRC-32 detects torn writes and flipped bits, not tampering. Anyone who can write the cache
//! folder can serve any image anyway.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use super::CacheKey;

const MAGIC: [u8; 4] = *b"OSDC";
const VERSION: u32 = 1;
pub(super) const HEADER_LEN: usize = 52;

/// Size of the file that stores a payload of `payload_len` bytes.
pub(super) fn file_len(payload_len: usize) -> u64 {
    (HEADER_LEN + payload_len) as u64
}

/// Reasons an entry file cannot be trusted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum Damage {
    #[error("the file is {0} bytes, shorter than the entry header")]
    ShortHeader(u64),
    #[error("the file does not start with the entry magic bytes")]
    Magic,
    #[error("format version {0} is not supported")]
    Version(u32),
    #[error("the header names another key")]
    Key,
    #[error("the header declares {declared} payload bytes but the file contains {actual}")]
    Length { declared: u64, actual: u64 },
    #[error("the payload checksum does not match the header")]
    Checksum,
}

#[derive(Debug)]
pub(super) enum ReadError {
    Missing,
    Damaged(Damage),
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::NotFound {
            Self::Missing
        } else {
            Self::Io(error)
        }
    }
}

fn header(key: &CacheKey, payload: &[u8]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&MAGIC);
    header[4..8].copy_from_slice(&VERSION.to_le_bytes());
    header[8..40].copy_from_slice(key.as_bytes());
    header[40..48].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[48..52].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
    header
}

/// Writes a new entry file at `path`, which must not exist yet.
pub(super) fn write(path: &Path, key: &CacheKey, payload: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(&header(key, payload))?;
    file.write_all(payload)
}

/// Reads and verifies the entry file at `path`, returning its payload.
pub(super) fn read(path: &Path, key: &CacheKey) -> Result<Vec<u8>, ReadError> {
    let mut file = File::open(path)?;
    let file_len = file.metadata()?.len();
    if file_len < HEADER_LEN as u64 {
        return Err(ReadError::Damaged(Damage::ShortHeader(file_len)));
    }

    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header)?;
    let (declared_len, checksum) = parse_header(&header, key).map_err(ReadError::Damaged)?;

    // Checking the length against the file size first keeps a corrupt length field from
    // causing a huge allocation.
    let actual_len = file_len - HEADER_LEN as u64;
    if declared_len != actual_len {
        return Err(ReadError::Damaged(Damage::Length {
            declared: declared_len,
            actual: actual_len,
        }));
    }

    let capacity = usize::try_from(declared_len).map_err(io::Error::other)?;
    let mut payload = Vec::with_capacity(capacity);
    // Reading one byte past the declared length catches a file that another process
    // shortened or extended after the size check.
    file.take(declared_len + 1).read_to_end(&mut payload)?;
    if payload.len() as u64 != declared_len {
        return Err(ReadError::Damaged(Damage::Length {
            declared: declared_len,
            actual: payload.len() as u64,
        }));
    }

    if crc32fast::hash(&payload) != checksum {
        return Err(ReadError::Damaged(Damage::Checksum));
    }
    Ok(payload)
}

/// Returns the payload length and checksum that the header declares.
fn parse_header(header: &[u8; HEADER_LEN], key: &CacheKey) -> Result<(u64, u32), Damage> {
    if field::<4>(header, 0) != MAGIC {
        return Err(Damage::Magic);
    }
    let version = u32::from_le_bytes(field(header, 4));
    if version != VERSION {
        return Err(Damage::Version(version));
    }
    if field::<32>(header, 8) != *key.as_bytes() {
        return Err(Damage::Key);
    }
    let length = u64::from_le_bytes(field(header, 40));
    let checksum = u32::from_le_bytes(field(header, 48));
    Ok((length, checksum))
}

/// Copies the `N` header bytes that start at `offset`.
fn field<const N: usize>(header: &[u8; HEADER_LEN], offset: usize) -> [u8; N] {
    let mut bytes = [0u8; N];
    bytes.copy_from_slice(&header[offset..offset + N]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn damage_of(path: &Path, key: &CacheKey) -> Option<Damage> {
        match read(path, key) {
            Err(ReadError::Damaged(damage)) => Some(damage),
            _ => None,
        }
    }

    #[test]
    fn written_entry_reads_back() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("entry");
        let key = CacheKey::from_parts(&[b"a"]);

        write(&path, &key, b"payload").unwrap();

        assert_eq!(read(&path, &key).unwrap(), b"payload");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), file_len(7));
    }

    #[test]
    fn write_refuses_existing_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("entry");
        let key = CacheKey::from_parts(&[b"a"]);
        write(&path, &key, b"first").unwrap();

        let error = write(&path, &key, b"second").unwrap_err();

        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn read_reports_each_kind_of_damage() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("entry");
        let key = CacheKey::from_parts(&[b"a"]);
        write(&path, &key, b"0123456789").unwrap();
        let good = std::fs::read(&path).unwrap();

        let mut flipped = good.clone();
        flipped[HEADER_LEN + 3] ^= 0x01;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(damage_of(&path, &key), Some(Damage::Checksum));

        std::fs::write(&path, &good[..good.len() - 2]).unwrap();
        assert_eq!(
            damage_of(&path, &key),
            Some(Damage::Length {
                declared: 10,
                actual: 8
            })
        );

        let mut longer = good.clone();
        longer[40..48].copy_from_slice(&11u64.to_le_bytes());
        std::fs::write(&path, &longer).unwrap();
        assert_eq!(
            damage_of(&path, &key),
            Some(Damage::Length {
                declared: 11,
                actual: 10
            })
        );

        std::fs::write(&path, &good[..20]).unwrap();
        assert_eq!(damage_of(&path, &key), Some(Damage::ShortHeader(20)));

        let mut foreign = b"\x89PNG\r\n\x1a\n".to_vec();
        foreign.resize(200, 0);
        std::fs::write(&path, &foreign).unwrap();
        assert_eq!(damage_of(&path, &key), Some(Damage::Magic));

        let mut future = good.clone();
        future[4..8].copy_from_slice(&2u32.to_le_bytes());
        std::fs::write(&path, &future).unwrap();
        assert_eq!(damage_of(&path, &key), Some(Damage::Version(2)));

        std::fs::write(&path, &good).unwrap();
        let other = CacheKey::from_parts(&[b"b"]);
        assert_eq!(damage_of(&path, &other), Some(Damage::Key));
    }

    #[test]
    fn read_of_absent_file_is_missing() {
        let folder = tempfile::tempdir().unwrap();
        let key = CacheKey::from_parts(&[b"a"]);

        let result = read(&folder.path().join("absent"), &key);

        assert!(matches!(result, Err(ReadError::Missing)));
    }
}
