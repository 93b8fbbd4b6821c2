//! The Plex source against a fake Plex server.

use std::time::Duration;

use onesheet_fakes::{
    FakePlex, FakeServer, Fault, FaultRule, Library, LibraryKind, PlexConfig, StatusCode,
};
use onesheet_sources::plex::PlexSource;
use onesheet_sources::registry::settings::Selection;
use onesheet_sources::{ImageBody, MediaSource};

use super::support::{client_for, source_id};

const TOKEN: &str = "TOKEN_A";

fn config(libraries: Vec<Library>) -> PlexConfig {
    PlexConfig {
        token: TOKEN.to_owned(),
        libraries,
        poster_size: (60, 90),
        art_size: (96, 54),
        logo_size: (80, 31),
        // An unpaged listing would stall the test, which is the point: it must never happen.
        unpaged_delay: Duration::from_secs(15),
        ..PlexConfig::default()
    }
}

fn plex_source(fake: &FakeServer, token: Option<&str>) -> PlexSource {
    PlexSource::new(
        source_id("plex"),
        client_for(fake, "plex", "plex"),
        token.map(str::to_owned),
        Selection::default(),
    )
}

fn displayable(library: &Library) -> usize {
    library
        .items()
        .iter()
        .filter(|item| item.parent.is_none())
        .filter(|item| item.images.primary.is_tagged() || item.images.backdrops > 0)
        .count()
}

#[tokio::test]
async fn plex_sends_token_header_and_exact_accept() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 20, 1)]))
        .await
        .unwrap();
    let items = plex_source(&fake, Some(TOKEN)).fetch_items().await.unwrap();
    assert!(!items.is_empty());
    for request in fake.recorder().requests() {
        assert_eq!(
            request.header("Accept"),
            Some("application/json"),
            "{}",
            request.path
        );
        assert_eq!(request.header("X-Plex-Token"), Some(TOKEN));
        assert_eq!(request.query_param("X-Plex-Token"), None);
    }
}

#[tokio::test]
async fn plex_pages_large_section_and_retries_page_37() {
    let library = Library::generate(LibraryKind::Movies, 25_000, 7);
    let expected = displayable(&library);
    let fake = FakePlex::start(config(vec![library])).await.unwrap();
    let fault = fake.control().add_fault(
        FaultRule::new(
            "/library/sections/*/all",
            Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
        )
        .on_page(37)
        .once(),
    );

    let items = plex_source(&fake, Some(TOKEN)).fetch_items().await.unwrap();

    assert_eq!(fake.control().fault_hits(fault), 1);
    assert_eq!(items.len(), expected);
    let pages = fake.recorder().matching("/library/sections/*/all");
    assert_eq!(pages.len(), 126);
    for page in &pages {
        assert_eq!(page.header("X-Plex-Container-Size"), Some("200"));
        assert!(page.header("X-Plex-Container-Start").is_some());
    }
}

#[tokio::test]
async fn xml_answer_is_parsed_not_empty() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 2, 1)]))
        .await
        .unwrap();
    fake.control().add_fault(FaultRule::new(
        "/library/sections/*/all",
        Fault::XmlInsteadOfJson,
    ));
    let json_count = displayable(&fake.libraries()[0]);
    let items = plex_source(&fake, Some(TOKEN)).fetch_items().await.unwrap();
    assert_eq!(items.len(), json_count);
}

#[tokio::test]
async fn html_page_fails_instead_of_empty_library() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 5, 1)]))
        .await
        .unwrap();
    fake.control()
        .add_fault(FaultRule::new("/library/sections", Fault::HtmlLoginPage));
    let error = plex_source(&fake, Some(TOKEN))
        .fetch_items()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("HTML"), "{error}");
}

#[tokio::test]
async fn token_rejected_and_missing_differ() {
    let fake = FakePlex::start(config(Vec::new())).await.unwrap();
    let info = plex_source(&fake, Some(TOKEN))
        .test_connection()
        .await
        .unwrap();
    assert_eq!(info.name, "Fake Plex");

    let rejected = plex_source(&fake, Some("wrong"))
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(rejected.code(), "source-auth-rejected", "{rejected}");
    let missing = plex_source(&fake, None)
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "source-credential-missing", "{missing}");
}

#[tokio::test]
async fn images_go_through_transcoder_with_fallback() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 10, 3)]))
        .await
        .unwrap();
    let source = plex_source(&fake, Some(TOKEN));
    let items = source.fetch_items().await.unwrap();
    let item = items
        .iter()
        .find(|item| item.images.poster.is_some())
        .unwrap();
    let poster = item.images.poster.clone().unwrap();
    assert!(!poster.key.contains("Token"), "{}", poster.key);

    let ImageBody::Bytes { bytes, .. } = source.open_image(&poster).await.unwrap() else {
        panic!("Plex images must come as bytes");
    };
    assert!(!bytes.is_empty());
    let request = fake.recorder().last().unwrap();
    assert_eq!(request.path, "/photo/:/transcode");
    assert_eq!(request.query_param("url"), Some(poster.key.as_str()));
    assert_eq!(request.header("X-Plex-Token"), Some(TOKEN));

    // The transcoder has nothing for this item: the plain path is tried once.
    let key: u64 = item.upstream_key.parse().unwrap();
    fake.control().set_transcode_missing(vec![key]);
    fake.recorder().clear();
    let fallback = source.open_image(&poster).await;
    assert!(fallback.is_ok(), "{fallback:?}");
    let paths: Vec<String> = fake
        .recorder()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/photo/:/transcode".to_owned(), poster.key.clone()]);
}

#[tokio::test]
async fn empty_image_body_is_not_an_image() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 5, 3)]))
        .await
        .unwrap();
    let source = plex_source(&fake, Some(TOKEN));
    let items = source.fetch_items().await.unwrap();
    let poster = items
        .iter()
        .find_map(|item| item.images.poster.clone())
        .unwrap();
    fake.control()
        .add_fault(FaultRule::new("/photo/:/transcode", Fault::EmptyBody));
    fake.control()
        .add_fault(FaultRule::new("/library/metadata/**", Fault::EmptyBody));
    let error = source.open_image(&poster).await.unwrap_err();
    assert_eq!(error.code(), "image-not-found", "{error}");
}

#[tokio::test]
async fn plex_now_playing_skips_trailers() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 10, 3)]))
        .await
        .unwrap();
    let sessions = plex_source(&fake, Some(TOKEN)).now_playing().await.unwrap();
    assert!(!sessions.is_empty());
    for session in &sessions {
        assert!(
            !session.item.title.to_lowercase().contains("trailer"),
            "{session:?}"
        );
    }
}

#[tokio::test]
async fn collections_and_playlists_are_recorded_on_items() {
    let fake = FakePlex::start(config(vec![Library::generate(LibraryKind::Movies, 60, 5)]))
        .await
        .unwrap();
    let library = &fake.libraries()[0];
    let collection = library
        .collections()
        .first()
        .expect("the generator makes collections");

    let items = plex_source(&fake, Some(TOKEN)).fetch_items().await.unwrap();

    let member_keys: Vec<String> = collection
        .members
        .iter()
        .map(|&position| library.items()[position].key.to_string())
        .collect();
    let in_catalog: Vec<_> = items
        .iter()
        .filter(|item| member_keys.contains(&item.upstream_key))
        .collect();
    assert!(
        !in_catalog.is_empty(),
        "no member of the collection is shown"
    );
    for item in in_catalog {
        assert!(
            item.collections.contains(&collection.title),
            "{:?} lacks {}",
            item.collections,
            collection.title
        );
    }
    assert!(!fake.recorder().matching("/playlists/*/items").is_empty());
}
