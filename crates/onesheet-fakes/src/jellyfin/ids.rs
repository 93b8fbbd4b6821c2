//! Ids as each flavour writes them, and the index that resolves them back to items.
//!
//! Jellyfin ids are GUIDs written as 32 hex digits (it also accepts the dashed form); Emby ids
//! are decimal numbers. Both derive from the item keys, so they are stable for one
//! configuration.

use std::collections::HashMap;

use crate::hash::{hash, hash_str};
use crate::library::Library;

use super::Flavour;

/// Keys of library folders start here, above any item key.
const LIBRARY_KEY_BASE: u64 = 1_000_000_000;

/// An item by library index and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct ItemRef {
    pub(super) library: usize,
    pub(super) position: usize,
}

/// Target of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolved {
    /// A library folder (`VirtualFolderInfo.ItemId`), by index.
    Library(usize),
    Item(ItemRef),
}

#[derive(Debug)]
pub(super) struct IdIndex {
    flavour: Flavour,
    server_hash: u64,
    lookup: HashMap<String, Resolved>,
}

impl IdIndex {
    pub(super) fn new(flavour: Flavour, server_id: &str, libraries: &[Library]) -> IdIndex {
        let mut index = IdIndex {
            flavour,
            server_hash: hash_str(server_id),
            lookup: HashMap::new(),
        };
        for (library_index, library) in libraries.iter().enumerate() {
            let id = index.library_id(library_index);
            index.lookup.insert(id, Resolved::Library(library_index));
            for (position, item) in library.items().iter().enumerate() {
                let id = index.key_id(item.key);
                index.lookup.insert(
                    id,
                    Resolved::Item(ItemRef {
                        library: library_index,
                        position,
                    }),
                );
            }
        }
        index
    }

    /// Id of the item with `key`.
    pub(super) fn key_id(&self, key: u64) -> String {
        match self.flavour {
            // The low half is the key itself, so ids never collide.
            Flavour::Jellyfin => format!("{:016x}{key:016x}", hash(key, self.server_hash)),
            Flavour::Emby => key.to_string(),
        }
    }

    /// Id of the library folder with index `library_index`.
    pub(super) fn library_id(&self, library_index: usize) -> String {
        self.key_id(LIBRARY_KEY_BASE + library_index as u64)
    }

    /// Id of a person, genre or studio, from its kind and name.
    pub(super) fn name_id(&self, kind: &str, name: &str) -> String {
        let value = hash(hash_str(name), hash_str(kind));
        match self.flavour {
            Flavour::Jellyfin => format!("{:016x}{:016x}", value, hash(value, self.server_hash)),
            // Emby numbers these like items; keep them clear of item keys.
            Flavour::Emby => (2 * LIBRARY_KEY_BASE + value % LIBRARY_KEY_BASE).to_string(),
        }
    }

    /// Image tag: 32 hex digits, as Jellyfin's MD5-based tags look, changing with the image's
    /// `version` (the item's update time).
    pub(super) fn image_tag(&self, key: u64, image: &str, version: i64) -> String {
        let value = hash(key, hash_str(image) ^ version as u64);
        format!("{:016x}{:016x}", value, hash(value, self.server_hash))
    }

    /// Resolves an id from a path or query. Jellyfin ids match ignoring case and dashes.
    pub(super) fn resolve(&self, id: &str) -> Option<Resolved> {
        match self.flavour {
            Flavour::Jellyfin => {
                let normalised: String = id
                    .chars()
                    .filter(|character| *character != '-')
                    .map(|character| character.to_ascii_lowercase())
                    .collect();
                self.lookup.get(&normalised).copied()
            }
            Flavour::Emby => self.lookup.get(id).copied(),
        }
    }
}
