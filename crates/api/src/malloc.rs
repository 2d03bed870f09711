//! glibc malloc settings for a long-running service, applied once at start.
//!
//! Left to its defaults, glibc keeps memory the service has finished with:
//! - it opens an arena per thread (up to 8 per core), and memory freed in one arena
//!   serves only that arena: a roster sync handled by one worker, then another by the
//!   other worker, held both syncs' peaks at once;
//! - its mmap threshold is dynamic: the first large block freed (the 19 MiB of an
//!   argon2 hash, at start-up or the first login) raises it to that size, and from then
//!   on every buffer below 19 MiB comes from the heap, which is only given back from
//!   its top.
//!
//! So: two arenas, and a fixed 128 KiB threshold (glibc's own starting value) for mmap
//! and for trimming, so a large buffer goes back to the system when it is freed. On
//! `bench/roster.sh` this took the peak of three 100,000-rider syncs from 342 to 193 MB
//! at the same speed. (mimalloc, tried as the global allocator instead, was a tenth
//! faster on the member list but idled at 65 MB against 40.) A setting given in the
//! environment (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`)
//! is left as the operator set it.

/// Applies the settings; call first thing in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    const ARENAS: libc::c_int = 2;
    const THRESHOLD: libc::c_int = 128 * 1024;
    let settings = [
        ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, ARENAS),
        ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, THRESHOLD),
        ("MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, THRESHOLD),
    ];
    for (env, param, value) in settings {
        if std::env::var_os(env).is_none() {
            set(param, value);
        }
    }
}

/// Not glibc: nothing to tune.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// The one unsafe call in the service. `mallopt` only changes allocator parameters and
/// reports failure by returning 0, which leaves glibc's default in place: nothing to
/// handle.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set(param: libc::c_int, value: libc::c_int) {
    // SAFETY: mallopt takes plain integers, touches no Rust-owned memory and is safe to
    // call at any time (glibc serialises it against allocation).
    unsafe {
        libc::mallopt(param, value);
    }
}
