//! The query string of an image URL and the choice of output format from `Accept`.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, USER_AGENT};
use onesheet_domain::{FieldError, ImageKind};
use onesheet_images::derive::{Fit, OutputFormat, WIDTH_LADDER};

/// Largest `w` or `h` accepted. Requests snap to the width ladder, so anything above its top
/// step gets the top step; the bound only keeps absurd numbers out of logs and keys.
pub const MAX_SIDE: u32 = 20_000;

/// Parsed query of `/img/{item}/{kind}`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImageParams {
    /// `v`: the version the page linked to.
    pub version: Option<String>,
    /// `w`, `h` and `fit`; `None` serves the original.
    pub size: Option<SizeParams>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeParams {
    pub width: u32,
    pub height: Option<u32>,
    pub fit: Fit,
}

impl ImageParams {
    /// Parses `v`, `w`, `h` and `fit`. Other parameters are ignored, so cache-busting
    /// parameters that some players append do no harm; a repeated known one is an error.
    ///
    /// Messages leave the parameter name to the error's field, and quote an invalid value as
    /// the client sent it, before percent-decoding, so `w=+240` is shown as `"+240"` and not as
    /// the `" 240"` that form decoding makes of it.
    pub fn parse(query: &str) -> Result<Self, FieldError> {
        let mut version = None;
        let mut width = None;
        let mut height = None;
        let mut fit = None;
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let raw_value = pair.split_once('=').map_or("", |(_, value)| value);
            let Some((name, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else {
                continue;
            };
            let slot_taken = match name.as_ref() {
                "v" => version.replace(value.into_owned()).is_some(),
                "w" => width.replace(parse_side("w", &value, raw_value)?).is_some(),
                "h" => height
                    .replace(parse_side("h", &value, raw_value)?)
                    .is_some(),
                "fit" => fit.replace(parse_fit(&value, raw_value)?).is_some(),
                _ => false,
            };
            if slot_taken {
                return Err(FieldError::new(
                    name.as_ref(),
                    "given more than once: give it once",
                ));
            }
        }

        let size = match (width, height, fit) {
            (None, None, None) => None,
            (None, None, Some(_)) => {
                return Err(FieldError::new(
                    "fit",
                    "needs a size: add w (width in pixels), h (height in pixels) or both",
                ));
            }
            // Without a width the box is as wide as the ladder allows, so the height decides.
            (width, height, fit) => Some(SizeParams {
                width: width.unwrap_or(WIDTH_LADDER[WIDTH_LADDER.len() - 1]),
                height,
                fit: fit.unwrap_or(Fit::Contain),
            }),
        };
        Ok(Self { version, size })
    }
}

/// Parses a side in pixels from its decoded `value`; `raw` is the value as sent, for the
/// message.
fn parse_side(name: &'static str, value: &str, raw: &str) -> Result<u32, FieldError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|side| (1..=MAX_SIDE).contains(side))
        .ok_or_else(|| {
            FieldError::new(
                name,
                format!(
                    "invalid value {:?}: expected a whole number of pixels from 1 to {MAX_SIDE}",
                    truncate(raw)
                ),
            )
        })
}

fn parse_fit(value: &str, raw: &str) -> Result<Fit, FieldError> {
    match value {
        "contain" => Ok(Fit::Contain),
        "cover" => Ok(Fit::Cover),
        _ => Err(FieldError::new(
            "fit",
            format!(
                "invalid value {:?}: expected contain or cover",
                truncate(raw)
            ),
        )),
    }
}

/// Keeps echoed values short in error messages.
fn truncate(value: &str) -> String {
    value.chars().take(40).collect()
}

/// Picks the output format: WebP only when `Accept` names `image/webp` itself (wildcards do
/// not count, because some old players send `*/*` yet cannot show WebP) and the user agent is
/// not one known to lack WebP; otherwise PNG for clear logos, whose transparency JPEG would
/// lose, and JPEG for everything else.
pub fn negotiate_format(headers: &HeaderMap, kind: ImageKind) -> OutputFormat {
    let accepts_webp = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(names_webp);
    let lacks_webp = headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(lacks_webp);
    if accepts_webp && !lacks_webp {
        OutputFormat::Webp
    } else if kind == ImageKind::Logo {
        OutputFormat::Png
    } else {
        OutputFormat::Jpeg
    }
}

/// True for a user agent whose engine cannot show WebP whatever its `Accept` lists: WebKit on
/// iOS and iPadOS before 14 (every browser there uses it) and Safari before 14 elsewhere. A
/// proxy or an extension can add `image/webp` to such a browser's `Accept`, and the screen then
/// shows nothing.
///
/// NOTE: Safari 14 on macOS 10.15 also lacks WebP, but its user agent reads like a newer
/// macOS, which reports itself as 10.15 too, so it cannot be told apart and gets WebP.
fn lacks_webp(user_agent: &str) -> bool {
    let ios_major = ["iPhone OS ", "CPU OS "].iter().find_map(|marker| {
        let (_, rest) = user_agent.split_once(marker)?;
        leading_number(rest)
    });
    if let Some(major) = ios_major {
        return major < 14;
    }

    let other_engine = ["Chrome/", "Chromium/", "Edg/", "Firefox/", "OPR/"]
        .iter()
        .any(|engine| user_agent.contains(engine));
    if other_engine || !user_agent.contains("Safari/") {
        return false;
    }
    user_agent
        .split_once("Version/")
        .and_then(|(_, rest)| leading_number(rest))
        .is_some_and(|major| major < 14)
}

/// Reads the digits at the start of `text`, such as `12` of `12_5 like Mac OS X`.
fn leading_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// True for a media range of `image/webp` whose quality, if given, is above 0. A quality that
/// is not a number from 0 to 1 (RFC 9110, section 12.4.2) counts as not accepting, because
/// the sender's intent is unknown and every client can show JPEG.
fn names_webp(range: &str) -> bool {
    let mut parts = range.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("image/webp") {
        return false;
    }
    parts.all(|parameter| {
        let mut pair = parameter.splitn(2, '=');
        let name = pair.next().unwrap_or_default().trim();
        let value = pair.next().unwrap_or_default().trim();
        !name.eq_ignore_ascii_case("q") || value.parse::<f32>().is_ok_and(|q| q > 0.0 && q <= 1.0)
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn params_without_size_serve_original() {
        let params = ImageParams::parse("v=abc&cb=123").unwrap();
        assert_eq!(params.version.as_deref(), Some("abc"));
        assert_eq!(params.size, None);
    }

    #[test]
    fn params_parse_size_and_fit() {
        let params = ImageParams::parse("w=720&h=1080&fit=cover").unwrap();
        assert_eq!(
            params.size,
            Some(SizeParams {
                width: 720,
                height: Some(1080),
                fit: Fit::Cover
            })
        );
        let height_only = ImageParams::parse("h=1080").unwrap().size.unwrap();
        assert_eq!(height_only.width, 3840);
        assert_eq!(height_only.fit, Fit::Contain);
    }

    #[test]
    fn params_reject_bad_values() {
        for (query, field) in [
            ("w=0", "w"),
            ("w=-5", "w"),
            ("w=abc", "w"),
            ("w=20001", "w"),
            ("h=1.5", "h"),
            ("w=100&fit=stretch", "fit"),
            ("fit=cover", "fit"),
            ("w=100&w=200", "w"),
        ] {
            let error = ImageParams::parse(query).unwrap_err();
            assert_eq!(error.field, field, "query {query}");
        }
    }

    #[test]
    fn webp_only_when_named() {
        let kind = ImageKind::Poster;
        assert_eq!(
            negotiate_format(&accept("image/avif,image/webp,*/*"), kind),
            OutputFormat::Webp
        );
        assert_eq!(
            negotiate_format(&accept("IMAGE/WEBP;q=0.8"), kind),
            OutputFormat::Webp
        );
        assert_eq!(negotiate_format(&accept("*/*"), kind), OutputFormat::Jpeg);
        assert_eq!(
            negotiate_format(&accept("image/*"), kind),
            OutputFormat::Jpeg
        );
        assert_eq!(
            negotiate_format(&accept("image/webp;q=0, */*"), kind),
            OutputFormat::Jpeg
        );
        assert_eq!(
            negotiate_format(&accept("image/webp;q=1"), kind),
            OutputFormat::Webp
        );
        assert_eq!(
            negotiate_format(&accept("image/webp; charset=x; q=0.001"), kind),
            OutputFormat::Webp
        );
        assert_eq!(
            negotiate_format(&HeaderMap::new(), kind),
            OutputFormat::Jpeg
        );
    }

    /// Image `Accept` headers of real browsers, after MDN's "List of default Accept values".
    #[test]
    fn browser_accept_headers() {
        for (browser, value, expected) in [
            (
                "Safari before iOS 14 and macOS Big Sur",
                "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
                OutputFormat::Jpeg,
            ),
            (
                "Safari from iOS 14 and macOS Big Sur",
                "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
                OutputFormat::Webp,
            ),
            ("Firefox 47 to 63", "*/*", OutputFormat::Jpeg),
            ("Firefox 65 to 91", "image/webp,*/*", OutputFormat::Webp),
            (
                "Chrome",
                "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
                OutputFormat::Webp,
            ),
        ] {
            assert_eq!(
                negotiate_format(&accept(value), ImageKind::Poster),
                expected,
                "{browser}: {value}"
            );
        }
    }

    #[test]
    fn malformed_quality_does_not_accept_webp() {
        for value in [
            "image/webp;q=abc",
            "image/webp;q=1.5",
            "image/webp;q=-0.5",
            "image/webp;q=NaN",
            "image/webp;q=inf",
            "image/webp;q=",
        ] {
            assert_eq!(
                negotiate_format(&accept(value), ImageKind::Poster),
                OutputFormat::Jpeg,
                "{value}"
            );
        }
    }

    #[test]
    fn messages_quote_the_value_as_sent() {
        for (query, field, message) in [
            (
                "w=0",
                "w",
                "invalid value \"0\": expected a whole number of pixels from 1 to 20000",
            ),
            (
                "w=+240",
                "w",
                "invalid value \"+240\": expected a whole number of pixels from 1 to 20000",
            ),
            (
                "h=%31%2E5",
                "h",
                "invalid value \"%31%2E5\": expected a whole number of pixels from 1 to 20000",
            ),
            (
                "w=1&fit=fill",
                "fit",
                "invalid value \"fill\": expected contain or cover",
            ),
            ("w=1&w=2", "w", "given more than once: give it once"),
        ] {
            let error = ImageParams::parse(query).unwrap_err();
            assert_eq!(error.field, field, "{query}");
            assert_eq!(error.message, message, "{query}");
            assert!(
                !error
                    .to_string()
                    .starts_with(&format!("{field}: invalid {field}")),
                "{query}: {error}"
            );
        }
    }

    #[test]
    fn encoded_values_still_parse() {
        let params = ImageParams::parse("w=%32%34%30&fit=%63over").unwrap();
        assert_eq!(
            params.size,
            Some(SizeParams {
                width: 240,
                height: None,
                fit: Fit::Cover
            })
        );
    }

    fn with_agent(accept_value: &str, user_agent: &str) -> HeaderMap {
        let mut headers = accept(accept_value);
        headers.insert(USER_AGENT, HeaderValue::from_str(user_agent).unwrap());
        headers
    }

    #[test]
    fn webp_withheld_from_agents_without_it() {
        let lacking = [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (iPad; CPU OS 13_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/87.0.4280.77 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Safari/605.1.15",
        ];
        for user_agent in lacking {
            assert_eq!(
                negotiate_format(&with_agent("image/webp,*/*", user_agent), ImageKind::Poster),
                OutputFormat::Jpeg,
                "{user_agent}"
            );
        }
    }

    #[test]
    fn webp_kept_for_agents_with_it() {
        let capable = [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 14_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.1.2 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 9; AFTMM) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "",
        ];
        for user_agent in capable {
            assert_eq!(
                negotiate_format(&with_agent("image/webp,*/*", user_agent), ImageKind::Poster),
                OutputFormat::Webp,
                "{user_agent}"
            );
        }
    }

    #[test]
    fn logos_keep_transparency() {
        assert_eq!(
            negotiate_format(&accept("*/*"), ImageKind::Logo),
            OutputFormat::Png
        );
        assert_eq!(
            negotiate_format(&accept("image/webp"), ImageKind::Logo),
            OutputFormat::Webp
        );
    }
}
