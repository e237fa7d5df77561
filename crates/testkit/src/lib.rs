//! Test support shared by Tern's crates.
//!
//! Every crate runs its fuzz target bodies over the committed seeds in an
//! ordinary unit test, so `cargo test --all-features` exercises them without
//! cargo-fuzz; this is the one place that knows where those seeds live.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// The directory holding the seeds of fuzz target `target`
/// (`fuzz/corpus/<target>` at the top of the repository).
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// The committed seeds of fuzz target `target`: the files named `seed-*`
/// (anything else there is a local fuzzer's output, not in git), sorted by
/// name so runs are reproducible. Panics when there are none, so a test
/// over the seeds cannot pass by running nothing.
pub fn fuzz_seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"))
        })
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    assert!(!seeds.is_empty(), "no seed-* files in {}", dir.display());
    seeds
}

/// A xorshift64 generator (shifts 13, 7, 17): the same pseudo-random
/// sequence from the same non-zero seed on every run, for randomized tests
/// that must be reproducible. Each call returns the next state.
pub fn xorshift64(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn xorshift64_gives_the_same_sequence_every_run() {
        // By hand from seed 1: 1 ^ 1 << 13 = 0x2001; ^ >> 7 = 0x2041;
        // ^ << 17 = 0x4082_2041.
        let mut r = super::xorshift64(1);
        assert_eq!(r(), 0x4082_2041);
        let (mut a, mut b) = (super::xorshift64(7), super::xorshift64(7));
        for _ in 0..100 {
            assert_eq!(a(), b());
        }
    }

    #[test]
    fn finds_the_committed_stun_seeds() {
        assert!(super::fuzz_seeds("stun_parse").len() >= 5);
    }

    #[test]
    #[should_panic(expected = "fuzz/corpus/no_such_target")]
    fn a_missing_target_is_an_error_not_an_empty_run() {
        super::fuzz_seeds("no_such_target");
    }
}
