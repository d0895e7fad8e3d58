//! Checks shared by the `cargo fuzz` targets (fuzz/) and the stable property
//! tests: each takes arbitrary bytes, turns them into a scenario and reports
//! a mismatch as an error. Built only for tests and with the `fuzzing`
//! feature; not part of the plugin.

mod kernel_model;
mod values;

pub use kernel_model::check_kernel_against_model;
pub use values::check_value_round_trip;

/// Reads a fuzzer's bytes as a stream of small choices; past the end every
/// choice is 0, so any input is a complete scenario.
pub(crate) struct Choices<'a> {
    bytes: &'a [u8],
}

impl<'a> Choices<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Choices { bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.bytes.split_first() else {
            return 0;
        };
        self.bytes = rest;
        first
    }

    /// A number below `n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let wide = usize::from(self.byte()) << 8 | usize::from(self.byte());
        wide % n
    }

    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        taken
    }

    pub(crate) fn u64(&mut self) -> u64 {
        let mut word = [0u8; 8];
        let taken = self.take(8);
        word[..taken.len()].copy_from_slice(taken);
        u64::from_le_bytes(word)
    }
}

#[cfg(test)]
mod property_tests {
    //! The fuzz targets' checks on seeded random inputs: stable, fast, and
    //! reproducible (a failure prints its seed).

    use super::*;

    /// xorshift64*: a fixed, dependency-free generator.
    fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    fn run(check: fn(&[u8]) -> Result<(), String>, cases: u64, max_len: usize) {
        for seed in 0..cases {
            let len = (seed as usize * 7919) % max_len;
            let input = random_bytes(seed, len);
            if let Err(mismatch) = check(&input) {
                panic!("seed {seed} ({} input bytes): {mismatch}", input.len());
            }
        }
    }

    #[test]
    fn values_cross_intact_for_random_graphs() {
        run(check_value_round_trip, 120, 600);
    }

    #[test]
    fn the_kernel_follows_its_model_for_random_operation_sequences() {
        run(check_kernel_against_model, 1500, 1200);
    }
}
