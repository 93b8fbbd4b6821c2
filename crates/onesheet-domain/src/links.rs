//! The public web page a screen may point viewers to for an item, such as with a QR code.
//!
//! Only well-known public sites qualify. A trailer link from a media server may be a URL of that
//! server, with its access token in the query, and screens must never show an upstream URL.

use crate::media::{MediaItem, MediaKind};

/// Hosts whose trailer links are public pages.
const TRAILER_HOSTS: [&str; 5] = [
    "www.youtube.com",
    "youtube.com",
    "youtu.be",
    "vimeo.com",
    "www.imdb.com",
];

/// Maximum length of a trailer link. A QR code of a longer one gets too dense to scan across a
/// lobby.
const MAX_LINK_CHARS: usize = 200;

/// Returns the page to open for `item`: its trailer on a public video site, else its IMDb page,
/// else its TMDB page. `None` when the item has none of these.
pub fn public_link(item: &MediaItem) -> Option<String> {
    let links = &item.links;
    if let Some(trailer) = links
        .trailer
        .as_deref()
        .filter(|url| is_public_trailer(url))
    {
        return Some(trailer.to_owned());
    }
    if let Some(imdb) = links.imdb_id.as_deref().filter(|id| is_imdb_id(id)) {
        return Some(format!("https://www.imdb.com/title/{imdb}/"));
    }
    let tmdb = links.tmdb_id.as_deref().filter(|id| is_number(id))?;
    let section = match item.kind {
        MediaKind::Show | MediaKind::Episode => "tv",
        _ => "movie",
    };
    Some(format!("https://www.themoviedb.org/{section}/{tmdb}"))
}

/// True for an `https` URL on one of [`TRAILER_HOSTS`], without credentials or odd characters.
fn is_public_trailer(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    url.len() <= MAX_LINK_CHARS
        && url.bytes().all(|byte| byte.is_ascii_graphic())
        && TRAILER_HOSTS.contains(&host)
}

/// True for an IMDb title id such as `tt0078748`.
fn is_imdb_id(id: &str) -> bool {
    id.strip_prefix("tt")
        .is_some_and(|digits| (7..=10).contains(&digits.len()) && is_number(digits))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ExternalLinks;

    fn item(kind: MediaKind, links: ExternalLinks) -> MediaItem {
        MediaItem {
            kind,
            links,
            ..MediaItem::default()
        }
    }

    #[test]
    fn link_choice_table() {
        let youtube = "https://www.youtube.com/watch?v=LjLamj-b0I8";
        let cases = [
            (
                ExternalLinks {
                    trailer: Some(youtube.to_owned()),
                    imdb_id: Some("tt0078748".to_owned()),
                    ..ExternalLinks::default()
                },
                Some(youtube.to_owned()),
            ),
            (
                ExternalLinks {
                    trailer: Some(
                        "http://192.168.1.5:32400/trailer?X-Plex-Token=secret".to_owned(),
                    ),
                    imdb_id: Some("tt0078748".to_owned()),
                    ..ExternalLinks::default()
                },
                Some("https://www.imdb.com/title/tt0078748/".to_owned()),
            ),
            (
                ExternalLinks {
                    trailer: Some("https://www.youtube.com.evil.example/x".to_owned()),
                    tmdb_id: Some("348".to_owned()),
                    ..ExternalLinks::default()
                },
                Some("https://www.themoviedb.org/movie/348".to_owned()),
            ),
            (
                ExternalLinks {
                    imdb_id: Some("tt<script>".to_owned()),
                    tmdb_id: Some("../348".to_owned()),
                    ..ExternalLinks::default()
                },
                None,
            ),
            (ExternalLinks::default(), None),
        ];
        for (links, expected) in cases {
            let described = format!("{links:?}");
            assert_eq!(
                public_link(&item(MediaKind::Movie, links)),
                expected,
                "{described}"
            );
        }
    }

    #[test]
    fn shows_link_to_tmdb_tv_pages() {
        let links = ExternalLinks {
            tmdb_id: Some("1396".to_owned()),
            ..ExternalLinks::default()
        };

        let link = public_link(&item(MediaKind::Show, links));

        assert_eq!(link.as_deref(), Some("https://www.themoviedb.org/tv/1396"));
    }
}
