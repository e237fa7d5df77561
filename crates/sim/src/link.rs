//! Link models: delay, jitter, random and bursty (Gilbert-Elliott) loss,
//! duplication, reordering and an MTU.
use crate::rng::Rng;
use std::time::Duration;

/// How a link loses packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Nothing is lost.
    None,
    /// Each packet is lost independently with this probability.
    Random(f64),
    /// The Gilbert-Elliott two-state model: a Good and a Bad state, each
    /// with its own loss probability, and per-packet transition
    /// probabilities between them. Produces bursts of loss.
    GilbertElliott {
        /// Probability of moving Good → Bad before each packet.
        p_good_to_bad: f64,
        /// Probability of moving Bad → Good before each packet.
        p_bad_to_good: f64,
        /// Loss probability while Good (often 0).
        loss_good: f64,
        /// Loss probability while Bad (often close to 1).
        loss_bad: f64,
    },
}

/// One direction of a link between two endpoints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// One-way base delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `[0, jitter]` per packet. Jitter
    /// larger than the gap between packets reorders them.
    pub jitter: Duration,
    /// The loss model.
    pub loss: Loss,
    /// Probability that a delivered packet is delivered twice (the copy
    /// gets its own delay draw).
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_delay` extra,
    /// so later packets overtake it.
    pub reorder: f64,
    /// The extra delay of a reordered packet.
    pub reorder_delay: Duration,
    /// Largest datagram payload the link carries; bigger ones are dropped
    /// (no fragmentation), as a path with DF set would.
    pub mtu: usize,
}

impl Default for LinkConfig {
    /// A clean 10 ms link with a 1500-byte MTU (1472 bytes of UDP payload
    /// over IPv4).
    fn default() -> Self {
        Self {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: Loss::None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(20),
            mtu: 1472,
        }
    }
}

impl LinkConfig {
    /// A clean link with this one-way delay.
    pub fn with_delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }
}

/// Per-direction mutable state (the Gilbert-Elliott state).
#[derive(Debug, Clone, Default)]
pub(crate) struct LinkState {
    bad: bool,
}

/// What a link does with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Dropped as too big for the MTU.
    TooBig,
    /// Lost.
    Lost,
    /// Delivered after these delays (the second is a duplicate).
    Deliver(Duration, Option<Duration>),
}

impl LinkState {
    pub(crate) fn fate(&mut self, cfg: &LinkConfig, len: usize, rng: &mut Rng) -> Fate {
        if len > cfg.mtu {
            return Fate::TooBig;
        }
        let lost = match cfg.loss {
            Loss::None => false,
            Loss::Random(p) => rng.chance(p),
            Loss::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => {
                if self.bad {
                    if rng.chance(p_bad_to_good) {
                        self.bad = false;
                    }
                } else if rng.chance(p_good_to_bad) {
                    self.bad = true;
                }
                rng.chance(if self.bad { loss_bad } else { loss_good })
            }
        };
        if lost {
            return Fate::Lost;
        }
        let first = Self::delay(cfg, rng);
        let dup = rng.chance(cfg.duplicate).then(|| Self::delay(cfg, rng));
        Fate::Deliver(first, dup)
    }

    fn delay(cfg: &LinkConfig, rng: &mut Rng) -> Duration {
        let jitter_ns = u64::try_from(cfg.jitter.as_nanos()).unwrap_or(u64::MAX);
        let mut d = cfg.delay + Duration::from_nanos(rng.below(jitter_ns.saturating_add(1)));
        if rng.chance(cfg.reorder) {
            d += cfg.reorder_delay;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss_rate(cfg: &LinkConfig, n: usize, seed: u64) -> (f64, usize) {
        let mut st = LinkState::default();
        let mut rng = Rng::new(seed);
        let mut lost = 0;
        let mut longest = 0;
        let mut run = 0;
        for _ in 0..n {
            if st.fate(cfg, 100, &mut rng) == Fate::Lost {
                lost += 1;
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        (lost as f64 / n as f64, longest)
    }

    #[test]
    fn random_loss_rate_is_close_to_configured() {
        let cfg = LinkConfig {
            loss: Loss::Random(0.1),
            ..LinkConfig::default()
        };
        let (rate, _) = loss_rate(&cfg, 100_000, 1);
        assert!((0.09..0.11).contains(&rate), "{rate}");
    }

    #[test]
    fn gilbert_elliott_loss_comes_in_bursts() {
        // Stationary Bad probability p/(p+r) = 0.01/(0.01+0.1) ≈ 9.1%.
        let cfg = LinkConfig {
            loss: Loss::GilbertElliott {
                p_good_to_bad: 0.01,
                p_bad_to_good: 0.1,
                loss_good: 0.0,
                loss_bad: 1.0,
            },
            ..LinkConfig::default()
        };
        let (rate, longest) = loss_rate(&cfg, 100_000, 2);
        assert!((0.07..0.11).contains(&rate), "{rate}");
        // Mean burst length 1/r = 10: runs of 20+ appear; with independent
        // loss at 9% they essentially never do.
        assert!(longest >= 20, "{longest}");
        let (_, random_longest) = loss_rate(
            &LinkConfig {
                loss: Loss::Random(rate),
                ..LinkConfig::default()
            },
            100_000,
            2,
        );
        assert!(random_longest < 10, "{random_longest}");
    }

    #[test]
    fn mtu_jitter_duplication_and_reordering() {
        let mut st = LinkState::default();
        let mut rng = Rng::new(3);
        let cfg = LinkConfig {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
            duplicate: 1.0,
            reorder: 1.0,
            reorder_delay: Duration::from_millis(100),
            mtu: 1200,
            ..LinkConfig::default()
        };
        assert_eq!(st.fate(&cfg, 1201, &mut rng), Fate::TooBig);
        for _ in 0..100 {
            let Fate::Deliver(a, Some(b)) = st.fate(&cfg, 1200, &mut rng) else {
                panic!("duplicate expected");
            };
            for d in [a, b] {
                assert!(d >= Duration::from_millis(150) && d <= Duration::from_millis(160));
            }
        }
    }
}
