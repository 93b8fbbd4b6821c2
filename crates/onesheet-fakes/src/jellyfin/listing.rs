//! `GET /Items`: filtering, sorting and paging, returned as `BaseItemDtoQueryResult`
//! (`{Items, TotalRecordCount, StartIndex}`).
//!
//! Supported parameters: `ParentId`, `Recursive`, `IncludeItemTypes`, `ExcludeItemTypes`,
//! `Ids`, `SearchTerm`, `SortBy` (`SortName`, `Name`, `ProductionYear`, `PremiereDate`,
//! `DateCreated`, `CommunityRating`, `CriticRating`, `Runtime`, `IndexNumber`,
//! `ParentIndexNumber`, `Random`), `SortOrder`, `StartIndex`, `Limit`,
//! `EnableTotalRecordCount`, and the output options of [`DtoOptions`]. Others are ignored, as
//! an older server ignores parameters it does not know.
//!
//! NOTE: without `ParentId` and without `Recursive=true`, the real servers list the user's
//! views (library folders); this fake lists the top-level items of every library instead.

use std::cmp::Ordering;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use serde_json::{Value, json};

use crate::hash::hash;
use crate::library::{Item, Library};

use super::JellyfinState;
use super::dto::{self, DtoOptions};
use super::ids::{ItemRef, Resolved};
use super::query::Params;

/// Sorted listings kept per fake before the cache starts over.
const MAX_CACHED_LISTINGS: usize = 128;

/// Changes the order of every `SortBy=Random` request.
static RANDOM_NONCE: AtomicU64 = AtomicU64::new(0);

/// The part of an `/Items` query that decides which items are listed and in which order.
#[derive(Debug)]
struct Selection {
    parent: Option<String>,
    recursive: bool,
    include_types: Vec<String>,
    exclude_types: Vec<String>,
    ids: Vec<String>,
    search: Option<String>,
    sort_by: Vec<String>,
    descending: bool,
}

impl Selection {
    fn from_params(params: &Params) -> Selection {
        let lower = |values: Vec<String>| -> Vec<String> {
            values
                .into_iter()
                .map(|value| value.to_ascii_lowercase())
                .collect()
        };
        Selection {
            parent: params.get("ParentId").map(str::to_owned),
            recursive: params.flag("Recursive").unwrap_or(false),
            include_types: lower(params.list("IncludeItemTypes")),
            exclude_types: lower(params.list("ExcludeItemTypes")),
            ids: params.list("Ids"),
            search: params.get("SearchTerm").map(str::to_lowercase),
            sort_by: lower(params.list("SortBy")),
            descending: params
                .list("SortOrder")
                .first()
                .is_some_and(|order| order.eq_ignore_ascii_case("Descending")),
        }
    }

    fn is_random(&self) -> bool {
        self.sort_by.iter().any(|key| key == "random")
    }

    fn cache_key(&self) -> String {
        format!("{self:?}")
    }
}

/// Builds the response to an `/Items` query. `user_context` is true on `/Users/{userId}/Items` or with a
/// `UserId` parameter, where the servers add `UserData`.
pub(super) fn query_result(state: &JellyfinState, params: &Params, user_context: bool) -> Value {
    let selection = Selection::from_params(params);
    let listing = listing(state, &selection);

    let total = listing.len();
    // The response echoes the requested start, as Jellyfin does, even past the end.
    let requested_start = params.number("StartIndex").unwrap_or(0);
    let start = usize::try_from(requested_start)
        .unwrap_or(usize::MAX)
        .min(total);
    let end = match params.number("Limit") {
        Some(limit) => start
            .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
            .min(total),
        None => total,
    };

    let options = DtoOptions::from_params(params, user_context);
    let items: Vec<Value> = listing[start..end]
        .iter()
        .map(|item_ref| dto::item(state, *item_ref, &options))
        .collect();
    let reported_total = if params.flag("EnableTotalRecordCount").unwrap_or(true) {
        total
    } else {
        0
    };
    json!({
        "Items": items,
        "TotalRecordCount": reported_total,
        "StartIndex": requested_start,
    })
}

/// Returns the matching items in order, from the cache when the same selection was listed
/// before.
fn listing(state: &JellyfinState, selection: &Selection) -> Arc<Vec<ItemRef>> {
    if selection.is_random() {
        return Arc::new(select(state, selection));
    }
    let key = selection.cache_key();
    if let Some(cached) = lock_listings(state).get(&key) {
        return cached.clone();
    }

    let computed = Arc::new(select(state, selection));
    let mut listings = lock_listings(state);
    if listings.len() >= MAX_CACHED_LISTINGS {
        listings.clear();
    }
    listings.insert(key, computed.clone());
    computed
}

fn lock_listings(
    state: &JellyfinState,
) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<Vec<ItemRef>>>> {
    // Entries are inserted whole, so a poisoned lock still holds valid listings.
    state
        .listings
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn select(state: &JellyfinState, selection: &Selection) -> Vec<ItemRef> {
    let mut refs = candidates(state, selection);
    refs.retain(|item_ref| accepts(selection, item_of(state, *item_ref)));
    sort(state, selection, &mut refs);
    refs
}

fn item_of(state: &JellyfinState, item_ref: ItemRef) -> &Item {
    &state.libraries[item_ref.library].items()[item_ref.position]
}

/// Items in scope before type and search filters: the `Ids`, or the parent's children or
/// descendants, or every library's.
fn candidates(state: &JellyfinState, selection: &Selection) -> Vec<ItemRef> {
    if !selection.ids.is_empty() {
        return selection
            .ids
            .iter()
            .filter_map(|id| match state.ids.resolve(id) {
                Some(Resolved::Item(item_ref)) => Some(item_ref),
                _ => None,
            })
            .collect();
    }

    let libraries = state.libraries.iter().enumerate();
    match selection.parent.as_deref().map(|id| state.ids.resolve(id)) {
        // An unknown parent lists nothing.
        Some(None) => Vec::new(),
        None => libraries
            .flat_map(|(index, library)| library_scope(index, library, selection.recursive))
            .collect(),
        Some(Some(Resolved::Library(index))) => {
            library_scope(index, &state.libraries[index], selection.recursive)
        }
        Some(Some(Resolved::Item(parent))) => {
            let library = &state.libraries[parent.library];
            let mut found = Vec::new();
            collect_children(library, parent.position, selection.recursive, &mut found);
            found
                .into_iter()
                .map(|position| ItemRef {
                    library: parent.library,
                    position,
                })
                .collect()
        }
    }
}

fn library_scope(index: usize, library: &Library, recursive: bool) -> Vec<ItemRef> {
    library
        .items()
        .iter()
        .enumerate()
        .filter(|(_, item)| recursive || item.parent.is_none())
        .map(|(position, _)| ItemRef {
            library: index,
            position,
        })
        .collect()
}

fn collect_children(library: &Library, position: usize, recursive: bool, out: &mut Vec<usize>) {
    for child in library.children_of(position) {
        out.push(*child);
        if recursive {
            collect_children(library, *child, true, out);
        }
    }
}

fn accepts(selection: &Selection, item: &Item) -> bool {
    let kind = item.kind.jellyfin_type().to_ascii_lowercase();
    if !selection.include_types.is_empty() && !selection.include_types.contains(&kind) {
        return false;
    }
    if selection.exclude_types.contains(&kind) {
        return false;
    }
    selection
        .search
        .as_deref()
        .is_none_or(|search| item.title.to_lowercase().contains(search))
}

fn sort(state: &JellyfinState, selection: &Selection, refs: &mut Vec<ItemRef>) {
    let mut keys: Vec<&str> = selection.sort_by.iter().map(String::as_str).collect();
    if keys.is_empty() {
        keys.push("sortname");
    }
    let nonce = RANDOM_NONCE.fetch_add(1, AtomicOrdering::Relaxed);
    // Lower-cased once here rather than in every comparison, which matters at 25,000 items.
    let names: Vec<String> = refs
        .iter()
        .map(|item_ref| item_of(state, *item_ref).sort_title.to_lowercase())
        .collect();

    let mut order: Vec<usize> = (0..refs.len()).collect();
    order.sort_by(|&left, &right| {
        let (left_item, right_item) = (item_of(state, refs[left]), item_of(state, refs[right]));
        let mut ordering = Ordering::Equal;
        for key in &keys {
            ordering = ordering.then_with(|| match *key {
                "sortname" | "name" | "seriessortname" => names[left].cmp(&names[right]),
                _ => compare(key, left_item, right_item, nonce),
            });
        }
        if selection.descending {
            ordering = ordering.reverse();
        }
        ordering.then(left.cmp(&right))
    });
    *refs = order.into_iter().map(|index| refs[index]).collect();
}

fn compare(key: &str, left: &Item, right: &Item, nonce: u64) -> Ordering {
    // Items without a value sort first, as Jellyfin sorts nulls.
    let float = |value: Option<f64>| value.unwrap_or(f64::NEG_INFINITY);
    match key {
        "productionyear" => left.year.cmp(&right.year),
        "premieredate" => left.premiere_date.cmp(&right.premiere_date),
        "datecreated" | "datelastcontentadded" => left.added_at.cmp(&right.added_at),
        "communityrating" => float(left.community_rating).total_cmp(&float(right.community_rating)),
        "criticrating" => float(left.critic_rating).total_cmp(&float(right.critic_rating)),
        "runtime" => left.runtime_minutes.cmp(&right.runtime_minutes),
        "indexnumber" => left.index_number.cmp(&right.index_number),
        "parentindexnumber" => left.parent.cmp(&right.parent),
        "random" => hash(left.key, nonce).cmp(&hash(right.key, nonce)),
        _ => Ordering::Equal,
    }
}
