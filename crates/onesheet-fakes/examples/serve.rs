//! Runs a fake Jellyfin and a fake Plex on loopback until SIGTERM or Ctrl-C, for load
//! benchmarks that drive the real binary against them.
//!
//! Usage: `serve JELLYFIN_ITEMS PLEX_ITEMS OVERLAP`. The Plex library starts `OVERLAP` items
//! before the end of the Jellyfin one, so that many films are on both servers, as when one
//! household runs two servers over one collection. Prints one JSON line with the base URLs and
//! credentials, then serves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use onesheet_fakes::{FakeJellyfin, FakePlex, JellyfinConfig, Library, LibraryKind, PlexConfig};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("counts must be whole numbers"))
        .collect();
    let [jellyfin_items, plex_items, overlap] = args[..] else {
        eprintln!("usage: serve JELLYFIN_ITEMS PLEX_ITEMS OVERLAP");
        std::process::exit(2);
    };

    // Small originals: the benchmarks measure listings, not image transfers.
    let jellyfin = FakeJellyfin::start(JellyfinConfig {
        libraries: vec![Library::generate(LibraryKind::Movies, jellyfin_items, 1).named("Movies")],
        poster_size: (60, 90),
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    let plex_start = jellyfin_items.saturating_sub(overlap);
    let plex = FakePlex::start(PlexConfig {
        libraries: vec![
            Library::generate_range(LibraryKind::Movies, plex_start..plex_start + plex_items, 2)
                .named("Films"),
        ],
        poster_size: (60, 90),
        ..PlexConfig::default()
    })
    .await
    .unwrap();

    println!(
        "{}",
        serde_json::json!({
            "jellyfin": jellyfin.base_url(),
            "jellyfin_key": JellyfinConfig::default().api_key,
            "plex": plex.base_url(),
            "plex_token": PlexConfig::default().token,
        })
    );

    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
