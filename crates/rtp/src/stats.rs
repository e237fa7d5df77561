//! RFC 3550 Appendix A algorithms as reusable pieces, with time always an
//! argument:
//!
//! - [`SequenceTracker`]: A.1 sequence number validity (probation,
//!   MAX_DROPOUT, MAX_MISORDER, restart detection) and the extended
//!   sequence number, plus A.3 expected/lost counts and the interval
//!   fraction lost.
//! - [`Jitter`]: A.8 interarrival jitter estimate (integer form).
//! - [`round_trip_time`]: RTT from a report block's LSR and DLSR (§6.4.1),
//!   also usable with RFC 3611 DLRR.

use crate::types::{CompactNtp, SeqNo};

/// A.1 `MAX_DROPOUT`: a jump ahead of less than this is accepted.
pub const MAX_DROPOUT: u16 = 3000;
/// A.1 `MAX_MISORDER`: a jump back of up to this is a late packet.
pub const MAX_MISORDER: u16 = 100;
/// A.1 `MIN_SEQUENTIAL`: packets in sequence before a source is valid.
pub const MIN_SEQUENTIAL: u8 = 2;

const SEQ_MOD: u64 = 1 << 16;

/// What [`SequenceTracker::update`] decided about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqUpdate {
    /// The packet is valid and counted; its extended sequence number.
    Valid(SeqNo),
    /// The source is still on probation; the packet is not counted.
    Probation,
    /// A large jump; the packet is dropped. Sending the next number in
    /// sequence after it will be taken as a restart of the source.
    Bad,
}

/// Per-source sequence state (RFC 3550 Appendix A.1 `source`), with the
/// A.3 loss statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceTracker {
    max_seq: u16,
    cycles: u64,
    base_seq: u64,
    bad_seq: u64,
    probation: u8,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
}

impl SequenceTracker {
    /// A new source first heard with `seq`, on probation for
    /// [`MIN_SEQUENTIAL`] packets. Feed this first packet to
    /// [`SequenceTracker::update`] too.
    pub fn new(seq: u16) -> Self {
        Self::with_probation(seq, MIN_SEQUENTIAL)
    }

    /// As [`SequenceTracker::new`] with a chosen probation (0: the first
    /// packet is valid at once).
    pub fn with_probation(seq: u16, probation: u8) -> Self {
        let mut s = SequenceTracker {
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: 0,
            probation,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
        };
        s.init(seq);
        if probation > 0 {
            s.max_seq = seq.wrapping_sub(1);
        }
        s
    }

    /// A.1 `init_seq`.
    fn init(&mut self, seq: u16) {
        self.base_seq = u64::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// A.1 `update_seq` for a received packet with sequence number `seq`.
    pub fn update(&mut self, seq: u16) -> SeqUpdate {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init(seq);
                    self.received += 1;
                    return SeqUpdate::Valid(self.extended_max());
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqUpdate::Probation;
        } else if udelta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles += SEQ_MOD;
            }
            self.max_seq = seq;
        } else if u64::from(udelta) <= SEQ_MOD - u64::from(MAX_MISORDER) {
            // A very large jump.
            if u64::from(seq) == self.bad_seq {
                // Two sequential packets: the other side restarted.
                self.init(seq);
            } else {
                self.bad_seq = (u64::from(seq) + 1) & (SEQ_MOD - 1);
                return SeqUpdate::Bad;
            }
        }
        // Else: a duplicate or reordered packet.
        self.received += 1;
        SeqUpdate::Valid(self.extended_max().extend(seq))
    }

    /// The extended highest sequence number received (A.3 `extended_max`).
    pub fn extended_max(&self) -> SeqNo {
        SeqNo(self.cycles + u64::from(self.max_seq))
    }

    /// Packets received and counted.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// A.3 `expected`: extended max − base + 1.
    pub fn expected(&self) -> u64 {
        (self.extended_max().0 + 1).saturating_sub(self.base_seq)
    }

    /// A.3 cumulative lost (negative with duplicates).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// The cumulative lost, clamped to the signed 24-bit report block field
    /// (A.3: 0x7fffff for positive, −0x800000 for negative overflow).
    pub fn cumulative_lost_field(&self) -> i32 {
        self.lost().clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// A.3 fraction lost over the interval since the previous call, in
    /// 1/256 (0 when nothing was lost or duplicates exceed losses). Starts
    /// a new interval.
    pub fn fraction_lost_interval(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval as u64) * 256 / expected_interval).min(255) as u8
        }
    }
}

/// Interarrival jitter (RFC 3550 §6.4.1, Appendix A.8), kept ×16 as in the
/// integer form of A.8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Jitter {
    transit: Option<i32>,
    jitter16: u32,
}

impl Jitter {
    /// A fresh estimate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds in one packet: `arrival` is the arrival time in the stream's
    /// RTP timestamp units (from the caller's clock), `rtp_ts` the packet's
    /// timestamp. The first packet only sets the reference transit time.
    pub fn update(&mut self, arrival: u32, rtp_ts: u32) {
        let transit = arrival.wrapping_sub(rtp_ts) as i32;
        if let Some(prev) = self.transit {
            let d = transit.wrapping_sub(prev).unsigned_abs();
            // J += (|D| - J) / 16, as `jitter += d - ((jitter + 8) >> 4)`.
            self.jitter16 = self
                .jitter16
                .wrapping_add(d)
                .wrapping_sub((self.jitter16.wrapping_add(8)) >> 4);
        }
        self.transit = Some(transit);
    }

    /// The jitter in timestamp units, for a report block.
    pub fn get(&self) -> u32 {
        self.jitter16 >> 4
    }
}

/// Round-trip time from a report block (RFC 3550 §6.4.1): `arrival` is when
/// the block arrived (compact NTP, from the caller's clock), `lsr` and
/// `dlsr` are its fields. `None` when LSR is 0 (no SR received yet);
/// clamped to 0 when clocks make it negative.
pub fn round_trip_time(
    arrival: CompactNtp,
    lsr: CompactNtp,
    dlsr: CompactNtp,
) -> Option<CompactNtp> {
    if lsr.0 == 0 {
        return None;
    }
    let since = arrival.0.wrapping_sub(lsr.0);
    Some(CompactNtp(since.saturating_sub(dlsr.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3550_6_4_1_rtt_example() {
        // RFC 3550 §6.4.1, Figure 2: A = 0xb7108000 (46864.500 s), LSR =
        // 0xb7052000 (46853.125 s), DLSR = 0x00054000 (5.250 s) give a
        // delay of 0x00062000 (6.125 s).
        let rtt = round_trip_time(
            CompactNtp(0xb710_8000),
            CompactNtp(0xb705_2000),
            CompactNtp(0x0005_4000),
        );
        assert_eq!(rtt, Some(CompactNtp(0x0006_2000)));
        assert_eq!(rtt.map(CompactNtp::as_micros), Some(6_125_000));
        assert_eq!(
            round_trip_time(CompactNtp(5), CompactNtp(0), CompactNtp(0)),
            None
        );
        // Clock skew: negative clamps to zero.
        assert_eq!(
            round_trip_time(CompactNtp(100), CompactNtp(90), CompactNtp(20)),
            Some(CompactNtp(0))
        );
    }

    #[test]
    fn rfc3550_a_1_probation_then_valid() {
        // Hand-computed from the A.1 code: MIN_SEQUENTIAL = 2, so the first
        // packet is on probation and the second in sequence validates.
        let mut s = SequenceTracker::new(100);
        assert_eq!(s.update(100), SeqUpdate::Probation);
        assert_eq!(s.update(101), SeqUpdate::Valid(SeqNo(101)));
        assert_eq!(s.update(102), SeqUpdate::Valid(SeqNo(102)));
        assert_eq!(s.received(), 2);
        // Out of sequence during probation restarts it.
        let mut s = SequenceTracker::new(10);
        assert_eq!(s.update(10), SeqUpdate::Probation);
        assert_eq!(s.update(50), SeqUpdate::Probation);
        assert_eq!(s.update(51), SeqUpdate::Valid(SeqNo(51)));
    }

    #[test]
    fn rfc3550_a_1_wrap_and_extended_seq() {
        let mut s = SequenceTracker::with_probation(65534, 0);
        assert_eq!(s.update(65534), SeqUpdate::Valid(SeqNo(65534)));
        assert_eq!(s.update(65535), SeqUpdate::Valid(SeqNo(65535)));
        assert_eq!(s.update(0), SeqUpdate::Valid(SeqNo(65536)));
        assert_eq!(s.update(2), SeqUpdate::Valid(SeqNo(65538)));
        // A late packet from before the wrap keeps its old cycle.
        assert_eq!(s.update(65535), SeqUpdate::Valid(SeqNo(65535)));
        assert_eq!(s.extended_max(), SeqNo(65538));
        // A.3: expected = 65538 - 65534 + 1 = 5; received 5 (incl. the
        // duplicate 65535); lost = 0.
        assert_eq!(s.expected(), 5);
        assert_eq!(s.lost(), 0);
    }

    #[test]
    fn rfc3550_a_1_large_jump_then_restart() {
        let mut s = SequenceTracker::with_probation(1000, 0);
        assert!(matches!(s.update(1000), SeqUpdate::Valid(_)));
        // udelta = 9000 >= MAX_DROPOUT and <= 65536 - MAX_MISORDER: bad.
        assert_eq!(s.update(10000), SeqUpdate::Bad);
        // The next in sequence after the bad one: restart at 10001.
        assert_eq!(s.update(10001), SeqUpdate::Valid(SeqNo(10001)));
        assert_eq!(s.expected(), 1);
        assert_eq!(s.received(), 1);
        // A jump back of at most MAX_MISORDER is a late packet, counted.
        assert!(matches!(s.update(9950), SeqUpdate::Valid(_)));
    }

    #[test]
    fn rfc3550_a_3_loss_and_fraction() {
        // Hand-computed: 10 expected (1..=10), 2 missing (4, 7).
        let mut s = SequenceTracker::with_probation(1, 0);
        for q in [1u16, 2, 3, 5, 6, 8, 9, 10] {
            assert!(matches!(s.update(q), SeqUpdate::Valid(_)));
        }
        assert_eq!(s.expected(), 10);
        assert_eq!(s.lost(), 2);
        assert_eq!(s.cumulative_lost_field(), 2);
        // fraction = (2 << 8) / 10 = 51.
        assert_eq!(s.fraction_lost_interval(), 51);
        // Next interval: 11..=14 all received: no loss.
        for q in 11u16..=14 {
            s.update(q);
        }
        assert_eq!(s.fraction_lost_interval(), 0);
        // Duplicates make the interval "negative": reported as 0.
        s.update(14);
        s.update(14);
        assert_eq!(s.fraction_lost_interval(), 0);
        assert_eq!(s.lost(), 0);
    }

    #[test]
    fn rfc3550_a_8_jitter_worked_example() {
        // Hand-computed with the integer A.8 form. Timestamps advance 160
        // per packet (20 ms at 8 kHz); arrivals deviate by 0, +16, -16, 0.
        let mut j = Jitter::new();
        j.update(1000, 0); // reference transit 1000
        assert_eq!(j.get(), 0);
        j.update(1176, 160); // transit 1016, D = 16: j16 = 16 - 0 = 16
        assert_eq!(j.get(), 1);
        j.update(1304, 320); // transit 984, D = 32: j16 = 16 + 32 - 1 = 47
        assert_eq!(j.get(), 2);
        j.update(1480, 480); // transit 1000, D = 16: j16 = 47 + 16 - 3 = 60
        assert_eq!(j.get(), 3);
        // Steady arrivals decay it: D = 0 each time.
        for k in 4..200u32 {
            j.update(1000 + 160 * k, 160 * k);
        }
        assert_eq!(j.get(), 0);
    }
}
