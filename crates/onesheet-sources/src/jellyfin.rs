//! Jellyfin and Emby: response models and their mapping to catalog items.
//!
//! Emby and its fork Jellyfin still share most of their API: the same `/Items` pages,
//! `BaseItemDto` fields and image paths. A [`Flavour`] names the server where they differ. In
//! this module that is the vocabulary for HDR and Dolby Vision streams, and the HTTP client
//! also uses it to pick the authentication scheme.
//!
//! The serde types in [`model`] and the functions in [`map`] that turn them into
//! [`MediaItem`]s, selectable collections and now-playing sessions are pure.
//! [`JellyfinSource`] makes the HTTP calls that fetch the responses.
//!
//! [`MediaItem`]: onesheet_domain::MediaItem

mod art;
mod badges;
pub mod map;
pub mod model;
mod sessions;
mod source;

pub use art::{UNTAGGED_VERSION, is_untagged};
pub use map::{MapContext, MediaSet, SetKind, map_collection, map_item, map_items};
pub use model::{
    BaseItemDto, BaseItemPerson, ItemsPage, MediaSourceInfo, MediaStream, NameIdPair,
    PlayerStateInfo, PublicSystemInfo, SessionInfo, VirtualFolder,
};
pub use sessions::{map_session, map_sessions};
pub use source::{JellyfinSource, PAGE_SIZE};

/// The server product behind the API: Jellyfin or Emby.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    Jellyfin,
    Emby,
}

impl Flavour {
    /// Recognises the server from `ProductName` in its public system info (`Jellyfin Server`,
    /// `Emby Server`). Returns `None` for other products.
    pub fn from_product_name(product_name: &str) -> Option<Self> {
        let product_name = product_name.to_ascii_lowercase();
        if product_name.contains("jellyfin") {
            Some(Self::Jellyfin)
        } else if product_name.contains("emby") {
            Some(Self::Emby)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jellyfin => "jellyfin",
            Self::Emby => "emby",
        }
    }
}

#[cfg(test)]
mod tests;
