//! A small deterministic generator for unit tests (xorshift64), so that
//! tests need no random-number crate and replay the same inputs every run.

/// Xorshift64: `next_u64` is the classic 13/7/17 step of the state.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero `seed` (zero stays zero).
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1), from the top 53 bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
