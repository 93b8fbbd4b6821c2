use super::*;

const KODI_MOVIE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<!-- written by a media manager -->
<movie>
    <title>Blade Runner</title>
    <originaltitle>Blade Runner</originaltitle>
    <sorttitle>Blade Runner</sorttitle>
    <ratings>
        <rating name="themoviedb" max="10">
            <value>7.900000</value>
            <votes>13000</votes>
        </rating>
        <rating name="imdb" max="10" default="true">
            <value>8.100000</value>
            <votes>800000</votes>
        </rating>
    </ratings>
    <userrating>0</userrating>
    <outline>A blade runner must pursue four replicants.</outline>
    <plot>In 2019 Los Angeles, Deckard &amp; the replicants <![CDATA[<meet>]]> in the rain &#8212; once more.</plot>
    <tagline>Man has made his match... now it&apos;s his problem.</tagline>
    <runtime>117</runtime>
    <mpaa>Rated R</mpaa>
    <uniqueid type="imdb" default="true">tt0083658</uniqueid>
    <uniqueid type="tmdb">78</uniqueid>
    <genre>Science Fiction</genre>
    <genre>Drama</genre>
    <set>
        <name>Blade Runner Collection</name>
        <overview>Replicants and the men who hunt them.</overview>
    </set>
    <studio>The Ladd Company</studio>
    <studio>Warner Bros.</studio>
    <director>Ridley Scott</director>
    <premiered>1982-06-25</premiered>
    <trailer>plugin://plugin.video.youtube/?action=play_video&amp;videoid=eogpIG53Cis</trailer>
    <fileinfo>
        <streamdetails>
            <video><codec>hevc</codec><width>3840</width><height>2160</height></video>
        </streamdetails>
    </fileinfo>
    <actor>
        <name>Harrison Ford</name>
        <role>Rick Deckard</role>
        <order>0</order>
    </actor>
    <actor>
        <name>Rutger Hauer</name>
        <role>Roy Batty</role>
        <order>1</order>
    </actor>
</movie>
https://www.themoviedb.org/movie/78
"#;

#[test]
fn kodi_movie_fields() {
    let data = parse_nfo(KODI_MOVIE).unwrap().unwrap();

    assert_eq!(data.kind, Some(MediaKind::Movie));
    assert_eq!(data.title.as_deref(), Some("Blade Runner"));
    assert_eq!(data.original_title.as_deref(), Some("Blade Runner"));
    assert_eq!(data.year, Some(1982));
    assert_eq!(
        data.tagline.as_deref(),
        Some("Man has made his match... now it's his problem.")
    );
    assert_eq!(
        data.overview.as_deref(),
        Some(
            "In 2019 Los Angeles, Deckard & the replicants <meet> in the rain \u{2014} once more."
        )
    );
    assert_eq!(data.genres, ["Science Fiction", "Drama"]);
    assert_eq!(data.content_rating.as_deref(), Some("R"));
    assert_eq!(data.runtime_minutes, Some(117));
    assert_eq!(data.studios, ["The Ladd Company", "Warner Bros."]);
    assert_eq!(data.directors, ["Ridley Scott"]);
    assert_eq!(data.cast, ["Harrison Ford", "Rutger Hauer"]);
    assert_eq!(data.imdb_id.as_deref(), Some("tt0083658"));
    assert_eq!(data.tmdb_id.as_deref(), Some("78"));
    assert_eq!(
        data.trailer.as_deref(),
        Some("https://www.youtube.com/watch?v=eogpIG53Cis")
    );
}

#[test]
fn default_rating_is_chosen() {
    let data = parse_nfo(KODI_MOVIE).unwrap().unwrap();
    let rating = data.rating.unwrap();
    assert!((rating - 8.1).abs() < 1e-4, "{rating}");
}

#[test]
fn rating_scaled_from_max() {
    let nfo = r#"<movie><rating>6.0</rating><ratings>
        <rating name="metacritic" max="100"><value>84</value></rating>
    </ratings></movie>"#;
    let rating = parse_nfo(nfo).unwrap().unwrap().rating.unwrap();
    assert!((rating - 8.4).abs() < 1e-4, "{rating}");
}

#[test]
fn older_nfo_with_plain_fields() {
    let nfo = "<movie>
        <title>Amélie</title>
        <year>2001</year>
        <rating>7,8</rating>
        <id>tt0211915</id>
        <outline>Short outline only.</outline>
        <genre>Comedy / Romance</genre>
        <mpaa>FR:U</mpaa>
        <runtime>122 min</runtime>
        <trailer>https://example.invalid/trailer.mp4</trailer>
    </movie>";
    let data = parse_nfo(nfo).unwrap().unwrap();

    assert_eq!(data.title.as_deref(), Some("Amélie"));
    assert_eq!(data.year, Some(2001));
    assert_eq!(data.rating, Some(7.8));
    assert_eq!(data.imdb_id.as_deref(), Some("tt0211915"));
    assert_eq!(data.overview.as_deref(), Some("Short outline only."));
    assert_eq!(data.genres, ["Comedy", "Romance"]);
    assert_eq!(data.content_rating.as_deref(), Some("U"));
    assert_eq!(data.runtime_minutes, Some(122));
    assert_eq!(
        data.trailer.as_deref(),
        Some("https://example.invalid/trailer.mp4")
    );
}

#[test]
fn tvshow_sets_kind_and_ignores_tvdb_id() {
    let nfo = r#"<?xml version="1.0" encoding="UTF-8"?>
<tvshow>
    <title>Twin Peaks</title>
    <premiered>1990-04-08</premiered>
    <id>70533</id>
    <uniqueid type="tvdb" default="true">70533</uniqueid>
    <studio>ABC</studio>
</tvshow>"#;
    let data = parse_nfo(nfo).unwrap().unwrap();

    assert_eq!(data.kind, Some(MediaKind::Show));
    assert_eq!(data.year, Some(1990));
    assert_eq!(data.imdb_id, None);
    assert_eq!(data.tmdb_id, None);
}

#[test]
fn url_only_and_unknown_roots_hold_nothing() {
    assert_eq!(
        parse_nfo("https://www.imdb.com/title/tt0083658/\n").unwrap(),
        None
    );
    assert_eq!(parse_nfo("").unwrap(), None);
    assert_eq!(
        parse_nfo("<musicvideo><title>x</title></musicvideo>").unwrap(),
        None
    );
    assert_eq!(
        parse_nfo("<tvshow/>").unwrap().unwrap().kind,
        Some(MediaKind::Show)
    );
}

#[test]
fn byte_order_mark_is_skipped() {
    let data = parse_nfo("\u{feff}<movie><title>Heat</title></movie>")
        .unwrap()
        .unwrap();
    assert_eq!(data.title.as_deref(), Some("Heat"));
}

#[test]
fn malformed_nfos_are_errors() {
    for nfo in [
        "<movie><title>Heat</year></movie>",
        "<movie><title>Heat</title>",
        "<movie><title>Heat &nbsp; Dust</title></movie>",
        "<movie><title>Heat</title></movie",
    ] {
        let result = parse_nfo(nfo);
        assert!(
            matches!(result, Err(NfoError::Malformed(_))),
            "{nfo:?}: {result:?}"
        );
    }
}

#[test]
fn unsupported_trailer_links_are_dropped() {
    assert_eq!(trailer_url("plugin://plugin.video.other/?id=1"), None);
    assert_eq!(
        trailer_url("plugin://plugin.video.youtube/play/?video_id=abc_DEF-123"),
        Some("https://www.youtube.com/watch?v=abc_DEF-123".to_owned())
    );
    assert_eq!(
        trailer_url("plugin://plugin.video.youtube/?videoid=bad\"id"),
        None
    );
    assert_eq!(trailer_url("javascript:alert(1)"), None);
}

#[test]
fn content_rating_cleanup() {
    for (raw, expected) in [
        ("Rated PG-13", "PG-13"),
        ("US:PG-13", "PG-13"),
        ("de:FSK 12", "FSK 12"),
        ("TV-MA", "TV-MA"),
        ("NC-17", "NC-17"),
    ] {
        assert_eq!(clean_content_rating(raw), expected, "{raw}");
    }
}

#[test]
fn apply_to_overrides_given_fields_only() {
    let mut item = MediaItem {
        title: "Blade Runner".to_owned(),
        year: Some(1982),
        genres: vec!["Kept".to_owned()],
        ..MediaItem::default()
    };
    let data = NfoData {
        kind: Some(MediaKind::Show),
        title: Some("Blade Runner: The Final Cut".to_owned()),
        overview: Some("Plot".to_owned()),
        ..NfoData::default()
    };

    data.apply_to(&mut item);

    assert_eq!(item.kind, MediaKind::Show);
    assert_eq!(item.title, "Blade Runner: The Final Cut");
    assert_eq!(item.year, Some(1982));
    assert_eq!(item.genres, ["Kept"]);
    assert_eq!(item.overview.as_deref(), Some("Plot"));
}

#[test]
fn read_nfo_limits_and_encoding() {
    let dir = tempfile::tempdir().unwrap();

    let good = dir.path().join("movie.nfo");
    std::fs::write(&good, KODI_MOVIE).unwrap();
    assert!(read_nfo(&good).unwrap().is_some());

    let oversized = dir.path().join("huge.nfo");
    let mut text = String::from("<movie><plot>");
    text.push_str(&"x".repeat(MAX_NFO_BYTES as usize));
    text.push_str("</plot></movie>");
    std::fs::write(&oversized, text).unwrap();
    assert!(matches!(
        read_nfo(&oversized),
        Err(NfoError::TooLarge { .. })
    ));

    let latin1 = dir.path().join("latin1.nfo");
    std::fs::write(&latin1, b"<movie><title>Am\xe9lie</title></movie>").unwrap();
    assert!(matches!(read_nfo(&latin1), Err(NfoError::NotUtf8)));

    assert!(matches!(
        read_nfo(&dir.path().join("missing.nfo")),
        Err(NfoError::Io(_))
    ));
}

#[test]
fn long_fields_and_lists_are_capped() {
    let title = "T".repeat(10_000);
    let actors: String = (0..200)
        .map(|i| format!("<actor><name>Actor {i}</name></actor>"))
        .collect();
    let xml = format!("<movie><title>{title}</title>{actors}</movie>");
    let data = parse_nfo(&xml).unwrap().unwrap();
    assert_eq!(data.title.unwrap().chars().count(), 4000);
    assert_eq!(data.cast.len(), 50);
}
