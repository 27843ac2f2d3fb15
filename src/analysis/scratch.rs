//! The analysis core's reusable memory, in one place: per-thread caches and
//! one shared pool. Nothing here holds a result. Each keeps memory (or a
//! transform plan) that the next recording analysed on the same thread would
//! otherwise allocate, fault in or plan again: a batch analyses thousands of
//! recordings, and these costs were a measurable part of each. Whether a
//! cache is warm or cold, the same input gives the same bytes.
//!
//! | cache | holds | used by |
//! |---|---|---|
//! | `HISTOGRAM` (thread) | the 256 KiB bucket counts of a large selection | [`dsp::median_in_place`](super::dsp::median_in_place) |
//! | `NOISE_DIFFS` (thread) | the sample differences of the noise pass (a few MB) | [`dsp::noise_and_piece_extremes`](super::dsp::noise_and_piece_extremes) |
//! | `SPECTRUM_TOOLS` (thread) | the last forward-FFT plan and Hann window, with their length | the mains spectrum ([`hum`](super::hum)) |
//! | `SPARE_FRAME_BUFFERS` (shared) | spectrum-frame work buffers, as many as run at once | the mains spectrum |
//!
//! The rule that keeps them safe under rayon: every accessor takes the value
//! out (or clones an `Arc`) and puts it back later, so no borrow is ever held
//! while a worker waits in a join and may run another task that wants the
//! same cache.

use realfft::num_complex::Complex;
use realfft::RealToComplex;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

thread_local! {
    /// A large selection's histogram, kept for the next call on this thread.
    static HISTOGRAM: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// The noise pass's differences, kept for the next recording.
    static NOISE_DIFFS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// The last transform plan and Hann window built on this thread, with
    /// their length: a batch analyses many recordings at one rate, and
    /// planning a 64k-point transform and its window costs about as much as
    /// running it.
    static SPECTRUM_TOOLS: RefCell<Option<SpectrumTools>> = const { RefCell::new(None) };
}

/// This thread's histogram buffer (empty the first time).
pub(crate) fn take_histogram() -> Vec<u32> {
    HISTOGRAM.with(|h| std::mem::take(&mut *h.borrow_mut()))
}

/// Keep the histogram buffer for the next call on this thread.
pub(crate) fn put_histogram(v: Vec<u32>) {
    HISTOGRAM.with(|h| *h.borrow_mut() = v);
}

/// This thread's differences buffer (empty the first time).
pub(crate) fn take_noise_diffs() -> Vec<f64> {
    NOISE_DIFFS.with(|b| std::mem::take(&mut *b.borrow_mut()))
}

/// Keep the differences buffer for the next recording on this thread.
pub(crate) fn put_noise_diffs(v: Vec<f64>) {
    NOISE_DIFFS.with(|b| *b.borrow_mut() = v);
}

/// A forward real FFT plan and the matching Hann window, with their length.
type SpectrumTools = (usize, Arc<dyn RealToComplex<f64>>, Arc<Vec<f64>>);

/// The plan and window for `nfft` points: this thread's cached ones when
/// they have that length, else `build()`'s, which are then cached. No borrow
/// is held while `build` runs (it may join, and the waiting thread may run
/// another task that wants the tools).
pub(crate) fn spectrum_tools(
    nfft: usize,
    build: impl FnOnce() -> (Arc<dyn RealToComplex<f64>>, Arc<Vec<f64>>),
) -> (Arc<dyn RealToComplex<f64>>, Arc<Vec<f64>>) {
    let cached = SPECTRUM_TOOLS.with(|cache| {
        cache
            .borrow()
            .as_ref()
            .filter(|(n, _, _)| *n == nfft)
            .map(|(_, fft, window)| (Arc::clone(fft), Arc::clone(window)))
    });
    if let Some(tools) = cached {
        return tools;
    }
    let (fft, window) = build();
    SPECTRUM_TOOLS.with(|cache| {
        *cache.borrow_mut() = Some((nfft, Arc::clone(&fft), Arc::clone(&window)));
    });
    (fft, window)
}

/// The work buffers of one spectrum frame. Spare sets are kept for the next
/// frames and recordings (allocated afresh, their pages were faulted in
/// again and again in a batch), as many as run at once.
#[derive(Default)]
pub(crate) struct FrameBuffers {
    /// The frame's windowed points.
    pub input: Vec<f64>,
    /// Its spectrum.
    pub spectrum: Vec<Complex<f64>>,
    /// The transform's scratch space.
    pub scratch: Vec<Complex<f64>>,
    /// Which points are masked.
    pub masked: Vec<bool>,
}

/// Spare [`FrameBuffers`].
static SPARE_FRAME_BUFFERS: Mutex<Vec<FrameBuffers>> = Mutex::new(Vec::new());

impl FrameBuffers {
    /// A spare set, or a new one.
    pub(crate) fn take() -> Self {
        SPARE_FRAME_BUFFERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default()
    }

    /// Keep this set for later, unless `keep` sets are spare already.
    pub(crate) fn give_back(self, keep: usize) {
        let mut spare = SPARE_FRAME_BUFFERS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if spare.len() < keep {
            spare.push(self);
        }
    }
}
