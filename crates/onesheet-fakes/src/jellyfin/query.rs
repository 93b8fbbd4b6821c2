//! Query parameters as ASP.NET binds them for Jellyfin and Emby: names ignore case, and list
//! parameters accept both comma-separated values and repeated names.

#[derive(Debug, Default)]
pub(super) struct Params {
    /// Pairs with lower-cased names, in order.
    pairs: Vec<(String, String)>,
}

impl Params {
    pub(super) fn parse(raw: Option<&str>) -> Params {
        let pairs = raw
            .map(|raw| {
                url::form_urlencoded::parse(raw.as_bytes())
                    .map(|(name, value)| (name.to_ascii_lowercase(), value.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Params { pairs }
    }

    /// First value of `name`, if present and not empty.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.pairs
            .iter()
            .find(|(key, value)| *key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// Returns every value of `name`, split at commas and trimmed, without empty entries.
    pub(super) fn list(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        self.pairs
            .iter()
            .filter(|(key, _)| *key == name)
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `true` or `false` in any case; anything else counts as absent.
    pub(super) fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)?.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    pub(super) fn number(&self, name: &str) -> Option<u64> {
        self.get(name)?.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn names_ignore_case_and_lists_merge() {
        let params = Params::parse(Some(
            "IncludeItemTypes=Movie,Series&includeitemtypes=Episode&startIndex=20&Recursive=TRUE",
        ));
        assert_eq!(
            params.list("includeItemTypes"),
            ["Movie", "Series", "Episode"]
        );
        assert_eq!(params.number("StartIndex"), Some(20));
        assert_eq!(params.flag("recursive"), Some(true));
        assert_eq!(params.get("Limit"), None);
    }
}
