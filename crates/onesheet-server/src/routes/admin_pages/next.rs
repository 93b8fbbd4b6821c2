//! The check of the sign-in page's `next` parameter, which would otherwise make the page an
//! open redirect: a link to `/admin/login?next=https://evil.example` would send an admin who
//! just typed a password to a site that imitates ours.

use super::LOGIN_PATH;

/// Maximum length of an accepted `next`, in bytes. The longest real one, the claim page with a
/// code, is under 100 bytes plus the base path.
const MAX_NEXT_BYTES: usize = 1024;

/// Returns `next` when it is the path of an admin page under `base`, with an optional query,
/// and None for anything else.
///
/// Only ASCII from `!` to `~` is accepted, without `\` and `#`. Browsers drop tabs and line
/// breaks from URLs and read `\` as `/`, so `/\evil.example` would lead off the site. The path
/// must be the dashboard `{base}/admin` or start with `{base}/admin/`, and must not contain `.` or `..` segments (also
/// percent-encoded), which a browser would resolve to a path outside that prefix, nor `//`.
/// The sign-in page itself is rejected so that sign-in cannot loop.
pub(super) fn safe_next(base: &str, next: &str) -> Option<String> {
    if next.len() > MAX_NEXT_BYTES {
        return None;
    }
    let printable = next
        .bytes()
        .all(|byte| byte.is_ascii_graphic() && byte != b'\\' && byte != b'#');
    if !printable {
        return None;
    }

    let path = next.split_once('?').map_or(next, |(path, _)| path);
    let below_base = path.strip_prefix(base)?;
    if below_base == "/admin" {
        // The dashboard.
        return Some(next.to_owned());
    }
    let rest = below_base.strip_prefix("/admin/")?;
    let dot_segment = rest.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded == "." || decoded == ".."
    });
    if dot_segment || path.contains("//") {
        return None;
    }
    let login = format!("{base}{LOGIN_PATH}");
    if path == login || path == format!("{login}/") {
        return None;
    }
    Some(next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_paths_under_base_pass() {
        for (base, next) in [
            ("", "/admin/devices/claim"),
            ("", "/admin/devices/claim?code=K7M2QX"),
            ("/posters", "/posters/admin/devices/claim?code=K7M-2QX"),
            ("/posters", "/posters/admin/devices"),
            ("", "/admin"),
            ("/posters", "/posters/admin?view=all"),
        ] {
            assert_eq!(
                safe_next(base, next).as_deref(),
                Some(next),
                "base {base:?}, next {next:?}"
            );
        }
    }

    #[test]
    fn other_targets_are_rejected() {
        for (base, next) in [
            ("", "https://evil.example/admin/x"),
            ("", "//evil.example/admin/x"),
            ("", "/\\evil.example/admin/x"),
            ("", "/admin/../../evil"),
            ("", "/admin/%2e%2e/api/v1/setup"),
            ("", "/admin/%2E/x"),
            ("", "/admin//evil.example"),
            ("", "/admin/x\t/y"),
            ("", "/admin/x#fragment"),
            ("", "/admin/café"),
            ("", "/screensaver"),
            ("", "/admin/login"),
            ("", "/admin/login?next=/admin/x"),
            ("", "javascript:alert(1)"),
            ("", ""),
            ("/posters", "/admin/devices/claim"),
            ("/posters", "/postersevil/admin/x"),
            ("/posters", "/posters/adminx"),
            ("/posters", "/posters/api/v1/admin/devices"),
            ("/posters", "//posters/admin/x"),
        ] {
            assert_eq!(safe_next(base, next), None, "base {base:?}, next {next:?}");
        }
        let long = format!("/admin/{}", "x".repeat(MAX_NEXT_BYTES));
        assert_eq!(safe_next("", &long), None);
    }
}
