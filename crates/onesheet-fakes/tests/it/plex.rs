//! The Plex fake: paging, token, XML versus JSON, unpaged delay, artwork and stream markers.

use std::time::{Duration, Instant};

use onesheet_fakes::library::ImageState;
use onesheet_fakes::{FakePlex, FakeServer, Library, LibraryKind, PlexConfig};
use serde_json::Value;

use crate::support::{client, content_type, json};

const TOKEN: &str = "TOKEN_A";

async fn plex(libraries: Vec<Library>) -> FakeServer {
    FakePlex::start(PlexConfig {
        token: TOKEN.to_owned(),
        libraries,
        poster_size: (240, 360),
        art_size: (320, 180),
        unpaged_delay: Duration::from_millis(300),
        ..PlexConfig::default()
    })
    .await
    .unwrap()
}

fn get(server: &FakeServer, path_and_query: &str) -> reqwest::RequestBuilder {
    client()
        .get(server.url(path_and_query))
        .header("X-Plex-Token", TOKEN)
        .header("Accept", "application/json")
}

#[tokio::test]
async fn section_pages_by_container_headers_or_query() {
    let server = plex(vec![Library::generate(LibraryKind::Movies, 450, 2)]).await;

    let response = get(&server, "/library/sections/1/all")
        .header("X-Plex-Container-Start", "400")
        .header("X-Plex-Container-Size", "200")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["X-Plex-Container-Total-Size"], "450");
    assert_eq!(response.headers()["X-Plex-Container-Start"], "400");
    let page = json(response).await;
    let container = &page["MediaContainer"];
    assert_eq!(container["size"], 50);
    assert_eq!(container["totalSize"], 450);
    assert_eq!(container["offset"], 400);
    assert_eq!(container["Metadata"].as_array().unwrap().len(), 50);

    let by_query = json(
        get(
            &server,
            "/library/sections/1/all?type=1&X-Plex-Container-Start=0&X-Plex-Container-Size=200",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(by_query["MediaContainer"]["size"], 200);

    let past_end = json(
        get(&server, "/library/sections/1/all")
            .header("X-Plex-Container-Start", "500")
            .header("X-Plex-Container-Size", "200")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(past_end["MediaContainer"]["size"], 0);
    assert_eq!(past_end["MediaContainer"]["offset"], 500);

    let empty = json(
        get(&server, "/library/sections/1/all?type=4")
            .header("X-Plex-Container-Size", "10")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(empty["MediaContainer"]["totalSize"], 0);
    assert!(empty["MediaContainer"].get("Metadata").is_none());
}

#[tokio::test]
async fn xml_unless_accept_is_exactly_json() {
    let server = plex(vec![Library::generate(LibraryKind::Movies, 2, 0)]).await;
    let path = "/library/sections/1/all?X-Plex-Container-Size=50";

    for accept in [None, Some("application/json, text/plain, */*"), Some("*/*")] {
        let mut request = client().get(server.url(path)).header("X-Plex-Token", TOKEN);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            content_type(&response),
            "application/xml",
            "Accept {accept:?}"
        );
        let body = response.text().await.unwrap();
        assert!(body.starts_with("<?xml"), "{body}");
        assert!(body.contains("<MediaContainer"), "{body}");
        assert!(body.contains(" size=\"2\""), "{body}");
        assert_eq!(body.matches("<Video ").count(), 2, "{body}");
    }

    let response = get(&server, path).send().await.unwrap();
    assert_eq!(content_type(&response), "application/json");
    let document = json(response).await;
    assert_eq!(
        document["MediaContainer"]["Metadata"][1]["title"],
        "千と千尋の神隠し"
    );
}

#[tokio::test]
async fn token_required_except_identity() {
    let server = plex(Vec::new()).await;
    let http = client();

    let missing = http
        .get(server.url("/library/sections"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(content_type(&missing), "text/html");
    let wrong = http
        .get(server.url("/library/sections"))
        .header("X-Plex-Token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let by_query = http
        .get(server.url(&format!("/library/sections?X-Plex-Token={TOKEN}")))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);
    let identity = http
        .get(server.url("/identity"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let identity = json(identity).await;
    assert_eq!(
        identity["MediaContainer"]["machineIdentifier"]
            .as_str()
            .unwrap()
            .len(),
        40
    );
}

#[tokio::test]
async fn unpaged_listing_waits_and_paged_does_not() {
    let server = plex(vec![Library::generate(LibraryKind::Movies, 5, 0)]).await;

    let started = Instant::now();
    let unpaged = json(
        get(&server, "/library/sections/1/all")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(unpaged["MediaContainer"]["size"], 5);

    server.control().set_unpaged_delay(Duration::ZERO);
    let started = Instant::now();
    get(&server, "/library/sections/1/all")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn thumb_is_full_size_and_transcode_resizes() {
    let library = Library::generate(LibraryKind::Movies, 20, 0);
    let with_poster = library
        .items()
        .iter()
        .find(|item| item.images.primary == ImageState::Tagged)
        .unwrap()
        .clone();
    let without_poster = library
        .items()
        .iter()
        .find(|item| item.images.primary == ImageState::Absent)
        .unwrap()
        .clone();
    let server = plex(vec![library]).await;
    let thumb = format!(
        "/library/metadata/{}/thumb/{}",
        with_poster.key, with_poster.updated_at
    );

    let original = get(&server, &format!("{thumb}?width=60&height=90"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let decoded = image::load_from_memory(&original).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (240, 360));

    let transcoded = get(
        &server,
        &format!(
            "/photo/:/transcode?url={}&width=60&height=90",
            urlencode(&thumb)
        ),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(transcoded.status(), 200);
    let decoded = image::load_from_memory(&transcoded.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (60, 90));

    server
        .control()
        .set_transcode_missing(vec![with_poster.key]);
    let missing = get(
        &server,
        &format!("/photo/:/transcode?url={}&width=60", urlencode(&thumb)),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);

    let absent = format!("/library/metadata/{}/thumb/1", without_poster.key);
    assert_eq!(get(&server, &absent).send().await.unwrap().status(), 404);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn episodes_fall_back_to_series_artwork() {
    let server = plex(vec![Library::generate(LibraryKind::Shows, 10, 0)]).await;
    let episodes = json(
        get(
            &server,
            "/library/sections/1/all?type=4&X-Plex-Container-Size=500",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let episodes = episodes["MediaContainer"]["Metadata"].as_array().unwrap();
    assert!(episodes.iter().all(|episode| episode["type"] == "episode"));
    let fallback = episodes.iter().find(|episode| {
        episode.get("thumb").is_none() && episode.get("grandparentThumb").is_some()
    });
    assert!(
        fallback.is_some(),
        "an episode without a still keeps grandparentThumb"
    );
    assert!(
        episodes[0].get("Guid").is_none(),
        "Guid needs includeGuids=1"
    );

    let with_guids = json(
        get(
            &server,
            "/library/sections/1/all?includeGuids=1&X-Plex-Container-Size=1",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let guids = &with_guids["MediaContainer"]["Metadata"][0]["Guid"];
    assert!(guids[0]["id"].as_str().unwrap().starts_with("imdb://tt"));
}

#[tokio::test]
async fn streams_mark_dolby_vision_hdr_and_atmos() {
    let server = plex(vec![Library::generate(LibraryKind::Movies, 40, 0)]).await;
    let listing = json(
        get(&server, "/library/sections/1/all?X-Plex-Container-Size=40")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let movies = listing["MediaContainer"]["Metadata"].as_array().unwrap();
    let streams = |movie: &Value| {
        movie["Media"][0]["Part"][0]["Stream"]
            .as_array()
            .cloned()
            .unwrap()
    };

    let dolby_vision = movies
        .iter()
        .find(|movie| streams(movie)[0]["DOVIPresent"] == true)
        .expect("a Dolby Vision movie");
    assert_eq!(dolby_vision["Media"][0]["videoResolution"], "4k");
    assert_eq!(streams(dolby_vision)[0]["colorTrc"], "smpte2084");

    let atmos = movies
        .iter()
        .find(|movie| streams(movie)[1]["codec"] == "truehd")
        .expect("a TrueHD movie");
    assert!(
        streams(atmos)[1]["displayTitle"]
            .as_str()
            .unwrap()
            .contains("TrueHD Atmos")
    );
    // Whole ratings arrive as floats (`8.0`), which clients must read as such.
    assert!(movies.iter().any(|movie| {
        let rating = &movie["audienceRating"];
        rating.is_f64() && rating.as_f64().unwrap().fract() == 0.0
    }));
}
