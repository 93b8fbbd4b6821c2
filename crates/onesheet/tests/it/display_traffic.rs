//! Ordinary display traffic never meets a rate limit, even from several screens behind one
//! address (a venue's NAT). The test sends an hour of three wallart screens' requests as fast
//! as the server responds, which is harsher for any limit than the same requests spread over an
//! hour.

use serde_json::Value;

use crate::harness::{ServerOptions, TestServer, http_client};

/// Screens behind one address, each a future of the `tokio::join!` below.
const SCREENS: usize = 3;
/// One round every 10 seconds for an hour.
const ROUNDS: usize = 360;
/// Posters each screen loads per round, as a wall replacing all its tiles would.
const IMAGES_PER_ROUND: usize = 30;
/// Rounds between two reads of the settings and of now playing (once a minute).
const ROUNDS_PER_SETTINGS_READ: usize = 6;

/// Counts of one screen's responses.
#[derive(Default)]
struct Answers {
    requests: usize,
    too_many: Vec<String>,
    failed: Vec<String>,
}

impl Answers {
    fn record(&mut self, path: &str, status: u16) {
        self.requests += 1;
        match status {
            200 | 304 => {}
            429 => self.too_many.push(path.to_owned()),
            other => self.failed.push(format!("{other} {path}")),
        }
    }
}

/// Sends one screen's hour of requests and returns what came back.
async fn one_screen(server: &TestServer, posters: &[String]) -> Answers {
    // A client of its own, so each screen has its own connections as a browser would.
    let client = http_client();
    let mut answers = Answers::default();
    for round in 0..ROUNDS {
        let page = "/api/v1/playlist?mode=wallart&limit=30";
        let status = client
            .get(server.url(page))
            .send()
            .await
            .map_or(0, |response| response.status().as_u16());
        answers.record(page, status);

        for index in 0..IMAGES_PER_ROUND {
            let poster = &posters[(round + index) % posters.len()];
            let url = format!("{}{poster}&w=360&h=540", server.base_url());
            let status = client
                .get(&url)
                .header("accept", "image/webp,*/*")
                .send()
                .await
                .map_or(0, |response| response.status().as_u16());
            answers.record(poster, status);
        }

        if round % ROUNDS_PER_SETTINGS_READ == 0 {
            for path in ["/api/v1/display-settings", "/api/v1/now-playing"] {
                let status = client
                    .get(server.url(path))
                    .send()
                    .await
                    .map_or(0, |response| response.status().as_u16());
                answers.record(path, status);
            }
        }
    }
    answers
}

#[tokio::test]
async fn hour_of_three_walls_is_never_limited() {
    let server = TestServer::start(ServerOptions::default()).await;
    let playlist: Value = server
        .get("/api/v1/playlist?mode=wallart&limit=60")
        .await
        .json()
        .await
        .expect("the playlist is JSON");
    let posters: Vec<String> = playlist["items"]
        .as_array()
        .expect("the playlist has items")
        .iter()
        .filter_map(|item| item["images"]["poster"].as_str().map(str::to_owned))
        .collect();
    assert!(
        posters.len() >= 20,
        "the demo library should give at least 20 posters: {playlist:#}"
    );

    let (first, second, third) = tokio::join!(
        one_screen(&server, &posters),
        one_screen(&server, &posters),
        one_screen(&server, &posters)
    );
    let answers = [first, second, third];

    let requests: usize = answers.iter().map(|screen| screen.requests).sum();
    let too_many: Vec<&String> = answers.iter().flat_map(|screen| &screen.too_many).collect();
    let failed: Vec<&String> = answers.iter().flat_map(|screen| &screen.failed).collect();
    assert_eq!(
        requests,
        SCREENS * (ROUNDS * (1 + IMAGES_PER_ROUND) + ROUNDS / ROUNDS_PER_SETTINGS_READ * 2)
    );
    assert!(
        too_many.is_empty(),
        "{} of {requests} display requests got 429, first: {:?}",
        too_many.len(),
        too_many.first()
    );
    assert!(
        failed.is_empty(),
        "{} of {requests} display requests failed, first five: {:?}\n{}",
        failed.len(),
        &failed[..failed.len().min(5)],
        server.log_tail()
    );
}
