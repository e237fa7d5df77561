//! The per-publisher packet store: a fixed ring of preallocated slots.
//!
//! Every forwarded packet is copied once, in plaintext, from the receive
//! buffer into a slot; the fan-out to subscribers reads from the slot (one
//! encryption pass per subscriber straight into the caller's send buffer),
//! and NACKs from subscribers are answered from the same slots (RFC 4585
//! §6.2.1, RFC 4588). Slots are allocated when the track is created and
//! never again: storing a packet allocates nothing.

/// Largest packet a slot holds (larger packets are not forwarded).
pub const SLOT_LEN: usize = 1500;

#[derive(Debug)]
struct Slot {
    data: Box<[u8]>,
    len: usize,
    /// Extended sequence number of the packet in the slot.
    seq: u64,
    valid: bool,
}

/// A ring of `n` slots indexed by extended sequence number.
#[derive(Debug)]
pub struct PacketRing {
    slots: Vec<Slot>,
}

impl PacketRing {
    /// A ring of `n` (at least 1) preallocated slots.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        PacketRing {
            slots: (0..n)
                .map(|_| Slot {
                    data: vec![0u8; SLOT_LEN].into_boxed_slice(),
                    len: 0,
                    seq: 0,
                    valid: false,
                })
                .collect(),
        }
    }

    fn index(&self, seq: u64) -> usize {
        (seq % self.slots.len() as u64) as usize
    }

    /// A writable slot for `seq`, overwriting what was there; the caller
    /// writes up to [`SLOT_LEN`] bytes and then calls [`Self::commit`].
    pub fn slot_mut(&mut self, seq: u64) -> (usize, &mut [u8]) {
        let i = self.index(seq);
        let s = &mut self.slots[i];
        s.valid = false;
        (i, &mut s.data[..])
    }

    /// Marks slot `i` as holding `len` bytes of packet `seq`.
    pub fn commit(&mut self, i: usize, seq: u64, len: usize) {
        if let Some(s) = self.slots.get_mut(i) {
            s.len = len.min(SLOT_LEN);
            s.seq = seq;
            s.valid = true;
        }
    }

    /// The packet in slot `i` if it still holds `seq`.
    pub fn at(&self, i: usize, seq: u64) -> Option<&[u8]> {
        let s = self.slots.get(i)?;
        (s.valid && s.seq == seq).then(|| &s.data[..s.len])
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The packet `seq`, `k` (less than the ring's length) after the one
    /// in slot `first`, if still stored (no division: the fan-out of a run
    /// reads it once per subscriber).
    pub fn at_run(&self, first: usize, k: u32, seq: u64) -> Option<&[u8]> {
        let mut i = first + k as usize;
        if i >= self.slots.len() {
            i -= self.slots.len();
        }
        self.at(i, seq)
    }

    /// The slot holding `seq`, if still stored.
    pub fn find(&self, seq: u64) -> Option<usize> {
        let i = self.index(seq);
        let s = &self.slots[i];
        (s.valid && s.seq == seq).then_some(i)
    }

    /// The stored packet whose sequence number's low 16 bits are `seq16`
    /// and is closest to `near` (extended), if any.
    pub fn find16(&self, seq16: u16, near: u64) -> Option<(usize, u64)> {
        let base = near & !0xffff;
        for cand in [
            base | u64::from(seq16),
            (base | u64::from(seq16)).wrapping_sub(0x1_0000),
            (base | u64::from(seq16)).wrapping_add(0x1_0000),
        ] {
            if let Some(i) = self.find(cand) {
                return Some((i, cand));
            }
        }
        None
    }

    /// Forget everything (publisher restart).
    pub fn clear(&mut self) {
        for s in &mut self.slots {
            s.valid = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_overwrites_by_sequence() {
        let mut r = PacketRing::new(4);
        for seq in 0..6u64 {
            let (i, buf) = r.slot_mut(seq);
            buf[0] = seq as u8;
            r.commit(i, seq, 1);
        }
        assert!(r.find(1).is_none(), "overwritten by 5");
        let i = r.find(5).unwrap();
        assert_eq!(r.at(i, 5), Some(&[5u8][..]));
        assert_eq!(r.find16(4, 5), Some((r.find(4).unwrap(), 4)));
        r.clear();
        assert!(r.find(5).is_none());
    }
}
