//! In-memory index of the entries on disk: their sizes and least-recently-used order.
//!
//! Recency is a counter that every `get` hit and `put` advances, not the file's access time,
//! because many systems mount with `noatime` or `relatime` and would report stale times.

use std::collections::{BTreeMap, HashMap};

use super::CacheKey;

/// One entry as the index stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IndexEntry {
    pub key: CacheKey,
    /// Size of the entry file, header included.
    pub file_len: u64,
}

#[derive(Debug, Default)]
pub(super) struct Index {
    /// Recency stamp of each key, the key into `by_recency`.
    stamps: HashMap<CacheKey, u64>,
    /// Entries ordered from least to most recently used.
    by_recency: BTreeMap<u64, IndexEntry>,
    total_bytes: u64,
    next_stamp: u64,
    /// Mutation count, so a persist can skip an unchanged index.
    changes: u64,
}

impl Index {
    /// Builds an index from entries listed least recently used first.
    pub fn from_least_recent(entries: Vec<IndexEntry>) -> Self {
        let mut index = Self {
            stamps: HashMap::with_capacity(entries.len()),
            ..Self::default()
        };
        for entry in entries {
            index.insert(entry.key, entry.file_len);
        }
        index.changes = 0;
        index
    }

    pub fn len(&self) -> usize {
        self.stamps.len()
    }

    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Returns the recency stamp of `key`. Every `touch` and `insert` gives a new stamp, so a
    /// caller can tell whether the entry changed while it was not holding the lock.
    pub fn stamp(&self, key: &CacheKey) -> Option<u64> {
        self.stamps.get(key).copied()
    }

    /// Marks `key` as the most recently used entry. Returns false when it is not indexed.
    pub fn touch(&mut self, key: &CacheKey) -> bool {
        let Some(stamp) = self.stamps.get_mut(key) else {
            return false;
        };
        let Some(entry) = self.by_recency.remove(stamp) else {
            return false;
        };
        *stamp = self.next_stamp;
        self.by_recency.insert(self.next_stamp, entry);
        self.next_stamp += 1;
        self.changes += 1;
        true
    }

    /// Adds or replaces `key` as the most recently used entry.
    pub fn insert(&mut self, key: CacheKey, file_len: u64) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        if let Some(old_stamp) = self.stamps.insert(key, stamp)
            && let Some(old) = self.by_recency.remove(&old_stamp)
        {
            self.total_bytes -= old.file_len;
        }
        self.by_recency.insert(stamp, IndexEntry { key, file_len });
        self.total_bytes += file_len;
        self.changes += 1;
    }

    /// Drops `key` from the index and returns its file size.
    pub fn remove(&mut self, key: &CacheKey) -> Option<u64> {
        let stamp = self.stamps.remove(key)?;
        let entry = self.by_recency.remove(&stamp)?;
        self.total_bytes -= entry.file_len;
        self.changes += 1;
        Some(entry.file_len)
    }

    /// Drops `key` if its stamp is still `stamp`, and returns whether it did.
    pub fn remove_if_stamp(&mut self, key: &CacheKey, stamp: u64) -> bool {
        if self.stamp(key) != Some(stamp) {
            return false;
        }
        self.remove(key).is_some()
    }

    /// Drops least recently used entries until the total is at most `max_bytes`, and returns
    /// the dropped entries, whose files the caller deletes.
    pub fn evict_to_fit(&mut self, max_bytes: u64) -> Vec<IndexEntry> {
        let mut evicted = Vec::new();
        while self.total_bytes > max_bytes {
            let Some(entry) = self.pop_least_recent() else {
                break;
            };
            evicted.push(entry);
        }
        evicted
    }

    /// Drops least recently used entries whose sizes add up to at least `bytes`, or all of
    /// them when the index is smaller, and returns them.
    pub fn evict_at_least(&mut self, bytes: u64) -> Vec<IndexEntry> {
        let mut evicted = Vec::new();
        let mut freed = 0u64;
        while freed < bytes {
            let Some(entry) = self.pop_least_recent() else {
                break;
            };
            freed += entry.file_len;
            evicted.push(entry);
        }
        evicted
    }

    fn pop_least_recent(&mut self) -> Option<IndexEntry> {
        let (_, entry) = self.by_recency.pop_first()?;
        self.stamps.remove(&entry.key);
        self.total_bytes -= entry.file_len;
        self.changes += 1;
        Some(entry)
    }

    /// Replaces every entry with `entries`, listed least recently used first. Stamps keep
    /// growing, so a stamp taken before the reset never matches an entry after it.
    pub fn reset(&mut self, entries: Vec<IndexEntry>) {
        self.clear();
        for entry in entries {
            self.insert(entry.key, entry.file_len);
        }
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.stamps.clear();
        self.by_recency.clear();
        self.total_bytes = 0;
        self.changes += 1;
    }

    /// Returns the entries from least to most recently used.
    pub fn least_recent_first(&self) -> Vec<IndexEntry> {
        self.by_recency.values().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> CacheKey {
        CacheKey::from_parts(&[&n.to_le_bytes()])
    }

    fn keys(entries: &[IndexEntry]) -> Vec<CacheKey> {
        entries.iter().map(|entry| entry.key).collect()
    }

    #[test]
    fn insert_replaces_size() {
        let mut index = Index::default();
        index.insert(key(1), 100);
        index.insert(key(1), 40);

        assert_eq!(index.len(), 1);
        assert_eq!(index.total_bytes(), 40);
    }

    #[test]
    fn eviction_follows_recency() {
        let mut index = Index::default();
        for n in 1..=4 {
            index.insert(key(n), 10);
        }
        assert!(index.touch(&key(1)));

        let evicted = index.evict_to_fit(25);

        assert_eq!(keys(&evicted), vec![key(2), key(3)]);
        assert_eq!(keys(&index.least_recent_first()), vec![key(4), key(1)]);
        assert_eq!(index.total_bytes(), 20);
    }

    #[test]
    fn evict_at_least_stops_once_enough() {
        let mut index = Index::default();
        for n in 1..=4 {
            index.insert(key(n), 10);
        }

        assert_eq!(keys(&index.evict_at_least(15)), vec![key(1), key(2)]);
        assert_eq!(keys(&index.evict_at_least(100)), vec![key(3), key(4)]);
        assert_eq!(index.total_bytes(), 0);
    }

    #[test]
    fn remove_if_stamp_skips_changed_entry() {
        let mut index = Index::default();
        index.insert(key(1), 10);
        let stamp = index.stamp(&key(1)).unwrap();
        index.insert(key(1), 10);

        assert!(!index.remove_if_stamp(&key(1), stamp));
        assert_eq!(index.len(), 1);

        let stamp = index.stamp(&key(1)).unwrap();
        assert!(index.remove_if_stamp(&key(1), stamp));
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn touch_of_unknown_key_is_false() {
        let mut index = Index::default();

        assert!(!index.touch(&key(9)));
        assert_eq!(index.changes(), 0);
    }

    #[test]
    fn order_survives_rebuild() {
        let mut index = Index::default();
        for n in 1..=3 {
            index.insert(key(n), n.into());
        }
        index.touch(&key(1));

        let rebuilt = Index::from_least_recent(index.least_recent_first());

        assert_eq!(rebuilt.least_recent_first(), index.least_recent_first());
        assert_eq!(rebuilt.total_bytes(), 6);
        assert_eq!(rebuilt.changes(), 0);
    }
}
