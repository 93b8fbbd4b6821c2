//! Choosing an item's artwork from Jellyfin's and Emby's image tags.
//!
//! An [`ImageRef`] from these servers has the key `{ItemId}/{ImageType}` or
//! `{ItemId}/Backdrop/{index}`, which the source turns into the request path
//! `/Items/{ItemId}/Images/{ImageType}[/{index}]`. Its version is the image's tag, which the
//! server changes whenever the image changes.
//!
//! Fallback order per slot, first available wins:
//!
//! - poster: the item's `Primary` when it is portrait or square; for episodes and seasons the
//!   series' primary (`SeriesPrimaryImageTag`), then the parent's (`ParentPrimaryImageTag`);
//!   for music tracks the album's;
//! - background: the item's first backdrop, then the parent's first backdrop
//!   (`ParentBackdropImageTags`), then a landscape `Primary`;
//! - logo: the item's `Logo`, then the parent's;
//! - thumbnail: the item's `Thumb`, then a landscape `Primary`, then the parent's `Thumb`.
//!
//! A `Primary` wider than [`LANDSCAPE_RATIO`] (an episode still, a home video frame) never
//! fills the portrait poster slot.
//!
//! # Untagged primary images
//!
//! Some servers return an item with `ImageTags: {}` although `/Items/{id}/Images/Primary`
//! serves an image. When an item has no `Primary` tag and nothing else to show, but the server
//! reports a `PrimaryImageAspectRatio` or the item is a video or audio file, the item gets a
//! primary image whose version is [`UNTAGGED_VERSION`] (or `untagged-{Etag}`). The source must
//! check such an image with one request, keep the item when the request returns an image, and
//! drop it otherwise. [`is_untagged`] identifies these references.

use onesheet_domain::{ImageRef, ItemImages};

use super::model::BaseItemDto;

/// Width over height above which a primary image counts as landscape.
pub const LANDSCAPE_RATIO: f64 = 1.2;

/// Version of a primary image the server listed without a tag. It is not a real tag: the
/// image may not exist, so the source verifies it before showing the item.
pub const UNTAGGED_VERSION: &str = "untagged";

/// True for an image reference made without a tag, which the source must verify once.
pub fn is_untagged(image: &ImageRef) -> bool {
    image
        .version
        .strip_prefix(UNTAGGED_VERSION)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// Builds the artwork of an item with the given id and server type.
pub(super) fn item_images(item: &BaseItemDto, id: &str, kind: &str) -> ItemImages {
    let landscape = item
        .primary_image_aspect_ratio
        .is_some_and(|ratio| ratio > LANDSCAPE_RATIO);
    let own_tag = |image_type: &str| item.image_tags.get(image_type).cloned().flatten();
    let own = |image_type: &str| image(Some(id), image_type, own_tag(image_type).as_deref());
    let primary = own("Primary");

    let parent_poster = match kind {
        "Episode" | "Season" => image(
            item.series_id.as_deref(),
            "Primary",
            item.series_primary_image_tag.as_deref(),
        )
        .or_else(|| {
            image(
                item.parent_primary_image_item_id.as_deref(),
                "Primary",
                item.parent_primary_image_tag.as_deref(),
            )
        }),
        "Audio" => image(
            item.album_id.as_deref(),
            "Primary",
            item.album_primary_image_tag.as_deref(),
        ),
        _ => None,
    };
    let own_backdrop = backdrop(Some(id), item.backdrop_image_tags.first());
    let parent_backdrop = backdrop(
        item.parent_backdrop_item_id.as_deref(),
        item.parent_backdrop_image_tags.first(),
    );
    let landscape_primary = primary.clone().filter(|_| landscape);

    let mut images = ItemImages {
        poster: primary.clone().filter(|_| !landscape).or(parent_poster),
        background: own_backdrop
            .or(parent_backdrop)
            .or_else(|| landscape_primary.clone()),
        logo: own("Logo").or_else(|| {
            image(
                item.parent_logo_item_id.as_deref(),
                "Logo",
                item.parent_logo_image_tag.as_deref(),
            )
        }),
        thumbnail: own("Thumb").or(landscape_primary).or_else(|| {
            image(
                item.parent_thumb_item_id.as_deref(),
                "Thumb",
                item.parent_thumb_image_tag.as_deref(),
            )
        }),
    };

    if primary.is_none() && !images.is_displayable() && primary_likely_exists(item) {
        let untagged = untagged_primary(id, item.etag.as_deref());
        if landscape {
            images.thumbnail.get_or_insert_with(|| untagged.clone());
            images.background = Some(untagged);
        } else {
            images.poster = Some(untagged);
        }
    }
    images
}

/// True when the server has seen a primary image of the item, or when it is a media file,
/// for which servers usually extract one.
fn primary_likely_exists(item: &BaseItemDto) -> bool {
    let measured = item
        .primary_image_aspect_ratio
        .is_some_and(|ratio| ratio.is_finite() && ratio > 0.0);
    let media_file = matches!(item.media_type.as_deref(), Some("Video" | "Audio"));
    measured || media_file
}

fn untagged_primary(id: &str, etag: Option<&str>) -> ImageRef {
    let version = match etag.filter(|etag| valid_token(etag)) {
        Some(etag) => format!("{UNTAGGED_VERSION}-{etag}"),
        None => UNTAGGED_VERSION.to_owned(),
    };
    ImageRef::new(format!("{id}/Primary"), version)
}

/// Builds a reference to an image of the item `id` when both the id and the tag are usable.
fn image(id: Option<&str>, image_type: &str, tag: Option<&str>) -> Option<ImageRef> {
    let id = id.filter(|id| valid_id(id))?;
    let tag = tag.filter(|tag| valid_token(tag))?;
    Some(ImageRef::new(format!("{id}/{image_type}"), tag))
}

fn backdrop(id: Option<&str>, tag: Option<&String>) -> Option<ImageRef> {
    let id = id.filter(|id| valid_id(id))?;
    let tag = tag.filter(|tag| valid_token(tag))?;
    Some(ImageRef::new(format!("{id}/Backdrop/0"), tag.as_str()))
}

/// True for an item id that is safe to put into a URL path: Jellyfin's 32 hex digits (with or
/// without dashes) or Emby's decimal numbers. Anything else, such as `../System`, could point
/// the image client at another endpoint of the server.
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// True for an image tag or ETag that can serve as a version: it becomes part of an HTTP ETag
/// and a URL, so quotes, spaces and slashes are rejected.
fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
