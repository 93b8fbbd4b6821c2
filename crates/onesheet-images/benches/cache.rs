//! The disk cache of derived images: a hit, its checksum, a store, and opening and persisting
//! a cache of 100,000 entries.
//!
//! Run with `cargo bench -p onesheet-images --bench cache`. The cache lives in a temporary
//! folder under the system temporary directory, so the figures are those of that filesystem.
//! Reads are served from the page cache because the same entry is read on every iteration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use onesheet_images::cache::disk::{CacheKey, DiskCache, DiskCacheConfig, PutOutcome};

const ENTRY_BYTES: usize = 100 * 1024;
const LARGE_CACHE_ENTRIES: u32 = 100_000;

fn key(n: u32) -> CacheKey {
    CacheKey::from_parts(&[b"bench", &n.to_le_bytes()])
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn config() -> DiskCacheConfig {
    DiskCacheConfig {
        max_bytes: 256 << 20,
        ..DiskCacheConfig::default()
    }
}

fn bench_entries(c: &mut Criterion) {
    let folder = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(folder.path(), config()).unwrap();
    let bytes = payload(ENTRY_BYTES);
    let mut group = c.benchmark_group("disk cache");

    // The share of a hit that goes to verifying the entry.
    group.bench_function("crc32 of 100 KB", |b| {
        b.iter(|| crc32fast::hash(std::hint::black_box(&bytes)));
    });

    cache.put(&key(0), &bytes).unwrap();
    group.bench_function("get 100 KB", |b| {
        b.iter(|| cache.get(&key(0)).unwrap());
    });

    // A new key each time, as in real use. After about 2,600 entries every put also evicts.
    let mut next = 1;
    group.bench_function("put 100 KB", |b| {
        b.iter(|| {
            next += 1;
            assert_eq!(cache.put(&key(next), &bytes).unwrap(), PutOutcome::Stored);
        });
    });
    group.finish();
}

fn bench_large_cache(c: &mut Criterion) {
    let folder = tempfile::tempdir().unwrap();
    let bytes = payload(100);
    {
        let cache = DiskCache::open(folder.path(), config()).unwrap();
        for n in 0..LARGE_CACHE_ENTRIES {
            cache.put(&key(n), &bytes).unwrap();
        }
        cache.persist_index().unwrap();
    }
    let index_path = folder.path().join("index");
    let mut group = c.benchmark_group("disk cache of 100,000 entries");
    group.sample_size(10);

    group.bench_function("open with current index", |b| {
        b.iter(|| {
            let cache = DiskCache::open(folder.path(), config()).unwrap();
            assert_eq!(cache.stats().entries, u64::from(LARGE_CACHE_ENTRIES));
        });
    });

    let cache = DiskCache::open(folder.path(), config()).unwrap();
    let mut touched = 0;
    group.bench_function("persist index", |b| {
        b.iter_batched(
            || {
                touched = (touched + 1) % LARGE_CACHE_ENTRIES;
                cache.get(&key(touched)).unwrap();
            },
            |()| cache.persist_index().unwrap(),
            BatchSize::PerIteration,
        );
    });
    drop(cache);

    group.bench_function("open without index", |b| {
        b.iter_batched(
            || {
                let _ = std::fs::remove_file(&index_path);
            },
            |()| {
                let cache = DiskCache::open(folder.path(), config()).unwrap();
                assert_eq!(cache.stats().entries, u64::from(LARGE_CACHE_ENTRIES));
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_entries, bench_large_cache);
criterion_main!(benches);
