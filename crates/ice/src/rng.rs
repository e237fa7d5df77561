//! The agent's random source: SplitMix64 from a caller-provided seed.
//! Sans-IO: the agent never touches the OS RNG. Transaction ids,
//! tie-breakers and consent jitter come from here, so the caller must seed
//! it from a good source in production (e.g. 8 bytes of getrandom).

/// Randomness the agent can be given instead of a seed.
pub trait IceRng: core::fmt::Debug {
    /// 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// SplitMix64 (Steele, Lea, Flood 2014): the default [`IceRng`].
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
}

impl IceRng for SeededRng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
