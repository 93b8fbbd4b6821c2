//! The request log of a fake server, so tests can assert on what a client sent: method, path,
//! query string and every header, in arrival order.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::{HeaderMap, Method, StatusCode, Uri};

use crate::pattern::PathPattern;

/// One request as the fake server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: Method,
    /// Path as sent, including any base-path prefix and still percent-encoded.
    pub path: String,
    /// `path` without the server's base path, as fault rules match it. Equal to `path` when the
    /// request did not start with the base path.
    pub route: String,
    /// Query string as sent, without the `?`.
    pub raw_query: Option<String>,
    /// Query pairs, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// Status of the response, once it has been produced. `None` while the request is in
    /// flight (a delayed page, for example) or when the connection closed first.
    pub status: Option<StatusCode>,
}

impl RecordedRequest {
    fn new(method: &Method, uri: &Uri, headers: &HeaderMap, base_path: &str) -> RecordedRequest {
        let raw_query = uri.query().map(str::to_owned);
        let query = raw_query
            .as_deref()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        RecordedRequest {
            method: method.clone(),
            path: uri.path().to_owned(),
            route: strip_base_path(uri.path(), base_path).to_owned(),
            raw_query,
            query,
            headers: headers.clone(),
            status: None,
        }
    }

    /// Value of the first header called `name` (case-insensitive), if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// Decoded value of the first query parameter called exactly `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Decoded value of the first query parameter whose name equals `name` ignoring ASCII case,
    /// as Jellyfin and Emby match them.
    pub fn query_param_ignore_case(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Returns `path` without the `base_path` prefix, or `path` itself when it lies outside it.
pub(crate) fn strip_base_path<'a>(path: &'a str, base_path: &str) -> &'a str {
    if base_path.is_empty() {
        return path;
    }
    match path.strip_prefix(base_path) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Shared, cloneable log of every request a fake received.
#[derive(Debug, Clone)]
pub struct Recorder {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    base_path: Arc<str>,
    /// Whether paths match patterns ignoring ASCII case, as Jellyfin and Emby route them.
    ignore_case: bool,
}

impl Recorder {
    pub(crate) fn new(base_path: &str, ignore_case: bool) -> Recorder {
        Recorder {
            requests: Arc::default(),
            base_path: Arc::from(base_path),
            ignore_case,
        }
    }

    /// Appends a request and returns its position, for [`Recorder::set_status`].
    pub(crate) fn record(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> usize {
        let request = RecordedRequest::new(method, uri, headers, &self.base_path);
        let mut requests = self.lock();
        requests.push(request);
        requests.len() - 1
    }

    pub(crate) fn set_status(&self, position: usize, status: StatusCode) {
        if let Some(request) = self.lock().get_mut(position) {
            request.status = Some(status);
        }
    }

    /// Returns every request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    /// Requests whose [`route`](RecordedRequest::route) matches `pattern`, in the syntax of
    /// [`FaultRule::new`](crate::FaultRule::new). The Jellyfin and Emby fakes compare paths
    /// ignoring ASCII case, like the real servers route them.
    pub fn matching(&self, pattern: &str) -> Vec<RecordedRequest> {
        let pattern = PathPattern::new(pattern, self.ignore_case);
        self.lock()
            .iter()
            .filter(|request| pattern.matches(&request.route))
            .cloned()
            .collect()
    }

    /// Returns the most recent request.
    pub fn last(&self) -> Option<RecordedRequest> {
        self.lock().last().cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every request recorded so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        // Entries are pushed whole, so a panic elsewhere cannot leave the log half-written.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
