//! The Jellyfin and Emby fakes: paging, credential transports, fields, images and sessions.

use onesheet_fakes::library::{ImageShape, ImageState};
use onesheet_fakes::{FakeEmby, FakeJellyfin, FakeServer, JellyfinConfig, Library, LibraryKind};
use serde_json::Value;

use crate::support::{client, content_type, json, media_browser};

const KEY: &str = "KEY_A";

async fn jellyfin(libraries: Vec<Library>) -> FakeServer {
    FakeJellyfin::start(JellyfinConfig {
        api_key: KEY.to_owned(),
        libraries,
        ..JellyfinConfig::default()
    })
    .await
    .unwrap()
}

async fn get(server: &FakeServer, path_and_query: &str) -> reqwest::Response {
    client()
        .get(server.url(path_and_query))
        .header("Authorization", media_browser(KEY))
        .send()
        .await
        .unwrap()
}

async fn library_id(server: &FakeServer, index: usize) -> String {
    let folders = json(get(server, "/Library/VirtualFolders").await).await;
    folders[index]["ItemId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn items_page_by_start_index_and_limit() {
    let server = jellyfin(vec![Library::generate(LibraryKind::Movies, 25, 1)]).await;
    let parent = library_id(&server, 0).await;

    let page = json(
        get(
            &server,
            &format!(
                "/Items?ParentId={parent}&Recursive=true&IncludeItemTypes=Movie&StartIndex=20&Limit=10"
            ),
        )
        .await,
    )
    .await;

    assert_eq!(page["TotalRecordCount"], 25);
    assert_eq!(page["StartIndex"], 20);
    assert_eq!(page["Items"].as_array().unwrap().len(), 5);

    let everything =
        json(get(&server, &format!("/Items?ParentId={parent}&Recursive=true")).await).await;
    let names: Vec<&str> = everything["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["Name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|name| name.to_lowercase());
    assert_eq!(names.len(), 25);
    assert_eq!(names, sorted, "default order is by sort name");
}

#[tokio::test]
async fn modern_mode_reads_only_authorization_and_api_key() {
    let server = jellyfin(Vec::new()).await;
    let http = client();
    let url = server.url("/System/Info");
    let status =
        |request: reqwest::RequestBuilder| async move { request.send().await.unwrap().status() };

    assert_eq!(status(http.get(&url)).await, 401);
    assert_eq!(
        status(http.get(&url).header("X-Emby-Token", KEY)).await,
        401
    );
    assert_eq!(
        status(http.get(&url).header("X-MediaBrowser-Token", KEY)).await,
        401
    );
    assert_eq!(
        status(
            http.get(&url)
                .header("X-Emby-Authorization", media_browser(KEY))
        )
        .await,
        401
    );
    assert_eq!(status(http.get(format!("{url}?api_key={KEY}"))).await, 401);
    assert_eq!(
        status(
            http.get(&url)
                .header("Authorization", media_browser("wrong"))
        )
        .await,
        401
    );

    assert_eq!(
        status(http.get(&url).header("Authorization", media_browser(KEY))).await,
        200
    );
    assert_eq!(status(http.get(format!("{url}?ApiKey={KEY}"))).await, 200);
    assert_eq!(
        status(http.get(server.url("/System/Info/Public"))).await,
        200
    );

    server.control().set_legacy_auth(true);
    assert_eq!(
        status(http.get(&url).header("X-Emby-Token", KEY)).await,
        200
    );
    assert_eq!(status(http.get(format!("{url}?api_key={KEY}"))).await, 200);
}

#[tokio::test]
async fn emby_serves_its_scheme_under_prefix_and_root() {
    let server = FakeEmby::start(JellyfinConfig {
        api_key: KEY.to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 3, 0)],
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    assert!(server.base_url().ends_with("/emby"));
    let http = client();

    let info = json(
        http.get(server.url("/System/Info/Public"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(info.get("ProductName"), None);

    let prefixed = http
        .get(server.url("/Items?Recursive=true"))
        .header("X-Emby-Token", KEY)
        .send()
        .await
        .unwrap();
    let items = json(prefixed).await;
    let id = items["Items"][0]["Id"].as_str().unwrap();
    assert!(
        id.chars().all(|character| character.is_ascii_digit()),
        "Emby ids are numbers: {id}"
    );

    let root = format!("http://{}/Items?api_key={KEY}", server.address());
    assert_eq!(http.get(root).send().await.unwrap().status(), 200);
    let without_key = http.get(server.url("/Items")).send().await.unwrap();
    assert_eq!(without_key.status(), 401);
}

#[tokio::test]
async fn fields_gate_optional_values() {
    let server = jellyfin(vec![Library::generate(LibraryKind::Movies, 6, 0)]).await;

    let plain = json(get(&server, "/Items?Recursive=true&Limit=1").await).await;
    let item = &plain["Items"][0];
    assert_eq!(item["Name"], "Amélie");
    assert!(item.get("ProviderIds").is_none());
    assert!(item.get("Overview").is_none());
    assert!(item.get("ImageTags").is_some());
    assert!(item.get("FieldFromNewerServer").is_some());

    let full = json(
        get(
            &server,
            "/Items?Recursive=true&Limit=1&Fields=ProviderIds,Overview,MediaStreams,Genres",
        )
        .await,
    )
    .await;
    let item = &full["Items"][0];
    assert!(
        item["ProviderIds"]["Imdb"]
            .as_str()
            .unwrap()
            .starts_with("tt")
    );
    assert!(item["Overview"].is_string());
    assert_eq!(item["MediaStreams"][0]["Type"], "Video");
    assert!(item["Genres"].is_array());
}

#[tokio::test]
async fn untagged_primary_is_served_and_absent_is_not() {
    let library = Library::generate(LibraryKind::Movies, 20, 0);
    let untagged = library
        .items()
        .iter()
        .position(|item| item.images.primary == ImageState::Untagged)
        .unwrap();
    let absent = library
        .items()
        .iter()
        .position(|item| item.images.primary == ImageState::Absent)
        .unwrap();
    let landscape = library
        .items()
        .iter()
        .position(|item| item.images.primary_shape == ImageShape::Landscape)
        .unwrap();
    let server = jellyfin(vec![library]).await;

    let listing = json(
        get(
            &server,
            "/Items?Recursive=true&Fields=PrimaryImageAspectRatio&SortBy=DateCreated",
        )
        .await,
    )
    .await;
    // Titles are unique in a library this small, so they identify the items.
    let find = |position: usize| -> Value {
        let title = server.libraries()[0].items()[position].title.clone();
        listing["Items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["Name"] == title.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{title} missing from the listing"))
    };

    let untagged_item = find(untagged);
    assert_eq!(untagged_item["ImageTags"], serde_json::json!({}));
    let url = format!(
        "/Items/{}/Images/Primary",
        untagged_item["Id"].as_str().unwrap()
    );
    let response = client().get(server.url(&url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "image/jpeg");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);

    let absent_item = find(absent);
    let url = format!(
        "/Items/{}/Images/Primary",
        absent_item["Id"].as_str().unwrap()
    );
    assert_eq!(
        client()
            .get(server.url(&url))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let landscape_item = find(landscape);
    assert!(landscape_item["PrimaryImageAspectRatio"].as_f64().unwrap() > 1.2);
}

#[tokio::test]
async fn image_honours_max_width() {
    let server = jellyfin(vec![Library::generate(LibraryKind::Movies, 1, 0)]).await;
    let item = json(get(&server, "/Items?Recursive=true").await).await;
    let id = item["Items"][0]["Id"].as_str().unwrap().to_owned();

    let bytes = client()
        .get(server.url(&format!(
            "/Items/{id}/Images/Primary?maxWidth=120&quality=90"
        )))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (120, 180));
}

#[tokio::test]
async fn paths_ignore_case_and_base_path_is_kept() {
    let server = FakeJellyfin::start(JellyfinConfig {
        api_key: KEY.to_owned(),
        base_path: Some("/jellyfin".to_owned()),
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    assert!(server.base_url().ends_with("/jellyfin"));

    let lower = client()
        .get(server.url("/system/info/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
    let outside = format!("http://{}/System/Info/Public", server.address());
    assert_eq!(client().get(outside).send().await.unwrap().status(), 404);

    let recorded = server.recorder().matching("/System/Info/Public");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].path, "/jellyfin/system/info/public");
    assert_eq!(recorded[0].route, "/system/info/public");
}

#[tokio::test]
async fn sessions_include_trailer_preroll_and_idle() {
    let server = jellyfin(vec![Library::generate(LibraryKind::Movies, 3, 0)]).await;
    let sessions = json(get(&server, "/Sessions").await).await;
    let sessions = sessions.as_array().unwrap();

    let types: Vec<Option<&str>> = sessions
        .iter()
        .map(|session| session["NowPlayingItem"]["Type"].as_str())
        .collect();
    assert_eq!(types, [Some("Movie"), Some("Trailer"), Some("Video"), None]);
    let playing = &sessions[0];
    assert_eq!(playing["PlayState"]["IsPaused"], false);
    assert_eq!(playing["PlayState"]["PositionTicks"], 1_234u64 * 10_000_000);
    assert_eq!(playing["UserName"], "Zoë");
}
