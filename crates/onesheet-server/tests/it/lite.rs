//! The low-JavaScript page: one poster per page, a meta refresh to the next, no script.

use std::collections::HashSet;

use crate::support::TestApp;

/// Returns the text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in {text}"))
        + start.len();
    let length = text[from..].find(end).unwrap();
    &text[from..from + length]
}

#[tokio::test]
async fn lite_page_names_its_successor() {
    let app = TestApp::with_posters(3).await;
    let page = app.get("/lite").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(!page.header("content-security-policy").is_empty());

    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("style="), "{html}");
    assert_eq!(
        between(&html, r#"http-equiv="refresh" content=""#, "\""),
        "10; url=/lite?i=1&amp;w=720"
    );
    let poster = between(&html, r#"<img src=""#, "\"");
    assert!(poster.starts_with("/img/"), "{poster}");
    assert!(poster.contains("/poster?v="), "{poster}");
    assert!(poster.ends_with("&amp;w=720"), "{poster}");

    let image = app.get(&poster.replace("&amp;", "&")).await;
    assert_eq!(image.status, 200);
}

#[tokio::test]
async fn lite_pages_cycle_through_catalog() {
    let app = TestApp::with_posters(3).await;
    let mut titles = HashSet::new();
    for position in 0..3 {
        let page = app.get(&format!("/lite?i={position}&w=400")).await;
        let html = String::from_utf8(page.body.clone()).unwrap();
        titles.insert(between(&html, "<title>", "</title>").to_owned());
    }
    assert_eq!(titles.len(), 3, "{titles:?}");

    // A position past the end wraps, and so does the successor of the last one.
    let wrapped = app.get("/lite?i=5&w=400").await;
    let html = String::from_utf8(wrapped.body.clone()).unwrap();
    assert!(html.contains("url=/lite?i=0&amp;w=400"), "{html}");
}

#[tokio::test]
async fn lite_rejects_bad_parameters() {
    let app = TestApp::with_posters(1).await;

    let wide = app.get("/lite?w=99999").await;
    assert_eq!(wide.status, 400);
    assert_eq!(wide.json()["error"]["field"], "w");
    assert!(
        wide.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("99999")
    );

    let unknown = app.get("/lite?width=400").await;
    assert_eq!(unknown.status, 400);
    let negative = app.get("/lite?i=-1").await;
    assert_eq!(negative.status, 400);
}

#[tokio::test]
async fn lite_page_follows_base_path() {
    let app = TestApp::with_files(
        &[("poster-a.jpg", crate::support::jpeg(20, 30))],
        "/posters",
    )
    .await;
    let page = app.get("/posters/lite").await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(
        html.contains(r#"href="/posters/assets/css/lite.css""#),
        "{html}"
    );
    assert!(html.contains("url=/posters/lite?i=0"), "{html}");
    assert!(html.contains(r#"<img src="/posters/img/"#), "{html}");
}

#[tokio::test]
async fn lite_interval_sets_refresh_and_carries_on() {
    let app = TestApp::with_posters(2).await;
    let page = app.get("/lite?interval=45").await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert_eq!(
        between(&html, r#"http-equiv="refresh" content=""#, "\""),
        "45; url=/lite?i=1&amp;w=720&amp;interval=45"
    );
}

#[tokio::test]
async fn lite_rejects_interval_out_of_range() {
    let app = TestApp::with_posters(1).await;
    for interval in ["1", "3601"] {
        let page = app.get(&format!("/lite?interval={interval}")).await;
        assert_eq!(page.status, 400, "interval {interval}");
        assert_eq!(page.json()["error"]["field"], "interval");
        let message = page.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(interval), "{message}");
        assert!(message.contains("2 to 3600 seconds"), "{message}");
    }
}

#[tokio::test]
async fn lite_preset_sets_interval_and_carries_on() {
    let app = TestApp::with_posters(2).await;
    let page = app.get("/lite?preset=lobby").await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    // The lobby preset shows each cinema poster for 20 seconds.
    assert_eq!(
        between(&html, r#"http-equiv="refresh" content=""#, "\""),
        "20; url=/lite?i=1&amp;w=720&amp;preset=lobby"
    );

    let both = app.get("/lite?preset=lobby&interval=7").await;
    let html = String::from_utf8(both.body.clone()).unwrap();
    assert_eq!(
        between(&html, r#"http-equiv="refresh" content=""#, "\""),
        "7; url=/lite?i=1&amp;w=720&amp;interval=7&amp;preset=lobby"
    );
}

#[tokio::test]
async fn lite_preset_filter_selects_posters() {
    // The test catalog has no albums, so the music wall's filter leaves nothing to show.
    let app = TestApp::with_posters(2).await;
    let page = app.get("/lite?preset=music-wall").await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("url=/lite?i=0&amp;w=720&amp;preset=music-wall"),
        "{html}"
    );
}

#[tokio::test]
async fn lite_rejects_unknown_preset() {
    let app = TestApp::with_posters(1).await;
    let page = app.get("/lite?preset=lobbby").await;
    assert_eq!(page.status, 400);
    assert_eq!(page.json()["error"]["field"], "preset");
    let message = page.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("lobbby"), "{message}");
    assert!(message.contains("lobby, coming-soon"), "{message}");
}
