//! The thread pool the analysis runs on.
//!
//! The analysis splits its passes over the signal with rayon; run inside
//! [`install`], they use that pool. When no thread can be started (a process
//! limit), the work still runs, on the calling thread alone: the pool is then
//! that one thread (rayon keeps such a pool's registry for the life of the
//! process), not rayon's global pool, whose creation would fail the same way
//! and panic.

use rayon::{ThreadPool, ThreadPoolBuilder};

/// The most threads a pool is given: four per core, at least 4 and at most
/// 256. More only cost memory and start-up time (`--jobs 4096` took 46 s
/// for 11 files; 100 000 never finished).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).clamp(4, 256)
}

/// `requested` threads within `1..=`[`max_threads`], and whether it had to
/// be lowered.
pub fn clamp_threads(requested: usize) -> (usize, bool) {
    let max = max_threads();
    (requested.clamp(1, max), requested > max)
}

/// The thread count `RAYON_NUM_THREADS` asks for, when it is a positive
/// number (rayon ignores anything else, and so does this).
pub fn env_threads() -> Option<usize> {
    std::env::var("RAYON_NUM_THREADS")
        .ok()?
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
}

/// A pool of `threads` threads (`None`: one per core, or
/// `RAYON_NUM_THREADS`), never more than [`max_threads`], or of the calling
/// thread alone when threads cannot be started.
fn pool(threads: Option<usize>) -> Option<ThreadPool> {
    let n = threads
        .or_else(env_threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let b = ThreadPoolBuilder::new().num_threads(clamp_threads(n).0);
    b.build().ok().or_else(|| {
        ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build()
            .ok()
    })
}

/// Run `f` inside a pool of `threads` threads (see `pool`). The results of
/// the analysis do not depend on the number of threads.
pub fn install<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> T {
    match pool(threads) {
        Some(p) => p.install(f),
        // Only when the calling thread already belongs to a pool (a pool of
        // the current thread needs no new thread): `f` then runs in that one.
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_bounded() {
        let max = max_threads();
        assert!((4..=256).contains(&max));
        assert_eq!(clamp_threads(0), (1, false));
        assert_eq!(clamp_threads(3), (3, false));
        assert_eq!(clamp_threads(max), (max, false));
        assert_eq!(clamp_threads(100_000), (max, true));
        // A pool asked for far too many threads is built, at the bound.
        assert_eq!(install(Some(100_000), rayon::current_num_threads), max);
    }
}
