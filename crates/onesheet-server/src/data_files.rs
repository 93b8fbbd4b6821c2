//! The check that the data directory and its secret files are private to the server's user.
//!
//! The server runs it at start, where each finding becomes a warning in the log, and the admin
//! dashboard runs it again on every refresh, so a `chmod` shows up without a restart.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Files in the data directory that contain credentials or sessions.
pub const SECRET_FILES: [&str; 3] = ["onesheet.db", "secret.key", "setup-token"];

/// A path that users other than the server's own can read or enter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedPath {
    pub path: PathBuf,
    /// Permission bits, such as `644`, in octal.
    pub mode: String,
    /// The mode that makes it private: `700` for a folder, `600` for a file.
    pub private_mode: &'static str,
}

/// Lists the data directory and those of its [`SECRET_FILES`] that exist and that other users
/// can read or enter. A path that cannot be inspected is left out.
pub fn shared_paths(data_dir: &Path) -> Vec<SharedPath> {
    std::iter::once(data_dir.to_path_buf())
        .chain(SECRET_FILES.iter().map(|name| data_dir.join(name)))
        .filter_map(|path| {
            shared(&path).map(|(mode, private_mode)| SharedPath {
                path,
                mode,
                private_mode,
            })
        })
        .collect()
}

/// Returns the mode in octal and the private mode when group or others have any permission on
/// `path`.
#[cfg(unix)]
fn shared(path: &Path) -> Option<(String, &'static str)> {
    use std::os::unix::fs::PermissionsExt;

    let metadata = std::fs::metadata(path).ok()?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    let private_mode = if metadata.is_dir() { "700" } else { "600" };
    Some((format!("{mode:o}"), private_mode))
}

/// Permission bits exist only on Unix, so elsewhere nothing is reported.
#[cfg(not(unix))]
fn shared(_: &Path) -> Option<(String, &'static str)> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn readable_files_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        set_mode(dir.path(), 0o700);
        let key = dir.path().join("secret.key");
        std::fs::write(&key, "k").unwrap();
        set_mode(&key, 0o644);
        let database = dir.path().join("onesheet.db");
        std::fs::write(&database, "d").unwrap();
        set_mode(&database, 0o600);

        let shared = shared_paths(dir.path());
        assert_eq!(
            shared,
            [SharedPath {
                path: key,
                mode: "644".to_owned(),
                private_mode: "600",
            }]
        );
    }

    #[test]
    fn open_folder_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        set_mode(dir.path(), 0o755);
        let shared = shared_paths(dir.path());
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].private_mode, "700");
        assert_eq!(shared[0].mode, "755");
    }
}
