//! The SFU's timer queue: one deadline per timer owner (a transport, a
//! participant) in a min-heap, so that the next deadline and the owners
//! that are due cost O(log n) per change instead of a visit to every
//! transport after each STUN check or DTLS record.
//!
//! The queue is lazy. A change marks its owner dirty ([`TimerQueue::touch`],
//! O(1)); the dirty owners' deadlines are read again only when the queue is
//! next asked ([`TimerQueue::next`], [`TimerQueue::pop_due`]), so a burst of
//! changes to one owner costs one heap push. An entry in the heap is current
//! only while its time is the one its owner's [`TimerSlot`] holds; anything
//! else (an owner gone, a deadline moved) is dropped when it reaches the top.
//! The heap is rebuilt from the owners once it holds more than twice their
//! number (plus a constant), so stale entries never grow it without bound,
//! and the rebuild's cost is paid for by the pushes that made them.
//!
//! Invariant, checked by the SFU in debug builds: an owner that is not
//! dirty has `scheduled` no later than its deadline (early is harmless: a
//! wake-up that finds nothing due).

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// An owner's place in the queue.
#[derive(Debug, Default)]
pub(crate) struct TimerSlot {
    /// The time of this owner's current heap entry (`None`: not in the heap).
    scheduled: Cell<Option<Instant>>,
    /// In the dirty list: its deadline is read again before the next answer.
    dirty: Cell<bool>,
}

impl TimerSlot {
    /// The time the queue holds for this owner.
    #[cfg(any(debug_assertions, test))]
    pub(crate) fn scheduled(&self) -> Option<Instant> {
        self.scheduled.get()
    }

    /// Waiting to have its deadline read again.
    #[cfg(any(debug_assertions, test))]
    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty.get()
    }
}

/// What the queue needs to know about the owners.
pub(crate) trait TimerOwners<K> {
    /// The slot of `k`, or `None` if there is no such owner any more.
    fn slot(&self, k: K) -> Option<&TimerSlot>;
    /// `k`'s earliest deadline as things stand.
    fn deadline(&self, k: K) -> Option<Instant>;
    /// Number of owners.
    fn count(&self) -> usize;
    /// Calls `f` for every owner.
    fn each(&self, f: &mut dyn FnMut(K, &TimerSlot));
}

/// Heap entries beyond twice the owners' number before a rebuild.
const SLACK: usize = 64;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct TimerQueue<K: Ord> {
    heap: RefCell<BinaryHeap<Reverse<(Instant, K)>>>,
    dirty: RefCell<Vec<K>>,
}

impl<K: Ord> Default for TimerQueue<K> {
    fn default() -> Self {
        TimerQueue {
            heap: RefCell::new(BinaryHeap::new()),
            dirty: RefCell::new(Vec::new()),
        }
    }
}

impl<K: Copy + Ord> TimerQueue<K> {
    /// `k`'s deadline may have changed (call it after the change, or before:
    /// the deadline is read when the queue is next asked).
    pub(crate) fn touch(&self, k: K, slot: &TimerSlot) {
        if !slot.dirty.replace(true) {
            self.dirty.borrow_mut().push(k);
        }
    }

    /// Room for `n` owners, so that steady-state changes allocate nothing.
    pub(crate) fn reserve(&self, n: usize) {
        let d = &mut *self.dirty.borrow_mut();
        d.reserve((n + SLACK).saturating_sub(d.len()));
        let h = &mut *self.heap.borrow_mut();
        // A refresh may push every owner once before it compacts.
        h.reserve((3 * n + SLACK + 1).saturating_sub(h.len()));
    }

    /// Number of heap entries, current and stale (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn heap_len(&self) -> usize {
        self.heap.borrow().len()
    }

    /// Reads the dirty owners' deadlines and queues them.
    fn refresh(&self, o: &impl TimerOwners<K>) {
        let mut dirty = self.dirty.borrow_mut();
        if dirty.is_empty() {
            return;
        }
        let mut heap = self.heap.borrow_mut();
        for k in dirty.drain(..) {
            let Some(slot) = o.slot(k) else { continue };
            slot.dirty.set(false);
            let at = o.deadline(k);
            if at != slot.scheduled.get() {
                slot.scheduled.set(at);
                if let Some(at) = at {
                    heap.push(Reverse((at, k)));
                }
            }
        }
        if heap.len() > 2 * o.count() + SLACK {
            heap.clear();
            o.each(&mut |k, slot| {
                if let Some(at) = slot.scheduled.get() {
                    heap.push(Reverse((at, k)));
                }
            });
        }
    }

    /// Drops stale entries from the top; the top is then current (or the
    /// heap empty).
    fn settle(heap: &mut BinaryHeap<Reverse<(Instant, K)>>, o: &impl TimerOwners<K>) {
        while let Some(&Reverse((at, k))) = heap.peek() {
            if o.slot(k).is_some_and(|s| s.scheduled.get() == Some(at)) {
                return;
            }
            heap.pop();
        }
    }

    /// The earliest deadline of any owner.
    pub(crate) fn next(&self, o: &impl TimerOwners<K>) -> Option<Instant> {
        self.refresh(o);
        let mut heap = self.heap.borrow_mut();
        Self::settle(&mut heap, o);
        heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Appends to `out` every owner whose deadline is at or before `now`,
    /// once each, and takes them out of the queue marked dirty: whatever
    /// the caller then does to them, their deadlines are read again.
    pub(crate) fn pop_due(&self, o: &impl TimerOwners<K>, now: Instant, out: &mut Vec<K>) {
        self.refresh(o);
        let mut heap = self.heap.borrow_mut();
        loop {
            Self::settle(&mut heap, o);
            let Some(&Reverse((at, k))) = heap.peek() else {
                break;
            };
            if at > now {
                break;
            }
            heap.pop();
            if let Some(slot) = o.slot(k) {
                slot.scheduled.set(None);
                self.touch(k, slot);
                out.push(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    /// Owners as a map from key to (slot, deadline).
    #[derive(Default)]
    struct Fake(BTreeMap<u32, (TimerSlot, Option<Instant>)>);

    impl TimerOwners<u32> for Fake {
        fn slot(&self, k: u32) -> Option<&TimerSlot> {
            self.0.get(&k).map(|(s, _)| s)
        }
        fn deadline(&self, k: u32) -> Option<Instant> {
            self.0.get(&k).and_then(|(_, d)| *d)
        }
        fn count(&self) -> usize {
            self.0.len()
        }
        fn each(&self, f: &mut dyn FnMut(u32, &TimerSlot)) {
            for (k, (s, _)) in &self.0 {
                f(*k, s);
            }
        }
    }

    impl Fake {
        fn set(&mut self, q: &TimerQueue<u32>, k: u32, d: Option<Instant>) {
            let e = self.0.entry(k).or_default();
            e.1 = d;
            q.touch(k, &e.0);
        }
        fn brute_next(&self) -> Option<Instant> {
            self.0.values().filter_map(|(_, d)| *d).min()
        }
        fn brute_due(&self, now: Instant) -> Vec<u32> {
            self.0
                .iter()
                .filter(|(_, (_, d))| d.is_some_and(|d| d <= now))
                .map(|(k, _)| *k)
                .collect()
        }
    }

    /// xorshift, for a reproducible random schedule.
    fn rng(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    #[test]
    fn next_and_due_agree_with_a_scan_of_every_owner() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let q = TimerQueue::default();
        let mut o = Fake::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut now = 0u64;
        for step in 0..20_000 {
            match rng(&mut seed) % 10 {
                // Owners come and go.
                0 => {
                    let k = (rng(&mut seed) % 64) as u32;
                    o.0.remove(&k);
                }
                // Deadlines move either way, or go away.
                1..=6 => {
                    let k = (rng(&mut seed) % 64) as u32;
                    let d = match rng(&mut seed) % 5 {
                        0 => None,
                        _ => Some(ms(now + rng(&mut seed) % 500)),
                    };
                    o.set(&q, k, d);
                }
                // A tick: what is due fires and gets a new deadline.
                _ => {
                    now += rng(&mut seed) % 50;
                    let mut due = Vec::new();
                    q.pop_due(&o, ms(now), &mut due);
                    due.sort_unstable();
                    assert_eq!(due, o.brute_due(ms(now)), "step {step}");
                    for k in due {
                        let d = Some(ms(now + 1 + rng(&mut seed) % 300));
                        o.0.get_mut(&k).unwrap().1 = d;
                    }
                }
            }
            assert_eq!(q.next(&o), o.brute_next(), "step {step}");
            assert!(q.heap_len() <= 2 * o.count() + SLACK + 1, "step {step}");
        }
    }

    #[test]
    fn a_deadline_moved_many_times_leaves_a_bounded_heap() {
        let t0 = Instant::now();
        let q = TimerQueue::default();
        let mut o = Fake::default();
        for i in 0..100_000u64 {
            // Consent keeps pushing one owner's deadline later, and the
            // queue is asked after every change (as the worker does).
            o.set(&q, 7, Some(t0 + Duration::from_micros(i)));
            assert_eq!(q.next(&o), Some(t0 + Duration::from_micros(i)));
        }
        assert!(q.heap_len() <= 2 + SLACK + 1, "{}", q.heap_len());
    }

    #[test]
    fn due_owners_come_out_once_and_marked_dirty() {
        let t0 = Instant::now();
        let q = TimerQueue::default();
        let mut o = Fake::default();
        // The same deadline set three times, with another in between.
        o.set(&q, 1, Some(t0));
        assert_eq!(q.next(&o), Some(t0));
        o.set(&q, 1, Some(t0 + Duration::from_secs(1)));
        assert_eq!(q.next(&o), Some(t0 + Duration::from_secs(1)));
        o.set(&q, 1, Some(t0));
        assert_eq!(q.next(&o), Some(t0));
        let mut due = Vec::new();
        q.pop_due(&o, t0 + Duration::from_secs(5), &mut due);
        assert_eq!(due, [1]);
        assert!(o.slot(1).unwrap().is_dirty());
        // Nothing changed its deadline: it is due again at once.
        due.clear();
        q.pop_due(&o, t0, &mut due);
        assert_eq!(due, [1]);
        // A removed owner never comes out.
        o.0.remove(&1);
        due.clear();
        q.pop_due(&o, t0 + Duration::from_secs(5), &mut due);
        assert!(due.is_empty());
        assert_eq!(q.next(&o), None);
    }
}
