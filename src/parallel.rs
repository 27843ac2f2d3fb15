//! The thread pool the analysis runs on.
//!
//! The analysis splits its passes over the signal with rayon; run inside
//! [`install`], they use that pool. When no thread can be started (a process
//! limit), the work still runs, on the calling thread alone: the pool is then
//! that one thread (rayon keeps such a pool's registry for the life of the
//! process), not rayon's global pool, whose creation would fail the same way
//! and panic.

use rayon::{ThreadPool, ThreadPoolBuilder};

/// A pool of `threads` threads (`None`: rayon's default, one per core or
/// `RAYON_NUM_THREADS`), or of the calling thread alone when threads cannot
/// be started.
fn pool(threads: Option<usize>) -> Option<ThreadPool> {
    let mut b = ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n.max(1));
    }
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
