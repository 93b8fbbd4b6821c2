//! The admin sources API: the bootstrap token, validation errors, secrets never echoed, and a
//! fake Jellyfin whose items reach the playlist and whose images reach the image pipeline.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use onesheet_domain::DisplaySettings;
use onesheet_fakes::{FakeJellyfin, FakeServer, JellyfinConfig, Library, LibraryKind};
use onesheet_server::accounts::{Accounts, SessionPolicy};
use onesheet_server::auth::AdminToken;
use onesheet_server::{AppState, BasePath};
use onesheet_sources::Catalog;
use onesheet_sources::now_playing::NowPlayingHub;
use onesheet_sources::registry::SourceRegistry;
use onesheet_store::{SecretKey, SqliteStore};
use onesheet_upstream::{ClientDefaults, UpstreamClient};

use crate::support::{TestApp, TestResponse};

const TOKEN: &str = "admin-token-for-tests-0123456789";
const API_KEY: &str = "JELLYFIN_KEY_A";

struct AdminApp {
    app: TestApp,
    fake: FakeServer,
}

async fn admin_app(with_token: bool) -> AdminApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("onesheet.db"))
            .await
            .unwrap(),
    );
    let catalog = Arc::new(Catalog::new(Vec::new(), dir.path().join("catalog.json")));
    let registry = SourceRegistry::new(
        store.clone(),
        SecretKey::from_bytes(&[3; 32]),
        UpstreamClient::new(ClientDefaults::default()).unwrap(),
        catalog.clone(),
        Arc::new(NowPlayingHub::new()),
    );
    let state = AppState::new(
        catalog.clone(),
        store.clone(),
        DisplaySettings::default(),
        BasePath::new("").unwrap(),
    )
    .with_sources(registry);
    let state = if with_token {
        let accounts = Accounts::new(
            store.clone(),
            SecretKey::from_bytes(&[4; 32]),
            dir.path(),
            SessionPolicy::default(),
        );
        state
            .with_admin_token(AdminToken::new(TOKEN))
            .with_accounts(Arc::new(accounts))
    } else {
        state
    };
    let fake = FakeJellyfin::start(JellyfinConfig {
        api_key: API_KEY.to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 30, 11)],
        poster_size: (120, 180),
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    AdminApp {
        app: TestApp {
            images: state.images.clone(),
            router: onesheet_server::router(state.clone()),
            state,
            catalog,
            media: dir.path().to_path_buf(),
            _dir: dir,
        },
        fake,
    }
}

async fn send(
    app: &TestApp,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    app.send(request.body(body).unwrap()).await
}

fn source_body(fake: &FakeServer, credential: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "jellyfin",
        "name": "Living Room",
        "credential": credential,
        "settings": { "host": fake.base_url() },
    })
}

#[tokio::test]
async fn admin_routes_need_the_token() {
    let admin = admin_app(true).await;
    let app = &admin.app;

    let missing = send(app, "GET", "/api/v1/admin/sources", None, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"]["code"], "unauthorized");
    assert!(missing.header("www-authenticate").starts_with("Bearer"));

    let wrong = send(app, "GET", "/api/v1/admin/sources", Some("nope"), None).await;
    assert_eq!(wrong.status, 401);

    // A token in the query string is never accepted.
    let query = send(
        app,
        "GET",
        &format!("/api/v1/admin/sources?token={TOKEN}"),
        None,
        None,
    )
    .await;
    assert_eq!(query.status, 401);

    let ok = send(app, "GET", "/api/v1/admin/sources", Some(TOKEN), None).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["sources"], serde_json::json!([]));
}

#[tokio::test]
async fn admin_api_is_off_without_a_token() {
    let admin = admin_app(false).await;
    let response = send(
        &admin.app,
        "GET",
        "/api/v1/admin/sources",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(response.status, 403);
    assert_eq!(response.json()["error"]["code"], "disabled");
    let message = response.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("admin_token"), "{message}");
}

#[tokio::test]
async fn bad_bodies_name_the_fields() {
    let admin = admin_app(true).await;
    let app = &admin.app;

    let not_json = send(app, "POST", "/api/v1/admin/sources", Some(TOKEN), None).await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.json()["error"]["code"], "invalid-body");

    let unknown = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(serde_json::json!({
            "kind": "jellyfin", "name": "x", "settings": { "host": "a", "hots": "b" }
        })),
    )
    .await;
    assert_eq!(unknown.status, 400);
    let message = unknown.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("hots"), "{message}");

    let invalid = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(serde_json::json!({
            "kind": "plex", "name": "",
            "settings": { "host": "https://plex.example.org", "https": false }
        })),
    )
    .await;
    assert_eq!(invalid.status, 400);
    let fields: Vec<String> = invalid.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(fields.contains(&"name".to_owned()), "{fields:?}");
    assert!(fields.contains(&"settings.https".to_owned()), "{fields:?}");
}

#[tokio::test]
async fn jellyfin_source_feeds_playlist_and_images() {
    let admin = admin_app(true).await;
    let app = &admin.app;

    let created = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let text = String::from_utf8_lossy(&created.body).into_owned();
    assert!(!text.contains(API_KEY), "{text}");
    assert_eq!(created.json()["credential_set"], true);

    let duplicate = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    assert_eq!(duplicate.status, 409);

    let tested = send(
        app,
        "POST",
        "/api/v1/admin/sources/living-room/test",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(tested.status, 200);
    assert_eq!(tested.json()["ok"], true);
    assert_eq!(tested.json()["server"]["product"], "Jellyfin Server");

    // The first refresh runs in the background.
    let mut playlist = serde_json::Value::Null;
    for _ in 0..200 {
        playlist = app.get("/api/v1/playlist?limit=500").await.json();
        if playlist["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let items = playlist["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let body = playlist.to_string();
    assert!(!body.contains(API_KEY));
    assert!(
        !body.contains(admin.fake.base_url()),
        "no upstream URL reaches a screen"
    );

    let poster = items
        .iter()
        .find_map(|item| item["images"]["poster"].as_str())
        .unwrap();
    let image = app.get(&format!("{poster}&w=240")).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), "image/jpeg");

    let deleted = send(
        app,
        "DELETE",
        "/api/v1/admin/sources/living-room",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let gone = send(
        app,
        "GET",
        "/api/v1/admin/sources/living-room",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn update_with_masked_credential_keeps_it() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;

    let mut body = source_body(&admin.fake, "********");
    body["name"] = "Renamed".into();
    let updated = send(
        app,
        "PUT",
        "/api/v1/admin/sources/living-room",
        Some(TOKEN),
        Some(body),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["name"], "Renamed");
    assert_eq!(updated.json()["credential_set"], true);

    let tested = send(
        app,
        "POST",
        "/api/v1/admin/sources/living-room/test",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(tested.json()["ok"], true, "the stored key was kept");
}

#[tokio::test]
async fn now_playing_hides_user_names() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;

    let mut sessions = serde_json::Value::Null;
    for _ in 0..200 {
        sessions = app.get("/api/v1/now-playing").await.json();
        if sessions["sessions"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let list = sessions["sessions"].as_array().unwrap();
    assert!(!list.is_empty());
    for session in list {
        assert!(session.get("user").is_none(), "{session}");
        assert!(session["title"].is_string());
    }
}

/// A media server whose every image is a JPEG header followed by noise, as a broken transcoder
/// or a truncated cache on the server sends.
struct BrokenImageSource {
    id: onesheet_domain::SourceId,
    fault: ImageFault,
}

/// How the source's image fetch fails.
#[derive(Clone, Copy, PartialEq)]
enum ImageFault {
    /// Returns bytes that are not an image.
    Garbage,
    /// Never answers.
    Stall,
    /// Panics.
    Panic,
}

#[async_trait::async_trait]
impl onesheet_sources::MediaSource for BrokenImageSource {
    fn id(&self) -> &onesheet_domain::SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "jellyfin"
    }

    async fn fetch_items(
        &self,
    ) -> Result<Vec<Arc<onesheet_domain::MediaItem>>, onesheet_sources::SourceError> {
        let mut item = onesheet_domain::MediaItem {
            upstream_key: "1".to_owned(),
            title: "Broken".to_owned(),
            images: onesheet_domain::ItemImages {
                poster: Some(onesheet_domain::ImageRef::new("1/Primary", "tag")),
                ..onesheet_domain::ItemImages::default()
            },
            ..onesheet_domain::MediaItem::default()
        };
        item.assign_identity(&self.id);
        Ok(vec![Arc::new(item)])
    }

    async fn open_image(
        &self,
        _image: &onesheet_domain::ImageRef,
    ) -> Result<onesheet_sources::ImageBody, onesheet_sources::SourceError> {
        match self.fault {
            ImageFault::Stall => std::future::pending::<()>().await,
            ImageFault::Panic => panic!("planted panic in a test source"),
            ImageFault::Garbage => {}
        }
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bytes.extend((0..100u8).map(|i| i.wrapping_mul(37)));
        Ok(onesheet_sources::ImageBody::Bytes {
            bytes: bytes.into(),
            content_type: Some("image/jpeg".to_owned()),
        })
    }
}

/// Requests the poster of the one item of a source failing with `fault`, from loopback.
async fn poster_from_faulty_source(fault: ImageFault) -> TestResponse {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        onesheet_store::SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap(),
    );
    let source = Arc::new(BrokenImageSource {
        id: onesheet_domain::SourceId::new("broken").unwrap(),
        fault,
    });
    let catalog = Arc::new(Catalog::new(vec![source], dir.path().join("catalog.json")));
    catalog.refresh_all().await;
    let state = AppState::new(
        catalog.clone(),
        store,
        DisplaySettings::default(),
        BasePath::new("").unwrap(),
    )
    .with_request_timeout(Duration::from_millis(300));
    let router = onesheet_server::router(state);
    let id = catalog.snapshot().items[0].id.clone().unwrap();

    let mut request = Request::get(format!("/img/{id}/poster?v=tag"))
        .body(Body::empty())
        .unwrap();
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 50_000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(loopback));
    let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
    TestResponse::read(response).await
}

#[tokio::test]
async fn broken_image_from_server_is_not_served() {
    let response = poster_from_faulty_source(ImageFault::Garbage).await;
    assert_eq!(response.status, 422);
}

#[tokio::test]
async fn stalled_request_ends_with_503_at_the_timeout() {
    let response = poster_from_faulty_source(ImageFault::Stall).await;

    assert_eq!(response.status, 503);
    let body = response.json();
    assert_eq!(body["error"]["code"], "request-timeout");
    assert!(body["error"]["request_id"].is_string());
}

#[tokio::test]
async fn panicking_handler_answers_500_without_the_panic_message() {
    let response = poster_from_faulty_source(ImageFault::Panic).await;

    assert_eq!(response.status, 500);
    let text = String::from_utf8_lossy(&response.body).into_owned();
    assert!(text.contains("\"internal\""), "{text}");
    assert!(!text.contains("planted panic"), "{text}");
}

#[tokio::test]
async fn non_image_from_server_is_not_served() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    let mut poster = None;
    for _ in 0..200 {
        let playlist = app.get("/api/v1/playlist?limit=500").await.json();
        poster = playlist["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find_map(|item| item["images"]["poster"].as_str())
            })
            .map(str::to_owned);
        if poster.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let poster = poster.unwrap();

    // A login page sent with status 200 where the image should be.
    admin
        .fake
        .control()
        .add_fault(onesheet_fakes::FaultRule::new(
            "/Items/*/Images/**",
            onesheet_fakes::Fault::HtmlLoginPage,
        ));
    let original = app.get(&poster).await;
    assert_eq!(
        original.status,
        422,
        "{}",
        String::from_utf8_lossy(&original.body)
    );
    assert_eq!(original.json()["error"]["code"], "image-unprocessable");
    let text = String::from_utf8_lossy(&original.body).into_owned();
    assert!(!text.contains("<html"), "{text}");
}

#[tokio::test]
async fn source_changes_are_audited_without_secrets() {
    let admin = admin_app(true).await;
    let created = send(
        &admin.app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let removed = send(
        &admin.app,
        "DELETE",
        &format!("/api/v1/admin/sources/{id}"),
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(removed.status, 204);

    let audit = send(
        &admin.app,
        "GET",
        "/api/v1/admin/audit?action=source.",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(audit.status, 200);
    let text = String::from_utf8_lossy(&audit.body).into_owned();
    assert!(
        !text.contains(API_KEY),
        "the audit log shows the credential: {text}"
    );
    let events = audit.json()["events"].as_array().unwrap().clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["source.deleted", "source.created"]);
    assert_eq!(events[1]["actor"], "admin-token");
    assert_eq!(events[1]["target"], id.as_str());
    assert_eq!(events[1]["detail"]["credential_sent"], true);
}

#[tokio::test]
async fn libraries_route_lists_server_libraries() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    let created = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    assert_eq!(created.status, 201);

    let listed = send(
        app,
        "GET",
        "/api/v1/admin/sources/living-room/libraries",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(
        listed.status,
        200,
        "{}",
        String::from_utf8_lossy(&listed.body)
    );
    let libraries = listed.json()["libraries"].as_array().unwrap().clone();
    assert_eq!(libraries.len(), 1, "{libraries:?}");
    assert_eq!(libraries[0]["name"], admin.fake.libraries()[0].name());
    assert_eq!(libraries[0]["kind"], "movies");
    assert!(libraries[0]["id"].as_str().is_some_and(|id| !id.is_empty()));

    let missing = send(
        app,
        "GET",
        "/api/v1/admin/sources/nowhere/libraries",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn libraries_route_reports_rejected_key() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    let created = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    assert_eq!(created.status, 201);

    // The server stops accepting the stored key, as after the key is revoked there.
    admin.fake.control().set_token("ANOTHER_KEY");
    let rejected = send(
        app,
        "GET",
        "/api/v1/admin/sources/living-room/libraries",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(rejected.status, 502);
    assert_eq!(rejected.json()["error"]["code"], "source-auth-rejected");
    let text = String::from_utf8_lossy(&rejected.body).into_owned();
    assert!(!text.contains(API_KEY), "{text}");
}

#[tokio::test]
async fn libraries_route_reports_unreachable_server() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    // A loopback port without a listener: the fake's own, once it has stopped.
    let address = admin.fake.base_url().to_owned();
    let created = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(serde_json::json!({
            "kind": "jellyfin",
            "name": "Gone",
            "credential": API_KEY,
            "settings": { "host": address },
        })),
    )
    .await;
    assert_eq!(created.status, 201);
    admin.fake.shutdown().await;

    let unreachable = send(
        app,
        "GET",
        "/api/v1/admin/sources/gone/libraries",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(unreachable.status, 502);
    assert_eq!(unreachable.json()["error"]["code"], "source-unreachable");
}

#[tokio::test]
async fn facets_route_lists_genres_of_source() {
    let admin = admin_app(true).await;
    let app = &admin.app;
    let created = send(
        app,
        "POST",
        "/api/v1/admin/sources",
        Some(TOKEN),
        Some(source_body(&admin.fake, API_KEY)),
    )
    .await;
    assert_eq!(created.status, 201);

    // The first refresh runs in the background; the facets follow the catalog.
    let mut facets = serde_json::Value::Null;
    for _ in 0..200 {
        let response = send(
            app,
            "GET",
            "/api/v1/admin/sources/living-room/facets",
            Some(TOKEN),
            None,
        )
        .await;
        assert_eq!(response.status, 200);
        facets = response.json();
        if facets["items"].as_u64().is_some_and(|items| items > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(facets["items"].as_u64().unwrap() > 0, "{facets}");
    let genres: Vec<String> = facets["genres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|genre| genre.as_str().unwrap().to_owned())
        .collect();
    assert!(!genres.is_empty(), "{facets}");
    let mut sorted = genres.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(genres, sorted, "genres are sorted and unique");
    assert!(
        facets["content_ratings"]
            .as_array()
            .is_some_and(|ratings| !ratings.is_empty()),
        "{facets}"
    );

    let missing = send(
        app,
        "GET",
        "/api/v1/admin/sources/nowhere/facets",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
}
