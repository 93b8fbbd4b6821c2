//! Start-up of the image service: the disk cache, the memory cache and the decode pool.

use std::sync::Arc;
use std::time::Duration;

use onesheet_images::cache::disk::{DiskCache, DiskCacheConfig};
use onesheet_images::pipeline::ImagePipeline;
use tracing::{info, warn};

use crate::config::Config;

/// How often the disk cache's recency index is saved. A crash loses at most this much recency,
/// never entries: the folder is the record of what exists.
const PERSIST_INTERVAL: Duration = Duration::from_secs(60);

/// How often the server looks for the marker that `onesheet cache clear` leaves, to re-read
/// the cleared folder. Each look is one small file read.
const CLEAR_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Builds the image service. A disk cache that cannot be opened is logged and left out:
/// images are then derived and served from memory only, which is slower but never wrong.
pub async fn start(config: &Config) -> Arc<ImagePipeline> {
    let pipeline_config = config.images.pipeline(&config.cache);
    let disk = open_disk_cache(config).await;
    let pipeline = Arc::new(ImagePipeline::new(pipeline_config, disk));

    let maintained = Arc::clone(&pipeline);
    tokio::spawn(async move {
        let mut persist = tokio::time::interval(PERSIST_INTERVAL);
        persist.tick().await;
        let mut clear_check = tokio::time::interval(CLEAR_CHECK_INTERVAL);
        clear_check.tick().await;
        loop {
            tokio::select! {
                _ = persist.tick() => maintained.persist().await,
                _ = clear_check.tick() => {
                    // A fresh index is saved at once, so the next start does not load the
                    // deleted entries the old one listed.
                    if maintained.reload_disk_if_cleared().await {
                        maintained.persist().await;
                    }
                }
            }
        }
    });
    pipeline
}

async fn open_disk_cache(config: &Config) -> Option<Arc<DiskCache>> {
    let max_bytes = config.cache.max_bytes.as_u64();
    if max_bytes == 0 {
        info!("disk cache of derived images is off (cache.max_bytes = 0)");
        return None;
    }

    let folder = config.cache_dir();
    let disk_config = DiskCacheConfig {
        max_bytes,
        min_free_bytes: config.cache.min_free_bytes.as_u64(),
    };
    let opening = folder.clone();
    let opened = tokio::task::spawn_blocking(move || DiskCache::open(&opening, disk_config)).await;
    match opened {
        Ok(Ok(cache)) => {
            let stats = cache.stats();
            info!(
                folder = %folder.display(),
                entries = stats.entries,
                bytes = stats.bytes,
                max_bytes,
                "disk cache of derived images opened"
            );
            Some(Arc::new(cache))
        }
        Ok(Err(error)) => {
            warn!(%error, "disk cache of derived images is off; images are served without it");
            None
        }
        Err(error) => {
            warn!(%error, "disk cache of derived images is off; images are served without it");
            None
        }
    }
}
