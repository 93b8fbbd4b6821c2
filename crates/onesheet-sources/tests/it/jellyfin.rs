//! The Jellyfin and Emby source against fake servers.

use onesheet_fakes::{
    FakeEmby, FakeJellyfin, Fault, FaultRule, JellyfinConfig, Library, LibraryKind, StatusCode,
};
use onesheet_sources::jellyfin::{Flavour, JellyfinSource};
use onesheet_sources::registry::settings::Selection;
use onesheet_sources::{ImageBody, MediaSource};

use super::support::{client_for, source_id};

const KEY: &str = "KEY_A";

fn config(libraries: Vec<Library>) -> JellyfinConfig {
    JellyfinConfig {
        api_key: KEY.to_owned(),
        libraries,
        poster_size: (60, 90),
        backdrop_size: (96, 54),
        logo_size: (80, 31),
        ..JellyfinConfig::default()
    }
}

fn jellyfin_source(fake: &onesheet_fakes::FakeServer, key: Option<&str>) -> JellyfinSource {
    JellyfinSource::new(
        source_id("jellyfin"),
        Flavour::Jellyfin,
        client_for(fake, "jellyfin", "jellyfin"),
        key.map(str::to_owned),
        Selection::default(),
    )
}

/// Items a listing can show: those with a poster or a backdrop the server really has.
fn displayable(library: &Library) -> usize {
    library
        .items()
        .iter()
        .filter(|item| item.parent.is_none())
        .filter(|item| item.images.primary.exists() || item.images.backdrops > 0)
        .count()
}

#[tokio::test]
async fn jellyfin_sends_only_mediabrowser_token() {
    let fake = FakeJellyfin::start(config(vec![Library::generate(LibraryKind::Movies, 30, 1)]))
        .await
        .unwrap();
    let source = jellyfin_source(&fake, Some(KEY));

    let items = source.fetch_items().await.unwrap();
    assert!(!items.is_empty());

    let requests = fake.recorder().requests();
    assert!(requests.iter().any(|r| r.path.ends_with("/Items")));
    for request in &requests {
        assert_eq!(
            request.header("Authorization"),
            Some("MediaBrowser Token=\"KEY_A\""),
            "{}",
            request.path
        );
        assert_eq!(request.header("X-Emby-Token"), None);
        assert_eq!(request.query_param_ignore_case("api_key"), None);
    }
}

#[tokio::test]
async fn jellyfin_pages_large_library_and_survives_503() {
    let library = Library::generate(LibraryKind::Movies, 25_000, 3);
    let expected = displayable(&library);
    let fake = FakeJellyfin::start(config(vec![library])).await.unwrap();
    let fault = fake.control().add_fault(
        FaultRule::new("/Items", Fault::Status(StatusCode::SERVICE_UNAVAILABLE))
            .on_page(37)
            .once(),
    );
    let source = jellyfin_source(&fake, Some(KEY));

    let items = source.fetch_items().await.unwrap();

    assert_eq!(fake.control().fault_hits(fault), 1);
    assert_eq!(items.len(), expected);
    let pages = fake.recorder().matching("/Items");
    for page in &pages {
        assert_eq!(page.query_param("Limit"), Some("200"));
        assert_eq!(page.query_param("Recursive"), Some("true"));
        assert!(page.query_param("ParentId").is_some());
        let start: u64 = page.query_param("StartIndex").unwrap().parse().unwrap();
        assert_eq!(start % 200, 0);
    }
    // 125 pages plus the one retried.
    assert_eq!(pages.len(), 126);
    assert!(!source.progress().unwrap().is_running());
}

#[tokio::test]
async fn unicode_titles_survive() {
    let library = Library::generate(LibraryKind::Movies, 200, 5);
    let titles: Vec<String> = library
        .items()
        .iter()
        .filter(|item| item.images.primary.is_tagged())
        .map(|item| item.title.clone())
        .collect();
    let fake = FakeJellyfin::start(config(vec![library])).await.unwrap();
    let items = jellyfin_source(&fake, Some(KEY))
        .fetch_items()
        .await
        .unwrap();
    let non_ascii: Vec<&String> = titles.iter().filter(|t| !t.is_ascii()).collect();
    assert!(
        !non_ascii.is_empty(),
        "the generator makes non-ASCII titles"
    );
    for title in non_ascii {
        assert!(
            items.iter().any(|item| &item.title == title),
            "{title} missing"
        );
    }
}

#[tokio::test]
async fn base_path_prefix_is_kept() {
    let fake = FakeJellyfin::start(JellyfinConfig {
        base_path: Some("/jellyfin".to_owned()),
        ..config(vec![Library::generate(LibraryKind::Movies, 5, 1)])
    })
    .await
    .unwrap();
    assert!(fake.base_url().ends_with("/jellyfin"));
    let info = jellyfin_source(&fake, Some(KEY))
        .test_connection()
        .await
        .unwrap();
    assert_eq!(info.product, "Jellyfin Server");
    for request in fake.recorder().requests() {
        assert!(request.path.starts_with("/jellyfin/"), "{}", request.path);
        assert!(!request.path.contains("//"), "{}", request.path);
    }
}

#[tokio::test]
async fn wrong_and_missing_key_are_told_apart() {
    let fake = FakeJellyfin::start(config(Vec::new())).await.unwrap();

    let wrong = jellyfin_source(&fake, Some("nope"))
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "source-auth-rejected", "{wrong}");

    let missing = jellyfin_source(&fake, None)
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "source-credential-missing", "{missing}");
}

#[tokio::test]
async fn html_login_page_is_reported_with_url() {
    let fake = FakeJellyfin::start(config(vec![Library::generate(LibraryKind::Movies, 5, 1)]))
        .await
        .unwrap();
    fake.control().add_fault(FaultRule::new(
        "/Library/VirtualFolders",
        Fault::HtmlLoginPage,
    ));
    let error = jellyfin_source(&fake, Some(KEY))
        .fetch_items()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert_eq!(error.code(), "source-not-json", "{message}");
    assert!(message.contains("text/html"), "{message}");
    assert!(message.contains("/Library/VirtualFolders"), "{message}");
    assert!(!message.contains(KEY), "{message}");
}

#[tokio::test]
async fn emby_uses_its_own_header() {
    let fake = FakeEmby::start(config(vec![Library::generate(LibraryKind::Movies, 10, 2)]))
        .await
        .unwrap();
    let source = JellyfinSource::new(
        source_id("emby"),
        Flavour::Emby,
        client_for(&fake, "emby", "emby"),
        Some(KEY.to_owned()),
        Selection::default(),
    );
    let info = source.test_connection().await.unwrap();
    assert_eq!(info.product, "Emby Server");
    let items = source.fetch_items().await.unwrap();
    assert!(!items.is_empty());
    for request in fake.recorder().matching("/Items") {
        assert_eq!(request.header("X-Emby-Token"), Some(KEY));
        assert_eq!(request.header("Authorization"), None);
    }
}

#[tokio::test]
async fn jellyfin_kind_rejects_emby_server() {
    let fake = FakeEmby::start(config(Vec::new())).await.unwrap();
    let error = jellyfin_source(&fake, Some(KEY))
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "source-invalid-response", "{error}");
    assert!(error.to_string().contains("Emby"), "{error}");
}

#[tokio::test]
async fn images_come_as_bytes_with_tag() {
    let fake = FakeJellyfin::start(config(vec![Library::generate(LibraryKind::Movies, 10, 4)]))
        .await
        .unwrap();
    let source = jellyfin_source(&fake, Some(KEY));
    let items = source.fetch_items().await.unwrap();
    let poster = items
        .iter()
        .find_map(|item| item.images.poster.clone())
        .unwrap();

    let ImageBody::Bytes { bytes, .. } = source.open_image(&poster).await.unwrap() else {
        panic!("a media server's image must come as bytes");
    };
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let request = fake.recorder().last().unwrap();
    assert!(request.path.contains("/Images/Primary"), "{}", request.path);
    assert_eq!(request.query_param("tag"), Some(poster.version.as_str()));
    assert_eq!(
        request.header("Authorization"),
        Some("MediaBrowser Token=\"KEY_A\"")
    );

    // A key this source never made is refused without a request.
    let before = fake.recorder().len();
    let mut forged = poster.clone();
    forged.key = "../../System/Info".to_owned();
    assert!(source.open_image(&forged).await.is_err());
    assert_eq!(fake.recorder().len(), before);
}

#[tokio::test]
async fn now_playing_skips_trailers() {
    let fake = FakeJellyfin::start(config(vec![Library::generate(LibraryKind::Movies, 10, 4)]))
        .await
        .unwrap();
    let sessions = jellyfin_source(&fake, Some(KEY))
        .now_playing()
        .await
        .unwrap();
    assert!(!sessions.is_empty());
    for session in &sessions {
        assert!(
            !session.item.title.to_lowercase().contains("trailer"),
            "{session:?}"
        );
    }
}
