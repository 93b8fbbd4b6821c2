use super::*;

fn parsed(title: &str, year: Option<u16>) -> ParsedTitle {
    ParsedTitle {
        title: title.to_owned(),
        year,
    }
}

#[test]
fn parse_title_table() {
    let cases = [
        ("Blade Runner (1982)", "Blade Runner", Some(1982)),
        (
            "Blade.Runner.1982.1080p.BluRay.x264",
            "Blade Runner",
            Some(1982),
        ),
        ("Blade_Runner_1982_720p_WEB-DL", "Blade Runner", Some(1982)),
        (
            "Blade.Runner.2049.2017.2160p",
            "Blade Runner 2049",
            Some(2017),
        ),
        ("Blade Runner 2049", "Blade Runner 2049", None),
        (
            "2001 A Space Odyssey (1968)",
            "2001 A Space Odyssey",
            Some(1968),
        ),
        (
            "2001.A.Space.Odyssey.1968.4K.UHD.HDR.HEVC",
            "2001 A Space Odyssey",
            Some(1968),
        ),
        ("1917 (2019)", "1917", Some(2019)),
        ("1917", "1917", None),
        ("1917.2019.1080p", "1917", Some(2019)),
        ("Kill Bill Vol. 1 (2003)", "Kill Bill Vol. 1", Some(2003)),
        (
            "Back to the Future Part II (1989)",
            "Back to the Future Part II",
            Some(1989),
        ),
        ("Monsters, Inc. (2001)", "Monsters, Inc.", Some(2001)),
        ("Blade Runner [1982]", "Blade Runner", Some(1982)),
        ("Blade Runner - (1982)", "Blade Runner", Some(1982)),
        (
            "Blade Runner (1982) {imdb-tt0083658}",
            "Blade Runner",
            Some(1982),
        ),
        ("Alien {edition-Director's Cut}", "Alien", None),
        ("Heat (1995) [1080p]", "Heat", Some(1995)),
        ("Heat.1080p.BluRay", "Heat", None),
        ("  Heat   ", "Heat", None),
        ("Charlotte's Web", "Charlotte's Web", None),
        (
            "Mr. Smith Goes to Washington",
            "Mr. Smith Goes to Washington",
            None,
        ),
        ("(1982)", "(1982)", None),
        ("1984 (1984)", "1984", Some(1984)),
        ("Fahrenheit 451 (1966)", "Fahrenheit 451", Some(1966)),
    ];
    for (input, title, year) in cases {
        assert_eq!(parse_title(input), parsed(title, year), "{input:?}");
    }
}

#[test]
fn parse_title_normalises_to_nfc() {
    let nfc = "Am\u{e9}lie (2001)";
    let nfd = "Ame\u{301}lie (2001)";
    assert_ne!(nfc, nfd);
    assert_eq!(parse_title(nfc), parsed("Am\u{e9}lie", Some(2001)));
    assert_eq!(parse_title(nfd), parsed("Am\u{e9}lie", Some(2001)));
}

#[test]
fn implausible_years_stay_in_title() {
    assert_eq!(parse_title("Space 1234"), parsed("Space 1234", None));
    assert_eq!(parse_title("Film (0042)"), parsed("Film (0042)", None));
    assert_eq!(parse_title("Film (2999)"), parsed("Film (2999)", None));
}

#[test]
fn classify_kodi_suffixes() {
    let cases = [
        (
            "Blade Runner (1982)-poster",
            "Blade Runner (1982)",
            Artwork::Poster,
        ),
        (
            "Blade Runner (1982)-fanart",
            "Blade Runner (1982)",
            Artwork::Background,
        ),
        (
            "Blade Runner (1982)-background",
            "Blade Runner (1982)",
            Artwork::Background,
        ),
        (
            "Blade Runner (1982)-Backdrop",
            "Blade Runner (1982)",
            Artwork::Background,
        ),
        (
            "Blade Runner (1982)-clearlogo",
            "Blade Runner (1982)",
            Artwork::Logo,
        ),
        (
            "Blade Runner (1982)-logo",
            "Blade Runner (1982)",
            Artwork::Logo,
        ),
    ];
    for (stem, base, role) in cases {
        assert_eq!(
            classify_stem(stem),
            StemKind::Art {
                base,
                role: Some(role),
                generic: false
            },
            "{stem:?}"
        );
    }
}

#[test]
fn classify_generic_names() {
    let cases = [
        ("poster", Some(Artwork::Poster)),
        ("Folder", None),
        ("cover", None),
        ("default", None),
        ("movie", None),
        ("show", None),
        ("fanart", Some(Artwork::Background)),
        ("background", Some(Artwork::Background)),
        ("backdrop", Some(Artwork::Background)),
        ("logo", Some(Artwork::Logo)),
        ("ClearLogo", Some(Artwork::Logo)),
    ];
    for (stem, role) in cases {
        assert_eq!(
            classify_stem(stem),
            StemKind::Art {
                base: stem,
                role,
                generic: true
            },
            "{stem:?}"
        );
    }
    assert_eq!(
        classify_stem("movie-poster"),
        StemKind::Art {
            base: "movie",
            role: Some(Artwork::Poster),
            generic: true
        }
    );
}

#[test]
fn classify_plain_and_hyphenated_titles() {
    for stem in ["Spider-Man (2002)", "X-Men", "Blade Runner (1982)"] {
        assert_eq!(
            classify_stem(stem),
            StemKind::Art {
                base: stem,
                role: None,
                generic: false
            },
            "{stem:?}"
        );
    }
}

#[test]
fn classify_unused_artwork() {
    for stem in [
        "season01-poster",
        "season-all-fanart",
        "season-specials-banner",
        "banner",
        "Blade Runner (1982)-banner",
        "Blade Runner (1982)-thumb",
        "Blade Runner (1982)-discart",
        "landscape",
    ] {
        assert_eq!(classify_stem(stem), StemKind::Unused, "{stem:?}");
    }
    assert_ne!(classify_stem("Seasons of Love"), StemKind::Unused);
}

#[test]
fn title_key_ignores_case_and_punctuation() {
    assert_eq!(title_key("Blade Runner"), "blade runner");
    assert_eq!(title_key("BLADE  RUNNER -"), "blade runner");
    assert_eq!(
        title_key("Star Wars: Episode IV"),
        title_key("Star Wars - Episode IV")
    );
    assert_eq!(title_key("Ame\u{301}lie"), title_key("AM\u{c9}LIE"));
    assert_ne!(title_key("Alien"), title_key("Aliens"));
}

#[test]
fn release_tags() {
    for tag in [
        "1080p", "2160P", "720p", "1080i", "[1080p]", "x265", "WEB-DL", "BluRay",
    ] {
        assert!(is_release_tag(tag), "{tag}");
    }
    for word in ["Web", "Extended", "1999", "P", "Runner"] {
        assert!(!is_release_tag(word), "{word}");
    }
}
