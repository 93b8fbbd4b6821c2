use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::*;

/// Payload size that makes each entry file exactly 1 KiB.
const KIB_PAYLOAD: usize = 1024 - entry::HEADER_LEN;

fn key(n: u32) -> CacheKey {
    CacheKey::from_parts(&[b"test", &n.to_le_bytes()])
}

/// Payload that depends on the key, so a swapped or stale entry is noticed.
fn payload(n: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(n) as u8)
        .collect()
}

fn no_floor(max_bytes: u64) -> DiskCacheConfig {
    DiskCacheConfig {
        max_bytes,
        min_free_bytes: 0,
    }
}

fn open(root: &Path, max_bytes: u64) -> DiskCache {
    DiskCache::open(root, no_floor(max_bytes)).unwrap()
}

/// Sum of the sizes of all entry files on disk, and their count.
fn files_on_disk(root: &Path) -> (u64, u64) {
    let mut count = 0;
    let mut bytes = 0;
    for shard in fs::read_dir(root).unwrap() {
        let shard = shard.unwrap();
        if shard.file_name().len() != 2 {
            continue;
        }
        for item in fs::read_dir(shard.path()).unwrap() {
            count += 1;
            bytes += item.unwrap().metadata().unwrap().len();
        }
    }
    (count, bytes)
}

fn temp_files(root: &Path) -> usize {
    fs::read_dir(root.join("tmp")).unwrap().count()
}

fn order(cache: &DiskCache) -> Vec<CacheKey> {
    cache
        .lock_index()
        .least_recent_first()
        .iter()
        .map(|entry| entry.key)
        .collect()
}

#[test]
fn cache_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DiskCache>();
}

#[test]
fn put_then_get_round_trips() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);

    let outcome = cache.put(&key(1), &payload(1, 5000)).unwrap();

    assert_eq!(outcome, PutOutcome::Stored);
    assert_eq!(cache.get(&key(1)), Some(payload(1, 5000)));
    assert_eq!(cache.get(&key(2)), None);
    let stats = cache.stats();
    assert_eq!(stats.entries, 1);
    assert_eq!(stats.bytes, entry::file_len(5000));
    assert_eq!(stats.hits, 1);
    assert_eq!(stats.misses, 1);
    assert_eq!(temp_files(folder.path()), 0);
}

#[test]
fn entry_file_is_sharded_by_hex() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);
    cache.put(&key(1), b"x").unwrap();

    let hex = key(1).to_hex();
    let path = folder.path().join(&hex[..2]).join(&hex);

    assert!(path.is_file());
    assert_eq!(fs::read_dir(folder.path()).unwrap().count(), 256 + 1);
}

#[test]
fn empty_payload_round_trips() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);

    cache.put(&key(1), b"").unwrap();

    assert_eq!(cache.get(&key(1)), Some(Vec::new()));
}

#[test]
fn put_replaces_existing_entry() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);

    cache.put(&key(1), &payload(1, 100)).unwrap();
    cache.put(&key(1), &payload(1, 300)).unwrap();

    assert_eq!(cache.get(&key(1)), Some(payload(1, 300)));
    assert_eq!(cache.stats().entries, 1);
    assert_eq!(cache.stats().bytes, entry::file_len(300));
    assert_eq!(files_on_disk(folder.path()), (1, entry::file_len(300)));
}

#[test]
fn damaged_entries_are_deleted_and_rebuilt() {
    type Damager = fn(&mut Vec<u8>);
    let damagers: [(&str, Damager); 4] = [
        ("flipped payload byte", |bytes| {
            bytes[entry::HEADER_LEN + 10] ^= 0x40
        }),
        ("truncated file", |bytes| bytes.truncate(bytes.len() - 7)),
        ("wrong length field", |bytes| bytes[40] ^= 0x01),
        ("foreign file", |bytes| {
            *bytes = b"GIF89a, not a cache entry".to_vec()
        }),
    ];
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);

    for (n, (case, damage)) in (0u32..).zip(damagers) {
        let path = cache.layout.entry_path(&key(n));
        cache.put(&key(n), &payload(n, 2000)).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        damage(&mut bytes);
        fs::write(&path, &bytes).unwrap();

        assert_eq!(cache.get(&key(n)), None, "{case}: get");
        assert!(!path.exists(), "{case}: file deleted");
        assert_eq!(cache.stats().damaged, u64::from(n) + 1, "{case}: counted");
        assert_eq!(cache.stats().entries, 0, "{case}: dropped from the index");

        assert_eq!(
            cache.put(&key(n), &payload(n, 2000)).unwrap(),
            PutOutcome::Stored
        );
        assert_eq!(
            cache.get(&key(n)),
            Some(payload(n, 2000)),
            "{case}: rebuilt"
        );
        cache.clear().unwrap();
    }
}

#[test]
fn entry_under_another_name_is_damaged() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);
    cache.put(&key(1), &payload(1, 10)).unwrap();
    cache.put(&key(2), &payload(2, 10)).unwrap();

    fs::copy(
        cache.layout.entry_path(&key(1)),
        cache.layout.entry_path(&key(2)),
    )
    .unwrap();

    assert_eq!(cache.get(&key(2)), None);
    assert_eq!(cache.stats().damaged, 1);
    assert_eq!(cache.get(&key(1)), Some(payload(1, 10)));
}

#[test]
fn flood_stays_under_cap() {
    let folder = tempfile::tempdir().unwrap();
    let max_bytes = 64 * 1024;
    let cache = open(folder.path(), max_bytes);

    for n in 0..500 {
        cache.put(&key(n), &payload(n, KIB_PAYLOAD)).unwrap();
        assert!(cache.stats().bytes <= max_bytes, "after put {n}");
    }

    let stats = cache.stats();
    assert_eq!(stats.entries, 64);
    assert_eq!(stats.bytes, max_bytes);
    assert_eq!(stats.evictions, 500 - 64);
    assert_eq!(files_on_disk(folder.path()), (64, max_bytes));
    for n in 436..500 {
        assert_eq!(
            cache.get(&key(n)),
            Some(payload(n, KIB_PAYLOAD)),
            "entry {n}"
        );
    }
}

#[test]
fn eviction_keeps_recently_used() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 32 * 1024);
    for n in 0..32 {
        cache.put(&key(n), &payload(n, KIB_PAYLOAD)).unwrap();
    }
    for n in 0..5 {
        assert!(cache.get(&key(n)).is_some());
    }

    for n in 100..127 {
        cache.put(&key(n), &payload(n, KIB_PAYLOAD)).unwrap();
    }

    for n in 0..5 {
        assert_eq!(
            cache.get(&key(n)),
            Some(payload(n, KIB_PAYLOAD)),
            "touched entry {n}"
        );
    }
    for n in 5..32 {
        assert_eq!(cache.get(&key(n)), None, "untouched entry {n}");
    }
    assert_eq!(cache.stats().entries, 32);
}

#[test]
fn oversized_entry_is_skipped() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 8 * 1024);

    let fits = cache
        .put(&key(1), &vec![0; 1024 - entry::HEADER_LEN])
        .unwrap();
    let too_large = cache
        .put(&key(2), &vec![0; 1025 - entry::HEADER_LEN])
        .unwrap();

    assert_eq!(fits, PutOutcome::Stored);
    assert_eq!(too_large, PutOutcome::SkippedTooLarge);
    assert_eq!(cache.get(&key(2)), None);
    assert_eq!(cache.stats().skipped_too_large, 1);
    assert_eq!(temp_files(folder.path()), 0);
}

#[test]
fn restart_keeps_entries_and_recency() {
    let folder = tempfile::tempdir().unwrap();
    let before = {
        let cache = open(folder.path(), 1 << 20);
        for n in 0..10 {
            cache.put(&key(n), &payload(n, 100)).unwrap();
        }
        for n in [7, 2, 9, 0] {
            cache.get(&key(n)).unwrap();
        }
        cache.persist_index().unwrap();
        order(&cache)
    };

    let cache = open(folder.path(), 1 << 20);

    assert_eq!(order(&cache), before);
    assert_eq!(before[6..], [key(7), key(2), key(9), key(0)]);
    for n in 0..10 {
        assert_eq!(cache.get(&key(n)), Some(payload(n, 100)), "entry {n}");
    }
    assert_eq!(cache.stats().bytes, 10 * entry::file_len(100));
}

#[test]
fn restart_adopts_entries_written_after_persist() {
    let folder = tempfile::tempdir().unwrap();
    {
        let cache = open(folder.path(), 1 << 20);
        for n in 0..5 {
            cache.put(&key(n), &payload(n, 100)).unwrap();
        }
        cache.persist_index().unwrap();
        cache.put(&key(5), &payload(5, 100)).unwrap();
        fs::remove_file(cache.layout.entry_path(&key(0))).unwrap();
    }

    let cache = open(folder.path(), 1 << 20);

    let order = order(&cache);
    assert_eq!(order.len(), 5);
    assert_eq!(order[0], key(5), "adopted entries are least recent");
    assert_eq!(order[1..], [key(1), key(2), key(3), key(4)]);
    assert_eq!(cache.get(&key(5)), Some(payload(5, 100)));
    assert_eq!(cache.stats().bytes, 5 * entry::file_len(100));
}

#[test]
fn open_evicts_down_to_smaller_cap() {
    let folder = tempfile::tempdir().unwrap();
    {
        let cache = open(folder.path(), 1 << 20);
        for n in 0..20 {
            cache.put(&key(n), &payload(n, KIB_PAYLOAD)).unwrap();
        }
        cache.persist_index().unwrap();
    }

    let cache = open(folder.path(), 8 * 1024);

    assert_eq!(cache.stats().entries, 8);
    assert_eq!(files_on_disk(folder.path()), (8, 8 * 1024));
    assert_eq!(cache.get(&key(19)), Some(payload(19, KIB_PAYLOAD)));
    assert_eq!(cache.get(&key(11)), None);
}

#[test]
fn open_removes_temp_leftovers() {
    let folder = tempfile::tempdir().unwrap();
    drop(open(folder.path(), 1 << 20));
    let leftovers: Vec<PathBuf> = (0..3)
        .map(|n| {
            folder
                .path()
                .join("tmp")
                .join(format!("{}.1.{n}.tmp", key(n).to_hex()))
        })
        .collect();
    for path in &leftovers {
        fs::write(path, b"half an entry").unwrap();
    }

    let cache = open(folder.path(), 1 << 20);

    assert_eq!(temp_files(folder.path()), 0);
    assert_eq!(cache.stats().entries, 0);
}

#[test]
fn missing_or_corrupt_index_is_rebuilt() {
    let folder = tempfile::tempdir().unwrap();
    {
        let cache = open(folder.path(), 1 << 20);
        for n in 0..10 {
            cache.put(&key(n), &payload(n, 100)).unwrap();
        }
        cache.persist_index().unwrap();
    }
    let index_path = folder.path().join("index");
    let mut index = fs::read(&index_path).unwrap();
    index[30] ^= 0xff;

    for (case, prepare) in [("corrupt", Some(index)), ("missing", None)] {
        match prepare {
            Some(bytes) => fs::write(&index_path, bytes).unwrap(),
            None => fs::remove_file(&index_path).unwrap(),
        }

        let cache = open(folder.path(), 1 << 20);

        assert_eq!(cache.stats().entries, 10, "{case}");
        assert_eq!(cache.stats().bytes, 10 * entry::file_len(100), "{case}");
        for n in 0..10 {
            assert_eq!(
                cache.get(&key(n)),
                Some(payload(n, 100)),
                "{case}: entry {n}"
            );
        }
    }
}

#[test]
fn open_deletes_foreign_files_in_shards() {
    let folder = tempfile::tempdir().unwrap();
    drop(open(folder.path(), 1 << 20));
    fs::write(folder.path().join("ab").join("notes.txt"), b"stray").unwrap();
    let misplaced = key(1).to_hex();
    let other_shard = if &misplaced[..2] == "00" { "01" } else { "00" };
    fs::write(folder.path().join(other_shard).join(&misplaced), b"stray").unwrap();

    let cache = open(folder.path(), 1 << 20);

    assert_eq!(cache.stats().entries, 0);
    assert_eq!(files_on_disk(folder.path()), (0, 0));
}

#[test]
fn persist_skips_unchanged_index() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);
    cache.put(&key(1), b"x").unwrap();
    cache.persist_index().unwrap();
    let index_path = folder.path().join("index");
    fs::remove_file(&index_path).unwrap();

    cache.persist_index().unwrap();
    assert!(!index_path.exists(), "unchanged index is not rewritten");

    cache.get(&key(1)).unwrap();
    cache.persist_index().unwrap();
    assert!(index_path.exists(), "a get changes recency");
    assert_eq!(temp_files(folder.path()), 0);
}

#[test]
fn file_deleted_by_another_process_is_a_miss() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);
    cache.put(&key(1), &payload(1, 100)).unwrap();
    cache.put(&key(2), &payload(2, 100)).unwrap();

    fs::remove_file(cache.layout.entry_path(&key(1))).unwrap();

    assert_eq!(cache.get(&key(1)), None);
    let stats = cache.stats();
    assert_eq!(stats.entries, 1);
    assert_eq!(stats.bytes, entry::file_len(100));
    assert_eq!(stats.damaged, 0);
}

#[test]
fn put_recreates_removed_shard_folders() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);
    let hex = key(1).to_hex();
    fs::remove_dir(folder.path().join(&hex[..2])).unwrap();

    assert_eq!(cache.put(&key(1), b"x").unwrap(), PutOutcome::Stored);
    assert_eq!(cache.get(&key(1)), Some(b"x".to_vec()));
}

#[test]
fn clear_removes_everything() {
    let folder = tempfile::tempdir().unwrap();
    let cache = open(folder.path(), 1 << 20);
    for n in 0..10 {
        cache.put(&key(n), &payload(n, 100)).unwrap();
    }

    let outcome = cache.clear().unwrap();

    assert_eq!(
        outcome,
        ClearOutcome {
            entries: 10,
            bytes: 10 * entry::file_len(100)
        }
    );
    assert_eq!(files_on_disk(folder.path()), (0, 0));
    assert_eq!(cache.stats().entries, 0);
    assert_eq!(cache.stats().bytes, 0);
    assert_eq!(cache.get(&key(3)), None);
    cache.put(&key(3), b"again").unwrap();
    assert_eq!(cache.get(&key(3)), Some(b"again".to_vec()));
}

#[test]
fn clear_from_another_instance_is_seen_as_misses() {
    let folder = tempfile::tempdir().unwrap();
    let server = open(folder.path(), 1 << 20);
    for n in 0..5 {
        server.put(&key(n), &payload(n, 100)).unwrap();
    }

    let command_line = open(folder.path(), 1 << 20);
    assert_eq!(command_line.clear().unwrap().entries, 5);

    for n in 0..5 {
        assert_eq!(server.get(&key(n)), None, "entry {n}");
    }
    assert_eq!(server.stats().entries, 0);
}

/// Lists every file under `root` with its size, to show that an operation changed nothing.
fn snapshot_of(root: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for item in fs::read_dir(&folder).unwrap() {
            let item = item.unwrap();
            let metadata = item.metadata().unwrap();
            if metadata.is_dir() {
                folders.push(item.path());
            } else {
                files.push((item.path(), metadata.len()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn inspect_counts_entries_and_changes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    {
        let server = open(folder.path(), 1 << 20);
        for n in 0..4 {
            server.put(&key(n), &payload(n, 100)).unwrap();
        }
        server.persist_index().unwrap();
    }
    // A write in progress, a stray file in a shard, and a shard folder someone removed.
    fs::write(folder.path().join("tmp/entry.1.0.tmp"), b"partial").unwrap();
    fs::write(folder.path().join("00/notes.txt"), b"mine").unwrap();
    let removed_shard = (0..=u8::MAX)
        .map(|shard| folder.path().join(format!("{shard:02x}")))
        .find(|path| fs::read_dir(path).unwrap().next().is_none())
        .unwrap();
    fs::remove_dir(&removed_shard).unwrap();
    let before = snapshot_of(folder.path());

    let stats = DiskCache::inspect(folder.path()).unwrap();

    assert_eq!(stats.entries, 4);
    assert_eq!(stats.bytes, 4 * entry::file_len(100));
    assert_eq!(stats.temp_files, 1);
    assert_eq!(snapshot_of(folder.path()), before);
    assert!(!removed_shard.exists(), "a shard folder was created");
}

#[test]
fn inspect_of_missing_folder_fails_without_creating_it() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("cache");

    let error = DiskCache::inspect(&root).unwrap_err();

    assert!(matches!(error, DiskCacheError::Missing { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&root.display().to_string()), "{message}");
    assert!(message.contains("cache.dir"), "{message}");
    assert!(message.contains("data_dir"), "{message}");
    assert!(!root.exists());
    assert!(matches!(
        DiskCache::clear_folder(&root),
        Err(DiskCacheError::Missing { .. })
    ));
    assert!(!root.exists());
}

#[test]
fn clear_folder_keeps_temporary_files() {
    let folder = tempfile::tempdir().unwrap();
    let server = open(folder.path(), 1 << 20);
    for n in 0..5 {
        server.put(&key(n), &payload(n, 100)).unwrap();
    }
    server.persist_index().unwrap();
    let in_flight = folder.path().join("tmp/entry.1.7.tmp");
    fs::write(&in_flight, b"being written").unwrap();

    let outcome = DiskCache::clear_folder(folder.path()).unwrap();

    assert_eq!(outcome.entries, 5);
    assert_eq!(files_on_disk(folder.path()), (0, 0));
    assert!(in_flight.exists(), "a temporary file was deleted");
    assert!(!folder.path().join("index").exists());
    // The server's write that owned the temporary file still succeeds.
    server.persist_index().unwrap();
    server.put(&key(9), &payload(9, 100)).unwrap();
    assert_eq!(server.get(&key(9)), Some(payload(9, 100)));
}

#[test]
fn server_rereads_folder_after_clear_by_another_process() {
    let folder = tempfile::tempdir().unwrap();
    let server = open(folder.path(), 1 << 20);
    for n in 0..5 {
        server.put(&key(n), &payload(n, 1000)).unwrap();
    }
    assert!(
        !server.reload_if_cleared().unwrap(),
        "nothing was cleared yet"
    );

    DiskCache::clear_folder(folder.path()).unwrap();
    // Stored after the clear and before the server notices it.
    server.put(&key(7), &payload(7, 100)).unwrap();
    assert_eq!(server.stats().entries, 6, "the server has not looked yet");

    assert!(server.reload_if_cleared().unwrap());

    let stats = server.stats();
    assert_eq!(stats.entries, 1);
    assert_eq!(stats.bytes, entry::file_len(100));
    assert_eq!(server.get(&key(7)), Some(payload(7, 100)));
    assert!(
        !server.reload_if_cleared().unwrap(),
        "one clear is handled once"
    );

    // A second clear is noticed too.
    DiskCache::clear_folder(folder.path()).unwrap();
    assert!(server.reload_if_cleared().unwrap());
    assert_eq!(server.stats().entries, 0);
}

#[test]
fn open_ignores_clears_before_it() {
    let folder = tempfile::tempdir().unwrap();
    drop(open(folder.path(), 1 << 20));
    DiskCache::clear_folder(folder.path()).unwrap();

    let server = open(folder.path(), 1 << 20);

    assert!(!server.reload_if_cleared().unwrap());
}

#[test]
fn floor_above_free_space_evicts_then_skips() {
    let folder = tempfile::tempdir().unwrap();
    {
        let cache = open(folder.path(), 1 << 20);
        for n in 0..5 {
            cache.put(&key(n), &payload(n, 100)).unwrap();
        }
    }
    let config = DiskCacheConfig {
        max_bytes: 1 << 20,
        min_free_bytes: u64::MAX / 2,
    };
    let cache = DiskCache::open(folder.path(), config).unwrap();

    let outcome = cache.put(&key(9), &payload(9, 100)).unwrap();

    assert_eq!(outcome, PutOutcome::SkippedLowSpace);
    let stats = cache.stats();
    assert_eq!(stats.skipped_low_space, 1);
    assert_eq!(stats.evictions, 5);
    assert_eq!(stats.entries, 0);
    assert_eq!(files_on_disk(folder.path()), (0, 0));
}

#[test]
fn concurrent_puts_and_gets_stay_consistent() {
    const THREADS: u32 = 8;
    const KEYS: u32 = 200;
    let folder = tempfile::tempdir().unwrap();
    // Room for about half the keys, so eviction runs alongside the reads and writes.
    let max_bytes = u64::from(KEYS / 2) * 1024;
    let cache = Arc::new(open(folder.path(), max_bytes));

    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || {
                for round in 0..1500u32 {
                    // Threads walk the same keys in different orders, so they often put
                    // and read the same key at the same time.
                    let n = (round * (thread * 2 + 1) + thread) % KEYS;
                    match cache.get(&key(n)) {
                        Some(bytes) => assert_eq!(bytes, payload(n, KIB_PAYLOAD), "key {n}"),
                        None => {
                            let outcome = cache.put(&key(n), &payload(n, KIB_PAYLOAD)).unwrap();
                            assert_eq!(outcome, PutOutcome::Stored);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }

    let stats = cache.stats();
    assert_eq!(stats.damaged, 0);
    assert_eq!(stats.write_failures, 0);
    assert!(stats.bytes <= max_bytes);
    assert!(stats.hits > 0);
    assert_eq!(temp_files(folder.path()), 0);
    let (files, bytes) = files_on_disk(folder.path());
    assert!(bytes <= max_bytes, "{bytes} bytes on disk");
    // Races between an eviction and a put of the same key can only lose files, never
    // leave unindexed ones behind.
    assert!(
        files <= stats.entries,
        "{files} files, {} indexed",
        stats.entries
    );

    drop(cache);
    let reopened = open(folder.path(), max_bytes);
    for n in 0..KEYS {
        if let Some(bytes) = reopened.get(&key(n)) {
            assert_eq!(bytes, payload(n, KIB_PAYLOAD), "key {n} after reopen");
        }
    }
    assert_eq!(reopened.stats().damaged, 0);
}

/// A tmpfs mounted for one test and unmounted when dropped, even if the test fails.
struct TmpfsMount {
    _parent: tempfile::TempDir,
    path: PathBuf,
}

impl TmpfsMount {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it), or returns `None` after
    /// printing why when mounting is not permitted. With `ONESHEET_REQUIRE_TMPFS=1` set, a
    /// failed mount fails the test instead.
    fn new(size: &str) -> Option<Self> {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join("mnt");
        fs::create_dir(&path).unwrap();
        let result = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output();
        let reason = match result {
            Ok(output) if output.status.success() => {
                return Some(Self {
                    _parent: parent,
                    path,
                });
            }
            Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_string(),
            Err(error) => format!("running mount failed: {error}"),
        };
        if std::env::var("ONESHEET_REQUIRE_TMPFS").as_deref() == Ok("1") {
            panic!("mounting a tmpfs failed and ONESHEET_REQUIRE_TMPFS=1 is set: {reason}");
        }
        eprintln!("skipping: mounting a tmpfs failed ({reason}); run as root to test a full disk");
        None
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let status = Command::new("umount").arg(&self.path).status();
        if !status.is_ok_and(|status| status.success()) {
            eprintln!("unmounting {} failed", self.path.display());
        }
    }
}

#[test]
fn full_disk_fails_cleanly() {
    let Some(mount) = TmpfsMount::new("2m") else {
        return;
    };
    let root = mount.path.join("cache");
    let cache = open(&root, 1 << 30);
    let entry_len = 100 * 1024;

    let mut stored = Vec::new();
    let mut failure = None;
    for n in 0..100 {
        match cache.put(&key(n), &payload(n, entry_len)) {
            Ok(outcome) => {
                assert_eq!(outcome, PutOutcome::Stored);
                stored.push(n);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }

    let error = failure.expect("a 2 MiB tmpfs cannot take 10 MB");
    assert!(error.is_out_of_space(), "{error}");
    assert!(error.to_string().contains("free disk space"), "{error}");
    assert!(!stored.is_empty());
    assert_eq!(
        temp_files(&root),
        0,
        "the failed write left no temporary file"
    );
    for n in &stored {
        assert_eq!(
            cache.get(&key(*n)),
            Some(payload(*n, entry_len)),
            "entry {n}"
        );
    }
    let stats = cache.stats();
    assert_eq!(stats.write_failures, 1);
    assert_eq!(stats.entries, stored.len() as u64);
    assert!(stats.free_bytes.is_some_and(|free| free < entry_len as u64));

    // Further writes keep failing cleanly. An index persist may fail too, without a panic.
    assert!(cache.put(&key(500), &payload(500, entry_len)).is_err());
    let _ = cache.persist_index();
    assert_eq!(temp_files(&root), 0);
    assert_eq!(cache.stats().write_failures, 2);
}

#[test]
fn floor_evicts_on_small_disk() {
    let Some(mount) = TmpfsMount::new("2m") else {
        return;
    };
    let root = mount.path.join("cache");
    let min_free_bytes = 1024 * 1024;
    let config = DiskCacheConfig {
        max_bytes: 1 << 30,
        min_free_bytes,
    };
    let cache = DiskCache::open(&root, config).unwrap();
    let entry_len = 100 * 1024;

    for n in 0..30 {
        let outcome = cache.put(&key(n), &payload(n, entry_len)).unwrap();
        assert_eq!(outcome, PutOutcome::Stored, "put {n}");
        let free = space::free_bytes(&root).unwrap();
        assert!(free >= min_free_bytes, "put {n} left {free} bytes free");
    }

    let stats = cache.stats();
    assert!(stats.evictions > 0);
    assert_eq!(stats.write_failures, 0);
    assert_eq!(cache.get(&key(29)), Some(payload(29, entry_len)));
}

#[test]
fn floor_larger_than_disk_skips_every_put() {
    let Some(mount) = TmpfsMount::new("2m") else {
        return;
    };
    let root = mount.path.join("cache");
    let config = DiskCacheConfig {
        max_bytes: 1 << 30,
        min_free_bytes: 4 * 1024 * 1024,
    };
    let cache = DiskCache::open(&root, config).unwrap();

    for n in 0..3 {
        let outcome = cache.put(&key(n), &payload(n, 1000)).unwrap();
        assert_eq!(outcome, PutOutcome::SkippedLowSpace);
    }

    assert_eq!(cache.stats().skipped_low_space, 3);
    assert_eq!(cache.stats().write_failures, 0);
    assert_eq!(files_on_disk(&root), (0, 0));
    assert_eq!(cache.get(&key(0)), None);
}
