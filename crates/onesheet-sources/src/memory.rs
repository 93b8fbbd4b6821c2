//! Keeping glibc's malloc from holding on to memory that a refresh freed.
//!
//! A refresh of a large media server parses hundreds of JSON pages on the runtime's worker
//! threads and builds every item anew. glibc's malloc keeps freed memory in the arena it came
//! from, and by itself returns only free space at the top of a heap. Pages freed below items
//! that stay alive therefore remain resident until `malloc_trim` releases them. Since glibc 2.8
//! it does so for whole free pages anywhere in every arena (see malloc_trim(3)).
//!
//! glibc also gives a thread that finds the arenas in use an arena of its own, up to eight per
//! core on 64-bit systems (see mallopt(3), `M_ARENA_MAX`). Memory freed in one arena cannot serve
//! a thread that allocates from another, so every extra arena keeps free memory of its own.
//! [`limit_arenas`] caps them.
//!
//! On other C libraries (musl) and other systems both functions do nothing.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::ffi::OsStr;

/// Asks glibc to return every whole free page of its arenas to the operating system. Returns
/// whether any memory was released.
///
/// It locks each arena in turn, so threads that allocate meanwhile wait for it. Call it from a
/// blocking task and not on a hot path.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and reads no caller memory. It only changes
    // glibc's own free lists, under each arena's lock, so any thread may call it at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Does nothing, because only glibc keeps freed pages in a way that needs `malloc_trim`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

/// Caps the number of glibc malloc arenas at `max` (at least 1), unless the environment sets a
/// cap already with `MALLOC_ARENA_MAX` or `glibc.malloc.arena_max` in `GLIBC_TUNABLES`, which
/// then wins. Returns whether this call set the cap.
///
/// Call it before the runtime starts its threads, because a thread keeps the arena it was
/// given. Fewer arenas mean that threads wait for one another's allocations more often.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_arenas(max: usize) -> bool {
    let configured = arena_limit_configured(
        std::env::var_os("MALLOC_ARENA_MAX").as_deref(),
        std::env::var_os("GLIBC_TUNABLES").as_deref(),
    );
    if configured {
        return false;
    }
    let max = libc::c_int::try_from(max.max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` takes two integers and reads no caller memory. It changes only glibc's
    // own allocator settings, under its lock, so any thread may call it at any time.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, max) == 1 }
}

/// Does nothing, because the arenas are glibc's.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas(_max: usize) -> bool {
    false
}

/// True when the environment sets glibc's arena cap itself.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn arena_limit_configured(malloc_arena_max: Option<&OsStr>, tunables: Option<&OsStr>) -> bool {
    // glibc ignores an empty MALLOC_ARENA_MAX, so an empty one does not count.
    let variable = malloc_arena_max.is_some_and(|value| !value.is_empty());
    let tunable = tunables.is_some_and(|value| {
        value
            .to_string_lossy()
            .split(':')
            .any(|setting| setting.starts_with("glibc.malloc.arena_max="))
    });
    variable || tunable
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn arena_cap_from_environment_wins() {
        let os = |text: &'static str| Some(OsStr::new(text));

        assert!(arena_limit_configured(os("4"), None));
        assert!(arena_limit_configured(
            None,
            os("glibc.malloc.check=0:glibc.malloc.arena_max=4")
        ));
        assert!(!arena_limit_configured(None, None));
        assert!(!arena_limit_configured(os(""), None));
        assert!(!arena_limit_configured(
            None,
            os("glibc.malloc.arena_test=2:glibc.malloc.trim_threshold=0")
        ));
    }
}
