//! Free space on the filesystem that contains the cache.

use std::path::Path;

/// Returns the bytes that unprivileged writers may still use on the filesystem that contains `path`
/// (`f_bavail × f_frsize` from `statvfs`), or `None` when the call fails.
///
/// Using the unprivileged figure keeps the cache out of the blocks that ext4 and others reserve
/// for root, even though the server may run as root.
pub(super) fn free_bytes(path: &Path) -> Option<u64> {
    match nix::sys::statvfs::statvfs(path) {
        Ok(stats) => {
            // The libc field types are narrower than u64 on some targets.
            #[allow(clippy::useless_conversion)]
            let (blocks, block_size) = (
                u64::from(stats.blocks_available()),
                u64::from(stats.fragment_size()),
            );
            Some(blocks.saturating_mul(block_size))
        }
        Err(error) => {
            tracing::debug!(path = %path.display(), %error, "statvfs failed on the cache folder");
            None
        }
    }
}
