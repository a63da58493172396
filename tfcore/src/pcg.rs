//! The random generator sessions draw initial values from.

use core::convert::Infallible;
use rand::{SeedableRng, TryRng};

/// PCG32 (XSH RR, 64-bit state; O'Neill, 2014): small, fast, and the same numbers for the same
/// seed on every platform, 32-bit firmware included. It feeds `rand`'s distributions; it is not a
/// cryptographic generator.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Pcg32 {
    state: u64,
    increment: u64,
}

const MULTIPLIER: u64 = 6364136223846793005;

impl Pcg32 {
    /// The generator of `pcg32_srandom(seed, stream)`.
    pub const fn new(seed: u64, stream: u64) -> Pcg32 {
        let increment = (stream << 1) | 1;
        let state = increment.wrapping_add(seed).wrapping_mul(MULTIPLIER).wrapping_add(increment);
        Pcg32 { state, increment }
    }

    fn next(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(MULTIPLIER).wrapping_add(self.increment);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        xorshifted.rotate_right((old >> 59) as u32)
    }
}

impl TryRng for Pcg32 {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand::rand_core::utils::next_u64_via_u32(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        rand::rand_core::utils::fill_bytes_via_next_word(dst, || Ok::<u32, Infallible>(self.next()))
    }
}

impl SeedableRng for Pcg32 {
    type Seed = [u8; 16];

    fn from_seed(seed: [u8; 16]) -> Pcg32 {
        let [a, b] = [&seed[..8], &seed[8..]].map(|half| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(half);
            u64::from_le_bytes(bytes)
        });
        Pcg32::new(a, b)
    }

    fn seed_from_u64(seed: u64) -> Pcg32 {
        Pcg32::new(seed, 0xda3e_39cb_94b9_5bdb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_implementation() {
        // pcg32_srandom(42, 54) then pcg32_random(), from the PCG paper's demo (pcg32-demo.c).
        let mut rng = Pcg32::new(42, 54);
        let first: [u32; 6] = core::array::from_fn(|_| rng.next());
        assert_eq!(first, [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]);
    }
}
