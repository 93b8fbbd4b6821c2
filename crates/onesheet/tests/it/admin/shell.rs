//! The frame of the signed-in admin pages: a signed-out visitor goes through sign-in and comes
//! back, the navigation marks the current section, and sign-out works from any page.

use super::{check_page, click, create_admin, get_unfollowed, signed_in_browser, wait_for};
use crate::harness::{ServerOptions, TestServer};

#[tokio::test]
async fn signed_out_visitor_signs_in_and_returns_to_the_page() {
    let server = TestServer::start(ServerOptions {
        base_path: Some("/posters".to_owned()),
        media_posters: 2,
        env: Vec::new(),
    })
    .await;
    let admin = create_admin(&server).await;

    // Without a session, the page sends the browser to sign-in with itself as `next`.
    let (status, location) = get_unfollowed(&server, "/admin?view=all").await;
    assert_eq!(status, 303);
    assert_eq!(
        location.as_deref(),
        Some("/posters/admin/login?next=%2Fposters%2Fadmin%3Fview%3Dall")
    );

    let Some(browser) = signed_in_browser(&server, "admin_shell_sign_in", 390, 844, "/admin").await
    else {
        return;
    };
    let current: String = browser
        .eval("return document.querySelector('.sections a[aria-current=\"page\"]').textContent;")
        .await;
    assert_eq!(current, "Dashboard");
    check_page(&browser, "shell").await;

    browser.eval::<bool>(&click("#sign-out")).await;
    wait_for(
        &browser,
        "sign-out opens the sign-in page",
        "return window.location.pathname === '/posters/admin/login' \
         && document.body.dataset.login === 'password';",
    )
    .await;
    let (status, _) = get_unfollowed(&server, "/admin").await;
    assert_eq!(status, 303, "the page needs a session again");

    // Signing out ends the browser's session only: the test's own session still works.
    let (status, body) = admin
        .send(&server, "GET", "/api/v1/auth/session", None)
        .await;
    assert_eq!(status, 200, "{body}");
    browser.close().await;
}
