//! Path patterns for fault rules and recorder queries: `*` matches within one path segment,
//! `**` matches across segments.

/// A compiled path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    pattern: String,
    ignore_case: bool,
}

impl PathPattern {
    pub(crate) fn new(pattern: &str, ignore_case: bool) -> PathPattern {
        PathPattern {
            pattern: pattern.to_owned(),
            ignore_case,
        }
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        glob(self.pattern.as_bytes(), path.as_bytes(), self.ignore_case)
    }
}

/// Matches `path` against `pattern` by backtracking. Patterns are short and written by tests,
/// so the worst case (many `**`) does not matter.
fn glob(pattern: &[u8], path: &[u8], ignore_case: bool) -> bool {
    match pattern {
        [] => path.is_empty(),
        [b'*', b'*', rest @ ..] => {
            (0..=path.len()).any(|skip| glob(rest, &path[skip..], ignore_case))
        }
        [b'*', rest @ ..] => {
            let segment_end = path
                .iter()
                .position(|byte| *byte == b'/')
                .unwrap_or(path.len());
            (0..=segment_end).any(|skip| glob(rest, &path[skip..], ignore_case))
        }
        [expected, rest @ ..] => match path {
            [actual, path_rest @ ..] => {
                let equal = if ignore_case {
                    expected.eq_ignore_ascii_case(actual)
                } else {
                    expected == actual
                };
                equal && glob(rest, path_rest, ignore_case)
            }
            [] => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::PathPattern;

    #[test]
    fn star_stays_within_segment() {
        let pattern = PathPattern::new("/library/sections/*/all", false);
        assert!(pattern.matches("/library/sections/1/all"));
        assert!(pattern.matches("/library/sections/12/all"));
        assert!(!pattern.matches("/library/sections/1/2/all"));
        assert!(!pattern.matches("/library/sections/1/all/more"));
    }

    #[test]
    fn double_star_crosses_segments() {
        let pattern = PathPattern::new("/Items/**", false);
        assert!(pattern.matches("/Items/abc/Images/Primary"));
        assert!(pattern.matches("/Items/"));
        assert!(!pattern.matches("/Items"));
    }

    #[test]
    fn case_follows_flag() {
        assert!(PathPattern::new("/Items", true).matches("/items"));
        assert!(!PathPattern::new("/Items", false).matches("/items"));
    }
}
