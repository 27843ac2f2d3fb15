//! Reuse of sample buffers between the recordings read on one thread.
//!
//! `rns batch` (and `rns analyze` with several files) reads one recording
//! after another. A fresh buffer for each one's samples costs the kernel a
//! page fault and a page of zeroes per 4 KiB, and in a process with several
//! threads every freed buffer's unmapping interrupts the others. So a thread
//! keeps the buffers of a recording it is done with ([`recycle`]), and the
//! next reader on that thread takes them ([`take`]). Contents never carry
//! over: a buffer is handed out empty.

use crate::recording::Recording;
use std::cell::RefCell;

/// Spare buffers kept per thread (the EMG channel, and a trigger channel).
const KEEP: usize = 2;

thread_local! {
    static SPARE: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for at least `capacity` samples: the smallest
/// spare one of this thread that is large enough, else a new one. When that
/// much memory cannot be had, an empty buffer that grows as it is filled
/// (an estimate that was too high must not abort the reader).
pub fn take(capacity: usize) -> Vec<f32> {
    let reused = SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        let best = spare
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= capacity)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        best.map(|i| spare.swap_remove(i))
    });
    match reused {
        Some(mut v) => {
            v.clear();
            v
        }
        None => {
            let mut v = Vec::new();
            let _ = v.try_reserve_exact(capacity);
            v
        }
    }
}

/// Keep the sample buffers of a recording that is no longer needed for the
/// next recording read on this thread (the largest `KEEP`).
pub fn recycle(rec: Recording) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        for ch in rec.channels {
            if ch.samples.capacity() > 0 {
                spare.push(ch.samples);
            }
        }
        if spare.len() > KEEP {
            spare.sort_by_key(|v| std::cmp::Reverse(v.capacity()));
            spare.truncate(KEEP);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SampleRate;
    use std::path::PathBuf;

    #[test]
    fn a_recycled_buffer_comes_back_empty_and_large_enough() {
        let rate = SampleRate::new(2000.0).unwrap();
        let mut samples = Vec::with_capacity(5000);
        samples.extend([1.0f32; 3000]);
        let ptr = samples.as_ptr();
        recycle(Recording::single_channel(PathBuf::from("x"), rate, samples));
        // Too large a request: a new buffer.
        assert!(take(10_000).capacity() >= 10_000);
        let again = take(4000);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
        assert!(again.capacity() >= 4000);
        // The spare is gone now.
        let fresh = take(4000);
        assert_ne!(fresh.as_ptr(), ptr);
    }
}
