//! A test application: SQLite in a temp dir, a catalog over a folder source made in the test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use onesheet_domain::{DisplaySettings, ExternalLinks, ImageRef, ItemImages, MediaItem, SourceId};
use onesheet_server::{AppState, BasePath};
use onesheet_sources::{Catalog, ImageBody, MediaSource, SourceError};
use onesheet_store::SqliteStore;
use tower::ServiceExt;

/// Serves each file of a folder as one item's poster; the key is the file name.
pub struct FolderSource {
    id: SourceId,
    root: PathBuf,
}

#[async_trait]
impl MediaSource for FolderSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "test"
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names
            .into_iter()
            .enumerate()
            .map(|(index, name)| {
                // Every item has an IMDb page, as most library items do, except files named
                // `nolink…`, for the cases without one.
                let links = ExternalLinks {
                    imdb_id: (!name.starts_with("nolink"))
                        .then(|| format!("tt{:07}", 1_000_000 + index)),
                    ..ExternalLinks::default()
                };
                let mut item = MediaItem {
                    upstream_key: name.clone(),
                    links,
                    title: format!("Title {index}"),
                    year: Some(1980 + index as u16),
                    images: ItemImages {
                        poster: Some(ImageRef {
                            key: name,
                            version: format!("v{index}"),
                            appearance: None,
                        }),
                        ..ItemImages::default()
                    },
                    ..MediaItem::default()
                };
                item.assign_identity(&self.id);
                Arc::new(item)
            })
            .collect())
    }

    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        Ok(ImageBody::File(self.root.join(&image.key)))
    }
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub catalog: Arc<Catalog>,
    pub images: Arc<onesheet_images::pipeline::ImagePipeline>,
    pub media: PathBuf,
    pub _dir: tempfile::TempDir,
}

impl TestApp {
    /// Builds the app over `files` (name, bytes) placed in a fresh media folder.
    pub async fn with_files(files: &[(&str, Vec<u8>)], base_path: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media");
        std::fs::create_dir_all(&media).unwrap();
        for (name, bytes) in files {
            std::fs::write(media.join(name), bytes).unwrap();
        }
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("onesheet.db"))
                .await
                .unwrap(),
        );
        let source = Arc::new(FolderSource {
            id: SourceId::new("local").unwrap(),
            root: media.clone(),
        });
        let catalog = Arc::new(Catalog::new(vec![source], dir.path().join("catalog.json")));
        catalog.refresh_all().await;
        let state = AppState::new(
            catalog.clone(),
            store,
            DisplaySettings::default(),
            BasePath::new(base_path).unwrap(),
        );
        Self {
            images: state.images.clone(),
            router: onesheet_server::router(state.clone()),
            state,
            catalog,
            media,
            _dir: dir,
        }
    }

    /// Builds the app over `count` generated JPEG posters.
    pub async fn with_posters(count: usize) -> Self {
        let files: Vec<(String, Vec<u8>)> = (0..count)
            .map(|i| (format!("poster-{i:03}.jpg"), jpeg(20 + i as u32, 30)))
            .collect();
        let borrowed: Vec<(&str, Vec<u8>)> =
            files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        Self::with_files(&borrowed, "").await
    }

    /// Rebuilds the router over the state `change` returns, such as one with trusted proxies.
    pub fn with_state(mut self, change: impl FnOnce(AppState) -> AppState) -> Self {
        self.state = change(self.state);
        self.router = onesheet_server::router(self.state.clone());
        self
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// Sends `GET uri` as if it arrived on a plain socket from `peer`, with `headers`.
    pub async fn get_from(&self, uri: &str, peer: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        self.send(request).await
    }

    /// Sends `request` through the router. Without a peer of its own it comes from loopback, as
    /// a screen on the server's own machine would.
    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 50_000));
            request.extensions_mut().insert(ConnectInfo(loopback));
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        TestResponse::read(response).await
    }

    pub fn first_item_id(&self) -> String {
        let snapshot = self.catalog.snapshot();
        snapshot.items[0].id.clone().unwrap().to_string()
    }
}

pub struct TestResponse {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub async fn read(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .unwrap()
    }
}

/// Encodes a solid JPEG of the given size.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 40, 40]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    bytes
}

/// Encodes a JPEG with a horizontal gradient, so that a resize has detail to keep.
pub fn gradient_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    bytes
}

/// Encodes a PNG with alpha.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_pixel(width, height, image::Rgba([0, 80, 200, 128]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}
