//! Packet index estimation and replay protection (RFC 3711 §3.3.1,
//! §3.3.2, Appendix A).
//!
//! The SRTP packet index is 48 bits: `2^16 * ROC + SEQ`. A receiver
//! estimates the ROC of each packet from the highest index it has
//! authenticated so far (Appendix A), and keeps a sliding bitmap of the
//! last [`WINDOW`] indices to reject replays. The window only moves after
//! a packet authenticates, so forged packets cannot advance it.

use crate::Error;

/// Size of the replay window in packets (RFC 3711 §3.3.2 asks for at
/// least 64; Tern keeps 128, libsrtp's default).
pub const WINDOW: u64 = 128;

/// Largest SRTP packet index (2^48 - 1).
pub const MAX_SRTP_INDEX: u64 = (1 << 48) - 1;

/// Estimate the 48-bit index of a packet carrying `seq`, given the
/// highest index `highest` seen so far (RFC 3711 Appendix A).
///
/// Like libsrtp, while `highest` is at most 2^15 the guess keeps ROC 0,
/// so a stream whose first packets straddle the start never guesses
/// ROC = -1.
pub fn estimate_index(highest: u64, seq: u16) -> Result<u64, Error> {
    let s_l = (highest & 0xFFFF) as i64;
    let roc = (highest >> 16) as i64;
    let seq_i = i64::from(seq);
    if highest <= 1 << 15 {
        return Ok(u64::from(seq));
    }
    let v = if s_l < 1 << 15 {
        if seq_i - s_l > 1 << 15 {
            roc - 1
        } else {
            roc
        }
    } else if s_l - (1 << 15) > seq_i {
        roc + 1
    } else {
        roc
    };
    // v >= 0 here: roc - 1 only happens when s_l < 2^15, and then
    // highest > 2^15 implies roc >= 1.
    if v > i64::from(u32::MAX) {
        return Err(Error::IndexExhausted);
    }
    Ok((v as u64) << 16 | u64::from(seq))
}

/// The outcome of a replay check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Not seen and inside (or ahead of) the window.
    Fresh,
    /// Seen already.
    Replayed,
    /// Behind the window.
    TooOld,
}

/// A sliding replay window over packet indices (§3.3.2): `highest` and a
/// bitmap whose bit `i` records `highest - i`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    highest: Option<u64>,
    bits: u128,
}

impl ReplayWindow {
    /// An empty window: the first packet is always fresh.
    pub const fn new() -> Self {
        Self {
            highest: None,
            bits: 0,
        }
    }

    /// A window positioned at `index` with nothing yet received (for a
    /// receiver told the ROC by signalling).
    pub const fn starting_at(index: u64) -> Self {
        Self {
            highest: Some(index),
            bits: 0,
        }
    }

    /// The highest index accepted so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Check `index` without recording it.
    pub fn check(&self, index: u64) -> Check {
        let Some(h) = self.highest else {
            return Check::Fresh;
        };
        if index > h {
            return Check::Fresh;
        }
        let delta = h - index;
        if delta >= WINDOW {
            Check::TooOld
        } else if self.bits >> delta & 1 == 1 {
            Check::Replayed
        } else {
            Check::Fresh
        }
    }

    /// Record `index` (after the packet authenticated).
    pub fn accept(&mut self, index: u64) {
        match self.highest {
            None => {
                self.highest = Some(index);
                self.bits = 1;
            }
            Some(h) if index > h => {
                let shift = index - h;
                self.bits = if shift >= WINDOW {
                    0
                } else {
                    self.bits << shift
                };
                self.bits |= 1;
                self.highest = Some(index);
            }
            Some(h) => {
                let delta = h - index;
                if delta < WINDOW {
                    self.bits |= 1u128 << delta;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendix_a_estimates() {
        // Near the start ROC stays 0.
        assert_eq!(estimate_index(10, 65000), Ok(65000));
        // Wrap forward: highest 65530 (ROC 0), seq 3 -> ROC 1.
        assert_eq!(estimate_index(65530, 3), Ok((1 << 16) | 3));
        // Late packet from before the wrap: highest ROC 1 seq 2, seq 65534 -> ROC 0.
        assert_eq!(estimate_index((1 << 16) | 2, 65534), Ok(65534));
        // Steady state.
        assert_eq!(
            estimate_index((5 << 16) | 40000, 40100),
            Ok((5 << 16) | 40100)
        );
        assert_eq!(
            estimate_index(MAX_SRTP_INDEX - 2, 3),
            Err(Error::IndexExhausted)
        );
    }

    #[test]
    fn window_basics() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.check(1000), Check::Fresh);
        w.accept(1000);
        assert_eq!(w.check(1000), Check::Replayed);
        assert_eq!(w.check(999), Check::Fresh);
        assert_eq!(w.check(1000 - 127), Check::Fresh);
        assert_eq!(w.check(1000 - 128), Check::TooOld);
        w.accept(1200);
        assert_eq!(w.check(1000), Check::TooOld);
        assert_eq!(w.check(1199), Check::Fresh);
        w.accept(1199);
        assert_eq!(w.check(1199), Check::Replayed);
        assert_eq!(w.check(1200), Check::Replayed);
    }
}
